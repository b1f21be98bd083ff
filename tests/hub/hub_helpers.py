"""Constants and helpers shared by the Hub tests (the fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from aipsy_affect._version import __version__

REPO = "test-org/aipsy-affect"
TAG = f"v{__version__}"


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path, with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
