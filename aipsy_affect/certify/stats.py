"""Statistics for the certification: summaries, paired and unpaired rank tests, top-1 accuracy, length matching.

Every test reports an effect size next to its p-value. Tests come from SciPy; only the effect sizes (rank-biserial
correlations, Cohen's h and d_z) are computed here, from their textbook definitions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict


class Summary(BaseModel):
    """Distribution of one measure in one split."""

    model_config = ConfigDict(extra="forbid")

    n: int
    """Number of values."""

    mean: float
    """Arithmetic mean."""

    sd: float
    """Sample standard deviation (ddof=1; 0 for a single value)."""

    median: float
    """Median."""

    q1: float
    """First quartile."""

    q3: float
    """Third quartile."""

    min: float
    """Smallest value."""

    max: float
    """Largest value."""


class PairedTest(BaseModel):
    """Wilcoxon signed-rank test of ``a - b`` over matched pairs."""

    model_config = ConfigDict(extra="forbid")

    n: int
    """Number of pairs."""

    mean_a: float
    """Mean of the first member of each pair."""

    mean_b: float
    """Mean of the second member."""

    mean_diff: float
    """Mean of ``a - b``."""

    median_diff: float
    """Median of ``a - b``."""

    n_positive: int
    """Pairs with ``a > b``."""

    n_negative: int
    """Pairs with ``a < b``."""

    n_ties: int
    """Pairs with ``a == b`` (dropped by the test, Wilcoxon's convention)."""

    statistic: float
    """SciPy's Wilcoxon statistic (the smaller signed-rank sum for the two-sided test)."""

    p_two_sided: float
    """Two-sided p-value."""

    p_greater: float
    """One-sided p-value for ``a > b``."""

    rank_biserial: float
    """Matched-pairs rank-biserial correlation, (R+ - R-) / (R+ + R-), from -1 to 1."""


class UnpairedTest(BaseModel):
    """Mann-Whitney U test of two independent groups."""

    model_config = ConfigDict(extra="forbid")

    n_a: int
    """Size of group a."""

    n_b: int
    """Size of group b."""

    mean_a: float
    """Mean of group a."""

    mean_b: float
    """Mean of group b."""

    median_a: float
    """Median of group a."""

    median_b: float
    """Median of group b."""

    u: float
    """U statistic of group a."""

    p_two_sided: float
    """Two-sided p-value."""

    p_greater: float
    """One-sided p-value for a > b."""

    auc: float
    """Probability that a random member of a exceeds a random member of b (ties count half): U / (n_a n_b)."""

    rank_biserial: float
    """Rank-biserial correlation, 2 AUC - 1, from -1 to 1."""


class Accuracy(BaseModel):
    """Top-1 accuracy against the target emotion, with chance level and an exact binomial test."""

    model_config = ConfigDict(extra="forbid")

    n: int
    """Items scored."""

    correct: float
    """Items whose prediction is the target (fractional credit 1/k when the target is one of k tied top labels)."""

    accuracy: float
    """``correct / n``."""

    chance: float
    """Accuracy of a uniform guess over the emotions the method can express."""

    p_above_chance: float
    """Exact binomial one-sided p-value for accuracy above chance (``correct`` rounded to an integer)."""

    p_two_sided: float
    """Exact binomial two-sided p-value against chance."""

    ci_low: float
    """Lower bound of the exact (Clopper-Pearson) 95% confidence interval."""

    ci_high: float
    """Upper bound of that interval."""

    cohens_h: float
    """Effect size against chance: 2 asin(sqrt(accuracy)) - 2 asin(sqrt(chance))."""


class LengthMatch(BaseModel):
    """Paired comparison of word counts, vignette minus matched control."""

    model_config = ConfigDict(extra="forbid")

    n_pairs: int
    """Number of pairs."""

    mean_diff: float
    """Mean of (vignette words - control words)."""

    sd_diff: float
    """Standard deviation of the differences."""

    max_abs_ratio: float
    """Largest |difference| relative to the vignette's length."""

    t: float
    """Paired t statistic."""

    p_t: float
    """Two-sided p-value of the paired t-test."""

    p_wilcoxon: float
    """Two-sided p-value of the Wilcoxon signed-rank test."""

    cohens_dz: float
    """Mean difference divided by the standard deviation of the differences."""


def _f(x: float) -> float:
    return float(x) if math.isfinite(float(x)) else float("nan")


def summarize(values: Sequence[float]) -> Summary:
    """n, mean, sd, median, quartiles and range."""
    import numpy as np

    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        raise ValueError("cannot summarise an empty set of values")
    q1, med, q3 = np.percentile(arr, [25, 50, 75])
    return Summary(
        n=int(arr.size),
        mean=_f(arr.mean()),
        sd=_f(arr.std(ddof=1)) if arr.size > 1 else 0.0,
        median=_f(med),
        q1=_f(q1),
        q3=_f(q3),
        min=_f(arr.min()),
        max=_f(arr.max()),
    )


def paired_wilcoxon(a: Sequence[float], b: Sequence[float]) -> PairedTest:
    """Wilcoxon signed-rank test of ``a`` against ``b`` (same length, matched by position)."""
    import numpy as np
    from scipy.stats import rankdata, wilcoxon

    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.size == 0:
        raise ValueError("paired test needs two non-empty sequences of the same length")
    d = x - y
    nz = d[d != 0]
    if nz.size == 0:
        p2 = pg = 1.0
        stat = 0.0
        r = 0.0
    else:
        two = wilcoxon(x, y, alternative="two-sided")
        p2, stat = float(two.pvalue), float(two.statistic)
        pg = float(wilcoxon(x, y, alternative="greater").pvalue)
        ranks = rankdata(np.abs(nz))
        r_plus, r_minus = float(ranks[nz > 0].sum()), float(ranks[nz < 0].sum())
        r = (r_plus - r_minus) / (r_plus + r_minus)
    return PairedTest(
        n=int(x.size),
        mean_a=_f(x.mean()),
        mean_b=_f(y.mean()),
        mean_diff=_f(d.mean()),
        median_diff=_f(np.median(d)),
        n_positive=int((d > 0).sum()),
        n_negative=int((d < 0).sum()),
        n_ties=int((d == 0).sum()),
        statistic=stat,
        p_two_sided=p2,
        p_greater=pg,
        rank_biserial=r,
    )


def mann_whitney(a: Sequence[float], b: Sequence[float]) -> UnpairedTest:
    """Mann-Whitney U test of ``a`` against ``b``."""
    import numpy as np
    from scipy.stats import mannwhitneyu

    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.size == 0 or y.size == 0:
        raise ValueError("Mann-Whitney test needs two non-empty groups")
    two = mannwhitneyu(x, y, alternative="two-sided")
    greater = mannwhitneyu(x, y, alternative="greater")
    auc = float(two.statistic) / (x.size * y.size)
    return UnpairedTest(
        n_a=int(x.size),
        n_b=int(y.size),
        mean_a=_f(x.mean()),
        mean_b=_f(y.mean()),
        median_a=_f(np.median(x)),
        median_b=_f(np.median(y)),
        u=float(two.statistic),
        p_two_sided=float(two.pvalue),
        p_greater=float(greater.pvalue),
        auc=auc,
        rank_biserial=2 * auc - 1,
    )


def top1_accuracy(
    targets: Sequence[str], predictions: Sequence[Sequence[str] | str | None], n_classes: int
) -> Accuracy:
    """Top-1 accuracy; a prediction may be one label, a tuple of tied labels (credit 1/k), or ``None`` (a miss)."""
    from scipy.stats import binomtest

    if len(targets) != len(predictions) or not targets:
        raise ValueError("accuracy needs as many predictions as targets, and at least one")
    correct = 0.0
    for target, pred in zip(targets, predictions, strict=True):
        if pred is None:
            continue
        tied = (pred,) if isinstance(pred, str) else tuple(pred)
        if target in tied:
            correct += 1.0 / len(tied)
    n = len(targets)
    chance = 1.0 / n_classes
    k = round(correct)
    above = binomtest(k, n, chance, alternative="greater")
    two = binomtest(k, n, chance, alternative="two-sided")
    ci = two.proportion_ci(confidence_level=0.95, method="exact")
    acc = correct / n
    return Accuracy(
        n=n,
        correct=correct,
        accuracy=acc,
        chance=chance,
        p_above_chance=float(above.pvalue),
        p_two_sided=float(two.pvalue),
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        cohens_h=2 * math.asin(math.sqrt(acc)) - 2 * math.asin(math.sqrt(chance)),
    )


def confusion_matrix(
    targets: Sequence[str], predictions: Sequence[str | None], rows: Sequence[str], cols: Sequence[str]
) -> list[list[int]]:
    """Counts with one row per target label and one column per predicted label (``None`` is not counted)."""
    r_index = {r: i for i, r in enumerate(rows)}
    c_index = {c: i for i, c in enumerate(cols)}
    matrix = [[0] * len(cols) for _ in rows]
    for target, pred in zip(targets, predictions, strict=True):
        if pred is None:
            continue
        if target not in r_index or pred not in c_index:
            raise ValueError(f"label outside the matrix: target {target!r}, prediction {pred!r}")
        matrix[r_index[target]][c_index[pred]] += 1
    return matrix


def length_matching(vignette_words: Sequence[int], control_words: Sequence[int]) -> LengthMatch:
    """Paired t-test and Wilcoxon test of word counts, with the mean difference and Cohen's d_z."""
    import numpy as np
    from scipy.stats import ttest_rel, wilcoxon

    a, b = np.asarray(vignette_words, dtype=float), np.asarray(control_words, dtype=float)
    if a.shape != b.shape or a.size < 2:
        raise ValueError("length matching needs at least two pairs")
    d = a - b
    sd = float(d.std(ddof=1))
    if sd == 0:
        t, p_t = 0.0, 1.0
    else:
        res = ttest_rel(a, b)
        t, p_t = float(res.statistic), float(res.pvalue)
    p_w = float(wilcoxon(a, b).pvalue) if np.any(d != 0) else 1.0
    return LengthMatch(
        n_pairs=int(a.size),
        mean_diff=_f(d.mean()),
        sd_diff=sd,
        max_abs_ratio=_f(np.max(np.abs(d) / a)),
        t=t,
        p_t=p_t,
        p_wilcoxon=p_w,
        cohens_dz=_f(d.mean() / sd) if sd > 0 else 0.0,
    )


class AurocCI(BaseModel):
    """AUROC of scores that should be higher on one member of each matched pair, with a pair-bootstrap CI."""

    model_config = ConfigDict(extra="forbid")

    n_pairs: int
    """Matched pairs scored."""

    auroc: float
    """Probability that a random positive outscores a random negative (ties count half), over all pairs."""

    ci_low: float
    """2.5th percentile of the AUROC over pair-bootstrap resamples (pairs drawn with replacement, kept whole)."""

    ci_high: float
    """97.5th percentile of that distribution."""

    n_resamples: int
    """Bootstrap resamples."""

    seed: int
    """Seed of the resampling."""


def paired_auroc(
    positive: Sequence[float], negative: Sequence[float], *, n_resamples: int = 2000, seed: int = 0
) -> AurocCI:
    """AUROC of ``positive`` vs ``negative`` (``positive[i]`` and ``negative[i]`` are a matched pair) and a 95%
    percentile CI from resampling whole pairs, so the interval respects the pairing."""
    import numpy as np

    pos, neg = np.asarray(positive, dtype=float), np.asarray(negative, dtype=float)
    if pos.shape != neg.shape or pos.size < 2:
        raise ValueError("a paired AUROC needs at least two pairs of equal length")
    # wins[i, j]: credit for positive i against negative j; every AUROC is a mean over a block of this matrix.
    wins = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, pos.size, size=(n_resamples, pos.size))
    boot = np.array([wins[np.ix_(d, d)].mean() for d in draws])
    low, high = np.percentile(boot, [2.5, 97.5])
    return AurocCI(
        n_pairs=int(pos.size),
        auroc=_f(wins.mean()),
        ci_low=_f(low),
        ci_high=_f(high),
        n_resamples=n_resamples,
        seed=seed,
    )
