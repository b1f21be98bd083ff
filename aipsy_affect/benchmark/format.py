"""The benchmark submission format (``format_version`` 1): the pydantic models and what a file can get wrong alone.

A submission holds, for every probed layer of one model, the out-of-fold probe outputs on every item:

.. code-block:: json

    {"format_version": 1,
     "model":   {"id": "org/name", "revision": "<commit>"},
     "method":  {"name": "logistic-regression", "pooling": "mean", "prompt": "{text}", "cv_folds": 5},
     "dataset": {"revision": "<aipsy_affect.data_sha256()>"},
     "layers":  [{"layer": 0,
                  "affect":   {"clin-anger-work-1": 2.31, "neut-anger-work-1": -1.05, "...": 0.0},
                  "category": {"clin-anger-work-1": {"joy": 0.01, "...": 0.55}},
                  "folds":    {"clin-anger-work-1": 3, "neut-anger-work-1": 3, "...": 0}}]}

The models check the format version (exactly the integer 1), finite numbers, probabilities over the eight
emotions, a fold id for every scored item, unique layers, and strings free of control, line-break and bidi
characters. Checks against the answer key live in :mod:`aipsy_affect.benchmark.checks`; the one intake that
reads files is :func:`aipsy_affect.benchmark.submission.load_submission`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aipsy_affect.battery.schema import EMOTIONS, EmotionName

#: The one format version this release reads and writes.
FORMAT_VERSION = 1
#: Submissions larger than this are refused before parsing (an 80-layer model with twins is about 12 MB).
MAX_SUBMISSION_BYTES = 64 * 1024 * 1024
#: Category probabilities must sum to one within this tolerance.
PROB_SUM_TOLERANCE = 1e-6
#: Splits whose category probabilities are required (the affective items of the 480).
CATEGORY_SPLITS: tuple[str, ...] = ("clinical", "moderate")
#: The optional split: scored when given, and then given in full.
TWIN_SPLIT = "keyword_twins"
MAX_LAYERS = 1024
#: At most this many problems of one kind are listed; the rest are counted.
_SHOW = 5

FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]
FoldId = Annotated[int, Field(strict=True, ge=0)]

# Bidi controls can make a name render as something else (Trojan Source); C0/C1 controls can redraw a terminal.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_SINGLE_LINE_BAD = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")
# Free text (prompt, description) may span lines; everything else stays refused.
_MULTI_LINE_BAD = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")


def _clean(pattern: re.Pattern[str], value: str | None) -> str | None:
    if value is not None:
        bad = pattern.search(value)
        if bad:
            raise ValueError(
                f"must not contain control, line-break or bidi characters "
                f"(found U+{ord(bad.group()):04X} at position {bad.start()})"
            )
    return value


def _single_line(value: str | None) -> str | None:
    return _clean(_SINGLE_LINE_BAD, value)


def _multi_line(value: str | None) -> str | None:
    return _clean(_MULTI_LINE_BAD, value)


def show_id(item_id: str) -> str:
    """An id as it may be printed: unchanged when harmless, else its escaped ``ascii()`` form."""
    return item_id if item_id.isprintable() and not _SINGLE_LINE_BAD.search(item_id) else ascii(item_id)


def fmt_ids(ids: Sequence[str], total: int | None = None) -> str:
    """The first few ids (escaped for printing) and how many there are in all."""
    total = len(ids) if total is None else total
    shown = ", ".join(show_id(i) for i in ids[:_SHOW])
    return shown + (f", ... ({total} in all)" if total > _SHOW else "")


class ModelInfo(BaseModel):
    """Which model was probed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(min_length=1, max_length=256)]
    """Hugging Face model id (``org/name``) or another stable name of the model."""

    revision: Annotated[str, Field(min_length=1, max_length=128)]
    """The exact weights: a Hub commit hash, or a version tag for models that are not on the Hub."""

    dtype: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    """Precision the activations were computed in (``float32``, ``bfloat16``, ...), when known."""

    num_parameters: Annotated[int, Field(strict=True, ge=1)] | None = None
    """Parameter count, when known; shown on the leaderboard."""

    _check_text = field_validator("id", "revision", "dtype")(_single_line)


class MethodInfo(BaseModel):
    """How the probe outputs were produced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    """The probe, e.g. ``logistic-regression`` or ``mass-mean``."""

    pooling: Annotated[str, Field(min_length=1, max_length=100)]
    """How token states became one vector per item, e.g. ``mean``, ``last``, ``first``, ``max``."""

    prompt: Annotated[str, Field(max_length=4000)]
    """The text fed to the model, with ``{text}`` where the item went; ``{text}`` alone for the bare item."""

    cv_folds: Annotated[int, Field(strict=True, ge=2, le=10_000)]
    """Number of cross-validation folds; every fold id in ``layers[].folds`` is one of ``cv_folds`` groups."""

    cv_scheme: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """The cross-validation scheme, e.g. ``pair-grouped stratified k-fold``."""

    seed: Annotated[int, Field(strict=True)] | None = None
    """Random seed of the folds and the probe, when there is one."""

    description: Annotated[str, Field(max_length=4000)] | None = None
    """Free text: regularisation, feature scaling, anything needed to reproduce the outputs."""

    url: Annotated[str, Field(max_length=500)] | None = None
    """Where the code or paper is (shown as text, never as a live link)."""

    _check_line = field_validator("name", "pooling", "cv_scheme", "url")(_single_line)
    _check_text = field_validator("prompt", "description")(_multi_line)


class DatasetInfo(BaseModel):
    """Which release of the battery was probed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    revision: Annotated[str, Field(min_length=1, max_length=128)]
    """``aipsy_affect.data_sha256()`` of the battery used (a prefix of at least 12 hex digits is accepted)."""

    _check_text = field_validator("revision")(_single_line)


class LayerOutputs(BaseModel):
    """Out-of-fold probe outputs of one layer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    layer: Annotated[int, Field(strict=True, ge=0)]
    """Layer index as ``transformers`` numbers ``hidden_states``: 0 is the embedding output."""

    affect: dict[str, FiniteFloat]
    """Item id -> affect score, higher = more affective (any scale: logit, probability, distance).
    Every item of clinical, neutral, moderate and complex_neutral; keyword_twins optional (all or none)."""

    category: dict[str, dict[EmotionName, FiniteFloat]]
    """Item id -> probability of each of the eight emotions (non-negative, summing to 1).
    Every clinical and moderate item; keyword_twins optional (all or none)."""

    folds: dict[str, FoldId]
    """Item id -> the cross-validation fold whose held-out set the item was in; at least every id of
    ``affect`` and ``category``. An item family (vignette, matched neutral, moderate, twin) shares one fold."""

    @model_validator(mode="after")
    def _check_values(self) -> LayerOutputs:
        problems: list[str] = []
        incomplete, negative, unnormalised = [], [], []
        for item_id, probs in self.category.items():
            if len(probs) != len(EMOTIONS):
                missing = [e for e in EMOTIONS if e not in probs]
                incomplete.append(f"{show_id(item_id)} (missing {', '.join(missing)})")
                continue
            if min(probs.values()) < 0:
                negative.append(item_id)
                continue
            total = math.fsum(probs.values())
            if abs(total - 1.0) > PROB_SUM_TOLERANCE:
                unnormalised.append(f"{show_id(item_id)} (sum {total:.9g})")
        if incomplete:
            problems.append(
                f"category needs all eight emotions ({', '.join(EMOTIONS)}); "
                f"incomplete: {', '.join(incomplete[:_SHOW])}"
            )
        if negative:
            problems.append(f"category has negative probabilities: {fmt_ids(negative)}")
        if unnormalised:
            problems.append(
                f"category probabilities must sum to 1 within {PROB_SUM_TOLERANCE:g}: {', '.join(unnormalised[:_SHOW])}"
            )
        no_fold = sorted((self.affect.keys() | self.category.keys()) - self.folds.keys())
        if no_fold:
            problems.append(f"folds has no fold id for scored items: {fmt_ids(no_fold)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Submission(BaseModel):
    """A benchmark submission: per-layer, per-item out-of-fold probe outputs of one model and method."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: int
    """Version of this format: exactly the integer 1 (``true`` and ``1.0`` are refused)."""

    model: ModelInfo
    """The probed model."""

    method: MethodInfo
    """The probing method."""

    dataset: DatasetInfo | None = None
    """The battery release that was probed; checked against the scorer's battery when given."""

    layers: Annotated[list[LayerOutputs], Field(min_length=1, max_length=MAX_LAYERS)]
    """One entry per probed layer, each layer index at most once."""

    submitter: Annotated[str, Field(max_length=200)] | None = None
    """Who submitted (a name or a team), shown on the leaderboard."""

    software: dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=100)]] = Field(
        default_factory=dict
    )
    """Versions of the software that produced the outputs, e.g. ``{"torch": "2.3.1", "transformers": "4.44.0"}``."""

    @field_validator("format_version", mode="before")
    @classmethod
    def _exactly_one(cls, value: Any) -> Any:
        # ``true == 1`` and ``1.0 == 1`` in Python; a version number must be the JSON integer itself.
        if type(value) is not int or value != FORMAT_VERSION:
            raise ValueError(
                f"format_version {value!r} is not supported; this aipsy-affect reads format_version "
                f"{FORMAT_VERSION} (the integer; a newer file needs a newer aipsy-affect)"
            )
        return value

    @field_validator("submitter")
    @classmethod
    def _check_submitter(cls, value: str | None) -> str | None:
        return _single_line(value)

    @field_validator("software")
    @classmethod
    def _check_software(cls, value: dict[str, str]) -> dict[str, str]:
        for key, version in value.items():
            _single_line(key)
            _single_line(version)
        return value

    @model_validator(mode="after")
    def _check_layers(self) -> Submission:
        seen: dict[int, int] = {}
        dupes = []
        for pos, layer in enumerate(self.layers):
            if layer.layer in seen:
                dupes.append(f"layer {layer.layer} (layers[{seen[layer.layer]}] and layers[{pos}])")
            else:
                seen[layer.layer] = pos
        if dupes:
            raise ValueError(f"duplicate layers: {', '.join(dupes[:_SHOW])}")
        return self

    def content_sha256(self) -> str:
        """sha256 of the content, not the bytes: the identity of a submission on the leaderboard.

        Whitespace, key order, layer order and number spelling (``1.0``, ``1e0``) do not change it; any changed
        value, id or metadata field does.
        """
        import numpy as np

        digest = hashlib.sha256(b"aipsy-affect submission format 1\n")
        head = self.model_dump(mode="json", exclude_none=True, exclude={"layers"})
        digest.update(json.dumps(head, sort_keys=True, ensure_ascii=True).encode("ascii"))
        for layer in sorted(self.layers, key=lambda out: out.layer):
            digest.update(b"\nlayer %d\n" % layer.layer)
            for values in (layer.affect, layer.folds):
                ids = sorted(values)
                digest.update(json.dumps(ids).encode("ascii"))
                digest.update(np.array([values[i] for i in ids], dtype=np.float64).tobytes())
            ids = sorted(layer.category)
            digest.update(json.dumps(ids).encode("ascii"))
            digest.update(
                np.array(
                    [[layer.category[i][e] for e in EMOTIONS] for i in ids],  # type: ignore[index]
                    dtype=np.float64,
                ).tobytes()
            )
        return digest.hexdigest()


__all__ = [
    "CATEGORY_SPLITS",
    "FORMAT_VERSION",
    "MAX_LAYERS",
    "MAX_SUBMISSION_BYTES",
    "PROB_SUM_TOLERANCE",
    "TWIN_SPLIT",
    "DatasetInfo",
    "FiniteFloat",
    "LayerOutputs",
    "MethodInfo",
    "ModelInfo",
    "Submission",
    "fmt_ids",
    "show_id",
]
