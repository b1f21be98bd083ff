"""Hub export, dataset card and loading from anywhere (aipsy_affect.hub.export, render.card, battery ``source=``).

Everything runs offline on the synthetic full-size battery, certified by the real ``certify`` (see conftest.py):
the export and the card read exactly the report.json and item_scores.jsonl that certify writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from hub_helpers import REPO, TAG
from hub_helpers import tree as _tree

from aipsy_affect import errors
from aipsy_affect.battery import export_format
from aipsy_affect.battery.io import InputErrors
from aipsy_affect.battery.schema import EMOTIONS, MAIN_SPLITS, Battery, StimulusItem
from aipsy_affect.battery.sources import data_sha256, load_battery, load_split, resolve_source
from aipsy_affect.certify.report import read_item_scores
from aipsy_affect.certify.run import FIGURES, keyword_report
from aipsy_affect.hub import certification
from aipsy_affect.hub import export as hexport
from aipsy_affect.keywords.lexicon import load_lexicon
from aipsy_affect.render import card

# --- fixtures -------------------------------------------------------------------------------------


def _front_matter(readme: str) -> tuple[dict, str]:
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", readme, re.S)
    assert match, "README.md must start with a YAML front matter block"
    return yaml.safe_load(match.group(1)), match.group(2)


# --- export: layout and determinism ---------------------------------------------------------------------


def test_export_is_byte_identical_across_runs(source, exported, tmp_path):
    cert = certification.load_certification(source.validation)
    again = tmp_path / "again"
    hexport.export_dataset(
        source.battery, again, data_sha256=source.data_hash, certification=cert, repo_id=REPO, revision=TAG
    )
    first = _tree(exported.dir)
    assert _tree(again) == first
    # Exporting over a previous export rewrites it to the same bytes.
    hexport.export_dataset(
        source.battery, again, data_sha256=source.data_hash, certification=cert, repo_id=REPO, revision=TAG
    )
    assert _tree(again) == first


def test_export_layout_and_manifest(exported):
    tree = _tree(exported.dir)
    assert set(tree) == {
        "README.md",
        "manifest.json",
        "validation/report.json",
        "validation/REPORT.md",
        *(f"validation/{name}" for name in FIGURES.values()),
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
    assert manifest["splits"] == {
        "default": {"clinical": 192, "neutral": 192, "moderate": 48, "complex_neutral": 48},
        "keyword_twins": {"keyword_twins": 192},
    }
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
        "clinical": 192,
        "neutral": 192,
        "moderate": 48,
        "complex_neutral": 48,
    }
    for split in ds.values():
        assert tuple(split.column_names[: len(export_format.PUBLIC_COLUMNS)]) == export_format.PUBLIC_COLUMNS
        assert split.features == export_format.export_features()
    row = ds["neutral"][0]
    assert row["emotion"] is None and row["intensity"] == "none" and row["matched_control_id"].startswith("clin-")
    assert row["word_count"] == len(row["text"].split())
    # label: a ClassLabel in EMOTIONS order with none last; pair_emotion: the neutral's vignette's emotion.
    names = ds["clinical"].features["label"].names
    assert names == [*EMOTIONS, "none"]
    vignettes = {r["id"]: r["emotion"] for r in ds["clinical"]}
    assert all(names[r["label"]] == r["emotion"] and r["pair_emotion"] == r["emotion"] for r in ds["clinical"])
    assert all(
        names[r["label"]] == "none" and r["pair_emotion"] == vignettes[r["matched_control_id"]] for r in ds["neutral"]
    )
    assert all(r["pair_emotion"] is None for r in ds["complex_neutral"])
    twins = datasets.load_dataset(str(exported.dir), "keyword_twins", cache_dir=str(tmp_path / "cache"))
    assert list(twins) == ["keyword_twins"] and twins["keyword_twins"].num_rows == 192
    # The certification columns carry item_scores.jsonl, item by item.
    expected = {r.id: r.model_dump() for r in read_item_scores(exported.cert.folder / "item_scores.jsonl")}
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
        "clinical": 192,
        "neutral": 192,
        "moderate": 48,
        "complex_neutral": 48,
    }
    assert [f["name"] for f in infos["keyword_twins"]["features"]] == list(export_format.EXPORT_COLUMNS)
    sizes = {f.path: f.bytes for f in exported.manifest.files}
    assert infos["default"]["download_size"] == sum(sizes[f"data/{s}.parquet"] for s in MAIN_SPLITS)
    card = DatasetCard.load(exported.dir / "README.md")  # the Hub's own parser accepts the metadata
    assert card.data.license == "mit"


def test_card_is_filled_honest_and_complete(exported):
    _, body = _front_matter((exported.dir / "README.md").read_text(encoding="utf-8"))
    assert "{{" not in body.replace("{{{", "").replace("{{AIPsy", "").replace("{{aipsy-affect developers}}", "")
    for heading in (
        "Quick start",
        "Motivation",
        "Composition",
        "The fully crossed design",
        "Authoring and review",
        "The keyword-free guarantee and its limits",
        "Validation",
        "Intended uses",
        "Out-of-scope uses",
        "License",
        "Citation",
    ):
        assert re.search(rf"^#+ {re.escape(heading)}", body, re.M), heading
    # The authoring section says plainly how the texts were made, and what was not done.
    assert "drafted with the assistance of large language\nmodels" in body
    assert "checked by blinded\n**language-model** raters" in body and "not by human judges or clinicians" in body
    assert "Content warning" in body.split("## Quick start")[0]
    for required in (
        "### Example record",
        "## Normative ratings",
        "Curators",
        "Contact",
        "arXiv:2604.23719",
        "arXiv:2603.22295",
        "eprint        = {2604.23719}",
    ):
        assert required in body, required
    for limit in ("Situational vocabulary remains", "English only", "Third person, past tense", "Cultural frame"):
        assert limit in body
    assert "**MIT License**" in body and "**free for research use only**" in body
    for cite in (
        "Plutchik, R. (1980)",
        "Hutto, C. J., & Gilbert, E. (2014)",
        "Mohammad, S. M., & Turney, P. D. (2013)",
        "Reimers, N., & Gurevych, I. (2019)",
    ):
        assert cite in body
    assert "@misc{aipsy_affect_" + TAG.replace(".", "_") + "," in body and exported.manifest.data_sha256 in body


def test_quick_start_runs(source, tmp_path, monkeypatch):
    """Run the card's Quick Start blocks: the aipsy_affect block verbatim against a local Hub cache holding the
    release; the datasets block with the repo id pointed at the same files (datasets cannot read a Hub cache
    offline), every other line unchanged."""
    import datasets
    from huggingface_hub import constants

    cert = certification.load_certification(source.validation)
    repo = tmp_path / "repo"
    hexport.export_dataset(
        source.battery, repo, data_sha256=source.data_hash, certification=cert, repo_id=REPO, revision=TAG
    )
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
    with pytest.raises(FileNotFoundError, match=r"v9\.9\.9"):
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
    with pytest.raises(errors.ExportError, match=r"does not match manifest\.json"):
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


def test_validation_table_comes_from_report_json(exported, source):
    _, body = _front_matter((exported.dir / "README.md").read_text(encoding="utf-8"))
    report = json.loads((source.validation / "report.json").read_text())
    assert len(report["criteria"]) == 11
    for criterion in report["criteria"]:
        assert f"| `{criterion['name']}` | {criterion['description']} | " in body
    assert (
        "| `top1_twins_at_least_75pct` | classifier top-1 accuracy (top emotion) on the keyword twins | 1.000 | "
        ">= 0.750 | pass |"
    ) in body
    assert "| `length_mean_difference` | mean paired word-count difference, clinical minus matched neutral |" in body
    assert "\\|x\\|<= 2.000 | pass |" in body
    assert "**Certified:** all 11 criteria passed." in body
    # Per-split means: the report's summaries, which agree with the item scores that fill the columns.
    rows = {r.id: r for r in read_item_scores(source.validation / "item_scores.jsonl")}
    p = [rows[i.id].p_emotional for i in source.battery.split("clinical")]
    assert "| `clinical` | 192 | " in body and f"| {sum(p) / len(p):.4f} | 0.0% |" in body
    assert "| `keyword_twins` | 192 |" in body and "| 100.0% |" in body
    top1 = report["lexical"]["accuracy"]["clinical"]["accuracy"]
    context = card.card_context(
        source.battery,
        report=exported.cert.report,
        data_sha256=source.data_hash,
        lexicon_version="x",
        repo_id=REPO,
        revision=TAG,
        version="0",
    )
    assert f"names the emotion of {100 * top1:.1f}% of the clinical vignettes" in context["lexical_summary"]


def test_the_card_reads_figures_from_the_report_and_never_recomputes_them(source, exported):
    """Change figures in the report only: the card follows the report, not the battery."""
    report = exported.cert.report
    kw = report.keywords.model_copy(
        update={
            "forbidden_in_480": 3,
            "forbidden_by_split": {"neutral": 3},
            "expressive_items_by_split": {"clinical": 7},
        }
    )
    edited = report.model_copy(
        update={
            "length": report.length.model_copy(update={"mean_diff": 1.2345, "n_pairs": 191}),
            "keywords": kw,
            "summaries": {
                **report.summaries,
                "p_emotional": {
                    **report.summaries["p_emotional"],
                    "moderate": report.summaries["p_emotional"]["moderate"].model_copy(update={"mean": 0.98765}),
                },
            },
        }
    )
    context = card.card_context(
        source.battery,
        report=edited,
        data_sha256=source.data_hash,
        lexicon_version=load_lexicon().version,
        repo_id=REPO,
        revision=TAG,
        version="0",
    )
    assert context["length_summary"].startswith("Across the 191 clinical/neutral pairs")
    assert "+1.23 words" in context["length_summary"]
    assert context["keyword_verdict"].startswith("**Warning:** the screen finds 3 forbidden keyword(s): 3 in neutral")
    assert "| `clinical` | 192 | 7 |" in context["expressive_table"]
    assert "| 0.9877 |" in context["split_scores_table"]
    none = card.card_context(
        source.battery,
        report=None,
        data_sha256=source.data_hash,
        lexicon_version="x",
        repo_id=REPO,
        revision=TAG,
        version="0",
    )
    assert "No certification report" in none["length_summary"] and "No certification report" in none["keyword_verdict"]


def _battery(records: dict[str, list[dict]]) -> Battery:
    return Battery(items=tuple(StimulusItem.model_validate(r) for rows in records.values() for r in rows))


def test_expressive_words_are_counted_and_the_card_adapts(source, exported, synthetic_battery_records):
    def screen_context(records: dict[str, list[dict]]) -> dict[str, str]:
        report = exported.cert.report.model_copy(update={"keywords": keyword_report(_battery(records))})
        return card._screen_context(report)

    ctx = screen_context(synthetic_battery_records)
    assert "none was found" in ctx["expressive_summary"] and "| `clinical` | 192 | 0 |" in ctx["expressive_table"]
    records = json.loads(json.dumps(synthetic_battery_records))
    first = records["complex_neutral"][0]
    first["text"] = first["text"].replace(" saw ", " smiled and saw ", 1)
    ctx = screen_context(records)
    assert "rare but not absent" in ctx["expressive_summary"]
    assert "| `complex_neutral` | 48 | 1 |" in ctx["expressive_table"]
    assert "Most frequent expressive words: smiled (1)." in ctx["expressive_table"]
    assert "**no** forbidden" in ctx["keyword_verdict"]
    first["text"] = first["text"].replace(" smiled and saw ", " was furious and saw ", 1)
    ctx = screen_context(records)
    assert ctx["keyword_verdict"].startswith(
        "**Warning:** the screen finds 1 forbidden keyword(s): 1 in complex_neutral"
    )


def test_failed_certification_is_exported_honestly_but_blocks_when_asked(source, tmp_path):
    cert = certification.load_certification(source.failed)
    manifest = hexport.export_dataset(source.battery, tmp_path / "x", data_sha256=source.data_hash, certification=cert)
    assert manifest.certification == "failed"
    body = (tmp_path / "x" / "README.md").read_text()
    assert "**Certification FAILED:** 1 of 11 criteria did not pass" in body
    assert re.search(r"\| `top1_clinical_at_most_30pct` \| [^\n]* \| 1\.000 \| <= 0\.300 \| \*\*FAIL\*\* \|", body)
    with pytest.raises(errors.CertificationError) as err:
        hexport.export_dataset(
            source.battery, tmp_path / "y", data_sha256=source.data_hash, certification=cert, allow_failed=False
        )
    assert err.value.reason == "failed"


def test_card_template_is_jinja_and_every_name_is_defined(source, exported, monkeypatch):
    import jinja2.meta

    from aipsy_affect.render.templates import environment

    context = card.card_context(
        source.battery,
        report=exported.cert.report,
        data_sha256=source.data_hash,
        lexicon_version=load_lexicon().version,
        repo_id=REPO,
        revision=TAG,
        version="0",
    )
    names = jinja2.meta.find_undeclared_variables(environment().parse(card.card_template()))
    assert len(names) > 15 and names <= set(context)
    # StrictUndefined: a name the context lacks is an export error naming CARD.md, never an empty string.
    monkeypatch.setattr(card, "card_template", lambda: "a {{ nope }} b")
    with pytest.raises(errors.ExportError, match=r"CARD\.md: 'nope' is undefined"):
        card.render_card(
            source.battery,
            report=None,
            data_sha256=source.data_hash,
            lexicon_version="x",
            repo_id=REPO,
            revision=TAG,
            version="0",
        )
    monkeypatch.setattr(card, "card_template", lambda: "line one\n{{ oops( }}")
    with pytest.raises(errors.ExportError, match=r"CARD\.md line 2"):
        card.render_card(
            source.battery,
            report=None,
            data_sha256=source.data_hash,
            lexicon_version="x",
            repo_id=REPO,
            revision=TAG,
            version="0",
        )


# --- export hardening: a previous export's manifest decides nothing outside DIR ---------------------------------


@pytest.mark.parametrize(
    "bad_path",
    ["../victim.txt", "ABSOLUTE", "data/../../victim.txt", "notes.txt", "data/clinical.parquet/../../../victim.txt"],
)
def test_export_never_deletes_what_a_crafted_manifest_names(source, exported, tmp_path, bad_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    target = tmp_path / "repo"
    shutil.copytree(exported.dir, target)
    manifest = json.loads((target / "manifest.json").read_text())
    path = str(victim) if bad_path == "ABSOLUTE" else bad_path
    manifest["files"].append({"path": path, "bytes": 7, "sha256": "0" * 64})
    (target / "manifest.json").write_text(json.dumps(manifest))
    (target / "notes.txt").write_text("mine")
    with pytest.raises(errors.ExportError, match="lists files an export never writes"):
        hexport.export_dataset(source.battery, target, data_sha256=source.data_hash, certification=None)
    assert victim.read_text() == "keep me" and (target / "notes.txt").read_text() == "mine"
    assert (target / "data" / "clinical.parquet").is_file()  # refused before writing or removing anything


def test_export_never_deletes_through_a_symlinked_folder(source, exported, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "report.json").write_text("not the export's")
    target = tmp_path / "repo"
    shutil.copytree(exported.dir, target)
    shutil.rmtree(target / "validation")
    (target / "validation").symlink_to(outside, target_is_directory=True)
    with pytest.raises(errors.ExportError, match="lists files an export never writes"):
        hexport.export_dataset(source.battery, target, data_sha256=source.data_hash, certification=None)
    assert (outside / "report.json").read_text() == "not the export's"


def test_export_cli_with_a_crafted_manifest_exits_2(source, exported, tmp_path, capsys):
    from aipsy_affect.cli.main import main

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    target = tmp_path / "repo"
    shutil.copytree(exported.dir, target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["files"].append({"path": "../victim.txt", "bytes": 7, "sha256": "0" * 64})
    (target / "manifest.json").write_text(json.dumps(manifest))
    assert main(["export", str(target), "--source", str(source.data), "--uncertified", "--quiet"]) == 2
    assert "'../victim.txt'" in capsys.readouterr().err and victim.exists()
