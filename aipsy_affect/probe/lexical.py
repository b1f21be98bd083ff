"""The lexical floor as a submission: ``aipsy-affect probe --model tfidf``.

Wraps :func:`aipsy_affect.defense.lexical.fit_lexical_floor` (TF-IDF word 1-2-grams + logistic regression, no
language model) with exactly the folds the reference probe uses (``grouped_folds(battery items, folds, seed)``) and
writes its out-of-fold outputs as an ordinary one-"layer" submission. On the leaderboard it is the reference every
entry's ``lexical_gain`` is measured against: a model that does not beat it has not shown that it represents emotion
beyond the words.
"""

from __future__ import annotations

import platform

import numpy as np

from aipsy_affect._version import __version__
from aipsy_affect.battery.folds import grouped_folds
from aipsy_affect.battery.release import Release, packaged_release
from aipsy_affect.benchmark.format import FORMAT_VERSION, Submission

__all__ = ["LEXICAL_MODEL_ID", "MODEL_NAMES", "lexical_submission"]

#: The model id the floor is submitted under (not a Hub model: there is no language model).
LEXICAL_MODEL_ID = "aipsy-affect/lexical-floor-tfidf"
#: ``--model`` values that select the lexical floor instead of a transformers model.
MODEL_NAMES: tuple[str, ...] = ("tfidf", "lexical")


def _sig(value: float) -> float:
    # Same rounding as the reference probe: 9 significant digits keep eight probabilities summing to 1 within 1e-8.
    return float(f"{float(value):.9g}")


def lexical_submission(
    release: Release | None = None, *, folds: int = 5, seed: int = 0, C: float = 10.0, submitter: str | None = None
) -> Submission:
    """Fit the lexical floor out of fold on every battery item (twins included) and return it as a submission."""
    import sklearn

    from aipsy_affect.defense.lexical import fit_lexical_floor
    from aipsy_affect.probe.run import CV_SCHEME

    release = release or packaged_release()
    items = list(release.battery.items)
    fold_ids = grouped_folds(items, folds, seed)
    floor = fit_lexical_floor(items, fold_ids, seed=seed, C=C)
    layer = {
        "layer": 0,
        "affect": {i: _sig(v) for i, v in floor.affect.items()},
        "category": {i: {e: _sig(p) for e, p in probs.items()} for i, probs in floor.category.items()},
        "folds": floor.folds,
    }
    return Submission.model_validate(
        {
            "format_version": FORMAT_VERSION,
            "model": {"id": LEXICAL_MODEL_ID, "revision": f"aipsy-affect-{__version__}"},
            "method": {
                "name": "tfidf-logistic-regression",
                "pooling": "none (bag of words)",
                "prompt": "{text}",
                "cv_folds": folds,
                "cv_scheme": CV_SCHEME,
                "seed": seed,
                "description": f"Lexical floor: {floor.vectorizer}; L2 logistic regression (C={C:g}, lbfgs). affect = "
                "out-of-fold decision function of clinical vs matched neutral; category = out-of-fold "
                "8-way probabilities of a model trained on the clinical vignettes. No language model.",
            },
            "dataset": {"revision": release.sha256},
            "layers": [layer],
            "submitter": submitter if submitter is not None else "aipsy-affect (reference)",
            "software": {
                "aipsy-affect": __version__,
                "python": platform.python_version(),
                "numpy": np.__version__,
                "scikit-learn": sklearn.__version__,
            },
        }
    )
