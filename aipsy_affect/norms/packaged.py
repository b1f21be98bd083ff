"""The normative ratings shipped with the packaged battery (``data/norms.jsonl`` and ``data/norms_summary.json``).

Norms belong to one version of the texts: they are returned only for the battery whose ``data_sha256`` they were
computed on, so an edited or external battery never carries norms that describe other texts.
"""

from __future__ import annotations

from aipsy_affect.battery.io import read_models
from aipsy_affect.battery.sources import data_dir
from aipsy_affect.norms.analyze import NormsSummary
from aipsy_affect.norms.models import ItemNorm

__all__ = ["NORMS_FILE", "SUMMARY_FILE", "load_norms", "norms_bytes"]

NORMS_FILE = "norms.jsonl"
SUMMARY_FILE = "norms_summary.json"


def _summary() -> NormsSummary | None:
    path = data_dir().joinpath(SUMMARY_FILE)
    if not path.is_file():
        return None
    return NormsSummary.model_validate_json(path.read_bytes())


def load_norms(data_sha256: str) -> tuple[list[ItemNorm], NormsSummary] | None:
    """The packaged per-item norms and their summary, if they were computed on the battery with this hash."""
    summary = _summary()
    if summary is None or summary.data_sha256 != data_sha256:
        return None
    from pathlib import Path

    return read_models(Path(str(data_dir().joinpath(NORMS_FILE))), ItemNorm), summary


def norms_bytes(data_sha256: str) -> bytes | None:
    """The bytes of ``norms.jsonl`` for the battery with this hash (for the Hub export), else ``None``."""
    summary = _summary()
    if summary is None or summary.data_sha256 != data_sha256:
        return None
    return data_dir().joinpath(NORMS_FILE).read_bytes()
