"""``aipsy-affect score``, ``submit`` and ``leaderboard``: probe submissions and the leaderboard."""

from __future__ import annotations

import argparse
import sys

from aipsy_affect.cli.common import EXIT_FAIL, EXIT_INPUT, EXIT_OK
from aipsy_affect.cli.common import err as _err


def _add_score_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="score a probe submission: per-layer AUROCs with bootstrap CIs, best layer, main score",
        description="Exit 0 when the submission was scored, 2 when it is invalid (every problem is listed). "
                    "Format and metrics: docs/scoring.md.",
    )
    p.add_argument("submission", help="submission JSON file (format_version 1)")
    p.add_argument("--json", action="store_true", help="print the full score report as one JSON object")
    p.add_argument("--n-bootstrap", type=int, default=None, metavar="N",
                   help="pair-bootstrap resamples per CI (default 1000)")
    p.add_argument("--seed", type=int, default=None, help="bootstrap seed (default 0)")
    p.set_defaults(func=_cmd_score)


def _cmd_score(args: argparse.Namespace) -> int:
    from aipsy_affect.battery.io import InputError, InputErrors
    from aipsy_affect.battery.sources import data_sha256, load_battery
    from aipsy_affect.benchmark.scoring import DEFAULT_BOOTSTRAP, DEFAULT_SEED, format_table, score_submission
    from aipsy_affect.benchmark.submission import check_submission, read_submission

    n_bootstrap = DEFAULT_BOOTSTRAP if args.n_bootstrap is None else args.n_bootstrap
    if n_bootstrap < 1:
        _err("--n-bootstrap must be at least 1")
        return EXIT_INPUT
    try:
        submission, digest = read_submission(args.submission)
        battery, data_hash = load_battery(), data_sha256()
        errors = check_submission(submission, battery, source=args.submission, dataset_revision=data_hash)
        if errors:
            raise InputErrors(errors)
    except (InputError, InputErrors) as exc:
        _err(f"invalid submission {args.submission}:\n{exc}")
        return EXIT_INPUT
    report = score_submission(submission, battery, n_bootstrap=n_bootstrap,
                              seed=DEFAULT_SEED if args.seed is None else args.seed,
                              data_sha256=data_hash, submission_sha256=digest)
    print(report.model_dump_json(indent=2) if args.json else format_table(report))
    return EXIT_OK


def _add_submit_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "submit",
        help="validate, score and add a submission to a leaderboard directory",
        description="Exit 0 when the entry was added, 1 when the same file (sha256) is already on the "
                    "leaderboard, 2 when the submission or the leaderboard cannot be read.",
    )
    p.add_argument("submission", help="submission JSON file (format_version 1)")
    p.add_argument("--leaderboard", required=True, metavar="DIR", help="leaderboard directory (created if absent)")
    p.set_defaults(func=_cmd_submit)


def _cmd_submit(args: argparse.Namespace) -> int:
    from aipsy_affect.battery.io import InputError, InputErrors
    from aipsy_affect.benchmark.leaderboard import DuplicateSubmissionError, submit

    try:
        entry, board = submit(args.submission, args.leaderboard)
    except DuplicateSubmissionError as exc:
        _err(f"rejected {args.submission}: {exc}")
        return EXIT_FAIL
    except (InputError, InputErrors) as exc:
        _err(f"invalid submission {args.submission}:\n{exc}")
        return EXIT_INPUT
    except RuntimeError as exc:
        _err(str(exc))
        return EXIT_FAIL
    from aipsy_affect.benchmark.leaderboard import ranked

    rank = next(r for r, e in ranked(board) if e.submission_sha256 == entry.submission_sha256)
    r = entry.report
    print(f"added {r.model.id} @ {r.model.revision} ({entry.submission_sha256[:12]}): main score "
          f"{r.main_score:.4f} [{r.main_score_ci[0]:.4f}, {r.main_score_ci[1]:.4f}] at layer {r.best_layer}; "
          f"rank {rank} of {len(board)}")
    return EXIT_OK


def _add_leaderboard_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "leaderboard",
        help="render a leaderboard directory as Markdown, CSV, JSON or a self-contained HTML page",
        description="Exit 0 on success, 2 when the directory is not a readable leaderboard.",
    )
    p.add_argument("directory", metavar="DIR", help="leaderboard directory written by `submit`")
    p.add_argument("--format", choices=("md", "csv", "json", "html"), default="md", help="output format (default md)")
    p.add_argument("--out", metavar="FILE", help="write to FILE (atomically) instead of standard output")
    p.set_defaults(func=_cmd_leaderboard)


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    from aipsy_affect.battery.io import InputError, InputErrors, write_atomic
    from aipsy_affect.benchmark.leaderboard import Leaderboard, render

    try:
        entries = Leaderboard(args.directory).entries()
    except (InputError, InputErrors) as exc:
        _err(f"cannot read leaderboard {args.directory}:\n{exc}")
        return EXIT_INPUT
    text = render(entries, args.format)
    if args.out:
        write_atomic(args.out, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``aipsy-affect`` parser."""
    _add_score_parser(sub)
    _add_submit_parser(sub)
    _add_leaderboard_parser(sub)
