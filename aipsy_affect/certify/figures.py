"""PNG figures of the certification report (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aipsy_affect.battery.schema import EMOTIONS, SPLITS

if TYPE_CHECKING:
    from aipsy_affect.certify.report import CertificationReport, ItemScores

_SPLIT_LABELS = {
    "clinical": "clinical",
    "neutral": "neutral",
    "moderate": "moderate",
    "complex_neutral": "complex\nneutral",
    "keyword_twins": "keyword\ntwins",
}
_COLORS = {
    "clinical": "#c0392b",
    "neutral": "#7f8c8d",
    "moderate": "#e67e22",
    "complex_neutral": "#2980b9",
    "keyword_twins": "#8e44ad",
}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    # No software/date metadata, so an unchanged figure gives unchanged bytes.
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    _plt().close(fig)
    return buf.getvalue()


def by_split(scores: Sequence[ItemScores], value: Callable[[ItemScores], float], title: str, ylabel: str) -> bytes:
    """Box plot with the individual items jittered on top, one box per split."""
    import numpy as np

    plt = _plt()
    rng = np.random.default_rng(0)
    data = [[value(s) for s in scores if s.split == split] for split in SPLITS]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.boxplot(data, showfliers=False, widths=0.55, medianprops={"color": "black"})
    for k, (split, vals) in enumerate(zip(SPLITS, data, strict=True), start=1):
        ax.scatter(k + rng.uniform(-0.18, 0.18, len(vals)), vals, s=9, alpha=0.55, color=_COLORS[split], linewidths=0)
        if vals:
            ax.text(k, max(vals), f"mean {np.mean(vals):.2f}", fontsize=7, ha="center", va="bottom")
    ax.set_xticks(
        range(1, len(SPLITS) + 1), [f"{_SPLIT_LABELS[s]}\n(n={len(d)})" for s, d in zip(SPLITS, data, strict=True)]
    )
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def confusion_pair(report: CertificationReport) -> bytes:
    """Confusion matrices of the classifier's top emotion: clinical vignettes beside keyword twins."""
    import numpy as np

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    for ax, split in zip(axes, ("clinical", "keyword_twins"), strict=True):
        conf = report.confusion["classifier"][split]
        m = np.asarray(conf["matrix"])
        acc = report.accuracy["classifier"][split]
        ax.imshow(m, cmap="Blues", vmin=0, vmax=max(1, m.sum(axis=1).max()))
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                ax.text(
                    j,
                    i,
                    str(m[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if m[i, j] > 0.6 * m.sum(axis=1).max() else "black",
                )
        ax.set_xticks(range(len(EMOTIONS)), [e[:5] for e in EMOTIONS], rotation=45)
        ax.set_yticks(range(len(EMOTIONS)), list(EMOTIONS))
        ax.set_xlabel("classifier label (top emotion)")
        ax.set_ylabel("target emotion")
        ax.set_title(f"{split}: top-1 {100 * acc.accuracy:.1f}% (chance {100 * acc.chance:.1f}%)")
    fig.suptitle(f"{report.classifier.id}")
    fig.tight_layout()
    return _png(fig)


def _paired_bars(ax: Any, clinical: list[float], neutral: list[float]) -> list[int]:
    """Clinical and matched-neutral bars side by side, one row per word; returns the row positions."""
    y = list(range(len(clinical)))
    ax.barh([v + 0.2 for v in y], clinical, height=0.4, color=_COLORS["clinical"], label="clinical (192)")
    ax.barh([v - 0.2 for v in y], neutral, height=0.4, color=_COLORS["neutral"], label="matched neutral (192)")
    return y


def contributors(report: CertificationReport) -> bytes:
    """Horizontal bars: the VADER tokens and EmoLex words that differ most between clinical and neutral."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
    vader = report.contributors["vader"][::-1]
    y = _paired_bars(axes[0], [x["clinical_valence"] for x in vader], [x["neutral_valence"] for x in vader])
    axes[0].set_yticks(y, [x["token"] for x in vader])
    axes[0].axvline(0, color="black", linewidth=0.6)
    axes[0].set_xlabel("summed VADER valence over the split")
    axes[0].set_title("VADER tokens: largest clinical - neutral difference")
    axes[0].legend(fontsize=7, loc="lower right")
    nrc = report.contributors["nrc"][::-1]
    y = _paired_bars(axes[1], [x["clinical_items"] for x in nrc], [x["neutral_items"] for x in nrc])
    tags = ["/".join(c[:4] for c in x["categories"]) for x in nrc]
    axes[1].set_yticks(y, [f"{x['word']} [{t}]" for x, t in zip(nrc, tags, strict=True)], fontsize=8)
    axes[1].set_xlabel("items containing the word")
    axes[1].set_title("EmoLex words: largest clinical - neutral difference")
    axes[1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return _png(fig)


def render_all(report: CertificationReport, scores: Sequence[ItemScores]) -> dict[str, bytes]:
    """Every figure of the report, keyed like ``certify.FIGURES``."""
    return {
        "p_emotional": by_split(
            scores,
            lambda s: s.classifier.p_emotional,
            f"Classifier P(emotional) by split ({report.classifier.id})",
            "P(emotional)",
        ),
        "vader": by_split(scores, lambda s: s.vader.compound, "VADER compound by split", "compound (-1 to 1)"),
        "nrc": by_split(scores, lambda s: s.nrc.hit_rate, "NRC EmoLex hit rate by split", "share of tokens in EmoLex"),
        "confusion": confusion_pair(report),
        "contributors": contributors(report),
    }
