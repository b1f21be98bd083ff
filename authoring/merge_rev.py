"""Merge revision overlays (authoring/rev/*.jsonl: full records, only `text` may differ) into data/*.jsonl.

    .venv/bin/python authoring/merge_rev.py && .venv/bin/python authoring/rebuild_twins.py
"""
from __future__ import annotations

import glob
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ["clinical", "neutral", "moderate", "complex_neutral", "keyword_twins"]


def main() -> None:
    data = {s: [json.loads(x) for x in (ROOT / f"data/{s}.jsonl").read_text().splitlines()] for s in SPLITS}
    overlay = {}
    for path in sorted(glob.glob(str(ROOT / "authoring/rev/*.jsonl"))):
        for n, line in enumerate(Path(path).read_text().splitlines(), 1):
            if line.strip():
                record = json.loads(line)
                overlay[record["id"]] = (path, n, record)
    changed = 0
    for split in SPLITS:
        for i, record in enumerate(data[split]):
            if record["id"] not in overlay:
                continue
            path, n, new = overlay.pop(record["id"])
            if list(new) != list(record) or any(new[k] != record[k] for k in record if k != "text"):
                raise SystemExit(f"{path}:{n}: only `text` may change")
            changed += new["text"] != record["text"]
            data[split][i] = new
    if overlay:
        raise SystemExit(f"unknown ids in overlays: {sorted(overlay)[:5]}")
    for split in SPLITS:
        (ROOT / f"data/{split}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data[split]))
    print(f"merged {changed} changed texts")


if __name__ == "__main__":
    main()
