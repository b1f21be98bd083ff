"""Emoji and emoticons that express an emotion: forbidden keywords, mapped to an emotion family.

An emoji's family comes from its CLDR short name (the ``emoji`` package): first the lexicon's ``emoji_names``
table (for names that carry no keyword, such as "red heart" or "face with steam from nose"; longest entry
first), then the keyword screen run on the name itself ("enraged face" -> anger, "face screaming in fear" ->
fear). Emoji whose name names no emotion (thumbs up, skull) are not keywords. Emoticons are listed in the
lexicon (``emoticons``) and count only as a whole, between spaces or punctuation, so ``http://`` and ``(8)``
are not faces.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from aipsy_affect.keywords.lexicon import Lexicon

_EMOJI_HINT = re.compile(r"[\u2190-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff]")


@dataclass(frozen=True)
class Symbol:
    """An emoji or emoticon found in the decoded text."""

    term: str
    """The CLDR name of the emoji (``enraged face``) or the emoticon as listed (``:(``)."""

    family: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _emoji_data() -> dict[str, dict[str, object]]:
    import emoji

    return emoji.EMOJI_DATA  # type: ignore[no-any-return]


def emoji_name(sequence: str) -> str | None:
    """The CLDR short name of an emoji sequence (skin tones and variation selectors ignored), or ``None``."""
    data = _emoji_data()
    for candidate in (sequence, re.sub("[\ufe0f\ufe0e\U0001f3fb-\U0001f3ff]", "", sequence)):
        entry = data.get(candidate) or data.get(candidate + "\ufe0f")
        if entry and isinstance(entry.get("en"), str):
            return str(entry["en"]).strip(":").replace("_", " ").lower()
    return None


class SymbolFinder:
    """Finds emotion emoji and emoticons; ``name_family`` maps a CLDR name to a family through the screen."""

    def __init__(self, lexicon: Lexicon, name_family: Callable[[str], str | None]) -> None:
        self._names = sorted(lexicon.emoji_names.items(), key=lambda kv: -len(kv[0]))
        self._name_family = name_family
        self._emoticons = dict(lexicon.emoticons)
        alternatives = "|".join(re.escape(e) for e in sorted(self._emoticons, key=len, reverse=True))
        self._emoticon_re = re.compile(rf"(?<![^\s.,;!?(\[\"'])(?:{alternatives})(?![^\s.,;!?)\]\"'])")

    @lru_cache(maxsize=2048)  # noqa: B019 - one finder per process (get_screen caches it)
    def family_of(self, name: str) -> str | None:
        """The emotion family an emoji name expresses, or ``None``."""
        padded = f" {name} "
        for words, family in self._names:
            if f" {words} " in padded:
                return family
        return self._name_family(name)

    def find(self, decoded: str) -> list[Symbol]:
        """Emotion emoji and emoticons in ``decoded``, as spans of it."""
        out = [
            Symbol(m.group(), self._emoticons[m.group()], m.start(), m.end())
            for m in self._emoticon_re.finditer(decoded)
        ]
        if _EMOJI_HINT.search(decoded):
            import emoji

            for found in emoji.emoji_list(decoded):
                name = emoji_name(found["emoji"])
                family = self.family_of(name) if name else None
                if family is not None:
                    out.append(Symbol(str(name), family, found["match_start"], found["match_end"]))
        return sorted(out, key=lambda s: (s.start, s.end))
