"""The probes: per layer and fold, fitted on the training folds only, scored on the held-out fold.

Two methods, one output shape (:class:`LayerProbe`):

* ``logistic``: ``StandardScaler`` + L2 logistic regression (affect: binary, log-odds out; category: 8-way
  multinomial, softmax out).
* ``mass-mean``: the difference-in-means ("mass-mean") direction ``theta = mean(affective) - mean(control)`` of
  the training items; affect = projection of ``x - (mean(affective) + mean(control)) / 2`` on ``theta / |theta|``
  (positive on the affective side). Category = nearest class mean: softmax over the eight emotions of
  ``-|x - mean_c|^2 / s``, where ``s`` is the mean squared distance of the training items to their own class
  mean (a scale, so the probabilities are neither all-or-nothing nor uniform; the ranking is the nearest-mean
  rule's). No hyperparameter, no standardisation: what it measures is the raw geometry of the states.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aipsy_affect.battery.schema import EMOTIONS, MAIN_SPLITS, StimulusItem

__all__ = ["LayerProbe", "fit_all_layers", "fit_layer_probes", "fit_mass_mean_probes", "training_masks"]


def training_masks(items: Sequence[StimulusItem], scheme: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(affect label, affect-training mask, category-training mask) for the scheme (see ``ProbeConfig``)."""
    split = np.array([item.split for item in items])
    label = np.isin(split, ("clinical", "moderate", "keyword_twins")).astype(np.int64)
    if scheme == "pairs":
        affect_train = np.isin(split, ("clinical", "neutral"))
        category_train = split == "clinical"
    elif scheme == "all":
        affect_train = np.isin(split, MAIN_SPLITS)
        category_train = np.isin(split, ("clinical", "moderate"))
    else:
        raise ValueError(f"unknown affect scheme {scheme!r}")
    return label, affect_train, category_train


def emotion_indices(items: Sequence[StimulusItem]) -> np.ndarray:
    """Index into ``EMOTIONS`` of each item's emotion; -1 for items without one."""
    return np.array([EMOTIONS.index(it.emotion) if it.emotion else -1 for it in items])


@dataclass
class LayerProbe:
    """Out-of-fold outputs of one layer."""

    layer: int
    affect: np.ndarray
    """Affect score for every item, [items] (logistic: log-odds; mass-mean: projection)."""
    category: np.ndarray
    """8-way probabilities in ``EMOTIONS`` order, [items, 8]; NaN rows for items without an emotion."""
    converged: bool = True
    """False when some fit hit the iteration limit."""


def _probe_pipeline(C: float, seed: int) -> object:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000, random_state=seed))


def fit_layer_probes(
    X: np.ndarray,
    items: Sequence[StimulusItem],
    folds: np.ndarray,
    *,
    layer: int,
    C: float = 1.0,
    seed: int = 0,
    scheme: str = "pairs",
) -> LayerProbe:
    """Out-of-fold affect log-odds and category probabilities for one layer's pooled states ``X`` [items, dim].

    For fold k, both probes are fitted on the training items outside fold k (scaler included) and predict every
    item in fold k, whether or not its split is trained on: twins and untrained splits are transfer tests.
    """
    from sklearn.exceptions import ConvergenceWarning

    label, affect_train, category_train = training_masks(items, scheme)
    emotion_idx = emotion_indices(items)
    has_emotion = emotion_idx >= 0
    affect = np.full(len(items), np.nan)
    category = np.full((len(items), len(EMOTIONS)), np.nan)
    converged = True
    for k in np.unique(folds):
        test = folds == k
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            tr = affect_train & ~test
            clf = _probe_pipeline(C, seed).fit(X[tr], label[tr])  # type: ignore[attr-defined]
            # Log-odds rather than probabilities: no saturation at exactly 0 or 1, hence no artificial ties.
            affect[test] = clf.decision_function(X[test])
            tr = category_train & ~test
            clf = _probe_pipeline(C, seed).fit(X[tr], emotion_idx[tr])  # type: ignore[attr-defined]
            if list(clf.classes_) != list(range(len(EMOTIONS))):
                raise ValueError(f"fold {k}: the category probe's training data lacks some emotions")
            sel = test & has_emotion
            if sel.any():
                category[sel] = clf.predict_proba(X[sel])
        converged &= not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return LayerProbe(layer=layer, affect=affect, category=category, converged=converged)


def mass_mean_direction(X: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(theta, midpoint)``: difference of the class means and the point halfway between them."""
    mu_pos = X[positive].mean(axis=0, dtype=np.float64)
    mu_neg = X[negative].mean(axis=0, dtype=np.float64)
    return mu_pos - mu_neg, (mu_pos + mu_neg) / 2


def class_means(X: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean state of each emotion among ``mask`` items, [8, dim]; raises when an emotion has no item."""
    rows = []
    for c in range(len(EMOTIONS)):
        sel = mask & (labels == c)
        if not sel.any():
            raise ValueError(f"no training item of emotion {EMOTIONS[c]!r}")
        rows.append(X[sel].mean(axis=0, dtype=np.float64))
    return np.stack(rows)


def nearest_mean_probabilities(X: np.ndarray, means: np.ndarray, scale: float) -> np.ndarray:
    """Softmax over classes of ``-|x - mean_c|^2 / scale``, [items, classes]."""
    d2 = ((X[:, None, :].astype(np.float64) - means[None, :, :]) ** 2).sum(axis=2)
    logits = -d2 / scale
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def fit_mass_mean_probes(
    X: np.ndarray, items: Sequence[StimulusItem], folds: np.ndarray, *, layer: int, scheme: str = "pairs"
) -> LayerProbe:
    """Out-of-fold mass-mean affect projections and nearest-class-mean category probabilities (module docstring)."""
    label, affect_train, category_train = training_masks(items, scheme)
    emotion_idx = emotion_indices(items)
    has_emotion = emotion_idx >= 0
    affect = np.full(len(items), np.nan)
    category = np.full((len(items), len(EMOTIONS)), np.nan)
    for k in np.unique(folds):
        test = folds == k
        tr = affect_train & ~test
        theta, mid = mass_mean_direction(X, tr & (label == 1), tr & (label == 0))
        norm = float(np.linalg.norm(theta))
        if norm == 0:
            raise ValueError(f"layer {layer}, fold {k}: the two class means coincide")
        affect[test] = (X[test] - mid) @ (theta / norm)
        tr = category_train & ~test
        means = class_means(X, emotion_idx, tr)
        own = ((X[tr] - means[emotion_idx[tr]]) ** 2).sum(axis=1)
        scale = float(own.mean()) or 1.0
        sel = test & has_emotion
        if sel.any():
            category[sel] = nearest_mean_probabilities(X[sel], means, scale)
    return LayerProbe(layer=layer, affect=affect, category=category)


def fit_all_layers(
    states: np.ndarray,
    layers: Sequence[int],
    items: Sequence[StimulusItem],
    folds: np.ndarray,
    *,
    C: float,
    seed: int,
    scheme: str,
    method: str = "logistic",
) -> list[LayerProbe]:
    """The chosen method's probes for each layer, one layer per CPU core (the result does not depend on it)."""
    from joblib import Parallel, delayed
    from threadpoolctl import threadpool_limits

    if method == "mass-mean":
        return [fit_mass_mean_probes(states[layer], items, folds, layer=layer, scheme=scheme) for layer in layers]
    if method != "logistic":
        raise ValueError(f"unknown probe method {method!r}")
    jobs = max(1, min(len(layers), os.cpu_count() or 1))
    # The fits are small (hundreds of rows): multi-threaded BLAS/OpenMP inside each fit costs more in thread
    # hand-offs than it gains, and on a busy machine it was 10-40x slower (measured); parallelise over layers.
    with threadpool_limits(limits=1):
        return list(
            Parallel(n_jobs=jobs, prefer="threads")(
                delayed(fit_layer_probes)(states[layer], items, folds, layer=layer, C=C, seed=seed, scheme=scheme)
                for layer in layers
            )
        )
