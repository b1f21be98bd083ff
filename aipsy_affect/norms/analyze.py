"""Filled rating forms -> per-item norms, per-split summaries, dose-response, inter-rater reliability.

Every filled form is read strictly (file:line:field errors), matched to the coordinator's key by its rater id
(the form's folder name ``rNN`` or a file name starting with it), checked position by position against the text
the rater was shown, and only then unblinded.
"""

from __future__ import annotations

import math
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from aipsy_affect.battery.io import iter_records, validate_records
from aipsy_affect.battery.release import Release
from aipsy_affect.errors import InputError, InputErrors
from aipsy_affect.norms.models import NONE_LABEL, RATING_LABELS, FormKey, ItemNorm, RaterType, RatingRow, StudyKey

__all__ = ["NormsSummary", "Rating", "analyze", "fleiss_kappa", "intended_label", "item_norms", "read_filled_form"]

_RATER = re.compile(r"^(r\d{2,})")


@dataclass(frozen=True)
class Rating:
    """One rater's answers about one item, unblinded."""

    item_id: str
    rater: str
    rater_type: RaterType
    label: str
    second: str | None
    intensity: int
    confidence: int
    coherence_flag: int


class SplitSummary(BaseModel):
    """Norms summarised over one split."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    split: str
    """The split."""

    n_items: int
    """Items rated."""

    modal_intended: float
    """Share of items whose modal label is the intended one (an emotion, or ``none`` for neutral kinds)."""

    mean_agreement: float
    """Mean over items of the share of raters who gave the intended label."""

    intensity_mean: float
    """Mean over items of the mean rated intensity."""

    flagged_by_two: float
    """Share of items flagged as incoherent by more than one rater."""


class NormsSummary(BaseModel):
    """``norms_summary.json``: the study's headline figures and the targets they are read against."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_sha256: str
    """Battery the ratings belong to."""

    n_forms: int
    """Filled forms analysed."""

    superseded_ratings: int
    """Ratings of texts revised after they were rated (from an earlier study), left out of the norms."""

    rater_types: dict[str, int]
    """Number of forms per rater type."""

    min_raters_per_item: int
    """Smallest number of raters any rated item has."""

    splits: list[SplitSummary]
    """One summary per split, in battery order."""

    triplets_ordered: int
    """Triplets (peak, moderate, peak's neutral) whose mean intensities order peak > moderate > neutral."""

    triplets_total: int
    """Triplets with all three versions rated."""

    alpha_label: float
    """Krippendorff's alpha on the labels (nominal)."""

    alpha_intensity: float
    """Krippendorff's alpha on intensity (interval)."""

    fleiss_kappa_label: float
    """Fleiss' kappa on the labels, over items with the most common number of raters."""

    fleiss_items: int
    """Items the kappa is computed on."""


def intended_label(item: Any) -> str:
    """The label the design intends for an item: its emotion, or ``none`` for the neutral kinds."""
    return str(item.emotion) if item.emotion is not None else NONE_LABEL


def _rater_of(path: Path) -> str:
    for name in (path.parent.name, path.stem):
        match = _RATER.match(name)
        if match:
            return match.group(1)
    raise InputError(
        path,
        None,
        None,
        "cannot tell whose form this is: keep it in its rater folder (rNN/) or "
        "start its file name with the rater id (r01_filled.csv)",
    )


def read_filled_form(
    path: str | Path, form: FormKey, release: Release, *, superseded_ok: bool = False
) -> tuple[list[Rating], int]:
    """Read and check one filled form; return its ratings unblinded and the number of superseded rows.

    With ``superseded_ok`` (a form made from an earlier version of the battery), a row whose text has since been
    revised is dropped and counted instead of being an error: ratings carry over only for unchanged texts.
    """
    path = Path(path)
    rows = validate_records(path, iter_records(path), RatingRow)
    items = release.battery.by_id()
    errors: list[InputError] = []
    seen: dict[int, int] = {}
    ratings = []
    superseded = 0
    # validate_records keeps file order, and iter_records numbers CSV records by line; re-read the lines.
    lines = [line for line, _ in iter_records(path)]
    for line, row in zip(lines, rows, strict=True):
        if row.n > len(form.item_ids):
            errors.append(
                InputError(path, line, "n", f"position {row.n} is not on this form (it has {len(form.item_ids)} texts)")
            )
            continue
        if row.n in seen:
            errors.append(InputError(path, line, "n", f"position {row.n} is rated twice (first at line {seen[row.n]})"))
            continue
        seen[row.n] = line
        item = items[form.item_ids[row.n - 1]]
        if " ".join(row.text.split()) != " ".join(item.text.split()):
            if superseded_ok:
                superseded += 1
                continue
            errors.append(InputError(path, line, "text", f"the text at position {row.n} is not the one on the form"))
            continue
        ratings.append(
            Rating(
                item.id,
                form.rater,
                form.rater_type,
                row.emotion,
                row.second_choice,
                row.intensity,
                row.confidence,
                row.coherence_flag,
            )
        )
    missing = sorted(set(range(1, len(form.item_ids) + 1)) - set(seen))
    if missing:
        errors.append(
            InputError(
                path, None, "n", f"{len(missing)} position(s) not rated, e.g. " + ", ".join(map(str, missing[:5]))
            )
        )
    if errors:
        raise InputErrors(errors)
    return ratings, superseded


def _entropy(counts: Counter[str]) -> float:
    total = sum(counts.values())
    return -sum(c / total * math.log2(c / total) for c in counts.values() if c) + 0.0


def item_norms(ratings: Sequence[Rating], release: Release) -> list[ItemNorm]:
    """One norm per rated item, in battery order."""
    by_item: dict[str, list[Rating]] = {}
    for r in ratings:
        by_item.setdefault(r.item_id, []).append(r)
    out = []
    for item in release.battery.items:
        rs = by_item.get(item.id)
        if not rs:
            continue
        intended = intended_label(item)
        counts = Counter(r.label for r in rs)
        top = max(counts.values())
        tied = [lab for lab in RATING_LABELS if counts.get(lab) == top]
        modal = intended if intended in tied else tied[0]
        values = [r.intensity for r in rs]
        mean = sum(values) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
        out.append(
            ItemNorm(
                id=item.id,
                split=item.split,
                intended_label=intended,
                n_raters=len(rs),
                rater_types=sorted(r.rater_type for r in rs),
                modal_label=modal,
                modal_share=round(top / len(rs), 4),
                label_agreement=round(counts.get(intended, 0) / len(rs), 4),
                label_entropy=round(_entropy(counts), 4),
                labels=dict(sorted(counts.items())),
                intensity_mean=round(mean, 4),
                intensity_sd=round(sd, 4),
                confidence_mean=round(sum(r.confidence for r in rs) / len(rs), 4),
                coherence_flags=sum(r.coherence_flag for r in rs),
            )
        )
    return out


def fleiss_kappa(table: Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa from an items x categories table of counts (every row sums to the same number of raters)."""
    n_items = len(table)
    n = sum(table[0])
    if n_items == 0 or n < 2 or any(sum(row) != n for row in table):
        raise ValueError("Fleiss' kappa needs at least one item and the same number (>= 2) of raters per item")
    p_j = [sum(row[j] for row in table) / (n_items * n) for j in range(len(table[0]))]
    p_i = [(sum(c * c for c in row) - n) / (n * (n - 1)) for row in table]
    p_bar, p_e = sum(p_i) / n_items, sum(p * p for p in p_j)
    return 1.0 if p_e == 1 else (p_bar - p_e) / (1 - p_e)


def _alphas(ratings: Sequence[Rating], item_ids: Sequence[str]) -> tuple[float, float]:
    import krippendorff
    import numpy as np

    raters = sorted({r.rater for r in ratings})
    col = {item_id: j for j, item_id in enumerate(item_ids)}
    labels = np.full((len(raters), len(item_ids)), np.nan)
    intensity = np.full((len(raters), len(item_ids)), np.nan)
    for r in ratings:
        i = raters.index(r.rater)
        labels[i, col[r.item_id]] = RATING_LABELS.index(r.label)
        intensity[i, col[r.item_id]] = r.intensity

    def alpha(data: Any, level: Literal["nominal", "interval"]) -> float:
        # Undefined (not zero) when no item has two raters or every answer is the same value.
        try:
            return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))
        except ValueError:
            return float("nan")

    return alpha(labels, "nominal"), alpha(intensity, "interval")


def _split_summary(split: str, norms: Sequence[ItemNorm]) -> SplitSummary:
    n = len(norms)
    return SplitSummary(
        split=split,
        n_items=n,
        modal_intended=round(sum(x.modal_label == x.intended_label for x in norms) / n, 4),
        mean_agreement=round(sum(x.label_agreement for x in norms) / n, 4),
        intensity_mean=round(sum(x.intensity_mean for x in norms) / n, 4),
        flagged_by_two=round(sum(x.coherence_flags > 1 for x in norms) / n, 4),
    )


def triplets(norms: Sequence[ItemNorm], release: Release) -> list[tuple[str, float, float, float, bool]]:
    """(moderate id, peak, moderate, neutral mean intensity, ordered?) for every fully rated triplet."""
    index = {x.id: x for x in norms}
    out = []
    for item in release.battery.split("moderate"):
        trio = [index.get(str(item.peak_id)), index.get(item.id), index.get(str(item.matched_control_id))]
        if all(t is not None for t in trio):
            p, m, c = (t.intensity_mean for t in trio if t is not None)
            out.append((item.id, p, m, c, p > m > c))
    return out


def analyze(
    paths: Sequence[str | Path],
    keys: StudyKey | Sequence[StudyKey],
    release: Release,
    *,
    allow_superseded: bool = False,
    progress: bool = False,
) -> tuple[list[ItemNorm], NormsSummary, list[Rating]]:
    """Read every filled form, unblind, and compute the norms and the summary.

    ``keys`` may hold several studies (a main study and a re-rating of revised items by fresh raters); rater ids
    must be unique across them. A study made from an earlier version of the battery is refused unless
    ``allow_superseded``, in which case its ratings count only for texts that have not changed since.
    """
    keys = [keys] if isinstance(keys, StudyKey) else list(keys)
    forms: dict[str, FormKey] = {}
    stale: set[str] = set()
    for key in keys:
        if key.data_sha256 != release.sha256:
            if not allow_superseded:
                raise InputError(
                    "key.json",
                    None,
                    "data_sha256",
                    "the forms were made from another version of "
                    f"the battery ({key.data_sha256[:12]}..., this battery is {release.sha256[:12]}...)",
                )
            stale.update(f.rater for f in key.forms)
        for f in key.forms:
            if f.rater in forms:
                raise InputError("key.json", None, "rater", f"rater id {f.rater} appears in two studies")
            forms[f.rater] = f
    ratings: list[Rating] = []
    used: dict[str, Path] = {}
    superseded = 0
    from tqdm.auto import tqdm

    for raw in tqdm(paths, desc="norms: reading forms", unit="form", disable=not progress, file=sys.stderr):
        path = Path(raw)
        rater = _rater_of(path)
        if rater not in forms:
            raise InputError(path, None, None, f"rater {rater!r} is not in the study key")
        if rater in used:
            raise InputError(path, None, None, f"a second filled form for rater {rater} (first: {used[rater]})")
        used[rater] = path
        found, dropped = read_filled_form(path, forms[rater], release, superseded_ok=rater in stale)
        ratings.extend(found)
        superseded += dropped
    norms = item_norms(ratings, release)
    ids = [x.id for x in norms]
    alpha_label, alpha_intensity = _alphas(ratings, ids)
    common = Counter(x.n_raters for x in norms).most_common(1)[0][0]
    table = [[x.labels.get(lab, 0) for lab in RATING_LABELS] for x in norms if x.n_raters == common]
    trips = triplets(norms, release)
    by_split = [_split_summary(s, [x for x in norms if x.split == s]) for s in dict.fromkeys(x.split for x in norms)]
    summary = NormsSummary(
        data_sha256=release.sha256,
        n_forms=len(used),
        superseded_ratings=superseded,
        rater_types=dict(Counter(forms[r].rater_type for r in used)),
        min_raters_per_item=min(x.n_raters for x in norms),
        splits=by_split,
        triplets_ordered=sum(t[4] for t in trips),
        triplets_total=len(trips),
        alpha_label=round(alpha_label, 4),
        alpha_intensity=round(alpha_intensity, 4),
        fleiss_kappa_label=round(fleiss_kappa(table), 4) if common > 1 else float("nan"),
        fleiss_items=len(table),
    )
    return norms, summary, ratings
