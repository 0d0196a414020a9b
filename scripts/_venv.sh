# Sourced by the scripts: make .venv with Python 3.12 (pyenv resolves .python-version) if it is missing.
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  PY=$(command -v python3.12 || command -v python3)
  "$PY" -c 'import sys; assert sys.version_info[:2] == (3, 12), "nextpractice needs Python 3.12 (see .python-version)"'
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
fi
