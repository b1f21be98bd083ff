"""The ``aipsy-affect`` command line. One ``_add_<cmd>_parser`` and one ``_cmd_<cmd>`` per subcommand.

Heavy libraries (torch, transformers, datasets) are imported inside the commands that need them,
so ``aipsy-affect validate --no-model`` starts fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

EXIT_OK = 0
#: Some item or criterion failed.
EXIT_FAIL = 1
#: The input could not be read or is malformed.
EXIT_INPUT = 2


def _err(message: str) -> None:
    print(f"aipsy-affect: {message}", file=sys.stderr)


# --- validate -------------------------------------------------------------------------------

def _add_validate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="check new stimulus items for emotion keywords and well-formedness",
        description="Exit 0 when every item passes, 1 when any item fails, 2 when the file cannot be read.",
    )
    p.add_argument("file", help="items as .jsonl, .json (array) or .csv; minimum fields id and text")
    p.add_argument("--json", action="store_true", help="print one JSON object per item")
    p.add_argument("--strict", action="store_true", help="warnings (expressive words, classifier leakage) fail")
    p.add_argument("--no-model", action="store_true", help="lexical checks only; do not load any model")
    p.set_defaults(func=_cmd_validate)


def _cmd_validate(args: argparse.Namespace) -> int:
    from .io import InputError, InputErrors, read_items
    from .validate import highlight, validate_item

    try:
        items = read_items(args.file)
    except (InputError, InputErrors) as exc:
        _err(f"cannot validate {args.file}:\n{exc}")
        return EXIT_INPUT
    reports = [validate_item(item, strict=args.strict) for item in items]
    if args.json:
        for report in reports:
            print(json.dumps(report.model_dump(mode="json"), ensure_ascii=False))
    else:
        texts = {item.id: item.text for item in items}
        for report in reports:
            print(f"{'PASS' if report.passed else 'FAIL'}  {report.id}  ({report.word_count} words)")
            for check in report.checks:
                if not check.passed:
                    print(f"      {check.name}: {check.message}")
            for line in highlight(texts[report.id], report.keywords):
                print(f"      keyword {line}")
            for line in highlight(texts[report.id], report.expressive):
                print(f"      expressive {line}")
            for warning in report.warnings:
                print(f"      warning: {warning}")
        failed = sum(not r.passed for r in reports)
        print(f"{len(reports) - failed} passed, {failed} failed")
    return EXIT_FAIL if any(not r.passed for r in reports) else EXIT_OK


# --- main -----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="aipsy-affect",
        description="A keyword-free clinical emotion stimulus battery: validate, certify, export, score.",
    )
    parser.add_argument("--version", action="version", version=f"aipsy-affect {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_validate_parser,):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
