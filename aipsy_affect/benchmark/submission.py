"""The benchmark submission format (``format_version`` 1) and its checks.

A submission holds, for every probed layer of one model, the out-of-fold probe outputs on every item:

.. code-block:: json

    {"format_version": 1,
     "model":   {"id": "org/name", "revision": "<commit>"},
     "method":  {"name": "logistic-regression", "pooling": "mean", "prompt": "{text}", "cv_folds": 5},
     "dataset": {"revision": "<aipsy_affect.data_sha256()>"},
     "layers":  [{"layer": 0,
                  "affect":   {"clin-anger-work-1": 2.31, "neut-anger-work-1": -1.05, "...": 0.0},
                  "category": {"clin-anger-work-1": {"joy": 0.01, "trust": 0.02, "fear": 0.1, "surprise": 0.05,
                                                     "sadness": 0.12, "disgust": 0.1, "anger": 0.55,
                                                     "anticipation": 0.05}},
                  "folds":    {"clin-anger-work-1": 3, "neut-anger-work-1": 3, "...": 0}}]}

Two layers of checks:

* :class:`Submission` itself checks what a file can get wrong on its own: the format version, finite numbers,
  probabilities over the eight emotions that are non-negative and sum to one, a fold id for every scored
  item, no duplicate layers.
* :func:`check_submission` checks the file against the battery's answer key: every required id present,
  no unknown id, and folds that keep each item family (a clinical vignette, its matched neutral, the
  moderate variant and the keyword twin of that vignette) together, so that no probe was trained on an
  item's matched partner while scoring the item.

:func:`load_submission` does both and raises :class:`aipsy_affect.io.InputErrors` naming the file and the
field of every problem (the CLI turns that into exit code 2).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aipsy_affect.battery.io import InputError, InputErrors
from aipsy_affect.battery.schema import EMOTIONS, MAIN_SPLITS, EmotionName

if TYPE_CHECKING:
    from aipsy_affect.battery.schema import Battery

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
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_control_chars(value: str | None) -> str | None:
    if value is not None and _CONTROL.search(value):
        raise ValueError("must not contain control characters (newlines, tabs, NUL, ...)")
    return value


def _fmt_ids(ids: list[str], total: int | None = None) -> str:
    total = len(ids) if total is None else total
    shown = ", ".join(ids[:_SHOW])
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

    num_parameters: Annotated[int, Field(ge=1)] | None = None
    """Parameter count, when known; shown on the leaderboard."""

    _check_id = field_validator("id", "revision", "dtype")(_no_control_chars)


class MethodInfo(BaseModel):
    """How the probe outputs were produced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    """The probe, e.g. ``logistic-regression`` or ``mass-mean``."""

    pooling: Annotated[str, Field(min_length=1, max_length=100)]
    """How token states became one vector per item, e.g. ``mean``, ``last``, ``first``, ``max``."""

    prompt: Annotated[str, Field(max_length=4000)]
    """The text fed to the model, with ``{text}`` where the item went; ``{text}`` alone for the bare item."""

    cv_folds: Annotated[int, Field(ge=2, le=10_000)]
    """Number of cross-validation folds; every fold id in ``layers[].folds`` is one of ``cv_folds`` groups."""

    cv_scheme: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """The cross-validation scheme, e.g. ``pair-grouped stratified k-fold``."""

    seed: int | None = None
    """Random seed of the folds and the probe, when there is one."""

    description: Annotated[str, Field(max_length=4000)] | None = None
    """Free text: regularisation, feature scaling, anything needed to reproduce the outputs."""

    url: Annotated[str, Field(max_length=500)] | None = None
    """Where the code or paper is (shown as text, never as a live link)."""

    _check_text = field_validator("name", "pooling", "cv_scheme", "url")(_no_control_chars)


class DatasetInfo(BaseModel):
    """Which release of the battery was probed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    revision: Annotated[str, Field(min_length=1, max_length=128)]
    """``aipsy_affect.data_sha256()`` of the battery used (a prefix of at least 12 hex digits is accepted)."""


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
    def _check_values(self) -> "LayerOutputs":
        problems: list[str] = []
        incomplete, negative, unnormalised = [], [], []
        for item_id, probs in self.category.items():
            if len(probs) != len(EMOTIONS):
                missing = [e for e in EMOTIONS if e not in probs]
                incomplete.append(f"{item_id} (missing {', '.join(missing)})")
                continue
            if min(probs.values()) < 0:
                negative.append(item_id)
                continue
            total = math.fsum(probs.values())
            if abs(total - 1.0) > PROB_SUM_TOLERANCE:
                unnormalised.append(f"{item_id} (sum {total:.9g})")
        if incomplete:
            problems.append(f"category needs all eight emotions ({', '.join(EMOTIONS)}); "
                            f"incomplete: {_fmt_ids(incomplete)}")
        if negative:
            problems.append(f"category has negative probabilities: {_fmt_ids(negative)}")
        if unnormalised:
            problems.append(f"category probabilities must sum to 1 within {PROB_SUM_TOLERANCE:g}: "
                            f"{_fmt_ids(unnormalised)}")
        scored = self.affect.keys() | self.category.keys()
        no_fold = sorted(scored - self.folds.keys())
        if no_fold:
            problems.append(f"folds has no fold id for scored items: {_fmt_ids(no_fold)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Submission(BaseModel):
    """A benchmark submission: per-layer, per-item out-of-fold probe outputs of one model and method."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1]
    """Version of this format; this release reads 1."""

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
        default_factory=dict)
    """Versions of the software that produced the outputs, e.g. ``{"torch": "2.3.1", "transformers": "4.44.0"}``."""

    _check_submitter = field_validator("submitter")(_no_control_chars)

    @model_validator(mode="after")
    def _check_layers(self) -> "Submission":
        seen: dict[int, int] = {}
        dupes = []
        for pos, layer in enumerate(self.layers):
            if layer.layer in seen:
                dupes.append(f"layer {layer.layer} (layers[{seen[layer.layer]}] and layers[{pos}])")
            else:
                seen[layer.layer] = pos
        if dupes:
            raise ValueError(f"duplicate layers: {_fmt_ids(dupes)}")
        return self


# --- reading --------------------------------------------------------------------------------------------


def _field_path(loc: tuple[object, ...]) -> str | None:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or None


def parse_submission(data: bytes | str, source: str | os.PathLike[str] = "<submission>") -> Submission:
    """Parse and structurally validate a submission; raise ``InputErrors`` naming every problem's field."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputErrors([InputError(source, None, None, f"not valid UTF-8 (byte at offset {exc.start}); "
                                                              "save the submission as UTF-8 JSON")]) from None
    if not data.strip():
        raise InputErrors([InputError(source, None, None, "file is empty")])
    try:
        return Submission.model_validate_json(data)
    except ValidationError as exc:
        raise InputErrors(_located(source, exc)) from None


def _located(source: str | os.PathLike[str], exc: ValidationError) -> list[InputError]:
    errors = exc.errors()
    version = [e for e in errors if e["loc"] == ("format_version",)]
    if version:
        # Any other complaint about a file of an unknown version is noise: the format itself may differ.
        got = version[0].get("input")
        if version[0]["type"] == "missing":
            msg = f"format_version is missing; this aipsy-affect reads format_version {FORMAT_VERSION}"
        else:
            msg = (f"format_version {got!r} is not supported; this aipsy-affect reads format_version "
                   f"{FORMAT_VERSION} (a newer file needs a newer aipsy-affect)")
        return [InputError(source, None, "format_version", msg)]
    out: list[InputError] = []
    by_kind: dict[tuple[str, str], list[str]] = defaultdict(list)
    for err in errors:
        if err["type"] == "json_invalid":
            m = re.search(r"line (\d+)", err["msg"])
            return [InputError(source, int(m.group(1)) if m else None, None, f"malformed JSON ({err['msg']})")]
        loc = tuple(err["loc"])
        if not loc and err["type"] == "model_type":
            got = type(err.get("input")).__name__
            return [InputError(source, None, None, f"a submission is one JSON object; this file holds a {got}")]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "finite_number":
            msg = "non-finite value (NaN or infinity); every score must be a finite number"
        elif err["type"] == "literal_error" and "input" in err:
            msg = f"{err['input']!r} is not allowed ({msg})"
        # Per-item errors inside a layer (one bad value per item) are grouped so a wholly NaN layer
        # gives one line, not thousands.
        if len(loc) >= 4 and loc[0] == "layers" and loc[2] in ("affect", "category", "folds"):
            by_kind[(f"layers[{loc[1]}].{loc[2]}", msg)].append(str(loc[3]))
            continue
        out.append(InputError(source, None, _field_path(loc), msg))
    for (field, msg), ids in by_kind.items():
        out.append(InputError(source, None, field, f"{msg}: {_fmt_ids(sorted(set(ids)))}"))
    return out


def read_submission(path: str | os.PathLike[str], max_bytes: int = MAX_SUBMISSION_BYTES) -> tuple[Submission, str]:
    """Read a submission file; return it with the sha256 of its bytes (the leaderboard's identity of a file)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputErrors([InputError(path, None, None, "no such file")]) from None
    if path.is_dir():
        raise InputErrors([InputError(path, None, None, "is a directory, not a file")])
    if size > max_bytes:
        raise InputErrors([InputError(path, None, None, f"file is {size} bytes; the limit is {max_bytes} bytes")])
    data = path.read_bytes()
    return parse_submission(data, path), hashlib.sha256(data).hexdigest()


# --- checks against the answer key ----------------------------------------------------------------------


def _families(battery: "Battery") -> dict[str, str]:
    """Item id -> the clinical id of its family; complex_neutral items are their own family."""
    family: dict[str, str] = {}
    for item in battery.items:
        if item.split == "clinical":
            family[item.id] = item.id
        elif item.split == "neutral":
            family[item.id] = item.matched_control_id  # type: ignore[assignment]
        elif item.split in ("moderate", "keyword_twins"):
            family[item.id] = item.peak_id  # type: ignore[assignment]
        else:
            family[item.id] = item.id
    return family


def check_submission(
    submission: Submission,
    battery: "Battery",
    *,
    source: str | os.PathLike[str] = "<submission>",
    dataset_revision: str | None = None,
) -> list[InputError]:
    """Every problem of ``submission`` against ``battery``'s answer key (an empty list when it is valid).

    ``dataset_revision`` is the hash of the battery being scored against (``data_sha256()`` for the packaged
    one); a submission that names a different dataset revision is refused. ``None`` skips that check.
    """
    errors: list[InputError] = []
    if dataset_revision is not None and submission.dataset is not None:
        given = submission.dataset.revision.lower()
        if not (len(given) >= 12 and dataset_revision.lower().startswith(given)):
            errors.append(InputError(source, None, "dataset.revision",
                                     f"{submission.dataset.revision!r} is not this battery's revision "
                                     f"{dataset_revision} (probe the current release, or score with the "
                                     "aipsy-affect release you probed)"))

    by_split: dict[str, set[str]] = defaultdict(set)
    for item in battery.items:
        by_split[item.split].add(item.id)
    required_affect = set().union(*(by_split[s] for s in MAIN_SPLITS))
    required_category = set().union(*(by_split[s] for s in CATEGORY_SPLITS))
    twins = by_split[TWIN_SPLIT]
    family = _families(battery)

    # The same problem in many layers is reported once, with the layers it affects.
    found: dict[tuple[str, str], list[int]] = defaultdict(list)

    def note(field: str, message: str, pos: int) -> None:
        found[(field, message)].append(pos)

    for pos, layer in enumerate(submission.layers):
        for field, given, required, universe in (
            ("affect", layer.affect.keys(), required_affect, required_affect | twins),
            ("category", layer.category.keys(), required_category, required_category | twins),
        ):
            unknown = sorted(given - universe)
            if unknown:
                what = "not items of the battery" if field == "affect" else "not clinical, moderate or twin items"
                note(field, f"unknown item ids ({what}): {_fmt_ids(unknown)}", pos)
            missing = sorted(required - given)
            if missing:
                note(field, f"missing {len(missing)} of {len(required)} required items: {_fmt_ids(missing)}", pos)
            given_twins = given & twins
            if given_twins and given_twins != twins:
                absent = sorted(twins - given_twins)
                note(field, f"keyword twins are optional but, when given, all {len(twins)} are needed; "
                            f"missing {len(absent)}: {_fmt_ids(absent)}", pos)
        unknown = sorted(layer.folds.keys() - family.keys())
        if unknown:
            note("folds", f"unknown item ids (not items of the battery): {_fmt_ids(unknown)}", pos)
        groups: dict[str, dict[int, str]] = defaultdict(dict)
        for item_id, fold in layer.folds.items():
            root = family.get(item_id)
            if root is not None:
                groups[root].setdefault(fold, item_id)
        split_pairs = sorted(
            " / ".join(f"{i} (fold {f})" for f, i in sorted(folds.items()))
            for folds in groups.values() if len(folds) > 1
        )
        if split_pairs:
            note("folds", f"matched items split across folds (a clinical item, its neutral, moderate and twin must "
                          f"share a fold): {_fmt_ids(split_pairs)}", pos)
        n_folds = len(set(layer.folds.values()))
        if n_folds > submission.method.cv_folds:
            note("folds", f"{n_folds} distinct fold ids, more than method.cv_folds = {submission.method.cv_folds}",
                 pos)

    for (field, message), positions in found.items():
        others = len(positions) - 1
        suffix = f" (same in {others} other layer{'s' if others > 1 else ''})" if others else ""
        errors.append(InputError(source, None, f"layers[{positions[0]}].{field}", message + suffix))
    return errors


def load_submission(
    path: str | os.PathLike[str],
    battery: "Battery | None" = None,
    *,
    dataset_revision: str | None = None,
    max_bytes: int = MAX_SUBMISSION_BYTES,
) -> tuple[Submission, str]:
    """Read, validate and check a submission against the battery (default: the packaged one).

    Returns the submission and the sha256 of its bytes; raises ``InputErrors`` listing every problem.
    With the packaged battery and no ``dataset_revision``, the dataset revision is checked against
    ``data_sha256()``.
    """
    if battery is None:
        from aipsy_affect.battery.sources import data_sha256, load_battery

        battery = load_battery()
        if dataset_revision is None:
            dataset_revision = data_sha256()
    submission, digest = read_submission(path, max_bytes=max_bytes)
    errors = check_submission(submission, battery, source=path, dataset_revision=dataset_revision)
    if errors:
        raise InputErrors(errors)
    return submission, digest


__all__ = [
    "CATEGORY_SPLITS",
    "FORMAT_VERSION",
    "MAX_SUBMISSION_BYTES",
    "PROB_SUM_TOLERANCE",
    "DatasetInfo",
    "LayerOutputs",
    "MethodInfo",
    "ModelInfo",
    "Submission",
    "check_submission",
    "load_submission",
    "parse_submission",
    "read_submission",
]
