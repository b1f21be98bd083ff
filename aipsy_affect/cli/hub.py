"""``aipsy-affect export`` and ``publish``: the Hub-ready export and the certified upload."""

from __future__ import annotations

import argparse

from aipsy_affect.cli.common import EXIT_OK, add_quiet
from aipsy_affect.cli.common import err as _err


def _add_export_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a Hub-ready dataset repository (parquet, dataset card, manifest)",
        description="Write DIR as a Hugging Face dataset repo: data/<split>.parquet, README.md rendered from CARD.md, "
        "validation/ and manifest.json. Deterministic: the same inputs give byte-identical files. "
        "Exit 0 written, 1 refused (certification missing, stale or incomplete), 2 bad input.",
    )
    p.add_argument("dir", help="output directory: new, empty, or a previous export (its files are replaced)")
    p.add_argument(
        "--validation",
        default="validation",
        metavar="DIR",
        help="folder with report.json and item_scores.jsonl from `aipsy-affect certify` (default: validation)",
    )
    p.add_argument(
        "--uncertified",
        action="store_true",
        help="export without a certification report (certification columns are null; the card says so)",
    )
    p.add_argument(
        "--source",
        default=None,
        metavar="DIR",
        help="read the battery from this directory (split .jsonl files or an export) instead of the packaged data",
    )
    p.add_argument(
        "--repo-id",
        default=None,
        metavar="ORG/NAME",
        help="Hub repo id written into the card's Quick Start and citation (default: aipsy-affect/aipsy-affect)",
    )
    p.add_argument(
        "--revision",
        default=None,
        metavar="TAG",
        help="release tag written into the card (default: v<package version>)",
    )
    add_quiet(p)
    p.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    from aipsy_affect.cli.certify import release_from
    from aipsy_affect.errors import CertificationError
    from aipsy_affect.hub.certification import DEFAULT_REPO_ID, load_certification
    from aipsy_affect.hub.export import export_dataset, require_own_layout

    release = release_from(args.source)
    require_own_layout(release, "export")
    try:
        cert = None if args.uncertified else load_certification(args.validation)
        manifest = export_dataset(
            release.battery,
            args.dir,
            data_sha256=release.sha256,
            certification=cert,
            repo_id=args.repo_id or DEFAULT_REPO_ID,
            revision=args.revision,
        )
    except CertificationError as exc:
        # Context only; run_command prints the reasons and maps the exit code (2 malformed, else 1).
        hint = "" if exc.reason == "malformed" else " (pass --uncertified to export without a certification)"
        _err(f"refusing to export{hint}:")
        raise
    sizes = ", ".join(f"{s} {n}" for config in manifest.splits.values() for s, n in config.items())
    if not args.quiet:
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
    p.add_argument(
        "--revision",
        default=None,
        metavar="TAG",
        help="tag to create on the uploaded commit (default: v<package version>); never moved once made",
    )
    p.add_argument("--private", action="store_true", help="create the repo as private (an existing repo is unchanged)")
    p.add_argument(
        "--dry-run", action="store_true", help="check and list what would be uploaded and where; upload nothing"
    )
    p.add_argument(
        "--validation",
        default="validation",
        metavar="DIR",
        help="folder with report.json and item_scores.jsonl (default: validation)",
    )
    p.add_argument(
        "--source",
        default=None,
        metavar="DIR",
        help="publish the battery in this directory instead of the packaged data",
    )
    p.add_argument(
        "--stage", default=None, metavar="DIR", help="build the upload in DIR and keep it (default: a temporary folder)"
    )
    p.set_defaults(func=_cmd_publish)


def _cmd_publish(args: argparse.Namespace) -> int:
    from aipsy_affect.cli.certify import release_from
    from aipsy_affect.errors import CertificationError, PublishError
    from aipsy_affect.hub.publish import publish_dataset

    release_from(args.source)  # an unreadable battery is bad input (exit 2), reported before anything else
    try:
        publish_dataset(
            args.repo_id,
            tag=args.revision,
            private=args.private,
            dry_run=args.dry_run,
            source=args.source,
            validation_dir=args.validation,
            stage_dir=args.stage,
        )
    except CertificationError:
        _err("refusing to publish:")
        raise
    except PublishError as exc:
        _err("refusing to publish:" if exc.refused else "publish failed:")
        raise
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``aipsy-affect`` parser."""
    _add_export_parser(sub)
    _add_publish_parser(sub)
