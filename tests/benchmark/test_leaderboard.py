"""The leaderboard store (duplicates, locking, atomic writes, concurrency) and its four renderings."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from aipsy_affect.battery.io import InputErrors
from aipsy_affect.benchmark.leaderboard import (
    DuplicateSubmissionError,
    Leaderboard,
    LeaderboardEntry,
    ranked,
    render,
    render_html,
    submit,
)
from headless import dump_dom, screenshot, skip_if_no_chromium
from submission_factory import make_submission_dict, synthetic_battery, write_submission

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
            data["submitter"] = "=HYPERLINK(\"http://evil\")"
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
    with pytest.raises(OSError, match="simulated power cut"):
        submit(_sub(tmp_path, battery, "b", seed=2), tmp_path / "lb", battery, data_sha256="synthetic")
    monkeypatch.undo()
    assert entries.read_bytes() == before
    assert not [p for p in (tmp_path / "lb").rglob("*.tmp")]
    assert len(Leaderboard(tmp_path / "lb").entries()) == 1


def test_corrupt_entry_line_is_located(tmp_path, battery) -> None:
    submit(_sub(tmp_path, battery, "a"), tmp_path / "lb", battery, data_sha256="synthetic")
    entries = tmp_path / "lb" / "entries.jsonl"
    entries.write_bytes(entries.read_bytes() + b'{"entry_version": 1, "submission_sha256": "zz"}\n')
    with pytest.raises(InputErrors) as info:
        Leaderboard(tmp_path / "lb").entries()
    assert "entries.jsonl:2: submission_sha256: String should match pattern" in str(info.value)


def test_missing_or_wrong_directory(tmp_path) -> None:
    with pytest.raises(InputErrors, match="no such leaderboard directory"):
        Leaderboard(tmp_path / "absent").entries()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputErrors, match="is a file, not a leaderboard directory"):
        Leaderboard(tmp_path / "file").entries()
    (tmp_path / "empty").mkdir()
    assert Leaderboard(tmp_path / "empty").entries() == []


def test_ranking_shares_rank_on_equal_scores(board3) -> None:
    _, entries = board3
    order = ranked(entries)
    assert [r for r, _ in order] == [1, 2, 3]
    assert [e.report.main_score for _, e in order] == sorted((e.report.main_score for e in entries), reverse=True)
    twin = entries[0].model_copy(update={"submission_sha256": "f" * 64, "submitted_at": T0 + timedelta(days=1)})
    again = ranked(entries + [twin])
    tied = [r for r, e in again if e.report.main_score == entries[0].report.main_score]
    assert len(tied) == 2 and tied[0] == tied[1]


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
        write_submission(path, make_submission_dict(load_battery(), n_layers=2, seed=100 + k, model_id=f"org/m{k}",
                                                    twins=False))
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
        procs = [subprocess.Popen(_cli("submit", str(p), "--leaderboard", str(board)), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for p in packaged_subs]
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
    procs = [subprocess.Popen(_cli("submit", str(packaged_subs[0]), "--leaderboard", str(board)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    codes = sorted(p.wait(timeout=120) for p in procs)
    errs = "".join(p.stderr.read() for p in procs)
    assert codes == [0, 1, 1, 1], errs
    assert errs.count("duplicate submission") == 3
    assert len(Leaderboard(board).entries()) == 1


def test_cli_exit_codes_and_formats(tmp_path, packaged_subs) -> None:
    board = tmp_path / "board"
    run = lambda *a: subprocess.run(_cli(*a), capture_output=True, text=True, timeout=60)  # noqa: E731
    first = run("submit", str(packaged_subs[1]), "--leaderboard", str(board))
    assert first.returncode == 0 and "added org/m1" in first.stdout and "rank 1 of 1" in first.stdout
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
    assert run("leaderboard", str(tmp_path / "absent")).returncode == 2


# --- renderings ---------------------------------------------------------------------------------------------


def test_markdown_escapes_user_strings(board3) -> None:
    _, entries = board3
    md = render(entries, "md")
    assert "<script>" not in md and "<img" not in md
    assert "&lt;script&gt;document.body.style.background=&quot;rgb\\(255,0,0\\)&quot;&lt;/script&gt;" in md
    assert "\\|probe" in md  # a pipe in a name cannot break the table
    rows = [line for line in md.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 3 and all(line.count(" | ") == 11 for line in rows)


def test_csv_round_trips_and_defuses_formulas(board3) -> None:
    _, entries = board3
    rows = list(csv.DictReader(io.StringIO(render(entries, "csv"))))
    assert [int(r["rank"]) for r in rows] == [1, 2, 3]
    hostile = next(r for r in rows if r["model"] == HOSTILE)
    assert hostile["submitter"] == "'=HYPERLINK(\"http://evil\")"
    assert hostile["keyword_win_rate"] == ""  # no twins in that submission
    by_sha = {e.submission_sha256: e for e in entries}
    for row in rows:
        assert float(row["main_score"]) == by_sha[row["submission_sha256"]].report.main_score


def test_json_rendering_has_full_reports(board3) -> None:
    _, entries = board3
    board = json.loads(render(entries, "json"))
    assert [e["rank"] for e in board["entries"]] == [1, 2, 3]
    assert {len(e["report"]["layers"]) for e in board["entries"]} == {6, 4, 12}
    assert all(LeaderboardEntry.model_validate({k: v for k, v in e.items() if k != "rank"}) for e in board["entries"])


def test_html_is_self_contained_and_escaped(board3) -> None:
    import base64
    import hashlib
    import re

    _, entries = board3
    page = render_html(entries)
    assert "<script>document" not in page and "<img src=x" not in page
    assert "&lt;script&gt;document.body.style.background=&quot;rgb(255,0,0)&quot;&lt;/script&gt;" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing fetched from anywhere
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page
    assert page.count("<tr data-sha=") == 3 and page.count("<figure>") == 3
    assert render_html([]).count("No submissions yet.") == 1


@skip_if_no_chromium
def test_html_renders_in_chromium(board3, tmp_path) -> None:
    """Look at the page as a browser draws it: rows present, sorting works, the hostile script did nothing."""
    from PIL import Image

    _, entries = board3
    page = tmp_path / "board.html"
    page.write_text(render_html(entries), encoding="utf-8")

    dom = dump_dom(page)
    assert 'data-ready="1"' in dom  # our script ran, so the CSP hash is right
    assert "&lt;script&gt;document.body.style.background" in dom and "<script>document" not in dom
    default_order = [e.submission_sha256 for _, e in ranked(entries)]
    import re

    assert re.findall(r'<tr data-sha="([0-9a-f]{64})"', dom) == default_order
    flipped = dump_dom(page, fragment="#sort=main_score:asc")
    assert re.findall(r'<tr data-sha="([0-9a-f]{64})"', flipped) == default_order[::-1]
    assert 'data-col="main_score" data-type="num" aria-sort="ascending"' in flipped

    png = tmp_path / "board.png"
    screenshot(page, png, width=1700, height=1000)
    image = Image.open(png).convert("RGB")
    assert image.size == (1700, 1000)
    pixels = image.load()
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50, "the page looks blank"
    assert not any(c == (255, 0, 0) for _, c in colours), "the hostile script painted the page"
    header, odd, even = (31, 58, 95), (247, 249, 252), (232, 238, 246)
    # Walk down the padding strip at the left of the table: header band, then one stripe per row.
    x = 28
    runs: list[tuple[int, int, int]] = []
    for y in range(image.size[1]):
        colour = pixels[x, y]
        if colour in (header, odd, even) and (not runs or runs[-1] != colour):
            runs.append(colour)
        elif colour not in (header, odd, even) and runs and runs[-1] != (0, 0, 0):
            runs.append((0, 0, 0))
    table = runs[runs.index(header):]
    table = table[: table.index((0, 0, 0))] if (0, 0, 0) in table else table
    assert table == [header, odd, even, odd], f"expected a header and three striped rows, saw {table}"
    (Path(os.environ.get("AIPSY_SCREENSHOT_DIR", tmp_path)) / "leaderboard.png").write_bytes(png.read_bytes())
