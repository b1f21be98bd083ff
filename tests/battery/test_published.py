"""Reading the published AIPsy-Affect layout: detection, label mapping, fields kept as published, nothing invented,
the Hub's parquet layout (local and through the Hub reader), the keyword control; our battery stays strict."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from published_helpers import FIXTURE, KEYWORD_CONTROL, SPLIT_FILES, copy_fixture

import aipsy_affect.battery.export_format as export_format
from aipsy_affect.battery.folds import grouped_folds, pair_group
from aipsy_affect.battery.published import (
    ExternalBattery,
    ExternalItem,
    control_as_twins,
    detect_layout,
    read_keyword_control,
    read_published,
)
from aipsy_affect.battery.release import load_release
from aipsy_affect.battery.schema import Battery
from aipsy_affect.battery.sources import data_dir, data_sha256, load_battery, load_split
from aipsy_affect.errors import InputErrors, OptionError


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]


def test_fixture_loads_as_published_with_fields_kept(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path / "pub")
    release = load_release(folder)
    assert release.layout == "published" and detect_layout(folder) == "published"
    battery = release.battery
    assert isinstance(battery, ExternalBattery)
    counts = {s: len(battery.split(s)) for s in ("clinical", "neutral", "moderate", "complex_neutral", "keyword_twins")}
    assert counts == {"clinical": 72, "neutral": 72, "moderate": 8, "complex_neutral": 6, "keyword_twins": 0}
    # Ids and published fields kept; peak labels mapped, the label as published kept beside.
    first = _rows("clinical")[0]
    item = battery.by_id()[first["id"]]
    assert (item.id, item.source_emotion, item.emotion) == ("B-rage-d1-v1", "rage", "anger")
    assert (item.domain, item.domain_label, item.matched_control_id) == (1, first["domain_label"], "N-rage-d1-c1")
    mapped = {i.source_emotion: i.emotion for i in battery.split("clinical")}
    assert mapped == {
        "rage": "anger",
        "terror": "fear",
        "grief": "sadness",
        "loathing": "disgust",
        "amazement": "surprise",
        "admiration": "trust",
        "ecstasy": "joy",
        "vigilance": "anticipation",
    }
    # String domains of complex neutrals stay strings; null word counts stay null, word_count is recomputed.
    assert {i.domain for i in battery.split("complex_neutral")} >= {"technical_mechanical", "culinary"}
    nulls = [i for i in battery.items if isinstance(i, ExternalItem) and i.source_word_count is None]
    assert nulls and all(i.word_count == len(i.text.split()) for i in nulls)
    # Nothing invented: no protagonist, no peak link, no neutral for a moderate, no twins.
    assert all(i.protagonist is None and i.protagonist_gender is None for i in battery.items)
    assert all(i.peak_id is None and i.matched_control_id is None for i in battery.split("moderate"))
    assert len(battery.pairs()) == 72
    assert all(c.matched_control_id == n.id and n.matched_control_id == c.id for c, n in battery.pairs())


def test_load_battery_load_split_and_hash_follow_the_layout(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path / "pub")
    assert isinstance(load_battery(folder), ExternalBattery)
    assert [i.id for i in load_split("moderate", folder)] == [r["id"] for r in _rows("moderate")]
    sha = data_sha256(folder)
    assert sha == load_release(folder).sha256 == read_published(folder).sha256
    path = folder / "neutral.jsonl"
    path.write_text(path.read_text(encoding="utf-8").replace("bench", "bench ", 1), encoding="utf-8")
    assert data_sha256(folder) != sha
    assert load_release(folder).sha256 != sha  # an edited folder is read again, not served from the cache


def test_our_packaged_battery_is_unchanged_and_strict(tmp_path: Path) -> None:
    packaged = load_release()
    assert packaged.layout == "aipsy-affect" and type(packaged.battery) is Battery
    assert detect_layout(Path(str(data_dir()))) == "aipsy-affect"
    with pytest.raises(OptionError, match="needs --source"):
        load_release(None, layout="published")
    # Published items cannot pass as ours: the design invariants remain hard errors.
    with pytest.raises(ValueError, match="domain_label"):
        Battery(items=load_release(FIXTURE).battery.items)
    # Read strictly as ours, the published folder fails with located errors (our required fields).
    with pytest.raises(InputErrors) as info:
        load_release(copy_fixture(tmp_path / "pub"), layout="aipsy-affect")
    assert "clinical.jsonl:1: split: required field is missing" in str(info.value)


def test_our_layout_read_as_published_names_the_foreign_columns(tmp_path: Path) -> None:
    folder = tmp_path / "ours"
    shutil.copytree(Path(str(data_dir())), folder)
    with pytest.raises(InputErrors) as info:
        load_release(folder, layout="published")
    assert "clinical.jsonl:1: split: not a column of the published layout" in str(info.value)
    with pytest.raises(OptionError, match="--layout must be one of"):
        load_release(folder, layout="hub")


@pytest.mark.parametrize(
    ("split", "line", "change", "expected"),
    [
        ("clinical", 3, {"emotion": "furry"}, "clinical.jsonl:3: emotion: 'furry' is not a Plutchik emotion"),
        ("clinical", 2, {"emotion": "neutral"}, "clinical.jsonl:2: clinical items need an emotion"),
        ("neutral", 1, {"emotion": "grief"}, "neutral.jsonl:1: neutral items carry no emotion"),
        ("moderate", 4, {"intensity": "huge"}, "moderate.jsonl:4: intensity: 'huge' is not allowed"),
        ("complex_neutral", 2, {"protagonist": "Ann"}, "complex_neutral.jsonl:2: protagonist: not a column"),
        ("neutral", 5, {"id": "B-rage-d1-v1"}, "duplicate id 'B-rage-d1-v1'"),
    ],
)
def test_bad_records_are_located(tmp_path: Path, split: str, line: int, change: dict, expected: str) -> None:
    folder = copy_fixture(tmp_path / "pub")
    rows = _rows(split)
    rows[line - 1].update(change)
    (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(InputErrors) as info:
        load_release(folder, layout="published")
    assert expected in str(info.value)


def test_a_missing_split_file_is_named(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path / "pub")
    (folder / "moderate.jsonl").unlink()
    with pytest.raises(InputErrors, match="no moderate file"):
        read_published(folder)


def _hub_folder(dest: Path) -> Path:
    """The fixture as the Hub stores a dataset: sharded parquet under data/, a README, no manifest."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (dest / "data").mkdir(parents=True)
    for name in SPLIT_FILES:
        rows = _rows(name)
        table = pa.Table.from_pylist(
            rows,
            schema=pa.schema(
                [
                    ("id", pa.string()),
                    ("emotion", pa.string()),
                    ("intensity", pa.string()),
                    # The Hub stores a column of one type: complex neutrals' string domains make it a string column there.
                    ("domain", pa.string() if name == "complex_neutral" else pa.int64()),
                    ("domain_label", pa.string()),
                    ("matched_control_id", pa.string()),
                    ("word_count", pa.int64()),
                    ("text", pa.string()),
                ]
            ),
        )
        pq.write_table(table, dest / "data" / f"{name}-00000-of-00001.parquet")
    (dest / "README.md").write_text("---\npretty_name: fixture\n---\n", encoding="utf-8")
    return dest


def test_round_trip_through_the_hub_parquet_layout_and_the_hub_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jsonl = load_release(FIXTURE).battery
    folder = _hub_folder(tmp_path / "snapshot")
    local = load_release(folder)
    assert local.layout == "published"
    assert [i.model_dump() for i in local.battery.items] == [i.model_dump() for i in jsonl.items]

    fetched: list[tuple[str, str]] = []

    def fake_download(repo_id: str, revision: str) -> Path:
        fetched.append((repo_id, revision))
        return folder

    monkeypatch.setattr(export_format, "download_export", fake_download)
    hub = load_release("keidolabs/aipsy-affect", revision="v1.0")
    assert fetched == [("keidolabs/aipsy-affect", "v1.0")]
    assert (hub.source, hub.layout, hub.sha256) == ("keidolabs/aipsy-affect@v1.0", "published", local.sha256)
    assert [i.model_dump() for i in hub.battery.items] == [i.model_dump() for i in jsonl.items]


def test_keyword_control_reads_and_stands_in_for_twins(tmp_path: Path) -> None:
    items, info = read_keyword_control(KEYWORD_CONTROL)
    assert (
        info.n == len(items) == 24 and info.by_emotion == {e: 3 for e in info.by_emotion} and len(info.by_emotion) == 8
    )
    battery = control_as_twins(load_release(FIXTURE).battery, items, str(KEYWORD_CONTROL))
    twins = battery.split("keyword_twins")
    assert len(twins) == 24 and all(t.peak_id is None for t in twins)
    assert {t.emotion for t in twins if t.id.startswith("kc-rage")} == {"anger"}
    # Unpaired controls stand alone in the folds, stratified by their emotion; pairs still share a fold.
    folds = dict(zip((i.id for i in battery.items), grouped_folds(list(battery.items), 5, 0), strict=True))
    assert all(pair_group(t) == t.id for t in twins)
    assert all(folds[c.id] == folds[n.id] for c, n in battery.pairs())
    clash = tmp_path / "clash.jsonl"
    clash.write_text(json.dumps({"id": "B-rage-d1-v1", "text": "She was furious.", "emotion": "rage"}) + "\n")
    with pytest.raises(InputErrors, match="also an item of the battery"):
        control_as_twins(load_release(FIXTURE).battery, read_keyword_control(clash)[0], str(clash))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "k1", "text": "x"}) + "\n")
    with pytest.raises(InputErrors, match=r"bad\.jsonl:1: emotion: required field is missing"):
        read_keyword_control(bad)
