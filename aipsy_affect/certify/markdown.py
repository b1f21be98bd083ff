"""``validation/REPORT.md``: the certification report for people (verdicts, tables, figures inline).

Every number comes from the :class:`~aipsy_affect.certify.report.CertificationReport`; nothing is recomputed. It
lives in ``certify`` (not ``render``) because ``certify`` writes REPORT.md and may use only the rendering
utilities (``render.tables``); ``aipsy_affect.render.report`` re-exports it for readers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aipsy_affect.battery.schema import EMOTIONS, SPLITS
from aipsy_affect.render.tables import fmt_number, markdown_table

if TYPE_CHECKING:
    from aipsy_affect.certify.report import CertificationReport

__all__ = ["render_markdown"]

_MEASURES = {
    "p_emotional": "classifier P(emotional)",
    "vader_compound": "VADER compound",
    "vader_abs_compound": "VADER |compound|",
    "nrc_hit_rate": "EmoLex hit rate",
    "word_count": "words",
}
_CAPTIONS = {
    "p_emotional": "Classifier P(emotional) by split",
    "vader": "VADER compound by split",
    "nrc": "EmoLex hit rate by split",
    "confusion": "Classifier confusion matrices: clinical vignettes vs keyword twins",
    "contributors": "VADER tokens and EmoLex words that differ most between clinical and neutral",
}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _header(r: CertificationReport) -> list[str]:
    c = r.classifier
    t = r.timing_s
    nan = float("nan")
    proto = (
        f", prototypes {c.prototypes_version}, T = {c.temperature}, neutral prior {c.neutral_prior}"
        if c.kind == "prototype"
        else ""
    )
    return [
        "# aipsy-affect certification report",
        "",
        f"**Verdict: {'PASSED' if r.passed else 'FAILED'}** "
        + (
            f"({sum(x.passed for x in r.criteria)} of {len(r.criteria)} criteria pass)."
            if all(x.applicable for x in r.criteria)
            else f"({sum(x.passed for x in r.criteria)} of {sum(x.applicable for x in r.criteria)} applicable "
            f"criteria pass; {len(r.criteria)} in the standard)."
        ),
        "",
        f"- battery: layout `{r.layout}`, source `{r.source}`",
        f"- package version {r.package_version}; data sha256 `{r.data_sha256}`",
        f"- keyword lexicon {r.lexicon_version}; NRCLex {r.nrc_lexicon.get('version')} (EmoLex file sha256 "
        f"`{str(r.nrc_lexicon.get('lexicon_sha256'))[:16]}...`)",
        f"- classifier `{c.id}` ({c.kind}), revision `{c.revision}`, weights sha256 `{c.weights_sha256}`, "
        f"{c.device}/{c.dtype}{proto}",
        f"- made {r.created_utc} on {r.machine.get('cpu')} ({r.machine.get('cpu_count')} cores); "
        f"total {t.get('total_in_process', nan):.1f} s in process (classifier load {t.get('classifier_load', nan):.1f} s, "
        f"scoring {t.get('scoring', nan):.1f} s, lexical floor {t.get('lexical_floor', nan):.1f} s)",
        "",
        "Methods, definitions and citations: [docs/defense-battery.md](../docs/defense-battery.md).",
        "",
    ]


def _statistics(r: CertificationReport) -> list[str]:
    out = [
        "## Criteria",
        "",
        markdown_table(
            ["criterion", "value", "rule", "verdict", "what it checks"],
            [
                (
                    x.name,
                    fmt_number(x.value),
                    f"{x.comparison} {fmt_number(x.threshold)}",
                    ("pass" if x.passed else "**FAIL**") if x.applicable else "n/a",
                    x.description + (f" ({x.reason})" if x.reason else ""),
                )
                for x in r.criteria
            ],
        ),
    ]
    rows = [
        (
            label,
            s,
            v.n,
            fmt_number(v.mean),
            fmt_number(v.sd),
            fmt_number(v.median),
            f"{fmt_number(v.q1)} to {fmt_number(v.q3)}",
        )
        for m, label in _MEASURES.items()
        for s, v in r.summaries[m].items()
    ]
    out += [
        "## Per-split summaries",
        "",
        markdown_table(["measure", "split", "n", "mean", "sd", "median", "IQR"], rows),
    ]
    out += [
        f"## Clinical vs matched neutral (Wilcoxon signed-rank, {r.length.n_pairs} pairs)",
        "",
        markdown_table(
            [
                "measure",
                "mean clinical",
                "mean neutral",
                "median diff",
                "clinical higher / lower / tied",
                "p (one-sided, clinical higher)",
                "p (two-sided)",
                "rank-biserial r",
            ],
            [
                (
                    _MEASURES[m],
                    fmt_number(t.mean_a),
                    fmt_number(t.mean_b),
                    fmt_number(t.median_diff),
                    f"{t.n_positive} / {t.n_negative} / {t.n_ties}",
                    fmt_number(t.p_greater),
                    fmt_number(t.p_two_sided),
                    fmt_number(t.rank_biserial),
                )
                for m, t in r.paired.items()
            ],
        ),
    ]
    ln = r.length
    out += [
        "## Length matching",
        "",
        f"Clinical minus matched neutral: mean {ln.mean_diff:+.2f} words (sd {ln.sd_diff:.2f}), paired t = "
        f"{ln.t:.2f}, p = {fmt_number(ln.p_t)}; Wilcoxon p = {fmt_number(ln.p_wilcoxon)}; Cohen's d_z = "
        f"{ln.cohens_dz:.3f}; largest pair difference {100 * ln.max_abs_ratio:.1f}% of the vignette.",
        "",
    ]
    out += [
        "## Unpaired splits (Mann-Whitney U)",
        "",
        markdown_table(
            ["measure", "comparison", "mean a", "mean b", "AUC P(a > b)", "rank-biserial", "p (two-sided)"],
            [
                (
                    _MEASURES[k.split(":")[0]],
                    k.split(":")[1].replace("_vs_", " vs "),
                    fmt_number(t.mean_a),
                    fmt_number(t.mean_b),
                    fmt_number(t.auc),
                    fmt_number(t.rank_biserial),
                    fmt_number(t.p_two_sided),
                )
                for k, t in r.unpaired.items()
            ],
        ),
    ]
    top1 = [
        (
            method,
            split,
            a.n,
            _pct(a.accuracy),
            _pct(a.chance),
            f"{_pct(a.ci_low)} to {_pct(a.ci_high)}",
            fmt_number(a.p_above_chance),
            fmt_number(a.cohens_h),
        )
        for method, per in r.accuracy.items()
        for split, a in per.items()
    ]
    out += [
        "## Top-1 accuracy against the target emotion",
        "",
        "`classifier`: the classifier's label, its most probable emotion with neutral excluded (chance 1/8), "
        "the measure the criteria use; `classifier_with_neutral`: the most probable label when neutral may "
        "win too (a neutral answer never names the category); `nrc_top`: EmoLex's most frequent emotion "
        "(tied tops get fractional credit).",
        "",
        markdown_table(
            ["method", "split", "n", "top-1", "chance", "95% CI", "binomial p (above chance)", "Cohen's h"], top1
        ),
    ]
    for split in (s for s in ("clinical", "keyword_twins") if s in r.confusion["classifier"]):
        conf = r.confusion["classifier"][split]
        out += [
            f"### Classifier confusion matrix, {split} (rows: target, columns: classifier label)",
            "",
            markdown_table(
                ["target", *conf["cols"]],
                [[row, *vals] for row, vals in zip(conf["rows"], conf["matrix"], strict=True)],
            ),
        ]
    out += [
        "## Clinical items whose emotion the classifier names (most confident first)",
        "",
        f"{len(r.category_readable)} of {r.counts['clinical']} clinical vignettes; the evidence is the sentence "
        "that carried the top emotion. These are the items whose category is most readable from the words.",
        "",
        markdown_table(
            ["id", "confidence", "P(emotional)", "evidence sentence"],
            [
                (x["id"], fmt_number(x["confidence"]), fmt_number(x["p_emotional"]), x["evidence"] or "")
                for x in r.category_readable[:15]
            ],
        ),
    ]
    return out


def _lexical(r: CertificationReport) -> list[str]:
    lx = r.lexical
    auc = lx.affect_auroc
    rows = [
        (
            split,
            a.n,
            _pct(a.accuracy),
            _pct(a.chance),
            f"{_pct(a.ci_low)} to {_pct(a.ci_high)}",
            fmt_number(a.p_above_chance),
        )
        for split, a in lx.accuracy.items()
    ]
    markers = [
        (
            s,
            m.n_items,
            m.items_with_marker,
            m.occurrences,
            ", ".join(f"{k} ({n})" for k, n in m.by_marker.items()) or "-",
        )
        for s, m in lx.routine_markers.items()
    ]
    return [
        "## Trained lexical floor (method 4)",
        "",
        f"{lx.method}. No language model: only the words. Every score is out of fold.",
        "",
        f"Affect, clinical vs matched neutral: AUROC **{auc.auroc:.3f}** (95% pair-bootstrap CI {auc.ci_low:.3f} to "
        f"{auc.ci_high:.3f}; {auc.n_pairs} pairs, {auc.n_resamples} resamples).",
        "",
        markdown_table(["split", "n", "8-way top-1", "chance", "95% CI", "binomial p (above chance)"], rows),
        "Most predictive terms per emotion (8-way model fitted on all clinical vignettes):",
        "",
        markdown_table(["emotion", "terms"], [(e, ", ".join(w)) for e, w in lx.top_words.items()]),
        "Clinical vignettes the floor names, most confident first:",
        "",
        markdown_table(
            ["id", "P(target emotion)"], [(x["id"], fmt_number(x["probability"])) for x in lx.most_readable]
        ),
        "Routine markers (usual, usually, routine, routinely, regular, regularly, normal, normally, ordinary, "
        "customary, as always) per split: a lexical giveaway of the control condition when neutrals use them more.",
        "",
        markdown_table(["split", "items", "items with a marker", "occurrences", "markers"], markers),
    ]


def _vocabulary(r: CertificationReport) -> list[str]:
    kw = r.keywords
    cols = [*EMOTIONS, "none"]
    return [
        "## Keywords",
        "",
        f"Forbidden keywords in the 480: **{kw.forbidden_in_480}**. Keyword twins without their own emotion's "
        f"keyword: **{len(kw.twins_without_own_keyword)}**.",
        "",
        "Expressive-behaviour words (allowed, reported) per split and emotion (neutral controls counted under "
        "their vignette's emotion):",
        "",
        markdown_table(
            ["split", *cols, "items with one", "terms"],
            [
                [
                    s,
                    *(kw.expressive_by_split_and_emotion[s].get(e, 0) for e in cols),
                    kw.expressive_items_by_split.get(s, 0),
                    ", ".join(f"{t} ({n})" for t, n in kw.expressive_terms_by_split[s].items()) or "-",
                ]
                for s in SPLITS
            ],
        ),
        "## Words that moved the bag-of-words and lexicon scores",
        "",
        "The VADER tokens whose summed valence, and the EmoLex words whose item counts, differ most between the "
        "clinical vignettes and their matched neutrals. With no emotion keyword in the 480 (see Keywords), this is "
        "situational vocabulary.",
        "",
        markdown_table(
            ["VADER token", "clinical: items, summed valence", "neutral: items, summed valence"],
            [
                (
                    x["token"],
                    f"{x['clinical_items']}, {x['clinical_valence']:+.2f}",
                    f"{x['neutral_items']}, {x['neutral_valence']:+.2f}",
                )
                for x in r.contributors["vader"]
            ],
        ),
        markdown_table(
            ["EmoLex word", "categories", "clinical items", "neutral items"],
            [
                (x["word"], ", ".join(x["categories"]), x["clinical_items"], x["neutral_items"])
                for x in r.contributors["nrc"]
            ],
        ),
    ]


def render_markdown(report: CertificationReport) -> str:
    """The human-readable report: verdicts, tables and the figures inline."""
    parts: list[Any] = [
        *_header(report),
        *_statistics(report),
        *_lexical(report),
        *_vocabulary(report),
        "## Figures",
        "",
    ]
    for key, fname in report.figures.items():
        caption = _CAPTIONS.get(key, key)
        parts += [f"### {caption}", "", f"![{caption}]({fname})", ""]
    return "\n".join(parts)
