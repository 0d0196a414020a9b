"""Issue 28: bounded effects, dip, fade, overload and home cost, each acting as it should.

Starsim style: a parameter low, then high, on the same seeds (common random numbers);
assert the direction of the effect. The arithmetic of combining practices is checked on
hand-made schools, where the answer is known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.model import NextPracticeModel
from sim.model.params import Params
from sim.model.scenario import load_scenario
from sim.rules.practice_effects import Performance
from sim.system.metrics import published

SCEN = Path(__file__).resolve().parent.parent / "scenarios"

SEEDS = (1, 2, 3)


def run(overrides, steps=36, scenario="scenarios/next_practice.yaml", seeds=SEEDS, small=150):
    """The metrics frames of a small system on a few seeds."""
    p = load_scenario(scenario, {"n_schools": small, "n_authorities": 3, **overrides})
    return [NextPracticeModel(p, rng=s).run(steps).metrics_frame() for s in seeds]


def final(frames, metric):
    """Sum over seeds of a metric's last value (paired seeds: a sum compares like with like)."""
    return sum(float(f[metric].iloc[-1]) for f in frames)


# ------------------------------------------------------------------ the arithmetic
def test_substitutes_in_a_domain_add_less_than_their_sum():
    slot_p = np.array([[0, 1, 2]])
    eff = np.array([[0.3, 0.2, 0.1]])
    depth = np.ones((1, 3))
    same = np.array([0, 0, 0])
    apart = np.array([0, 1, 2])
    c_same = Performance.combine(slot_p, eff, depth, same, 3, 0.5)
    c_apart = Performance.combine(slot_p, eff, depth, apart, 3, 0.5)
    assert c_same[0] == pytest.approx(0.3 + 0.5 * (0.2 + 0.1))
    assert c_apart[0] == pytest.approx(0.6)  # across domains they add (complements)
    assert Performance.combine(slot_p, eff, depth, same, 3, 1.0)[0] == pytest.approx(0.6)


def test_harm_is_not_substituted_away():
    slot_p = np.array([[0, 1, -1]])
    eff = np.array([[0.3, -0.2, 0.9]])  # the empty slot's number is never read
    out = Performance.combine(slot_p, eff, np.ones((1, 3)), np.array([0, 0]), 1, 0.5)
    assert out[0] == pytest.approx(0.1)


def test_start_is_where_drawn_and_no_school_passes_its_ceiling():
    p = Params(n_schools=200, n_authorities=2, **{"practice_effects.share_ceiling": 0.9})
    m = NextPracticeModel(p, rng=5)
    rule = next(r for r in m._pipeline if r.slot == "perform")
    x = rule.inputs(m)._replace(rate=1.0, sd=0.0)
    logit = m.schools.logit_perf.copy()
    before = logit.copy()
    rule.perform(rule.keys[0], 0, logit, x)
    assert np.allclose(logit, before, atol=1e-9)  # the target at the start is the start
    # However large the practices' effects, a school below its ceiling stays below it.
    big = x._replace(slot_effect=np.full_like(x.slot_effect, 50.0), depth=np.ones_like(x.depth))
    logit = m.schools.logit_perf.copy()
    rule.perform(rule.keys[0], 0, logit, big)
    ceiling = np.log(0.9 / 0.1)
    below = before < ceiling
    assert (logit[below] < ceiling).all()


def test_published_results_add_a_cohorts_noise():
    perf = np.full(1000, 0.79)
    sd, every, below = published(perf, sizes=[41])
    assert sd == pytest.approx(1 / np.sqrt(41 * 0.79 * 0.21))  # 0.38 (docs/sources.md)
    assert every == pytest.approx(0.79**41)
    assert 0 < below < 0.01
    assert published(np.full(10, 0.5), sizes=[41])[2] > 0.4


# ------------------------------------------------------------------ directions in a run
def test_a_higher_ceiling_lets_performance_rise_further():
    lo = run({"practice_effects.share_ceiling": 0.8}, steps=60)
    hi = run({"practice_effects.share_ceiling": 0.99}, steps=60)
    assert final(hi, "perf_mean") > final(lo, "perf_mean")


def test_weaker_substitutes_lower_performance():
    lo = run({"practice_effects.rel_substitute": 0.0}, steps=60)
    hi = run({"practice_effects.rel_substitute": 1.0}, steps=60)
    assert final(hi, "perf_mean") > final(lo, "perf_mean")


def test_a_deeper_dip_lowers_performance_while_schools_learn():
    lo = run({"practice_effects.rel_dip": 0.0}, steps=24)
    hi = run({"practice_effects.rel_dip": 0.3}, steps=24)
    assert final(hi, "perf_mean") < final(lo, "perf_mean")


def test_more_fade_at_scale_lowers_performance():
    over = {"recombine.p_invent": 0.03}  # many inventions, so that many spread
    lo = run({**over, "rel_effect_spread": 0.0}, steps=60)
    hi = run({**over, "rel_effect_spread": 1.0}, steps=60)
    assert final(hi, "perf_mean") > final(lo, "perf_mean")


def test_overload_leaves_practice_shallower():
    over = {"n_focus": 2.0}  # little room: most schools run more than they can carry
    lo = run({**over, "depth_and_ownership.rel_overload": 0.0})
    hi = run({**over, "depth_and_ownership.rel_overload": 3.0})
    assert final(hi, "depth") < final(lo, "depth")


def test_system_leadership_costs_capacity_at_home():
    over = {"executive_heads.p_exec_head": 0.1}
    lo = run({**over, "executive_heads.rate_home_loss": 0.0})
    hi = run({**over, "executive_heads.rate_home_loss": 0.1})
    assert final(hi, "capacity") < final(lo, "capacity")


# ------------------------------------------------------------------ plausibility patterns
def _schools(top: int = 30, bottom: int = 0, n: int = 1000) -> np.ndarray:
    """True shares of ``n`` schools: normal logits (sd 0.5), ``top`` of them near 99% and
    ``bottom`` near 20%."""
    rng = np.random.default_rng(7)
    logit = rng.normal(0.9, 0.5, n)
    logit[:top] = 4.5
    logit[top : top + bottom] = -1.4
    return 1.0 / (1.0 + np.exp(-logit))


def _frame(final_mean, perf=None):
    import pandas as pd

    steps = np.arange(121)
    df = pd.DataFrame(
        {
            "perf_mean": np.linspace(0.648, final_mean, 121),
            "published_sd": np.full(121, 0.6),
            "share_all_pupils": np.full(121, 0.02),
            "share_below_floor": np.full(121, 0.05),
            "step": steps,
        }
    )
    df.attrs["perf_year10"] = _schools() if perf is None else perf
    return df


def test_plausibility_checks_read_the_bands_and_name_who_is_outside():
    from sim.analysis.validation import PLAUSIBLE, plausibility_checks

    runs = {k: [_frame(0.80), _frame(0.82)] for k in PLAUSIBLE}
    assert all(c.passed for c in plausibility_checks(runs))
    runs["bottom_up"] = [_frame(0.95), _frame(0.97)]  # past any KS2 subject, and gained too much
    bad = {c.name.split(":")[0]: c for c in plausibility_checks(runs)}
    assert not bad["Plausible 1"].passed and "OUTSIDE: bottom_up" in bad["Plausible 1"].verdict
    assert not bad["Plausible 2"].passed
    assert bad["Plausible 3"].passed and bad["Plausible 5"].passed
    runs["bottom_up"] = [_frame(0.60), _frame(0.62)]  # fell over ten years: no source allows it
    bad = {c.name.split(":")[0]: c for c in plausibility_checks(runs)}
    assert not bad["Plausible 2"].passed and "OUTSIDE: bottom_up" in bad["Plausible 2"].verdict


def test_the_extremes_are_read_at_englands_level_not_the_runs_own():
    """Patterns 4 and 5 read the schools moved to the band's year's level: the same schools
    pass or fail whatever national mean the run ended at, and a thin top or a fat bottom
    fails them wherever the run ended."""
    from sim.analysis.validation import PLAUSIBILITY, PLAUSIBLE, plausibility_checks
    from sim.system.metrics import at_level

    good = _schools()
    for level in (0.6, 0.69, 0.85):  # where the run ended: irrelevant to patterns 4 and 5
        runs = {k: [_frame(0.7, at_level(good, level))] for k in PLAUSIBLE}
        c = {c.name.split(":")[0]: c for c in plausibility_checks(runs)}
        assert c["Plausible 4"].passed and c["Plausible 5"].passed, level
        assert "own national mean" in c["Plausible 5"].verdict
    thin = {k: [_frame(0.7, _schools(top=0))] for k in PLAUSIBLE}
    c = {c.name.split(":")[0]: c for c in plausibility_checks(thin)}
    assert not c["Plausible 4"].passed and c["Plausible 5"].passed
    fat = {k: [_frame(0.7, _schools(bottom=120))] for k in PLAUSIBLE}
    c = {c.name.split(":")[0]: c for c in plausibility_checks(fat)}
    assert not c["Plausible 5"].passed
    assert [p.at_level for p in PLAUSIBILITY] == [None, None, None, 0.705, 0.72]


def test_the_levels_are_englands_in_the_bands_years():
    from sim.analysis.validation import PLAUSIBILITY
    from sim.inputs import catalogue

    def level(name, year):
        f = catalogue.load(name)
        return float(f.values[list(f.years).index(year)]) / 100

    four, five = PLAUSIBILITY[3], PLAUSIBILITY[4]
    assert four.at_level == level("ks2_english_level4_england", 1999)
    assert five.at_level == level("ks2_english_and_maths_level4_england", 2009)


def test_a_pattern_run_keeps_its_schools_after_ten_years_and_steps_as_run_model_does():
    from sim.analysis.validation import metrics_of
    from sim.experiments.runner import run_model

    p = load_scenario(
        SCEN / "next_practice.yaml", {"n_schools": 300, "n_authorities": 4, "n_steps": 130}
    )
    frame = metrics_of(p, 11)
    assert frame.equals(run_model(p, 11).metrics)
    ten = NextPracticeModel(p, rng=11).run(120).schools.perf
    np.testing.assert_array_equal(frame.attrs["perf_year10"], ten)


# ------------------------------------------------------------------ at England's level
@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.001, 0.999), min_size=1, max_size=60),
    st.floats(0.01, 0.99),
)
def test_at_level_moves_the_mean_there_and_keeps_the_order(perf, level):
    from sim.system.metrics import at_level

    perf = np.array(perf)
    q = at_level(perf, level)
    assert abs(q.mean() - level) < 1e-9
    order = np.argsort(perf, kind="stable")
    assert np.all(np.diff(q[order]) >= -1e-15)  # one shift: the order is kept
    logit = np.log(q / (1 - q)) - np.log(perf / (1 - perf))
    assert np.ptp(logit) < 1e-6  # and it is one shift


@pytest.mark.parametrize("level", [0.0, 1.0, -0.2, 1.5, float("nan")])
def test_at_level_refuses_a_level_outside_0_1(level):
    from sim.system.metrics import at_level

    with pytest.raises(ValueError, match="level must lie in"):
        at_level(np.array([0.5, 0.6]), level)


def test_at_level_refuses_empty_or_not_finite_shares():
    from sim.system.metrics import at_level

    for bad in (np.array([]), np.array([0.5, np.nan])):
        with pytest.raises(ValueError, match="finite shares"):
            at_level(bad, 0.7)


def test_moving_schools_up_puts_fewer_below_the_floor_and_more_at_100():
    """Direction: the same schools at a higher national level have fewer below the floor and
    more with every pupil at the standard (the reason patterns 4 and 5 fix the level)."""
    from sim.system.metrics import at_level

    s = _schools(top=0)
    lo, hi = published(at_level(s, 0.65)), published(at_level(s, 0.8))
    assert hi[2] < lo[2] and hi[1] > lo[1]
