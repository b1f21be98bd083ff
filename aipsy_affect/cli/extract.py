"""``aipsy-affect extract`` (pooled states to safetensors) and ``aipsy-affect directions`` (steering vectors)."""

from __future__ import annotations

import argparse
import sys

from aipsy_affect.cli.common import EXIT_INPUT, EXIT_OK
from aipsy_affect.cli.probe import add_model_options, build_config, model_settings, progress_log


def _add_extract_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "extract",
        help="pooled hidden states of every battery item, written to a safetensors file",
        description="Write one tensor 'states' shaped (layers, items, hidden), float32, and metadata (ids as a JSON "
        "list in item order, splits, emotions, layers, model id and revision, pooling, prompt, chat "
        "template, backend, dtype, dataset hash). Uses the probe's extraction and activation cache. "
        "Exit 0 on success, 1 when the model run fails, 2 for bad options or a model that cannot be "
        "found. Details: docs/steering.md.",
    )
    add_model_options(p)
    p.add_argument("--out", required=True, metavar="ACTS.safetensors", help="where to write (atomically)")
    p.set_defaults(func=_cmd_extract)


def _add_directions_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "directions",
        help="per-layer affect and per-emotion steering directions (difference in means over all matched pairs)",
        description="Write 'affect' (layers, hidden) = mean over the 192 matched pairs of (vignette state - neutral "
        "state), and 'emotions' (layers, 8, hidden) = the same mean within each emotion, with "
        "metadata, to a safetensors file. Exit codes as for extract. Details: docs/steering.md.",
    )
    add_model_options(p)
    p.add_argument("--out", required=True, metavar="DIRS.safetensors", help="where to write (atomically)")
    p.set_defaults(func=_cmd_directions)


def _cmd_extract(args: argparse.Namespace) -> int:
    from aipsy_affect.probe.activations import extract_activations, save_activations
    from aipsy_affect.probe.config import ExtractConfig

    config = build_config(ExtractConfig, model_settings(args), args.layers)
    if config is None:
        return EXIT_INPUT
    acts = extract_activations(config, log=progress_log(args.quiet, "extract"), progress=not args.quiet)
    save_activations(acts, args.out)
    if not args.quiet:
        layers, items, hidden = acts.states.shape
        print(
            f"[extract] wrote {args.out}: states ({layers}, {items}, {hidden}) for layers {acts.layers}",
            file=sys.stderr,
        )
    return EXIT_OK


def _cmd_directions(args: argparse.Namespace) -> int:
    from aipsy_affect.probe.activations import extract_activations
    from aipsy_affect.probe.config import ExtractConfig
    from aipsy_affect.probe.directions import fit_directions, save_directions

    config = build_config(ExtractConfig, model_settings(args), args.layers)
    if config is None:
        return EXIT_INPUT
    acts = extract_activations(config, log=progress_log(args.quiet, "directions"), progress=not args.quiet)
    directions = fit_directions(acts)
    save_directions(directions, args.out)
    if not args.quiet:
        print(
            f"[directions] wrote {args.out}: affect {tuple(directions.affect.shape)}, emotions "
            f"{tuple(directions.emotions.shape)} from {directions.n_pairs} pairs",
            file=sys.stderr,
        )
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``aipsy-affect`` parser."""
    _add_extract_parser(sub)
    _add_directions_parser(sub)
