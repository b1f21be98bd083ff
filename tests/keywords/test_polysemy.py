"""Polysemy rules: each one lets its documented non-affective sense through, and only the rule does.

For every rule: the excluded sense passes with the packaged lexicon, is flagged again by a screen built
without that one rule (so the rule, not some other accident, is what lets it through), and the affective sense
is still flagged. A rule without an example here fails ``test_every_rule_has_examples``.
"""

from __future__ import annotations

import pytest

from aipsy_affect.keywords.lexicon import Lexicon, load_lexicon
from aipsy_affect.keywords.screen import Screen, find_keywords

# term -> (a text with the excluded sense, a text with the affective sense)
RULE_EXAMPLES: dict[str, tuple[str, str]] = {
    "content": ("The content of the box was listed.", "She was content."),
    "satisfied": ("The design satisfied the requirements.", "He seemed satisfied."),
    "trust": ("They set up a trust fund for the twins.", "She had complete trust in him."),
    "trusts": ("The health trusts merged.", "He trusts her."),
    "gross": ("Gross income rose by four percent.", "It was gross."),
    "confidence": ("The confidence interval was wide.", "He had confidence in her."),
    "faith": ("The faith school opened.", "She had faith in him."),
    "loyalty": ("She handed in her loyalty card.", "His loyalty never wavered."),
    "shock": ("He received an electric shock from the cable.", "She was in shock."),
    "stress": ("She took a stress test at the clinic.", "The stress kept him awake."),
    "distress": ("The ship fired a distress flare.", "She was in distress."),
    "upset": ("The patient had an upset stomach.", "He was upset."),
    "felt": ("She wore a felt hat.", "She felt it."),
    "nervous": ("The nervous system was examined.", "He was nervous."),
    "sympathetic": ("The sympathetic nervous system was examined.", "She was sympathetic."),
    "depression": ("It was a tropical depression off the coast.", "His depression lifted in spring."),
    "depressed": ("He depressed the pedal.", "He was depressed."),
    "relief": ("She got tax relief on the pension.", "He sighed with relief."),
    "relieved": ("She relieved the night nurse at six.", "She was relieved."),
    "calm": ("The sea was calm that morning.", "He stayed calm."),
    "guilty": ("He pleaded guilty to the charge.", "She was guilty."),
    "guilt": ("The court weighed the proof of guilt.", "Guilt kept him awake."),
    "bored": ("He bored a hole through the beam.", "He was bored."),
    "boring": ("They ordered a boring machine.", "The talk was boring."),
    "mad": ("It was a mad dash to the station.", "He went mad."),
    "hope": ("The ship rounded Cape Hope at dawn.", "She hoped for a call."),
    "pride": ("A pride march filled the street.", "She beamed with pride."),
    "tense": ("She wrote it in the past tense.", "He was tense."),
    "vain": ("They waited in vain for the bus.", "He was vain."),
    "sorry": ("The town was in a sorry state.", "She was sorry."),
    "disturbed": ("He disturbed the papers on the desk.", "She was disturbed."),
    "troubled": ("A troubled project was cancelled.", "He looked troubled."),
    "shaken": ("The rug was shaken out.", "She was shaken."),
    "rattled": ("The window rattled.", "He was rattled."),
    "amusement": ("They went to the amusement park.", "She watched with amusement."),
    "restless": ("He was treated for restless legs.", "The child was restless."),
    "desperate": ("They took desperate measures.", "They were desperate."),
    "panic": ("He pressed the panic button.", "Panic spread."),
    "horror": ("They watched a horror film.", "She stared in horror."),
    "tears": ("He tears the page out.", "Her tears fell."),
    "cry": ("It was a far cry from home.", "She began to cry."),
    "cheer": ("The cheer squad practised.", "The news brought him cheer."),
    "devoted": ("He devoted three weekends to the repair.", "She was devoted."),
    "irritation": ("Her skin irritation eased.", "He hid his irritation."),
    "irritated": ("The cream soothed irritated skin.", "He was irritated."),
    "bummed": ("He bummed a cigarette from the porter.", "She was bummed."),
    "creeped": ("The tide creeped up the slipway.", "He was creeped."),
    "crushed": ("He crushed the garlic with a knife.", "She was crushed."),
    "gutted": ("The fire gutted the building.", "She was gutted."),
    "saw red": ("He saw red lights on the bridge.", "He saw red."),
    "see red": ("They see red paint on the wall.", "Some people see red when they are ignored."),
    "seeing red": ("He kept seeing red squirrels in the park.", "She was seeing red."),
    "stoked": ("He stoked the stove before bed.", "She was stoked."),
    "ticked off": ("He ticked off the items on the list.", "She was ticked off."),
}


def _without_rule(term: str) -> Screen:
    data = load_lexicon().model_dump()
    del data["rules"][term]
    return Screen(Lexicon.model_validate(data))


def _terms(hits: list) -> list[str]:
    return [h.term for h in hits]


def test_every_rule_has_examples() -> None:
    assert set(RULE_EXAMPLES) == set(load_lexicon().rules)


@pytest.mark.parametrize("term", sorted(RULE_EXAMPLES))
def test_rule_excludes_its_sense_and_only_the_rule_does(term: str) -> None:
    excluded, affective = RULE_EXAMPLES[term]
    assert term not in _terms(find_keywords(excluded)), f"{excluded!r} is flagged as {term!r} despite the rule"
    assert term in _terms(_without_rule(term).find(excluded)), (
        f"without the rule for {term!r}, {excluded!r} still passes: the example does not exercise the rule"
    )
    assert find_keywords(affective), f"the affective sense {affective!r} is not flagged"
