"""The design audit: each invariant holds, fails with its figure, or is not applicable with the reason."""

from __future__ import annotations

import pytest
from published_helpers import FIXTURE

from aipsy_affect.battery.audit import AuditReport, audit_battery, audit_markdown, domain_association
from aipsy_affect.battery.published import ExternalBattery, ExternalItem
from aipsy_affect.battery.release import Release, load_release
from aipsy_affect.keywords.screen import find_keywords


def _audit(release: Release, screen: bool = True) -> AuditReport:
    return audit_battery(
        release.battery,
        layout=release.layout,
        source=release.source,
        sha256=release.sha256,
        find_keywords=find_keywords if screen else None,
    )


@pytest.fixture(scope="module")
def published() -> AuditReport:
    return _audit(load_release(FIXTURE))


def test_published_fixture_flags_length_and_domain_confounds(published: AuditReport) -> None:
    status = {c.name: c.status for c in published.checks}
    assert status["length_mean_difference"] == status["length_paired_test"] == "fails"
    assert published.length is not None and published.length.mean_diff == pytest.approx(12.847, abs=1e-3)
    assert "+12.85 words" in published.check("length_mean_difference").figure
    assert status["domain_does_not_predict_emotion"] == status["domains_shared_by_all_emotions"] == "fails"
    label = published.association["domain_label"]
    # Domains 1-3 are emotion-specific: the label names the emotion, the number alone does not.
    assert label.emotion_specific_levels == 24 and label.cramers_v > 0.8 and label.p < 1e-6
    assert published.association["domain"].cramers_v == pytest.approx(0.0, abs=1e-12)
    assert published.check("domain_does_not_predict_emotion").value == pytest.approx(label.cramers_v)
    assert status["moderates_linked_to_peak"] == "fails"
    assert published.check("moderates_linked_to_peak").figure == "0 of 8 moderate items name a peak vignette"
    assert status["vignettes_paired"] == status["pairs_share_domain"] == status["word_count_matches_text"] == "holds"
    assert status["intensity_matches_split"] == "fails"  # one complex neutral has a null intensity


def test_what_the_layout_lacks_is_not_applicable_with_a_reason(published: AuditReport) -> None:
    twins = published.check("keyword_twins")
    assert twins.status == "not_applicable" and twins.value is None and "no keyword twins" in str(twins.reason)
    hero = published.check("protagonist_named")
    assert hero.status == "not_applicable" and "none is inferred" in str(hero.reason)
    assert all((c.reason is None) == (c.status != "not_applicable") for c in published.checks)


def test_keyword_hits_per_split_and_without_a_screen(published: AuditReport) -> None:
    assert published.keywords is not None
    assert published.keywords.forbidden_by_split["clinical"] == 3
    assert published.keywords.forbidden_by_split["neutral"] == 0
    assert published.check("no_forbidden_keywords").status == "fails"
    bare = _audit(load_release(FIXTURE), screen=False)
    assert bare.keywords is None and bare.check("no_forbidden_keywords").status == "not_applicable"


def test_our_packaged_battery_holds_the_structural_invariants() -> None:
    report = _audit(load_release())
    status = {c.name: c.status for c in report.checks}
    for name in (
        "split_counts",
        "clinical_cells_balanced",
        "vignettes_paired",
        "pairs_share_domain",
        "pair_length_within_10pct",
        "length_mean_difference",
        "domain_does_not_predict_emotion",
        "domains_shared_by_all_emotions",
        "moderates_linked_to_peak",
        "keyword_twins",
        "no_forbidden_keywords",
        "protagonist_named",
        "intensity_matches_split",
        "vignette_length_80_130",
    ):
        assert status[name] == "holds", (name, report.check(name).figure)
    assert report.association["domain_label"].cramers_v == pytest.approx(0.0, abs=1e-12)
    assert status["word_count_matches_text"] == "not_applicable"


def test_a_stated_word_count_that_disagrees_with_the_text_fails() -> None:
    battery = load_release(FIXTURE).battery
    items = list(battery.items)
    k = next(i for i, item in enumerate(items) if isinstance(item, ExternalItem) and item.source_word_count)
    items[k] = items[k].model_copy(update={"source_word_count": 3})
    report = audit_battery(ExternalBattery(items=tuple(items)), layout="published", source="t", sha256="0" * 64)
    check = report.check("word_count_matches_text")
    assert check.status == "fails" and check.value == 1


def test_domain_association_needs_two_levels() -> None:
    clinical = load_release(FIXTURE).battery.split("clinical")
    assert domain_association(clinical[:1], "domain") is None
    assert domain_association(clinical, "domain") is not None


def test_markdown_lists_every_check(published: AuditReport) -> None:
    text = audit_markdown(published)
    assert "Layout `published`" in text and published.sha256 in text
    for check in published.checks:
        assert f"| {check.name} |" in text
    assert "| domain_label | 27 |" in text
