"""Which mechanism makes next practice win? Ablations at 300 schools, 8 seeds each.

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
    "np, no trials": ("next_practice", {"n_trials": 0}),
    "np, no brokering": ("next_practice", {"n_broker": 0.0}),
    "np, no trials or brokering": ("next_practice", {"n_trials": 0, "n_broker": 0.0}),
    "np with top-down's levers": ("next_practice", TD_LEVERS),
    "np, administering facilitation": ("next_practice", {"facilitation_animate": 0.2}),
    "np, centre budget 0": ("next_practice", {"budget_centre": 0.0}),
}

for name, (scenario, overrides) in CASES.items():
    params = load_scenario(f"scenarios/{scenario}.yaml", {**SIZE, **overrides})
    outs = [run_model(params, seed).summary["outcomes"] for seed in range(8)]
    perf = np.mean([o["final_perf_mean"] for o in outs])
    spend = np.mean([o["final_spend_public"] for o in outs])
    value = np.mean([o["points_per_million"] for o in outs])
    print(
        f"{name:<32} final_perf_mean {perf:.3f}  spend_public {spend:8.0f}  points/GBPm {value:.2f}"
    )
