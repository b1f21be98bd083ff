"""The certification as the Hub export and publish read it: ``report.json`` and ``item_scores.jsonl``, parsed
with the models ``certify`` writes them with, and checked against the standard before anything is published."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from aipsy_affect.battery.export_format import SHA256
from aipsy_affect.battery.io import InputError, InputErrors, located_errors
from aipsy_affect.battery.schema import Battery
from aipsy_affect.certify.criteria import report_problems
from aipsy_affect.certify.report import CertificationReport, ItemScoreRow, read_item_scores
from aipsy_affect.errors import CertificationError, CertificationProblem

#: Repo id rendered into the card when ``export`` is not told where the data will be published.
DEFAULT_REPO_ID = "aipsy-affect/aipsy-affect"
DEFAULT_VALIDATION_DIR = Path("validation")

REPORT_NAME = "report.json"
ITEM_SCORES_NAME = "item_scores.jsonl"
#: Files of the validation folder that travel with the export (the item scores travel as columns).
VALIDATION_FILES = ("report.json", "REPORT.md")
_RERUN = "rerun `aipsy-affect certify` with this version of aipsy-affect"


class Certification(BaseModel):
    """A validation report with its per-item scores, as read from a validation folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    folder: Path
    """The validation folder that was read."""

    report: CertificationReport
    """The parsed report; its criteria agree with ``certify.criteria`` (checked on reading)."""

    report_sha256: SHA256
    """Hash of ``report.json``'s bytes, stamped in the export's manifest."""

    scores: dict[str, ItemScoreRow]
    """Per-item figures by item id."""


def load_certification(folder: str | os.PathLike[str] = DEFAULT_VALIDATION_DIR) -> Certification:
    """Read ``report.json`` and ``item_scores.jsonl`` from a validation folder.

    The report is parsed strictly (``"passed": "yes"`` is not a boolean), must list exactly the criteria of
    ``certify.criteria`` with their thresholds, and every verdict must follow from its value and threshold.
    Raises ``CertificationError`` naming the reason (``missing`` or ``malformed``).
    """
    folder = Path(folder)
    report_path, scores_path = folder / REPORT_NAME, folder / ITEM_SCORES_NAME
    if not report_path.is_file():
        raise CertificationError([("missing", f"{report_path} does not exist: run `aipsy-affect certify` first")])
    try:
        raw = report_path.read_bytes()
    except OSError as exc:
        raise CertificationError([("malformed", f"{report_path}: cannot be read ({exc.strerror})")]) from None
    try:
        report = CertificationReport.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise CertificationError([("malformed", f"{report_path}: not valid JSON")]) from None
        detail = "; ".join(str(e) for e in located_errors(report_path, 1, exc))
        raise CertificationError([("malformed", f"{detail} (a report from another version? {_RERUN})")]) from None
    problems = report_problems(report)
    if problems:
        raise CertificationError([("malformed", f"{report_path}: {p}") for p in problems])
    if not scores_path.is_file():
        raise CertificationError([("missing", f"{scores_path} does not exist: rerun `aipsy-affect certify`")])
    try:
        rows = read_item_scores(scores_path)
    except (InputError, InputErrors) as exc:
        raise CertificationError([("malformed", str(exc))]) from None
    return Certification(
        folder=folder,
        report=report,
        report_sha256=hashlib.sha256(raw).hexdigest(),
        scores={row.id: row for row in rows},
    )


def certification_problems(
    cert: Certification, battery: Battery, data_sha256: str, lexicon_version: str
) -> list[tuple[CertificationProblem, str]]:
    """Every reason the certification does not vouch for this battery: stale, incomplete, failed (in that order)."""
    problems: list[tuple[CertificationProblem, str]] = []
    report, path = cert.report, cert.folder / REPORT_NAME
    if report.data_sha256 != data_sha256:
        problems.append(
            (
                "stale",
                f"{path} certifies data sha256 {report.data_sha256[:12]}..., but the current data "
                f"is {data_sha256[:12]}...: the data changed after certification; rerun "
                "`aipsy-affect certify`",
            )
        )
    if report.lexicon_version != lexicon_version:
        problems.append(
            (
                "stale",
                f"{path} was made with lexicon {report.lexicon_version}, the current lexicon is "
                f"{lexicon_version}: rerun `aipsy-affect certify`",
            )
        )
    index = battery.by_id()
    missing = sorted(set(index) - set(cert.scores))
    unknown = sorted(set(cert.scores) - set(index))
    wrong_split = sorted(i for i, s in cert.scores.items() if i in index and index[i].split != s.split)
    scores_path = cert.folder / ITEM_SCORES_NAME
    for ids, what in (
        (missing, "has no line for"),
        (unknown, "scores unknown ids"),
        (wrong_split, "gives the wrong split for"),
    ):
        if ids:
            shown = ", ".join(ids[:5]) + (f" (and {len(ids) - 5} more)" if len(ids) > 5 else "")
            problems.append(("incomplete", f"{scores_path} {what} {len(ids)} items: {shown}"))
    if not report.passed:
        failed = [c.name for c in report.criteria if not c.passed]
        problems.append(("failed", f"{path}: certification failed on {', '.join(failed)}"))
    return problems
