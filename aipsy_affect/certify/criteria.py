"""The certification criteria: names, thresholds and the one rule that turns a value into a verdict.

A verdict is exactly ``value <comparison> threshold``; nothing else decides it. That lets a reader of
``report.json`` (``publish``) recompute every verdict and refuse a report whose verdicts, thresholds or criteria
set disagree with this module. Changing a threshold here is a change of the standard (BRIEF sections 3.5, 10).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aipsy_affect.certify.report import CertificationReport, Comparison, Criterion

__all__ = ["CRITERIA", "CRITERIA_BY_NAME", "CriterionSpec", "evaluate", "report_problems", "verdict"]


@dataclass(frozen=True)
class CriterionSpec:
    """A criterion of the standard: what is measured and what it must meet."""

    name: str
    """Stable machine name."""

    comparison: Comparison
    """How the value must relate to the threshold."""

    threshold: float
    """The bound."""

    description: str
    """What is measured, in words."""


CRITERIA: tuple[CriterionSpec, ...] = (
    CriterionSpec(
        "no_forbidden_keywords_in_480",
        "==",
        0,
        "forbidden emotion keywords found by the screen in the 480 items of the battery",
    ),
    CriterionSpec(
        "every_twin_has_own_keyword", "==", 0, "keyword twins that do not name their own emotion with a lexicon keyword"
    ),
    CriterionSpec(
        "p_emotional_clinical_above_neutral",
        "<",
        1e-6,
        "classifier P(emotional), clinical vs matched neutral: one-sided Wilcoxon signed-rank p-value "
        "for clinical above neutral",
    ),
    CriterionSpec(
        "top1_clinical_at_most_30pct",
        "<=",
        0.30,
        "classifier top-1 accuracy (top emotion, neutral excluded; chance 1/8) on the keyword-free clinical vignettes",
    ),
    CriterionSpec(
        "top1_twins_at_least_75pct", ">=", 0.75, "classifier top-1 accuracy (top emotion) on the keyword twins"
    ),
    CriterionSpec(
        "complex_neutral_not_above_clinical", "<=", 0.0, "mean P(emotional) of complex_neutral minus that of clinical"
    ),
    CriterionSpec(
        "complex_neutral_close_to_neutral",
        "<=",
        0.5,
        "where mean P(emotional) of complex_neutral lies between neutral (0) and clinical (1); at most "
        "0.5 means closer to neutral than to clinical (1e6 when clinical is not above neutral)",
    ),
    CriterionSpec(
        "length_mean_difference", "|x|<=", 2.0, "mean paired word-count difference, clinical minus matched neutral"
    ),
    CriterionSpec(
        "length_paired_test_not_significant",
        ">=",
        0.05,
        "paired t-test of word counts, clinical vs matched neutral (two-sided p-value)",
    ),
    CriterionSpec(
        "lexical_top1_clinical_at_most_50pct",
        "<=",
        0.50,
        "trained lexical floor (TF-IDF word 1-2-grams + logistic regression, pair-grouped 5-fold CV): "
        "8-way top-1 accuracy on the clinical vignettes (chance 1/8)",
    ),
    CriterionSpec(
        "lexical_affect_auroc_at_most_095",
        "<=",
        0.95,
        "trained lexical floor: out-of-fold AUROC of clinical vs matched neutral",
    ),
)
CRITERIA_BY_NAME: dict[str, CriterionSpec] = {c.name: c for c in CRITERIA}


def verdict(value: float, comparison: str, threshold: float) -> bool:
    """Whether ``value`` meets ``threshold`` under ``comparison``; a NaN or infinite value never passes."""
    if not (math.isfinite(value) and math.isfinite(threshold)):
        return False
    if comparison == "==":
        return value == threshold
    if comparison == "<":
        return value < threshold
    if comparison == "<=":
        return value <= threshold
    if comparison == ">=":
        return value >= threshold
    if comparison == "|x|<=":
        return abs(value) <= threshold
    raise ValueError(f"unknown comparison {comparison!r}")


def evaluate(values: Mapping[str, float]) -> list[Criterion]:
    """Every criterion of the standard, judged on ``values`` (criterion name -> measured value)."""
    from aipsy_affect.certify.report import Criterion

    missing = [c.name for c in CRITERIA if c.name not in values]
    unknown = sorted(set(values) - set(CRITERIA_BY_NAME))
    if missing or unknown:
        raise ValueError(f"criteria values: missing {missing}, unknown {unknown}")
    return [
        Criterion(
            name=c.name,
            value=float(values[c.name]),
            threshold=c.threshold,
            comparison=c.comparison,
            passed=verdict(float(values[c.name]), c.comparison, c.threshold),
            description=c.description,
        )
        for c in CRITERIA
    ]


def report_problems(report: CertificationReport) -> list[str]:
    """Every way the report's criteria disagree with this standard (empty when they agree).

    The criteria set must be exactly :data:`CRITERIA`, each with this module's comparison and threshold, each
    verdict must be what the value gives, and the overall verdict must be that every criterion passed.
    """
    problems: list[str] = []
    names = [c.name for c in report.criteria]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    missing = [c.name for c in CRITERIA if c.name not in names]
    unknown = [n for n in names if n not in CRITERIA_BY_NAME]
    if duplicates:
        problems.append(f"criteria listed more than once: {', '.join(duplicates)}")
    if missing:
        problems.append(f"criteria missing (a report from another version of the standard?): {', '.join(missing)}")
    if unknown:
        problems.append(f"criteria this standard does not know: {', '.join(unknown)}")
    for c in report.criteria:
        spec = CRITERIA_BY_NAME.get(c.name)
        if spec is None:
            continue
        if not c.applicable or c.value is None:
            # An external battery's report can leave criteria unmeasured; a release needs every one measured.
            problems.append(f"{c.name}: not measured ({c.reason or 'not applicable'})")
            continue
        if (c.comparison, c.threshold) != (spec.comparison, spec.threshold):
            problems.append(
                f"{c.name}: rule {c.comparison} {c.threshold:g} differs from the standard's "
                f"{spec.comparison} {spec.threshold:g}"
            )
        expected = verdict(c.value, spec.comparison, spec.threshold)
        if c.passed != expected:
            problems.append(
                f"{c.name}: says {'passed' if c.passed else 'failed'} but value {c.value!r} "
                f"{'meets' if expected else 'does not meet'} {spec.comparison} {spec.threshold:g}"
            )
    overall = all(c.passed for c in report.criteria if c.applicable) and not missing
    if report.passed != overall:
        problems.append(
            f"says {'passed' if report.passed else 'failed'} overall although "
            f"{'not every criterion passed' if report.passed else 'every criterion passed'}"
        )
    return problems
