"""Shared fixtures: opt-in markers, automatic seeding, and a synthetic full-size battery."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from synthetic import synthetic_records


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="run tests marked slow")
    parser.addoption("--run-gpu", action="store_true", default=False, help="run tests marked gpu")


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for flag, marker in (("--run-slow", "slow"), ("--run-gpu", "gpu")):
        # CI runs the slow reproduction tests on every landing without a different command line.
        if config.getoption(flag) or (marker == "slow" and _ci()):
            continue
        skip = pytest.mark.skip(reason=f"opt-in: pass {flag}")
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed() -> None:
    random.seed(0)
    np.random.seed(0)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def synthetic_battery_records() -> dict[str, list[dict]]:
    """A structurally valid full-size battery (all five splits) with machine-made filler texts."""
    return synthetic_records()
