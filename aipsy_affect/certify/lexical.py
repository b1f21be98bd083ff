"""Method 4 of the certification: the trained lexical floor on the battery, summarised for the report."""

from __future__ import annotations

from collections import Counter

from aipsy_affect.battery.schema import EMOTIONS, SPLITS, Battery
from aipsy_affect.certify.report import LexicalReport, RoutineMarkers
from aipsy_affect.certify.stats import paired_auroc, top1_accuracy
from aipsy_affect.defense.lexical import CATEGORY_SPLITS, fit_lexical_floor, routine_markers, top_words

N_FOLDS = 5
FOLD_SEED = 0
TOP_WORDS = 10
#: Bootstrap resamples of the affect AUROC's CI.
N_RESAMPLES = 2000


def routine_marker_report(battery: Battery) -> dict[str, RoutineMarkers]:
    """Routine-marker counts per split."""
    out = {}
    for split in SPLITS:
        per_item = [routine_markers(i.text) for i in battery.split(split)]
        total: Counter[str] = sum(per_item, Counter())
        out[split] = RoutineMarkers(
            n_items=len(per_item),
            items_with_marker=sum(bool(c) for c in per_item),
            occurrences=sum(total.values()),
            by_marker=dict(total.most_common()),
        )
    return out


def lexical_report(battery: Battery, *, n_folds: int = N_FOLDS, seed: int = FOLD_SEED) -> LexicalReport:
    """Fit the floor out of fold on ``battery`` and measure: top-1 per split, affect AUROC, top words, markers."""
    from aipsy_affect.battery.folds import grouped_folds

    items = list(battery.items)
    floor = fit_lexical_floor(items, grouped_folds(items, n_folds=n_folds, seed=seed), seed=seed)

    def top(item_id: str) -> str:
        probs = floor.category[item_id]
        return max(EMOTIONS, key=lambda e: probs[e])  # ties go to the first emotion in EMOTIONS order

    accuracy = {
        split: top1_accuracy(
            [str(i.emotion) for i in battery.split(split)], [top(i.id) for i in battery.split(split)], len(EMOTIONS)
        )
        for split in CATEGORY_SPLITS
        if battery.split(split)  # an external battery may have no twins
    }
    pairs = battery.pairs()
    auroc = paired_auroc(
        [floor.affect[c.id] for c, _ in pairs],
        [floor.affect[n.id] for _, n in pairs],
        n_resamples=N_RESAMPLES,
        seed=seed,
    )
    named = sorted(
        (
            (round(floor.category[i.id][str(i.emotion)], 4), i.id, str(i.emotion))
            for i in battery.split("clinical")
            if top(i.id) == i.emotion
        ),
        key=lambda t: (-t[0], t[1]),
    )
    readable = [{"id": item_id, "emotion": emotion, "probability": p} for p, item_id, emotion in named]
    return LexicalReport(
        method=f"{floor.vectorizer}; logistic regression (L2, C = {floor.C:g}); {floor.n_folds} pair-grouped, "
        "emotion-stratified folds (a vignette, its neutral, moderate variant and twin share a fold)",
        n_folds=floor.n_folds,
        fold_seed=seed,
        accuracy=accuracy,
        affect_auroc=auroc,
        top_words=top_words(items, TOP_WORDS, seed=seed),
        most_readable=readable[:15],
        routine_markers=routine_marker_report(battery),
    )
