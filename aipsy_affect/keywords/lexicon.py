"""The emotion-keyword lexicon: versioned data in ``resources/emotion_keywords.json``.

Inclusion rules and the polysemy policy are written down in ``validation/LEXICON.md``.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

LEXICON_RESOURCE = "emotion_keywords.json"
Kind = Literal["forbidden", "expressive"]
NEAR_WINDOW = 3


class Family(BaseModel):
    """The terms of one emotion family."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    forbidden: tuple[str, ...]
    """Emotion names, inner-state words and their word family: any hit fails an item."""

    expressive: tuple[str, ...] = ()
    """Words for visible expression (cried, laughed, ...): reported and counted, never failed."""


class ContextRule(BaseModel):
    """When a listed term does *not* count as a keyword (polysemy policy)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    only_after: tuple[str, ...] | str | None = None
    """The term counts only right after one of these words (or a named ``@context`` list)."""

    only_before: tuple[str, ...] | str | None = None
    """The term counts only right before one of these words (or a named ``@context`` list); ``.`` stands for
    punctuation or the end of the text."""

    unless_prev: tuple[str, ...] = ()
    """The term does not count right after one of these words (``.``: after punctuation or at the start)."""

    unless_next: tuple[str, ...] = ()
    """The term does not count right before one of these words."""

    unless_near: tuple[str, ...] = ()
    """The term does not count when one of these words stands within ``NEAR_WINDOW`` words either side."""

    why: str = ""
    """The sense the rule excludes, for the documentation."""


class Lexicon(BaseModel):
    """The whole lexicon file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """Human-readable name."""

    version: str
    """Semantic version; bump it whenever a term or rule changes."""

    documentation: str
    """Where the inclusion rules are written down."""

    families: dict[str, Family]
    """Emotion family -> terms. Plutchik's eight plus other inner states and generic affect words."""

    plutchik: dict[str, str]
    """Family -> Plutchik primary emotion, for the families that are one."""

    rules: dict[str, ContextRule]
    """Context rules for polysemous terms, keyed by the listed term."""

    contexts: dict[str, tuple[str, ...]]
    """Named word lists that rules refer to as ``@name``."""

    never: tuple[str, ...] = Field(default=())
    """Tokens that are never keywords although they stem like one (scarecrow, moped, gladiator)."""

    exact_only: tuple[str, ...] = Field(default=())
    """Terms matched as listed only, never through the stemmer (their stem is shared with unrelated words)."""

    emoticons: dict[str, str] = Field(default_factory=dict)
    """Emoticon -> family (``:(`` -> sadness); matched whole, between spaces or punctuation."""

    emoji_names: dict[str, str] = Field(default_factory=dict)
    """Words of an emoji's CLDR name -> family, for names that carry no lexicon keyword (``red heart`` -> love)."""

    not_misspellings: tuple[str, ...] = Field(default=())
    """Real words that lie within the misspelling distance of a forbidden term and are not in the word list."""

    @model_validator(mode="after")
    def _check(self) -> Lexicon:
        seen: dict[str, str] = {}
        for fam, family in self.families.items():
            for term in family.forbidden + family.expressive:
                if term != term.lower().strip():
                    raise ValueError(f"term {term!r} in family {fam!r} must be lower-case and stripped")
                if term in seen and seen[term] != fam:
                    raise ValueError(f"term {term!r} is listed in both {seen[term]!r} and {fam!r}")
                seen[term] = fam
        known = {k.lstrip("@") for k in self.contexts}
        for term, rule in self.rules.items():
            if term not in seen:
                raise ValueError(f"rule for {term!r}, which is not a listed term")
            for ref in (rule.only_after, rule.only_before):
                if isinstance(ref, str) and ref.lstrip("@") not in known:
                    raise ValueError(f"rule for {term!r} refers to unknown context {ref!r}")
        families = set(self.families)
        for table in (self.emoticons, self.emoji_names):
            for key, fam in table.items():
                if fam not in families:
                    raise ValueError(f"{key!r} maps to unknown family {fam!r}")
        return self

    def context(self, ref: tuple[str, ...] | str) -> frozenset[str]:
        """Resolve a rule's word list or ``@context`` reference."""
        if isinstance(ref, str):
            return frozenset(self.contexts[ref] if ref in self.contexts else self.contexts["@" + ref.lstrip("@")])
        return frozenset(ref)

    def terms(self, kind: Kind | None = None) -> list[tuple[str, str, Kind]]:
        """All (term, family, kind) triples."""
        out: list[tuple[str, str, Kind]] = []
        for fam, family in self.families.items():
            if kind in (None, "forbidden"):
                out += [(t, fam, "forbidden") for t in family.forbidden]
            if kind in (None, "expressive"):
                out += [(t, fam, "expressive") for t in family.expressive]
        return out


def lexicon_bytes() -> bytes:
    """The raw lexicon file, as packaged."""
    return resources.files("aipsy_affect").joinpath("resources").joinpath(LEXICON_RESOURCE).read_bytes()


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """Load and validate the packaged lexicon (cached)."""
    return Lexicon.model_validate(json.loads(lexicon_bytes()))


def lexicon_sha256() -> str:
    """Hash of the lexicon file, stamped on every screen result."""
    return hashlib.sha256(lexicon_bytes()).hexdigest()


def rules_markdown(lexicon: Lexicon | None = None) -> str:
    """The polysemy rules as a Markdown table (embedded in validation/LEXICON.md; a test keeps it current)."""
    lexicon = lexicon or load_lexicon()
    family = {term: fam for term, fam, _ in lexicon.terms()}
    rows = ["| term | family | counts only | does not count | why |", "|---|---|---|---|---|"]
    for term, rule in sorted(lexicon.rules.items()):
        only = []
        if rule.only_after is not None:
            ref = rule.only_after
            only.append(f"after {ref}" if isinstance(ref, str) else "after " + "/".join(ref))
        if rule.only_before is not None:
            ref = rule.only_before
            only.append(f"before {ref}" if isinstance(ref, str) else "before " + "/".join(ref))
        never = []
        if rule.unless_prev:
            never.append("after " + "/".join(rule.unless_prev))
        if rule.unless_next:
            never.append("before " + "/".join(rule.unless_next))
        if rule.unless_near:
            never.append(f"within {NEAR_WINDOW} words of " + "/".join(rule.unless_near))
        rows.append(f"| {term} | {family[term]} | {'; '.join(only) or '-'} | {'; '.join(never) or '-'} | {rule.why} |")
    return "\n".join(rows) + "\n"
