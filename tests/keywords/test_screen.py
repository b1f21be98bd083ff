"""The emotion-keyword screen: word families, robustness, polysemy policy, offsets, never crashing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aipsy_affect.keywords.lexicon import load_lexicon
from aipsy_affect.keywords.screen import find_keywords

# (text, the family of the first forbidden hit)
FLAGGED = [
    ("Ines was furious.", "anger"),
    ("He was angry at the clerk.", "anger"),
    ("She answered angrily.", "anger"),
    ("The delay infuriated him.", "anger"),
    ("It was an outrage.", "anger"),
    ("Tomas was livid.", "anger"),
    ("She flew into a rage.", "anger"),
    ("He was enraged by the bill.", "anger"),
    ("an irate customer", "anger"),
    ("He was irritated by the noise.", "anger"),
    ("She was annoyed.", "anger"),
    ("The annoyance grew.", "anger"),
    ("He was fed up with the landlord.", "anger"),
    ("She was seething.", "anger"),
    ("with indignation", "anger"),
    ("He resented the transfer.", "anger"),
    ("Her resentment showed.", "anger"),
    ("He went mad.", "anger"),
    ("She was frustrated by the form.", "anger"),
    ("He was exasperated.", "anger"),
    ("a disgruntled tenant", "anger"),
    ("The furiousness of it.", "anger"),
    ("He was in a fury.", "anger"),
    ("She was incensed.", "anger"),
    ("Amara was terrified.", "fear"),
    ("He was afraid of the dog.", "fear"),
    ("She was scared.", "fear"),
    ("It was a scary night.", "fear"),
    ("He was frightened.", "fear"),
    ("The fear returned.", "fear"),
    ("a fearless climber", "fear"),
    ("She stayed fearful.", "fear"),
    ("He panicked at the gate.", "fear"),
    ("Panic spread.", "fear"),
    ("She dreaded Monday.", "fear"),
    ("He was anxious.", "fear"),
    ("her anxiety about the exam", "fear"),
    ("He was nervous.", "fear"),
    ("She was worried.", "fear"),
    ("Don't worry about it.", "fear"),
    ("He was uneasy.", "fear"),
    ("She was petrified.", "fear"),
    ("in terror", "fear"),
    ("a horrified look", "fear"),
    ("He was apprehensive.", "fear"),
    ("She was on edge all day.", "fear"),
    ("He was frantic.", "fear"),
    ("They were desperate.", "fear"),
    ("Yuki was sad.", "sadness"),
    ("He said it sadly.", "sadness"),
    ("the sadness of it", "sadness"),
    ("She was heartbroken.", "sadness"),
    ("He was heart-broken.", "sadness"),
    ("a grief-stricken father", "sadness"),
    ("Her grief was plain.", "sadness"),
    ("He grieved for a year.", "sadness"),
    ("They mourned her.", "sadness"),
    ("The mourners left.", "sadness"),
    ("He was miserable.", "sadness"),
    ("She was devastated.", "sadness"),
    ("He was depressed.", "sadness"),
    ("a gloomy mood", "sadness"),
    ("She was unhappy.", "sadness"),
    ("He was disappointed.", "sadness"),
    ("in despair", "sadness"),
    ("He felt hopeless.", "generic"),
    ("She was despondent.", "sadness"),
    ("a sorrowful letter", "sadness"),
    ("He was homesick.", "sadness"),
    ("Omar was happy.", "joy"),
    ("She smiled happily.", "joy"),
    ("Their happiness was complete.", "joy"),
    ("He was overjoyed.", "joy"),
    ("She was delighted.", "joy"),
    ("He was elated.", "joy"),
    ("She was ecstatic.", "joy"),
    ("He was thrilled.", "joy"),
    ("a joyful reunion", "joy"),
    ("She was glad.", "joy"),
    ("He was pleased.", "joy"),
    ("a cheerful nurse", "joy"),
    ("She was jubilant.", "joy"),
    ("He was content.", "joy"),
    ("She was perfectly content.", "joy"),
    ("He enjoyed the walk.", "joy"),
    ("She was amused.", "joy"),
    ("He was over the moon.", "joy"),
    ("Priya trusted him.", "trust"),
    ("She had complete trust in him.", "trust"),
    ("He admired her.", "trust"),
    ("with admiration", "trust"),
    ("She had faith in him.", "trust"),
    ("He had confidence in her.", "trust"),
    ("She was confident.", "trust"),
    ("He was reassured.", "trust"),
    ("a trusting child", "trust"),
    ("He was disgusted.", "disgust"),
    ("It was disgusting.", "disgust"),
    ("She was revolted.", "disgust"),
    ("He was repulsed.", "disgust"),
    ("She was sickened.", "disgust"),
    ("He was nauseated by it.", "disgust"),
    ("It was gross.", "disgust"),
    ("She was grossed out.", "disgust"),
    ("He loathed it.", "disgust"),
    ("She was appalled.", "disgust"),
    ("He was bored.", "disgust"),
    ("pure boredom", "disgust"),
    ("He was surprised.", "surprise"),
    ("To her surprise, it opened.", "surprise"),
    ("She was astonished.", "surprise"),
    ("He was amazed.", "surprise"),
    ("She was stunned.", "surprise"),
    ("He was startled.", "surprise"),
    ("She was shocked.", "surprise"),
    ("He was in shock.", "surprise"),
    ("She was flabbergasted.", "surprise"),
    ("He was dumbfounded.", "surprise"),
    ("She was bewildered.", "surprise"),
    ("He was taken aback.", "surprise"),
    ("She was eager to start.", "anticipation"),
    ("He waited eagerly.", "anticipation"),
    ("full of anticipation", "anticipation"),
    ("She hoped for a call.", "anticipation"),
    ("He was hopeful.", "anticipation"),
    ("She was impatient.", "anticipation"),
    ("He was excited.", "anticipation"),
    ("She was looking forward to it.", "anticipation"),
    ("He was curious.", "anticipation"),
    ("She was ashamed.", "shame"),
    ("He was embarrassed.", "shame"),
    ("She was humiliated.", "shame"),
    ("He was jealous.", "envy"),
    ("She was envious.", "envy"),
    ("He was lonely.", "loneliness"),
    ("She was relieved.", "relief"),
    ("He sighed with relief.", "relief"),
    ("She was proud.", "pride"),
    ("He was calm.", "calm"),
    ("She stayed calm.", "calm"),
    ("He was relaxed.", "calm"),
    ("She was grateful.", "gratitude"),
    ("He was thankful.", "gratitude"),
    ("She was guilty.", "guilt"),
    ("He was full of remorse.", "guilt"),
    ("She loved him.", "love"),
    ("He hated the job.", "hate"),
    ("She felt it.", "generic"),
    ("He had a feeling.", "generic"),
    ("It was emotional.", "generic"),
    ("Her mood changed.", "generic"),
    ("He was upset.", "generic"),
    ("She was stressed.", "distress"),
    ("He was overwhelmed.", "distress"),
    ("She was in distress.", "distress"),
]

NOT_FLAGGED = [
    "The scarecrow stood in the field.",
    "They set up a trust fund for the twins.",
    "The NHS trust paid the invoice.",
    "What do you mean by that?",
    "She meant to call.",
    "They cross the street at the lights.",
    "The content of the box was listed.",
    "He checked the contents of the drawer.",
    "She works in content moderation.",
    "Gross income rose by four percent.",
    "The gross weight was 40 tonnes.",
    "She wore a felt hat.",
    "He used a felt-tip pen.",
    "He pleaded guilty to the charge.",
    "The jury found him guilty of fraud.",
    "The sea was calm that morning.",
    "the calm water of the bay",
    "She got tax relief on the pension.",
    "The relief map hung on the wall.",
    "He was relieved of his duties.",
    "She relieved the night nurse at six.",
    "He rode a moped to work.",
    "She confided in her sister.",
    "They went to the amusement park.",
    "The patient had an upset stomach.",
    "She took a stress test at the clinic.",
    "He had a stress fracture.",
    "The nervous system was examined.",
    "It was a tropical depression off the coast.",
    "He depressed the pedal.",
    "The ship fired a distress flare.",
    "The bank sold the flat in a distress sale.",
    "A neonate in respiratory distress was admitted.",
    "He received an electric shock from the cable.",
    "The shock absorbers were replaced.",
    "She felt-lined the box.",
    "The gladiator film ran late.",
    "He bored a hole through the beam.",
    "They ordered a boring machine.",
    "The mad cow outbreak ended.",
    "It was a mad dash to the station.",
    "She handed in her loyalty card.",
    "He pressed the panic button.",
    "They watched a horror film.",
    "She was right in the past tense.",
    "They waited in vain for the bus.",
    "The town was in a sorry state.",
    "He disturbed the papers on the desk.",
    "She shook the rug out.",
    "The confidence interval was wide.",
    "He told her in confidence.",
    "The faith school opened.",
    "A pride march filled the street.",
    "She moved to Madrid.",
    "He sat at the table and read.",
    "The agent booked the tickets.",
    "She carried the boxes down to the van.",
    "He counted the coins twice.",
    "They painted the fence green.",
    "The nurse checked the chart.",
    "He drove to the station at nine.",
    "The long train stopped.",
    "She studied him for a long moment.",
    "He expected the parcel on Monday.",
    "She thanked the driver.",
    "He used a compass on the ridge.",
    "They optimised the route.",
    "The tenant signed the lease.",
    "She paid the electricity bill.",
    "The admiral inspected the ship.",
    "Her skin irritation eased.",
    "The suspension was repaired.",
    "The vigil was held at dusk.",
    "Please sit down.",
    "She grated the cheese.",
    "He hugged the coastline.",
    "The lone tree stood on the hill.",
]


@pytest.mark.parametrize(("text", "family"), FLAGGED)
def test_flags_keyword(text: str, family: str) -> None:
    hits = [h for h in find_keywords(text) if h.kind == "forbidden"]
    assert hits, f"nothing flagged in {text!r}"
    assert hits[0].emotion == family


@pytest.mark.parametrize("text", NOT_FLAGGED)
def test_does_not_flag(text: str) -> None:
    assert [h for h in find_keywords(text) if h.kind == "forbidden"] == []


def test_enough_cases() -> None:
    assert len(FLAGGED) + len(NOT_FLAGGED) >= 150


def test_offsets_point_at_the_word() -> None:
    text = "After the meeting Ines was furious, and later afraid."
    hits = find_keywords(text)
    assert [(h.term, h.emotion, text[h.start : h.end]) for h in hits] == [
        ("furious", "anger", "furious"),
        ("afraid", "fear", "afraid"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "She was FURIOUS.",
        "She was Furious.",
        "she was fu-rious",
        "she was fu\u00adrious",
        "she was fu\u200brious",
        "Ines\u2019s fury",
        "Ines's fury",
        "the in\u2010furiated clerk",
    ],
)
def test_robust_to_case_hyphens_apostrophes(text: str) -> None:
    assert any(h.emotion == "anger" for h in find_keywords(text))


def test_unlisted_compound_caught_by_its_part() -> None:
    hits = find_keywords("a terror-filled night")
    assert [(h.term, h.match) for h in hits] == [("terror", "terror")]


def test_expressive_words_reported_not_forbidden() -> None:
    hits = find_keywords("Tomas cried, then laughed, then screamed.")
    assert {(h.term, h.kind) for h in hits} == {
        ("cried", "expressive"),
        ("laughed", "expressive"),
        ("screamed", "expressive"),
    }


def test_tearing_paper_is_not_crying() -> None:
    assert find_keywords("He tears the page out.") == []


def test_phrase_counts_once() -> None:
    hits = find_keywords("He was fed up.")
    assert [(h.term, h.match) for h in hits] == [("fed up", "fed up")]


def test_lexicon_size_and_version() -> None:
    lex = load_lexicon()
    forbidden = lex.terms("forbidden")
    assert len(forbidden) >= 500
    assert lex.version.count(".") == 2
    plutchik = {fam for _, fam, _ in forbidden} & set(lex.plutchik)
    assert plutchik == {"joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"}
    assert {"feel", "felt", "feeling", "emotion", "emotional", "mood", "upset"} <= {t for t, _, _ in forbidden}


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_random_text_never_crashes(text: str) -> None:
    for h in find_keywords(text):
        assert 0 <= h.start < h.end <= len(text)
        assert text[h.start : h.end] == h.match


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["the", "furious", "-", "'", "\u2019", " ", "scared", "felt", "hat", "\u00ad", "x"])))
def test_random_keyword_soup_offsets(parts: list[str]) -> None:
    text = "".join(parts)
    for h in find_keywords(text):
        assert text[h.start : h.end] == h.match


def test_lexicon_documentation_is_current() -> None:
    from pathlib import Path

    from aipsy_affect.keywords.lexicon import rules_markdown

    doc = (Path(__file__).resolve().parents[2] / "validation" / "LEXICON.md").read_text(encoding="utf-8")
    assert rules_markdown() in doc, "validation/LEXICON.md's rules table is stale: paste rules_markdown() into it"
    assert f"version **{load_lexicon().version}**" in doc
