"""Statistics of the certification: tests against SciPy and the effect sizes' definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from aipsy_affect.certify.stats import (
    confusion_matrix,
    length_matching,
    mann_whitney,
    paired_wilcoxon,
    summarize,
    top1_accuracy,
)


def test_summarize() -> None:
    s = summarize([1, 2, 3, 4, 100])
    assert (s.n, s.median, s.min, s.max) == (5, 3, 1, 100)
    assert s.mean == pytest.approx(22.0)
    assert s.sd == pytest.approx(np.std([1, 2, 3, 4, 100], ddof=1))
    assert (s.q1, s.q3) == (2, 4)
    assert summarize([7]).sd == 0.0
    with pytest.raises(ValueError):
        summarize([])


def test_paired_wilcoxon_matches_scipy_and_rank_biserial() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(0.5, 0.1, 40)
    b = a - rng.normal(0.05, 0.05, 40)
    t = paired_wilcoxon(a, b)
    assert t.p_two_sided == pytest.approx(sps.wilcoxon(a, b).pvalue)
    assert t.p_greater == pytest.approx(sps.wilcoxon(a, b, alternative="greater").pvalue)
    d = a - b
    ranks = sps.rankdata(np.abs(d))
    assert t.rank_biserial == pytest.approx((ranks[d > 0].sum() - ranks[d < 0].sum()) / ranks.sum())
    assert t.n_positive + t.n_negative + t.n_ties == 40
    assert t.mean_diff == pytest.approx(d.mean()) and t.median_diff == pytest.approx(np.median(d))


def test_paired_extremes() -> None:
    up = paired_wilcoxon([2, 3, 4, 5, 6, 7], [1, 1, 1, 1, 1, 1])
    assert up.rank_biserial == 1.0 and up.n_positive == 6
    same = paired_wilcoxon([1, 2, 3], [1, 2, 3])
    assert same.p_two_sided == 1.0 and same.n_ties == 3 and same.rank_biserial == 0.0
    with pytest.raises(ValueError):
        paired_wilcoxon([1, 2], [1])


def test_mann_whitney_auc() -> None:
    sep = mann_whitney([5, 6, 7], [1, 2, 3])
    assert sep.auc == 1.0 and sep.rank_biserial == 1.0
    assert sep.p_two_sided == pytest.approx(sps.mannwhitneyu([5, 6, 7], [1, 2, 3]).pvalue)
    same = mann_whitney([1, 2, 3], [1, 2, 3])
    assert same.auc == 0.5 and same.rank_biserial == 0.0
    with pytest.raises(ValueError):
        mann_whitney([], [1])


def test_top1_accuracy_with_ties_and_misses() -> None:
    targets = ["joy", "fear", "anger", "joy"]
    preds = ["joy", ("fear", "anger"), None, "trust"]
    a = top1_accuracy(targets, preds, 8)
    assert a.correct == 1.5 and a.accuracy == 0.375 and a.chance == 0.125
    # The binomial test uses the rounded count.
    assert a.p_above_chance == pytest.approx(sps.binomtest(2, 4, 0.125, alternative="greater").pvalue)
    assert a.ci_low <= a.accuracy <= a.ci_high
    assert a.cohens_h == pytest.approx(2 * math.asin(math.sqrt(0.375)) - 2 * math.asin(math.sqrt(0.125)))
    with pytest.raises(ValueError):
        top1_accuracy(["joy"], [], 8)


def test_confusion_matrix() -> None:
    m = confusion_matrix(["a", "a", "b"], ["a", "b", None], ["a", "b"], ["a", "b", "n"])
    assert m == [[1, 1, 0], [0, 0, 0]]
    with pytest.raises(ValueError):
        confusion_matrix(["a"], ["zz"], ["a"], ["a"])


def test_length_matching() -> None:
    lm = length_matching([100, 110, 120, 90], [101, 108, 121, 91])
    d = np.array([-1, 2, -1, -1])
    assert lm.mean_diff == pytest.approx(d.mean())
    assert lm.p_t == pytest.approx(sps.ttest_rel([100, 110, 120, 90], [101, 108, 121, 91]).pvalue)
    assert lm.cohens_dz == pytest.approx(d.mean() / d.std(ddof=1))
    assert lm.max_abs_ratio == pytest.approx(2 / 110)
    same = length_matching([100, 100], [100, 100])
    assert same.p_t == 1.0 and same.mean_diff == 0.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=2, max_size=40))
def test_effect_sizes_stay_in_range(pairs: list[tuple[float, float]]) -> None:
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    t = paired_wilcoxon(a, b)
    assert -1.0 <= t.rank_biserial <= 1.0 and 0.0 <= t.p_two_sided <= 1.0
    u = mann_whitney(a, b)
    assert 0.0 <= u.auc <= 1.0 and -1.0 <= u.rank_biserial <= 1.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["joy", "fear", "anger"]), min_size=1, max_size=30), st.integers(0, 1000))
def test_accuracy_in_range(targets: list[str], seed: int) -> None:
    rng = np.random.default_rng(seed)
    preds = [str(rng.choice(["joy", "fear", "anger"])) for _ in targets]
    a = top1_accuracy(targets, preds, 3)
    assert 0.0 <= a.accuracy <= 1.0
    assert a.accuracy == sum(t == p for t, p in zip(targets, preds, strict=True)) / len(targets)
