"""Noise acceptance for the main score: pure-noise submissions must score chance, and their CIs must say so.

    .venv/bin/python scripts/noise_check.py [--seeds 50] [--layers 48]

Each seed is a chance submission (``aipsy_affect.benchmark.floors.chance_submission``) of independent random
layers over the packaged battery, scored with the default 1,000 pair-bootstrap resamples. The acceptance of issue
12: mean ``main_score`` within 0.50 +/- 0.03, and ``main_score_ci`` above 0.5 (the lower bound over 0.5) in at most
2 of 20, i.e. at most 10% of seeds. The in-sample best layer's score is printed for comparison: it is what the
headline would be if the layer were chosen on the items it is scored on.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from aipsy_affect.battery.release import packaged_release
from aipsy_affect.benchmark.floors import chance_submission
from aipsy_affect.benchmark.scoring import score_submission


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=50, help="number of noise submissions (default 50)")
    parser.add_argument("--layers", type=int, default=48, help="random layers per submission (default 48)")
    args = parser.parse_args(argv)
    release = packaged_release()
    main_scores, above, optimistic, seconds = [], 0, [], []
    for seed in range(args.seeds):
        submission = chance_submission(release, args.layers, seed=1000 + seed)
        start = time.perf_counter()
        report = score_submission(submission, release)
        seconds.append(time.perf_counter() - start)
        main_scores.append(report.main_score)
        optimistic.append(report.best_layer_score)
        above += report.main_score_ci[0] > 0.5
    mean = float(np.mean(main_scores))
    rate = above / args.seeds
    print(f"{args.seeds} pure-noise submissions of {args.layers} layers (1,000 resamples each)")
    print(
        f"  main_score (cross-validated layer): mean {mean:.4f}, sd {np.std(main_scores):.4f}, "
        f"range [{min(main_scores):.4f}, {max(main_scores):.4f}]"
    )
    print(f"  main_score_ci above 0.5: {above} of {args.seeds} ({rate:.1%})")
    print(f"  in-sample best layer (optimistic): mean {np.mean(optimistic):.4f}")
    print(f"  scoring time per submission: median {np.median(seconds):.2f} s")
    ok = abs(mean - 0.5) <= 0.03 and rate <= 0.10
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
