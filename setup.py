"""Build hook: the built-in scenarios, experiments and starter notebook travel in the wheel.

The repository's top-level ``scenarios/``, ``experiments/`` and ``notebooks/`` folders
stay the one source; building the package copies them to ``sim/data/<kind>/`` in the
build, where :mod:`sim.inputs.shipped` finds them in an installed nextpractice. An editable
install needs no copy (``sim.inputs.shipped`` reads the checkout). Everything else is in
``pyproject.toml``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: Folder -> the files of it that ship (the same kinds as ``sim.inputs.shipped.KINDS``).
SHIPPED = {
    "scenarios": "**/*.yaml",
    "experiments": "**/*.yaml",
    "notebooks": "plateau_walkthrough.ipynb",
    "benchmarks": "watts_mesa_reference.py",
}  # the bench's references: idiomatic Mesa, and the bare rule as a CSR product


class BuildWithBuiltins(build_py):
    """``build_py`` that also copies the built-in files into ``sim/data/``."""

    def run(self):
        """Build the package, then copy each shipped file beside it."""
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for kind, pattern in SHIPPED.items():
            src = ROOT / kind
            if not src.is_dir():
                raise SystemExit(f"setup.py: {src} is missing; build from a full checkout")
            for path in sorted(src.glob(pattern)):
                dst = Path(self.build_lib) / "sim" / "data" / kind / path.relative_to(src)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dst)


setup(cmdclass={"build_py": BuildWithBuiltins})
