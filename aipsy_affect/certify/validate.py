"""Item-level validation: well-formedness, the keyword screen and the three defense methods (``aipsy-affect validate``)."""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, ConfigDict, Field

from aipsy_affect.battery.schema import MAIN_SPLITS, MAX_TEXT_CHARS, MAX_WORDS, ItemDraft
from aipsy_affect.defense.classifier import LEAKAGE_THRESHOLD, ClassifierOutput
from aipsy_affect.defense.emolex import LexiconScores
from aipsy_affect.defense.vader import VaderScores
from aipsy_affect.keywords.screen import KeywordHit, MixedScriptWord, NearMiss, get_screen

MIN_VIGNETTE_WORDS = 80
MAX_VIGNETTE_WORDS = 130
#: Refused in item text: C0 controls but tab, line feed and carriage return; DEL; C1 controls but U+0085 (NEL, a
#: line break like U+2028); bidirectional embeddings, overrides and isolates (they reorder what a reader sees).
FORBIDDEN_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class Check(BaseModel):
    """The verdict of one rule on one item."""

    model_config = ConfigDict(extra="forbid")

    name: str
    """Short rule name (``keywords``, ``length``, ``twin_keyword``, ``expressive``, ...)."""

    passed: bool
    """Whether the item satisfies the rule."""

    message: str = ""
    """What is wrong, in words, when it is not."""


class ItemReport(BaseModel):
    """Everything ``validate`` learned about one item."""

    model_config = ConfigDict(extra="forbid")

    id: str
    """The item's id."""

    passed: bool
    """True when every check passed."""

    word_count: int
    """Whitespace-separated words."""

    keywords: list[KeywordHit]
    """Forbidden emotion keywords found (term, emotion family, start, end)."""

    expressive: list[KeywordHit]
    """Expressive-behaviour words found; reported, failing only under ``--strict``."""

    near_misses: list[NearMiss] = Field(default_factory=list)
    """Possible misspellings of forbidden terms (``angery``); a warning, failing under ``--strict``."""

    mixed_script: list[MixedScriptWord] = Field(default_factory=list)
    """Words mixing scripts (a Cyrillic ``а`` in a Latin word); a warning, failing under ``--strict``."""

    checks: list[Check]
    """Every rule applied, passed or not."""

    warnings: list[str] = Field(default_factory=list)
    """Things worth a look that do not fail the item (a failure under ``--strict``)."""

    vader: VaderScores | None = None
    """Method 1, VADER (neg, neu, pos, compound, the tokens that carried them); ``None`` under ``--no-model``."""

    nrc: LexiconScores | None = None
    """Method 2, NRC EmoLex (category counts, hit rate, top category); ``None`` under ``--no-model``."""

    classifier: ClassifierOutput | None = None
    """Method 3, the contextual classifier (label, p_emotional, probs); ``None`` under ``--no-model``."""


def validate_item(
    item: ItemDraft,
    *,
    strict: bool = False,
    vader: VaderScores | None = None,
    nrc: LexiconScores | None = None,
    classifier: ClassifierOutput | None = None,
) -> ItemReport:
    """Apply the lexical rules to one item, and the leakage rule when the classifier's output is given.

    Leakage: an item with an emotion (keyword twins excepted, they name it on purpose) whose classifier label is
    that emotion with ``confidence >= LEAKAGE_THRESHOLD``: the words give the category away. A warning, a
    failing ``classifier_leakage`` check under ``strict``.
    """
    checks = policy_checks(item.text)
    warnings: list[str] = []
    # Over the character cap the char_limit check has failed the item; screening a megabyte would only cost time.
    result = get_screen().screen(item.text) if len(item.text) <= MAX_TEXT_CHARS else None
    hits = result.hits if result is not None else []
    keywords = [h for h in hits if h.kind == "forbidden"]
    expressive = [h for h in hits if h.kind == "expressive"]
    if result is None:
        pass
    elif item.split == "keyword_twins":
        own = [h for h in keywords if h.emotion == item.emotion]
        checks.append(
            Check(
                name="twin_keyword",
                passed=bool(own),
                message="" if own else f"a keyword twin must name its emotion ({item.emotion}) with a lexicon keyword",
            )
        )
    else:
        checks.append(
            Check(
                name="keywords",
                passed=not keywords,
                message=""
                if not keywords
                else "emotion keywords: "
                + ", ".join(
                    f"{h.match!r} ({h.emotion}, {h.start}-{h.end}"
                    + (f"; {'/'.join(h.normalised)}" if h.normalised else "")
                    + ")"
                    for h in keywords
                ),
            )
        )
    near = result.near_misses if result is not None else []
    # The item's own protagonist is a name the author declared, not a misspelling ("Anders" is not "angers").
    near = [m for m in near if not (item.protagonist and m.match.casefold() == item.protagonist.casefold())]
    mixed = result.mixed_script if result is not None else []
    for name, found, note in (
        (
            "misspelling",
            near,
            "possible misspellings of forbidden words: "
            + ", ".join(f"{n.match!r} (~{n.term}, {n.emotion})" for n in near),
        ),
        ("mixed_script", mixed, "words mixing scripts (homoglyphs?): " + ", ".join(repr(m.match) for m in mixed)),
    ):
        if found:
            if strict:
                checks.append(Check(name=name, passed=False, message=note))
            else:
                warnings.append(note)
    if item.split in MAIN_SPLITS:
        ok = MIN_VIGNETTE_WORDS <= item.word_count <= MAX_VIGNETTE_WORDS
        checks.append(
            Check(
                name="length",
                passed=ok,
                message=""
                if ok
                else f"{item.word_count} words; battery items have {MIN_VIGNETTE_WORDS} to {MAX_VIGNETTE_WORDS}",
            )
        )
    if expressive:
        note = "expressive-behaviour words: " + ", ".join(f"{h.match!r} ({h.emotion})" for h in expressive)
        if strict:
            checks.append(Check(name="expressive", passed=False, message=note))
        else:
            warnings.append(note)
    if (
        classifier is not None
        and item.emotion is not None
        and item.split != "keyword_twins"
        and classifier.label == item.emotion
        and classifier.confidence >= LEAKAGE_THRESHOLD
    ):
        note = (
            f"classifier leakage: the classifier names the item's own emotion ({item.emotion}) with "
            f"confidence {classifier.confidence:.2f} (threshold {LEAKAGE_THRESHOLD})"
            + (f"; carried by: {classifier.evidence!r}" if classifier.evidence else "")
        )
        if strict:
            checks.append(Check(name="classifier_leakage", passed=False, message=note))
        else:
            warnings.append(note)
    return ItemReport(
        id=item.id,
        passed=all(c.passed for c in checks),
        word_count=item.word_count,
        keywords=keywords,
        expressive=expressive,
        near_misses=near,
        mixed_script=mixed,
        checks=checks,
        warnings=warnings,
        vader=vader,
        nrc=nrc,
        classifier=classifier,
    )


def policy_checks(text: str) -> list[Check]:
    """Checks on the text as such: word limit, character cap, control characters (failures of this item only)."""
    checks = []
    words = len(text.split())
    if words > MAX_WORDS:
        checks.append(
            Check(name="word_limit", passed=False, message=f"text has {words} words; the limit is {MAX_WORDS}")
        )
    if len(text) > MAX_TEXT_CHARS:
        checks.append(
            Check(
                name="char_limit",
                passed=False,
                message=f"text has {len(text)} characters; the limit is {MAX_TEXT_CHARS} (not screened for keywords)",
            )
        )
    bad = list(FORBIDDEN_CONTROLS.finditer(text))
    if bad:
        shown = ", ".join(f"U+{ord(m.group()):04X} at {m.start()}" for m in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        checks.append(
            Check(
                name="control_characters",
                passed=False,
                message=f"control or bidirectional-override characters in the text: {shown}{more}",
            )
        )
    return checks


def printable(text: str) -> str:
    """``text`` safe for a terminal: control, format and separator characters shown as ``\\uXXXX`` escapes."""
    if text.isascii() and text.isprintable():
        return text
    out = []
    for ch in text:
        if unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)


def json_safe(line: str) -> str:
    """A JSON text with every control, format and separator character written as a ``\\u`` escape (still JSON)."""
    out = []
    for ch in line:
        if not ch.isascii() and unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            code = ord(ch)
            if code > 0xFFFF:
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def highlight(text: str, hits: list[KeywordHit], width: int = 40) -> list[str]:
    """One line per hit: the word in brackets with some context on each side, safe for a terminal."""
    lines = []
    for h in hits:
        left = text[max(0, h.start - width) : h.start]
        right = text[h.end : h.end + width]
        word = text[h.start : h.end]
        flat = [printable(s.replace("\n", " ").replace("\r", " ").replace("\t", " ")) for s in (left, word, right)]
        how = f"; seen after undoing {'/'.join(h.normalised)}" if h.normalised else ""
        lines.append(f"...{flat[0]}[{flat[1]}]{flat[2]}...  ({h.emotion}, chars {h.start}-{h.end}{how})")
    return lines
