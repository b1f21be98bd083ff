"""Wall-clock start-up and scoring figures for the command line, written into validation/BENCHMARK.md.

    .venv/bin/python scripts/bench_cli.py [--runs 7]

Measures, each as the median and the minimum of ``--runs`` fresh processes (interpreter start included):
``aipsy-affect validate --no-model`` on 10 packaged items, and ``aipsy-affect score`` on a seeded 48-layer
chance submission (1,000 pair-bootstrap resamples, cross-validated layer selection). Replaces the section between
the ``cli-timings`` markers of validation/BENCHMARK.md (run ``aipsy-affect bench`` first: it rewrites the file).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- cli-timings:start -->", "<!-- cli-timings:end -->"


def _time(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    from aipsy_affect.battery.release import packaged_release
    from aipsy_affect.benchmark.floors import chance_submission

    exe = str(Path(sys.executable).parent / "aipsy-affect")
    with tempfile.TemporaryDirectory() as tmp:
        items = Path(tmp) / "ten.jsonl"
        lines = (ROOT / "data" / "clinical.jsonl").read_text(encoding="utf-8").splitlines()[:10]
        items.write_text("\n".join(lines) + "\n", encoding="utf-8")
        sub = Path(tmp) / "sub48.json"
        sub.write_text(chance_submission(packaged_release(), 48).model_dump_json(exclude_none=True), encoding="utf-8")
        load_before = os.getloadavg()[0]
        validate = _time([exe, "validate", "--no-model", str(items)], args.runs)
        score = _time([exe, "score", str(sub)], args.runs)
        load_after = os.getloadavg()[0]
    rows = [
        ("`validate --no-model`, 10 items", validate, "2 s (goal 0.3 s)"),
        ("`score`, 48 layers, 1,000 resamples", score, "2 s (goal 0.4 s)"),
    ]
    section = [
        START,
        "## Command-line start-up and scoring",
        "",
        f"Fresh processes, interpreter start included; {args.runs} runs each, median and minimum. 1-minute load "
        f"average before / after: {load_before:.2f} / {load_after:.2f} (2-core machine). Regenerate with "
        "`.venv/bin/python scripts/bench_cli.py` after `aipsy-affect bench`.",
        "",
        "| command | median s | min s | limit |",
        "|---|---:|---:|---|",
        *[f"| {name} | {statistics.median(t):.2f} | {min(t):.2f} | {limit} |" for name, t, limit in rows],
        END,
    ]
    path = ROOT / "validation" / "BENCHMARK.md"
    text = path.read_text(encoding="utf-8")
    if START in text:
        text = text[: text.index(START)].rstrip() + "\n"
    path.write_text(text.rstrip() + "\n\n" + "\n".join(section) + "\n", encoding="utf-8")
    print("\n".join(section))
    return 0


if __name__ == "__main__":
    sys.exit(main())
