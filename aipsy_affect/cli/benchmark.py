"""``aipsy-affect score``, ``submit`` and ``leaderboard``: probe submissions and the leaderboard.

Every command reads submissions through the one intake (``benchmark.submission.load_submission``) against the
packaged release, and raises ``AffectError`` subclasses that ``cli.common.run_command`` maps to exit codes. Nothing
here imports torch, transformers or datasets.
"""

from __future__ import annotations

import argparse
import sys

from aipsy_affect.cli.certify import add_source_options, release_from
from aipsy_affect.cli.common import EXIT_OK


def _add_score_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="score a probe submission: per-layer AUROCs with bootstrap CIs, cross-validated main score",
        description="Exit 0 when the submission was scored, 2 when it is invalid (every problem is listed) or an "
        "option is out of range. Format and metrics: docs/scoring.md.",
    )
    p.add_argument("submission", help="submission JSON file (format_version 1)")
    p.add_argument("--json", action="store_true", help="print the full score report as one JSON object")
    p.add_argument(
        "--n-bootstrap",
        type=int,
        default=None,
        metavar="N",
        help="pair-bootstrap resamples per CI, 100 to 20000 (default 1000)",
    )
    p.add_argument("--seed", type=int, default=None, help="bootstrap seed, 0 to 2**63-1 (default 0)")
    add_source_options(p, "score against (its items are the answer key, its hash the dataset revision)")
    p.set_defaults(func=_cmd_score)


def _cmd_score(args: argparse.Namespace) -> int:
    from aipsy_affect.benchmark.scoring import (
        DEFAULT_BOOTSTRAP,
        DEFAULT_SEED,
        check_options,
        format_table,
        score_submission,
    )
    from aipsy_affect.benchmark.submission import load_submission

    n_bootstrap = DEFAULT_BOOTSTRAP if args.n_bootstrap is None else args.n_bootstrap
    seed = DEFAULT_SEED if args.seed is None else args.seed
    check_options(n_bootstrap, seed)  # before reading: a bad option is reported even for a bad file
    release = release_from(args.source, args.layout)
    loaded = load_submission(args.submission, release)
    report = score_submission(
        loaded.submission, release, n_bootstrap=n_bootstrap, seed=seed, submission_sha256=loaded.sha256, checked=True
    )
    print(report.model_dump_json(indent=2) if args.json else format_table(report))
    return EXIT_OK


def _add_submit_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "submit",
        help="validate, score and add a submission to a leaderboard directory",
        description="Exit 0 when the entry was added, 1 when the same content is already on the leaderboard, 2 when "
        "the submission or the leaderboard cannot be read or written.",
    )
    p.add_argument("submission", help="submission JSON file (format_version 1)")
    p.add_argument("--leaderboard", required=True, metavar="DIR", help="leaderboard directory (created if absent)")
    p.add_argument(
        "--reference",
        choices=("lexical-floor", "chance"),
        help="add as a reference that is drawn but never ranked (maintainers: the lexical floor goes "
        "first, so every later entry gets its gain over it)",
    )
    add_source_options(p, "score against (entries record its hash; each battery is ranked on its own)")
    p.set_defaults(func=_cmd_submit)


def _cmd_submit(args: argparse.Namespace) -> int:
    from aipsy_affect.benchmark.leaderboard import Role, submit
    from aipsy_affect.render.leaderboard import ranked

    roles: dict[str | None, Role] = {None: "entry", "lexical-floor": "lexical_floor", "chance": "chance"}
    role = roles[args.reference]
    entry, board = submit(args.submission, args.leaderboard, release_from(args.source, args.layout), role=role)
    # Only entries scored against the same battery are ranked together.
    board = [e for e in board if e.report.data_sha256 == entry.report.data_sha256]
    item = next(i for i in ranked(board) if i.entry.submission_sha256 == entry.submission_sha256)
    r = entry.report
    gain = (
        ""
        if entry.lexical_gain_ci is None
        else f"; gain over the lexical floor {entry.lexical_gain:+.4f} [{entry.lexical_gain_ci[0]:+.4f}, "
        f"{entry.lexical_gain_ci[1]:+.4f}]"
        + ("" if entry.above_lexical_floor or role != "entry" else " (not above the lexical floor)")
    )
    place = (
        f"rank {item.label} of {sum(e.role == 'entry' for e in board)}"
        if item.rank is not None
        else f"reference ({item.label})"
    )
    print(
        f"added {r.model.id} @ {r.model.revision} ({entry.submission_sha256[:12]}): main score "
        f"{r.main_score:.4f} [{r.main_score_ci[0]:.4f}, {r.main_score_ci[1]:.4f}] (CV layers "
        f"{' '.join(map(str, r.main_layers))}){gain}; {place}"
    )
    return EXIT_OK


def _add_leaderboard_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "leaderboard",
        help="render a leaderboard directory (Markdown, CSV, JSON, HTML) or publish it as a static Space",
        description="Exit 0 on success, 2 when the directory is not a readable leaderboard or FILE cannot be "
        "written, 1 when a publish is refused, 3 when the Hub call fails.",
    )
    p.add_argument("directory", metavar="DIR", help="leaderboard directory written by `submit`")
    p.add_argument("--format", choices=("md", "csv", "json", "html"), default="md", help="output format (default md)")
    p.add_argument("--out", metavar="FILE", help="write to FILE (atomically) instead of standard output")
    p.add_argument(
        "--publish",
        metavar="OWNER/SPACE",
        help="upload the board as a static Hugging Face Space (index.html, entries, submissions, README)",
    )
    p.add_argument("--dry-run", action="store_true", help="with --publish: list what would be uploaded, upload nothing")
    p.add_argument(
        "--dataset",
        metavar="SHA256",
        help="show only the entries scored against this battery (its data hash, or a prefix of 12 or more "
        "characters); entries of different batteries are never ranked against each other",
    )
    p.set_defaults(func=_cmd_leaderboard)


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    from aipsy_affect.battery.io import write_atomic
    from aipsy_affect.benchmark.leaderboard import Leaderboard
    from aipsy_affect.errors import InputError, OptionError
    from aipsy_affect.render.leaderboard import render

    if args.dry_run and not args.publish:
        raise OptionError("--dry-run only goes with --publish OWNER/SPACE")
    board = Leaderboard(args.directory)
    entries = board.entries()
    if args.dataset is not None:
        wanted = args.dataset.lower()
        if len(wanted) < 12:
            raise OptionError("--dataset needs the battery's data sha256 or a prefix of at least 12 characters")
        entries = [e for e in entries if (e.report.data_sha256 or "").startswith(wanted)]
    if args.publish:
        from aipsy_affect.hub.space import publish_space

        publish_space(board, args.publish, dry_run=args.dry_run)
        return EXIT_OK
    text = render(entries, args.format)
    if args.out:
        try:
            write_atomic(args.out, text)
        except OSError as exc:
            raise InputError(args.out, None, None, f"cannot write ({exc.strerror or exc})") from None
    else:
        sys.stdout.write(text)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``aipsy-affect`` parser."""
    _add_score_parser(sub)
    _add_submit_parser(sub)
    _add_leaderboard_parser(sub)
