"""Chart geometry for the leaderboard page: plain numbers and labels that the Jinja2 template turns into inline SVG.

Two kinds of chart: one overlay of every entry's per-layer main metric against relative depth (layer / deepest
submitted layer), so models of different depth compare on one plot, with the y-axis fitted to the data; and one
chart per entry with its per-layer curves (affect AUROC, category macro AUROC with its CI band, top-1) and the right
chance line for each metric (0.5 for AUROC, 0.125 for 8-way top-1). A single-layer entry is drawn as points.
"""

from __future__ import annotations

import math
from typing import Any

from aipsy_affect.benchmark.leaderboard import LeaderboardEntry

__all__ = ["AUROC_CHANCE", "TOP1_CHANCE", "curve_chart", "overlay_chart"]

AUROC_CHANCE = 0.5
TOP1_CHANCE = 1.0 / 8.0
_PALETTE = ("#d9480f", "#1c7ed6", "#2b8a3e", "#7048e8", "#c2255c", "#e67700", "#0b7285", "#5c940d", "#862e9c")
_CHANCE_COLOUR = "#868e96"
_FLOOR_COLOUR = "#212529"


def _points(xs: list[float], ys: list[float]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))


def _depth(entry: LeaderboardEntry) -> list[float]:
    """Relative depth of each submitted layer: layer / deepest layer (1.0 for a single layer)."""
    numbers = [s.layer for s in entry.report.layers]
    deepest = max(numbers)
    return [n / deepest if deepest > 0 else 1.0 for n in numbers]


def _frame(width: float, height: float, left: float, top: float, pw: float, ph: float) -> dict[str, float]:
    """The plot area of a chart: its size and the edges of the inner box the template draws axes on."""
    return {"width": width, "height": height, "left": left, "right": left + pw, "top": top, "bottom": top + ph}


def _ticks(lo: float, hi: float) -> list[float]:
    step = 0.05 if hi - lo <= 0.3 else 0.1 if hi - lo <= 0.6 else 0.25
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + k * step, 4) for k in range(int((hi - first) / step + 1e-9) + 1)]


def overlay_chart(ranked: list[tuple[str, LeaderboardEntry]], width: int = 720, height: int = 320) -> dict[str, Any]:
    """Every entry's per-layer ``category_macro_auroc`` against relative depth, with chance and the lexical floor.

    ``ranked`` is ``(label, entry)`` in table order. Lexical-floor entries are drawn as a horizontal line at their
    main score (they have no depth); the chance reference as a grey curve.
    """
    left, right, top, bottom = 46, 12, 14, 36
    pw, ph = width - left - right, height - top - bottom
    values = [AUROC_CHANCE] + [s.category_macro_auroc for _, e in ranked for s in e.report.layers]
    values += [e.report.main_score for _, e in ranked if e.role == "lexical_floor"]
    lo = max(0.0, math.floor((min(values) - 0.02) / 0.05) * 0.05)
    hi = min(1.0, math.ceil((max(values) + 0.02) / 0.05) * 0.05)
    hi = max(hi, lo + 0.1)

    def x(depth: float) -> float:
        return left + pw * depth

    def y(value: float) -> float:
        return top + ph * (1.0 - (value - lo) / (hi - lo))

    series, floors = [], []
    colour = iter(_PALETTE * 10)
    for label, entry in ranked:
        if entry.role == "lexical_floor":
            floors.append(
                {
                    "label": f"lexical floor: {entry.report.model.id} ({entry.report.main_score:.3f})",
                    "y": round(y(entry.report.main_score), 1),
                    "colour": _FLOOR_COLOUR,
                }
            )
            continue
        xs = [x(d) for d in _depth(entry)]
        ys = [y(s.category_macro_auroc) for s in entry.report.layers]
        chance = entry.role == "chance"
        series.append(
            {
                "label": label,
                "points": _points(xs, ys),
                "colour": _CHANCE_COLOUR if chance else next(colour),
                "dots": [(round(a, 1), round(b, 1)) for a, b in zip(xs, ys, strict=True)] if len(xs) <= 12 else [],
                "dash": "3 3" if chance else "",
            }
        )
    return {
        **_frame(width, height, left, top, pw, ph),
        "y_ticks": [(round(y(t), 1), f"{t:.2f}") for t in _ticks(lo, hi)],
        "x_ticks": [(round(x(d), 1), f"{d:.2g}") for d in (0.0, 0.25, 0.5, 0.75, 1.0)],
        "chance_y": round(y(AUROC_CHANCE), 1),
        "series": series,
        "floors": floors,
    }


def curve_chart(entry: LeaderboardEntry, width: int = 560, height: int = 250) -> dict[str, Any]:
    """Per-layer curves of one entry on a 0-1 axis, with a chance line per metric and the CV-chosen layers."""
    r = entry.report
    layers = r.layers
    left, right, top, bottom = 40, 12, 34, 34
    pw, ph = width - left - right, height - top - bottom
    first, last = layers[0].layer, layers[-1].layer
    span = last - first

    def x(layer: int) -> float:
        return left + pw * ((layer - first) / span if span else 0.5)

    def y(value: float) -> float:
        return top + ph * (1.0 - min(max(value, 0.0), 1.0))

    xs = [x(s.layer) for s in layers]
    single = len(layers) == 1
    band = _points(
        xs + xs[::-1],
        [y(s.category_macro_auroc_ci[1]) for s in layers] + [y(s.category_macro_auroc_ci[0]) for s in layers][::-1],
    )
    series = []
    for label, colour, dash, vals in (
        ("affect AUROC", "#1c7ed6", "", [s.affect_auroc for s in layers]),
        ("category macro AUROC", "#d9480f", "", [s.category_macro_auroc for s in layers]),
        ("category top-1", "#2b8a3e", "5 3", [s.category_top1 for s in layers]),
    ):
        ys = [y(v) for v in vals]
        series.append(
            {
                "label": label,
                "colour": colour,
                "dash": dash,
                "points": _points(xs, ys),
                "dots": [(round(a, 1), round(b, 1)) for a, b in zip(xs, ys, strict=True)]
                if single or len(layers) <= 3
                else [],
            }
        )
    step = max(1, round(span / 8)) if span else 1
    return {
        **_frame(width, height, left, top, pw, ph),
        "y_ticks": [(round(y(t), 1), f"{t:.2f}") for t in (0.0, 0.25, 0.5, 0.75, 1.0)],
        "x_ticks": [(round(x(n), 1), str(n)) for n in range(first, last + 1, step)],
        "chance": [
            {"y": round(y(AUROC_CHANCE), 1), "label": "chance AUROC 0.5", "colour": "#8c959f"},
            {"y": round(y(TOP1_CHANCE), 1), "label": "chance top-1 0.125", "colour": "#2b8a3e"},
        ],
        "band": "" if single else band,
        "series": series,
        "chosen": sorted({round(x(n), 1) for n in r.main_layers}),
        "legend_x": [left + i * 170 for i in range(len(series))],
    }
