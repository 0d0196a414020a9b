"""The code passes the project's linter and spelling check (ruff, codespell; both set up in
pyproject.toml), as STYLE.md asks."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_codespell_finds_nothing():
    out = subprocess.run([sys.executable, "-m", "codespell_lib"], cwd=ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout + out.stderr
