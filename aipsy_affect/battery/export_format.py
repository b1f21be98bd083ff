"""The layout of a Hub export: columns, parquet settings, the manifest, and reading an export back.

Shared by ``battery.sources`` (which reads exports, local or from a pinned Hub revision) and ``hub.export``
(which writes them), so the writer and the reader cannot drift apart."""

from __future__ import annotations

import hashlib
import os
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aipsy_affect.battery.io import located_errors, validate_records
from aipsy_affect.battery.schema import DOMAINS, LABEL_NAMES, MAIN_SPLITS, SPLITS, StimulusItem
from aipsy_affect.errors import ExportError, InputError

EXPORT_FORMAT_VERSION = 1

MANIFEST_NAME = "manifest.json"

TWINS_CONFIG = "keyword_twins"
#: config name -> its splits, in the order the card and the YAML header list them.
CONFIGS: dict[str, tuple[str, ...]] = {"default": MAIN_SPLITS, TWINS_CONFIG: (TWINS_CONFIG,)}

#: The public AIPsy-Affect release layout, in its column order; code written for it works on ours.
PUBLIC_COLUMNS = ("id", "emotion", "intensity", "domain", "domain_label", "matched_control_id", "word_count", "text")
#: Our structural fields beyond the public layout, derived from ``StimulusItem`` so they cannot drift from it.
OUR_COLUMNS: tuple[str, ...] = tuple(
    name for name in (*StimulusItem.model_fields, *StimulusItem.model_computed_fields) if name not in PUBLIC_COLUMNS
)
#: Per-item figures of the certification (``validation/item_scores.jsonl``); null in an uncertified export.
SCORE_COLUMNS = ("vader_compound", "nrc_hit_rate", "p_emotional", "classifier_label")
#: Derived for convenience: ``label`` (a ClassLabel in ``EMOTIONS`` order, ``none`` last) and ``pair_emotion``.
DERIVED_COLUMNS = ("label", "pair_emotion")
EXPORT_COLUMNS = PUBLIC_COLUMNS + OUR_COLUMNS + DERIVED_COLUMNS + SCORE_COLUMNS

#: One line per column, rendered into the card's field table (a test checks it covers every column).
COLUMN_DOCS: dict[str, str] = {
    "id": "Stable, readable item id, e.g. `clin-anger-work-1`, `neut-anger-work-1`, `mod-anger-work`, "
    "`cneu-work-1`, `twin-anger-work-1`.",
    "emotion": "Target Plutchik emotion (joy, trust, fear, surprise, sadness, disgust, anger, anticipation) as a "
    "plain string; null for neutral and complex_neutral items.",
    "intensity": "`peak` (clinical, keyword_twins), `moderate`, or `none` (neutral, complex_neutral).",
    "domain": "Life domain, 1 to 6; the same six domains are used for every emotion.",
    "domain_label": "Domain name: " + ", ".join(f"{d} {label}" for d, (_, label) in DOMAINS.items()) + ".",
    "matched_control_id": "Clinical item: its matched neutral. Neutral item: its clinical item. Moderate item and "
    "keyword twin: the neutral control of their peak item. Null for complex_neutral.",
    "word_count": "Whitespace-separated words in `text` (recomputed from the text, never typed in).",
    "text": "The stimulus text (English, third person, past tense, one named protagonist).",
    "split": "The split the item belongs to (repeated in the row so that concatenated splits stay labelled).",
    "peak_id": "Moderate item and keyword twin: the clinical (peak) item it varies. Null otherwise.",
    "protagonist": "First name of the one named protagonist; it occurs in the text.",
    "protagonist_gender": "Gender of the protagonist as written (`female` or `male`); balanced within each emotion.",
    "vader_compound": "Certification: VADER compound sentiment score, -1 to 1 (Hutto & Gilbert, 2014).",
    "nrc_hit_rate": "Certification: share of tokens found in the NRC Emotion Lexicon (Mohammad & Turney, 2013).",
    "p_emotional": "Certification: the contextual classifier's probability that the text is emotional (any of the "
    "eight emotions rather than neutral).",
    "label": "Class index of `emotion` as a `ClassLabel` in the fixed order joy, trust, fear, surprise, sadness, "
    "disgust, anger, anticipation, none (neutral kinds are `none`); stable across releases, unlike "
    "`class_encode_column`, which sorts names alphabetically.",
    "pair_emotion": "The emotion of the story the item belongs to: its own `emotion`, or for a neutral its "
    "vignette's; null for complex_neutral items.",
    "classifier_label": "Certification: the contextual classifier's top label (one of the eight emotions, or "
    "`neutral`).",
}

# Fixed parquet writer settings: together with a fixed schema and row order they make the bytes reproducible.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 9,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "write_page_index": False,
    "store_schema": True,
}

#: A lowercase hex sha256 digest.
SHA256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
#: Hub repo ids as huggingface_hub accepts them (one namespace, one name); use with ``fullmatch``.
REPO_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
#: Release tags; use with ``fullmatch``.
TAG_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _dtype_of(annotation: Any) -> str:
    """The ``datasets`` dtype of a pydantic field annotation (str-like -> string, int -> int64)."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        kinds = {_dtype_of(a) for a in typing.get_args(annotation) if a is not type(None)}
        if len(kinds) == 1:
            return kinds.pop()
    elif origin is Literal:
        literal_types = {type(v) for v in typing.get_args(annotation)}
        if literal_types == {str}:
            return "string"
    elif annotation is str:
        return "string"
    elif annotation is int:
        return "int64"
    raise TypeError(f"no datasets dtype for annotation {annotation!r}: extend hub._dtype_of")


def export_features() -> Any:
    """The ``datasets.Features`` of every exported split (one schema for both configs).

    ``emotion`` is a nullable string, not a ``ClassLabel``: the public release layout stores the name, neutral
    items have no emotion (a ClassLabel would need a sentinel), and string equality is what user code compares.
    """
    from datasets import ClassLabel, Features, Value

    fields = {**StimulusItem.model_fields}
    dtypes: dict[str, str] = {}
    for name in PUBLIC_COLUMNS + OUR_COLUMNS:
        if name in fields:
            dtypes[name] = _dtype_of(fields[name].annotation)
        else:
            dtypes[name] = _dtype_of(StimulusItem.model_computed_fields[name].return_type)
    dtypes.update(
        {"vader_compound": "float64", "nrc_hit_rate": "float64", "p_emotional": "float64", "classifier_label": "string"}
    )
    dtypes["pair_emotion"] = "string"
    features = {name: Value(dtypes[name]) for name in EXPORT_COLUMNS if name != "label"}
    features["label"] = ClassLabel(names=list(LABEL_NAMES))
    return Features({name: features[name] for name in EXPORT_COLUMNS})


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- manifest ------------------------------------------------------------------------------------


class ManifestFile(BaseModel):
    """One file of an export."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    """Path relative to the export root, with ``/`` separators."""

    bytes: int
    """File size."""

    sha256: SHA256
    """Hash of the file's bytes."""


class ExportManifest(BaseModel):
    """``manifest.json``: what an export holds and what it was made from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1]
    """Export layout version (``EXPORT_FORMAT_VERSION``)."""

    package_version: str
    """aipsy-affect version that wrote the export."""

    data_sha256: SHA256
    """``data_sha256()`` of the JSONL data the export was built from."""

    lexicon_version: str
    """Emotion-keyword lexicon version used for the card's keyword screen."""

    repo_id: str
    """Hub repo id rendered into the card."""

    revision: str
    """Release tag rendered into the card (the tag ``publish`` creates)."""

    certification: Literal["passed", "failed", "uncertified"]
    """State of the validation report the export carries."""

    report_sha256: SHA256 | None
    """Hash of the ``report.json`` the certification columns and table came from; null when uncertified."""

    library_versions: dict[str, str]
    """Versions of the libraries whose output bytes the export depends on (pyarrow, datasets, PyYAML)."""

    splits: dict[str, dict[str, int]]
    """config name -> split -> number of rows."""

    files: list[ManifestFile]
    """Every other file of the export, sorted by path."""


def verify_export(folder: str | os.PathLike[str]) -> ExportManifest:
    """Check every file an export's manifest lists against its size and sha256; return the manifest.

    Raises ``ExportError`` naming the first file that is missing or differs, or a parquet file under
    ``data/`` that the manifest does not list.
    """
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise ExportError(f"{folder} is not an aipsy-affect export: {MANIFEST_NAME} is missing")
    try:
        manifest = ExportManifest.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise ExportError(
            f"{path}: not a valid export manifest:\n" + "\n".join(str(e) for e in located_errors(path, 1, exc))
        ) from None
    listed = {f.path for f in manifest.files}
    for entry in manifest.files:
        target = folder / entry.path
        if not target.is_file():
            raise ExportError(f"{target}: listed in {MANIFEST_NAME} but missing")
        data = target.read_bytes()
        if len(data) != entry.bytes or _sha256(data) != entry.sha256:
            raise ExportError(
                f"{target}: does not match {MANIFEST_NAME} (sha256 {_sha256(data)[:12]}..., "
                f"expected {entry.sha256[:12]}...): the export was modified"
            )
    for extra in sorted((folder / "data").glob("*.parquet")):
        rel = extra.relative_to(folder).as_posix()
        if rel not in listed:
            raise ExportError(f"{extra}: a data file {MANIFEST_NAME} does not list")
    return manifest


# --- reading exports back --------------------------------------------------------------------------


def read_export_split(folder: str | os.PathLike[str], name: str, *, verify: bool = True) -> list[StimulusItem]:
    """Read one split of an export (local or a Hub snapshot) through the same pydantic validation as JSONL.

    The folder is first checked against its manifest. Errors name the file, the row (1-based, reported as the
    line) and the field; every bad row is reported.
    """
    import pyarrow.parquet as pq

    folder = Path(folder)
    if name not in SPLITS:
        raise KeyError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
    if verify:
        verify_export(folder)
    path = folder / "data" / f"{name}.parquet"
    if not path.is_file():
        raise InputError(path, None, None, "no such file")
    table = pq.read_table(path)
    columns = list(table.column_names)
    missing = [c for c in EXPORT_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in EXPORT_COLUMNS]
    if missing or unknown:
        parts = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + (
            [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
        )
        raise InputError(path, None, None, "; ".join(parts))
    structural = [c for c in PUBLIC_COLUMNS + OUR_COLUMNS if c in StimulusItem.model_fields]
    rows = table.to_pylist()

    def check(row_no: int, item: StimulusItem) -> list[InputError]:
        found = []
        if item.split != name:
            found.append(InputError(path, row_no, "split", f"{item.split!r} in the file of split {name!r}"))
        stored = rows[row_no - 1]["word_count"]
        if stored != item.word_count:
            found.append(
                InputError(path, row_no, "word_count", f"{stored} does not match the text ({item.word_count} words)")
            )
        return found

    records = ((row_no, {c: row[c] for c in structural}) for row_no, row in enumerate(rows, start=1))
    return validate_records(path, records, StimulusItem, check)


def download_export(repo_id: str, revision: str) -> Path:
    """Fetch a published export at a pinned revision (or find it in the local Hub cache); return its folder."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        folder = snapshot_download(repo_id, repo_type="dataset", revision=revision)
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        raise FileNotFoundError(
            f"cannot fetch dataset {repo_id!r} at revision {revision!r} from the Hub ({type(exc).__name__}: {exc})"
        ) from None
    return Path(folder)
