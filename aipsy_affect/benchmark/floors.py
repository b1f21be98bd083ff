"""The floors every score is read against: chance, and the gain over the lexical floor with a paired CI.

* **Chance**: :func:`chance_submission` is a seeded random submission (Gaussian affect scores, flat-Dirichlet
  category probabilities) with leak-free folds. On the leaderboard it is a reference line, never ranked; with
  cross-validated layer selection its main score sits at 0.5 however many layers it has.
* **Lexical floor**: a TF-IDF + logistic-regression submission (no language model; ``aipsy-affect probe --model
  tfidf``). :func:`lexical_gain` is an entry's main score minus the floor's, with a **paired** bootstrap CI: both are
  scored on the same resampled pairs (same weights, same outer folds), so what the items have in common cancels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from aipsy_affect.battery.schema import EMOTIONS
from aipsy_affect.benchmark.format import FORMAT_VERSION, LayerOutputs, MethodInfo, ModelInfo, Submission
from aipsy_affect.benchmark.metrics import percentile_ci
from aipsy_affect.benchmark.scoring import Scored, main_headline

if TYPE_CHECKING:
    from aipsy_affect.battery.release import Release

__all__ = ["CHANCE_MODEL_ID", "chance_submission", "lexical_gain"]

CHANCE_MODEL_ID = "reference/chance"


def chance_submission(
    release: Release, n_layers: int = 7, *, seed: int = 0, n_folds: int = 5, twins: bool = False
) -> Submission:
    """A seeded random submission over ``release``: what a model with no information at all would score."""
    from aipsy_affect.battery.folds import grouped_folds

    rng = np.random.default_rng(seed)
    splits = ("clinical", "neutral", "moderate", "complex_neutral") + (("keyword_twins",) if twins else ())
    items = [item for name in splits for item in release.battery.split(name)]
    folds = {item.id: int(f) for item, f in zip(items, grouped_folds(items, n_folds, seed), strict=True)}
    affective = [item.id for item in items if item.emotion is not None]
    layers = []
    for layer in range(n_layers):
        scores = rng.normal(size=len(items))
        probs = rng.dirichlet(np.ones(len(EMOTIONS)), size=len(affective))
        probs /= probs.sum(axis=1, keepdims=True)
        layers.append(
            LayerOutputs.model_validate(
                {
                    "layer": layer,
                    "affect": {item.id: float(s) for item, s in zip(items, scores, strict=True)},
                    "category": {
                        i: dict(zip(EMOTIONS, map(float, row), strict=True))
                        for i, row in zip(affective, probs, strict=True)
                    },
                    "folds": folds,
                }
            )
        )
    return Submission(
        format_version=FORMAT_VERSION,
        model=ModelInfo(id=CHANCE_MODEL_ID, revision=f"seed-{seed}"),
        method=MethodInfo(
            name="random",
            pooling="none",
            prompt="{text}",
            cv_folds=n_folds,
            seed=seed,
            cv_scheme="pair-grouped stratified k-fold (aipsy_affect.grouped_folds)",
            description=f"Chance reference: {n_layers} layers of independent N(0, 1) affect scores and "
            "flat-Dirichlet category probabilities, drawn with numpy default_rng"
            f"({seed}). No information about the items.",
        ),
        layers=layers,
        submitter="aipsy-affect (reference)",
    )


def lexical_gain(scored: Scored, floor: Submission, ci_level: float | None = None) -> tuple[float, tuple[float, float]]:
    """``scored``'s main score minus the lexical floor's, and the paired bootstrap CI of the difference.

    The floor is scored with the very weights and outer folds of ``scored`` (selection repeated per resample for
    both), so the CI is of the paired difference, not of two independent intervals.
    """
    level = scored.report.ci_level if ci_level is None else ci_level
    floor_head = main_headline(floor, scored.key, scored.weights)
    diff = scored.main.draws - floor_head.draws
    low, high = percentile_ci(diff, level)
    return scored.main.point - floor_head.point, (float(low), float(high))
