"""The mass-mean probe (in-fold difference in means, nearest class mean), the steering directions, their CLI,
and the committed mass-mean baseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from planted import auroc, planted_features

from aipsy_affect.battery.folds import grouped_folds
from aipsy_affect.battery.schema import EMOTIONS, Battery
from aipsy_affect.benchmark.submission import check_submission, load_submission
from aipsy_affect.cli.main import main
from aipsy_affect.errors import EXIT_OK
from aipsy_affect.probe.activations import Activations, battery_sha256
from aipsy_affect.probe.config import ProbeConfig
from aipsy_affect.probe.directions import fit_directions, pair_indices
from aipsy_affect.probe.fit import fit_mass_mean_probes
from aipsy_affect.probe.model import ModelRef
from aipsy_affect.probe.run import build_submission, run_probe


def test_mass_mean_finds_a_planted_signal_and_not_an_absent_one(battery: Battery) -> None:
    items = list(battery.items)
    split = np.array([i.split for i in items])
    emotion = np.array([EMOTIONS.index(i.emotion) if i.emotion else -1 for i in items])
    folds = grouped_folds(items, 5, seed=0)
    strong = fit_mass_mean_probes(planted_features(battery, 3.0), items, folds, layer=0)
    noise = fit_mass_mean_probes(planted_features(battery, 0.0), items, folds, layer=0)
    clin, neut = split == "clinical", split == "neutral"
    assert auroc(strong.affect[clin], strong.affect[neut]) > 0.95
    assert 0.35 < auroc(noise.affect[clin], noise.affect[neut]) < 0.65
    assert (strong.category[clin].argmax(1) == emotion[clin]).mean() > 0.8
    assert (noise.category[clin].argmax(1) == emotion[clin]).mean() < 0.3
    has = emotion >= 0
    np.testing.assert_allclose(strong.category[has].sum(axis=1), 1.0, atol=1e-12)
    assert np.isnan(strong.category[~has]).all() and np.isfinite(strong.affect).all()


def test_mass_mean_is_the_in_fold_difference_of_means(battery: Battery) -> None:
    """Affect = projection on the training folds' mean difference; held-out items never move the fit."""
    items = list(battery.items)
    split = np.array([i.split for i in items])
    folds = grouped_folds(items, 5, seed=0)
    X = planted_features(battery, 1.0)
    probe = fit_mass_mean_probes(X, items, folds, layer=0)
    test = folds == 0
    tr = ~test
    mu1, mu0 = X[tr & (split == "clinical")].mean(0), X[tr & (split == "neutral")].mean(0)
    theta = (mu1 - mu0) / np.linalg.norm(mu1 - mu0)
    np.testing.assert_allclose(probe.affect[test], (X[test] - (mu1 + mu0) / 2) @ theta, rtol=1e-10)
    X2 = X.copy()
    held = np.flatnonzero(test)
    X2[held[1:]] = X2[held[1:]] * 50 + 7
    again = fit_mass_mean_probes(X2, items, folds, layer=0)
    assert again.affect[held[0]] == probe.affect[held[0]]
    np.testing.assert_array_equal(again.category[held[0]], probe.category[held[0]])


def test_directions_are_the_mean_paired_differences(battery: Battery) -> None:
    items = list(battery.items)
    states = np.stack([planted_features(battery, 2.0, seed=s) for s in (1, 2)]).astype(np.float32)
    ref = ModelRef(id="toy", source="toy", revision="r")
    acts = Activations(
        states=states,
        layers=[0, 1],
        items=items,
        ref=ref,
        pooling="mean",
        prompt="{text}",
        chat_template=False,
        backend="transformers",
        dtype="float32",
        dataset_sha256="x",
        n_hidden_layers=2,
        num_parameters=None,
    )
    vig, neu = pair_indices(items)
    assert len(vig) == len(battery.split("clinical"))
    assert all(items[n].matched_control_id == items[v].id for v, n in zip(vig, neu, strict=True))
    dirs = fit_directions(acts)
    assert dirs.affect.shape == (2, 24) and dirs.emotions.shape == (2, 8, 24) and dirs.n_pairs == len(vig)
    np.testing.assert_allclose(dirs.affect[1], (states[1, vig] - states[1, neu]).mean(0), atol=1e-6)
    fear = [k for k, v in enumerate(vig) if items[v].emotion == "fear"]
    np.testing.assert_allclose(
        dirs.emotions[0, EMOTIONS.index("fear")], (states[0, vig[fear]] - states[0, neu[fear]]).mean(0), atol=1e-6
    )
    # The planted affect offset (2.0 on dimension 0) is what the affect direction recovers.
    assert abs(dirs.affect[0, 0] - 2.0) < 0.5 and abs(dirs.affect[0, 5:]).max() < 0.5


def test_probe_mass_mean_writes_a_valid_submission(tiny: dict[str, Path], battery: Battery, tmp_path: Path) -> None:
    config = ProbeConfig(model=str(tiny["gpt2"]), cache_dir=tmp_path, folds=4, method="mass-mean")
    run = run_probe(config, battery, log=None)
    sub = build_submission(run)
    assert check_submission(sub, battery, dataset_revision=battery_sha256(battery)) == []
    assert sub.method.name == "mass-mean" and "difference-in-means" in sub.method.description
    logistic = run_probe(config.model_copy(update={"method": "logistic"}), battery, log=None)
    assert logistic.from_cache  # both methods read the same cached states
    assert not np.allclose(logistic.layers[-1].affect, run.layers[-1].affect)


def test_cli_directions_writes_both_tensors(
    tiny: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from safetensors import safe_open

    out = tmp_path / "dirs.safetensors"
    argv = [
        "directions",
        "--model",
        str(tiny["bert"]),
        "--out",
        str(out),
        "--cache-dir",
        str(tmp_path / "c"),
        "--batch-size",
        "64",
        "--quiet",
    ]
    assert main(argv) == EXIT_OK
    assert capsys.readouterr().err == ""
    with safe_open(str(out), framework="numpy") as fh:
        meta = fh.metadata()
        affect, emotions = fh.get_tensor("affect"), fh.get_tensor("emotions")
    assert affect.shape == (3, 32) and emotions.shape == (3, 8, 32)
    assert meta["n_pairs"] == "192" and meta["format"] == "aipsy-affect-directions/1"
    assert meta["emotions"] == '["joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"]'


# --- the committed baseline -----------------------------------------------------------------------

BASELINE = Path(__file__).resolve().parents[2] / "baselines" / "mass_mean.json"
RERUN = (
    "re-run: aipsy-affect probe --model minilm --method mass-mean --out baselines/mass_mean.json "
    "--submitter 'aipsy-affect reference baseline (mass-mean)'"
)


def test_committed_mass_mean_baseline_is_current_and_reaches_085() -> None:
    from aipsy_affect.battery.io import InputErrors
    from aipsy_affect.benchmark.scoring import score_submission
    from aipsy_affect.probe.model import resolve_model

    try:
        sub, _ = load_submission(BASELINE)
    except InputErrors as exc:
        pytest.fail(f"baselines/mass_mean.json does not fit the current battery ({exc}); {RERUN}")
    ref = resolve_model("minilm")
    assert (sub.model.id, sub.model.revision) == (ref.id, ref.revision), RERUN
    assert sub.method.name == "mass-mean" and [layer.layer for layer in sub.layers] == list(range(7))
    report = score_submission(sub, n_bootstrap=100)
    assert max(layer.affect_auroc for layer in report.layers) >= 0.85
