"""``aipsy-affect validate``: exit codes, JSON lines, human output, start-up time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aipsy_affect.cli.main import main
from aipsy_affect.errors import EXIT_FAIL, EXIT_INPUT, EXIT_OK

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _jsonl(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_furious_fails_with_offsets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "The manager was furious about the late delivery."
    path = _jsonl(tmp_path, [{"id": "a", "text": text}])
    assert main(["validate", "--no-model", "--json", str(path)]) == EXIT_FAIL
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is False
    hit = report["keywords"][0]
    assert (hit["term"], hit["emotion"], text[hit["start"] : hit["end"]]) == ("furious", "anger", "furious")


def test_keyword_free_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path, [{"id": "a", "text": "Ines locked the shop, counted the till, and walked home."}])
    assert main(["validate", "--no-model", str(path)]) == EXIT_OK
    assert "1 passed, 0 failed" in capsys.readouterr().out


def test_truncated_line_exits_2_and_names_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n{"id": "b", "text": "y"}\n{"id": "c", "te', encoding="utf-8")
    assert main(["validate", "--no-model", str(path)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert f"{path}:3: malformed JSON" in err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--no-model", str(tmp_path / "none.jsonl")]) == EXIT_INPUT
    assert "no such file" in capsys.readouterr().err


def test_human_output_highlights_word(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path, [{"id": "a", "text": "Later that night Tomas was terrified of the stairs."}])
    main(["validate", "--no-model", str(path)])
    out = capsys.readouterr().out
    assert "FAIL  a" in out and "[terrified]" in out and "(fear, chars 27-36)" in out


def test_expressive_is_a_warning_unless_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _jsonl(tmp_path, [{"id": "a", "text": "Kwame read the letter and laughed."}])
    assert main(["validate", "--no-model", str(path)]) == EXIT_OK
    assert main(["validate", "--no-model", "--strict", str(path)]) == EXIT_FAIL
    out = capsys.readouterr().out
    assert "expressive" in out


def test_json_lines_one_per_item() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "aipsy_affect.cli.main",
            "validate",
            "--no-model",
            "--json",
            str(FIXTURES / "sample_items.jsonl"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == EXIT_FAIL
    reports = [json.loads(line) for line in proc.stdout.splitlines()]
    by_id = {r["id"]: r for r in reports}
    assert len(reports) == 10
    assert {k for r in reports for k in r} >= {"id", "passed", "keywords", "expressive"}
    assert not by_id["s-furious"]["passed"] and not by_id["s-felt"]["passed"] and not by_id["s-unicode"]["passed"]
    assert by_id["s-clean-1"]["passed"] and by_id["s-trust-fund"]["passed"] and by_id["s-content-noun"]["passed"]
    assert by_id["s-expressive"]["passed"] and by_id["s-expressive"]["expressive"][0]["term"] == "laughed"
    assert not by_id["s-hyphen"]["passed"]


def test_validate_no_model_is_fast_and_light() -> None:
    # The brief's target: 10 items in under 2 s wall clock, interpreter start included.
    # NLTK (it imports SciPy), TextBlob and the emoji tables are loaded only when a text needs them.
    heavy = ("torch", "transformers", "datasets", "sklearn", "pandas", "nltk", "scipy", "textblob", "emoji")
    code = (
        f"import sys; sys.argv=['aipsy-affect','validate','--no-model',{str(FIXTURES / 'sample_items.jsonl')!r}];"
        "import aipsy_affect.cli.main as c; rc=c.main(sys.argv[1:]);"
        f"heavy=[m for m in {heavy!r} if m in sys.modules];"
        "print('HEAVY', heavy, file=sys.stderr)"
    )
    env = dict(os.environ)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    assert "HEAVY []" in proc.stderr, proc.stderr
    assert elapsed < 2.0, f"validate --no-model took {elapsed:.2f} s"
