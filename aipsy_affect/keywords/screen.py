"""The emotion-keyword screen: token, word-family, phrase, emoji and emoticon matching against the lexicon.

Text is normalised first (``keywords.normalise``: HTML, default-ignorable code points, NFKC, combining marks,
homoglyphs), then tokenised with split words rejoined (``keywords.tokens``). Every hit keeps offsets into the
original text and says what had to be undone to see it (``normalised``). ``Screen.screen`` also reports possible
misspellings and mixed-script words; ``Screen.find`` returns the hits only. The rules are written down in
``validation/LEXICON.md``.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer
from pydantic import BaseModel, ConfigDict, Field

from aipsy_affect.keywords.lexicon import NEAR_WINDOW, Kind, Lexicon, load_lexicon
from aipsy_affect.keywords.normalise import Normalised, normalise
from aipsy_affect.keywords.spelling import SpellingCheck
from aipsy_affect.keywords.symbols import SymbolFinder
from aipsy_affect.keywords.tokens import JOINERS, Token, leet_variants, letter_runs, tokenize

_STEMMER = snowballstemmer.stemmer("english")
_KEY_STRIP = re.compile(f"[{re.escape(JOINERS)}\\s]+")
POSSESSIVE_SLOT = "{poss}"
BOUNDARY = "."
Entry = tuple[str, str, Kind]


class KeywordHit(BaseModel):
    """One keyword found in a text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str
    """The lexicon term that matched (its listed form; an emoji's CLDR name; the emoticon as listed)."""

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

    normalised: tuple[str, ...] = ()
    """What had to be undone to see the keyword (``homoglyph``, ``ignorable``, ``split``, ``spaced``, ``leet``,
    ``html``, ``nfkc``, ...); empty when it is written plainly."""


class NearMiss(BaseModel):
    """A word that may be a misspelling of a forbidden term."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str
    """The forbidden term it is close to."""

    emotion: str
    """That term's family."""

    distance: int
    """Edit distance (optimal string alignment) between the word and the term."""

    start: int
    """Character offset of the word in the original text."""

    end: int
    """Character offset just past the word."""

    match: str
    """The word as written."""


class MixedScriptWord(BaseModel):
    """A word whose letters come from more than one script (a homoglyph disguise, or a typo)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: int
    """Character offset of the word in the original text."""

    end: int
    """Character offset just past the word."""

    match: str
    """The word as written."""


class ScreenResult(BaseModel):
    """Everything the screen found in one text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hits: list[KeywordHit]
    """Forbidden and expressive keywords, in order of position."""

    near_misses: list[NearMiss] = Field(default_factory=list)
    """Possible misspellings of forbidden terms (warnings; failures under --strict)."""

    mixed_script: list[MixedScriptWord] = Field(default_factory=list)
    """Words mixing scripts (warnings; failures under --strict)."""


def key(word: str) -> str:
    """The lookup form of a word or term: lower-case, joiners and spaces removed."""
    return _KEY_STRIP.sub("", word.lower())


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


class Screen:
    """A compiled lexicon. Build once (``get_screen()``), call ``find`` or ``screen`` on any number of texts."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.version = lexicon.version
        self._exact: dict[str, Entry] = {}
        self._stems: dict[str, Entry] = {}
        self._phrases: dict[str, list[tuple[tuple[str, ...], Entry]]] = {}
        exact_only = set(lexicon.exact_only)
        for term, fam, kind in lexicon.terms():
            entry = (term, fam, kind)
            words = term.split()
            if len(words) > 1:
                pattern = tuple(w if w == POSSESSIVE_SLOT else key(w) for w in words)
                for first in {pattern[0], _stem(pattern[0])}:
                    self._phrases.setdefault(first, []).append((pattern, entry))
                if POSSESSIVE_SLOT not in words:
                    self._exact.setdefault(key(term), entry)
                continue
            self._exact.setdefault(term, entry)
            self._exact.setdefault(key(term), entry)
            if term not in exact_only and "-" not in term and len(term) >= 4:
                self._stems.setdefault(_stem(term), entry)
        for options in self._phrases.values():
            options.sort(key=lambda p: -len(p[0]))
        self._never = frozenset(lexicon.never)
        self._possessives = lexicon.context("@possessive") if "@possessive" in lexicon.contexts else frozenset()
        self._symbols = SymbolFinder(lexicon, self._name_family)
        forbidden = {t: f for t, f, k in lexicon.terms("forbidden") if " " not in t}
        self._spelling = SpellingCheck(
            forbidden, frozenset(self._exact) | frozenset(lexicon.not_misspellings) | self._never
        )

    # --- lookup -------------------------------------------------------------------------------------------

    def _lookup(self, word: str) -> Entry | None:
        if not word or word in self._never:
            return None
        hit = self._exact.get(word)
        if hit is None and len(word) >= 4:
            hit = self._stems.get(_stem(word))
        return hit

    def _lookup_variants(self, raw: str, word: str) -> tuple[Entry, str] | None:
        hit = self._lookup(word)
        if hit is not None:
            return hit, "split" if any(c in raw for c in "*_") else ""
        if any(c in raw for c in "*_"):
            found = self._wildcard(raw.lower())
            if found is not None:
                return found, "wildcard"
        for variant in leet_variants(word):
            hit = self._lookup(variant)
            if hit is not None:
                return hit, "leet"
        return None

    def _wildcard(self, raw: str) -> Entry | None:
        # "f*rious": each star or underscore stands for one letter.
        pattern = re.compile("".join("[a-z]" if c in "*_" else re.escape(c) for c in raw))
        for word, entry in self._exact.items():
            if pattern.fullmatch(word) and word not in self._never:
                return entry
        return None

    def _name_family(self, name: str) -> str | None:
        hits = self.find(name)
        return hits[0].emotion if hits else None

    # --- context rules --------------------------------------------------------------------------------------

    @staticmethod
    def _prev(tokens: list[Token], i: int) -> str:
        return tokens[i - 1].norm if i > 0 and not tokens[i].boundary_before else BOUNDARY

    @staticmethod
    def _next(tokens: list[Token], j: int) -> str:
        return tokens[j].norm if j < len(tokens) and not tokens[j].boundary_before else BOUNDARY

    def _applies(self, term: str, tokens: list[Token], i: int, j: int) -> bool:
        rule = self.lexicon.rules.get(term)
        if rule is None:
            return True
        prev, nxt = self._prev(tokens, i), self._next(tokens, j)
        if rule.only_after is not None and prev not in self.lexicon.context(rule.only_after):
            return False
        if rule.only_before is not None and nxt not in self.lexicon.context(rule.only_before):
            return False
        if rule.unless_near:
            window = tokens[max(0, i - NEAR_WINDOW) : i] + tokens[j : j + NEAR_WINDOW]
            if any(t.norm in rule.unless_near for t in window):
                return False
        return prev not in rule.unless_prev and nxt not in rule.unless_next

    # --- phrases -----------------------------------------------------------------------------------------------

    def _word_matches(self, word: str, token: Token) -> bool:
        if word == POSSESSIVE_SLOT:
            return token.possessive or token.norm in self._possessives
        return token.norm == word or (len(word) >= 4 and len(token.norm) >= 4 and _stem(token.norm) == _stem(word))

    def _phrase_at(self, tokens: list[Token], i: int, covered: set[int]) -> tuple[Entry, int] | None:
        first = tokens[i].norm
        options = self._phrases.get(first, []) + self._phrases.get(_stem(first), [])
        for pattern, entry in sorted(options, key=lambda p: -len(p[0])):
            j = i + len(pattern)
            if j > len(tokens) or any(k in covered for k in range(i, j)):
                continue
            if any(tokens[k].boundary_before for k in range(i + 1, j)):
                continue
            if all(self._word_matches(w, tokens[i + n]) for n, w in enumerate(pattern)) and self._applies(
                entry[0], tokens, i, j
            ):
                return entry, j
        return None

    # --- the screen --------------------------------------------------------------------------------------------------

    def _hit(
        self, entry: Entry, text: str, norm: Normalised, a: int, b: int, kinds: tuple[str, ...] = ()
    ) -> KeywordHit:
        start, end = norm.span(a, b)
        term, fam, kind = entry
        notes = tuple(sorted(set(norm.notes_in(start, end)) - {"mixed-script"} | {k for k in kinds if k}))
        return KeywordHit(
            term=term, emotion=fam, kind=kind, start=start, end=end, match=text[start:end], normalised=notes
        )

    def _token_hits(self, text: str, norm: Normalised, tokens: list[Token], covered: set[int]) -> list[KeywordHit]:
        hits = []
        for i, tok in enumerate(tokens):
            if i in covered:
                continue
            raw = "".join(p.raw for p in tok.pieces)
            found = self._lookup_variants(raw, tok.norm)
            end, joined = tok.end, tok.joined
            if found is None and tok.dropped is not None:
                # "cheerfulnes's" is not a possessive: an apostrophe was put before the last letter.
                found = self._lookup_variants(raw + tok.dropped.raw, tok.norm + tok.dropped.raw.lower())
                end, joined = tok.dropped.end, "split"
            if found is not None:
                covered.add(i)
                if self._applies(found[0][0], tokens, i, i + 1):
                    hits.append(self._hit(found[0], text, norm, tok.start, end, (joined, found[1])))
                continue
            if len(tok.pieces) > 1:
                parts = self._part_hits(text, norm, tok)
                if parts:
                    covered.add(i)
                    hits += parts
        return hits

    def _part_hits(self, text: str, norm: Normalised, tok: Token) -> list[KeywordHit]:
        # Sub-chains longest first ("was-fur-ious" -> "furious"), then single pieces ("terror-filled" -> "terror").
        # A piece whose term has a context rule is left alone: "felt-tip", "trust-fund" are compounds.
        pieces = tok.pieces
        used: set[int] = set()
        out = []
        for size in range(len(pieces) - 1, 0, -1):
            for a in range(len(pieces) - size + 1):
                if any(k in used for k in range(a, a + size)):
                    continue
                chunk = pieces[a : a + size]
                raw = "".join(p.raw for p in chunk)
                found = self._lookup_variants(raw, key(raw.replace("*", "").replace("_", "")))
                if found is None or found[0][0] in self.lexicon.rules:
                    continue
                used.update(range(a, a + size))
                kinds = ("split", found[1]) if size > 1 else (found[1],)
                out.append(self._hit(found[0], text, norm, chunk[0].start, chunk[-1].end, kinds))
        return out

    def _run_hits(self, text: str, norm: Normalised, tokens: list[Token], covered: set[int]) -> list[KeywordHit]:
        hits = []
        for i, j in letter_runs(tokens, norm.text):
            for size in range(j - i, 2, -1):
                for a in range(i, j - size + 1):
                    if any(k in covered for k in range(a, a + size)):
                        continue
                    word = "".join(t.norm for t in tokens[a : a + size])
                    entry = self._lookup(word)
                    if entry is not None:
                        covered.update(range(a, a + size))
                        hits.append(
                            self._hit(entry, text, norm, tokens[a].start, tokens[a + size - 1].end, ("spaced",))
                        )
        return hits

    def _symbol_hits(self, text: str, norm: Normalised) -> list[KeywordHit]:
        hits = []
        for sym in self._symbols.find(norm.decoded):
            start, end = norm.decoded_starts[sym.start], norm.decoded_ends[sym.end - 1]
            kind = "emoticon" if sym.term in self.lexicon.emoticons else "emoji"
            notes = tuple(sorted(set(norm.notes_in(start, end)) & {"html"}))
            hits.append(
                KeywordHit(
                    term=sym.term,
                    emotion=sym.family,
                    kind="forbidden",
                    start=start,
                    end=end,
                    match=text[start:end],
                    normalised=(*notes, kind),
                )
            )
        return hits

    def _analyse(self, text: str) -> tuple[Normalised, list[Token], list[KeywordHit], set[int]]:
        norm = normalise(text)
        tokens = tokenize(norm)
        hits: list[KeywordHit] = []
        covered: set[int] = set()
        for i in range(len(tokens)):
            if i in covered:
                continue
            found = self._phrase_at(tokens, i, covered)
            if found is not None:
                entry, j = found
                covered.update(range(i, j))
                kinds = tuple(t.joined for t in tokens[i:j])
                hits.append(self._hit(entry, text, norm, tokens[i].start, tokens[j - 1].end, kinds))
        hits += self._token_hits(text, norm, tokens, covered)
        hits += self._run_hits(text, norm, tokens, covered)
        hits += self._symbol_hits(text, norm)
        hits.sort(key=lambda h: (h.start, h.end))
        return norm, tokens, hits, covered

    def find(self, text: str) -> list[KeywordHit]:
        """Every forbidden and expressive keyword in ``text``, in order of position."""
        return self._analyse(text)[2]

    def screen(self, text: str) -> ScreenResult:
        """Hits, possible misspellings and mixed-script words in ``text``."""
        norm, tokens, hits, covered = self._analyse(text)
        near = []
        for i, tok in enumerate(tokens):
            if i in covered or tok.norm in self._never:
                continue
            first = norm.text[tok.start : tok.end]
            if i > 0 and not tok.boundary_before and first[:1].isupper() and not first.isupper():
                continue  # a capitalised word inside a clause is a name
            if len(tok.pieces) > 1 and all(
                len(p.raw) > 2 and self._spelling.is_word(p.raw.lower()) for p in tok.pieces
            ):
                continue  # a compound of real words ("year-end"), not a split misspelling
            found = self._spelling.near(tok.norm)
            if found is not None:
                start, end = norm.span(tok.start, tok.end)
                near.append(
                    NearMiss(
                        term=found[0], emotion=found[1], distance=found[2], start=start, end=end, match=text[start:end]
                    )
                )
        mixed = [
            MixedScriptWord(start=n.start, end=n.end, match=text[n.start : n.end])
            for n in norm.notes
            if n.kind == "mixed-script"
        ]
        return ScreenResult(hits=hits, near_misses=near, mixed_script=mixed)


@lru_cache(maxsize=1)
def get_screen() -> Screen:
    """The screen compiled from the packaged lexicon (cached per process)."""
    return Screen(load_lexicon())


def find_keywords(text: str) -> list[KeywordHit]:
    """Screen one text with the packaged lexicon."""
    return get_screen().find(text)


def screen_text(text: str) -> ScreenResult:
    """Hits, possible misspellings and mixed-script words in one text, with the packaged lexicon."""
    return get_screen().screen(text)
