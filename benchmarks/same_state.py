"""One step timed from one saved state, by rule: ``python benchmarks/same_state.py``.

Code that draws other numbers follows another trajectory (more or fewer ties, practices,
filled slots), and a whole run's time follows its trajectory as much as its code: two
whole runs of two such codes compare two systems. This times the same step from the same
state instead. First save a state with one code::

    python -P benchmarks/same_state.py save /tmp/eng60.pkl --scenario england --at 60

then time a step from it with each code (fresh processes, alternated by hand or in a
loop, the other tree first on ``PYTHONPATH``)::

    python -P benchmarks/same_state.py time /tmp/eng60.pkl --reps 12
    PYTHONPATH=/tmp/other python -P benchmarks/same_state.py time /tmp/eng60.pkl --reps 12

Each repetition steps a fresh copy of the state (``copy.deepcopy``) once, timing the
step's CPU (``process_time``) and each rule's turn and the record within it; printed is
the best of the repetitions for each, in ms, largest first. The best of several copies of
one step is what the code costs on that state when the host runs quickly; the host's speed
still moves between processes (alternate them, and compare rules that draw nothing, such
as the record, to see by how much). ``--before N`` untimed steps are taken from the
state first (a code that keeps state of its own, such as a schedule it fills as it steps,
settles in them). A code whose tables have columns the saved state lacks cannot step it:
save a state with that code (its own trajectory). The state is a pickle: load only files
you made.
"""

from __future__ import annotations

import argparse
import copy
import pickle
import time
from pathlib import Path


def save(path: Path, scenario: str | None, schools: int, at: int) -> None:
    """Run ``scenario`` (else ``schools`` of ``next_practice``) to step ``at``, and pickle it."""
    from sim.bench import _params
    from sim.model.model import NextPracticeModel
    from sim.model.scenario import load_scenario

    params = load_scenario(scenario) if scenario else _params(schools)
    model = NextPracticeModel(params, rng=1)
    model.run(at)
    with path.open("wb") as f:
        pickle.dump(model, f)
    print(f"saved step {model.t} of {scenario or f'{schools} schools'} to {path}")


def _turn(f, name: str, spent: dict[str, int]):
    """``f`` with its CPU time added to ``spent[name]``."""

    def timed(*args):
        t0 = time.process_time_ns()
        try:
            return f(*args)
        finally:
            spent[name] = spent.get(name, 0) + time.process_time_ns() - t0

    return timed


def time_step(path: Path, reps: int, before: int) -> dict[str, float]:
    """The best CPU ms over ``reps`` copies of the state, of the step and of each rule's turn."""
    with path.open("rb") as f:
        start = pickle.load(f)  # noqa: S301 - a file this script saved, named by its user
    for _ in range(before):
        start.step()
    copy.deepcopy(start).step()  # every kernel loaded
    best: dict[str, int] = {}
    for _ in range(reps):
        model = copy.deepcopy(start)
        spent: dict[str, int] = {}
        for rule in model._pipeline:  # noqa: SLF001
            rule.apply = _turn(rule.apply, type(rule).__name__, spent)
        model._record = _turn(model._record, "_record", spent)  # noqa: SLF001
        t0 = time.process_time_ns()
        model.step()
        spent["step"] = time.process_time_ns() - t0
        for name, ns in spent.items():
            best[name] = min(best.get(name, ns), ns)
    return {name: ns / 1e6 for name, ns in sorted(best.items(), key=lambda kv: -kv[1])}


def main() -> None:
    """Save a state, or time a step from one."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("save", help="run to a step and save the model")
    s.add_argument("path", type=Path)
    s.add_argument("--scenario", help="a shipped scenario (e.g. england); else --schools")
    s.add_argument("--schools", type=int, default=1000)
    s.add_argument("--at", type=int, default=60, help="the step to save (default 60)")
    t = sub.add_parser("time", help="time one step from a saved state")
    t.add_argument("path", type=Path)
    t.add_argument("--reps", type=int, default=12)
    t.add_argument("--before", type=int, default=0, help="untimed steps first")
    a = ap.parse_args()
    if a.what == "save":
        save(a.path, a.scenario, a.schools, a.at)
        return
    if a.reps < 1:
        ap.error("--reps must be at least 1")
    best = time_step(a.path, a.reps, a.before)
    print(" ".join(f"{name}={ms:.3f}" for name, ms in best.items()))


if __name__ == "__main__":
    main()
