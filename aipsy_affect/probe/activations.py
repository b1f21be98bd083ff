"""Pooled states of the whole battery, from the cache or a fresh extraction; the ``extract`` export.

:func:`pooled_states` is the one path from a configuration to the states: ``probe``, ``extract`` and
``directions`` all go through it, so they share the cache. :func:`extract_activations` is the Python face of
``aipsy-affect extract`` and :func:`save_activations` writes the safetensors file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aipsy_affect._torch import resolve_device, resolve_dtype
from aipsy_affect._version import __version__
from aipsy_affect.battery.release import Release, load_release
from aipsy_affect.battery.schema import Battery, StimulusItem
from aipsy_affect.errors import OptionError
from aipsy_affect.probe.cache import ActivationCache, CacheKey, inputs_sha256
from aipsy_affect.probe.config import ExtractConfig, render_prompt, select_layers
from aipsy_affect.probe.model import (
    ModelRef,
    expected_hidden_layers,
    is_causal_decoder,
    load_config,
    load_model,
    resolve_model,
)

__all__ = [
    "ACTIVATIONS_FORMAT",
    "Activations",
    "as_release",
    "battery_sha256",
    "checked_layers",
    "extract_activations",
    "load_activations",
    "pooled_states",
    "save_activations",
    "software_versions",
]

#: Written into the ``format`` metadata field of ``extract`` files.
ACTIVATIONS_FORMAT = "aipsy-affect-activations/1"

Log = Callable[[str], None]


@dataclass
class Activations:
    """Pooled states of battery items, with what produced them."""

    states: np.ndarray
    """float32 [layers, items, hidden]; row ``k`` is hidden-state layer ``layers[k]`` (0 = embedding output)."""
    layers: list[int]
    """Hidden-state layer of each row of ``states``."""
    items: list[StimulusItem]
    """The items, in the order of the second axis (keyword twins included)."""
    ref: ModelRef
    """Model identity (id, revision)."""
    pooling: str
    """``mean`` or ``last``."""
    prompt: str
    """The prompt template."""
    chat_template: bool
    """Whether the prompts went through the tokenizer's chat template."""
    backend: str
    """The backend that ran the forward pass."""
    dtype: str
    """dtype the model ran in."""
    dataset_sha256: str
    """Hash of the battery data."""
    n_hidden_layers: int
    """Hidden-state layers the model has (embedding output + blocks)."""
    num_parameters: int | None
    """Parameters of the model that ran."""
    from_cache: bool = False
    """Whether the states came from the activation cache."""
    cache_entry: str | None = None
    """The cache folder used, if any."""
    timings: dict[str, float] = field(default_factory=dict)
    """``load_model_s`` and ``extract_s`` (0 when cached)."""

    @property
    def ids(self) -> list[str]:
        """Item ids in state order."""
        return [item.id for item in self.items]

    def layer(self, number: int) -> np.ndarray:
        """States [items, hidden] of hidden-state layer ``number``."""
        return self.states[self.layers.index(number)]

    def select(self, layers: list[int]) -> Activations:
        """A copy holding only the given hidden-state layers."""
        rows = [self.layers.index(n) for n in layers]
        return Activations(**{**self.__dict__, "states": self.states[rows], "layers": list(layers)})


def checked_layers(requested: tuple[int, ...] | None, n_layers: int) -> list[int]:
    """:func:`select_layers`, with a bad layer reported as an ``--layers`` option error."""
    try:
        return select_layers(requested, n_layers)
    except ValueError as exc:
        raise OptionError(f"--layers: {exc}") from None


def battery_sha256(battery: Battery) -> str:
    """Hash of a battery's items (stamps runs on batteries that are not read from a data source)."""
    import hashlib

    digest = hashlib.sha256()
    for item in battery.items:
        digest.update(item.model_dump_json().encode() + b"\n")
    return digest.hexdigest()


def as_release(source: Release | Battery | None) -> Release:
    """The answer key: the packaged release by default; a bare ``Battery`` is stamped with :func:`battery_sha256`."""
    if source is None:
        return load_release()
    if isinstance(source, Battery):
        return Release(battery=source, sha256=battery_sha256(source), source="in-memory battery")
    return source


def software_versions() -> dict[str, str]:
    """Versions of what produced the outputs."""
    import platform

    import sklearn
    import torch
    import transformers

    return {
        "aipsy-affect": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "scikit-learn": sklearn.__version__,
    }


def pooled_states(
    config: ExtractConfig, release: Release | Battery | None = None, *, log: Log | None = None, progress: bool = False
) -> Activations:
    """States of every hidden-state layer for every battery item: from the cache when it has them, else extracted
    (and cached). ``config.layers`` is checked against the model but not applied (see :meth:`Activations.select`).
    """
    from aipsy_affect.probe.backends import backend_head, require_backend
    from aipsy_affect.probe.extract import extract_states

    say = log or (lambda _m: None)
    rel = as_release(release)
    items = list(rel.battery.items)
    ids = [item.id for item in items]
    require_backend(config.backend)
    ref = resolve_model(config.model, config.revision, config.trust_remote_code)
    model_config = load_config(ref, config.trust_remote_code)
    causal = is_causal_decoder(model_config)
    pooling = config.pooling or ("last" if causal else "mean")
    n_expected = expected_hidden_layers(model_config)
    if n_expected is not None:
        checked_layers(config.layers, n_expected)  # a bad --layers fails now, not after the extraction
    device = resolve_device(config.device)
    dtype = resolve_dtype(config.dtype, device)
    prompts = [render_prompt(config.prompt, item) for item in items]
    cache = ActivationCache(config.cache_dir) if config.cache_dir is not None else None
    key: CacheKey | None = None
    if cache is not None and ref.revision is None:
        say(f"{ref.id}: the revision could not be pinned to a commit, so the activation cache is not used")
    elif cache is not None:
        hashed = [f"[chat-template]{p}" for p in prompts] if config.chat_template else prompts
        key = CacheKey(
            model_id=ref.id,
            revision=str(ref.revision),
            prompt=config.prompt,
            pooling=pooling,
            dtype=dtype,
            inputs_sha256=inputs_sha256(ids, hashed),
            backend=None if config.backend == "transformers" else config.backend,
        )
    hit = cache.load(key, ids) if (cache is not None and key is not None) else None
    entry = str(cache.path(key)) if (cache is not None and key is not None) else None
    timings: dict[str, float] = {}
    if hit is not None:
        states, meta = hit
        num_parameters = meta.get("num_parameters")
        timings["load_model_s"] = timings["extract_s"] = 0.0
        say(f"activations from cache {entry} (extraction skipped)")
    else:
        where = f"device_map={config.device_map}" if config.device_map else device
        say(f"loading {ref.id} from {ref.source} on {where} in {dtype} ({config.backend})")
        model = load_model(
            ref,
            device=device,
            dtype=dtype,
            device_map=config.device_map,
            trust_remote_code=config.trust_remote_code,
            head=backend_head(config.backend, causal),
        )
        num_parameters = model.num_parameters
        timings["load_model_s"] = model.seconds
        t0 = time.perf_counter()
        states = extract_states(
            model,
            prompts,
            pooling=pooling,
            batch_size=config.batch_size,
            ids=ids,
            max_length=config.max_length,
            chat_template=config.chat_template,
            backend=config.backend,
            progress=progress,
        )
        timings["extract_s"] = time.perf_counter() - t0
        say(
            f"extracted {states.shape[0]} layers x {states.shape[1]} texts x {states.shape[2]} dims in "
            f"{timings['extract_s']:.1f}s ({states.shape[1] / max(timings['extract_s'], 1e-9):.1f} texts/s)"
        )
        del model
        if cache is not None and key is not None:
            saved = cache.save(
                key,
                ids,
                states,
                {**software_versions(), "num_parameters": num_parameters, "extract_s": timings["extract_s"]},
            )
            say(f"activations cached in {saved}")
    return Activations(
        states=states,
        layers=list(range(states.shape[0])),
        items=items,
        ref=ref,
        pooling=pooling,
        prompt=config.prompt,
        chat_template=config.chat_template,
        backend=config.backend,
        dtype=dtype,
        dataset_sha256=rel.sha256,
        n_hidden_layers=int(states.shape[0]),
        num_parameters=int(num_parameters) if num_parameters else None,
        from_cache=hit is not None,
        cache_entry=entry,
        timings=timings,
    )


def extract_activations(
    model: str | ExtractConfig = "minilm",
    release: Release | Battery | None = None,
    *,
    log: Log | None = None,
    progress: bool = False,
    **options: Any,
) -> Activations:
    """Pooled states of the battery as arrays: ``extract_activations("minilm").states`` is [7, 672, 384].

    ``model`` is a name (then ``options`` are :class:`ExtractConfig` fields: ``pooling``, ``layers``, ``prompt``,
    ``backend``, ``chat_template``, ``device``, ...) or a whole ``ExtractConfig``. Uses the activation cache.
    """
    config = model if isinstance(model, ExtractConfig) else ExtractConfig(model=model, **options)
    acts = pooled_states(config, release, log=log, progress=progress)
    return acts.select(checked_layers(config.layers, acts.n_hidden_layers))


def _metadata(acts: Activations) -> dict[str, str]:
    return {
        "format": ACTIVATIONS_FORMAT,
        "ids": json.dumps(acts.ids),
        "splits": json.dumps([item.split for item in acts.items]),
        "emotions": json.dumps([item.emotion for item in acts.items]),
        "layers": json.dumps(acts.layers),
        "model_id": acts.ref.id,
        "model_revision": acts.ref.revision or "unpinned",
        "pooling": acts.pooling,
        "prompt": acts.prompt,
        "chat_template": json.dumps(acts.chat_template),
        "backend": acts.backend,
        "dtype": acts.dtype,
        "dataset_sha256": acts.dataset_sha256,
        "aipsy_affect_version": __version__,
    }


def save_activations(acts: Activations, path: str | Path) -> Path:
    """Write ``states`` [layers, items, hidden] and the metadata (strings; lists as JSON) to a safetensors file."""
    from safetensors.numpy import save

    from aipsy_affect.battery.io import write_atomic

    data = save({"states": np.ascontiguousarray(acts.states, dtype=np.float32)}, metadata=_metadata(acts))
    write_atomic(path, data)
    return Path(path)


def load_activations(path: str | Path) -> tuple[np.ndarray, dict[str, Any]]:
    """``(states, metadata)`` of an ``extract`` file, with the JSON fields decoded."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as fh:
        raw = fh.metadata() or {}
        states = fh.get_tensor("states")
    meta: dict[str, Any] = dict(raw)
    for name in ("ids", "splits", "emotions", "layers", "chat_template"):
        if name in meta:
            meta[name] = json.loads(meta[name])
    return states, meta
