#!/usr/bin/env bash
# Authoring aid: screen an overlay file with a frozen copy of the keyword screen, then run the lexical floor on
# data/ plus every overlay in authoring/rev/. Usage: bash authoring/check_rev.sh authoring/rev/FILE.jsonl [--domain D]
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
FILE=$(realpath "$1")
(cd /tmp && PYTHONPATH=/tmp/aipsy_snap "$ROOT/.venv/bin/python" -m aipsy_affect.cli validate --no-model --strict "$FILE" | grep -v "^PASS")
shopt -s nullglob
.venv/bin/python authoring/lexfloor.py authoring/rev/*.jsonl "${@:2}"
