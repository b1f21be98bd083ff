"""Reading the certification (through the certify models), ``export``/``publish`` on the command line, and the
publish path, tested by asserting the exact operations passed to an autospec'd ``HfApi`` (see docs/hub.md).

Every validation folder here is written by the real ``certify`` (conftest.py); the bad ones are copies of it
with one thing changed, as a careless or hostile hand edit would.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from hub_helpers import REPO, TAG
from hub_helpers import tree as _tree

from aipsy_affect import errors
from aipsy_affect._version import __version__
from aipsy_affect.battery import export_format
from aipsy_affect.battery.export_format import REPO_ID_PATTERN, TAG_PATTERN
from aipsy_affect.battery.sources import load_battery
from aipsy_affect.certify.criteria import CRITERIA
from aipsy_affect.cli.main import main
from aipsy_affect.errors import EXIT_FAIL, EXIT_INPUT, EXIT_OK
from aipsy_affect.hub import certification, publish
from aipsy_affect.hub import export as hexport
from aipsy_affect.keywords.lexicon import load_lexicon

TOKEN = "hf_TESTtokenDoNotPrint0123456789abcdef"


def edited_validation(src: Path, dst: Path, edit_report=None, edit_rows=None) -> Path:
    """A copy of a certify output folder with report.json and/or item_scores.jsonl edited."""
    shutil.copytree(src, dst)
    if edit_report is not None:
        report = json.loads((dst / "report.json").read_text())
        edit_report(report)
        (dst / "report.json").write_text(json.dumps(report, indent=1))
    if edit_rows is not None:
        rows = [json.loads(x) for x in (dst / "item_scores.jsonl").read_text().splitlines()]
        rows = edit_rows(rows)
        (dst / "item_scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return dst


def _criterion(report: dict, name: str) -> dict:
    return next(c for c in report["criteria"] if c["name"] == name)


# --- reading the certification ---------------------------------------------------------------------------------


def test_the_certify_output_is_read_with_the_certify_models(source):
    cert = certification.load_certification(source.validation)
    assert cert.report == source.report  # the very object certify returned, field for field
    assert [c.name for c in cert.report.criteria] == [c.name for c in CRITERIA]
    assert set(cert.scores) == {i.id for i in source.battery.items}
    frame = __import__("aipsy_affect.certify.report", fromlist=["x"]).item_scores_frame(list(cert.scores.values()))
    assert len(frame) == len(source.battery.items) and frame.loc["clin-joy-work-1", "split"] == "clinical"


def test_certification_missing_malformed_stale_incomplete(source, tmp_path):
    lex = load_lexicon().version
    with pytest.raises(errors.CertificationError) as err:
        certification.load_certification(tmp_path / "nothing")
    assert err.value.reason == "missing" and "aipsy-affect certify" in str(err.value)
    assert err.value.exit_code == EXIT_FAIL

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "report.json").write_text("{not json")
    with pytest.raises(errors.CertificationError) as err:
        certification.load_certification(bad)
    assert err.value.reason == "malformed" and err.value.exit_code == EXIT_INPUT

    stale = certification.load_certification(
        edited_validation(source.validation, tmp_path / "stale", lambda r: r.update(data_sha256="0" * 64))
    )
    problems = certification.certification_problems(stale, source.battery, source.data_hash, lex)
    assert [k for k, _ in problems] == ["stale"]
    assert "000000000000" in problems[0][1] and source.data_hash[:12] in problems[0][1]
    assert "data changed after certification" in problems[0][1]

    old_lex = certification.load_certification(
        edited_validation(source.validation, tmp_path / "lex", lambda r: r.update(lexicon_version="0.0.1"))
    )
    assert [k for k, _ in certification.certification_problems(old_lex, source.battery, source.data_hash, lex)] == [
        "stale"
    ]

    def drop_and_move(rows):
        rows = rows[1:]
        rows[0] = {**rows[0], "split": "moderate"}
        return rows

    partial = certification.load_certification(
        edited_validation(source.validation, tmp_path / "partial", edit_rows=drop_and_move)
    )
    problems = certification.certification_problems(partial, source.battery, source.data_hash, lex)
    assert [k for k, _ in problems] == ["incomplete", "incomplete"]
    with pytest.raises(errors.CertificationError) as err:
        hexport.export_dataset(source.battery, tmp_path / "out", data_sha256=source.data_hash, certification=partial)
    assert err.value.reason == "incomplete" and not (tmp_path / "out").exists()

    for name, value in (("nan", float("nan")), ("big", 1.5)):

        def bad_value(rows, value=value):
            rows[0] = {**rows[0], "p_emotional": value}
            return rows

        with pytest.raises(errors.CertificationError) as err:
            certification.load_certification(edited_validation(source.validation, tmp_path / name, edit_rows=bad_value))
        assert err.value.reason == "malformed" and "item_scores.jsonl:1: " in str(err.value)
    assert "p_emotional" in str(err.value)


def _flip_overall(r: dict) -> None:
    r["passed"] = not r["passed"]


def _flip_verdict(r: dict) -> None:
    c = _criterion(r, "top1_clinical_at_most_30pct")
    c["passed"] = not c["passed"]


def _lie_about_value(r: dict) -> None:
    _criterion(r, "lexical_affect_auroc_at_most_095")["value"] = 0.99  # fails the rule, still says passed


def _loosen_threshold(r: dict) -> None:
    c = _criterion(r, "top1_clinical_at_most_30pct")
    c["threshold"], c["value"] = 0.9, 0.8  # passes its own (loosened) rule but not the standard's


def _drop_criterion(r: dict) -> None:
    r["criteria"] = [c for c in r["criteria"] if c["name"] != "lexical_top1_clinical_at_most_50pct"]


def _duplicate_criterion(r: dict) -> None:
    r["criteria"].append(dict(r["criteria"][0]))


def _unknown_criterion(r: dict) -> None:
    r["criteria"].append({**r["criteria"][0], "name": "vibes_ok"})


def _string_verdict(r: dict) -> None:
    _criterion(r, "top1_clinical_at_most_30pct")["passed"] = "yes"


def _string_value(r: dict) -> None:
    _criterion(r, "top1_clinical_at_most_30pct")["value"] = "0.1"


def _string_overall(r: dict) -> None:
    r["passed"] = "true"


def _extra_field(r: dict) -> None:
    r["certified_by"] = "me"


@pytest.mark.parametrize(
    "edit, message",
    [
        (_flip_overall, "says failed overall although every criterion passed"),
        (_flip_verdict, "top1_clinical_at_most_30pct: says failed but value"),
        (_lie_about_value, "lexical_affect_auroc_at_most_095: says passed but value 0.99 does not meet <= 0.95"),
        (_loosen_threshold, "rule <= 0.9 differs from the standard's <= 0.3"),
        (_drop_criterion, "criteria missing (a report from another version of the standard?): lexical_top1"),
        (_duplicate_criterion, "criteria listed more than once: no_forbidden_keywords_in_480"),
        (_unknown_criterion, "criteria this standard does not know: vibes_ok"),
        (_string_verdict, "criteria.3.passed"),
        (_string_value, "criteria.3.value"),
        (_string_overall, "passed"),
        (_extra_field, "certified_by"),
    ],
)
def test_publish_recomputes_every_verdict_and_refuses_a_report_that_disagrees(source, tmp_path, capsys, edit, message):
    folder = edited_validation(source.validation, tmp_path / "val", edit)
    with pytest.raises(errors.CertificationError) as err:
        certification.load_certification(folder)
    assert err.value.reason == "malformed" and message in str(err.value)
    for argv in (["publish", REPO, "--dry-run"], ["export", str(tmp_path / "out")]):
        assert main([*argv, "--source", str(source.data), "--validation", str(folder)]) == EXIT_INPUT
        assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --- CLI: export -------------------------------------------------------------------------------------------


def test_cli_export_matches_the_api_and_refuses_stale_reports(source, exported, tmp_path, capsys):
    out = tmp_path / "cli"
    rc = main(
        [
            "export",
            str(out),
            "--source",
            str(source.data),
            "--validation",
            str(source.validation),
            "--repo-id",
            REPO,
            "--revision",
            TAG,
        ]
    )
    assert rc == EXIT_OK, capsys.readouterr().err
    assert _tree(out) == _tree(exported.dir)
    assert (
        "passed; clinical 192, neutral 192, moderate 48, complex_neutral 48, keyword_twins 192"
        in capsys.readouterr().out
    )
    rc = main(
        [
            "export",
            str(tmp_path / "quiet"),
            "--source",
            str(source.data),
            "--validation",
            str(source.validation),
            "--quiet",
        ]
    )
    assert rc == EXIT_OK and capsys.readouterr() == ("", "")

    stale = edited_validation(source.validation, tmp_path / "stale", lambda r: r.update(data_sha256="f" * 64))
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
    (tmp_path / "file").write_text("x")
    rc = main(["export", str(tmp_path / "file"), "--source", str(source.data), "--uncertified"])
    assert rc == EXIT_INPUT and "exists and is not a directory" in capsys.readouterr().err


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
    result = publish.publish_dataset(
        REPO, tag=TAG, source=source.data, validation_dir=source.validation, api=api, stage_dir=tmp_path / "stage"
    )
    commit = "c0ffee" + "0" * 34
    assert api.method_calls == [
        mock.call.create_repo(REPO, repo_type="dataset", private=False, exist_ok=True),
        mock.call.list_repo_refs(REPO, repo_type="dataset"),
        mock.call.upload_folder(
            repo_id=REPO,
            repo_type="dataset",
            folder_path=str(tmp_path / "stage"),
            commit_message=f"aipsy-affect {__version__}: data {source.data_hash[:12]}, certified (11/11 criteria)",
            commit_description=f"data_sha256 {source.data_hash}\nreport_sha256 {exported.cert.report_sha256}",
            delete_patterns="*",
        ),
        mock.call.create_tag(
            REPO,
            tag=TAG,
            revision=commit,
            repo_type="dataset",
            tag_message=f"aipsy-affect {__version__}, data sha256 {source.data_hash}",
        ),
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
    assert "a real publish would fail" not in out.out + out.err
    assert TOKEN not in out.out + out.err + caplog.text


def test_publish_dry_run_never_deletes_what_a_crafted_stage_manifest_names(
    source, exported, hf_token, tmp_path, capsys
):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    stage = tmp_path / "stage"
    shutil.copytree(exported.dir, stage)
    manifest = json.loads((stage / "manifest.json").read_text())
    manifest["files"] += [
        {"path": "../victim.txt", "bytes": 7, "sha256": "0" * 64},
        {"path": str(victim), "bytes": 7, "sha256": "0" * 64},
    ]
    (stage / "manifest.json").write_text(json.dumps(manifest))
    rc = main(
        [
            "publish",
            REPO,
            "--dry-run",
            "--stage",
            str(stage),
            "--source",
            str(source.data),
            "--validation",
            str(source.validation),
        ]
    )
    assert rc == EXIT_INPUT and "lists files an export never writes" in capsys.readouterr().err
    assert victim.read_text() == "keep me"


@pytest.mark.parametrize(
    "case, reason",
    [("stale", "stale: "), ("failed", "failed: "), ("missing", "missing: "), ("incomplete", "incomplete: ")],
)
def test_publish_refuses_uncertified_data_and_names_the_reason(
    source, tmp_path, monkeypatch, capsys, hf_token, case, reason
):
    monkeypatch.setattr(publish, "_make_api", mock.Mock(side_effect=AssertionError("must not reach the Hub")))
    folder = tmp_path / "val"
    if case == "stale":
        edited_validation(source.validation, folder, lambda r: r.update(data_sha256="1" * 64))
    elif case == "failed":
        folder = source.failed
    elif case == "incomplete":
        edited_validation(source.validation, folder, edit_rows=lambda rows: rows[:-3])
    for extra in ([], ["--dry-run"]):
        rc = main(["publish", REPO, *extra, "--source", str(source.data), "--validation", str(folder)])
        err = capsys.readouterr().err
        assert rc == EXIT_FAIL and "refusing to publish:" in err and f"aipsy-affect: {reason}" in err


def test_publish_refuses_when_the_data_changed_after_certification(source, tmp_path, capsys, hf_token):
    changed = tmp_path / "data"
    shutil.copytree(source.data, changed)
    path = changed / "complex_neutral.jsonl"
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    first["text"] += " Then the bus came."
    path.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
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
    assert rc == errors.EXIT_ENVIRONMENT
    assert "publish failed:" in out.err
    assert "create_tag failed: RuntimeError: 401 Unauthorized for Authorization: Bearer ***" in out.err
    assert "uploaded as commit c0ffee" in out.err
    assert TOKEN not in out.out + out.err + caplog.text


def test_publish_without_a_token_is_refused_and_a_dry_run_says_so(source, monkeypatch, tmp_path, capsys):
    from huggingface_hub import constants

    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(publish, "_make_api", mock.Mock(side_effect=AssertionError("must not reach the Hub")))
    rc = main(["publish", REPO, "--source", str(source.data), "--validation", str(source.validation)])
    assert rc == EXIT_FAIL and "no Hugging Face token" in capsys.readouterr().err
    rc = main(["publish", REPO, "--dry-run", "--source", str(source.data), "--validation", str(source.validation)])
    out = capsys.readouterr().out
    assert rc == EXIT_OK and "token: none found" in out
    assert "WARNING: a real publish would fail: no Hugging Face token" in out


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


def test_repo_ids_and_tags_must_match_in_full():
    for ok in ("org/name", "a-b/c.d_e"):
        assert REPO_ID_PATTERN.fullmatch(ok)
    for bad in ("org/name\n", "org/name\r\n", "\norg/name", "org/name ", "org/na\nme", "org/name/x", "org"):
        assert not REPO_ID_PATTERN.fullmatch(bad), repr(bad)
    assert TAG_PATTERN.fullmatch("v1.0.0")
    for bad in ("v1.0.0\n", "v1\n0", "../main", " v1"):
        assert not TAG_PATTERN.fullmatch(bad), repr(bad)


@pytest.mark.parametrize(
    "argv",
    [
        ["publish", "no-slash", "--dry-run"],
        ["publish", "a/b; rm -rf", "--dry-run"],
        ["publish", REPO, "--dry-run", "--revision", "../main"],
        ["publish", f"{REPO}\n", "--dry-run"],
        ["publish", REPO, "--dry-run", "--revision", f"{TAG}\n"],
        ["export", "OUT", "--repo-id", f"{REPO}\n"],
        ["export", "OUT", "--revision", f"{TAG}\n"],
    ],
)
def test_bad_repo_ids_and_tags_are_bad_input(source, capsys, hf_token, tmp_path, argv):
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    rc = main([*argv, "--source", str(source.data), "--validation", str(source.validation)])
    err = capsys.readouterr().err
    assert rc == EXIT_INPUT and ("is not a Hub repo id" in err or "is not a valid tag name" in err)
    assert not (tmp_path / "out").exists()


def test_the_repository_certification_fits_the_hub_contract():
    """The report `aipsy-affect certify` wrote into validation/ parses with the certify models and its item scores
    cover the packaged battery exactly (whether it passed, and whether it is current, is publish's business)."""
    folder = Path(__file__).resolve().parents[2] / "validation"
    if not (folder / "report.json").is_file():
        pytest.skip("validation/report.json has not been written yet (run `aipsy-affect certify`)")
    cert = certification.load_certification(folder)
    battery = load_battery()
    problems = certification.certification_problems(cert, battery, cert.report.data_sha256, cert.report.lexicon_version)
    assert [p for p in problems if p[0] == "incomplete"] == []
    assert len(cert.scores) == len(battery.items) and len(cert.report.criteria) == len(CRITERIA)


def test_wheel_ships_the_card_template(installed_wheel, tmp_path):
    """`export` from an installed wheel needs CARD.md: the wheel carries it inside the package."""
    import zipfile

    from installed import run_installed

    wheel, site = installed_wheel
    assert "aipsy_affect/CARD.md" in zipfile.ZipFile(wheel).namelist()
    code = (
        "import sys; import aipsy_affect.render.card as h; assert 'site' in h.__file__, h.__file__; "
        "print(h.card_template() == open(sys.argv[1], encoding='utf-8').read())"
    )
    out = run_installed(site, code, str(Path(__file__).resolve().parents[2] / "CARD.md"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"
