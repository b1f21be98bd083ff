"""``score``, ``submit``, ``leaderboard`` and ``probe`` against a battery in the published layout: the answer key and
hash come from that battery, submissions record it, and the leaderboard keeps batteries apart."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from published_helpers import FIXTURE

from aipsy_affect.battery.folds import grouped_folds
from aipsy_affect.battery.release import Release, load_release
from aipsy_affect.benchmark.build import submission_from_arrays
from aipsy_affect.benchmark.leaderboard import Leaderboard
from aipsy_affect.cli.main import main
from aipsy_affect.errors import EXIT_INPUT, EXIT_OK
from aipsy_affect.probe.config import UNNAMED_PROMPT


def _submission(release: Release, path: Path, seed: int = 0) -> Path:
    items = [i for i in release.battery.items if i.split != "keyword_twins"]
    rng = np.random.default_rng(seed)
    affect = rng.normal(size=(2, len(items))) + np.array([i.split in ("clinical", "moderate") for i in items])
    category = rng.dirichlet(np.ones(8), size=(2, len(items)))
    sub = submission_from_arrays(
        [i.id for i in items],
        affect,
        category,
        folds=grouped_folds(items, 5, seed),
        model={"id": f"test/random-{seed}", "revision": "r1"},
        release=release,
    )
    path.write_text(sub.model_dump_json(), encoding="utf-8")
    return path


def test_score_against_the_published_battery(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    release = load_release(FIXTURE)
    sub = _submission(release, tmp_path / "sub.json")
    assert json.loads(sub.read_text())["dataset"]["revision"] == release.sha256
    assert main(["score", str(sub), "--source", str(FIXTURE), "--json", "--n-bootstrap", "200"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["data_sha256"] == release.sha256
    # The published moderates name no peak: there are no triplets, so no dose-response rate (not a made-up one).
    assert all(layer["dose_response_rate"] is None for layer in report["layers"])
    assert all(0.0 <= layer["moderate_auroc"] <= 1.0 for layer in report["layers"])
    # Against our battery it is refused: another battery's revision, unknown ids.
    assert main(["score", str(sub)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "is not this battery's revision" in err and "unknown item ids" in err


def test_submit_records_the_battery_and_the_board_keeps_batteries_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published, ours = load_release(FIXTURE), load_release()
    board = tmp_path / "board"
    pub_sub = _submission(published, tmp_path / "pub.json")
    our_sub = _submission(ours, tmp_path / "ours.json", seed=1)
    assert main(["submit", str(pub_sub), "--leaderboard", str(board), "--source", str(FIXTURE)]) == EXIT_OK
    assert "rank 1 of 1" in capsys.readouterr().out
    assert main(["submit", str(our_sub), "--leaderboard", str(board)]) == EXIT_OK
    assert "rank 1 of 1" in capsys.readouterr().out  # ranked among entries of its own battery only
    entries = Leaderboard(board).entries()
    assert [(e.report.data_sha256, e.dataset_revision) for e in entries] == [
        (published.sha256, published.sha256),
        (ours.sha256, ours.sha256),
    ]
    assert main(["leaderboard", str(board), "--format", "json", "--dataset", published.sha256[:16]]) == EXIT_OK
    shown = capsys.readouterr().out
    assert "test/random-0" in shown and "test/random-1" not in shown
    assert main(["leaderboard", str(board), "--dataset", "abc"]) == EXIT_INPUT


def test_probe_on_the_published_battery(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    release = load_release(FIXTURE)
    out = tmp_path / "probe.json"
    code = main(
        [
            "probe",
            "--model",
            "minilm",
            "--source",
            str(FIXTURE),
            "--layers",
            "0,6",
            "--no-cache",
            "--device",
            "cpu",
            "--quiet",
            "--json",
            "--out",
            str(out),
        ]
    )
    assert code == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    submission = json.loads(out.read_text(encoding="utf-8"))
    assert submission["dataset"]["revision"] == report["data_sha256"] == release.sha256
    assert submission["method"]["prompt"] == UNNAMED_PROMPT  # no protagonist is made up for the question
    assert set(submission["layers"][0]["affect"]) == {i.id for i in release.battery.items}
    assert main(["score", str(out), "--source", str(FIXTURE), "--n-bootstrap", "200"]) == EXIT_OK
    capsys.readouterr()
    code = main(
        [
            "probe",
            "--model",
            "minilm",
            "--source",
            str(FIXTURE),
            "--prompt",
            "{protagonist}: {text}",
            "--quiet",
            "--out",
            str(tmp_path / "x.json"),
        ]
    )
    assert code == EXIT_INPUT and "names no protagonist" in capsys.readouterr().err


def test_export_and_publish_refuse_a_published_layout_battery(tmp_path, capsys) -> None:
    from pathlib import Path

    from aipsy_affect.cli.main import main as cli_main

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "published"
    assert cli_main(["export", str(tmp_path / "x"), "--source", str(fixture), "--uncertified"]) == 2
    assert "aipsy-affect layout only" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert cli_main(["publish", "org/name", "--source", str(fixture), "--dry-run"]) == 2
    assert "aipsy-affect layout only" in capsys.readouterr().err
