"""Any Hugging Face sequence classifier as the defense battery's contextual classifier, with documented label maps
from its labels to Plutchik's emotions (see :mod:`aipsy_affect.defense.classifier` for the offline default)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aipsy_affect._torch import (
    QuietLoading,
    resolve_device,
    resolve_dtype,
    torch_dtype,
)
from aipsy_affect.battery.schema import EMOTIONS, canonical_emotion
from aipsy_affect.defense.base import (
    NEUTRAL,
    ClassifierInfo,
    ClassifierOutput,
    EmotionClassifier,
    _run_batches,
    _sha256_file,
)
from aipsy_affect.errors import ClassifierError

# --- any Hugging Face sequence classifier ------------------------------------------------------------------

#: Documented label maps of known emotion classifiers. ``None``: the label is not one of Plutchik's primaries and
#: is ignored (love, optimism, pessimism are dyads of two primaries in Plutchik's wheel).
KNOWN_LABEL_MAPS: dict[str, dict[str, str | None]] = {
    # 7 Ekman-style labels: cannot express trust or anticipation.
    "j-hartmann/emotion-english-distilroberta-base": {
        "anger": "anger",
        "disgust": "disgust",
        "fear": "fear",
        "joy": "joy",
        "neutral": NEUTRAL,
        "sadness": "sadness",
        "surprise": "surprise",
    },
    # 11 multi-label SemEval-2018 labels: all eight primaries; no neutral label.
    "cardiffnlp/twitter-roberta-base-emotion-multilabel-latest": {
        "anger": "anger",
        "anticipation": "anticipation",
        "disgust": "disgust",
        "fear": "fear",
        "joy": "joy",
        "love": None,
        "optimism": None,
        "pessimism": None,
        "sadness": "sadness",
        "surprise": "surprise",
        "trust": "trust",
    },
}
#: Label names mapped without a model-specific map (after lower-casing; Plutchik names and aliases map too).
LABEL_SYNONYMS: dict[str, str | None] = {
    "neutral": NEUTRAL,
    "none": NEUTRAL,
    "no emotion": NEUTRAL,
    "no_emotion": NEUTRAL,
    "others": NEUTRAL,
    "happiness": "joy",
    "happy": "joy",
    "sad": "sadness",
    "angry": "anger",
    "fearful": "fear",
    "scared": "fear",
    "disgusted": "disgust",
    "surprised": "surprise",
    "love": None,
    "optimism": None,
    "pessimism": None,
}
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")


def resolve_label_map(
    model_id: str, labels: Sequence[str], label_map: Mapping[str, str | None] | None = None
) -> dict[str, str | None]:
    """Map each model label to a Plutchik emotion, ``neutral`` or ``None``; raise when one cannot be mapped."""
    known = KNOWN_LABEL_MAPS.get(model_id, {})
    out: dict[str, str | None] = {}
    unmapped = []
    for label in labels:
        key = label.strip().lower()
        if label_map is not None and (label in label_map or key in label_map):
            target = label_map[label] if label in label_map else label_map[key]
        elif key in known:
            target = known[key]
        elif key in LABEL_SYNONYMS:
            target = LABEL_SYNONYMS[key]
        else:
            try:
                target = canonical_emotion(key)
            except ValueError:
                unmapped.append(label)
                continue
        if target is not None and target != NEUTRAL:
            try:
                target = canonical_emotion(target)
            except ValueError as exc:
                raise ClassifierError(f"label map sends {label!r} to {target!r}: {exc}") from None
        out[label] = target
    if unmapped:
        raise ClassifierError(
            f"{model_id}: cannot map labels {unmapped} to Plutchik's emotions; pass a label map "
            "(label -> emotion, 'neutral', or null to ignore it)"
        )
    return out


def _is_dir(path: str) -> bool:
    try:
        return Path(path).is_dir()
    except (OSError, ValueError):  # over-long names, NUL bytes
        return False


def _weights_sha256(name_or_path: str, revision: str | None) -> str | None:
    names = ("model.safetensors", "pytorch_model.bin")
    local = Path(name_or_path)
    if _is_dir(name_or_path):
        for name in names:
            if (local / name).is_file():
                return _sha256_file(local / name)
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    for name in names:
        cached = try_to_load_from_cache(name_or_path, name, revision=revision)
        if isinstance(cached, str) and Path(cached).is_file():
            return _sha256_file(Path(cached))
    return None


class HFSequenceClassifier(EmotionClassifier):
    """Any Hugging Face sequence classifier, with its labels mapped to Plutchik's emotions.

    Single-label models (softmax) need a neutral label: ``p_emotional = 1 - P(neutral)``, and an emotion's
    probability is the sum over the model labels mapped to it. Multi-label models (sigmoid) score each label on
    its own: an emotion's probability is the highest over its labels, ``p_emotional`` the highest over every
    non-neutral label (ignored dyads included), and ``probs[neutral] = 1 - p_emotional``. Texts are classified
    whole (truncated to ``max_length`` tokens), as these models were trained.
    """

    default_batch_size = 16

    def __init__(
        self,
        name_or_path: str,
        device: str = "auto",
        *,
        label_map: Mapping[str, str | None] | None = None,
        revision: str | None = None,
        max_length: int = 512,
    ) -> None:
        import torch  # noqa: F401  (fail early with a clear error if torch is missing)
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if not (_is_dir(name_or_path) or _HUB_ID.fullmatch(name_or_path)):
            raise ClassifierError(f"{name_or_path[:200]!r} is neither a local model folder nor a Hugging Face model id")
        self.device = resolve_device(device)
        dtype = torch_dtype(resolve_dtype("auto", self.device))
        try:
            with QuietLoading():
                self.tokenizer = AutoTokenizer.from_pretrained(name_or_path, revision=revision)
                model = AutoModelForSequenceClassification.from_pretrained(name_or_path, revision=revision)
        except (OSError, ValueError) as exc:
            raise ClassifierError(f"cannot load sequence classifier {name_or_path!r}: {exc}") from None
        self.model = model.to(device=self.device, dtype=dtype).eval()
        config = self.model.config
        self.model_labels = [config.id2label[i] for i in range(config.num_labels)]
        self.label_map = resolve_label_map(name_or_path, self.model_labels, label_map)
        self.multi_label = config.problem_type == "multi_label_classification"
        targets = set(self.label_map.values())
        if not self.multi_label and NEUTRAL not in targets:
            raise ClassifierError(
                f"{name_or_path}: a single-label classifier needs a label mapped to 'neutral' to "
                "estimate P(emotional); map one in the label map"
            )
        self.emotions = tuple(e for e in EMOTIONS if e in targets)
        if not self.emotions:
            raise ClassifierError(f"{name_or_path}: no label maps to any of Plutchik's emotions")
        limit = getattr(self.tokenizer, "model_max_length", max_length) or max_length
        self.max_length = min(max_length, limit, getattr(config, "max_position_embeddings", max_length) or max_length)
        commit = getattr(config, "_commit_hash", None)
        self.info = ClassifierInfo(
            id=name_or_path,
            revision=commit or revision or "local",
            weights_sha256=_weights_sha256(name_or_path, commit or revision),
            kind="hf-sequence-classification",
            device=self.device,
            dtype=str(dtype).removeprefix("torch."),
            emotions=self.emotions,
            label_map=self.label_map,
            multi_label=self.multi_label,
            max_length=self.max_length,
        )

    def classify(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool | None = None
    ) -> list[ClassifierOutput]:
        import torch

        def forward(batch: dict[str, Any]) -> Any:
            batch = {k: v.to(self.device) for k, v in batch.items()}
            logits = self.model(**batch).logits.float()
            scores = torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)
            return scores.cpu().tolist()

        with torch.inference_mode():
            rows = _run_batches(
                self.tokenizer,
                texts,
                self.max_length,
                batch_size or self.default_batch_size,
                progress,
                "classifying",
                forward,
            )
        return [self._aggregate(row) for row in rows]

    def _aggregate(self, scores: list[float]) -> ClassifierOutput:
        per: dict[str, float] = {e: 0.0 for e in self.emotions}
        neutral = 0.0
        emotional_any = 0.0
        for label, p in zip(self.model_labels, scores, strict=True):
            target = self.label_map[label]
            if target == NEUTRAL:
                neutral = max(neutral, p) if self.multi_label else neutral + p
                continue
            emotional_any = max(emotional_any, p)
            if target is not None:
                per[target] = max(per[target], p) if self.multi_label else per[target] + p
        p_emotional = emotional_any if self.multi_label else 1.0 - neutral
        total = sum(per.values())
        top = max(self.emotions, key=lambda e: per[e])
        probs = dict(per)
        probs[NEUTRAL] = 1.0 - p_emotional
        return ClassifierOutput(
            label=top,
            p_emotional=p_emotional,
            confidence=per[top] / total if total > 0 else 0.0,
            probs=probs,
        )
