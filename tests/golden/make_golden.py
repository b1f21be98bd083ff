"""Regenerate the frozen scoring golden files. Run only when a metric changes on purpose (bump SCORE_VERSION):

    .venv/bin/python tests/golden/make_golden.py

``submission_small.json`` is a 2-layer submission on the synthetic battery of tests/synthetic.py (seed 0),
with scores rounded to 3 decimals so that ties occur; ``scores_small.json`` is what the scorer of this
release makes of it. tests/test_scoring.py::test_golden_scores reads both.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from submission_factory import make_submission_dict, synthetic_battery  # noqa: E402

from aipsy_affect.battery.io import write_atomic  # noqa: E402
from aipsy_affect.benchmark.scoring import score_submission  # noqa: E402
from aipsy_affect.benchmark.submission import parse_submission  # noqa: E402

SUBMISSION = HERE / "submission_small.json"
SCORES = HERE / "scores_small.json"


def main() -> None:
    battery = synthetic_battery()
    data = make_submission_dict(battery, n_layers=2, seed=7, decimals=3, model_id="golden/tiny-model")
    data["dataset"] = {"revision": "synthetic-battery-seed-0"}
    data["submitter"] = "aipsy-affect test suite"
    data["software"] = {"numpy": "any"}
    write_atomic(SUBMISSION, json.dumps(data, separators=(",", ":")) + "\n")
    report = score_submission(parse_submission(SUBMISSION.read_bytes(), SUBMISSION), battery)
    write_atomic(SCORES, report.model_dump_json(indent=1) + "\n")


if __name__ == "__main__":
    main()
