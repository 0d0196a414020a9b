"""Schools' own cohorts and the link between cohort size and results (``init_perf_small``).

Direction-of-effect and known-answer tests for docs/decisions.md, "a link between cohort
size and results": each school draws a KS2 cohort from England's sizes on a stream of its
own; small cohorts start ``init_perf_small`` higher, centred over England's schools; the
national result is pupils over pupils; published results read each school's own cohort.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.model.model import NextPracticeModel, logit_mean_for
from sim.model.scenario import load_scenario
from sim.system import metrics
from tests.conftest import ROOT


def _model(n=2000, seed=5, **over):
    p = load_scenario(
        ROOT / "scenarios" / "top_down.yaml", {"n_schools": n, "n_authorities": 8, **over}
    )
    return NextPracticeModel(p, rng=seed)


def test_englands_sizes_keep_the_dfe_tables_mean_cohort():
    # DFE2022C: 619,120 pupils in 15,336 schools, five bands; the spread within bands keeps
    # every band's schools and pupils, so the mean over all sizes is the table's.
    mean = float(metrics.ALL_SIZES @ metrics.ALL_WEIGHTS)
    assert mean == pytest.approx(619120 / 15336, rel=1e-9)
    assert metrics.SMALL_SCHOOLS == pytest.approx(2029 / 15336, rel=1e-9)
    assert metrics.SMALL_PUPILS == pytest.approx(19910 / 619120, rel=1e-9)


def test_cohorts_come_from_their_own_stream():
    a, b = _model(init_perf_small=0.0), _model(init_perf_small=0.56, sd_perf_init=0.4)
    np.testing.assert_array_equal(a.schools.cohort, b.schools.cohort)
    other = _model(seed=6)
    assert not np.array_equal(a.schools.cohort, other.schools.cohort)
    assert a.schools.cohort.min() >= 1


def test_no_link_is_the_old_start_and_a_link_shifts_only_small_schools():
    a, b = _model(init_perf_small=0.0), _model(init_perf_small=0.56)
    small = b.schools.cohort <= metrics.SMALL_COHORT
    shift = 0.56 * (small - metrics.SMALL_SCHOOLS)
    moved = logit_mean_for(0.648, 0.6, 0.56) - logit_mean_for(0.648, 0.6, 0.0)
    np.testing.assert_allclose(
        b.schools.logit_perf - a.schools.logit_perf, shift + moved, atol=1e-12
    )


@pytest.mark.parametrize("delta", [0.3, 0.56])
def test_small_schools_start_higher_and_pupils_average_the_scenarios_mean(delta):
    m = _model(n=20000, init_perf_small=delta)
    s = m.schools
    small = s.cohort <= metrics.SMALL_COHORT
    gap = s.logit_perf[small].mean() - s.logit_perf[~small].mean()
    assert gap == pytest.approx(delta, abs=0.06)  # sd 0.6 / sqrt(~2,600): 0.012
    pupils = float((s.perf * s.cohort).sum() / s.cohort.sum())
    assert pupils == pytest.approx(0.648, abs=0.006)
    assert m.metrics_frame()["perf_mean"].iloc[0] == pytest.approx(pupils, rel=1e-12)
    assert s.perf.mean() > pupils  # the mean school is above the pupils' mean


def test_logit_mean_for_reaches_the_pupils_share():
    x, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    for delta in (0.0, 0.3, 0.56, -0.4):
        mu = logit_mean_for(0.7, 0.6, delta)
        up, down = delta * (1 - metrics.SMALL_SCHOOLS), -delta * metrics.SMALL_SCHOOLS
        f_up = (w / (1 + np.exp(-(mu + up + 0.6 * x)))).sum()
        f_down = (w / (1 + np.exp(-(mu + down + 0.6 * x)))).sum()
        share = metrics.SMALL_PUPILS * f_up + (1 - metrics.SMALL_PUPILS) * f_down
        assert share == pytest.approx(0.7, abs=1e-9)


def test_a_link_thickens_the_top_of_published_results():
    lo, hi = _model(init_perf_small=0.0), _model(init_perf_small=0.56)
    f_lo, f_hi = lo.metrics_frame().iloc[0], hi.metrics_frame().iloc[0]
    assert f_hi["share_all_pupils"] > 1.2 * f_lo["share_all_pupils"]


@settings(max_examples=40, deadline=None)
@given(
    perf=arrays(np.float64, st.integers(1, 40), elements=st.floats(0.01, 0.99)),
    n=st.integers(metrics.SMALLEST_PUBLISHED, int(metrics.ALL_SIZES.max())),
)
def test_own_cohorts_of_one_size_are_that_sizes_exact_sums(perf, n):
    own = metrics.published(perf, cohort=np.full(len(perf), n))
    exact = metrics.published(perf, sizes=[n])
    np.testing.assert_allclose(own, exact, rtol=1e-9, atol=2e-5)


def test_unpublished_cohorts_do_not_count():
    perf = np.array([0.9, 0.5, 0.2])
    got = metrics.published(perf, cohort=np.array([5, 30, 10]))
    want = metrics.published(np.array([0.5]), cohort=np.array([30]))
    assert got == pytest.approx(want)
    assert all(np.isnan(metrics.published(perf, cohort=np.array([5, 6, 10]))))


@settings(max_examples=40, deadline=None)
@given(
    perf=arrays(np.float64, st.integers(2, 30), elements=st.floats(0.02, 0.98)),
    level=st.floats(0.1, 0.9),
)
def test_at_level_weighted_is_pupils_over_pupils(perf, level):
    cohort = np.arange(len(perf)) % 40 + 1
    moved = metrics.at_level(perf, level, weights=cohort)
    assert np.average(moved, weights=cohort) == pytest.approx(level, abs=1e-9)
    even = metrics.at_level(perf, level, weights=np.ones(len(perf)))
    np.testing.assert_allclose(even, metrics.at_level(perf, level), rtol=0, atol=1e-9)
