"""The score report: per-layer metrics, the cross-validated headlines, and the stamps that make it reproducible.

The models only; :mod:`aipsy_affect.benchmark.scoring` computes them and :mod:`aipsy_affect.benchmark.text` prints
them. Every score is a finite number: a report can never carry NaN or infinity (pydantic refuses it), so nothing
non-finite reaches a leaderboard.
"""

from __future__ import annotations

import platform
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from aipsy_affect._version import __version__
from aipsy_affect.benchmark.format import MethodInfo, ModelInfo
from aipsy_affect.benchmark.selection import OUTER_FOLDS

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAIN_METRIC", "SCORE_VERSION", "Interval", "LayerScores", "Score", "ScoreReport"]

#: Version of the score definitions; bumped whenever a metric changes meaning (2: cross-validated headline).
SCORE_VERSION = 2
MAIN_METRIC = "category_macro_auroc"

Score = Annotated[float, Field(allow_inf_nan=False)]
Interval = tuple[Score, Score]


class LayerScores(BaseModel):
    """Every metric of one layer (in-sample: every item of the battery, scored at this layer)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    layer: int
    """Layer index as given in the submission."""

    affect_auroc: Score
    """Affect reception: AUROC of the affect score, clinical (positive) vs matched neutral (negative)."""

    affect_auroc_ci: Interval
    """Pair-bootstrap percentile confidence interval of ``affect_auroc``."""

    moderate_auroc: Score
    """Dose-response: AUROC of the affect score, moderate (positive) vs neutral (negative)."""

    dose_response_rate: Score | None = None
    """Share of the 48 triplets ordered peak > moderate > the peak's neutral by affect score; ``None`` for a battery
    whose moderate items name no peak (the published layout: there are no triplets)."""

    complex_auroc: Score
    """Discriminant validity: AUROC, clinical (positive) vs complex_neutral (negative)."""

    threshold: Score
    """Affect-score threshold (score >= threshold = affective) that maximises balanced accuracy, clinical vs
    neutral; ties broken by the middle of the maximising thresholds, placed midway to the next lower score."""

    balanced_accuracy: Score
    """Balanced accuracy, clinical vs neutral, at ``threshold``."""

    neutral_fpr: Score
    """Share of neutral items at or above ``threshold``."""

    complex_fpr: Score
    """Share of complex_neutral items at or above ``threshold``: eventful-but-neutral text read as affect."""

    category_macro_auroc: Score
    """Emotion categorization on clinical items: mean over the 8 emotions of the one-vs-rest AUROC."""

    category_macro_auroc_ci: Interval
    """Pair-bootstrap percentile confidence interval of ``category_macro_auroc``."""

    category_top1: Score
    """Top-1 accuracy on clinical items (chance 1/8); a tie for the top counts 1/k for k tied emotions."""

    category_auroc: dict[str, Score]
    """One-vs-rest AUROC of each emotion on clinical items."""

    moderate_category_macro_auroc: Score
    """Macro one-vs-rest AUROC on the moderate items."""

    moderate_category_top1: Score
    """Top-1 accuracy on the moderate items."""

    keyword_shift: Score | None = None
    """Mean affect score of keyword twin minus its vignette (the score's own units); ``None`` without twins."""

    keyword_win_rate: Score | None = None
    """Share of twin/vignette pairs where the twin scores higher (ties 1/2); 0.5 = keyword-insensitive."""

    twin_category_macro_auroc: Score | None = None
    """Macro one-vs-rest AUROC on keyword twins, when their category probabilities are given."""

    twin_category_top1: Score | None = None
    """Top-1 accuracy on keyword twins, when their category probabilities are given."""


class ScoreReport(BaseModel):
    """The scores of one submission, stamped with everything needed to reproduce them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    score_version: int = SCORE_VERSION
    """Version of the metric definitions."""

    aipsy_affect_version: str = __version__
    """Package version that computed the scores."""

    data_sha256: str | None
    """Hash of the battery scored against (``Release.sha256``); ``None`` for a bare ``Battery`` given without one."""

    numpy_version: str = np.__version__
    """NumPy version (the bootstrap generator is NumPy's PCG64)."""

    python_version: str = platform.python_version()
    """Python version."""

    submission_sha256: str | None = None
    """Content hash of the submission (``Submission.content_sha256``), when scored through the intake."""

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
    """The per-layer metric behind the headline."""

    outer_folds: int = OUTER_FOLDS
    """Outer folds of the cross-validated layer selection."""

    main_score: Score
    """Category macro one-vs-rest AUROC with cross-validated layer selection: each outer fold's clinical items scored
    at the layer chosen on the other folds (within-fold comparisons, pooled over folds)."""

    main_score_ci: Interval
    """Pair-bootstrap percentile CI of ``main_score``; every resample repeats the layer selection."""

    main_layers: list[int]
    """The layer each outer fold chose for ``main_score`` (fold 0 first)."""

    main_layer: int
    """The layer chosen most often in ``main_layers`` (the earliest on ties): where the leaderboard reads top-1."""

    affect_score: Score
    """Affect reception (clinical vs matched neutral AUROC) with cross-validated layer selection, like
    ``main_score``."""

    affect_score_ci: Interval
    """Pair-bootstrap percentile CI of ``affect_score``, selection repeated in every resample."""

    affect_layers: list[int]
    """The layer each outer fold chose for ``affect_score``."""

    affect_layer: int
    """The layer chosen most often in ``affect_layers``: where the leaderboard reads complex FPR and keyword win."""

    best_layer: int
    """In-sample best layer: the highest ``category_macro_auroc`` (earliest on ties). Optimistic: chosen and scored
    on the same items."""

    best_layer_score: Score
    """``category_macro_auroc`` at ``best_layer``: optimistic (pure noise over 48 layers gets about 0.55 here)."""

    best_affect_layer: int
    """In-sample layer with the highest ``affect_auroc`` (earliest on ties); optimistic like ``best_layer``."""

    has_twins: bool
    """Whether keyword twins were scored."""

    layers: Annotated[list[LayerScores], Field(min_length=1)]
    """Per-layer scores in layer order: the per-layer curves."""

    def layer(self, index: int) -> LayerScores:
        """The scores of the layer numbered ``index`` (``KeyError`` when that layer was not submitted)."""
        for scores in self.layers:
            if scores.layer == index:
                return scores
        raise KeyError(index)

    def to_pandas(self) -> pd.DataFrame:
        """One row per layer, one column per metric (CIs as ``<metric>_ci_low`` / ``_ci_high``, per-emotion AUROCs
        as ``category_auroc_<emotion>``), with the headline scores in ``DataFrame.attrs``."""
        import pandas as pd

        rows = []
        for scores in self.layers:
            row: dict[str, Any] = {}
            for name, value in scores.model_dump().items():
                if name.endswith("_ci"):
                    row[f"{name}_low"], row[f"{name}_high"] = value
                elif name == "category_auroc":
                    row.update({f"category_auroc_{e}": v for e, v in value.items()})
                else:
                    row[name] = value
            rows.append(row)
        frame = pd.DataFrame(rows).set_index("layer")
        frame.attrs.update(self.model_dump(exclude={"layers"}, mode="json"))
        return frame
