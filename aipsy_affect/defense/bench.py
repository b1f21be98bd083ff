"""``aipsy-affect bench``: classifier throughput, batched vs a naive one-text-at-a-time loop, in the same run.

Three ways over the same texts, after one warm-up call, repeated in interleaved rounds (naive, per-text, batched,
naive, ...) so that load from other processes hits every mode alike; the median round counts:

* ``naive``: one text at a time and one sequence per forward pass (``EmotionClassifier.classify_naive``);
* ``per_text``: one ``classify([text])`` call per text (each text's sentences batched together);
* ``batched``: one ``classify(texts)`` call (sequences of all texts sorted by length, batched, duplicates once).

The outputs of the three are compared, so a speed-up never hides a different answer. On a machine with a CUDA
GPU the batched run is repeated there and reported in texts per second.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict

from aipsy_affect.defense.classifier import ClassifierInfo, ClassifierOutput, EmotionClassifier, load_classifier


class Timing(BaseModel):
    """One way of classifying the benchmark texts."""

    model_config = ConfigDict(extra="forbid")

    mode: str
    """``naive``, ``per_text`` or ``batched`` (``batched-gpu`` on a GPU)."""

    device: str
    """Where it ran."""

    seconds: float
    """Median wall-clock time over the rounds."""

    rounds: list[float]
    """Wall-clock time of every round."""

    texts_per_second: float
    """Throughput at the median time."""


class BenchResult(BaseModel):
    """The benchmark's figures, stamped with the date, machine and classifier."""

    model_config = ConfigDict(extra="forbid")

    created_utc: str
    """When it ran."""

    machine: dict[str, Any]
    """Platform, CPU, cores, torch threads, GPU."""

    classifier: ClassifierInfo
    """The classifier benchmarked."""

    package_version: str
    """aipsy-affect version."""

    n_texts: int
    """Texts classified by each mode in each round."""

    n_sentences: int
    """Their sentences (what the prototype classifier encodes), counting repeats."""

    selection: str
    """Which battery items were used."""

    n_words: int
    """Their total whitespace-separated words."""

    timings: list[Timing]
    """One entry per mode."""

    speedup_batched_vs_naive: float
    """naive seconds / batched seconds (CPU)."""

    speedup_batched_vs_per_text: float
    """per-text seconds / batched seconds (CPU)."""

    max_abs_p_emotional_diff: float
    """Largest difference in ``p_emotional`` between the naive and batched outputs (padding changes rounding)."""

    labels_agree: float
    """Share of texts given the same label by the naive and batched runs."""

    gpu_note: str
    """GPU figures, or why there are none."""

    load_average: list[float]
    """1-minute load average before and after the run (other processes on the machine slow every mode)."""


def _cpu_name() -> str:
    from pathlib import Path

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """Platform, CPU, core count, torch threads and GPU (for stamping timings here and in ``certify``)."""
    import os

    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": gpu,
    }


def _timed(fn: Any) -> tuple[float, list[ClassifierOutput]]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run_benchmark(
    texts: Sequence[str],
    classifier: EmotionClassifier | None = None,
    *,
    spec: str | None = None,
    gpu: bool = True,
    rounds: int = 3,
    selection: str = "given texts",
) -> BenchResult:
    """Time the three modes on ``texts`` (CPU, ``rounds`` interleaved rounds), and batched on a GPU when present."""
    import os
    import statistics

    import torch

    from aipsy_affect._version import __version__
    from aipsy_affect.defense.classifier import split_sentences

    texts = list(texts)
    if not texts or rounds < 1:
        raise ValueError("the benchmark needs at least one text and one round")
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    clf = classifier or load_classifier(spec, "cpu")
    clf.classify(texts[: min(8, len(texts))], progress=False)  # warm-up: first-call allocations, thread pools
    modes: dict[str, Any] = {
        "naive": lambda: clf.classify_naive(texts),
        "per_text": lambda: [clf.classify([t], progress=False)[0] for t in texts],
        "batched": lambda: clf.classify(texts, progress=False),
    }
    samples: dict[str, list[float]] = {m: [] for m in modes}
    outputs: dict[str, list[ClassifierOutput]] = {}
    for _ in range(rounds):
        for mode, fn in modes.items():
            seconds, outputs[mode] = _timed(fn)
            samples[mode].append(seconds)
    # Floor at a microsecond so a trivially fast classifier (tests) cannot divide by zero.
    median = {m: max(statistics.median(v), 1e-6) for m, v in samples.items()}
    device = clf.info.device
    timings = [
        Timing(
            mode=m,
            device=device,
            seconds=round(median[m], 3),
            rounds=[round(x, 3) for x in samples[m]],
            texts_per_second=round(len(texts) / median[m], 2),
        )
        for m in modes
    ]
    gpu_note = "GPU: not measured (no CUDA device on this machine)."
    if gpu and torch.cuda.is_available():
        gclf = load_classifier(spec, "cuda")
        gclf.classify(texts[: min(8, len(texts))], progress=False)
        gpu_samples = []
        for _ in range(rounds):
            torch.cuda.synchronize()
            seconds, _out = _timed(lambda: gclf.classify(texts, progress=False))
            torch.cuda.synchronize()
            gpu_samples.append(round(seconds, 3))
        t_gpu = max(statistics.median(gpu_samples), 1e-6)
        timings.append(
            Timing(
                mode="batched-gpu",
                device=gclf.info.device,
                seconds=round(t_gpu, 3),
                rounds=gpu_samples,
                texts_per_second=round(len(texts) / t_gpu, 2),
            )
        )
        gpu_note = f"GPU: {torch.cuda.get_device_name(0)}, {gclf.info.dtype}."
    naive, batched = outputs["naive"], outputs["batched"]
    diffs = [abs(a.p_emotional - b.p_emotional) for a, b in zip(naive, batched, strict=True)]
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return BenchResult(
        created_utc=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        machine=machine_info(),
        classifier=clf.info,
        package_version=__version__,
        n_texts=len(texts),
        n_sentences=sum(len(split_sentences(t)) for t in texts),
        selection=selection,
        n_words=sum(len(t.split()) for t in texts),
        timings=timings,
        speedup_batched_vs_naive=round(median["naive"] / median["batched"], 3),
        speedup_batched_vs_per_text=round(median["per_text"] / median["batched"], 3),
        max_abs_p_emotional_diff=max(diffs),
        labels_agree=sum(a.label == b.label for a, b in zip(naive, batched, strict=True)) / len(texts),
        gpu_note=gpu_note,
        load_average=[round(load_before, 2), round(load_after, 2)],
    )


def render_markdown(result: BenchResult) -> str:
    """``validation/BENCHMARK.md``."""
    r = result
    m = r.machine
    lines = [
        "# Classifier benchmark",
        "",
        f"- date (UTC): {r.created_utc}",
        f"- machine: {m.get('cpu')}, {m.get('cpu_count')} cores, torch threads {m.get('torch_threads')}, "
        f"{m.get('platform')}",
        f"- classifier: `{r.classifier.id}` ({r.classifier.kind}), revision `{r.classifier.revision}`, "
        f"{r.classifier.device}/{r.classifier.dtype}",
        f"- aipsy-affect {r.package_version}; texts: {r.n_texts} battery items ({r.selection}; {r.n_words} words, "
        f"{r.n_sentences} sentences), the same texts for every mode, after one warm-up call; "
        f"{len(r.timings[0].rounds)} interleaved rounds, median shown",
        f"- 1-minute load average before / after: {r.load_average[0]} / {r.load_average[1]} (other processes on "
        "the machine slow every mode alike)",
        "",
        "| mode | device | median seconds | every round | texts per second |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {t.mode} | {t.device} | {t.seconds:.2f} | {', '.join(f'{x:.2f}' for x in t.rounds)} | "
        f"{t.texts_per_second:.1f} |"
        for t in r.timings
    ]
    lines += [
        "",
        f"**Batched vs naive loop: {r.speedup_batched_vs_naive:.2f}x faster** (vs one call per text: "
        f"{r.speedup_batched_vs_per_text:.2f}x). Naive and batched outputs agree: same label for "
        f"{100 * r.labels_agree:.1f}% of texts, largest P(emotional) difference {r.max_abs_p_emotional_diff:.1e}.",
        "",
        r.gpu_note,
        "",
        "Modes: `naive` classifies one text at a time with one sequence per forward pass; `per_text` makes one "
        "`classify([text])` call per text; `batched` makes one `classify(texts)` call (all sentences sorted by "
        "length, batches of 32, identical sentences encoded once). Regenerate with `aipsy-affect bench`; "
        "`aipsy-affect certify` times the full 672-item run in `report.json` (`timing_s`).",
        "",
    ]
    return "\n".join(lines)
