"""Publishing an export to the Hugging Face Hub, with a certification gate and a dry run."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from aipsy_affect._version import __version__
from aipsy_affect.battery.export_format import (
    MANIFEST_NAME,
    REPO_ID_PATTERN,
    SHA256,
    TAG_PATTERN,
    ManifestFile,
    _sha256,
)
from aipsy_affect.errors import CertificationError, ExportError, PublishError
from aipsy_affect.hub.certification import DEFAULT_VALIDATION_DIR, certification_problems, load_certification
from aipsy_affect.hub.export import export_dataset, require_own_layout

Echo = Callable[[str], None]
NO_TOKEN = "no Hugging Face token: set HF_TOKEN or run `hf auth login`"


# --- publish -------------------------------------------------------------------------------------

#: Where ``huggingface_hub`` found the token (shown in the plan instead of the token).
TokenSource = Literal["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OIDC", "stored login"]


class PublishPlan(BaseModel):
    """What ``publish`` uploads and where (printed by ``--dry-run``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    repo_id: str
    """Target dataset repo."""

    url: str
    """The repo's page."""

    tag: str
    """The release tag created on the uploaded commit."""

    private: bool
    """Whether a newly created repo is private (an existing repo keeps its visibility)."""

    token_source: TokenSource | None
    """Where the token comes from (the token itself is never shown); ``None`` when there is none."""

    data_sha256: SHA256
    """Hash of the data being published."""

    commit_message: str
    """The commit's message."""

    files: list[ManifestFile]
    """Every file uploaded (the manifest's list plus ``manifest.json``)."""


class PublishResult(BaseModel):
    """What a publish did."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plan: PublishPlan
    """The plan that was carried out (or, for a dry run, would be)."""

    dry_run: bool
    """Nothing was uploaded."""

    commit_oid: str | None
    """The uploaded commit; ``None`` for a dry run."""


def _find_token() -> tuple[str | None, TokenSource | None]:
    """The Hub token as huggingface_hub finds it, and where it came from (for the plan; never the token)."""
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        return None, None
    if os.environ.get("HF_OIDC_RESOURCE"):
        return token, "OIDC"
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        if (os.environ.get(name) or "").strip() == token:
            return token, name  # type: ignore[return-value]
    return token, "stored login"


def _redact(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


def _make_api(token: str) -> Any:
    from huggingface_hub import HfApi

    return HfApi(token=token, library_name="aipsy-affect", library_version=__version__)


def _print_plan(plan: PublishPlan, echo: Echo, dry_run: bool) -> None:
    echo(f"{'dry run: would publish' if dry_run else 'publishing'} to {plan.url} (dataset repo {plan.repo_id})")
    echo(f"  tag: {plan.tag} on the uploaded commit; new repo visibility: {'private' if plan.private else 'public'}")
    echo(f"  data sha256: {plan.data_sha256}")
    echo(f"  token: {'from ' + plan.token_source if plan.token_source else 'none found (set HF_TOKEN or log in)'}")
    echo(f"  commit message: {plan.commit_message}")
    echo(f"  files ({len(plan.files)}, {sum(f.bytes for f in plan.files)} bytes; remote files not listed are deleted):")
    for f in plan.files:
        echo(f"    {f.path}  {f.bytes} bytes  sha256 {f.sha256[:16]}")


def publish_dataset(
    repo_id: str,
    *,
    tag: str | None = None,
    private: bool = False,
    dry_run: bool = False,
    source: Any = None,
    validation_dir: str | os.PathLike[str] = DEFAULT_VALIDATION_DIR,
    stage_dir: str | os.PathLike[str] | None = None,
    api: Any = None,
    echo: Echo = print,
) -> PublishResult:
    """Export, check the certification, and upload a release to the Hub with ``huggingface_hub``.

    Refuses (``CertificationError``) when ``validation_dir`` has no report, the report failed, or it certifies
    other data (stale) or other items (incomplete). The token comes from ``HF_TOKEN`` or the stored login; it is
    never printed, logged or put in an error message. Operations, in order: ``create_repo`` (exist_ok),
    ``list_repo_refs`` (refuse when the tag exists), ``upload_folder`` (remote files outside the export deleted),
    ``create_tag`` on the uploaded commit. ``api`` replaces ``HfApi(token=...)`` (tests pass a recording double).
    ``stage_dir`` keeps the staged export (default: a temporary folder, removed afterwards).
    """
    from aipsy_affect.battery.release import load_release
    from aipsy_affect.keywords.lexicon import load_lexicon

    if not REPO_ID_PATTERN.fullmatch(repo_id):
        raise ExportError(f"cannot publish: {repo_id!r} is not a Hub repo id (expected org/name)")
    tag = tag or f"v{__version__}"
    if not TAG_PATTERN.fullmatch(tag):
        raise ExportError(f"cannot publish: {tag!r} is not a valid tag name (letters, digits, '._-')")
    release = load_release(source)
    require_own_layout(release, "publish")
    battery, data_hash = release.battery, release.sha256
    cert = load_certification(validation_dir)
    problems = certification_problems(cert, battery, data_hash, load_lexicon().version)
    if problems:
        raise CertificationError(problems)
    token, token_source = _find_token()
    if token is None and not dry_run:
        raise PublishError(NO_TOKEN, refused=True)

    tmp = None if stage_dir is not None else tempfile.mkdtemp(prefix="aipsy-affect-publish-")
    stage = Path(stage_dir) if stage_dir is not None else Path(str(tmp))
    try:
        manifest = export_dataset(
            battery, stage, data_sha256=data_hash, certification=cert, repo_id=repo_id, revision=tag, allow_failed=False
        )
        manifest_bytes = (stage / MANIFEST_NAME).read_bytes()
        files = sorted(
            [
                *manifest.files,
                ManifestFile(path=MANIFEST_NAME, bytes=len(manifest_bytes), sha256=_sha256(manifest_bytes)),
            ],
            key=lambda f: f.path,
        )
        n = len(cert.report.criteria)
        plan = PublishPlan(
            repo_id=repo_id,
            url=f"https://huggingface.co/datasets/{repo_id}",
            tag=tag,
            private=private,
            token_source=token_source,
            data_sha256=data_hash,
            files=files,
            commit_message=f"aipsy-affect {__version__}: data {data_hash[:12]}, certified ({n}/{n} criteria)",
        )
        _print_plan(plan, echo, dry_run)
        if dry_run:
            if token is None:
                echo(f"WARNING: a real publish would fail: {NO_TOKEN}")
            return PublishResult(plan=plan, dry_run=True, commit_oid=None)
        assert token is not None
        client = api if api is not None else _make_api(token)
        step = "create_repo"
        try:
            client.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
            step = "list_repo_refs"
            refs = client.list_repo_refs(repo_id, repo_type="dataset")
            if any(t.name == tag for t in refs.tags):
                raise PublishError(
                    f"tag {tag!r} already exists on {repo_id}: a published release is never moved; "
                    "bump the version or pass --revision",
                    refused=True,
                )
            step = "upload_folder"
            commit = client.upload_folder(
                repo_id=repo_id,
                repo_type="dataset",
                folder_path=str(stage),
                commit_message=plan.commit_message,
                commit_description=f"data_sha256 {data_hash}\nreport_sha256 {cert.report_sha256}",
                delete_patterns="*",
            )
            step = "create_tag"
            client.create_tag(
                repo_id,
                tag=tag,
                revision=commit.oid,
                repo_type="dataset",
                tag_message=f"aipsy-affect {__version__}, data sha256 {data_hash}",
            )
        except PublishError:
            raise
        except Exception as exc:
            message = f"{step} failed: {type(exc).__name__}: {exc}"
            if step == "create_tag":
                message += (
                    f" (the files were uploaded as commit {commit.oid} but are not tagged; rerun publish: "
                    "an unchanged upload is a no-op, then the tag is created)"
                )
            raise PublishError(_redact(message, token), refused=False) from None
        echo(f"published {repo_id} at commit {commit.oid}, tagged {tag}: {plan.url}/tree/{tag}")
        return PublishResult(plan=plan, dry_run=False, commit_oid=str(commit.oid))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
