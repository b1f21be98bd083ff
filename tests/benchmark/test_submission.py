"""The submission format and its checks: every refusal has a specific message naming the field."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from submission_factory import make_submission_dict, synthetic_battery, write_submission

from aipsy_affect.battery.io import InputErrors
from aipsy_affect.battery.schema import EMOTIONS
from aipsy_affect.benchmark.submission import (
    FORMAT_VERSION,
    LayerOutputs,
    Submission,
    check_submission,
    load_submission,
    parse_submission,
    read_submission,
)


@pytest.fixture(scope="module")
def battery():
    return synthetic_battery()


@pytest.fixture(scope="module")
def valid(battery) -> dict:
    return make_submission_dict(battery, n_layers=2, seed=1)


def _errors(data: dict | bytes | str, battery) -> str:
    """Every problem found in ``data`` (parse, then check against the battery), as one string."""
    raw = data if isinstance(data, (bytes, str)) else json.dumps(data)
    try:
        sub = parse_submission(raw, "sub.json")
    except InputErrors as exc:
        return str(exc)
    return "\n".join(str(e) for e in check_submission(sub, battery, source="sub.json"))


def test_valid_submission_passes(valid, battery) -> None:
    sub = parse_submission(json.dumps(valid))
    assert sub.format_version == FORMAT_VERSION
    assert check_submission(sub, battery) == []
    assert len(sub.layers) == 2 and sub.model.id == "synthetic/probe-model"


def test_twins_may_be_left_out(battery) -> None:
    data = make_submission_dict(battery, n_layers=1, twins=False)
    assert _errors(data, battery) == ""


@pytest.mark.parametrize(
    "version, message",
    [
        (2, "format_version 2 is not supported; this aipsy-affect reads format_version 1"),
        ("1", "format_version '1' is not supported"),
        (None, "format_version None is not supported"),
    ],
)
def test_unknown_format_version(valid, battery, version, message) -> None:
    data = copy.deepcopy(valid)
    data["format_version"] = version
    data["layers"] = "a future layout"  # other complaints about an unknown version are suppressed
    out = _errors(data, battery)
    assert out == f"sub.json: format_version: {message}" + out.split(message, 1)[1]
    assert "layers" not in out


def test_missing_format_version(valid, battery) -> None:
    data = copy.deepcopy(valid)
    del data["format_version"]
    assert "format_version: format_version is missing" in _errors(data, battery)


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_values(valid, battery, bad) -> None:
    data = copy.deepcopy(valid)
    data["layers"][1]["affect"]["clin-joy-work-1"] = "PLACEHOLDER"
    text = json.dumps(data).replace('"PLACEHOLDER"', bad)
    out = _errors(text, battery)
    assert "sub.json: layers[1].affect: non-finite value (NaN or infinity)" in out
    assert "clin-joy-work-1" in out


def test_strings_and_booleans_are_not_numbers(valid, battery) -> None:
    data = copy.deepcopy(valid)
    data["layers"][0]["affect"]["clin-joy-work-1"] = "0.5"
    data["layers"][0]["folds"]["clin-joy-work-2"] = True
    out = _errors(data, battery)
    assert "layers[0].affect: Input should be a valid number: clin-joy-work-1" in out
    assert "layers[0].folds: Input should be a valid integer: clin-joy-work-2" in out


def test_missing_ids_listed_with_count(valid, battery) -> None:
    data = copy.deepcopy(valid)
    gone = sorted(data["layers"][0]["affect"])[:9]
    for item_id in gone:
        del data["layers"][0]["affect"][item_id]
    out = _errors(data, battery)
    assert "layers[0].affect: missing 9 of 480 required items: " in out
    assert ", ".join(gone[:5]) + ", ... (9 in all)" in out


def test_missing_category_and_same_problem_in_every_layer(valid, battery) -> None:
    data = copy.deepcopy(valid)
    for layer in data["layers"]:
        del layer["category"]["mod-fear-health"]
    out = _errors(data, battery)
    assert "layers[0].category: missing 1 of 240 required items: mod-fear-health (same in 1 other layer)" in out


def test_unknown_ids(valid, battery) -> None:
    data = copy.deepcopy(valid)
    data["layers"][1]["affect"]["clin-joy-work-99"] = 0.1
    data["layers"][1]["folds"]["clin-joy-work-99"] = 0
    data["layers"][1]["category"]["neut-joy-work-1"] = dict.fromkeys(EMOTIONS, 0.125)
    data["layers"][1]["folds"]["nobody"] = 1
    out = _errors(data, battery)
    assert "layers[1].affect: unknown item ids (not items of the battery): clin-joy-work-99" in out
    assert "layers[1].category: unknown item ids (not clinical, moderate or twin items): neut-joy-work-1" in out
    assert "layers[1].folds: unknown item ids (not items of the battery): clin-joy-work-99, nobody" in out


def test_partial_twins_refused(valid, battery) -> None:
    data = copy.deepcopy(valid)
    del data["layers"][0]["affect"]["twin-anger-work-1"]
    out = _errors(data, battery)
    assert (
        "layers[0].affect: keyword twins are optional but, when given, all 192 are needed; missing 1: "
        "twin-anger-work-1" in out
    )


def test_probability_checks(valid, battery) -> None:
    data = copy.deepcopy(valid)
    cat = data["layers"][0]["category"]
    cat["clin-joy-work-1"] = {**dict.fromkeys(EMOTIONS, 0.125), "joy": 0.125 + 2e-6}  # off by 2e-6
    cat["clin-joy-work-2"] = {**dict.fromkeys(EMOTIONS, 0.125), "joy": 0.325, "trust": -0.075}
    cat["clin-joy-work-3"] = {e: 1 / 7 for e in EMOTIONS[:7]}
    cat["clin-joy-work-4"] = {**dict.fromkeys(EMOTIONS, 0.125), "joy": 0.125 + 5e-7}  # within tolerance
    out = _errors(data, battery)
    assert "probabilities must sum to 1 within 1e-06: clin-joy-work-1 (sum 1.000002)" in out
    assert "category has negative probabilities: clin-joy-work-2" in out
    assert "category needs all eight emotions" in out and "clin-joy-work-3 (missing anticipation)" in out
    assert "clin-joy-work-4" not in out


def test_unknown_emotion_key(valid, battery) -> None:
    data = copy.deepcopy(valid)
    probs = data["layers"][0]["category"]["clin-joy-work-1"]
    probs["rage"] = probs.pop("anger")
    out = _errors(data, battery)
    assert "layers[0].category: 'rage' is not allowed" in out and "clin-joy-work-1" in out


def test_duplicate_layers(valid, battery) -> None:
    data = copy.deepcopy(valid)
    data["layers"].append(copy.deepcopy(data["layers"][0]))
    out = _errors(data, battery)
    assert "duplicate layers: layer 0 (layers[0] and layers[2])" in out


def test_matched_pair_split_across_folds(valid, battery) -> None:
    data = copy.deepcopy(valid)
    folds = data["layers"][1]["folds"]
    folds["neut-sadness-money-3"] = (folds["clin-sadness-money-3"] + 1) % 5
    out = _errors(data, battery)
    assert "layers[1].folds: matched items split across folds" in out
    assert "clin-sadness-money-3 (fold" in out and "neut-sadness-money-3 (fold" in out


def test_moderate_and_twin_must_share_their_peak_fold(valid, battery) -> None:
    data = copy.deepcopy(valid)
    folds = data["layers"][0]["folds"]
    folds["mod-trust-travel"] = (folds["clin-trust-travel-1"] + 2) % 5
    folds["twin-fear-work-2"] = (folds["clin-fear-work-2"] + 1) % 5
    out = _errors(data, battery)
    assert "mod-trust-travel (fold" in out and "twin-fear-work-2 (fold" in out


def test_more_folds_than_declared(valid, battery) -> None:
    data = copy.deepcopy(valid)
    data["method"]["cv_folds"] = 3
    out = _errors(data, battery)
    assert "5 distinct fold ids, more than method.cv_folds = 3" in out


def test_fold_missing_for_scored_item(valid, battery) -> None:
    data = copy.deepcopy(valid)
    del data["layers"][0]["folds"]["cneu-work-3"]
    assert "layers[0]: folds has no fold id for scored items: cneu-work-3" in _errors(data, battery)


def test_metadata_fields(valid, battery) -> None:
    data = copy.deepcopy(valid)
    data["model"]["id"] = "<script>alert(1)</script>"  # accepted here, escaped wherever it is shown
    assert _errors(data, battery) == ""
    data["model"]["id"] = "evil\nname"
    data["method"]["surprise"] = 1
    data["method"]["cv_folds"] = 1
    del data["model"]["revision"]
    out = _errors(data, battery)
    assert "model.id: must not contain control, line-break or bidi characters (found U+000A at position 4)" in out
    assert "method.surprise: unknown field" in out
    assert "method.cv_folds: Input should be greater than or equal to 2" in out
    assert "model.revision: required field is missing" in out


def test_dataset_revision_checked_when_given(valid, battery) -> None:
    digest = "ab" * 32
    sub = parse_submission(json.dumps({**valid, "dataset": {"revision": digest[:12]}}))
    assert check_submission(sub, battery, dataset_revision=digest) == []
    sub = parse_submission(json.dumps({**valid, "dataset": {"revision": "cd" * 32}}))
    out = "\n".join(map(str, check_submission(sub, battery, dataset_revision=digest)))
    assert "dataset.revision: 'cdcd" in out and f"is not this battery's revision {digest}" in out
    sub = parse_submission(json.dumps({**valid, "dataset": {"revision": "ab"}}))  # too short to be a prefix
    assert check_submission(sub, battery, dataset_revision=digest)


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "sub.json: file is empty"),
        (b"   \n", "sub.json: file is empty"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b'{"format_version": 1,\n "model": {,}}', "sub.json:2: malformed JSON"),
        (b"[1, 2]", "sub.json: a submission is one JSON object; this file holds a list"),
    ],
)
def test_unreadable_files(raw, message, battery) -> None:
    with pytest.raises(InputErrors) as info:
        parse_submission(raw, "sub.json")
    assert message in str(info.value)


def test_size_cap_and_missing_file(tmp_path, valid) -> None:
    path = tmp_path / "sub.json"
    write_submission(path, valid)
    with pytest.raises(InputErrors, match=r"sub.json: file is \d+ bytes; the limit is 1000 bytes"):
        read_submission(path, max_bytes=1000)
    with pytest.raises(InputErrors, match="no such file"):
        read_submission(tmp_path / "absent.json")
    with pytest.raises(InputErrors, match="is a directory"):
        read_submission(tmp_path)


def test_load_submission_returns_the_content_sha256(tmp_path, valid, battery) -> None:
    path = tmp_path / "sub.json"
    write_submission(path, valid)
    loaded = load_submission(path, battery)
    sub, digest = loaded  # still unpacks as (submission, sha256)
    assert digest == sub.content_sha256() == loaded.sha256 and loaded.data == path.read_bytes()
    # Whitespace, key order and layer order do not change the content; a value does.
    shuffled = copy.deepcopy(valid)
    shuffled["layers"] = shuffled["layers"][::-1]
    shuffled["layers"][0]["affect"] = dict(reversed(list(shuffled["layers"][0]["affect"].items())))
    other = tmp_path / "other.json"
    other.write_text(json.dumps(shuffled, indent=3) + "\n\n")
    assert load_submission(other, battery).sha256 == digest
    shuffled["layers"][0]["affect"]["clin-joy-work-1"] += 1e-9
    other.write_text(json.dumps(shuffled))
    assert load_submission(other, battery).sha256 != digest
    data = copy.deepcopy(valid)
    del data["layers"][0]["affect"]["clin-joy-work-1"]
    write_submission(path, data)
    with pytest.raises(InputErrors, match="missing 1 of 480"):
        load_submission(path, battery)


# --- hostile input (issue 11, section 3) ---------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200f", "\x85", "\x9b", "\x1b", "\x00"])
@pytest.mark.parametrize(
    "field",
    [
        "model.id",
        "model.revision",
        "method.name",
        "method.prompt",
        "method.description",
        "submitter",
        "software",
        "dataset.revision",
    ],
)
def test_bidi_and_control_characters_refused_in_every_string(valid, battery, char, field) -> None:
    data = copy.deepcopy(valid)
    data["dataset"] = {"revision": "abc"}
    data["method"]["description"] = "ok"
    text = f"evil{char}name"
    if field == "software":
        data["software"] = {"torch": text}
    elif field == "submitter":
        data["submitter"] = text
    else:
        part, name = field.split(".")
        data[part][name] = text
    out = _errors(data, battery)
    assert "must not contain control, line-break or bidi characters" in out, out
    assert f"U+{ord(char):04X}" in out


def test_free_text_may_span_lines_but_names_may_not(valid, battery) -> None:
    data = copy.deepcopy(valid)
    data["method"]["prompt"] = "Story: {text}\n\tQuestion:\u2028what?"
    data["method"]["description"] = "line one\nline two\u2029"
    assert _errors(data, battery) == ""
    data["submitter"] = "two\u2028lines"
    assert "submitter: must not contain control, line-break or bidi characters (found U+2028" in _errors(data, battery)


@pytest.mark.parametrize("raw", ["true", "1.0", "1e0", '"1"'])
def test_format_version_must_be_the_integer_one(valid, battery, raw) -> None:
    text = json.dumps(valid).replace('"format_version": 1', f'"format_version": {raw}', 1)
    out = _errors(text, battery)
    assert out.startswith("sub.json: format_version: format_version") and "is not supported" in out, out


def test_duplicate_json_keys_are_refused_with_their_line(valid, battery) -> None:
    text = json.dumps(valid, indent=1)
    needle = '"clin-joy-work-2": '
    at = text.index(needle)
    dup = text[:at] + '"clin-joy-work-2": 0.25,\n' + text[at:]
    with pytest.raises(InputErrors) as info:
        parse_submission(dup, "sub.json")
    line = dup[:at].count("\n") + 1
    assert f"sub.json:{line}: clin-joy-work-2: duplicate key in a JSON object" in str(info.value)
    # The same text without the duplicate parses, and so does a colon spelled as an escape inside a string.
    assert parse_submission(text, "sub.json")
    escaped = json.loads(text)
    escaped["submitter"] = "team: a"
    assert parse_submission(json.dumps(escaped).replace("team: a", "team\\u003a a"), "sub.json").submitter == "team: a"


def test_a_deeply_nested_file_is_malformed_json_not_a_crash() -> None:
    with pytest.raises(InputErrors, match="malformed JSON"):
        parse_submission("[" * 100_000 + "]" * 100_000, "deep.json")


def test_file_system_states_are_located(tmp_path) -> None:
    with pytest.raises(InputErrors, match="is a directory, not a submission file"):
        read_submission(tmp_path)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(InputErrors, match="is not a regular file"):
        read_submission(fifo)  # must not hang waiting for a writer


def test_submission_from_arrays_builds_a_valid_scorable_submission() -> None:
    import numpy as np

    from aipsy_affect import grouped_folds, score_submission, submission_from_arrays
    from aipsy_affect.battery.release import packaged_release

    release = packaged_release()
    items = [i for i in release.battery.items if i.split != "keyword_twins"]
    folds = grouped_folds(items, n_folds=5, seed=0)
    rng = np.random.default_rng(0)
    affect = rng.normal(size=(2, len(items)))
    category = rng.dirichlet(np.ones(8), size=(2, len(items)))  # rows for neutral items too: dropped
    sub = submission_from_arrays(
        [i.id for i in items],
        affect,
        category,
        folds=folds,
        model={"id": "me/model", "revision": "abc"},
        release=release,
    )
    assert sub.dataset is not None and sub.dataset.revision == release.sha256
    assert len(sub.layers[0].category) == 240 and len(sub.layers[0].affect) == 480
    assert 0.35 < score_submission(sub, release, n_bootstrap=100).main_score < 0.65


def test_submission_from_arrays_says_what_to_do(battery) -> None:
    import numpy as np

    from aipsy_affect.battery.release import packaged_release
    from aipsy_affect.benchmark.build import submission_from_arrays

    release = packaged_release()
    items = [i for i in release.battery.items if i.split != "keyword_twins"]
    ids = [i.id for i in items]
    affect = np.zeros((1, len(items)))
    with pytest.raises(InputErrors, match=r"affect has shape \(1, 479\) for 480 item ids; pass \(layers, items\)"):
        submission_from_arrays(
            ids, affect[:, 1:], folds=[0] * len(ids), model={"id": "m", "revision": "r"}, release=release
        )
    # Folds made per item, not per family: pairs land in different folds.
    naive = [k % 5 for k in range(len(ids))]
    with pytest.raises(
        InputErrors,
        match=r"matched items split across folds .* aipsy_affect.grouped_folds\(\) makes "
        "such folds",
    ):
        submission_from_arrays(
            ids,
            affect,
            np.full((1, len(ids), 8), 1 / 8),
            folds=naive,
            model={"id": "m", "revision": "r"},
            release=release,
        )


def test_neutral_items_in_category_get_a_hint(valid, battery) -> None:
    data = copy.deepcopy(valid)
    data["layers"][0]["category"]["neut-joy-work-1"] = dict.fromkeys(EMOTIONS, 0.125)
    out = _errors(data, battery)
    assert "category probabilities are only for the affective items" in out
    assert "leave neutral and complex_neutral items out of category" in out


def test_example_in_docs_is_valid() -> None:
    """The small example in docs/scoring.md parses (structure only: it lists a few items, not 480)."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "scoring.md").read_text()
    block = doc.split("<!-- example-submission -->", 2)[1].split("```json", 1)[1].split("```", 1)[0]
    sub = parse_submission(block)
    assert sub.layers[0].category and sub.layers[0].folds


# --- properties ---------------------------------------------------------------------------------------------

_prob = st.floats(min_value=-0.5, max_value=1.5, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(_prob, min_size=8, max_size=8), normalise=st.booleans())
def test_probability_rows_accepted_iff_valid(values: list[float], normalise: bool) -> None:
    import math

    if normalise and sum(values) > 0:
        values = [v / math.fsum(values) for v in values]
    layer = {
        "layer": 0,
        "affect": {"a": 0.0},
        "category": {"a": dict(zip(EMOTIONS, values, strict=False))},
        "folds": {"a": 0},
    }
    valid = min(values) >= 0 and abs(math.fsum(values) - 1.0) <= 1e-6
    try:
        LayerOutputs.model_validate(layer)
    except ValueError as exc:
        assert not valid, exc
        assert ("negative" in str(exc)) == (min(values) < 0)
    else:
        assert valid


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_arbitrary_bytes_never_crash_the_parser(raw: bytes) -> None:
    try:
        parse_submission(raw, "fuzz.json")
    except InputErrors as exc:
        assert all(str(e).startswith("fuzz.json") for e in exc.errors)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    field=st.sampled_from(["model", "method", "dataset", "layers", "format_version", "submitter"]), value=_json_values
)
def test_any_corrupted_field_is_refused_with_its_name(valid, field, value) -> None:
    small = copy.deepcopy(valid)
    small["layers"] = small["layers"][:1]
    data = {**small, field: value}
    text = json.dumps(data)
    try:
        sub = parse_submission(text, "sub.json")
    except InputErrors as exc:
        assert any(
            (e.field or "").startswith(field) or e.field == "format_version" or "JSON" in e.message for e in exc.errors
        ), str(exc)
    else:
        # Only values the format really allows get through, and they round-trip.
        assert Submission.model_validate_json(sub.model_dump_json()) == sub


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_removing_or_adding_ids_is_always_caught(battery, valid, data) -> None:
    small = copy.deepcopy(valid)
    small["layers"] = small["layers"][:1]
    layer = small["layers"][0]
    part = data.draw(st.sampled_from(["affect", "category"]))
    ids = sorted(layer[part])
    drop = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=6, unique=True))
    extra = data.draw(st.lists(st.from_regex(r"\Azz-[a-z]{1,6}\Z"), max_size=3, unique=True))
    for item_id in drop:
        del layer[part][item_id]
    for item_id in extra:
        layer["affect"][item_id] = 0.0
        layer["folds"][item_id] = 0
    out = _errors(small, battery)
    required = [i for i in drop if not i.startswith("twin-")]
    if required:
        assert f"layers[0].{part}: missing {len(required)} of" in out
    if any(i.startswith("twin-") for i in drop):
        assert "keyword twins are optional but, when given, all 192 are needed" in out
    for item_id in extra:
        assert item_id in out
