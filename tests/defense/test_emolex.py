"""Method 2: NRC EmoLex through NRCLex, fed by our own data-free tokenizer."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aipsy_affect.battery.schema import EMOTIONS
from aipsy_affect.defense.emolex import (
    NRC_CATEGORIES,
    LexiconScores,
    _nrc_lexicon,
    lemmas,
    lexicon_batch,
    lexicon_scores,
    nrc_info,
    tokenize,
)


def test_tokenize_is_lowercase_words_without_possessives() -> None:
    assert tokenize("Ines\u2019s dog-walker said: \u201cNo!\u201d 42 times.") == [
        "ines",
        "dog",
        "walker",
        "said",
        "no",
        "times",
    ]
    assert tokenize("It's the Smiths' car; don't.") == ["it", "the", "smiths", "car", "don't"]
    assert tokenize("") == []


@pytest.mark.parametrize(
    ("token", "lemma"),
    [
        ("killed", "kill"),
        ("cried", "cry"),
        ("cries", "cry"),
        ("funerals", "funeral"),
        ("rotting", "rotting"),
        ("waited", "wait"),
        ("hoping", "hope"),
        ("stabbed", "stab"),
        ("table", "table"),
        ("zzzq", "zzzq"),
    ],
)
def test_lemmas_map_regular_inflections_to_listed_base_forms(token: str, lemma: str) -> None:
    assert lemmas([token]) == [lemma]
    lex = _nrc_lexicon()
    assert lemma in lex or token == lemma


def test_counts_follow_the_lexicon_exactly() -> None:
    text = "The killed dog's funeral was rotten; they waited and waited at the hospital."
    s = lexicon_scores(text)
    lex = _nrc_lexicon()
    toks = lemmas(tokenize(text))
    expected = {c: sum(c in lex.get(t, ()) for t in toks) for c in NRC_CATEGORIES}
    assert s.counts == expected
    assert list(s.counts) == list(NRC_CATEGORIES)
    assert s.n_tokens == len(toks)
    assert s.n_hits == sum(t in lex for t in toks)
    assert s.hit_rate == pytest.approx(s.n_hits / s.n_tokens)
    best = max(expected[e] for e in EMOTIONS)
    assert s.top_categories == tuple(e for e in EMOTIONS if expected[e] == best)
    assert s.top_category == s.top_categories[0]
    assert set(s.words) <= set(toks) and all(tuple(lex[w]) == c for w, c in s.words.items())


def test_no_hits_and_empty_text() -> None:
    s = lexicon_scores("Zzz qqq.")
    assert s.n_hits == 0 and s.hit_rate == 0.0 and s.top_category is None and s.top_categories == ()
    empty = lexicon_scores("")
    assert empty.n_tokens == 0 and empty.hit_rate == 0.0
    assert all(v == 0 for v in empty.counts.values())


def test_ties_are_all_reported() -> None:
    lex = _nrc_lexicon()
    # Two words of disjoint single categories tie; the order of EMOTIONS breaks the tie for top_category.
    singles = {}
    for word, cats in lex.items():
        emo = [c for c in cats if c in EMOTIONS]
        if len(emo) == 1 and emo[0] not in singles:
            singles[emo[0]] = word
    a, b = "fear", "joy"
    s = lexicon_scores(f"{singles[b]} {singles[a]}")
    assert set(s.top_categories) == {a, b}
    assert s.top_category == min((a, b), key=EMOTIONS.index)


def test_batch_and_round_trip() -> None:
    texts = ["The funeral.", "A routine day at the office."]
    batch = lexicon_batch(texts)
    assert batch == [lexicon_scores(t) for t in texts]
    assert all(LexiconScores.model_validate_json(s.model_dump_json()) == s for s in batch)


def test_tokenizes_with_nltk_and_needs_no_data() -> None:
    # NLTK's RegexpTokenizer does the tokenising; no NLTK data (punkt, wordnet) is looked up, TextBlob never loads.
    code = (
        "import sys, nltk.data\n"
        "def refuse(*a, **k): raise AssertionError('NLTK data looked up')\n"
        "nltk.data.find = nltk.data.load = refuse\n"
        "from aipsy_affect.defense.emolex import lexicon_scores\n"
        "s = lexicon_scores('The murder shocked the town.'); assert s.n_hits > 0\n"
        "print('textblob' in sys.modules, 'nltk.tokenize.regexp' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]


@pytest.mark.parametrize(
    "text",
    [
        "Ines\u2019s dog-walker said: \u201cNo!\u201d",
        "It's the Smiths' car; don't.",
        "fu\u00adrious o'clock rock'n'roll",
        "",
        "A\u2010B C\u2013D 42 x1y",
    ],
)
def test_nltk_tokenizer_matches_the_documented_pattern(text: str) -> None:
    import re

    lowered = text.lower().replace("\u2019", "'")
    lowered = re.sub("[\u2010\u2011\u2012\u2013\u00ad\u200b\u200c\u200d]", "-", lowered)
    expected = [t[:-2] if t.endswith("'s") else t for t in re.findall(r"[a-z]+(?:'[a-z]+)*", lowered)]
    assert tokenize(text) == expected


def test_nrc_info_stamps_version_hash_and_licence() -> None:
    info = nrc_info()
    assert info["package"] == "NRCLex" and info["version"]
    assert len(info["lexicon_sha256"]) == 64
    assert info["entries"] == len(_nrc_lexicon()) > 5000
    assert "research" in info["licence"]
