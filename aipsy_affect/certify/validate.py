"""Item-level validation: well-formedness, the keyword screen and the three defense methods (``aipsy-affect validate``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from aipsy_affect.battery.schema import MAIN_SPLITS, ItemDraft
from aipsy_affect.defense.classifier import LEAKAGE_THRESHOLD, ClassifierOutput
from aipsy_affect.defense.emolex import LexiconScores
from aipsy_affect.defense.vader import VaderScores
from aipsy_affect.keywords.screen import KeywordHit, get_screen

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

    vader: VaderScores | None = None
    """Method 1, VADER (neg, neu, pos, compound, the tokens that carried them); ``None`` under ``--no-model``."""

    nrc: LexiconScores | None = None
    """Method 2, NRC EmoLex (category counts, hit rate, top category); ``None`` under ``--no-model``."""

    classifier: ClassifierOutput | None = None
    """Method 3, the contextual classifier (label, p_emotional, probs); ``None`` under ``--no-model``."""


def validate_item(item: ItemDraft, *, strict: bool = False, vader: VaderScores | None = None,
                  nrc: LexiconScores | None = None, classifier: ClassifierOutput | None = None) -> ItemReport:
    """Apply the lexical rules to one item, and the leakage rule when the classifier's output is given.

    Leakage: an item with an emotion (keyword twins excepted, they name it on purpose) whose classifier label is
    that emotion with ``confidence >= LEAKAGE_THRESHOLD``: the words give the category away. A warning, a
    failing ``classifier_leakage`` check under ``strict``.
    """
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
    if classifier is not None and item.emotion is not None and item.split != "keyword_twins":
        if classifier.label == item.emotion and classifier.confidence >= LEAKAGE_THRESHOLD:
            note = (f"classifier leakage: the classifier names the item's own emotion ({item.emotion}) with "
                    f"confidence {classifier.confidence:.2f} (threshold {LEAKAGE_THRESHOLD})"
                    + (f"; carried by: {classifier.evidence!r}" if classifier.evidence else ""))
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
        checks=checks,
        warnings=warnings,
        vader=vader,
        nrc=nrc,
        classifier=classifier,
    )


def highlight(text: str, hits: list[KeywordHit], width: int = 40) -> list[str]:
    """One line per hit: the word in brackets with some context on each side."""
    lines = []
    for h in hits:
        left = text[max(0, h.start - width) : h.start].replace("\n", " ")
        right = text[h.end : h.end + width].replace("\n", " ")
        lines.append(f"...{left}[{text[h.start:h.end]}]{right}...  ({h.emotion}, chars {h.start}-{h.end})")
    return lines
