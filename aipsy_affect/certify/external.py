"""Certifying a battery that is not ours: every instrument of ``certify`` on a battery in another layout.

A battery in the published AIPsy-Affect layout has no keyword twins, no peak links and none of our guarantees.
It is scored by the same four methods and judged by the same criteria (``certify.criteria``), with three
differences, all recorded in the one report model (:class:`~aipsy_affect.certify.report.CertificationReport`):

* the criteria that need keyword twins are measured on an unpaired keyword-rich control when one is given
  (``--keyword-control``: ``id``, ``text``, ``emotion``), each with that substitution as its ``reason``; without
  one they are *not applicable*, with the reason, and count neither way;
* the report names the layout and the source (its hash is ``data_sha256``) and carries the design audit
  (``battery.audit``): length matching, domain-emotion association, cell counts, keyword hits;
* the verdict (and the exit code) is that of the applicable criteria.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from aipsy_affect.battery.audit import audit_battery, audit_markdown
from aipsy_affect.battery.published import KeywordControlInfo, control_as_twins, read_keyword_control
from aipsy_affect.battery.release import Release
from aipsy_affect.certify.report import CertificationReport, Criterion, ItemScores, item_score_rows
from aipsy_affect.certify.run import FIGURES, build_report, score_items
from aipsy_affect.defense.classifier import EmotionClassifier, load_classifier
from aipsy_affect.errors import InputError

__all__ = ["TWIN_CRITERIA", "certify_external", "mark_criteria"]

#: Criteria that read keyword twins (or a keyword control in their place).
TWIN_CRITERIA = ("every_twin_has_own_keyword", "top1_twins_at_least_75pct")
#: Criteria that read the complex_neutral split.
COMPLEX_CRITERIA = ("complex_neutral_not_above_clinical", "complex_neutral_close_to_neutral")


def mark_criteria(
    criteria: Sequence[Criterion], *, has_twins: bool, control: KeywordControlInfo | None, has_complex: bool
) -> list[Criterion]:
    """The criteria with what an external battery cannot show marked not applicable (with the reason), and what
    was measured on a keyword control said so; a value that is not a finite number is kept as a failure."""
    out = []
    for c in criteria:
        update: dict[str, object] = {}
        if c.name in TWIN_CRITERIA and control is not None:
            update["reason"] = (
                f"measured on the unpaired keyword control {control.path} ({control.n} items, sha256 "
                f"{control.sha256[:12]}...) in place of keyword twins"
            )
        elif c.name in TWIN_CRITERIA and not has_twins:
            update = {
                "applicable": False,
                "passed": False,
                "value": None,
                "reason": "the battery has no keyword twins and no --keyword-control was given",
            }
        elif c.name in COMPLEX_CRITERIA and not has_complex:
            update = {
                "applicable": False,
                "passed": False,
                "value": None,
                "reason": "the battery has no complex_neutral items",
            }
        if "value" not in update and c.value is not None and not math.isfinite(c.value):
            update = {"value": None, "passed": False, "reason": "the measured value is not a finite number"}
        out.append(c.model_copy(update=update))
    return out


def _write(report: CertificationReport, scores: Sequence[ItemScores], out_dir: str | os.PathLike[str]) -> None:
    from aipsy_affect.battery.io import dumps_jsonl, write_atomic
    from aipsy_affect.certify import figures
    from aipsy_affect.certify.markdown import render_markdown

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pngs = {
        "p_emotional": figures.by_split(
            scores,
            lambda s: s.classifier.p_emotional,
            f"Classifier P(emotional) by split ({report.classifier.id})",
            "P(emotional)",
        ),
        "vader": figures.by_split(scores, lambda s: s.vader.compound, "VADER compound by split", "compound (-1 to 1)"),
        "nrc": figures.by_split(
            scores, lambda s: s.nrc.hit_rate, "NRC EmoLex hit rate by split", "share of tokens in EmoLex"
        ),
        "contributors": figures.contributors(report),
    }
    if "keyword_twins" in report.confusion.get("classifier", {}):
        pngs["confusion"] = figures.confusion_pair(report)
    for name, png in pngs.items():
        write_atomic(out / FIGURES[name], png)
    write_atomic(out / "item_scores.jsonl", dumps_jsonl([r.model_dump() for r in item_score_rows(scores)]))
    markdown = render_markdown(report)
    if report.audit is not None:
        markdown += "\n" + audit_markdown(report.audit) + "\n"
    write_atomic(out / "REPORT.md", markdown)
    # report.json last: a reader that finds it fresh finds the rest fresh too.
    write_atomic(out / "report.json", json.dumps(report.model_dump(mode="json"), indent=1, ensure_ascii=False) + "\n")


def certify_external(
    release: Release,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    keyword_control: str | os.PathLike[str] | None = None,
    classifier: EmotionClassifier | str | None = None,
    device: str = "auto",
    label_map: Mapping[str, str | None] | None = None,
    progress: bool | None = None,
) -> CertificationReport:
    """Every instrument on ``release`` (any layout), the criteria marked for what it lacks, and the design audit.

    ``keyword_control`` is a file of keyword-rich texts (``id``, ``text``, ``emotion``) measured in place of
    keyword twins. ``out_dir=None`` writes nothing.
    """
    from aipsy_affect.certify.lexical import lexical_report
    from aipsy_affect.keywords.screen import find_keywords

    start = time.perf_counter()
    battery = release.battery
    has_twins = bool(battery.split("keyword_twins"))
    control_info: KeywordControlInfo | None = None
    if keyword_control is not None:
        items, control_info = read_keyword_control(keyword_control)
        battery = control_as_twins(battery, items, str(keyword_control))
    if len(battery.pairs()) < 2:
        raise InputError(
            release.source,
            None,
            "matched_control_id",
            "certification compares vignettes with their "
            f"matched neutrals; {len(battery.pairs())} pairs found, at least 2 are needed",
        )
    t0 = time.perf_counter()
    clf = classifier if isinstance(classifier, EmotionClassifier) else load_classifier(classifier, device, label_map)
    timing = {"classifier_load": round(time.perf_counter() - t0, 3)}
    t0 = time.perf_counter()
    scores = score_items(list(battery.items), clf, progress=progress)
    timing["scoring"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    lexical = lexical_report(battery)
    timing["lexical_floor"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    report = build_report(battery, scores, clf.info, data_hash=release.sha256, timing=timing, lexical=lexical)
    audit = audit_battery(
        release.battery,
        layout=release.layout,
        source=release.source,
        sha256=release.sha256,
        find_keywords=find_keywords,
    )
    criteria = mark_criteria(
        report.criteria, has_twins=has_twins, control=control_info, has_complex=bool(battery.split("complex_neutral"))
    )
    timing["statistics_and_audit"] = round(time.perf_counter() - t0, 3)
    timing["total_in_process"] = round(time.perf_counter() - start, 3)
    report = report.model_copy(
        update={
            "criteria": criteria,
            "passed": all(c.passed for c in criteria if c.applicable),
            "layout": release.layout,
            "source": release.source,
            "audit": audit,
            "keyword_control": control_info,
            "timing_s": timing,
            "figures": {k: v for k, v in report.figures.items() if k != "confusion" or has_twins or control_info},
        }
    )
    if out_dir is not None:
        _write(report, scores, out_dir)
    return report
