"""Computations made cheaper give the same bits as the forms they replaced.

Each test keeps, as its reference, the form the code had before (a pass per
domain, a full stable sort, a power taken afresh for every term), and checks
the new one against it on hostile inputs: nans, infinities, signed zeros,
ties, out-of-range domains. The rules' numpy forms are compared with their
kernels in ``tests/test_numpy_forms.py``.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.core import draws
from sim.core.jit import jit
from sim.core.numerics import first_in_order
from sim.rules.practice_effects import MIN_ROOM, Performance, PerformInputs
from sim.system.metrics import COHORT_SIZES, COHORT_WEIGHTS, FLOOR, GRID, _mixture


@jit
def _perform_by_domain(key, t, logit, x):
    """Performance's kernel as it was: a pass over the slots for each domain."""
    noise = draws.normal(key, t, np.arange(len(logit)), 0)
    n, k = x.slot_p.shape
    for i in range(n):
        total = 0.0
        for d in range(x.n_domains):
            top = 0.0
            pos = 0.0
            neg = 0.0
            for j in range(k):
                pid = x.slot_p[i, j]
                here = pid >= 0 and x.domain[max(pid, 0)] == d
                c = x.slot_effect[i, j] * x.depth[i, j] if here else 0.0
                top = max(top, c)
                pos = pos + max(c, 0.0)
                neg = neg + min(c, 0.0)
            total = total + (top + x.rel_substitute * (pos - top) + neg)
        dip = 0.0
        for j in range(k):
            s0 = x.since[i, j]
            learning = x.slot_p[i, j] >= 0 and s0 >= 0 and (t - s0) * x.dur_step < x.dur_dip
            dip = dip + (x.rel_dip if learning else 0.0)
        gain = (
            x.rel_capacity * (x.capacity[i] - x.capacity0[i])
            + (1.0 + x.rel_coherence * x.coherence[i]) * total
            - dip
        )
        room = max(x.logit_ceiling - x.base[i], MIN_ROOM)
        if gain > 0:
            gain = gain * room / (gain + room)
        target = x.base[i] + gain
        logit[i] += x.rate * (target - logit[i]) + x.sd * noise[i]


_HOSTILE = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300]


def _floats(rng, shape):
    x = rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 6, shape)  # sums that round
    x[rng.random(shape) < 0.1] = 0.0
    x[rng.random(shape) < 0.1] = -0.0
    odd = rng.random(shape) < 0.05
    x[odd] = rng.choice(_HOSTILE, odd.sum())
    return x


def _same(a, b):
    """Bit for bit, but any nan for a nan (its sign bit is the compiler's choice of instruction)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(both_nan | (a.view(np.int64) == b.view(np.int64))))


@pytest.mark.parametrize("n_domains", [0, 1, 2, 4, 5])
def test_performance_in_one_pass_is_the_pass_per_domain(n_domains):
    rng = np.random.default_rng(n_domains)
    n_practices, n, k = 12, 40, 6
    choices = np.array([0.3, 0.7, 1.0, -0.4, 0.0, -0.0, np.nan, np.inf])
    for case in range(60):
        scalars = rng.choice(choices, 4) if case % 3 == 0 else np.array([0.3, 0.7, 0.4, 0.3])
        x = PerformInputs(
            base=_floats(rng, n),
            capacity=_floats(rng, n),
            capacity0=_floats(rng, n),
            coherence=_floats(rng, n),
            slot_p=rng.integers(-1, n_practices, (n, k)),
            slot_effect=_floats(rng, (n, k)),
            depth=_floats(rng, (n, k)),
            since=rng.integers(-3, 30, (n, k)),
            domain=rng.integers(-1, n_domains + 2, n_practices),  # some outside 0..D-1
            n_domains=n_domains,
            dur_step=1.0,
            rel_capacity=0.5,
            rel_coherence=float(scalars[0]),
            rel_substitute=float(scalars[1]),
            logit_ceiling=2.0,
            rel_dip=float(scalars[2]),
            dur_dip=12.0,
            rate=0.1,
            sd=float(scalars[3]),
        )
        key = np.array([case, 7], np.uint64)
        logit = _floats(rng, n)
        want, got = logit.copy(), logit.copy()
        _perform_by_domain(key, 20, want, x)
        Performance.perform_compiled(key, 20, got, x)
        assert _same(got, want), case


@settings(max_examples=300, deadline=None)
@given(
    x=hnp.arrays(
        np.float64,
        st.integers(0, 200),
        elements=st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, np.inf, -np.inf, np.nan])
        | st.floats(allow_nan=True, allow_infinity=True),
    ),
    k=st.integers(-3, 60),
)
def test_first_in_order_is_the_stable_sorts_first_k(x, k):
    got = first_in_order(x, k)
    want = np.argsort(x, kind="stable")[:k]
    assert got.dtype == want.dtype
    assert np.array_equal(got, want)


@pytest.mark.parametrize("seed", range(20))
def test_first_in_order_among_many_with_ties(seed):
    """Large arrays, where the partition is taken: ties at the k-th value, signed zeros."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(100, 5000))
    x = rng.integers(-5, 5, n).astype(float)  # many ties
    x[x == 0] = rng.choice([0.0, -0.0], int((x == 0).sum()))
    x[rng.random(n) < 0.05] = np.nan
    x[rng.random(n) < 0.02] = np.inf
    if seed % 2:
        x = rng.exponential(size=n) / rng.random(n)  # the field trials' clocks: no ties
    for k in [1, 2, 5, 17, n // 5]:
        assert np.array_equal(first_in_order(x, k), np.argsort(x, kind="stable")[:k])


def _mixture_term_by_term(p, sizes, weights, floor):
    """The cohort mixture as it was: every power taken afresh for every term."""
    every = np.zeros(len(p))
    below = np.zeros(len(p))
    for n, w in zip(sizes.tolist(), weights.tolist(), strict=True):
        every += w * p**n
        k_max = int(np.ceil(floor * n)) - 1
        cdf = np.zeros(len(p))
        for k in range(k_max + 1):
            cdf += math.comb(n, k) * p**k * (1.0 - p) ** (n - k)
        below += w * cdf
    return every, below


def _assert_mixture_is_term_by_term(p, sizes, weights, floor):
    """The shipped mixture's two tables are the term-by-term reference's, bit for bit."""
    got = _mixture(p, sizes, weights, floor)
    want = _mixture_term_by_term(p, sizes, weights, floor)
    for g, w in zip(got, want, strict=True):
        assert _same(g, w)


def test_the_cohort_mixture_on_englands_grid_is_the_term_by_term_sum():
    """The table every run reads (:func:`sim.system.metrics._table`), bit for bit."""
    _assert_mixture_is_term_by_term(GRID, COHORT_SIZES, COHORT_WEIGHTS, FLOOR)


@settings(max_examples=60, deadline=None)
@given(
    p=hnp.arrays(
        np.float64,
        st.integers(1, 30),
        elements=st.sampled_from([0.0, -0.0, 1.0, 0.5, np.nan, np.inf])
        | st.floats(-0.5, 1.5, allow_nan=False),
    ),
    sizes=st.lists(st.integers(0, 60), min_size=1, max_size=8),
    floor=st.sampled_from([0.0, 0.3, 0.55, 1.0]),
)
def test_the_cohort_mixture_is_the_term_by_term_sum(p, sizes, floor):
    """Any shares (out of range too), cohorts repeated or of no pupils, any floor."""
    sizes = np.array(sizes, np.int64)
    weights = np.linspace(1.0, 2.0, len(sizes)) / len(sizes)
    _assert_mixture_is_term_by_term(p, sizes, weights, floor)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(1, 3000), elements=st.floats(0.0, 1.0)),
    st.floats(0.0, 1.0),
)
def test_past_plateau_counts_as_numpys_mean(perf, shift):
    """The share past the early plateau as a count is ``np.mean`` of the booleans, bit for bit."""
    from sim.model.model import PAST_MARGIN, NextPracticeModel

    class Stub:  # what past_plateau reads
        t, p = 10_000, type("P", (), {"dur_step": 1.0})
        perf_early = np.clip(perf - shift + 0.5 * PAST_MARGIN, 0.0, 1.0)

    want = float(np.mean(perf > Stub.perf_early + PAST_MARGIN))
    got = NextPracticeModel.past_plateau(Stub(), perf)
    assert type(got) is float and math.copysign(1.0, got) == math.copysign(1.0, want)
    assert got == want
