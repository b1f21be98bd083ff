"""Three ways to run the forward pass, one result: the per-layer hidden states in ``transformers``' convention.

``hidden_states_fn(model, backend)`` returns a function from a batch of model inputs to a tuple of
[batch, tokens, dim] tensors, one per hidden-state layer: index 0 is the embedding output, index i the output
of block i, and for decoders the last one has the final norm applied (as ``output_hidden_states`` gives it).

* ``transformers``: ``model(**inputs, output_hidden_states=True).hidden_states``.
* ``transformer-lens`` (``pip install 'aipsy-affect[transformer-lens]'``): TransformerLens 4's
  ``TransformerBridge`` around the same weights (loaded with their LM head, which the bridge expects), read
  with ``run_with_cache`` at ``blocks.{i}.hook_resid_pre`` (layer i < n), and for the last layer
  ``ln_final.hook_out`` (decoders) or ``blocks.{n-1}.hook_out`` (encoders, which have no final norm).
* ``nnsight`` (``pip install 'aipsy-affect[nnsight]'``): the model wrapped in ``nnsight.NNsight`` and read inside
  a ``trace`` (the same code runs remotely on NDIF with ``remote=True``, which is not wired up here).

The equality of the three is tested on tiny random GPT-2, Llama and BERT models within 1e-4.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aipsy_affect.errors import ExtractionError
from aipsy_affect.probe.config import BACKENDS
from aipsy_affect.probe.model import LoadedModel

__all__ = ["EXTRAS", "backend_head", "hidden_states_fn", "require_backend"]

#: The pip extra that installs each optional backend.
EXTRAS = {"transformer-lens": "transformer_lens", "nnsight": "nnsight"}

HiddenStates = Callable[[dict[str, Any]], tuple[Any, ...]]


def require_backend(backend: str) -> None:
    """Raise ``ExtractionError`` with the install command when ``backend``'s library is missing."""
    if backend not in BACKENDS:
        raise ExtractionError(f"unknown backend {backend!r}; use {', '.join(BACKENDS)}")
    module = EXTRAS.get(backend)
    if module is None:
        return
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ExtractionError(f"--backend {backend} needs the {module} package: pip install 'aipsy-affect[{backend}]'")


def backend_head(backend: str, causal: bool) -> str | None:
    """Which head ``load_model`` must load for ``backend`` (TransformerLens' bridge wraps a model with its head)."""
    if backend == "transformer-lens":
        return "causal-lm" if causal else "masked-lm"
    return None


def hidden_states_fn(model: LoadedModel, backend: str) -> HiddenStates:
    """A function from one batch of inputs to the hidden states of every layer (see the module docstring)."""
    require_backend(backend)
    if backend == "transformer-lens":
        return _transformer_lens(model)
    if backend == "nnsight":
        return _nnsight(model)
    return _transformers(model)


def _transformers(model: LoadedModel) -> HiddenStates:
    def forward(inputs: dict[str, Any]) -> tuple[Any, ...]:
        extra = {"use_cache": False} if _takes(model.module, "use_cache") else {}
        result = model.module(**inputs, **extra, output_hidden_states=True, return_dict=True)
        if result.hidden_states is None:
            raise ExtractionError(f"{type(model.module).__name__} returned no hidden states")
        return tuple(result.hidden_states)

    return forward


def _takes(module: Any, name: str) -> bool:
    import inspect

    return name in inspect.signature(module.forward).parameters


def _n_blocks(module: Any) -> int:
    config = module.config
    n = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layer", None)
    if not isinstance(n, int):
        raise ExtractionError(f"{type(module).__name__}: cannot tell the number of blocks from its config")
    return n


def _transformer_lens(model: LoadedModel) -> HiddenStates:
    from transformer_lens import TransformerBridge

    if model.backend_model is None:
        ref = model.ref
        name = ref.source if ref is not None else model.module.config.name_or_path
        model.backend_model = TransformerBridge.boot_transformers(
            name, hf_model=model.module, tokenizer=model.tokenizer, device=model.device
        )
    bridge = model.backend_model
    n = _n_blocks(model.module)
    last = "ln_final.hook_out" if model.causal else f"blocks.{n - 1}.hook_out"
    names = [f"blocks.{i}.hook_resid_pre" for i in range(n)] + [last]
    wanted = set(names)

    def forward(inputs: dict[str, Any]) -> tuple[Any, ...]:
        ids = inputs.pop("input_ids")
        _, cache = bridge.run_with_cache(ids, names_filter=lambda name: name in wanted, **inputs)
        return tuple(cache[name] for name in names)

    return forward


def _nnsight(model: LoadedModel) -> HiddenStates:
    from nnsight import NNsight

    if model.backend_model is None:
        model.backend_model = NNsight(model.module)
    wrapped = model.backend_model
    extra = {"use_cache": False} if _takes(model.module, "use_cache") else {}

    def forward(inputs: dict[str, Any]) -> tuple[Any, ...]:
        with wrapped.trace(**inputs, **extra, output_hidden_states=True, return_dict=True):
            hidden = wrapped.output.hidden_states.save()
        return tuple(hidden)

    return forward
