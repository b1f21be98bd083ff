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


# --- export and publish -------------------------------------------------------------------

def _add_export_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a Hub-ready dataset repository (parquet, dataset card, manifest)",
        description="Write DIR as a Hugging Face dataset repo: data/<split>.parquet, README.md rendered from CARD.md, "
                    "validation/ and manifest.json. Deterministic: the same inputs give byte-identical files. "
                    "Exit 0 written, 1 refused (certification missing, stale or incomplete), 2 bad input.",
    )
    p.add_argument("dir", help="output directory: new, empty, or a previous export (its files are replaced)")
    p.add_argument("--validation", default="validation", metavar="DIR",
                   help="folder with report.json and item_scores.jsonl from `aipsy-affect certify` (default: validation)")
    p.add_argument("--uncertified", action="store_true",
                   help="export without a certification report (certification columns are null; the card says so)")
    p.add_argument("--source", default=None, metavar="DIR",
                   help="read the battery from this directory (split .jsonl files or an export) instead of the "
                        "packaged data")
    p.add_argument("--repo-id", default=None, metavar="ORG/NAME",
                   help="Hub repo id written into the card's Quick Start and citation (default: aipsy-affect/aipsy-affect)")
    p.add_argument("--revision", default=None, metavar="TAG",
                   help="release tag written into the card (default: v<package version>)")
    p.set_defaults(func=_cmd_export)


def _load_for_hub(source: str | None) -> tuple[object, str] | None:
    from pydantic import ValidationError

    from .battery import data_sha256, load_battery
    from .hub import ExportError
    from .io import InputError, InputErrors

    try:
        return load_battery(source), data_sha256(source)
    except (InputError, InputErrors, ValidationError, ExportError, OSError, ValueError) as exc:
        _err(f"cannot read the battery{f' from {source}' if source else ''}:\n{exc}")
        return None


def _cmd_export(args: argparse.Namespace) -> int:
    from .hub import DEFAULT_REPO_ID, CertificationError, ExportError, export_dataset, load_certification

    loaded = _load_for_hub(args.source)
    if loaded is None:
        return EXIT_INPUT
    battery, data_hash = loaded
    try:
        cert = None if args.uncertified else load_certification(args.validation)
        manifest = export_dataset(battery, args.dir, data_sha256=data_hash, certification=cert,  # type: ignore[arg-type]
                                  repo_id=args.repo_id or DEFAULT_REPO_ID, revision=args.revision)
    except CertificationError as exc:
        _err(f"refusing to export: {exc}")
        if exc.reason == "malformed":
            return EXIT_INPUT
        _err("(pass --uncertified to export without a certification)")
        return EXIT_FAIL
    except ExportError as exc:
        _err(f"cannot export: {exc}")
        return EXIT_INPUT
    sizes = ", ".join(f"{s} {n}" for config in manifest.splits.values() for s, n in config.items())
    print(f"exported {len(manifest.files) + 1} files to {args.dir} ({manifest.certification}; {sizes})")
    return EXIT_OK


def _add_publish_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "publish",
        help="upload a certified release to the Hugging Face Hub and tag it",
        description="Export the battery, check that validation/report.json passed and certifies the current data, "
                    "upload it to the dataset repo REPO_ID and tag the commit. The token comes from HF_TOKEN or the "
                    "stored login and is never printed. Exit 0 published (or dry run planned), 1 refused or failed "
                    "(the reason is named), 2 bad input.",
    )
    p.add_argument("repo_id", metavar="REPO_ID", help="dataset repo, e.g. my-org/aipsy-affect")
    p.add_argument("--revision", default=None, metavar="TAG",
                   help="tag to create on the uploaded commit (default: v<package version>); never moved once made")
    p.add_argument("--private", action="store_true", help="create the repo as private (an existing repo is unchanged)")
    p.add_argument("--dry-run", action="store_true", help="check and list what would be uploaded and where; upload nothing")
    p.add_argument("--validation", default="validation", metavar="DIR",
                   help="folder with report.json and item_scores.jsonl (default: validation)")
    p.add_argument("--source", default=None, metavar="DIR",
                   help="publish the battery in this directory instead of the packaged data")
    p.add_argument("--stage", default=None, metavar="DIR",
                   help="build the upload in DIR and keep it (default: a temporary folder)")
    p.set_defaults(func=_cmd_publish)


def _cmd_publish(args: argparse.Namespace) -> int:
    from .hub import CertificationError, PublishError, publish_dataset

    try:
        publish_dataset(args.repo_id, tag=args.revision, private=args.private, dry_run=args.dry_run,
                        source=args.source, validation_dir=args.validation, stage_dir=args.stage)
    except CertificationError as exc:
        _err(f"refusing to publish: {exc}")
        return EXIT_INPUT if exc.reason == "malformed" else EXIT_FAIL
    except PublishError as exc:
        _err(f"{'refusing to publish' if exc.refused else 'publish failed'}: {exc}")
        return EXIT_FAIL
    except (ValueError, OSError) as exc:
        # Bad repo id or tag, unreadable or invalid battery data, unwritable staging folder.
        _err(f"cannot publish: {exc}")
        return EXIT_INPUT
    return EXIT_OK


# --- main -----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="aipsy-affect",
        description="A keyword-free clinical emotion stimulus battery: validate, certify, export, score.",
    )
    parser.add_argument("--version", action="version", version=f"aipsy-affect {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_validate_parser, _add_export_parser, _add_publish_parser):
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
