"""Policies x worlds: the design, the robustness measures and scenario discovery.

Known answers: on synthetic tables, a dominated policy has zero best-share and positive
regret in every world; satisficing counts the worlds meeting every target; PRIM finds
a planted box. Through the whole pipeline, the Ishigami model's ``shifted`` strategy adds
exactly ``shift`` to ``y``, and common random numbers make the noise cancel in each
world, so the paired difference is known exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.analysis.analyze import analyze
from sim.analysis.robustness import (
    best_share,
    paired_differences,
    regret,
    regret_summary,
    satisficing,
)
from sim.core.errors import UserError
from sim.experiments import plan_experiment
from sim.experiments.sweep import load_results, run_sweep

# --------------------------------------------------------------------------------------
# Measures on synthetic tables
# --------------------------------------------------------------------------------------


def _table(rng: np.random.Generator, n: int = 200) -> pd.DataFrame:
    a = rng.normal(0.7, 0.05, n)
    b = rng.normal(0.7, 0.05, n)
    return pd.DataFrame({"a": a, "b": b, "worse": np.minimum(a, b) - 0.01})


def test_a_dominated_policy_is_never_best_and_always_regrets():
    t = _table(np.random.default_rng(1))
    share = best_share(t, "max")
    assert share["worse"] == 0
    assert share["a"] + share["b"] == pytest.approx(1)
    r = regret(t, "max")
    assert (r["worse"] > 0).all()
    assert (r >= 0).all().all()
    assert (r.min(axis=1) == 0).all()  # someone is best in every world
    summary = regret_summary(t, "max")
    assert summary.loc["worse", "regret_median"] >= 0.01
    assert not summary.loc["worse", "minimax_regret"]


def test_lower_is_better_turns_the_measures_round():
    t = _table(np.random.default_rng(2))
    assert best_share(-t, "min").equals(best_share(t, "max"))
    pd.testing.assert_frame_equal(regret(-t, "min"), regret(t, "max"))


def test_minimax_regret_picks_the_policy_with_the_smallest_worst_case():
    # steady never loses much; risky is best in most worlds but loses a lot in one.
    t = pd.DataFrame({"risky": [1.0, 1.0, 1.0, 0.0], "steady": [0.9, 0.9, 0.9, 0.9]})
    s = regret_summary(t, "max")
    assert best_share(t)["risky"] == 0.75
    assert s.loc["steady", "regret_max"] == pytest.approx(0.1)
    assert s.loc["risky", "regret_max"] == pytest.approx(0.9)
    assert s["minimax_regret"].tolist() == [False, True]


def test_satisficing_counts_worlds_meeting_every_target():
    perf = pd.DataFrame({"p": [0.85, 0.79, 0.90, 0.95], "q": [0.80, 0.81, 0.70, 0.99]})
    spend = pd.DataFrame({"p": [10, 10, 30, 10], "q": [5, 5, 5, 50]})
    targets = {"perf": {"min": 0.80}, "spend": {"max": 20}}
    share = satisficing({"perf": perf, "spend": spend}, targets)
    # p: worlds 0 and 3 (world 1 misses perf, world 2 misses spend); q: worlds 0 and 1.
    assert share.to_dict() == {"p": 0.5, "q": 0.5}
    assert satisficing({"perf": perf}, {"perf": {"min": 0.0, "max": 1.0}}).tolist() == [1, 1]


def test_paired_differences_know_a_constant_shift():
    rng = np.random.default_rng(3)
    base = rng.normal(size=100)
    t = pd.DataFrame({"a": base + 0.5, "b": base})
    d = paired_differences(t, seed=1).iloc[0]
    assert d["mean_diff"] == pytest.approx(0.5)
    assert d["ci_low"] == pytest.approx(0.5) and d["ci_high"] == pytest.approx(0.5)
    assert d["share_a_above_b"] == 1


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 30), st.integers(2, 5)), elements=st.floats(-1e6, 1e6)
    ),
    st.sampled_from(["max", "min"]),
)
def test_measures_hold_their_invariants_on_any_table(values, better):
    t = pd.DataFrame(values, columns=[f"p{i}" for i in range(values.shape[1])])
    r = regret(t, better)
    assert (r >= 0).all().all()
    assert (r.min(axis=1) <= 1e-9 * (1 + t.abs().max(axis=1))).all()
    share = best_share(t, better)
    assert ((share >= 0) & (share <= 1)).all()
    assert share.sum() >= 1 - 1e-12  # ties count for each tied policy
    assert regret_summary(t, better)["minimax_regret"].sum() == 1


# --------------------------------------------------------------------------------------
# The design, end to end on the Ishigami model
# --------------------------------------------------------------------------------------


def _experiment(tmp: Path, name: str = "rob", **design) -> Path:
    spec = {
        "model": "ishigami",
        "root_seed": 7,
        "replications": 2,
        "chunk_size": 25,
        "overrides": {"noise_sd": 0.5},
        "design": {
            "method": "robustness",
            "policies": [
                {"name": "plain", "levers": {"strategy": "plain"}},
                {"name": "shifted", "levers": {"strategy": "shifted"}},
            ],
            "worlds": {"n": 60, "factors": "all"},
            "measures": {"y": "max"},
            "targets": {"y": {"min": 4.0}},
            **design,
        },
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_every_policy_meets_the_same_seeds_in_a_world(tmp_path):
    plan = plan_experiment(_experiment(tmp_path))
    assert plan.n_runs == 60 * 2 * 2
    assert list(plan.design.columns[:2]) == ["policy", "world"]
    df = load_results(run_sweep(_experiment(tmp_path), tmp_path / "out", workers=1, progress=False))
    seeds = df.pivot_table(index=["world", "replication"], columns="policy", values="seed")
    assert (seeds["plain"] == seeds["shifted"]).all()
    assert seeds["plain"].nunique() == len(seeds)  # and differ between worlds and seeds
    # Common random numbers: the noise cancels, so the difference is the shift exactly.
    y = df.pivot_table(index=["world", "replication"], columns="policy", values="y")
    np.testing.assert_allclose(y["shifted"] - y["plain"], 1.0)


def test_robustness_analysis_gives_the_known_answers(tmp_path):
    out = analyze(run_sweep(_experiment(tmp_path), tmp_path / "out", workers=1, progress=False))
    rob = pd.read_csv(out / "robustness.csv").set_index("policy")
    assert rob.loc["shifted", "best_share"] == 1 and rob.loc["plain", "best_share"] == 0
    assert rob.loc["plain", "regret_median"] == pytest.approx(1.0)
    assert rob.loc["plain", "regret_max"] == pytest.approx(1.0)
    assert bool(rob.loc["shifted", "minimax_regret"])
    pairs = pd.read_csv(out / "paired_differences.csv").iloc[0]
    assert (pairs["a"], pairs["b"]) == ("plain", "shifted")
    assert pairs["mean_diff"] == pytest.approx(-1.0)
    sat = pd.read_csv(out / "satisficing.csv").set_index("policy")["share_satisficing"]
    worlds = pd.read_csv(out / "world_means.csv")
    assert sat["plain"] == pytest.approx((worlds["y[plain]"] >= 4).mean())
    assert sat["shifted"] >= sat["plain"]
    for f in ("regret_y.png", "best_share.png"):
        assert (out / f).stat().st_size > 1000


def test_discovery_through_the_cli_finds_where_a_policy_falls_short(tmp_path):
    from sim.cli import main

    run = run_sweep(
        _experiment(tmp_path, worlds={"n": 200}), tmp_path / "out", workers=1, progress=False
    )
    # y = sin x1 + 7 sin^2 x2 + ...: high y lives where sin^2 x2 is near 1, |x2| near pi/2.
    assert main(["analyze", str(run), "--discover", "y[shifted] > 6"]) == 0
    out = run / "analysis"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["discover"]["n_cases"] > 0
    boxes = pd.read_csv(out / "prim_boxes.csv")
    first = boxes[boxes["box"] == 1]
    assert len(first) >= 1  # restricted on at least one uncertainty, inside its range
    assert (first["lower"] >= first["range_low"]).all()
    assert (first["upper"] <= first["range_high"]).all()
    base_rate = summary["discover"]["n_cases"] / summary["discover"]["n_worlds"]
    assert first["density"].iloc[0] > base_rate + 0.1
    scores = pd.read_csv(out / "feature_scores.csv")
    assert scores.iloc[0]["uncertainty"] == "x2"
    for f in ("prim_tradeoff.png", "feature_scores.png", "prim_trajectory.csv"):
        assert (out / f).exists()


@pytest.mark.parametrize(
    ("design", "match"),
    [
        ({"policies": ["nowhere.yaml", {"name": "x"}]}, "model 'ishigami' has no scenario files"),
        (
            {"policies": [{"name": "a", "levers": {"a": 3.0}}, {"name": "b"}]},
            "levers.a: not a lever",
        ),
        ({"policies": [{"name": "a"}, {"name": "a"}]}, "two policies are called 'a'"),
        (
            {"policies": [{"levers": {"strategy": "plain"}}, {"name": "b"}]},
            "give the policy a name",
        ),
        ({"worlds": {"n": 10, "factors": ["strategy"]}}, "'strategy' is a lever: a policy sets it"),
        ({"worlds": {"n": 10, "factors": ["a"]}}, "'a' is a setting parameter, not an uncertainty"),
        ({"measures": {"z": "max"}}, "design.measures.z: not a recorded outcome"),
        ({"targets": {"y": {}}}, "design.targets.y: give min:, max: or both"),
        ({"measures": {"y": "most"}}, "design.measures.y"),
    ],
)
def test_bad_robustness_designs_are_refused_clearly(tmp_path, design, match):
    with pytest.raises(UserError, match=match):
        plan_experiment(_experiment(tmp_path, **design))


def test_policies_may_not_differ_in_the_world(tmp_path):
    for name, value in (("one", 0.1), ("two", 0.2)):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump({"evidence_review.p_review": value}))
    spec = {
        "root_seed": 1,
        "design": {
            "method": "robustness",
            "policies": ["one.yaml", "two.yaml"],
            "worlds": {"n": 4, "factors": ["heads_leave.p_head_leave"]},
            "measures": {"final_perf_mean": "max"},
        },
    }
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(UserError, match="'one' and 'two' differ in evidence_review.p_review"):
        plan_experiment(path)
    spec["design"]["worlds"]["factors"] = ["evidence_review.p_review"]  # sampled: the world sets it
    path.write_text(yaml.safe_dump(spec))
    plan = plan_experiment(path)
    assert plan.extra["world_factors"] == ["evidence_review.p_review"]


@pytest.mark.parametrize(
    ("expr", "match"),
    [
        ("y < 3", "say which policy's y is meant"),
        ("y[nobody] < 3", "unknown policy 'nobody'"),
        ("z[plain] < 3", "unknown outcome 'z'"),
        ("y[plain] <", "not a valid expression"),
        ("y[plain].real < 3", "Attribute is not allowed"),
        ("__import__('os') < 3", "the only function is abs"),
        ("y[plain] - 3", "gives numbers, not true or false"),
    ],
)
def test_bad_case_expressions_are_refused_before_any_work(tmp_path, expr, match):
    run = run_sweep(
        _experiment(tmp_path, worlds={"n": 4}), tmp_path / "out", workers=1, progress=False
    )
    with pytest.raises(UserError, match=match):
        analyze(run, tmp_path / "an", discover=expr)


# --------------------------------------------------------------------------------------
# PRIM on a planted box
# --------------------------------------------------------------------------------------


def test_prim_recovers_a_planted_box():
    """Cases live in 0.6 < a < 0.9 and b < 0.3 (mass 0.09), c and d are noise; 2000 points.

    Tolerance: each recovered limit within 0.05 of the planted one (a peel removes 5% of
    the remaining points, about 0.05 in a uniform dimension), density above 0.8,
    coverage above 0.75 (the chosen point trades coverage for density), and only a and
    b restricted.
    """
    from sim.analysis.discovery import prim_boxes

    rng = np.random.default_rng(11)
    x = pd.DataFrame(rng.random((2000, 4)), columns=list("abcd"))
    y = ((x["a"] > 0.6) & (x["a"] < 0.9) & (x["b"] < 0.3)).to_numpy()
    flip = rng.random(len(y)) < 0.02  # a little label noise
    boxes, trajectory = prim_boxes(x, y ^ flip, max_boxes=1)
    box = boxes[boxes["box"] == 1].set_index("uncertainty")
    assert set(box.index) == {"a", "b"}
    assert box.loc["a", "lower"] == pytest.approx(0.6, abs=0.05)
    assert box.loc["a", "upper"] == pytest.approx(0.9, abs=0.05)
    assert box.loc["b", "upper"] == pytest.approx(0.3, abs=0.05)
    assert box["density"].iloc[0] > 0.8 and box["coverage"].iloc[0] > 0.75
    assert trajectory["chosen"].sum() == 1


# --------------------------------------------------------------------------------------
# Worlds from a calibration's posterior (issue 19)
# --------------------------------------------------------------------------------------


def _posterior(tmp: Path, **columns) -> Path:
    folder = tmp / "cal"
    folder.mkdir()
    n = len(next(iter(columns.values())))
    pd.DataFrame(
        {**columns, "weight": np.full(n, 1.0 / n), "generation": np.zeros(n, int)}
    ).to_parquet(folder / "posterior.parquet")
    return folder


def _posterior_spec(policies: list[tuple[str, dict]], n: int, posterior: str = "cal") -> dict:
    """A robustness experiment whose worlds are all drawn from ``posterior``."""
    return {
        "root_seed": 3,
        "replications": 1,
        "design": {
            "method": "robustness",
            "policies": [{"name": name, "levers": levers} for name, levers in policies],
            "worlds": {"method": "posterior", "posterior": posterior, "n": n},
            "measures": {"final_perf_mean": "max"},
        },
    }


def test_worlds_drawn_from_a_posterior_take_its_values_and_repeat_with_the_seed(tmp_path):
    _posterior(
        tmp_path, sd_judge=[0.2, 0.4, 0.6], **{"heads_leave.p_head_leave": [0.01, 0.02, 0.03]}
    )
    spec = {
        "root_seed": 3,
        "replications": 1,
        "steps": 2,
        "overrides": {"n_schools": 20, "n_authorities": 2, "n_towns": 1},
        "design": {
            "method": "robustness",
            "policies": [
                {"name": "td", "levers": {"strategy": "top_down"}},
                {"name": "np", "levers": {"strategy": "next_practice"}},
            ],
            "worlds": {"method": "posterior", "posterior": "cal", "n": 12},
            "measures": {"final_perf_mean": "max"},
        },
    }
    path = tmp_path / "post.yaml"
    path.write_text(yaml.safe_dump(spec))
    plan = plan_experiment(path)
    d = plan.design
    assert len(d) == 24 and set(d["policy"]) == {"td", "np"}
    # every world is one of the posterior's particles, the same for both policies
    pairs = set(zip(d["sd_judge"], d["heads_leave.p_head_leave"], strict=True))
    assert pairs <= {(0.2, 0.01), (0.4, 0.02), (0.6, 0.03)}
    per_world = d.groupby("world")[["sd_judge", "heads_leave.p_head_leave"]].nunique()
    assert (per_world == 1).all().all()
    pd.testing.assert_frame_equal(plan_experiment(path).design, d)  # same seed, same worlds


def test_posterior_worlds_leave_a_lever_to_the_policies(tmp_path):
    """A fitted lever (a fact of history) is not a world factor: each policy keeps its own."""
    from sim.analysis.analyze import worlds_note

    _posterior(tmp_path, tightness=[0.2, 0.9], sd_judge=[0.3, 0.5])
    spec = _posterior_spec(
        [
            ("a", {"strategy": "top_down", "tightness": 0.7}),
            ("b", {"strategy": "bottom_up", "tightness": 0.1}),
        ],
        4,
    )
    path = tmp_path / "lever.yaml"
    path.write_text(yaml.safe_dump(spec))
    plan = plan_experiment(path)
    d = plan.design
    assert "tightness" not in d  # not a world factor
    assert plan.extra["policy_levers"]["a"]["tightness"] == 0.7
    assert plan.extra["policy_levers"]["b"]["tightness"] == 0.1
    assert set(d["sd_judge"]) <= {0.3, 0.5}
    assert plan.extra["worlds_from_posterior"] == ["sd_judge"]
    assert plan.extra["worlds_posterior_levers"] == ["tightness"]
    assert "tightness left to each policy" in worlds_note(plan.extra)


def test_posterior_worlds_refuse_an_undeclared_name_and_a_missing_folder(tmp_path):
    _posterior(tmp_path, not_a_parameter=[0.2, 0.4])
    spec = _posterior_spec([("a", {"strategy": "top_down"}), ("b", {"strategy": "bottom_up"})], 4)
    path = tmp_path / "lever.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(UserError, match="'not_a_parameter'.*not a declared uncertainty or lever"):
        plan_experiment(path)
    spec["design"]["worlds"]["posterior"] = "nowhere"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(UserError, match="no posterior.parquet"):
        plan_experiment(path)
