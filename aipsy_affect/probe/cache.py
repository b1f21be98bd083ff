"""The activation cache: pooled states on disk, keyed by everything they depend on.

``<root>/<model-slug>-<key digest[:20]>/{states.npy,meta.json}``. An entry is written into a temporary folder and
renamed into place, so a crash leaves either nothing or a complete entry; a corrupt or mismatched entry is reported
and ignored (and replaced by the next save).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from aipsy_affect.probe.config import BackendName, PoolingName

__all__ = ["CACHE_FORMAT", "ActivationCache", "CacheKey", "inputs_sha256"]

#: Bump when the cache layout or what goes into a cache entry changes.
CACHE_FORMAT = 1


def inputs_sha256(ids: Sequence[str], texts: Sequence[str]) -> str:
    """Hash of exactly what the model reads: item ids and rendered prompts, in order."""
    digest = hashlib.sha256()
    for i, t in zip(ids, texts, strict=True):
        digest.update(i.encode() + b"\0" + t.encode() + b"\0")
    return digest.hexdigest()


class CacheKey(BaseModel):
    """What an activation-cache entry depends on; its hash names the entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cache_format: int = CACHE_FORMAT
    """Layout version of the cache entry."""
    model_id: str
    """Model name as recorded in the submission."""
    revision: str
    """Resolved revision (commit hash or content fingerprint)."""
    prompt: str
    """The prompt template."""
    pooling: PoolingName
    """Pooling of the token states."""
    dtype: str
    """dtype the model ran in."""
    inputs_sha256: str
    """Hash of the item ids and rendered inputs (covers the data, the prompt and the chat template)."""
    backend: BackendName | None = None
    """The backend that ran the forward pass; ``None`` for ``transformers``, so that entries written before there
    were backends keep their names."""

    def digest(self) -> str:
        return hashlib.sha256(self.model_dump_json(exclude_none=True).encode()).hexdigest()


class ActivationCache:
    """Pooled states on disk (see the module docstring)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: CacheKey) -> Path:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", key.model_id)[-60:].strip("._") or "model"
        return self.root / f"{slug}-{key.digest()[:20]}"

    def load(self, key: CacheKey, ids: Sequence[str]) -> tuple[np.ndarray, dict[str, Any]] | None:
        """``(states, meta)`` of the entry for ``key``, or ``None`` when there is no usable entry."""
        entry = self.path(key)
        if not entry.is_dir():
            return None
        try:
            meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
            states = np.load(entry / "states.npy", allow_pickle=False)
        except (OSError, ValueError) as exc:
            warnings.warn(f"ignoring unreadable activation cache entry {entry}: {exc}", stacklevel=2)
            return None
        if (
            meta.get("key") != key.model_dump(mode="json", exclude_none=True)
            or meta.get("ids") != list(ids)
            or states.ndim != 3
            or states.shape[1] != len(ids)
            or states.dtype != np.float32
        ):
            warnings.warn(f"ignoring activation cache entry {entry}: it does not match this run", stacklevel=2)
            return None
        return states, meta

    def save(self, key: CacheKey, ids: Sequence[str], states: np.ndarray, info: dict[str, Any]) -> Path:
        """Store ``states`` [layers, items, dim] with ``info`` (versions, timings) in the entry for ``key``."""
        entry = self.path(key)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.root, prefix=".tmp-"))
        try:
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(states, dtype=np.float32), allow_pickle=False)
            (tmp / "states.npy").write_bytes(buf.getvalue())
            meta = {
                "key": key.model_dump(mode="json", exclude_none=True),
                "ids": list(ids),
                "shape": list(states.shape),
                **info,
            }
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
            if entry.exists():
                shutil.rmtree(entry)  # a stale entry with the same key (it failed to load)
            os.replace(tmp, entry)
        except OSError:
            if entry.is_dir() and (entry / "meta.json").is_file():
                return entry  # a concurrent run stored the same entry first
            raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return entry
