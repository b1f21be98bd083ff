"""The trained lexical floor (aipsy_affect.defense.lexical): out of fold, pair-grouped, reads words and only words."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from aipsy_affect.battery.folds import grouped_folds
from aipsy_affect.battery.schema import EMOTIONS, SPLITS, Battery, StimulusItem
from aipsy_affect.defense.lexical import CATEGORY_SPLITS, LexicalFloor, fit_lexical_floor, routine_markers, top_words

#: A made-up word per emotion: the only thing in the texts that carries the category.
CUE = {e: f"zq{e[:4]}word" for e in EMOTIONS}


def _battery(records: dict[str, list[dict]]) -> Battery:
    return Battery(items=tuple(StimulusItem.model_validate(r) for s in SPLITS for r in records[s]))


def _with_cues(records: dict[str, list[dict]], *, unique: bool = False) -> dict[str, list[dict]]:
    """Add one cue word to every clinical, moderate and twin text: the emotion's own word, or (``unique``) a word
    that no other item shares (memorable in sample, useless out of fold)."""
    out = json.loads(json.dumps(records))
    for split in ("clinical", "moderate"):
        for k, r in enumerate(out[split]):
            cue = f"zqunique{split[:3]}{k}x" if unique else CUE[r["emotion"]]
            r["text"] = r["text"].replace(" saw ", f" saw {cue} ", 1)
    return _sync_twins(out, records)


def _sync_twins(edited: dict[str, list[dict]], original: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Twins are their vignette unchanged plus one sentence: rebuild them from the edited vignettes."""
    before = {r["id"]: r["text"] for r in original["clinical"]}
    after = {r["id"]: r["text"] for r in edited["clinical"]}
    for twin in edited["keyword_twins"]:
        twin["text"] = after[twin["peak_id"]] + twin["text"][len(before[twin["peak_id"]]) :]
    return edited


@pytest.fixture(scope="module")
def cued(synthetic_battery_records):
    battery = _battery(_with_cues(synthetic_battery_records))
    items = list(battery.items)
    folds = grouped_folds(items, n_folds=5, seed=0)
    return battery, folds, fit_lexical_floor(items, folds)


def _top1(floor: LexicalFloor, battery: Battery, split: str = "clinical") -> float:
    items = battery.split(split)
    return float(np.mean([max(EMOTIONS, key=floor.category[i.id].get) == i.emotion for i in items]))


def test_scores_cover_the_items_in_the_documented_shape(cued):
    battery, folds, floor = cued
    assert set(floor.affect) == {i.id for i in battery.items}
    assert set(floor.category) == {i.id for i in battery.items if i.split in CATEGORY_SPLITS}
    for probs in floor.category.values():
        assert list(probs) == list(EMOTIONS) and sum(probs.values()) == pytest.approx(1.0)
    assert [floor.folds[i.id] for i in battery.items] == folds.tolist()
    assert floor.n_folds == 5 and floor.C == 10.0 and floor.seed == 0


def test_it_reads_the_category_from_words(cued):
    battery, _, floor = cued
    # Chance is 1/8; one cue word among a hundred random filler words still names most categories.
    assert _top1(floor, battery) > 0.75 and _top1(floor, battery, "moderate") > 0.75
    words = top_words(list(battery.items), k=3)
    assert list(words) == list(EMOTIONS)
    assert all(CUE[e] in words[e] for e in EMOTIONS)


def test_scores_are_out_of_fold(synthetic_battery_records):
    # Every vignette carries a word no other item has: a model scored on its own training items names all of
    # them; out of fold that word is unseen and the floor is near chance (1/8).
    battery = _battery(_with_cues(synthetic_battery_records, unique=True))
    items = list(battery.items)
    floor = fit_lexical_floor(items, grouped_folds(items, n_folds=5, seed=0))
    assert _top1(floor, battery) < 0.3


def test_affect_model_is_trained_on_clinical_vs_neutral_and_pairs_stay_together(synthetic_battery_records):
    records = json.loads(json.dumps(synthetic_battery_records))
    rng = random.Random(0)
    for r in records["clinical"]:
        r["text"] = r["text"].replace(" saw ", f" saw zqstakes{rng.randint(0, 3)} ", 1)
    battery = _battery(_sync_twins(records, synthetic_battery_records))
    items = list(battery.items)
    floor = fit_lexical_floor(items, grouped_folds(items, n_folds=5, seed=0))
    clinical = [floor.affect[i.id] for i in battery.split("clinical")]
    neutral = [floor.affect[i.id] for i in battery.split("neutral")]
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score([1] * len(clinical) + [0] * len(neutral), clinical + neutral) > 0.8  # chance 0.5
    # Folds that split a pair (neutral in another fold than its vignette) are the caller's business, but a fold
    # vector that does not match the items is refused.
    with pytest.raises(ValueError, match="folds has shape"):
        fit_lexical_floor(items, np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="at least two folds"):
        fit_lexical_floor(items, np.zeros(len(items), dtype=int))


def test_routine_markers_are_whole_words_case_insensitive():
    text = (
        "As usual she went in. As  always, routine checks; the Regular bus ran normally. Abnormal, unusual, "
        "irregularity and routines are not markers. It was ordinary and customary, as it usually is."
    )
    assert routine_markers(text) == {
        "usual": 1,
        "as always": 1,
        "routine": 1,
        "regular": 1,
        "normally": 1,
        "ordinary": 1,
        "customary": 1,
        "usually": 1,
    }
    assert routine_markers("Nothing here.") == {}
