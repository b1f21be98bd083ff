"""Extraction: pooling and padding, batching, prompts, the chat template, the ``extract`` export and its CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from aipsy_affect._torch import length_sorted_batches
from aipsy_affect.battery.schema import Battery
from aipsy_affect.probe.config import DEFAULT_PROMPT, check_template, render_prompt
from aipsy_affect.probe.extract import extract_states, last_token_index, pool_hidden
from aipsy_affect.probe.model import is_causal_decoder, load_model, resolve_model

# --- pooling and padding --------------------------------------------------------------------------


def test_last_token_index_finds_real_last_token_on_either_side() -> None:
    right = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]])
    left = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]])
    assert last_token_index(right).tolist() == [2, 4, 0]
    assert last_token_index(left).tolist() == [4, 4, 4]


@pytest.mark.parametrize("side", ["left", "right"])
def test_pool_hidden_ignores_padding(side: str) -> None:
    lengths = [3, 5, 1]
    mask = torch.zeros(3, 5, dtype=torch.long)
    for b, n in enumerate(lengths):
        if side == "right":
            mask[b, :n] = 1
        else:
            mask[b, 5 - n :] = 1
    hidden = torch.randn(3, 5, 4)
    hidden[mask == 0] = 1e6  # any pad leaking into a pooled vector shows at once
    last = pool_hidden(hidden, mask, "last")
    mean = pool_hidden(hidden, mask, "mean")
    for b, n in enumerate(lengths):
        real = hidden[b][mask[b].bool()]
        assert real.shape[0] == n
        torch.testing.assert_close(last[b], real[-1])
        torch.testing.assert_close(mean[b], real.mean(dim=0))


def test_pool_hidden_rejects_rows_without_tokens_and_unknown_pooling() -> None:
    with pytest.raises(ValueError, match="no real token"):
        pool_hidden(torch.randn(2, 3, 4), torch.tensor([[1, 1, 0], [0, 0, 0]]), "last")
    with pytest.raises(ValueError, match="no real token"):
        pool_hidden(torch.randn(2, 3, 4), torch.tensor([[1, 1, 0], [0, 0, 0]]), "mean")
    with pytest.raises(ValueError, match="unknown pooling"):
        pool_hidden(torch.randn(1, 2, 4), torch.ones(1, 2), "max")


@pytest.mark.parametrize("side", ["left", "right"])
def test_last_token_pooling_on_a_causal_model_equals_the_unpadded_run(
    tiny: dict[str, Path], side: str, texts: list[str]
) -> None:
    """With the mask-derived index, a padded batch gives each text's own final state, on either padding side."""
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(tiny["gpt2"]).eval()
    tok = AutoTokenizer.from_pretrained(tiny["gpt2"])
    tok.padding_side = side
    enc = tok(texts, padding=True, return_tensors="pt")
    assert (enc["attention_mask"] == 0).any()
    kwargs = {}
    if side == "left":
        # Absolute positions must start at the first real token; right padding needs no such help.
        kwargs["position_ids"] = (enc["attention_mask"].cumsum(dim=1) - 1).clamp(min=0)
    with torch.inference_mode():
        batched = model(
            input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True, **kwargs
        ).hidden_states
        for b, text in enumerate(texts):
            single = model(
                **{k: v for k, v in tok(text, return_tensors="pt").items() if k != "token_type_ids"},
                output_hidden_states=True,
            ).hidden_states
            for layer in range(len(single)):
                pooled = pool_hidden(batched[layer], enc["attention_mask"], "last")[b]
                torch.testing.assert_close(pooled, single[layer][0, -1], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["gpt2", "llama", "bert"])
@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_batched_extraction_equals_one_text_at_a_time(
    tiny: dict[str, Path], kind: str, pooling: str, texts: list[str]
) -> None:
    loaded = load_model(resolve_model(str(tiny[kind])), device="cpu")
    assert loaded.tokenizer.padding_side == "right"
    batched = extract_states(loaded, texts, pooling=pooling, batch_size=3)
    single = extract_states(loaded, texts, pooling=pooling, batch_size=1)
    assert batched.shape == (3, len(texts), 32) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, single, atol=2e-5, rtol=1e-4)
    # Different texts give different vectors (the pooled states are not all the same pad state).
    assert not np.allclose(batched[-1, 0], batched[-1, 3])


def test_architecture_decides_the_default_pooling(tiny: dict[str, Path]) -> None:
    from transformers import AutoConfig

    assert is_causal_decoder(AutoConfig.from_pretrained(tiny["gpt2"]))
    assert is_causal_decoder(AutoConfig.from_pretrained(tiny["llama"]))
    assert not is_causal_decoder(AutoConfig.from_pretrained(tiny["bert"]))


def test_overlong_inputs_are_refused_not_truncated(tiny: dict[str, Path], texts: list[str]) -> None:
    loaded = load_model(resolve_model(str(tiny["bert"])), device="cpu")
    with pytest.raises(ValueError, match=r"exceed the limit of 8 tokens.*b \(\d+ tokens\)"):
        extract_states(loaded, texts[:2], pooling="mean", ids=["a", "b"], max_length=8)


def test_length_sorted_batches_cover_every_index_once() -> None:
    batches = length_sorted_batches([5, 1, 9, 3, 7], 2)
    assert batches == [[2, 4], [0, 3], [1]]
    assert sorted(i for b in batches for i in b) == list(range(5))


# --- prompt ---------------------------------------------------------------------------------------


def test_prompt_templates_are_checked() -> None:
    check_template(DEFAULT_PROMPT)
    check_template("{text}")
    check_template("{{literal}} {text}")
    for bad, match in [
        ("no field", "exactly once"),
        ("{text} {text}", "exactly once"),
        ("{text} {emotion}", "unknown field"),
        ("{text!r}", "no format spec"),
        ("{text", "malformed"),
    ]:
        with pytest.raises(ValueError, match=match):
            check_template(bad)


def test_item_text_is_inserted_verbatim(battery: Battery) -> None:
    item = battery.split("clinical")[0].model_copy(update={"text": "Odd {text} and {protagonist} braces }{"})
    assert (
        render_prompt("<{text}|{protagonist}>", item)
        == f"<Odd {{text}} and {{protagonist}} braces }}{{|{item.protagonist}>"
    )
    rendered = render_prompt(DEFAULT_PROMPT, battery.split("clinical")[0])
    assert battery.split("clinical")[0].text in rendered and "{" not in rendered


# --- the extract export ---------------------------------------------------------------------------


def test_extract_activations_returns_arrays_and_selects_layers(
    tiny: dict[str, Path], battery: Battery, tmp_path: Path
) -> None:
    from aipsy_affect.probe.activations import extract_activations

    acts = extract_activations(str(tiny["bert"]), battery, cache_dir=tmp_path, layers=(0, -1))
    assert acts.states.shape == (2, len(battery.items), 32) and acts.states.dtype == np.float32
    assert acts.layers == [0, 2] and acts.ids == [item.id for item in battery.items]
    full = extract_activations(str(tiny["bert"]), battery, cache_dir=tmp_path)
    assert full.from_cache and full.layers == [0, 1, 2]
    np.testing.assert_array_equal(full.layer(2), acts.layer(2))
    assert not np.allclose(full.layer(0), full.layer(2))


def test_cli_extract_writes_states_and_metadata(
    tiny: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aipsy_affect.battery.release import load_release
    from aipsy_affect.cli.main import main
    from aipsy_affect.errors import EXIT_OK
    from aipsy_affect.probe.activations import load_activations

    out = tmp_path / "acts.safetensors"
    argv = [
        "extract",
        "--model",
        str(tiny["bert"]),
        "--out",
        str(out),
        "--layers",
        "1-2",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--batch-size",
        "64",
    ]
    assert main(argv) == EXIT_OK
    err = capsys.readouterr().err
    assert "extracting" in err and "672/672" in err  # the per-batch progress bar on stderr
    states, meta = load_activations(out)
    release = load_release()
    assert states.shape == (2, 672, 32)
    assert meta["ids"] == [item.id for item in release.battery.items] and meta["layers"] == [1, 2]
    assert meta["dataset_sha256"] == release.sha256 and meta["pooling"] == "mean"
    assert meta["model_id"] == str(tiny["bert"]) and meta["model_revision"].startswith("sha256:")
    assert meta["prompt"] == DEFAULT_PROMPT and meta["chat_template"] is False and meta["backend"] == "transformers"
    assert meta["format"] == "aipsy-affect-activations/1"
    assert main([*argv, "--quiet"]) == EXIT_OK  # now from the cache, and silent
    assert capsys.readouterr().err == ""


def test_cli_extract_bad_layers_exit_2_and_write_nothing(
    tiny: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aipsy_affect.cli.main import main
    from aipsy_affect.errors import EXIT_INPUT

    out = tmp_path / "acts.safetensors"
    assert (
        main(["extract", "--model", str(tiny["bert"]), "--out", str(out), "--layers", "7", "--no-cache"]) == EXIT_INPUT
    )
    assert "layer 7 does not exist" in capsys.readouterr().err and not out.exists()


@pytest.mark.slow
def test_extract_minilm_meets_the_acceptance_figures(tmp_path: Path) -> None:
    """`extract --model minilm`: states (7, 672, 384) with 672 ids, extraction in under 40 s on 2 CPU cores."""
    import time

    from aipsy_affect.cli.main import main
    from aipsy_affect.probe.activations import load_activations

    out = tmp_path / "acts.safetensors"
    t0 = time.perf_counter()
    assert main(["extract", "--model", "minilm", "--out", str(out), "--no-cache", "--quiet"]) == 0
    seconds = time.perf_counter() - t0
    states, meta = load_activations(out)
    assert states.shape == (7, 672, 384) and len(meta["ids"]) == 672 == len(set(meta["ids"]))
    assert seconds < 40, seconds
