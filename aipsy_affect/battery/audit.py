"""The design checks of a battery as a report, not a gate: each invariant holds, fails (with the figure) or is not
applicable (with the reason).

Our packaged battery enforces these invariants as hard errors (``schema.Battery``); a battery in another layout
(``battery.published``) is read as it is and audited here. The checks that matter most for probing are the
confounds a probe can learn instead of affect: a domain (topic) that predicts the emotion, and a systematic length
difference between vignettes and their matched neutrals.

The keyword screen lives above this package (``keywords``), so it is passed in (``find_keywords``); without it the
keyword check is reported as not applicable.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from aipsy_affect.battery.audit_report import AuditReport, Check, DomainAssociation, KeywordHits, LengthAudit
from aipsy_affect.battery.published import ExternalItem
from aipsy_affect.battery.schema import (
    DESIGN_COUNTS,
    EMOTIONS,
    MAIN_SPLITS,
    SPLIT_INTENSITY,
    SPLITS,
    Battery,
    StimulusItem,
)
from aipsy_affect.render.tables import fmt_number, markdown_table

__all__ = [
    "AuditReport",
    "Check",
    "DomainAssociation",
    "KeywordHits",
    "LengthAudit",
    "audit_battery",
    "audit_markdown",
    "domain_association",
]

#: Paired-length rules of the design (BRIEF section 2).
MAX_MEAN_LENGTH_DIFF = 2.0
MIN_LENGTH_P = 0.05
PAIR_LENGTH_TOLERANCE = 0.10
VIGNETTE_WORDS = (80, 130)
#: Domain must not predict emotion: a chi-square test at this level.
ASSOCIATION_ALPHA = 0.05


def _check(name: str, ok: bool, value: float, figure: str, description: str) -> Check:
    return Check(
        name=name, status="holds" if ok else "fails", value=float(value), figure=figure, description=description
    )


def _na(name: str, reason: str, description: str) -> Check:
    return Check(name=name, status="not_applicable", value=None, figure="", reason=reason, description=description)


def domain_association(
    items: Sequence[StimulusItem], by: Literal["domain", "domain_label"]
) -> DomainAssociation | None:
    """Chi-square and Cramer's V of emotion x domain over ``items`` (``None`` with fewer than two levels each)."""
    import numpy as np
    from scipy.stats import chi2_contingency

    pairs = [
        (str(i.emotion), str(getattr(i, by))) for i in items if i.emotion is not None and getattr(i, by) is not None
    ]
    emotions = sorted({e for e, _ in pairs})
    levels = sorted({d for _, d in pairs})
    if len(emotions) < 2 or len(levels) < 2:
        return None
    counts = Counter(pairs)
    table = np.array([[counts[(e, d)] for d in levels] for e in emotions], dtype=float)
    chi2, p, dof, _ = chi2_contingency(table, correction=False)
    n = len(pairs)
    v = float(np.sqrt(chi2 / (n * (min(table.shape) - 1))))
    specific = int(sum((table[:, j] > 0).sum() == 1 for j in range(len(levels))))
    return DomainAssociation(
        by=by,
        n=n,
        n_levels=len(levels),
        chi2=float(chi2),
        dof=int(dof),
        p=float(p),
        cramers_v=v,
        emotion_specific_levels=specific,
        majority_accuracy=float(table.max(axis=0).sum() / n),
    )


def _length(pairs: list[tuple[StimulusItem, StimulusItem]]) -> LengthAudit | None:
    import numpy as np
    from scipy.stats import ttest_rel, wilcoxon

    if len(pairs) < 2:
        return None
    a = np.array([c.word_count for c, _ in pairs], dtype=float)
    b = np.array([n.word_count for _, n in pairs], dtype=float)
    d = a - b
    sd = float(d.std(ddof=1))
    t, p_t = (0.0, 1.0) if sd == 0 else tuple(float(x) for x in ttest_rel(a, b))
    p_w = float(wilcoxon(a, b).pvalue) if np.any(d != 0) else 1.0
    return LengthAudit(
        n_pairs=len(pairs),
        mean_diff=float(d.mean()),
        sd_diff=sd,
        t=t,
        p_t=p_t,
        p_wilcoxon=p_w,
        outside_tolerance=int((np.abs(d) > PAIR_LENGTH_TOLERANCE * a).sum()),
    )


def _keyword_hits(battery: Battery, find: Callable[[str], Sequence[Any]]) -> KeywordHits:
    forbidden: Counter[str] = Counter({s: 0 for s in SPLITS})
    items_with: Counter[str] = Counter({s: 0 for s in SPLITS})
    expressive: Counter[str] = Counter({s: 0 for s in SPLITS})
    terms: Counter[str] = Counter()
    for item in battery.items:
        hits = find(item.text)
        bad = [h for h in hits if h.kind == "forbidden"]
        forbidden[item.split] += len(bad)
        items_with[item.split] += bool(bad)
        expressive[item.split] += sum(h.kind == "expressive" for h in hits)
        if item.split in MAIN_SPLITS:
            terms.update(h.match.lower() for h in bad)
    return KeywordHits(
        forbidden_by_split=dict(forbidden),
        items_with_forbidden_by_split=dict(items_with),
        expressive_by_split=dict(expressive),
        top_forbidden=dict(sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[:15]),
    )


def audit_battery(
    battery: Battery,
    *,
    layout: str,
    source: str,
    sha256: str,
    find_keywords: Callable[[str], Sequence[Any]] | None = None,
) -> AuditReport:
    """Every design check on ``battery``; ``find_keywords`` (``keywords.screen.find_keywords``) screens the texts."""
    by_split = {s: battery.split(s) for s in SPLITS}
    index = battery.by_id()
    clinical = by_split["clinical"]
    pairs = battery.pairs()
    length = _length(pairs)
    association = {by: a for by in ("domain", "domain_label") if (a := domain_association(clinical, by)) is not None}  # type: ignore[arg-type]
    keywords = _keyword_hits(battery, find_keywords) if find_keywords is not None else None
    checks = [_counts_check(by_split), _cells_check(clinical)]
    checks += _pair_checks(clinical, by_split["neutral"], index, pairs, length)
    checks += _domain_checks(association)
    checks += _link_checks(by_split, index)
    checks.append(_keyword_check(keywords))
    checks += _field_checks(battery, layout)
    return AuditReport(
        layout=layout,
        source=source,
        sha256=sha256,
        counts={s: len(v) for s, v in by_split.items()},
        checks=checks,
        length=length,
        association=association,
        keywords=keywords,
    )


def _counts_check(by_split: dict[str, list[StimulusItem]]) -> Check:
    off = {s: len(by_split[s]) for s in MAIN_SPLITS if len(by_split[s]) != DESIGN_COUNTS[s]}
    figure = ", ".join(f"{s} {len(by_split[s])} (design {DESIGN_COUNTS[s]})" for s in MAIN_SPLITS)
    return _check(
        "split_counts",
        not off,
        len(off),
        figure,
        "items per split as designed: 192 clinical, 192 neutral, 48 moderate, 48 complex_neutral",
    )


def _cells_check(clinical: list[StimulusItem]) -> Check:
    desc = "every emotion x domain cell of the clinical items holds the same number of vignettes (fully crossed)"
    if not clinical or any(not isinstance(i.domain, int) for i in clinical):
        return _na("clinical_cells_balanced", "clinical items without a numbered domain", desc)
    cells = Counter((str(i.emotion), i.domain) for i in clinical)
    domains = sorted({d for _, d in cells})
    sizes = [cells[(e, d)] for e in EMOTIONS for d in domains]
    return _check(
        "clinical_cells_balanced",
        min(sizes) == max(sizes) > 0,
        max(sizes) - min(sizes),
        f"{len(EMOTIONS)} emotions x {len(domains)} domains, {min(sizes)} to {max(sizes)} vignettes per cell",
        desc,
    )


def _pair_checks(
    clinical: list[StimulusItem],
    neutral: list[StimulusItem],
    index: Mapping[str, StimulusItem],
    pairs: list[tuple[StimulusItem, StimulusItem]],
    length: LengthAudit | None,
) -> list[Check]:
    unpaired = [c.id for c in clinical if c.id not in {p.id for p, _ in pairs}]
    one_way = [n.id for c, n in pairs if n.matched_control_id != c.id]
    orphans = [n.id for n in neutral if n.id not in {q.id for _, q in pairs}]
    out = [
        _check(
            "vignettes_paired",
            not (unpaired or one_way or orphans),
            len(unpaired) + len(one_way) + len(orphans),
            f"{len(pairs)} pairs; {len(unpaired)} vignettes without a neutral, {len(orphans)} neutrals without "
            f"a vignette, {len(one_way)} links that do not point back",
            "every vignette has exactly one matched neutral and the two name each other",
        )
    ]
    differ = [c.id for c, n in pairs if (c.domain, c.domain_label) != (n.domain, n.domain_label)]
    out.append(
        _check(
            "pairs_share_domain",
            not differ,
            len(differ),
            f"{len(differ)} of {len(pairs)} pairs differ",
            "a vignette and its neutral share the domain",
        )
    )
    if length is None:
        reason = "fewer than two vignette-neutral pairs"
        return out + [
            _na(n, reason, d)
            for n, d in (
                ("pair_length_within_10pct", "each pair within +/-10% words"),
                ("length_mean_difference", "mean paired word-count difference within +/-2 words"),
                ("length_paired_test", "paired t-test of word counts not significant (p >= 0.05)"),
            )
        ]
    return [
        *out,
        _check(
            "pair_length_within_10pct",
            length.outside_tolerance == 0,
            length.outside_tolerance,
            f"{length.outside_tolerance} of {length.n_pairs} pairs differ by more than 10%",
            "each pair within +/-10% words",
        ),
        _check(
            "length_mean_difference",
            abs(length.mean_diff) <= MAX_MEAN_LENGTH_DIFF,
            length.mean_diff,
            f"vignette minus neutral: mean {length.mean_diff:+.2f} words (sd {length.sd_diff:.2f}, "
            f"{length.n_pairs} pairs)",
            "mean paired word-count difference within +/-2 words (a probe can learn length)",
        ),
        _check(
            "length_paired_test",
            length.p_t >= MIN_LENGTH_P,
            length.p_t,
            f"paired t = {length.t:.2f}, p = {fmt_number(length.p_t)}; Wilcoxon p = {fmt_number(length.p_wilcoxon)}",
            "paired t-test of word counts not significant (p >= 0.05)",
        ),
    ]


def _domain_checks(association: dict[str, DomainAssociation]) -> list[Check]:
    desc = (
        "domain does not predict emotion over the clinical items (chi-square of emotion x domain label, "
        "p >= 0.05; Cramer's V reported)"
    )
    shared = "every domain label occurs with every emotion (the domains are shared, not emotion-specific)"
    a = association.get("domain_label")
    if a is None:
        reason = "fewer than two domain labels or emotions among the clinical items"
        return [
            _na("domain_does_not_predict_emotion", reason, desc),
            _na("domains_shared_by_all_emotions", reason, shared),
        ]
    return [
        _check(
            "domain_does_not_predict_emotion",
            a.p >= ASSOCIATION_ALPHA,
            a.cramers_v,
            f"Cramer's V = {a.cramers_v:.3f}, chi2 = {a.chi2:.1f} (dof {a.dof}), p = {fmt_number(a.p)}; the "
            f"label alone names the emotion of {100 * a.majority_accuracy:.1f}% of {a.n} vignettes",
            desc,
        ),
        _check(
            "domains_shared_by_all_emotions",
            a.emotion_specific_levels == 0,
            a.emotion_specific_levels,
            f"{a.emotion_specific_levels} of {a.n_levels} domain labels occur with one emotion only",
            shared,
        ),
    ]


def _link_checks(by_split: dict[str, list[StimulusItem]], index: Mapping[str, StimulusItem]) -> list[Check]:
    out = []
    moderate = by_split["moderate"]
    desc = "each moderate item names its peak vignette (same emotion), forming a peak > moderate > neutral triplet"
    if not moderate:
        out.append(_na("moderates_linked_to_peak", "the battery has no moderate items", desc))
    else:
        linked = [
            m
            for m in moderate
            if (p := index.get(m.peak_id or "")) is not None and p.split == "clinical" and p.emotion == m.emotion
        ]
        out.append(
            _check(
                "moderates_linked_to_peak",
                len(linked) == len(moderate),
                len(moderate) - len(linked),
                f"{len(linked)} of {len(moderate)} moderate items name a peak vignette",
                desc,
            )
        )
    twins = by_split["keyword_twins"]
    desc = "each vignette has one keyword twin: the vignette unchanged plus a sentence naming its emotion"
    if not twins:
        out.append(
            _na(
                "keyword_twins",
                "the battery has no keyword twins (certify can use an unpaired --keyword-control instead)",
                desc,
            )
        )
    else:
        per_peak = Counter(t.peak_id for t in twins)
        bad = [c.id for c in by_split["clinical"] if per_peak[c.id] != 1]
        bad += [t.id for t in twins if t.peak_id in index and not t.text.startswith(index[str(t.peak_id)].text)]
        out.append(_check("keyword_twins", not bad, len(bad), f"{len(twins)} twins; {len(bad)} problems", desc))
    return out


def _keyword_check(keywords: KeywordHits | None) -> Check:
    desc = "no forbidden emotion keyword in the four main splits (the keyword screen)"
    if keywords is None:
        return _na("no_forbidden_keywords", "no keyword screen was given", desc)
    total = sum(keywords.forbidden_by_split[s] for s in MAIN_SPLITS)
    figure = ", ".join(f"{s} {keywords.forbidden_by_split[s]}" for s in MAIN_SPLITS)
    return _check("no_forbidden_keywords", total == 0, total, f"hits: {figure}", desc)


def _field_checks(battery: Battery, layout: str) -> list[Check]:
    items = [i for i in battery.items if i.split in MAIN_SPLITS]
    out = []
    desc = "each item names one protagonist, who occurs in the text"
    if any(i.protagonist is None for i in items):
        missing = sum(i.protagonist is None for i in items)
        out.append(
            _na(
                "protagonist_named",
                f"{missing} items have no protagonist field (the {layout} layout); none is inferred from the text",
                desc,
            )
        )
    else:
        out.append(_check("protagonist_named", True, 0, f"{len(items)} items name their protagonist", desc))
    desc = "a published word_count agrees with the text (whitespace-separated words)"
    external = [i for i in items if isinstance(i, ExternalItem)]
    stated = [(i, i.source_word_count) for i in external if i.source_word_count is not None]
    if not external:
        out.append(_na("word_count_matches_text", "word counts are recomputed from the text, never read", desc))
    else:
        wrong = [i.id for i, n in stated if n != i.word_count]
        out.append(
            _check(
                "word_count_matches_text",
                not wrong,
                len(wrong),
                f"{len(wrong)} of {len(stated)} stated counts differ from the text; "
                f"{len(external) - len(stated)} items give none (null)",
                desc,
            )
        )
    off = [i.id for i in items if i.intensity != SPLIT_INTENSITY[i.split]]
    out.append(
        _check(
            "intensity_matches_split",
            not off,
            len(off),
            f"{len(off)} of {len(items)} items with another or no intensity",
            "intensity is peak for clinical, moderate for moderate, none for the neutral kinds",
        )
    )
    lo, hi = VIGNETTE_WORDS
    clinical = [i for i in items if i.split == "clinical"]
    outside = [i.id for i in clinical if not lo <= i.word_count <= hi]
    out.append(
        _check(
            "vignette_length_80_130",
            not outside,
            len(outside),
            f"{len(outside)} of {len(clinical)} vignettes outside {lo}-{hi} words",
            f"vignettes run {lo} to {hi} words",
        )
    )
    return out


def audit_markdown(report: AuditReport, title: str = "Design audit") -> str:
    """The audit as Markdown: one row per check, then the association and keyword tables."""
    mark = {"holds": "holds", "fails": "**fails**", "not_applicable": "n/a"}
    lines = [
        f"## {title}",
        "",
        f"Layout `{report.layout}`, source `{report.source}`, sha256 `{report.sha256}`.",
        "",
        markdown_table(
            ["check", "status", "figure or reason", "invariant"],
            [(c.name, mark[c.status], c.figure or (c.reason or ""), c.description) for c in report.checks],
        ),
    ]
    if report.association:
        lines += [
            "Domain x emotion over the clinical items:",
            "",
            markdown_table(
                [
                    "domain column",
                    "levels",
                    "chi2",
                    "dof",
                    "p",
                    "Cramer's V",
                    "emotion-specific levels",
                    "named by domain alone",
                ],
                [
                    (
                        a.by,
                        a.n_levels,
                        fmt_number(a.chi2),
                        a.dof,
                        fmt_number(a.p),
                        fmt_number(a.cramers_v),
                        a.emotion_specific_levels,
                        f"{100 * a.majority_accuracy:.1f}%",
                    )
                    for a in report.association.values()
                ],
            ),
        ]
    if report.keywords is not None:
        kw = report.keywords
        rows: dict[str, list[Any]] = defaultdict(list)
        for s in SPLITS:
            rows[s] = [
                s,
                kw.forbidden_by_split.get(s, 0),
                kw.items_with_forbidden_by_split.get(s, 0),
                kw.expressive_by_split.get(s, 0),
            ]
        lines += [
            "Keyword screen per split:",
            "",
            markdown_table(["split", "forbidden hits", "items with one", "expressive hits"], list(rows.values())),
        ]
    return "\n".join(lines)
