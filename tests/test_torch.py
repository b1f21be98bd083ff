"""``aipsy_affect._torch``: the one device/dtype resolution, length-sorted batching and packaged-MiniLM locator
that the classifier and the probe share."""

from __future__ import annotations

import pytest
import torch

from aipsy_affect import _torch as T
from aipsy_affect.errors import EXIT_INPUT, DeviceError


def test_length_sorted_batches_cover_every_index_once_longest_first() -> None:
    lengths = [5, 1, 9, 3, 9, 2, 7]
    batches = T.length_sorted_batches(lengths, 3)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths))) and [len(b) for b in batches] == [3, 3, 1]
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    assert batches[0] == [2, 4, 6]  # ties keep input order
    assert T.length_sorted_batches([], 4) == []
    with pytest.raises(ValueError):
        T.length_sorted_batches(lengths, 0)


def test_devices_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert T.resolve_device("auto") == T.resolve_device(None) == "cpu" and T.resolve_device(" CPU ") == "cpu"
    for asked in ("cuda", "cuda:1"):
        with pytest.raises(DeviceError, match="no CUDA") as caught:
            T.resolve_device(asked)
        assert caught.value.exit_code == EXIT_INPUT  # a wrong option for this machine, as before 0.2.0
    for bad in ("tpu", "cuda:x", "mps0"):
        with pytest.raises(DeviceError, match="unknown device"):
            T.resolve_device(bad)


def test_devices_with_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert T.resolve_device("auto") == "cuda" and T.resolve_device("cuda:1") == "cuda:1"
    with pytest.raises(DeviceError, match="2 GPU"):
        T.resolve_device("cuda:2")


@pytest.mark.parametrize(("bf16", "expected"), [(True, "bfloat16"), (False, "float16")])
def test_dtype_rule(monkeypatch: pytest.MonkeyPatch, bf16: bool, expected: str) -> None:
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: bf16)
    assert T.resolve_dtype("auto", "cpu") == "float32"
    assert T.resolve_dtype("auto", "cuda") == expected and T.resolve_dtype(None, "cuda:1") == expected
    assert T.resolve_dtype("float16", "cpu") == "float16"  # an explicit choice is kept
    assert T.torch_dtype(expected) is getattr(torch, expected)
    with pytest.raises(DeviceError):
        T.resolve_dtype("int8", "cpu")
    with pytest.raises(DeviceError):
        T.torch_dtype("auto")


def test_classifier_and_probe_share_the_helpers() -> None:
    from aipsy_affect.defense import base, classifier, hf_classifier
    from aipsy_affect.probe import extract, model

    assert classifier.resolve_device is T.resolve_device and model.resolve_device is T.resolve_device
    assert hf_classifier.resolve_device is T.resolve_device
    assert base.length_sorted_batches is T.length_sorted_batches
    assert extract.length_sorted_batches is T.length_sorted_batches
    assert classifier.minilm_path is T.minilm_path and model.minilm_path is T.minilm_path


def test_packaged_minilm_is_found() -> None:
    path = T.minilm_path()
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()
    assert T.minilm_package_version() != ""
