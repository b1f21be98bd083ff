"""Battery views researchers reach for: domain filters, triplets, twins, the DataFrame, and file modes."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

import aipsy_affect
from aipsy_affect.battery.io import write_atomic
from aipsy_affect.battery.schema import EMOTIONS, LABEL_NAMES, resolve_domain


@pytest.fixture(scope="module")
def battery():
    return aipsy_affect.load_battery()


@pytest.mark.parametrize("value", [1, "1", "work", "Work", "work "])
def test_domain_accepts_number_slug_or_label(value) -> None:
    assert resolve_domain(value) == 1
    assert resolve_domain("family and home") == 2


@pytest.mark.parametrize("value", ["works", 0, 7, "", True])
def test_unknown_domain_is_an_error_not_an_empty_selection(battery, value) -> None:
    with pytest.raises(ValueError, match=r"unknown domain|not a domain"):
        battery.split("clinical", domain=value)
    with pytest.raises(ValueError):
        aipsy_affect.load_split("clinical", domain=value)


def test_domain_filter_selects_the_cell(battery) -> None:
    work = battery.split("clinical", domain="work")
    assert len(work) == 32 and {i.domain for i in work} == {1}
    assert [i.id for i in aipsy_affect.load_split("neutral", domain=6)] == [
        i.id for i in battery.split("neutral") if i.domain == 6
    ]


def test_triplets_and_twins(battery) -> None:
    triplets = battery.triplets()
    assert len(triplets) == 48
    for peak, moderate, neutral in triplets:
        assert peak.split == "clinical" and moderate.peak_id == peak.id and neutral.matched_control_id == peak.id
        assert peak.emotion == moderate.emotion and peak.protagonist == moderate.protagonist
    twins = battery.twins()
    assert len(twins) == 192 and all(t.text.startswith(v.text) and t.emotion == v.emotion for v, t in twins)


def test_to_pandas_has_stable_labels_and_pair_emotion(battery) -> None:
    df = battery.to_pandas()
    assert df.shape[0] == 672 and {"id", "text", "word_count", "label", "pair_emotion"} <= set(df.columns)
    assert LABEL_NAMES[:8] == EMOTIONS and LABEL_NAMES[8] == "none"
    for _, row in df.sample(40, random_state=0).iterrows():
        expected = row["emotion"] if isinstance(row["emotion"], str) else "none"
        assert LABEL_NAMES[row["label"]] == expected
    neutral = df[df.split == "neutral"]
    assert neutral.pair_emotion.notna().all()
    index = battery.by_id()
    assert all(index[c].emotion == e for c, e in zip(neutral.matched_control_id, neutral.pair_emotion, strict=True))
    assert df[df.split == "complex_neutral"].pair_emotion.isna().all()


def test_write_atomic_honours_the_umask_without_changing_it(tmp_path: Path) -> None:
    before = os.umask(0o027)
    try:
        seen = []
        # A thread that reads the umask meanwhile must never see it flipped to 0.
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                mask = os.umask(0o027)
                os.umask(mask)
                seen.append(mask)

        watcher = threading.Thread(target=watch)
        watcher.start()
        for n in range(200):
            write_atomic(tmp_path / f"f{n}.txt", "x")
        stop.set()
        watcher.join()
        mode = stat.S_IMODE((tmp_path / "f0.txt").stat().st_mode)
        assert mode == 0o640
        assert set(seen) <= {0o027}
        assert not list(tmp_path.glob(".*.tmp"))
    finally:
        os.umask(before)
