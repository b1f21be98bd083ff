"""Assemble the authoring helpers' drafts (authoring/<domain>.jsonl) into the canonical data/<split>.jsonl files.

Run once per drafting round; afterwards data/*.jsonl is the source of truth (see data/README.md).
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from aipsy_affect.schema import DOMAINS, EMOTIONS  # noqa: E402

SLUG_TO_DOMAIN = {slug: d for d, (slug, _) in DOMAINS.items()}
out = {s: [] for s in ("clinical", "neutral", "moderate", "complex_neutral", "keyword_twins")}
for slug, d in SLUG_TO_DOMAIN.items():
    recs = [json.loads(l) for l in (ROOT / "authoring" / f"{slug}.jsonl").read_text().splitlines() if l.strip()]
    pairs = {(r["emotion"], r["n"]): r for r in recs if r["kind"] == "pair"}
    base = {"domain": d, "domain_label": DOMAINS[d][1]}
    for e in EMOTIONS:
        for n in range(1, 5):
            r = pairs[(e, n)]
            cid, nid, tid = f"clin-{e}-{slug}-{n}", f"neut-{e}-{slug}-{n}", f"twin-{e}-{slug}-{n}"
            p = r["protagonist"]
            out["clinical"].append({"id": cid, "split": "clinical", "emotion": e, "intensity": "peak", **base,
                                    "matched_control_id": nid, "peak_id": None, "protagonist": p, "text": r["clinical"]})
            out["neutral"].append({"id": nid, "split": "neutral", "emotion": None, "intensity": "none", **base,
                                   "matched_control_id": cid, "peak_id": None, "protagonist": p, "text": r["neutral"]})
            out["keyword_twins"].append({"id": tid, "split": "keyword_twins", "emotion": e, "intensity": "peak", **base,
                                         "matched_control_id": nid, "peak_id": cid, "protagonist": p,
                                         "text": r["clinical"].rstrip() + " " + r["twin_sentence"].strip()})
        m = next(r for r in recs if r["kind"] == "moderate" and r["emotion"] == e)
        peak = pairs[(e, m["peak_n"])]
        out["moderate"].append({"id": f"mod-{e}-{slug}", "split": "moderate", "emotion": e, "intensity": "moderate",
                                **base, "matched_control_id": f"neut-{e}-{slug}-{m['peak_n']}",
                                "peak_id": f"clin-{e}-{slug}-{m['peak_n']}", "protagonist": peak["protagonist"],
                                "text": m["text"]})
    for r in sorted((r for r in recs if r["kind"] == "complex_neutral"), key=lambda r: r["n"]):
        out["complex_neutral"].append({"id": f"cneu-{slug}-{r['n']}", "split": "complex_neutral", "emotion": None,
                                       "intensity": "none", **base, "matched_control_id": None, "peak_id": None,
                                       "protagonist": r["protagonist"], "text": r["text"]})
order = {e: i for i, e in enumerate(EMOTIONS)}
for split, rows in out.items():
    rows.sort(key=lambda r: (order.get(r["emotion"] or "", -1) if split != "neutral" else
                             order[r["matched_control_id"].split("-")[1]], r["domain"], r["id"]))
    (ROOT / "data" / f"{split}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                                  encoding="utf-8")
    print(split, len(rows))
