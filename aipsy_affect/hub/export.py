"""A deterministic Hub-ready export of the battery (parquet configs, card, manifest)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any, Literal, cast

from pydantic import ValidationError

from aipsy_affect._version import __version__
from aipsy_affect.battery.export_format import (
    CONFIGS,
    EXPORT_FORMAT_VERSION,
    MANIFEST_NAME,
    OUR_COLUMNS,
    PARQUET_OPTIONS,
    PUBLIC_COLUMNS,
    REPO_ID_PATTERN,
    SCORE_COLUMNS,
    TAG_PATTERN,
    TWINS_CONFIG,
    ExportManifest,
    ManifestFile,
    _sha256,
    export_features,
)
from aipsy_affect.battery.io import write_atomic
from aipsy_affect.battery.release import Release
from aipsy_affect.battery.schema import MAIN_SPLITS, SPLITS, Battery
from aipsy_affect.errors import CertificationError, ExportError
from aipsy_affect.hub.card import card_header
from aipsy_affect.hub.certification import DEFAULT_REPO_ID, VALIDATION_FILES, Certification, certification_problems
from aipsy_affect.norms.packaged import norms_bytes
from aipsy_affect.render.card import render_card

#: Every path an export can hold besides the manifest; a previous export's file is removed only when it matches.
_EXPORT_PATH = re.compile(
    r"README\.md|data/(?:" + "|".join(map(re.escape, SPLITS)) + r")\.parquet"
    r"|validation/(?:" + "|".join(map(re.escape, VALIDATION_FILES)) + r"|[A-Za-z0-9][A-Za-z0-9_.-]*\.png)"
    r"|norms/norms\.jsonl"
)


def require_own_layout(release: Release, what: str) -> None:
    """Refuse a battery in another layout: the export and its card describe this battery's design (pairs, twins,
    crossing) and certification, which an external battery does not have."""
    if release.layout != "aipsy-affect":
        raise ExportError(
            f"{what} writes batteries in the aipsy-affect layout only; {release.source} is in the "
            f"{release.layout!r} layout (audit or certify it with --source instead)"
        )


def _rows(battery: Battery, split: str, cert: Certification | None) -> list[dict[str, Any]]:
    rows = []
    for item in battery.split(split):
        data = item.model_dump(mode="json")
        score = cert.scores[item.id].model_dump() if cert is not None else {}
        derived = {"label": battery.label_index(item), "pair_emotion": battery.pair_emotion(item)}
        rows.append(
            {name: data[name] for name in PUBLIC_COLUMNS + OUR_COLUMNS}
            | derived
            | {name: score.get(name) for name in SCORE_COLUMNS}
        )
    return rows


def _parquet_bytes(table: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=max(table.num_rows, 1), **PARQUET_OPTIONS)
    return bytes(sink.getvalue().to_pybytes())


# --- export --------------------------------------------------------------------------------------


def _no_alias_dumper() -> Any:
    import yaml

    class NoAliasDumper(yaml.SafeDumper):
        # Both configs share one feature list; spell it out twice rather than as a YAML anchor and alias,
        # which some card parsers do not resolve.
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return NoAliasDumper


def _exporter_path(out_dir: Path, path: str) -> bool:
    """Whether ``path`` (from a manifest) is one the exporter writes, inside ``out_dir`` once links are resolved."""
    parts = PurePosixPath(path).parts
    if not _EXPORT_PATH.fullmatch(path) or ".." in parts or "\\" in path:
        return False
    root = out_dir.resolve()
    return (out_dir / path).parent.resolve().is_relative_to(root)


def _prepare_out_dir(out_dir: Path) -> set[str]:
    """Files a previous export left (to be replaced); refuse a non-empty folder that is not an export, and a
    manifest naming any path the exporter would not write (``..``, absolute, elsewhere): nothing is deleted then."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} exists and is not a directory")
    if not out_dir.exists():
        return set()
    entries = [p for p in out_dir.iterdir() if not p.name.startswith(".")]
    if not entries:
        return set()
    manifest = out_dir / MANIFEST_NAME
    if not manifest.is_file():
        raise ExportError(
            f"{out_dir} is not empty and holds no previous export ({MANIFEST_NAME}): choose an empty or new directory"
        )
    try:
        previous = ExportManifest.model_validate_json(manifest.read_bytes())
    except (ValidationError, OSError):
        raise ExportError(
            f"{manifest} is not a valid export manifest: remove the directory or choose another"
        ) from None
    foreign = sorted(f.path for f in previous.files if not _exporter_path(out_dir, f.path))
    if foreign:
        raise ExportError(
            f"{manifest} lists files an export never writes ({', '.join(map(repr, foreign[:5]))}): "
            "refusing to replace it; remove the directory or choose another"
        )
    return {f.path for f in previous.files}


def export_dataset(
    battery: Battery,
    out_dir: str | os.PathLike[str],
    *,
    data_sha256: str,
    certification: Certification | None,
    repo_id: str = DEFAULT_REPO_ID,
    revision: str | None = None,
    allow_failed: bool = True,
) -> ExportManifest:
    """Write a Hub-ready dataset repository for ``battery`` into ``out_dir``; return its manifest.

    ``data_sha256`` is the hash of the data ``battery`` was read from (``aipsy_affect.data_sha256(source)``).
    ``certification`` (see ``load_certification``) supplies the per-item columns and the card's validation table;
    it must certify exactly this data (else ``CertificationError``: stale or incomplete). ``None`` writes an
    uncertified export whose certification columns are null. A failed certification is exported (the card says
    so) unless ``allow_failed`` is false. ``revision`` defaults to ``v<package version>``.

    ``out_dir`` must be empty, new, or a previous export (whose files are replaced; files it listed that the new
    export does not write are removed). Dot-files (``.git``, ``.gitattributes``) are left alone.
    """
    import datasets
    import pyarrow as pa
    import yaml

    from aipsy_affect.keywords.lexicon import load_lexicon

    out_dir = Path(out_dir)
    revision = revision or f"v{__version__}"
    if not REPO_ID_PATTERN.fullmatch(repo_id):
        raise ExportError(f"{repo_id!r} is not a Hub repo id (expected org/name)")
    if not TAG_PATTERN.fullmatch(revision):
        raise ExportError(f"{revision!r} is not a valid tag name (letters, digits, '._-')")
    lexicon_version = load_lexicon().version
    if certification is not None:
        problems = certification_problems(certification, battery, data_sha256, lexicon_version)
        blocking = [p for p in problems if p[0] != "failed" or not allow_failed]
        if blocking:
            raise CertificationError(blocking)
    previous = _prepare_out_dir(out_dir)
    norms = norms_bytes(data_sha256)

    features = export_features()
    files: dict[str, bytes] = {}
    split_bytes: dict[str, tuple[int, int]] = {}
    for name in (*MAIN_SPLITS, TWINS_CONFIG):
        table = pa.Table.from_pylist(_rows(battery, name, certification), schema=features.arrow_schema)
        data = _parquet_bytes(table)
        files[f"data/{name}.parquet"] = data
        split_bytes[name] = (table.nbytes, len(data))

    header = yaml.dump(
        card_header(battery, split_bytes, norms=norms is not None),
        Dumper=_no_alias_dumper(),
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    body = render_card(
        battery,
        report=certification.report if certification is not None else None,
        data_sha256=data_sha256,
        lexicon_version=lexicon_version,
        repo_id=repo_id,
        revision=revision,
        version=__version__,
    )
    files["README.md"] = f"---\n{header}---\n\n{body.lstrip()}".encode()
    if norms is not None:
        files["norms/norms.jsonl"] = norms
    if certification is not None:
        for name in VALIDATION_FILES:
            src = certification.folder / name
            if src.is_file():
                files[f"validation/{name}"] = src.read_bytes()
        # The figures the report names, and only names an export may hold (a re-export must accept its own tree).
        for name in sorted(certification.report.figures.values()):
            src = certification.folder / name
            if src.is_file() and _EXPORT_PATH.fullmatch(f"validation/{name}"):
                files[f"validation/{name}"] = src.read_bytes()

    manifest = ExportManifest(
        format_version=cast(Literal[1], EXPORT_FORMAT_VERSION),
        package_version=__version__,
        data_sha256=data_sha256,
        lexicon_version=lexicon_version,
        repo_id=repo_id,
        revision=revision,
        certification=(
            "uncertified" if certification is None else "passed" if certification.report.passed else "failed"
        ),
        report_sha256=certification.report_sha256 if certification is not None else None,
        library_versions={"pyarrow": pa.__version__, "datasets": datasets.__version__, "PyYAML": yaml.__version__},
        splits={config: {s: len(battery.split(s)) for s in splits} for config, splits in CONFIGS.items()},
        files=[ManifestFile(path=p, bytes=len(b), sha256=_sha256(b)) for p, b in sorted(files.items())],
    )
    try:
        for rel, data in sorted(files.items()):
            write_atomic(out_dir / rel, data)
        for stale in sorted(previous - set(files)):
            path = out_dir / stale
            if path.is_file() or path.is_symlink():
                path.unlink()
        # The manifest goes last: a crash mid-export leaves no manifest vouching for a half-written tree.
        write_atomic(
            out_dir / MANIFEST_NAME, json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
        )
    except OSError as exc:
        raise ExportError(f"cannot write the export into {out_dir}: {exc}") from None
    return manifest
