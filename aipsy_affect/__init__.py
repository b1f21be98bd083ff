"""aipsy-affect: a keyword-free clinical emotion stimulus battery, its defense battery and benchmark."""

from aipsy_affect._version import __version__
from aipsy_affect.battery.schema import (
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
from aipsy_affect.battery.sources import data_sha256, load_battery, load_split

#: Public names whose modules import NumPy or more; loaded on first use so ``import aipsy_affect`` stays light.
#: Add ``"name": "module"`` here for other heavy public names.
_LAZY: dict[str, str] = {
    # The submission models are not needed by `validate` or `certify`: loaded when first used.
    "LayerOutputs": "benchmark.submission",
    "MethodInfo": "benchmark.submission",
    "ModelInfo": "benchmark.submission",
    "Submission": "benchmark.submission",
    "check_submission": "benchmark.submission",
    "load_submission": "benchmark.submission",
    "Lexicon": "keywords.lexicon",
    "load_lexicon": "keywords.lexicon",
    "KeywordHit": "keywords.screen",
    "find_keywords": "keywords.screen",
    "LayerScores": "benchmark.scoring",
    "ScoreReport": "benchmark.scoring",
    "score_submission": "benchmark.scoring",
    "Leaderboard": "benchmark.leaderboard",
    "LeaderboardEntry": "benchmark.leaderboard",
    "submit": "benchmark.leaderboard",
    "submission_from_arrays": "benchmark.build",
    "grouped_folds": "battery.folds",
    "load_release": "battery.release",
    "export_dataset": "hub.export",
    "load_certification": "hub.certification",
    "publish_dataset": "hub.publish",
    "verify_export": "battery.export_format",
    "CertificationReport": "certify.run",
    "run_certification": "certify.run",
    "ClassifierOutput": "defense.classifier",
    "EmotionClassifier": "defense.classifier",
    "classify_texts": "defense.classifier",
    "load_classifier": "defense.classifier",
    "LexiconScores": "defense.emolex",
    "lexicon_scores": "defense.emolex",
    "VaderScores": "defense.vader",
    "vader_scores": "defense.vader",
    "DEFAULT_PROMPT": "probe.config",
    "ProbeConfig": "probe.config",
    "ProbeRun": "probe.run",
    "build_submission": "probe.run",
    "run_probe": "probe.run",
    "extract_activations": "probe.activations",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aipsy_affect' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"aipsy_affect.{module}"), name)
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
    "extract_activations",
    "find_keywords",
    "grouped_folds",
    "lexicon_scores",
    "load_battery",
    "load_certification",
    "load_classifier",
    "load_lexicon",
    "load_release",
    "load_split",
    "load_submission",
    "publish_dataset",
    "run_certification",
    "run_probe",
    "score_submission",
    "submission_from_arrays",
    "submit",
    "vader_scores",
    "verify_export",
]
