"""Method 1: VADER scores and the tokens that carried them."""

from __future__ import annotations

import pytest

from aipsy_affect.defense.vader import VaderScores, _analyzer, vader_batch, vader_scores, vader_version

TEXTS = [
    "The funeral was terrible and the food was worse.",
    "The food was not good, but the service was GREAT!!!",
    "She handed over the keys, signed the form and drove home.",
    "He won the prize. It was a wonderful, wonderful day :)",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_recorded_valences_reproduce_vader(text: str) -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    scores = vader_scores(text)
    plain = SentimentIntensityAnalyzer().polarity_scores(text)
    assert (scores.neg, scores.neu, scores.pos, scores.compound) == (
        plain["neg"],
        plain["neu"],
        plain["pos"],
        plain["compound"],
    )
    # The recorded per-token valences are exactly what VADER scored: re-scoring them gives the same result.
    recorded = [v for _, v in _analyzer().last_tokens]
    assert _analyzer().score_valence(recorded, text) == plain


def test_tokens_are_the_words_that_moved_the_score() -> None:
    s = vader_scores("The funeral was terrible, but the garden was lovely.")
    tokens = {t.token: t.valence for t in s.tokens}
    assert set(tokens) == {"funeral", "terrible", "lovely"}
    assert tokens["funeral"] < 0 and tokens["terrible"] < 0 and tokens["lovely"] > 0
    # VADER's "but" rule weighs the clause after "but" up and the one before it down.
    plain = {t.token: t.valence for t in vader_scores("The garden was lovely.").tokens}
    assert tokens["lovely"] > plain["lovely"]


def test_negation_flips_the_token_valence() -> None:
    assert [t.token for t in vader_scores("It was good.").tokens] == ["good"]
    (token,) = vader_scores("It was not good.").tokens
    assert token.token == "good" and token.valence < 0


def test_routine_text_has_no_contributors() -> None:
    s = vader_scores("She filed the papers and caught the bus at six.")
    assert s.tokens == () and s.compound == 0.0 and s.neu == 1.0


def test_batch_equals_single_and_models_round_trip() -> None:
    batch = vader_batch(TEXTS)
    assert batch == [vader_scores(t) for t in TEXTS]
    for s in batch:
        assert VaderScores.model_validate_json(s.model_dump_json()) == s
        assert -1.0 <= s.compound <= 1.0
        assert all(t.valence != 0 for t in s.tokens)
    assert vader_version() == "3.3.2"
