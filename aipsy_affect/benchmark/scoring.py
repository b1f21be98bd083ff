"""Scoring a submission against the battery's answer key: per-layer metrics, bootstrap CIs, the main score.

Every AUROC here is the Mann-Whitney probability that a random positive scores above a random negative,
ties counting one half: exactly ``sklearn.metrics.roc_auc_score`` (midranks), computed from the full
comparison matrix so that one matrix product per layer also gives every bootstrap resample.

The bootstrap resamples **matched pairs** (a clinical vignette with its neutral control), with
replacement, ``n_bootstrap`` times from one seeded generator, so results are reproducible and the CI
respects the pairing. A resample only re-weights items, so the resampled AUROC is
``w' C w / (sum w)^2`` for the pair-count vector ``w`` and the comparison matrix ``C``: no re-sorting.

Main score (see docs/scoring.md for why): the emotion-categorization macro one-vs-rest AUROC on the
clinical items at the best layer, i.e. the maximum over layers. Affect reception (clinical vs neutral)
saturates near 1.0 for most models in published work, so it cannot rank methods; naming which of eight
emotions a keyword-free vignette carries does not saturate, and AUROC keeps chance at 0.5 whatever the
class balance. Besides the best layer's own CI, a second CI bootstraps the *maximum over layers*, so it
accounts for choosing the best layer on the same items.

Only NumPy and pydantic are imported here, so ``aipsy-affect score`` starts fast.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from aipsy_affect._version import __version__
from aipsy_affect.battery.io import InputErrors
from aipsy_affect.battery.schema import EMOTIONS
from aipsy_affect.benchmark.submission import TWIN_SPLIT, MethodInfo, ModelInfo, Submission, check_submission

if TYPE_CHECKING:
    from aipsy_affect.battery.schema import Battery

#: Version of the score definitions; bumped whenever a metric changes meaning.
SCORE_VERSION = 1
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 0
DEFAULT_CI = 0.95
MAIN_METRIC = "category_macro_auroc"

Interval = tuple[float, float]


class LayerScores(BaseModel):
    """Every metric of one layer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    layer: int
    """Layer index as given in the submission."""

    affect_auroc: float
    """Affect reception: AUROC of the affect score, clinical (positive) vs matched neutral (negative)."""

    affect_auroc_ci: Interval
    """Pair-bootstrap percentile confidence interval of ``affect_auroc``."""

    moderate_auroc: float
    """Dose-response: AUROC of the affect score, moderate (positive) vs neutral (negative)."""

    dose_response_rate: float
    """Share of the 48 triplets ordered peak > moderate > the peak's neutral by affect score."""

    complex_auroc: float
    """Discriminant validity: AUROC, clinical (positive) vs complex_neutral (negative)."""

    threshold: float
    """Affect-score threshold (score >= threshold = affective) that maximises balanced accuracy, clinical vs
    neutral; ties broken by the middle of the maximising thresholds, placed midway to the next lower score."""

    balanced_accuracy: float
    """Balanced accuracy, clinical vs neutral, at ``threshold``."""

    neutral_fpr: float
    """Share of neutral items at or above ``threshold``."""

    complex_fpr: float
    """Share of complex_neutral items at or above ``threshold``: eventful-but-neutral text read as affect."""

    category_macro_auroc: float
    """Emotion categorization on clinical items: mean over the 8 emotions of the one-vs-rest AUROC."""

    category_macro_auroc_ci: Interval
    """Pair-bootstrap percentile confidence interval of ``category_macro_auroc``."""

    category_top1: float
    """Top-1 accuracy on clinical items (chance 1/8); a tie for the top counts 1/k for k tied emotions."""

    category_auroc: dict[str, float]
    """One-vs-rest AUROC of each emotion on clinical items."""

    moderate_category_macro_auroc: float
    """Macro one-vs-rest AUROC on the moderate items."""

    moderate_category_top1: float
    """Top-1 accuracy on the moderate items."""

    keyword_shift: float | None = None
    """Mean affect score of keyword twin minus its vignette (the score's own units); ``None`` without twins."""

    keyword_win_rate: float | None = None
    """Share of twin/vignette pairs where the twin scores higher (ties 1/2); 0.5 = keyword-insensitive."""

    twin_category_macro_auroc: float | None = None
    """Macro one-vs-rest AUROC on keyword twins, when their category probabilities are given."""

    twin_category_top1: float | None = None
    """Top-1 accuracy on keyword twins, when their category probabilities are given."""


class ScoreReport(BaseModel):
    """The scores of one submission, stamped with everything needed to reproduce them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    score_version: int = SCORE_VERSION
    """Version of the metric definitions."""

    aipsy_affect_version: str = __version__
    """Package version that computed the scores."""

    data_sha256: str | None
    """``data_sha256()`` of the battery scored against; ``None`` for a custom ``Battery`` given without a hash."""

    numpy_version: str = np.__version__
    """NumPy version (the bootstrap generator is NumPy's PCG64)."""

    python_version: str = platform.python_version()
    """Python version."""

    submission_sha256: str | None = None
    """sha256 of the submission file's bytes, when scored from a file."""

    model: ModelInfo
    """The probed model, copied from the submission."""

    method: MethodInfo
    """The probing method, copied from the submission."""

    n_bootstrap: int
    """Pair-bootstrap resamples behind every CI."""

    seed: int
    """Seed of the bootstrap generator."""

    ci_level: float
    """Coverage of every CI (percentile method)."""

    main_metric: str = MAIN_METRIC
    """Which per-layer metric the main score is the maximum of."""

    main_score: float
    """``category_macro_auroc`` at ``best_layer``."""

    main_score_ci: Interval
    """Pair-bootstrap percentile CI of ``category_macro_auroc`` at ``best_layer`` (given that layer)."""

    main_score_selection_ci: Interval
    """Basic-bootstrap CI of the maximum over layers: it also covers picking the best layer on the same
    items, so it sits lower than ``main_score_ci`` when many layers are close (see docs/scoring.md)."""

    best_layer: int
    """The layer with the highest ``category_macro_auroc`` (the earliest on ties)."""

    best_affect_layer: int
    """The layer with the highest ``affect_auroc`` (the earliest on ties)."""

    has_twins: bool
    """Whether keyword twins were scored."""

    layers: Annotated[list[LayerScores], Field(min_length=1)]
    """Per-layer scores in layer order: the per-layer curves."""


# --- metrics --------------------------------------------------------------------------------------------


def _compare(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
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
    return _compare(pos, neg).mean(axis=(-2, -1))


def macro_ovr_auroc(probs: np.ndarray, labels: np.ndarray, n_classes: int = len(EMOTIONS)) -> tuple[np.ndarray, np.ndarray]:
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
    hit = np.take_along_axis(is_top, np.broadcast_to(labels[:, None], probs.shape[:-1] + (1,)), axis=-1)[..., 0]
    return (hit / is_top.sum(axis=-1)).mean(axis=-1)


def balanced_threshold(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """The threshold (score >= t is positive) that maximises balanced accuracy, and that accuracy.

    Candidates are the distinct pooled scores; among maximisers the middle one is taken, and the threshold
    is placed midway between it and the next lower pooled score, so it sits in the gap, not on an item.
    """
    pooled = np.unique(np.concatenate([pos, neg]))
    pos_sorted, neg_sorted = np.sort(pos), np.sort(neg)
    tpr = 1.0 - np.searchsorted(pos_sorted, pooled, side="left") / len(pos)
    fpr = 1.0 - np.searchsorted(neg_sorted, pooled, side="left") / len(neg)
    balanced = (tpr + 1.0 - fpr) / 2.0
    best = np.flatnonzero(balanced == balanced.max())
    k = int(best[(len(best) - 1) // 2])
    threshold = pooled[k] if k == 0 else (pooled[k] + pooled[k - 1]) / 2.0
    return float(threshold), float(balanced[k])


def _percentile_ci(samples: np.ndarray, level: float) -> np.ndarray:
    """Percentile interval along the last axis, ignoring resamples that could not be scored (NaN)."""
    alpha = (1.0 - level) / 2.0
    return np.nanquantile(samples, [alpha, 1.0 - alpha], axis=-1).T


def pair_bootstrap_weights(n_pairs: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """``W[b, i]`` = how often pair ``i`` is drawn in resample ``b`` (each row sums to ``n_pairs``)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_pairs, size=(n_bootstrap, n_pairs))
    offsets = (np.arange(n_bootstrap) * n_pairs)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=n_bootstrap * n_pairs)
    # float32 is exact here: every sum below is a multiple of 1/2 far under 2**24.
    return counts.reshape(n_bootstrap, n_pairs).astype(np.float32)


def _bootstrap_auroc(compare: np.ndarray, w_pos: np.ndarray, w_neg: np.ndarray) -> np.ndarray:
    """Weighted AUROC for every layer and resample: ``compare`` (L, P, N), weights (B, P) and (B, N) -> (L, B)."""
    n_layers, n_pos, n_neg = compare.shape
    # One GEMM over all layers at once: (B, P) @ (P, L*N); a broadcast batched matmul is many times slower.
    flat = np.ascontiguousarray(compare.transpose(1, 0, 2), dtype=np.float32).reshape(n_pos, n_layers * n_neg)
    partial = (w_pos @ flat).reshape(len(w_pos), n_layers, n_neg)
    # The float32 sums are exact; divide in float64 so the ratio is as exact as the point estimate.
    num = np.einsum("bln,bn->lb", partial, w_neg).astype(np.float64)
    den = w_pos.sum(axis=1, dtype=np.float64) * w_neg.sum(axis=1, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den[None]


# --- the answer key --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoringKey:
    """Index lists the metrics need, derived once from a ``Battery``."""

    clinical: list[str]
    """Clinical ids, in battery order."""
    neutral: list[str]
    """Each clinical item's matched neutral, aligned with ``clinical`` (the bootstrap's pairs)."""
    all_neutral: list[str]
    """Every neutral id (moderate is compared against all of them)."""
    moderate: list[str]
    """Moderate ids."""
    moderate_peak: list[str]
    """Each moderate item's clinical peak."""
    moderate_neutral: list[str]
    """Each moderate item's peak's neutral."""
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

    @classmethod
    def from_battery(cls, battery: "Battery") -> "ScoringKey":
        index = battery.by_id()
        emo = {e: k for k, e in enumerate(EMOTIONS)}
        clinical = battery.split("clinical")
        moderate = battery.split("moderate")
        twins = battery.split(TWIN_SPLIT)
        return cls(
            clinical=[i.id for i in clinical],
            neutral=[str(i.matched_control_id) for i in clinical],
            all_neutral=[i.id for i in battery.split("neutral")],
            moderate=[i.id for i in moderate],
            moderate_peak=[str(i.peak_id) for i in moderate],
            moderate_neutral=[str(index[str(i.peak_id)].matched_control_id) for i in moderate],
            complex_neutral=[i.id for i in battery.split("complex_neutral")],
            twins=[i.id for i in twins],
            twin_peak=[str(i.peak_id) for i in twins],
            clinical_labels=np.array([emo[str(i.emotion)] for i in clinical]),
            moderate_labels=np.array([emo[str(i.emotion)] for i in moderate]),
            twin_labels=np.array([emo[str(i.emotion)] for i in twins]),
        )


def _affect(layers: list, ids: list[str]) -> np.ndarray:
    return np.array([[layer.affect[i] for i in ids] for layer in layers], dtype=np.float64)


def _category(layers: list, ids: list[str]) -> np.ndarray:
    return np.array([[[layer.category[i][e] for e in EMOTIONS] for i in ids] for layer in layers], dtype=np.float64)


# --- scoring ---------------------------------------------------------------------------------------------


def score_submission(
    submission: Submission,
    battery: "Battery | None" = None,
    *,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    ci_level: float = DEFAULT_CI,
    data_sha256: str | None = None,
    submission_sha256: str | None = None,
) -> ScoreReport:
    """Score a submission against ``battery`` (default: the packaged one).

    The submission is checked first (``check_submission``, dataset revision aside): an invalid one raises
    ``InputErrors`` instead of a half-computed report.
    """
    if n_bootstrap < 1:
        raise ValueError("n_bootstrap must be at least 1")
    if not 0.0 < ci_level < 1.0:
        raise ValueError("ci_level must be between 0 and 1")
    if battery is None:
        from aipsy_affect.battery.sources import data_sha256 as packaged_sha256
        from aipsy_affect.battery.sources import load_battery

        battery = load_battery()
        if data_sha256 is None:
            data_sha256 = packaged_sha256()
    errors = check_submission(submission, battery)
    if errors:
        raise InputErrors(errors)
    key = ScoringKey.from_battery(battery)
    layers = sorted(submission.layers, key=lambda layer: layer.layer)
    # check_submission makes twins all-or-none within a layer; they are scored when every layer has them.
    has_twins = bool(key.twins) and all(key.twins[0] in layer.affect for layer in layers)
    twin_category = has_twins and all(key.twins[0] in layer.category for layer in layers)

    clin = _affect(layers, key.clinical)
    neut = _affect(layers, key.neutral)
    all_neut = _affect(layers, key.all_neutral)
    mod = _affect(layers, key.moderate)
    cneu = _affect(layers, key.complex_neutral)
    pcat = _category(layers, key.clinical)
    mcat = _category(layers, key.moderate)

    # Affect reception, point and pair bootstrap from one comparison tensor.
    weights = pair_bootstrap_weights(len(key.clinical), n_bootstrap, seed)
    c_affect = _compare(clin, neut)
    affect = c_affect.mean(axis=(1, 2))
    affect_boot = _bootstrap_auroc(c_affect, weights, weights)
    affect_ci = _percentile_ci(affect_boot, ci_level)

    # Categorization: the same pair weights re-weight the clinical items of each one-vs-rest split.
    labels = key.clinical_labels
    cat_per_class = np.full((len(layers), len(EMOTIONS)), np.nan)
    cat_boot_per_class = np.full((len(EMOTIONS), len(layers), n_bootstrap), np.nan)
    for k in range(len(EMOTIONS)):
        mask = labels == k
        if not mask.any() or mask.all():
            continue
        c_k = _compare(pcat[:, mask, k], pcat[:, ~mask, k])
        cat_per_class[:, k] = c_k.mean(axis=(1, 2))
        cat_boot_per_class[k] = _bootstrap_auroc(c_k, weights[:, mask], weights[:, ~mask])
    category = np.nanmean(cat_per_class, axis=1)
    with np.errstate(invalid="ignore"):
        # A resample that drew no item of some emotion leaves that emotion out of its mean, like sklearn.
        cat_boot = np.nanmean(cat_boot_per_class, axis=0)
    category_ci = _percentile_ci(cat_boot, ci_level)
    top1 = top1_accuracy(pcat, labels)

    moderate = auroc(mod, all_neut)
    peak = _affect(layers, key.moderate_peak)
    mod_neut = _affect(layers, key.moderate_neutral)
    dose = ((peak > mod) & (mod > mod_neut)).mean(axis=1)
    complex_auroc = auroc(clin, cneu)
    mod_cat, _ = macro_ovr_auroc(mcat, key.moderate_labels)
    mod_top1 = top1_accuracy(mcat, key.moderate_labels)

    if has_twins:
        twin = _affect(layers, key.twins)
        vignette = _affect(layers, key.twin_peak)
        shift = (twin - vignette).mean(axis=1)
        win = ((twin > vignette) + 0.5 * (twin == vignette)).mean(axis=1)
    if twin_category:
        tcat = _category(layers, key.twins)
        twin_cat, _ = macro_ovr_auroc(tcat, key.twin_labels)
        twin_top1 = top1_accuracy(tcat, key.twin_labels)

    out: list[LayerScores] = []
    for li, layer in enumerate(layers):
        threshold, balanced = balanced_threshold(clin[li], neut[li])
        out.append(LayerScores(
            layer=layer.layer,
            affect_auroc=float(affect[li]),
            affect_auroc_ci=(float(affect_ci[li, 0]), float(affect_ci[li, 1])),
            moderate_auroc=float(moderate[li]),
            dose_response_rate=float(dose[li]),
            complex_auroc=float(complex_auroc[li]),
            threshold=threshold,
            balanced_accuracy=balanced,
            neutral_fpr=float((all_neut[li] >= threshold).mean()),
            complex_fpr=float((cneu[li] >= threshold).mean()),
            category_macro_auroc=float(category[li]),
            category_macro_auroc_ci=(float(category_ci[li, 0]), float(category_ci[li, 1])),
            category_top1=float(top1[li]),
            category_auroc={e: float(cat_per_class[li, k]) for k, e in enumerate(EMOTIONS)},
            moderate_category_macro_auroc=float(mod_cat[li]),
            moderate_category_top1=float(mod_top1[li]),
            keyword_shift=float(shift[li]) if has_twins else None,
            keyword_win_rate=float(win[li]) if has_twins else None,
            twin_category_macro_auroc=float(twin_cat[li]) if twin_category else None,
            twin_category_top1=float(twin_top1[li]) if twin_category else None,
        ))

    best = int(np.argmax(category))
    # Basic (reverse-percentile) interval for the max over layers: the bootstrap max overshoots the
    # observed max by about as much as the observed max overshoots the truth, so the interval is reflected.
    max_q = _percentile_ci(np.nanmax(cat_boot, axis=0)[None], ci_level)[0]
    selection_ci = np.clip([2 * category[best] - max_q[1], 2 * category[best] - max_q[0]], 0.0, 1.0)
    return ScoreReport(
        data_sha256=data_sha256,
        submission_sha256=submission_sha256,
        model=submission.model,
        method=submission.method,
        n_bootstrap=n_bootstrap,
        seed=seed,
        ci_level=ci_level,
        main_score=float(category[best]),
        main_score_ci=(float(category_ci[best, 0]), float(category_ci[best, 1])),
        main_score_selection_ci=(float(selection_ci[0]), float(selection_ci[1])),
        best_layer=layers[best].layer,
        best_affect_layer=layers[int(np.argmax(affect))].layer,
        has_twins=has_twins,
        layers=out,
    )


def format_table(report: ScoreReport) -> str:
    """A fixed-width, human-readable table of a report."""
    head = (f"{'layer':>5}  {'affect AUROC [95% CI]':<24}  {'mod':>5}  {'cneu':>5}  {'cFPR':>5}  "
            f"{'category AUROC [95% CI]':<24}  {'top1':>5}  {'m-cat':>5}")
    if report.has_twins:
        head += f"  {'kw-shift':>8}  {'kw-win':>6}"
    pct = int(round(report.ci_level * 100))
    head = head.replace("95%", f"{pct}%")
    lines = [
        f"model   {report.model.id} @ {report.model.revision}",
        f"method  {report.method.name}, pooling {report.method.pooling}, {report.method.cv_folds}-fold CV",
        f"main score (category macro AUROC at best layer {report.best_layer}): {report.main_score:.4f} "
        f"[{report.main_score_ci[0]:.4f}, {report.main_score_ci[1]:.4f}]; allowing for the choice of layer "
        f"[{report.main_score_selection_ci[0]:.4f}, {report.main_score_selection_ci[1]:.4f}]",
        f"best affect layer {report.best_affect_layer}; {report.n_bootstrap} pair-bootstrap resamples, seed {report.seed}",
        "",
        head,
    ]
    for s in report.layers:
        mark = "*" if s.layer == report.best_layer else " "
        row = (f"{s.layer:>4}{mark}  {s.affect_auroc:.3f} [{s.affect_auroc_ci[0]:.3f}, {s.affect_auroc_ci[1]:.3f}]"
               f"{'':<3}  {s.moderate_auroc:>5.3f}  {s.complex_auroc:>5.3f}  {s.complex_fpr:>5.3f}  "
               f"{s.category_macro_auroc:.3f} [{s.category_macro_auroc_ci[0]:.3f}, {s.category_macro_auroc_ci[1]:.3f}]"
               f"{'':<3}  {s.category_top1:>5.3f}  {s.moderate_category_macro_auroc:>5.3f}")
        if report.has_twins:
            row += f"  {s.keyword_shift:>8.3f}  {s.keyword_win_rate:>6.3f}"
        lines.append(row)
    lines.append("")
    lines.append("mod = moderate vs neutral AUROC; cneu = clinical vs complex_neutral AUROC; cFPR = complex_neutral "
                 "false-positive rate at the balanced threshold; m-cat = moderate category macro AUROC"
                 + ("; kw = keyword twin minus vignette" if report.has_twins else ""))
    stamp = f"aipsy-affect {report.aipsy_affect_version}, score v{report.score_version}"
    if report.data_sha256:
        stamp += f", data {report.data_sha256[:12]}"
    lines.append(stamp)
    return "\n".join(lines)


__all__ = [
    "DEFAULT_BOOTSTRAP",
    "DEFAULT_CI",
    "DEFAULT_SEED",
    "MAIN_METRIC",
    "SCORE_VERSION",
    "LayerScores",
    "ScoreReport",
    "ScoringKey",
    "auroc",
    "balanced_threshold",
    "format_table",
    "macro_ovr_auroc",
    "pair_bootstrap_weights",
    "score_submission",
    "top1_accuracy",
]
