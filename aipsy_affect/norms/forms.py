"""Blinded rating forms: one independently shuffled form per rater, texts only, plus the coordinator's key.

Design. Each story family (a clinical vignette, its matched neutral, its moderate variant and its keyword twin)
has up to four versions. With ``n_lists`` lists the versions of one family go to different lists, rotating from
family to family, so a rater never sees two versions of one story side by side: a neutral is judged on its own,
not as "the calm version of the text two rows up". Complex neutrals are spread over the lists in turn. Raters are
assigned to lists round-robin; every rater of a list rates the same texts in their own random order.

Each rater's folder holds ``form.csv`` (position, text, and empty answer columns), ``form.html`` (the same form as
a self-contained page that works offline and saves the filled CSV) and ``INSTRUCTIONS.md``. Nothing in a
rater's folder names an item id, a split or an intended label. ``key.json``, which maps positions back to items,
stays with the coordinator.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from pathlib import Path

from aipsy_affect.battery.folds import pair_group
from aipsy_affect.battery.io import write_atomic
from aipsy_affect.battery.release import Release
from aipsy_affect.battery.schema import SPLITS, StimulusItem
from aipsy_affect.errors import InputError
from aipsy_affect.norms.models import FORM_VERSION, RATING_LABELS, FormKey, RaterType, StudyKey

__all__ = ["FORM_COLUMNS", "INSTRUCTIONS", "assign_lists", "make_forms"]

FORM_COLUMNS = ("n", "text", "emotion", "second_choice", "intensity", "confidence", "coherence_flag")
_VERSION_ORDER = {"clinical": 0, "neutral": 1, "moderate": 2, "keyword_twins": 3}

INSTRUCTIONS = f"""# Rating instructions

You will read short texts about a person (the main character). Read each text on its own and answer five
questions about it. There are no right or wrong answers: give your own first judgement. Do not look anything up.

For each numbered text, fill in:

1. **emotion**: the emotion the main character most plausibly feels at the end of the text. One of:
   {", ".join(RATING_LABELS)}. Write `none` when the text gives the main character no particular emotion.
2. **second_choice**: a second emotion if one is also plausible (same list), otherwise leave it empty.
3. **intensity**: how strongly the main character feels it, from 0 (not at all) to 4 (extremely).
   Use 0 together with `none`.
4. **confidence**: how sure you are of your emotion answer: 1 (a guess), 2 (fairly sure), 3 (sure).
5. **coherence_flag**: 1 if something in the text does not make sense (someone does something for no reason,
   a detail contradicts another), otherwise 0.

The emotions: joy (something longed for or good happens), trust (relying on or being relied on by someone),
fear (a threat), surprise (something unexpected), sadness (a loss), disgust (something foul or morally
repugnant), anger (a wrong, an insult, an obstruction), anticipation (looking ahead to something coming).

Keep the `n` and `text` columns exactly as they are. Rate every row.
"""


def assign_lists(items: Sequence[StimulusItem], n_lists: int, seed: int) -> list[list[StimulusItem]]:
    """Split items into ``n_lists`` lists so that the versions of one story family land in different lists."""
    if n_lists < 1:
        raise ValueError("the number of lists must be at least 1")
    rng = random.Random(seed)
    families: dict[str, list[StimulusItem]] = {}
    for item in items:
        families.setdefault(pair_group(item), []).append(item)
    names = sorted(families)
    rng.shuffle(names)
    lists: list[list[StimulusItem]] = [[] for _ in range(n_lists)]
    offset = 0
    for name in names:
        versions = sorted(families[name], key=lambda i: (_VERSION_ORDER.get(i.split, 9), i.id))
        for k, item in enumerate(versions):
            lists[(offset + k) % n_lists].append(item)
        offset += len(versions)
    return lists


def _form_csv(texts: Sequence[str]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FORM_COLUMNS)
    for n, text in enumerate(texts, start=1):
        writer.writerow([n, text, "", "", "", "", ""])
    return buffer.getvalue()


def make_forms(
    release: Release,
    out_dir: str | Path,
    *,
    raters: int,
    splits: Sequence[str] = SPLITS,
    n_lists: int = 1,
    seed: int = 0,
    rater_type: RaterType = "llm",
    ids: Sequence[str] | None = None,
    first_rater: int = 1,
) -> StudyKey:
    """Write one blinded form per rater under ``out_dir/rNN/`` and the key to ``out_dir/key.json``.

    ``ids`` restricts the forms to these items (a re-rating of revised items); ``first_rater`` numbers the raters
    on from an earlier study so rater ids stay unique across studies.
    """
    from aipsy_affect.render.templates import render

    unknown = [s for s in splits if s not in SPLITS]
    if unknown:
        raise InputError("--split", None, None, f"unknown split {unknown[0]!r}; expected one of {', '.join(SPLITS)}")
    if raters < n_lists:
        raise InputError("--raters", None, None, f"{raters} raters cannot cover {n_lists} lists")
    out = Path(out_dir)
    key_path = out / "key.json"
    if key_path.exists():
        raise InputError(key_path, None, None, "a study already exists here; choose a new --out folder")
    items = [item for item in release.battery.items if item.split in splits]
    if ids is not None:
        index = release.battery.by_id()
        unknown_ids = [i for i in ids if i not in index]
        if unknown_ids:
            raise InputError("--ids", None, None, f"not in the battery: {', '.join(unknown_ids[:5])}")
        wanted = set(ids)
        items = [item for item in items if item.id in wanted]
    lists = assign_lists(items, n_lists, seed)
    forms = []
    for r in range(raters):
        list_index = r % n_lists
        order = list(lists[list_index])
        random.Random(f"{seed}-{r}").shuffle(order)
        rater = f"r{r + first_rater:02d}"
        texts = [item.text for item in order]
        folder = out / rater
        write_atomic(folder / "form.csv", _form_csv(texts))
        write_atomic(folder / "INSTRUCTIONS.md", INSTRUCTIONS)
        write_atomic(
            folder / "form.html",
            render(
                "norms_form.html.j2", texts=texts, labels=RATING_LABELS, columns=FORM_COLUMNS, instructions=INSTRUCTIONS
            ),
        )
        forms.append(
            FormKey(rater=rater, rater_type=rater_type, list_index=list_index, item_ids=[item.id for item in order])
        )
    key = StudyKey(form_version=FORM_VERSION, data_sha256=release.sha256, seed=seed, n_lists=n_lists, forms=forms)
    write_atomic(key_path, key.model_dump_json(indent=1) + "\n")
    return key
