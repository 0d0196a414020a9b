"""What each of next practice's mechanisms does: ablations at 300 schools, 16 paired seeds.

Each configuration is next practice with one mechanism taken away (or top-down, for
comparison), run on the same seeds; the table gives each one's mean final performance,
its paired difference from next practice with a 95% t interval, and its public spend
(the centre and the authorities, GBP thousand over the run).

Run from the repository root: .venv/bin/python docs/robustness/ablation.py
(``--schools``, ``--seeds`` and ``--steps`` run it smaller; ``tests/test_ablation.py``
does, in seconds).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiments.runner import run_model
from sim.model.scenario import load_scenario

#: The shipped size: 300 schools in 4 authorities, 16 paired seeds, each scenario's steps.
N_SCHOOLS, N_AUTHORITIES, N_SEEDS = 300, 4, 16
TD_LEVERS = {
    "tightness": 0.9,
    "lever_agenda": 0.8,
    "lever_evidence": 0.3,
    "lever_capacity": 0.5,
    "lever_engagement": 0.2,
}
REFERENCE = "next_practice"
CASES = {
    "top_down": ("top_down", {}),
    "next_practice": ("next_practice", {}),
    "np, no trials": ("next_practice", {"field_trials.n_trials": 0}),
    "np, no brokering": ("next_practice", {"brokering.n_broker": 0.0}),
    "np, no trials or brokering": (
        "next_practice",
        {"field_trials.n_trials": 0, "brokering.n_broker": 0.0},
    ),
    "np with top-down's levers": ("next_practice", TD_LEVERS),
    "np, administering facilitation": ("next_practice", {"stance.facilitation_animate": 0.2}),
    "np, centre budget 0": ("next_practice", {"budget_centre": 0.0}),
}
#: The table's columns, in order.
COLUMNS = (
    "configuration",
    "final_perf_mean",
    "minus_next_practice",
    "lo",
    "hi",
    "spend_public",
    "spend_centre",
)


def ablation(
    n_schools: int = N_SCHOOLS,
    n_authorities: int = N_AUTHORITIES,
    n_seeds: int = N_SEEDS,
    steps: int | None = None,
) -> pd.DataFrame:
    """Run every configuration on the same seeds and tabulate it (:data:`COLUMNS`).

    Args:
        n_schools: Schools in the system.
        n_authorities: Authorities they are split between.
        n_seeds: Paired seeds per configuration (at least 2, for an interval).
        steps: Steps per run (default: each scenario's ``n_steps``).

    Returns:
        One row per configuration: its mean final performance, the mean paired
        difference from next practice with its 95% t interval (``lo``, ``hi``), and its
        mean public and centre spend at the last step (GBP thousand).
    """
    size = {"n_schools": n_schools, "n_authorities": n_authorities}
    seeds = range(n_seeds)
    runs = {}
    for name, (scenario, overrides) in CASES.items():
        params = load_scenario(f"scenarios/{scenario}.yaml", {**size, **overrides})
        outs = [run_model(params, seed, steps).summary["outcomes"] for seed in seeds]
        runs[name] = {
            k: np.array([o[k] for o in outs])
            for k in ("final_perf_mean", "final_spend_public", "final_spend_centre")
        }
    ref = runs[REFERENCE]["final_perf_mean"]
    t = stats.t.ppf(0.975, n_seeds - 1)  # Student t, n - 1 degrees of freedom, 97.5%
    rows = []
    for name, r in runs.items():
        d = r["final_perf_mean"] - ref  # paired: the same seeds
        half = t * d.std(ddof=1) / np.sqrt(len(d)) if d.any() else 0.0
        rows.append(
            {
                "configuration": name,
                "final_perf_mean": r["final_perf_mean"].mean(),
                "minus_next_practice": d.mean(),
                "lo": d.mean() - half,
                "hi": d.mean() + half,
                "spend_public": r["final_spend_public"].mean(),
                "spend_centre": r["final_spend_centre"].mean(),
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def show(table: pd.DataFrame) -> None:
    """Print the table, a line a configuration."""
    for r in table.itertuples(index=False):
        print(
            f"{r.configuration:<32} final_perf_mean {r.final_perf_mean:.3f}  "
            f"minus next_practice {r.minus_next_practice:+.3f} [{r.lo:+.3f}, {r.hi:+.3f}]  "
            f"spend_public {r.spend_public:8.0f}"
        )


def main(argv: list[str] | None = None) -> pd.DataFrame:
    """Parse the size from the command line (the shipped one by default), run, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schools", type=int, default=N_SCHOOLS, help="schools (default 300)")
    ap.add_argument("--authorities", type=int, default=N_AUTHORITIES, help="(default 4)")
    ap.add_argument("--seeds", type=int, default=N_SEEDS, help="paired seeds (default 16)")
    ap.add_argument("--steps", type=int, default=None, help="steps (default: the scenario's)")
    args = ap.parse_args(argv)
    if args.seeds < 2:
        ap.error("--seeds must be at least 2 (an interval needs two paired differences)")
    table = ablation(args.schools, args.authorities, args.seeds, args.steps)
    show(table)
    return table


if __name__ == "__main__":
    main()
