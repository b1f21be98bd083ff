"""Synthetic, valid submissions for the scoring and leaderboard tests (made, not measured: no real probe ran)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from synthetic import synthetic_records

from aipsy_affect.battery.schema import EMOTIONS, Battery, StimulusItem


def synthetic_battery(seed: int = 0) -> Battery:
    """The full-size synthetic battery of tests/synthetic.py as a ``Battery``."""
    records = synthetic_records(seed)
    return Battery(items=tuple(StimulusItem.model_validate(r) for split in records.values() for r in split))


def _softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def make_submission_dict(
    battery: Battery,
    *,
    n_layers: int = 4,
    seed: int = 0,
    twins: bool = True,
    twin_category: bool = True,
    decimals: int | None = None,
    model_id: str = "synthetic/probe-model",
    n_folds: int = 5,
) -> dict[str, Any]:
    """A valid submission whose signal rises then falls over layers; ``decimals`` rounds scores to force ties."""
    rng = np.random.default_rng(seed)
    emo = {e: k for k, e in enumerate(EMOTIONS)}
    clinical = battery.split("clinical")
    fold_of_family = {c.id: int(f) for c, f in zip(clinical, rng.permutation(len(clinical)) % n_folds, strict=False)}
    splits = ["clinical", "neutral", "moderate", "complex_neutral"] + (["keyword_twins"] if twins else [])
    items = [item for s in splits for item in battery.split(s)]

    def family(item: StimulusItem) -> str:
        if item.split == "neutral":
            return str(item.matched_control_id)
        if item.split in ("moderate", "keyword_twins"):
            return str(item.peak_id)
        return item.id

    folds = {i.id: fold_of_family.get(family(i), int(rng.integers(n_folds))) for i in items}
    level = {"clinical": 1.0, "keyword_twins": 1.3, "moderate": 0.6, "neutral": 0.0, "complex_neutral": 0.15}
    cat_items = [
        i for i in items if i.split in ("clinical", "moderate") or (twin_category and i.split == "keyword_twins")
    ]
    layers = []
    for layer in range(n_layers):
        strength = 0.3 + 2.5 * np.sin(np.pi * (layer + 0.5) / n_layers)
        affect = {i.id: float(strength * level[i.split] + rng.normal()) for i in items}
        onehot = np.zeros((len(cat_items), len(EMOTIONS)))
        onehot[np.arange(len(cat_items)), [emo[str(i.emotion)] for i in cat_items]] = 1.0
        probs = _softmax(0.8 * strength * onehot + rng.normal(size=onehot.shape))
        if decimals is not None:
            affect = {k: round(v, decimals) for k, v in affect.items()}
            # Round, then put the rounding error on the largest entry so each row still sums to 1.
            probs = np.round(probs, decimals)
            probs[np.arange(len(probs)), probs.argmax(axis=1)] += 1.0 - probs.sum(axis=1)
            probs = np.round(probs, decimals)
        category = {
            i.id: {e: float(p) for e, p in zip(EMOTIONS, row, strict=False)}
            for i, row in zip(cat_items, probs, strict=False)
        }
        layers.append({"layer": layer, "affect": affect, "category": category, "folds": dict(folds)})
    return {
        "format_version": 1,
        "model": {"id": model_id, "revision": "0123456789abcdef0123456789abcdef01234567", "dtype": "float32"},
        "method": {
            "name": "logistic-regression",
            "pooling": "mean",
            "prompt": "{text}",
            "cv_folds": n_folds,
            "cv_scheme": "pair-grouped stratified k-fold",
            "seed": seed,
        },
        "layers": layers,
    }


def write_submission(path: Any, data: dict[str, Any]) -> None:
    """Write a submission dict as JSON (stdlib json: NaN stays a bare NaN token, as a careless writer would)."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
