"""aipsy-affect: a keyword-free clinical emotion stimulus battery, its defense battery and benchmark."""

from ._version import __version__
from .battery import data_sha256, load_battery, load_split
from .lexicon import Lexicon, load_lexicon
from .schema import (
    DOMAINS,
    EMOTION_ALIASES,
    EMOTIONS,
    MAIN_SPLITS,
    SPLITS,
    Battery,
    ItemDraft,
    StimulusItem,
    canonical_emotion,
)
from .screen import KeywordHit, find_keywords
from .submission import LayerOutputs, MethodInfo, ModelInfo, Submission, check_submission, load_submission

#: Public names whose modules import NumPy or more; loaded on first use so ``import aipsy_affect`` stays light.
#: Add ``"name": "module"`` here for other heavy public names.
_LAZY: dict[str, str] = {
    "LayerScores": "scoring",
    "ScoreReport": "scoring",
    "score_submission": "scoring",
    "Leaderboard": "leaderboard",
    "LeaderboardEntry": "leaderboard",
    "submit": "leaderboard",
    "export_dataset": "hub",
    "load_certification": "hub",
    "publish_dataset": "hub",
    "verify_export": "hub",
    "CertificationReport": "certify",
    "run_certification": "certify",
    "ClassifierOutput": "classifier",
    "EmotionClassifier": "classifier",
    "classify_texts": "classifier",
    "load_classifier": "classifier",
    "LexiconScores": "emotion_lexicon",
    "lexicon_scores": "emotion_lexicon",
    "VaderScores": "sentiment",
    "vader_scores": "sentiment",
    "DEFAULT_PROMPT": "probe",
    "ProbeConfig": "probe",
    "ProbeRun": "probe",
    "build_submission": "probe",
    "run_probe": "probe",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aipsy_affect' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_PROMPT",
    "DOMAINS",
    "EMOTIONS",
    "EMOTION_ALIASES",
    "MAIN_SPLITS",
    "SPLITS",
    "Battery",
    "CertificationReport",
    "ClassifierOutput",
    "EmotionClassifier",
    "ItemDraft",
    "KeywordHit",
    "LayerOutputs",
    "LayerScores",
    "Leaderboard",
    "LeaderboardEntry",
    "Lexicon",
    "LexiconScores",
    "MethodInfo",
    "ModelInfo",
    "ProbeConfig",
    "ProbeRun",
    "ScoreReport",
    "StimulusItem",
    "Submission",
    "VaderScores",
    "__version__",
    "build_submission",
    "canonical_emotion",
    "check_submission",
    "classify_texts",
    "data_sha256",
    "export_dataset",
    "find_keywords",
    "lexicon_scores",
    "load_battery",
    "load_certification",
    "load_classifier",
    "load_lexicon",
    "load_split",
    "load_submission",
    "publish_dataset",
    "run_certification",
    "run_probe",
    "score_submission",
    "submit",
    "vader_scores",
    "verify_export",
]
