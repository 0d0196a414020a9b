#!/usr/bin/env bash
# One command: install nextpractice into .venv, then compare the three strategies
# (20 replications each, paired against top-down) and write runs/compare/ (runs.parquet,
# summary.csv, differences.csv, compare.png).
# Usage: bash scripts/demo.sh [extra arguments for `nextpractice compare`]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
install_project . "nextpractice and its dependencies"
echo "comparing the three strategies, 20 replications each (about a minute on two cores)"
exec "$VENV/bin/nextpractice" compare top_down bottom_up next_practice --baseline top_down \
  --replications 20 --out runs/compare "$@"
