"""Reading a battery in the published AIPsy-Affect layout (the Hub release ``keidolabs/aipsy-affect``).

The published layout has four files, ``clinical``, ``neutral``, ``moderate`` and ``complex_neutral`` (JSONL, or
parquet as the Hub writes it), each with the same eight columns in this order: ``id``, ``emotion`` (peak labels
such as ``rage`` or ``terror``, or ``neutral``), ``intensity``, ``domain`` (1-6, or a string such as
``technical_mechanical`` for complex neutrals), ``domain_label`` (free text), ``matched_control_id`` (vignette <->
neutral), ``word_count`` (may be null) and ``text``. Its moderates have no neutral and no link to a peak item, and
there are no keyword twins.

Such a battery is read as it is. Ids and fields are kept; emotion labels map to the eight primary emotions
through ``schema.EMOTION_ALIASES`` (the published label stays in ``source_emotion``, the published word count in
``source_word_count``); nothing absent is made up: no protagonist, no peak link, no pair the file does not give.
Our design invariants are not enforced on it (:class:`ExternalBattery` checks only what reading needs, unique
ids): ``battery.audit`` reports them instead, and the packaged battery stays strict (``schema.Battery``).
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aipsy_affect.battery.export_format import MANIFEST_NAME, PUBLIC_COLUMNS
from aipsy_affect.battery.io import iter_records, located_errors
from aipsy_affect.battery.schema import (
    AFFECTIVE_SPLITS,
    ID_PATTERN,
    MAIN_SPLITS,
    MAX_TEXT_CHARS,
    MAX_WORDS,
    Battery,
    Emotion,
    OptionalStr,
    StimulusItem,
)
from aipsy_affect.errors import InputError, InputErrors, OptionError

__all__ = [
    "LAYOUTS",
    "ExternalBattery",
    "ExternalItem",
    "KeywordControlInfo",
    "KeywordControlItem",
    "Layout",
    "PublishedRead",
    "control_as_twins",
    "detect_layout",
    "read_keyword_control",
    "read_published",
    "resolve_layout",
    "split_files",
]

Layout = Literal["aipsy-affect", "published"]
LAYOUTS: tuple[str, ...] = get_args(Layout)
#: Labels the published release uses for items without an emotion.
NEUTRAL_LABELS = frozenset({"neutral", "none"})


class ExternalItem(StimulusItem):
    """An item of a battery in another layout, read as published: fields the layout lacks stay empty."""

    domain: int | str | None = None  # type: ignore[assignment]
    """Domain as published: 1-6 for clinical and neutral items, a string such as ``technical_mechanical`` for
    complex neutrals; ``None`` when the file gives none. Not mapped to our six shared domains."""

    protagonist: OptionalStr = None  # type: ignore[assignment]
    """Always ``None``: the published layout names no protagonist, and none is guessed from the text."""

    protagonist_gender: Literal["female", "male"] | None = None  # type: ignore[assignment]
    """Always ``None`` (see ``protagonist``)."""

    source_emotion: OptionalStr = None
    """The emotion label as published (``rage``, ``terror``, ``neutral``, ...); ``emotion`` holds the primary
    emotion it maps to."""

    source_word_count: int | None = None
    """``word_count`` as published (may be null); ``word_count`` is recomputed from the text."""

    @model_validator(mode="after")
    def _check_consistency(self) -> ExternalItem:  # type: ignore[override]
        # Replaces ItemDraft's check: published domains and labels are free, only the emotion must fit the split.
        if self.split in AFFECTIVE_SPLITS and self.emotion is None:
            raise ValueError(f"{self.split} items need an emotion (got {self.source_emotion!r})")
        if self.split not in AFFECTIVE_SPLITS and self.emotion is not None:
            raise ValueError(f"{self.split} items carry no emotion (got {self.source_emotion!r})")
        return self

    @model_validator(mode="after")
    def _check_links(self) -> ExternalItem:  # type: ignore[override]
        # Replaces StimulusItem's check: links are optional here (the audit reports missing ones); caps stay.
        if self.word_count > MAX_WORDS:
            raise ValueError(f"text has {self.word_count} words; the limit is {MAX_WORDS}")
        if len(self.text) > MAX_TEXT_CHARS:
            raise ValueError(f"text has {len(self.text)} characters; the limit is {MAX_TEXT_CHARS}")
        return self


class ExternalBattery(Battery):
    """A battery read from another layout: unique ids are required, the design invariants are only audited."""

    items: tuple[ExternalItem | StimulusItem, ...]
    """Every item, as read (``ExternalItem`` for the published layout; our own items keep their type)."""

    layout: Layout = "published"
    """The layout the items were read from."""

    @model_validator(mode="after")
    def _check_invariants(self) -> ExternalBattery:  # type: ignore[override]
        dupes = sorted(i for i, n in Counter(item.id for item in self.items).items() if n > 1)
        if dupes:
            raise ValueError(f"duplicate ids across the files: {', '.join(dupes[:5])}")
        return self

    def pairs(self) -> list[tuple[StimulusItem, StimulusItem]]:
        """(clinical, neutral) pairs the clinical items name through ``matched_control_id``; unpaired ones are
        left out, and a neutral claimed by two vignettes pairs with the first only."""
        index = self.by_id()
        used: set[str] = set()
        out = []
        for item in self.split("clinical"):
            other = index.get(item.matched_control_id or "")
            if other is not None and other.split == "neutral" and other.id not in used:
                used.add(other.id)
                out.append((item, other))
        return out


# --- files and layout detection --------------------------------------------------------------------------------


def split_files(folder: str | os.PathLike[str], split: str) -> list[Path]:
    """The files of one split in ``folder``: ``<split>.jsonl`` (top level or under ``data/``), else
    ``data/<split>.parquet`` or the Hub's sharded ``data/<split>-*.parquet``; empty when there is none."""
    folder = Path(folder)
    for candidate in (
        folder / f"{split}.jsonl",
        folder / "data" / f"{split}.jsonl",
        folder / "data" / f"{split}.parquet",
    ):
        if candidate.is_file():
            return [candidate]
    return sorted(p for p in (folder / "data").glob(f"{split}-*.parquet") if p.is_file())


def _columns(path: Path) -> list[str] | None:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    try:
        for _, record in iter_records(path):
            return list(record) if isinstance(record, dict) else None
    except InputError:
        return None  # the reader of the chosen layout reports the problem with its line
    return None


def detect_layout(folder: str | os.PathLike[str]) -> Layout:
    """``published`` when the clinical file's columns are all of the published layout's eight, else
    ``aipsy-affect`` (an export with a manifest, or files with our fields such as ``split``)."""
    folder = Path(folder)
    if (folder / MANIFEST_NAME).is_file():
        return "aipsy-affect"
    files = split_files(folder, "clinical")
    columns = _columns(files[0]) if files else None
    if columns and {"id", "text"} <= set(columns) <= set(PUBLIC_COLUMNS):
        return "published"
    return "aipsy-affect"


def resolve_layout(path: str | os.PathLike[str] | None, layout: str | None) -> Layout:
    """The layout to read ``path`` with: ``layout`` when given (checked), else detected; ``path=None`` is the
    packaged data, always ours."""
    if layout is not None and layout not in LAYOUTS:
        raise OptionError(f"--layout must be one of {', '.join(LAYOUTS)} (got {layout!r})")
    if path is None:
        if layout == "published":
            raise OptionError("--layout published needs --source: the packaged battery is in the aipsy-affect layout")
        return "aipsy-affect"
    return layout if layout is not None else detect_layout(path)  # type: ignore[return-value]


# --- reading ---------------------------------------------------------------------------------------------------


def _rows(path: Path) -> Iterator[tuple[int, Any]]:
    if path.suffix != ".parquet":
        yield from iter_records(path)
        return
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise InputError(path, None, None, f"not a readable parquet file ({exc})") from None
    yield from enumerate(table.to_pylist(), start=1)


def _record(raw: dict[str, Any], split: str) -> dict[str, Any]:
    label = raw.get("emotion")
    is_neutral = isinstance(label, str) and label.strip().lower() in NEUTRAL_LABELS
    return {
        "id": raw.get("id"),
        "text": raw.get("text"),
        "split": split,
        "emotion": None if is_neutral else label,
        "source_emotion": label,
        "intensity": raw.get("intensity"),
        "domain": raw.get("domain"),
        "domain_label": raw.get("domain_label"),
        "matched_control_id": raw.get("matched_control_id"),
        "source_word_count": raw.get("word_count"),
    }


def read_published_split(files: list[Path], split: str) -> tuple[list[ExternalItem], list[InputError]]:
    """The items of one split and every located problem (file, line, field)."""
    items: list[ExternalItem] = []
    errors: list[InputError] = []
    for path in files:
        for line, raw in _rows(path):
            if not isinstance(raw, dict):
                errors.append(InputError(path, line, None, f"expected a JSON object, got {type(raw).__name__}"))
                continue
            unknown = [k for k in raw if k not in PUBLIC_COLUMNS]
            for key in unknown:
                errors.append(
                    InputError(
                        path,
                        line,
                        key,
                        "not a column of the published layout ("
                        f"{', '.join(PUBLIC_COLUMNS)}); for our layout use --layout aipsy-affect",
                    )
                )
            missing = [k for k in ("id", "text") if k not in raw]
            for key in missing:
                errors.append(InputError(path, line, key, "required field is missing"))
            if unknown or missing:
                continue
            try:
                items.append(ExternalItem.model_validate(_record(raw, split)))
            except ValidationError as exc:
                errors.extend(located_errors(path, line, exc))
    return items, errors


class PublishedRead(BaseModel):
    """A battery read from the published layout, with the hash of the files it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    battery: ExternalBattery
    """The items of the four splits, in file order."""

    sha256: str
    """sha256 over every file read, in split order (split name, file name and bytes)."""

    files: dict[str, list[str]]
    """Split -> the files it was read from, relative to the folder."""


def read_published(folder: str | os.PathLike[str]) -> PublishedRead:
    """Read the four splits of a published-layout folder; ``InputErrors`` lists every problem of every file."""
    folder = Path(folder)
    digest = hashlib.sha256()
    items: list[ExternalItem] = []
    errors: list[InputError] = []
    files: dict[str, list[str]] = {}
    for split in MAIN_SPLITS:
        found = split_files(folder, split)
        if not found:
            errors.append(
                InputError(
                    folder / f"{split}.jsonl",
                    None,
                    None,
                    f"no {split} file (looked for {split}.jsonl, data/{split}.jsonl, "
                    f"data/{split}.parquet and data/{split}-*.parquet)",
                )
            )
            continue
        files[split] = [p.relative_to(folder).as_posix() for p in found]
        for path in found:
            digest.update(f"{split}\0{path.name}\0".encode() + path.read_bytes())
        got, problems = read_published_split(found, split)
        items += got
        errors += problems
    seen: dict[str, str] = {}
    for item in items:
        if item.id in seen:
            errors.append(
                InputError(folder, None, "id", f"duplicate id {item.id!r} (in {seen[item.id]} and {item.split})")
            )
        seen.setdefault(item.id, item.split)
    if errors:
        raise InputErrors(errors)
    return PublishedRead(battery=ExternalBattery(items=tuple(items)), sha256=digest.hexdigest(), files=files)


# --- the keyword control ---------------------------------------------------------------------------------------


class KeywordControlItem(BaseModel):
    """One text of an unpaired keyword-rich control: it names its emotion with a keyword on purpose."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    """Item id; must not repeat an id of the battery it controls."""

    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
    """The keyword-rich text."""

    emotion: Emotion
    """The emotion the text names (Plutchik intensity names such as ``rage`` are accepted)."""


class KeywordControlInfo(BaseModel):
    """Which keyword control a certification used in place of keyword twins."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    """The file, as given."""

    sha256: str
    """sha256 of the file's bytes."""

    n: int
    """Items in the control."""

    by_emotion: dict[str, int]
    """Items per emotion."""


def read_keyword_control(path: str | os.PathLike[str]) -> tuple[list[KeywordControlItem], KeywordControlInfo]:
    """The items of a keyword-control file (JSONL, JSON or CSV with ``id``, ``text``, ``emotion``) and its stamp."""
    from aipsy_affect.battery.io import read_models

    items = read_models(path, KeywordControlItem)
    info = KeywordControlInfo(
        path=str(path),
        sha256=hashlib.sha256(Path(path).read_bytes()).hexdigest(),
        n=len(items),
        by_emotion=dict(sorted(Counter(str(i.emotion) for i in items).items())),
    )
    return items, info


def control_as_twins(battery: Battery, control: list[KeywordControlItem], source: str) -> ExternalBattery:
    """``battery`` with the control items added as an unpaired ``keyword_twins`` split (no ``peak_id``), so the
    instruments that read keyword twins read the control; an id the battery already has is bad input."""
    known = {item.id for item in battery.items}
    clash = [c.id for c in control if c.id in known]
    if clash:
        raise InputErrors([InputError(source, None, "id", f"id {i!r} is also an item of the battery") for i in clash])
    twins = [
        ExternalItem(
            id=c.id,
            text=c.text,
            split="keyword_twins",
            emotion=c.emotion,  # type: ignore[arg-type]
            source_emotion=str(c.emotion),
        )
        for c in control
    ]
    kept: list[StimulusItem] = [i for i in battery.items if i.split != "keyword_twins"]
    layout = battery.layout if isinstance(battery, ExternalBattery) else "aipsy-affect"
    return ExternalBattery(items=(*kept, *twins), layout=layout)
