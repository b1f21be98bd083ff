"""Undo disguise before the keyword screen matches, keeping a map back to the original text.

``normalise(text)`` returns the text the screen reads, with, for every character of it, the span of the
original text it came from, and a note for every change made (so a hit can say what had to be undone to
see it). The steps, in order:

1. **HTML**: character references (``&#97;``, ``&eacute;``) are decoded; tags are removed (inline tags, so
   ``<b>an</b>gry`` reads ``angry``) or read as a space (block tags such as ``<br>`` and ``<p>``).
   Emoji are found on this text, before step 2 removes the joiners and variation selectors they are built of.
2. **Default-ignorable code points** (the Unicode property: soft hyphen, zero-width spaces and joiners, word
   joiner, BOM, Mongolian vowel separator, combining grapheme joiner, directional marks and overrides, variation
   selectors, tag characters, ...) are removed.
3. **NFKC** per base character and its combining marks (full-width letters, mathematical alphanumerics,
   ligatures such as ``ﬁ``), then **combining marks are stripped** (``İ`` -> ``I``, ``fu\u0301rious`` -> ``furious``).
4. **Homoglyphs**: a letter outside ASCII that a maintained confusables table (``confusable-homoglyphs``, from
   Unicode's confusables.txt) lists as a look-alike of a Latin letter is replaced by it (Cyrillic ``а``,
   Greek ``ο``, dotless ``ı``); Latin small capitals fold to their letter. A word whose letters come from more
   than one script is reported as mixed-script.

Pure-ASCII text without ``&`` or ``<`` takes a fast path; the two tables load only when a text needs them.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

# Default_Ignorable_Code_Point, from Unicode's DerivedCoreProperties.txt (stable since Unicode 5.2).
_IGNORABLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_IGNORABLE_CLASS = "".join(
    re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in _IGNORABLE_RANGES
)
_IGNORABLE = re.compile(f"[{_IGNORABLE_CLASS}]")

_HTML = re.compile(
    r"<!--.*?-->"
    r"|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"
    r"|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?",
    re.DOTALL,
)
_BLOCK_TAG = re.compile(r"</?(?:br|p|div|li|ul|ol|tr|td|th|table|h[1-6]|blockquote|hr|section|article)\b", re.I)
_SMALL_CAPITAL = "LATIN LETTER SMALL CAPITAL "

NoteKind = str
"""``html``, ``ignorable``, ``nfkc``, ``diacritic``, ``homoglyph`` or ``mixed-script``."""


@dataclass(frozen=True)
class Note:
    """One change the normaliser made, as a span of the original text."""

    kind: NoteKind
    start: int
    end: int


@dataclass
class Normalised:
    """The text the screen reads, and where each of its characters came from."""

    text: str
    """The normalised text (case kept)."""

    starts: list[int]
    """``starts[i]``: offset in the original text of the first character that produced ``text[i]``."""

    ends: list[int]
    """``ends[i]``: offset just past the last original character that produced ``text[i]``."""

    decoded: str
    """The text after step 1 only (HTML decoded): emoji are looked for here."""

    decoded_starts: list[int]
    """Original start offset of each character of ``decoded``."""

    decoded_ends: list[int]
    """Original end offset of each character of ``decoded``."""

    notes: list[Note] = field(default_factory=list)
    """Every change made, in order of position."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of ``text[start:end]`` (``end > start``)."""
        return self.starts[start], self.ends[end - 1]

    def notes_in(self, start: int, end: int) -> list[str]:
        """The kinds of change made inside the original span ``[start, end)``, each once."""
        return sorted({n.kind for n in self.notes if n.start < end and n.end > start})


def is_ignorable(ch: str) -> bool:
    """Whether ``ch`` is a default-ignorable code point."""
    return _IGNORABLE.fullmatch(ch) is not None


def ignorable_code_points() -> list[str]:
    """Every default-ignorable code point (for tests)."""
    return [chr(c) for a, b in _IGNORABLE_RANGES for c in range(a, b + 1)]


@lru_cache(maxsize=1)
def _confusables() -> dict[str, Any]:
    from confusable_homoglyphs.confusables import confusables_data

    return confusables_data  # type: ignore[no-any-return]


@lru_cache(maxsize=4096)
def script_of(ch: str) -> str:
    """The script alias of a character (``LATIN``, ``CYRILLIC``, ``GREEK``, ``COMMON``, ...)."""
    if ch.isascii():
        return "LATIN" if ch.isalpha() else "COMMON"
    from confusable_homoglyphs.categories import alias

    return str(alias(ch))


@lru_cache(maxsize=4096)
def latin_fold(ch: str) -> str | None:
    """The ASCII letter that ``ch`` is a look-alike of, or ``None``."""
    if ch.isascii() or not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    if name.startswith(_SMALL_CAPITAL) and len(name) == len(_SMALL_CAPITAL) + 1:
        return name[-1].lower()
    for entry in _confusables().get(ch, ()):
        target = entry.get("c", "")
        if len(target) == 1 and target.isascii() and target.isalpha():
            return str(target)
    return None


def _decode_html(text: str) -> tuple[list[str], list[int], list[int], list[Note]]:
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    notes: list[Note] = []
    pos = 0
    for m in _HTML.finditer(text):
        for i in range(pos, m.start()):
            chars.append(text[i])
            starts.append(i)
            ends.append(i + 1)
        raw = m.group()
        if raw.startswith("&"):
            decoded = html.unescape(raw)
            if decoded == raw:
                decoded_chars = list(raw)
            else:
                decoded_chars = list(decoded)
                notes.append(Note("html", m.start(), m.end()))
            chars += decoded_chars
            starts += [m.start()] * len(decoded_chars)
            ends += [m.end()] * len(decoded_chars)
        else:
            notes.append(Note("html", m.start(), m.end()))
            if _BLOCK_TAG.match(raw):
                chars.append(" ")
                starts.append(m.start())
                ends.append(m.end())
        pos = m.end()
    for i in range(pos, len(text)):
        chars.append(text[i])
        starts.append(i)
        ends.append(i + 1)
    return chars, starts, ends, notes


def _clusters(chars: list[str]) -> list[tuple[int, int]]:
    # A base character and the combining marks after it normalise together.
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(chars):
        j = i + 1
        while j < len(chars) and unicodedata.combining(chars[j]):
            j += 1
        out.append((i, j))
        i = j
    return out


def _mixed_script_notes(text: str, starts: list[int], ends: list[int]) -> list[Note]:
    notes = []
    for m in re.finditer(r"[^\W\d_]+", text):
        word = m.group()
        if word.isascii():
            continue
        scripts = {script_of(c) for c in word} - {"COMMON", "INHERITED", "Unknown"}
        if len(scripts) > 1:
            notes.append(Note("mixed-script", starts[m.start()], ends[m.end() - 1]))
    return notes


def normalise(text: str) -> Normalised:
    """Normalise ``text`` for matching (see the module docstring); never raises on any string."""
    if text.isascii() and "&" not in text and "<" not in text:
        offsets = list(range(len(text)))
        ends = [i + 1 for i in offsets]
        return Normalised(text, offsets, ends, text, offsets, ends)
    chars, starts, ends, notes = _decode_html(text)
    decoded = "".join(chars)
    dec_starts, dec_ends = list(starts), list(ends)

    kept = [k for k, c in enumerate(chars) if not is_ignorable(c)]
    if len(kept) != len(chars):
        notes += [Note("ignorable", starts[k], ends[k]) for k, c in enumerate(chars) if is_ignorable(c)]
        chars = [chars[k] for k in kept]
        starts = [starts[k] for k in kept]
        ends = [ends[k] for k in kept]

    out_chars: list[str] = []
    out_starts: list[int] = []
    out_ends: list[int] = []
    for i, j in _clusters(chars):
        cluster = "".join(chars[i:j])
        start, end = starts[i], ends[j - 1]
        if cluster.isascii():
            out = cluster
        else:
            out = unicodedata.normalize("NFKC", cluster)
            if out != cluster:
                notes.append(Note("nfkc", start, end))
            stripped = "".join(c for c in unicodedata.normalize("NFD", out) if not unicodedata.combining(c))
            if stripped != unicodedata.normalize("NFD", out):
                notes.append(Note("diacritic", start, end))
            out = unicodedata.normalize("NFC", stripped)
        out_chars += list(out)
        out_starts += [start] * len(out)
        out_ends += [end] * len(out)
    nfkc_text = "".join(out_chars)
    notes += _mixed_script_notes(nfkc_text, out_starts, out_ends)

    for k, c in enumerate(out_chars):
        folded = latin_fold(c)
        if folded is not None:
            out_chars[k] = folded.upper() if c.isupper() else folded
            notes.append(Note("homoglyph", out_starts[k], out_ends[k]))
    notes.sort(key=lambda n: (n.start, n.end, n.kind))
    return Normalised("".join(out_chars), out_starts, out_ends, decoded, dec_starts, dec_ends, notes)
