#!/usr/bin/env bash
# One command: install nextpractice into .venv, then compare the three strategies
# (20 replications each) and write runs/compare/{runs.parquet,summary.csv,compare.png}.
# Usage: bash scripts/demo.sh [extra arguments for `nextpractice compare`]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
"$VENV/bin/pip" install -q -e .
exec "$VENV/bin/nextpractice" compare scenarios/top_down.yaml scenarios/bottom_up.yaml \
  scenarios/next_practice.yaml --replications 20 --out runs/compare "$@"
