"""What each of next practice's mechanisms does: ablations at 300 schools, 16 paired seeds.

Run from the repository root: .venv/bin/python docs/robustness/ablation.py
"""

import numpy as np

from sim.experiments.runner import run_model
from sim.model.scenario import load_scenario

SIZE = {"n_schools": 300, "n_authorities": 4}
TD_LEVERS = {
    "tightness": 0.9,
    "lever_agenda": 0.8,
    "lever_evidence": 0.3,
    "lever_capacity": 0.5,
    "lever_engagement": 0.2,
}
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

SEEDS = range(16)
rows = {}
for name, (scenario, overrides) in CASES.items():
    params = load_scenario(f"scenarios/{scenario}.yaml", {**SIZE, **overrides})
    outs = [run_model(params, seed).summary["outcomes"] for seed in SEEDS]
    rows[name] = {
        k: np.array([o[k] for o in outs]) for k in ("final_perf_mean", "final_spend_public")
    }
ref = rows["next_practice"]["final_perf_mean"]
t = 2.131  # Student t, 15 degrees of freedom, 97.5%
for name, r in rows.items():
    d = r["final_perf_mean"] - ref  # paired: the same seeds
    half = t * d.std(ddof=1) / np.sqrt(len(d)) if d.any() else 0.0
    print(
        f"{name:<32} final_perf_mean {r['final_perf_mean'].mean():.3f}  "
        f"minus next_practice {d.mean():+.3f} [{d.mean() - half:+.3f}, {d.mean() + half:+.3f}]  "
        f"spend_public {r['final_spend_public'].mean():8.0f}"
    )
