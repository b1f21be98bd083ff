"""The leaderboard store (duplicates, locking, atomic writes, concurrency) and its four renderings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from submission_factory import make_submission_dict, synthetic_battery, write_submission

from aipsy_affect.benchmark.leaderboard import Leaderboard, LeaderboardEntry, submit
from aipsy_affect.errors import DuplicateSubmissionError, InputErrors, LeaderboardError
from aipsy_affect.render.leaderboard import ranked

HOSTILE = '<script>document.body.style.background="rgb(255,0,0)"</script>'
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def battery():
    return synthetic_battery()


def _sub(tmp_path: Path, battery, name: str, **kw) -> Path:
    path = tmp_path / f"{name}.json"
    write_submission(path, make_submission_dict(battery, **{"n_layers": 3, **kw}))
    return path


@pytest.fixture(scope="module")
def board3(tmp_path_factory, battery) -> tuple[Path, list[LeaderboardEntry]]:
    """A board with three entries, one of them with hostile strings in every free-text field."""
    tmp = tmp_path_factory.mktemp("board3")
    specs = [("org/alpha-7b", 6, 1), (HOSTILE, 4, 2), ("meta-llama/Llama-3.1-8B", 12, 3)]
    for k, (model_id, n_layers, seed) in enumerate(specs):
        data = make_submission_dict(battery, n_layers=n_layers, seed=seed, model_id=model_id, twins=k != 1)
        if k == 1:
            data["method"]["name"] = "<img src=x onerror=alert(1)>|probe"
            data["submitter"] = '=HYPERLINK("http://evil")'
        path = tmp / f"s{k}.json"
        write_submission(path, data)
        submit(path, tmp / "board", battery, data_sha256="synthetic", now=T0 + timedelta(minutes=k))
    return tmp / "board", Leaderboard(tmp / "board").entries()


# --- the store ------------------------------------------------------------------------------------------------


def test_submit_appends_and_rejects_duplicates(tmp_path, battery) -> None:
    path = _sub(tmp_path, battery, "a", seed=1)
    entry, board = submit(path, tmp_path / "lb", battery, data_sha256="synthetic", now=T0)
    assert len(board) == 1 and entry.submission_sha256 == board[0].submission_sha256
    assert (tmp_path / "lb" / "submissions" / f"{entry.submission_sha256}.json").read_bytes() == path.read_bytes()
    before = (tmp_path / "lb" / "entries.jsonl").read_bytes()
    with pytest.raises(DuplicateSubmissionError, match=f"duplicate submission: sha256 {entry.submission_sha256}"):
        submit(path, tmp_path / "lb", battery, data_sha256="synthetic")
    # Duplicates are found on content: the same submission re-serialised (indent, a trailing newline) is refused.
    again = tmp_path / "a-again.json"
    again.write_text(json.dumps(json.loads(path.read_text()), indent=2) + "\n\n")
    with pytest.raises(DuplicateSubmissionError):
        submit(again, tmp_path / "lb", battery, data_sha256="synthetic")
    assert (tmp_path / "lb" / "entries.jsonl").read_bytes() == before
    # Appending keeps every earlier byte: the store is append-only.
    submit(_sub(tmp_path, battery, "b", seed=2), tmp_path / "lb", battery, data_sha256="synthetic")
    after = (tmp_path / "lb" / "entries.jsonl").read_bytes()
    assert after.startswith(before) and after.count(b"\n") == 2


def test_invalid_submission_never_reaches_the_board(tmp_path, battery) -> None:
    data = make_submission_dict(battery, n_layers=2)
    data["layers"][1]["affect"]["clin-joy-work-1"] = float("nan")
    path = tmp_path / "nan.json"
    write_submission(path, data)
    with pytest.raises(InputErrors, match="non-finite value"):
        submit(path, tmp_path / "lb", battery)
    assert not (tmp_path / "lb" / "entries.jsonl").exists()


def test_crash_mid_write_leaves_the_old_board(tmp_path, battery, monkeypatch) -> None:
    submit(_sub(tmp_path, battery, "a", seed=1), tmp_path / "lb", battery, data_sha256="synthetic")
    entries = tmp_path / "lb" / "entries.jsonl"
    before = entries.read_bytes()
    import aipsy_affect.battery.io as aio

    calls = {"n": 0}

    def failing_fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the submission copy is written first; die while writing entries.jsonl
            raise OSError("simulated power cut")
        os.fsync(fd)

    monkeypatch.setattr(aio.os, "fsync", failing_fsync)
    with pytest.raises(LeaderboardError, match="simulated power cut"):
        submit(_sub(tmp_path, battery, "b", seed=2), tmp_path / "lb", battery, data_sha256="synthetic")
    monkeypatch.undo()
    assert entries.read_bytes() == before
    assert not [p for p in (tmp_path / "lb").rglob("*.tmp")]
    assert len(Leaderboard(tmp_path / "lb").entries()) == 1


def test_corrupt_entry_line_is_located(tmp_path, battery) -> None:
    submit(_sub(tmp_path, battery, "a"), tmp_path / "lb", battery, data_sha256="synthetic")
    entries = tmp_path / "lb" / "entries.jsonl"
    entries.write_bytes(entries.read_bytes() + b'{"entry_version": 2, "submission_sha256": "zz"}\n')
    with pytest.raises(LeaderboardError) as info:
        Leaderboard(tmp_path / "lb").entries()
    assert "the leaderboard is corrupt" in str(info.value)
    assert "entries.jsonl:2: submission_sha256: String should match pattern" in str(info.value)


def test_missing_or_wrong_directory(tmp_path) -> None:
    with pytest.raises(LeaderboardError, match="no such leaderboard directory"):
        Leaderboard(tmp_path / "absent").entries()
    (tmp_path / "file").write_text("x")
    with pytest.raises(LeaderboardError, match="is a file, not a leaderboard directory"):
        Leaderboard(tmp_path / "file").entries()
    (tmp_path / "empty").mkdir()
    assert Leaderboard(tmp_path / "empty").entries() == []


def test_ranking_shares_rank_on_equal_scores(board3) -> None:
    _, entries = board3
    order = ranked(entries)
    assert [i.entry.report.main_score for i in order] == sorted((e.report.main_score for e in entries), reverse=True)
    twin = entries[0].model_copy(update={"submission_sha256": "f" * 64, "submitted_at": T0 + timedelta(days=1)})
    again = ranked([*entries, twin])
    tied = [i for i in again if i.entry.report.main_score == entries[0].report.main_score]
    assert len(tied) == 2 and tied[0].rank == tied[1].rank and tied[0].tied and tied[1].tied


# --- concurrency (real processes through the CLI) ------------------------------------------------------------


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "aipsy_affect.cli.main", *args]


@pytest.fixture(scope="module")
def packaged_subs(tmp_path_factory) -> list[Path]:
    from aipsy_affect import load_battery

    tmp = tmp_path_factory.mktemp("packaged")
    paths = []
    for k in range(8):
        path = tmp / f"sub{k}.json"
        write_submission(
            path, make_submission_dict(load_battery(), n_layers=2, seed=100 + k, model_id=f"org/m{k}", twins=False)
        )
        paths.append(path)
    return paths


def test_eight_concurrent_submits_all_land(tmp_path, packaged_subs) -> None:
    board = tmp_path / "board"
    entries = board / "entries.jsonl"
    torn: list[str] = []
    done = threading.Event()

    def reader() -> None:
        # Every read during the storm must see complete lines of valid entries (old or new file, never a mix).
        while not done.is_set():
            try:
                data = entries.read_bytes()
            except FileNotFoundError:
                continue
            if data and not data.endswith(b"\n"):
                torn.append("partial last line")
            for line in data.splitlines():
                try:
                    json.loads(line)
                except ValueError as exc:
                    torn.append(str(exc))

    watcher = threading.Thread(target=reader)
    watcher.start()
    try:
        procs = [
            subprocess.Popen(
                _cli("submit", str(p), "--leaderboard", str(board)),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for p in packaged_subs
        ]
        results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    finally:
        done.set()
        watcher.join()
    assert [rc for rc, _ in results] == [0] * 8, results
    assert not torn, torn[:3]
    got = Leaderboard(board).entries()
    assert len(got) == 8
    assert sorted(e.report.model.id for e in got) == [f"org/m{k}" for k in range(8)]
    assert len({e.submission_sha256 for e in got}) == 8
    assert len(list((board / "submissions").glob("*.json"))) == 8
    assert not list(board.rglob("*.tmp"))


def test_concurrent_duplicates_land_once(tmp_path, packaged_subs) -> None:
    board = tmp_path / "board"
    procs = [
        subprocess.Popen(
            _cli("submit", str(packaged_subs[0]), "--leaderboard", str(board)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    codes = sorted(p.wait(timeout=120) for p in procs)
    errs = "".join(p.stderr.read() for p in procs)
    assert codes == [0, 1, 1, 1], errs
    assert errs.count("duplicate submission") == 3
    assert len(Leaderboard(board).entries()) == 1


def test_cli_exit_codes_and_formats(tmp_path, packaged_subs) -> None:
    board = tmp_path / "board"
    run = lambda *a: subprocess.run(_cli(*a), capture_output=True, text=True, timeout=60)  # noqa: E731
    first = run("submit", str(packaged_subs[1]), "--leaderboard", str(board))
    assert first.returncode == 0 and "added org/m1" in first.stdout and "rank 1 of 1" in first.stdout, first.stderr
    again = run("submit", str(packaged_subs[1]), "--leaderboard", str(board))
    assert again.returncode == 1 and "duplicate submission" in again.stderr
    bad = tmp_path / "bad.json"
    data = json.loads(packaged_subs[2].read_text())
    del data["layers"][0]["affect"]["clin-joy-work-1"]
    bad.write_text(json.dumps(data))
    invalid = run("submit", str(bad), "--leaderboard", str(board))
    assert invalid.returncode == 2 and "missing 1 of 480 required items: clin-joy-work-1" in invalid.stderr
    for fmt in ("md", "csv", "json", "html"):
        out = run("leaderboard", str(board), "--format", fmt)
        assert out.returncode == 0 and "org/m1" in out.stdout, fmt
    target = tmp_path / "out" / "board.html"
    assert run("leaderboard", str(board), "--format", "html", "--out", str(target)).returncode == 0
    assert target.read_text().startswith("<!DOCTYPE html>")
    absent = run("leaderboard", str(tmp_path / "absent"))
    assert absent.returncode == 2 and "no such leaderboard directory" in absent.stderr


# --- hostile input (issue 11, section 3) ---------------------------------------------------------------------


def test_line_separators_in_strings_are_escaped_and_lines_split_on_newline_only(tmp_path, battery) -> None:
    data = make_submission_dict(battery, n_layers=2, seed=5)
    data["method"]["description"] = "one\u2028two\u2029three"
    data["method"]["prompt"] = "Story:\u2028{text}"
    path = tmp_path / "ls.json"
    write_submission(path, data)
    submit(path, tmp_path / "lb", battery, data_sha256="synthetic")
    submit(_sub(tmp_path, battery, "after", seed=6), tmp_path / "lb", battery, data_sha256="synthetic")
    raw = (tmp_path / "lb" / "entries.jsonl").read_bytes()
    assert "\u2028".encode() not in raw and "\u2029".encode() not in raw and b"\\u2028" in raw
    entries = Leaderboard(tmp_path / "lb").entries()
    assert len(entries) == 2 and entries[0].report.method.description == "one\u2028two\u2029three"
    # A board written raw (by an older release) still reads: lines split on \n only, never on U+2028/U+0085.
    text = raw.decode().replace("\\u2028", "\u2028").replace("\\u2029", "\u2029")
    (tmp_path / "lb" / "entries.jsonl").write_text(text, encoding="utf-8")
    assert len(Leaderboard(tmp_path / "lb").entries()) == 2


@pytest.mark.parametrize(
    "corruption, where",
    [
        (b"{not json}\n", "entries.jsonl:2: malformed JSON"),
        (b"\xff\xfe\n", "entries.jsonl:2: not valid UTF-8"),
        (b'{"entry_version": 2, "submission_sha256": 5}\n', "entries.jsonl:2: submission_sha256"),
    ],
)
def test_a_corrupt_board_is_named_and_never_blamed_on_the_submission(tmp_path, battery, corruption, where) -> None:
    board = tmp_path / "lb"
    submit(_sub(tmp_path, battery, "a", seed=1), board, battery, data_sha256="synthetic")
    entries = board / "entries.jsonl"
    entries.write_bytes(entries.read_bytes() + corruption)
    with pytest.raises(LeaderboardError) as info:
        submit(_sub(tmp_path, battery, "b", seed=2), board, battery, data_sha256="synthetic")
    assert "the leaderboard is corrupt" in str(info.value) and where in str(info.value)
    assert "invalid submission" not in str(info.value)


def test_corrupt_board_through_the_cli_exits_2(tmp_path, packaged_subs) -> None:
    board = tmp_path / "board"
    board.mkdir()
    (board / "entries.jsonl").write_bytes(b"garbage\n")
    for args in (("submit", str(packaged_subs[0]), "--leaderboard", str(board)), ("leaderboard", str(board))):
        done = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert "the leaderboard is corrupt" in done.stderr and "entries.jsonl:1: malformed JSON" in done.stderr
        assert "Traceback" not in done.stderr and "invalid submission" not in done.stderr


@pytest.mark.parametrize("state", ["board_is_file", "entries_is_dir", "lock_is_dir", "submission_is_dir"])
def test_file_system_states_give_messages_not_tracebacks(tmp_path, packaged_subs, state) -> None:
    board = tmp_path / "board"
    submission = str(packaged_subs[3])
    if state == "board_is_file":
        board.write_text("x")
        expected = "is a file, not a leaderboard directory"
    elif state == "entries_is_dir":
        (board / "entries.jsonl").mkdir(parents=True)
        expected = "entries.jsonl: should be a file; the leaderboard is corrupt"
    elif state == "lock_is_dir":
        (board / ".lock").mkdir(parents=True)
        expected = ".lock: should be a file"
    else:
        submission = str(tmp_path)
        expected = "is a directory, not a submission file"
    done = subprocess.run(
        _cli("submit", submission, "--leaderboard", str(board)), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and expected in done.stderr and "Traceback" not in done.stderr, done.stderr
    if state == "entries_is_dir":
        shown = subprocess.run(_cli("leaderboard", str(board)), capture_output=True, text=True, timeout=120)
        assert shown.returncode == 2 and expected in shown.stderr  # not an empty board with exit 0


def test_unwritable_places_give_exit_2(tmp_path, packaged_subs, monkeypatch) -> None:
    board = tmp_path / "board"
    done = subprocess.run(
        _cli("submit", str(packaged_subs[4]), "--leaderboard", str(board)), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    target = tmp_path / "not-a-dir"
    target.write_text("x")  # --out below a file fails for root too
    out = subprocess.run(
        _cli("leaderboard", str(board), "--out", str(target / "board.md")), capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 2 and "cannot write" in out.stderr and "Traceback" not in out.stderr, out.stderr
    # A board that cannot be written (read-only directory, full disk): the OS error becomes a board message.
    import aipsy_affect.benchmark.leaderboard as store

    def refuse(path, data):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(store, "write_atomic", refuse)
    with pytest.raises(LeaderboardError, match=r"cannot write .*Permission denied"):
        submit(packaged_subs[5], board)


def test_a_crash_leaves_nothing_behind_after_the_next_write(tmp_path, battery) -> None:
    board = tmp_path / "lb"
    entry, _ = submit(_sub(tmp_path, battery, "a", seed=1), board, battery, data_sha256="synthetic")
    # What a writer killed mid-way leaves: a temporary file and a submission copy with no entry.
    (board / ".entries.jsonl.abc123.tmp").write_text("half")
    (board / "submissions" / ".x.json.def.tmp").write_text("half")
    orphan = board / "submissions" / ("e" * 64 + ".json")
    orphan.write_text("{}")
    submit(_sub(tmp_path, battery, "b", seed=2), board, battery, data_sha256="synthetic")
    assert not list(board.rglob("*.tmp")) and not orphan.exists()
    names = {p.name for p in (board / "submissions").glob("*.json")}
    assert names == {f"{e.submission_sha256}.json" for e in Leaderboard(board).entries()}
    assert f"{entry.submission_sha256}.json" in names


def test_gain_over_the_lexical_floor_is_paired_and_stored(tmp_path, battery) -> None:
    from aipsy_affect.benchmark.floors import lexical_gain
    from aipsy_affect.benchmark.scoring import score_in_full
    from aipsy_affect.benchmark.submission import parse_submission

    board = tmp_path / "lb"
    weak = make_submission_dict(battery, n_layers=1, seed=8, model_id="floor/tfidf")
    for layer in weak["layers"]:  # a weaker single-layer reference
        for item_id, probs in layer["category"].items():
            layer["category"][item_id] = {e: 0.5 * p + 0.5 / 8 for e, p in probs.items()}
    floor_path = tmp_path / "floor.json"
    write_submission(floor_path, weak)
    floor, _ = submit(floor_path, board, battery, role="lexical_floor", data_sha256="synthetic")
    assert (floor.lexical_gain, floor.lexical_gain_ci) == (0.0, (0.0, 0.0))
    path = _sub(tmp_path, battery, "model", seed=9)
    entry, _ = submit(path, board, battery, data_sha256="synthetic")
    assert entry.lexical_floor_sha256 == floor.submission_sha256
    # Recomputed by hand: both scored on the very same resampled pairs.
    scored = score_in_full(parse_submission(path.read_bytes()), battery, data_sha256="synthetic")
    floor_scored = score_in_full(parse_submission(floor_path.read_bytes()), battery, data_sha256="synthetic")
    diff = scored.main.draws - floor_scored.main.draws
    assert entry.lexical_gain == pytest.approx(scored.report.main_score - floor_scored.report.main_score, abs=1e-12)
    assert entry.lexical_gain_ci == pytest.approx(tuple(np.quantile(diff, [0.025, 0.975])), abs=1e-12)
    assert (entry.lexical_gain, entry.lexical_gain_ci) == lexical_gain(
        scored, parse_submission(floor_path.read_bytes())
    )
    assert entry.above_lexical_floor is (entry.lexical_gain_ci[0] > 0)
    # One floor per dataset revision.
    other = tmp_path / "floor2.json"
    write_submission(other, make_submission_dict(battery, n_layers=1, seed=10, model_id="floor/other"))
    with pytest.raises(LeaderboardError, match="already has a lexical floor"):
        submit(other, board, battery, role="lexical_floor", data_sha256="synthetic")
