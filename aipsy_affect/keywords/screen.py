"""The emotion-keyword screen: token- and word-family matching against the lexicon."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from pydantic import BaseModel, ConfigDict

from aipsy_affect.keywords.lexicon import NEAR_WINDOW, Kind, Lexicon, load_lexicon

# Characters that join the parts of one word: apostrophes (ASCII and typographic), hyphens of
# every width, the soft hyphen and zero-width joiners, so "fu\u00adrious" and "heart-broken" are seen.
_APOSTROPHES = "'\u2019\u2018\u02bc\u2032"
_JOINERS = "-\u2010\u2011\u2012\u2013\u00ad\u200b\u200c\u200d"
_JOIN_CLASS = re.escape(_JOINERS)
_TOKEN = re.compile(rf"[^\W\d_]+(?:[{re.escape(_APOSTROPHES)}{_JOIN_CLASS}]+[^\W\d_]+)*")
_SPLIT_JOIN = re.compile(rf"[{_JOIN_CLASS}]+")
_POSSESSIVE = re.compile(r"'s$")
_STEMMER = snowballstemmer.stemmer("english")


class KeywordHit(BaseModel):
    """One keyword found in a text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str
    """The lexicon term that matched (its listed form)."""

    emotion: str
    """The term's emotion family (one of Plutchik's eight, another inner state, or ``generic``)."""

    kind: Kind
    """``forbidden`` (fails an item) or ``expressive`` (reported only)."""

    start: int
    """Character offset of the match in the original text."""

    end: int
    """Character offset just past the match."""

    match: str
    """The matched text as written."""


@dataclass(frozen=True)
class _Token:
    norm: str
    start: int
    end: int


def _normalise(word: str) -> str:
    word = word.lower()
    for ch in _APOSTROPHES[1:]:
        word = word.replace(ch, "'")
    return _POSSESSIVE.sub("", word)


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word)


class Screen:
    """A compiled lexicon. Build once (``get_screen()``), call ``find`` on any number of texts."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.version = lexicon.version
        self._exact: dict[str, tuple[str, str, Kind]] = {}
        self._stems: dict[str, tuple[str, str, Kind]] = {}
        self._phrases: dict[tuple[str, ...], tuple[str, str, Kind]] = {}
        never = set(lexicon.never)
        exact_only = set(lexicon.exact_only)
        for term, fam, kind in lexicon.terms():
            entry = (term, fam, kind)
            words = term.split()
            if len(words) > 1:
                self._phrases[tuple(words)] = entry
                continue
            self._exact.setdefault(term, entry)
            self._exact.setdefault(_SPLIT_JOIN.sub("", term), entry)
            if term not in exact_only and "-" not in term and len(term) >= 4:
                self._stems.setdefault(_stem(term), entry)
        self._never = frozenset(never)
        self._max_phrase = max((len(p) for p in self._phrases), default=1)

    def _lookup(self, word: str) -> tuple[str, str, Kind] | None:
        if word in self._never:
            return None
        hit = self._exact.get(word)
        if hit is None and len(word) >= 4:
            hit = self._stems.get(_stem(word))
        return hit

    def _tokens(self, text: str) -> list[_Token]:
        return [_Token(_normalise(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(text)]

    def _applies(self, term: str, tokens: list[_Token], i: int, j: int) -> bool:
        rule = self.lexicon.rules.get(term)
        if rule is None:
            return True
        prev = tokens[i - 1].norm if i > 0 else ""
        nxt = tokens[j].norm if j < len(tokens) else ""
        if rule.only_after is not None and prev not in self.lexicon.context(rule.only_after):
            return False
        if rule.only_before is not None and nxt not in rule.only_before:
            return False
        if rule.unless_near:
            window = tokens[max(0, i - NEAR_WINDOW) : i] + tokens[j : j + NEAR_WINDOW]
            if any(t.norm in rule.unless_near for t in window):
                return False
        return prev not in rule.unless_prev and nxt not in rule.unless_next

    def find(self, text: str) -> list[KeywordHit]:
        """Every forbidden and expressive keyword in ``text``, in order of position."""
        tokens = self._tokens(text)
        hits: list[KeywordHit] = []
        covered: set[int] = set()
        # Phrases first, longest first, so "fed up" is one hit and its words are not looked up again.
        for size in range(self._max_phrase, 1, -1):
            for i in range(len(tokens) - size + 1):
                if any(k in covered for k in range(i, i + size)):
                    continue
                key = tuple(t.norm for t in tokens[i : i + size])
                entry = self._phrases.get(key)
                if entry and self._applies(entry[0], tokens, i, i + size):
                    covered.update(range(i, i + size))
                    hits.append(self._hit(entry, text, tokens[i].start, tokens[i + size - 1].end))
        for i, tok in enumerate(tokens):
            if i in covered:
                continue
            entry = self._lookup(tok.norm) or self._lookup(_SPLIT_JOIN.sub("", tok.norm))
            if entry is not None:
                if self._applies(entry[0], tokens, i, i + 1):
                    hits.append(self._hit(entry, text, tok.start, tok.end))
                continue
            if _SPLIT_JOIN.search(tok.norm):
                hits.extend(self._part_hits(text, tok, tokens, i))
        hits.sort(key=lambda h: (h.start, h.end))
        return hits

    def _part_hits(self, text: str, tok: _Token, tokens: list[_Token], i: int) -> list[KeywordHit]:
        # "grief-stricken" is listed whole; an unlisted compound ("terror-filled") is caught by its parts.
        out = []
        raw = text[tok.start : tok.end]
        for m in re.finditer(rf"[^{_JOIN_CLASS}]+", raw):
            entry = self._lookup(_normalise(m.group()))
            if entry is not None and entry[0] not in self.lexicon.rules:
                out.append(self._hit(entry, text, tok.start + m.start(), tok.start + m.end()))
        return out

    @staticmethod
    def _hit(entry: tuple[str, str, Kind], text: str, start: int, end: int) -> KeywordHit:
        term, fam, kind = entry
        return KeywordHit(term=term, emotion=fam, kind=kind, start=start, end=end, match=text[start:end])


@lru_cache(maxsize=1)
def get_screen() -> Screen:
    """The screen compiled from the packaged lexicon (cached per process)."""
    return Screen(load_lexicon())


def find_keywords(text: str) -> list[KeywordHit]:
    """Screen one text with the packaged lexicon."""
    return get_screen().find(text)
