"""``aipsy-affect validate``: screen new stimulus items."""

from __future__ import annotations

import argparse
import json

from aipsy_affect.cli.common import EXIT_FAIL, EXIT_OK


def _add_validate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="check new stimulus items for emotion keywords and well-formedness",
        description="Exit 0 when every item passes, 1 when any item fails (every item is still reported), 2 when "
        "the file cannot be read or parsed.",
    )
    p.add_argument("file", help="items as .jsonl, .json (array) or .csv; minimum fields id and text")
    p.add_argument("--json", action="store_true", help="print one JSON object per item")
    p.add_argument(
        "--strict",
        action="store_true",
        help="warnings (expressive words, possible misspellings, mixed-script words, classifier leakage) fail",
    )
    p.add_argument("--no-model", action="store_true", help="lexical checks only; do not load any model")
    p.set_defaults(func=_cmd_validate)


def _cmd_validate(args: argparse.Namespace) -> int:
    # An unreadable or unparsable file raises InputError(s): run_command reports it (file:line) with exit 2.
    from aipsy_affect.battery.io import read_items
    from aipsy_affect.certify.validate import highlight, json_safe, printable, validate_item

    items = read_items(args.file)
    if args.no_model:
        reports = [validate_item(item, strict=args.strict) for item in items]
    else:
        from aipsy_affect.certify.run import score_texts
        from aipsy_affect.defense.classifier import load_classifier
        from aipsy_affect.errors import ClassifierError

        try:
            classifier = load_classifier()
        except ClassifierError as exc:
            raise ClassifierError(
                f"cannot load the classifier ({exc}); use --no-model for the lexical checks only"
            ) from None
        scored = score_texts([item.text for item in items], classifier)
        reports = [
            validate_item(item, strict=args.strict, vader=v, nrc=n, classifier=c)
            for item, (v, n, c) in zip(items, scored, strict=True)
        ]
    if args.json:
        model_fields = {"vader", "nrc", "classifier"} if args.no_model else set()
        for report in reports:
            print(json_safe(json.dumps(report.model_dump(mode="json", exclude=model_fields), ensure_ascii=False)))
    else:
        texts = {item.id: item.text for item in items}
        for report in reports:
            print(f"{'PASS' if report.passed else 'FAIL'}  {printable(report.id)}  ({report.word_count} words)")
            for check in report.checks:
                if not check.passed:
                    print(f"      {check.name}: {printable(check.message)}")
            for line in highlight(texts[report.id], report.keywords):
                print(f"      keyword {line}")
            for line in highlight(texts[report.id], report.expressive):
                print(f"      expressive {line}")
            for warning in report.warnings:
                print(f"      warning: {printable(warning)}")
            if report.classifier is not None and report.vader is not None and report.nrc is not None:
                print(
                    f"      methods: VADER compound {report.vader.compound:+.2f}; EmoLex hit rate "
                    f"{report.nrc.hit_rate:.2f} (top {report.nrc.top_category or '-'}); classifier "
                    f"P(emotional) {report.classifier.p_emotional:.2f}, label {report.classifier.label} "
                    f"(confidence {report.classifier.confidence:.2f})"
                )
        failed = sum(not r.passed for r in reports)
        print(f"{len(reports) - failed} passed, {failed} failed")
    return EXIT_FAIL if any(not r.passed for r in reports) else EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's subcommands to the ``aipsy-affect`` parser."""
    _add_validate_parser(sub)
