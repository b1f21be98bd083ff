"""Pair-grouped, emotion-stratified folds: the cross-validation every probe, floor and scorer shares.

A clinical vignette, its matched neutral, its moderate variant and its keyword twin always land in the same fold,
so no model is ever scored on an item whose near-duplicate it was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aipsy_affect.battery.schema import StimulusItem

__all__ = ["grouped_folds", "pair_group"]


def pair_group(item: StimulusItem) -> str:
    """The clinical vignette an item belongs with: its pair, moderate variant and keyword twin share one group."""
    if item.split == "clinical":
        return item.id
    if item.split == "neutral":
        return str(item.matched_control_id)
    if item.split in ("moderate", "keyword_twins") and item.peak_id is not None:
        return str(item.peak_id)
    # complex_neutral items stand alone, and so do moderates and controls that name no vignette (the published
    # layout's moderates, an unpaired keyword control)
    return item.id


def grouped_folds(items: Sequence[StimulusItem], n_folds: int, seed: int) -> np.ndarray:
    """Fold id per item: whole groups (see :func:`pair_group`) are assigned to folds, stratified by emotion.

    Groups are ordered by id before shuffling, so the assignment depends on the seed and the battery, not on the
    order the items come in.
    """
    from sklearn.model_selection import StratifiedKFold

    groups = [pair_group(item) for item in items]
    strata: dict[str, str] = {}
    for item, g in zip(items, groups, strict=True):
        if item.split == "clinical" or (g == item.id and item.emotion is not None):
            strata[g] = str(item.emotion)
        elif item.split == "complex_neutral":
            strata[g] = "complex_neutral"
    missing = sorted(set(groups) - set(strata))
    if missing:
        raise ValueError(f"items belong with clinical vignettes that are not in the battery: {', '.join(missing[:5])}")
    names = sorted(strata)
    labels = [strata[g] for g in names]
    smallest = min(labels.count(lab) for lab in set(labels))
    if n_folds > smallest:
        raise ValueError(f"--folds {n_folds} is more than the {smallest} groups of the rarest stratum")
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    fold_of: dict[str, int] = {}
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(names)), labels)):
        for i in test:
            fold_of[names[i]] = k
    return np.array([fold_of[g] for g in groups], dtype=np.int64)
