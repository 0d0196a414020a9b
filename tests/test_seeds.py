"""Every run's seed, for every kind of design, with common random numbers on and off.

The rule below (:func:`seed_rule`) is the seeding as it was when the choice of what
keys a run's seed moved into :class:`sim.experiments.Plan` (before, the sweep
special-cased robustness designs). It is spelled out from the seed tree itself
(``SeedSequence(root_seed, spawn_key=(0, *key))``, 63 bits), not from the code under
test, and was checked against the sweep before that move:

- grid, list, sampled (sobol, morris, lhs) and compare's list design: with common
  random numbers (the default) the key is ``(replication,)``, the same in every design
  row; with ``seeds: {common: false}`` it is ``(design_row, replication)``;
- robustness (worlds from lhs or from a posterior): ``(world, replication)`` whatever
  ``seeds.common`` says, so every policy in a world meets the same seeds and every
  world its own;
- ``compare --posterior``'s per-replication draws change parameters, never seeds.

The seeds are read from the results the sweep writes, so the local, process-pool and
resume paths are the ones checked (a Dask cluster runs the same run list:
tests/test_sweep.py), and from :meth:`sim.experiments.Plan.run_seed`, where the rule
now lives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.experiments import Plan, plan_experiment, run_seed
from sim.experiments.comparison import compare_plan
from sim.experiments.posterior import replication_overrides
from sim.experiments.sweep import NEXTPRACTICE_OUTCOMES, chunk_files, load_results, sweep_plan
from sim.model.scenario import load_scenario

ROOT_SEED = 29


def tree_seed(root_seed: int, key: tuple[int, ...]) -> int:
    """The seed at ``key`` under the runs' branch (0) of the root seed's tree."""
    state = np.random.SeedSequence(root_seed, spawn_key=(0, *key)).generate_state(
        1, dtype=np.uint64
    )
    return int(state[0] >> np.uint64(1))


def seed_rule(plan: Plan, design_row: int, replication: int) -> int:
    """A run's seed as the sweep gave it before the seeds refactor (module docstring)."""
    root = plan.experiment.root_seed
    if plan.method == "robustness":
        key: tuple[int, ...] = (int(plan.design.loc[design_row, "world"]), replication)
    elif plan.experiment.seeds.common:
        key = (replication,)
    else:
        key = (design_row, replication)
    return tree_seed(root, key)


def test_the_rule_is_run_seeds_formula():
    for row in range(5):
        for rep in range(3):
            assert tree_seed(7, (rep,)) == run_seed(7, row, rep, common=True)
            assert tree_seed(7, (row, rep)) == run_seed(7, row, rep, common=False)


# --------------------------------------------------------------------------------------
# Plans of every kind
# --------------------------------------------------------------------------------------

_DESIGNS: dict[str, dict[str, Any]] = {
    "grid": {
        "method": "grid",
        "factors": {"strategy": {"values": ["plain", "shifted"]}, "x1": {"range": [-1, 1], "n": 3}},
    },
    "list": {
        "method": "list",
        "rows": [{"x1": 0.5}, {"x1": -0.5, "strategy": "shifted"}, {"x2": 1.0}],
    },
    "sobol": {"method": "sobol", "n": 4},
    "morris": {"method": "morris", "n": 3},
    "lhs": {"method": "lhs", "n": 7},
    "robustness_lhs": {
        "method": "robustness",
        "policies": [
            {"name": "plain", "levers": {"strategy": "plain"}},
            {"name": "shifted", "levers": {"strategy": "shifted"}},
        ],
        "worlds": {"n": 5, "factors": "all"},
        "measures": {"y": "max"},
    },
    "robustness_posterior": {
        "method": "robustness",
        "policies": [
            {"name": "plain", "levers": {"strategy": "plain"}},
            {"name": "shifted", "levers": {"strategy": "shifted"}},
        ],
        "worlds": {"method": "posterior", "posterior": "cal", "n": 6},
        "measures": {"y": "max"},
    },
}


def _experiment_plan(tmp: Path, kind: str, common: bool) -> Plan:
    if kind == "robustness_posterior":
        (tmp / "cal").mkdir()
        pd.DataFrame(
            {
                "x1": [-1.0, 0.0, 1.0],
                "x2": [0.5, 1.5, 2.5],
                "x3": [0.1, 0.2, 0.3],
                "weight": [0.2, 0.3, 0.5],
                "generation": [0, 0, 0],
            }
        ).to_parquet(tmp / "cal" / "posterior.parquet")
    spec = {
        "model": "ishigami",
        "root_seed": ROOT_SEED,
        "replications": 3,
        "chunk_size": 4,
        "overrides": {"noise_sd": 0.5},
        "seeds": {"common": common},
        "design": _DESIGNS[kind],
    }
    path = tmp / f"{kind}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return plan_experiment(path)


def _compare_plan(tmp: Path, posterior: bool) -> Plan:
    scenarios = {name: load_scenario(name) for name in ("top_down", "bottom_up")}
    draws = None
    if posterior:  # as `compare --posterior` draws them
        table = pd.DataFrame(
            {"sd_judge": [0.2, 0.4, 0.6], "weight": [0.5, 0.25, 0.25], "generation": [0, 0, 0]}
        )
        draws = replication_overrides(scenarios, 3, table, ROOT_SEED)
    return compare_plan(scenarios, 3, ROOT_SEED, tmp / "cmp", steps=2, per_replication=draws)


def fake_nextpractice(params: dict[str, Any], seed: int, steps: int | None) -> dict[str, float]:
    """Stands in for the real model: every outcome, at once (only the seeds matter here)."""
    return dict.fromkeys(NEXTPRACTICE_OUTCOMES, float(seed % 1000))


CASES = [
    *[(kind, common) for kind in _DESIGNS for common in (True, False)],
    ("compare", True),
    ("compare_posterior", True),
]


def _plan(tmp: Path, kind: str, common: bool) -> Plan:
    if kind.startswith("compare"):
        return _compare_plan(tmp, posterior=kind == "compare_posterior")
    return _experiment_plan(tmp, kind, common)


def _sweep(plan: Plan, out: Path, workers: int = 1) -> Path:
    run_fn = fake_nextpractice if plan.model.name == "nextpractice" else None
    return sweep_plan(plan, out, workers, progress=False, run_fn=run_fn)


@pytest.mark.parametrize(("kind", "common"), CASES)
def test_every_run_keeps_its_seed(tmp_path, kind, common):
    plan = _plan(tmp_path, kind, common)
    df = load_results(_sweep(plan, tmp_path / "out"))
    assert len(df) == plan.n_runs and (df["status"] == "ok").all()
    expected = [seed_rule(plan, r, k) for r, k in zip(df.design_row, df.replication, strict=True)]
    assert df["seed"].tolist() == expected
    assert [
        plan.run_seed(r, k) for r, k in zip(df.design_row, df.replication, strict=True)
    ] == expected
    # The rule's consequences, said plainly: which runs share a seed.
    reps = plan.experiment.replications
    if plan.method == "robustness":
        shared = df.groupby(["world", "replication"])["seed"].nunique()
        assert (shared == 1).all() and df["seed"].nunique() == len(shared)
    elif common:
        assert df["seed"].nunique() == reps
    else:
        assert df["seed"].nunique() == plan.n_runs
    if kind == "compare_posterior":  # the draws are in the results, the seeds as compare's
        assert df["sd_judge"].notna().all()
        assert expected == [
            seed_rule(_compare_plan(tmp_path / "b", False), r, k)
            for r, k in zip(df.design_row, df.replication, strict=True)
        ]


@pytest.mark.parametrize("kind", ["robustness_lhs", "grid"])
def test_two_workers_and_a_resume_write_the_same_files(tmp_path, kind):
    plan = _plan(tmp_path, kind, False)
    one = _sweep(plan, tmp_path / "w1", workers=1)
    two = _sweep(plan, tmp_path / "w2", workers=2)
    files = {k: p.read_bytes() for k, p in chunk_files(one / "results").items()}
    assert len(files) > 2
    assert files == {k: p.read_bytes() for k, p in chunk_files(two / "results").items()}
    chunk_files(two / "results")[1].unlink()  # as if stopped before that chunk
    _sweep(plan, tmp_path / "w2", workers=1)
    assert files == {k: p.read_bytes() for k, p in chunk_files(two / "results").items()}
