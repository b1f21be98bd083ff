#!/usr/bin/env bash
# Authoring aid: screen an overlay file with the package's keyword screen (strict), then run the certification's
# lexical floor on data/ plus every overlay in authoring/rev/.
# Usage: bash authoring/check_rev.sh authoring/rev/FILE.jsonl [--domain D] [--emotion E]
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/aipsy-affect validate --no-model --strict "$1" | grep -v "^PASS"
shopt -s nullglob
.venv/bin/python authoring/lexfloor.py authoring/rev/*.jsonl "${@:2}"
