"""Speed and memory benchmarks, each figure beside its target (issue 4).

``run_bench`` times, in one run:

1. ms per step (the mean over a whole 120-step run, and its first and last
   fifths) and school-steps per second with all rules on, at 1,000,
   5,000 and 21,000 schools (the ``next_practice`` scenario);
2. a whole England run (``scenarios/england.yaml``), construction included,
   in a child process, with that process's peak memory; and beside it the whole
   process of ``nextpractice run england`` as a user types it, from command to
   exit (imports, kernels, run, outputs and figure: ``cli_run``);
3. runs per second of 1,000-school, 120-step runs across all cores, as a batch
   runs them: the real run function (:func:`sim.experiments.sweep.run_nextpractice`:
   parameters checked, the model run, its outcomes computed) through the one executor
   (:mod:`sim.experiments.executor`), each run with its seed from the seed tree;
4. each step's time over the floor: one sparse product of the tie matrix
   (scipy CSR) times a vector at the same size; and what the model's own
   random draws alone cost, in floors;
5. Watts' threshold model as idiomatic Mesa against the model's own threshold mode
   (``scenarios/classics/watts_er.yaml``, whole steps), same graph, seed and steps;
   and against the bare rule as one CSR product per step, the straightforward
   vectorised form (the model's mode moves its counts only by the schools that
   changed, so it can beat it). Both references are outside the package, in
   ``benchmarks/watts_mesa_reference.py``: the bench measures the model, and holds
   no model of its own.

``nextpractice bench [--out FILE]`` prints the table and writes the figures
as JSON. ``quick=True`` runs tiny sizes in seconds (for the smoke test); its
figures are not comparable with the targets.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from sim.core import draws as _draws
from sim.inputs import shipped

ROOT = Path(__file__).resolve().parent.parent
#: The built-in scenarios (the checkout's, or the installed package's copy: sim.inputs.shipped).
SCENARIOS = shipped.folder("scenarios") or ROOT / "scenarios"
BENCHMARKS = shipped.folder("benchmarks") or ROOT / "benchmarks"

#: figure -> (comparison, target). "<=" means lower is better.
TARGETS: dict[str, tuple[str, float]] = {
    "ms_per_step_21000": ("<=", 5.0),
    "england_wall_s": ("<=", 2.0),
    "england_cli_s": ("<=", 2.5),
    "england_peak_mb": ("<", 500.0),
    "runs_per_s_1000": (">=", 30.0),
    "floor_ratio_1000": ("<=", 10.0),
    "floor_ratio_5000": ("<=", 10.0),
    "floor_ratio_21000": ("<=", 10.0),
    "watts_speedup_model": (">=", 100.0),
}


def _authorities(n: int) -> int:
    """Authorities at England's density (152 for 21,000 schools), at least one."""
    return max(1, round(n * 152 / 21_000))


def _params(n: int, **extra: Any):
    from sim.model.scenario import load_scenario

    return load_scenario(
        SCENARIOS / "next_practice.yaml",
        {"n_schools": n, "n_authorities": _authorities(n), **extra},
    )


def tie_matrix(model) -> sp.csr_matrix:
    """The model's ties in force as a symmetric CSR matrix weighted by trust."""
    t, n = model.ties, model.schools.n
    alive = model.alive_ties()
    a, b, w = t.a[alive], t.b[alive], t.trust[alive]
    return sp.csr_matrix(
        (np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n)
    )


def _best_time(fn, repeats: int) -> float:
    """Median time of ``fn()`` over ``repeats`` calls, seconds."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _median_run(model, steps: int, repeats: int = 3):
    """Median seconds of ``run(steps)`` over copies of ``model`` (copied untimed); the last copy."""
    times = []
    for _ in range(repeats):
        run = copy.deepcopy(model)
        t0 = time.perf_counter()
        run.run(steps)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), run


def _floor(model) -> tuple[float, int]:
    """Seconds of one sparse product of ``model``'s tie matrix with a vector; the ties."""
    A = tie_matrix(model)
    x = np.random.default_rng(0).random(A.shape[0])
    return _best_time(lambda: A @ x, 200), int(A.nnz // 2)


def keyed_draws_per_step(n: int, steps: int, seed: int = 1) -> float:
    """Keyed random numbers (:mod:`sim.core.draws`) a step draws, over a whole run.

    Counted on the rules' numpy forms (``compiled: false``), whose every draw is a call
    of an array function of :mod:`sim.core.draws`; the kernels draw the same numbers one
    at a time. One number a value returned (``smallest`` draws one per candidate).
    """
    from sim.model.model import NextPracticeModel

    count = [0]
    names = (
        "uniform",
        "normal",
        "exponential",
        "lognormal",
        "integers",
        "student_t",
        "beta",
        "poisson",
        "smallest",
    )
    saved = {name: getattr(_draws, name) for name in names}

    def counting(name, f):
        def wrapped(key, t, a, *rest, **kw):
            out = f(key, t, a, *rest, **kw)
            count[0] += int(np.size(a)) if name == "smallest" else int(np.size(out))
            return out

        return wrapped

    try:
        for name, f in saved.items():
            setattr(_draws, name, counting(name, f))
        NextPracticeModel(_params(n, compiled=False), rng=seed).run(steps)
    finally:
        for name, f in saved.items():
            setattr(_draws, name, f)
    return count[0] / steps


def time_steps(n: int, steps: int = 120, seed: int = 1, repeats: int = 3) -> dict[str, float]:
    """Time every step of a whole ``n``-school run of ``steps`` steps; and the floor over it.

    A step costs more as a run goes on (more practices proven and mandated,
    more slots filled and read, more ties): at 21,000 schools the last fifth
    of a ten-year run takes about 1.4 times as long a step as the first. So
    the figure is the mean over the whole run, not over a few early steps.
    The same run (same seed, so the same work) is timed ``repeats`` times and
    each step's median taken, which a hiccup of the machine does not move. The floor is one
    sparse product of the tie matrix with a vector, taken at the run's start,
    middle and end (the ties grow too) and averaged. Beside it, what the
    model's random draws alone cost: the keyed numbers a step draws
    (:func:`keyed_draws_per_step`, over a run of the numpy forms) and the time to
    draw as many keyed uniforms (:func:`sim.core.draws.uniform`, one Philox word
    each), in floors: a step that draws what it draws can come no nearer the floor
    than that.
    """
    from sim.model.model import NextPracticeModel

    _warm()
    model = NextPracticeModel(_params(n), rng=seed)
    times = np.empty((repeats, steps))
    for r in range(repeats):
        run = copy.deepcopy(model)  # copied untimed
        for k in range(steps):
            t0 = time.perf_counter()
            run.step()
            times[r, k] = time.perf_counter() - t0
    per_step = np.median(times, axis=0)
    floors = [_floor(model)]  # on a run of its own, untimed: (seconds, ties)
    model.run(steps // 2)
    floors.append(_floor(model))
    model.run(steps - steps // 2)
    floors.append(_floor(model))
    dt, floor = float(per_step.mean()), float(np.mean([f for f, _ in floors]))
    # The model's own random draws, as a lower bound of what a step must cost: as many
    # keyed uniforms (sim.core.draws, one Philox word each) as the run's numbers drawn.
    words = keyed_draws_per_step(n, steps, seed)
    ids = np.arange(max(1, round(words)), dtype=np.int64)
    key = np.array([1, 2], np.uint64)
    draws = _best_time(lambda: _draws.uniform(key, 1, ids, 0), 50)
    fifth = max(1, steps // 5)
    return {
        "ms_per_step": dt * 1e3,
        "school_steps_per_s": n / dt,
        "ms_per_step_first": float(per_step[:fifth].mean()) * 1e3,
        "ms_per_step_last": float(per_step[-fifth:].mean()) * 1e3,
        "steps": steps,
        "floor_ms": floor * 1e3,
        "floor_ms_start": floors[0][0] * 1e3,
        "floor_ms_end": floors[-1][0] * 1e3,
        "floor_ratio": dt / floor,
        "ties_start": floors[0][1],
        "ties_end": floors[-1][1],
        "words_per_step": words,
        "draws_ms": draws * 1e3,
        "draws_floors": draws / floor,
    }


def rule_times(n: int, steps: int = 120, seed: int = 1) -> dict[str, float]:
    """Where a step's time goes: ms a step per rule slot, and for recording the metrics.

    Over a whole run, as :func:`time_steps` times it, on a model of its own
    whose rules and recording are wrapped in timers (the wrappers add a
    little, so the parts sum to a bit more than the step). Keys: ``slot
    (Rule)``, ``record``.
    """
    from collections import defaultdict

    from sim.model.model import NextPracticeModel

    _warm()
    model = NextPracticeModel(_params(n), rng=seed)
    spent: dict[str, float] = defaultdict(float)

    def timed(label: str, fn):
        def run(*args):
            t0 = time.perf_counter()
            fn(*args)
            spent[label] += time.perf_counter() - t0

        return run

    for rule in model._pipeline:
        rule.apply = timed(f"{rule.slot} ({type(rule).__name__})", rule.apply)
    model._record = timed("record", model._record)
    model.run(steps)
    return dict(sorted(((k, v / steps * 1e3) for k, v in spent.items()), key=lambda kv: -kv[1]))


_ENGLAND_CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from sim.model.scenario import load_scenario
from sim.model.model import NextPracticeModel
t_import = time.perf_counter() - t0
t1 = time.perf_counter()
p = load_scenario(sys.argv[1], json.loads(sys.argv[2]))
m = NextPracticeModel(p, rng=1)
t_build = time.perf_counter() - t1
m.run(int(sys.argv[3]))
wall = time.perf_counter() - t1
print(json.dumps({"wall": wall, "build": t_build, "import": t_import,
                  "self_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def england_run(steps: int = 120, overrides: dict | None = None) -> dict[str, float]:
    """A whole England run in a child process: wall time (construction included) and peak memory.

    Wall time counts from loading the scenario to the last step, not the
    interpreter's start or imports (reported apart). Peak memory is the
    child's maximum resident set (``ru_maxrss`` of ``RUSAGE_CHILDREN``; call
    this before starting other children, as that figure is a maximum over
    all reaped children).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _ENGLAND_CHILD,
            str(SCENARIOS / "england.yaml"),
            json.dumps(overrides or {}),
            str(steps),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    outer = time.perf_counter() - t0
    r = json.loads(out.stdout.strip().splitlines()[-1])
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_kb = after if after > before else r["self_maxrss_kb"]
    return {
        "wall_s": r["wall"],
        "build_s": r["build"],
        "import_s": r["import"],
        "process_s": outer,
        "peak_mb": peak_kb / 1024.0,
    }


def cli_run(repeats: int = 3, args: tuple[str, ...] = ()) -> dict[str, float]:
    """``nextpractice run england`` as a user runs it: a new process, from start to exit.

    Everything counts: the interpreter's start, the imports, loading the compiled
    kernels, the run, writing the outputs and the figure (issue 21's target: 2.5 s).
    Run ``repeats`` times into a temporary folder; the fastest and the median are
    reported, as other load on the machine only ever adds time.

    Args:
        repeats: processes to time.
        args: further arguments to ``run`` (the quick bench shrinks the system).
    """
    import statistics
    import tempfile

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "sim.cli",
            "run",
            str(SCENARIOS / "england.yaml"),
            "--out",
            tmp,
            *args,
        ]
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
    return {"min_s": min(times), "median_s": statistics.median(times), "runs": repeats}


#: What a fresh interpreter imports, each a superset of the one before (:func:`import_costs`).
IMPORT_STEPS = (
    ("interpreter", "pass"),
    ("numba", "import numba"),
    ("Mesa", "import numba; from sim.cli import _import_mesa; _import_mesa()"),
    ("the package", "import sim.experiments.runner, sim.model.scenario"),
)


def import_costs(repeats: int = 3) -> dict[str, float]:
    """Where the whole process's import time goes: seconds each step adds, in fresh processes.

    Each of :data:`IMPORT_STEPS` is timed as a new ``python -c`` (fastest of
    ``repeats``, the process ending without teardown, as the command does) and
    reported as what it adds to the one before: the interpreter's start, numba,
    Mesa as a command imports it (with pandas; its spaces, and scipy.spatial and
    networkx with them, put off: :func:`sim.cli._import_mesa`), and the rest of the
    package (pydantic, YAML, the rules). The floor under any ``nextpractice`` command
    that runs the model.
    """
    out: dict[str, float] = {}
    before = 0.0
    for label, code in IMPORT_STEPS:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", f"{code}; import os; os._exit(0)"],
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - t0)
        out[label] = max(0.0, min(times) - before)
        before = max(before, min(times))
    out["total"] = before
    return out


def _warm(_: int = 0) -> int:
    """Load the model and its compiled kernels in this process before timing starts.

    A 1,000-school system run long enough (40 steps) for every kernel the
    bench's runs call to be called once: a mandate, for one, first comes once
    a trial has proven a practice, and a tie lapses or a full school replaces
    a practice only after a while (checked: no kernel gains a signature
    later, at any of the bench's sizes). Loading a kernel from numba's disk cache
    costs milliseconds once per process; the step and runs-per-second
    figures are about steady throughput, the England one includes it.
    """
    from sim.model.model import NextPracticeModel

    NextPracticeModel(_params(1000), rng=0).run(40)
    return 0


_KERNEL_CHILD = """
import json, time
from sim.cli import _import_mesa
_import_mesa()  # as a command does: scipy.linalg's code put off (numba's BLAS look)
import numpy as np

from sim.core import draws as _draws
from sim.core import kernels
t0 = time.perf_counter()
kernels.practice_users(np.zeros((2, 2), np.int64), 1)
print(json.dumps({"first_call_s": time.perf_counter() - t0}))
"""


def kernel_start() -> float:
    """Seconds a fresh process spends on its first compiled-kernel call (numba's start-up).

    Paid once per process, on the first step of its first run (kernels are
    cached on disk, so this is loading, not compiling), in a process that has
    imported Mesa as a command does (:func:`sim.cli._import_mesa`). Included in the
    England wall time; worker pools and the Watts comparison are warmed
    before timing, as their figures are about steady throughput.
    """
    out = subprocess.run(
        [sys.executable, "-c", _KERNEL_CHILD], check=True, capture_output=True, text=True
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["first_call_s"])


def runs_per_second(
    n: int = 1000, steps: int = 120, runs: int | None = None, workers: int | None = None
) -> dict[str, float]:
    """Runs per second of ``n``-school runs across all cores, as a batch runs them.

    Each run is what a sweep's run is (:func:`sim.experiments.sweep.run_nextpractice`:
    the parameters checked, the model run, its outcomes computed), through the one
    executor (:func:`sim.experiments.executor.run_batch`), with its seed from the seed
    tree (:func:`sim.experiments.seeds.run_seed`). The pool is warm: each worker has
    imported the model and loaded its compiled kernels (:func:`kernel_start`) before
    the clock starts.
    """
    from sim.experiments.executor import open_pool, run_batch, workers_default
    from sim.experiments.seeds import run_seed
    from sim.experiments.sweep import run_nextpractice

    workers = workers or workers_default()
    runs = runs or 8 * workers  # eight each: fewer made the figure swing by a tenth
    with open_pool(workers) as pool:
        list(pool.imap(_warm, [(i,) for i in range(workers)], window=workers))
        params = _params(n).model_dump(mode="json")
        jobs = [(params, run_seed(1, 0, r, common=True), steps) for r in range(runs)]
        t0 = time.perf_counter()
        done = list(run_batch(run_nextpractice, jobs, pool=pool, progress=False))
        dt = time.perf_counter() - t0
    failed = [d.error for d in done if not d.ok]
    if failed:
        raise RuntimeError(f"{len(failed)} of {runs} bench runs failed: {failed[0]}")
    return {"runs_per_s": runs / dt, "runs": runs, "workers": workers, "s_per_run": dt / runs}


# ---------------------------------------------------------------------- Watts
def _load_reference():
    path = BENCHMARKS / "watts_mesa_reference.py"
    spec = importlib.util.spec_from_file_location("watts_mesa_reference", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def watts_model(n: int, steps: int, seed: int = 1):
    """The model in its Watts threshold mode (``scenarios/classics/watts_er.yaml``), seeded.

    Returns the model, with its one seed adopter placed, and the seed's index.
    """
    from sim.model.model import NextPracticeModel
    from sim.model.scenario import load_scenario
    from sim.rules.classic import Threshold, adopted

    p = load_scenario(SCENARIOS / "classics" / "watts_er.yaml", {"n_schools": n, "n_steps": steps})
    model = NextPracticeModel(p, rng=seed)
    rule = next(r for r in model._pipeline if isinstance(r, Threshold))
    rule.seed(model)  # what the first step would do; placed now to hand the seed to Mesa
    return model, int(np.flatnonzero(adopted(model))[0])


def watts(
    n: int = 10_000, steps: int = 50, seeds: tuple[int, ...] = (1, 2, 3, 4)
) -> dict[str, float]:
    """Idiomatic Mesa against the model's threshold mode, same graph, same seed, same steps.

    For each seed, the graph is the model's own Erdos-Renyi graph (mean
    degree ``z_degree`` of the scenario) and its seed adopter is drawn by the
    model; the Mesa reference is given the same nodes, ties and seed adopter.
    Both run ``steps`` steps. Some seeds set off a global cascade and some do
    not (Watts' window gives a cascade about four times in five at z = 4),
    and idiomatic Mesa is cheaper once most nodes are active (an active node
    returns at once), so times are summed over several seeds (each the median
    of three runs, for every side alike). Final counts
    of adopters are reported: a monotone threshold cascade ends in the same
    set whatever the order of updates, so Mesa's and the model's agree once
    both have run their course. Also timed: the bare rule as one CSR product
    a step, with no model around it.
    """
    from sim.rules.classic import adjacency, adopted

    ref = _load_reference()
    # Warm both sides alike: a small run each loads the model's compiled kernels
    # (numba's once-a-process start-up, reported by kernel_start) and Mesa's code paths.
    small, small_seed = watts_model(300, 5, seeds[0])
    small_ref = ref.WattsMesa(
        ref.nx.from_scipy_sparse_array(adjacency(small)),
        phi=small.p.declared["threshold.phi_threshold"],
        seed_node=small_seed,
        rng=seeds[0],
    )
    small.run(5)
    for _ in range(5):
        small_ref.step()
    bare = ref.watts_vectorised  # the bare rule, one CSR product a step
    t_mesa = t_model = t_vec = 0.0
    counts = {"mesa_active": [], "model_active": [], "vectorised_active": []}
    for seed in seeds:
        model, seed_node = watts_model(n, steps, seed)
        phi = model.p.declared["threshold.phi_threshold"]
        A = adjacency(model).copy()  # the rule's own matrix (the ties never change here)
        # Each side the median of three runs (Mesa's from fresh models, the model's from
        # copies, the bare product's repeated): a model run is a few milliseconds, which
        # one hiccup of the machine could double (it did: 78x once in five benches).
        times = []
        for _ in range(3):
            m = ref.WattsMesa(
                ref.nx.from_scipy_sparse_array(A), phi=phi, seed_node=seed_node, rng=seed
            )
            t0 = time.perf_counter()
            for _ in range(steps):
                m.step()
            times.append(time.perf_counter() - t0)
        t_mesa += float(np.median(times))

        seconds, model = _median_run(model, steps)  # whole steps: every rule, metrics recorded
        t_model += seconds

        t_vec += _best_time(lambda A=A, s=seed_node, f=phi: bare(A, s, steps, f), 3)
        counts["mesa_active"].append(m.n_active())
        counts["model_active"].append(int(adopted(model).sum()))
        counts["vectorised_active"].append(int(bare(A, seed_node, steps, phi).sum()))
    runs = n * steps * len(seeds)
    return {
        "n": n,
        "steps": steps,
        "seeds": list(seeds),
        "z": float(model.p.z_degree),
        "phi": float(phi),
        "cascades": sum(c > n / 2 for c in counts["model_active"]),
        "mesa_agent_steps_per_s": runs / t_mesa,
        "model_agent_steps_per_s": runs / t_model,
        "vectorised_agent_steps_per_s": runs / t_vec,
        "speedup_model": t_mesa / t_model,
        "speedup": t_mesa / t_vec,
        **counts,
    }


# ---------------------------------------------------------------------- report
def _verdict(key: str, value: float) -> str:
    op, target = TARGETS[key]
    ok = {"<=": value <= target, "<": value < target, ">=": value >= target}[op]
    return f"target {op} {target:g}  {'PASS' if ok else 'MISS'}"


def run_bench(out: str | None = None, quick: bool = False) -> dict[str, Any]:
    """Run every benchmark, print each figure beside its target, return the figures.

    Args:
        out: write the figures as JSON to this file.
        quick: tiny sizes, a few seconds in all (figures not comparable with targets).
    """
    sizes = [200, 400] if quick else [1000, 5000, 21_000]
    lines: list[str] = []

    def show(label: str, value: float, unit: str, key: str | None = None) -> None:
        line = f"{label:<50} {value:>15,.3f} {unit:<14}"
        if key is not None and not quick:
            line += _verdict(key, value)
        lines.append(line)
        print(line, flush=True)

    res: dict[str, Any] = {"quick": quick, "cpus": os.cpu_count()}
    # England first: RUSAGE_CHILDREN's peak must be that run's own.
    eng = england_run(5, {"n_schools": 300, "n_authorities": 3}) if quick else england_run()
    res["england"] = eng
    show("England run wall time (build + 120 steps)", eng["wall_s"], "s", "england_wall_s")
    show("  of which construction", eng["build_s"], "s")
    show("  imports before it (once a process, not counted)", eng["import_s"], "s")
    show("  the whole process, interpreter start to exit", eng["process_s"], "s")
    show("England run peak memory (child ru_maxrss)", eng["peak_mb"], "MB", "england_peak_mb")
    cli = (
        cli_run(1, ("--steps", "5", "--set", "n_schools=300", "--set", "n_authorities=3"))
        if quick
        else cli_run()
    )
    res["england_cli"] = cli
    show(
        f"`nextpractice run england`, command to exit (fastest of {cli['runs']})",
        cli["min_s"],
        "s",
        "england_cli_s",
    )
    show("  median", cli["median_s"], "s")
    imports = import_costs(1 if quick else 3)
    res["imports"] = imports
    show("  imports in a fresh process, all (fastest of 3)", imports["total"], "s")
    for label, _ in IMPORT_STEPS:
        show(f"    {label}", imports[label], "s")
    res["kernel_start_s"] = kernel_start()
    show("compiled kernels: first call in a process (once)", res["kernel_start_s"], "s")

    res["steps"] = {}
    for n in sizes:
        r = time_steps(n, steps=5 if quick else 120, repeats=1 if quick else 3)
        res["steps"][str(n)] = r
        show(
            f"ms per step, {n:,} schools (mean over {r['steps']} steps)",
            r["ms_per_step"],
            "ms",
            "ms_per_step_21000" if n == 21_000 else None,
        )
        show("  first fifth of the run", r["ms_per_step_first"], "ms")
        show("  last fifth of the run", r["ms_per_step_last"], "ms")
        show(f"school-steps per second, {n:,} schools", r["school_steps_per_s"], "/s")
        show(
            f"step / sparse product (floor {r['floor_ms']:.3f} ms, run's mean)",
            r["floor_ratio"],
            "x",
            f"floor_ratio_{n}" if f"floor_ratio_{n}" in TARGETS else None,
        )
        show(
            f"  the model's draws alone ({r['words_per_step']:,.0f} words a step)",
            r["draws_floors"],
            "x floor",
        )
    n = sizes[-1]
    parts = rule_times(n, steps=5 if quick else 120)
    res["rule_ms"] = parts
    lines.append(
        f"where a step goes at {n:,} schools (ms a step): "
        + ", ".join(f"{k} {v:.2f}" for k, v in parts.items())
    )
    print(lines[-1], flush=True)

    rps = runs_per_second(200, 5, runs=2) if quick else runs_per_second(1000, 120)
    res["runs"] = rps
    show(
        f"runs per second, 1,000 schools x 120 steps, {rps['workers']} cores",
        rps["runs_per_s"],
        "runs/s",
        "runs_per_s_1000",
    )

    w = watts(500, 5, seeds=(1, 2)) if quick else watts()
    res["watts"] = w
    show(
        f"Watts, idiomatic Mesa ({w['n']:,} nodes, z {w['z']:g}, {w['steps']} steps, "
        f"{len(w['seeds'])} seeds, {w['cascades']} cascades)",
        w["mesa_agent_steps_per_s"],
        "agent-steps/s",
    )
    show(
        "Watts, the model's threshold mode (whole steps)",
        w["model_agent_steps_per_s"],
        "agent-steps/s",
    )
    show("  speed-up over idiomatic Mesa", w["speedup_model"], "x", "watts_speedup_model")
    show(
        "Watts, bare CSR product a step (no model around it)",
        w["vectorised_agent_steps_per_s"],
        "agent-steps/s",
    )
    show("  speed-up over idiomatic Mesa", w["speedup"], "x")
    for key, label in (
        ("mesa_active", "Mesa"),
        ("model_active", "model"),
        ("vectorised_active", "bare CSR"),
    ):
        lines.append(f"  adopters at the end by seed, {label:<9} {w[key]}")
        print(lines[-1], flush=True)
    res["targets"] = {k: {"op": op, "target": t} for k, (op, t) in TARGETS.items()}
    if out:
        Path(out).write_text(json.dumps(res, indent=1))
        print(f"wrote {out}")
    return res
