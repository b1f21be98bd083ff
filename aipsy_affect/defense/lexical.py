"""The trained lexical floor: TF-IDF (word 1-2-grams) + logistic regression, cross-validated on the battery.

Keyword-free texts can still carry their category in topic words (a death for sadness, a theft for anger). This
instrument measures how much: no language model, only the words, trained and scored out of fold with the
pair-grouped folds every probe uses (``battery.folds.grouped_folds``), so a vignette is never scored by a model
that saw its neutral, moderate variant or twin. It is a certification instrument (``certify``) and a leaderboard
baseline; it depends on nothing above ``battery``.

Two models per fold, each fitted on the training folds only (vectoriser included):

* **affect**: clinical vignettes vs their matched neutrals; its decision function scores every item of the fold;
* **category**: the 8 emotions on the clinical vignettes; its probabilities score every clinical, moderate and
  keyword-twin item of the fold.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from aipsy_affect.battery.schema import EMOTIONS, StimulusItem

__all__ = ["CATEGORY_SPLITS", "ROUTINE_MARKERS", "LexicalFloor", "fit_lexical_floor", "routine_markers", "top_words"]

#: Splits whose items get 8-way category probabilities.
CATEGORY_SPLITS = ("clinical", "moderate", "keyword_twins")
#: Words that mark a text as the routine control condition (a lexical giveaway when only neutrals use them).
ROUTINE_MARKERS = (
    "usual",
    "usually",
    "routine",
    "routinely",
    "regular",
    "regularly",
    "normal",
    "normally",
    "ordinary",
    "customary",
    "as always",
)
_ROUTINE = re.compile(r"\b(" + "|".join(m.replace(" ", r"\s+") for m in ROUTINE_MARKERS) + r")\b", re.I)
_MAX_ITER = 2000


class LexicalFloor(BaseModel):
    """Out-of-fold scores of the lexical floor for every item it was given."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    affect: dict[str, float]
    """Item id -> decision function of the clinical-vs-neutral model of the item's held-out fold (higher: more
    like a clinical vignette); every item has one."""

    category: dict[str, dict[str, float]]
    """Item id -> emotion -> probability (``EMOTIONS`` order, summing to 1) from the 8-way model of the item's
    held-out fold; clinical, moderate and keyword-twin items only."""

    folds: dict[str, int]
    """Item id -> the fold it was held out in."""

    n_folds: int = Field(ge=2)
    """Number of folds."""

    seed: int
    """Seed of the logistic regressions (the folds come from the caller)."""

    C: float = Field(gt=0)
    """Inverse L2 regularisation strength of both logistic regressions."""

    vectorizer: str
    """The TF-IDF settings, in words (for reports)."""


def _vectorizer(min_df: int = 1) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True, min_df=min_df)


def _logistic(C: float, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=_MAX_ITER, random_state=seed)


def fit_lexical_floor(
    items: Sequence[StimulusItem], folds: np.ndarray, *, seed: int = 0, C: float = 10.0
) -> LexicalFloor:
    """Fit and score the lexical floor out of fold; ``folds[i]`` is the fold of ``items[i]``.

    Raises ``ValueError`` when ``folds`` does not match ``items`` or a training fold lacks clinical vignettes,
    neutrals or an emotion.
    """
    from threadpoolctl import threadpool_limits

    # One BLAS thread: these problems are tiny, and on a busy 2-core machine more threads only contend.
    with threadpool_limits(1):
        return _fit(list(items), np.asarray(folds), seed, C)


def _fit(items: list[StimulusItem], folds: np.ndarray, seed: int, C: float) -> LexicalFloor:
    if folds.shape != (len(items),):
        raise ValueError(f"folds has shape {folds.shape} for {len(items)} items")
    texts = [i.text for i in items]
    split = np.array([i.split for i in items])
    fold_ids = sorted(int(f) for f in set(folds.tolist()))
    if len(fold_ids) < 2:
        raise ValueError("the lexical floor needs at least two folds")
    affect = np.zeros(len(items))
    probs = np.zeros((len(items), len(EMOTIONS)))
    is_affect_train = (split == "clinical") | (split == "neutral")
    is_category = np.isin(split, CATEGORY_SPLITS)
    for k in fold_ids:
        test, train = folds == k, folds != k
        tr_aff = np.flatnonzero(train & is_affect_train)
        y_aff = (split[tr_aff] == "clinical").astype(int)
        if len(set(y_aff.tolist())) < 2:
            raise ValueError(f"fold {k}: the training folds need both clinical and neutral items")
        vec = _vectorizer()
        model = _logistic(C, seed).fit(vec.fit_transform([texts[i] for i in tr_aff]), y_aff)
        te = np.flatnonzero(test)
        affect[te] = model.decision_function(vec.transform([texts[i] for i in te]))

        tr_cat = np.flatnonzero(train & (split == "clinical"))
        y_cat = [str(items[i].emotion) for i in tr_cat]
        if set(y_cat) != set(EMOTIONS):
            raise ValueError(
                f"fold {k}: the training folds lack clinical vignettes of "
                f"{', '.join(sorted(set(EMOTIONS) - set(y_cat)))}"
            )
        te = np.flatnonzero(test & is_category)
        if len(te) == 0:
            continue
        vec = _vectorizer()
        model = _logistic(C, seed).fit(vec.fit_transform([texts[i] for i in tr_cat]), y_cat)
        order = [list(model.classes_).index(e) for e in EMOTIONS]
        probs[te] = model.predict_proba(vec.transform([texts[i] for i in te]))[:, order]
    return LexicalFloor(
        affect={i.id: float(a) for i, a in zip(items, affect, strict=True)},
        category={
            i.id: {e: float(p) for e, p in zip(EMOTIONS, row, strict=True)}
            for i, row, c in zip(items, probs, is_category, strict=True)
            if c
        },
        folds={i.id: int(f) for i, f in zip(items, folds, strict=True)},
        n_folds=len(fold_ids),
        seed=seed,
        C=C,
        vectorizer="TF-IDF, word 1-2-grams, lowercased, sublinear tf, fitted on the training folds only",
    )


def top_words(items: Sequence[StimulusItem], k: int = 10, *, seed: int = 0, C: float = 10.0) -> dict[str, list[str]]:
    """The ``k`` terms with the largest coefficients per emotion, from the 8-way model fitted on every clinical
    vignette in ``items`` (what a bag of words reads each category from; descriptive, not cross-validated).

    Only terms of at least two vignettes count: a term of one vignette (its protagonist's name) is memorised by an
    in-sample fit but says nothing about the category elsewhere.
    """
    from threadpoolctl import threadpool_limits

    clinical = [i for i in items if i.split == "clinical"]
    vec = _vectorizer(min_df=2)
    with threadpool_limits(1):
        model = _logistic(C, seed).fit(
            vec.fit_transform([i.text for i in clinical]), [str(i.emotion) for i in clinical]
        )
    vocab = np.array(vec.get_feature_names_out())
    classes = list(model.classes_)
    # Binary logistic regression keeps one row of coefficients, for classes[1]; classes[0] gets its negation.
    coefs = model.coef_ if len(classes) > 2 else np.vstack([-model.coef_[0], model.coef_[0]])
    out: dict[str, list[str]] = {}
    for e in EMOTIONS:
        if e in classes:
            coef = coefs[classes.index(e)]
            # Ties (common with few items) are broken by the term, so the list does not depend on sort stability.
            order = sorted(range(len(vocab)), key=lambda j: (-coef[j], vocab[j]))[:k]
            out[e] = [str(vocab[j]) for j in order]
    return out


def routine_markers(text: str) -> Counter[str]:
    """Occurrences of each routine marker (``ROUTINE_MARKERS``) in ``text``, case-insensitive, whole words."""
    return Counter(re.sub(r"\s+", " ", m.group(1).lower()) for m in _ROUTINE.finditer(text))
