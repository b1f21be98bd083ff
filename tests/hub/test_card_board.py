"""The leaderboard figures typed into CARD.md are the shipped board's figures (they go stale with the data)."""

from __future__ import annotations

import json
from pathlib import Path

from aipsy_affect.benchmark.leaderboard import Leaderboard
from aipsy_affect.render.leaderboard import render

ROOT = Path(__file__).resolve().parents[2]


def test_card_quotes_the_shipped_board() -> None:
    rows = json.loads(render(Leaderboard(ROOT / "leaderboard").entries(), "json"))["rows"]
    card = (ROOT / "CARD.md").read_text(encoding="utf-8")
    by = {(r["role"], r["method"]): r for r in rows}
    logistic = by[("entry", "logistic-regression")]
    mass_mean = by[("entry", "mass-mean")]
    floor = next(r for r in rows if r["role"] == "lexical-floor" or "floor" in str(r["role"]))

    def ci(r: dict, key: str) -> str:
        return f"[{r[key + '_ci_low']:.3f}, {r[key + '_ci_high']:.3f}]"

    assert f"main score {logistic['main_score']:.3f} {ci(logistic, 'main_score')}" in card
    assert f"floor's {floor['main_score']:.3f} {ci(floor, 'main_score')}" in card
    assert f"gain +{logistic['lexical_gain']:.3f} {ci(logistic, 'lexical_gain')}" in card
    assert f"+{mass_mean['lexical_gain']:.3f} {ci(mass_mean, 'lexical_gain')}" in card
    assert (
        f"the floor ({floor['affect_score']:.3f})" in card and f"the model\n  ({logistic['affect_score']:.3f})" in card
    )
