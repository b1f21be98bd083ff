"""Leaderboard renderings: Markdown, CSV, JSON and a self-contained HTML page (Jinja2 template).

Ranking: entries (role ``entry``) are ordered by the cross-validated main score. An entry's rank is 1 plus the
number of entries whose main-score CI lies wholly above its own, so entries whose CIs overlap share ranks and are
marked "tied". References (the lexical floor, the chance reference) sit in the table at their score with a label
instead of a rank, and are never ranked. Every entry whose gain over the lexical floor has a CI that includes 0 is
marked "not above the lexical floor".
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from aipsy_affect._version import __version__
from aipsy_affect.benchmark.leaderboard import LeaderboardEntry
from aipsy_affect.render.leaderboard_charts import curve_chart, overlay_chart
from aipsy_affect.render.tables import fmt_number, markdown_table, md_text
from aipsy_affect.render.templates import render as render_template

__all__ = [
    "COLUMNS",
    "FORMATS",
    "Ranked",
    "ranked",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "render_markdown",
    "summary_row",
]

FORMATS: tuple[str, ...] = ("md", "csv", "json", "html")
NOT_ABOVE = "not above the lexical floor"
_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")
_REFERENCE_LABEL = {"lexical_floor": "floor", "chance": "chance"}


@dataclass(frozen=True)
class Ranked:
    """An entry with its place on the board."""

    rank: int | None
    """1 + entries whose CI lies wholly above this one's; ``None`` for references."""
    tied: bool
    """Another ranked entry's main-score CI overlaps this one's."""
    entry: LeaderboardEntry
    """The entry."""

    @property
    def label(self) -> str:
        """What the rank column shows: ``3``, ``3 (tied)``, ``floor`` or ``chance``."""
        if self.rank is None:
            return _REFERENCE_LABEL.get(self.entry.role, self.entry.role)
        return f"{self.rank} (tied)" if self.tied else str(self.rank)


def ranked(entries: list[LeaderboardEntry]) -> list[Ranked]:
    """Every entry in table order (main score, best first; earlier submission first on equal scores).

    Entries are ranked only against entries scored on the same battery data (``data_sha256``): scores on different
    releases of the battery are not comparable.
    """
    order = sorted(entries, key=lambda e: (-e.report.main_score, e.submitted_at, e.submission_sha256))
    competing = [e for e in order if e.role == "entry"]
    out = []
    for entry in order:
        if entry.role != "entry":
            out.append(Ranked(None, False, entry))
            continue
        low, high = entry.report.main_score_ci
        others = [o for o in competing if o is not entry and o.report.data_sha256 == entry.report.data_sha256]
        rank = 1 + sum(o.report.main_score_ci[0] > high for o in others)
        tied = any(o.report.main_score_ci[0] <= high and low <= o.report.main_score_ci[1] for o in others)
        out.append(Ranked(rank, tied, entry))
    return out


def hub_address(model_id: str) -> str:
    """``huggingface.co/<id>`` for ids shaped like Hub ids (shown as text, never a live link), else ``""``."""
    return f"huggingface.co/{model_id}" if _HUB_ID.fullmatch(model_id) else ""


def short_revision(revision: str) -> str:
    """A commit hash cut to 12 characters; ``...sha256:<hash>`` revisions to the first 12 hex digits of the hash."""
    if re.fullmatch(r"[0-9a-f]{13,64}", revision):
        return revision[:12]
    m = re.search(r"sha256:([0-9a-f]{12})", revision)
    if m:
        return f"{revision.split('sha256:')[0]}sha256:{m.group(1)}"
    return revision if len(revision) <= 24 else revision[:23] + "\u2026"


def human_count(n: int | None) -> str:
    """A parameter count as ``22.7M`` / ``8.03B``; ``n/a`` when unknown."""
    if n is None:
        return "n/a"
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)


def summary_row(item: Ranked) -> dict[str, Any]:
    """The flat columns of one entry: every CSV and JSON row has exactly these keys (see ``COLUMNS``)."""
    e, r = item.entry, item.entry.report
    main_layer, affect_layer = r.layer(r.main_layer), r.layer(r.affect_layer)
    gain_ci = e.lexical_gain_ci or (None, None)
    return {
        "rank": item.rank,
        "rank_label": item.label,
        "tied": item.tied,
        "role": e.role,
        "model": r.model.id,
        "hub_address": hub_address(r.model.id) if e.role == "entry" else "",
        "revision": r.model.revision,
        "revision_short": short_revision(r.model.revision),
        "num_parameters": r.model.num_parameters,
        "method": r.method.name,
        "pooling": r.method.pooling,
        "cv_folds": r.method.cv_folds,
        "submitter": e.submitter or "",
        "main_score": r.main_score,
        "main_score_ci_low": r.main_score_ci[0],
        "main_score_ci_high": r.main_score_ci[1],
        "main_layers": " ".join(map(str, r.main_layers)),
        "main_layer": r.main_layer,
        "lexical_gain": e.lexical_gain,
        "lexical_gain_ci_low": gain_ci[0],
        "lexical_gain_ci_high": gain_ci[1],
        "above_lexical_floor": e.above_lexical_floor,
        "affect_score": r.affect_score,
        "affect_score_ci_low": r.affect_score_ci[0],
        "affect_score_ci_high": r.affect_score_ci[1],
        "affect_layer": r.affect_layer,
        "best_layer": r.best_layer,
        "best_layer_score_optimistic": r.best_layer_score,
        "n_layers": len(r.layers),
        "category_top1": main_layer.category_top1,
        "complex_fpr": affect_layer.complex_fpr,
        "keyword_win_rate": affect_layer.keyword_win_rate,
        "submitted_at": e.submitted_at.isoformat(),
        "submission_sha256": e.submission_sha256,
        "data_sha256": r.data_sha256 or "",
        "score_version": r.score_version,
        "aipsy_affect_version": r.aipsy_affect_version,
    }


#: The flat columns of CSV and JSON rows, in order.
COLUMNS: tuple[str, ...] = (
    "rank",
    "rank_label",
    "tied",
    "role",
    "model",
    "hub_address",
    "revision",
    "revision_short",
    "num_parameters",
    "method",
    "pooling",
    "cv_folds",
    "submitter",
    "main_score",
    "main_score_ci_low",
    "main_score_ci_high",
    "main_layers",
    "main_layer",
    "lexical_gain",
    "lexical_gain_ci_low",
    "lexical_gain_ci_high",
    "above_lexical_floor",
    "affect_score",
    "affect_score_ci_low",
    "affect_score_ci_high",
    "affect_layer",
    "best_layer",
    "best_layer_score_optimistic",
    "n_layers",
    "category_top1",
    "complex_fpr",
    "keyword_win_rate",
    "submitted_at",
    "submission_sha256",
    "data_sha256",
    "score_version",
    "aipsy_affect_version",
)

EXPLANATION = (
    "Main score: emotion-categorization macro one-vs-rest AUROC on the clinical items (chance 0.5), with the layer "
    "chosen by 5-fold cross-validation (each fold's items scored at the layer chosen on the other folds), and a 95% "
    "pair-bootstrap CI that repeats the choice. Gain: main score minus the lexical floor's (TF-IDF + logistic "
    "regression, no language model), with a paired CI; an entry whose gain CI includes 0 is marked "
    f"\u201c{NOT_ABOVE}\u201d. Ranks count the entries whose CI lies wholly above; overlapping CIs are tied. "
    "References (floor, chance) are shown, never ranked. Top-1 (chance 0.125) is at the layer the folds chose most "
    "often; affect, complex-neutral FPR and keyword win rate at the affect headline's layer."
)


def _ci(low: float | None, high: float | None, digits: int = 3) -> str:
    return "n/a" if low is None or high is None else f"[{low:.{digits}f}, {high:.{digits}f}]"


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.3f}"


def _gain_text(row: dict[str, Any]) -> str:
    if row["lexical_gain"] is None:
        return "n/a (no floor)"
    if row["role"] == "lexical_floor":
        return "0 (the floor)"
    text = f"{_signed(row['lexical_gain'])} {_ci(row['lexical_gain_ci_low'], row['lexical_gain_ci_high'])}"
    return text if row["above_lexical_floor"] or row["role"] != "entry" else f"{text} {NOT_ABOVE}"


def render_markdown(entries: list[LeaderboardEntry]) -> str:
    """A Markdown table (one row per entry, references included and labelled) and the explanation."""
    header = [
        "rank",
        "model",
        "revision",
        "params",
        "method",
        "submitter",
        "main score [95% CI]",
        "gain over lexical floor [95% CI]",
        "affect [95% CI]",
        "top-1",
        "complex FPR",
        "keyword win",
        "CV layers",
        "submitted",
    ]
    rows = []
    for item in ranked(entries):
        row = summary_row(item)
        model = md_text(row["model"]) + (f" ({md_text(row['hub_address'])})" if row["hub_address"] else "")
        rows.append(
            [
                row["rank_label"],
                model,
                md_text(row["revision_short"]),
                human_count(row["num_parameters"]),
                md_text(f"{row['method']}, {row['pooling']}, {row['cv_folds']}-fold"),
                md_text(row["submitter"]),
                f"{row['main_score']:.3f} {_ci(row['main_score_ci_low'], row['main_score_ci_high'])}",
                _gain_text(row),
                f"{row['affect_score']:.3f} {_ci(row['affect_score_ci_low'], row['affect_score_ci_high'])}",
                fmt_number(row["category_top1"]),
                fmt_number(row["complex_fpr"]),
                fmt_number(row["keyword_win_rate"]),
                row["main_layers"],
                row["submitted_at"][:10],
            ]
        )
    return markdown_table(header, rows, align="lllrlllllrrrll") + "\n" + EXPLANATION + "\n"


def _csv_cell(value: Any) -> Any:
    # A spreadsheet runs a cell that starts with = + - @ as a formula; user strings must not.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def render_csv(entries: list[LeaderboardEntry]) -> str:
    """One row per entry with every column of ``COLUMNS``."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for item in ranked(entries):
        writer.writerow({k: _csv_cell(v) for k, v in summary_row(item).items()})
    return buf.getvalue()


def render_json(entries: list[LeaderboardEntry]) -> str:
    """The board: the flat rows (``COLUMNS``) and every entry in full, in table order."""
    order = ranked(entries)
    board = {
        "leaderboard_version": 2,
        "aipsy_affect_version": __version__,
        "main_metric": "category_macro_auroc, cross-validated layer selection",
        "columns": list(COLUMNS),
        "rows": [summary_row(item) for item in order],
        "entries": [{"rank": item.rank, "tied": item.tied, **item.entry.model_dump(mode="json")} for item in order],
    }
    return json.dumps(board, indent=2, ensure_ascii=False) + "\n"


#: (key, header, numeric?) of the HTML table's columns, in order; ``_cells`` fills them.
HTML_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("rank", "Rank", True),
    ("model", "Model", False),
    ("revision", "Revision", False),
    ("num_parameters", "Params", True),
    ("method", "Method", False),
    ("submitter", "Submitter", False),
    ("main_score", "Main score", True),
    ("lexical_gain", "Gain over lexical floor", True),
    ("affect_score", "Affect", True),
    ("category_top1", "Top-1", True),
    ("complex_fpr", "Complex FPR", True),
    ("keyword_win_rate", "Keyword win", True),
    ("main_layers", "CV layers", True),
)


def _cells(row: dict[str, Any], item: Ranked) -> list[dict[str, Any]]:
    """The HTML table's cells of one row: sort value, main text, a smaller second line, an optional badge."""

    def cell(
        key: str, label: str, sort: Any, main: str, sub: str = "", badge: str = "", num: bool = True, cls: str = ""
    ) -> dict[str, Any]:
        return {
            "key": key,
            "label": label,
            "sort": "" if sort is None else sort,
            "main": main,
            "sub": sub,
            "badge": badge,
            "num": num,
            "cls": cls,
        }

    gain = row["lexical_gain"]
    return [
        cell("rank", "Rank", row["rank"] if row["rank"] is not None else "", item.label),
        cell("model", "Model", row["model"], row["model"], row["hub_address"], num=False, cls="model"),
        cell("revision", "Revision", row["revision"], row["revision_short"], num=False, cls="rev"),
        cell("num_parameters", "Params", row["num_parameters"], human_count(row["num_parameters"])),
        cell(
            "method",
            "Method",
            row["method"],
            row["method"],
            f"{row['pooling']} pooling, {row['cv_folds']}-fold",
            num=False,
            cls="method",
        ),
        cell(
            "submitter",
            "Submitter",
            row["submitter"],
            row["submitter"] or "n/a",
            row["submitted_at"][:10],
            num=False,
            cls="who",
        ),
        cell(
            "main_score",
            "Main score",
            row["main_score"],
            f"{row['main_score']:.3f}",
            _ci(row["main_score_ci_low"], row["main_score_ci_high"]),
        ),
        cell(
            "lexical_gain",
            "Gain over lexical floor",
            gain,
            "floor" if row["role"] == "lexical_floor" else _signed(gain),
            "" if row["role"] == "lexical_floor" else _ci(row["lexical_gain_ci_low"], row["lexical_gain_ci_high"]),
            NOT_ABOVE if row["above_lexical_floor"] is False and row["role"] == "entry" else "",
        ),
        cell(
            "affect_score",
            "Affect",
            row["affect_score"],
            f"{row['affect_score']:.3f}",
            _ci(row["affect_score_ci_low"], row["affect_score_ci_high"]),
        ),
        cell(
            "category_top1",
            "Top-1",
            row["category_top1"],
            fmt_number(row["category_top1"]),
            f"layer {row['main_layer']}",
        ),
        cell("complex_fpr", "Complex FPR", row["complex_fpr"], fmt_number(row["complex_fpr"])),
        cell("keyword_win_rate", "Keyword win", row["keyword_win_rate"], fmt_number(row["keyword_win_rate"])),
        cell(
            "main_layers",
            "CV layers",
            row["main_layer"],
            str(row["main_layer"]),
            f"folds chose {row['main_layers']} (of {row['n_layers']})",
        ),
    ]


def _script() -> str:
    return render_template("leaderboard.js.j2")


def render_html(entries: list[LeaderboardEntry], title: str = "aipsy-affect probe leaderboard") -> str:
    """A self-contained page (no network): sortable table, overlay and per-entry charts, every string escaped."""
    from markupsafe import Markup

    script = _script()
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    order = ranked(entries)
    rows = []
    for item in order:
        row = summary_row(item)
        rows.append({"sha": item.entry.submission_sha256, "role": item.entry.role, "cells": _cells(row, item)})
    labels = [(f"{item.label}: {item.entry.report.model.id}", item.entry) for item in order]
    curves = [
        {
            "caption": f"{item.label}: {item.entry.report.model.id} @ {short_revision(item.entry.report.model.revision)}"
            f" \u00b7 {item.entry.report.method.name}, {item.entry.report.method.pooling} pooling \u00b7 "
            f"main score {item.entry.report.main_score:.3f} (CV layers "
            f"{' '.join(map(str, item.entry.report.main_layers))})",
            "chart": curve_chart(item.entry),
        }
        for item in order
    ]
    revisions = sorted({e.report.data_sha256 or "custom" for e in entries})
    latest = max((e.submitted_at for e in entries), default=None)
    return render_template(
        "leaderboard.html.j2",
        title=title,
        csp_hash=digest,
        script=Markup(script),
        rows=rows,
        columns=HTML_COLUMNS,
        n_entries=sum(e.role == "entry" for e in entries),
        n_references=sum(e.role != "entry" for e in entries),
        latest=latest.isoformat()[:16].replace("T", " ") if latest else "",
        version=__version__,
        revisions=revisions,
        explanation=EXPLANATION,
        overlay=overlay_chart(labels) if entries else None,
        curves=curves,
    )


def render(entries: list[LeaderboardEntry], fmt: str) -> str:
    """Render the board in one of ``FORMATS``."""
    renderers = {"md": render_markdown, "csv": render_csv, "json": render_json, "html": render_html}
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return renderers[fmt](entries)
