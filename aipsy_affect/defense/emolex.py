"""Method 2 of the defense battery: the NRC Emotion Lexicon (EmoLex) through NRCLex.

EmoLex (Mohammad and Turney, 2013) lists words associated with Plutchik's eight emotions and with positive and
negative sentiment. It is free for research use only; cite the paper when you use it. NRCLex ships it as JSON.

NRCLex's own ``load_raw_text`` tokenises with TextBlob, which downloads NLTK corpora at run time. We feed
``load_token_list`` instead, with NLTK's data-free ``RegexpTokenizer``: lower-cased letter runs with inner
apostrophes (typographic apostrophes normalised first; hyphens and zero-width joiners separate words),
possessive ``'s`` dropped. EmoLex lists base forms ("kill", "cry"), so an inflected
token is mapped to the first of a few inflectional candidates that the lexicon lists ("killed" -> "kill",
"cried" -> "cry", "rotting" -> "rot"); irregular forms ("fought", "rotten") are only found when listed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from aipsy_affect.battery.schema import EMOTIONS

#: EmoLex's ten categories: Plutchik's eight plus sentiment polarity.
NRC_CATEGORIES: tuple[str, ...] = (*EMOTIONS, "positive", "negative")

_APOSTROPHES = "\u2019\u2018\u02bc\u2032"
_TOKEN_PATTERN = r"[a-z]+(?:'[a-z]+)*"
_JOINERS = re.compile("[\u2010\u2011\u2012\u2013\u00ad\u200b\u200c\u200d]")


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    # NLTK is imported on first use: it pulls in SciPy, and validate --no-model imports this module for its types.
    from nltk.tokenize import RegexpTokenizer

    return RegexpTokenizer(_TOKEN_PATTERN)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without any downloaded model: letters and inner apostrophes, possessives dropped."""
    text = text.lower()
    for ch in _APOSTROPHES:
        text = text.replace(ch, "'")
    text = _JOINERS.sub("-", text)
    tokens = []
    for tok in _tokenizer().tokenize(text):
        if tok.endswith("'s"):
            tok = tok[:-2]
        tokens.append(tok)
    return tokens


def _candidates(token: str) -> list[str]:
    # Regular English inflection only (plural, 3rd person, past, progressive), most specific first.
    out = [token]
    n = len(token)
    if token.endswith("ies") and n > 4:
        out.append(token[:-3] + "y")
    if token.endswith("ied") and n > 4:
        out.append(token[:-3] + "y")
    if token.endswith("es") and n > 3:
        out.append(token[:-2])
    if token.endswith("s") and not token.endswith("ss") and n > 3:
        out.append(token[:-1])
    for suffix in ("ed", "ing"):
        if token.endswith(suffix) and n > len(suffix) + 2:
            stem = token[: -len(suffix)]
            out.append(stem)
            out.append(stem + "e")
            if len(stem) > 2 and stem[-1] == stem[-2]:
                out.append(stem[:-1])
    return out


class LexiconScores(BaseModel):
    """EmoLex counts for one text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    counts: dict[str, int]
    """Matched-word count per category: the eight Plutchik emotions, then ``positive`` and ``negative``."""

    n_tokens: int
    """Word tokens in the text."""

    n_hits: int
    """Tokens found in EmoLex (with any category)."""

    hit_rate: float
    """``n_hits / n_tokens`` (0 for an empty text)."""

    top_category: str | None
    """The Plutchik emotion with the most matched words; ``None`` when no emotion word matched. Ties go to the
    first in ``EMOTIONS`` order; ``top_categories`` lists them all."""

    top_categories: tuple[str, ...]
    """Every Plutchik emotion tied for the highest count (empty when none matched)."""

    words: dict[str, tuple[str, ...]]
    """Matched base form -> its EmoLex categories (each listed once, however often it occurs)."""


@lru_cache(maxsize=1)
def _nrc_lexicon() -> dict[str, list[str]]:
    from nrclex import NRCLex

    return NRCLex().__lexicon__  # type: ignore[no-any-return]


def lemmas(tokens: Iterable[str]) -> list[str]:
    """Each token mapped to the first inflectional candidate that EmoLex lists, or left as it is."""
    lex = _nrc_lexicon()
    out = []
    for tok in tokens:
        out.append(next((c for c in _candidates(tok) if c in lex), tok))
    return out


def lexicon_scores(text: str) -> LexiconScores:
    """EmoLex counts, hit rate and top category for ``text``, via ``NRCLex.load_token_list``."""
    from nrclex import NRCLex

    tokens = lemmas(tokenize(text))
    nrc = NRCLex()
    nrc.load_token_list(tokens)
    raw: dict[str, int] = nrc.raw_emotion_scores
    counts = {c: int(raw.get(c, 0)) for c in NRC_CATEGORIES}
    lex = _nrc_lexicon()
    hits = [t for t in tokens if t in lex]
    best = max((counts[e] for e in EMOTIONS), default=0)
    tied = tuple(e for e in EMOTIONS if best > 0 and counts[e] == best)
    return LexiconScores(
        counts=counts,
        n_tokens=len(tokens),
        n_hits=len(hits),
        hit_rate=len(hits) / len(tokens) if tokens else 0.0,
        top_category=tied[0] if tied else None,
        top_categories=tied,
        words={w: tuple(lex[w]) for w in dict.fromkeys(hits)},
    )


def lexicon_batch(texts: Iterable[str]) -> list[LexiconScores]:
    """``lexicon_scores`` for many texts."""
    return [lexicon_scores(t) for t in texts]


def nrc_info() -> dict[str, Any]:
    """What the lexicon results were computed with: package version, lexicon file hash and size, licence."""
    from importlib import resources
    from importlib.metadata import version

    data = resources.files("nrclex.data").joinpath("nrc_en.json").read_bytes()
    return {
        "package": "NRCLex",
        "version": version("NRCLex"),
        "lexicon_file": "nrclex/data/nrc_en.json",
        "lexicon_sha256": hashlib.sha256(data).hexdigest(),
        "entries": len(_nrc_lexicon()),
        "licence": "NRC Emotion Lexicon: free for research use only (Mohammad and Turney, 2013)",
    }
