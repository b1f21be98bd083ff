"""Writing a norming study's results: ``norms.jsonl``, ``norms_summary.json``, ``NORMS.md`` and a figure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from aipsy_affect.battery.io import dumps_jsonl, write_atomic
from aipsy_affect.battery.release import Release
from aipsy_affect.norms.analyze import NormsSummary, triplets
from aipsy_affect.norms.models import ItemNorm
from aipsy_affect.render.tables import fmt_number, markdown_table

__all__ = ["render_markdown", "write_outputs"]

#: Targets from the design brief (section 10) that the summary is read against.
TARGETS = {"clinical": 0.90, "neutral": 0.97}


def render_markdown(norms: Sequence[ItemNorm], summary: NormsSummary, release: Release) -> str:
    """``NORMS.md``: per-split figures, targets, reliability, the dose-response check and the weakest items."""
    lines = [
        "# Normative ratings",
        "",
        f"{summary.n_forms} filled forms ({', '.join(f'{n} {t}' for t, n in summary.rater_types.items())}); "
        f"every rated item has at least {summary.min_raters_per_item} raters. Battery `{summary.data_sha256[:12]}`. "
        f"{summary.superseded_ratings} ratings of texts revised after they were rated are left out (revised texts "
        "carry only the ratings of fresh raters who never saw an earlier version).",
        "",
        "## Per split",
        "",
    ]
    rows = [
        [s.split, s.n_items, s.modal_intended, s.mean_agreement, s.intensity_mean, s.flagged_by_two]
        for s in summary.splits
    ]
    lines.append(
        markdown_table(
            [
                "split",
                "items",
                "modal label = intended",
                "mean agreement",
                "mean intensity (0-4)",
                "flagged by >1 rater",
            ],
            rows,
            align="lrrrrr",
        )
    )
    lines += ["Intended label: the item's emotion; `none` for neutral and complex_neutral items.", "", "## Targets", ""]
    split = {s.split: s for s in summary.splits}
    checks = []
    if "clinical" in split:
        checks.append(
            [
                "vignettes with the intended modal label",
                split["clinical"].modal_intended,
                ">= 0.90",
                split["clinical"].modal_intended >= 0.90,
            ]
        )
    if "neutral" in split:
        checks.append(
            [
                "neutrals with modal label `none`",
                split["neutral"].modal_intended,
                ">= 0.97",
                split["neutral"].modal_intended >= 0.97,
            ]
        )
        checks.append(
            [
                "neutrals flagged by more than one rater",
                split["neutral"].flagged_by_two,
                "<= 0.03",
                split["neutral"].flagged_by_two <= 0.03,
            ]
        )
    if summary.triplets_total:
        share = summary.triplets_ordered / summary.triplets_total
        checks.append(["triplets ordered peak > moderate > neutral", share, ">= 0.90", share >= 0.90])
    lines.append(markdown_table(["target", "value", "rule", "met"], checks, align="lrll"))
    lines += [
        "## Reliability",
        "",
        markdown_table(
            ["measure", "value"],
            [
                ["Krippendorff's alpha, label (nominal)", summary.alpha_label],
                ["Krippendorff's alpha, intensity (interval)", summary.alpha_intensity],
                [
                    f"Fleiss' kappa, label ({summary.fleiss_items} items with equal rater counts)",
                    summary.fleiss_kappa_label,
                ],
            ],
        ),
        "## Dose-response",
        "",
        f"{summary.triplets_ordered} of {summary.triplets_total} triplets are ordered peak > moderate > neutral "
        "by mean rated intensity.",
        "",
    ]
    trips = triplets(norms, release)
    bad = [[t[0], fmt_number(t[1], 2), fmt_number(t[2], 2), fmt_number(t[3], 2)] for t in trips if not t[4]]
    if bad:
        lines.append(markdown_table(["moderate item", "peak", "moderate", "neutral"], bad, align="lrrr"))
    weak = [x for x in norms if x.modal_label != x.intended_label or x.coherence_flags > 1]
    lines += [
        "## Items off target",
        "",
        f"{len(weak)} items have a modal label other than the intended one or more than one coherence flag.",
        "",
    ]
    if weak:
        lines.append(
            markdown_table(
                ["id", "intended", "modal", "agreement", "intensity", "flags"],
                [
                    [x.id, x.intended_label, x.modal_label, x.label_agreement, x.intensity_mean, x.coherence_flags]
                    for x in weak
                ],
                align="lllrrr",
            )
        )
    return "\n".join(lines) + "\n"


def _figure(norms: Sequence[ItemNorm]) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = list(dict.fromkeys(x.split for x in norms))
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    ax.boxplot([[x.intensity_mean for x in norms if x.split == s] for s in splits])
    ax.set_xticks(range(1, len(splits) + 1), splits)
    ax.set_ylabel("mean rated intensity (0-4)")
    ax.set_title("Rated intensity by split")
    ax.set_ylim(-0.2, 4.2)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def write_outputs(norms: Sequence[ItemNorm], summary: NormsSummary, release: Release, out_dir: str | Path) -> None:
    """Write the four outputs into ``out_dir`` (each atomically)."""
    out = Path(out_dir)
    write_atomic(out / "norms.jsonl", dumps_jsonl([x.model_dump(mode="json") for x in norms]))
    write_atomic(
        out / "norms_summary.json", json.dumps(summary.model_dump(mode="json"), indent=1, sort_keys=True) + "\n"
    )
    write_atomic(out / "NORMS.md", render_markdown(norms, summary, release))
    write_atomic(out / "intensity_by_split.png", _figure(norms))
