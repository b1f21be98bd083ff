"""``aipsy-affect certify`` and ``bench``: the defense battery over the whole battery, and its throughput."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from aipsy_affect.cli.common import EXIT_FAIL, EXIT_INPUT, EXIT_OK, add_quiet
from aipsy_affect.cli.common import err as _err

if TYPE_CHECKING:
    from aipsy_affect.battery.release import Release


def add_source_options(p: argparse.ArgumentParser, what: str = "use") -> None:
    """``--source`` and ``--layout``: which battery a command reads (shared by certify, score, submit, probe)."""
    p.add_argument(
        "--source",
        default=None,
        metavar="SRC",
        help=f"battery to {what}: a folder of split files (.jsonl or parquet), a local export, or a Hub "
        "dataset repo id (default: the packaged battery)",
    )
    p.add_argument(
        "--layout",
        default=None,
        choices=("aipsy-affect", "published"),
        help="column layout of --source: aipsy-affect (ours) or published (the public AIPsy-Affect "
        "release: peak labels, no protagonist, no twins); default: detected from the files",
    )


def release_from(source: str | None, layout: str | None = None) -> Release:
    """The battery and its hash from ``--source`` (default: packaged) read in ``--layout`` (default: detected); an
    unreadable source is bad input (exit 2)."""
    from pydantic import ValidationError

    from aipsy_affect.battery.io import InputError
    from aipsy_affect.battery.release import load_release
    from aipsy_affect.errors import AffectError

    try:
        return load_release(source, layout=layout)
    except AffectError:
        raise
    except (ValidationError, OSError, ValueError) as exc:
        raise InputError(source or "packaged data", None, None, f"cannot read the battery: {exc}") from None


def _read_label_map(path: str | None) -> dict[str, str | None] | None:
    from aipsy_affect.battery.io import InputError

    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            raw = json.loads(fh.read())
    except FileNotFoundError:
        raise InputError(path, None, None, "no such file") from None
    except OSError as exc:
        raise InputError(path, None, None, f"cannot be read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, None, None, f"not a JSON object of label -> emotion ({exc})") from None
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in raw.items()
    ):
        raise InputError(
            path, None, None, "expected a JSON object mapping each model label to an emotion, 'neutral' or null"
        )
    return raw


def _add_certify_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "certify",
        help="run the four-method defense battery and write the validation report",
        description="Score every item with VADER, NRC EmoLex, the contextual classifier and the trained lexical "
        "floor (TF-IDF + logistic regression, pair-grouped 5-fold CV); write report.json, "
        "REPORT.md, item_scores.jsonl and PNG figures. Exit 0 when every criterion passes, 1 when any "
        "fails, 2 when the data or the classifier cannot be loaded.",
    )
    p.add_argument(
        "--classifier",
        default=None,
        metavar="M",
        help="Hugging Face sequence classifier id or local folder (default: the offline MiniLM prototype classifier)",
    )
    p.add_argument(
        "--label-map",
        default=None,
        metavar="FILE",
        help="JSON object mapping the classifier's labels to Plutchik emotions, 'neutral' or null",
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output folder (default: validation; validation-published for a published-layout source)",
    )
    p.add_argument(
        "--device",
        default="auto",
        choices=("auto", "cpu", "cuda"),
        help="where the classifier runs (default: auto, the GPU when present)",
    )
    add_source_options(p, "certify")
    p.add_argument(
        "--keyword-control",
        default=None,
        metavar="FILE",
        help="keyword-rich texts (id, text, emotion; .jsonl, .json or .csv) measured in place of keyword "
        "twins, for a battery that has none; without it the twin criteria are not applicable",
    )
    add_quiet(p)
    p.set_defaults(func=_cmd_certify)


def _cmd_certify(args: argparse.Namespace) -> int:
    import time

    from aipsy_affect.certify.external import certify_external
    from aipsy_affect.certify.run import certify

    start = time.perf_counter()
    label_map = _read_label_map(args.label_map)
    release = release_from(args.source, args.layout)
    out = args.out or ("validation" if release.layout == "aipsy-affect" else f"validation-{release.layout}")
    options = {
        "classifier": args.classifier,
        "device": args.device,
        "label_map": label_map,
        "progress": False if args.quiet else None,
    }
    if release.layout == "aipsy-affect" and args.keyword_control is None:
        report = certify(out, release=release, **options)  # type: ignore[arg-type]
    else:
        report = certify_external(release, out, keyword_control=args.keyword_control, **options)  # type: ignore[arg-type]
    print(f"battery: layout {report.layout}, source {report.source}, sha256 {report.data_sha256}")
    for c in report.criteria:
        verdict = ("PASS" if c.passed else "FAIL") if c.applicable else "N/A "
        value = "n/a" if c.value is None else f"{c.value:.4g}"
        note = f" [{c.reason}]" if c.reason else ""
        print(f"{verdict}  {c.name}: {value} (rule {c.comparison} {c.threshold:g}){note}")
    if report.audit is not None:
        failed = [c.name for c in report.audit.checks if c.status == "fails"]
        print(
            f"design audit: {len(failed)} of {len(report.audit.checks)} checks fail"
            + (f" ({', '.join(failed)})" if failed else "")
            + f"; see {out}/REPORT.md"
        )
    applicable = [c for c in report.criteria if c.applicable]
    print(
        f"{'certified' if report.passed else 'NOT certified'}: "
        f"{sum(c.passed for c in applicable)}/{len(applicable)} applicable criteria pass; wrote {out}/ "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return EXIT_OK if report.passed else EXIT_FAIL


def _add_bench_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="classifier throughput: batched vs a naive one-text-at-a-time loop, in the same run",
        description="Classify battery texts three ways (naive loop, one call per text, batched) and write the "
        "figures with date and machine to a Markdown file (and the GPU figures when a GPU is present).",
    )
    p.add_argument("--classifier", default=None, metavar="M", help="classifier id or folder (default: MiniLM)")
    p.add_argument(
        "--n",
        type=int,
        default=96,
        metavar="N",
        help="number of battery items, spread evenly over the 672 in split order (default: 96)",
    )
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds per mode; the median counts (default: 3)")
    p.add_argument(
        "--out",
        default="validation/BENCHMARK.md",
        metavar="FILE",
        help="Markdown output (default: validation/BENCHMARK.md); '-' prints only",
    )
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=_cmd_bench)


def _cmd_bench(args: argparse.Namespace) -> int:
    from aipsy_affect.battery.io import write_atomic
    from aipsy_affect.defense.bench import render_markdown, run_benchmark

    if args.n < 1 or args.rounds < 1:
        _err("--n and --rounds must be at least 1")
        return EXIT_INPUT
    items = release_from(None).battery.items
    n = min(args.n, len(items))
    # An even spread over the splits, so every kind of text is represented.
    texts = [items[(k * len(items)) // n].text for k in range(n)]
    result = run_benchmark(
        texts, spec=args.classifier, rounds=args.rounds, selection=f"{n} of {len(items)}, evenly spaced in split order"
    )
    markdown = render_markdown(result)
    if args.out != "-":
        write_atomic(args.out, markdown)
    print(result.model_dump_json(indent=2) if args.json else markdown)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``aipsy-affect`` parser."""
    _add_certify_parser(sub)
    _add_bench_parser(sub)
