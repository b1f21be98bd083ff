"""Scoring a submission against the answer key: per-layer metrics with pair-bootstrap CIs, and the headline scores.

Per layer (in-sample, every item): affect reception, dose-response, discriminant validity, the balanced threshold
and its false-positive rates, emotion categorization (macro one-vs-rest AUROC and top-1), keyword sensitivity.

Headline (``main_score``): emotion-categorization macro one-vs-rest AUROC with **cross-validated layer selection**
(:mod:`aipsy_affect.benchmark.selection`): the layer of each outer fold is chosen on the other folds' items, and the
pair bootstrap repeats the choice. The affect headline (``affect_score``) is computed the same way. The in-sample
best layer and its score are reported separately as ``best_layer`` / ``best_layer_score``: optimistic, because the
layer was chosen on the items it is scored on. docs/scoring.md gives the reasons.

Only NumPy and pydantic are imported here (pandas only inside :meth:`ScoreReport.to_pandas`), so
``aipsy-affect score`` starts fast.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ValidationError

from aipsy_affect.battery.schema import EMOTIONS
from aipsy_affect.benchmark.checks import check_submission
from aipsy_affect.benchmark.format import TWIN_SPLIT, Submission
from aipsy_affect.benchmark.metrics import (
    balanced_threshold,
    compare,
    macro_ovr_auroc,
    pair_bootstrap_weights,
    percentile_ci,
    top1_accuracy,
)
from aipsy_affect.benchmark.report import MAIN_METRIC, SCORE_VERSION, LayerScores, ScoreReport
from aipsy_affect.benchmark.selection import (
    BinaryTask,
    Headline,
    cross_validated,
    outer_folds,
    task_sums,
    with_point_row,
)
from aipsy_affect.benchmark.text import format_table
from aipsy_affect.errors import InputError, InputErrors, OptionError

if TYPE_CHECKING:
    from aipsy_affect.battery.release import Release
    from aipsy_affect.battery.schema import Battery

DEFAULT_BOOTSTRAP = 1000
#: Fewer resamples cannot place a 95% percentile interval (with 1, the CI excludes its own estimate).
MIN_BOOTSTRAP = 100
#: More resamples add nothing a researcher can see and only cost time and memory.
MAX_BOOTSTRAP = 20_000
DEFAULT_SEED = 0
MAX_SEED = 2**63 - 1
DEFAULT_CI = 0.95

# --- the answer key --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoringKey:
    """Index lists the metrics need, derived once from the answer key."""

    clinical: list[str]
    """Clinical ids, in battery order (one per matched pair: the bootstrap's units)."""
    neutral: list[str]
    """Each clinical item's matched neutral, aligned with ``clinical``."""
    all_neutral: list[str]
    """Every neutral id (moderate is compared against all of them)."""
    moderate: list[str]
    """Moderate ids."""
    moderate_peak: list[str]
    """Each moderate item's clinical peak; empty when some moderate item names none (no triplets to score)."""
    moderate_neutral: list[str]
    """Each moderate item's peak's neutral (empty with ``moderate_peak``)."""
    complex_neutral: list[str]
    """Complex-neutral ids."""
    twins: list[str]
    """Keyword-twin ids."""
    twin_peak: list[str]
    """Each twin's clinical vignette."""
    clinical_labels: np.ndarray
    """Emotion index (into ``EMOTIONS``) of each clinical item."""
    moderate_labels: np.ndarray
    """Emotion index of each moderate item."""
    twin_labels: np.ndarray
    """Emotion index of each twin."""
    outer_folds: np.ndarray
    """Outer fold of each matched pair for the cross-validated layer selection."""

    @classmethod
    def from_battery(cls, battery: Battery) -> ScoringKey:
        index = battery.by_id()
        emo = {e: k for k, e in enumerate(EMOTIONS)}
        clinical = battery.split("clinical")
        moderate = battery.split("moderate")
        twins = battery.split(TWIN_SPLIT)
        labels = np.array([emo[str(i.emotion)] for i in clinical], dtype=np.int64)
        linked = all(i.peak_id in index for i in moderate)
        return cls(
            clinical=[i.id for i in clinical],
            neutral=[str(i.matched_control_id) for i in clinical],
            all_neutral=[i.id for i in battery.split("neutral")],
            moderate=[i.id for i in moderate],
            moderate_peak=[str(i.peak_id) for i in moderate] if linked else [],
            moderate_neutral=[str(index[str(i.peak_id)].matched_control_id) for i in moderate] if linked else [],
            complex_neutral=[i.id for i in battery.split("complex_neutral")],
            twins=[i.id for i in twins],
            twin_peak=[str(i.peak_id) for i in twins],
            clinical_labels=labels,
            moderate_labels=np.array([emo[str(i.emotion)] for i in moderate], dtype=np.int64),
            twin_labels=np.array([emo[str(i.emotion)] for i in twins], dtype=np.int64),
            outer_folds=outer_folds([i.id for i in clinical], labels),
        )


def _picker(keys: list[str] | tuple[str, ...]) -> Any:
    """``d -> tuple(d[k] for k in keys)`` at C speed (``itemgetter`` returns a bare value for a single key)."""
    if len(keys) >= 2:
        return itemgetter(*keys)
    return lambda d: tuple(d[k] for k in keys)


def _affect(layers: list[Any], ids: list[str]) -> np.ndarray:
    pick = _picker(ids)
    return np.array([pick(layer.affect) for layer in layers], dtype=np.float64).reshape(len(layers), len(ids))


def _category(layers: list[Any], ids: list[str]) -> np.ndarray:
    pick, emotions = _picker(ids), _picker(EMOTIONS)
    rows = [[emotions(probs) for probs in pick(layer.category)] for layer in layers]
    return np.array(rows, dtype=np.float64).reshape(len(layers), len(ids), len(EMOTIONS))


def check_options(n_bootstrap: int, seed: int, ci_level: float = DEFAULT_CI) -> None:
    """Refuse resampling options that cannot give a meaningful or affordable interval."""
    if (
        isinstance(n_bootstrap, bool)
        or not isinstance(n_bootstrap, int)
        or not (MIN_BOOTSTRAP <= n_bootstrap <= MAX_BOOTSTRAP)
    ):
        raise OptionError(
            f"--n-bootstrap must be an integer from {MIN_BOOTSTRAP} to {MAX_BOOTSTRAP} "
            f"(got {n_bootstrap!r}); {DEFAULT_BOOTSTRAP} is the default"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise OptionError(f"--seed must be an integer from 0 to 2**63-1 (got {seed!r})")
    if not 0.5 <= ci_level < 1.0:
        raise OptionError(f"ci_level must be at least 0.5 and below 1 (got {ci_level!r})")


# --- headlines -------------------------------------------------------------------------------------------


def category_tasks(pcat: np.ndarray, key: ScoringKey) -> list[BinaryTask]:
    """One-vs-rest tasks of the eight emotions on the clinical items, with their outer folds and pair units."""
    units = np.arange(len(key.clinical))
    tasks = []
    for k in range(len(EMOTIONS)):
        mask = key.clinical_labels == k
        if mask.any() and not mask.all():
            tasks.append(
                BinaryTask(
                    pcat[:, mask, k],
                    pcat[:, ~mask, k],
                    key.outer_folds[mask],
                    key.outer_folds[~mask],
                    units[mask],
                    units[~mask],
                )
            )
    return tasks


def affect_task(clin: np.ndarray, neut: np.ndarray, key: ScoringKey) -> BinaryTask:
    """Clinical against matched neutral: each pair shares its fold and its bootstrap unit."""
    units = np.arange(len(key.clinical))
    return BinaryTask(clin, neut, key.outer_folds, key.outer_folds, units, units)


def main_headline(submission: Submission, key: ScoringKey, weights: np.ndarray) -> Headline:
    """The cross-validated main score of a submission for given bootstrap weights (used for paired gains)."""
    layers = sorted(submission.layers, key=lambda layer: layer.layer)
    rows = with_point_row(weights)
    with _one_blas_thread():
        return cross_validated([task_sums(t, rows) for t in category_tasks(_category(layers, key.clinical), key)])


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    # The GEMMs here are small: on a busy 2-core machine a multi-threaded BLAS ran them 10x slower (measured).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _modal(chosen: list[int]) -> int:
    counts = Counter(chosen)
    top = max(counts.values())
    return min(layer for layer, n in counts.items() if n == top)


# --- scoring ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """A report with the bootstrap draws of its headline (what a paired comparison needs)."""

    report: ScoreReport
    """The score report."""
    main: Headline
    """The cross-validated main score with its per-resample draws."""
    weights: np.ndarray
    """The pair-bootstrap weights every CI used (n_bootstrap, pairs)."""
    key: ScoringKey
    """The answer key's index lists."""


def score_submission(
    submission: Submission,
    release: Release | Battery | None = None,
    *,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    ci_level: float = DEFAULT_CI,
    data_sha256: str | None = None,
    submission_sha256: str | None = None,
    checked: bool = False,
) -> ScoreReport:
    """Score a submission against ``release`` (default: the packaged release; a bare ``Battery`` works too).

    The submission is checked first (ids, folds; not the dataset revision): an invalid one raises ``InputErrors``
    instead of a half-computed report. ``checked=True`` skips that for a submission that already passed
    ``load_submission`` against the same answer key.
    """
    return score_in_full(
        submission,
        release,
        n_bootstrap=n_bootstrap,
        seed=seed,
        ci_level=ci_level,
        data_sha256=data_sha256,
        submission_sha256=submission_sha256,
        checked=checked,
    ).report


def score_in_full(
    submission: Submission,
    release: Release | Battery | None = None,
    *,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    ci_level: float = DEFAULT_CI,
    data_sha256: str | None = None,
    submission_sha256: str | None = None,
    checked: bool = False,
) -> Scored:
    """:func:`score_submission`, also returning the headline's bootstrap draws, weights and key."""
    from aipsy_affect.benchmark.submission import as_release

    check_options(n_bootstrap, seed, ci_level)
    battery, data_sha256 = as_release(release, data_sha256)
    errors = [] if checked else check_submission(submission, battery)
    if errors:
        raise InputErrors(errors)
    key = ScoringKey.from_battery(battery)
    weights = pair_bootstrap_weights(len(key.clinical), n_bootstrap, seed)
    layers = sorted(submission.layers, key=lambda layer: layer.layer)
    numbers = [layer.layer for layer in layers]
    with _one_blas_thread():
        values, main, affect = _layer_values(layers, key, weights, ci_level)
    main_layers = [numbers[i] for i in main.fold_layers]
    affect_layers = [numbers[i] for i in affect.fold_layers]
    category = values["category_macro_auroc"]
    best = int(np.argmax(category))
    try:
        per_layer = [LayerScores(layer=n, **{k: v[li] for k, v in values.items()}) for li, n in enumerate(numbers)]
        report = ScoreReport(
            data_sha256=data_sha256,
            submission_sha256=submission_sha256,
            model=submission.model,
            method=submission.method,
            n_bootstrap=n_bootstrap,
            seed=seed,
            ci_level=ci_level,
            main_score=main.point,
            main_score_ci=tuple(percentile_ci(main.draws, ci_level)),
            main_layers=main_layers,
            main_layer=_modal(main_layers),
            affect_score=affect.point,
            affect_score_ci=tuple(percentile_ci(affect.draws, ci_level)),
            affect_layers=affect_layers,
            affect_layer=_modal(affect_layers),
            best_layer=numbers[best],
            best_layer_score=float(category[best]),
            best_affect_layer=numbers[int(np.argmax(values["affect_auroc"]))],
            has_twins=values["keyword_shift"][0] is not None,
            layers=per_layer,
        )
    except ValidationError as exc:
        raise InputErrors(_overflow_errors(exc)) from None
    return Scored(report=report, main=main, weights=weights, key=key)


def _overflow_errors(exc: ValidationError) -> list[InputError]:
    where = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
    return [
        InputError(
            "<submission>",
            None,
            "layers",
            "a score derived from the submission is not a finite number "
            f"({', '.join(where[:5])}): affect scores this large overflow; rescale them (any monotone "
            "rescaling keeps every AUROC)",
        )
    ]


def _dose_response(layers: list[Any], key: ScoringKey, mod: np.ndarray) -> list[float | None]:
    """Share of peak > moderate > neutral triplets per layer; ``None`` per layer when there are no triplets."""
    if not key.moderate_peak:
        return [None] * len(layers)
    peak, mod_neut = _affect(layers, key.moderate_peak), _affect(layers, key.moderate_neutral)
    return ((peak > mod) & (mod > mod_neut)).mean(axis=1).tolist()  # type: ignore[no-any-return]


def _layer_values(
    layers: list[Any], key: ScoringKey, weights: np.ndarray, ci_level: float
) -> tuple[dict[str, list[Any]], Headline, Headline]:
    """Every per-layer metric as a list over layers, and the two cross-validated headlines."""
    n = len(layers)
    clin = _affect(layers, key.clinical)
    neut = _affect(layers, key.neutral)
    all_neut = _affect(layers, key.all_neutral)
    mod = _affect(layers, key.moderate)
    cneu = _affect(layers, key.complex_neutral)
    pcat = _category(layers, key.clinical)
    mcat = _category(layers, key.moderate)
    rows = with_point_row(weights)

    # One pass over the comparison matrices gives the per-layer bootstrap and the within-fold sums of the headline.
    affect_sums = task_sums(affect_task(clin, neut, key), rows)
    affect = compare(clin, neut).mean(axis=(1, 2))
    affect_ci = percentile_ci(affect_sums.full_auroc()[:, 1:], ci_level)
    cat_sums = [task_sums(task, rows) for task in category_tasks(pcat, key)]
    labels = key.clinical_labels
    _, per_class = macro_ovr_auroc(pcat, labels)
    category = np.nanmean(per_class, axis=1)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        # A resample that drew no item of some emotion leaves that emotion out of its mean, like sklearn.
        warnings.simplefilter("ignore", RuntimeWarning)
        category_boot = np.nanmean(np.stack([s.full_auroc()[:, 1:] for s in cat_sums]), axis=0)
    category_ci = percentile_ci(category_boot, ci_level)

    mod_cat, _ = macro_ovr_auroc(mcat, key.moderate_labels)
    thresholds = [balanced_threshold(clin[li], neut[li]) for li in range(n)]
    out: dict[str, list[Any]] = {
        "affect_auroc": affect.tolist(),
        "affect_auroc_ci": [tuple(row) for row in affect_ci.tolist()],
        "moderate_auroc": compare(mod, all_neut).mean(axis=(1, 2)).tolist(),
        "dose_response_rate": _dose_response(layers, key, mod),
        "complex_auroc": compare(clin, cneu).mean(axis=(1, 2)).tolist(),
        "threshold": [t for t, _ in thresholds],
        "balanced_accuracy": [b for _, b in thresholds],
        "neutral_fpr": [float((all_neut[li] >= thresholds[li][0]).mean()) for li in range(n)],
        "complex_fpr": [float((cneu[li] >= thresholds[li][0]).mean()) for li in range(n)],
        "category_macro_auroc": category.tolist(),
        "category_macro_auroc_ci": [tuple(row) for row in category_ci.tolist()],
        "category_top1": top1_accuracy(pcat, labels).tolist(),
        "category_auroc": [dict(zip(EMOTIONS, row, strict=True)) for row in per_class.tolist()],
        "moderate_category_macro_auroc": mod_cat.tolist(),
        "moderate_category_top1": top1_accuracy(mcat, key.moderate_labels).tolist(),
        "keyword_shift": [None] * n,
        "keyword_win_rate": [None] * n,
        "twin_category_macro_auroc": [None] * n,
        "twin_category_top1": [None] * n,
    }
    # check_submission makes twins all-or-none within a layer; they are scored when every layer has them.
    if key.twins and all(key.twins[0] in layer.affect for layer in layers):
        twin, vignette = _affect(layers, key.twins), _affect(layers, key.twin_peak)
        with np.errstate(over="ignore", invalid="ignore"):
            out["keyword_shift"] = (twin - vignette).mean(axis=1).tolist()
        out["keyword_win_rate"] = ((twin > vignette) + 0.5 * (twin == vignette)).mean(axis=1).tolist()
        if all(key.twins[0] in layer.category for layer in layers):
            tcat = _category(layers, key.twins)
            out["twin_category_macro_auroc"] = macro_ovr_auroc(tcat, key.twin_labels)[0].tolist()
            out["twin_category_top1"] = top1_accuracy(tcat, key.twin_labels).tolist()
    return out, cross_validated(cat_sums), cross_validated([affect_sums])


__all__ = [
    "DEFAULT_BOOTSTRAP",
    "DEFAULT_CI",
    "DEFAULT_SEED",
    "MAIN_METRIC",
    "MAX_BOOTSTRAP",
    "MIN_BOOTSTRAP",
    "SCORE_VERSION",
    "LayerScores",
    "ScoreReport",
    "Scored",
    "ScoringKey",
    "affect_task",
    "category_tasks",
    "check_options",
    "format_table",
    "main_headline",
    "score_in_full",
    "score_submission",
]
