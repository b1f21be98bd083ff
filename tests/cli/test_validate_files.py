"""``aipsy-affect validate`` on real and hostile files: per-item policy failures, safe output, exit 2 cases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aipsy_affect.battery.schema import MAX_TEXT_CHARS, ItemDraft
from aipsy_affect.certify.validate import validate_item
from aipsy_affect.cli.main import main
from aipsy_affect.defense.classifier import ClassifierOutput
from aipsy_affect.errors import EXIT_FAIL, EXIT_INPUT, EXIT_OK

ROOT = Path(__file__).resolve().parents[2]
CLEAN = "Ines locked the shop, counted the till, and walked home along the canal before the rain."


def _jsonl(tmp_path: Path, rows: list[dict], name: str = "items.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aipsy_affect", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )


def test_ninety_items_with_one_over_long_all_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [json.loads(line) for line in (ROOT / "data" / "neutral.jsonl").read_text().splitlines()[:90]]
    rows = [{"id": r["id"], "text": r["text"]} for r in rows]
    rows[41]["text"] = " ".join(["word"] * 422)
    path = _jsonl(tmp_path, rows)
    assert main(["validate", "--no-model", "--json", str(path)]) == EXIT_FAIL
    reports = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in reports] == [r["id"] for r in rows]
    failed = {r["id"]: r for r in reports if not r["passed"]}
    assert list(failed) == [rows[41]["id"]]
    assert {c["name"] for c in failed[rows[41]["id"]]["checks"] if not c["passed"]} == {"word_limit"}


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("x" * (MAX_TEXT_CHARS + 1), "char_limit"),
        ("a" * 1_000_000, "char_limit"),
        (CLEAN + "\x00", "control_characters"),
        (CLEAN + "\x1b[2K\rPASS", "control_characters"),
        (CLEAN + "\x9b", "control_characters"),
        (CLEAN + "\u202eSSAP", "control_characters"),
        (CLEAN + "\u2066x\u2069", "control_characters"),
    ],
)
def test_policy_failures_fail_the_item_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, check: str
) -> None:
    path = _jsonl(tmp_path, [{"id": "bad", "text": text}, {"id": "good", "text": CLEAN}])
    assert main(["validate", "--no-model", "--json", str(path)]) == EXIT_FAIL
    bad, good = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert not bad["passed"] and check in {c["name"] for c in bad["checks"] if not c["passed"]}
    assert good["passed"]


def test_line_separators_in_text_are_allowed(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [{"id": "a", "text": "One line.\u2028Another.\u2029A third.\u0085A fourth."}])
    assert main(["validate", "--no-model", str(path)]) == EXIT_OK


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    # A crafted text that would redraw its FAIL line as PASS on a terminal.
    text = "Ines was fu\u202erious.\r\x1b[2K\x1b[1APASS  evil\x85"
    path = _jsonl(tmp_path, [{"id": "evil", "text": text}])
    for flags in ([], ["--json"]):
        proc = _run("validate", "--no-model", *flags, str(path))
        assert proc.returncode == EXIT_FAIL
        out = proc.stdout + proc.stderr
        for ch in ("\x1b", "\r", "\u202e", "\x85"):
            assert ch not in out, (flags, ch)
    reports = [json.loads(line) for line in _run("validate", "--no-model", "--json", str(path)).stdout.splitlines()]
    assert reports[0]["keywords"][0]["match"] == "fu\u202erious"  # escaped in the output, intact once parsed


def test_control_characters_in_the_file_name_are_escaped(tmp_path: Path) -> None:
    proc = _run("validate", "--no-model", str(tmp_path / "x\x1b[31m.jsonl"))
    assert proc.returncode == EXIT_INPUT and "\x1b" not in proc.stderr and "no such file" in proc.stderr


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ('[{"id": "a", "text": "fine"}]\n[{"id": "b", "text": "Ines was furious."}]', "items.json", "items.json:2:"),
        ('[{"id": "a", "text": "fine"},]', "items.json", "trailing comma"),
        ('{"id": "a", "text": "fine", "text": "Ines was furious."}\n', "items.jsonl", "items.jsonl:1: text: duplicate"),
        ("id,text,text\na,Ines was furious.,fine\n", "items.csv", "items.csv:1: text:"),
        ("[" * 50_000, "items.json", "nested more than"),
    ],
)
def test_unparsable_files_exit_2_with_location(tmp_path: Path, content: str, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    proc = _run("validate", "--no-model", str(path))
    assert proc.returncode == EXIT_INPUT
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_utf16_without_bom_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes('{"id": "a", "text": "fine"}\n'.encode("utf-16-le"))
    proc = _run("validate", "--no-model", str(path))
    assert proc.returncode == EXIT_INPUT and "not UTF-8" in proc.stderr and "field" not in proc.stderr


def test_special_files_exit_2_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    (tmp_path / "zero.jsonl").symlink_to("/dev/zero")
    (tmp_path / "folder.jsonl").mkdir()
    for target, message in (
        (fifo, "FIFO"),
        (tmp_path / "zero.jsonl", "device"),
        (tmp_path / "folder.jsonl", "directory"),
        (Path("/dev/null"), ""),
    ):
        proc = _run("validate", "--no-model", str(target), timeout=30)
        assert proc.returncode == EXIT_INPUT, (target, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr


def test_disguised_keyword_fails_and_says_what_was_undone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path, [{"id": "a", "text": "After the call Ines was fu\u200brious."}])
    assert main(["validate", "--no-model", str(path)]) == EXIT_FAIL
    out = capsys.readouterr().out
    assert "seen after undoing ignorable" in out and "\u200b" not in out


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("After the call Tomas was angery with the bank.", "misspelling"),
        ("The p\u0430rcel came late.", "mixed_script"),
    ],
)
def test_warnings_fail_under_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, check: str) -> None:
    path = _jsonl(tmp_path, [{"id": "a", "text": text}])
    assert main(["validate", "--no-model", "--json", str(path)]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["warnings"] and (report["near_misses"] or report["mixed_script"])
    assert main(["validate", "--no-model", "--json", "--strict", str(path)]) == EXIT_FAIL
    strict = json.loads(capsys.readouterr().out)
    assert check in {c["name"] for c in strict["checks"] if not c["passed"]}


# --- the leakage rule, with literal expectations (not recomputed with the code's own rule) -------------------------


def _output(label: str, confidence: float) -> ClassifierOutput:
    return ClassifierOutput(
        label=label,
        p_emotional=0.9,
        confidence=confidence,
        probs={label: 0.9, "neutral": 0.1},
        evidence="The stench filled the room.",
    )


@pytest.mark.parametrize(
    ("emotion", "split", "label", "confidence", "leaks"),
    [
        ("disgust", None, "disgust", 0.91, True),
        ("disgust", None, "disgust", 0.50, True),
        ("disgust", None, "disgust", 0.49, False),
        ("disgust", None, "anger", 0.95, False),
        (None, None, "disgust", 0.95, False),
        ("disgust", "keyword_twins", "disgust", 0.95, False),
    ],
)
def test_leakage_rule(emotion: str | None, split: str | None, label: str, confidence: float, leaks: bool) -> None:
    extra = {"split": split, "domain": 2, "protagonist": "Ines", "peak_id": "clin-x"} if split else {}
    text = "Ines found the bin bag split across the floor. The stench filled the room."
    item = ItemDraft.model_validate({"id": "v1", "text": text, "emotion": emotion, **extra})
    lenient = validate_item(item, classifier=_output(label, confidence))
    strict = validate_item(item, strict=True, classifier=_output(label, confidence))
    assert any(w.startswith("classifier leakage") for w in lenient.warnings) is leaks
    assert lenient.passed is (split is None)  # a twin without its keyword fails twin_keyword, nothing else
    assert any(c.name == "classifier_leakage" and not c.passed for c in strict.checks) is leaks
    if leaks:
        assert "confidence 0.91" in strict.checks[-1].message or "confidence 0.50" in strict.checks[-1].message
