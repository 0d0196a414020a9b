"""The citation file and the changelog name the version the package reports."""

import tomllib
from pathlib import Path

import yaml

import sim

ROOT = Path(__file__).resolve().parents[1]


def test_citation_and_package_agree_on_the_version():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert cff["cff-version"] == "1.2.0"
    assert cff["version"] == project["version"] == sim.__version__
    assert cff["license"] == project["license"]
    assert (ROOT / "LICENSE").read_text().startswith(f"{project['license']} License")
    assert f"## [{sim.__version__}]" in (ROOT / "CHANGELOG.md").read_text()
