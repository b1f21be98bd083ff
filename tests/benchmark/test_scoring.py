"""Metrics against scikit-learn and hand-computed cases, the bootstrap, the golden scores, and start-up time."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score
from submission_factory import make_submission_dict, synthetic_battery, write_submission

from aipsy_affect.battery.schema import EMOTIONS
from aipsy_affect.benchmark.metrics import (
    auroc,
    balanced_threshold,
    macro_ovr_auroc,
    pair_bootstrap_weights,
    top1_accuracy,
)
from aipsy_affect.benchmark.scoring import ScoringKey, score_in_full, score_submission
from aipsy_affect.benchmark.submission import Submission, parse_submission
from aipsy_affect.errors import InputErrors, OptionError

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@pytest.fixture(scope="module")
def battery():
    return synthetic_battery()


@pytest.fixture(scope="module")
def key(battery):
    return ScoringKey.from_battery(battery)


# --- single metrics ---------------------------------------------------------------------------------------


def test_auroc_hand_computed() -> None:
    # pairs (pos, neg): 1>0 1, 1<2 0, 2>0 1, 2=2 .5, 3>0 1, 3>2 1  -> 4.5 / 6
    assert auroc(np.array([1.0, 2.0, 3.0]), np.array([0.0, 2.0])) == pytest.approx(0.75, abs=0)
    assert auroc(np.array([1.0]), np.array([1.0])) == 0.5
    assert auroc(np.array([0.0, 0.0]), np.array([1.0, 1.0])) == 0.0
    batched = auroc(np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[0.0, 3.0], [0.0, 0.0]]))
    assert batched.tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match="at least one positive"):
        auroc(np.array([]), np.array([1.0]))


@settings(max_examples=60, deadline=None)
@given(
    pos=st.lists(st.integers(-5, 5), min_size=1, max_size=40),
    neg=st.lists(st.integers(-5, 5), min_size=1, max_size=40),
    scale=st.floats(0.01, 100),
)
def test_auroc_matches_sklearn_with_ties(pos: list[int], neg: list[int], scale: float) -> None:
    # Small integer ranges force many ties: sklearn's trapezoid rule and our midranks must agree.
    p, n = np.array(pos) * scale, np.array(neg) * scale
    y = np.r_[np.ones(len(p)), np.zeros(len(n))]
    assert abs(float(auroc(p, n)) - roc_auc_score(y, np.r_[p, n])) < 1e-9


def test_macro_ovr_auroc_matches_sklearn() -> None:
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(8), 6)
    rng.shuffle(labels)
    for decimals in (None, 1):
        probs = rng.dirichlet(np.ones(8), size=len(labels))
        if decimals is not None:
            probs = np.round(probs, decimals)
            probs /= probs.sum(axis=1, keepdims=True)
        macro, per_class = macro_ovr_auroc(probs, labels)
        expected = roc_auc_score(labels, probs, multi_class="ovr", average="macro")
        assert abs(float(macro) - expected) < 1e-9
        for k in range(8):
            assert abs(per_class[k] - roc_auc_score(labels == k, probs[:, k])) < 1e-9


def test_top1_accuracy_gives_fractional_credit_for_ties() -> None:
    probs = np.array(
        [
            [0.7, 0.3, 0.0],  # right
            [0.5, 0.5, 0.0],  # tied with one other: 1/2
            [0.2, 0.2, 0.6],  # wrong
            [1 / 3, 1 / 3, 1 / 3],  # three-way tie: 1/3
        ]
    )
    labels = np.array([0, 1, 0, 2])
    assert top1_accuracy(probs, labels) == pytest.approx((1 + 0.5 + 0 + 1 / 3) / 4, abs=1e-15)


def test_balanced_threshold_hand_cases() -> None:
    # Perfect separation: the threshold sits midway in the gap, balanced accuracy 1.
    t, acc = balanced_threshold(np.array([3.0, 4.0, 5.0]), np.array([0.0, 1.0, 2.0]))
    assert (t, acc) == (2.5, 1.0)
    # Overlap: the best cut (score >= 2.5) catches 2 of 3 positives and 0 of 3 negatives; alternatives tie at 5/6.
    t, acc = balanced_threshold(np.array([1.0, 3.0, 4.0]), np.array([0.0, 2.0, 2.0]))
    assert acc == pytest.approx(5 / 6)
    assert t in (0.5, 2.5)
    pos, neg = np.array([1.0, 3.0, 4.0]), np.array([0.0, 2.0, 2.0])
    assert ((pos >= t).mean() + (neg < t).mean()) / 2 == pytest.approx(acc)


def test_pair_bootstrap_weights_are_seeded_counts() -> None:
    w = pair_bootstrap_weights(192, 300, seed=5)
    assert w.shape == (300, 192) and w.dtype == np.float32
    assert np.all(w.sum(axis=1) == 192) and np.all(w >= 0) and np.all(w == np.round(w))
    assert np.array_equal(w, pair_bootstrap_weights(192, 300, seed=5))
    assert not np.array_equal(w, pair_bootstrap_weights(192, 300, seed=6))


def test_weighted_bootstrap_equals_explicit_resampling() -> None:
    # The scorer never materialises a resample; check its weight algebra against resampling pairs by hand.
    from aipsy_affect.benchmark.metrics import bootstrap_auroc as _bootstrap_auroc
    from aipsy_affect.benchmark.metrics import compare as _compare

    rng = np.random.default_rng(3)
    n = 30
    clin = np.round(rng.normal(1.0, 1.0, size=(2, n)), 1)  # rounding makes ties
    neut = np.round(rng.normal(0.0, 1.0, size=(2, n)), 1)
    seed, n_boot = 11, 25
    weights = pair_bootstrap_weights(n, n_boot, seed)
    fast = _bootstrap_auroc(_compare(clin, neut), weights, weights)
    draws = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    for b in range(n_boot):
        idx = draws[b]
        for layer in range(2):
            y = np.r_[np.ones(n), np.zeros(n)]
            expected = roc_auc_score(y, np.r_[clin[layer, idx], neut[layer, idx]])
            assert abs(fast[layer, b] - expected) < 1e-9


# --- whole submissions ------------------------------------------------------------------------------------


def _sklearn_layer(sub: Submission, key: ScoringKey, layer_pos: int) -> tuple[float, float]:
    layer = sorted(sub.layers, key=lambda x: x.layer)[layer_pos]
    y = np.r_[np.ones(len(key.clinical)), np.zeros(len(key.neutral))]
    scores = np.array([layer.affect[i] for i in key.clinical + key.neutral])
    probs = np.array([[layer.category[i][e] for e in EMOTIONS] for i in key.clinical])
    return (roc_auc_score(y, scores), roc_auc_score(key.clinical_labels, probs, multi_class="ovr", average="macro"))


@pytest.mark.parametrize("decimals", [None, 2])
def test_48_layers_match_sklearn(battery, key, decimals) -> None:
    sub = Submission.model_validate(make_submission_dict(battery, n_layers=48, seed=2, decimals=decimals))
    report = score_submission(sub, battery, n_bootstrap=1000)
    assert [s.layer for s in report.layers] == list(range(48))
    for pos, scores in enumerate(report.layers):
        affect, category = _sklearn_layer(sub, key, pos)
        assert abs(scores.affect_auroc - affect) < 1e-9
        assert abs(scores.category_macro_auroc - category) < 1e-9


def test_secondary_metrics_match_sklearn(battery, key) -> None:
    sub = Submission.model_validate(make_submission_dict(battery, n_layers=2, seed=4, decimals=1))
    report = score_submission(sub, battery, n_bootstrap=100)
    layer = sub.layers[1]
    s = report.layers[1]

    def affect(ids):
        return np.array([layer.affect[i] for i in ids])

    def roc(pos_ids, neg_ids):
        return roc_auc_score(
            np.r_[np.ones(len(pos_ids)), np.zeros(len(neg_ids))], np.r_[affect(pos_ids), affect(neg_ids)]
        )

    assert abs(s.moderate_auroc - roc(key.moderate, key.all_neutral)) < 1e-9
    assert abs(s.complex_auroc - roc(key.clinical, key.complex_neutral)) < 1e-9
    mod_probs = np.array([[layer.category[i][e] for e in EMOTIONS] for i in key.moderate])
    assert (
        abs(
            s.moderate_category_macro_auroc
            - roc_auc_score(key.moderate_labels, mod_probs, multi_class="ovr", average="macro")
        )
        < 1e-9
    )
    twin_probs = np.array([[layer.category[i][e] for e in EMOTIONS] for i in key.twins])
    assert (
        abs(
            s.twin_category_macro_auroc - roc_auc_score(key.twin_labels, twin_probs, multi_class="ovr", average="macro")
        )
        < 1e-9
    )
    assert s.keyword_shift == pytest.approx(float(np.mean(affect(key.twins) - affect(key.twin_peak))))
    assert s.complex_fpr == pytest.approx(float(np.mean(affect(key.complex_neutral) >= s.threshold)))
    peak, mod, neut = affect(key.moderate_peak), affect(key.moderate), affect(key.moderate_neutral)
    assert s.dose_response_rate == pytest.approx(float(np.mean((peak > mod) & (mod > neut))))


def _constructed(battery, level: dict[str, float], correct: bool = True) -> Submission:
    """A submission whose outputs are exact functions of the answer key."""
    data = make_submission_dict(battery, n_layers=1, seed=0)
    layer = data["layers"][0]
    index = battery.by_id()
    layer["affect"] = {i: level[index[i].split] for i in layer["affect"]}
    for item_id in layer["category"]:
        target = index[item_id].emotion
        if not correct:
            target = EMOTIONS[(EMOTIONS.index(target) + 1) % len(EMOTIONS)]
        layer["category"][item_id] = {e: (1.0 if e == target else 0.0) for e in EMOTIONS}
    return Submission.model_validate(data)


def test_perfect_and_inverted_probes(battery) -> None:
    level = {"clinical": 1.0, "neutral": 0.0, "moderate": 0.5, "complex_neutral": 0.0, "keyword_twins": 2.0}
    s = score_submission(_constructed(battery, level), battery, n_bootstrap=100).layers[0]
    assert s.affect_auroc == 1.0 and s.affect_auroc_ci == (1.0, 1.0)
    assert (s.moderate_auroc, s.dose_response_rate, s.complex_auroc) == (1.0, 1.0, 1.0)
    assert (s.threshold, s.balanced_accuracy, s.neutral_fpr, s.complex_fpr) == (0.5, 1.0, 0.0, 0.0)
    assert (s.category_macro_auroc, s.category_top1, s.moderate_category_top1) == (1.0, 1.0, 1.0)
    assert (s.keyword_shift, s.keyword_win_rate) == (1.0, 1.0)

    inverted = {"clinical": 0.0, "neutral": 1.0, "moderate": 0.5, "complex_neutral": 1.0, "keyword_twins": 0.0}
    s = score_submission(_constructed(battery, inverted, correct=False), battery, n_bootstrap=100).layers[0]
    assert s.affect_auroc == 0.0 and s.complex_auroc == 0.0 and s.category_top1 == 0.0
    # A probe that always names the next emotion still ranks its own targets last: one-vs-rest AUROC 1/2 - 1/2*(1/7)*...
    assert s.category_macro_auroc < 0.5
    assert (s.keyword_shift, s.keyword_win_rate) == (0.0, 0.5)


def test_constant_probe_is_at_chance(battery) -> None:
    level = dict.fromkeys(("clinical", "neutral", "moderate", "complex_neutral", "keyword_twins"), 0.3)
    sub = _constructed(battery, level)
    data = sub.model_dump()
    for item_id in data["layers"][0]["category"]:
        data["layers"][0]["category"][item_id] = dict.fromkeys(EMOTIONS, 1 / 8)
    s = score_submission(Submission.model_validate(data), battery, n_bootstrap=100).layers[0]
    assert s.affect_auroc == 0.5 and s.affect_auroc_ci == (0.5, 0.5)
    assert s.category_macro_auroc == 0.5 and s.category_top1 == pytest.approx(1 / 8)
    assert s.complex_fpr == 1.0 and s.neutral_fpr == 1.0


def test_report_is_reproducible_and_seed_dependent(battery) -> None:
    sub = Submission.model_validate(make_submission_dict(battery, n_layers=3, seed=9))
    a = score_submission(sub, battery, n_bootstrap=1000, seed=1)
    b = score_submission(sub, battery, n_bootstrap=1000, seed=1)
    c = score_submission(sub, battery, n_bootstrap=1000, seed=2)
    assert a == b
    assert a.layers[0].affect_auroc_ci != c.layers[0].affect_auroc_ci
    assert a.layers[0].affect_auroc == c.layers[0].affect_auroc
    for s in a.layers:
        lo, hi = s.affect_auroc_ci
        assert 0.0 <= lo <= hi <= 1.0
        lo, hi = s.category_macro_auroc_ci
        assert 0.0 <= lo <= hi <= 1.0
    assert a.best_layer == max(a.layers, key=lambda s: s.category_macro_auroc).layer
    assert a.best_layer_score == max(s.category_macro_auroc for s in a.layers)
    # The cross-validated headline does not depend on the bootstrap seed; its CI does.
    assert a.main_score == c.main_score and a.main_layers == c.main_layers and a.main_score_ci != c.main_score_ci
    assert a.main_score_ci[0] <= a.main_score <= a.main_score_ci[1]
    assert a.affect_score_ci[0] <= a.affect_score <= a.affect_score_ci[1]


def test_twins_are_optional(battery) -> None:
    sub = Submission.model_validate(make_submission_dict(battery, n_layers=2, twins=False))
    report = score_submission(sub, battery, n_bootstrap=100)
    assert not report.has_twins
    assert all(s.keyword_shift is None and s.twin_category_top1 is None for s in report.layers)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_bootstrap": 0}, "--n-bootstrap must be an integer from 100 to 20000"),
        ({"n_bootstrap": 1}, "--n-bootstrap must be an integer from 100 to 20000"),
        ({"n_bootstrap": 99}, "--n-bootstrap must be an integer from 100 to 20000"),
        ({"n_bootstrap": 100_000_000}, "--n-bootstrap must be an integer from 100 to 20000"),
        ({"seed": -1}, "--seed must be an integer from 0 to 2\\*\\*63-1"),
        ({"seed": 2**64}, "--seed must be an integer"),
        ({"ci_level": 1.5}, "ci_level must be"),
    ],
)
def test_score_validation_of_arguments(battery, kwargs, message) -> None:
    sub = Submission.model_validate(make_submission_dict(battery, n_layers=1))
    with pytest.raises(OptionError, match=message):
        score_submission(sub, battery, **kwargs)


# --- properties of the scorer ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_submission(battery) -> dict:
    return make_submission_dict(battery, n_layers=3, seed=21, decimals=2)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scale=st.floats(0.001, 1000), shift=st.floats(-1000, 1000), order=st.permutations([0, 1, 2]))
def test_scores_invariant_to_affine_rescaling_and_layer_order(battery, base_submission, scale, shift, order) -> None:
    base = Submission.model_validate(base_submission)
    data = json.loads(json.dumps(base_submission))
    data["layers"] = [data["layers"][i] for i in order]
    for layer in data["layers"]:
        layer["affect"] = {k: v * scale + shift for k, v in layer["affect"].items()}
    changed = Submission.model_validate(data)
    a = score_submission(base, battery, n_bootstrap=100)
    b = score_submission(changed, battery, n_bootstrap=100)
    assert a.best_layer == b.best_layer and a.main_score == b.main_score and a.main_layers == b.main_layers
    for x, y in zip(a.layers, b.layers, strict=False):
        assert x.layer == y.layer
        # Rounding in v*scale+shift can merge two nearly-equal scores into a tie; allow that one-tie slack.
        assert abs(x.affect_auroc - y.affect_auroc) <= 0.5 / 192**2 + 1e-12
        assert abs(x.complex_auroc - y.complex_auroc) <= 0.5 / (192 * 48) + 1e-12
        assert x.category_macro_auroc == y.category_macro_auroc
        assert y.keyword_shift == pytest.approx(x.keyword_shift * scale, rel=1e-6, abs=1e-6 * abs(shift) + 1e-9)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_negated_scores_mirror_auroc(battery, base_submission, seed) -> None:
    data = json.loads(json.dumps(base_submission))
    for layer in data["layers"]:
        layer["affect"] = {k: -v for k, v in layer["affect"].items()}
    a = score_submission(Submission.model_validate(base_submission), battery, n_bootstrap=100, seed=seed)
    b = score_submission(Submission.model_validate(data), battery, n_bootstrap=100, seed=seed)
    for x, y in zip(a.layers, b.layers, strict=False):
        assert x.affect_auroc + y.affect_auroc == pytest.approx(1.0, abs=1e-12)
        assert x.affect_auroc_ci[0] + y.affect_auroc_ci[1] == pytest.approx(1.0, abs=1e-9)
        if x.keyword_win_rate is not None:
            assert x.keyword_win_rate + y.keyword_win_rate == pytest.approx(1.0, abs=1e-12)


# --- golden ------------------------------------------------------------------------------------------------

_UNSTAMPED = {"aipsy_affect_version", "numpy_version", "python_version"}


def _assert_close(got: object, want: object, path: str = "") -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), path
        for k in want:
            _assert_close(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want, strict=False)):
            _assert_close(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        assert isinstance(got, float) and math.isclose(got, want, rel_tol=0, abs_tol=1e-12), f"{path}: {got} != {want}"
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


def test_golden_scores(battery) -> None:
    """A frozen submission must keep its frozen scores (regenerate only with tests/golden/make_golden.py)."""
    path = GOLDEN / "submission_small.json"
    sub = parse_submission(path.read_bytes(), path)
    from aipsy_affect.benchmark.submission import check_submission

    assert check_submission(sub, battery) == []
    report = json.loads(score_submission(sub, battery).model_dump_json())
    expected = json.loads((GOLDEN / "scores_small.json").read_text())
    assert expected["score_version"] == report["score_version"], "metric definitions changed: regenerate the golden"
    for stamp in _UNSTAMPED:
        report.pop(stamp), expected.pop(stamp)
    _assert_close(report, expected)


# --- the CLI and its start-up budget -------------------------------------------------------------------------


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aipsy_affect.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


@pytest.fixture(scope="module")
def packaged_48(tmp_path_factory) -> Path:
    from aipsy_affect import load_battery

    path = tmp_path_factory.mktemp("score") / "sub48.json"
    write_submission(path, make_submission_dict(load_battery(), n_layers=48, seed=3))
    return path


def test_cli_score_json_is_stamped(packaged_48) -> None:
    from aipsy_affect import __version__, data_sha256

    done = _cli("score", str(packaged_48), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["aipsy_affect_version"] == __version__ and report["data_sha256"] == data_sha256()
    assert report["n_bootstrap"] == 1000 and len(report["layers"]) == 48
    for layer in report["layers"]:
        assert {"layer", "affect_auroc", "affect_auroc_ci", "category_macro_auroc", "category_top1"} <= layer.keys()
    assert report["best_layer"] in range(48) and 0.5 < report["main_score"] <= 1.0
    table = _cli("score", str(packaged_48))
    assert table.returncode == 0 and "main score" in table.stdout and f"data {data_sha256()[:12]}" in table.stdout


def test_cli_score_48_layers_within_two_seconds(packaged_48) -> None:
    """Brief section 7: 48 layers, 1,000 resamples, at most 2 s wall clock including interpreter start.

    The CPU time of the command is held to the budget always; the wall clock only when the machine is not
    oversubscribed (on a shared 2-core box running other suites, wall time measures the neighbours).
    """
    import resource

    best_wall = best_cpu = math.inf
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "aipsy_affect.cli.main", "score", str(packaged_48)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        best_wall = min(best_wall, time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best_cpu = min(best_cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        assert done.returncode == 0, done.stderr
    assert best_cpu <= 2.0, f"score used {best_cpu:.2f} s of CPU"
    if os.getloadavg()[0] < (os.cpu_count() or 1):
        assert best_wall <= 2.0, f"score took {best_wall:.2f} s"


def test_cli_score_rejects_invalid_with_exit_2(tmp_path, packaged_48) -> None:
    data = json.loads(packaged_48.read_text())
    data["layers"][5]["affect"]["clin-anger-work-1"] = float("nan")
    del data["layers"][0]["affect"]["neut-joy-family-2"]
    bad = tmp_path / "bad.json"
    write_submission(bad, data)
    done = _cli("score", str(bad))
    assert done.returncode == 2
    assert "layers[5].affect: non-finite value" in done.stderr and "clin-anger-work-1" in done.stderr
    data["layers"][5]["affect"]["clin-anger-work-1"] = 0.0
    write_submission(bad, data)
    done = _cli("score", str(bad))
    assert done.returncode == 2
    assert "layers[0].affect: missing 1 of 480 required items: neut-joy-family-2" in done.stderr


def test_docs_runnable_example_scores_at_chance() -> None:
    """The end-to-end snippet in docs/scoring.md runs as written and lands near chance."""
    import contextlib
    import io
    import re

    doc = (Path(__file__).resolve().parents[2] / "docs" / "scoring.md").read_text()
    snippet = next(b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "submission_from_arrays(" in b)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(snippet, "docs/scoring.md", "exec"), {})
    assert 0.4 < float(out.getvalue().strip()) < 0.6


def test_scoring_an_unchecked_invalid_submission_raises(battery) -> None:
    from aipsy_affect.battery.io import InputErrors

    data = make_submission_dict(battery, n_layers=1)
    del data["layers"][0]["affect"]["neut-fear-work-2"]
    with pytest.raises(InputErrors, match="missing 1 of 480 required items: neut-fear-work-2"):
        score_submission(Submission.model_validate(data), battery)


def test_twins_in_only_some_layers_are_not_scored(battery) -> None:
    data = make_submission_dict(battery, n_layers=2)
    layer = data["layers"][1]
    for item_id in [i for i in layer["affect"] if i.startswith("twin-")]:
        del layer["affect"][item_id], layer["category"][item_id], layer["folds"][item_id]
    report = score_submission(Submission.model_validate(data), battery, n_bootstrap=100)
    assert not report.has_twins and report.layers[0].keyword_shift is None


# --- the cross-validated headline (issue 12) ------------------------------------------------------------------


def _brute_force_cv(sub: Submission, key: ScoringKey, pair_counts: np.ndarray | None = None) -> tuple[float, list[int]]:
    """The cross-validated macro AUROC written out with loops over explicitly resampled items."""
    layers = sorted(sub.layers, key=lambda x: x.layer)
    probs = np.array([[[layer.category[i][e] for e in EMOTIONS] for i in key.clinical] for layer in layers])
    counts = np.ones(len(key.clinical), dtype=int) if pair_counts is None else pair_counts
    rows = np.repeat(np.arange(len(key.clinical)), counts)  # the resample: pair i appears counts[i] times
    labels, folds = key.clinical_labels[rows], key.outer_folds[rows]
    folds_n = int(key.outer_folds.max()) + 1

    def within(layer: int, emotion: int, fold_set: set[int]) -> tuple[float, float]:
        num = den = 0.0
        for g in fold_set:
            pos = probs[layer, rows[(folds == g) & (labels == emotion)], emotion]
            neg = probs[layer, rows[(folds == g) & (labels != emotion)], emotion]
            num += ((pos[:, None] > neg[None]) + 0.5 * (pos[:, None] == neg[None])).sum()
            den += len(pos) * len(neg)
        return num, den

    chosen = []
    for g in range(folds_n):
        train = set(range(folds_n)) - {g}
        macro = []
        for layer in range(len(layers)):
            vals = [n / d for n, d in (within(layer, k, train) for k in range(8)) if d]
            macro.append(np.mean(vals))
        chosen.append(int(np.argmax(macro)))
    per_emotion = []
    for k in range(8):
        num = den = 0.0
        for g in range(folds_n):
            n, d = within(chosen[g], k, {g})
            num, den = num + n, den + d
        if den:
            per_emotion.append(num / den)
    return float(np.mean(per_emotion)), [layers[c].layer for c in chosen]


def test_cross_validated_main_score_matches_a_brute_force_computation(battery, key) -> None:
    sub = Submission.model_validate(make_submission_dict(battery, n_layers=5, seed=11, decimals=2))
    scored = score_in_full(sub, battery, n_bootstrap=100, seed=4)
    expected, chosen = _brute_force_cv(sub, key)
    assert abs(scored.report.main_score - expected) < 1e-12
    assert scored.report.main_layers == chosen
    # The bootstrap repeats the selection: resample b, rebuilt by hand from the same draws, gives draws[b].
    draws = np.random.default_rng(4).integers(0, len(key.clinical), size=(100, len(key.clinical)))
    for b in (0, 17, 63):
        counts = np.bincount(draws[b], minlength=len(key.clinical))
        assert abs(scored.main.draws[b] - _brute_force_cv(sub, key, counts)[0]) < 1e-9


def test_outer_folds_are_stratified_and_keep_pairs_together(key) -> None:
    folds = key.outer_folds
    for k in range(8):
        sizes = np.bincount(folds[key.clinical_labels == k], minlength=5)
        assert sizes.max() - sizes.min() <= 1  # every fold holds every emotion
    # The neutral of a pair is scored in its clinical item's fold (the pair is one bootstrap unit).
    from aipsy_affect.benchmark.scoring import affect_task

    task = affect_task(np.zeros((1, 192)), np.zeros((1, 192)), key)
    assert np.array_equal(task.pos_fold, task.neg_fold) and np.array_equal(task.pos_unit, task.neg_unit)


def test_pure_noise_scores_chance_and_its_ci_says_so() -> None:
    """Issue 12 acceptance, with fewer seeds (scripts/noise_check.py runs 50): noise over 48 layers is 0.5."""
    from aipsy_affect.battery.release import packaged_release
    from aipsy_affect.benchmark.floors import chance_submission

    release = packaged_release()
    reports = [
        score_submission(chance_submission(release, 48, seed=500 + s), release, n_bootstrap=300) for s in range(6)
    ]
    mean = float(np.mean([r.main_score for r in reports]))
    assert abs(mean - 0.5) <= 0.03, mean
    assert sum(r.main_score_ci[0] > 0.5 for r in reports) <= 1
    # The in-sample best layer is what peeking gives: clearly above chance on pure noise.
    assert np.mean([r.best_layer_score for r in reports]) > 0.53


def test_huge_scores_never_become_non_finite(battery) -> None:
    data = make_submission_dict(battery, n_layers=1)
    layer = data["layers"][0]
    for item_id in layer["affect"]:
        layer["affect"][item_id] = 1.7e308 if item_id.startswith(("clin-", "twin-")) else 1.5e308
    report = score_submission(Submission.model_validate(data), battery, n_bootstrap=100)
    assert math.isfinite(report.layers[0].threshold) and report.layers[0].affect_auroc == 1.0
    # A derived value that overflows (twin minus vignette: 1.7e308 - (-1.7e308)) is an invalid submission.
    for item_id in layer["affect"]:
        layer["affect"][item_id] = 1.7e308 if item_id.startswith("twin-") else -1.7e308
    with pytest.raises(InputErrors, match=r"not a finite number .*keyword_shift.*rescale them"):
        score_submission(Submission.model_validate(data), battery, n_bootstrap=100)


def test_report_as_a_dataframe(battery) -> None:
    sub = Submission.model_validate(make_submission_dict(battery, n_layers=3, seed=2))
    report = score_submission(sub, battery, n_bootstrap=100)
    frame = report.to_pandas()
    assert list(frame.index) == [0, 1, 2]
    assert {"affect_auroc", "affect_auroc_ci_low", "category_macro_auroc_ci_high", "category_auroc_joy"} <= set(
        frame.columns
    )
    assert frame.loc[1, "category_top1"] == report.layer(1).category_top1
    assert frame.attrs["main_score"] == report.main_score


def test_score_and_leaderboard_start_without_heavy_imports(packaged_48, tmp_path) -> None:
    code = (
        "import sys\nfrom aipsy_affect.cli.main import main\nfor argv in ({argv}):\n    main(list(argv))\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'datasets', 'sklearn', 'pandas') if m in sys.modules)\n"
        "print('HEAVY', heavy)"
    )
    board = tmp_path / "board"
    argvs = repr((["score", str(packaged_48)], ["leaderboard", str(board)]))
    board.mkdir()
    done = subprocess.run([sys.executable, "-c", code.format(argv=argvs)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seed", "-1"], "--seed must be an integer from 0"),
        (["--n-bootstrap", "100000000"], "--n-bootstrap must be an integer from 100 to 20000"),
        (["--n-bootstrap", "1"], "--n-bootstrap must be an integer from 100 to 20000"),
    ],
)
def test_cli_score_refuses_bad_resampling_options(packaged_48, args, message) -> None:
    done = _cli("score", str(packaged_48), *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
