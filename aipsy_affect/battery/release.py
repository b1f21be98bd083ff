"""The release: one validated battery and the hash of its data, built once per source and passed down.

Scoring, submission checks, the probe, certification and the Hub all need the same two things: the items (the
answer key) and the ``data_sha256`` that stamps every result made with them. :func:`load_release` builds both
once per source and process (an export is verified and hashed once, not once per split and again for the hash)
and every consumer takes a :class:`Release` instead of loading and hashing on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from aipsy_affect.battery.schema import SPLITS, Battery, StimulusItem
from aipsy_affect.battery.sources import (
    ResolvedSource,
    Source,
    _jsonl_sha256,
    _load_packaged_battery,
    data_dir,
    resolve_source,
)

__all__ = ["Release", "load_release", "packaged_release"]


@dataclass(frozen=True)
class Release:
    """A validated battery and the hash of the data it was read from."""

    battery: Battery
    """Every item, checked against the schema and the design invariants."""

    sha256: str
    """``data_sha256`` of the source: stamped on certification reports, submissions and scores."""

    source: str
    """Where it came from, for messages and reports: ``packaged``, a folder, or ``org/name@revision``."""

    layout: str = "aipsy-affect"
    """The layout it was read from: ``aipsy-affect`` (ours, every invariant enforced) or ``published`` (the
    public AIPsy-Affect release, read as it is and audited by ``battery.audit``)."""

    def item(self, item_id: str) -> StimulusItem:
        """The item with this id (``KeyError`` when it is not in the battery)."""
        return self.battery.by_id()[item_id]


def _signature(resolved: ResolvedSource) -> tuple[tuple[str, int, int], ...]:
    """Size and mtime of every file a local source is read from, so an edited folder is read again."""
    if resolved.path is None:
        return ()
    out = []
    for path in sorted(Path(resolved.path).rglob("*")):
        if path.is_file() and path.suffix in (".jsonl", ".parquet", ".json"):
            stat = path.stat()
            out.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(out)


@lru_cache(maxsize=16)
def _build(resolved: ResolvedSource, signature: tuple[tuple[str, int, int], ...], layout: str) -> Release:
    from aipsy_affect.battery.io import read_models

    if resolved.kind == "packaged":
        return Release(_load_packaged_battery(), _jsonl_sha256(data_dir()), "packaged")
    assert resolved.path is not None
    label = f"{resolved.repo_id}@{resolved.revision}" if resolved.kind == "hub" else str(resolved.path)
    if layout == "published":
        from aipsy_affect.battery.published import read_published

        read = read_published(resolved.path)
        return Release(read.battery, read.sha256, label, "published")
    if resolved.kind == "jsonl_dir":
        items = [item for name in SPLITS for item in read_models(resolved.path / f"{name}.jsonl", StimulusItem)]
        return Release(Battery(items=tuple(items)), _jsonl_sha256(resolved.path), str(resolved.path))
    from aipsy_affect.battery.export_format import read_export_split, verify_export

    manifest = verify_export(resolved.path)
    items = [item for name in SPLITS for item in read_export_split(resolved.path, name, verify=False)]
    return Release(Battery(items=tuple(items)), manifest.data_sha256, label)


def load_release(source: Source = None, *, revision: str | None = None, layout: str | None = None) -> Release:
    """The battery and its hash from ``source`` (default: the packaged data), built once per process.

    ``layout`` is ``aipsy-affect`` (ours), ``published`` (the public AIPsy-Affect release) or ``None`` to detect
    it from the files (``battery.published.detect_layout``).
    """
    from aipsy_affect.battery.published import resolve_layout

    resolved = resolve_source(source, revision)
    chosen = resolve_layout(resolved.path, layout)
    return _build(resolved, _signature(resolved), chosen)


def packaged_release() -> Release:
    """The packaged battery's release (cached)."""
    return load_release(None)
