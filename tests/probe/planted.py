"""Synthetic hidden states with a planted signal, shared by the probe tests."""

from __future__ import annotations

import numpy as np

from aipsy_affect.battery.schema import EMOTIONS, Battery


def planted_features(battery: Battery, signal: float, seed: int = 0) -> np.ndarray:
    """Noise plus an affect offset on dimension 0 for items with an emotion, and one dimension per emotion."""
    rng = np.random.default_rng(seed)
    items = list(battery.items)
    X = rng.normal(size=(len(items), 24))
    for k, item in enumerate(items):
        if item.emotion is not None:
            X[k, 0] += signal
            X[k, 1 + EMOTIONS.index(item.emotion)] += signal
    return X


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """AUROC of positives over negatives, by scikit-learn (an independent reference for the package's own)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg]))
