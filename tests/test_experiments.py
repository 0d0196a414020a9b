"""Experiment files: declarations, strict validation, designs and seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.core.errors import UserError
from sim.experiments import (
    declared_factors,
    default_problem,
    load_experiment,
    plan_experiment,
    resolve_scenario,
    run_seed,
)
from sim.model import params as params_module
from sim.model.params import Params

ROOT = Path(__file__).resolve().parent.parent
# calibrate_*.yaml are calibration files (tests/test_calibrate.py), not sweep experiments.
EXPERIMENTS = sorted(
    p for p in (ROOT / "experiments").glob("*.yaml") if not p.name.startswith("calibrate_")
)


def write(tmp_path: Path, data: dict | str, name: str = "exp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def ishigami(**kw) -> dict:
    base = {"model": "ishigami", "root_seed": 1, "design": {"method": "sobol", "n": 8}}
    base.update(kw)
    return base


def refused(tmp_path: Path, data: dict | str) -> str:
    with pytest.raises(UserError) as err:
        plan_experiment(write(tmp_path, data))
    return str(err.value)


# ------------------------------------------------------------------ declarations


def test_factors_come_from_the_parameter_declarations():
    declared = declared_factors(Params)
    swept = {n: f.sweep for n, f in declared.items() if f.sweep is not None}
    assert swept == params_module.factors()
    assert {f.kind for f in declared.values()} == {"uncertainty", "lever"}


def test_the_salib_problem_is_generated_not_typed():
    problem = default_problem()
    ranges = dict(zip(problem["names"], map(tuple, problem["bounds"]), strict=True))
    assert ranges == params_module.factors()
    assert problem["num_vars"] == len(problem["names"])
    # Uncertainties (X) first, then levers (L), as in EMA workbench's XLRM.
    kinds = [declared_factors(Params)[n].kind for n in problem["names"]]
    assert kinds == sorted(kinds, key=["uncertainty", "lever"].index)


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_every_shipped_experiment_plans(path):
    plan = plan_experiment(path)
    assert plan.n_runs == len(plan.design) * plan.experiment.replications > 0
    assert set(plan.outcomes) <= set(plan.model.outcome_names())


def test_the_shipped_experiments_are_the_ones_the_issue_asks_for():
    assert {p.stem for p in EXPERIMENTS} >= {
        "plateau_sobol",
        "plateau_morris",
        "tight_loose",
        "strategies",
    }
    sobol = plan_experiment(ROOT / "experiments/plateau_sobol.yaml")
    # The study is about the strategies' levers: the dial and next practice's own two.
    assert {"tightness", "field_trials.n_trials", "brokering.n_broker"} <= set(
        sobol.experiment.design.factors
    )


@pytest.mark.parametrize("name", ["plateau_sobol", "plateau_morris"])
def test_a_sensitivity_study_header_states_the_runs_it_plans(name):
    """The header's cost is the plan's: a re-planned design cannot leave an old count."""
    path = ROOT / f"experiments/{name}.yaml"
    plan = plan_experiment(path)
    lines = path.read_text().splitlines()
    header = " ".join(line.lstrip("#").strip() for line in lines if line.startswith("#"))
    assert f"{len(plan.design):,} parameter sets" in header
    assert f"{plan.n_runs:,} runs" in header


# ------------------------------------------------------------------ strict validation


def test_unknown_key_is_refused_with_the_valid_keys(tmp_path):
    msg = refused(tmp_path, ishigami(replication=3))
    assert "exp.yaml" in msg and "unknown key 'replication'" in msg
    assert "replications" in msg and "root_seed" in msg


def test_unknown_design_key_lists_the_keys_of_that_design(tmp_path):
    msg = refused(tmp_path, ishigami(design={"method": "sobol", "n": 8, "second": True}))
    assert "design.second" in msg and "second_order" in msg


def test_unknown_method_lists_the_methods(tmp_path):
    msg = refused(tmp_path, ishigami(design={"method": "sobel", "n": 8}))
    assert "sobol, morris, lhs, grid, list" in msg


def test_out_of_range_names_key_range_and_fix(tmp_path):
    msg = refused(tmp_path, ishigami(replications=0))
    assert "replications" in msg and "greater than or equal to 1" in msg and "Fix:" in msg


def test_wrong_type_is_refused_not_coerced(tmp_path):
    msg = refused(tmp_path, ishigami(replications="3"))
    assert 'replications: "3" is text' in msg and "write replications: 3 without quotes" in msg


def test_sobol_sample_size_must_be_a_power_of_two(tmp_path):
    msg = refused(tmp_path, ishigami(design={"method": "sobol", "n": 100}))
    assert "power of 2" in msg and "64 or 128" in msg


def test_missing_root_seed_is_named(tmp_path):
    data = ishigami()
    del data["root_seed"]
    assert "root_seed: required" in refused(tmp_path, data)


def test_bad_yaml_says_where(tmp_path):
    msg = refused(tmp_path, "model: ishigami\ndesign: [unclosed\n")
    assert "exp.yaml" in msg and "line" in msg and "not valid YAML" in msg


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no such experiment file"):
        load_experiment(tmp_path / "nope.yaml")


def test_unknown_factor_lists_uncertainties_and_levers(tmp_path):
    msg = refused(
        tmp_path, {"root_seed": 1, "design": {"method": "sobol", "n": 8, "factors": ["tightnes"]}}
    )
    assert "unknown factor 'tightnes'" in msg
    assert "uncertainties:" in msg and "heads_leave.p_head_leave" in msg
    assert "levers:" in msg and "tightness" in msg


def test_structure_parameter_is_not_a_factor_and_the_fix_says_overrides(tmp_path):
    msg = refused(
        tmp_path, {"root_seed": 1, "design": {"method": "sobol", "n": 8, "factors": ["n_schools"]}}
    )
    assert "structure parameter" in msg and "overrides" in msg


def test_range_outside_the_validation_bounds_is_refused(tmp_path):
    design = {"method": "sobol", "n": 8, "factors": {"tightness": {"range": [0, 2]}}}
    msg = refused(tmp_path, {"root_seed": 1, "design": design})
    assert "design.factors.tightness.range" in msg and "[0, 1]" in msg and "narrow" in msg


def test_a_range_may_narrow_the_declared_sweep(tmp_path):
    design = {"method": "sobol", "n": 8, "factors": {"tightness": {"range": [0.2, 0.6]}}}
    plan = plan_experiment(write(tmp_path, {"root_seed": 1, "design": design}))
    assert plan.problem["bounds"] == [[0.2, 0.6]]
    assert plan.design["tightness"].between(0.2, 0.6).all()


def test_categorical_factor_cannot_be_sampled(tmp_path):
    design = {"method": "lhs", "n": 4, "factors": ["strategy"]}
    msg = refused(tmp_path, ishigami(design=design))
    assert "'strategy'" in msg and "grid or list" in msg


def test_grid_value_out_of_range_names_the_value(tmp_path):
    design = {"method": "grid", "factors": {"tightness": {"values": [0.5, 1.5]}}}
    msg = refused(tmp_path, {"root_seed": 1, "design": design})
    assert "design.factors.tightness.values[1]" in msg and "less than or equal to 1" in msg


def test_unknown_strategy_in_a_list_is_refused_with_the_valid_names(tmp_path):
    design = {"method": "list", "rows": [{"strategy": "sideways"}]}
    msg = refused(tmp_path, {"root_seed": 1, "design": design})
    assert "design.rows[0].strategy" in msg and "next_practice" in msg


def test_unknown_outcome_lists_the_outcomes(tmp_path):
    msg = refused(tmp_path, ishigami(outcomes=["z"]))
    assert "unknown outcome(s) 'z'" in msg and "y_clean" in msg


def test_bad_override_names_the_key(tmp_path):
    msg = refused(
        tmp_path,
        {"root_seed": 1, "overrides": {"n_schoolz": 10}, "design": {"method": "sobol", "n": 8}},
    )
    assert "n_schoolz" in msg


def test_missing_scenario_file_is_named(tmp_path):
    msg = refused(
        tmp_path,
        {"root_seed": 1, "scenario": "nowhere.yaml", "design": {"method": "sobol", "n": 8}},
    )
    assert "nowhere.yaml" in msg and "not found" in msg


# ------------------------------------------------------------------ designs and seeds


def test_sobol_design_size_and_reproducibility(tmp_path):
    path = write(tmp_path, ishigami(replications=2))
    a, b = plan_experiment(path), plan_experiment(path)
    assert len(a.design) == 8 * (2 * 3 + 2) and a.n_runs == 2 * len(a.design)
    assert a.design.equals(b.design)
    other = plan_experiment(write(tmp_path, ishigami(root_seed=2), "other.yaml"))
    assert not np.allclose(a.design.to_numpy(), other.design.to_numpy())


def test_morris_and_lhs_sizes(tmp_path):
    morris = plan_experiment(write(tmp_path, ishigami(design={"method": "morris", "n": 5})))
    assert len(morris.design) == 5 * (3 + 1)
    lhs = plan_experiment(write(tmp_path, ishigami(design={"method": "lhs", "n": 7}), "l.yaml"))
    assert len(lhs.design) == 7
    # Latin hypercube: each of the 7 strata of each factor holds exactly one point.
    strata = np.floor((lhs.design["x1"] + np.pi) / (2 * np.pi) * 7).astype(int)
    assert sorted(strata) == list(range(7))


def test_grid_is_the_full_product_in_declared_order(tmp_path):
    design = {
        "method": "grid",
        "factors": {"x1": {"range": [0, 1], "n": 3}, "strategy": {"values": ["plain", "shifted"]}},
    }
    plan = plan_experiment(write(tmp_path, ishigami(design=design)))
    assert plan.design.to_dict("list") == {
        "x1": [0.0, 0.0, 0.5, 0.5, 1.0, 1.0],
        "strategy": ["plain", "shifted"] * 3,
    }


def test_integer_factors_are_rounded_when_applied(tmp_path):
    design = {"method": "sobol", "n": 8, "factors": ["field_trials.n_trials"]}
    plan = plan_experiment(write(tmp_path, {"root_seed": 1, "design": design}))
    values = [plan.applied(row)["field_trials.n_trials"] for _, row in plan.design.iterrows()]
    assert all(isinstance(v, int) for v in values) and 0 <= min(values) <= max(values) <= 8


def test_scenario_files_can_be_a_grid_factor(tmp_path):
    scenarios = [str(ROOT / "scenarios" / f"{s}.yaml") for s in ("top_down", "bottom_up")]
    design = {
        "method": "grid",
        "factors": {"scenario": {"values": scenarios}, "tightness": {"values": [0.0, 1.0]}},
    }
    plan = plan_experiment(
        write(tmp_path, {"root_seed": 1, "overrides": {"n_schools": 200}, "design": design})
    )
    assert list(plan.bases) == ["top_down", "bottom_up"]
    row = plan.applied(plan.design.iloc[1])
    params = plan.params_for(row)
    assert params["strategy"] == "top_down" and params["tightness"] == 1.0
    assert params["n_schools"] == 200  # the experiment's overrides apply to every scenario
    assert plan.params_for(plan.applied(plan.design.iloc[2]))["strategy"] == "bottom_up"


def test_run_seeds_depend_only_on_root_row_and_replication():
    seeds = {run_seed(5, row, rep, common=False) for row in range(50) for rep in range(4)}
    assert len(seeds) == 200 and all(0 <= s < 2**63 for s in seeds)
    assert run_seed(5, 3, 1, common=False) == run_seed(5, 3, 1, common=False)
    assert run_seed(5, 3, 1, common=False) != run_seed(6, 3, 1, common=False)


def test_common_seeds_depend_only_on_root_and_replication():
    by_rep = [{run_seed(5, row, rep, common=True) for row in range(50)} for rep in range(4)]
    assert all(len(s) == 1 for s in by_rep)  # the same seed in every row
    assert len(set().union(*by_rep)) == 4  # a different one per replication
    assert run_seed(5, 0, 1, common=True) != run_seed(6, 0, 1, common=True)
    assert run_seed(5, 0, 1, common=True) not in {run_seed(5, 0, 1, common=False)}


def test_a_named_scenario_is_found_beside_the_file_then_built_in(tmp_path):
    """The public lookup that experiment and calibration files share."""
    import sim.experiments

    exp = tmp_path / "sub" / "exp.yaml"
    exp.parent.mkdir()
    (exp.parent / "mine.yaml").write_text("extends: top_down\n")
    assert resolve_scenario(exp, "mine.yaml") == exp.parent / "mine.yaml"
    assert resolve_scenario(exp, "top_down").name == "top_down.yaml"
    with pytest.raises(UserError, match=r"exp\.yaml: scenario: "):
        resolve_scenario(exp, "no_such_scenario")
    assert not hasattr(sim.experiments, "_resolve_scenario")  # no private re-export


def test_the_package_re_exports_lazily_what_it_declares():
    """``sim.experiments`` resolves its names on first use (PEP 562): each name in its table
    is its module's object, the block static tools read lists the same names from the same
    modules, and importing the executor alone does not import the schema."""
    import ast
    import importlib
    import subprocess
    import sys

    import sim.experiments as pkg

    tree = ast.parse(Path(pkg.__file__).read_text(encoding="utf-8"))
    static = {
        alias.name: node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sim.experiments.")
        for alias in node.names
    }
    assert static == pkg._WHERE
    for name, module in pkg._WHERE.items():
        assert getattr(pkg, name) is getattr(importlib.import_module(module), name)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        pkg.nothing_here  # noqa: B018
    code = "import sys, sim.experiments.executor; print('sim.experiments.schema' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
