"""A structurally valid, full-size synthetic battery for tests that must not depend on the real texts.

The texts are filler words, not stimuli: they satisfy every structural rule (counts, pairing, crossing,
lengths, protagonist present) and nothing else.
"""

from __future__ import annotations

import random

from aipsy_affect.battery.schema import DOMAINS, EMOTIONS

_FILLER = [
    "the",
    "a",
    "table",
    "road",
    "window",
    "paper",
    "morning",
    "street",
    "box",
    "door",
    "letter",
    "river",
    "kettle",
    "shelf",
    "bench",
    "ticket",
    "garden",
    "lamp",
    "folder",
    "coat",
    "bus",
    "field",
    "wall",
    "chair",
    "note",
    "map",
    "cup",
    "station",
    "yard",
]


def _text(rng: random.Random, name: str, n_words: int) -> str:
    words = [rng.choice(_FILLER) for _ in range(n_words - 2)]
    return f"{name} saw " + " ".join(words) + "."


def synthetic_records(seed: int = 0) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    out: dict[str, list[dict]] = {
        s: [] for s in ("clinical", "neutral", "moderate", "complex_neutral", "keyword_twins")
    }
    k = 0
    for e in EMOTIONS:
        for d, (slug, label) in DOMAINS.items():
            base = {"domain": d, "domain_label": label}
            for n in range(1, 5):
                k += 1
                name = f"Name{k}"
                n_words = rng.randint(90, 120)
                cid, nid = f"clin-{e}-{slug}-{n}", f"neut-{e}-{slug}-{n}"
                clin = _text(rng, name, n_words)
                out["clinical"].append(
                    {
                        "id": cid,
                        "split": "clinical",
                        "emotion": e,
                        **base,
                        "matched_control_id": nid,
                        "protagonist": name,
                        "text": clin,
                    }
                )
                out["neutral"].append(
                    {
                        "id": nid,
                        "split": "neutral",
                        **base,
                        "matched_control_id": cid,
                        "protagonist": name,
                        "text": _text(rng, name, n_words + rng.randint(-3, 3)),
                    }
                )
                out["keyword_twins"].append(
                    {
                        "id": f"twin-{e}-{slug}-{n}",
                        "split": "keyword_twins",
                        "emotion": e,
                        **base,
                        "matched_control_id": nid,
                        "peak_id": cid,
                        "protagonist": name,
                        "text": clin + f" {name} was overwhelmed.",
                    }
                )
            out["moderate"].append(
                {
                    "id": f"mod-{e}-{slug}",
                    "split": "moderate",
                    "emotion": e,
                    **base,
                    "matched_control_id": f"neut-{e}-{slug}-1",
                    "peak_id": f"clin-{e}-{slug}-1",
                    "protagonist": out["clinical"][-4]["protagonist"],
                    "text": _text(rng, out["clinical"][-4]["protagonist"], rng.randint(90, 120)),
                }
            )
    for d, (slug, label) in DOMAINS.items():
        for n in range(1, 9):
            k += 1
            out["complex_neutral"].append(
                {
                    "id": f"cneu-{slug}-{n}",
                    "split": "complex_neutral",
                    "domain": d,
                    "domain_label": label,
                    "protagonist": f"Name{k}",
                    "text": _text(rng, f"Name{k}", rng.randint(90, 120)),
                }
            )
    for rows in out.values():
        for r in rows:
            r["protagonist_gender"] = "female" if int(r["protagonist"].removeprefix("Name")) % 2 else "male"
    return out
