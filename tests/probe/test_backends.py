"""The TransformerLens and nnsight backends give the transformers path's pooled states (within 1e-4), and the
chat template wraps every item. Tiny random models from ``conftest.py``; nothing is downloaded."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from aipsy_affect.errors import ExtractionError, ModelLoadError
from aipsy_affect.probe.backends import backend_head, require_backend
from aipsy_affect.probe.extract import apply_chat_template, extract_states
from aipsy_affect.probe.model import load_model, resolve_model

HAS = {
    "transformer-lens": importlib.util.find_spec("transformer_lens") is not None,
    "nnsight": importlib.util.find_spec("nnsight") is not None,
}


def _skip_without(backend: str) -> None:
    if not HAS[backend]:
        pytest.skip(f"the {backend} extra is not installed (pip install 'aipsy-affect[{backend}]')")


def _states(path: Path, backend: str, pooling: str, texts: list[str]) -> np.ndarray:
    ref = resolve_model(str(path))
    causal = "bert" not in path.name
    model = load_model(ref, device="cpu", head=backend_head(backend, causal))
    return extract_states(model, texts, pooling=pooling, batch_size=2, backend=backend)


@pytest.mark.parametrize("backend", ["transformer-lens", "nnsight"])
@pytest.mark.parametrize("kind", ["gpt2", "llama", "bert"])
@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_backend_matches_transformers(
    tiny: dict[str, Path], texts: list[str], backend: str, kind: str, pooling: str
) -> None:
    _skip_without(backend)
    reference = _states(tiny[kind], "transformers", pooling, texts)
    got = _states(tiny[kind], backend, pooling, texts)
    assert got.shape == reference.shape == (3, len(texts), 32)
    np.testing.assert_allclose(got, reference, atol=1e-4, rtol=0)
    # Not trivially equal: the layers differ from one another, so a backend returning one layer everywhere fails.
    assert not np.allclose(got[0], got[-1], atol=1e-3)


def test_missing_backend_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nnsight" else real(name, *a))
    with pytest.raises(ExtractionError, match=r"pip install 'aipsy-affect\[nnsight\]'"):
        require_backend("nnsight")
    require_backend("transformers")
    with pytest.raises(ExtractionError, match="unknown backend"):
        require_backend("jax")


def test_chat_template_wraps_each_item_and_skips_added_special_tokens(tiny: dict[str, Path], texts: list[str]) -> None:
    model = load_model(resolve_model(str(tiny["gpt2"])), device="cpu")
    with pytest.raises(ModelLoadError, match="no chat template"):
        extract_states(model, texts, pooling="last", chat_template=True)
    model.tokenizer.chat_template = (
        "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}<|end|>{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    wrapped = apply_chat_template(model.tokenizer, texts)
    assert wrapped[0] == f"<|user|>{texts[0]}<|end|><|assistant|>"
    chat = extract_states(model, texts, pooling="last", chat_template=True)
    # The same as feeding the wrapped strings without the tokenizer's own [CLS]/[SEP] additions.
    enc = model.tokenizer(wrapped, add_special_tokens=False)
    plain = model.tokenizer(wrapped)
    assert len(plain["input_ids"][0]) > len(enc["input_ids"][0])
    direct = extract_states(model, texts, pooling="last")
    assert chat.shape == direct.shape and not np.allclose(chat, direct)
