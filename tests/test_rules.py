"""Direction of effect, one test per rule: set a parameter low, then high (starsim style).

Each comparison uses the same seeds on both sides (common random numbers) and
averages over several, so a test checks the mechanism, not seed luck.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.state import CHOSEN, EMPTY
from sim.model.model import NextPracticeModel
from tests.conftest import mean_over_seeds, small


def _mean_adoptions(**kw):
    tot = 0
    for s in range(5):
        m = NextPracticeModel(small(strategy="bottom_up", **kw), rng=s).run(24)
        tot += m.metrics_frame()["adoptions"].sum()
    return tot


def test_hear_more_exchange_spreads_more():
    assert _mean_adoptions(**{"word_of_mouth.p_exchange": 0.3}) > _mean_adoptions(
        **{"word_of_mouth.p_exchange": 0.02}
    )


def test_adopt_higher_bar_fewer_adoptions():
    assert _mean_adoptions(**{"judged.threshold_adopt": 0.3}) < _mean_adoptions(
        **{"judged.threshold_adopt": 0.0}
    )


def test_adopt_absorptive_capacity():
    assert _mean_adoptions(**{"judged.capacity_absorb": 1.0}) < _mean_adoptions(
        **{"judged.capacity_absorb": 0.1}
    )


def test_adopt_evidence_keeps_poor_practice_out():
    """More evidence quality must not make poor practices last longer."""

    def poor_share(lever):
        shares = []
        for s in range(5):
            m = NextPracticeModel(small(strategy="bottom_up", lever_evidence=lever), rng=s)
            m.run(60)
            sp = m.schools.slot_p
            eff = m.practices.effect[sp[sp != EMPTY]]
            shares.append((eff < 0).mean())
        return np.mean(shares)

    assert poor_share(1.0) <= poor_share(0.0)


def test_invent_creative_space_raises_invention():
    tight = mean_over_seeds("invented", 36, strategy="bottom_up", tightness=1.0)
    loose = mean_over_seeds("invented", 36, strategy="bottom_up", tightness=0.0)
    assert tight == 0  # no creative space and no trial sites under bottom-up
    assert loose > 0


def test_invent_adversity_raises_invention():
    calm = mean_over_seeds("invented", 36, strategy="bottom_up")
    cut = mean_over_seeds(
        "invented",
        36,
        strategy="bottom_up",
        **{"budget_cut.t_budget_cut": 1, "budget_cut.n_authorities_cut": 4},
        share_budget_cut=0.5,
        rel_adversity=6.0,
    )
    assert cut > calm


def test_implement_ownership_sets_depth():
    lo = mean_over_seeds("depth", 24, strategy="top_down", tightness=1.0, init_own_mandated=0.1)
    hi = mean_over_seeds("depth", 24, strategy="top_down", tightness=1.0, init_own_mandated=0.9)
    assert hi > lo


def test_implement_capacity_sets_depth():
    """The rule alone, on a controlled state: the same practices and ownership in every
    school, more than low capacity can carry (a system-level mean depth would mix in how
    many new, shallow practices capable schools take up)."""
    from sim.rules import RULES

    def depth_after(capacity):
        m = NextPracticeModel(small(), rng=1)
        s = m.schools
        k = min(6, s.slot_p.shape[1])
        s.clear_slots(
            np.repeat(np.arange(s.n), s.slot_p.shape[1]), np.tile(np.arange(s.slot_p.shape[1]), s.n)
        )
        s.slot_p[:, :k] = np.arange(k)
        s.slot_own[:, :k] = 0.8
        s.capacity[:] = capacity
        rule = RULES["implement"]["depth_and_ownership"](m)
        for _ in range(24):
            rule.apply(m)
        return s.slot_depth[:, :k].mean()

    assert depth_after(0.8) > depth_after(0.2)


def test_capacity_lever_builds_capacity():
    assert mean_over_seeds("capacity", 36, lever_capacity=1.0) > mean_over_seeds(
        "capacity", 36, lever_capacity=0.0
    )


def test_perform_better_practice_raises_performance():
    lo = mean_over_seeds("perf_mean", 36, strategy="top_down", sd_effect_init=0.05)
    hi = mean_over_seeds("perf_mean", 36, strategy="top_down", sd_effect_init=0.6)
    assert hi > lo


def test_review_evidence_drops_poor_practice_sooner():
    def months_kept(lever):
        m = NextPracticeModel(
            small(
                strategy="bottom_up",
                lever_evidence=lever,
                **{"recombine.p_invent": 0.0},
                n_running_init=0,
                **{"evidence_review.p_review": 1.0},
            ),
            rng=2,
        )
        s = m.schools
        poor = m.practices.append(
            effect=[-0.4],
            cost=[0.05],
            difficulty=[0.3],
            domain=[0],
            origin=[1],
            stage=[0],
            born=[0],
        )[0]
        s.slot_p[:, 0] = poor
        s.slot_own[:, 0] = 0.7
        s.slot_channel[:, 0] = CHOSEN
        s.slot_since[:, 0] = -100
        for t in range(60):
            m.step()
            if not (s.slot_p == poor).any():
                return t
        return 60

    assert months_kept(1.0) <= months_kept(0.0)


def test_ties_engagement_adds_cross_authority_ties():
    lo = mean_over_seeds("ties", 36, lever_engagement=0.0)
    hi = mean_over_seeds("ties", 36, lever_engagement=1.0)
    assert hi > lo


def test_collaborate_appetite_and_adversity_found_collaboratives():
    base = mean_over_seeds("collaboratives", 36, **{"found_and_formalise.p_collab_form": 0.0})
    more = mean_over_seeds("collaboratives", 36, **{"found_and_formalise.p_collab_form": 0.02})
    assert more > base


def test_lead_executive_heads_take_on_schools():
    assert mean_over_seeds("exec_led", 36, **{"executive_heads.p_exec_head": 0.0}) == 0.0
    assert mean_over_seeds("exec_led", 36, **{"executive_heads.p_exec_head": 0.05}) > 0.0


def test_lead_reports_its_takeovers():
    """The takeovers reported are schools now led by an executive head; the controls
    are other schools in the bottom tenth with a head of their own. (No turnover
    here: a federation ends when its head leaves, possibly in the same month.)"""
    m = NextPracticeModel(
        small(**{"executive_heads.p_exec_head": 0.2, "heads_leave.p_head_leave": 0.0}), rng=3
    )
    seen = 0
    for _ in range(12):
        m.step()
        taken, control = m.events["takeovers"]
        n_led = np.bincount(m.schools.head, minlength=m.heads.n)
        assert np.all(n_led[m.schools.head[taken]] > 1)
        assert np.all(n_led[m.schools.head[control]] == 1)
        assert not set(taken.tolist()) & set(control.tolist())
        assert len(taken) + len(control) <= np.ceil(0.1 * m.schools.n) + 1
        seen += len(taken)
    assert seen > 0


def test_turnover_formal_collaboratives_survive():
    def alive(formal):
        return mean_over_seeds(
            "collaboratives",
            48,
            **{"heads_leave.p_head_leave": 0.05, "found_and_formalise.p_collab_form": 0.0},
            share_collab_init=0.4,
            share_formal_init=formal,
            **{"found_and_formalise.p_formalise": 0.0, "heads_leave.p_fade_informal": 1.0},
        )

    assert alive(1.0) > alive(0.0)


def test_shock_cuts_budget_at_the_step():
    m = NextPracticeModel(
        small(
            **{"budget_cut.t_budget_cut": 5, "budget_cut.n_authorities_cut": 1},
            share_budget_cut=0.4,
        ),
        rng=0,
    )
    m.run(5)
    assert m.schools.budget.min() == 1.0
    m.step()
    assert np.isclose(m.authorities.budget.min(), 0.6)
    assert np.isclose(m.schools.budget.min(), 0.6)


def test_centre_mandates_reach_more_when_tighter():
    def share_running_best(tight):
        m = NextPracticeModel(small(strategy="top_down", tightness=tight), rng=1).run(6)
        best = m.mandates[0]
        return (m.schools.slot_p == best).any(axis=1).mean()

    assert share_running_best(1.0) > share_running_best(0.2)


def test_next_practice_runs_field_trials():
    m = NextPracticeModel(
        small(strategy="next_practice", **{"field_trials.n_trials": 3}), rng=4
    ).run(30)
    df = m.metrics_frame()
    assert df["field_trials"].max() > 0
    assert (m.practices.ev_prec[m.n_practices_init : m.practices.n] > 0).any()


def test_lead_federation_supports_the_struggling_school():
    """A federated school closes executive_heads.rate_exec_support of its capacity gap a
    month and takes up the lead school's deepest practice it lacks, with the lead school's
    ownership (free support here: the model has not stepped, so no authority has money
    yet)."""
    from sim.rules import RULES

    m = NextPracticeModel(
        small(
            **{
                "executive_heads.p_exec_head": 0.0,
                "executive_heads.rate_exec_support": 0.25,
                "executive_heads.p_exec_share": 1.0,
                "executive_heads.cost_exec_support": 0.0,
                "executive_heads.rate_home_loss": 0.0,  # the home school's loss: its own test
            },
        ),
        rng=3,
    )
    s = m.schools
    a, b = int(np.argmax(s.logit_perf)), int(np.argmin(s.logit_perf))
    s.capacity[a], s.capacity[b] = 0.9, 0.3
    k = s.slot_p.shape[1]
    s.clear_slots(np.array([a] * k + [b] * k), np.r_[np.arange(k), np.arange(k)])
    s.slot_p[a, 0], s.slot_depth[a, 0], s.slot_own[a, 0] = 0, 0.8, 0.9
    s.head[b] = s.head[a]
    RULES["lead"]["executive_heads"](m).apply(m)
    assert np.isclose(s.capacity[b], 0.3 + 0.25 * 0.6)
    assert s.capacity[a] == 0.9
    col = np.flatnonzero(s.slot_p[b] == 0)
    assert len(col) == 1 and s.slot_own[b, col[0]] == 0.9 and s.slot_channel[b, col[0]] == CHOSEN


def test_add_ties_takes_one_kind_or_each_pairs():
    """A kind for all (int, numpy integer, 0-d array) or one per pair, kept for the ties formed."""
    from sim.model.model import NextPracticeModel
    from sim.rules.actions import add_ties

    for kind, want in (
        (3, [3, 3]),
        (np.int8(4), [4, 4]),
        (np.array(5), [5, 5]),
        ([1, 2, 0], [1, 0]),
        (np.array([2, 5, 4]), [2, 4]),
    ):
        m = NextPracticeModel(small(), rng=1)
        n0 = m.ties.n
        a0, b0 = int(m.ties.a[0]), int(m.ties.b[0])  # already tied: skipped
        formed = add_ties(m, [0, a0, 2], [59, b0, 58], kind, 0.5)
        assert formed.tolist() == [n0, n0 + 1]
        assert m.ties.kind[formed].tolist() == want


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), rounds=st.integers(1, 6))
def test_add_ties_compiled_loop_is_the_two_steps(seed, rounds):
    """:func:`add_ties`' compiled loop (keys and rows at once) leaves what its two steps do.

    Pairs with loops, repeats and pairs already tied; one kind or each pair's; rounds
    that fill the tie table past its capacity (then it grows, by the two steps): the
    same ties (every column, the capacity), keys, version and indices returned.
    """
    import copy

    from sim.model.model import NextPracticeModel
    from sim.rules.actions import add_ties

    rng = np.random.default_rng(seed)
    fast = NextPracticeModel(small(), rng=1)
    slow = copy.deepcopy(fast)
    slow.p = slow.p.model_copy(update={"compiled": False})
    n = fast.schools.n
    for _ in range(rounds):
        m = int(rng.integers(0, 40))
        a = rng.integers(0, n, m)
        b = np.where(rng.random(m) < 0.1, a, rng.integers(0, n, m))
        if m and rng.random() < 0.3:  # pairs already tied
            at = rng.integers(0, fast.ties.n, m)
            a[: m // 2], b[: m // 2] = fast.ties.b[at[: m // 2]], fast.ties.a[at[: m // 2]]
        kind = [3, np.int8(4), np.array(5), rng.integers(0, 6, m)][int(rng.integers(0, 4))]
        trust, formal = float(rng.random()), bool(rng.random() < 0.5)
        got = add_ties(fast, a, b, kind, trust, formal)
        want = add_ties(slow, a, b, kind, trust, formal)
        assert got.dtype == want.dtype and np.array_equal(got, want)
        for name in ("a", "b", "kind", "trust", "alive", "formal"):
            x, y = getattr(fast.ties, name), getattr(slow.ties, name)
            assert x.dtype == y.dtype and np.array_equal(x, y), name
        assert fast.ties.n == slow.ties.n and fast.ties.version == slow.ties.version
        k1, k2 = fast.tie_keys, slow.tie_keys
        assert np.array_equal(k1.table, k2.table) and (k1.n_used, k1.n_gone) == (
            k2.n_used,
            k2.n_gone,
        )


def test_lead_in_steps_is_the_one_call():
    """A ledger that answers ``authorities`` its own way gets the rule's steps one call
    each (``apply_in_steps``): the same run as the one call of ``lead``."""
    from sim.system.costs import Ledger

    class Asking(Ledger):
        def authorities(self, cost, asked=None):
            return Ledger.authorities(self, cost, asked)

    params = small(
        **{"executive_heads.p_exec_head": 0.2, "executive_heads.cost_exec_support": 60.0}
    )
    one, steps = NextPracticeModel(params, rng=3), NextPracticeModel(params, rng=3)
    steps.ledger.__class__ = Asking
    for _ in range(18):
        one.step()
        steps.step()
    assert (np.bincount(one.schools.head) > 1).any()  # federations formed and were paid for
    assert one.ledger.short_la.sum() > 0
    for a, b in (
        (one.schools.head, steps.schools.head),
        (one.schools.capacity, steps.schools.capacity),
        (one.schools.slot_own, steps.schools.slot_own),
        (one.ledger.spent_la, steps.ledger.spent_la),
        (one.ledger.short_la, steps.ledger.short_la),
    ):
        assert np.array_equal(a, b)


def test_a_copied_or_pickled_model_keeps_its_rules_keys_read_only():
    """Kernels compiled for read-only keys are not compiled again for a copy's."""
    import copy
    import pickle

    m = NextPracticeModel(small(), rng=3)
    m.step()
    for twin in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        for mine, theirs in zip(m._pipeline, twin._pipeline, strict=True):
            assert not theirs.keys.flags.writeable, type(theirs).__name__
            assert np.array_equal(mine.keys, theirs.keys)
        twin.step()  # and the copy runs on
