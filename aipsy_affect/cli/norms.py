"""``aipsy-affect norms form`` and ``norms analyze``: the norming kit."""

from __future__ import annotations

import argparse
from pathlib import Path

from aipsy_affect.cli.common import EXIT_OK, add_quiet

_SPLITS_HELP = "splits to put on the forms (default: all five)"


def _add_norms_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "norms",
        help="normative ratings: make blinded rating forms, analyse filled ones",
        description="Exit 0 on success, 2 for bad input (the message names file, line and field).",
    )
    nsub = p.add_subparsers(dest="norms_command", required=True, metavar="STEP")
    f = nsub.add_parser(
        "form",
        help="write one blinded, independently shuffled form per rater, plus key.json",
        description="Each rater folder rNN/ holds form.csv, form.html (works offline, saves the "
        "filled CSV) and INSTRUCTIONS.md; no ids or labels. key.json stays with you.",
    )
    f.add_argument("--raters", type=int, required=True, metavar="N", help="number of raters (forms)")
    f.add_argument(
        "--lists",
        type=int,
        default=1,
        metavar="K",
        help="Latin-square lists: versions of one story go to different lists (default 1: every rater "
        "rates every text)",
    )
    f.add_argument("--split", action="append", dest="splits", metavar="SPLIT", help=_SPLITS_HELP)
    f.add_argument("--rater-type", choices=("human", "llm"), default="human", help="who will rate (default human)")
    f.add_argument("--seed", type=int, default=0, help="seed of the list assignment and the shuffles (default 0)")
    f.add_argument("--source", default=None, metavar="DIR", help="battery to rate (default: the packaged one)")
    f.add_argument("--ids", default=None, metavar="FILE", help="only these item ids (one per line): a re-rating")
    f.add_argument(
        "--first-rater",
        type=int,
        default=1,
        metavar="N",
        help="number raters from N (keep ids unique across studies; default 1)",
    )
    f.add_argument("--out", required=True, metavar="DIR", help="new folder for the forms and key.json")
    f.set_defaults(func=_cmd_form)
    a = nsub.add_parser(
        "analyze",
        help="validate filled forms, unblind them and write the norms",
        description="Writes norms.jsonl, norms_summary.json, NORMS.md and a figure into --out.",
    )
    a.add_argument("ratings", nargs="+", metavar="FILLED.csv", help="filled forms (in rNN/ folders or named rNN_*)")
    a.add_argument(
        "--key",
        action="append",
        default=None,
        metavar="key.json",
        help="a study key; repeat for several studies (default: the key.json next to each form's rater folder)",
    )
    a.add_argument(
        "--allow-superseded",
        action="store_true",
        help="accept studies of an earlier battery version: their ratings count for unchanged texts only",
    )
    a.add_argument("--source", default=None, metavar="DIR", help="battery the forms were made from")
    a.add_argument("--out", required=True, metavar="DIR", help="output folder")
    add_quiet(a)
    a.set_defaults(func=_cmd_analyze)


def _cmd_form(args: argparse.Namespace) -> int:
    from aipsy_affect.battery.release import load_release
    from aipsy_affect.battery.schema import SPLITS
    from aipsy_affect.errors import InputError
    from aipsy_affect.norms.forms import make_forms

    ids = None
    if args.ids is not None:
        try:
            ids = [line.strip() for line in Path(args.ids).read_text(encoding="utf-8").splitlines() if line.strip()]
        except OSError as exc:
            raise InputError(args.ids, None, None, f"cannot read ({exc.strerror})") from None
    key = make_forms(
        load_release(args.source),
        args.out,
        raters=args.raters,
        splits=args.splits or SPLITS,
        n_lists=args.lists,
        seed=args.seed,
        rater_type=args.rater_type,
        ids=ids,
        first_rater=args.first_rater,
    )
    n = sorted({len(f.item_ids) for f in key.forms})
    print(
        f"wrote {len(key.forms)} forms ({'-'.join(map(str, n))} texts each, {key.n_lists} list(s)) and "
        f"{Path(args.out) / 'key.json'}: give each rater only their own folder"
    )
    return EXIT_OK


def _cmd_analyze(args: argparse.Namespace) -> int:
    from aipsy_affect.battery.release import load_release
    from aipsy_affect.errors import InputError
    from aipsy_affect.norms.analyze import analyze
    from aipsy_affect.norms.models import StudyKey
    from aipsy_affect.norms.report import write_outputs

    key_paths = (
        [Path(k) for k in args.key]
        if args.key
        else sorted({Path(r).resolve().parent.parent / "key.json" for r in args.ratings})
    )
    keys = []
    for key_path in key_paths:
        if not key_path.is_file():
            raise InputError(key_path, None, None, "no study key here; pass --key")
        try:
            keys.append(StudyKey.model_validate_json(key_path.read_bytes()))
        except ValueError as exc:
            raise InputError(key_path, None, None, f"not a study key written by `norms form` ({exc})") from None
    release = load_release(args.source)
    norms, summary, _ = analyze(
        args.ratings, keys, release, allow_superseded=args.allow_superseded, progress=not args.quiet
    )
    write_outputs(norms, summary, release, args.out)
    if args.quiet:
        return EXIT_OK
    for s in summary.splits:
        print(
            f"{s.split:16s} {s.n_items:4d} items  modal=intended {s.modal_intended:.3f}  "
            f"intensity {s.intensity_mean:.2f}  flagged>1 {s.flagged_by_two:.3f}"
        )
    print(
        f"alpha (label) {summary.alpha_label:.3f}, alpha (intensity) {summary.alpha_intensity:.3f}, "
        f"triplets ordered {summary.triplets_ordered}/{summary.triplets_total}; wrote {args.out}/"
    )
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``norms`` to the ``aipsy-affect`` parser."""
    _add_norms_parser(sub)
