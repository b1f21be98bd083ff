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

__all__ = [
    "DOMAINS",
    "EMOTIONS",
    "EMOTION_ALIASES",
    "MAIN_SPLITS",
    "SPLITS",
    "Battery",
    "ItemDraft",
    "KeywordHit",
    "Lexicon",
    "StimulusItem",
    "__version__",
    "canonical_emotion",
    "data_sha256",
    "find_keywords",
    "load_battery",
    "load_lexicon",
    "load_split",
]
