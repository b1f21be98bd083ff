"""Check a draft file written by an authoring helper (see BRIEF_FOR_AUTHORS.md)."""
import json, re, sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from aipsy_affect.screen import find_keywords  # noqa: E402

EMO = ["joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"]
path = Path(sys.argv[1])
domain = path.stem
names = json.loads((Path(__file__).parent / "names.json").read_text())[domain]
gender = {n: g for g in "fm" for n in names[g]}
problems, warnings = [], []
recs = []
for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
    if line.strip():
        try:
            recs.append((i, json.loads(line)))
        except json.JSONDecodeError as e:
            problems.append(f"line {i}: bad JSON: {e}")

def wc(t): return len(t.split())

def screen(label, text, allow_twin=None):
    hits = find_keywords(text)
    for h in hits:
        kind = "KEYWORD" if h.kind == "forbidden" else "expressive(avoid)"
        ctx = text[max(0, h.start - 30):h.end + 30].replace("\n", " ")
        (problems if h.kind == "forbidden" else warnings).append(f"{label}: {kind} '{h.match}' ({h.emotion}) ...{ctx}...")

pairs = {}; used = Counter(); diffs = []
for i, r in recs:
    k = r.get("kind")
    if k == "pair":
        key = (r["emotion"], r["n"]); lab = f"line {i} pair {r['emotion']}-{r['n']}"
        if key in pairs: problems.append(f"{lab}: duplicate pair")
        pairs[key] = r
        p = r["protagonist"]; used[p] += 1
        if p not in gender: problems.append(f"{lab}: protagonist {p} not in your name pool")
        elif gender[p] != r.get("gender"): problems.append(f"{lab}: gender of {p} should be {gender[p]}")
        c, n = r["clinical"], r["neutral"]
        for nm, t in (("clinical", c), ("neutral", n)):
            if not (80 <= wc(t) <= 130): problems.append(f"{lab}: {nm} has {wc(t)} words (80-130)")
            if not re.search(rf"\b{re.escape(p)}\b", t): problems.append(f"{lab}: {nm} does not contain the name {p}")
            screen(f"{lab} {nm}", t)
        d = (wc(n) - wc(c)) / wc(c); diffs.append(wc(n) - wc(c))
        if abs(d) > 0.10: problems.append(f"{lab}: neutral {wc(n)} vs clinical {wc(c)} words ({d:+.0%}, limit 10%)")
        elif abs(d) > 0.05: warnings.append(f"{lab}: neutral {wc(n)} vs clinical {wc(c)} words ({d:+.0%}, aim 5%)")
        tw = r.get("twin_sentence", "")
        own = [h for h in find_keywords(tw) if h.kind == "forbidden" and h.emotion == r["emotion"]]
        if not own: problems.append(f"{lab}: twin_sentence {tw!r} has no {r['emotion']} keyword the screen knows")
        if p not in tw: problems.append(f"{lab}: twin_sentence should name {p}")
    elif k == "moderate":
        lab = f"line {i} moderate {r['emotion']}"
        t = r["text"]
        if not (80 <= wc(t) <= 130): problems.append(f"{lab}: {wc(t)} words (80-130)")
        screen(lab, t)
    elif k == "complex_neutral":
        lab = f"line {i} complex_neutral {r['n']}"
        t = r["text"]; p = r["protagonist"]; used[p] += 1
        if p not in gender: problems.append(f"{lab}: protagonist {p} not in your name pool")
        if not (80 <= wc(t) <= 130): problems.append(f"{lab}: {wc(t)} words (80-130)")
        if not re.search(rf"\b{re.escape(p)}\b", t): problems.append(f"{lab}: does not contain the name {p}")
        screen(lab, t)
    else:
        problems.append(f"line {i}: unknown kind {k!r}")

for i, r in recs:
    if r.get("kind") == "moderate":
        peak = pairs.get((r["emotion"], r.get("peak_n")))
        if peak is None: problems.append(f"line {i}: moderate {r['emotion']} peak_n {r.get('peak_n')} has no pair")
        elif not re.search(rf"\b{re.escape(peak['protagonist'])}\b", r["text"]):
            problems.append(f"line {i}: moderate {r['emotion']} must use the peak's protagonist {peak['protagonist']}")
for n, c in used.items():
    if c > 1: problems.append(f"name {n} used {c} times")
for e in EMO:
    g = Counter(gender.get(pairs[(e, n)]["protagonist"]) for n in range(1, 5) if (e, n) in pairs)
    if sum(g.values()) == 4 and g != Counter({"f": 2, "m": 2}): problems.append(f"{e}: gender split {dict(g)} (want 2 f + 2 m)")
kinds = Counter(r.get("kind") for _, r in recs)
print("\n".join("PROBLEM " + p for p in problems))
print("\n".join("warning " + w for w in warnings))
mean = sum(diffs) / len(diffs) if diffs else 0.0
print(f"SUMMARY {path.name}: pairs {kinds['pair']}/32, moderate {kinds['moderate']}/8, complex_neutral {kinds['complex_neutral']}/8; "
      f"mean(neutral-clinical) = {mean:+.2f} words (aim within +/-1); {len(problems)} problems, {len(warnings)} warnings")
