"""Loading the battery: ``load_split`` and ``load_battery``, from the packaged data or from anywhere.

A *source* is one of:

* ``None`` (default): the canonical JSONL files shipped with the package;
* a local directory holding ``<split>.jsonl`` files (the layout of ``data/``);
* a local directory written by ``aipsy-affect export`` (``data/<split>.parquet`` and ``manifest.json``);
* a Hugging Face Hub dataset repo id (``org/name``) with a pinned ``revision`` (a tag or commit).

Every source goes through the same pydantic validation (``StimulusItem`` per record, ``Battery`` for the
whole), so a Hub download is held to the same invariants as the packaged files.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from aipsy_affect.battery.export_format import REPO_ID_PATTERN
from aipsy_affect.battery.io import read_models
from aipsy_affect.battery.schema import SPLITS, Battery, StimulusItem, resolve_domain

if TYPE_CHECKING:
    from aipsy_affect.battery.published import PublishedRead

#: What ``source=`` accepts: ``None`` (packaged data), a local directory, or a Hub repo id.
Source = str | os.PathLike[str] | None


def data_dir() -> Traversable:
    """The folder of canonical item files: inside the installed wheel, or ``data/`` of a checkout."""
    packaged = resources.files("aipsy_affect").joinpath("data")
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "data"
    if (checkout / "clinical.jsonl").is_file():
        return checkout
    raise FileNotFoundError("aipsy-affect's data files are missing: reinstall the package")


def split_path(name: str) -> Path:
    """Path of one split's JSONL file."""
    _check_split(name)
    return Path(str(data_dir().joinpath(f"{name}.jsonl")))


def _check_split(name: str) -> None:
    if name not in SPLITS:
        raise KeyError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")


@dataclass(frozen=True)
class ResolvedSource:
    """Where a battery is read from, after resolving ``source=`` (and downloading a Hub revision)."""

    kind: Literal["packaged", "jsonl_dir", "export_dir", "hub"]
    """``packaged`` data, a local ``jsonl_dir``, a local ``export_dir``, or a ``hub`` snapshot."""

    path: Path | None
    """Local folder that holds the files (for ``hub``, the downloaded snapshot); ``None`` for ``packaged``."""

    repo_id: str | None = None
    """Hub dataset repo id, for ``hub`` sources."""

    revision: str | None = None
    """Pinned Hub revision (tag, branch or commit), for ``hub`` sources."""


def resolve_source(source: Source = None, revision: str | None = None) -> ResolvedSource:
    """Resolve ``source=`` to a folder to read; a Hub repo id is downloaded (or found in the local cache).

    An existing local path always wins over a Hub repo id of the same spelling. A Hub source needs an
    explicit ``revision``: an unpinned ``main`` would silently change under published results.
    """
    if source is None:
        if revision is not None:
            raise ValueError("revision= applies to a Hub repo id only; the packaged data has no revisions")
        return ResolvedSource("packaged", None)
    path = Path(source)
    if isinstance(source, os.PathLike) or path.exists():
        if revision is not None:
            raise ValueError(f"revision= applies to a Hub repo id only, not to the local path {str(source)!r}")
        return _resolve_local(path)
    text = str(source)
    if not REPO_ID_PATTERN.fullmatch(text):
        raise FileNotFoundError(f"source {text!r} is neither an existing local directory nor a Hub repo id (org/name)")
    if not revision:
        raise ValueError(
            f"loading {text!r} from the Hub needs a pinned revision=, e.g. revision='v0.1.0' or a "
            "commit hash (pass revision='main' explicitly to follow the moving head)"
        )
    from aipsy_affect.battery.export_format import download_export

    return ResolvedSource("hub", download_export(text, revision), repo_id=text, revision=revision)


def _resolve_local(path: Path) -> ResolvedSource:
    if not path.exists():
        raise FileNotFoundError(f"source {str(path)!r} does not exist")
    if not path.is_dir():
        raise NotADirectoryError(f"source {str(path)!r} is not a directory")
    if (path / "data" / "clinical.parquet").is_file():
        return ResolvedSource("export_dir", path)
    if (path / "clinical.jsonl").is_file():
        return ResolvedSource("jsonl_dir", path)
    from aipsy_affect.battery.published import split_files

    found = split_files(path, "clinical")  # the published layout as the Hub stores it (data/, sharded parquet)
    if found:
        return ResolvedSource("jsonl_dir" if found[0].suffix == ".jsonl" else "export_dir", path)
    raise FileNotFoundError(
        f"{str(path)!r} holds neither an export (data/clinical.parquet) nor split files (clinical.jsonl)"
    )


def _read_split(resolved: ResolvedSource, name: str) -> tuple[StimulusItem, ...]:
    _check_split(name)
    if resolved.kind == "packaged":
        return _load_split_cached(name)
    assert resolved.path is not None
    if resolved.kind == "jsonl_dir":
        return tuple(read_models(resolved.path / f"{name}.jsonl", StimulusItem))
    from aipsy_affect.battery.export_format import read_export_split

    return tuple(read_export_split(resolved.path, name))


def _published(resolved: ResolvedSource, layout: str | None) -> PublishedRead | None:
    """The battery read in the published layout when that is the layout (given or detected), else ``None``."""
    from aipsy_affect.battery.published import read_published, resolve_layout

    if resolve_layout(resolved.path, layout) != "published":
        return None
    assert resolved.path is not None
    return read_published(resolved.path)


def load_split(
    name: str,
    source: Source = None,
    *,
    revision: str | None = None,
    domain: int | str | None = None,
    layout: str | None = None,
) -> list[StimulusItem]:
    """The items of one split (clinical, neutral, moderate, complex_neutral, keyword_twins).

    ``source`` and ``revision`` choose where to read from (see the module docstring); the default is the
    packaged data. ``domain`` narrows to one domain, given as its number (1-6), slug (``work``) or label; an
    unknown domain is an error, never an empty list. ``layout`` (``aipsy-affect``, ``published``, ``None`` to
    detect) is how the files are read.
    """
    _check_split(name)
    wanted = None if domain is None else resolve_domain(domain)
    resolved = resolve_source(source, revision)
    published = _published(resolved, layout)
    items = published.battery.split(name) if published is not None else _read_split(resolved, name)
    return [item for item in items if wanted is None or item.domain == wanted]


@cache
def _load_split_cached(name: str) -> tuple[StimulusItem, ...]:
    return tuple(read_models(split_path(name), StimulusItem))


@lru_cache(maxsize=1)
def _load_packaged_battery() -> Battery:
    items = [item for name in SPLITS for item in _load_split_cached(name)]
    return Battery(items=tuple(items))


def load_battery(source: Source = None, *, revision: str | None = None, layout: str | None = None) -> Battery:
    """The whole battery, validated against every design invariant.

    ``source`` and ``revision`` choose where to read from (see the module docstring); the default is the
    packaged data (cached after the first call). ``layout="published"`` (or a folder detected as such) reads the
    public AIPsy-Affect release layout as an ``ExternalBattery``: fields kept, invariants audited, not enforced.
    """
    resolved = resolve_source(source, revision)
    published = _published(resolved, layout)  # also refuses layout="published" for the packaged data
    if published is not None:
        return published.battery
    if resolved.kind == "packaged":
        return _load_packaged_battery()
    items = [item for name in SPLITS for item in _read_split(resolved, name)]
    return Battery(items=tuple(items))


def _jsonl_sha256(folder: Traversable | Path) -> str:
    digest = hashlib.sha256()
    for name in SPLITS:
        digest.update(name.encode() + b"\0")
        digest.update(folder.joinpath(f"{name}.jsonl").read_bytes())
    return digest.hexdigest()


def data_sha256(source: Source = None, *, revision: str | None = None, layout: str | None = None) -> str:
    """One hash over every split file's bytes, in split order: stamps results with the data they used.

    For a JSONL directory the same hash is computed over its files. An export (local or on the Hub)
    carries no JSONL; its hash is the ``data_sha256`` its ``manifest.json`` records, after every
    exported file has been checked against the manifest's checksums.
    """
    resolved = resolve_source(source, revision)
    published = _published(resolved, layout)
    if published is not None:
        return published.sha256
    if resolved.kind == "packaged":
        return _jsonl_sha256(data_dir())
    assert resolved.path is not None
    if resolved.kind == "jsonl_dir":
        return _jsonl_sha256(resolved.path)
    from aipsy_affect.battery.export_format import verify_export

    return verify_export(resolved.path).data_sha256
