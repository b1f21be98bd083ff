"""Schema models: aliases, computed fields, and every Battery invariant violated on purpose."""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from aipsy_affect.battery.schema import EMOTION_ALIASES, EMOTIONS, Battery, ItemDraft, StimulusItem


def _battery(records: dict[str, list[dict]]) -> Battery:
    return Battery(items=tuple(StimulusItem.model_validate(r) for rows in records.values() for r in rows))


@pytest.fixture()
def records(synthetic_battery_records: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return copy.deepcopy(synthetic_battery_records)


def test_synthetic_battery_is_valid(records: dict[str, list[dict]]) -> None:
    battery = _battery(records)
    assert len(battery.items) == 672
    assert len(battery.pairs()) == 192


@pytest.mark.parametrize(("alias", "emotion"), sorted(EMOTION_ALIASES.items()))
def test_plutchik_intensity_aliases(alias: str, emotion: str) -> None:
    assert ItemDraft(id="x", text="t", emotion=alias).emotion == emotion
    assert ItemDraft(id="x", text="t", emotion=alias.upper()).emotion == emotion


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_primary_emotions_accepted(emotion: str) -> None:
    assert ItemDraft(id="x", text="t", emotion=emotion).emotion == emotion


def test_unknown_emotion_message() -> None:
    with pytest.raises(ValidationError, match="'furry' is not a Plutchik emotion"):
        ItemDraft(id="x", text="t", emotion="furry")


def test_word_count_is_computed_not_trusted() -> None:
    item = ItemDraft.model_validate({"id": "x", "text": "one two three", "word_count": 99})
    assert item.word_count == 3
    assert item.model_dump()["word_count"] == 3


def test_extra_fields_forbidden() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ItemDraft.model_validate({"id": "x", "text": "t", "colour": "red"})


def test_domain_label_derived_and_checked() -> None:
    assert ItemDraft(id="x", text="t", domain=3).domain_label == "health and care"
    with pytest.raises(ValidationError, match="does not match domain"):
        ItemDraft(id="x", text="t", domain=3, domain_label="work")
    with pytest.raises(ValidationError, match="not one of 1-6"):
        ItemDraft(id="x", text="t", domain=9)


def test_split_and_emotion_must_agree() -> None:
    with pytest.raises(ValidationError, match="needs an emotion"):
        ItemDraft(id="x", text="t", split="clinical")
    with pytest.raises(ValidationError, match="carry no emotion"):
        ItemDraft(id="x", text="t", split="neutral", emotion="joy")
    with pytest.raises(ValidationError, match="does not fit split"):
        ItemDraft(id="x", text="t", split="neutral", intensity="peak")
    assert ItemDraft(id="x", text="t", split="moderate", emotion="rage").intensity == "moderate"


def test_protagonist_must_occur() -> None:
    with pytest.raises(ValidationError, match="does not occur"):
        ItemDraft(id="x", text="Someone left.", protagonist="Ines")


def test_over_long_text_rejected() -> None:
    # A draft over the limit is read (validate fails that one item); a battery item is refused.
    assert ItemDraft(id="x", text="word " * 401).word_count == 401
    with pytest.raises(ValidationError, match="limit is 400"):
        StimulusItem(
            id="c",
            split="complex_neutral",
            domain=1,
            protagonist="Ines",
            protagonist_gender="female",
            text="Ines " + "word " * 400,
        )


def test_bad_id_rejected() -> None:
    with pytest.raises(ValidationError):
        ItemDraft(id="has space", text="t")


def test_stimulus_item_needs_links() -> None:
    with pytest.raises(ValidationError, match="need matched_control_id"):
        StimulusItem(
            id="c",
            split="clinical",
            emotion="joy",
            domain=1,
            protagonist="Ines",
            protagonist_gender="female",
            text="Ines ran.",
        )
    with pytest.raises(ValidationError, match="need peak_id"):
        StimulusItem(
            id="m",
            split="moderate",
            emotion="joy",
            domain=1,
            protagonist="Ines",
            protagonist_gender="female",
            text="Ines ran.",
        )


def _fails(records: dict[str, list[dict]], pattern: str) -> None:
    with pytest.raises(ValidationError, match=pattern):
        _battery(records)


def test_duplicate_ids(records) -> None:
    records["clinical"][1]["id"] = records["clinical"][0]["id"]
    _fails(records, "duplicate ids: clin-joy-work-1")


def test_split_counts(records) -> None:
    records["complex_neutral"].pop()
    _fails(records, "split 'complex_neutral' has 47 items; the design has 48")


def test_unpaired_neutral(records) -> None:
    records["neutral"][0]["matched_control_id"] = "clin-does-not-exist"
    _fails(records, "matched_control_id is not an item of the other split: .*neut-joy-work-1")


def test_pairs_point_back(records) -> None:
    records["clinical"][0]["matched_control_id"] = records["neutral"][1]["id"]
    _fails(records, "do not point back")


def test_pair_shares_protagonist(records) -> None:
    n = records["neutral"][0]
    n["protagonist"], n["text"] = "Zed", "Zed " + n["text"]
    _fails(records, "differ in domain or protagonist: .*clin-joy-work-1")


def test_pair_shares_domain(records) -> None:
    records["neutral"][0]["domain"], records["neutral"][0]["domain_label"] = 2, "family and home"
    _fails(records, "differ in domain or protagonist")


def test_moderate_points_to_clinical(records) -> None:
    records["moderate"][0]["peak_id"] = "neut-joy-work-1"
    _fails(records, "moderate items whose peak_id is not a clinical item.*mod-joy-work")


def test_twin_points_to_clinical(records) -> None:
    records["keyword_twins"][0]["peak_id"] = "clin-joy-work-2"
    _fails(records, "keyword_twins items whose peak_id|without exactly one keyword twin|does not start")


def test_twin_keeps_vignette_unchanged(records) -> None:
    twin = records["keyword_twins"][0]
    twin["text"] = twin["protagonist"] + " changed. " + twin["text"]
    _fails(records, "does not start with their vignette unchanged: twin-joy-work-1")


def test_cells_fully_crossed(records) -> None:
    # Moving one vignette (and its partners) to another domain leaves two cells off the design.
    for split in ("clinical", "neutral", "keyword_twins"):
        for r in records[split]:
            if r["id"].endswith("joy-work-4"):
                r["domain"], r["domain_label"] = 2, "family and home"
    _fails(records, "cells without exactly 4 vignettes: joy/family=5, joy/work=3")


def test_complex_neutral_per_domain(records) -> None:
    r = records["complex_neutral"][0]
    r["domain"], r["domain_label"] = 2, "family and home"
    _fails(records, "complex_neutral domains without exactly 8 items")
