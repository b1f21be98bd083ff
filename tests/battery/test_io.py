"""Readers: JSONL, JSON arrays and CSV; every error names file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aipsy_affect.battery.io import InputError, InputErrors, read_items, write_atomic

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _messages(exc: pytest.ExceptionInfo) -> list[str]:
    err = exc.value
    return [str(e) for e in err.errors] if isinstance(err, InputErrors) else [str(err)]


@pytest.mark.parametrize("name", ["sample_items.jsonl", "sample_items.csv", "sample_items.json"])
def test_reads_each_format(name: str) -> None:
    items = read_items(FIXTURES / name)
    assert items and all(i.id and i.text for i in items)


def test_aliases_resolved_on_read() -> None:
    items = {i.id: i for i in read_items(FIXTURES / "sample_items.jsonl")}
    assert items["s-furious"].emotion == "anger"
    assert items["s-afraid"].emotion == "fear"


def test_csv_empty_cell_is_missing() -> None:
    items = read_items(FIXTURES / "sample_items.csv")
    assert items[0].emotion is None and items[1].emotion == "anger"


def test_bad_emotion_names_line_and_field(tmp_path: Path) -> None:
    lines = [json.dumps({"id": f"i{k}", "text": "x"}) for k in range(16)]
    lines.append(json.dumps({"id": "i16", "text": "x", "emotion": "furry"}))
    path = _write(tmp_path, "items.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(InputErrors) as exc:
        read_items(path)
    assert _messages(exc) == [
        f"{path}:17: emotion: 'furry' is not a Plutchik emotion (expected one of joy, trust, "
        "fear, surprise, sadness, disgust, anger, anticipation, or an intensity alias such as "
        "acceptance, admiration, amazement, annoyance, ...)"
    ]


def test_truncated_json_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "items.jsonl", '{"id": "a", "text": "x"}\n{"id": "b", "te')
    with pytest.raises(InputError, match=r"items.jsonl:2: malformed JSON"):
        read_items(path)


def test_missing_text_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "items.jsonl", '{"id": "a"}\n')
    with pytest.raises(InputErrors, match=r"items.jsonl:1: text: required field is missing"):
        read_items(path)


def test_unknown_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "items.jsonl", '{"id": "a", "text": "x", "mood": "grim"}\n')
    with pytest.raises(InputErrors, match=r"items.jsonl:1: mood: unknown field"):
        read_items(path)


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "items.jsonl", '{"id": "a", "text": "x"}\n\n{"id": "a", "text": "y"}\n')
    with pytest.raises(InputErrors, match=r"items.jsonl:3: id: duplicate id 'a' \(first at line 1\)"):
        read_items(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path, "items.jsonl", b'{"id": "a", "text": "x"}\n' + b'{"id": "b", "text": "caf\xe9"}\n')
    with pytest.raises(InputError, match=r"items.jsonl:2: not valid UTF-8"):
        read_items(path)


def test_utf8_bom_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, "items.jsonl", b"\xef\xbb\xbf" + b'{"id": "a", "text": "x"}\n')
    assert read_items(path)[0].id == "a"


@pytest.mark.parametrize("content", ["", "   \n\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    with pytest.raises(InputError, match="file is empty"):
        read_items(_write(tmp_path, "items.jsonl", content))


def test_over_long_text_is_read_for_a_per_item_verdict(tmp_path: Path) -> None:
    # Length is a policy that fails one item in ``validate``, not a reason to refuse the whole file.
    path = _write(tmp_path, "items.jsonl", json.dumps({"id": "a", "text": "word " * 401}) + "\n")
    assert read_items(path)[0].word_count == 401


def test_json_array_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "items.json", '[\n {"id": "a", "text": "x"},\n\n {"id": "b", "text": "y", "emotion": "z"}\n]'
    )
    with pytest.raises(InputErrors, match=r"items.json:4: emotion: 'z' is not a Plutchik emotion"):
        read_items(path)


def test_json_not_array(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="must hold a JSON array"):
        read_items(_write(tmp_path, "items.json", '{"id": "a", "text": "x"}'))


def test_json_unclosed(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="malformed JSON"):
        read_items(_write(tmp_path, "items.json", '[{"id": "a", "text": "x"}'))


def test_non_object_record(tmp_path: Path) -> None:
    with pytest.raises(InputErrors, match=r"items.jsonl:1: expected a JSON object, got list"):
        read_items(_write(tmp_path, "items.jsonl", "[1, 2]\n"))


def test_csv_ragged_row(tmp_path: Path) -> None:
    path = _write(tmp_path, "items.csv", 'id,text\na,"one two"\nb,x,extra\n')
    with pytest.raises(InputError, match=r"items.csv:3: row has 3 cells; the header has 2"):
        read_items(path)


def test_csv_multiline_cell_keeps_start_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "items.csv", 'id,text,emotion\na,"line one\nline two",\nb,x,furry\n')
    with pytest.raises(InputErrors, match=r"items.csv:4: emotion"):
        read_items(path)


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown file type '\.txt'"):
        read_items(_write(tmp_path, "items.txt", "x"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_items(tmp_path / "nope.jsonl")


def test_write_atomic_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "f.txt"
    write_atomic(target, "first")
    write_atomic(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]


def test_write_atomic_file_is_not_private(tmp_path: Path) -> None:
    import os
    import stat

    target = tmp_path / "f.txt"
    write_atomic(target, "x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


def test_write_atomic_leaves_old_content_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    write_atomic(target, "old")
    with pytest.raises(TypeError):
        write_atomic(target, 123)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_reader(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data)
    try:
        read_items(path)
    except (InputError, InputErrors) as exc:
        assert str(path) in str(exc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_random_csv_never_crashes(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_text(text, encoding="utf-8")
    try:
        read_items(path)
    except (InputError, InputErrors) as exc:
        assert str(path) in str(exc)


# --- strict parsing and hostile files (issue 11, section 2) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "items.json",
            '[{"id": "a", "text": "x"}]\n[{"id": "b", "text": "Ines was furious."}]',
            r"items.json:2: malformed JSON \(content after the closing",
        ),
        ("items.json", '[{"id": "a", "text": "x"},\n]', r"items.json:2: malformed JSON \(trailing comma"),
        ("items.json", '[{"id": "a", "text": "x",}]', r"items.json:1: malformed JSON"),
        (
            "items.json",
            '[\n{"id": "a", "text": "x", "text": "Ines was furious."}]',
            r"items.json:2: text: duplicate key in one JSON object",
        ),
        (
            "items.jsonl",
            '{"id": "a", "text": "x"}\n{"id": "b", "text": "x", "text": "y"}\n',
            r"items.jsonl:2: text: duplicate key in one JSON object",
        ),
        (
            "items.jsonl",
            '{"id": "a", "text": "x"} {"id": "b", "text": "y"}\n',
            r"items.jsonl:1: malformed JSON \(content after the value",
        ),
        ("items.jsonl", '{"id": "a", "text": "x", "n": NaN}\n', r"items.jsonl:1: malformed JSON \(NaN is not valid"),
        ("items.csv", "id,text,text\na,x,Ines was furious.\n", r"items.csv:1: text: CSV header names this column more"),
    ],
)
def test_strict_parsing(tmp_path: Path, name: str, content: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_items(_write(tmp_path, name, content))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000),
        ("deep.jsonl", '{"id": "a", "text": ' + "[" * 100_000 + "]" * 100_000 + "}\n"),
        ("deep2.json", '[{"id": "a", "text": "x", "more": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}]"),
    ],
)
def test_deep_nesting_is_an_input_error_not_a_recursion_error(tmp_path: Path, name: str, content: str) -> None:
    with pytest.raises(InputError, match=r":1: malformed JSON \(nested more than 64 levels deep\)"):
        read_items(_write(tmp_path, name, content))


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16"])
def test_utf16_is_reported_as_not_utf8(tmp_path: Path, encoding: str) -> None:
    data = '{"id": "a", "text": "x"}\n'.encode(encoding)
    with pytest.raises(InputError, match="not UTF-8"):
        read_items(_write(tmp_path, "items.jsonl", data))


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\u0085"])
def test_jsonl_lines_split_on_newline_only(tmp_path: Path, sep: str) -> None:
    from aipsy_affect.battery.io import dumps_jsonl

    records = [{"id": "a", "text": f"one{sep}two"}, {"id": "b", "text": "three"}]
    path = _write(tmp_path, "items.jsonl", dumps_jsonl(records))
    assert sep in path.read_text(encoding="utf-8")  # written raw, as the package's own writer does
    items = read_items(path)
    assert [(i.id, i.text) for i in items] == [("a", f"one{sep}two"), ("b", "three")]


def test_directory_fifo_device_and_symlink_are_refused(tmp_path: Path) -> None:
    import os

    with pytest.raises(InputError, match="is a directory"):
        read_items(tmp_path)
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        read_items(tmp_path / "dir.jsonl")
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="is a FIFO"):
        read_items(fifo)  # must not block waiting for a writer
    link = tmp_path / "zero.jsonl"
    link.symlink_to("/dev/zero")
    with pytest.raises(InputError, match="is a device"):
        read_items(link)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    path = _write(tmp_path, "items.jsonl", '{"id": "a", "text": "x"}\n')
    real_open = os.open

    def denied(p: object, *args: object, **kwargs: object) -> int:
        if str(p) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(p, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(InputError, match="cannot be read \\(permission denied\\)"):
        read_items(path)


def test_size_is_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aipsy_affect.battery import io as io_module

    path = _write(tmp_path, "items.jsonl", '{"id": "a", "text": "' + "x" * 2000 + '"}\n')
    monkeypatch.setattr(io_module, "MAX_ITEM_FILE_BYTES", 1000)
    with pytest.raises(InputError, match="bytes; the limit is 1000"):
        read_items(path)


def test_csv_long_field_reaches_the_item(tmp_path: Path) -> None:
    import csv

    before = csv.field_size_limit()
    path = _write(tmp_path, "items.csv", "id,text\na," + "x" * 300_000 + "\n")
    assert len(read_items(path)[0].text) == 300_000
    assert csv.field_size_limit() == before  # no process-wide side effect


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet='[]{}",: 0a\n', max_size=300))
def test_random_json_never_crashes(tmp_path: Path, text: str) -> None:
    for name in ("fuzz.json", "fuzz.jsonl"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        try:
            read_items(path)
        except (InputError, InputErrors) as exc:
            assert str(path) in str(exc)
