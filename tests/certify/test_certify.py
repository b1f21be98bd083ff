"""``aipsy-affect certify``: criteria, report contract, outputs, CLI, benchmark, and the committed validation/
outputs (a test fails when they are stale relative to data/*.jsonl)."""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

import aipsy_affect
from aipsy_affect.battery.release import Release
from aipsy_affect.battery.schema import EMOTIONS, SPLITS, Battery, StimulusItem
from aipsy_affect.certify import run as certify_mod
from aipsy_affect.certify.criteria import CRITERIA as STANDARD
from aipsy_affect.certify.lexical import lexical_report
from aipsy_affect.certify.report import ITEM_SCORE_FIELDS, CertificationReport, ItemScores, item_scores_frame
from aipsy_affect.certify.run import FIGURES, build_report, certify
from aipsy_affect.cli.main import main
from aipsy_affect.defense.bench import render_markdown, run_benchmark
from aipsy_affect.defense.classifier import (
    MINILM_WEIGHTS_SHA256,
    NEUTRAL,
    ClassifierInfo,
    ClassifierOutput,
    EmotionClassifier,
)
from aipsy_affect.defense.emolex import lexicon_scores
from aipsy_affect.defense.vader import vader_scores
from aipsy_affect.errors import EXIT_FAIL, EXIT_INPUT, EXIT_OK
from aipsy_affect.keywords.screen import find_keywords
from aipsy_affect.render.report import render_markdown as render_report

ROOT = Path(__file__).resolve().parents[2]
VALIDATION = ROOT / "validation"
CRITERIA = [
    "no_forbidden_keywords_in_480",
    "every_twin_has_own_keyword",
    "p_emotional_clinical_above_neutral",
    "top1_clinical_at_most_30pct",
    "top1_twins_at_least_75pct",
    "complex_neutral_not_above_clinical",
    "complex_neutral_close_to_neutral",
    "length_mean_difference",
    "length_paired_test_not_significant",
    "lexical_top1_clinical_at_most_50pct",
    "lexical_affect_auroc_at_most_095",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _output(label: str, p_emotional: float, confidence: float = 0.6) -> ClassifierOutput:
    rest = (1 - confidence) / (len(EMOTIONS) - 1)
    probs = {e: p_emotional * (confidence if e == label else rest) for e in EMOTIONS}
    probs[NEUTRAL] = 1 - p_emotional
    return ClassifierOutput(label=label, p_emotional=p_emotional, confidence=confidence, probs=probs)


class StubClassifier(EmotionClassifier):
    """Names the emotion of any keyword the screen finds, else 'trust'; P(emotional) 0.8 with a keyword, else 0.2."""

    info = ClassifierInfo(
        id="stub",
        revision="test",
        weights_sha256=None,
        kind="prototype",
        device="cpu",
        dtype="float32",
        emotions=EMOTIONS,
        max_length=0,
    )

    def __init__(self) -> None:
        self.calls: list[int] = []

    def classify(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool | None = None
    ) -> list[ClassifierOutput]:
        self.calls.append(len(texts))
        out = []
        for t in texts:
            fams = [h.emotion for h in find_keywords(t) if h.kind == "forbidden" and h.emotion in EMOTIONS]
            out.append(_output(fams[0], 0.8) if fams else _output("trust", 0.2))
        return out


@pytest.fixture(scope="module")
def synthetic_battery(synthetic_battery_records: dict[str, list[dict]]) -> Battery:
    return Battery(items=tuple(StimulusItem.model_validate(r) for s in SPLITS for r in synthetic_battery_records[s]))


@pytest.fixture(scope="module")
def lexical(synthetic_battery: Battery):
    return lexical_report(synthetic_battery)


def _release(battery: Battery, sha: str = "ab" * 32) -> Release:
    return Release(battery=battery, sha256=sha, source="test")


def _scores(battery: Battery, decide: Callable[[StimulusItem], tuple[str, float]]) -> list[ItemScores]:
    out = []
    for item in battery.items:
        label, p = decide(item)
        out.append(
            ItemScores(
                id=item.id,
                split=item.split,
                vader=vader_scores(item.text),
                nrc=lexicon_scores(item.text),
                classifier=_output(label, p),
            )
        )
    return out


def _verdicts(report: CertificationReport) -> dict[str, bool]:
    return {c.name: c.passed for c in report.criteria}


def _good(item: StimulusItem) -> tuple[str, float]:
    # Affect detected (clinical > neutral), category named on twins only, complex neutrals at neutral level.
    p = {"clinical": 0.5, "moderate": 0.4, "keyword_twins": 0.7, "neutral": 0.2, "complex_neutral": 0.2}[item.split]
    p += (zlib.crc32(item.id.encode()) % 7) / 1000
    if item.split == "keyword_twins":
        return str(item.emotion), p
    k = EMOTIONS.index(item.emotion) if item.emotion else 0
    return EMOTIONS[(k + 1) % 8], p  # always wrong on vignettes


def test_criteria_pass_and_fail_on_their_thresholds(synthetic_battery: Battery, lexical) -> None:
    info = StubClassifier.info
    report = build_report(
        synthetic_battery, _scores(synthetic_battery, _good), info, data_hash="0" * 64, timing={}, lexical=lexical
    )
    v = _verdicts(report)
    assert list(v) == CRITERIA == [c.name for c in STANDARD]
    # The synthetic twins end in "overwhelmed", which is no Plutchik emotion's keyword: that criterion must fail.
    assert not v["every_twin_has_own_keyword"] and not report.passed
    assert all(ok for name, ok in v.items() if name != "every_twin_has_own_keyword")

    clinical = synthetic_battery.split("clinical")
    named = {i.id for i in clinical[:58]}  # 58/192 = 30.2% > 30%

    def leaky(item: StimulusItem) -> tuple[str, float]:
        label, p = _good(item)
        return (str(item.emotion), p) if item.id in named else (label, p)

    v = _verdicts(
        build_report(
            synthetic_battery, _scores(synthetic_battery, leaky), info, data_hash="0" * 64, timing={}, lexical=lexical
        )
    )
    assert not v["top1_clinical_at_most_30pct"]
    named = {i.id for i in clinical[:57]}  # 57/192 = 29.7%
    v = _verdicts(
        build_report(
            synthetic_battery, _scores(synthetic_battery, leaky), info, data_hash="0" * 64, timing={}, lexical=lexical
        )
    )
    assert v["top1_clinical_at_most_30pct"]

    def flat(item: StimulusItem) -> tuple[str, float]:
        k = EMOTIONS.index(item.emotion) if item.emotion else 0
        # No clinical/neutral difference, and the twins' category missed too.
        return EMOTIONS[(k + 1) % 8], 0.3 + (zlib.crc32(item.id.encode()) % 100) / 1000

    v = _verdicts(
        build_report(
            synthetic_battery, _scores(synthetic_battery, flat), info, data_hash="0" * 64, timing={}, lexical=lexical
        )
    )
    assert not v["p_emotional_clinical_above_neutral"] and not v["top1_twins_at_least_75pct"]

    def eventful(item: StimulusItem) -> tuple[str, float]:
        label, p = _good(item)
        return label, 0.45 if item.split == "complex_neutral" else p  # above the neutral-clinical midpoint

    v = _verdicts(
        build_report(
            synthetic_battery,
            _scores(synthetic_battery, eventful),
            info,
            data_hash="0" * 64,
            timing={},
            lexical=lexical,
        )
    )
    assert v["complex_neutral_not_above_clinical"] and not v["complex_neutral_close_to_neutral"]


def test_lexical_criteria_follow_the_lexical_report(synthetic_battery: Battery, lexical) -> None:
    scores = _scores(synthetic_battery, _good)

    def verdicts(top1: float, auroc: float) -> dict[str, bool]:
        edited = lexical.model_copy(
            update={
                "accuracy": {
                    **lexical.accuracy,
                    "clinical": lexical.accuracy["clinical"].model_copy(update={"accuracy": top1}),
                },
                "affect_auroc": lexical.affect_auroc.model_copy(update={"auroc": auroc}),
            }
        )
        v = _verdicts(
            build_report(synthetic_battery, scores, StubClassifier.info, data_hash="0" * 64, timing={}, lexical=edited)
        )
        return {k: v[k] for k in ("lexical_top1_clinical_at_most_50pct", "lexical_affect_auroc_at_most_095")}

    assert verdicts(0.50, 0.95) == {
        "lexical_top1_clinical_at_most_50pct": True,
        "lexical_affect_auroc_at_most_095": True,
    }
    assert verdicts(0.5052, 0.9501) == {
        "lexical_top1_clinical_at_most_50pct": False,
        "lexical_affect_auroc_at_most_095": False,
    }


def test_certify_writes_the_contracted_outputs(
    synthetic_battery: Battery, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stub = StubClassifier()
    report = certify(tmp_path, classifier=stub, release=_release(synthetic_battery), progress=False)
    assert stub.calls == [len(synthetic_battery.items)]  # one batched call for every item
    assert capsys.readouterr().err == ""  # progress=False: no bars
    data = json.loads((tmp_path / "report.json").read_text())
    for key in (
        "passed",
        "criteria",
        "package_version",
        "data_sha256",
        "lexicon_version",
        "classifier",
        "library_versions",
        "summaries",
        "paired",
        "unpaired",
        "accuracy",
        "confusion",
        "length",
        "keywords",
        "lexical",
    ):
        assert key in data, key
    assert data["passed"] is report.passed is all(c["passed"] for c in data["criteria"])
    assert all({"name", "passed", "value", "threshold"} <= set(c) for c in data["criteria"])
    assert data["data_sha256"] == "ab" * 32 and data["package_version"] == aipsy_affect.__version__
    assert {"id", "revision", "weights_sha256"} <= set(data["classifier"])
    assert CertificationReport.model_validate_json((tmp_path / "report.json").read_bytes(), strict=True) == report
    assert set(report.timing_s) >= {"classifier_load", "scoring", "lexical_floor", "total_in_process"}
    rows = [json.loads(x) for x in (tmp_path / "item_scores.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [i.id for i in synthetic_battery.items]
    assert all(tuple(r) == ITEM_SCORE_FIELDS for r in rows)
    for name in FIGURES.values():
        assert (tmp_path / name).read_bytes().startswith(PNG_MAGIC)
    md = (tmp_path / "REPORT.md").read_text()
    assert md == render_report(report)
    assert "**Verdict: FAILED**" in md and all(c in md for c in CRITERIA)
    assert all(f"]({name})" in md for name in FIGURES.values())
    assert "## Trained lexical floor (method 4)" in md and f"AUROC **{report.lexical.affect_auroc.auroc:.3f}**" in md


def test_certify_shows_one_progress_bar_per_instrument(
    synthetic_battery: Battery, lexical, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import aipsy_affect.certify.lexical as lexmod

    monkeypatch.setattr(lexmod, "lexical_report", lambda battery: lexical)
    certify(None, classifier=StubClassifier(), release=_release(synthetic_battery), progress=True)
    err = capsys.readouterr().err
    for bar in ("VADER", "NRC EmoLex", "lexical floor"):
        assert bar in err, bar
    certify(None, classifier=StubClassifier(), release=_release(synthetic_battery), progress=False)
    assert capsys.readouterr().err == ""


def test_item_scores_frame_is_the_jsonl_as_a_dataframe(synthetic_battery: Battery) -> None:
    scores = _scores(synthetic_battery, _good)
    frame = item_scores_frame(scores)
    assert list(frame.columns) == list(ITEM_SCORE_FIELDS) and len(frame) == len(synthetic_battery.items)
    first = scores[0]
    assert frame.loc[first.id, "p_emotional"] == round(first.classifier.p_emotional, 6)
    assert frame.loc[first.id, "classifier_label"] == first.classifier.label
    assert frame.groupby("split").size().to_dict() == {s: len(synthetic_battery.split(s)) for s in SPLITS}


def test_certify_cli_exit_codes(
    synthetic_battery_records: dict[str, list[dict]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    src = tmp_path / "data"
    src.mkdir()
    for split, records in synthetic_battery_records.items():
        (src / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    monkeypatch.setattr(certify_mod, "load_classifier", lambda *a, **k: StubClassifier())
    out = tmp_path / "val"
    assert main(["certify", "--source", str(src), "--out", str(out), "--quiet"]) == EXIT_FAIL
    printed = capsys.readouterr()
    assert "FAIL  every_twin_has_own_keyword" in printed.out and "NOT certified" in printed.out
    assert printed.err == ""
    assert json.loads((out / "report.json").read_text())["data_sha256"] == aipsy_affect.data_sha256(src)
    assert main(["certify", "--source", str(tmp_path / "missing"), "--out", str(out)]) == EXIT_INPUT
    assert "cannot read the battery" in capsys.readouterr().err
    bad = tmp_path / "map.json"
    bad.write_text("[1, 2]")
    assert main(["certify", "--label-map", str(bad), "--out", str(out)]) == EXIT_INPUT
    assert main(["certify", "--label-map", str(tmp_path), "--out", str(out)]) == EXIT_INPUT  # a directory
    assert "cannot be read" in capsys.readouterr().err
    monkeypatch.undo()
    assert main(["certify", "--classifier", "../no such model", "--source", str(src), "--out", str(out)]) == EXIT_INPUT


class TimedStub(StubClassifier):
    """Costs what a real encoder costs: a fixed price per forward pass, one pass per ``batch_size`` sentences.

    Every text has two sentences. The naive loop (batch size 1) pays two passes per text, one call per text pays one,
    the batched call pays one for everything: if the benchmark timed the same code path twice, the speed-ups would
    be about 1 and the test below fails.
    """

    PASS_SECONDS = 0.01

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[int, int | None]] = []

    def classify(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool | None = None
    ) -> list[ClassifierOutput]:
        self.log.append((len(texts), batch_size))
        sentences = 2 * len(texts)
        passes = -(-sentences // (batch_size or 64))
        time.sleep(self.PASS_SECONDS * passes)
        return super().classify(texts)


def test_benchmark_times_three_different_code_paths_on_the_same_texts() -> None:
    texts = [f"Marta was furious about box {k}. She sat down." for k in range(10)]
    stub = TimedStub()
    result = run_benchmark(texts, stub, gpu=False, rounds=2)
    assert [t.mode for t in result.timings] == ["naive", "per_text", "batched"]
    assert result.n_texts == 10 and result.labels_agree == 1.0 and result.max_abs_p_emotional_diff == 0.0
    # naive: 20 passes per round, per text: 10, batched: 1.
    assert result.speedup_batched_vs_naive > 4 and result.speedup_batched_vs_per_text > 2
    assert result.speedup_batched_vs_naive > 1.3 * result.speedup_batched_vs_per_text
    calls = stub.log[1:]  # after the warm-up call
    assert calls.count((1, 1)) == 2 * len(texts) and calls.count((1, None)) == 2 * len(texts)
    assert calls.count((len(texts), None)) == 2
    md = render_markdown(result)
    assert "GPU: not measured" in md and "Batched vs naive loop" in md and result.created_utc[:10] in md


# --- the committed outputs of the packaged battery -----------------------------------------------------------------


def _committed() -> dict:
    path = VALIDATION / "report.json"
    assert path.is_file(), "validation/report.json is missing: run `aipsy-affect certify` and commit validation/"
    return json.loads(path.read_text())


def test_committed_outputs_are_not_stale() -> None:
    report = _committed()
    assert report["data_sha256"] == aipsy_affect.data_sha256(), (
        "validation/ is stale: data/*.jsonl changed after certification; rerun `aipsy-affect certify` and commit"
    )
    assert report["lexicon_version"] == aipsy_affect.load_lexicon().version
    assert report["classifier"]["weights_sha256"] == MINILM_WEIGHTS_SHA256
    rows = [json.loads(x) for x in (VALIDATION / "item_scores.jsonl").read_text().splitlines()]
    battery = aipsy_affect.load_battery()
    assert [(r["id"], r["split"]) for r in rows] == [(i.id, i.split) for i in battery.items]
    assert all(tuple(r) == ITEM_SCORE_FIELDS for r in rows)


def test_committed_report_agrees_with_its_item_scores() -> None:
    # The golden per-item file and the report's figures must tell the same story.
    report = CertificationReport.model_validate_json((VALIDATION / "report.json").read_bytes(), strict=True)
    assert report.passed == all(c.passed for c in report.criteria)
    assert [c.name for c in report.criteria] == CRITERIA
    rows = [json.loads(x) for x in (VALIDATION / "item_scores.jsonl").read_text().splitlines()]
    battery = aipsy_affect.load_battery()
    by_id = {r["id"]: r for r in rows}
    for split in SPLITS:
        vals = [by_id[i.id]["p_emotional"] for i in battery.split(split)]
        assert sum(vals) / len(vals) == pytest.approx(report.summaries["p_emotional"][split].mean, abs=1e-5)
    for split in ("clinical", "keyword_twins"):
        items = battery.split(split)
        acc = sum(by_id[i.id]["classifier_label"] == i.emotion for i in items) / len(items)
        assert acc == pytest.approx(report.accuracy["classifier"][split].accuracy)
    for name in report.figures.values():
        assert (VALIDATION / name).read_bytes().startswith(PNG_MAGIC)
    assert render_report(report).splitlines()[:3] == (VALIDATION / "REPORT.md").read_text().splitlines()[:3]
    assert (VALIDATION / "BENCHMARK.md").is_file()


@pytest.mark.slow
def test_certify_packaged_battery_reproduces_committed_outputs(tmp_path: Path) -> None:
    start = time.perf_counter()
    report = certify(tmp_path, device="cpu", progress=False)
    elapsed = time.perf_counter() - start
    assert elapsed <= 60, f"certify took {elapsed:.1f} s (target: at most 60 s on 2 CPU cores)"
    committed = [json.loads(x) for x in (VALIDATION / "item_scores.jsonl").read_text().splitlines()]
    fresh = [json.loads(x) for x in (tmp_path / "item_scores.jsonl").read_text().splitlines()]
    assert [r["classifier_label"] for r in fresh] == [r["classifier_label"] for r in committed]
    assert [r["p_emotional"] for r in fresh] == pytest.approx([r["p_emotional"] for r in committed], abs=1e-4)
    assert _verdicts(report) == {c["name"]: c["passed"] for c in _committed()["criteria"]}


def test_bench_cli_writes_markdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from aipsy_affect.defense import bench as bench

    monkeypatch.setattr(bench, "load_classifier", lambda *a, **k: StubClassifier())
    out = tmp_path / "BENCH.md"
    assert main(["bench", "--n", "5", "--rounds", "1", "--out", str(out)]) == EXIT_OK
    text = out.read_text()
    assert "5 battery items" in text and "| naive | cpu |" in text
    assert main(["bench", "--n", "0"]) == EXIT_INPUT
