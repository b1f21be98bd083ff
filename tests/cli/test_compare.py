"""``aipsy-affect compare``: two batteries side by side (ours and one in the published layout)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from published_helpers import FIXTURE, KEYWORD_CONTROL, KeywordStub

import aipsy_affect.defense.classifier as classifier
from aipsy_affect.battery.release import load_release
from aipsy_affect.cli.main import main
from aipsy_affect.errors import EXIT_INPUT, EXIT_OK


@pytest.fixture(autouse=True)
def _stub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classifier, "load_classifier", lambda *a, **k: KeywordStub())


def test_compare_ours_with_the_published_fixture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    code = main(
        ["compare", "packaged", str(FIXTURE), "--keyword-control", str(KEYWORD_CONTROL), "--out", str(out), "--quiet"]
    )
    assert code == EXIT_OK
    printed = capsys.readouterr().out
    assert printed == (out / "compare.md").read_text(encoding="utf-8")
    data = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    ours, theirs = load_release(), load_release(FIXTURE)
    assert (data["a"]["layout"], data["a"]["sha256"]) == ("aipsy-affect", ours.sha256)
    assert (data["b"]["layout"], data["b"]["sha256"]) == ("published", theirs.sha256)
    rows = {(r["section"], r["name"]): (r["a"], r["b"]) for r in data["rows"]}
    sections = list(dict.fromkeys(r["section"] for r in data["rows"]))
    assert sections == [
        "design checks",
        "length matching",
        "domain-emotion association",
        "keyword hits",
        "lexical floor",
        "classifier",
        "criteria",
    ]
    a, b = rows[("length matching", "vignette minus neutral")]
    assert b.startswith("+12.85 words") and not a.startswith("+12.85")
    a, b = rows[("domain-emotion association", "by domain_label")]
    assert a.startswith("Cramer's V 0.000") and b.startswith("Cramer's V 0.8")
    a, b = rows[("design checks", "keyword_twins")]
    assert a.startswith("holds") and b.startswith("n/a")
    a, b = rows[("classifier", "top-1, keyword twins or control")]
    assert "(keyword twins)" in a and "of 24 (keyword control)" in b
    assert rows[("classifier", "top-1, vignettes")][1].endswith("of 72")
    assert rows[("keyword hits", "forbidden, clinical")] == ("0 hits in 0 of 192 items", "3 hits in 3 of 72 items")
    assert ("lexical floor", "affect AUROC, vignette vs neutral") in rows
    assert f"A: packaged (aipsy-affect) | B: {FIXTURE} (published)".replace("_", "\\_") in printed
    assert data["reports"]["b"]["keyword_control"]["n"] == 24


def test_compare_refuses_an_unreadable_battery(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(FIXTURE), str(tmp_path / "missing"), "--quiet"]) == EXIT_INPUT
    assert "cannot read the battery" in capsys.readouterr().err
