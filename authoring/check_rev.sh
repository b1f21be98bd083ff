#!/usr/bin/env bash
# Authoring aid: screen an overlay file with a frozen copy of the keyword screen, then run the lexical floor on
# data/ plus every overlay in authoring/rev/. Usage: bash authoring/check_rev.sh authoring/rev/FILE.jsonl
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHONPATH=/tmp/aipsy_snap .venv/bin/python -m aipsy_affect.cli validate --no-model --strict "$1" | grep -v "^PASS" 
shopt -s nullglob
.venv/bin/python authoring/lexfloor.py authoring/rev/*.jsonl "${@:2}"
