"""Authoring aid for battery 1.1: the trained lexical floor and the design checks, on data/ plus overlays.

    .venv/bin/python authoring/lexfloor.py [OVERLAY.jsonl ...] [--emotion E] [--top 10]

An overlay file holds full item records (same fields as data/*.jsonl); a record replaces the packaged record with
the same id. Prints: 8-way top-1 of TF-IDF (word 1-2-grams) + logistic regression on the clinical vignettes with
pair-grouped 5-fold CV (chance 12.5%), affect AUROC clinical vs neutral, the per-item out-of-fold probability of the
true emotion (most confidently named first), the most predictive words per emotion, routine-marker counts, and
length / keyword problems in the overlays.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
EMOTIONS = ["joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"]
ROUTINE = re.compile(r"\b(usual|usually|routine|routinely|regular|regularly|normal|normally|as always|as every|"
                     r"as he always|as she always|as they always|ordinary|customary|habit)\b", re.I)


def load(overlays: list[str]) -> dict[str, dict]:
    items: dict[str, dict] = {}
    for split in ["clinical", "neutral", "moderate", "complex_neutral", "keyword_twins"]:
        for line in (ROOT / "data" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            items[rec["id"]] = rec
    for path in overlays:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                sys.exit(f"{path}:{n}: not JSON: {exc}")
            if rec.get("id") not in items:
                sys.exit(f"{path}:{n}: unknown id {rec.get('id')!r}")
            items[rec["id"]] = rec
    return items


def folds(clin: list[dict], k: int = 5, seed: int = 0) -> np.ndarray:
    y = [r["emotion"] for r in clin]
    out = np.zeros(len(clin), dtype=int)
    for f, (_, test) in enumerate(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)):
        out[test] = f
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("overlays", nargs="*")
    ap.add_argument("--emotion", action="append")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--domain", help="only list vignettes of this domain slug (work, family, ...)")
    ap.add_argument("--seeds", type=int, default=1)
    a = ap.parse_args()
    items = load(a.overlays)
    clin = [r for r in items.values() if r["split"] == "clinical"]
    neut = {r["id"]: r for r in items.values() if r["split"] == "neutral"}
    y = np.array([EMOTIONS.index(r["emotion"]) for r in clin])
    texts = [r["text"] for r in clin]
    accs, p_true, hits = [], np.zeros(len(clin)), np.zeros(len(clin))
    for seed in range(a.seeds):
        fo = folds(clin, seed=seed)
        pred = np.zeros(len(clin), dtype=int)
        for f in range(5):
            tr, te = fo != f, fo == f
            vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
            Xtr = vec.fit_transform([texts[i] for i in np.where(tr)[0]])
            clf = LogisticRegression(C=10.0, max_iter=2000).fit(Xtr, y[tr])
            P = clf.predict_proba(vec.transform([texts[i] for i in np.where(te)[0]]))
            pred[te] = P.argmax(1)
            p_true[te] += P[np.arange(te.sum()), y[te]] / a.seeds
        accs.append((pred == y).mean())
        hits += pred == y
    print(f"lexical 8-way top-1 on clinical: {np.mean(accs):.3f} (seeds {', '.join(f'{x:.3f}' for x in accs)}; target <= 0.50)")
    for e, name in enumerate(EMOTIONS):
        print(f"  {name:13s} mean P(true) {p_true[y == e].mean():.3f}")
    # affect: clinical vs its neutral, pair-grouped
    pairs = [(r, neut[r["matched_control_id"]]) for r in clin]
    ptexts = [t for c, n in pairs for t in (c["text"], n["text"])]
    py = np.array([1, 0] * len(pairs))
    fo = np.repeat(folds(clin), 2)
    score = np.zeros(len(ptexts))
    for f in range(5):
        tr, te = fo != f, fo == f
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        clf = LogisticRegression(C=10.0, max_iter=2000).fit(vec.fit_transform([ptexts[i] for i in np.where(tr)[0]]), py[tr])
        score[te] = clf.decision_function(vec.transform([ptexts[i] for i in np.where(te)[0]]))
    print(f"lexical affect AUROC clinical vs neutral: {roc_auc_score(py, score):.3f} (target <= 0.93)")
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    clf = LogisticRegression(C=10.0, max_iter=2000).fit(vec.fit_transform(ptexts), py)
    names = np.array(vec.get_feature_names_out())
    print(f"  words that mark vignettes: {', '.join(names[np.argsort(-clf.coef_[0])[:20]])}")
    print(f"  words that mark neutrals:  {', '.join(names[np.argsort(clf.coef_[0])[:20]])}")
    gap = {n: (sum(1 for c, _ in pairs if f" {n} " in f" {c['text'].lower()} "),
               sum(1 for _, m in pairs if f" {n} " in f" {m['text'].lower()} "))
           for n in ("not", "no", "never", "without", "again", "only", "every", "nothing", "nobody", "until", "could not")}
    print("  texts containing (vignettes/neutrals): " + ", ".join(f"{k} {a}/{b}" for k, (a, b) in gap.items()))
    # predictive words
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    X = vec.fit_transform(texts)
    clf = LogisticRegression(C=10.0, max_iter=2000).fit(X, y)
    vocab = np.array(vec.get_feature_names_out())
    show = a.emotion or EMOTIONS
    for e in show:
        w = clf.coef_[EMOTIONS.index(e)]
        print(f"  top words {e}: {', '.join(vocab[np.argsort(-w)[:a.top]])}")
    print("vignettes the floor names (correct in most seeds), most confident first (P(true), id):")
    for i in np.argsort(-p_true):
        if clin[i]["emotion"] in show and hits[i] * 2 > a.seeds and a.domain in (None, clin[i]["domain_label"].split()[0]):
            print(f"  {p_true[i]:.2f} {clin[i]['id']}")
    for split in ["clinical", "neutral", "moderate", "complex_neutral"]:
        n = sum(bool(ROUTINE.search(r["text"])) for r in items.values() if r["split"] == split)
        print(f"routine markers in {split}: {n}")
    diffs = [len(n["text"].split()) - len(c["text"].split()) for c, n in pairs]
    print(f"mean paired word difference (neutral - clinical): {np.mean(diffs):+.2f}")
    for c, n in pairs:
        wc, wn = len(c["text"].split()), len(n["text"].split())
        if abs(wn - wc) > 0.10 * wc or not 80 <= wc <= 130:
            print(f"  LENGTH {c['id']}: {wc} vs {wn}")
    for r in items.values():
        if r["split"] == "moderate" and not 80 <= len(r["text"].split()) <= 130:
            print(f"  LENGTH {r['id']}: {len(r['text'].split())}")


if __name__ == "__main__":
    main()
