"""The models of a design audit (``battery.audit``): checks, length matching, domain association, keyword hits."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["AuditReport", "Check", "DomainAssociation", "KeywordHits", "LengthAudit", "Status"]

Status = Literal["holds", "fails", "not_applicable"]


class Check(BaseModel):
    """One design invariant and what the battery shows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """Stable machine name."""

    status: Status
    """``holds``, ``fails`` or ``not_applicable``."""

    value: float | None
    """The figure the verdict rests on (``None`` when not applicable)."""

    figure: str
    """The figure in words (counts, means, p-values); empty when not applicable."""

    reason: str | None = None
    """Why the check does not apply (``not_applicable`` only)."""

    description: str
    """What the invariant is."""


class LengthAudit(BaseModel):
    """Word counts of vignettes against their matched neutrals (vignette minus neutral)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_pairs: int
    """Pairs compared."""

    mean_diff: float
    """Mean paired difference in words."""

    sd_diff: float
    """Standard deviation of the differences."""

    t: float
    """Paired t statistic."""

    p_t: float
    """Two-sided p-value of the paired t-test."""

    p_wilcoxon: float
    """Two-sided p-value of the Wilcoxon signed-rank test."""

    outside_tolerance: int
    """Pairs whose difference exceeds 10% of the vignette's length."""


class DomainAssociation(BaseModel):
    """Does the domain predict the emotion? Chi-square over the clinical items, emotion x domain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: Literal["domain", "domain_label"]
    """Which column is the domain: the number, or the label (the topic the text is about)."""

    n: int
    """Clinical items with a domain."""

    n_levels: int
    """Distinct domains."""

    chi2: float
    """Pearson's chi-square statistic (no continuity correction)."""

    dof: int
    """Degrees of freedom."""

    p: float
    """p-value of the chi-square test of independence."""

    cramers_v: float
    """Cramer's V, 0 (independent) to 1 (the domain names the emotion)."""

    emotion_specific_levels: int
    """Domains that occur with only one emotion."""

    majority_accuracy: float
    """Share of items whose emotion is their domain's most frequent emotion: how well the domain alone names the
    emotion, in sample (chance: the share of the most frequent emotion)."""


class KeywordHits(BaseModel):
    """What the keyword screen finds, per split."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    forbidden_by_split: dict[str, int]
    """Forbidden-keyword hits per split."""

    items_with_forbidden_by_split: dict[str, int]
    """Items with at least one forbidden keyword, per split."""

    expressive_by_split: dict[str, int]
    """Expressive-behaviour hits per split (allowed, reported)."""

    top_forbidden: dict[str, int]
    """The most frequent forbidden matches in the main splits (lower-cased), most frequent first."""


class AuditReport(BaseModel):
    """The design checks of one battery."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    layout: str
    """The layout the battery was read from (``aipsy-affect`` or ``published``)."""

    source: str
    """Where it was read from."""

    sha256: str
    """Hash of the data read."""

    counts: dict[str, int]
    """Items per split."""

    checks: list[Check]
    """Every invariant, in a fixed order."""

    length: LengthAudit | None
    """Paired length comparison; ``None`` without at least two pairs."""

    association: dict[str, DomainAssociation]
    """``domain`` and ``domain_label`` -> the association with emotion (absent when it cannot be computed)."""

    keywords: KeywordHits | None
    """Keyword-screen hits; ``None`` when no screen was given."""

    def check(self, name: str) -> Check:
        """The check of this name (``KeyError`` when there is none)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)
