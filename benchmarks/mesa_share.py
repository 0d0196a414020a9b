"""What Mesa's import costs `nextpractice run england`: ``python benchmarks/mesa_share.py``.

A measurement for a design decision, not part of the package. ``run`` builds the
model as a Mesa model (``NextPracticeModel`` subclasses ``mesa.Model``), but a run
makes no Mesa agent (they are made when first read) and uses nothing of Mesa but
the base class's generator and step clock; ``import mesa`` imports Mesa's whole
package (its discrete and continuous spaces, batch runner and data collection, and
with them pandas, scipy.spatial and networkx). This script times the whole command,
from start to exit in a new process, two ways, alternated so the machine's speed
moves both alike:

* ``mesa``: as users run it;
* ``stub``: the same command with a stand-in ``mesa`` module in ``sys.modules``, whose
  ``Model`` gives the model its generator as Mesa does (``np.random.default_rng``) and
  nothing else.

It then checks that the two wrote the same ``metrics.csv``, byte for byte (Mesa
changes no result), and prints the medians and their difference. The difference is
what a run path without Mesa would save, before removing pandas and scipy from it too
(the package imports them itself).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STUB = """
import sys, types
import numpy as np
mesa = types.ModuleType("mesa")
class Model:
    def __init__(self, *args, rng=None, **kwargs):
        self.rng = np.random.default_rng(rng)
class Agent:
    def __init__(self, model, *args, **kwargs):
        self.model = model
mesa.Model, mesa.Agent = Model, Agent
sys.modules["mesa"] = mesa
"""

RUN = "from sim.cli import console; console({argv!r})"


def _time(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=12, help="alternated pairs to time (12)")
    ap.add_argument("--scenario", default="england", help="scenario to run (england)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        outs = {k: str(Path(tmp) / k) for k in ("mesa", "stub")}
        cmd = {
            k: [
                sys.executable,
                "-c",
                (STUB if k == "stub" else "")
                + RUN.format(argv=["run", args.scenario, "--out", outs[k]]),
            ]
            for k in outs
        }
        for k in outs:  # warm the disk cache, untimed
            _time(cmd[k])
        times: dict[str, list[float]] = {k: [] for k in outs}
        for i in range(args.pairs):  # each pair in turn order, so drift moves both alike
            for k in ("mesa", "stub") if i % 2 else ("stub", "mesa"):
                times[k].append(_time(cmd[k]))
        same = (Path(outs["mesa"]) / "metrics.csv").read_bytes() == (
            Path(outs["stub"]) / "metrics.csv"
        ).read_bytes()
    for k in outs:
        print(
            f"{k:<5} median {statistics.median(times[k]):.2f} s, fastest "
            f"{min(times[k]):.2f} s ({args.pairs} runs, command to exit)"
        )
    diff = [m - s for m, s in zip(times["mesa"], times["stub"], strict=True)]
    q = statistics.quantiles(diff, n=4) if len(diff) > 1 else [diff[0]] * 3
    print(
        "Mesa's share of the whole command, pair by pair: median "
        f"{statistics.median(diff):.2f} s (quartiles {q[0]:.2f} to {q[2]:.2f}); "
        f"metrics.csv identical: {same}"
    )


if __name__ == "__main__":
    main()
