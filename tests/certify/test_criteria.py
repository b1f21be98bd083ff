"""The certification standard (aipsy_affect.certify.criteria): a verdict is exactly value <comparison> threshold."""

from __future__ import annotations

import math

import pytest

from aipsy_affect.certify.criteria import CRITERIA, CRITERIA_BY_NAME, evaluate, report_problems, verdict
from aipsy_affect.certify.stats import paired_auroc


@pytest.mark.parametrize(
    "value, comparison, threshold, expected",
    [
        (0, "==", 0, True),
        (1, "==", 0, False),
        (0.5e-6, "<", 1e-6, True),
        (1e-6, "<", 1e-6, False),
        (0.30, "<=", 0.30, True),
        (0.3000001, "<=", 0.30, False),
        (0.75, ">=", 0.75, True),
        (0.7499, ">=", 0.75, False),
        (-2.0, "|x|<=", 2.0, True),
        (2.01, "|x|<=", 2.0, False),
        (-2.01, "|x|<=", 2.0, False),
        (math.nan, "<=", 1.0, False),
        (math.nan, ">=", 0.0, False),
        (math.inf, ">=", 0.0, False),
    ],
)
def test_verdict(value, comparison, threshold, expected):
    assert verdict(value, comparison, threshold) is expected


def test_unknown_comparison_is_an_error():
    with pytest.raises(ValueError, match="unknown comparison"):
        verdict(1.0, "~", 1.0)


def test_the_standard_includes_the_lexical_floor():
    assert CRITERIA_BY_NAME["lexical_top1_clinical_at_most_50pct"].threshold == 0.50
    assert CRITERIA_BY_NAME["lexical_affect_auroc_at_most_095"].threshold == 0.95
    assert len(CRITERIA_BY_NAME) == len(CRITERIA) == 11


def _values(**changes: float) -> dict[str, float]:
    good = {
        "no_forbidden_keywords_in_480": 0,
        "every_twin_has_own_keyword": 0,
        "p_emotional_clinical_above_neutral": 1e-20,
        "top1_clinical_at_most_30pct": 0.1,
        "top1_twins_at_least_75pct": 0.9,
        "complex_neutral_not_above_clinical": -0.1,
        "complex_neutral_close_to_neutral": 0.1,
        "length_mean_difference": 0.5,
        "length_paired_test_not_significant": 0.5,
        "lexical_top1_clinical_at_most_50pct": 0.3,
        "lexical_affect_auroc_at_most_095": 0.8,
    }
    return {**good, **changes}


def test_evaluate_judges_every_criterion_and_needs_every_value():
    assert all(c.passed for c in evaluate(_values()))
    failed = [
        c.name
        for c in evaluate(_values(lexical_top1_clinical_at_most_50pct=0.51, length_mean_difference=-3))
        if not c.passed
    ]
    assert failed == ["length_mean_difference", "lexical_top1_clinical_at_most_50pct"]
    values = _values()
    del values["every_twin_has_own_keyword"]
    with pytest.raises(ValueError, match="missing"):
        evaluate(values)


class _Report:
    def __init__(self, criteria, passed):
        self.criteria, self.passed = criteria, passed


def test_report_problems_on_a_consistent_report_is_empty():
    criteria = evaluate(_values(top1_clinical_at_most_30pct=0.4))
    assert report_problems(_Report(criteria, passed=False)) == []
    assert report_problems(_Report(criteria, passed=True)) == [
        "says passed overall although not every criterion passed"
    ]


def test_paired_auroc_and_its_interval():
    perfect = paired_auroc([1, 2, 3, 4], [0, 0, 0, 0], n_resamples=200)
    assert perfect.auroc == 1.0 and perfect.ci_low == 1.0 and perfect.n_pairs == 4
    ties = paired_auroc([1, 1, 1], [1, 1, 1], n_resamples=50)
    assert ties.auroc == 0.5
    mixed = paired_auroc([0.9, 0.2, 0.8, 0.4, 0.7, 0.6], [0.1, 0.3, 0.5, 0.5, 0.65, 0.2], n_resamples=500, seed=1)
    assert mixed.ci_low <= mixed.auroc <= mixed.ci_high and mixed.ci_low < mixed.ci_high
    assert (
        paired_auroc([0.9, 0.2, 0.8, 0.4, 0.7, 0.6], [0.1, 0.3, 0.5, 0.5, 0.65, 0.2], n_resamples=500, seed=1) == mixed
    )  # seeded: reproducible
    with pytest.raises(ValueError):
        paired_auroc([1.0], [0.0])
