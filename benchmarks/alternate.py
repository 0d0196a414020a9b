"""Two or more versions of the code timed alternately: ``python benchmarks/alternate.py``.

A busy 2-core machine's speed moves with the minute, so one version timed
after another compares two moments, not two codes. This runs each version in
turn, round after round (the order rotated every round), in fresh processes
from the same interpreter, and prints each version's median and range, and
each version's median ratio to the first one over the rounds (a ratio taken
within a round, where the moment is shared). A version is a tree of the code
(``LABEL=PATH``, put first on ``PYTHONPATH`` with ``python -P``, so an old
commit unpacked by ``git archive`` runs against this environment) or ``LABEL=.``
for the code installed here. What is timed:

* ``--what step``: ``benchmarks/step_cpu_time.py`` (CPU time a step, mean over a
  run of each step's fastest of ``--repeats``), its ``min_ms``;
* ``--what england``: the model part of ``run england``, loading the scenario to
  the last step, in the child (``england_steps``: construction included,
  ``steps_s``: the 120 steps alone), wall time;
* ``--what command``: the whole ``nextpractice run england`` command, from start
  to exit (``python -P -m sim.cli run england --out DIR``), wall time.

Example (the commit before costs against this code, seven rounds)::

    git archive 05b0b02 | tar -x -C /tmp/precost
    python benchmarks/alternate.py --what step --rounds 7 precost=/tmp/precost new=.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

_ENGLAND = """
import json, sys, time
try:
    from sim.model.model import NextPracticeModel
    from sim.model.scenario import load_scenario
except ImportError:  # the layout before issue 26
    from sim.model import NextPracticeModel
    from sim.scenario import load_scenario
import sim
from pathlib import Path
path = Path(sim.__file__).resolve().parent.parent / "scenarios" / "england.yaml"
t0 = time.perf_counter()
m = NextPracticeModel(load_scenario(path), rng=1)
t1 = time.perf_counter()
m.run(120)
t2 = time.perf_counter()
print(json.dumps({"england_s": t2 - t0, "steps_s": t2 - t1}))
"""


def _env(tree: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if tree != ".":
        env["PYTHONPATH"] = str(Path(tree).resolve())
    return env


def measure(what: str, tree: str, args: argparse.Namespace) -> dict[str, float]:
    """One measurement of ``what`` on the code in ``tree``."""
    py = [sys.executable, "-P"]
    env = _env(tree)
    cwd = tree if tree != "." else str(HERE.parent)
    if what == "step":
        cmd = py + [str(HERE / "step_cpu_time.py"), "--schools", str(args.schools)]
        cmd += ["--repeats", str(args.repeats), "--steps", str(args.steps)]
        if args.scenario:
            cmd += ["--scenario", args.scenario]
        out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        return {"step_ms": r["min_ms"], "step_median_ms": r["median_ms"]}
    if what == "england":
        out = subprocess.run(
            py + ["-c", _ENGLAND], env=env, cwd=cwd, capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout.strip().splitlines()[-1])
    with tempfile.TemporaryDirectory() as d:
        cmd = py + ["-m", "sim.cli", "run", "england", "--out", d]
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, check=True)
        return {"command_s": time.perf_counter() - t0}


def main() -> None:
    """Run the rounds and print each version's medians and ratios, and JSON of every reading."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("versions", nargs="+", help="LABEL=PATH (PATH '.' for this code)")
    ap.add_argument("--what", choices=("step", "england", "command"), default="step")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--schools", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--scenario", help="--what step: a shipped scenario (its own size)")
    ap.add_argument("--warm", type=int, default=1, help="untimed rounds first")
    ap.add_argument("--out", type=Path, help="write every reading as JSON")
    a = ap.parse_args()
    versions = [v.split("=", 1) for v in a.versions]
    readings: dict[str, list[dict[str, float]]] = {label: [] for label, _ in versions}
    for k in range(a.warm + a.rounds):
        shift = k % len(versions)
        for label, tree in versions[shift:] + versions[:shift]:
            r = measure(a.what, tree, a)
            if k >= a.warm:
                readings[label].append(r)
                print(label, json.dumps(r), file=sys.stderr, flush=True)
    first = versions[0][0]
    for key in readings[first][0]:
        print(f"{key}: median (range) over {a.rounds} rounds, alternated")
        base = np.array([r[key] for r in readings[first]])
        for label, _ in versions:
            x = np.array([r[key] for r in readings[label]])
            ratio = np.median(x / base)
            print(
                f"  {label:>10}: {np.median(x):.4g} ({x.min():.4g} to {x.max():.4g})"
                f"   ratio to {first}, median of rounds: {ratio:.3f}"
            )
    if a.out:
        a.out.write_text(json.dumps(readings, indent=1) + "\n")


if __name__ == "__main__":
    main()
