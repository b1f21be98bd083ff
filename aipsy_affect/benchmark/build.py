"""Building a submission from your own NumPy arrays: :func:`submission_from_arrays`.

The helper takes the item ids, per-layer affect scores and category probabilities (one row per item, in the order
of the ids) and the folds the probe was trained with, and returns a checked :class:`Submission`. Make the folds with
:func:`aipsy_affect.grouped_folds` *before* training (a clinical vignette, its neutral, its moderate variant and its
twin share a fold), train each fold's probe on the other folds, and pass the out-of-fold outputs here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from aipsy_affect.battery.schema import EMOTIONS
from aipsy_affect.benchmark.checks import check_submission
from aipsy_affect.benchmark.format import FORMAT_VERSION, MethodInfo, ModelInfo, Submission
from aipsy_affect.errors import InputError, InputErrors

if TYPE_CHECKING:
    from aipsy_affect.battery.release import Release

__all__ = ["submission_from_arrays"]

_SOURCE = "<arrays>"


def _fail(field: str | None, message: str) -> InputErrors:
    return InputErrors([InputError(_SOURCE, None, field, message)])


def submission_from_arrays(
    item_ids: Sequence[str],
    affect: Any,
    category: Any = None,
    *,
    folds: Sequence[int] | Mapping[str, int] | np.ndarray,
    model: ModelInfo | Mapping[str, Any],
    method: MethodInfo | Mapping[str, Any] | None = None,
    layers: Sequence[int] | None = None,
    release: Release | None = None,
    submitter: str | None = None,
) -> Submission:
    """A checked submission from arrays; ``InputErrors`` saying what to change when something is off.

    ``affect`` is ``(layers, items)`` (or ``(items,)`` for one layer) and ``category`` ``(layers, items, 8)`` in the
    order of ``aipsy_affect.EMOTIONS``; rows of items without an emotion (neutral, complex_neutral) are not part of a
    submission and are dropped, so probabilities predicted for every item can be passed as they are. ``folds`` is
    one fold id per item (``grouped_folds(...)``) or a mapping id -> fold. ``layers`` numbers the layers (default
    0, 1, ...). ``release`` is the answer key (default: the packaged release), whose hash is stamped as the dataset
    revision.
    """
    from aipsy_affect.battery.release import packaged_release

    release = release or packaged_release()
    ids = [str(i) for i in item_ids]
    if len(set(ids)) != len(ids):
        raise _fail("item_ids", "item ids repeat; pass each item once, in the order of the array rows")
    scores = np.asarray(affect, dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[None]
    if scores.ndim != 2 or scores.shape[1] != len(ids):
        raise _fail(
            "affect",
            f"affect has shape {scores.shape} for {len(ids)} item ids; pass (layers, items) with "
            "one column per item, in item_ids order",
        )
    numbers = list(range(len(scores))) if layers is None else [int(n) for n in layers]
    if len(numbers) != len(scores):
        raise _fail("layers", f"{len(numbers)} layer numbers for {len(scores)} layers of affect scores")
    if isinstance(folds, Mapping):
        fold_of = {i: int(folds[i]) for i in ids if i in folds}
    else:
        fold_ids = np.asarray(folds)
        if fold_ids.shape != (len(ids),):
            raise _fail(
                "folds",
                f"folds has shape {fold_ids.shape} for {len(ids)} item ids; pass one fold id per "
                "item (aipsy_affect.grouped_folds(items, n_folds, seed) makes them)",
            )
        fold_of = {i: int(f) for i, f in zip(ids, fold_ids, strict=True)}
    emotion_of = {item.id: item.emotion for item in release.battery.items}
    affective = [k for k, i in enumerate(ids) if emotion_of.get(i) is not None]
    cat_rows: dict[str, Any] = {}
    if category is not None:
        probs = np.asarray(category, dtype=np.float64)
        if probs.ndim == 2:
            probs = probs[None]
        if probs.shape != (len(scores), len(ids), len(EMOTIONS)):
            raise _fail(
                "category",
                f"category has shape {probs.shape}; pass (layers, items, 8) probabilities in "
                f"the order of aipsy_affect.EMOTIONS ({', '.join(EMOTIONS)})",
            )
        cat_rows = {"probs": probs}
    out_layers = []
    for li, number in enumerate(numbers):
        layer: dict[str, Any] = {
            "layer": number,
            "affect": {i: float(v) for i, v in zip(ids, scores[li], strict=True)},
            "category": {
                ids[k]: dict(zip(EMOTIONS, map(float, cat_rows["probs"][li, k]), strict=True)) for k in affective
            }
            if cat_rows
            else {},
            "folds": fold_of,
        }
        out_layers.append(layer)
    info = (
        method
        if method is not None
        else {
            "name": "custom",
            "pooling": "unspecified",
            "prompt": "{text}",
            "cv_folds": max(2, len(set(fold_of.values()))),
            "cv_scheme": "pair-grouped stratified k-fold (aipsy_affect.grouped_folds)",
        }
    )
    from pydantic import ValidationError

    from aipsy_affect.benchmark.submission import located

    try:
        submission = Submission.model_validate(
            {
                "format_version": FORMAT_VERSION,
                "model": model,
                "method": info,
                "dataset": {"revision": release.sha256},
                "layers": out_layers,
                "submitter": submitter,
            }
        )
    except ValidationError as exc:
        raise InputErrors(located(_SOURCE, exc)) from None
    errors = check_submission(submission, release.battery, source=_SOURCE, dataset_revision=release.sha256)
    if errors:
        raise InputErrors(errors)
    return submission
