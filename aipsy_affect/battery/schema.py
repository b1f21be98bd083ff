"""Pydantic models and controlled vocabularies: the single source of truth for the item data."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, computed_field, model_validator

EmotionName = Literal["joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"]
EMOTIONS: tuple[str, ...] = get_args(EmotionName)

# Plutchik's (1980) wheel names each primary emotion at three intensities; data labelled with the
# intense or mild name must load as the primary emotion.
EMOTION_ALIASES: dict[str, str] = {
    "ecstasy": "joy",
    "serenity": "joy",
    "admiration": "trust",
    "acceptance": "trust",
    "terror": "fear",
    "apprehension": "fear",
    "amazement": "surprise",
    "distraction": "surprise",
    "grief": "sadness",
    "pensiveness": "sadness",
    "loathing": "disgust",
    "boredom": "disgust",
    "rage": "anger",
    "annoyance": "anger",
    "vigilance": "anticipation",
    "interest": "anticipation",
}

SplitName = Literal["clinical", "neutral", "moderate", "complex_neutral", "keyword_twins"]
SPLITS: tuple[str, ...] = get_args(SplitName)
#: The 480 items of the battery proper; keyword twins are a control, not part of it.
MAIN_SPLITS: tuple[str, ...] = ("clinical", "neutral", "moderate", "complex_neutral")
AFFECTIVE_SPLITS: tuple[str, ...] = ("clinical", "moderate", "keyword_twins")

IntensityName = Literal["peak", "moderate", "none"]
SPLIT_INTENSITY: dict[str, str] = {
    "clinical": "peak",
    "keyword_twins": "peak",
    "moderate": "moderate",
    "neutral": "none",
    "complex_neutral": "none",
}

#: domain number -> (slug used in ids, label). Shared by all eight emotions (fully crossed design).
DOMAINS: dict[int, tuple[str, str]] = {
    1: ("work", "work"),
    2: ("family", "family and home"),
    3: ("health", "health and care"),
    4: ("money", "money and property"),
    5: ("community", "community and public life"),
    6: ("travel", "travel and outdoors"),
}

#: The brief's design table: items per split.
DESIGN_COUNTS: dict[str, int] = {
    "clinical": 192,
    "neutral": 192,
    "moderate": 48,
    "complex_neutral": 48,
    "keyword_twins": 192,
}
VIGNETTES_PER_CELL = 4
COMPLEX_NEUTRAL_PER_DOMAIN = 8
MAX_WORDS = 400
#: Per-text character cap: 400 words of ordinary prose are about 2,500 characters.
MAX_TEXT_CHARS = 10_000
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


def canonical_emotion(value: Any) -> Any:
    """Lower-case an emotion label and map Plutchik's intensity names to the primary emotion."""
    if value is None or not isinstance(value, str):
        return value
    label = value.strip().lower()
    if label == "":
        return None
    label = EMOTION_ALIASES.get(label, label)
    if label not in EMOTIONS:
        raise ValueError(
            f"{value!r} is not a Plutchik emotion (expected one of {', '.join(EMOTIONS)}, "
            f"or an intensity alias such as {', '.join(sorted(EMOTION_ALIASES)[:4])}, ...)"
        )
    return label


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip() == "" else value


Emotion = Annotated[EmotionName, BeforeValidator(canonical_emotion)]
OptionalStr = Annotated[str | None, BeforeValidator(_blank_to_none)]
OptionalInt = Annotated[int | None, BeforeValidator(_blank_to_none)]


def count_words(text: str) -> int:
    """Words as whitespace-separated tokens, the convention of the public AIPsy-Affect release."""
    return len(text.split())


class ItemDraft(BaseModel):
    """An item as a stimulus author writes it: only ``id`` and ``text`` are required."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    """Stable, readable identifier, e.g. ``clin-anger-work-1`` (letters, digits, ``._:-``; at most 128 chars)."""

    text: Annotated[str, Field(min_length=1)]
    """The stimulus text, in English."""

    emotion: Emotion | None = None
    """Target Plutchik emotion; ``None`` for neutral kinds. Intensity names (rage, terror, ...) are accepted."""

    split: SplitName | None = None
    """Which part of the battery the item belongs to; ``None`` for a free-standing draft."""

    intensity: IntensityName | None = None
    """``peak`` (clinical, twins), ``moderate`` or ``none`` (neutral kinds); derived from ``split`` when omitted."""

    domain: OptionalInt = None
    """Life domain, 1 to 6 (see ``DOMAINS``); shared by all emotions."""

    domain_label: OptionalStr = None
    """Human-readable domain name; derived from ``domain`` when omitted, checked against it when given."""

    matched_control_id: OptionalStr = None
    """For a clinical item its neutral control; for a neutral control its clinical item; for a twin the neutral."""

    peak_id: OptionalStr = None
    """For a moderate item or a keyword twin, the clinical (peak) item it varies."""

    protagonist: OptionalStr = None
    """First name of the one named protagonist; must occur in ``text``."""

    protagonist_gender: Literal["female", "male"] | None = None
    """Gender of the protagonist as written (pronouns in the text); balanced within each emotion."""

    @model_validator(mode="before")
    @classmethod
    def _drop_untrusted_word_count(cls, data: Any) -> Any:
        # word_count is part of the public layout, so files carry it; it is recomputed, never trusted.
        if isinstance(data, dict) and "word_count" in data:
            data = {k: v for k, v in data.items() if k != "word_count"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def word_count(self) -> int:
        """Whitespace-separated words in ``text``; computed, never read from input."""
        return count_words(self.text)

    @model_validator(mode="after")
    def _check_consistency(self) -> ItemDraft:
        # Length and character policies are per-item verdicts in ``validate`` (the item fails, the file is still
        # read); the packaged battery enforces them in ``StimulusItem``.
        if self.domain is not None:
            if self.domain not in DOMAINS:
                raise ValueError(f"domain {self.domain} is not one of 1-{len(DOMAINS)}")
            label = DOMAINS[self.domain][1]
            if self.domain_label is None:
                object.__setattr__(self, "domain_label", label)
            elif self.domain_label != label:
                raise ValueError(f"domain_label {self.domain_label!r} does not match domain {self.domain} ({label!r})")
        elif self.domain_label is not None:
            raise ValueError("domain_label given without domain")
        if self.split is not None:
            expected = SPLIT_INTENSITY[self.split]
            if self.intensity is None:
                object.__setattr__(self, "intensity", expected)
            elif self.intensity != expected:
                raise ValueError(
                    f"intensity {self.intensity!r} does not fit split {self.split!r} (expected {expected!r})"
                )
            needs_emotion = self.split in AFFECTIVE_SPLITS
            if needs_emotion and self.emotion is None:
                raise ValueError(f"split {self.split!r} needs an emotion")
            if not needs_emotion and self.emotion is not None:
                raise ValueError(f"split {self.split!r} items carry no emotion (got {self.emotion!r})")
        if self.protagonist is not None and not re.search(rf"\b{re.escape(self.protagonist)}\b", self.text):
            raise ValueError(f"protagonist {self.protagonist!r} does not occur in the text")
        return self


class StimulusItem(ItemDraft):
    """An item of the packaged battery: every structural field is required."""

    split: SplitName
    """Which part of the battery the item belongs to."""

    intensity: IntensityName | None = None
    """``peak``, ``moderate`` or ``none``; derived from ``split`` when omitted, checked against it when given."""

    domain: int
    """Life domain, 1 to 6 (see ``DOMAINS``)."""

    protagonist: str
    """First name of the one named protagonist; must occur in ``text``."""

    protagonist_gender: Literal["female", "male"]
    """Gender of the protagonist as written (pronouns in the text); balanced within each emotion."""

    @model_validator(mode="after")
    def _check_links(self) -> StimulusItem:
        if self.word_count > MAX_WORDS:
            raise ValueError(f"text has {self.word_count} words; the limit is {MAX_WORDS}")
        if len(self.text) > MAX_TEXT_CHARS:
            raise ValueError(f"text has {len(self.text)} characters; the limit is {MAX_TEXT_CHARS}")
        needs = {
            "clinical": ("matched_control_id",),
            "neutral": ("matched_control_id",),
            "moderate": ("peak_id",),
            "keyword_twins": ("peak_id",),
            "complex_neutral": (),
        }[self.split]
        for name in needs:
            if getattr(self, name) is None:
                raise ValueError(f"{self.split} items need {name}")
        return self


#: The label names of ``Battery.to_pandas()["label"]`` and the export's ``label`` column, in index order.
LABEL_NAMES: tuple[str, ...] = (*EMOTIONS, "none")


def resolve_domain(value: int | str) -> int:
    """A domain given as its number (1-6 or "1"), slug ("work") or label ("family and home") -> its number."""
    if isinstance(value, bool):
        raise ValueError(f"domain {value!r} is not a domain")
    if isinstance(value, int) and value in DOMAINS:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit() and int(text) in DOMAINS:
            return int(text)
        for number, (slug, label) in DOMAINS.items():
            if text in (slug, label):
                return number
    known = ", ".join(f"{n} ({slug})" for n, (slug, _) in DOMAINS.items())
    raise ValueError(f"unknown domain {value!r}; expected one of {known}")


def _fmt_ids(ids: list[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" (and {len(ids) - limit} more)" if len(ids) > limit else "")


class Battery(BaseModel):
    """The whole battery; its validators enforce the design's structural invariants."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    items: tuple[StimulusItem, ...]
    """Every item of every split, keyword twins included."""

    # (the items tuple it was built from, the index): model_copy(update=...) carries private attributes over, so
    # the index is rebuilt whenever the items are not the very tuple it was built from.
    _index: tuple[tuple[StimulusItem, ...], Mapping[str, StimulusItem]] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_invariants(self) -> Battery:
        problems = _battery_problems(self.items)
        if problems:
            raise ValueError("battery invariants violated:\n  - " + "\n  - ".join(problems))
        return self

    def split(self, name: str, domain: int | str | None = None) -> list[StimulusItem]:
        """Items of one split, in file order; ``domain`` (1-6, a slug such as ``work``, or a label) narrows it."""
        if name not in SPLITS:
            raise KeyError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
        wanted = None if domain is None else resolve_domain(domain)
        return [item for item in self.items if item.split == name and (wanted is None or item.domain == wanted)]

    def triplets(self) -> list[tuple[StimulusItem, StimulusItem, StimulusItem]]:
        """(peak vignette, moderate variant, the peak's matched neutral): the 48 dose-response triplets."""
        index = self.by_id()
        return [(index[str(m.peak_id)], m, index[str(m.matched_control_id)]) for m in self.split("moderate")]

    def twins(self) -> list[tuple[StimulusItem, StimulusItem]]:
        """(clinical vignette, its keyword twin) pairs, in twin order."""
        index = self.by_id()
        return [(index[str(t.peak_id)], t) for t in self.split("keyword_twins")]

    def pair_emotion(self, item: StimulusItem) -> str | None:
        """The emotion of the story an item belongs to: its own, or for a neutral its vignette's (else None)."""
        if item.emotion is not None:
            return item.emotion
        if item.split == "neutral":
            return self.by_id()[str(item.matched_control_id)].emotion
        return None

    @staticmethod
    def label_index(item: StimulusItem) -> int:
        """The item's class index in ``LABEL_NAMES`` (``EMOTIONS`` order, ``none`` last for the neutral kinds)."""
        return LABEL_NAMES.index(item.emotion or "none")

    def to_pandas(self) -> Any:
        """One row per item (every field, ``word_count``, ``label`` and ``pair_emotion``) as a pandas DataFrame.

        ``label`` is the class index in ``EMOTIONS`` order with ``none`` (index 8) for the neutral kinds, so it is
        stable across versions (``datasets``' ``class_encode_column`` would order labels alphabetically).
        """
        import pandas as pd

        rows = [
            item.model_dump(mode="json") | {"label": self.label_index(item), "pair_emotion": self.pair_emotion(item)}
            for item in self.items
        ]
        return pd.DataFrame(rows)

    def by_id(self) -> Mapping[str, StimulusItem]:
        """Map from id to item (built once: the battery is frozen)."""
        if self._index is None or self._index[0] is not self.items:
            self._index = (self.items, MappingProxyType({item.id: item for item in self.items}))
        return self._index[1]

    def pairs(self) -> list[tuple[StimulusItem, StimulusItem]]:
        """(clinical, matched neutral) pairs, in clinical order."""
        index = self.by_id()
        return [(item, index[item.matched_control_id]) for item in self.split("clinical")]  # type: ignore[index]


def _battery_problems(items: tuple[StimulusItem, ...]) -> list[str]:
    problems: list[str] = []
    counts = Counter(item.id for item in items)
    dupes = sorted(i for i, n in counts.items() if n > 1)
    if dupes:
        problems.append(f"duplicate ids: {_fmt_ids(dupes)}")
    index = {item.id: item for item in items}
    by_split: dict[str, list[StimulusItem]] = defaultdict(list)
    for item in items:
        by_split[item.split].append(item)

    for name, expected in DESIGN_COUNTS.items():
        got = len(by_split[name])
        if got != expected:
            problems.append(f"split {name!r} has {got} items; the design has {expected}")

    unpaired, mismatched, not_reciprocal = [], [], []
    for item in by_split["clinical"] + by_split["neutral"]:
        other_split = "neutral" if item.split == "clinical" else "clinical"
        other = index.get(item.matched_control_id or "")
        if other is None or other.split != other_split:
            unpaired.append(item.id)
            continue
        if other.matched_control_id != item.id:
            not_reciprocal.append(item.id)
        if (other.domain, other.protagonist) != (item.domain, item.protagonist):
            mismatched.append(item.id)
    if unpaired:
        problems.append(f"items whose matched_control_id is not an item of the other split: {_fmt_ids(unpaired)}")
    if not_reciprocal:
        problems.append(f"pairs that do not point back to each other: {_fmt_ids(not_reciprocal)}")
    if mismatched:
        problems.append(f"pairs that differ in domain or protagonist: {_fmt_ids(mismatched)}")
    neutral_targets = Counter(item.matched_control_id for item in by_split["neutral"])
    shared = sorted(str(k) for k, n in neutral_targets.items() if n > 1)
    if shared:
        problems.append(f"clinical items with more than one neutral control: {_fmt_ids(shared)}")

    for name in ("moderate", "keyword_twins"):
        bad = []
        for item in by_split[name]:
            peak = index.get(item.peak_id or "")
            if (
                peak is None
                or peak.split != "clinical"
                or (peak.emotion, peak.domain, peak.protagonist) != (item.emotion, item.domain, item.protagonist)
            ):
                bad.append(item.id)
        if bad:
            problems.append(
                f"{name} items whose peak_id is not a clinical item of the same emotion, domain and "
                f"protagonist: {_fmt_ids(bad)}"
            )
    twin_targets = Counter(item.peak_id for item in by_split["keyword_twins"])
    missing_twins = sorted(item.id for item in by_split["clinical"] if twin_targets[item.id] != 1)
    if by_split["keyword_twins"] and missing_twins:
        problems.append(f"clinical items without exactly one keyword twin: {_fmt_ids(missing_twins)}")
    bad_twin_text = [
        t.id for t in by_split["keyword_twins"] if t.peak_id in index and not t.text.startswith(index[t.peak_id].text)
    ]
    if bad_twin_text:
        problems.append(
            f"keyword twins whose text does not start with their vignette unchanged: {_fmt_ids(bad_twin_text)}"
        )

    cells = Counter((item.emotion, item.domain) for item in by_split["clinical"])
    off = sorted(f"{e}/{DOMAINS[d][0]}={n}" for (e, d), n in cells.items() if n != VIGNETTES_PER_CELL)
    empty = [f"{e}/{DOMAINS[d][0]}" for e in EMOTIONS for d in DOMAINS if (e, d) not in cells]
    if off or (by_split["clinical"] and empty):
        problems.append(
            f"clinical emotion x domain cells without exactly {VIGNETTES_PER_CELL} vignettes: {_fmt_ids(off + empty)}"
        )
    mod_cells = Counter((item.emotion, item.domain) for item in by_split["moderate"])
    off = sorted(f"{e}/{DOMAINS[d][0]}={n}" for (e, d), n in mod_cells.items() if n != 1)
    if off:
        problems.append(f"moderate cells without exactly one item: {_fmt_ids(off)}")
    cn = Counter(item.domain for item in by_split["complex_neutral"])
    off = sorted(f"{DOMAINS[d][0]}={n}" for d, n in cn.items() if n != COMPLEX_NEUTRAL_PER_DOMAIN)
    if off:
        problems.append(f"complex_neutral domains without exactly {COMPLEX_NEUTRAL_PER_DOMAIN} items: {_fmt_ids(off)}")
    return problems
