"""Method 1 of the defense battery: bag-of-words sentiment with VADER (Hutto and Gilbert, 2014; MIT licence).

VADER scores a text from a lexicon of word valences with a few context rules (negation, boosters, "but",
capitals, punctuation). Besides the four scores we record the tokens that carried the score: the valence of
every token after VADER's own context rules, so a report can show which words moved an item.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict


class TokenValence(BaseModel):
    """One token that contributed to a VADER score."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: str
    """The token as VADER split it (punctuation stripped, case kept)."""

    valence: float
    """Its valence after VADER's context rules (negation, boosters, "but"); positive or negative, never 0."""


class VaderScores(BaseModel):
    """VADER's scores for one text, with the tokens that carried them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    neg: float
    """Share of the text's sentiment mass that is negative (0 to 1)."""

    neu: float
    """Share that is neutral (0 to 1)."""

    pos: float
    """Share that is positive (0 to 1)."""

    compound: float
    """Normalised sum of all valences, -1 (most negative) to 1 (most positive)."""

    tokens: tuple[TokenValence, ...]
    """Every token with a non-zero valence, in text order."""


def _analyzer_class() -> type:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    class _RecordingAnalyzer(SentimentIntensityAnalyzer):  # type: ignore[misc, valid-type]
        # VADER keeps one valence per token in a local list and applies its last rule ("but") in
        # _but_check just before scoring; hooking that call records the final per-token valences without
        # re-implementing any of VADER. A test checks they reproduce VADER's own compound score.
        def _but_check(self, words_and_emoticons: list[str], sentiments: list[float]) -> list[float]:
            sentiments = super()._but_check(words_and_emoticons, sentiments)
            self.last_tokens = list(zip(words_and_emoticons, sentiments, strict=True))
            return sentiments

    return _RecordingAnalyzer


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    return _analyzer_class()()


def vader_scores(text: str) -> VaderScores:
    """VADER's neg, neu, pos and compound for ``text`` and the tokens that carried them."""
    analyzer = _analyzer()
    analyzer.last_tokens = []
    scores = analyzer.polarity_scores(text)
    tokens = tuple(TokenValence(token=w, valence=round(float(v), 4)) for w, v in analyzer.last_tokens if v)
    return VaderScores(
        neg=scores["neg"], neu=scores["neu"], pos=scores["pos"], compound=scores["compound"], tokens=tokens
    )


def vader_batch(texts: Iterable[str]) -> list[VaderScores]:
    """``vader_scores`` for many texts (VADER is fast; no batching needed)."""
    return [vader_scores(t) for t in texts]


def vader_version() -> str:
    """Installed vaderSentiment version, stamped on results."""
    from importlib.metadata import version

    return version("vaderSentiment")
