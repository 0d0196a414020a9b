"""Costs and budgets (sim/system/costs.py): never overspent, and each cost acts the way it should.

The invariant holds at every step of random scenarios; each cost's direction of
effect is checked by setting it free and then dear under a budget that binds
(averaged over a few seeds, so no number depends on the random stream).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.state import EMPTY
from sim.experiments.runner import run_model
from sim.model.model import NextPracticeModel
from sim.model.params import Params

SMALL = {"n_schools": 60, "n_authorities": 2, "n_towns": 2, "n_steps": 36}


def _params(**kw) -> Params:
    return Params(**{**SMALL, **kw})


@settings(max_examples=12, deadline=None)
@given(
    strategy=st.sampled_from(["top_down", "bottom_up", "next_practice"]),
    budget_centre=st.floats(0, 5),
    budget_authority=st.floats(0, 8),
    **{
        "field_trials.cost_trial_site": st.floats(0, 5),
        "brokering.cost_broker": st.floats(0, 10),
        "mandate.cost_mandate": st.floats(0, 5),
        "mandate.cost_mandate_year": st.floats(0, 20),
    },
    cost_facilitate=st.floats(0, 10),
    cost_capacity=st.floats(0, 10),
    **{
        "executive_heads.cost_exec_support": st.floats(0, 100),
        "executive_heads.p_exec_head": st.floats(0, 0.2),
        "field_trials.n_trials": st.integers(0, 6),
        "brokering.n_broker": st.floats(0, 10),
    },
    tightness=st.floats(0, 1),
    cut=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_no_payer_ever_spends_more_than_it_has_had(seed, cut, **kw):
    extra = {"budget_cut.t_budget_cut": 6, "share_budget_cut": 0.5} if cut else {}
    model = NextPracticeModel(_params(**kw, **extra), rng=seed)
    led = model.ledger
    for _ in range(24):
        model.step()
        assert led.spent_centre <= led.allowance_centre * (1 + 1e-9) + 1e-9
        assert (led.spent_la <= led.allowance_la * (1 + 1e-9) + 1e-9).all()
        assert led.short_centre >= 0 and (led.short_la >= 0).all()


def _mean(outcome: str, seeds=range(3), **kw) -> float:
    return float(np.mean([run_model(_params(**kw), s).summary["outcomes"][outcome] for s in seeds]))


def _trial_site_months(**kw) -> float:
    total = 0
    for seed in range(3):
        model = NextPracticeModel(_params(**kw), rng=seed)
        for _ in range(36):
            model.step()
            total += int((model.schools.trial[: model.schools.n] != EMPTY).sum())
    return total / 3


NP = {
    "strategy": "next_practice",
    "budget_centre": 2.0,
    "field_trials.n_trials": 4,
    "field_trials.dur_cycle": 3.0,
}


def test_dearer_trials_fund_fewer_sites():
    free = _trial_site_months(**NP, **{"field_trials.cost_trial_site": 0.0})
    dear = _trial_site_months(**NP, **{"field_trials.cost_trial_site": 5.0})
    assert free > 0
    assert dear < free


def test_dearer_brokering_costs_more_and_falls_short():
    kw = {
        **NP,
        "field_trials.cost_trial_site": 0.0,
        "threshold_proven": -1.0,
        "brokering.n_broker": 6.0,
        "budget_centre": 0.5,
    }  # free trials prove practice; brokering it is what costs
    assert (
        _mean(
            "final_shortfall",
            **kw,
            **{
                "brokering.cost_broker": 0.0,
                "mandate.cost_mandate": 0.0,
                "mandate.cost_mandate_year": 0.0,
            },
        )
        == 0
    )
    assert (
        _mean(
            "final_shortfall",
            **kw,
            **{
                "brokering.cost_broker": 8.0,
                "mandate.cost_mandate": 0.0,
                "mandate.cost_mandate_year": 0.0,
            },
        )
        > 0
    )
    assert (
        _mean(
            "final_spend_centre",
            **kw,
            **{
                "brokering.cost_broker": 8.0,
                "mandate.cost_mandate": 0.0,
                "mandate.cost_mandate_year": 0.0,
            },
        )
        > 0
    )


def test_dearer_mandates_reach_fewer_schools():
    kw = {
        "strategy": "top_down",
        "tightness": 1.0,
        "budget_centre": 0.5,
        "mandate.cost_mandate_year": 0.0,
    }
    cheap = _mean("final_spend_centre", **kw, **{"mandate.cost_mandate": 0.0})
    assert cheap == 0
    assert _mean("final_shortfall", **kw, **{"mandate.cost_mandate": 3.0}) > 0
    # Fewer schools made to take up the mandate: less of the mandated practice run.
    adopt_free = _adoptions(**kw, **{"mandate.cost_mandate": 0.0})
    adopt_dear = _adoptions(**kw, **{"mandate.cost_mandate": 20.0})
    assert adopt_dear < adopt_free


def test_a_mandate_costs_every_year_it_runs_and_dearer_reaches_fewer():
    """The running cost is charged once a year per school under mandate; short money slows it."""
    kw = {"strategy": "top_down", "tightness": 1.0, "n_steps": 36, "mandate.cost_mandate": 0.0}
    free = run_model(_params(**kw, **{"mandate.cost_mandate_year": 0.0}), 0).metrics
    dear = run_model(_params(**kw, **{"mandate.cost_mandate_year": 6.3}), 0).metrics
    assert free["spend_centre"].iat[-1] == 0
    spend = dear["spend_centre"].to_numpy()
    # Charged at the start of each year only (steps 0, 12, 24: rows 1, 13, 25, row 0
    # being the start): flat in between.
    rises = np.flatnonzero(np.diff(spend) > 0) + 1
    assert set(rises.tolist()) <= {1, 13, 25} and len(rises) >= 2
    # A year's charge is cost_mandate_year per school then running a mandated practice.
    assert 0 < spend[13] - spend[12] <= 6.3 * SMALL["n_schools"] + 1e-9
    # Under a budget that cannot pay it, the mandate reaches fewer schools.
    poor = {**kw, "budget_centre": 1.0}
    assert _adoptions(**poor, **{"mandate.cost_mandate_year": 12.5}) < _adoptions(
        **poor, **{"mandate.cost_mandate_year": 0.0}
    )


def _adoptions(**kw) -> float:
    return float(
        np.mean([run_model(_params(**kw), s).metrics["adoptions"].sum() for s in range(3)])
    )


def test_dearer_capacity_investment_builds_less_capacity():
    kw = {
        "strategy": "next_practice",
        "lever_capacity": 1.0,
        "budget_authority": 2.0,
        "cost_facilitate": 0.0,
        "build.rate_capacity": 0.05,
    }
    assert _mean("final_capacity", **kw, cost_capacity=20.0) < _mean(
        "final_capacity", **kw, cost_capacity=0.0
    )


def test_dearer_facilitation_forms_fewer_ties():
    kw = {
        "strategy": "next_practice",
        "budget_authority": 1.0,
        "cost_capacity": 0.0,
        "facilitated.p_new_tie": 0.05,
        "brokering.n_broker": 0.0,
    }
    assert _mean("final_ties", **kw, cost_facilitate=30.0) < _mean(
        "final_ties", **kw, cost_facilitate=0.0
    )


def test_dearer_executive_support_lifts_less_capacity_and_falls_short():
    """Under a tight authority budget, dear executive headship support is scaled down."""
    kw = {
        "strategy": "bottom_up",
        "budget_authority": 1.0,
        "cost_capacity": 0.0,
        "cost_facilitate": 0.0,
        "executive_heads.p_exec_head": 0.2,
        "executive_heads.rate_exec_support": 0.2,
        "build.rate_capacity": 0.0,
    }
    free = [
        run_model(_params(**kw, **{"executive_heads.cost_exec_support": 0.0}), s).summary[
            "outcomes"
        ]
        for s in range(3)
    ]
    dear = [
        run_model(_params(**kw, **{"executive_heads.cost_exec_support": 100.0}), s).summary[
            "outcomes"
        ]
        for s in range(3)
    ]
    assert all(o["final_shortfall"] == 0 for o in free)
    assert all(o["final_shortfall"] > 0 and o["final_spend_authorities"] > 0 for o in dear)
    assert np.mean([o["final_capacity"] for o in dear]) < np.mean(
        [o["final_capacity"] for o in free]
    )


def test_a_bigger_budget_is_spent_not_short():
    kw = {"strategy": "next_practice", "field_trials.n_trials": 4, "brokering.n_broker": 4.0}
    poor = run_model(_params(**kw, budget_centre=0.2), 1).summary["outcomes"]
    rich = run_model(_params(**kw, budget_centre=50.0), 1).summary["outcomes"]
    assert rich["final_shortfall"] <= poor["final_shortfall"]
    assert rich["final_spend_centre"] >= poor["final_spend_centre"]


def test_bottom_up_centre_spends_nothing():
    out = run_model(_params(strategy="bottom_up"), 1).summary["outcomes"]
    assert out["final_spend_centre"] == 0
    assert out["final_spend_authorities"] > 0  # capacity investment at its lever


@pytest.mark.parametrize("gain,spend", [(0.0, 100.0), (-0.01, 100.0)])
def test_spend_per_point_is_nan_when_nothing_was_gained(gain, spend):
    from sim.system.costs import cost_outcomes

    out = cost_outcomes(0.6, 0.6 + gain, spend)
    assert np.isnan(out["spend_per_point"])
    assert cost_outcomes(0.6, 0.7, 500.0)["spend_per_point"] == pytest.approx(50.0)
    assert cost_outcomes(0.6, 0.7, 500.0)["points_per_million"] == pytest.approx(20.0)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 12), data=st.data())
def test_authorities_at_once_are_each_authority_in_turn(n, data):
    """``Ledger.authorities`` charges and answers exactly as each authority asked in turn."""
    from sim.system.costs import Ledger, share_funded

    def ask_one(led: Ledger, a: int, cost: float) -> float:  # the rule, one authority
        share = share_funded(cost, max(0.0, led.allowance_la[a] - led.spent_la[a]))
        led.spent_la[a] += cost * share
        led.short_la[a] += cost * (1.0 - share)
        return share

    money = st.floats(0, 1e6, allow_nan=False) | st.sampled_from([0.0, 1.0, 5e5])
    allowance = np.array(data.draw(st.lists(money, min_size=n, max_size=n)))
    spent = np.minimum(allowance, data.draw(st.lists(money, min_size=n, max_size=n)))
    spent[data.draw(st.integers(0, n - 1))] += 10.0  # one authority already over its allowance
    cost = np.array(data.draw(st.lists(money, min_size=n, max_size=n)))
    asked = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    mask = data.draw(st.sampled_from([None, asked]))

    def ledger() -> Ledger:
        led = Ledger(n)
        led.allowance_la[:] = allowance
        led.spent_la[:] = spent
        led.short_la[:] = np.arange(n) * 0.5
        return led

    one_by_one, at_once = ledger(), ledger()
    expect = np.ones(n)
    for a in range(n):
        if mask is None or mask[a]:
            expect[a] = ask_one(one_by_one, a, float(cost[a]))
    got = at_once.authorities(cost, asked=mask)
    assert got.tobytes() == expect.tobytes()
    assert at_once.spent_la.tobytes() == one_by_one.spent_la.tobytes()
    assert at_once.short_la.tobytes() == one_by_one.short_la.tobytes()


def _authorities_reference(led, cost, asked=None):
    """``Ledger.authorities`` as it was before its ``where`` masks (8cceac2): fancy indexing."""
    cost = np.asarray(cost, np.float64)
    left = np.maximum(0.0, led.allowance_la - led.spent_la)
    share = np.ones(len(cost))
    short = cost > left
    if asked is not None:
        short &= asked
    share[short] = left[short] / cost[short]
    charged = slice(None) if asked is None else asked
    led.spent_la[charged] += (cost * share)[charged]
    led.short_la[charged] += (cost * (1.0 - share))[charged]
    return share


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 12), data=st.data())
def test_authorities_masks_are_the_fancy_indexed_form_bit_for_bit(n, data):
    """Any floats (NaN, infinities, signed zeros, negatives): the same shares and ledgers."""
    from sim.system.costs import Ledger

    hostile = st.floats() | st.sampled_from([0.0, -0.0, 1.0, np.inf, -np.inf, np.nan])
    rows = [np.array(data.draw(st.lists(hostile, min_size=n, max_size=n))) for _ in range(4)]
    asked = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    mask = data.draw(st.sampled_from([None, asked]))

    def ledger() -> Ledger:
        led = Ledger(n)
        led.allowance_la[:], led.spent_la[:], led.short_la[:] = rows[0], rows[1], rows[2]
        return led

    old, new = ledger(), ledger()
    with np.errstate(all="ignore"):
        want = _authorities_reference(old, rows[3], mask)
        got = new.authorities(rows[3], asked=mask)
    assert _same_bits_or_nans(got, want)
    assert _same_bits_or_nans(new.spent_la, old.spent_la)
    assert _same_bits_or_nans(new.short_la, old.short_la)


def _same_bits_or_nans(a: np.ndarray, b: np.ndarray) -> bool:
    """The same bits, except that a NaN matches a NaN of either sign.

    IEEE 754 leaves the sign of a NaN made from NaNs or ``inf * 0`` to the machine: x86
    passes on the first operand's, and numpy's masked loop (``where=``) and its
    fancy-indexed one may order an addition's operands differently (``nan + nan`` with
    signs -/+ gave +nan one way and -nan the other; hypothesis found it). No result reads
    a NaN's sign.
    """
    nan = np.isnan(a)
    return bool((nan == np.isnan(b)).all()) and a[~nan].tobytes() == b[~nan].tobytes()


def test_a_nan_of_either_sign_matches_only_a_nan():
    """The comparison above: signed NaNs equal, a NaN against a number not, -0.0 not 0.0."""
    assert _same_bits_or_nans(np.array([np.nan, 1.0]), np.array([-np.nan, 1.0]))
    assert not _same_bits_or_nans(np.array([np.nan]), np.array([1.0]))
    assert not _same_bits_or_nans(np.array([-0.0]), np.array([0.0]))


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 12), data=st.data())
def test_fund_authorities_compiled_is_its_numpy_form_bit_for_bit(n, data):
    """One compiled pass charges and scales exactly as the two ``Ledger.authorities`` asks.

    Any floats (NaN, infinities, signed zeros, negatives) in the ledger, facilitation,
    budgets and costs; any stances; schools in any of the authorities. Every number the
    same to the bit, signed zeros included; a NaN where the other form has a NaN (the
    sign a processor gives a NaN made of two operands is the compiler's choice: no run
    meets one, the parameters are finite and the budgets not negative).
    """
    from types import SimpleNamespace

    from sim.core.state import ABSENT, ADMINISTER, ANIMATE
    from sim.system.costs import Ledger, fund_authorities

    hostile = st.floats() | st.sampled_from([0.0, -0.0, 1.0, np.inf, -np.inf, np.nan])
    row = st.lists(hostile, min_size=n, max_size=n)
    rows = [np.array(data.draw(row)) for _ in range(5)]  # allowance, spent, short, fac, budget
    stance = np.array(
        data.draw(
            st.lists(
                st.sampled_from([ABSENT, ADMINISTER, ANIMATE]), **{"min_size": n, "max_size": n}
            )
        ),
        np.int64,
    )
    authority = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=40)), np.int64)
    money = st.floats(0, 1e3) | hostile
    costs = [data.draw(money) for _ in range(3)]  # cost_facilitate, cost_capacity, lever
    dur_step = data.draw(st.sampled_from([1.0, 3.0, 0.5]) | st.floats(0.01, 12))

    def model(compiled: bool) -> SimpleNamespace:
        led = Ledger(n)
        led.allowance_la[:], led.spent_la[:], led.short_la[:] = rows[0], rows[1], rows[2]
        return SimpleNamespace(
            p=SimpleNamespace(
                compiled=compiled,
                dur_step=dur_step,
                cost_facilitate=costs[0],
                cost_capacity=costs[1],
                lever_capacity=costs[2],
            ),
            schools=SimpleNamespace(authority=np.append(authority, [0, 0]), n=len(authority)),
            authorities=SimpleNamespace(
                stance=stance.copy(), facilitation=rows[3].copy(), budget=rows[4].copy()
            ),
            ledger=led,
            capacity_funded=None,
        )

    a, b = model(True), model(False)
    with np.errstate(all="ignore"):
        fund_authorities(a)
        fund_authorities(b)
    for x, y in [
        (a.capacity_funded, b.capacity_funded),
        (a.authorities.facilitation, b.authorities.facilitation),
        (a.ledger.spent_la, b.ledger.spent_la),
        (a.ledger.short_la, b.ledger.short_la),
    ]:
        nan = np.isnan(x)
        assert (nan == np.isnan(y)).all()
        assert x[~nan].tobytes() == y[~nan].tobytes()


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 3000),
    n_la=st.integers(1, 160),
    per_school=st.floats(0, 1e4),
    months=st.sampled_from([1.0 / 12.0, 0.25, 1.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_accrual_is_its_numpy_form(n, n_la, per_school, months, seed):
    """The authorities' allowance for a step, compiled: numpy's bincount and products."""
    from sim.system.costs import _accrue_authorities, _accrue_authorities_numpy

    rng = np.random.default_rng(seed)
    authority = rng.integers(0, n_la, n).astype(np.int32)
    budget = rng.random(n_la) * 1.5
    start = rng.random(n_la) * 1e3
    got, want = start.copy(), start.copy()
    _accrue_authorities(got, authority, per_school, budget, months)
    _accrue_authorities_numpy(want, authority, per_school, budget, months)
    assert got.tobytes() == want.tobytes()
    with pytest.raises(IndexError):
        _accrue_authorities(got, np.array([n_la], np.int32), per_school, budget, months)
