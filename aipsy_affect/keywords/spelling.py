"""Possible misspellings of forbidden terms (``angery``, ``terified``, ``greif``): a warning, a failure under --strict.

A word is a possible misspelling when it is not an English word and lies within a small, length-aware
optimal-string-alignment distance (``rapidfuzz``; a swap of two neighbouring letters counts one) of a forbidden
single-word term, with the same first and last letter (typos keep the ends of a word; ``nappy``/``happy``,
``lolly``/``jolly`` do not): distance 1 for terms of 5 to 9 letters, 2 from 10 letters on; shorter terms are left
out (``hare``/``hate``, ``fear``/``gear`` are one letter apart and both words). "Not an English word" means: not in
the English word list that TextBlob ships (``textblob/en/en-spelling.txt``, about 29,000 words from public-domain
books and frequency lists, MIT), nor a regular inflection of one, nor a compound of two of at least four letters each (``heartbeat``), nor a
lexicon term, nor listed in the lexicon's ``not_misspellings`` (common words the list lacks). The list is read from TextBlob's folder without importing TextBlob (which imports NLTK).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

MIN_TERM_LENGTH = 5


def max_distance(term: str) -> int:
    """The edit distance within which a word counts as a misspelling of ``term``."""
    if len(term) < MIN_TERM_LENGTH:
        return 0
    return 1 if len(term) < 10 else 2


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The word list (lower-case); empty when TextBlob is not installed."""
    spec = importlib.util.find_spec("textblob")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    path = Path(next(iter(spec.submodule_search_locations))) / "en" / "en-spelling.txt"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return frozenset()
    return frozenset(line.split()[0].lower() for line in lines if line and not line.startswith(";"))


def _inflection_bases(word: str) -> list[str]:
    out = [word]
    for suffix, repl in (
        ("ies", "y"),
        ("ied", "y"),
        ("es", ""),
        ("s", ""),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
        ("ly", ""),
        ("er", ""),
        ("est", ""),
        ("'s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)] + repl
            out.append(base)
            if len(base) > 2 and base[-1] == base[-2]:
                out.append(base[:-1])
    return out


class SpellingCheck:
    """Near misses of a set of forbidden terms."""

    def __init__(self, terms: dict[str, str], extra_words: frozenset[str]) -> None:
        self._by_length: dict[int, list[tuple[str, str]]] = {}
        for term, family in terms.items():
            if term.isalpha() and max_distance(term):
                self._by_length.setdefault(len(term), []).append((term, family))
        self._extra = extra_words

    def _known(self, word: str) -> bool:
        words = english_words()
        return any(b in words or b in self._extra for b in _inflection_bases(word))

    def is_word(self, word: str) -> bool:
        """Whether ``word`` is an English word (listed, an inflection of one, or a compound of two)."""
        if self._known(word):
            return True
        words = english_words()
        return any(word[:k] in words and self._known(word[k:]) for k in range(4, len(word) - 3))

    @lru_cache(maxsize=65536)  # noqa: B019 - one check per process (get_screen caches the screen)
    def near(self, word: str) -> tuple[str, str, int] | None:
        """``(term, family, distance)`` of the closest forbidden term ``word`` may misspell, or ``None``."""
        if len(word) < MIN_TERM_LENGTH - 1 or not word.isalpha():
            return None
        candidates = [
            (term, family)
            for length in range(len(word) - 2, len(word) + 3)
            for term, family in self._by_length.get(length, ())
            if term[0] == word[0] and term[-1] == word[-1] and abs(len(term) - len(word)) <= max_distance(term)
        ]
        if not candidates or self.is_word(word):
            return None
        from rapidfuzz.distance import OSA

        best: tuple[str, str, int] | None = None
        for term, family in candidates:
            limit = max_distance(term)
            d = OSA.distance(word, term, score_cutoff=limit)
            if 0 < d <= limit and (best is None or d < best[2]):
                best = (term, family, d)
        return best
