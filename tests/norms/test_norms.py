"""The norming kit: blinded forms, the Latin-square lists, strict reading of filled forms, and the statistics."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from aipsy_affect.battery.folds import pair_group
from aipsy_affect.battery.release import load_release
from aipsy_affect.cli.main import main
from aipsy_affect.errors import EXIT_INPUT, EXIT_OK, InputErrors
from aipsy_affect.norms.analyze import analyze, fleiss_kappa
from aipsy_affect.norms.forms import assign_lists, make_forms
from aipsy_affect.norms.models import StudyKey


@pytest.fixture(scope="module")
def release():
    return load_release()


@pytest.fixture()
def study(tmp_path: Path, release) -> tuple[Path, StudyKey]:
    key = make_forms(release, tmp_path / "study", raters=8, n_lists=4, seed=3, rater_type="llm")
    return tmp_path / "study", key


def _fill(folder: Path, key: StudyKey, release, answer) -> list[Path]:
    items = release.battery.by_id()
    paths = []
    for form in key.forms:
        rows = list(csv.DictReader((folder / form.rater / "form.csv").open(encoding="utf-8", newline="")))
        out = folder / form.rater / "filled.csv"
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                item = items[form.item_ids[int(row["n"]) - 1]]
                row.update(answer(form.rater, item))
                writer.writerow(row)
        paths.append(out)
    return paths


def _faithful(rater: str, item) -> dict:
    label = item.emotion or "none"
    intensity = {"clinical": 4, "keyword_twins": 4, "moderate": 2}.get(item.split, 0)
    return {"emotion": label, "second_choice": "", "intensity": intensity, "confidence": 3, "coherence_flag": 0}


def test_forms_are_blind_and_each_rater_folder_holds_only_its_form(study, release) -> None:
    folder, key = study
    ids = {item.id for item in release.battery.items}
    for form in key.forms:
        files = sorted(p.name for p in (folder / form.rater).iterdir())
        assert files == ["INSTRUCTIONS.md", "form.csv", "form.html"]
        for name in files:
            text = (folder / form.rater / name).read_text(encoding="utf-8")
            assert not any(i in text for i in ("clin-", "neut-", "twin-", "cneu-", "mod-")), (form.rater, name)
        header = (folder / form.rater / "form.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header == "n,text,emotion,second_choice,intensity,confidence,coherence_flag"
    assert set().union(*(f.item_ids for f in key.forms)) == ids


def test_versions_of_one_story_never_share_a_list(release) -> None:
    lists = assign_lists(release.battery.items, 4, seed=5)
    for members in lists:
        groups = [pair_group(item) for item in members]
        assert len(groups) == len(set(groups))
    assert sorted(len(x) for x in lists) == [168] * 4


def test_each_rater_has_an_independent_order(study) -> None:
    _, key = study
    same_list = [f for f in key.forms if f.list_index == 0]
    assert len(same_list) == 2
    assert sorted(same_list[0].item_ids) == sorted(same_list[1].item_ids)
    assert same_list[0].item_ids != same_list[1].item_ids


def test_analysis_of_faithful_raters(study, release) -> None:
    folder, key = study
    paths = _fill(folder, key, release, _faithful)
    norms, summary, _ = analyze(paths, key, release)
    assert len(norms) == 672 and all(x.n_raters == 2 for x in norms)
    assert all(x.modal_label == x.intended_label and x.label_agreement == 1.0 for x in norms)
    assert summary.triplets_ordered == summary.triplets_total == 48
    assert summary.alpha_label == pytest.approx(1.0)
    assert summary.fleiss_kappa_label == pytest.approx(1.0)


def test_disagreeing_raters_lower_agreement_and_alpha(study, release) -> None:
    folder, key = study

    def contrary(rater: str, item) -> dict:
        out = _faithful(rater, item)
        if rater in ("r01", "r02", "r03", "r04") and item.split == "clinical":
            out["emotion"] = "none"
            out["intensity"] = 0
            out["coherence_flag"] = 1
        return out

    _, summary, _ = analyze(_fill(folder, key, release, contrary), key, release)
    clinical = next(s for s in summary.splits if s.split == "clinical")
    assert clinical.mean_agreement == pytest.approx(0.5)
    assert summary.alpha_label < 0.95
    assert summary.triplets_ordered < 48


def test_fleiss_kappa_by_hand() -> None:
    # Two items, three raters: perfect agreement on one, full split on the other.
    table = [[3, 0, 0], [1, 1, 1]]
    p_j = [4 / 6, 1 / 6, 1 / 6]
    p_e = sum(p * p for p in p_j)
    p_bar = (1.0 + 0.0) / 2
    assert fleiss_kappa(table) == pytest.approx((p_bar - p_e) / (1 - p_e))
    with pytest.raises(ValueError):
        fleiss_kappa([[2, 0], [1, 0]])


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda row: row.update(intensity="7"), "intensity"),
        (lambda row: row.update(emotion="furry"), "emotion"),
        (lambda row: row.update(text="a different text"), "text"),
        (lambda row: row.update(coherence_flag=""), "coherence_flag"),
    ],
)
def test_malformed_forms_are_refused_with_file_line_and_field(study, release, edit, field) -> None:
    folder, key = study
    paths = _fill(folder, key, release, _faithful)
    rows = list(csv.DictReader(paths[0].open(encoding="utf-8", newline="")))
    edit(rows[4])
    with paths[0].open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(InputErrors) as info:
        analyze(paths, key, release)
    message = str(info.value)
    assert f"{paths[0]}:6: {field}:" in message, message


def test_missing_rows_and_stale_keys_are_refused(study, release) -> None:
    folder, key = study
    paths = _fill(folder, key, release, _faithful)
    lines = paths[1].read_text(encoding="utf-8").splitlines(keepends=True)
    paths[1].write_text("".join(lines[:-3]), encoding="utf-8")
    with pytest.raises(InputErrors, match="3 position"):
        analyze(paths, key, release)
    stale = key.model_copy(update={"data_sha256": "0" * 64})
    with pytest.raises(ValueError, match="another version of the battery"):
        analyze(paths, stale, release)


def test_cli_form_and_analyze(tmp_path: Path, release, capsys) -> None:
    out = tmp_path / "s"
    assert main(["norms", "form", "--raters", "8", "--lists", "4", "--rater-type", "llm", "--out", str(out)]) == EXIT_OK
    key = StudyKey.model_validate_json((out / "key.json").read_bytes())
    paths = _fill(out, key, release, _faithful)
    assert main(["norms", "analyze", *map(str, paths), "--out", str(tmp_path / "n")]) == EXIT_OK
    rows = [json.loads(line) for line in (tmp_path / "n" / "norms.jsonl").read_text().splitlines()]
    assert len(rows) == 672 and {
        "id",
        "n_raters",
        "modal_label",
        "label_agreement",
        "intensity_mean",
        "intensity_sd",
        "coherence_flags",
    } <= set(rows[0])
    assert all(not math.isnan(r["intensity_sd"]) for r in rows)
    assert "Krippendorff" in (tmp_path / "n" / "NORMS.md").read_text()
    assert main(["norms", "form", "--raters", "4", "--out", str(out)]) == EXIT_INPUT
    assert "a study already exists" in capsys.readouterr().err


def test_a_rerating_study_supersedes_ratings_of_revised_texts_only(tmp_path: Path, release) -> None:
    from aipsy_affect.battery.release import Release

    first = make_forms(release, tmp_path / "one", raters=4, n_lists=4, seed=1)
    paths = _fill(tmp_path / "one", first, release, _faithful)
    revised_id = "neut-joy-work-1"
    items = [
        i.model_copy(update={"text": i.text + " She left at six."}) if i.id == revised_id else i
        for i in release.battery.items
    ]
    revised = Release(release.battery.model_copy(update={"items": tuple(items)}), "f" * 64, "revised")
    with pytest.raises(ValueError, match="another version"):
        analyze(paths, first, revised)
    second = make_forms(revised, tmp_path / "two", raters=3, ids=[revised_id], first_rater=5)
    assert [f.rater for f in second.forms] == ["r05", "r06", "r07"] and second.forms[0].item_ids == [revised_id]
    paths += _fill(tmp_path / "two", second, revised, _faithful)
    norms, summary, _ = analyze(paths, [first, second], revised, allow_superseded=True)
    assert summary.superseded_ratings == 1
    by_id = {x.id: x for x in norms}
    assert by_id[revised_id].n_raters == 3 and by_id["neut-joy-work-2"].n_raters == 1
