"""Publishing the leaderboard as a static Hugging Face Space, against an autospecced ``HfApi`` (no network)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from submission_factory import make_submission_dict, synthetic_battery, write_submission

from aipsy_affect.benchmark.leaderboard import Leaderboard, submit
from aipsy_affect.errors import OptionError, PublishError
from aipsy_affect.hub.space import publish_space, stage_space

TOKEN = "hf_" + "x" * 34


@pytest.fixture(scope="module")
def board(tmp_path_factory) -> Leaderboard:
    battery = synthetic_battery()
    tmp = tmp_path_factory.mktemp("space")
    for k in range(2):
        path = tmp / f"s{k}.json"
        write_submission(path, make_submission_dict(battery, n_layers=2, seed=40 + k, model_id=f"org/m{k}"))
        submit(path, tmp / "board", battery, data_sha256="synthetic")
    return Leaderboard(tmp / "board")


def _api() -> mock.MagicMock:
    from huggingface_hub import HfApi

    api = mock.create_autospec(HfApi, instance=True)
    api.upload_folder.return_value = mock.Mock(oid="c0ffee" * 6 + "abcd")
    return api


def test_stage_holds_page_store_and_static_readme(board, tmp_path) -> None:
    files = {str(p) for p in stage_space(board, tmp_path / "stage")}
    shas = {e.submission_sha256 for e in board.entries()}
    assert {
        "index.html",
        "README.md",
        "entries.jsonl",
        "leaderboard.json",
        "leaderboard.csv",
        "leaderboard.md",
    } <= files
    assert {f"submissions/{s}.json" for s in shas} <= files
    readme = (tmp_path / "stage" / "README.md").read_text()
    assert readme.startswith("---\n") and "\nsdk: static\n" in readme and "\napp_file: index.html\n" in readme
    assert (tmp_path / "stage" / "entries.jsonl").read_bytes() == board.entries_path.read_bytes()


def test_publish_uploads_with_the_token_never_shown(board, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    api, lines = _api(), []
    commit = publish_space(board, "owner/aipsy-board", api=api, echo=lines.append)
    assert commit == "c0ffee" * 6 + "abcd"
    api.create_repo.assert_called_once_with("owner/aipsy-board", repo_type="space", space_sdk="static", exist_ok=True)
    kwargs = api.upload_folder.call_args.kwargs
    assert kwargs["repo_id"] == "owner/aipsy-board" and kwargs["repo_type"] == "space"
    assert kwargs["delete_patterns"] == "*"
    assert not Path(kwargs["folder_path"]).exists()  # the staging folder is removed afterwards
    out = "\n".join(lines)
    assert "token: from HF_TOKEN" in out and TOKEN not in out and "index.html" in out


def test_dry_run_uploads_nothing_and_says_when_a_publish_would_fail(board, monkeypatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", "/nonexistent-hf-home")
    api, lines = _api(), []
    assert publish_space(board, "owner/board", dry_run=True, api=api, echo=lines.append) is None
    api.create_repo.assert_not_called()
    api.upload_folder.assert_not_called()
    assert "none found: a real publish would fail" in "\n".join(lines)
    with pytest.raises(PublishError, match="no Hugging Face token") as info:
        publish_space(board, "owner/board", api=api, echo=lines.append)
    assert info.value.exit_code == 1


def test_hub_failures_are_redacted(board, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    api = _api()
    api.upload_folder.side_effect = RuntimeError(f"401 for token {TOKEN}")
    with pytest.raises(PublishError) as info:
        publish_space(board, "owner/board", api=api, echo=lambda _line: None)
    assert TOKEN not in str(info.value) and "upload_folder failed" in str(info.value) and info.value.exit_code == 3


@pytest.mark.parametrize("repo", ["owner/board\n", "../x", "noslash", "a/b/c"])
def test_bad_space_ids_are_refused(board, repo) -> None:
    with pytest.raises(OptionError, match="is not a Space id"):
        publish_space(board, repo, dry_run=True, api=_api(), echo=lambda _line: None)


def test_cli_dry_run(board) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "aipsy_affect.cli.main",
            "leaderboard",
            str(board.directory),
            "--publish",
            "owner/board",
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HF_HOME": "/nonexistent-hf-home", "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "dry run: would publish the leaderboard" in done.stdout and "spaces/owner/board" in done.stdout
    lone = subprocess.run(
        [sys.executable, "-m", "aipsy_affect.cli.main", "leaderboard", str(board.directory), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert lone.returncode == 2 and "--dry-run only goes with --publish" in lone.stderr
