"""Paired-difference intervals between strategies: ``python benchmarks/paired_intervals.py``.

Runs each strategy scenario for the same replications (same seeds: common
random numbers) and prints, for each contrast against ``next_practice`` and
each main outcome, the mean paired difference and the width of its 90%
interval (Student t over replications). Narrower intervals at the same number
of replications mean the seeds are shared more usefully between strategies:
issue 20 measures how much separate random streams per rule narrow them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy import stats

from sim.experiments.executor import run_batch
from sim.experiments.seeds import run_seed
from sim.experiments.sweep import run_nextpractice
from sim.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("next_practice", "top_down", "bottom_up")
OUTCOMES = (
    "final_perf_mean",
    "plateau_level",
    "gain_last_5y",
    "gain_first_2y",
    "final_practices_in_use",
    "final_ownership",
)


def paired_table(reps: int, root_seed: int, workers: int) -> list[dict[str, float | str]]:
    """Mean paired difference and 90% interval width per contrast and outcome.

    Runs go through the one executor with replication ``r`` seeded as ``compare``
    seeds it (:func:`sim.experiments.seeds.run_seed`, common random numbers).
    """
    params = {
        name: load_scenario(ROOT / "scenarios" / f"{name}.yaml").model_dump(mode="json")
        for name in SCENARIOS
    }
    seeds = [run_seed(root_seed, 0, r, common=True) for r in range(reps)]
    jobs = [(params[name], s, None) for name in SCENARIOS for s in seeds]
    done = list(run_batch(run_nextpractice, jobs, workers=workers, desc="paired intervals"))
    if not all(d.ok for d in done):
        raise SystemExit(next(d.error for d in done if not d.ok))
    res = [d.value for d in done]
    by = {name: res[i * reps : (i + 1) * reps] for i, name in enumerate(SCENARIOS)}
    tq = stats.t.ppf(0.95, reps - 1)
    rows = []
    for other in ("top_down", "bottom_up"):
        for key in OUTCOMES:
            d = np.array(
                [a[key] - b[key] for a, b in zip(by[other], by["next_practice"], strict=True)]
            )
            sd = float(np.std(d, ddof=1))
            rows.append(
                {
                    "contrast": f"{other} - next_practice",
                    "outcome": key,
                    "mean": float(d.mean()),
                    "sd": sd,
                    "width90": float(2 * tq * sd / np.sqrt(reps)),
                }
            )
    return rows


def main() -> None:
    """Print the table; with ``--out``, also write it as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", help="write the rows as JSON to this file")
    args = ap.parse_args()
    rows = paired_table(args.reps, args.seed, args.workers)
    print(f"{'contrast':<28}{'outcome':<26}{'mean':>10}{'sd':>10}{'90% width':>11}")
    for r in rows:
        print(
            f"{r['contrast']:<28}{r['outcome']:<26}{r['mean']:>10.4f}{r['sd']:>10.4f}"
            f"{r['width90']:>11.4f}"
        )
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
