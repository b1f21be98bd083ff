"""Pooled hidden states: tokenise (optionally through the chat template), run length-sorted batches, pool.

Every hidden-state layer (0 = embedding output) is pooled over the real tokens only (:func:`pool_hidden`), for
every text. The forward pass runs through one of three backends (``transformers``, TransformerLens' bridge,
nnsight; see :mod:`aipsy_affect.probe.backends`), which return the same per-layer states.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from aipsy_affect._torch import length_sorted_batches, progress_bar
from aipsy_affect.errors import ExtractionError, ModelLoadError, OptionError
from aipsy_affect.probe.config import POOLINGS
from aipsy_affect.probe.model import LoadedModel, model_token_limit

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["apply_chat_template", "extract_states", "last_token_index", "pool_hidden"]


def last_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of the last real (mask = 1) token of each row, whatever side the padding is on."""
    import torch

    mask = attention_mask.to(torch.long)
    if bool((mask.sum(dim=1) == 0).any()):
        raise ValueError("a row of the attention mask has no real token")
    positions = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
    return torch.where(mask.bool(), positions, torch.full_like(positions, -1)).max(dim=1).values


def pool_hidden(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
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


def apply_chat_template(tokenizer: Any, texts: Sequence[str]) -> list[str]:
    """Each text as one user turn in the tokenizer's chat template, ending with the assistant's generation prompt.

    The result already holds the template's special tokens (BOS, turn markers), so it must be tokenised with
    ``add_special_tokens=False``; :func:`extract_states` does that when ``chat_template=True``.
    """
    if not getattr(tokenizer, "chat_template", None):
        raise ModelLoadError(
            "--chat-template: this model's tokenizer has no chat template (it is not an "
            "instruct/chat model); drop the option or pass a chat model"
        )
    return [
        tokenizer.apply_chat_template([{"role": "user", "content": t}], tokenize=False, add_generation_prompt=True)
        for t in texts
    ]


def _forward_parameters(module: Any) -> list[str]:
    import inspect

    params = inspect.signature(module.forward).parameters
    return [n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]


def extract_states(
    model: LoadedModel,
    texts: Sequence[str],
    *,
    pooling: str,
    batch_size: int = 16,
    ids: Sequence[str] | None = None,
    max_length: int | None = None,
    chat_template: bool = False,
    backend: str = "transformers",
    progress: bool = False,
) -> np.ndarray:
    """Pooled hidden states of every layer: float32 array [layers, texts, hidden]. Layer 0 = embedding output.

    Inputs longer than ``max_length`` (default: the model's limit) are refused, never truncated. ``progress``
    shows a tqdm bar on standard error, advanced per batch.
    """
    import torch

    from aipsy_affect.probe.backends import hidden_states_fn

    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}; expected one of {', '.join(POOLINGS)}")
    tok = model.tokenizer
    texts = apply_chat_template(tok, texts) if chat_template else list(texts)
    special = not chat_template
    ids = list(ids) if ids is not None else [str(i) for i in range(len(texts))]
    lengths = [len(x) for x in tok(list(texts), add_special_tokens=special)["input_ids"]]
    limit = max_length or model_token_limit(model)
    if limit is not None:
        too_long = [(ids[i], n) for i, n in enumerate(lengths) if n > limit]
        if too_long:
            shown = ", ".join(f"{i} ({n} tokens)" for i, n in too_long[:5])
            raise OptionError(
                f"{len(too_long)} input(s) exceed the limit of {limit} tokens and would be truncated: "
                f"{shown}; shorten the prompt template or pass a model with a longer context"
            )
    accepted = set(_forward_parameters(model.module))
    if "input_ids" not in accepted:  # a forward(*args, **kwargs) wrapper hides the names: pass what we have
        accepted |= {"input_ids", "attention_mask"}
    forward = hidden_states_fn(model, backend)
    out: np.ndarray | None = None
    try:
        with torch.inference_mode(), progress_bar(len(texts), show=progress, desc="extracting") as bar:
            for batch in length_sorted_batches(lengths, batch_size):
                enc = tok([texts[i] for i in batch], padding=True, return_tensors="pt", add_special_tokens=special)
                inputs = {k: v.to(model.device) for k, v in enc.items() if k in accepted}
                hidden = forward(inputs)
                mask = enc["attention_mask"]
                pooled = torch.stack([pool_hidden(h, mask.to(h.device), pooling).cpu() for h in hidden])
                if out is None:
                    out = np.empty((pooled.shape[0], len(texts), pooled.shape[2]), dtype=np.float32)
                out[:, batch, :] = pooled.numpy()
                bar.update(len(batch))
    except torch.OutOfMemoryError as exc:
        raise ExtractionError(f"out of memory during extraction ({exc}); try a smaller --batch-size") from None
    if out is None:
        raise ValueError("no texts to extract")
    if not np.isfinite(out).all():
        raise ExtractionError("the model produced non-finite hidden states (try --dtype float32 or bfloat16)")
    return out
