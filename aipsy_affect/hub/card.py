"""The dataset card's YAML header: licence, language, task, tags, ``configs`` and ``dataset_info``.

The card's body is rendered from ``CARD.md`` by ``render.card``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aipsy_affect.battery.export_format import CONFIGS, export_features
from aipsy_affect.battery.schema import Battery
from aipsy_affect.render.card import PRETTY_NAME


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return label
    return "100K<n<1M"


def card_header(battery: Battery, split_bytes: Mapping[str, tuple[int, int]], *, norms: bool = False) -> dict[str, Any]:
    """The README's YAML metadata: licence, language, task, tags, ``configs`` and ``dataset_info``.

    ``split_bytes`` maps each split to (in-memory Arrow bytes, parquet file bytes). With ``norms`` the export
    holds ``norms/norms.jsonl`` and a ``norms`` config reads it (one row per item: the normative ratings).
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
        infos.append(
            {
                "config_name": config,
                "features": feature_list,
                "splits": [
                    {"name": s, "num_bytes": split_bytes[s][0], "num_examples": len(battery.split(s))} for s in splits
                ],
                "download_size": sum(split_bytes[s][1] for s in splits),
                "dataset_size": sum(split_bytes[s][0] for s in splits),
            }
        )
    if norms:
        configs.append({"config_name": "norms", "data_files": [{"split": "norms", "path": "norms/norms.jsonl"}]})
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
        "tags": [
            "emotion",
            "affect",
            "interpretability",
            "probing",
            "plutchik",
            "psychology",
            "stimuli",
            "keyword-free",
            "controlled-stimuli",
            "benchmark",
        ],
        "configs": configs,
        "dataset_info": infos,
    }
