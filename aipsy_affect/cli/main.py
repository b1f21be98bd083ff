"""``aipsy-affect``: the parser assembled from one module per command group, and ``main``.

Heavy libraries (torch, transformers, datasets) are imported inside the commands that need them, so
``aipsy-affect validate --no-model`` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aipsy_affect.cli import benchmark, certify, compare, extract, hub, norms, probe, validate
from aipsy_affect.cli.common import run_command


def build_parser() -> argparse.ArgumentParser:
    from aipsy_affect._version import __version__

    parser = argparse.ArgumentParser(
        prog="aipsy-affect",
        description="A keyword-free clinical emotion stimulus battery: validate, certify, export, score.",
    )
    parser.add_argument("--version", action="version", version=f"aipsy-affect {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (validate, certify, compare, hub, benchmark, probe, extract, norms):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
