"""The metric primitives: AUROC from comparison matrices, macro one-vs-rest AUROC, top-1, the balanced threshold,
and the pair bootstrap as item weights.

Every AUROC is the Mann-Whitney probability that a random positive scores above a random negative, ties counting
one half: exactly ``sklearn.metrics.roc_auc_score`` (midranks), computed from the comparison matrix ``C`` so that
one matrix product also gives every bootstrap resample. A resample only re-weights items, so its AUROC is
``w_pos' C w_neg / (sum w_pos * sum w_neg)``: nothing is re-sorted or materialised.

Only NumPy is imported here.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "auroc",
    "balanced_threshold",
    "bootstrap_auroc",
    "compare",
    "macro_ovr_auroc",
    "pair_bootstrap_weights",
    "percentile_ci",
    "top1_accuracy",
    "weighted_comparisons",
]

#: Resamples are processed in blocks of this many, so memory stays bounded whatever ``n_bootstrap`` is.
_BLOCK = 1024


def compare(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """``C[..., i, j]`` = 1 if pos_i > neg_j, 1/2 if equal, 0 if below (batched over leading axes)."""
    p = pos[..., :, None]
    n = neg[..., None, :]
    return (p > n).astype(np.float64) + 0.5 * (p == n)


def auroc(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUROC of positives ``pos`` against negatives ``neg`` along the last axis (batched over the others)."""
    pos = np.asarray(pos, dtype=np.float64)
    neg = np.asarray(neg, dtype=np.float64)
    if pos.shape[-1] == 0 or neg.shape[-1] == 0:
        raise ValueError("AUROC needs at least one positive and one negative")
    return compare(pos, neg).mean(axis=(-2, -1))


def macro_ovr_auroc(probs: np.ndarray, labels: np.ndarray, n_classes: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Macro one-vs-rest AUROC of ``probs[..., item, class]`` for integer ``labels``; also each class's AUROC.

    Classes with no positive item are left out of the mean (sklearn refuses them; the battery has none).
    """
    per_class = []
    for k in range(n_classes):
        mask = labels == k
        if not mask.any() or mask.all():
            per_class.append(np.full(probs.shape[:-2], np.nan))
            continue
        per_class.append(auroc(probs[..., mask, k], probs[..., ~mask, k]))
    stacked = np.stack(per_class, axis=-1)
    return np.nanmean(stacked, axis=-1), stacked


def top1_accuracy(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Top-1 accuracy along the item axis; an item whose true class ties k others for the top scores 1/(k+1)."""
    top = probs.max(axis=-1, keepdims=True)
    is_top = probs == top
    hit = np.take_along_axis(is_top, np.broadcast_to(labels[:, None], (*probs.shape[:-1], 1)), axis=-1)[..., 0]
    return (hit / is_top.sum(axis=-1)).mean(axis=-1)


def balanced_threshold(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """The threshold (score >= t is positive) that maximises balanced accuracy, and that accuracy.

    Candidates are the distinct pooled scores; among maximisers the middle one is taken, and the threshold
    is placed midway between it and the next lower pooled score, so it sits in the gap, not on an item.
    The midpoint is ``a/2 + b/2``: ``(a + b)/2`` overflows to infinity for scores near the float limit.
    """
    pooled = np.unique(np.concatenate([pos, neg]))
    pos_sorted, neg_sorted = np.sort(pos), np.sort(neg)
    tpr = 1.0 - np.searchsorted(pos_sorted, pooled, side="left") / len(pos)
    fpr = 1.0 - np.searchsorted(neg_sorted, pooled, side="left") / len(neg)
    balanced = (tpr + 1.0 - fpr) / 2.0
    best = np.flatnonzero(balanced == balanced.max())
    k = int(best[(len(best) - 1) // 2])
    threshold = pooled[k] if k == 0 else pooled[k] / 2.0 + pooled[k - 1] / 2.0
    return float(threshold), float(balanced[k])


def percentile_ci(samples: np.ndarray, level: float) -> np.ndarray:
    """Percentile interval along the last axis (``[..., 2]``), ignoring resamples that could not be scored (NaN)."""
    alpha = (1.0 - level) / 2.0
    return np.moveaxis(np.nanquantile(samples, [alpha, 1.0 - alpha], axis=-1), 0, -1)


def pair_bootstrap_weights(n_pairs: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """``W[b, i]`` = how often pair ``i`` is drawn in resample ``b`` (each row sums to ``n_pairs``)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_pairs, size=(n_bootstrap, n_pairs))
    offsets = (np.arange(n_bootstrap) * n_pairs)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=n_bootstrap * n_pairs)
    # float32 is exact here: every sum below is a multiple of 1/2 far under 2**24.
    return counts.reshape(n_bootstrap, n_pairs).astype(np.float32)


def weighted_comparisons(comparisons: np.ndarray, w_pos: np.ndarray, w_neg: np.ndarray) -> np.ndarray:
    """``sum_ij w_pos[b, i] C[l, i, j] w_neg[b, j]`` for every layer and weight row: (L, P, N) -> (L, B)."""
    n_layers, n_pos, n_neg = comparisons.shape
    # One GEMM over all layers at once: (B, P) @ (P, L*N); a broadcast batched matmul is many times slower.
    flat = np.ascontiguousarray(comparisons.transpose(1, 0, 2), dtype=np.float32).reshape(n_pos, n_layers * n_neg)
    out = np.empty((n_layers, len(w_pos)), dtype=np.float64)
    for start in range(0, len(w_pos), _BLOCK):
        stop = start + _BLOCK
        partial = (w_pos[start:stop] @ flat).reshape(-1, n_layers, n_neg)
        # The float32 sums are exact (multiples of 1/2 far under 2**24); the caller divides in float64.
        out[:, start:stop] = np.einsum("bln,bn->lb", partial, w_neg[start:stop])
    return out


def bootstrap_auroc(comparisons: np.ndarray, w_pos: np.ndarray, w_neg: np.ndarray) -> np.ndarray:
    """Weighted AUROC for every layer and resample: ``comparisons`` (L, P, N), weights (B, P) and (B, N) -> (L, B)."""
    num = weighted_comparisons(comparisons, w_pos, w_neg)
    den = w_pos.sum(axis=1, dtype=np.float64) * w_neg.sum(axis=1, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den[None]
