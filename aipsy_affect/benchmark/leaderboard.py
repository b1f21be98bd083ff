"""The leaderboard: an append-only store of scored submissions, rendered as Markdown, CSV, JSON or HTML.

A leaderboard is a directory::

    DIR/entries.jsonl             one LeaderboardEntry per line, oldest first; lines are never changed
    DIR/submissions/<sha256>.json the submitted file, byte for byte (so any entry can be re-scored)
    DIR/.lock                     the file lock that serialises writers

Every write takes the lock, re-reads the store, refuses a submission whose sha256 is already there,
and replaces ``entries.jsonl`` atomically (``write_atomic``: temp file, fsync, rename), so concurrent
``submit`` calls all land and a crash leaves either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aipsy_affect._version import __version__
from aipsy_affect.battery.io import InputError, InputErrors, located_errors, write_atomic
from aipsy_affect.benchmark.scoring import ScoreReport
from aipsy_affect.errors import DuplicateSubmissionError

if TYPE_CHECKING:
    from aipsy_affect.battery.schema import Battery

ENTRIES_FILE = "entries.jsonl"
SUBMISSIONS_DIR = "submissions"
LOCK_FILE = ".lock"
#: Seconds a writer waits for the lock before giving up with a clear error.
LOCK_TIMEOUT = 120.0
FORMATS: tuple[str, ...] = ("md", "csv", "json", "html")




class LeaderboardEntry(BaseModel):
    """One scored submission on the leaderboard."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry_version: Literal[1] = 1
    """Version of this entry format."""

    submission_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    """sha256 of the submitted file's bytes: the identity used to reject duplicates."""

    submitted_at: datetime
    """When the entry was added (UTC)."""

    submitter: str | None = None
    """Who submitted, copied from the submission."""

    dataset_revision: str | None = None
    """The dataset revision the submission declared, if any."""

    software: dict[str, str] = Field(default_factory=dict)
    """Software versions the submission declared."""

    report: ScoreReport
    """The full score report (per-layer metrics, main score, stamps)."""


class Leaderboard:
    """An append-only leaderboard directory (see the module docstring for the layout)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.entries_path = self.directory / ENTRIES_FILE
        self.lock_path = self.directory / LOCK_FILE
        self.submissions_dir = self.directory / SUBMISSIONS_DIR

    def exists(self) -> bool:
        """Whether the directory holds a leaderboard (an ``entries.jsonl``)."""
        return self.entries_path.is_file()

    def entries(self) -> list[LeaderboardEntry]:
        """Every entry, oldest first; raises ``InputErrors`` naming the line of any unreadable entry."""
        if not self.exists():
            if self.directory.exists() and not self.directory.is_dir():
                raise InputErrors([InputError(self.directory, None, None, "is a file, not a leaderboard directory")])
            if not self.directory.exists():
                raise InputErrors([InputError(self.directory, None, None, "no such leaderboard directory")])
            return []
        return _parse_entries(self.entries_path, self.entries_path.read_bytes())

    def find(self, sha256: str) -> LeaderboardEntry | None:
        """The entry of a submission sha256, if present."""
        return next((e for e in self.entries() if e.submission_sha256 == sha256), None)

    def add(self, entry: LeaderboardEntry, submission_bytes: bytes | None = None) -> list[LeaderboardEntry]:
        """Append ``entry`` under the lock; refuse a duplicate; return every entry afterwards."""
        from filelock import FileLock, Timeout

        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            with FileLock(str(self.lock_path), timeout=LOCK_TIMEOUT):
                old = self.entries_path.read_bytes() if self.entries_path.is_file() else b""
                existing = _parse_entries(self.entries_path, old) if old else []
                for other in existing:
                    if other.submission_sha256 == entry.submission_sha256:
                        raise DuplicateSubmissionError(entry.submission_sha256, other)
                if submission_bytes is not None:
                    # The copy goes first: an entry never points at a submission that is not there.
                    write_atomic(self.submissions_dir / f"{entry.submission_sha256}.json", submission_bytes)
                if old and not old.endswith(b"\n"):
                    old += b"\n"
                line = entry.model_dump_json().encode("utf-8") + b"\n"
                write_atomic(self.entries_path, old + line)
                return existing + [entry]
        except Timeout:
            raise RuntimeError(f"{self.lock_path}: could not take the leaderboard lock within {LOCK_TIMEOUT:g} s "
                               "(another submit is stuck?)") from None


def _parse_entries(path: Path, data: bytes) -> list[LeaderboardEntry]:
    errors: list[InputError] = []
    out: list[LeaderboardEntry] = []
    for lineno, raw in enumerate(data.decode("utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            out.append(LeaderboardEntry.model_validate_json(raw))
        except ValidationError as exc:
            errors.extend(located_errors(path, lineno, exc))
    if errors:
        raise InputErrors(errors)
    return out


def submit(
    path: str | os.PathLike[str],
    directory: str | os.PathLike[str],
    battery: "Battery | None" = None,
    *,
    data_sha256: str | None = None,
    now: datetime | None = None,
) -> tuple[LeaderboardEntry, list[LeaderboardEntry]]:
    """Validate, score and append a submission file; return its entry and the whole board afterwards.

    Raises ``InputErrors`` for an invalid submission and ``DuplicateSubmissionError`` for one already there.
    """
    from aipsy_affect.benchmark.scoring import score_submission
    from aipsy_affect.benchmark.submission import check_submission, parse_submission

    path = Path(path)
    if battery is None:
        from aipsy_affect.battery.sources import data_sha256 as packaged_sha256
        from aipsy_affect.battery.sources import load_battery

        battery = load_battery()
        data_sha256 = data_sha256 or packaged_sha256()
    from aipsy_affect.benchmark.submission import MAX_SUBMISSION_BYTES

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputErrors([InputError(path, None, None, "no such file")]) from None
    if size > MAX_SUBMISSION_BYTES:
        raise InputErrors([InputError(path, None, None, f"file is {size} bytes; the limit is {MAX_SUBMISSION_BYTES} bytes")])
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    board = Leaderboard(directory)
    # Refuse a known duplicate before the (comparatively slow) scoring; add() checks again under the lock.
    if board.exists():
        existing = board.find(digest)
        if existing is not None:
            raise DuplicateSubmissionError(digest, existing)
    submission = parse_submission(data, path)
    errors = check_submission(submission, battery, source=path, dataset_revision=data_sha256)
    if errors:
        raise InputErrors(errors)
    report = score_submission(submission, battery, data_sha256=data_sha256, submission_sha256=digest)
    entry = LeaderboardEntry(
        submission_sha256=digest,
        submitted_at=now or datetime.now(timezone.utc),
        submitter=submission.submitter,
        dataset_revision=submission.dataset.revision if submission.dataset else None,
        software=submission.software,
        report=report,
    )
    return entry, board.add(entry, data)


# --- ranking and rows ------------------------------------------------------------------------------------


def ranked(entries: list[LeaderboardEntry]) -> list[tuple[int, LeaderboardEntry]]:
    """Entries by main score, best first (earlier submission first on ties); equal scores share a rank."""
    order = sorted(entries, key=lambda e: (-e.report.main_score, e.submitted_at, e.submission_sha256))
    out: list[tuple[int, LeaderboardEntry]] = []
    for pos, entry in enumerate(order, start=1):
        rank = out[-1][0] if out and out[-1][1].report.main_score == entry.report.main_score else pos
        out.append((rank, entry))
    return out


def summary_row(rank: int, entry: LeaderboardEntry) -> dict[str, object]:
    """The flat leaderboard columns of one entry (what md, csv and the HTML table show)."""
    r = entry.report
    best = next(s for s in r.layers if s.layer == r.best_layer)
    aff = next(s for s in r.layers if s.layer == r.best_affect_layer)
    return {
        "rank": rank,
        "model": r.model.id,
        "revision": r.model.revision,
        "method": r.method.name,
        "pooling": r.method.pooling,
        "cv_folds": r.method.cv_folds,
        "submitter": entry.submitter or "",
        "main_score": r.main_score,
        "main_score_ci_low": r.main_score_ci[0],
        "main_score_ci_high": r.main_score_ci[1],
        "best_layer": r.best_layer,
        "n_layers": len(r.layers),
        "category_top1": best.category_top1,
        "affect_auroc": aff.affect_auroc,
        "affect_auroc_ci_low": aff.affect_auroc_ci[0],
        "affect_auroc_ci_high": aff.affect_auroc_ci[1],
        "best_affect_layer": r.best_affect_layer,
        "complex_fpr": aff.complex_fpr,
        "keyword_win_rate": aff.keyword_win_rate,
        "submitted_at": entry.submitted_at.isoformat(),
        "submission_sha256": entry.submission_sha256,
        "data_sha256": r.data_sha256 or "",
        "aipsy_affect_version": r.aipsy_affect_version,
    }


# --- renderers -------------------------------------------------------------------------------------------


def _fmt(value: object, digits: int = 3) -> str:
    if value is None or value == "":
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~!()])")


def _md(text: object) -> str:
    """Escape a user string for a Markdown table cell: HTML entities plus backslash-escaped markup."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=True))


def render_markdown(entries: list[LeaderboardEntry]) -> str:
    """A ranked Markdown table."""
    lines = [
        "| rank | model | revision | method | pooling | main score [95% CI] | best layer | top-1 | "
        "affect AUROC [95% CI] | complex FPR | keyword win | submitted |",
        "|---:|---|---|---|---|---|---:|---:|---|---:|---:|---|",
    ]
    for rank, entry in ranked(entries):
        row = summary_row(rank, entry)
        lines.append(
            f"| {rank} | {_md(row['model'])} | {_md(str(row['revision'])[:12])} | {_md(row['method'])} | "
            f"{_md(row['pooling'])} | {_fmt(row['main_score'])} [{_fmt(row['main_score_ci_low'])}, "
            f"{_fmt(row['main_score_ci_high'])}] | {row['best_layer']} | {_fmt(row['category_top1'])} | "
            f"{_fmt(row['affect_auroc'])} [{_fmt(row['affect_auroc_ci_low'])}, {_fmt(row['affect_auroc_ci_high'])}] | "
            f"{_fmt(row['complex_fpr'])} | {_fmt(row['keyword_win_rate'])} | {str(row['submitted_at'])[:10]} |"
        )
    lines.append("")
    lines.append("Main score: emotion-categorization macro one-vs-rest AUROC on clinical items at the best layer "
                 "(chance 0.5). Affect AUROC, complex FPR and keyword win rate are at the best affect layer.")
    return "\n".join(lines) + "\n"


def _csv_cell(value: object) -> object:
    # A spreadsheet runs a cell that starts with = + - @ as a formula; user strings must not.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def render_csv(entries: list[LeaderboardEntry]) -> str:
    """One ranked row per entry."""
    buf = io.StringIO()
    rows = [summary_row(rank, entry) for rank, entry in ranked(entries)]
    fields = list(summary_row(1, entries[0]).keys()) if entries else list(_EMPTY_FIELDS)
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    return buf.getvalue()


_EMPTY_FIELDS = (
    "rank", "model", "revision", "method", "pooling", "cv_folds", "submitter", "main_score", "main_score_ci_low",
    "main_score_ci_high", "best_layer", "n_layers", "category_top1", "affect_auroc", "affect_auroc_ci_low",
    "affect_auroc_ci_high", "best_affect_layer", "complex_fpr", "keyword_win_rate", "submitted_at",
    "submission_sha256", "data_sha256", "aipsy_affect_version",
)


def render_json(entries: list[LeaderboardEntry]) -> str:
    """The ranked board with every entry's full report."""
    board = {
        "leaderboard_version": 1,
        "aipsy_affect_version": __version__,
        "main_metric": "category_macro_auroc at best_layer",
        "entries": [
            {"rank": rank, **entry.model_dump(mode="json")} for rank, entry in ranked(entries)
        ],
    }
    return json.dumps(board, indent=2, ensure_ascii=False) + "\n"


# --- HTML ------------------------------------------------------------------------------------------------

_E = html.escape

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1b1f24;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
p.meta{color:#57606a;margin:0 0 16px;max-width:980px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;text-align:left;white-space:nowrap;height:34px;box-sizing:border-box}
th{background:#1f3a5f;color:#fff;position:sticky;top:0}
th button{all:unset;cursor:pointer;font-weight:600}th button:focus-visible{outline:2px solid #ffd33d}
th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
tbody tr:nth-child(odd) td{background:#f7f9fc}tbody tr:nth-child(even) td{background:#e8eef6}
td.num{text-align:right}td.method{white-space:normal;min-width:180px;max-width:280px;overflow-wrap:anywhere}td.model{max-width:300px;overflow:hidden;text-overflow:ellipsis}
.ci{color:#57606a;font-size:12px}.empty{color:#57606a;font-style:italic}
figure{display:inline-block;margin:0 18px 18px 0;vertical-align:top}figcaption{font-size:12px;color:#57606a;max-width:560px;overflow-wrap:anywhere}
.wrap{overflow-x:auto;max-width:100%}
svg text{font:11px system-ui,sans-serif;fill:#57606a}
"""

_JS = """(function(){
var table=document.getElementById('board');if(!table||!table.tBodies.length)return;
var tbody=table.tBodies[0],ths=Array.prototype.slice.call(table.tHead.rows[0].cells);
function key(cell,num){var v=cell.getAttribute('data-v');if(!num)return v;var f=parseFloat(v);return isNaN(f)?null:f;}
function sortBy(i,dir){var num=ths[i].getAttribute('data-type')==='num';
var rows=Array.prototype.slice.call(tbody.rows);
rows.sort(function(a,b){var x=key(a.cells[i],num),y=key(b.cells[i],num);
if(x===null&&y===null)return 0;if(x===null)return 1;if(y===null)return -1;
var c=num?x-y:x.localeCompare(y);return dir==='asc'?c:-c;});
rows.forEach(function(r){tbody.appendChild(r);});
ths.forEach(function(t){t.removeAttribute('aria-sort');});
ths[i].setAttribute('aria-sort',dir==='asc'?'ascending':'descending');}
ths.forEach(function(th,i){var b=th.querySelector('button');if(b)b.addEventListener('click',function(){
sortBy(i,th.getAttribute('aria-sort')==='ascending'?'desc':'asc');});});
var m=/^#sort=([a-z_0-9]+):(asc|desc)$/.exec(location.hash);
if(m){for(var i=0;i<ths.length;i++){if(ths[i].getAttribute('data-col')===m[1]){sortBy(i,m[2]);break;}}}
document.documentElement.setAttribute('data-ready','1');
})();"""

#: (column key, header, numeric?) of the HTML table.
_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("rank", "Rank", True),
    ("model", "Model", False),
    ("method", "Method", False),
    ("main_score", "Main score", True),
    ("best_layer", "Best layer", True),
    ("category_top1", "Top-1", True),
    ("affect_auroc", "Affect AUROC", True),
    ("complex_fpr", "Complex FPR", True),
    ("keyword_win_rate", "Keyword win", True),
    ("submitted_at", "Submitted", False),
    ("curve", "By layer", False),
)


def _polyline(xs: list[float], ys: list[float]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))


def _sparkline(entry: LeaderboardEntry, width: int = 120, height: int = 26) -> str:
    layers = entry.report.layers
    lo, hi = 0.4, 1.0
    span = max(1, layers[-1].layer - layers[0].layer)
    xs = [2 + (width - 4) * (s.layer - layers[0].layer) / span for s in layers]
    ys = [height - 2 - (height - 4) * (min(max(s.category_macro_auroc, lo), hi) - lo) / (hi - lo) for s in layers]
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="category macro AUROC by layer"><polyline fill="none" stroke="#d9480f" stroke-width="1.5" '
            f'points="{_polyline(xs, ys)}"/></svg>')


def _curve_chart(rank: int, entry: LeaderboardEntry, width: int = 560, height: int = 240) -> str:
    """Per-layer curves of one entry: affect AUROC, category macro AUROC with its CI band, top-1, chance."""
    r = entry.report
    layers = r.layers
    left, right, top, bottom = 40, 12, 30, 34
    pw, ph = width - left - right, height - top - bottom
    first, last = layers[0].layer, layers[-1].layer
    span = max(1, last - first)

    def x(layer: int) -> float:
        return left + pw * (layer - first) / span

    def y(value: float) -> float:
        return top + ph * (1.0 - min(max(value, 0.0), 1.0))

    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{_E(f"per-layer curves of {r.model.id}")}">']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        dash = ' stroke-dasharray="4 3"' if tick == 0.5 else ""
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'stroke="{"#8c959f" if tick == 0.5 else "#d0d7de"}"{dash}/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.2f}</text>')
    step = max(1, round(span / 8))
    for layer in range(first, last + 1, step):
        parts.append(f'<text x="{x(layer):.1f}" y="{top + ph + 14}" text-anchor="middle">{layer}</text>')
    parts.append(f'<text x="{left + pw / 2:.1f}" y="{height - 4}" text-anchor="middle">layer</text>')
    xs = [x(s.layer) for s in layers]
    band_top = [y(s.category_macro_auroc_ci[1]) for s in layers]
    band_bottom = [y(s.category_macro_auroc_ci[0]) for s in layers]
    parts.append(f'<polygon fill="#d9480f" fill-opacity="0.15" stroke="none" '
                 f'points="{_polyline(xs + xs[::-1], band_top + band_bottom[::-1])}"/>')
    parts.append(f'<line x1="{x(r.best_layer):.1f}" x2="{x(r.best_layer):.1f}" y1="{top}" y2="{top + ph}" '
                 f'stroke="#d9480f" stroke-opacity="0.5"/>')
    series = (
        ("affect AUROC", "#1c7ed6", "", [s.affect_auroc for s in layers]),
        ("category macro AUROC", "#d9480f", "", [s.category_macro_auroc for s in layers]),
        ("category top-1", "#2b8a3e", ' stroke-dasharray="5 3"', [s.category_top1 for s in layers]),
    )
    for i, (label, color, dash, values) in enumerate(series):
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} '
                     f'points="{_polyline(xs, [y(v) for v in values])}"><title>{_E(label)}</title></polyline>')
        lx = left + i * 165
        parts.append(f'<line x1="{lx}" x2="{lx + 18}" y1="{top - 16}" y2="{top - 16}" stroke="{color}" '
                     f'stroke-width="2"{dash}/><text x="{lx + 22}" y="{top - 12}">{_E(label)}</text>')
    parts.append("</svg>")
    caption = (f"#{rank} {_E(r.model.id)} @ {_E(r.model.revision[:12])} &middot; {_E(r.method.name)}, "
               f"{_E(r.method.pooling)} pooling &middot; best layer {r.best_layer} "
               f"(main score {r.main_score:.3f}); shaded: {r.ci_level:.0%} bootstrap CI; dashed grey: chance")
    return f"<figure>{''.join(parts)}<figcaption>{caption}</figcaption></figure>"


def _cell(key: str, row: dict[str, object], entry: LeaderboardEntry) -> str:
    value = row.get(key)
    if key == "curve":
        return f'<td data-v="{row["main_score"]}">{_sparkline(entry)}</td>'
    if key == "model":
        title = f"{row['model']} @ {row['revision']}"
        return (f'<td class="model" data-v="{_E(str(value))}" title="{_E(title)}">{_E(str(value))}'
                f' <span class="ci">@ {_E(str(row["revision"])[:12])}</span></td>')
    if key == "main_score":
        sel = entry.report.main_score_selection_ci
        hint = f"allowing for the choice of layer: [{sel[0]:.3f}, {sel[1]:.3f}]"
        return (f'<td class="num" data-v="{value}" title="{_E(hint)}"><b>{_fmt(value)}</b> <span class="ci">[{_fmt(row["main_score_ci_low"])}, '
                f'{_fmt(row["main_score_ci_high"])}]</span></td>')
    if key == "affect_auroc":
        return (f'<td class="num" data-v="{value}">{_fmt(value)} <span class="ci">[{_fmt(row["affect_auroc_ci_low"])}, '
                f'{_fmt(row["affect_auroc_ci_high"])}]</span></td>')
    if key == "method":
        return (f'<td class="method" data-v="{_E(str(value))}">{_E(str(value))} <span class="ci">{_E(str(row["pooling"]))} pooling, '
                f'{row["cv_folds"]}-fold</span></td>')
    if key == "submitted_at":
        return f'<td data-v="{_E(str(value))}">{_E(str(value)[:10])}</td>'
    if isinstance(value, (int, float)) or value is None:
        return f'<td class="num" data-v="{"" if value is None else value}">{_fmt(value)}</td>'
    return f'<td data-v="{_E(str(value))}">{_E(str(value))}</td>'


def render_html(entries: list[LeaderboardEntry], title: str = "aipsy-affect probe leaderboard") -> str:
    """A self-contained page (no network): sortable table, per-layer curves as inline SVG, every string escaped."""
    script_hash = base64.b64encode(hashlib.sha256(_JS.encode("utf-8")).digest()).decode("ascii")
    # Only our own script may run (by hash), and nothing may be fetched: even a string that escaped
    # escaping could not execute or phone home.
    csp = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{script_hash}'"
    board = ranked(entries)
    head_cells = []
    for key, label, num in _COLUMNS:
        sort = ' aria-sort="ascending"' if key == "rank" else ""
        inner = f'<button type="button">{_E(label)}</button>' if key != "curve" else _E(label)
        head_cells.append(f'<th data-col="{key}" data-type="{"num" if num else "text"}"{sort}>{inner}</th>')
    head = "".join(head_cells)
    rows = []
    for rank, entry in board:
        row = summary_row(rank, entry)
        cells = "".join(_cell(key, row, entry) for key, _, _ in _COLUMNS)
        rows.append(f'<tr data-sha="{entry.submission_sha256}">{cells}</tr>')
    body = "\n".join(rows) if rows else (
        f'<tr><td class="empty" colspan="{len(_COLUMNS)}">No submissions yet.</td></tr>')
    revisions = sorted({e.report.data_sha256 or "custom" for e in entries})
    latest = max((e.submitted_at for e in entries), default=None)
    meta = (f"{len(entries)} submission{'s' if len(entries) != 1 else ''}"
            + (f", latest {_E(latest.isoformat()[:16].replace('T', ' '))} UTC" if latest else "")
            + f". Rendered by aipsy-affect {_E(__version__)}. Main score: emotion-categorization macro one-vs-rest "
              "AUROC on the clinical items at the best layer (chance 0.5), with that layer's pair-bootstrap 95% CI "
              "(hover for the interval that also allows for choosing the layer). Affect AUROC (clinical vs matched neutral), complex-neutral false-positive "
              "rate and keyword win rate are at the best affect layer. Click a column header to sort.")
    if len(revisions) > 1:
        meta += (f" <b>Entries were scored against {len(revisions)} different dataset revisions; compare with care.</b>")
    figures = "\n".join(_curve_chart(rank, entry) for rank, entry in board)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_E(title)}</title>
<style>{_CSS}</style></head>
<body>
<h1>{_E(title)}</h1>
<p class="meta">{meta}</p>
<div class="wrap"><table id="board"><thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody></table></div>
<h2>Per-layer curves</h2>
<section id="curves">
{figures}
</section>
<script>{_JS}</script>
</body></html>
"""


def render(entries: list[LeaderboardEntry], fmt: str) -> str:
    """Render the board in one of ``FORMATS``."""
    renderers = {"md": render_markdown, "csv": render_csv, "json": render_json, "html": render_html}
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return renderers[fmt](entries)


__all__ = [
    "FORMATS",
    "DuplicateSubmissionError",
    "Leaderboard",
    "LeaderboardEntry",
    "ranked",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "render_markdown",
    "submit",
    "summary_row",
]
