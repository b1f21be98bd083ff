"""Hugging Face Hub: a deterministic Hub-ready export of the battery, its dataset card, publishing, and
reading exports back (locally or from a pinned Hub revision).

The export is a dataset repository:

* ``data/<split>.parquet`` for the default config (clinical, neutral, moderate, complex_neutral) and
  ``data/keyword_twins.parquet`` for the ``keyword_twins`` config;
* ``README.md``: ``CARD.md`` rendered with a generated YAML header (configs, features, split sizes) and the
  validation table filled from ``validation/report.json``;
* ``validation/``: the certification report it was built from (``report.json``, ``REPORT.md``, figures);
* ``manifest.json``: provenance and the sha256 of every other file, sorted by path.

The same data, certification and library versions give byte-identical files: parquet is written with fixed
settings from a fixed column order, nothing carries a timestamp, and JSON is dumped with sorted keys.

Heavy libraries (pyarrow, datasets, huggingface_hub) are imported inside the functions that need them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import statistics
import tempfile
import types
import typing
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._version import __version__
from .io import InputError, InputErrors, located_errors, read_models, validate_records, write_atomic
from .schema import DOMAINS, EMOTIONS, MAIN_SPLITS, SPLITS, Battery, StimulusItem

#: Bump when the layout of an export (files, columns, manifest) changes.
EXPORT_FORMAT_VERSION = 1
#: Repo id rendered into the card when ``export`` is not told where the data will be published.
DEFAULT_REPO_ID = "aipsy-affect/aipsy-affect"
DEFAULT_VALIDATION_DIR = Path("validation")
PRETTY_NAME = "AIPsy-Affect: a keyword-free clinical emotion stimulus battery"
MANIFEST_NAME = "manifest.json"
REPORT_NAME = "report.json"
ITEM_SCORES_NAME = "item_scores.jsonl"
#: Files of the validation folder that travel with the export (the item scores travel as columns).
VALIDATION_FILES = ("report.json", "REPORT.md")
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
EXPORT_COLUMNS = PUBLIC_COLUMNS + OUR_COLUMNS + SCORE_COLUMNS

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

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_SHA256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

Echo = Callable[[str], None]


# --- errors -----------------------------------------------------------------------------------

CertificationProblem = Literal["missing", "malformed", "stale", "incomplete", "failed"]


class CertificationError(Exception):
    """The validation report cannot vouch for the data; ``problems`` name each reason (first is the main one)."""

    def __init__(self, problems: list[tuple[CertificationProblem, str]]) -> None:
        self.problems = problems
        self.reason: CertificationProblem = problems[0][0]
        super().__init__("\n".join(f"{kind}: {message}" for kind, message in problems))


class ExportError(ValueError):
    """An export cannot be written, or an exported folder does not match its manifest."""


class PublishError(RuntimeError):
    """Publishing was refused (``refused``) or a Hub call failed; the message never contains the token."""

    def __init__(self, message: str, *, refused: bool) -> None:
        self.refused = refused
        super().__init__(message)


# --- certification inputs -----------------------------------------------------------------------

_Prob = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class ItemScore(BaseModel):
    """One line of ``validation/item_scores.jsonl``: the certification's per-item figures."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    """Item id; every item of every split (twins included) has exactly one line."""

    split: Literal["clinical", "neutral", "moderate", "complex_neutral", "keyword_twins"]
    """The item's split; must agree with the battery."""

    vader_compound: Annotated[float, Field(ge=-1.0, le=1.0, allow_inf_nan=False)]
    """VADER compound sentiment score."""

    nrc_hit_rate: _Prob
    """Share of the item's tokens found in the NRC Emotion Lexicon."""

    p_emotional: _Prob
    """The classifier's probability that the text is emotional rather than neutral."""

    classifier_label: Annotated[str, Field(min_length=1, max_length=64)]
    """The classifier's top label (an emotion or ``neutral``)."""


class CriterionView(BaseModel):
    """One certification criterion as ``report.json`` states it."""

    # A read-only view of a file the certify module owns: fields it adds later must not break publishing.
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    """The criterion's name."""

    passed: bool
    """Its verdict."""

    value: Any = None
    """The measured value (a number, a flag, a string or a small structure)."""

    threshold: Any = None
    """What the value had to meet."""

    comparison: str | None = None
    """How ``value`` must relate to ``threshold`` (``<=``, ``>=``, ...), when the report says."""

    description: str | None = None
    """What the criterion checks, in words, when the report says."""


class ClassifierView(BaseModel):
    """The contextual classifier the certification ran."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    """Model id or path."""

    revision: str | None = None
    """Model revision (Hub commit or version tag)."""

    weights_sha256: str | None = None
    """Hash of the weights actually loaded."""


class ReportView(BaseModel):
    """The fields of ``validation/report.json`` that export and publish rely on."""

    # extra="ignore": certify owns this file and stamps more (figures, statistics); we read what we use.
    model_config = ConfigDict(extra="ignore", frozen=True)

    passed: bool
    """Overall verdict: every criterion passed."""

    criteria: list[CriterionView]
    """Every criterion with its value, threshold and verdict."""

    package_version: str
    """aipsy-affect version that produced the report."""

    data_sha256: _SHA256
    """``aipsy_affect.battery.data_sha256()`` of the data that was certified."""

    lexicon_version: str
    """Version of the emotion-keyword lexicon the screen used."""

    classifier: ClassifierView
    """The contextual classifier that was run."""

    library_versions: dict[str, str] = Field(default_factory=dict)
    """Versions of the libraries that computed the figures."""


class Certification(BaseModel):
    """A validation report with its per-item scores, as read from a validation folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    folder: Path
    """The validation folder that was read."""

    report: ReportView
    """The parsed report."""

    report_sha256: _SHA256
    """Hash of ``report.json``'s bytes, stamped in the export's manifest."""

    scores: dict[str, ItemScore]
    """Per-item figures by item id."""


def load_certification(folder: str | os.PathLike[str] = DEFAULT_VALIDATION_DIR) -> Certification:
    """Read ``report.json`` and ``item_scores.jsonl`` from a validation folder.

    Raises ``CertificationError`` naming the reason (``missing`` or ``malformed``).
    """
    folder = Path(folder)
    report_path, scores_path = folder / REPORT_NAME, folder / ITEM_SCORES_NAME
    if not report_path.is_file():
        raise CertificationError([("missing", f"{report_path} does not exist: run `aipsy-affect certify` first")])
    raw = report_path.read_bytes()
    try:
        report = ReportView.model_validate_json(raw)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise CertificationError([("malformed", f"{report_path}: not valid JSON")]) from None
        detail = "; ".join(str(e) for e in located_errors(report_path, 1, exc))
        raise CertificationError([("malformed", detail)]) from None
    failed_names = [c.name for c in report.criteria if not c.passed]
    if not report.criteria:
        raise CertificationError([("malformed", f"{report_path}: the report lists no criteria")])
    if report.passed and failed_names:
        raise CertificationError([("malformed", f"{report_path}: says passed although criteria failed: "
                                                f"{', '.join(failed_names)}")])
    if not scores_path.is_file():
        raise CertificationError([("missing", f"{scores_path} does not exist: rerun `aipsy-affect certify`")])
    try:
        rows = read_models(scores_path, ItemScore)
    except (InputError, InputErrors) as exc:
        raise CertificationError([("malformed", str(exc))]) from None
    return Certification(folder=folder, report=report, report_sha256=hashlib.sha256(raw).hexdigest(),
                         scores={row.id: row for row in rows})


def certification_problems(
    cert: Certification, battery: Battery, data_sha256: str, lexicon_version: str
) -> list[tuple[CertificationProblem, str]]:
    """Every reason the certification does not vouch for this battery: stale, incomplete, failed (in that order)."""
    problems: list[tuple[CertificationProblem, str]] = []
    report, path = cert.report, cert.folder / REPORT_NAME
    if report.data_sha256 != data_sha256:
        problems.append(("stale", f"{path} certifies data sha256 {report.data_sha256[:12]}..., but the current data "
                                  f"is {data_sha256[:12]}...: the data changed after certification; rerun "
                                  "`aipsy-affect certify`"))
    if report.lexicon_version != lexicon_version:
        problems.append(("stale", f"{path} was made with lexicon {report.lexicon_version}, the current lexicon is "
                                  f"{lexicon_version}: rerun `aipsy-affect certify`"))
    index = battery.by_id()
    missing = sorted(set(index) - set(cert.scores))
    unknown = sorted(set(cert.scores) - set(index))
    wrong_split = sorted(i for i, s in cert.scores.items() if i in index and index[i].split != s.split)
    scores_path = cert.folder / ITEM_SCORES_NAME
    for ids, what in ((missing, "has no line for"), (unknown, "scores unknown ids"),
                      (wrong_split, "gives the wrong split for")):
        if ids:
            shown = ", ".join(ids[:5]) + (f" (and {len(ids) - 5} more)" if len(ids) > 5 else "")
            problems.append(("incomplete", f"{scores_path} {what} {len(ids)} items: {shown}"))
    if not report.passed:
        failed = [c.name for c in report.criteria if not c.passed]
        problems.append(("failed", f"{path}: certification failed on {', '.join(failed)}"))
    return problems


# --- features and tables -------------------------------------------------------------------------

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
        kinds = {type(v) for v in typing.get_args(annotation)}
        if kinds == {str}:
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
    from datasets import Features, Value

    fields = {**StimulusItem.model_fields}
    dtypes: dict[str, str] = {}
    for name in PUBLIC_COLUMNS + OUR_COLUMNS:
        if name in fields:
            dtypes[name] = _dtype_of(fields[name].annotation)
        else:
            dtypes[name] = _dtype_of(StimulusItem.model_computed_fields[name].return_type)
    dtypes.update({"vader_compound": "float64", "nrc_hit_rate": "float64", "p_emotional": "float64",
                   "classifier_label": "string"})
    return Features({name: Value(dtypes[name]) for name in EXPORT_COLUMNS})


def _rows(items: Iterable[StimulusItem], cert: Certification | None) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        data = item.model_dump(mode="json")
        score = cert.scores[item.id].model_dump() if cert is not None else {}
        rows.append({name: data[name] for name in PUBLIC_COLUMNS + OUR_COLUMNS}
                    | {name: score.get(name) for name in SCORE_COLUMNS})
    return rows


def _parquet_bytes(table: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=max(table.num_rows, 1), **PARQUET_OPTIONS)
    return bytes(sink.getvalue().to_pybytes())


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

    sha256: _SHA256
    """Hash of the file's bytes."""


class ExportManifest(BaseModel):
    """``manifest.json``: what an export holds and what it was made from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1]
    """Export layout version (``EXPORT_FORMAT_VERSION``)."""

    package_version: str
    """aipsy-affect version that wrote the export."""

    data_sha256: _SHA256
    """``data_sha256()`` of the JSONL data the export was built from."""

    lexicon_version: str
    """Emotion-keyword lexicon version used for the card's keyword screen."""

    repo_id: str
    """Hub repo id rendered into the card."""

    revision: str
    """Release tag rendered into the card (the tag ``publish`` creates)."""

    certification: Literal["passed", "failed", "uncertified"]
    """State of the validation report the export carries."""

    report_sha256: _SHA256 | None
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
        raise ExportError(f"{path}: not a valid export manifest:\n"
                          + "\n".join(str(e) for e in located_errors(path, 1, exc))) from None
    listed = {f.path for f in manifest.files}
    for entry in manifest.files:
        target = folder / entry.path
        if not target.is_file():
            raise ExportError(f"{target}: listed in {MANIFEST_NAME} but missing")
        data = target.read_bytes()
        if len(data) != entry.bytes or _sha256(data) != entry.sha256:
            raise ExportError(f"{target}: does not match {MANIFEST_NAME} (sha256 {_sha256(data)[:12]}..., "
                              f"expected {entry.sha256[:12]}...): the export was modified")
    for extra in sorted((folder / "data").glob("*.parquet")):
        rel = extra.relative_to(folder).as_posix()
        if rel not in listed:
            raise ExportError(f"{extra}: a data file {MANIFEST_NAME} does not list")
    return manifest


# --- reading exports back --------------------------------------------------------------------------

def read_export_split(folder: str | os.PathLike[str], name: str) -> list[StimulusItem]:
    """Read one split of an export (local or a Hub snapshot) through the same pydantic validation as JSONL.

    The folder is first checked against its manifest. Errors name the file, the row (1-based, reported as the
    line) and the field; every bad row is reported.
    """
    import pyarrow.parquet as pq

    folder = Path(folder)
    if name not in SPLITS:
        raise KeyError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
    verify_export(folder)
    path = folder / "data" / f"{name}.parquet"
    if not path.is_file():
        raise InputError(path, None, None, "no such file")
    table = pq.read_table(path)
    columns = list(table.column_names)
    missing = [c for c in EXPORT_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in EXPORT_COLUMNS]
    if missing or unknown:
        parts = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + \
                ([f"unknown column(s) {', '.join(unknown)}"] if unknown else [])
        raise InputError(path, None, None, "; ".join(parts))
    structural = [c for c in PUBLIC_COLUMNS + OUR_COLUMNS if c in StimulusItem.model_fields]
    rows = table.to_pylist()

    def check(row_no: int, item: StimulusItem) -> list[InputError]:
        found = []
        if item.split != name:
            found.append(InputError(path, row_no, "split", f"{item.split!r} in the file of split {name!r}"))
        stored = rows[row_no - 1]["word_count"]
        if stored != item.word_count:
            found.append(InputError(path, row_no, "word_count",
                                    f"{stored} does not match the text ({item.word_count} words)"))
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
        raise FileNotFoundError(f"cannot fetch dataset {repo_id!r} at revision {revision!r} from the Hub "
                                f"({type(exc).__name__}: {exc})") from None
    return Path(folder)


# --- the card ------------------------------------------------------------------------------------

def card_template() -> str:
    """The dataset card template: ``CARD.md`` inside the installed wheel, or at the root of a checkout."""
    packaged = resources.files("aipsy_affect").joinpath("CARD.md")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parent.parent / "CARD.md"
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    raise FileNotFoundError("CARD.md (the dataset card template) is missing: reinstall the package")


def render_template(template: str, context: Mapping[str, str]) -> str:
    """Fill ``{{ name }}`` placeholders; an unknown placeholder is an error, never left in the output."""
    unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(template)} - set(context))
    if unknown:
        raise ExportError(f"CARD.md uses placeholder(s) with no value: {', '.join(unknown)}")
    return _PLACEHOLDER.sub(lambda m: context[m.group(1)], template)


def _cell(value: Any) -> str:
    if value is None:
        text = "n/a"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = f"{value:.2e}" if value != 0 and abs(value) < 1e-3 else f"{value:.4g}"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _composition_table(battery: Battery) -> str:
    rows = []
    for name in (*MAIN_SPLITS, TWINS_CONFIG):
        items = battery.split(name)
        counts = [i.word_count for i in items]
        emotions = sorted({i.emotion for i in items if i.emotion}, key=EMOTIONS.index)
        rows.append([f"`{name}`", len(items), "default" if name in MAIN_SPLITS else TWINS_CONFIG,
                     items[0].intensity if items else None, f"{len(emotions)} emotions" if emotions else "none",
                     len({i.domain for i in items}), f"{statistics.mean(counts):.1f} ({min(counts)}-{max(counts)})"])
    return _table(["split", "items", "config", "intensity", "emotion", "domains", "words: mean (min-max)"], rows)


def _crossing_table(battery: Battery) -> str:
    cells = Counter((i.emotion, i.domain) for i in battery.split("clinical"))
    genders = Counter((i.emotion, i.protagonist_gender) for i in battery.split("clinical"))
    rows = [[e, *(cells[(e, d)] for d in DOMAINS), f"{genders[(e, 'female')]} / {genders[(e, 'male')]}"]
            for e in EMOTIONS]
    return _table(["emotion", *(DOMAINS[d][1] for d in DOMAINS), "protagonists f / m"], rows)


def _length_summary(battery: Battery) -> str:
    from scipy.stats import wilcoxon

    pairs = battery.pairs()
    diffs = [c.word_count - n.word_count for c, n in pairs]
    rel = [abs(c.word_count - n.word_count) / c.word_count for c, n in pairs]
    nonzero = [d for d in diffs if d != 0]
    p = float(wilcoxon(nonzero).pvalue) if len(nonzero) >= 10 else None
    p_text = f"Wilcoxon signed-rank p = {_cell(p)}" if p is not None else "too few unequal pairs for a test"
    return (f"Across the {len(pairs)} clinical/neutral pairs the mean paired length difference (clinical minus "
            f"neutral) is {statistics.mean(diffs):+.2f} words ({p_text}); the largest difference within a pair "
            f"is {100 * max(rel):.1f}% of the vignette's length.")


def _screen_summary(battery: Battery) -> tuple[str, str, str]:
    from .screen import find_keywords

    forbidden: Counter[str] = Counter()
    expressive_items: Counter[str] = Counter()
    terms: Counter[str] = Counter()
    for name in MAIN_SPLITS:
        for item in battery.split(name):
            hits = find_keywords(item.text)
            forbidden[name] += sum(h.kind == "forbidden" for h in hits)
            exp = [h for h in hits if h.kind == "expressive"]
            expressive_items[name] += bool(exp)
            terms.update(h.match.lower() for h in exp)
    total = sum(forbidden.values())
    verdict = ("The screen finds **no** forbidden emotion keyword in the 480 items." if total == 0 else
               f"**Warning:** the screen finds {total} forbidden keyword(s): "
               + ", ".join(f"{n} in {s}" for s, n in forbidden.items() if n) + ".")
    rows = [[f"`{name}`", len(battery.split(name)), expressive_items[name]] for name in MAIN_SPLITS]
    common = ", ".join(f"{t} ({n})" for t, n in sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
    table = _table(["split", "items", "items with an expressive-behaviour word"], rows)
    if common:
        table += f"\n\nMost frequent expressive words: {common}."
        summary = ("**Expressive behaviour is rare but not absent.** Words for visible expression (*cried*, *smiled*, "
                   "*trembled*) are allowed, counted, and kept rare:")
    else:
        summary = ("**Expressive behaviour** words (*cried*, *smiled*, *trembled* and their families) are screened and "
                   "none was found, but visible actions told in other words (slamming a ledger shut, running to the "
                   "car) are part of the situations and can cue a category:")
    return verdict, summary, table


def _split_scores_table(battery: Battery, cert: Certification | None) -> str:
    if cert is None:
        return "_No certification report: this export carries no per-item figures._"
    rows = []
    for name in (*MAIN_SPLITS, TWINS_CONFIG):
        items = battery.split(name)
        scores = [cert.scores[i.id] for i in items]
        top1 = (sum(s.classifier_label == i.emotion for s, i in zip(scores, items)) / len(items)
                if items and items[0].emotion else None)
        rows.append([f"`{name}`", len(items), statistics.mean(s.vader_compound for s in scores),
                     statistics.mean(s.nrc_hit_rate for s in scores), statistics.mean(s.p_emotional for s in scores),
                     f"{100 * top1:.1f}%" if top1 is not None else None])
    return _table(["split", "items", "mean VADER compound", "mean NRC hit rate", "mean P(emotional)",
                   "classifier top-1 = target emotion"], rows)


def _certification_context(cert: Certification | None) -> dict[str, str]:
    if cert is None:
        return {
            "certification_status": "**Not certified.** This export was built without a validation report; its "
                                    "certification columns are empty. Published releases are always certified.",
            "validation_table": "_No validation report._",
            "classifier": "n/a", "certified_package_version": "n/a", "library_versions": "n/a",
        }
    report = cert.report
    n_passed = sum(c.passed for c in report.criteria)
    status = (f"**Certified:** all {len(report.criteria)} criteria passed." if report.passed else
              f"**Certification FAILED:** {len(report.criteria) - n_passed} of {len(report.criteria)} criteria "
              "did not pass (see the table).")
    clf = report.classifier
    classifier = f"`{clf.id}`" + (f" at revision `{clf.revision}`" if clf.revision else "")
    if clf.weights_sha256:
        classifier += f", weights sha256 `{clf.weights_sha256[:12]}...`"
    libs = ", ".join(f"{k} {v}" for k, v in sorted(report.library_versions.items())) or "not stated"
    table = _table(["criterion", "what it checks", "value", "required", "verdict"],
                   [[f"`{c.name}`", c.description, c.value,
                     f"{c.comparison} {_cell(c.threshold)}" if c.comparison else c.threshold,
                     "pass" if c.passed else "**FAIL**"] for c in report.criteria])
    return {"certification_status": status, "validation_table": table, "classifier": classifier,
            "certified_package_version": report.package_version, "library_versions": libs}


def _fields_table() -> str:
    features = export_features()
    rows = [[f"`{name}`", features[name].dtype, "public" if name in PUBLIC_COLUMNS else "ours", COLUMN_DOCS[name]]
            for name in EXPORT_COLUMNS]
    return _table(["column", "type", "layout", "meaning"], rows)


def card_context(battery: Battery, *, cert: Certification | None, data_sha256: str, lexicon_version: str,
                 repo_id: str, revision: str) -> dict[str, str]:
    """Every value ``CARD.md`` can use, computed from the battery and the certification (nothing typed in)."""
    keyword_verdict, expressive_summary, expressive_table = _screen_summary(battery)
    main_counts = [i.word_count for s in MAIN_SPLITS for i in battery.split(s)]
    return {
        "pretty_name": PRETTY_NAME,
        "repo_id": repo_id,
        "revision": revision,
        "package_version": __version__,
        "citation_key": "aipsy_affect_" + re.sub(r"[^A-Za-z0-9]", "_", revision),
        "data_sha256": data_sha256,
        "lexicon_version": lexicon_version,
        "n_main": str(sum(len(battery.split(s)) for s in MAIN_SPLITS)),
        "n_twins": str(len(battery.split(TWINS_CONFIG))),
        "domain_list": ", ".join(label for _, label in DOMAINS.values()),
        "composition_table": _composition_table(battery),
        "crossing_table": _crossing_table(battery),
        "length_summary": _length_summary(battery),
        "keyword_verdict": keyword_verdict,
        "expressive_summary": expressive_summary,
        "expressive_table": expressive_table,
        "word_range": f"{min(main_counts)} to {max(main_counts)}",
        "split_scores_table": _split_scores_table(battery, cert),
        "fields_table": _fields_table(),
        **_certification_context(cert),
    }


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return label
    return "100K<n<1M"


def card_header(battery: Battery, split_bytes: Mapping[str, tuple[int, int]]) -> dict[str, Any]:
    """The README's YAML metadata: licence, language, task, tags, ``configs`` and ``dataset_info``.

    ``split_bytes`` maps each split to (in-memory Arrow bytes, parquet file bytes).
    """
    features = export_features()
    feature_list = features._to_yaml_list()
    configs, infos = [], []
    for config, splits in CONFIGS.items():
        entry: dict[str, Any] = {"config_name": config}
        if config == "default":
            entry["default"] = True
        entry["data_files"] = [{"split": s, "path": f"data/{s}.parquet"} for s in splits]
        configs.append(entry)
        infos.append({
            "config_name": config,
            "features": feature_list,
            "splits": [{"name": s, "num_bytes": split_bytes[s][0], "num_examples": len(battery.split(s))}
                       for s in splits],
            "download_size": sum(split_bytes[s][1] for s in splits),
            "dataset_size": sum(split_bytes[s][0] for s in splits),
        })
    return {
        "license": "mit",
        "language": ["en"],
        "pretty_name": PRETTY_NAME,
        "task_categories": ["text-classification"],
        "task_ids": ["multi-class-classification"],
        "size_categories": [_size_category(len(battery.items))],
        "multilinguality": ["monolingual"],
        "language_creators": ["machine-generated", "expert-generated"],
        # The labels are the design intent each text was written to, not judgements of found text: "other".
        "annotations_creators": ["other"],
        "source_datasets": ["original"],
        "tags": ["emotion", "affect", "interpretability", "probing", "plutchik", "psychology", "stimuli",
                 "keyword-free", "controlled-stimuli", "benchmark"],
        "configs": configs,
        "dataset_info": infos,
    }


# --- export --------------------------------------------------------------------------------------

def _no_alias_dumper() -> Any:
    import yaml

    class NoAliasDumper(yaml.SafeDumper):
        # Both configs share one feature list; spell it out twice rather than as a YAML anchor and alias,
        # which some card parsers do not resolve.
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return NoAliasDumper


def _prepare_out_dir(out_dir: Path) -> set[str]:
    """Files a previous export left (to be replaced); refuse a non-empty folder that is not an export."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} exists and is not a directory")
    if not out_dir.exists():
        return set()
    entries = [p for p in out_dir.iterdir() if not p.name.startswith(".")]
    if not entries:
        return set()
    manifest = out_dir / MANIFEST_NAME
    if not manifest.is_file():
        raise ExportError(f"{out_dir} is not empty and holds no previous export ({MANIFEST_NAME}): "
                          "choose an empty or new directory")
    try:
        previous = ExportManifest.model_validate_json(manifest.read_bytes())
    except ValidationError:
        raise ExportError(f"{manifest} is not a valid export manifest: remove the directory or choose another") from None
    return {f.path for f in previous.files}


def export_dataset(
    battery: Battery,
    out_dir: str | os.PathLike[str],
    *,
    data_sha256: str,
    certification: Certification | None,
    repo_id: str = DEFAULT_REPO_ID,
    revision: str | None = None,
    allow_failed: bool = True,
) -> ExportManifest:
    """Write a Hub-ready dataset repository for ``battery`` into ``out_dir``; return its manifest.

    ``data_sha256`` is the hash of the data ``battery`` was read from (``aipsy_affect.data_sha256(source)``).
    ``certification`` (see ``load_certification``) supplies the per-item columns and the card's validation table;
    it must certify exactly this data (else ``CertificationError``: stale or incomplete). ``None`` writes an
    uncertified export whose certification columns are null. A failed certification is exported (the card says
    so) unless ``allow_failed`` is false. ``revision`` defaults to ``v<package version>``.

    ``out_dir`` must be empty, new, or a previous export (whose files are replaced; files it listed that the new
    export does not write are removed). Dot-files (``.git``, ``.gitattributes``) are left alone.
    """
    import datasets
    import pyarrow as pa
    import yaml

    from .lexicon import load_lexicon

    out_dir = Path(out_dir)
    revision = revision or f"v{__version__}"
    if not _REPO_ID.match(repo_id):
        raise ExportError(f"{repo_id!r} is not a Hub repo id (expected org/name)")
    if not _TAG.match(revision):
        raise ExportError(f"{revision!r} is not a valid tag name (letters, digits, '._-')")
    lexicon_version = load_lexicon().version
    if certification is not None:
        problems = certification_problems(certification, battery, data_sha256, lexicon_version)
        blocking = [p for p in problems if p[0] != "failed" or not allow_failed]
        if blocking:
            raise CertificationError(blocking)
    previous = _prepare_out_dir(out_dir)

    features = export_features()
    files: dict[str, bytes] = {}
    split_bytes: dict[str, tuple[int, int]] = {}
    for name in (*MAIN_SPLITS, TWINS_CONFIG):
        table = pa.Table.from_pylist(_rows(battery.split(name), certification), schema=features.arrow_schema)
        data = _parquet_bytes(table)
        files[f"data/{name}.parquet"] = data
        split_bytes[name] = (table.nbytes, len(data))

    header = yaml.dump(card_header(battery, split_bytes), Dumper=_no_alias_dumper(), sort_keys=False, allow_unicode=True,
                       width=100)
    body = render_template(card_template(), card_context(
        battery, cert=certification, data_sha256=data_sha256, lexicon_version=lexicon_version,
        repo_id=repo_id, revision=revision))
    files["README.md"] = f"---\n{header}---\n\n{body.lstrip()}".encode()
    if certification is not None:
        for name in VALIDATION_FILES:
            src = certification.folder / name
            if src.is_file():
                files[f"validation/{name}"] = src.read_bytes()
        for png in sorted(certification.folder.glob("*.png")):
            files[f"validation/{png.name}"] = png.read_bytes()

    manifest = ExportManifest(
        format_version=EXPORT_FORMAT_VERSION,
        package_version=__version__,
        data_sha256=data_sha256,
        lexicon_version=lexicon_version,
        repo_id=repo_id,
        revision=revision,
        certification=("uncertified" if certification is None else
                       "passed" if certification.report.passed else "failed"),
        report_sha256=certification.report_sha256 if certification is not None else None,
        library_versions={"pyarrow": pa.__version__, "datasets": datasets.__version__, "PyYAML": yaml.__version__},
        splits={config: {s: len(battery.split(s)) for s in splits} for config, splits in CONFIGS.items()},
        files=[ManifestFile(path=p, bytes=len(b), sha256=_sha256(b)) for p, b in sorted(files.items())],
    )
    for rel, data in sorted(files.items()):
        write_atomic(out_dir / rel, data)
    for stale in sorted(previous - set(files)):
        (out_dir / stale).unlink(missing_ok=True)
    # The manifest goes last: a crash mid-export leaves no manifest vouching for a half-written tree.
    write_atomic(out_dir / MANIFEST_NAME, json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True) + "\n")
    return manifest


# --- publish -------------------------------------------------------------------------------------

#: Where ``huggingface_hub`` found the token (shown in the plan instead of the token).
TokenSource = Literal["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OIDC", "stored login"]


class PublishPlan(BaseModel):
    """What ``publish`` uploads and where (printed by ``--dry-run``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    repo_id: str
    """Target dataset repo."""

    url: str
    """The repo's page."""

    tag: str
    """The release tag created on the uploaded commit."""

    private: bool
    """Whether a newly created repo is private (an existing repo keeps its visibility)."""

    token_source: TokenSource | None
    """Where the token comes from (the token itself is never shown); ``None`` when there is none."""

    data_sha256: _SHA256
    """Hash of the data being published."""

    commit_message: str
    """The commit's message."""

    files: list[ManifestFile]
    """Every file uploaded (the manifest's list plus ``manifest.json``)."""


class PublishResult(BaseModel):
    """What a publish did."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plan: PublishPlan
    """The plan that was carried out (or, for a dry run, would be)."""

    dry_run: bool
    """Nothing was uploaded."""

    commit_oid: str | None
    """The uploaded commit; ``None`` for a dry run."""


def _find_token() -> tuple[str | None, TokenSource | None]:
    """The Hub token as huggingface_hub finds it, and where it came from (for the plan; never the token)."""
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        return None, None
    if os.environ.get("HF_OIDC_RESOURCE"):
        return token, "OIDC"
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        if (os.environ.get(name) or "").strip() == token:
            return token, name  # type: ignore[return-value]
    return token, "stored login"


def _redact(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


def _make_api(token: str) -> Any:
    from huggingface_hub import HfApi

    return HfApi(token=token, library_name="aipsy-affect", library_version=__version__)


def _print_plan(plan: PublishPlan, echo: Echo, dry_run: bool) -> None:
    echo(f"{'dry run: would publish' if dry_run else 'publishing'} to {plan.url} (dataset repo {plan.repo_id})")
    echo(f"  tag: {plan.tag} on the uploaded commit; new repo visibility: {'private' if plan.private else 'public'}")
    echo(f"  data sha256: {plan.data_sha256}")
    echo(f"  token: {'from ' + plan.token_source if plan.token_source else 'none found (set HF_TOKEN or log in)'}")
    echo(f"  commit message: {plan.commit_message}")
    echo(f"  files ({len(plan.files)}, {sum(f.bytes for f in plan.files)} bytes; remote files not listed are "
         "deleted):")
    for f in plan.files:
        echo(f"    {f.path}  {f.bytes} bytes  sha256 {f.sha256[:16]}")


def publish_dataset(
    repo_id: str,
    *,
    tag: str | None = None,
    private: bool = False,
    dry_run: bool = False,
    source: Any = None,
    validation_dir: str | os.PathLike[str] = DEFAULT_VALIDATION_DIR,
    stage_dir: str | os.PathLike[str] | None = None,
    api: Any = None,
    echo: Echo = print,
) -> PublishResult:
    """Export, check the certification, and upload a release to the Hub with ``huggingface_hub``.

    Refuses (``CertificationError``) when ``validation_dir`` has no report, the report failed, or it certifies
    other data (stale) or other items (incomplete). The token comes from ``HF_TOKEN`` or the stored login; it is
    never printed, logged or put in an error message. Operations, in order: ``create_repo`` (exist_ok),
    ``list_repo_refs`` (refuse when the tag exists), ``upload_folder`` (remote files outside the export deleted),
    ``create_tag`` on the uploaded commit. ``api`` replaces ``HfApi(token=...)`` (tests pass a recording double).
    ``stage_dir`` keeps the staged export (default: a temporary folder, removed afterwards).
    """
    from .battery import data_sha256 as _data_sha256
    from .battery import load_battery

    if not _REPO_ID.match(repo_id):
        raise ValueError(f"{repo_id!r} is not a Hub repo id (expected org/name)")
    tag = tag or f"v{__version__}"
    if not _TAG.match(tag):
        raise ValueError(f"{tag!r} is not a valid tag name (letters, digits, '._-')")
    battery = load_battery(source)
    data_hash = _data_sha256(source)
    cert = load_certification(validation_dir)
    from .lexicon import load_lexicon

    problems = certification_problems(cert, battery, data_hash, load_lexicon().version)
    if problems:
        raise CertificationError(problems)
    token, token_source = _find_token()
    if token is None and not dry_run:
        raise PublishError("no Hugging Face token: set HF_TOKEN or run `hf auth login`", refused=True)

    tmp = None if stage_dir is not None else tempfile.mkdtemp(prefix="aipsy-affect-publish-")
    stage = Path(stage_dir) if stage_dir is not None else Path(str(tmp))
    try:
        manifest = export_dataset(battery, stage, data_sha256=data_hash, certification=cert, repo_id=repo_id,
                                  revision=tag, allow_failed=False)
        manifest_bytes = (stage / MANIFEST_NAME).read_bytes()
        files = sorted([*manifest.files, ManifestFile(path=MANIFEST_NAME, bytes=len(manifest_bytes),
                                                      sha256=_sha256(manifest_bytes))], key=lambda f: f.path)
        n = len(cert.report.criteria)
        plan = PublishPlan(
            repo_id=repo_id, url=f"https://huggingface.co/datasets/{repo_id}", tag=tag, private=private,
            token_source=token_source, data_sha256=data_hash, files=files,
            commit_message=f"aipsy-affect {__version__}: data {data_hash[:12]}, certified ({n}/{n} criteria)",
        )
        _print_plan(plan, echo, dry_run)
        if dry_run:
            return PublishResult(plan=plan, dry_run=True, commit_oid=None)
        assert token is not None
        client = api if api is not None else _make_api(token)
        step = "create_repo"
        try:
            client.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
            step = "list_repo_refs"
            refs = client.list_repo_refs(repo_id, repo_type="dataset")
            if any(t.name == tag for t in refs.tags):
                raise PublishError(f"tag {tag!r} already exists on {repo_id}: a published release is never moved; "
                                   "bump the version or pass --revision", refused=True)
            step = "upload_folder"
            commit = client.upload_folder(
                repo_id=repo_id, repo_type="dataset", folder_path=str(stage), commit_message=plan.commit_message,
                commit_description=f"data_sha256 {data_hash}\nreport_sha256 {cert.report_sha256}",
                delete_patterns="*",
            )
            step = "create_tag"
            client.create_tag(repo_id, tag=tag, revision=commit.oid, repo_type="dataset",
                              tag_message=f"aipsy-affect {__version__}, data sha256 {data_hash}")
        except PublishError:
            raise
        except Exception as exc:  # noqa: BLE001 - any client failure becomes one redacted message
            message = f"{step} failed: {type(exc).__name__}: {exc}"
            if step == "create_tag":
                message += (f" (the files were uploaded as commit {commit.oid} but are not tagged; rerun publish: "
                            "an unchanged upload is a no-op, then the tag is created)")
            raise PublishError(_redact(message, token), refused=False) from None
        echo(f"published {repo_id} at commit {commit.oid}, tagged {tag}: {plan.url}/tree/{tag}")
        return PublishResult(plan=plan, dry_run=False, commit_oid=str(commit.oid))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
