"""The dataset card: ``CARD.md`` rendered with Jinja2 from the battery's structure and the certification report.

Structure (counts, the crossing, the columns) is read from the battery; every measured figure (length matching,
the keyword screen, per-split scores, verdicts, the lexical floor) is read from the
:class:`~aipsy_affect.certify.report.CertificationReport` and never recomputed here. An uncertified export says
so instead of showing figures.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aipsy_affect._version import __dataset_version__
from aipsy_affect.battery.export_format import (
    COLUMN_DOCS,
    EXPORT_COLUMNS,
    PUBLIC_COLUMNS,
    TWINS_CONFIG,
    export_features,
)
from aipsy_affect.battery.schema import DOMAINS, EMOTIONS, MAIN_SPLITS, Battery
from aipsy_affect.render.tables import fmt_number, markdown_table

if TYPE_CHECKING:
    from aipsy_affect.certify.report import CertificationReport

__all__ = ["PRETTY_NAME", "card_context", "card_template", "render_card"]

PRETTY_NAME = "AIPsy-Affect: a keyword-free clinical emotion stimulus battery"
_NO_REPORT = "_No certification report: this export carries no measured figures._"


def card_template() -> str:
    """The dataset card template: ``CARD.md`` inside the installed wheel, or at the root of a checkout."""
    packaged = resources.files("aipsy_affect").joinpath("CARD.md")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[2] / "CARD.md"
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    raise FileNotFoundError("CARD.md (the dataset card template) is missing: reinstall the package")


def _composition_table(battery: Battery) -> str:
    rows = []
    for name in (*MAIN_SPLITS, TWINS_CONFIG):
        items = battery.split(name)
        counts = [i.word_count for i in items]
        emotions = sorted({i.emotion for i in items if i.emotion}, key=EMOTIONS.index)
        rows.append(
            [
                f"`{name}`",
                len(items),
                "default" if name in MAIN_SPLITS else TWINS_CONFIG,
                items[0].intensity if items else None,
                f"{len(emotions)} emotions" if emotions else "none",
                len({i.domain for i in items}),
                f"{statistics.mean(counts):.1f} ({min(counts)}-{max(counts)})",
            ]
        )
    return markdown_table(
        ["split", "items", "config", "intensity", "emotion", "domains", "words: mean (min-max)"], rows
    ).rstrip("\n")


def _crossing_table(battery: Battery) -> str:
    cells: Counter[tuple[str | None, int]] = Counter((i.emotion, i.domain) for i in battery.split("clinical"))
    genders: Counter[tuple[str | None, str]] = Counter(
        (i.emotion, i.protagonist_gender) for i in battery.split("clinical")
    )
    rows = [
        [e, *(cells[(e, d)] for d in DOMAINS), f"{genders[(e, 'female')]} / {genders[(e, 'male')]}"] for e in EMOTIONS
    ]
    return markdown_table(["emotion", *(DOMAINS[d][1] for d in DOMAINS), "protagonists f / m"], rows).rstrip("\n")


def _fields_table() -> str:
    features = export_features()
    rows = [
        [f"`{name}`", features[name].dtype, "public" if name in PUBLIC_COLUMNS else "ours", COLUMN_DOCS[name]]
        for name in EXPORT_COLUMNS
    ]
    return markdown_table(["column", "type", "layout", "meaning"], rows).rstrip("\n")


def _length_summary(report: CertificationReport) -> str:
    ln = report.length
    return (
        f"Across the {ln.n_pairs} clinical/neutral pairs the mean paired length difference (clinical minus "
        f"neutral) is {ln.mean_diff:+.2f} words (paired t-test p = {fmt_number(ln.p_t)}, Wilcoxon signed-rank "
        f"p = {fmt_number(ln.p_wilcoxon)}); the largest difference within a pair is "
        f"{100 * ln.max_abs_ratio:.1f}% of the vignette's length."
    )


def _screen_context(report: CertificationReport) -> dict[str, str]:
    kw = report.keywords
    if kw.forbidden_in_480 == 0:
        verdict = "The screen finds **no** forbidden emotion keyword in the 480 items."
    else:
        verdict = (
            f"**Warning:** the screen finds {kw.forbidden_in_480} forbidden keyword(s): "
            + ", ".join(f"{n} in {s}" for s, n in kw.forbidden_by_split.items() if n)
            + "."
        )
    terms: Counter[str] = Counter()
    for split in MAIN_SPLITS:
        terms.update(kw.expressive_terms_by_split.get(split, {}))
    table = markdown_table(
        ["split", "items", "items with an expressive-behaviour word"],
        [[f"`{s}`", report.counts[s], kw.expressive_items_by_split.get(s, 0)] for s in MAIN_SPLITS],
    ).rstrip("\n")
    common = ", ".join(f"{t} ({n})" for t, n in sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
    if common:
        table += f"\n\nMost frequent expressive words: {common}."
        summary = (
            "**Expressive behaviour is rare but not absent.** Words for visible expression (*cried*, *smiled*, "
            "*trembled*) are allowed, counted, and kept rare:"
        )
    else:
        summary = (
            "**Expressive behaviour** words (*cried*, *smiled*, *trembled* and their families) are screened and "
            "none was found, but visible actions told in other words (slamming a ledger shut, running to the "
            "car) are part of the situations and can cue a category:"
        )
    return {"keyword_verdict": verdict, "expressive_summary": summary, "expressive_table": table}


def _split_scores_table(report: CertificationReport) -> str:
    rows = []
    top1 = report.accuracy.get("classifier", {})
    for name in (*MAIN_SPLITS, TWINS_CONFIG):
        acc = top1.get(name)
        rows.append(
            [
                f"`{name}`",
                report.counts[name],
                report.summaries["vader_compound"][name].mean,
                report.summaries["nrc_hit_rate"][name].mean,
                report.summaries["p_emotional"][name].mean,
                f"{100 * acc.accuracy:.1f}%" if acc is not None else None,
            ]
        )
    return markdown_table(
        [
            "split",
            "items",
            "mean VADER compound",
            "mean NRC hit rate",
            "mean P(emotional)",
            "classifier top-1 = target emotion",
        ],
        rows,
        digits=4,
    ).rstrip("\n")


def _lexical_summary(report: CertificationReport) -> str:
    lx = report.lexical
    top1, auc = lx.accuracy["clinical"], lx.affect_auroc
    neutral, clinical = lx.routine_markers.get("neutral"), lx.routine_markers.get("clinical")
    markers = (
        f" Routine markers (*usual*, *routine*, *as always*, ...) occur in {neutral.items_with_marker} "
        f"neutrals and {clinical.items_with_marker} vignettes."
        if neutral and clinical
        else ""
    )
    return (
        f"A trained bag-of-words model (TF-IDF word 1-2-grams + logistic regression, {lx.n_folds} pair-grouped "
        f"folds, no language model) names the emotion of {100 * top1.accuracy:.1f}% of the clinical vignettes "
        f"(95% CI {100 * top1.ci_low:.1f}% to {100 * top1.ci_high:.1f}%; chance {100 * top1.chance:.1f}%) and "
        f"separates vignettes from their neutrals with AUROC {auc.auroc:.3f} (95% CI {auc.ci_low:.3f} to "
        f"{auc.ci_high:.3f}).{markers}"
    )


def _certification_context(report: CertificationReport | None) -> dict[str, str]:
    if report is None:
        return {
            "certification_status": "**Not certified.** This export was built without a validation report; its "
            "certification columns are empty. Published releases are always certified.",
            "validation_table": "_No validation report._",
            "classifier": "n/a",
            "certified_package_version": "n/a",
            "library_versions": "n/a",
            "length_summary": _NO_REPORT,
            "keyword_verdict": _NO_REPORT,
            "expressive_summary": _NO_REPORT,
            "expressive_table": "",
            "split_scores_table": _NO_REPORT,
            "lexical_summary": _NO_REPORT,
        }
    n_passed = sum(c.passed for c in report.criteria)
    status = (
        f"**Certified:** all {len(report.criteria)} criteria passed."
        if report.passed
        else f"**Certification FAILED:** {len(report.criteria) - n_passed} of {len(report.criteria)} criteria "
        "did not pass (see the table)."
    )
    clf = report.classifier
    classifier = f"`{clf.id}`" + (f" at revision `{clf.revision}`" if clf.revision else "")
    if clf.weights_sha256:
        classifier += f", weights sha256 `{clf.weights_sha256[:12]}...`"
    libs = ", ".join(f"{k} {v}" for k, v in sorted(report.library_versions.items())) or "not stated"
    table = markdown_table(
        ["criterion", "what it checks", "value", "required", "verdict"],
        [
            [
                f"`{c.name}`",
                c.description,
                c.value,
                f"{c.comparison} {fmt_number(c.threshold)}",
                "pass" if c.passed else "**FAIL**",
            ]
            for c in report.criteria
        ],
    ).rstrip("\n")
    return {
        "certification_status": status,
        "validation_table": table,
        "classifier": classifier,
        "certified_package_version": report.package_version,
        "library_versions": libs,
        "length_summary": _length_summary(report),
        **_screen_context(report),
        "split_scores_table": _split_scores_table(report),
        "lexical_summary": _lexical_summary(report),
    }


def _norms_section(data_sha256: str) -> str:
    """The card's normative-ratings section, from the shipped ``norms_summary.json`` (never recomputed)."""
    from aipsy_affect.norms.packaged import load_norms

    loaded = load_norms(data_sha256)
    if loaded is None:
        return (
            "No normative ratings ship with this version of the data (norms describe one version of the texts "
            "and are dropped when the texts change)."
        )
    _, summary = loaded
    raters = ", ".join(f"{n} {'language-model' if t == 'llm' else t}" for t, n in summary.rater_types.items())
    rows = [
        [s.split, s.n_items, s.modal_intended, s.mean_agreement, s.intensity_mean, s.flagged_by_two]
        for s in summary.splits
    ]
    table = markdown_table(
        ["split", "items", "modal label = intended", "mean agreement", "mean intensity (0-4)", "flagged by >1 rater"],
        rows,
        align="lrrrrr",
    )
    return (
        f"Every text was rated by at least {summary.min_raters_per_item} independent, blinded raters "
        f"({summary.n_forms} rating forms: {raters} raters). Intended label: the item's emotion, or `none` for "
        f"neutral and complex_neutral items.\n\n{table}\n"
        f"Dose-response: {summary.triplets_ordered} of {summary.triplets_total} triplets are ordered peak > moderate "
        f"> neutral by mean rated intensity. Reliability: Krippendorff's alpha {summary.alpha_label:.3f} on labels "
        f"(nominal) and {summary.alpha_intensity:.3f} on intensity (interval); Fleiss' kappa "
        f"{summary.fleiss_kappa_label:.3f} on labels. {summary.superseded_ratings} ratings of texts that were revised "
        "after being rated are not counted: every revised text carries only the ratings of fresh raters who never "
        "saw an earlier version. Per-item norms: the `norms` config (`norms/norms.jsonl`)."
    )


def _example_record(battery: Battery) -> str:
    item = battery.split("clinical")[0]
    data = {k: v for k, v in item.model_dump(mode="json").items()}
    return json.dumps(data, indent=2, ensure_ascii=False)


def card_context(
    battery: Battery,
    *,
    report: CertificationReport | None,
    data_sha256: str,
    lexicon_version: str,
    repo_id: str,
    revision: str,
    version: str,
) -> dict[str, Any]:
    """Every value ``CARD.md`` can use: structure from the battery, figures from the report (nothing typed in)."""
    main_counts = [i.word_count for s in MAIN_SPLITS for i in battery.split(s)]
    return {
        "pretty_name": PRETTY_NAME,
        "repo_id": repo_id,
        "revision": revision,
        "package_version": version,
        "dataset_version": __dataset_version__,
        "citation_key": "aipsy_affect_" + re.sub(r"[^A-Za-z0-9]", "_", revision),
        "data_sha256": data_sha256,
        "lexicon_version": lexicon_version,
        "n_main": str(sum(len(battery.split(s)) for s in MAIN_SPLITS)),
        "n_twins": str(len(battery.split(TWINS_CONFIG))),
        "domain_list": ", ".join(label for _, label in DOMAINS.values()),
        "composition_table": _composition_table(battery),
        "crossing_table": _crossing_table(battery),
        "word_range": f"{min(main_counts)} to {max(main_counts)}",
        "fields_table": _fields_table(),
        "norms_section": _norms_section(data_sha256),
        "example_record": _example_record(battery),
        **_certification_context(report),
    }


def render_card(battery: Battery, **context: Any) -> str:
    """``CARD.md`` rendered for ``battery`` (keyword arguments as for :func:`card_context`); an undefined name in
    the template is an error (``jinja2.UndefinedError``), never an empty string."""
    import jinja2

    from aipsy_affect.errors import ExportError
    from aipsy_affect.render.templates import render_string

    try:
        return render_string(card_template(), **card_context(battery, **context))
    except jinja2.TemplateError as exc:
        where = f" line {exc.lineno}" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
        raise ExportError(f"CARD.md{where}: {exc.message or exc}") from None
