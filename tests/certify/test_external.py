"""``certify --source DIR`` on a battery in the published layout: every instrument, twin criteria on the keyword
control or not applicable, the report naming layout, source and hash, exit codes by the applicable criteria."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from published_helpers import FIXTURE, KEYWORD_CONTROL, KeywordStub, copy_fixture

import aipsy_affect.certify.external as external
from aipsy_affect.battery.release import load_release
from aipsy_affect.certify.criteria import CRITERIA, evaluate, report_problems
from aipsy_affect.certify.external import TWIN_CRITERIA, certify_external, mark_criteria
from aipsy_affect.certify.report import CertificationReport
from aipsy_affect.cli.main import main
from aipsy_affect.errors import EXIT_FAIL, EXIT_INPUT


@pytest.fixture(autouse=True)
def _stub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(external, "load_classifier", lambda *a, **k: KeywordStub())


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().out


def test_certify_published_with_keyword_control(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = copy_fixture(tmp_path / "pub")
    out = tmp_path / "v"
    code, printed = _run(
        ["certify", "--source", str(src), "--keyword-control", str(KEYWORD_CONTROL), "--out", str(out), "--quiet"],
        capsys,
    )
    assert code == EXIT_FAIL  # the fixture's length difference fails its criteria
    report = CertificationReport.model_validate_json((out / "report.json").read_text(encoding="utf-8"))
    release = load_release(src)
    assert (report.layout, report.source, report.data_sha256) == ("published", str(src), release.sha256)
    assert f"layout published, source {src}, sha256 {release.sha256}" in printed
    by = {c.name: c for c in report.criteria}
    assert [c.name for c in report.criteria] == [c.name for c in CRITERIA]
    assert all(c.applicable for c in report.criteria)
    for name in TWIN_CRITERIA:
        assert "keyword control" in str(by[name].reason)
    # Classifier top-1 on the vignettes and on the keyword control (which names its emotions: the stub reads them).
    assert report.accuracy["classifier"]["keyword_twins"].n == 24
    assert report.accuracy["classifier"]["keyword_twins"].accuracy > 0.75 and by["top1_twins_at_least_75pct"].passed
    assert report.accuracy["classifier"]["clinical"].n == 72
    assert not by["length_mean_difference"].passed and by["length_mean_difference"].value == pytest.approx(
        12.847, abs=1e-3
    )
    assert report.keyword_control is not None and report.keyword_control.n == 24
    assert report.audit is not None
    assert report.audit.check("domain_does_not_predict_emotion").status == "fails"
    assert report.audit.check("length_mean_difference").status == "fails"
    markdown = (out / "REPORT.md").read_text(encoding="utf-8")
    assert "layout `published`" in markdown and "## Design audit" in markdown
    assert (out / "confusion_clinical_vs_twins.png").is_file()
    assert len((out / "item_scores.jsonl").read_text().splitlines()) == 158 + 24


def test_without_a_control_the_twin_criteria_are_not_applicable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "v"
    code, printed = _run(
        ["certify", "--source", str(FIXTURE), "--layout", "published", "--out", str(out), "--quiet"], capsys
    )
    assert code == EXIT_FAIL
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    na = {c["name"]: c for c in report["criteria"] if not c["applicable"]}
    assert set(na) == set(TWIN_CRITERIA)
    assert all(c["value"] is None and "no keyword twins" in c["reason"] for c in na.values())
    assert "N/A   top1_twins_at_least_75pct: n/a" in printed
    assert "keyword_twins" not in report["accuracy"]["classifier"]
    assert not (out / "confusion_clinical_vs_twins.png").exists()
    assert "| top1_twins_at_least_75pct | n/a |" in (out / "REPORT.md").read_text(encoding="utf-8")


def _values(**over: float) -> dict[str, float]:
    # A set of values that passes every criterion, with overrides.
    good = {
        c.name: (c.threshold if c.comparison in ("==", "<=", ">=", "|x|<=") else c.threshold / 10) for c in CRITERIA
    }
    good.update(over)
    return good


def test_not_applicable_criteria_count_neither_way() -> None:
    criteria = evaluate(_values(top1_twins_at_least_75pct=float("nan")))
    marked = mark_criteria(criteria, has_twins=False, control=None, has_complex=True)
    assert [c.name for c in marked if not c.applicable] == list(TWIN_CRITERIA)
    assert all(c.passed for c in marked if c.applicable)  # so an external battery passing the rest exits 0
    with_twins = mark_criteria(criteria, has_twins=True, control=None, has_complex=True)
    nan = next(c for c in with_twins if c.name == "top1_twins_at_least_75pct")
    assert nan.applicable and not nan.passed and nan.value is None  # a NaN is a failure, never a silent n/a
    # A release must have every criterion measured: the publish gate refuses a report with n/a criteria.
    report = CertificationReport.model_construct(criteria=marked, passed=True)
    assert any("not measured" in p for p in report_problems(report))


def test_exit_0_when_every_applicable_criterion_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def passing(criteria: Any, **kw: Any) -> list[Any]:
        marked = mark_criteria(criteria, **kw)
        return [c.model_copy(update={"passed": True}) if c.applicable else c for c in marked]

    monkeypatch.setattr(external, "mark_criteria", passing)
    code, _ = _run(["certify", "--source", str(FIXTURE), "--out", str(tmp_path / "v"), "--quiet"], capsys)
    assert code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layout", "published"], "needs --source"),
        (["--source", "{fixture}", "--keyword-control", "{missing}"], "no such file"),
        (["--source", "{bad}"], "emotion: 'furry' is not a Plutchik emotion"),
    ],
)
def test_unreadable_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    bad = copy_fixture(tmp_path / "bad")
    text = (bad / "clinical.jsonl").read_text(encoding="utf-8").replace('"rage"', '"furry"', 1)
    (bad / "clinical.jsonl").write_text(text, encoding="utf-8")
    subst = {"{fixture}": str(FIXTURE), "{missing}": str(tmp_path / "none.jsonl"), "{bad}": str(bad)}
    code = main(["certify", *[subst.get(a, a) for a in args], "--out", str(tmp_path / "v"), "--quiet"])
    assert code == EXIT_INPUT
    assert message in capsys.readouterr().err


def test_python_api_writes_nothing_without_out_dir(tmp_path: Path) -> None:
    report = certify_external(load_release(FIXTURE), None, classifier=KeywordStub())
    assert report.layout == "published" and report.audit is not None and report.keyword_control is None
