"""The code passes the project's linter and spelling check (ruff, codespell; both set up in
pyproject.toml), as STYLE.md asks."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The project's own folders: a user's scenario folder with plug-ins beside it is not linted.
OWN = [d for d in ("sim", "tests", "scripts", "benchmarks", "notebooks") if (ROOT / d).is_dir()]
#: Spelling also covers the project's prose: its docs folder and top-level files.
PROSE = [
    p
    for p in ("docs", "README.md", "CHANGELOG.md", "pyproject.toml", "CITATION.cff")
    if (ROOT / p).exists()
]


def test_ruff_finds_nothing():
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", *OWN],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_codespell_finds_nothing():
    out = subprocess.run(
        [sys.executable, "-m", "codespell_lib", *OWN, *PROSE],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format_leaves_the_code_as_it_is():
    """The code is in ruff's format (``ruff format`` applied once; new code keeps it)."""
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", *OWN],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
