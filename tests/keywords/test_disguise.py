"""The screen against disguise (issue 11): Unicode tricks, split words, HTML, emoji, idioms, misspellings.

Every repro of the issue is a case here; hypothesis checks that inserting a default-ignorable character, a
homoglyph or a split into a forbidden word never makes it pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aipsy_affect.keywords.lexicon import load_lexicon
from aipsy_affect.keywords.normalise import ignorable_code_points, normalise
from aipsy_affect.keywords.screen import KeywordHit, MixedScriptWord, NearMiss, find_keywords, screen_text

ROOT = Path(__file__).resolve().parents[2]

# (text, family of the forbidden hit, a kind of normalisation the hit must report)
DISGUISED = [
    ("Ines was \uff46\uff55\uff52\uff49\uff4f\uff55\uff53.", "anger", "nfkc"),  # full-width
    ("Ines was \U0001d41f\U0001d42e\U0001d42b\U0001d422\U0001d428\U0001d42e\U0001d42c.", "anger", "nfkc"),  # math bold
    ("a terri\ufb01ed child", "fear", "nfkc"),  # the fi ligature pasted from a PDF
    ("\u0130NES WAS FUR\u0130OUS", "anger", "diacritic"),  # Turkish dotted capital I
    ("she was fu\u0301rious", "anger", "diacritic"),  # combining acute
    ("fu\u2060rious", "anger", "ignorable"),
    ("fu\ufeffrious", "anger", "ignorable"),
    ("fu\u180erious", "anger", "ignorable"),
    ("fu\u034frious", "anger", "ignorable"),
    ("fu\u200erious", "anger", "ignorable"),
    ("fu\u200frious", "anger", "ignorable"),
    ("fu\U000e0041rious", "anger", "ignorable"),
    ("fu\ufe0frious", "anger", "ignorable"),
    ("fu\u00adrious", "anger", "ignorable"),
    ("fu\u200brious", "anger", "ignorable"),
    ("he was sc\u0430red", "fear", "homoglyph"),  # Cyrillic a
    ("f\u03bfr: fur\u03b9\u03bfus", "anger", "homoglyph"),  # Greek omicron
    ("\u1d00\u0274\u0262\u0280\u028f", "anger", "homoglyph"),  # small capitals
    ("terr\u0131f\u0131ed", "fear", "homoglyph"),  # dotless i
    ("\u0455\u0441\u0430r\u0435d", "fear", "homoglyph"),  # mostly Cyrillic
    ("fur-\nious", "anger", "hyphenation"),
    ("fur- ious", "anger", "hyphenation"),
    ("fur\u2013ious", "anger", "split"),
    ("fur\u2014ious", "anger", "split"),
    ("fur\u2212ious", "anger", "split"),
    ("fur/ious", "anger", "split"),
    ("fur.ious", "anger", "split"),
    ("fur'ious", "anger", "split"),
    ("fur\u2019ious", "anger", "split"),
    ("fur`ious", "anger", "split"),
    ("fur_ious", "anger", "split"),
    ("f*rious", "anger", "wildcard"),
    ("furi*us", "anger", "wildcard"),
    ("a n g r y", "anger", "spaced"),
    ("she was s a d", "sadness", "spaced"),
    ("a.n.g.r.y", "anger", "split"),
    ("a-n-g-r-y", "anger", "split"),
    ("4ngry", "anger", "leet"),
    ("fur1ous", "anger", "leet"),
    ("t3rr1f13d", "fear", "leet"),
    ("&#97;ngry", "anger", "html"),
    ("&#x61;ngry", "anger", "html"),
    ("<b>an</b>gry", "anger", "html"),
    ("fu<i>ri</i>ous", "anger", "html"),
    ("was-fur-ious", "anger", "split"),
]


@pytest.mark.parametrize(("text", "family", "how"), DISGUISED)
def test_disguised_keyword_is_caught_and_explained(text: str, family: str, how: str) -> None:
    hits = [h for h in find_keywords(text) if h.kind == "forbidden"]
    assert hits, f"{text!r} passed the screen"
    hit = hits[-1]
    assert hit.emotion == family
    assert how in hit.normalised, hit
    assert text[hit.start : hit.end] == hit.match


def test_offsets_point_into_the_original_text() -> None:
    text = "<p>Later</p> Ines&#39;s neighbour was in\u2010fu\u200briated &amp; sc\u0430red."
    hits = find_keywords(text)
    assert [(h.term, text[h.start : h.end]) for h in hits] == [
        ("infuriated", "in\u2010fu\u200briated"),
        ("scared", "sc\u0430red"),
    ]


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("I am \U0001f621", "anger"),
        ("so \U0001f622", "sadness"),
        ("\U0001f631!", "fear"),
        ("\u2764\ufe0f you", "love"),
        ("\u2764 you", "love"),
        ("\U0001f92e", "disgust"),
        ("\U0001f632", "surprise"),
        ("\U0001f602", "joy"),
        ("\U0001f494", "sadness"),
        ("\u2639\ufe0f", "sadness"),
        ("&#128545;", "anger"),
        ("so sad :(", "sadness"),
        ("see you :)", "joy"),
        ("nice :-D", "joy"),
        ("hmm >:(", "anger"),
        ("<3 always", "love"),
        ("oh :O", "surprise"),
        ("T_T", "sadness"),
    ],
)
def test_emoji_and_emoticons_are_forbidden_keywords(text: str, family: str) -> None:
    hits = [h for h in find_keywords(text) if h.kind == "forbidden"]
    assert hits and hits[-1].emotion == family, hits


@pytest.mark.parametrize(
    "text",
    [
        "The thumbs \U0001f44d came back.",
        "See https://example.org/a:b for details.",
        "Take item (8) and item (9).",
        "The ratio was 3:2.",
        "She wrote f(x) = y.",
        "Plan D: move the desks.",
        "Room 101 is free.",
    ],
)
def test_neutral_symbols_are_not_keywords(text: str) -> None:
    assert find_keywords(text) == []


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("Ines saw red.", "anger"),
        ("He kept seeing red when he thought of it.", "anger"),
        ("Her heart sank.", "sadness"),
        ("His blood boiled.", "anger"),
        ("Their blood ran cold.", "fear"),
        ("It broke her heart.", "sadness"),
        ("It broke Ines's heart.", "sadness"),
        ("It broke Ines\u2019s heart.", "sadness"),
        ("a lump in my throat", "sadness"),
        ("a lump in the throat", "sadness"),
        ("butterflies in his stomach", "fear"),
        ("It made my skin crawl.", "disgust"),
        ("Her skin crawled.", "disgust"),
        ("She blew her top.", "anger"),
        ("He lost his temper.", "anger"),
        ("They lost their temper.", "anger"),
        ("I lost my temper.", "anger"),
        ("You lost your temper.", "anger"),
        ("Ines lost Ines's temper.", "anger"),
        ("He got hot under the collar.", "anger"),
        ("She was over the moon.", "joy"),
        ("an over-the-moon grin", "joy"),
        ("a horror-struck face", "fear"),
        ("She was creeped out.", "fear"),
        ("He was pissed off.", "anger"),
        ("She was ticked off.", "anger"),
        ("He was bummed.", "sadness"),
        ("She was stoked.", "joy"),
        ("He was psyched.", "anticipation"),
        ("She was gutted.", "sadness"),
        ("He was crushed.", "sadness"),
        ("He felt crushed by the news.", "generic"),
        ("She was sick to her stomach.", "disgust"),
        ("He was unafraid.", "fear"),
        ("She walked on unafraid.", "fear"),
    ],
)
def test_idioms_and_slang_with_any_possessive(text: str, family: str) -> None:
    hits = [h for h in find_keywords(text) if h.kind == "forbidden"]
    assert hits and hits[0].emotion == family, hits


@pytest.mark.parametrize(
    "text",
    [
        "He saw red lights on the bridge.",
        "She crushed the garlic.",
        "The fire gutted the building.",
        "He stoked the stove.",
        "He ticked off the items on the list.",
        "He bummed a cigarette.",
        "Her heart rate sank to fifty.",
    ],
)
def test_idioms_leave_literal_senses_alone(text: str) -> None:
    assert [h for h in find_keywords(text) if h.kind == "forbidden"] == []


@pytest.mark.parametrize(
    ("word", "family"),
    [
        ("wow", "surprise"),
        ("Wow!", "surprise"),
        ("yay", "joy"),
        ("hooray", "joy"),
        ("ugh", "disgust"),
        ("OMG", "surprise"),
    ],
)
def test_interjections_are_at_least_expressive(word: str, family: str) -> None:
    hits = find_keywords(f"She said {word} and left.")
    assert hits and hits[0].emotion == family and hits[0].kind in ("expressive", "forbidden")


@pytest.mark.parametrize(
    ("word", "term"),
    [
        ("angery", "angry"),
        ("furius", None),
        ("terified", "terrified"),
        ("suprised", "surprised"),
        ("greif", "grief"),
        ("joyfull", "joyful"),
        ("happpy", "happy"),
    ],
)
def test_misspellings_are_reported(word: str, term: str | None) -> None:
    result = screen_text(f"Tomas was {word} about it.")
    assert [h for h in result.hits if h.kind == "forbidden"] == []
    assert len(result.near_misses) == 1
    near = result.near_misses[0]
    assert near.match == word and (term is None or near.term == term)


@pytest.mark.parametrize(
    "text",
    [
        "The danger was real.",
        "She ate bread.",
        "A lorry passed.",
        "He wrote a brief.",
        "She kept the gear.",
        "The hanger was empty.",
        "He tried again.",
        "They robbed the bank.",
        "The nappy was changed.",
        "The van was parked by Anders.",
        "The heartbeat was steady.",
    ],
)
def test_real_words_are_not_misspellings(text: str) -> None:
    assert screen_text(text).near_misses == []


def test_mixed_script_words_are_reported() -> None:
    result = screen_text("The p\u0430rcel came; \u041c\u043e\u0441\u043a\u0432\u0430 is a city; na\u00efve is Latin.")
    assert [m.match for m in result.mixed_script] == ["p\u0430rcel"]


# --- properties ---------------------------------------------------------------------------------------------------

_LEX = load_lexicon()
_WORDS = sorted(
    t for t, _, k in _LEX.terms("forbidden") if t.isalpha() and t.isascii() and len(t) >= 4 and t not in _LEX.rules
)
_HOMOGLYPHS = {
    "a": "\u0430",
    "c": "\u0441",
    "e": "\u0435",
    "o": "\u03bf",
    "p": "\u0440",
    "x": "\u0445",
    "y": "\u0443",
    "i": "\u0456",
    "s": "\u0455",
    "j": "\u0458",
    "h": "\u04bb",
    "d": "\u0501",
}
_SPLITS = ["-", "\u2010", "\u2013", "\u2014", "\u2212", "/", ".", "'", "\u2019", "`", "_", "-\n", "- "]


def _flagged(text: str, word: str) -> bool:
    family = next(f for t, f, _ in _LEX.terms("forbidden") if t == word)
    return any(h.kind == "forbidden" and h.emotion == family for h in find_keywords(text))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_WORDS), st.sampled_from(ignorable_code_points()), st.integers(min_value=1))
def test_an_ignorable_character_never_hides_a_keyword(word: str, ch: str, pos: int) -> None:
    k = pos % (len(word) - 1) + 1
    assert _flagged(f"She was {word[:k]}{ch}{word[k:]} that day.", word)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_WORDS), st.data())
def test_a_homoglyph_never_hides_a_keyword(word: str, data: st.DataObject) -> None:
    swappable = [i for i, c in enumerate(word) if c in _HOMOGLYPHS]
    if not swappable:
        return
    chosen = data.draw(st.sets(st.sampled_from(swappable), min_size=1))
    disguised = "".join(_HOMOGLYPHS[c] if i in chosen else c for i, c in enumerate(word))
    assert _flagged(f"She was {disguised} that day.", word)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_WORDS), st.sampled_from(_SPLITS), st.integers(min_value=1))
def test_a_split_never_hides_a_keyword(word: str, sep: str, pos: int) -> None:
    k = pos % (len(word) - 1) + 1
    assert _flagged(f"She was {word[:k]}{sep}{word[k:]} that day.", word)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_normalise_maps_every_character_into_the_original(text: str) -> None:
    norm = normalise(text)
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    assert all(0 <= a < b <= len(text) for a, b in zip(norm.starts, norm.ends, strict=True))
    assert norm.starts == sorted(norm.starts)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=120))
def test_screen_never_crashes_and_offsets_hold(text: str) -> None:
    result = screen_text(text)
    spans: list[KeywordHit | NearMiss | MixedScriptWord] = [*result.hits, *result.near_misses, *result.mixed_script]
    for item in spans:
        assert 0 <= item.start < item.end <= len(text) and text[item.start : item.end] == item.match


# --- false positives and misses on real texts -------------------------------------------------------------------------


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_keyword_free_battery_texts_are_rarely_flagged() -> None:
    # The 480 keyword-free texts: at most 5% may draw any flag (keyword, possible misspelling, mixed script).
    rows = [
        r for s in ("clinical", "neutral", "moderate", "complex_neutral") for r in _rows(ROOT / "data" / f"{s}.jsonl")
    ]
    flagged = []
    for r in rows:
        result = screen_text(r["text"])
        if [h for h in result.hits if h.kind == "forbidden"] or result.near_misses or result.mixed_script:
            flagged.append(r["id"])
    assert len(rows) == 480
    assert len(flagged) <= 0.05 * len(rows), flagged


@pytest.mark.parametrize(
    "path", [ROOT / "data" / "keyword_twins.jsonl", ROOT / "tests" / "fixtures" / "keyword_rich.jsonl"]
)
def test_keyword_rich_texts_are_all_caught(path: Path) -> None:
    rows = _rows(path)
    missed = [
        r["id"]
        for r in rows
        if not any(h.kind == "forbidden" and h.emotion == r["emotion"] for h in find_keywords(r["text"]))
    ]
    assert len(rows) >= 30 and missed == []
