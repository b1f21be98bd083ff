"""Checks of a submission against the battery's answer key: ids, complete splits, families kept in one fold."""

from __future__ import annotations

import os
from collections import defaultdict
from typing import TYPE_CHECKING

from aipsy_affect.battery.schema import MAIN_SPLITS
from aipsy_affect.benchmark.format import CATEGORY_SPLITS, TWIN_SPLIT, LayerOutputs, Submission, fmt_ids
from aipsy_affect.errors import InputError

if TYPE_CHECKING:
    from aipsy_affect.battery.schema import Battery

__all__ = ["check_submission"]


def _revision_error(submission: Submission, dataset_revision: str, source: str | os.PathLike[str]) -> InputError | None:
    if submission.dataset is None:
        return None
    given = submission.dataset.revision.lower()
    if len(given) >= 12 and dataset_revision.lower().startswith(given):
        return None
    return InputError(
        source,
        None,
        "dataset.revision",
        f"{submission.dataset.revision!a} is not this battery's revision {dataset_revision} "
        "(probe the current release, or score with the aipsy-affect release you probed)",
    )


def check_submission(
    submission: Submission,
    battery: Battery,
    *,
    source: str | os.PathLike[str] = "<submission>",
    dataset_revision: str | None = None,
) -> list[InputError]:
    """Every problem of ``submission`` against ``battery``'s answer key (an empty list when it is valid).

    ``dataset_revision`` is the hash of the battery being scored against (``Release.sha256``); a submission that
    names a different dataset revision is refused. ``None`` skips that check.
    """
    from aipsy_affect.battery.folds import pair_group  # imports NumPy: kept off ``import aipsy_affect``

    errors: list[InputError] = []
    if dataset_revision is not None:
        problem = _revision_error(submission, dataset_revision, source)
        if problem is not None:
            errors.append(problem)

    by_split: dict[str, set[str]] = defaultdict(set)
    family: dict[str, str] = {}
    for item in battery.items:
        by_split[item.split].add(item.id)
        family[item.id] = pair_group(item)
    required_affect = set().union(*(by_split[s] for s in MAIN_SPLITS))
    required_category = set().union(*(by_split[s] for s in CATEGORY_SPLITS))
    twins = by_split[TWIN_SPLIT]

    # The same problem in many layers is reported once, with the layers it affects.
    found: dict[tuple[str, str], list[int]] = defaultdict(list)

    def note(field: str, message: str, pos: int) -> None:
        found[(field, message)].append(pos)

    # Layers usually share their id sets and folds: a layer equal to the one before inherits its findings.
    previous: tuple[object, object, object, list[tuple[str, str]]] | None = None
    for pos, layer in enumerate(submission.layers):
        if previous is not None and (
            previous[0] == layer.affect.keys() and previous[1] == layer.category.keys() and previous[2] == layer.folds
        ):
            for field, message in previous[3]:
                note(field, message, pos)
            continue
        findings = _layer_findings(layer, submission.method.cv_folds, family, required_affect, required_category, twins)
        for field, message in findings:
            note(field, message, pos)
        previous = (layer.affect.keys(), layer.category.keys(), layer.folds, findings)

    for (field, message), positions in found.items():
        others = len(positions) - 1
        suffix = f" (same in {others} other layer{'s' if others > 1 else ''})" if others else ""
        errors.append(InputError(source, None, f"layers[{positions[0]}].{field}", message + suffix))
    return errors


def _layer_findings(
    layer: LayerOutputs,
    cv_folds: int,
    family: dict[str, str],
    required_affect: set[str],
    required_category: set[str],
    twins: set[str],
) -> list[tuple[str, str]]:
    """Every (field, message) problem of one layer's ids and folds."""
    out: list[tuple[str, str]] = []

    def note(field: str, message: str) -> None:
        out.append((field, message))

    for field, given, required, universe in (
        ("affect", layer.affect.keys(), required_affect, required_affect | twins),
        ("category", layer.category.keys(), required_category, required_category | twins),
    ):
        unknown = sorted(given - universe)
        if unknown:
            what = "not items of the battery" if field == "affect" else "not clinical, moderate or twin items"
            hint = (
                ""
                if field == "affect" or not (set(unknown) & required_affect)
                else "; category probabilities are only for the affective items (clinical, moderate, twins): "
                "leave neutral and complex_neutral items out of category"
            )
            note(field, f"unknown item ids ({what}): {fmt_ids(unknown)}{hint}")
        missing = sorted(required - given)
        if missing:
            note(field, f"missing {len(missing)} of {len(required)} required items: {fmt_ids(missing)}")
        given_twins = given & twins
        if given_twins and given_twins != twins:
            absent = sorted(twins - given_twins)
            note(
                field,
                f"keyword twins are optional but, when given, all {len(twins)} are needed; "
                f"missing {len(absent)}: {fmt_ids(absent)}",
            )
    unknown = sorted(layer.folds.keys() - family.keys())
    if unknown:
        note("folds", f"unknown item ids (not items of the battery): {fmt_ids(unknown)}")
    groups: dict[str, dict[int, str]] = defaultdict(dict)
    for item_id, fold in layer.folds.items():
        root = family.get(item_id)
        if root is not None:
            groups[root].setdefault(fold, item_id)
    split_pairs = sorted(
        " / ".join(f"{i} (fold {f})" for f, i in sorted(folds.items())) for folds in groups.values() if len(folds) > 1
    )
    if split_pairs:
        note(
            "folds",
            f"matched items split across folds (a clinical item, its neutral, moderate and twin must "
            f"share a fold; aipsy_affect.grouped_folds() makes such folds): {fmt_ids(split_pairs)}",
        )
    n_folds = len(set(layer.folds.values()))
    if n_folds > cv_folds:
        note("folds", f"{n_folds} distinct fold ids, more than method.cv_folds = {cv_folds}")
    return out
