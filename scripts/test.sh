#!/usr/bin/env bash
# One command: install the project with its test tools into .venv, then run the whole test suite.
# Usage: bash scripts/test.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
install_project ".[app,test]" "nextpractice with the workshop app and the test tools"
if [ -f scripts/install-browser.sh ]; then bash scripts/install-browser.sh; fi
exec "$VENV/bin/python" -m pytest -n 2 "$@"
