"""Real ``certify`` outputs for the Hub tests: the synthetic battery certified by ``aipsy_affect.certify.run.certify``
with a cheap classifier that implements the classifier interface, so export and publish read exactly what certify
writes (no hand-made report.json)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest

from aipsy_affect.battery.release import load_release
from aipsy_affect.battery.schema import EMOTIONS
from aipsy_affect.certify.run import certify
from aipsy_affect.defense.classifier import NEUTRAL, ClassifierInfo, ClassifierOutput, EmotionClassifier

#: One keyword of each emotion's own family, so every twin names its emotion (a certified battery needs that).
TWIN_KEYWORDS = {
    "joy": "overjoyed",
    "trust": "trusting",
    "fear": "terrified",
    "surprise": "astonished",
    "sadness": "heartbroken",
    "disgust": "disgusted",
    "anger": "furious",
    "anticipation": "eager",
}


def certifiable_records(records: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The synthetic battery with twins that end in a keyword of their own emotion."""
    out = json.loads(json.dumps(records))
    for twin in out["keyword_twins"]:
        base = twin["text"].rsplit(f" {twin['protagonist']} was ", 1)[0]
        twin["text"] = f"{base} {twin['protagonist']} was {TWIN_KEYWORDS[twin['emotion']]}."
    return out


def write_jsonl_dir(folder: Path, records: dict[str, list[dict]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for split, rows in records.items():
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


class OracleClassifier(EmotionClassifier):
    """Knows each text's split (built from the battery): affect detected, the category named on twins only.

    ``name_clinical`` makes it name the emotion of every clinical vignette instead (a failing certification).
    """

    info = ClassifierInfo(
        id="test/oracle",
        revision="test",
        weights_sha256="ab" * 32,
        kind="prototype",
        device="cpu",
        dtype="float32",
        emotions=EMOTIONS,
        max_length=0,
    )

    def __init__(self, battery, *, name_clinical: bool = False) -> None:
        self.by_text = {i.text: i for i in battery.items}
        self.name_clinical = name_clinical

    def classify(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool | None = None
    ) -> list[ClassifierOutput]:
        return [self._one(self.by_text[t]) for t in texts]

    def _one(self, item) -> ClassifierOutput:
        p = {"clinical": 0.5, "moderate": 0.4, "keyword_twins": 0.7, "neutral": 0.2, "complex_neutral": 0.2}[item.split]
        p += (zlib.crc32(item.id.encode()) % 97) / 1000
        k = EMOTIONS.index(item.emotion) if item.emotion else 0
        named = item.split == "keyword_twins" or (self.name_clinical and item.split == "clinical")
        label = EMOTIONS[k] if named else EMOTIONS[(k + 1) % 8]
        probs = {e: p * (0.6 if e == label else 0.4 / 7) for e in EMOTIONS}
        probs[NEUTRAL] = 1 - p
        return ClassifierOutput(label=label, p_emotional=p, confidence=0.6, probs=probs)


@pytest.fixture(scope="session")
def certified_source(tmp_path_factory, synthetic_battery_records):
    """(jsonl dir, battery, data hash, validation dir of a passing certify run, of a failing one)."""
    root = tmp_path_factory.mktemp("certified")
    data = write_jsonl_dir(root / "data", certifiable_records(synthetic_battery_records))
    release = load_release(data)
    passed = certify(root / "validation", classifier=OracleClassifier(release.battery), release=release, progress=False)
    assert passed.passed, [c.name for c in passed.criteria if not c.passed]
    failed = certify(
        root / "failed",
        classifier=OracleClassifier(release.battery, name_clinical=True),
        release=release,
        progress=False,
    )
    assert [c.name for c in failed.criteria if not c.passed] == ["top1_clinical_at_most_30pct"]
    return SimpleNamespace(
        data=data,
        battery=release.battery,
        data_hash=release.sha256,
        validation=root / "validation",
        failed=root / "failed",
        root=root,
        report=passed,
    )


@pytest.fixture(scope="module")
def source(certified_source):
    return certified_source


@pytest.fixture(scope="module")
def exported(source, tmp_path_factory):
    """One certified export of the synthetic battery, rendered for REPO at TAG."""
    from hub_helpers import REPO, TAG

    from aipsy_affect.hub import certification
    from aipsy_affect.hub import export as hexport

    out = tmp_path_factory.mktemp("hub-export") / "repo"
    cert = certification.load_certification(source.validation)
    manifest = hexport.export_dataset(
        source.battery, out, data_sha256=source.data_hash, certification=cert, repo_id=REPO, revision=TAG
    )
    return SimpleNamespace(dir=out, manifest=manifest, cert=cert)
