"""docs/steering.md runs as written: its Python blocks, in order, in one namespace, on the packaged MiniLM."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "steering.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_doc_has_the_three_examples() -> None:
    blocks = _blocks()
    assert len(blocks) == 3
    assert "register_forward_hook" in blocks[1] and "register_forward_hook" in blocks[2]
    assert len(blocks[1].strip().splitlines()) <= 32  # the steering example stays short enough to read


@pytest.mark.slow
def test_steering_and_patching_examples_run_and_print_an_effect_with_a_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIPSY_AFFECT_CACHE", str(tmp_path / "cache"))
    namespace: dict[str, object] = {}
    for block in _blocks():
        exec(compile(block, str(DOC), "exec"), namespace)
    out = capsys.readouterr().out
    steer = re.search(r"steering closes (-?\d+)% of the neutral-to-vignette gap \[95% CI (-?\d+)%, (-?\d+)%\]", out)
    assert steer, out
    effect, low, high = map(int, steer.groups())
    assert low <= effect <= high
    assert low > 0, "adding the affect direction should move neutrals toward their vignettes"
    assert re.search(r"patching the question tokens at layer 3 closes -?\d+% of the gap", out), out
    assert namespace["acts"].states.shape == (7, 672, 384)  # type: ignore[attr-defined]
