"""Figures are drawn without pyplot, so saving one never changes the user's backend."""

import subprocess
import sys

CHILD = """
import matplotlib
matplotlib.use("svg")
import numpy as np, pandas as pd
from pathlib import Path
import tempfile
from sim.analysis import plots, validation
m = pd.DataFrame({"year": [1998.0, 1999.0], "step": [0, 12], "perf_mean": [0.6, 0.7],
                  "perf_p05": [0.5, 0.6], "perf_p95": [0.7, 0.8], "top_adoption": [0.1, 0.2]})
d = Path(tempfile.mkdtemp())
plots.performance_figure(m, d / "p.png")
plots.adoption_figure(m, d / "a.png")
fig, ax = validation._fig()
validation._save(fig, d, "v")
assert all((d / f).stat().st_size > 1000 for f in ("p.png", "a.png", "v.png"))
print(matplotlib.get_backend())
"""


def test_saving_figures_leaves_the_backend_alone():
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "svg"
