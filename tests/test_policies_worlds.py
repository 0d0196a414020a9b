"""Policies are strategies with their levers; worlds vary uncertainties, and levers when asked.

Issue 28, item 4: a robustness design's policy names its lever values (budgets, also as
totals a year; trials; facilitation), the manifest records every lever of every policy
and where each world factor's range comes from (sim.model.basis); a lever becomes a world
factor only when the design names it in ``worlds.levers``, never one the policies differ
in; and the rounds of added seeds (``resolve:``) run with such designs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sim.analysis.analyze import analyze
from sim.core.errors import UserError
from sim.experiments import plan_experiment
from sim.experiments.sweep import run_sweep
from sim.model.basis import KINDS, basis_of, basis_table, param_basis, range_basis
from sim.model.params import field_info

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def _write(tmp: Path, design: dict, **top) -> Path:
    spec = {
        "root_seed": 3,
        "overrides": {"n_schools": 200, "n_authorities": 2},
        "steps": 12,
        "design": {
            "method": "robustness",
            "worlds": {"n": 4},
            "measures": {"final_perf_mean": "max"},
            **design,
        },
        **top,
    }
    path = tmp / "exp.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_a_policy_names_its_levers_and_the_manifest_lists_them(tmp_path):
    path = _write(
        tmp_path,
        {
            "policies": [
                {"name": "td", "scenario": str(SCENARIOS / "top_down.yaml")},
                {
                    "name": "np_lean",
                    "scenario": str(SCENARIOS / "next_practice.yaml"),
                    "levers": {
                        "budget_centre_total": 0.4,  # GBP m a year over 200 schools: 2k each
                        "field_trials.n_trials": 1,
                        "brokering.n_broker": 1.0,
                    },
                },
            ]
        },
    )
    plan = plan_experiment(path)
    levers = plan.extra["policy_levers"]
    assert levers["np_lean"]["budget_centre"] == pytest.approx(2.0)
    assert levers["np_lean"]["field_trials.n_trials"] == 1
    assert levers["np_lean"]["brokering.n_broker"] == 1.0
    assert levers["td"]["strategy"] == "top_down"
    assert plan.bases["np_lean"]["budget_centre"] == pytest.approx(2.0)
    # Every world factor is an uncertainty the runs read, and each has a basis.
    basis = plan.extra["world_factor_basis"]
    assert sorted(sum(basis.values(), [])) == sorted(plan.extra["world_factors"])
    assert set(basis) == set(KINDS)


def test_a_budget_twice_is_refused(tmp_path):
    path = _write(
        tmp_path,
        {
            "policies": [
                {"name": "a", "scenario": str(SCENARIOS / "top_down.yaml")},
                {
                    "name": "b",
                    "scenario": str(SCENARIOS / "top_down.yaml"),
                    "levers": {"budget_centre_total": 1.0, "budget_centre": 3.0},
                },
            ]
        },
    )
    with pytest.raises(UserError, match="give budget_centre_total or budget_centre, not both"):
        plan_experiment(path)


def test_levers_vary_across_worlds_only_when_named(tmp_path):
    policies = [
        {"name": "td", "scenario": str(SCENARIOS / "top_down.yaml")},
        {"name": "np", "scenario": str(SCENARIOS / "next_practice.yaml")},
    ]
    plan = plan_experiment(_write(tmp_path, {"policies": policies}))
    assert "budget_centre" not in plan.extra["world_factors"]  # a policy's, by default
    worlds = {"n": 4, "levers": ["budget_centre", "field_trials.n_trials"]}
    plan = plan_experiment(_write(tmp_path, {"policies": policies, "worlds": worlds}))
    factors = plan.extra["world_factors"]
    assert "budget_centre" in factors and "field_trials.n_trials" in factors
    lo, hi = plan.ranges["budget_centre"]
    assert (lo, hi) == tuple(field_info("budget_centre")["sweep"])  # its declared sweep range
    # The worlds' values reach the runs of every policy.
    rows = plan.design[plan.design["world"] == 2]
    for row in rows.to_dict("records"):
        params = plan.params_for(plan.applied(row))
        assert params["budget_centre"] == pytest.approx(row["budget_centre"])
    # Not a lever, or a lever the policies differ in: refused, with the fix.
    with pytest.raises(UserError, match="worlds.levers: 'sd_trial' is not a lever"):
        plan_experiment(
            _write(tmp_path, {"policies": policies, "worlds": {"n": 4, "levers": ["sd_trial"]}})
        )
    with pytest.raises(UserError, match="tightness differs between the policies"):
        plan_experiment(
            _write(tmp_path, {"policies": policies, "worlds": {"n": 4, "levers": ["tightness"]}})
        )
    with pytest.raises(UserError, match="name it in design.worlds.levers"):
        plan_experiment(
            _write(
                tmp_path, {"policies": policies, "worlds": {"n": 4, "factors": ["budget_centre"]}}
            )
        )


def test_rounds_of_added_seeds_run_with_lever_policies_and_lever_worlds(tmp_path):
    # The normal test model: policies differ in a lever (stream), the worlds vary the
    # lever 'mean' (named in worlds.levers) and the uncertainties; the two policies share
    # 'mean', so their difference is noise and the rounds add seeds.
    spec = {
        "model": "normal",
        "root_seed": 5,
        "replications": 2,
        "chunk_size": 10,
        "design": {
            "method": "robustness",
            "policies": [
                {"name": "a", "levers": {"stream": 1}},
                {"name": "b", "levers": {"stream": 2}},
            ],
            "worlds": {
                "n": 6,
                "levers": ["mean"],
                "factors": {"effect": {}, "sd_own": {}, "mean": {"range": [0.0, 1.0]}},
            },
            "measures": {"y": "max"},
            "resolve": {"max_replications": 6},
        },
    }
    path = tmp_path / "rob.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = run_sweep(path, tmp_path / "out", workers=1, progress=False)
    record = json.loads((out / "resolve.json").read_text())
    assert record["rounds"], "no world was within noise: the rounds were not exercised"
    an = analyze(out)
    fails = (an / "failures.csv").read_text()
    assert "policy" in fails and (an / "cases.csv").is_file()
    assert (an / "robustness_tables.md").read_text().count("| y |") >= 2


def test_the_basis_of_a_range_is_read_from_its_reason():
    assert range_basis(None) == "neither"
    assert range_basis("half to twice the default") == "neither"
    assert range_basis("Watts (2002) fig. 1: the cascade window") == "sourced"
    assert range_basis("compliance: well below a chosen practice's ownership (seed 003)") == (
        "sourced"
    )
    assert range_basis("from H2009J's 14.0 a school") == "sourced"
    assert range_basis("a judgement from two derived figures (literature note B5)") == ("judgement")
    table = basis_table()
    assert table and all(r["basis"] in KINDS for r in table)
    grouped = basis_of([r["name"] for r in table])
    assert {k: len(v) for k, v in grouped.items()} == {
        k: sum(r["basis"] == k for r in table) for k in KINDS
    }


@given(st.one_of(st.none(), st.text(max_size=300)))
def test_any_reason_gets_exactly_one_basis(text):
    assert range_basis(text) in KINDS


def test_params_and_the_manifest_classify_every_declared_parameter_alike(capsys):
    """`nextpractice params`, `params --basis` and a sweep's manifest (basis_of) agree.

    They once used two rules (45/45/0 against 14/16/60 for the same uncertainties).
    """
    import re

    from sim.cli import main
    from sim.model.params import parameter_table

    table = parameter_table()
    main(["params"])
    out = capsys.readouterr().out
    printed = {
        label: tuple(map(int, m))
        for label, *m in re.findall(
            r"^  (uncertainties|levers|structure) +(\d+) sourced, +(\d+) judgement, "
            r"+(\d+) (?:none|neither)$",
            out,
            re.MULTILINE,
        )
    }
    kinds = {"uncertainties": "uncertainty", "levers": "lever", "structure": "structure"}
    assert set(printed) == set(kinds)
    for label, kind in kinds.items():
        grouped = basis_of([i["name"] for i in table if i["kind"] == kind])
        assert printed[label] == tuple(len(grouped[k]) for k in KINDS), label
    main(["params", "--basis"])
    listed = capsys.readouterr().out
    grouped = basis_of([i["name"] for i in table if i["kind"] == "uncertainty"])
    for k in KINDS:
        section = re.search(rf"^{k} \((\d+)\):\n((?:  .*\n)*)", listed, re.MULTILINE)
        assert section, k
        names = [line.split()[0] for line in section.group(2).splitlines()]
        assert sorted(names) == sorted(grouped[k])
        assert int(section.group(1)) == len(grouped[k])
    for info in table:  # one rule: the table, the grouping and the counts
        assert basis_of([info["name"]])[param_basis(info)] == [info["name"]]
