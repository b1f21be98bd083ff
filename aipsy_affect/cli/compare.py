"""``aipsy-affect compare SOURCE_A SOURCE_B``: two batteries side by side, audit and certification figures.

Each battery (ours, a copy of it, or one in the published AIPsy-Affect layout) is read through
``battery.release.load_release``, audited (``battery.audit``) and certified with every instrument
(``certify.external.certify_external``, one classifier loaded once for both). The rows: design checks, length
matching, domain-emotion association, keyword hits, the lexical floor, and classifier top-1 on the vignettes and on
the keyword twins (or the ``--keyword-control`` that stands in for them). Printed as Markdown; ``--out DIR`` also
writes ``compare.md`` and ``compare.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from aipsy_affect.cli.common import EXIT_OK, add_quiet

if TYPE_CHECKING:
    from aipsy_affect.battery.release import Release
    from aipsy_affect.certify.report import CertificationReport

__all__ = ["Comparison", "ComparisonRow", "compare_reports", "comparison_markdown", "register"]

#: ``SOURCE`` spelling for the battery shipped with the package.
PACKAGED = "packaged"


class ComparisonRow(BaseModel):
    """One figure of both batteries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    section: str
    """Which part of the comparison (design checks, length matching, ...)."""

    name: str
    """What is compared."""

    a: str
    """The figure for battery A, in words."""

    b: str
    """The figure for battery B, in words."""


class Comparison(BaseModel):
    """Two batteries side by side (``compare.json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    a: dict[str, str]
    """Battery A: source, layout, sha256."""

    b: dict[str, str]
    """Battery B: source, layout, sha256."""

    rows: list[ComparisonRow]
    """Every compared figure, in display order."""

    reports: dict[str, Any]
    """``a`` and ``b`` -> the full certification report (with its audit) as JSON."""


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _p(x: float) -> str:
    from aipsy_affect.render.tables import fmt_number

    return fmt_number(x)


def _figures(r: CertificationReport) -> dict[tuple[str, str], str]:
    """Every compared figure of one report, keyed by (section, name)."""
    out: dict[tuple[str, str], str] = {}
    audit = r.audit
    if audit is not None:
        for c in audit.checks:
            text = {"holds": "holds", "fails": "FAILS", "not_applicable": "n/a"}[c.status]
            out[("design checks", c.name)] = f"{text}: {c.figure}" if c.figure else f"{text} ({c.reason})"
        for by, a in audit.association.items():
            out[("domain-emotion association", f"by {by}")] = (
                f"Cramer's V {a.cramers_v:.3f}, chi2 p {_p(a.p)}; {a.emotion_specific_levels}/{a.n_levels} "
                f"emotion-specific; names {_pct(a.majority_accuracy)} of vignettes"
            )
        if audit.keywords is not None:
            for split, n in audit.keywords.forbidden_by_split.items():
                if audit.counts.get(split):
                    out[("keyword hits", f"forbidden, {split}")] = (
                        f"{n} hit{'' if n == 1 else 's'} in {audit.keywords.items_with_forbidden_by_split[split]} of "
                        f"{audit.counts[split]} items"
                    )
    ln = r.length
    out[("length matching", "vignette minus neutral")] = (
        f"{ln.mean_diff:+.2f} words (sd {ln.sd_diff:.2f}, {ln.n_pairs} pairs), paired t p {_p(ln.p_t)}"
    )
    lx = r.lexical
    out[("lexical floor", "8-way top-1, vignettes")] = _pct(lx.accuracy["clinical"].accuracy) + " (chance 12.5%)"
    out[("lexical floor", "affect AUROC, vignette vs neutral")] = f"{lx.affect_auroc.auroc:.3f}"
    acc = r.accuracy["classifier"]
    out[("classifier", "top-1, vignettes")] = f"{_pct(acc['clinical'].accuracy)} of {acc['clinical'].n}"
    twins = acc.get("keyword_twins")
    what = "keyword control" if r.keyword_control is not None else "keyword twins"
    out[("classifier", "top-1, keyword twins or control")] = (
        f"{_pct(twins.accuracy)} of {twins.n} ({what})" if twins is not None else "n/a (no twins, no control)"
    )
    pe = r.paired["p_emotional"]
    out[("classifier", "P(emotional) vignette > neutral")] = (
        f"{pe.mean_a:.3f} vs {pe.mean_b:.3f}, one-sided p {_p(pe.p_greater)}"
    )
    for crit in r.criteria:
        verdict = ("pass" if crit.passed else "FAIL") if crit.applicable else "n/a"
        value = "" if crit.value is None else f" ({crit.value:.4g})"
        out[("criteria", crit.name)] = verdict + value
    return out


def compare_reports(a: CertificationReport, b: CertificationReport) -> Comparison:
    """The side-by-side rows of two certification reports (each with its audit)."""
    fa, fb = _figures(a), _figures(b)
    keys = list(fa) + [k for k in fb if k not in fa]
    order = [
        "design checks",
        "length matching",
        "domain-emotion association",
        "keyword hits",
        "lexical floor",
        "classifier",
        "criteria",
    ]
    keys.sort(key=lambda k: order.index(k[0]))
    rows = [ComparisonRow(section=s, name=n, a=fa.get((s, n), "n/a"), b=fb.get((s, n), "n/a")) for s, n in keys]
    meta = [{"source": r.source, "layout": r.layout, "sha256": r.data_sha256} for r in (a, b)]
    return Comparison(
        a=meta[0], b=meta[1], rows=rows, reports={"a": a.model_dump(mode="json"), "b": b.model_dump(mode="json")}
    )


def comparison_markdown(c: Comparison) -> str:
    """The comparison as Markdown: one table per section, battery A and B as columns."""
    from aipsy_affect.render.tables import markdown_table, md_text

    head = [f"A: {md_text(c.a['source'])} ({c.a['layout']})", f"B: {md_text(c.b['source'])} ({c.b['layout']})"]
    lines = [
        "# Two batteries side by side",
        "",
        f"- A: `{c.a['source']}`, layout `{c.a['layout']}`, sha256 `{c.a['sha256']}`",
        f"- B: `{c.b['source']}`, layout `{c.b['layout']}`, sha256 `{c.b['sha256']}`",
        "",
    ]
    sections = list(dict.fromkeys(r.section for r in c.rows))
    for section in sections:
        # Figures are our own formatted numbers and names: only the table's cell escaping (pipes) applies.
        rows = [(r.name, r.a, r.b) for r in c.rows if r.section == section]
        lines += [f"## {section.capitalize()}", "", markdown_table(["", *head], rows)]
    return "\n".join(lines)


def _release(source: str, layout: str | None) -> Release:
    from aipsy_affect.cli.certify import release_from

    return release_from(None if source == PACKAGED else source, layout)


def _add_compare_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="audit and certify two batteries and show their figures side by side",
        description="Read two batteries (a folder, a local export, a Hub repo id, or 'packaged' for ours), audit "
        "their design and run every certification instrument on both; print design checks, length matching, "
        "domain-emotion association, keyword hits, the lexical floor and classifier top-1 side by side. Exit 0 "
        "when both were compared, 2 when either cannot be read.",
    )
    p.add_argument("source_a", metavar="SOURCE_A", help="first battery ('packaged' for the one shipped here)")
    p.add_argument("source_b", metavar="SOURCE_B", help="second battery")
    p.add_argument("--layout-a", choices=("aipsy-affect", "published"), help="layout of SOURCE_A (default: detected)")
    p.add_argument("--layout-b", choices=("aipsy-affect", "published"), help="layout of SOURCE_B (default: detected)")
    p.add_argument(
        "--keyword-control",
        metavar="FILE",
        help="keyword-rich texts (id, text, emotion) measured in place of keyword twins for a battery that has none",
    )
    p.add_argument("--classifier", default=None, metavar="M", help="classifier id or folder (default: MiniLM)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where the classifier runs")
    p.add_argument("--out", metavar="DIR", help="also write compare.md and compare.json here (atomically)")
    p.add_argument("--json", action="store_true", help="print compare.json instead of the Markdown")
    add_quiet(p)
    p.set_defaults(func=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
    from aipsy_affect.battery.io import write_atomic
    from aipsy_affect.certify.external import certify_external
    from aipsy_affect.defense.classifier import load_classifier

    releases = [_release(args.source_a, args.layout_a), _release(args.source_b, args.layout_b)]
    clf = load_classifier(args.classifier, args.device)
    reports = []
    for release in releases:
        control = args.keyword_control if not release.battery.split("keyword_twins") else None
        reports.append(
            certify_external(
                release, None, keyword_control=control, classifier=clf, progress=False if args.quiet else None
            )
        )
    comparison = compare_reports(reports[0], reports[1])
    markdown = comparison_markdown(comparison)
    payload = json.dumps(comparison.model_dump(mode="json"), indent=1, ensure_ascii=False) + "\n"
    if args.out:
        write_atomic(Path(args.out) / "compare.md", markdown)
        write_atomic(Path(args.out) / "compare.json", payload)
    print(payload if args.json else markdown, end="")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``aipsy-affect`` parser."""
    _add_compare_parser(sub)
