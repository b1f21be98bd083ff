"""The lexical floor as a submission (``probe --model tfidf``): the probe's folds, a valid one-layer submission, and
the shipped ``baselines/lexical.json`` reproduced from scratch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aipsy_affect.battery.folds import grouped_folds
from aipsy_affect.battery.release import packaged_release
from aipsy_affect.benchmark.checks import check_submission
from aipsy_affect.benchmark.scoring import score_submission
from aipsy_affect.probe.lexical import LEXICAL_MODEL_ID, lexical_submission

BASELINE = Path(__file__).resolve().parents[2] / "baselines" / "lexical.json"


@pytest.fixture(scope="module")
def floor():
    return lexical_submission(packaged_release())


def test_one_layer_with_the_probes_folds_and_every_item(floor) -> None:
    release = packaged_release()
    items = list(release.battery.items)
    assert len(floor.layers) == 1 and floor.model.id == LEXICAL_MODEL_ID
    layer = floor.layers[0]
    expected = grouped_folds(items, 5, 0)  # exactly what `probe` uses for the same --folds and --seed
    assert [layer.folds[i.id] for i in items] == expected.tolist()
    assert len(layer.affect) == len(items)  # twins included
    assert set(layer.category) == {i.id for i in items if i.emotion is not None}
    assert check_submission(floor, release.battery, dataset_revision=release.sha256) == []
    assert floor.dataset is not None and floor.dataset.revision == release.sha256


def test_it_is_a_floor_not_noise(floor) -> None:
    report = score_submission(floor, packaged_release(), n_bootstrap=200)
    assert report.main_score > 0.6 and report.affect_score > 0.6  # words alone carry a lot
    assert report.main_layers == [0] * report.outer_folds


def test_shipped_baseline_reproduces(floor) -> None:
    shipped = json.loads(BASELINE.read_text())
    fresh = json.loads(floor.model_dump_json(exclude_none=True))
    assert shipped["dataset"] == fresh["dataset"], "baselines/lexical.json was made on other data: regenerate it"
    for key in ("affect", "folds"):
        assert shipped["layers"][0][key].keys() == fresh["layers"][0][key].keys()
    a = np.array([shipped["layers"][0]["affect"][k] for k in sorted(fresh["layers"][0]["affect"])])
    b = np.array([fresh["layers"][0]["affect"][k] for k in sorted(fresh["layers"][0]["affect"])])
    assert np.allclose(a, b, rtol=0, atol=1e-7)
    assert shipped["layers"][0]["folds"] == fresh["layers"][0]["folds"]
