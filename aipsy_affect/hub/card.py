"""The dataset card: ``CARD.md`` rendered with the battery's figures and a YAML header."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from aipsy_affect._version import __version__
from aipsy_affect.battery.export_format import (
    COLUMN_DOCS,
    CONFIGS,
    EXPORT_COLUMNS,
    PUBLIC_COLUMNS,
    TWINS_CONFIG,
    export_features,
)
from aipsy_affect.battery.schema import DOMAINS, EMOTIONS, MAIN_SPLITS, Battery
from aipsy_affect.errors import ExportError
from aipsy_affect.hub.certification import PRETTY_NAME, Certification

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


# --- the card ------------------------------------------------------------------------------------

def card_template() -> str:
    """The dataset card template: ``CARD.md`` inside the installed wheel, or at the root of a checkout."""
    packaged = resources.files("aipsy_affect").joinpath("CARD.md")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[2] / "CARD.md"
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    raise FileNotFoundError("CARD.md (the dataset card template) is missing: reinstall the package")


def render_template(template: str, context: Mapping[str, str]) -> str:
    """Fill ``{{ name }}`` placeholders; an unknown placeholder is an error, never left in the output."""
    unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(template)} - set(context))
    if unknown:
        raise ExportError(f"CARD.md uses placeholder(s) with no value: {', '.join(unknown)}")
    return _PLACEHOLDER.sub(lambda m: context[m.group(1)], template)


def _cell(value: Any) -> str:
    if value is None:
        text = "n/a"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = f"{value:.2e}" if value != 0 and abs(value) < 1e-3 else f"{value:.4g}"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _composition_table(battery: Battery) -> str:
    rows = []
    for name in (*MAIN_SPLITS, TWINS_CONFIG):
        items = battery.split(name)
        counts = [i.word_count for i in items]
        emotions = sorted({i.emotion for i in items if i.emotion}, key=EMOTIONS.index)
        rows.append([f"`{name}`", len(items), "default" if name in MAIN_SPLITS else TWINS_CONFIG,
                     items[0].intensity if items else None, f"{len(emotions)} emotions" if emotions else "none",
                     len({i.domain for i in items}), f"{statistics.mean(counts):.1f} ({min(counts)}-{max(counts)})"])
    return _table(["split", "items", "config", "intensity", "emotion", "domains", "words: mean (min-max)"], rows)


def _crossing_table(battery: Battery) -> str:
    cells = Counter((i.emotion, i.domain) for i in battery.split("clinical"))
    genders = Counter((i.emotion, i.protagonist_gender) for i in battery.split("clinical"))
    rows = [[e, *(cells[(e, d)] for d in DOMAINS), f"{genders[(e, 'female')]} / {genders[(e, 'male')]}"]
            for e in EMOTIONS]
    return _table(["emotion", *(DOMAINS[d][1] for d in DOMAINS), "protagonists f / m"], rows)


def _length_summary(battery: Battery) -> str:
    from scipy.stats import wilcoxon

    pairs = battery.pairs()
    diffs = [c.word_count - n.word_count for c, n in pairs]
    rel = [abs(c.word_count - n.word_count) / c.word_count for c, n in pairs]
    nonzero = [d for d in diffs if d != 0]
    p = float(wilcoxon(nonzero).pvalue) if len(nonzero) >= 10 else None
    p_text = f"Wilcoxon signed-rank p = {_cell(p)}" if p is not None else "too few unequal pairs for a test"
    return (f"Across the {len(pairs)} clinical/neutral pairs the mean paired length difference (clinical minus "
            f"neutral) is {statistics.mean(diffs):+.2f} words ({p_text}); the largest difference within a pair "
            f"is {100 * max(rel):.1f}% of the vignette's length.")


def _screen_summary(battery: Battery) -> tuple[str, str, str]:
    from aipsy_affect.keywords.screen import find_keywords

    forbidden: Counter[str] = Counter()
    expressive_items: Counter[str] = Counter()
    terms: Counter[str] = Counter()
    for name in MAIN_SPLITS:
        for item in battery.split(name):
            hits = find_keywords(item.text)
            forbidden[name] += sum(h.kind == "forbidden" for h in hits)
            exp = [h for h in hits if h.kind == "expressive"]
            expressive_items[name] += bool(exp)
            terms.update(h.match.lower() for h in exp)
    total = sum(forbidden.values())
    verdict = ("The screen finds **no** forbidden emotion keyword in the 480 items." if total == 0 else
               f"**Warning:** the screen finds {total} forbidden keyword(s): "
               + ", ".join(f"{n} in {s}" for s, n in forbidden.items() if n) + ".")
    rows = [[f"`{name}`", len(battery.split(name)), expressive_items[name]] for name in MAIN_SPLITS]
    common = ", ".join(f"{t} ({n})" for t, n in sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
    table = _table(["split", "items", "items with an expressive-behaviour word"], rows)
    if common:
        table += f"\n\nMost frequent expressive words: {common}."
        summary = ("**Expressive behaviour is rare but not absent.** Words for visible expression (*cried*, *smiled*, "
                   "*trembled*) are allowed, counted, and kept rare:")
    else:
        summary = ("**Expressive behaviour** words (*cried*, *smiled*, *trembled* and their families) are screened and "
                   "none was found, but visible actions told in other words (slamming a ledger shut, running to the "
                   "car) are part of the situations and can cue a category:")
    return verdict, summary, table


def _split_scores_table(battery: Battery, cert: Certification | None) -> str:
    if cert is None:
        return "_No certification report: this export carries no per-item figures._"
    rows = []
    for name in (*MAIN_SPLITS, TWINS_CONFIG):
        items = battery.split(name)
        scores = [cert.scores[i.id] for i in items]
        top1 = (sum(s.classifier_label == i.emotion for s, i in zip(scores, items)) / len(items)
                if items and items[0].emotion else None)
        rows.append([f"`{name}`", len(items), statistics.mean(s.vader_compound for s in scores),
                     statistics.mean(s.nrc_hit_rate for s in scores), statistics.mean(s.p_emotional for s in scores),
                     f"{100 * top1:.1f}%" if top1 is not None else None])
    return _table(["split", "items", "mean VADER compound", "mean NRC hit rate", "mean P(emotional)",
                   "classifier top-1 = target emotion"], rows)


def _certification_context(cert: Certification | None) -> dict[str, str]:
    if cert is None:
        return {
            "certification_status": "**Not certified.** This export was built without a validation report; its "
                                    "certification columns are empty. Published releases are always certified.",
            "validation_table": "_No validation report._",
            "classifier": "n/a", "certified_package_version": "n/a", "library_versions": "n/a",
        }
    report = cert.report
    n_passed = sum(c.passed for c in report.criteria)
    status = (f"**Certified:** all {len(report.criteria)} criteria passed." if report.passed else
              f"**Certification FAILED:** {len(report.criteria) - n_passed} of {len(report.criteria)} criteria "
              "did not pass (see the table).")
    clf = report.classifier
    classifier = f"`{clf.id}`" + (f" at revision `{clf.revision}`" if clf.revision else "")
    if clf.weights_sha256:
        classifier += f", weights sha256 `{clf.weights_sha256[:12]}...`"
    libs = ", ".join(f"{k} {v}" for k, v in sorted(report.library_versions.items())) or "not stated"
    table = _table(["criterion", "what it checks", "value", "required", "verdict"],
                   [[f"`{c.name}`", c.description, c.value,
                     f"{c.comparison} {_cell(c.threshold)}" if c.comparison else c.threshold,
                     "pass" if c.passed else "**FAIL**"] for c in report.criteria])
    return {"certification_status": status, "validation_table": table, "classifier": classifier,
            "certified_package_version": report.package_version, "library_versions": libs}


def _fields_table() -> str:
    features = export_features()
    rows = [[f"`{name}`", features[name].dtype, "public" if name in PUBLIC_COLUMNS else "ours", COLUMN_DOCS[name]]
            for name in EXPORT_COLUMNS]
    return _table(["column", "type", "layout", "meaning"], rows)


def card_context(battery: Battery, *, cert: Certification | None, data_sha256: str, lexicon_version: str,
                 repo_id: str, revision: str) -> dict[str, str]:
    """Every value ``CARD.md`` can use, computed from the battery and the certification (nothing typed in)."""
    keyword_verdict, expressive_summary, expressive_table = _screen_summary(battery)
    main_counts = [i.word_count for s in MAIN_SPLITS for i in battery.split(s)]
    return {
        "pretty_name": PRETTY_NAME,
        "repo_id": repo_id,
        "revision": revision,
        "package_version": __version__,
        "citation_key": "aipsy_affect_" + re.sub(r"[^A-Za-z0-9]", "_", revision),
        "data_sha256": data_sha256,
        "lexicon_version": lexicon_version,
        "n_main": str(sum(len(battery.split(s)) for s in MAIN_SPLITS)),
        "n_twins": str(len(battery.split(TWINS_CONFIG))),
        "domain_list": ", ".join(label for _, label in DOMAINS.values()),
        "composition_table": _composition_table(battery),
        "crossing_table": _crossing_table(battery),
        "length_summary": _length_summary(battery),
        "keyword_verdict": keyword_verdict,
        "expressive_summary": expressive_summary,
        "expressive_table": expressive_table,
        "word_range": f"{min(main_counts)} to {max(main_counts)}",
        "split_scores_table": _split_scores_table(battery, cert),
        "fields_table": _fields_table(),
        **_certification_context(cert),
    }


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return label
    return "100K<n<1M"


def card_header(battery: Battery, split_bytes: Mapping[str, tuple[int, int]]) -> dict[str, Any]:
    """The README's YAML metadata: licence, language, task, tags, ``configs`` and ``dataset_info``.

    ``split_bytes`` maps each split to (in-memory Arrow bytes, parquet file bytes).
    """
    features = export_features()
    feature_list = features._to_yaml_list()
    configs, infos = [], []
    for config, splits in CONFIGS.items():
        entry: dict[str, Any] = {"config_name": config}
        if config == "default":
            entry["default"] = True
        entry["data_files"] = [{"split": s, "path": f"data/{s}.parquet"} for s in splits]
        configs.append(entry)
        infos.append({
            "config_name": config,
            "features": feature_list,
            "splits": [{"name": s, "num_bytes": split_bytes[s][0], "num_examples": len(battery.split(s))}
                       for s in splits],
            "download_size": sum(split_bytes[s][1] for s in splits),
            "dataset_size": sum(split_bytes[s][0] for s in splits),
        })
    return {
        "license": "mit",
        "language": ["en"],
        "pretty_name": PRETTY_NAME,
        "task_categories": ["text-classification"],
        "task_ids": ["multi-class-classification"],
        "size_categories": [_size_category(len(battery.items))],
        "multilinguality": ["monolingual"],
        "language_creators": ["machine-generated", "expert-generated"],
        # The labels are the design intent each text was written to, not judgements of found text: "other".
        "annotations_creators": ["other"],
        "source_datasets": ["original"],
        "tags": ["emotion", "affect", "interpretability", "probing", "plutchik", "psychology", "stimuli",
                 "keyword-free", "controlled-stimuli", "benchmark"],
        "configs": configs,
        "dataset_info": infos,
    }


