"""Steering directions: per-layer difference-in-means vectors fitted on all matched pairs.

For each hidden-state layer, over the 192 (clinical vignette, matched neutral) pairs:

* ``affect`` [layers, hidden] = mean over pairs of (vignette state - neutral state): adding it to a neutral's
  state moves it, on average, onto its vignette's state (that is its scale; it is not normalised).
* ``emotions`` [layers, 8, hidden] = the same mean over the pairs of one emotion (``EMOTIONS`` order).

These are fitted on every pair (for steering), unlike ``probe --method mass-mean``, whose directions are fitted
in-fold (for scoring). Pooling and prompt are those of the states they come from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aipsy_affect._version import __version__
from aipsy_affect.battery.schema import EMOTIONS, StimulusItem
from aipsy_affect.probe.activations import Activations

__all__ = ["DIRECTIONS_FORMAT", "Directions", "fit_directions", "pair_indices", "save_directions"]

DIRECTIONS_FORMAT = "aipsy-affect-directions/1"


@dataclass
class Directions:
    """Per-layer steering directions and where they came from."""

    affect: np.ndarray
    """[layers, hidden] mean of (vignette - matched neutral) over all pairs."""
    emotions: np.ndarray
    """[layers, 8, hidden] the same mean within each emotion, in ``EMOTIONS`` order."""
    layers: list[int]
    """Hidden-state layer of each row."""
    n_pairs: int
    """Pairs the means are over."""
    source: Activations
    """The states they were fitted on (model, pooling, prompt, dataset hash)."""


def pair_indices(items: list[StimulusItem]) -> tuple[np.ndarray, np.ndarray]:
    """``(vignette, neutral)`` index arrays: row ``k`` of each is one matched pair, in clinical-item order."""
    index = {item.id: k for k, item in enumerate(items)}
    clinical = [k for k, item in enumerate(items) if item.split == "clinical"]
    neutral = []
    for k in clinical:
        partner = items[k].matched_control_id
        if partner not in index:
            raise ValueError(f"{items[k].id}: its matched neutral {partner!r} is not among the items")
        neutral.append(index[partner])
    return np.array(clinical, dtype=np.int64), np.array(neutral, dtype=np.int64)


def fit_directions(acts: Activations) -> Directions:
    """Affect and per-emotion difference-in-means directions for every layer in ``acts``."""
    vig, neu = pair_indices(acts.items)
    diff = acts.states[:, vig, :].astype(np.float64) - acts.states[:, neu, :]
    emotion = np.array([EMOTIONS.index(str(acts.items[k].emotion)) for k in vig])
    per = []
    for c in range(len(EMOTIONS)):
        if not (emotion == c).any():
            raise ValueError(f"no pair of emotion {EMOTIONS[c]!r} among the items")
        per.append(diff[:, emotion == c, :].mean(axis=1))
    return Directions(
        affect=diff.mean(axis=1).astype(np.float32),
        emotions=np.stack(per, axis=1).astype(np.float32),
        layers=list(acts.layers),
        n_pairs=len(vig),
        source=acts,
    )


def save_directions(directions: Directions, path: str | Path) -> Path:
    """Write ``affect`` and ``emotions`` with their metadata (strings; lists as JSON) to a safetensors file."""
    from safetensors.numpy import save

    from aipsy_affect.battery.io import write_atomic

    src = directions.source
    meta = {
        "format": DIRECTIONS_FORMAT,
        "layers": json.dumps(directions.layers),
        "emotions": json.dumps(list(EMOTIONS)),
        "n_pairs": str(directions.n_pairs),
        "definition": "mean over matched pairs of (clinical vignette state - matched neutral state); emotions: "
        "the same mean within each emotion",
        "model_id": src.ref.id,
        "model_revision": src.ref.revision or "unpinned",
        "pooling": src.pooling,
        "prompt": src.prompt,
        "chat_template": json.dumps(src.chat_template),
        "backend": src.backend,
        "dtype": src.dtype,
        "dataset_sha256": src.dataset_sha256,
        "aipsy_affect_version": __version__,
    }
    data = save(
        {"affect": np.ascontiguousarray(directions.affect), "emotions": np.ascontiguousarray(directions.emotions)},
        metadata=meta,
    )
    write_atomic(path, data)
    return Path(path)
