"""Reference probing baseline: pooled hidden states of any transformers model, per-layer probes, a submission.

The pipeline behind ``aipsy-affect probe``:

1. **Identify the model** (:func:`aipsy_affect.probe.model.resolve_model`): the identity keys the activation
   cache and is stamped into the submission.
2. **Render the prompt** (:func:`aipsy_affect.probe.config.render_prompt`), optionally through the chat template.
3. **Extract** or read from the cache (:func:`aipsy_affect.probe.activations.pooled_states`) the pooled states of
   every layer for every item, keyword twins included.
4. **Probe** (:mod:`aipsy_affect.probe.fit`): per layer, an affect probe and an 8-way category probe, evaluated
   out of fold with pair-grouped, emotion-stratified K-fold (:func:`aipsy_affect.battery.folds.grouped_folds`).
5. **Write** the out-of-fold outputs as a submission (:func:`build_submission`).

``torch``, ``transformers`` and ``sklearn`` are imported inside the functions that use them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aipsy_affect._version import __version__
from aipsy_affect.battery.folds import grouped_folds
from aipsy_affect.battery.release import Release
from aipsy_affect.battery.schema import EMOTIONS, Battery, StimulusItem
from aipsy_affect.errors import OptionError
from aipsy_affect.probe.activations import battery_sha256, checked_layers, pooled_states, software_versions
from aipsy_affect.probe.config import DEFAULT_PROMPT, ProbeConfig
from aipsy_affect.probe.fit import LayerProbe, fit_all_layers, training_masks
from aipsy_affect.probe.model import ModelRef

__all__ = [
    "CV_SCHEME",
    "DEFAULT_PROMPT",
    "ProbeConfig",
    "ProbeRun",
    "battery_sha256",
    "build_submission",
    "method_description",
    "run_probe",
    "submission_json",
    "training_masks",
]

CV_SCHEME = (
    "pair-grouped stratified k-fold: a clinical vignette, its matched neutral, its moderate variant and its "
    "keyword twin share a fold; complex_neutral items are single groups; groups stratified by emotion"
)

#: ``method.name`` in the submission, per ``ProbeConfig.method``.
METHOD_NAMES = {"logistic": "logistic-regression", "mass-mean": "mass-mean"}


@dataclass
class ProbeRun:
    """Everything a probe run produced; :func:`build_submission` turns it into the submission file."""

    config: ProbeConfig
    ref: ModelRef
    pooling: str
    dtype: str
    items: list[StimulusItem]
    folds: np.ndarray
    layers: list[LayerProbe]
    n_hidden_layers: int
    hidden_size: int
    num_parameters: int | None
    dataset_sha256: str
    from_cache: bool
    cache_entry: str | None
    timings: dict[str, float] = field(default_factory=dict)


def _log(message: str) -> None:
    print(f"[probe] {message}", file=sys.stderr, flush=True)


def run_probe(
    config: ProbeConfig,
    release: Release | Battery | None = None,
    *,
    log: Callable[[str], None] | None = _log,
    progress: bool = False,
) -> ProbeRun:
    """Extract (or load cached) pooled states of the battery and fit the out-of-fold probes on the chosen layers.

    ``release`` is the answer key (default: the packaged release); a bare ``Battery`` is stamped with
    :func:`battery_sha256`. ``progress`` shows a per-batch extraction bar on standard error.
    """
    say = log or (lambda _m: None)
    t_start = time.perf_counter()
    acts = pooled_states(config.extract_config(), release, log=log, progress=progress)
    states, items = acts.states, acts.items
    layers = checked_layers(config.layers, states.shape[0])
    try:
        folds = grouped_folds(items, config.folds, config.seed)
    except ValueError as exc:
        raise OptionError(str(exc)) from None
    timings = dict(acts.timings)
    t0 = time.perf_counter()
    probes = fit_all_layers(
        states, layers, items, folds, C=config.C, seed=config.seed, scheme=config.affect_scheme, method=config.method
    )
    timings["probe_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - t_start
    unconverged = [p.layer for p in probes if not p.converged]
    if unconverged:
        say(f"warning: some probe fits stopped at the iteration limit on layer(s) {unconverged}")
    say(f"probed {len(layers)} layer(s) x {config.folds} folds ({config.method}) in {timings['probe_s']:.1f}s")
    return ProbeRun(
        config=config,
        ref=acts.ref,
        pooling=acts.pooling,
        dtype=acts.dtype,
        items=items,
        folds=folds,
        layers=probes,
        n_hidden_layers=acts.n_hidden_layers,
        hidden_size=int(states.shape[2]),
        num_parameters=acts.num_parameters,
        dataset_sha256=acts.dataset_sha256,
        from_cache=acts.from_cache,
        cache_entry=acts.cache_entry,
        timings=timings,
    )


def method_description(run: ProbeRun) -> str:
    """Everything needed to reproduce the outputs, in words (stored in ``method.description``)."""
    cfg = run.config
    trained = (
        "affect probe trained on clinical (1) vs matched neutral (0), category probe on clinical items; "
        "moderate, complex_neutral and keyword twins are scored, never trained on"
        if cfg.affect_scheme == "pairs"
        else "affect probe trained on clinical + moderate (1) vs neutral + complex_neutral (0), category probe on "
        "clinical + moderate items; keyword twins are scored, never trained on"
    )
    source = (
        f"aipsy-affect {__version__} reference probe. Hidden states (output_hidden_states; layer 0 = embedding "
        f"output) pooled by '{run.pooling}' over real tokens (right padding), model in {run.dtype}."
    )
    extras = []
    if cfg.chat_template:
        extras.append("Prompts wrapped as one user turn in the tokenizer's chat template with the generation prompt.")
    if cfg.backend != "transformers":
        extras.append(f"Forward pass through the {cfg.backend} backend.")
    if extras:
        source += " " + " ".join(extras)
    if cfg.method == "mass-mean":
        return (
            f"{source} Per layer and fold, fitted on the training folds only (raw states, no scaling): "
            f"affect = projection on the difference-in-means direction (mean affective - mean control) from "
            f"the midpoint of the two means; category = softmax of -squared distance to the eight emotion "
            f"means, divided by the mean squared distance of training items to their own mean. Affect scheme "
            f"'{cfg.affect_scheme}': {trained}. {cfg.folds} folds, seed {cfg.seed}."
        )
    return (
        f"{source} Per layer "
        f"and fold: StandardScaler + L2 logistic regression (C={cfg.C:g}, lbfgs) fitted on the training folds "
        f"only; affect scheme '{cfg.affect_scheme}': {trained}. affect = out-of-fold log-odds of 'affective'; "
        f"category = out-of-fold 8-way softmax probabilities. {cfg.folds} folds, seed {cfg.seed}."
    )


def _sig(value: float) -> float:
    # 9 significant digits halve the file; the eight rounded probabilities still sum to 1 within 1e-8.
    return float(f"{float(value):.9g}")


def build_submission(run: ProbeRun, submitter: str | None = None) -> Any:
    """The run's out-of-fold outputs as a :class:`aipsy_affect.Submission` (twins included)."""
    from aipsy_affect.benchmark.submission import (
        FORMAT_VERSION,
        DatasetInfo,
        LayerOutputs,
        MethodInfo,
        ModelInfo,
        Submission,
    )

    ids = [item.id for item in run.items]
    with_emotion = [k for k, item in enumerate(run.items) if item.emotion is not None]
    folds = {i: int(f) for i, f in zip(ids, run.folds, strict=True)}
    layers = []
    for probe in run.layers:
        affect = {i: _sig(v) for i, v in zip(ids, probe.affect, strict=True)}
        category: dict[str, Any] = {
            ids[k]: dict(zip(EMOTIONS, map(_sig, probe.category[k]), strict=True)) for k in with_emotion
        }
        layers.append(LayerOutputs(layer=probe.layer, affect=affect, category=category, folds=folds))
    revision = run.ref.revision or f"unpinned:{run.config.revision or 'default-branch'}"
    return Submission(
        format_version=FORMAT_VERSION,
        model=ModelInfo(id=run.ref.id, revision=revision, dtype=run.dtype, num_parameters=run.num_parameters),
        method=MethodInfo(
            name=METHOD_NAMES[run.config.method],
            pooling=run.pooling,
            prompt=run.config.prompt,
            cv_folds=run.config.folds,
            cv_scheme=CV_SCHEME,
            seed=run.config.seed,
            description=method_description(run),
        ),
        dataset=DatasetInfo(revision=run.dataset_sha256),
        layers=layers,
        submitter=submitter,
        software=software_versions(),
    )


def submission_json(submission: Any) -> str:
    """Deterministic JSON text of a submission (same outputs, same bytes)."""
    return str(submission.model_dump_json(exclude_none=True)) + "\n"
