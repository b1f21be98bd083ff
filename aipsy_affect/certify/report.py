"""The certification report: the one model ``certify`` writes (``report.json``) and the Hub export and publish read.

Also the per-item records of ``item_scores.jsonl`` and their tabular view (:func:`item_scores_frame`). Nothing
here computes a figure: ``certify.run`` measures, ``certify.criteria`` judges, ``render`` presents.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aipsy_affect.battery.audit_report import AuditReport
from aipsy_affect.battery.published import KeywordControlInfo
from aipsy_affect.certify.stats import Accuracy, AurocCI, LengthMatch, PairedTest, Summary, UnpairedTest
from aipsy_affect.defense.classifier import ClassifierInfo, ClassifierOutput
from aipsy_affect.defense.emolex import LexiconScores
from aipsy_affect.defense.vader import VaderScores

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ITEM_SCORE_FIELDS",
    "CertificationReport",
    "Criterion",
    "ItemScoreRow",
    "ItemScores",
    "KeywordReport",
    "LexicalReport",
    "RoutineMarkers",
    "item_score_rows",
    "item_scores_frame",
    "read_item_scores",
]

Comparison = Literal["==", "<", "<=", ">=", "|x|<="]
_Prob = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class ItemScores(BaseModel):
    """The three per-item instruments' full output for one item (in memory; ``item_scores.jsonl`` keeps a row)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    """Item id."""

    split: str | None
    """Item split (``None`` for a free-standing draft)."""

    vader: VaderScores
    """Method 1: VADER."""

    nrc: LexiconScores
    """Method 2: NRC EmoLex."""

    classifier: ClassifierOutput
    """Method 3: the contextual classifier."""


class ItemScoreRow(BaseModel):
    """One line of ``item_scores.jsonl``: the per-item figures that become the export's certification columns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    """Item id; every item of every split (twins included) has exactly one line."""

    split: Literal["clinical", "neutral", "moderate", "complex_neutral", "keyword_twins"]
    """The item's split; must agree with the battery."""

    vader_compound: Annotated[float, Field(ge=-1.0, le=1.0, allow_inf_nan=False)]
    """VADER compound sentiment score (rounded to 4 decimals)."""

    nrc_hit_rate: _Prob
    """Share of the item's tokens found in the NRC Emotion Lexicon (rounded to 6 decimals)."""

    p_emotional: _Prob
    """The classifier's probability that the text is emotional rather than neutral (rounded to 6 decimals)."""

    classifier_label: Annotated[str, Field(min_length=1, max_length=64)]
    """The classifier's top emotion (neutral excluded; ``ClassifierOutput.label``)."""


#: The columns of ``item_scores.jsonl``, in order.
ITEM_SCORE_FIELDS: tuple[str, ...] = tuple(ItemScoreRow.model_fields)


class Criterion(BaseModel):
    """One certification criterion and its verdict; ``passed`` is exactly ``value <comparison> threshold``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    """Stable machine name (``certify.criteria.CRITERIA`` lists them)."""

    passed: bool
    """The verdict (``False`` when the criterion is not applicable: nothing was shown)."""

    value: float | None
    """The measured value; ``None`` when it could not be measured (not applicable, or not a finite number)."""

    threshold: float
    """The value it is compared with."""

    comparison: Comparison
    """How ``value`` must relate to ``threshold`` to pass (``|x|<=``: the absolute value at most the threshold)."""

    description: str
    """What the criterion checks, in words."""

    applicable: bool = True
    """``False`` when the battery lacks what the criterion needs (an external battery without keyword twins and
    without a keyword control); such a criterion neither passes nor fails the report."""

    reason: str | None = None
    """Why the criterion is not applicable, or what it was measured on instead (a keyword control for twins)."""


class KeywordReport(BaseModel):
    """What the keyword screen found, per split (the lexicon version is stamped on the report)."""

    model_config = ConfigDict(extra="forbid")

    forbidden_in_480: int
    """Forbidden-keyword hits in the 480 items of the battery proper."""

    forbidden_by_split: dict[str, int]
    """Forbidden-keyword hits per main split."""

    forbidden_hits: list[dict[str, Any]]
    """Each hit in the 480: item id, matched text, keyword family, character offsets."""

    twins_without_own_keyword: list[str]
    """Keyword twins whose text names no keyword of their own emotion."""

    expressive_by_split_and_emotion: dict[str, dict[str, int]]
    """Expressive-behaviour hits per split and emotion (neutrals counted under their vignette's emotion)."""

    expressive_items_by_split: dict[str, int]
    """Items with at least one expressive-behaviour word, per split."""

    expressive_terms_by_split: dict[str, dict[str, int]]
    """Expressive-behaviour words and their counts per split, most frequent first."""

    expressive_note: str
    """How to read the expressive counts."""


class RoutineMarkers(BaseModel):
    """Routine markers ("usual", "as always", ...) in one split: a lexical giveaway of the control condition."""

    model_config = ConfigDict(extra="forbid")

    n_items: int
    """Items in the split."""

    items_with_marker: int
    """Items with at least one marker."""

    occurrences: int
    """Markers in all, counting repeats."""

    by_marker: dict[str, int]
    """Occurrences per marker, most frequent first (markers that never occur are left out)."""


class LexicalReport(BaseModel):
    """The fourth instrument: the trained lexical floor (``defense.lexical``), out of fold on the battery itself."""

    model_config = ConfigDict(extra="forbid")

    method: str
    """Vectoriser, model, regularisation and folds, in words."""

    n_folds: int
    """Pair-grouped folds (``battery.folds.grouped_folds``)."""

    fold_seed: int
    """Seed of the fold assignment (and of the logistic regressions)."""

    accuracy: dict[str, Accuracy]
    """Split -> 8-way top-1 against the target emotion (argmax of the out-of-fold probabilities; chance 1/8) with
    its exact binomial CI and test, for clinical, moderate and keyword_twins."""

    affect_auroc: AurocCI
    """Out-of-fold clinical-vs-neutral decision function: AUROC clinical vs matched neutral, pair-bootstrap CI."""

    top_words: dict[str, list[str]]
    """Emotion -> the terms (of at least two vignettes) with the largest coefficients in the 8-way model fitted on
    all clinical vignettes."""

    most_readable: list[dict[str, Any]]
    """Clinical vignettes whose emotion the floor names, most confident first (id, emotion, probability)."""

    routine_markers: dict[str, RoutineMarkers]
    """Split -> routine-marker counts."""


class CertificationReport(BaseModel):
    """Everything ``certify`` measured (written as ``report.json``)."""

    model_config = ConfigDict(extra="forbid")

    passed: bool
    """True when every applicable criterion passed (for the packaged battery every criterion applies)."""

    layout: str = "aipsy-affect"
    """The layout of the battery certified: ``aipsy-affect`` (ours) or ``published`` (the public release)."""

    source: str = "packaged"
    """Where the battery was read from (``Release.source``); its hash is ``data_sha256``."""

    audit: AuditReport | None = None
    """The design audit of a battery not in our layout (``battery.audit``); ``None`` for ours."""

    keyword_control: KeywordControlInfo | None = None
    """The unpaired keyword control measured in place of keyword twins, when one was given."""

    criteria: list[Criterion]
    """The criteria with their verdicts, in ``certify.criteria.CRITERIA`` order."""

    package_version: str
    """aipsy-affect version that produced the report."""

    data_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    """``data_sha256`` of the data scored; the report is stale when the data changes."""

    lexicon_version: str
    """Version of the emotion-keyword lexicon used for the keyword criteria."""

    lexicon_sha256: str
    """Hash of that lexicon file."""

    classifier: ClassifierInfo
    """The contextual classifier: id, revision, weights hash, device, label map, prototype version."""

    nrc_lexicon: dict[str, Any]
    """NRCLex version, EmoLex file hash, entry count and licence."""

    library_versions: dict[str, str]
    """Versions of Python and of every library on the scoring path."""

    created_utc: str
    """When the report was made (ISO 8601, UTC)."""

    machine: dict[str, Any]
    """Where it was made: platform, CPU, cores, torch threads, GPU."""

    timing_s: dict[str, float]
    """Wall-clock seconds in process: classifier load, scoring, lexical floor, statistics and figures, total (the
    interpreter's start-up and imports before ``certify`` runs are not included; the CLI prints the full time)."""

    counts: dict[str, int]
    """Items per split."""

    keywords: KeywordReport
    """Forbidden keywords in the 480, twins without their own keyword, expressive words per split and emotion."""

    summaries: dict[str, dict[str, Summary]]
    """Measure -> split -> distribution (p_emotional, vader_compound, vader_abs_compound, nrc_hit_rate, words)."""

    paired: dict[str, PairedTest]
    """Clinical vs matched neutral, Wilcoxon signed-rank, per measure."""

    length: LengthMatch
    """Word counts, clinical vs matched neutral."""

    unpaired: dict[str, UnpairedTest]
    """Mann-Whitney U tests, keyed ``<measure>:<split a>_vs_<split b>``."""

    accuracy: dict[str, dict[str, Accuracy]]
    """Method -> split -> top-1 accuracy against the target emotion (``classifier``: its label, neutral excluded;
    ``classifier_with_neutral``: argmax with neutral allowed; ``nrc_top``: EmoLex's top category)."""

    confusion: dict[str, dict[str, Any]]
    """Method -> split -> {rows, cols, matrix} with one row per target emotion."""

    contributors: dict[str, Any]
    """The VADER tokens (summed valence) and EmoLex words (items containing them) that differ most between
    clinical and neutral: the vocabulary that moves the bag-of-words and lexicon scores."""

    category_readable: list[dict[str, Any]]
    """Clinical items whose emotion the classifier names, most confident first (id, confidence, evidence)."""

    lexical: LexicalReport
    """The trained lexical floor (method 4)."""

    figures: dict[str, str]
    """Figure -> PNG file name (next to this report)."""


def item_score_rows(scores: Sequence[ItemScores]) -> list[ItemScoreRow]:
    """The ``item_scores.jsonl`` records, in the order given (battery order when written by ``certify``)."""
    return [
        ItemScoreRow(
            id=s.id,
            split=s.split,  # type: ignore[arg-type]  # a draft (split None) is rejected here
            vader_compound=round(s.vader.compound, 4),
            nrc_hit_rate=round(s.nrc.hit_rate, 6),
            p_emotional=round(s.classifier.p_emotional, 6),
            classifier_label=s.classifier.label,
        )
        for s in scores
    ]


def read_item_scores(path: str | os.PathLike[str]) -> list[ItemScoreRow]:
    """``item_scores.jsonl`` validated line by line (``InputError``/``InputErrors`` name file, line and field)."""
    from aipsy_affect.battery.io import read_models

    return read_models(path, ItemScoreRow)


def item_scores_frame(rows: Sequence[ItemScoreRow] | Sequence[ItemScores]) -> pd.DataFrame:
    """The per-item scores as a pandas DataFrame indexed by item id, one column per ``ITEM_SCORE_FIELDS`` entry."""
    import pandas as pd

    records = [r if isinstance(r, ItemScoreRow) else item_score_rows([r])[0] for r in rows]
    frame = pd.DataFrame([r.model_dump() for r in records], columns=list(ITEM_SCORE_FIELDS))
    return frame.set_index("id", drop=False)
