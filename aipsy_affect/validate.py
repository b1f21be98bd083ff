"""Item-level validation: well-formedness and the keyword screen (``aipsy-affect validate``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .schema import MAIN_SPLITS, ItemDraft
from .screen import KeywordHit, get_screen

MIN_VIGNETTE_WORDS = 80
MAX_VIGNETTE_WORDS = 130


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

    checks: list[Check]
    """Every rule applied, passed or not."""

    warnings: list[str] = Field(default_factory=list)
    """Things worth a look that do not fail the item (a failure under ``--strict``)."""


def validate_item(item: ItemDraft, *, strict: bool = False) -> ItemReport:
    """Apply the lexical rules to one item."""
    hits = get_screen().find(item.text)
    keywords = [h for h in hits if h.kind == "forbidden"]
    expressive = [h for h in hits if h.kind == "expressive"]
    checks: list[Check] = []
    warnings: list[str] = []
    if item.split == "keyword_twins":
        own = [h for h in keywords if h.emotion == item.emotion]
        checks.append(Check(
            name="twin_keyword", passed=bool(own),
            message="" if own else f"a keyword twin must name its emotion ({item.emotion}) with a lexicon keyword",
        ))
    else:
        checks.append(Check(
            name="keywords", passed=not keywords,
            message="" if not keywords else "emotion keywords: " + ", ".join(
                f"{h.match!r} ({h.emotion}, {h.start}-{h.end})" for h in keywords),
        ))
    if item.split in MAIN_SPLITS:
        ok = MIN_VIGNETTE_WORDS <= item.word_count <= MAX_VIGNETTE_WORDS
        checks.append(Check(
            name="length", passed=ok,
            message="" if ok else f"{item.word_count} words; battery items have "
                                  f"{MIN_VIGNETTE_WORDS} to {MAX_VIGNETTE_WORDS}",
        ))
    if expressive:
        note = "expressive-behaviour words: " + ", ".join(f"{h.match!r} ({h.emotion})" for h in expressive)
        if strict:
            checks.append(Check(name="expressive", passed=False, message=note))
        else:
            warnings.append(note)
    return ItemReport(
        id=item.id,
        passed=all(c.passed for c in checks),
        word_count=item.word_count,
        keywords=keywords,
        expressive=expressive,
        checks=checks,
        warnings=warnings,
    )


def highlight(text: str, hits: list[KeywordHit], width: int = 40) -> list[str]:
    """One line per hit: the word in brackets with some context on each side."""
    lines = []
    for h in hits:
        left = text[max(0, h.start - width) : h.start].replace("\n", " ")
        right = text[h.end : h.end + width].replace("\n", " ")
        lines.append(f"...{left}[{text[h.start:h.end]}]{right}...  ({h.emotion}, chars {h.start}-{h.end})")
    return lines
