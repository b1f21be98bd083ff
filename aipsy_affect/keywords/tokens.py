"""Word tokens of a normalised text, with split words rejoined and offsets into the original.

A **piece** is a run of letters and digits (``*`` and ``_`` may stand inside it as wildcards or joiners). Pieces
separated only by joiners (hyphens, dashes, minus signs, slashes, dots, apostrophes, backticks, underscores)
form one **chain**, and so do pieces separated by a hyphen and a line break or space (``fur-\\nious``,
``fur- ious``: hyphenation). Every chain is one token: its full join (``fur-ious`` -> ``furious``) is what is
looked up, and the screen also tries its sub-chains and pieces. Runs of single letters separated by spaces or
punctuation (``a n g r y``) are found separately (``letter_runs``). Punctuation other than quotes between two
tokens is a clause boundary: context rules and phrases do not look across it.

This tokenizer is written by hand on purpose: it must map every token back to offsets in the original text
through the normaliser's map, join across separators that general-purpose tokenizers split on, and stay
within the start-up budget of ``validate --no-model`` (importing NLTK costs seconds, it pulls in SciPy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aipsy_affect.keywords.normalise import Normalised

APOSTROPHES = "'\u2019\u2018\u02bc\u2032`\u00b4"
HYPHENS = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d"
JOINERS = HYPHENS + APOSTROPHES + "/\\.\u00b7\u2022\u2027_~|+"
QUOTES = '"\u201c\u201d\u00ab\u00bb\u201e\u2039\u203a'
WILDCARDS = "*_"
LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a", "$": "s"}
MAX_CHAIN = 40

_PIECE = re.compile(r"[@$]?[^\W_]+(?:[*_@$]+[^\W_]+)*")
_TIGHT = re.compile(f"[{re.escape(JOINERS)}]{{1,3}}")
_HYPHENATION = re.compile(f"[{re.escape(HYPHENS)}][ \\t\\u00a0]*\\r?\\n?[ \\t\\u00a0]*")
_LETTER_GAP = re.compile(f"[\\s{re.escape(JOINERS)}*]{{1,3}}")
_BOUNDARY = re.compile(f"[^\\s{re.escape(APOSTROPHES + QUOTES)}]")


@dataclass(frozen=True)
class Piece:
    """A run of letters or digits, as a span of the normalised text."""

    raw: str
    start: int
    end: int


@dataclass
class Token:
    """A word: one or more pieces joined across separators."""

    pieces: list[Piece]
    norm: str
    """The full join, lower-cased, possessive ``'s`` dropped, wildcards removed."""

    start: int
    """Start in the normalised text."""

    end: int
    """End in the normalised text."""

    boundary_before: bool
    """Punctuation (other than quotes) stands between the previous token and this one."""

    possessive: bool = False
    """The word carried a possessive ending (``Ines's``, ``the Smiths'``)."""

    dropped: Piece | None = None
    """The ``s`` piece dropped as a possessive ending, if one was."""

    joined: str = ""
    """How the pieces were joined: ``""`` (one piece), ``split`` (joiners) or ``hyphenation``."""


def _clean(raw: str) -> str:
    return raw.lower().replace("*", "").replace("_", "")


def leet_variants(word: str) -> list[str]:
    """Readings of a word written with digits for letters (``4ngry`` -> ``angry``); empty when it has none."""
    if not any(c in LEET for c in word) or not any(c.isalpha() for c in word):
        return []
    out = []
    for one in ("i", "l"):
        table = dict(LEET, **{"1": one})
        variant = "".join(table.get(c, c) for c in word)
        if variant not in out and variant.isalpha():
            out.append(variant)
    return out


def has_letter(raw: str) -> bool:
    return any(c.isalpha() for c in raw)


def tokenize(norm: Normalised) -> list[Token]:
    """Tokens of a normalised text (see the module docstring)."""
    text = norm.text
    pieces = [Piece(m.group(), m.start(), m.end()) for m in _PIECE.finditer(text)]
    tokens: list[Token] = []
    i = 0
    prev_end = 0
    while i < len(pieces):
        chain = [pieces[i]]
        kind = ""
        while i + 1 < len(pieces) and len(chain) < MAX_CHAIN:
            gap = text[chain[-1].end : pieces[i + 1].start]
            if _TIGHT.fullmatch(gap):
                kind = kind or "split"
            elif _HYPHENATION.fullmatch(gap):
                kind = "hyphenation"
            else:
                break
            chain.append(pieces[i + 1])
            i += 1
        i += 1
        chain_end = chain[-1].end
        possessive = False
        dropped = None
        if len(chain) > 1 and chain[-1].raw.lower() == "s" and text[chain[-2].end : chain[-1].start] in APOSTROPHES:
            dropped = chain[-1]
            chain = chain[:-1]
            possessive = True
        else:
            after = text[chain[-1].end : chain[-1].end + 1]
            possessive = bool(after) and after in APOSTROPHES and chain[-1].raw.lower().endswith("s")
        if not any(has_letter(p.raw) for p in chain):
            continue
        if len(chain) == 1:
            kind = ""
        boundary = bool(tokens) and bool(_BOUNDARY.search(text[prev_end : chain[0].start]))
        norm_word = "".join(_clean(p.raw) for p in chain)
        tokens.append(
            Token(chain, norm_word, chain[0].start, chain[-1].end, boundary, possessive, joined=kind, dropped=dropped)
        )
        prev_end = chain_end
    return tokens


def letter_runs(tokens: list[Token], text: str) -> list[tuple[int, int]]:
    """``(i, j)`` ranges of three or more consecutive one-letter tokens with short gaps (``a n g r y``)."""
    runs = []
    i = 0
    while i < len(tokens):
        j = i
        while (
            j < len(tokens)
            and len(tokens[j].norm) == 1
            and tokens[j].norm.isalpha()
            and (j == i or _LETTER_GAP.fullmatch(text[tokens[j - 1].end : tokens[j].start]))
        ):
            j += 1
        if j - i >= 3:
            runs.append((i, j))
            i = j
        else:
            i = max(i + 1, j)
    return runs
