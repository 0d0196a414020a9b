"""How well strategies' runs pair up, against the limit: ``python benchmarks/crn.py``.

A comparison of two strategies on the same seeds is a paired one: its precision
is the spread of the paired differences, ``sd(a - b)``, which common random
numbers shrink when the two runs meet the same luck. This prints, for each pair
of strategies and each headline outcome, over ``--reps`` seeds at
``--schools`` schools:

* ``r``: the correlation of the two strategies' outcomes over the seeds;
* ``indep``: the sd of paired differences under independent seeds (replication
  ``r`` of one strategy against replication ``r + 1`` of the other: other seeds,
  the same runs);
* ``shipped``: the sd of paired differences on common seeds with the streams of
  the code in ``--base`` (the per-rule streams read in order, before issue 27),
  when a base tree is given;
* ``new``: the same with this code's keyed draws (:mod:`sim.core.draws`);
* ``floor``: ``|sd_a - sd_b|``, the sd of the differences under perfect pairing
  (outcomes perfectly correlated: no coupling of the two strategies' runs can do
  better, each keeping its own spread);
* ``share``: the share of the possible variance reduction achieved,
  ``(indep^2 - new^2) / (indep^2 - floor^2)``, with a 90% bootstrap interval over
  seeds (and the same for the base code).

The runs of both codes go through the one executor with the run seeds ``compare``
uses (:func:`sim.experiments.seeds.run_seed`, common random numbers). To measure the
shipped streams, unpack the code before issue 27 and name it::

    git archive 8435276 | tar -x -C /tmp/base     # main before the keyed draws
    python benchmarks/crn.py --base /tmp/base --reps 60 --schools 300

The base code runs in a child process with ``PYTHONPATH`` set to it (its first run
compiles its kernels). ``--out`` writes every run's outcomes and the table as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import numpy as np

STRATEGIES = ("next_practice", "top_down", "bottom_up")
OUTCOMES = ("final_perf_mean", "gain_first_2y", "gain_last_5y", "plateau_level")


def collect(reps: int, root_seed: int, schools: int, workers: int) -> dict[str, list[dict]]:
    """Each strategy's outcomes over ``reps`` replications on common seeds, with this code.

    Uses whatever ``sim`` is importable, so the same function measures the base code
    when run with ``PYTHONPATH`` pointing at it. Replication ``r`` runs with
    ``run_seed(root_seed, 0, r, common=True)`` under every strategy.
    """
    import sim
    from sim.experiments.executor import run_batch
    from sim.experiments.seeds import run_seed
    from sim.experiments.sweep import run_nextpractice
    from sim.model.scenario import load_scenario

    scenarios = Path(sim.__file__).resolve().parent.parent / "scenarios"  # that code's own
    params = {
        name: load_scenario(scenarios / f"{name}.yaml", {"n_schools": schools}).model_dump(
            mode="json"
        )
        for name in STRATEGIES
    }
    seeds = [run_seed(root_seed, 0, r, common=True) for r in range(reps)]
    jobs = [(params[name], s, None) for name in STRATEGIES for s in seeds]
    done = list(run_batch(run_nextpractice, jobs, workers=workers, desc="crn runs"))
    if not all(d.ok for d in done):
        raise SystemExit(next(d.error for d in done if not d.ok))
    res = [d.value for d in done]
    return {
        name: [{k: res[i * reps + r][k] for k in OUTCOMES} for r in range(reps)]
        for i, name in enumerate(STRATEGIES)
    }


def collect_base(base: Path, reps: int, root_seed: int, schools: int, workers: int) -> dict:
    """:func:`collect` run on the code in ``base``, in a child process."""
    env = {**os.environ, "PYTHONPATH": str(base)}
    args = [sys.executable, "-P", __file__, "--collect", "--reps", str(reps)]
    args += ["--seed", str(root_seed), "--schools", str(schools), "--workers", str(workers)]
    out = subprocess.run(args, env=env, cwd=base, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"the base code's runs failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _stats(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Correlation, sd of paired and of shifted (independent) differences, the floor, the share."""
    indep = float(np.std(a - np.roll(b, -1), ddof=1))
    paired = float(np.std(a - b, ddof=1))
    floor = abs(float(np.std(a, ddof=1)) - float(np.std(b, ddof=1)))
    possible = indep**2 - floor**2
    return {
        "r": float(np.corrcoef(a, b)[0, 1]),
        "indep": indep,
        "paired": paired,
        "floor": floor,
        "share": (indep**2 - paired**2) / possible if possible > 0 else float("nan"),
    }


def _share_interval(a: np.ndarray, b: np.ndarray, n_boot: int = 2000) -> tuple[float, float]:
    """90% bootstrap interval of the share of the possible reduction, resampling seeds."""
    rng = np.random.default_rng(0)
    n = len(a)
    shares = []
    for _ in range(n_boot):
        i = rng.integers(0, n, n)
        # independent pairs: each drawn replication against the next one of the other strategy
        j = (i + 1) % n
        indep = np.var(a[i] - b[j], ddof=1)
        paired = np.var(a[i] - b[i], ddof=1)
        floor = (np.std(a[i], ddof=1) - np.std(b[i], ddof=1)) ** 2
        if indep > floor:
            shares.append((indep - paired) / (indep - floor))
    lo, hi = np.percentile(shares, [5, 95])
    return float(lo), float(hi)


def table(new: dict, base: dict | None) -> list[dict]:
    """One row per pair of strategies and outcome."""
    rows = []
    for x, y in combinations(STRATEGIES, 2):
        for key in OUTCOMES:
            a = np.array([r[key] for r in new[x]])
            b = np.array([r[key] for r in new[y]])
            row = {"pair": f"{x} - {y}", "outcome": key, **_stats(a, b)}
            row["share_lo"], row["share_hi"] = _share_interval(a, b)
            row["sd_a"], row["sd_b"] = float(np.std(a, ddof=1)), float(np.std(b, ddof=1))
            if base is not None:
                a0 = np.array([r[key] for r in base[x]])
                b0 = np.array([r[key] for r in base[y]])
                s0 = _stats(a0, b0)
                row["r_shipped"], row["shipped"] = s0["r"], s0["paired"]
                row["share_shipped"] = s0["share"]
                row["shipped_lo"], row["shipped_hi"] = _share_interval(a0, b0)
                row["indep_shipped"], row["floor_shipped"] = s0["indep"], s0["floor"]
            rows.append(row)
    return rows


def show(rows: list[dict], reps: int, schools: int) -> str:
    """The table as text (a markdown table)."""
    has_base = "shipped" in rows[0]
    head = "| pair | outcome | r (new) | sd indep | "
    head += "sd shipped | " if has_base else ""
    head += "sd new | floor | share new (90%) |"
    head += " r (shipped) | share shipped (90%) |" if has_base else ""
    lines = [f"{reps} seeds, {schools} schools; sd of paired differences", "", head]
    lines.append("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        cells = [r["pair"], r["outcome"], f"{r['r']:.2f}", f"{r['indep']:.4f}"]
        if has_base:
            cells.append(f"{r['shipped']:.4f}")
        cells += [
            f"{r['paired']:.4f}",
            f"{r['floor']:.4f}",
            f"{r['share']:.2f} ({r['share_lo']:.2f} to {r['share_hi']:.2f})",
        ]
        if has_base:
            cells += [
                f"{r['r_shipped']:.2f}",
                f"{r['share_shipped']:.2f} ({r['shipped_lo']:.2f} to {r['shipped_hi']:.2f})",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Run both codes (or this one), print the table; ``--collect`` prints this code's runs."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--schools", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--base", type=Path, help="a tree of the code before keyed draws")
    ap.add_argument("--out", type=Path, help="write the runs and the table as JSON")
    ap.add_argument("--collect", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.collect:
        print(json.dumps(collect(a.reps, a.seed, a.schools, a.workers)))
        return
    new = collect(a.reps, a.seed, a.schools, a.workers)
    base = collect_base(a.base, a.reps, a.seed, a.schools, a.workers) if a.base else None
    rows = table(new, base)
    print(show(rows, a.reps, a.schools))
    if a.out:
        a.out.write_text(json.dumps({"new": new, "base": base, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
