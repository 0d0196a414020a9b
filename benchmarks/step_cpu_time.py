"""CPU time a step takes, for A/B comparisons on a busy machine (``benchmarks/step_cpu_time.py``).

Times each step of a whole run of the ``next_practice`` scenario at ``--schools``
schools with ``time.process_time`` (CPU time of this process: other processes
on the machine move it far less than wall time), ``--repeats`` times, and
prints JSON: the mean over steps of each step's fastest time, and of its
median. To compare two versions of the code, run it alternately against each
in fresh processes, e.g. with an old commit unpacked by ``git archive`` and put
first on ``PYTHONPATH`` (``python -P`` keeps the current folder off the path)::

    git archive 5c88247 | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old python -P benchmarks/step_cpu_time.py
    python -P benchmarks/step_cpu_time.py

``--scenario classics/watts_er.yaml`` times a shipped scenario at its own size instead
(a reduced diffusion mode, say); ``benchmarks/alternate.py`` runs the alternation.
"""

from __future__ import annotations

import argparse
import copy
import json
import time

import numpy as np


def main() -> None:
    """Time the steps of one run, several times over, and print the summary."""
    from sim.bench import _params, _warm

    try:
        from sim.model.model import NextPracticeModel
    except ImportError:  # code before issue 26's layout (e.g. 05b0b02, before costs)
        from sim.model import NextPracticeModel

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schools", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument(
        "--scenario", help="a shipped scenario instead (e.g. classics/watts_er.yaml; its size)"
    )
    a = ap.parse_args()
    _warm()  # compiled kernels loaded (or compiled) before timing
    if a.scenario:
        from sim.model.scenario import load_scenario

        params = load_scenario(a.scenario)
        a.schools = params.n_schools
    else:
        params = _params(a.schools)
    model = NextPracticeModel(params, rng=1)
    times = np.empty((a.repeats, a.steps))
    for r in range(a.repeats):
        run = copy.deepcopy(model)  # the same run each time, copied untimed
        for k in range(a.steps):
            t0 = time.process_time()
            run.step()
            times[r, k] = time.process_time() - t0
    print(
        json.dumps(
            {
                "schools": a.schools,
                "steps": a.steps,
                "min_ms": float(times.min(axis=0).mean() * 1e3),
                "median_ms": float(np.median(times, axis=0).mean() * 1e3),
            }
        )
    )


if __name__ == "__main__":
    main()
