"""The package works installed from its wheel, outside the checkout (issue 21).

Builds the wheel from a copy of the source tree, installs it into a fresh virtual
environment in a temporary folder, and from an empty folder there runs what a new
user runs first: ``nextpractice run top_down --steps 3``, ``validate --quick`` and
``init``. The built-in scenarios, experiments, notebook and benchmark reference must
be in the wheel, file for file the same as the repository's top-level folders (their
one source). The fresh environment borrows the installed dependencies of the one
running the tests (quick; the project itself comes only from the wheel); set
``NEXTPRACTICE_WHEEL_FULL=1`` to install the dependencies from the wheel's own
metadata instead (minutes).
"""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.wheel

_SKIP = shutil.ignore_patterns(
    ".venv",
    ".git",
    "runs",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "*.whl",
)
#: Folder -> files of it the wheel must carry under sim/data/ (as setup.py copies them).
SHIPPED = {
    "scenarios": "**/*.yaml",
    "experiments": "**/*.yaml",
    "notebooks": "plateau_walkthrough.ipynb",
    "benchmarks": "watts_mesa_reference.py",
}


def _run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_SKIP)  # build from a copy: no build/ in the checkout
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"), str(src)]
    )
    (wheel,) = (tmp / "dist").glob("nextpractice-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    py = venv / "bin" / "python"
    if os.environ.get("NEXTPRACTICE_WHEEL_FULL") == "1":
        _run([str(py), "-m", "pip", "install", "-q", str(wheel)])
    else:
        _run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)])
        site = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
        # A path line adds our dependencies; .pth files there (the editable install's
        # finder) are not processed, so `sim` can come only from the wheel.
        Path(site.stdout.strip(), "_borrowed_deps.pth").write_text(
            sysconfig.get_path("purelib") + "\n"
        )
    empty = tmp / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return wheel, venv, empty, env


def test_the_wheel_carries_every_builtin_file(installed):
    wheel = installed[0]
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for kind, pattern in SHIPPED.items():
            for path in (ROOT / kind).glob(pattern):
                packaged = f"sim/data/{kind}/{path.relative_to(ROOT / kind).as_posix()}"
                assert packaged in names, packaged
                assert z.read(packaged) == path.read_bytes(), packaged
        shipped = {n for n in names if n.startswith("sim/data/") and n.endswith(".yaml")}
        assert len(shipped) == sum(
            1 for k in ("scenarios", "experiments") for _ in (ROOT / k).rglob("*.yaml")
        )
        # The catalogue of real data (nextpractice data), file for file.
        data = sorted((ROOT / "sim" / "data").glob("*.csv"))
        assert len(data) >= 13
        for path in data:
            packaged = f"sim/data/{path.name}"
            assert packaged in names and z.read(packaged) == path.read_bytes(), packaged
        assert {n for n in names if re.fullmatch(r"sim/data/[^/]+", n)} == {
            f"sim/data/{p.name}" for p in data
        }


def test_run_validate_and_init_from_an_empty_folder(installed):
    _, venv, empty, env = installed
    exe = str(venv / "bin" / "nextpractice")
    where = _run(
        [str(venv / "bin" / "python"), "-c", "import sim; print(sim.__file__)"], cwd=empty, env=env
    ).stdout
    assert where.startswith(str(venv)), where  # the installed package, not the checkout
    out = _run([exe, "run", "top_down", "--steps", "3"], cwd=empty, env=env).stdout
    assert "wrote runs/top_down/summary.json" in out
    _run([exe, "init", "study"], cwd=empty, env=env)
    assert (empty / "study" / "scenarios" / "classics" / "bass.yaml").is_file()
    _run([exe, "run", "study/scenarios/bottom_up.yaml", "--steps", "2"], cwd=empty, env=env)
    _run([exe, "validate", "--quick"], cwd=empty, env=env)
    assert (empty / "runs" / "validation").is_dir()
    listing = _run([exe, "data"], cwd=empty, env=env).stdout
    assert str(venv) in listing  # the installed package's own data folder
    for path in (ROOT / "sim" / "data").glob("*.csv"):
        assert f"\n{path.stem}\n" in listing, path.stem
    one = _run([exe, "data", "ks2_english_level4_england"], cwd=empty, env=env).stdout
    assert "H2006: House of Commons written answer" in one
