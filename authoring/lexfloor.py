"""Authoring aid: the certification's trained lexical floor and the design checks, on data/ plus overlays.

    .venv/bin/python authoring/lexfloor.py [OVERLAY.jsonl ...] [--domain D] [--top 12]

An overlay file holds full item records (same fields as data/*.jsonl); a record replaces the packaged record with
the same id. The figures are the ones `aipsy-affect certify` reports (``certify.lexical.lexical_report``: TF-IDF
word 1-2-grams + logistic regression, pair-grouped 5-fold), so an author sees exactly what the criteria will see;
this script only adds the overlays, the per-domain listing and length checks.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from aipsy_affect.battery.schema import SPLITS, Battery, StimulusItem
from aipsy_affect.certify.lexical import lexical_report

ROOT = Path(__file__).resolve().parents[1]


def load(overlays: list[str]) -> Battery:
    records: dict[str, dict] = {}
    for split in SPLITS:
        for line in (ROOT / "data" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            records[record["id"]] = record
    for path in overlays:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                sys.exit(f"{path}:{n}: not JSON: {exc}")
            if record.get("id") not in records:
                sys.exit(f"{path}:{n}: unknown id {record.get('id')!r}")
            records[record["id"]] = record
    return Battery(items=tuple(StimulusItem.model_validate(r) for r in records.values()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("overlays", nargs="*")
    ap.add_argument("--emotion", action="append")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--domain", help="only list vignettes of this domain slug (work, family, ...)")
    a = ap.parse_args()
    battery = load(a.overlays)
    report = lexical_report(battery)
    clinical = report.accuracy["clinical"]
    print(f"lexical 8-way top-1 on clinical: {clinical.accuracy:.3f} (criterion <= 0.50)")
    print(f"lexical affect AUROC clinical vs neutral: {report.affect_auroc.auroc:.3f} (criterion <= 0.95)")
    for emotion, words in report.top_words.items():
        if a.emotion is None or emotion in a.emotion:
            print(f"  top words {emotion}: {', '.join(words[: a.top])}")
    print("vignettes the floor names most confidently (P(true), id):")
    for row in report.most_readable:
        if (a.emotion is None or row["emotion"] in a.emotion) and a.domain in (None, row["id"].split("-")[2]):
            print(f"  {row['probability']:.2f} {row['id']}")
    for split, markers in report.routine_markers.items():
        print(f"routine markers in {split}: {markers.items_with_marker}")
    pairs = battery.pairs()
    diffs = [n.word_count - c.word_count for c, n in pairs]
    print(f"mean paired word difference (neutral - clinical): {statistics.mean(diffs):+.2f}")
    for c, n in pairs:
        if abs(n.word_count - c.word_count) > 0.10 * c.word_count:
            print(f"  LENGTH {c.id}: {c.word_count} vs {n.word_count}")


if __name__ == "__main__":
    main()
