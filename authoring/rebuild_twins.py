"""Rebuild every keyword twin from its clinical vignette: the vignette unchanged plus one keyword sentence.

The sentence names only the protagonist (never another character or an event), so it fits whatever the
vignette became after a revision. Four sentence forms per emotion, rotating with the vignette number, so each
emotion's twins use at least three different keywords and several sentence shapes.

    .venv/bin/python authoring/rebuild_twins.py
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMS = {
    "joy": ["{n} was overjoyed.", "{n} had never been so happy.", "{n} felt pure joy.", "{n} was elated."],
    "trust": ["{n} felt complete trust.", "{n} trusted everyone involved completely.",
              "{n} had total faith in everyone involved.", "{n} felt entirely reassured."],
    "fear": ["{n} was terrified.", "{n} had never been so frightened.", "{n} felt pure terror.", "{n} was petrified."],
    "surprise": ["{n} was astonished.", "{n} had never been so surprised.", "{n} was completely stunned.",
                 "{n} was amazed."],
    "sadness": ["{n} was heartbroken.", "{n} felt utterly devastated.", "{n} had never been so sad.",
                "{n} was overcome with grief."],
    "disgust": ["{n} was disgusted.", "{n} felt utterly revolted.", "{n} was sickened to the core.",
                "{n} felt nothing but loathing."],
    "anger": ["{n} was furious.", "{n} was livid.", "{n} had never been so angry.", "{n} felt pure rage."],
    "anticipation": ["{n} was eager for what would come next.", "{n} was full of anticipation.",
                     "{n} could hardly wait, hopeful and impatient.", "{n} was eagerly expectant."],
}


def main() -> None:
    clinical = {r["id"]: r for r in map(json.loads, (ROOT / "data/clinical.jsonl").read_text().splitlines())}
    path = ROOT / "data/keyword_twins.jsonl"
    twins = [json.loads(line) for line in path.read_text().splitlines()]
    for twin in twins:
        peak = clinical[twin["peak_id"]]
        n = int(peak["id"].rsplit("-", 1)[1])
        sentence = FORMS[peak["emotion"]][(n - 1) % 4].format(n=peak["protagonist"])
        twin["text"] = f"{peak['text']} {sentence}"
    path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in twins), encoding="utf-8")


if __name__ == "__main__":
    main()
