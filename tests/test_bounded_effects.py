"""Issue 28: bounded effects, dip, fade, overload and home cost, each acting as it should.

Starsim style: a parameter low, then high, on the same seeds (common random numbers);
assert the direction of the effect. The arithmetic of combining practices is checked on
hand-made schools, where the answer is known.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.model import NextPracticeModel
from sim.model.params import Params
from sim.model.scenario import load_scenario
from sim.rules.practice_effects import Performance
from sim.system.metrics import published

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
    sd, every, below = published(perf, cohort=41)
    assert sd == pytest.approx(1 / np.sqrt(41 * 0.79 * 0.21))  # 0.38 (docs/sources.md)
    assert every == pytest.approx(0.79**41)
    assert 0 < below < 0.01
    assert published(np.full(10, 0.5), cohort=41)[2] > 0.4


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
def test_plausibility_checks_read_the_bands_and_name_who_is_outside():
    import pandas as pd

    from sim.analysis.validation import PLAUSIBLE, plausibility_checks

    def frame(final_mean):
        steps = np.arange(121)
        return pd.DataFrame(
            {
                "perf_mean": np.linspace(0.648, final_mean, 121),
                "published_sd": np.full(121, 0.6),
                "share_all_pupils": np.full(121, 0.02),
                "share_below_floor": np.full(121, 0.05),
                "step": steps,
            }
        )

    runs = {k: [frame(0.80), frame(0.82)] for k in PLAUSIBLE}
    assert all(c.passed for c in plausibility_checks(runs))
    runs["bottom_up"] = [frame(0.95), frame(0.97)]  # past any KS2 subject, and gained too much
    bad = {c.name.split(":")[0]: c for c in plausibility_checks(runs)}
    assert not bad["Plausible 1"].passed and "OUTSIDE: bottom_up" in bad["Plausible 1"].verdict
    assert not bad["Plausible 2"].passed
    assert bad["Plausible 3"].passed and bad["Plausible 5"].passed
