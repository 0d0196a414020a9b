#!/usr/bin/env bash
# Install Debian's headless Chromium for the browser tests (tests/browser), only where it is missing.
# Playwright's own browser download is not reachable here, so the tests drive /usr/bin/chromium.
# Idempotent and quiet: does nothing when Chromium is already installed.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "install-browser: $CHROMIUM is missing and we are not root; install Debian's chromium package" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
if ! { $SUDO apt-get update -qq && \
       $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; } >"$LOG" 2>&1; then
  cat "$LOG" >&2
  echo "install-browser: could not install chromium with apt-get" >&2
  exit 1
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "install-browser: apt installed chromium but $CHROMIUM is not there" >&2
  exit 1
fi
