"""``aipsy-affect certify`` and ``bench``: the defense battery over the whole battery, and its throughput."""

from __future__ import annotations

import argparse
import json

from aipsy_affect.cli.common import EXIT_FAIL, EXIT_INPUT, EXIT_OK
from aipsy_affect.cli.common import err as _err


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


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``aipsy-affect`` parser."""
    _add_certify_parser(sub)
    _add_bench_parser(sub)
