"""The norming study's records: a filled form row, the coordinator's key, and the per-item norm."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aipsy_affect.battery.schema import EMOTIONS

NONE_LABEL = "none"
#: What a rater may answer for "the emotion the main character most plausibly feels".
RATING_LABELS: tuple[str, ...] = (*EMOTIONS, NONE_LABEL)
RaterType = Literal["human", "llm"]
FORM_VERSION: Literal[1] = 1


def _label(value: object, *, allow_blank: bool) -> object:
    if isinstance(value, str):
        value = value.strip().lower()
        if value == "" and allow_blank:
            return None
        if value not in RATING_LABELS:
            raise ValueError(f"{value!r} is not one of {', '.join(RATING_LABELS)}")
    return value


class RatingRow(BaseModel):
    """One row of a filled rating form (CSV), as the rater wrote it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    n: Annotated[int, Field(ge=1)]
    """Position of the text on this rater's form (1-based); the key maps it back to an item id."""

    text: str
    """The text as printed on the form; checked against the key so a reordered or edited form is caught."""

    emotion: str
    """The emotion the main character most plausibly feels: one of the eight, or ``none``."""

    second_choice: str | None = None
    """An optional second choice (one of the eight or ``none``); blank when the rater had none."""

    intensity: Annotated[int, Field(ge=0, le=4)]
    """How strongly the main character feels it, 0 (not at all) to 4 (extremely)."""

    confidence: Annotated[int, Field(ge=1, le=3)]
    """The rater's confidence in the label, 1 (a guess) to 3 (sure)."""

    coherence_flag: Annotated[int, Field(ge=0, le=1)]
    """1 when something in the text does not make sense to the rater (an unmotivated action, a contradiction)."""

    @field_validator("emotion", mode="before")
    @classmethod
    def _emotion(cls, value: object) -> object:
        return _label(value, allow_blank=False)

    @field_validator("second_choice", mode="before")
    @classmethod
    def _second(cls, value: object) -> object:
        return _label(value, allow_blank=True)


class FormKey(BaseModel):
    """The coordinator's key to one rater's form: which item stands at which position. Never given to raters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rater: str
    """Rater id (``r01``, ``r02``, ...): the form's folder name."""

    rater_type: RaterType
    """Who rates this form: a ``human`` or a language-model (``llm``) rater."""

    list_index: Annotated[int, Field(ge=0)]
    """Which list of the Latin-square design the form holds (raters of one list see the same texts)."""

    item_ids: list[str]
    """Item id at each form position (position ``n`` is ``item_ids[n - 1]``)."""


class StudyKey(BaseModel):
    """``key.json``: every form's key plus how the forms were made."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    form_version: Literal[1]
    """Version of the form layout (``FORM_VERSION``)."""

    data_sha256: str
    """``data_sha256`` of the battery the forms were made from; analysis refuses another battery."""

    seed: int
    """Seed of the list assignment and of each form's shuffle."""

    n_lists: Annotated[int, Field(ge=1)]
    """Number of lists: the versions of one story (vignette, neutral, moderate, twin) go to different lists."""

    forms: list[FormKey]
    """One key per rater."""


class ItemNorm(BaseModel):
    """One row of ``data/norms.jsonl``: the normative ratings of one item."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    """Item id."""

    split: str
    """The item's split."""

    intended_label: str
    """The label the design intends: the item's emotion, or ``none`` for neutral and complex_neutral items."""

    n_raters: int
    """Number of raters who rated the item."""

    rater_types: list[RaterType]
    """Type of each rater (sorted), so a human panel added later is told apart from language-model raters."""

    modal_label: str
    """Most frequent label (an emotion or ``none``); ties are broken towards the intended label, then by order."""

    modal_share: float
    """Share of raters who gave the modal label."""

    label_agreement: float
    """Share of raters who gave the intended label."""

    label_entropy: float
    """Shannon entropy (bits) of the label distribution over raters."""

    labels: dict[str, int]
    """Count of each label given."""

    intensity_mean: float
    """Mean rated intensity, 0 to 4."""

    intensity_sd: float
    """Sample standard deviation of rated intensity (0 with one rater)."""

    confidence_mean: float
    """Mean rater confidence, 1 to 3."""

    coherence_flags: int
    """Number of raters who flagged something in the text as not making sense."""
