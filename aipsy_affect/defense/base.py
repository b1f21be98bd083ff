"""The classifier interface shared by every implementation: outputs, provenance, the abstract class, batching.

``EmotionClassifier`` is what certification and ``validate`` call; :mod:`aipsy_affect.defense.classifier` (the
MiniLM prototype classifier and ``load_classifier``) and :mod:`aipsy_affect.defense.hf_classifier` (any Hugging Face
sequence classifier) implement it. Batching goes through the shared ``aipsy_affect._torch.length_sorted_batches``.
"""

from __future__ import annotations

import hashlib
import math
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aipsy_affect._torch import (
    length_sorted_batches,
    progress_bar,
)

NEUTRAL = "neutral"
#: Runs with at least this many sequences show a progress bar (when stderr is a terminal).
PROGRESS_MIN_SEQUENCES = 1000


class ClassifierOutput(BaseModel):
    """What a classifier says about one text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str
    """The most probable of the emotions the model can express, neutral excluded: the classifier's answer to
    "which emotion?" (scored by top-1 accuracy). Whether the text reads as emotional at all is ``p_emotional``."""

    p_emotional: float
    """Probability that the text expresses some emotion (definition per implementation; see the docs)."""

    confidence: float
    """Share of the emotional probability mass held by ``label`` (``P(label | emotional)``)."""

    probs: dict[str, float]
    """Probability per label (the expressible emotions and ``neutral``)."""

    evidence: str | None = None
    """The sentence that carried ``label`` (prototype classifier only)."""

    def label_with_neutral(self) -> str:
        """The most probable label when ``neutral`` may win too (argmax of ``probs``)."""
        return max(self.probs, key=lambda k: self.probs[k])


class ClassifierInfo(BaseModel):
    """What produced a set of classifier outputs: stamped on every result."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    """Model id (Hub id, or the local path as given)."""

    revision: str
    """Model revision: the Hub commit, or for a packaged/local model where it came from."""

    weights_sha256: str | None
    """sha256 of the weights file, when one could be located."""

    kind: Literal["prototype", "hf-sequence-classification"]
    """Which implementation."""

    device: str
    """Device the model runs on (``cpu``, ``cuda``, ``cuda:1``)."""

    dtype: str
    """Floating-point type of the weights (``float32`` on CPU, ``float16`` on GPU)."""

    emotions: tuple[str, ...]
    """The Plutchik emotions the model can express; items of the others can never be named."""

    label_map: dict[str, str | None] = Field(default_factory=dict)
    """Model label -> Plutchik emotion, ``neutral``, or ``None`` (ignored). Empty for the prototype classifier."""

    multi_label: bool = False
    """Whether the model scores labels independently (sigmoid) rather than as one distribution (softmax)."""

    prototypes_version: str | None = None
    """Version of ``resources/prototypes.json`` (prototype classifier only)."""

    prototypes_sha256: str | None = None
    """Hash of that file (prototype classifier only)."""

    temperature: float | None = None
    """Softmax temperature over cosine similarities (prototype classifier only)."""

    neutral_prior: float | None = None
    """Prior probability mass of the neutral class (prototype classifier only)."""

    max_length: int
    """Sequences are truncated to this many tokens."""


# --- shared batching ----------------------------------------------------------------------------


def _progress(total: int, show: bool | None, desc: str) -> Any:
    if show is None:
        show = total >= PROGRESS_MIN_SEQUENCES and sys.stderr.isatty()
    return progress_bar(total, show=show, desc=desc, unit="seq")


def _run_batches(
    tokenizer: Any,
    texts: Sequence[str],
    max_length: int,
    batch_size: int,
    progress: bool | None,
    desc: str,
    forward: Callable[[dict[str, Any]], Any],
) -> list[Any]:
    """Tokenise once, run ``forward`` on length-sorted padded batches, return per-text outputs in input order."""
    enc = tokenizer(list(texts), truncation=True, max_length=max_length)
    ids, masks = enc["input_ids"], enc["attention_mask"]
    extra = {k: enc[k] for k in enc if k not in ("input_ids", "attention_mask")}
    out: list[Any] = [None] * len(texts)
    with _progress(len(texts), progress, desc) as bar:
        for batch in length_sorted_batches([len(x) for x in ids], batch_size):
            features = {"input_ids": [ids[i] for i in batch], "attention_mask": [masks[i] for i in batch]}
            features.update({k: [v[i] for i in batch] for k, v in extra.items()})
            padded = tokenizer.pad(features, return_tensors="pt")
            for i, row in zip(batch, forward(dict(padded)), strict=True):
                out[i] = row
            bar.update(len(batch))
    return out


# --- the interface --------------------------------------------------------------------------------


class EmotionClassifier(ABC):
    """A text -> emotion classifier. Implementations load their model once, in ``__init__``."""

    info: ClassifierInfo
    default_batch_size: int = 32

    @abstractmethod
    def classify(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool | None = None
    ) -> list[ClassifierOutput]:
        """Classify many texts at once (batched by length)."""

    def classify_naive(self, texts: Sequence[str]) -> list[ClassifierOutput]:
        """The naive baseline: one text at a time and one sequence per forward pass (for the benchmark)."""
        return [self.classify([t], batch_size=1, progress=False)[0] for t in texts]


def _softmax(values: Sequence[float]) -> list[float]:
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
