"""Shared pieces of the published-layout tests: the fixture folder, its keyword control, a keyword stub classifier.

The fixture (``tests/fixtures/published``) is written for the tests in the published AIPsy-Affect layout with
placeholder sentences: peak labels, emotion-specific domains 1-3 (two vignettes each) beside shared domains 4-6,
moderates without a neutral or a peak link, string domains for the complex neutrals, null word counts, no twins,
and neutrals about 13 words shorter than their vignettes.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from aipsy_affect.battery.schema import EMOTIONS
from aipsy_affect.defense.classifier import NEUTRAL, ClassifierInfo, ClassifierOutput, EmotionClassifier
from aipsy_affect.keywords.screen import find_keywords

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "published"
KEYWORD_CONTROL = FIXTURE / "keyword_control.jsonl"
SPLIT_FILES = ("clinical", "neutral", "moderate", "complex_neutral")


def copy_fixture(dest: Path) -> Path:
    """The four split files (not the keyword control) copied to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in SPLIT_FILES:
        shutil.copy(FIXTURE / f"{name}.jsonl", dest / f"{name}.jsonl")
    return dest


def _output(label: str, p_emotional: float, confidence: float = 0.6) -> ClassifierOutput:
    rest = (1 - confidence) / (len(EMOTIONS) - 1)
    probs = {e: p_emotional * (confidence if e == label else rest) for e in EMOTIONS}
    probs[NEUTRAL] = 1 - p_emotional
    return ClassifierOutput(label=label, p_emotional=p_emotional, confidence=confidence, probs=probs)


class KeywordStub(EmotionClassifier):
    """Names the emotion of the first keyword the screen finds, else 'trust'; P(emotional) grows with length, so
    vignettes (longer) score above their neutrals and the paired test has something to find."""

    info = ClassifierInfo(
        id="stub",
        revision="test",
        weights_sha256=None,
        kind="prototype",
        device="cpu",
        dtype="float32",
        emotions=EMOTIONS,
        max_length=0,
    )

    def classify(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool | None = None
    ) -> list[ClassifierOutput]:
        out = []
        for t in texts:
            fams = [h.emotion for h in find_keywords(t) if h.kind == "forbidden" and h.emotion in EMOTIONS]
            p = min(0.95, len(t.split()) / 120)
            out.append(_output(fams[0], max(p, 0.8)) if fams else _output("trust", p))
        return out
