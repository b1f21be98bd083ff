"""Loading the packaged battery: ``load_split`` and ``load_battery``."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from .io import read_models
from .schema import SPLITS, Battery, StimulusItem


def data_dir() -> Traversable:
    """The folder of canonical item files: inside the installed wheel, or ``data/`` of a checkout."""
    packaged = resources.files("aipsy_affect").joinpath("data")
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "data"
    if (checkout / "clinical.jsonl").is_file():
        return checkout
    raise FileNotFoundError("aipsy-affect's data files are missing: reinstall the package")


def split_path(name: str) -> Path:
    """Path of one split's JSONL file."""
    if name not in SPLITS:
        raise KeyError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
    return Path(str(data_dir().joinpath(f"{name}.jsonl")))


def load_split(name: str) -> list[StimulusItem]:
    """The items of one split (clinical, neutral, moderate, complex_neutral, keyword_twins)."""
    return list(_load_split_cached(name))


@lru_cache(maxsize=None)
def _load_split_cached(name: str) -> tuple[StimulusItem, ...]:
    return tuple(read_models(split_path(name), StimulusItem))


@lru_cache(maxsize=1)
def load_battery() -> Battery:
    """The whole packaged battery, validated against every design invariant."""
    items = [item for name in SPLITS for item in _load_split_cached(name)]
    return Battery(items=tuple(items))


def data_sha256() -> str:
    """One hash over every split file's bytes, in split order: stamps results with the data they used."""
    digest = hashlib.sha256()
    for name in SPLITS:
        digest.update(name.encode() + b"\0")
        digest.update(split_path(name).read_bytes())
    return digest.hexdigest()
