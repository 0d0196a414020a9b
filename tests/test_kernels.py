"""Each compiled kernel gives the numpy expression it replaces, bit for bit.

Where a rule's kernel has its numpy form beside it (``judge_compiled`` and
``judge`` in the rule's class), the test compares the kernel with that form
rather than with a copy of it written here; ``tests/test_numpy_forms.py``
compares every rule with its form on model states.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core import draws
from sim.core import kernels as K
from sim.core.numerics import pairwise_add, row_sum, sum_in_numpy_order
from sim.core.registry import stream_keys
from sim.rules.build import CapacityBuilding
from sim.rules.depth_and_ownership import Implementation
from sim.rules.evidence_review import Review
from sim.rules.executive_heads import SystemLeadership
from sim.rules.facilitated import TieFormation
from sim.rules.found_and_formalise import Collaboratives
from sim.rules.heads_leave import HeadTurnover
from sim.rules.recombine import Recombination
from sim.rules.stages import LifeCycle
from sim.rules.strategies.best_known import BestKnown
from sim.rules.strategies.brokering import Brokering
from sim.rules.strategies.field_trials import FieldTrials
from sim.rules.strategies.monitoring import Monitoring


def _bits(x):
    return np.ascontiguousarray(x, dtype=np.float64).view(np.int64)


def _slots(rng, n, k, n_practices, filled=0.7):
    sp = rng.integers(0, n_practices, (n, k))
    sp[rng.random((n, k)) > filled] = -1
    sp[::11] = -1  # some schools run nothing
    return sp


@pytest.mark.parametrize("w", [1, 2, 5, 7, 8, 9, 15, 16, 17, 30, 64, 127])
def test_sum_in_numpy_order_is_numpys_sum(w):
    rng = np.random.default_rng(w)
    for _ in range(20):
        x = rng.standard_normal(w) * 10.0 ** rng.integers(-8, 8, w)
        x[rng.random(w) < 0.3] = -0.0
        assert _bits(sum_in_numpy_order(x, w)) == _bits(x.sum())
    assert _bits(sum_in_numpy_order(np.full(w, -0.0), w)) == _bits(np.float64(0.0))


@pytest.mark.parametrize("k", [1, 6, 9])
def test_slot_sums(k):
    rng = np.random.default_rng(k)
    n, P = 400, 50
    sp = _slots(rng, n, k, P)
    per = rng.standard_normal(P) * 10.0 ** rng.integers(-6, 6, P)
    w = rng.random((n, k))
    safe = np.maximum(sp, 0)
    want = row_sum(np.where(sp >= 0, per[safe] * w, 0.0))
    assert np.array_equal(_bits(K.slot_sum(sp, per, w)), _bits(want))
    want = row_sum(np.where(sp >= 0, per[safe], 0.0))
    assert np.array_equal(_bits(K.slot_sum(sp, per)), _bits(want))
    assert np.array_equal(K.practice_users(sp, P), np.bincount(sp[sp >= 0], minlength=P))
    for few in (1, 2, 3):  # the reduced modes' counting path and the histogram's
        spf = np.where(sp < few, sp, -1)
        assert np.array_equal(K.practice_users(spf, few), np.bincount(spf[spf >= 0], minlength=few))


@pytest.mark.parametrize("D", [2, 4, 9])
def test_domain_coherence(D):
    rng = np.random.default_rng(D)
    n, k, P = 500, 6, 40
    sp = _slots(rng, n, k, P)
    depth = np.where(sp >= 0, rng.random((n, k)), 0.0)
    depth[::5] = 0.0  # running practices, none in depth
    dom = rng.integers(0, D, P).astype(np.int8)
    at = np.flatnonzero(sp >= 0)
    school, pid = at // k, sp.ravel()[at]
    by = np.bincount(
        dom[pid].astype(np.int64) * n + school, depth.ravel()[at], minlength=D * n
    ).reshape(D, n)
    tot = pairwise_add(by)  # numpy's order of a row's sum (what the model used)
    top = by.max(axis=0) / np.maximum(tot, 1e-12)
    want = np.where(tot > 0, (top - 1.0 / D) / (1.0 - 1.0 / D), 0.0)
    assert np.array_equal(_bits(K.domain_coherence(sp, depth, dom, D)), _bits(want))


def test_tie_engagement():
    rng = np.random.default_rng(3)
    n, m = 300, 900
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    alive = rng.random(m) < 0.8
    trust = rng.random(m)
    fac = rng.random(n) * 1.7 - 0.2  # outside 0..1 somewhere: both clips must bite
    collab = np.where(rng.random(n) < 0.3, rng.integers(0, 5, n), -1)
    tw = np.where(alive, trust, 0.0)
    tr = np.bincount(a, tw, n) + np.bincount(b, tw, n)
    deg = np.bincount(a, alive, n) + np.bincount(b, alive, n)
    want = np.clip(fac * (tr / np.maximum(deg, 1)) + 0.2 * (collab >= 0), 0.0, 1.0)
    got = K.tie_engagement(a, b, alive, trust, n, fac, collab, 0.2)
    assert np.array_equal(_bits(got), _bits(want))
    assert (got == 1.0).any() and (got == 0.0).any()


def test_implementation_and_reads_match_their_numpy_forms():
    rng = np.random.default_rng(5)
    n, k, P = 400, 6, 30
    sp = _slots(rng, n, k, P)
    depth = np.where(sp >= 0, rng.random((n, k)), 0.0)
    own = np.where(sp >= 0, rng.random((n, k)), 0.0)
    diff, eff = rng.random(P), rng.standard_normal(P)
    room, eng = rng.random(n) * 2.0, rng.random(n)
    at = np.flatnonzero(sp >= 0)
    school, pid = at // k, sp.ravel()[at]

    d, o = depth.copy(), own.copy()  # the rule as numpy expressions
    per = np.zeros((n, k))
    per.ravel()[at] = diff[pid]
    r = np.minimum(1.0, room / np.maximum(row_sum(per), 1e-9))
    scale = r / (1.0 + 0.8 * (1.0 - r))  # overload wastes effort (rel_overload 0.8)
    target = o.ravel()[at] * scale[school]
    rate = 0.07 * (1.0 - 0.3 * diff[pid])
    d.ravel()[at] += rate * (target - d.ravel()[at])
    o.ravel()[at] += 0.05 * np.maximum(eng[school] - o.ravel()[at], 0.0)
    Implementation.implement_compiled(
        sp, depth, own, diff, room, row_sum(per), eng, 0.07, 0.05, 0.3, 0.8
    )
    assert np.array_equal(_bits(depth), _bits(d)) and np.array_equal(_bits(own), _bits(o))

    key, uid = np.array([5, 9], np.uint64), rng.integers(0, 2**62, P)
    noise = draws.normal(key, 7, school, uid[pid])  # keyed by (step, school, practice)
    obs, nobs = rng.random((n, k)), rng.random((n, k))
    want_obs, want_nobs = obs.copy(), nobs.copy()
    read = eff[pid] + 0.45 * noise / np.sqrt(0.5)
    want_obs.ravel()[at] += read * 0.5
    want_nobs.ravel()[at] += 0.5
    slot_eff = eff[np.maximum(sp, 0)]  # each slot's effect where run (no fade here)
    Review.read_compiled(key, 7, sp, obs, nobs, slot_eff, uid, 0.45, np.sqrt(0.5), 0.5)
    assert np.array_equal(_bits(obs), _bits(want_obs))
    assert np.array_equal(_bits(nobs), _bits(want_nobs))


def test_take_up_matches_its_plain_python_form():
    """take_up pair by pair, as its docstring says, against a plain Python loop over the same pairs.

    Pairs mix schools with empty slots, full schools (some with every slot
    protected), a school already running the practice, repeated schools and
    sources; every slot array, the answer and the adoptions count must agree.
    """
    import copy

    from sim.core.state import CREATED, EMPTY, MANDATED
    from sim.model.model import NextPracticeModel
    from sim.rules.actions import take_up, value_and_protection
    from tests.conftest import small

    m = NextPracticeModel(small(), rng=6).run(20)
    s, pr = m.schools, m.practices
    m.mandates = [int(s.slot_p[s.slot_p >= 0][0])]
    s.slot_channel[s.slot_p == m.mandates[0]] = MANDATED
    for r in range(6):  # full schools: three whose every practice is too young to replace
        spare = np.setdiff1d(np.arange(pr.n), s.slot_p[r])
        empty = np.flatnonzero(s.slot_p[r] < 0)
        s.slot_p[r, empty] = spare[: len(empty)]
        s.slot_since[r] = m.t if r < 3 else 0
    rng = np.random.default_rng(0)
    school = rng.integers(0, s.n, 400)
    practice = rng.integers(0, pr.n, 400)
    school[:6] = range(6)
    full = (s.slot_p[school] >= 0).all(axis=1)
    practice[5] = s.slot_p[school[5]][s.slot_p[school[5]] >= 0][0]  # already runs it
    for r in (3, 4):  # new to the school, so it replaces one (not left to the draws above)
        practice[r] = np.setdiff1d(np.arange(pr.n), s.slot_p[r])[0]
    source = rng.integers(-1, m.ties.n, 400)
    names = (
        "slot_p",
        "slot_depth",
        "slot_own",
        "slot_channel",
        "slot_since",
        "slot_obs",
        "slot_nobs",
        "slot_source",
    )

    ref = copy.deepcopy(m)
    rs = ref.schools
    want = np.zeros(400, bool)
    seen = set()
    for x in range(400):
        i, q = int(school[x]), int(practice[x])
        if i in seen or q in rs.slot_p[i]:
            seen.add(i)
            continue
        seen.add(i)
        empty = np.flatnonzero(rs.slot_p[i] == EMPTY)
        if len(empty):
            col = empty[0]
        else:
            v, keep = value_and_protection(ref, np.array([i]))
            v = np.where(keep[0], np.inf, v[0])
            col = int(np.argmin(v))
            if v[col] == np.inf:
                continue
        for name, val in zip(
            names,
            (q, 0.0, ref.p.init_own_created, CREATED, ref.t, 0.0, 0.0, source[x]),
            strict=True,
        ):
            getattr(rs, name)[i, col] = val
        want[x] = True

    before = m.counts["adoptions"]
    got = take_up(m, school, practice, CREATED, source=source)
    assert np.array_equal(got, want) and want.any()
    assert m.counts["adoptions"] - before == want.sum()
    for name in names:
        assert np.array_equal(_bits(getattr(s, name)), _bits(getattr(rs, name))), name
    assert (want & full).any() and (~want[:3]).all()  # replaced in full schools; none protected


def test_drop_matches_its_numpy_form():
    """Dropping slots: trust lost once per source tie (numpy's ``trust[src] *= f``), emptied."""
    import copy

    from sim.model.model import NextPracticeModel
    from sim.rules.actions import drop
    from tests.conftest import small

    m = NextPracticeModel(small(), rng=7).run(15)
    s = m.schools
    rows, cols = np.nonzero(s.slot_p >= 0)
    pick = np.random.default_rng(1).choice(len(rows), len(rows) // 3, replace=False)
    rows, cols = rows[pick], cols[pick]
    s.slot_source[rows[:4], cols[:4]] = 2  # one tie the source of four dropped slots
    s.slot_source[rows[4:8], cols[4:8]] = -1  # and some slots with no source tie
    ref = copy.deepcopy(m)
    rs, t = ref.schools, ref.ties
    src = rs.slot_source[rows, cols]
    src = src[src >= 0]
    t.trust[src] *= 1.0 - ref.p.rate_trust
    for name, empty in (
        ("slot_p", -1),
        ("slot_depth", 0.0),
        ("slot_own", 0.0),
        ("slot_obs", 0.0),
        ("slot_nobs", 0.0),
        ("slot_source", -1),
    ):
        getattr(rs, name)[rows, cols] = empty
    drop(m, rows, cols)
    assert m.counts["drops"] - ref.counts["drops"] == len(rows) > 8
    assert np.array_equal(_bits(m.ties.trust), _bits(t.trust))
    for name in (
        "slot_p",
        "slot_depth",
        "slot_own",
        "slot_obs",
        "slot_nobs",
        "slot_source",
        "slot_channel",
        "slot_since",
    ):
        assert np.array_equal(_bits(getattr(s, name)), _bits(getattr(rs, name))), name


def test_mandate_matches_reach_then_take_up_per_practice():
    """A mandate's compiled pass: for each practice, numpy's reach draws, then take_up's choices.

    Reach is ``~row_any(slot_p == pid) & (u < chance)``, ``u`` keyed by the
    school and the practice, on the slots as the previous practice left them
    (a take-up may replace a slot running the next practice, which the next
    reach then finds).
    """
    import copy

    from sim.core.numerics import row_any
    from sim.core.state import MANDATED
    from sim.model.model import NextPracticeModel
    from sim.rules.actions import take_up
    from sim.rules.strategies import TopDown
    from sim.rules.strategies.mandate import DECISIONS
    from tests.conftest import small

    m = NextPracticeModel(small(), rng=8).run(20)
    s = m.schools
    used = np.unique(s.slot_p[s.slot_p >= 0])
    for practices, chance in (
        ([int(used[0]), int(used[-1]), int(used[1])], 0.5),
        ([int(used[2])], 1.0),
        ([int(used[3]), int(used[4])], 0.0),
    ):
        ref = copy.deepcopy(m)
        ref.mandates = list(practices)
        want_adopt = ref.counts["adoptions"]
        key = stream_keys(ref.rng_for("centre"), DECISIONS)[0]
        for pid in practices:
            u = draws.uniform(key, ref.t, np.arange(s.n), ref.practices.uid[pid])
            hit = np.flatnonzero(~row_any(ref.schools.slot_p == pid) & (u < chance))
            take_up(ref, hit, np.full(len(hit), pid), MANDATED)
        want_adopt = ref.counts["adoptions"] - want_adopt
        before = m.counts["adoptions"]
        m.p.declared["mandate.p_mandate"], m.p.tightness = chance, 1.0
        centre = TopDown()
        centre.bind(m)  # its kernels, as the model binds it
        centre.mandate(m, practices)
        assert m.counts["adoptions"] - before == want_adopt
        assert (want_adopt > 0) == (chance > 0)
        for name in (
            "slot_p",
            "slot_depth",
            "slot_own",
            "slot_channel",
            "slot_since",
            "slot_source",
            "slot_obs",
            "slot_nobs",
        ):
            assert np.array_equal(getattr(s, name), getattr(ref.schools, name)), name


def test_valuation_and_metric_gathers():
    """slot_value / protected_slots against their numpy forms; the metrics' gathers."""
    from sim.core.state import MANDATED
    from sim.model.model import NextPracticeModel
    from sim.rules.actions import protected_slots, slot_value, value_and_protection
    from tests.conftest import small

    m = NextPracticeModel(small(), rng=4).run(14)
    s, pr, p = m.schools, m.practices, m.p
    m.mandates = [int(s.slot_p[s.slot_p >= 0][0])]
    s.slot_channel[s.slot_p == m.mandates[0]] = MANDATED
    for r in range(3):  # three full schools whose every slot is young: none can be replaced
        spare = np.setdiff1d(np.arange(pr.n), s.slot_p[r])
        empty = np.flatnonzero(s.slot_p[r] < 0)
        s.slot_p[r, empty] = spare[: len(empty)]
        s.slot_since[r] = m.t
    for r in range(3, 20):  # and full schools with practices old enough to replace
        spare = np.setdiff1d(np.arange(pr.n), s.slot_p[r])
        empty = np.flatnonzero(s.slot_p[r] < 0)
        s.slot_p[r, empty] = spare[: len(empty)]
        s.slot_since[r, empty] = 0
    pid = s.slot_p
    safe = np.maximum(pid, 0)
    sd2 = m.sd_observe_eff**2
    prec_pub = p.lever_evidence * pr.ev_prec[safe]
    est = (s.slot_obs / sd2 + prec_pub * pr.ev_mean[safe]) / (
        s.slot_nobs / sd2 + prec_pub + 1.0 / p.sd_prior**2
    )
    want = np.where(pid == -1, -np.inf, est - p.rel_cost * pr.cost[safe] / s.budget[:, None])
    young = (pid != -1) & ((m.t - s.slot_since) * p.dur_step < p.dur_commit)
    keep = young | ((s.slot_channel == MANDATED) & (pid == m.mandates[0]))
    assert np.array_equal(_bits(slot_value(m)), _bits(want))
    assert np.array_equal(protected_slots(m), keep) and keep.any() and (~keep & (pid >= 0)).any()
    rows = np.array([5, 2, 5, 0])
    v, k = value_and_protection(m, rows)
    assert np.array_equal(_bits(v), _bits(want[rows])) and np.array_equal(k, keep[rows])
    # take_up's choice of the slot to replace: argmin over unprotected values, -1 if none
    import copy

    from sim.core.state import CHOSEN
    from sim.rules.actions import take_up

    rows = np.arange(s.n)
    free = np.where(keep, np.inf, want)
    col = np.argmin(free, axis=1)
    col[free[rows, col] == np.inf] = -1
    full = rows[(pid >= 0).all(axis=1)]
    m2 = copy.deepcopy(m)
    ok = take_up(m2, full, np.full(len(full), pr.n), CHOSEN)  # a practice no one runs
    changed = m2.schools.slot_p[full] != pid[full]
    assert np.array_equal(ok, col[full] >= 0) and ok.any() and not ok.all()
    assert np.array_equal(np.argmax(changed, axis=1)[ok], col[full][ok])
    assert np.array_equal(changed.sum(axis=1), ok.astype(int))

    at = np.flatnonzero(pid >= 0)
    d, od = K.filled_depth_ownership(pid, s.slot_depth, s.slot_own)
    assert np.array_equal(_bits(d), _bits(s.slot_depth.ravel()[at]))
    assert np.array_equal(_bits(od), _bits(s.slot_own.ravel()[at] * s.slot_depth.ravel()[at]))
    in_use, top, total = K.usage_summary(m.users())
    u = m.users()
    assert (in_use, top, total) == (np.count_nonzero(u), u.max(), u.sum())


def test_capacity_building_matches_its_numpy_form():
    rng = np.random.default_rng(8)
    n, k = 500, 6
    depth, own = rng.random((n, k)), rng.random((n, k))
    depth[rng.random((n, k)) < 0.3] = 0.0
    budget = rng.random(n) * 1.2
    collab = np.where(rng.random(n) < 0.4, rng.integers(0, 30, n), -1)
    cap = rng.random(n)
    cap[:5] = [0.0, 1.0, 0.999, 0.001, 0.5]
    lever, rel, r, rd, rc = 0.6, 0.8, 0.3, 0.02, 0.2  # large rates: the clip must bite

    want = cap.copy()  # the rule's numpy form
    CapacityBuilding.build_capacity(depth, own, budget, collab, want, 30, lever, rel, r, rd, rc)

    CapacityBuilding.build_capacity_compiled(
        depth, own, budget, collab, cap, 30, lever, rel, r, rd, rc
    )
    assert np.array_equal(_bits(cap), _bits(want))


def test_compiled_code_is_dropped_when_kernel_sources_change(tmp_path):
    """An edit to a file with a kernel (or to state.py) throws away all compiled code."""
    from sim.core.jit import drop_stale_kernels

    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "mine.py").write_text("@jit\ndef f(x):\n    return x\n")
    (tmp_path / "state.py").write_text("EMPTY = -1\n")
    (tmp_path / "cli.py").write_text("print('no kernels here')\n")
    cached = [
        tmp_path / "__pycache__" / "state.f-1.py312.nbi",
        tmp_path / "rules" / "__pycache__" / "mine.f-1.py312.1.nbc",
    ]

    def compile_all():
        for f in cached:
            f.parent.mkdir(exist_ok=True)
            f.write_bytes(b"code")

    assert not drop_stale_kernels(tmp_path)  # first sight: stamp written, nothing there
    compile_all()
    assert not drop_stale_kernels(tmp_path) and all(f.exists() for f in cached)
    (tmp_path / "cli.py").write_text("print('still none')\n")  # not a kernel source
    assert not drop_stale_kernels(tmp_path) and all(f.exists() for f in cached)
    (tmp_path / "state.py").write_text("EMPTY = -2\n")  # a constant kernels read
    assert drop_stale_kernels(tmp_path) and not any(f.exists() for f in cached)
    compile_all()
    (tmp_path / "rules" / "mine.py").write_text("@jit\ndef f(x):\n    return x + 1\n")
    assert drop_stale_kernels(tmp_path) and not any(f.exists() for f in cached)


def test_numba_draws_numpys_numbers_from_the_models_generator():
    """Kernels may draw from ``model.rng``: numba's Generator gives numpy's stream.

    Checked for every distribution a kernel may use, scalar and vector, and
    that the generator's state after the kernel is numpy's (what follows
    draws the same numbers too); given the generator itself and given
    :class:`~sim.core.jit.KernelRng`'s handle on it (``model.kernel_rng``).
    """
    from sim.core.jit import KernelRng, jit

    @jit
    def draws(rng, m, k):
        return (
            rng.random(k),
            rng.standard_normal(k),
            rng.normal(0.5, 2.0, k),
            rng.integers(0, m, k),
            rng.integers(0, m),
            rng.binomial(m, 0.3),
            rng.standard_t(3.0, k),
            rng.lognormal(-0.2, 0.3, k),
            rng.poisson(2.5),
        )

    for seed, wrap in itertools.product(range(20), (lambda g: g, KernelRng)):
        for m, k in ((1, 0), (17, 5), (60_000, 300), (2**31 + 5, 40)):
            r1, r2 = np.random.default_rng(seed), np.random.default_rng(seed)
            got = draws(wrap(r1), m, k)
            want = (
                r2.random(k),
                r2.standard_normal(k),
                r2.normal(0.5, 2.0, k),
                r2.integers(0, m, k),
                r2.integers(0, m),
                r2.binomial(m, 0.3),
                r2.standard_t(3.0, k),
                r2.lognormal(-0.2, 0.3, k),
                r2.poisson(2.5),
            )
            for g, w in zip(got, want, strict=True):
                assert np.array_equal(np.asarray(g), np.asarray(w)), (seed, m, k)
            assert r1.random() == r2.random()


def test_review_decisions_match_their_numpy_form():
    """Who reviews, then poor drops and over-budget or overloaded drops, as the numpy form chose."""
    from sim.rules.actions import ProtectionInputs, ValueInputs
    from sim.rules.actions import values_and_protection_compiled as _value_and_protection
    from sim.rules.evidence_review import ReviewInputs

    rng = np.random.default_rng(12)
    n, k, P = 300, 6, 25
    sp = _slots(rng, n, k, P, filled=0.8)
    nobs = rng.integers(0, 30, (n, k)).astype(float)
    obs = rng.normal(0.0, 0.3, (n, k)) * nobs
    ev_prec = np.where(rng.random(P) < 0.5, rng.random(P) * 5, 0.0)
    ev_mean = rng.normal(0.0, 0.2, P)
    cost, diff = rng.random(P) * 0.5, rng.random(P)
    budget, capacity = 0.2 + rng.random(n) * 1.3, rng.random(n)
    since = rng.integers(0, 40, (n, k)).astype(np.int32)
    channel = rng.integers(0, 3, (n, k)).astype(np.int8)
    mandates = np.array([3, 7])
    sd2, prec0, lever, thr, n_focus, rel_cost, chance = 0.36, 4.0, 0.7, 0.0, 3.0, 0.5, 0.5
    values = ValueInputs(
        slot_p=sp,
        obs=obs,
        nobs=nobs,
        budget=budget,
        ev_prec=ev_prec,
        ev_mean=ev_mean,
        cost=cost,
        sd2=sd2,
        lever=lever,
        prec0=prec0,
        rel_cost=rel_cost,
    )
    protection = ProtectionInputs(
        since=since, channel=channel, t=40, dur_step=1.0, dur_commit=6.0, mandates=mandates
    )

    inputs = ReviewInputs(
        chance=chance,
        values=values,
        protection=protection,
        difficulty=diff,
        room=capacity * n_focus * 0.5,
        threshold=thr,
    )
    key = np.array([4, 44], np.uint64)
    want = Review.review(key, 3, inputs)  # the numpy form
    rev = np.flatnonzero(draws.uniform(key, 3, np.arange(n), 0) < chance)
    value, keep = _value_and_protection(values, rev, protection)
    got = Review.review_compiled(key, 3, inputs)
    assert keep.any() and (~keep & (sp[rev] >= 0)).any()
    assert len(want[0]) and len(want[2])  # poor and over drops both happen
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g, w)
    # the bundle's fields handed as plain arguments (what the rule calls): the same drops
    flat = (inputs.chance, *values, *protection, inputs.difficulty, inputs.room, thr)
    for form in (Review.reviews, Review.reviews_compiled):
        for g, w in zip(form(key, 3, *flat), want, strict=True):
            assert np.array_equal(g, w)


def test_take_on_matches_the_python_loop():
    """Strong heads take on weak schools of their authority: the numpy form's choices."""
    _take_on = SystemLeadership.take_on_compiled

    rng0 = np.random.default_rng(3)
    n, n_la = 400, 6
    authority = rng0.integers(0, n_la, n)
    order = np.argsort(authority, kind="stable")
    start = np.searchsorted(authority[order], np.arange(n_la))
    end = np.searchsorted(authority[order], np.arange(n_la), side="right")
    weak0 = rng0.random(n) < 0.03  # few: some heads find nobody left
    head0 = np.arange(n)
    go = np.sort(rng0.choice(n, 60, replace=False))

    key = np.array([9, 99], np.uint64)
    weak, head, n_led = weak0.copy(), head0.copy(), np.ones(n, np.int64)
    index = (order, start, end)
    want = SystemLeadership.take_on(key, 5, go, authority, index, weak, head, n_led)

    weak2, head2, n_led2 = weak0.copy(), head0.copy(), np.ones(n, np.int64)
    got = _take_on(key, 5, go, authority, index, weak2, head2, n_led2)
    assert 0 < len(want[0]) < len(go)
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g, np.array(w, np.int64))
    assert np.array_equal(weak2, weak) and np.array_equal(head2, head)
    assert np.array_equal(n_led2, n_led)


def test_brokered_ties_match_the_python_loop():
    """The centre's brokered ties: the numpy form's ends and order, on keyed draws."""
    _brokered = Brokering.brokered_compiled

    rng0 = np.random.default_rng(4)
    n, k, P = 300, 6, 12
    sp = _slots(rng0, n, k, P)
    sp[:, 0] = 3  # a practice everyone runs: no tie, no further draws
    seen = 0
    for seed in range(40):
        practices = [int(x) for x in rng0.choice(P + 2, rng0.integers(1, 4), replace=False)]
        lam = (0.5, 2.0, 15.0)[seed % 3]
        keys = np.random.default_rng(seed).integers(0, 2**64, (4, 2), dtype=np.uint64)
        a, b = Brokering.brokered(keys, seed, np.array(practices, np.int64), sp, lam)
        got_a, got_b = _brokered(keys, seed, np.array(practices, np.int64), sp, lam)
        assert np.array_equal(got_a, np.array(a, np.int64)), seed
        assert np.array_equal(got_b, np.array(b, np.int64)), seed
        seen += len(a)
    assert seen > 40


def test_proposed_ties_match_their_numpy_form():
    """Tie formation's seekers, partners and kinds: the numpy form's answers and order."""
    _proposed_ties = TieFormation.proposed_ties_compiled

    from sim.core.state import CROSS, TOWN

    rng0 = np.random.default_rng(5)
    n, n_la = 500, 7
    authority = np.sort(rng0.integers(0, n_la, n))
    authority[authority == 3] = 2  # an authority with no schools: its index run is empty
    by = np.argsort(authority, kind="stable")
    start = np.searchsorted(authority[by], np.arange(n_la))
    end = np.searchsorted(authority[by], np.arange(n_la), side="right")
    for seed in range(30):
        prob = rng0.random(n) * (0.0, 0.05, 0.4)[seed % 3]
        share = (0.3, 0.0, 1.0)[seed // 3 % 3]
        keys = np.random.default_rng(seed).integers(0, 2**64, (5, 2), dtype=np.uint64)
        index = (by, start, end)
        a, b, kind = TieFormation.proposed_ties(keys, seed, prob, share, authority, index)
        assert set(kind.tolist()) <= {CROSS, TOWN}
        got = _proposed_ties(keys, seed, prob, share, authority, index)
        for g, w in zip(got, (a, b, kind), strict=True):
            assert np.array_equal(g, w), seed


def test_leavers_match_their_numpy_form():
    """Heads leaving, their schools and their collaboratives: the numpy form's answers."""
    _leaving = HeadTurnover.leaving_compiled

    rng0 = np.random.default_rng(6)
    for seed in range(20):
        H, n, C = 900, 700, 60
        active = rng0.random(H) < 0.8
        head = rng0.choice(np.flatnonzero(active), n)
        alive = rng0.random(C) < 0.7
        founder = rng0.choice(H, C)
        chance = (0.0, 0.02, 0.3, 1.0)[seed % 4]
        key, uid = np.array([seed, 1], np.uint64), rng0.integers(0, 2**62, H)
        want = HeadTurnover.leaving(key, seed, active, uid, chance, head, alive, founder)
        got = _leaving(key, seed, active, uid, chance, head, alive, founder)
        for g, w in zip(got, want, strict=True):
            assert np.array_equal(g, w), seed
        if chance == 0.3:
            assert all(len(w) for w in want)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_invention_rate_is_its_numpy_form():
    """The chance to invent, and the pressure it returns: the model's pressure, numpy's rate."""
    from types import SimpleNamespace

    from sim.model.model import NextPracticeModel

    _invention_rate = Recombination.invention_rate_compiled

    rng = np.random.default_rng(7)
    n, H = 3000, 3500
    ing, head, cap = rng.lognormal(0, 0.5, H), rng.integers(0, H, n), rng.random(n)
    trial = np.where(rng.random(n) < 0.1, rng.integers(0, 50, n), -1)
    budget = 1.0 - rng.random(n) * 0.3 + (rng.random(n) < 0.5) * 0.3  # some above 1
    budget[:3] = (1.0, np.nan, np.inf)
    cap[3] = np.nan
    for tight, rel in ((0.3, 1.5), (1.0, 0.0), (0.0, 4.0)):
        want = Recombination.invention_rate(0.002, ing, head, cap, trial, tight, rel, budget)
        got = _invention_rate(0.002, ing, head, cap, trial, tight, rel, budget)
        model = SimpleNamespace(schools=SimpleNamespace(budget=budget, capacity=cap))
        assert np.array_equal(_bits(want[1]), _bits(NextPracticeModel.pressure(model)))
        for g, w in zip(got, want, strict=True):
            assert np.array_equal(_bits(g), _bits(w))


def test_best_known_matches_its_numpy_form():
    """The centre's best known practices: filter and stable order by estimate, as numpy had them."""
    from sim.core.state import MAINSTREAM, PROVEN

    _best_known = BestKnown.pick_best_compiled

    rng = np.random.default_rng(8)
    for seed in range(30):
        P = int(rng.integers(0, 400))
        origin, stage = rng.integers(0, 2, P), rng.integers(0, 5, P)
        ev_prec = np.where(rng.random(P) < 0.6, rng.random(P), 0.0)
        ev_mean = np.round(rng.standard_normal(P) * 0.3, 1)  # many equal estimates
        ev_mean[rng.random(P) < 0.05] = -0.0
        for of_origin, k in ((-1, 3), (1, 1), (0, 500)):
            want = BestKnown.pick_best(origin, of_origin, ev_prec, ev_mean, stage, -0.2, k)
            assert np.isin(stage[want], [PROVEN, MAINSTREAM]).all()
            got = _best_known(origin, of_origin, ev_prec, ev_mean, stage, -0.2, k)
            assert np.array_equal(got, want), (seed, of_origin)


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 300),
    k=st.integers(1, 40),
    odd=st.sampled_from([0.0, 0.3, 0.9]),
    seed=st.integers(0, 2**31),
)
def test_volunteer_sites_match_their_numpy_form(n, k, odd, seed):
    """A trial's volunteer sites: the numpy form's schools in its order, any ``k``.

    A share ``odd`` of the schools have an infinite capacity (clock 0: equal clocks,
    ordered by index), none, or a NaN (NaN clocks, last), and some heads no openness
    (0 times infinity: NaN).
    """
    rng = np.random.default_rng(seed)
    n_heads = 50
    head = rng.integers(0, n_heads, n)
    openness = rng.random(n_heads)
    openness[rng.random(n_heads) < odd / 3] = 0.0
    capacity = rng.random(n)
    hit = rng.random(n) < odd
    capacity[hit] = rng.choice([np.inf, 0.0, np.nan], hit.sum())
    free = np.flatnonzero(rng.random(n) < 0.7)
    if len(free) == 0:
        return
    key = rng.integers(0, 2**64, 2, dtype=np.uint64)
    uid = np.int64(rng.integers(0, 1000))
    args = (key, int(rng.integers(0, 120)), free, uid, openness, head, capacity, min(k, len(free)))
    with np.errstate(invalid="ignore"):
        want = FieldTrials.volunteers(*args)
    got = FieldTrials.volunteers_compiled(*args)
    assert np.array_equal(got, want)


@settings(max_examples=150, deadline=None)
@given(m=st.integers(0, 12), seed=st.integers(0, 2**31))
def test_publishing_evidence_matches_its_numpy_form(m, seed):
    """Evidence published on practices, some listed twice, some with evidence before: bit for bit.

    Both forms leave the same estimates, precisions and stages (a practice listed twice
    as numpy's fancy assignment leaves it); bounds on either side of the threshold, and
    a NaN estimate (abandoned).
    """
    from sim.rules.actions import publish, publish_compiled

    rng = np.random.default_rng(seed)
    P = 10
    practice = rng.integers(0, P, m)
    estimate = rng.standard_normal(m) * 0.3
    estimate[rng.random(m) < 0.1] = np.nan
    precision = rng.random(m) * 50.0 + 1e-3
    ev_prec = np.where(rng.random(P) < 0.5, 0.0, rng.random(P) * 40.0)
    ev_mean = np.where(ev_prec > 0, rng.standard_normal(P) * 0.2, 0.0)
    stage = rng.integers(0, 5, P).astype(np.int8)
    z, threshold = float(rng.choice([0.0, 1.645])), float(rng.choice([0.0, 0.05]))
    out = []
    for form in (publish, publish_compiled):
        arrays = (stage.copy(), ev_mean.copy(), ev_prec.copy())
        with np.errstate(invalid="ignore"):
            form(practice, estimate, precision, threshold, z, *arrays)
        out.append(arrays)
    for x, y in zip(*out, strict=True):
        assert x.dtype == y.dtype
        assert np.array_equal(_bits(x), _bits(y)) if x.dtype == np.float64 else np.array_equal(x, y)


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 300),
    k=st.integers(1, 12),
    agenda=st.integers(-1, 3),
    odd=st.sampled_from([0.0, 0.3]),
    seed=st.integers(0, 2**31),
)
def test_trial_scan_matches_its_numpy_form(n, k, agenda, odd, seed):
    """The ideas the centre picks to trial: the numpy form's practices in its order, any ``k``.

    Ideas and practices at other stages, in use or not, with evidence or none; a share
    ``odd`` of the effects equal (equal reads, ordered by index), infinite or NaN (NaN
    reads last); with and without an agenda, whose lift may be 0 or negative.
    """
    from sim.core.state import IDEA

    rng = np.random.default_rng(seed)
    stage = np.where(rng.random(n) < 0.6, IDEA, rng.integers(0, 5, n)).astype(np.int8)
    users = np.where(rng.random(n) < 0.7, rng.integers(0, 5, n), 0).astype(np.int64)
    ev_prec = np.where(rng.random(n) < 0.8, 0.0, rng.random(n))
    effect = rng.standard_normal(n + 3) * 0.3
    hit = rng.random(n + 3) < odd
    effect[hit] = rng.choice([0.25, np.inf, np.nan], hit.sum())
    uid = rng.integers(0, 2**40, n + 3)
    domain = rng.integers(0, 4, n + 3).astype(np.int8)
    key = rng.integers(0, 2**64, 2, dtype=np.uint64)
    lift = float(rng.choice([0.0, 0.05, -0.1]))
    sd = float(rng.choice([0.0, 0.5]))
    args = (key, int(rng.integers(0, 120)), stage, users, ev_prec, effect, uid, domain)
    with np.errstate(invalid="ignore"):
        want = FieldTrials.scan(*args, agenda, lift, sd, k)
    got = FieldTrials.scan_compiled(*args, agenda, lift, sd, k)
    assert got.dtype == want.dtype
    assert np.array_equal(got, want)


@settings(max_examples=150, deadline=None)
@given(n_sites=st.integers(0, 40), k=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_trial_enrolment_matches_its_numpy_form_and_the_comparator(n_sites, k, seed):
    """Sites running the candidate join its trial; its comparator as :func:`comparator` has it.

    Sites that took it up (in an empty slot, or displacing a practice known at the start
    or invented, held as their own or not) and sites that did not; both forms leave the
    same trial marks and give the same comparator, bit for bit.
    """
    from types import SimpleNamespace

    from sim.core.state import CHOSEN, CREATED, EMPTY
    from sim.rules.strategies.field_trials import comparator

    rng = np.random.default_rng(seed)
    n, P, pid = 60, 8, 3
    before_all = _slots(rng, n, k, P)
    before_all[before_all == pid] = EMPTY
    sites = rng.choice(n, min(n_sites, n), replace=False).astype(np.int64)
    slot_p = before_all.copy()
    channel = rng.choice([CREATED, CHOSEN], (n, k))
    for i in sites.tolist():  # most take it up, in a random slot
        if rng.random() < 0.8:
            slot_p[i, rng.integers(0, k)] = pid
    effect = rng.standard_normal(P) * 0.3
    born = np.where(rng.random(P) < 0.5, -1, rng.integers(0, 50, P))
    rel = float(rng.random())
    before = before_all[sites]
    trial_a, trial_b = np.full(n, EMPTY), np.full(n, EMPTY)
    args = (pid, sites, before, slot_p, channel)
    want = FieldTrials.enrol(*args, trial_a, effect, born, rel)
    got = FieldTrials.enrol_compiled(*args, trial_b, effect, born, rel)
    assert np.array_equal(trial_a, trial_b)
    assert _bits(got) == _bits(want)
    model = SimpleNamespace(
        practices=SimpleNamespace(effect=effect, born=born),
        schools=SimpleNamespace(slot_p=slot_p, slot_channel=channel),
        p=SimpleNamespace(rel_effect_spread=rel),
    )
    runs = (slot_p[sites] == pid).any(axis=1)
    assert np.array_equal(np.flatnonzero(trial_a == pid), np.sort(sites[runs]))
    ref = comparator(model, pid, sites[runs], before[runs], slot_p[sites[runs]])
    assert _bits(want) == _bits(ref)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 400), k=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_monitoring_gains_match_their_numpy_form(n, k, seed):
    """Each watched practice's mean effect at its users: numpy's mean, bit for bit.

    Up to 400 users (numpy's pairwise sum past 8 and 128 terms), practices known at the
    start and invented, held as one's own or not, and some that no school runs (NaN).
    """
    from sim.core.state import CHOSEN, CREATED

    rng = np.random.default_rng(seed)
    P = 8
    sp = _slots(rng, n, k, P, filled=rng.random())
    channel = rng.choice([CREATED, CHOSEN], (n, k))
    effect = rng.standard_normal(P + 1) * 0.3
    born = np.where(rng.random(P + 1) < 0.5, -1, rng.integers(0, 50, P + 1))
    watched = np.array([q for q in range(P + 1) if rng.random() < 0.8], np.int64)
    rel = float(rng.random())
    with np.errstate(invalid="ignore", divide="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = Monitoring.gains(watched, sp, channel, effect, born, rel)
    got = Monitoring.gains_compiled(watched, sp, channel, effect, born, rel)
    none = np.isnan(want)  # no user: a NaN in both (monitoring watches practices in use)
    assert np.array_equal(np.isnan(got), none)
    assert np.array_equal(_bits(got[~none]), _bits(want[~none]))


def test_leadership_candidates_match_their_numpy_form():
    """Strong heads who take on, and weak schools: the numpy form's answers."""
    _candidates = SystemLeadership.candidates_compiled

    rng0 = np.random.default_rng(8)
    n, n_heads = 900, 800
    head = rng0.integers(0, n_heads, n)
    perf = np.round(rng0.standard_normal(n), 1)  # ties at the cuts
    chance = rng0.random(n) * 0.5
    hi, lo = np.quantile(perf, [0.75, 0.10])
    key = np.array([2, 22], np.uint64)
    n_led, go, weak = SystemLeadership.candidates(key, 4, perf, hi, lo, head, n_heads, chance)
    got = _candidates(key, 4, perf, hi, lo, head, n_heads, chance)
    for g, w in zip(got, (n_led, go, weak), strict=True):
        assert np.array_equal(g, w)
    assert len(go) > 10 and weak.sum() > 10


def test_federation_support_matches_its_numpy_form():
    """Support within federations: capacities and the practices shared, as numpy did them."""
    _support = SystemLeadership.support_compiled

    for seed in range(6):
        rng0 = np.random.default_rng(seed)
        n, k, n_heads = 500, 6, 420
        head = rng0.integers(0, n_heads, n)  # many heads lead two or three schools
        n_led = np.bincount(head, minlength=n_heads)
        perf = np.round(rng0.standard_normal(n), 1)  # ties in performance
        cap0 = rng0.random(n)
        sp = _slots(rng0, n, k, 30)
        depth = np.where(sp >= 0, np.round(rng0.random((n, k)), 1), 0.0)
        authority = rng0.integers(0, 9, n)
        paid = np.ones(9)
        paid[::3] = rng0.random(3)  # some authorities' support partly funded
        rate, chance = 0.07, 0.6
        args = (rate, chance, authority, paid, sp, depth, 0.013)  # the lead's loss at home

        key = np.array([seed + 100, 3], np.uint64)
        cap = cap0.copy()  # the rule's numpy form
        want = SystemLeadership.support(key, 2, head, n_led, perf, cap, *args)
        fed = np.flatnonzero(n_led[head] > 1)

        cap2 = cap0.copy()
        got = _support(key, 2, head, n_led, perf, cap2, *args)
        assert 0 < len(want[0]) < len(fed) / 2
        for g, w in zip(got, want, strict=True):
            assert np.array_equal(g, w), seed
        assert np.array_equal(_bits(cap2), _bits(cap))
        # The cost at home comes after the convergence, as when the rule made it a step apart.
        cap3 = cap0.copy()
        SystemLeadership.support(key, 2, head, n_led, perf, cap3, *args[:-1], 0.0)
        SystemLeadership.home_cost(head, n_led, perf, cap3, 0.013)
        assert np.array_equal(_bits(cap3), _bits(cap))
    # Nobody federated: nothing changed.
    got = _support(
        np.array([1, 1], np.uint64),
        0,
        np.arange(5),
        np.ones(5, np.int64),
        np.zeros(5),
        np.ones(5),
        0.1,
        0.5,
        np.zeros(5, np.int64),
        np.ones(1),
        np.full((5, 2), -1),
        np.zeros((5, 2)),
        0.02,
    )
    assert all(len(g) == 0 for g in got)


def test_home_cost_and_supported_counts_match_their_numpy_forms():
    """Each federation's lead loses capacity, and each authority's supported schools: numpy's."""
    for seed in range(40):
        rng0 = np.random.default_rng(seed)
        n, n_heads, n_la = int(rng0.integers(1, 400)), int(rng0.integers(1, 300)), 7
        head = rng0.integers(0, n_heads, n)
        n_led = np.bincount(head, minlength=n_heads)
        authority = rng0.integers(0, n_la, n).astype(np.int32)
        perf = rng0.choice([0.0, -0.0, 0.5, 1.5, np.nan, np.inf, -np.inf], n)  # ties, nans
        if seed % 2:
            perf = np.round(rng0.standard_normal(n), 1)
        cap0 = rng0.random(n)
        cap, cap2 = cap0.copy(), cap0.copy()
        SystemLeadership.home_cost(head, n_led, perf, cap, 0.013)
        SystemLeadership.home_cost_compiled(head, n_led, perf, cap2, 0.013)
        assert np.array_equal(_bits(cap2), _bits(cap)), seed
        any_fed, counts = SystemLeadership.supported(head, authority, n_led, n_la)
        any_fed2, counts2 = SystemLeadership.supported_compiled(head, authority, n_led, n_la)
        assert any_fed == any_fed2 and np.array_equal(counts, counts2), seed
        assert counts.sum() == (n_led[head] > 1).sum() - (n_led > 1).sum()


def test_bring_over_matches_take_up_then_the_ownership_rule():
    """Federated schools take up the lead's practice and its staff's ownership: the numpy form."""
    import copy

    _bring_over = SystemLeadership.bring_over_compiled

    from sim.core.state import CHOSEN
    from sim.model.model import NextPracticeModel
    from sim.rules.actions import protection_inputs, take_up, value_inputs
    from tests.conftest import small

    m = NextPracticeModel(small(), rng=9).run(18)
    s = m.schools
    rng = np.random.default_rng(2)
    leads = rng.choice(s.n, 15, replace=False)
    pool = np.setdiff1d(np.arange(s.n), leads)
    led = rng.choice(pool, 60)  # some schools twice: only the first counts
    lead = rng.choice(leads, 60)
    col = np.array(
        [
            rng.choice(np.flatnonzero(s.slot_p[i] >= 0)) if (s.slot_p[i] >= 0).any() else 0
            for i in lead
        ]
    )
    ok_lead = s.slot_p[lead, col] >= 0
    led, lead, col = led[ok_lead], lead[ok_lead], col[ok_lead]
    s.slot_own[lead, col] = rng.random(len(lead))  # some above, some below the take-up's

    ref = copy.deepcopy(m)
    rs = ref.schools
    taken = take_up(ref, led, rs.slot_p[lead, col], CHOSEN)
    rows, lead_t, col_t = led[taken], lead[taken], col[taken]
    at = np.argmax(rs.slot_p[rows] == rs.slot_p[lead_t, col_t][:, None], axis=1)
    rs.slot_own[rows, at] = np.maximum(rs.slot_own[rows, at], rs.slot_own[lead_t, col_t])

    got = _bring_over(
        led,
        lead,
        col,
        m.p.init_own_chosen,
        s.slot_depth,
        s.slot_own,
        s.slot_source,
        value_inputs(m),
        protection_inputs(m),
    )
    assert got == taken.sum() > 5
    for name in ("slot_p", "slot_own", "slot_depth", "slot_channel", "slot_since", "slot_source"):
        assert np.array_equal(_bits(getattr(s, name)), _bits(getattr(rs, name))), name
    assert (rs.slot_own[rows, at] == rs.slot_own[lead_t, col_t]).any()  # the lead's was larger


def test_collaboratives_ties_and_rates_match_their_numpy_forms():
    """Ties within collaboratives, and formalisation rates, as the numpy forms gave them."""
    from types import SimpleNamespace

    _formalisation_rate = Collaboratives.formalisation_rate_compiled

    from sim.core.numerics import member_of
    from sim.core.state import COLLAB
    from sim.rules.actions import ties_within

    rng = np.random.default_rng(5)
    n, n_ties, n_c = 300, 4000, 8
    collab = np.where(rng.random(n) < 0.6, rng.integers(0, n_c, n), -1)
    ties = SimpleNamespace(
        n=n_ties,
        kind=rng.integers(0, 6, n_ties + 7),
        alive=rng.random(n_ties + 7) < 0.8,
        a=rng.integers(0, n, n_ties + 7),
        b=rng.integers(0, n, n_ties + 7),
    )
    ties.kind[rng.random(n_ties + 7) < 0.5] = COLLAB
    chosen = rng.choice(n_c, 4, replace=False)
    for alive_only, compiled in itertools.product((True, False), (True, False)):
        model = SimpleNamespace(
            ties=ties,
            collabs=SimpleNamespace(n=n_c),
            schools=SimpleNamespace(collab=collab),
            p=SimpleNamespace(compiled=compiled),
        )
        keep = ties.kind[:n_ties] == COLLAB
        if alive_only:
            keep &= ties.alive[:n_ties]
        tie = np.flatnonzero(keep)
        ends = collab[ties.a[tie]]
        want = tie[member_of(ends, chosen, n_c) & (ends == collab[ties.b[tie]])]
        got = ties_within(model, chosen, alive_only)
        assert len(want) > 10 and np.array_equal(got, want)

    fac, push = rng.random(n), 1.0 + rng.random(n) * 3.0
    want = Collaboratives.formalisation_rate(collab, fac, push, n_c + 3, 0.02)  # numpy form
    assert (want > 0).sum() >= n_c - 1 and (want[-3:] == 0).all()
    assert np.array_equal(_bits(_formalisation_rate(collab, fac, push, n_c + 3, 0.02)), _bits(want))

    # The informal ones in being, their chances and uids: as the rule once picked them out.
    alive, formal = rng.random(n_c + 3) < 0.8, rng.random(n_c + 5) < 0.4
    uid = rng.integers(0, 2**62, n_c + 5)
    for alive_now in (alive, np.zeros(n_c + 3, bool)):
        informal = np.flatnonzero(alive_now & ~formal[: n_c + 3])
        old = (informal, want[informal], uid[informal])
        args = (collab, fac, push, alive_now, formal, uid, 0.02)
        for form in (Collaboratives.informal_rates, Collaboratives.informal_rates_compiled):
            got = form(*args)
            assert len(got[0]) == len(old[0]) and (len(old[0]) >= 2 or not alive_now.any())
            assert np.array_equal(got[0], old[0]) and np.array_equal(got[2], old[2])
            assert got[2].dtype == np.int64 and np.array_equal(_bits(got[1]), _bits(old[1]))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_founding_chance_matches_its_numpy_form_and_the_model():
    """The chance to found a collaborative, facilitation and push: as the rule once wrote them.

    The numpy form is the rule's former inline code (``model.school_facilitation()``,
    ``1 + rel_adversity * model.pressure()``, the chance times ``collab == EMPTY``).
    """
    from types import SimpleNamespace

    from sim.core.state import EMPTY
    from sim.model.model import NextPracticeModel

    _founding_chance = Collaboratives.founding_chance_compiled
    rng = np.random.default_rng(11)
    n, H, n_la = 700, 900, 12
    appetite, head = rng.random(H), rng.integers(0, H, n)
    facilitation, authority = rng.random(n_la), rng.integers(0, n_la, n)
    budget = 1.0 - rng.random(n) * 0.4 + (rng.random(n) < 0.4) * 0.4
    budget[:4] = (1.0, np.nan, np.inf, -np.inf)
    capacity = rng.random(n)
    capacity[5] = np.nan
    collab = np.where(rng.random(n) < 0.4, rng.integers(0, 20, n), EMPTY)
    appetite[head[6]] = np.inf  # an infinite chance times a member's 0.0: nan, as numpy has it
    collab[6] = 3
    model = SimpleNamespace(
        schools=SimpleNamespace(budget=budget, capacity=capacity, authority=authority),
        authorities=SimpleNamespace(facilitation=facilitation),
    )
    for p_form, rel in ((0.003, 1.5), (0.0, 0.0), (0.2, 4.0)):
        fac = NextPracticeModel.school_facilitation(model)
        push = 1.0 + rel * NextPracticeModel.pressure(model)
        chance = p_form * appetite[head] * fac * push * (collab == EMPTY)
        args = (p_form, appetite, head, facilitation, authority, budget, capacity, rel, collab)
        want = Collaboratives.founding_chance(*args)
        got = _founding_chance(*args)
        for g, w, old in zip(got, want, (chance, fac, push), strict=True):
            assert np.array_equal(_bits(w), _bits(old))
            assert np.array_equal(_bits(g), _bits(w))


def test_per_step_chances_are_the_numpy_form():
    """per_step_array at monthly steps (compiled) and at other step lengths: numpy's numbers."""
    from sim.model.model import NextPracticeModel
    from tests.conftest import small

    rng = np.random.default_rng(23)
    rate = rng.random(5000) * 1.4 - 0.2 * 10.0 ** rng.integers(-300, 0, 5000)
    rate[:4] = (np.nan, -0.0, 0.0, 1.0)
    rate[4::97] = rng.random(len(rate[4::97])) * 1e-300  # tiny chances
    for dur in (1.0, 3.0, 0.5):
        m = NextPracticeModel(small(dur_step=dur), rng=1)
        want = 1.0 - (1.0 - np.clip(rate, 0.0, 1.0)) ** dur
        got = m.per_step_array(rate)
        assert np.array_equal(_bits(got), _bits(want)), dur
        assert np.array_equal(_bits(m.per_step_array(list(rate[:50]))), _bits(want[:50]))


def test_events_that_occur_are_the_numpy_form():
    """model.occurs: numpy's draws and indices, and the generator left where numpy leaves it."""
    from sim.model.model import NextPracticeModel
    from tests.conftest import small

    rng = np.random.default_rng(29)
    for dur in (1.0, 3.0):
        for n in (0, 1, 7, 2000):
            rate = rng.random(n) * 1.4 - 0.2
            rate[: min(n, 3)] = (np.nan, 0.0, 1.0)[: min(n, 3)]
            m = NextPracticeModel(small(dur_step=dur), rng=5)
            twin = np.random.default_rng(5)
            twin.bit_generator.state = m.rng.bit_generator.state
            want = np.flatnonzero(twin.random(n) < 1.0 - (1.0 - np.clip(rate, 0.0, 1.0)) ** dur)
            got = m.occurs(rate)
            assert got.dtype == np.int64 and np.array_equal(got, want), (dur, n)
            assert m.rng.random() == twin.random()


def test_keyed_events_are_the_numpy_form():
    """model.occurs with a key: each event's keyed uniform under its chance, at any step length."""
    from sim.model.model import NextPracticeModel
    from tests.conftest import small

    rng = np.random.default_rng(30)
    key = np.array([3, 4], np.uint64)
    for dur in (1.0, 3.0):
        for n in (0, 1, 7, 2000):
            rate = rng.random(n) * 1.4 - 0.2
            rate[: min(n, 3)] = (np.nan, 0.0, 1.0)[: min(n, 3)]
            ids = rng.permutation(n) * 7 + 11
            m = NextPracticeModel(small(dur_step=dur), rng=5)
            m.t = 9
            chance = 1.0 - (1.0 - np.clip(rate, 0.0, 1.0)) ** dur
            want = np.flatnonzero(draws.uniform(key, 9, ids, 0) < chance)
            assert np.array_equal(m.occurs(rate, key, ids), want), (dur, n)
            plain = np.flatnonzero(draws.uniform(key, 9, np.arange(n), 0) < chance)
            assert np.array_equal(m.occurs(rate, key), plain), (dur, n)


def test_life_cycle_stages_are_the_numpy_form():
    _stages = LifeCycle.stages_compiled

    from sim.core.state import ABANDONED, TRIAL

    rng = np.random.default_rng(31)
    for _ in range(50):
        P = int(rng.integers(1, 300))
        stage = rng.integers(0, 5, P).astype(np.int8)
        users = rng.integers(0, 4, P) * rng.integers(0, 400, P)
        ev_prec = np.where(rng.random(P) < 0.5, 0.0, rng.random(P))
        want = stage.copy()
        LifeCycle.stages(want, users, ev_prec, 250.0)  # the rule's numpy form
        _stages(stage, users, ev_prec, 250.0)
        assert np.array_equal(stage, want)
        assert np.isin(stage[users == 0], [ABANDONED, TRIAL]).all()  # a known answer


def test_school_summary_is_numpys_means_and_spreads():
    rng = np.random.default_rng(21)
    n = 3000
    perf, perf0 = rng.random(n), rng.random(n)
    weakest0 = np.argsort(perf0, kind="stable")[: n // 10]
    cap, budget = rng.random(n), rng.random(n) * 1.2
    trust, alive = rng.random(9000), rng.random(9000) < 0.8
    want = (
        perf.mean(),
        perf.std(),
        (perf - perf0).std(),
        perf[weakest0].mean(),
        cap.mean(),
        budget.mean(),
        trust[alive].mean(),
    )
    got = K.school_summary(perf, perf0, weakest0, cap, budget, trust, alive)
    assert [_bits(np.float64(g)) for g in got] == [_bits(np.float64(w)) for w in want]
    none = K.school_summary(perf, perf0, weakest0, cap, budget, trust, alive & False)
    assert none[-1] == 0.0


@pytest.mark.parametrize("empty", [False, True])
def test_practice_summary_is_numpys_answers(empty):
    """Depth, ownership, coherence, executive leadership, frontiers and counts: numpy's answers."""
    rng = np.random.default_rng(22)
    n, k, P, H = 2500, 6, 300, 2300
    sp = _slots(rng, n, k, P, filled=0.0 if empty else 0.6)
    depth, own, coh = rng.random((n, k)), rng.random((n, k)), rng.random(n)
    head = rng.integers(0, H, n)
    effect, ev_mean = rng.standard_normal(P), rng.standard_normal(P)
    users = np.bincount(sp[sp >= 0], minlength=P)
    ev_prec = np.where(rng.random(P) < (0.0 if empty else 0.1), rng.random(P), 0.0)
    stage = rng.integers(0, 5, P)
    alive, formal = rng.random(80) < 0.7, rng.random(80) < 0.4
    at = np.flatnonzero(sp >= 0)
    d, od = depth.ravel()[at], own.ravel()[at] * depth.ravel()[at]
    n_led = np.bincount(head, minlength=H)
    in_use, ev = users > 0, ev_prec > 0
    want = (
        d.mean() if len(d) else 0.0,
        od.sum() / max(d.sum(), 1e-12),
        coh.mean(),
        (n_led[head] > 1).mean(),
        effect[in_use].max() if in_use.any() else np.nan,
        ev_mean[ev].max() if ev.any() else np.nan,
        alive.sum(),
        (alive & formal).sum(),
        (stage == 1).sum(),
    )
    got = K.practice_summary(
        sp, depth, own, coh, head, H, effect, users, ev_mean, ev_prec, stage, 1, alive, formal
    )
    assert [_bits(np.float64(g)) for g in got] == [_bits(np.float64(w)) for w in want]
    assert empty == np.isnan(got[4]) == np.isnan(got[5])


def test_key_set_behaves_as_a_python_set():
    """The tie-key table answers as a set would through growth, removals and re-adds.

    Removals alternate between :meth:`KeySet.discard` and a compiled loop of
    :func:`~sim.core.state.discard_key` counted by :meth:`KeySet.removed` (as
    dissolving collaboratives removes its ties' keys), with keys repeated and absent.
    """
    import pickle

    import numba

    from sim.core.state import KeySet, discard_key

    @numba.njit
    def discard_each(table, keys):
        count = 0
        for key in keys:
            count += discard_key(table, key)
        return count

    rng = np.random.default_rng(3)
    ref: set[int] = set()
    ks = KeySet(np.array([5, 9, 5]))
    ref.update([5, 9])
    most = 0  # keys present at most, after an addition
    for step in range(300):
        keys = rng.integers(0, 400 if step % 2 else 5_000, rng.integers(0, 60))
        skip = rng.random(len(keys)) < 0.1
        if step % 3 == 0:  # as pairs of schools (key lo * 71 + hi), loops in place of skips
            a, b = rng.integers(0, 71, (2, len(keys)))
            a[skip] = b[skip]
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            keys, skip = lo * 71 + hi, lo == hi
        want = []
        for k, sk in zip(keys.tolist(), skip.tolist(), strict=True):
            want.append(not sk and k not in ref)
            if not sk:
                ref.add(k)
        if step % 3:
            assert ks.add_new(keys, skip).tolist() == want
        else:
            at, got_lo, got_hi = ks.add_pairs(a, b, 71)
            assert at.tolist() == np.flatnonzero(want).tolist()
            assert np.array_equal(got_lo, lo[at]) and np.array_equal(got_hi, hi[at])
        most = max(most, len(ref))
        gone = rng.choice(np.array(sorted(ref)), min(len(ref), 25), replace=False)
        gone = np.r_[gone, rng.integers(0, 5_000, 5), gone[:2]]  # absent ones, and again
        if step % 2:
            ks.discard(gone)
        else:
            ks.removed(discard_each(ks.table, gone))
        ref.difference_update(gone.tolist())
        assert len(ks) == len(ref)
        probe = rng.integers(0, 5_000, 50)
        assert [k in ks for k in probe.tolist()] == [k in ref for k in probe.tolist()]
    # rebuilt, not grown without end: at most a quarter full after a rebuild for 60 more keys
    assert len(ks.table) <= 8 * (most + 60)
    copy = pickle.loads(pickle.dumps(ks))
    assert sorted(copy.table[copy.table >= 0].tolist()) == sorted(ref)


def test_kernel_rng_follows_the_models_generator():
    """``model.kernel_rng`` is a handle on ``model.rng``, also after a copy or a new generator."""
    import copy
    import pickle

    from sim.model.model import NextPracticeModel
    from sim.model.params import Params

    m = NextPracticeModel(Params(n_schools=60, n_authorities=2), rng=4)
    assert m.kernel_rng.generator is m.rng and m.kernel_rng is m.kernel_rng
    for twin in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert twin.kernel_rng.generator is twin.rng
        twin.run(5)
    m.run(5)
    assert m.rng.random() == twin.rng.random()
    m.rng = np.random.default_rng(9)  # as Mesa's reset_rng does
    assert m.kernel_rng.generator is m.rng


def test_kernel_rng_reads_the_bit_generators_c_interface():
    """The handle keeps the address of numpy's ``bitgen_t``; kernels read its pointers there.

    Checked against numpy's own ctypes view (state, then the three function
    pointers), and a kernel compiled against the handle's earlier fields gets
    an error that says what to delete, not a bare missing attribute.
    """
    import ctypes

    from sim.core.jit import KernelRng

    g = np.random.default_rng(3)
    h = KernelRng(g)
    ct = g.bit_generator.ctypes
    fields = (ctypes.c_void_p * 4).from_address(h.bitgen_address)
    want = [ct.state.value] + [
        ctypes.cast(getattr(ct, f), ctypes.c_void_p).value
        for f in ("next_uint64", "next_uint32", "next_double")
    ]
    assert list(fields) == want
    assert h.integers(0, 10) == np.random.default_rng(3).integers(0, 10)  # the generator's methods
    with pytest.raises(AttributeError, match="__pycache__"):
        _ = h.state_address


@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.sampled_from([0.0, 0.5, 1.0, 2.0])), min_size=1, max_size=20
    )
)
def test_a_federations_lead_is_its_best_school_the_last_of_equals(schools):
    """federation_leads: the one rule both home_cost and support (numpy) find the lead by;
    support's compiled form keeps the same rule school by school (tested above)."""
    from sim.rules.executive_heads import federation_leads

    head = np.array([h for h, _ in schools], np.int64)
    perf = np.array([p for _, p in schools])
    fed = np.arange(len(head))
    heads, leads = federation_leads(fed, head, perf)
    assert list(heads) == sorted(set(head.tolist()))
    for h, lead in zip(heads, leads, strict=True):
        mine = fed[head == h]
        assert lead == mine[perf[mine] == perf[mine].max()].max()


def test_slot_effects_are_the_numpy_fade():
    """The scale-up fade, one pass (``model.slot_effect``): the numpy expression's numbers."""
    from sim.core.state import CREATED

    rng = np.random.default_rng(11)
    n, k, P = 400, 6, 50
    sp = _slots(rng, n, k, P)
    channel = rng.integers(0, 4, (n, k)).astype(np.int8)
    effect = rng.normal(0.0, 0.3, P)
    effect[:3] = [np.inf, -0.0, np.nan]  # odd values pass through as numpy's product does
    born = np.where(rng.random(P) < 0.5, -1, rng.integers(0, 120, P))
    for spread in (0.0, 0.37, 1.0):
        pid = np.maximum(sp, 0)
        faded = (born[pid] >= 0) & (channel != CREATED)
        with np.errstate(invalid="ignore"):  # inf times a fade of 0
            want = effect[pid] * np.where(faded, spread, 1.0)
        assert np.array_equal(_bits(K.slot_effects(sp, channel, effect, born, spread)), _bits(want))


_SHARE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0.0, 1.0),
    st.sampled_from([0.0, -0.0, 1.0, 1e-9, 1.0 - 1e-9, 5e-10, 0.99995, 0.123456789]),
)


@settings(deadline=None)  # the first call builds the table and compiles
@given(
    st.lists(st.tuples(_SHARE, st.integers(0, 141)), max_size=60),
    st.sampled_from([0.55, 0.65]),
)
def test_own_cohort_lookup_is_the_numpy_form(schools, floor):
    """Published results' lookup (``metrics.published`` with cohorts): numpy's bits.

    Shares anywhere, NaN, infinities and signed zeros included; cohorts below the
    smallest published (left out) and up to England's largest.
    """
    from sim.system import metrics

    perf = np.array([p for p, _ in schools], dtype=float)
    cohort = np.array([c for _, c in schools], dtype=np.int64)
    table = metrics._below_by_size(floor)
    with np.errstate(invalid="ignore"):
        want = metrics._own_cohorts_lookup_numpy(perf, cohort, table)
    got = K.own_cohort_lookup(perf, cohort, metrics.SMALLEST_PUBLISHED, table)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape
        assert np.array_equal(g.view(np.int64), w.view(np.int64))
    with pytest.raises(IndexError):  # a cohort beyond the table: an error, as numpy's
        K.own_cohort_lookup(np.array([0.5]), np.array([len(table)]), 11, table)


@settings(deadline=None)
@given(
    st.integers(1, 1200),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["plain", "odd"]),
)
def test_published_moments_are_numpys(m, seed, kind):
    """The published results' variance and means: numpy's, long arrays (pairwise) included.

    The model's shares are clipped into (0, 1), so its terms are finite; odd values
    are checked too, and give numpy's numbers (NaN where numpy's is NaN).
    """
    rng = np.random.default_rng(seed)
    q = rng.uniform(1e-9, 1.0 - 1e-9, m)
    n = rng.integers(11, 142, m)
    every, below = rng.random(m), rng.random(m)
    if kind == "odd":  # NaN, infinities, signed zeros pass through as numpy's would
        for x in (q, every, below):
            x[rng.integers(0, m, 3)] = rng.choice([np.nan, np.inf, -0.0, 0.0], 3)
    with np.errstate(all="ignore"):
        logit = np.log(q / (1.0 - q))
        want = (logit.var(), np.mean(1.0 / (n * q * (1.0 - q))), every.mean(), below.mean())
        got = K.published_moments(q, n, logit, every, below)
    got, want = np.array(got), np.array(want)
    # the same bits, but a NaN's sign, which the order of adding several NaNs sets
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.array_equal(_bits(got[~np.isnan(got)]), _bits(want[~np.isnan(want)]))


def _metric_inputs(rng, n, odd=False):
    """Random state for ``metric_summary``: arrays longer than their counts in use."""
    from sim.system import metrics

    k, P, H, T, C = 5, int(rng.integers(1, 40)), n + 7, int(rng.integers(0, 400)), 12
    perf = rng.random(n)
    perf[rng.random(n) < 0.2] = perf[0]  # ties at order statistics
    if odd:
        perf[rng.integers(0, n, 2)] = rng.choice([np.nan, 0.0, 1.0, -0.0], 2)
    cohort = rng.integers(1, 142, n)
    table = metrics._below_by_size(metrics.FLOOR)
    q, n_pub, below = K.own_cohort_lookup(perf, cohort, metrics.SMALLEST_PUBLISHED, table)
    with np.errstate(all="ignore"):
        every, logit = np.power(q, n_pub), np.log(q / (1.0 - q))
    sp = _slots(rng, n, k, P)
    m = P - int(rng.integers(0, P))  # practices in use
    return K.MetricInputs(
        perf=perf,
        perf0=rng.random(n),
        weakest0=rng.permutation(n)[: max(1, n // 10)],
        capacity=rng.random(n),
        budget=rng.random(n) * 1.2,
        cohort=cohort,
        trust=rng.random(T + 5),
        alive=rng.random(T + 5) < 0.8,
        n_ties=T,
        slot_p=np.where(sp < m, sp, -1),
        depth=rng.random((n, k)),
        own=rng.random((n, k)),
        coherence=rng.random(n),
        head=rng.integers(0, H, n),
        n_heads=H,
        effect=rng.standard_normal(P + 3),
        users=np.bincount(sp[(sp >= 0) & (sp < m)], minlength=m),
        ev_mean=rng.standard_normal(P + 3),
        ev_prec=np.where(rng.random(P + 3) < 0.2, rng.random(P + 3), 0.0),
        stage=rng.integers(0, 5, P + 3),
        n_practices=m,
        trial=1,
        collab_alive=rng.random(C) < 0.7,
        collab_formal=rng.random(C) < 0.4,
        n_collabs=int(rng.integers(0, C)),
        q=q,
        n_pub=n_pub,
        logit=logit,
        every=every,
        below=below,
    )


@settings(deadline=None, max_examples=60)
@given(st.integers(1, 1500), st.integers(0, 2**32 - 1), st.booleans())
def test_metric_summary_is_its_numpy_form(n, seed, odd):
    """The full metric set's numbers in one kernel: the calls one by one, bit for bit.

    Sizes across numpy's pairwise blocks, ties at the order statistics, no published
    school (all cohorts small), and NaN or extreme shares among the schools.
    """
    from sim.system import metrics
    from sim.system.metrics import _summary_numpy

    rng = np.random.default_rng(seed)
    x = _metric_inputs(rng, n, odd)
    if seed % 7 == 0:  # no school published
        x = x._replace(q=x.q[:0], n_pub=x.n_pub[:0], logit=x.logit[:0])
        x = x._replace(every=x.every[:0], below=x.below[:0])
    for lo, hi in ((0.05, 0.95), (0.0, 1.0), (0.5, 0.25)):
        with np.errstate(all="ignore"):
            want = _summary_numpy(x, lo, hi)
        got = K.metric_summary(x, lo, hi)
        # its fields as plain arguments (what collect passes), with the authorities' spend
        # and shortfall summed after: the same call, the same bits, and numpy's sums
        la = rng.random(int(rng.integers(0, 300))), rng.standard_normal(int(rng.integers(0, 9)))
        flat = K.metric_summary_args(*x, lo, hi, *la)
        with np.errstate(all="ignore"):
            flat_numpy = metrics._summary_numpy_args(*x, lo, hi, *la)
        assert flat[-2:] == flat_numpy[-2:] == (la[0].sum(), la[1].sum())
        assert _bits(np.array(flat[-2:])).tolist() == _bits(np.array(flat_numpy[-2:])).tolist()
        assert [type(f) for f in flat] == [type(g) for g in (*got, 0.0, 0.0)]
        assert np.array_equal(_bits(np.array(flat[:-2], float)), _bits(np.array(got, float)))
        assert [type(g) for g in got] == [type(w) for w in want]
        assert np.array_equal(np.isnan(np.array(got, float)), np.isnan(np.array(want, float)))
        ok = ~np.isnan(np.array(want, float))
        assert np.array_equal(_bits(np.array(got, float)[ok]), _bits(np.array(want, float)[ok]))


def test_collect_is_the_metric_calls_one_by_one(monkeypatch):
    """A run's metrics frame is the same, to the bit, with the numpy form of the summary."""
    from sim.model.model import NextPracticeModel
    from sim.system import metrics
    from tests.conftest import small

    fast = NextPracticeModel(small(n_steps=30), rng=3).run().metrics_frame()
    monkeypatch.setattr(metrics, "metric_summary_args", metrics._summary_numpy_args)
    slow = NextPracticeModel(small(n_steps=30), rng=3).run().metrics_frame()
    assert list(fast.columns) == list(slow.columns)
    assert (fast.dtypes == slow.dtypes).all()
    for col in fast.columns:
        a, b = fast[col].to_numpy(float), slow[col].to_numpy(float)
        assert np.array_equal(_bits(a), _bits(b)), col


def test_collect_asks_a_ledger_that_reports_its_own_way():
    """The spend columns are the ledger's own when its class answers ``metrics`` itself.

    ``collect`` sums the authorities' spend in its compiled call only for
    :class:`~sim.system.costs.Ledger`'s own ``metrics``; the numbers are the same.
    """
    from sim.model.model import NextPracticeModel
    from sim.system.costs import Ledger
    from tests.conftest import small

    class Own(Ledger):
        def metrics(self):
            return {**super().metrics(), "spend_schools": -1.0}

    plain = NextPracticeModel(small(n_steps=12), rng=3).run().metrics_frame()
    model = NextPracticeModel(small(n_steps=12), rng=3)
    model.ledger.__class__ = Own
    own = model.run().metrics_frame()
    assert (own["spend_schools"].iloc[1:] == -1.0).all()
    for col in ("spend_centre", "spend_authorities", "spend_public", "shortfall"):
        a, b = plain[col].to_numpy(float), own[col].to_numpy(float)
        assert np.array_equal(_bits(a), _bits(b)), col
    assert plain["spend_authorities"].iloc[-1] > 0  # the sums were exercised


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(0, 300),
    k=st.integers(1, 6),
    chance=st.one_of(st.floats(-0.5, 1.5), st.just(float("nan")), st.just(0.0)),
    seed=st.integers(0, 2**31),
)
def test_mandate_reach_draws_only_for_schools_not_running_it(n, k, chance, seed):
    """:func:`reached_compiled` draws for the schools not running the practice only.

    The schools reached are :func:`reached`'s, which draws for every school: a keyed
    uniform is the same whichever other schools draw. Chances at or below 0, or NaN,
    reach no one; above 1, every school not running it.
    """
    from sim.rules.strategies.mandate import reached, reached_compiled

    rng = np.random.default_rng(seed)
    sp = _slots(rng, n, k, 6, filled=rng.random())
    key = rng.integers(0, 2**64, 2, dtype=np.uint64)
    args = (key, int(rng.integers(0, 120)), sp, int(rng.integers(0, 6)), np.int64(seed % 997))
    want = reached(*args, chance)
    got = reached_compiled(*args, chance)
    assert got.dtype == np.int64
    assert np.array_equal(got, want)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 300), k=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_trials_concluded_match_their_numpy_form(n, k, seed):
    """The trials ending, their sites freed, mean performance and effect there: bit for bit.

    Trials that end and that do not, some with no site (an idea again), up to 300 sites
    (numpy's pairwise sum past 8 and 128 terms), candidates known at the start and
    invented, held as the site's own or not.
    """
    from sim.core.state import CHOSEN, CREATED, EMPTY, IDEA, TRIAL
    from sim.rules.strategies.field_trials import effects_at

    rng = np.random.default_rng(seed)
    P, t = 8, int(rng.integers(0, 60))
    stage = rng.choice([TRIAL, IDEA], P, p=[0.7, 0.3]).astype(np.int64)
    trial_end = rng.integers(t - 5, t + 5, P)
    trial_end[stage != TRIAL] = EMPTY
    trial = np.where(rng.random(n) < 0.8, rng.integers(0, P, n), EMPTY)
    sp = _slots(rng, n, k, P, filled=rng.random())
    on = trial >= 0
    sp[on, 0] = trial[on]  # sites run what they trial
    channel = rng.choice([CREATED, CHOSEN], (n, k))
    logit_perf = rng.standard_normal(n)
    effect = rng.standard_normal(P) * 0.3
    born = np.where(rng.random(P) < 0.5, -1, rng.integers(0, 50, P))
    rel = float(rng.random())
    a = [stage, trial_end.copy(), trial.copy()]
    b = [stage, trial_end.copy(), trial.copy()]
    rest = (logit_perf, sp, channel, effect, born, rel)
    due = FieldTrials.any_ending(t, stage, trial_end)  # the look before: as the two find
    assert FieldTrials.any_ending_compiled(t, stage, trial_end) is due
    want = FieldTrials.concluded(t, *a, *rest)
    assert due == (len(want[0]) > 0)
    got = FieldTrials.concluded_compiled(t, *b, *rest)
    for x, y in zip(got, want, strict=True):
        assert x.dtype == y.dtype
        assert np.array_equal(_bits(x), _bits(y)) if x.dtype == np.float64 else np.array_equal(x, y)
    assert np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2])
    ending, n_sites, _, gain = want
    assert np.array_equal(ending, np.flatnonzero((stage == TRIAL) & (trial_end <= t)))
    for x, pid in enumerate(ending.tolist()):  # the freed sites, and effects_at's mean there
        sites = np.flatnonzero(trial == pid)
        assert n_sites[x] == len(sites) and not (a[2] == pid).any() and a[1][pid] == EMPTY
        if len(sites):
            at = effects_at(pid, sp[sites], channel[sites], effect, born, rel)
            assert _bits(gain[x : x + 1]) == _bits(np.array([at.mean()]))


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(0, 200),
    extra=st.integers(0, 5),
    k=st.integers(1, 6),
    size=st.integers(0, 4),
    seed=st.integers(0, 2**31),
)
def test_mandate_counts_match_their_numpy_form_and_the_users(n, extra, k, size, seed):
    """Places a mandate asks for and schools under it: the numpy form's, and the users'.

    The first is ``sum(n - users[q])`` over the practices (repeats counted again), the
    slots counted on every row as ``model.users()`` counts them; the second the schools
    among the first ``n`` running any of them.
    """
    from sim.core.numerics import row_any
    from sim.core.state import EMPTY
    from sim.rules.strategies.mandate import Mandate

    rng = np.random.default_rng(seed)
    P = 6
    sp = np.vstack([_slots(rng, n, k, P, filled=rng.random()), np.full((extra, k), EMPTY)])
    practices = rng.integers(0, P, size).astype(np.int64)
    for schools in (True, False):
        want = Mandate.counts(sp, n, practices, schools)
        got = Mandate.counts_compiled(sp, n, practices, schools)
        assert got == want
        users = K.practice_users(sp, P)
        assert want[0] == sum(n - int(users[q]) for q in practices.tolist())
        under = int(row_any(np.isin(sp[:n], practices.tolist())).sum())
        assert want[1] == (under if schools else 0)


@settings(max_examples=25, deadline=None)
@given(n_free=st.integers(1, 60), k=st.integers(1, 5), seed=st.integers(0, 2**31))
def test_trial_incubation_matches_its_numpy_form_and_its_three_steps(n_free, k, seed):
    """Volunteers, their take-up (created) and enrolment in one kernel: the numpy form's.

    Both forms leave the same slots, trial marks and comparator, and count the same
    take-ups, which are :func:`sim.rules.actions.take_up`'s on the volunteers.
    """
    import copy

    from sim.core.state import CREATED, EMPTY
    from sim.model.model import NextPracticeModel
    from sim.rules.actions import protection_inputs, take_up, value_inputs
    from tests.conftest import small

    m = NextPracticeModel(small(), rng=seed % 50).run(4)
    s, pr = m.schools, m.practices
    rng = np.random.default_rng(seed)
    pid = int(rng.integers(0, pr.n))
    free = np.sort(rng.choice(s.n, min(n_free, s.n), replace=False)).astype(np.int64)
    k = min(k, len(free))
    key = rng.integers(0, 2**64, 2, dtype=np.uint64)
    outs = []
    for form in (FieldTrials.incubate, FieldTrials.incubate_compiled):
        c = copy.deepcopy(m)
        cs, cp = c.schools, c.practices
        cs.trial[:] = EMPTY
        protect = protection_inputs(c)  # all but the step, which is c.t
        got = form(
            key,
            c.t,
            free,
            cp.uid[pid],
            c.heads.openness,
            cs.head,
            cs.capacity,
            k,
            pid,
            c.p.init_own_created,
            cs.slot_depth,
            cs.slot_own,
            cs.slot_source,
            cs.trial,
            cp.effect,
            cp.born,
            c.p.rel_effect_spread,
            *value_inputs(c),
            *protect[:2],
            *protect[3:],
        )
        outs.append((got, c))
    (base_a, n_a), a = outs[0]
    (base_b, n_b), b = outs[1]
    assert n_a == n_b and _bits(base_a) == _bits(base_b)
    for name in ("slot_p", "slot_depth", "slot_own", "slot_channel", "slot_since", "trial"):
        assert np.array_equal(getattr(a.schools, name), getattr(b.schools, name)), name
    ref = copy.deepcopy(m)  # the three steps as the rule took them before
    ref.schools.trial[:] = EMPTY
    rs, rp = ref.schools, ref.practices
    sites = FieldTrials.volunteers(
        key, ref.t, free, rp.uid[pid], ref.heads.openness, rs.head, rs.capacity, k
    )
    before = rs.slot_p[sites]
    ok = take_up(ref, sites, np.full(k, pid), CREATED)
    base = FieldTrials.enrol(
        pid,
        sites,
        before,
        rs.slot_p,
        rs.slot_channel,
        rs.trial,
        rp.effect,
        rp.born,
        ref.p.rel_effect_spread,
    )
    assert int(ok.sum()) == n_a and _bits(base) == _bits(base_a)
    assert np.array_equal(rs.slot_p, a.schools.slot_p) and np.array_equal(rs.trial, a.schools.trial)


def test_leadership_step_matches_its_numpy_form():
    """A whole leadership step (cuts, matching, payment, support): the numpy form's answers."""
    for seed in range(24):
        rng0 = np.random.default_rng(seed)
        n, k, n_heads, n_la = 400, 6, 450, 7
        head = rng0.integers(0, n_heads, n)  # many heads lead two or three schools
        head[: n // 2] = rng0.permutation(n_heads)[: n // 2]  # many lead one alone
        perf = np.round(rng0.standard_normal(n), 1)  # ties at the cuts
        if seed % 6 == 5:
            perf[rng0.integers(0, n)] = np.nan  # no cuts: nobody strong or weak
        appetite = rng0.random(n_heads + 20) * (0.0, 3.0, 60.0)[seed % 3]
        sp = _slots(rng0, n, k, 30)
        depth = np.where(sp >= 0, np.round(rng0.random((n, k)), 1), 0.0)
        authority = np.sort(rng0.integers(0, n_la, n))
        by = np.argsort(authority, kind="stable")
        start = np.searchsorted(authority[by], np.arange(n_la))
        end = np.searchsorted(authority[by], np.arange(n_la), side="right")
        allowance = rng0.random(n_la) * (0.0, 0.3, 50.0)[seed // 3 % 3]
        spent0 = allowance * rng0.random(n_la) * (seed % 2)
        spent0[0] = -0.0
        cap0 = rng0.random(n)
        keys = np.random.default_rng(seed).integers(0, 2**64, (3, 2), dtype=np.uint64)
        q_strong, q_weak = (0.75, 0.1) if seed % 4 else (1.0, 0.0)
        chance = np.zeros(0) if seed % 5 else rng0.random(n)
        out = []
        for form in (SystemLeadership.lead, SystemLeadership.lead_compiled):
            h, cap, spent, short = head.copy(), cap0.copy(), spent0.copy(), np.zeros(n_la)
            got = form(
                keys, seed, perf, q_strong, q_weak, h, appetite, n_heads, 0.2, chance,
                authority, by, start, end, allowance, spent, short, 20.0, 1.0,
                cap, 0.07, 0.6, sp, depth, 0.013,
            )  # fmt: skip
            out.append((got, h, cap, spent, short))
        (want, *w_state), (got, *g_state) = out
        for g, w in zip(got, want, strict=True):
            assert g.dtype == w.dtype and np.array_equal(g, w), seed
        for g, w in zip(g_state, w_state, strict=True):
            assert np.array_equal(_bits(g), _bits(w)), seed


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([0.0, -0.0, 0.5, 1.5, -2.25, 1e300, -1e-300]), min_size=1),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
)
def test_leadership_cuts_are_numpys_quantiles(values, q_hi, q_lo):
    """The compiled cuts are :func:`sim.core.numerics.quantiles`' numbers, bit for bit."""
    from sim.core.numerics import quantiles
    from sim.rules.executive_heads import _cuts

    x = np.array(values)
    want = quantiles(x, [q_hi, q_lo])
    got = np.array(_cuts(x, q_hi, q_lo))
    assert np.array_equal(np.abs(got), np.abs(want), equal_nan=True)  # signs of 0 may differ


def test_turnover_matches_its_numpy_form():
    """Heads leaving, their schools and the collaboratives that fade: the numpy form's answers."""
    rng0 = np.random.default_rng(16)
    for seed in range(20):
        H, n, C = 900, 700, 60
        active = rng0.random(H) < 0.8
        head = rng0.choice(np.flatnonzero(active), n)
        alive = rng0.random(C) < 0.7
        founder = rng0.choice(H, C)
        formal = rng0.random(C) < 0.4
        cuid = rng0.integers(0, 2**62, C)
        chance = (0.0, 0.02, 0.3, 1.0)[seed % 4]
        keys = np.random.default_rng(seed).integers(0, 2**64, (5, 2), dtype=np.uint64)
        uid = rng0.integers(0, 2**62, H)
        args = (keys, seed, active, uid, chance, head, alive, founder, formal, cuid, 0.7)
        want = HeadTurnover.turnover(*args)
        got = HeadTurnover.turnover_compiled(*args)
        for g, w in zip(got, want, strict=True):
            assert g.dtype == w.dtype and np.array_equal(g, w), seed
        if chance >= 0.3:
            assert all(len(w) for w in want)


def test_new_heads_in_post_matches_its_numpy_form():
    """New heads in post and their schools' ownership scaled: numpy's, repeats included."""
    from sim.rules.actions import new_heads_in_post, new_heads_in_post_compiled

    rng0 = np.random.default_rng(21)
    for seed in range(20):
        n, k = 60, 5
        head0 = rng0.integers(0, 80, n)
        own0 = np.round(rng0.random((n, k)), 2)
        schools = rng0.choice(n, int(rng0.integers(0, 12)), replace=bool(seed % 2))
        new = np.arange(80, 80 + len(schools))
        rel = (0.5, 0.3, 1.0, 0.0)[seed % 4]
        want_h, want_o = head0.copy(), own0.copy()
        new_heads_in_post(want_h, want_o, schools, new, rel)
        got_h, got_o = head0.copy(), own0.copy()
        new_heads_in_post_compiled(got_h, got_o, schools, new, rel)
        assert np.array_equal(got_h, want_h), seed
        assert np.array_equal(_bits(got_o), _bits(want_o)), seed


def test_head_traits_are_the_three_draws():
    """New heads' traits in one call: the three keyed draws, bit for bit."""
    keys = np.random.default_rng(3).integers(0, 2**64, (3, 2), dtype=np.uint64)
    uid = np.array([5, 2**33 + 7, 2**40 + 11, 12345], np.int64)
    got = K.head_traits(keys, 9, uid, 2.0, 3.5, -0.02, 0.2, 1.5, 6.0)
    want = (
        draws.beta(keys[0], 9, uid, 0, 2.0, 3.5),
        draws.lognormal(keys[1], 9, uid, 0, -0.02, 0.2),
        draws.beta(keys[2], 9, uid, 0, 1.5, 6.0),
    )
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(_bits(g), _bits(w))


def test_review_reads_faded_as_from_the_table():
    """Review's reads with the fade applied slot by slot: the table's reads, bit for bit.

    ``read_faded`` (numpy) and ``read_faded_compiled`` against ``read`` given
    ``slot_effects``' table (what the rule reads when the model's ``slot_effect`` is its own).
    """
    from sim.core.state import CREATED
    from sim.rules.evidence_review import Review

    rng = np.random.default_rng(12)
    n, k, P = 300, 6, 40
    sp = _slots(rng, n, k, P)
    channel = rng.integers(0, 4, (n, k)).astype(np.int8)
    channel[rng.random((n, k)) < 0.2] = CREATED
    effect = rng.normal(0.0, 0.3, P)
    effect[:2] = [-0.0, 1e-300]
    born = np.where(rng.random(P) < 0.5, -1, rng.integers(0, 120, P))
    key, uid = np.array([5, 9], np.uint64), rng.integers(0, 2**62, P)
    obs0, nobs0 = rng.random((n, k)), rng.random((n, k))
    for spread in (0.0, 0.37, 1.0):
        table = K.slot_effects(sp, channel, effect, born, spread)
        want_obs, want_nobs = obs0.copy(), nobs0.copy()
        Review.read(key, 7, sp, want_obs, want_nobs, table, uid, 0.45, np.sqrt(0.5), 0.5)
        for form in (Review.read_faded, Review.read_faded_compiled):
            obs, nobs = obs0.copy(), nobs0.copy()
            args = (channel, effect, born, spread, uid, 0.45, np.sqrt(0.5), 0.5)
            form(key, 7, sp, obs, nobs, *args)
            assert np.array_equal(_bits(obs), _bits(want_obs))
            assert np.array_equal(_bits(nobs), _bits(want_nobs))


def test_review_reads_a_models_own_slot_effect():
    """A model subclass with its own ``slot_effect``: Review reads that table, not the fade."""
    from sim.model.model import NextPracticeModel
    from tests.conftest import small

    class Doubled(NextPracticeModel):
        def slot_effect(self):
            return 2.0 * super().slot_effect()

    plain, doubled = NextPracticeModel(small(), rng=3), Doubled(small(), rng=3)
    assert plain.plain_slot_effect and not doubled.plain_slot_effect
    review = next(r for r in doubled._pipeline if r.slot == "review")
    asked = []
    own = doubled.slot_effect
    doubled.slot_effect = lambda: asked.append(1) or own()
    review.apply(doubled)
    assert asked == [1]


def test_a_plugins_own_review_is_handed_the_bundle():
    """A Review subclass with its own ``review`` gets the :class:`ReviewInputs` bundle."""
    from sim.model.model import NextPracticeModel
    from sim.rules.evidence_review import Review, ReviewInputs
    from tests.conftest import small

    seen = []

    class Mine(Review):
        @staticmethod
        def review(key, t, x):
            seen.append(type(x))
            return Review.review(key, t, x)

    model = NextPracticeModel(small(), rng=3)
    rule = next(r for r in model._pipeline if r.slot == "review")
    rule.__class__ = Mine  # the model's rule, as a plug-in subclass would run it
    rule.__dict__.pop("review", None)  # its compiled twin was bound for the shipped class
    rule.apply(model)
    assert seen == [ReviewInputs]


def _perform_inputs(rng, n, k, n_practices, n_domains):
    """A :class:`PerformInputs`' arrays and numbers, and the fade's inputs behind its tables."""
    from sim.core.state import CREATED

    sp = _slots(rng, n, k, n_practices)
    channel = rng.integers(0, 4, (n, k)).astype(np.int8)
    channel[rng.random((n, k)) < 0.2] = CREATED
    effect = rng.normal(0.05, 0.3, n_practices)
    effect[:2] = [-0.0, 1e-300]
    born = np.where(rng.random(n_practices) < 0.5, -1, rng.integers(0, 120, n_practices))
    depth = rng.random((n, k))
    depth[rng.random((n, k)) < 0.1] = 0.0
    since = rng.integers(-5, 40, (n, k))
    domain = rng.integers(0, n_domains, n_practices)
    base, capacity, capacity0 = rng.normal(0.5, 0.5, n), rng.random(n), rng.random(n)
    scalars = (n_domains, 1.0, 0.6, 0.5, 0.37, 2.9, 0.05, 12.0, 0.2, 0.02)
    return sp, channel, effect, born, depth, since, domain, base, capacity, capacity0, scalars


def test_performance_fused_forms_are_the_table_forms():
    """Performance with the fade and coherence inside its call, or its bundle's fields plain.

    ``perform_faded`` (numpy) and ``perform_faded_compiled``, and ``performs`` and
    ``performs_compiled`` handed :class:`PerformInputs`' fields, against ``perform`` and
    ``perform_compiled`` given ``slot_effects``' and ``domain_coherence``'s tables (what
    the rule reads when the model's ``slot_effect`` or ``coherence`` is its own): bit for bit.
    """
    from sim.rules.practice_effects import Performance, PerformInputs

    rng = np.random.default_rng(8)
    key = np.array([3, 11], np.uint64)
    for n_domains in (2, 3, 5):
        sp, ch, eff, born, depth, since, dom, base, cap, cap0, sc = _perform_inputs(
            rng, 300, 6, 40, n_domains
        )
        logit0 = rng.normal(0.4, 0.6, 300)
        for spread in (0.0, 0.37, 1.0):
            table = K.slot_effects(sp, ch, eff, born, spread)
            coh = K.domain_coherence(sp, depth, dom, n_domains)
            x = PerformInputs(base, cap, cap0, coh, sp, table, depth, since, dom, *sc)
            want = logit0.copy()
            Performance.perform(key, 17, want, x)
            for form in (Performance.perform_compiled,):
                got = logit0.copy()
                form(key, 17, got, x)
                assert np.array_equal(_bits(got), _bits(want))
            for form in (Performance.performs, Performance.performs_compiled):
                got = logit0.copy()
                form(key, 17, got, *x)
                assert np.array_equal(_bits(got), _bits(want))
            fade = (sp, ch, eff, born, spread, depth, since, dom, *sc)
            for form in (Performance.perform_faded, Performance.perform_faded_compiled):
                got = logit0.copy()
                form(key, 17, got, base, cap, cap0, *fade)
                assert np.array_equal(_bits(got), _bits(want))


def _doubled_effect(model):
    return 2.0 * type(model).__mro__[1].slot_effect(model)


def _halved_coherence(model):
    return 0.5 * type(model).__mro__[1].coherence(model)


@pytest.mark.parametrize("own", ["slot_effect", "coherence"])
def test_performance_asks_a_models_own_slot_effect_and_coherence(own):
    """A model subclass with its own ``slot_effect`` or ``coherence``: Performance asks it."""
    from sim.model.model import NextPracticeModel
    from sim.rules.practice_effects import Performance
    from tests.conftest import small

    method = {"slot_effect": _doubled_effect, "coherence": _halved_coherence}[own]
    Own = type("Own", (NextPracticeModel,), {own: method})
    plain, model = NextPracticeModel(small(), rng=3), Own(small(), rng=3)
    assert plain.plain_slot_effect and plain.plain_coherence
    assert not (model.plain_slot_effect and model.plain_coherence)
    perform = next(r for r in model._pipeline if r.slot == "perform")
    x = perform.inputs(model)  # the model's own tables, as the bundle holds them
    want = model.schools.logit_perf.copy()
    Performance.perform(perform.keys[0], model.t, want, x)
    asked = []
    own_effect, own_coherence = model.slot_effect, model.coherence
    model.slot_effect = lambda: asked.append("slot_effect") or own_effect()
    model.coherence = lambda: asked.append("coherence") or own_coherence()
    perform.apply(model)
    assert asked == ["coherence", "slot_effect"]
    assert np.array_equal(_bits(model.schools.logit_perf), _bits(want))
    # the model's own forms as they stand: neither is asked, the rule computes both itself
    fused = next(r for r in plain._pipeline if r.slot == "perform")
    plain.slot_effect = plain.coherence = lambda: asked.append("asked")
    fused.apply(plain)
    assert asked == ["coherence", "slot_effect"]


def test_a_plugins_own_perform_is_handed_the_bundle():
    """A Performance subclass with its own ``perform`` gets the :class:`PerformInputs` bundle."""
    from sim.model.model import NextPracticeModel
    from sim.rules.practice_effects import Performance, PerformInputs
    from tests.conftest import small

    seen = []

    class Mine(Performance):
        @staticmethod
        def perform(key, t, logit, x):
            seen.append(type(x))
            Performance.perform(key, t, logit, x)

    model = NextPracticeModel(small(), rng=3)
    rule = next(r for r in model._pipeline if r.slot == "perform")
    rule.__class__ = Mine  # the model's rule, as a plug-in subclass would run it
    rule.__dict__.pop("perform", None)  # its compiled twin was bound for the shipped class
    rule.apply(model)
    assert seen == [PerformInputs]


def test_inventors_match_their_numpy_form_and_the_two_asks():
    """Who invents and the pressure, in one call: the rate, then ``keyed_events`` of it."""
    _inventors = Recombination.inventors_compiled

    rng = np.random.default_rng(11)
    n, H = 2000, 2300
    ing, head, cap = rng.lognormal(0, 0.5, H), rng.integers(0, H, n), rng.random(n)
    trial = np.where(rng.random(n) < 0.1, rng.integers(0, 50, n), -1)
    budget = 1.0 - rng.random(n) * 0.3 + (rng.random(n) < 0.5) * 0.3
    key = stream_keys(np.random.default_rng(3), ("invent",))[0]
    for t, tight, rel in ((0, 0.3, 1.5), (17, 1.0, 0.0), (40, 0.0, 4.0)):
        args = (0.3, ing, head, cap, trial, tight, rel, budget)
        rate, pressure = Recombination.invention_rate(*args)
        want = (K.keyed_events(key, t, rate, np.arange(n)), pressure)
        for got in (Recombination.inventors(key, t, *args), _inventors(key, t, *args)):
            assert len(want[0]) > 20
            for g, w in zip(got, want, strict=True):
                assert np.array_equal(_bits(g), _bits(w))


def test_dissolving_collaboratives_in_one_call_matches_the_numpy_steps():
    """Collaboratives end, compiled: the same members out, ties lapsed and tie keys removed."""
    import copy

    from sim.bench import _params
    from sim.model.model import NextPracticeModel
    from sim.rules.actions import dissolve_collaboratives

    m = NextPracticeModel(_params(300), rng=1).run(60)
    alive = np.flatnonzero(m.collabs.alive[: m.collabs.n])
    assert len(alive) >= 4
    rng = np.random.default_rng(4)
    killed = 0
    for _ in range(12):
        pick = np.sort(rng.choice(alive, size=int(rng.integers(1, 4)), replace=False))
        a, b = copy.deepcopy(m), copy.deepcopy(m)
        b.p = b.p.model_copy(update={"compiled": False})  # the numpy steps
        dissolve_collaboratives(a, pick)
        dissolve_collaboratives(b, pick)
        for x, y in ((a.collabs.alive, b.collabs.alive), (a.schools.collab, b.schools.collab)):
            assert np.array_equal(x, y)
        assert np.array_equal(a.ties.alive, b.ties.alive)
        assert np.array_equal(a.tie_keys.table, b.tie_keys.table)
        assert (a.tie_keys.n_used, a.tie_keys.n_gone, a.ties.version) == (
            b.tie_keys.n_used,
            b.tie_keys.n_gone,
            b.ties.version,
        )
        killed += int(np.count_nonzero(m.ties.alive[: m.ties.n] != a.ties.alive[: a.ties.n]))
    assert killed > 10


def test_born_identifiers_the_same_by_the_shortcut_and_the_ranks():
    """Each place's first birth (the shortcut) and repeats give ``born_uid`` of their ranks."""
    from sim.bench import _params
    from sim.core.state import born_ranks, born_uid
    from sim.model.model import NextPracticeModel

    m = NextPracticeModel(_params(50), rng=1)
    counts = {}
    for places in ([3, 9, 4], [], [5], [9, 2], [7, 7, 1], list(range(20, 90))):
        places = np.array(places, np.int64)
        want = born_uid(m.t, places, born_ranks(places, counts))
        got = m.born("test", places)
        assert got.dtype == np.int64 and np.array_equal(got, want)
    with pytest.raises(ValueError):
        m.born("test", np.array([-1]))
