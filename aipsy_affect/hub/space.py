"""Publishing a leaderboard as a static Hugging Face Space: ``aipsy-affect leaderboard DIR --publish OWNER/SPACE``.

The Space holds ``index.html`` (the self-contained page), ``leaderboard.json`` / ``.csv`` / ``.md``, the store itself
(``entries.jsonl`` and ``submissions/``, so anyone can re-score every entry) and a ``README.md`` whose YAML header
says ``sdk: static``. Token handling is the dataset publisher's (:mod:`aipsy_affect.hub.publish`): the token comes
from ``HF_TOKEN`` or the stored login and is never printed; a dry run lists every file and says plainly when a real
publish would fail for want of a token.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aipsy_affect._version import __version__
from aipsy_affect.battery.export_format import REPO_ID_PATTERN
from aipsy_affect.benchmark.leaderboard import ENTRIES_FILE, SUBMISSIONS_DIR, Leaderboard
from aipsy_affect.errors import OptionError, PublishError
from aipsy_affect.hub.publish import _find_token, _make_api, _redact
from aipsy_affect.render.leaderboard import render

__all__ = ["publish_space", "stage_space"]

Echo = Callable[[str], None]

_README = """---
title: aipsy-affect leaderboard
emoji: 📊
colorFrom: blue
colorTo: gray
sdk: static
app_file: index.html
pinned: false
license: mit
---

# aipsy-affect probe leaderboard

Does a model represent emotion beyond the words on the page? Each entry is a probe submission on the keyword-free
aipsy-affect battery, scored with a cross-validated main score (category macro AUROC, layer chosen on held-out
folds) and its gain over a lexical floor (TF-IDF + logistic regression) with a paired bootstrap CI.

`index.html` is the board; `leaderboard.json`, `leaderboard.csv` and `leaderboard.md` hold the same rows;
`entries.jsonl` and `submissions/` are the store itself, so every entry can be re-scored with
`aipsy-affect score submissions/<sha256>.json`. Rendered by aipsy-affect {version}.
"""


def stage_space(board: Leaderboard, folder: Path) -> list[Path]:
    """Write the Space's files into ``folder``; return them relative to it, sorted."""
    entries = board.entries()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(render(entries, "html"), encoding="utf-8")
    for fmt in ("json", "csv", "md"):
        (folder / f"leaderboard.{fmt}").write_text(render(entries, fmt), encoding="utf-8")
    (folder / "README.md").write_text(_README.format(version=__version__), encoding="utf-8")
    if board.entries_path.exists():
        shutil.copyfile(board.entries_path, folder / ENTRIES_FILE)
    (folder / SUBMISSIONS_DIR).mkdir(exist_ok=True)
    for entry in entries:
        source = board.submission_path(entry.submission_sha256)
        if source.is_file():
            shutil.copyfile(source, folder / SUBMISSIONS_DIR / source.name)
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def publish_space(
    board: Leaderboard, repo_id: str, *, dry_run: bool = False, api: Any = None, echo: Echo = print
) -> str | None:
    """Upload ``board`` as the static Space ``repo_id``; return the commit id (``None`` for a dry run).

    Operations: ``create_repo`` (``repo_type="space"``, ``space_sdk="static"``, exist_ok), then one
    ``upload_folder`` that replaces the Space's files (remote files not in the board are deleted). ``api`` replaces
    ``HfApi(token=...)`` (tests pass an autospecced double).
    """
    if not REPO_ID_PATTERN.fullmatch(repo_id):
        raise OptionError(f"--publish: {repo_id!r} is not a Space id (expected OWNER/SPACE)")
    token, token_source = _find_token()
    if token is None and not dry_run:
        raise PublishError("no Hugging Face token: set HF_TOKEN or run `hf auth login`", refused=True)
    stage = Path(tempfile.mkdtemp(prefix="aipsy-affect-space-"))
    try:
        files = stage_space(board, stage)
        url = f"https://huggingface.co/spaces/{repo_id}"
        message = f"aipsy-affect {__version__}: leaderboard with {len(board.entries())} entries"
        echo(
            f"{'dry run: would publish' if dry_run else 'publishing'} the leaderboard {board.directory} to {url} "
            "(static Space)"
        )
        echo(
            f"  token: {'from ' + token_source if token_source else 'none found: a real publish would fail (set HF_TOKEN or run `hf auth login`)'}"
        )
        echo(f"  commit message: {message}")
        echo(f"  files ({len(files)}; remote files not listed are deleted):")
        for name in files:
            echo(f"    {name}  {(stage / name).stat().st_size} bytes")
        if dry_run:
            return None
        assert token is not None
        client = api if api is not None else _make_api(token)
        step = "create_repo"
        try:
            client.create_repo(repo_id, repo_type="space", space_sdk="static", exist_ok=True)
            step = "upload_folder"
            commit = client.upload_folder(
                repo_id=repo_id, repo_type="space", folder_path=str(stage), commit_message=message, delete_patterns="*"
            )
        except Exception as exc:  # any client failure becomes one redacted message
            raise PublishError(_redact(f"{step} failed: {type(exc).__name__}: {exc}", token), refused=False) from None
        echo(f"published the leaderboard to {url} at commit {commit.oid}")
        return str(commit.oid)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
