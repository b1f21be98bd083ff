"""Cross-validated layer selection: the headline scores that do not peek.

Picking the best layer on the same items it is scored on inflates the score (pure noise over 48 layers scores about
0.55). Here the scorer splits the matched pairs into ``OUTER_FOLDS`` outer folds of its own (stratified by emotion,
fixed, independent of the bootstrap seed). For each outer fold the layer is chosen by the metric on the *other*
folds' items only, and that fold's items are scored at the chosen layer.

Outputs of different layers live on different scales, so a positive from one fold is never compared with a
negative from another: only **within-fold** positive/negative comparisons count, pooled over the folds. That is the
average of the per-fold AUROCs weighted by each fold's number of comparisons (the folds are stratified, so the
weights are nearly equal), and it keeps the bootstrap algebra of :mod:`aipsy_affect.benchmark.metrics`: every sum
is ``w_pos' C w_neg`` over a fold's block of the comparison matrix. docs/scoring.md explains why this was chosen
over pooling per-fold ranks.

The pair bootstrap repeats the selection: in every resample the layer of each fold is chosen again on that
resample's weighted items of the other folds. Row 0 of the weights is all ones (the point estimate), so the point
estimate and every resample run through the same code.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aipsy_affect.benchmark.metrics import compare

__all__ = [
    "OUTER_FOLDS",
    "BinaryTask",
    "Headline",
    "TaskSums",
    "cross_validated",
    "outer_folds",
    "task_sums",
    "with_point_row",
]

#: Number of outer folds of the layer selection.
OUTER_FOLDS = 5
#: Rows of weights processed at once (bounds memory for large ``n_bootstrap``).
_ROWS = 1024


def outer_folds(ids: Sequence[str], labels: np.ndarray, n_folds: int = OUTER_FOLDS) -> np.ndarray:
    """Outer fold of each clinical item (= each matched pair): stratified by emotion, the same for every run.

    Items are ordered by emotion and then by a hash of their id, and dealt to the folds in turn, so every fold
    holds every emotion (four or five items of each in the 192-item battery) and no fold depends on file order.
    """
    order = sorted(range(len(ids)), key=lambda i: (int(labels[i]), hashlib.sha256(ids[i].encode()).hexdigest()))
    folds = np.empty(len(ids), dtype=np.int64)
    for position, item in enumerate(order):
        folds[item] = position % n_folds
    return folds


@dataclass(frozen=True)
class BinaryTask:
    """Positives against negatives, per layer, with each item's outer fold and bootstrap unit (its pair)."""

    pos: np.ndarray
    """Scores of the positives, (layers, P)."""
    neg: np.ndarray
    """Scores of the negatives, (layers, N)."""
    pos_fold: np.ndarray
    """Outer fold of each positive."""
    neg_fold: np.ndarray
    """Outer fold of each negative."""
    pos_unit: np.ndarray
    """Bootstrap unit (pair index) of each positive: its column of the weight matrix."""
    neg_unit: np.ndarray
    """Bootstrap unit of each negative."""


@dataclass(frozen=True)
class Headline:
    """A cross-validated headline score, its bootstrap draws and the layers the folds chose."""

    point: float
    """The score with every pair counted once."""
    draws: np.ndarray
    """The score in every bootstrap resample (selection repeated), shape (n_bootstrap,)."""
    fold_layers: list[int]
    """Position (into the layer axis) of the layer each outer fold chose, for the point estimate."""


@dataclass(frozen=True)
class TaskSums:
    """Weighted comparison sums of one task for every weight row: all pairs, and within each outer fold."""

    full_num: np.ndarray
    """``w_pos' C w_neg`` over every positive/negative pair, (layers, rows)."""
    full_den: np.ndarray
    """``sum w_pos * sum w_neg``, (rows,)."""
    fold_num: np.ndarray
    """The same over the pairs inside each outer fold, (layers, rows, folds)."""
    fold_den: np.ndarray
    """Within-fold comparison weights, (rows, folds)."""

    def full_auroc(self) -> np.ndarray:
        """The in-sample AUROC of every layer and row, (layers, rows)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.full_num / self.full_den[None]


def _weighted(comparisons: np.ndarray, w_pos: np.ndarray, w_neg: np.ndarray) -> np.ndarray:
    """``sum_ij w_pos[r, i] C[l, i, j] w_neg[r, j]`` for every layer and row: (L, P, N) -> (L, rows).

    float32 sums are exact here (multiples of 1/2 far below 2**24). The GEMM contracts the longer side first when
    the sides differ a lot (one emotion against the seven others): its output is then small; for square blocks
    (vignettes against their neutrals) one GEMM over all layers and a batched matrix-vector product is faster.
    """
    n_layers, n_pos, n_neg = comparisons.shape
    if n_neg >= 2 * n_pos:
        partial = (comparisons.reshape(n_layers * n_pos, n_neg) @ w_neg.T).reshape(n_layers, n_pos, len(w_neg))
        return np.einsum("lpr,rp->lr", partial, w_pos).astype(np.float64)
    flat = np.ascontiguousarray(comparisons.transpose(1, 0, 2)).reshape(n_pos, n_layers * n_neg)
    partial = (w_pos @ flat).reshape(len(w_pos), n_layers, n_neg)
    return np.matmul(partial, w_neg[:, :, None])[..., 0].T.astype(np.float64)


def task_sums(task: BinaryTask, rows: np.ndarray, n_folds: int = OUTER_FOLDS) -> TaskSums:
    """:class:`TaskSums` of ``task`` for the weight ``rows`` (rows, units).

    The in-sample sums take one GEMM over every comparison; the within-fold sums one per fold over that fold's
    block only, a fifth of the comparisons in all. So the cross-validated headline costs little more than the
    per-layer bootstrap CIs it shares the comparison matrix with.
    """
    comparisons = compare(task.pos, task.neg).astype(np.float32)
    n_layers = comparisons.shape[0]
    w_pos_all, w_neg_all = rows[:, task.pos_unit], rows[:, task.neg_unit]
    full_num = np.zeros((n_layers, len(rows)))
    fold_num = np.zeros((n_layers, len(rows), n_folds))
    fold_den = np.zeros((len(rows), n_folds))
    blocks = [(task.pos_fold == g, task.neg_fold == g) for g in range(n_folds)]
    fold_blocks = [
        (g, pm, nm, comparisons[:, pm][:, :, nm]) for g, (pm, nm) in enumerate(blocks) if pm.any() and nm.any()
    ]
    for start in range(0, len(rows), _ROWS):
        stop = min(start + _ROWS, len(rows))
        w_pos, w_neg = w_pos_all[start:stop], w_neg_all[start:stop]
        full_num[:, start:stop] = _weighted(comparisons, w_pos, w_neg)
        for g, pm, nm, block in fold_blocks:
            fold_num[:, start:stop, g] = _weighted(block, w_pos[:, pm], w_neg[:, nm])
            fold_den[start:stop, g] = w_pos[:, pm].sum(axis=1, dtype=np.float64) * w_neg[:, nm].sum(
                axis=1, dtype=np.float64
            )
    full_den = w_pos_all.sum(axis=1, dtype=np.float64) * w_neg_all.sum(axis=1, dtype=np.float64)
    return TaskSums(full_num, full_den, fold_num, fold_den)


def cross_validated(sums: Sequence[TaskSums]) -> Headline:
    """The macro (over tasks) cross-validated AUROC of every weight row: row 0 the point estimate, the rest draws.

    For each outer fold the layer with the best macro AUROC on the other folds' within-fold comparisons is chosen
    (earliest on ties; a layer with nothing to score is never chosen), then that fold's comparisons at that layer
    are pooled with the other folds' at theirs.
    """
    num = np.stack([s.fold_num for s in sums])  # (tasks, layers, rows, folds)
    den = np.stack([s.fold_den for s in sums])  # (tasks, rows, folds)
    # Leave-one-fold-out totals by subtraction: every sum is a multiple of 1/2, so float64 keeps it exact.
    train_num = num.sum(axis=-1, keepdims=True) - num
    train_den = den.sum(axis=-1, keepdims=True) - den
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        # A task with no comparisons in some resample drops out of the macro mean ("mean of empty slice").
        warnings.simplefilter("ignore", RuntimeWarning)
        train = np.nanmean(train_num / train_den[:, None], axis=0)  # (layers, rows, folds)
        chosen = np.argmax(np.where(np.isnan(train), -np.inf, train), axis=0)  # (rows, folds)
        held = np.take_along_axis(num, chosen[None, None], axis=1)[:, 0]  # (tasks, rows, folds)
        scores = np.nanmean(held.sum(axis=-1) / den.sum(axis=-1), axis=0)  # (rows,)
    return Headline(point=float(scores[0]), draws=scores[1:], fold_layers=[int(x) for x in chosen[0]])


def with_point_row(weights: np.ndarray) -> np.ndarray:
    """``weights`` with a row of ones on top: row 0 of every sum is then the point estimate."""
    return np.vstack([np.ones((1, weights.shape[1]), dtype=weights.dtype), weights])
