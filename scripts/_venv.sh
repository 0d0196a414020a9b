# Sourced by the scripts: make .venv with Python 3.12 (pyenv resolves .python-version) if it
# is missing, and define install_project. pip's own output goes to $VENV/pip.log; the
# terminal gets what is being installed, then the result (or, on failure, the log's end).
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  PY=$(command -v python3.12 || command -v python3)
  "$PY" -c 'import sys; assert sys.version_info[:2] == (3, 12), "nextpractice needs Python 3.12 (see .python-version)"'
  echo "making $VENV with $("$PY" --version)"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --disable-pip-version-check --upgrade pip >"$VENV/pip.log" 2>&1 || true
fi

# install_project SPEC WHAT: pip install -e SPEC into $VENV, unless this SPEC was installed
# from the same pyproject.toml and setup.py already (delete $VENV to start again).
install_project() {
  local spec=$1 what=$2 stamp="$VENV/.installed" want t0
  want="$spec $(cat pyproject.toml setup.py | sha256sum | cut -c1-16)"
  # The package's bytecode, as pip writes it when it installs a wheel: an editable install
  # has none until a command runs, and none is ever written where PYTHONDONTWRITEBYTECODE
  # is set (as in many containers), so every command would compile the package's sources
  # afresh (80 to 90 ms of CPU for `run england`, docs/performance.md). Files already
  # compiled are skipped.
  "$VENV/bin/python" -m compileall -q -j 0 sim >/dev/null 2>&1 || true
  if [ -f "$stamp" ] && grep -qxF "$want" "$stamp"; then
    return 0
  fi
  echo "installing $what into $VENV (a few minutes on a fresh machine; pip's log: $VENV/pip.log)"
  t0=$SECONDS
  if ! "$VENV/bin/pip" install --disable-pip-version-check -e "$spec" >>"$VENV/pip.log" 2>&1; then
    tail -n 25 "$VENV/pip.log" >&2
    echo "install failed: the lines above are the end of $VENV/pip.log" >&2
    exit 1
  fi
  echo "installed in $((SECONDS - t0)) s"
  echo "$want" >>"$stamp"
}
