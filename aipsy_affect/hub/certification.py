"""The certification as the Hub export and publish read it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aipsy_affect.battery.export_format import SHA256
from aipsy_affect.battery.io import InputError, InputErrors, located_errors, read_models
from aipsy_affect.battery.schema import Battery
from aipsy_affect.errors import CertificationError, CertificationProblem

#: Repo id rendered into the card when ``export`` is not told where the data will be published.
DEFAULT_REPO_ID = "aipsy-affect/aipsy-affect"
DEFAULT_VALIDATION_DIR = Path("validation")
PRETTY_NAME = "AIPsy-Affect: a keyword-free clinical emotion stimulus battery"

REPORT_NAME = "report.json"
ITEM_SCORES_NAME = "item_scores.jsonl"
#: Files of the validation folder that travel with the export (the item scores travel as columns).
VALIDATION_FILES = ("report.json", "REPORT.md")

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

    data_sha256: SHA256
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

    report_sha256: SHA256
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


