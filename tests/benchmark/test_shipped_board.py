"""The shipped leaderboard (``leaderboard/``): the floor and chance references, gains on every entry, and entries
that re-score to what is stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from aipsy_affect.battery.release import packaged_release
from aipsy_affect.benchmark.leaderboard import Leaderboard
from aipsy_affect.benchmark.scoring import score_submission

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def entries():
    return Leaderboard(ROOT / "leaderboard").entries()


def test_references_and_gains(entries) -> None:
    roles = [e.role for e in entries]
    assert roles.count("lexical_floor") == 1 and roles.count("chance") == 1 and "entry" in roles
    floor = next(e for e in entries if e.role == "lexical_floor")
    assert floor.report.model.id == "aipsy-affect/lexical-floor-tfidf"
    for entry in entries:
        assert entry.lexical_gain is not None and entry.lexical_gain_ci is not None
        assert entry.lexical_floor_sha256 == floor.submission_sha256
    chance = next(e for e in entries if e.role == "chance")
    assert len(chance.report.layers) == 7 and abs(chance.report.main_score - 0.5) < 0.05


def test_every_entry_rescoring_gives_what_is_stored(entries) -> None:
    board = Leaderboard(ROOT / "leaderboard")
    release = packaged_release()
    for entry in entries:
        if entry.report.data_sha256 != release.sha256:
            pytest.fail(f"{entry.report.model.id} was scored on other data: rebuild leaderboard/ (docs/scoring.md)")
        report = score_submission(board.stored_submission(entry), release, submission_sha256=entry.submission_sha256)
        stored = entry.report.model_dump(exclude={"aipsy_affect_version", "numpy_version", "python_version"})
        assert report.model_dump(exclude={"aipsy_affect_version", "numpy_version", "python_version"}) == stored


def test_baseline_files_are_the_stored_submissions(entries) -> None:
    board = Leaderboard(ROOT / "leaderboard")
    stored = {board.submission_path(e.submission_sha256).read_bytes() for e in entries}
    for name in ("lexical.json", "chance.json", "minilm.json"):
        assert (ROOT / "baselines" / name).read_bytes() in stored, name
