"""Known-answer tests: the engine's reduced modes reproduce classic diffusion results."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis import validation as v
from sim.rules.classic import adjacency
from sim.system.networks import double_edge_swaps


def test_bass_discrete_recursion():
    """Bass (1969, Management Science 15:215), p=0.03, q=0.38, 20,000 schools.

    The rule applies the hazard p + qF once a step, so its expected curve is the
    discrete-time Bass recursion F_{t+1} = F_t + (p + q F_t)(1 - F_t) (peak at
    step 8), not the continuous closed form F(t) = (1 - e^-(p+q)t) / (1 + (q/p)
    e^-(p+q)t) whose peak is t* = ln(q/p)/(p+q) = 6.19. Tolerance 0.015.
    """
    p = v.classic("bass")
    share, _ = v.run_classic(p, seed=3)
    theory = v.bass_discrete(0.03, 0.38, len(share) - 1)
    assert np.abs(share - theory).max() < 0.015
    assert int(np.argmax(np.diff(theory))) + 1 == 8
    # The simulated peak within a step of it: near the peak the expected increments of
    # steps 7 to 9 differ by less than 0.003, about the sampling sd of one step's increment
    # at 20,000 schools (sqrt(0.11 / 20,000) = 0.0023), so which of them wins is the stream's.
    assert abs(int(np.argmax(np.diff(share))) + 1 - 8) <= 1
    t_star = np.log(0.38 / 0.03) / 0.41
    assert t_star == pytest.approx(6.19, abs=0.01)
    # The continuous closed form is a different curve: it runs ahead of the discrete one.
    assert v.bass_closed(0.03, 0.38, np.array([6.0]))[0] > theory[6] + 0.05


def test_si_complete_logistic():
    """SI on a complete graph: logistic, half adoption at ln((1-i0)/i0)/beta.

    i0 = 200/20,000 = 0.01, beta = 0.2: t_half = ln(99)/0.2 = 22.98 steps;
    within 5%.
    """
    p = v.classic("si_complete")
    share, _ = v.run_classic(p, seed=4)
    k = int(np.argmax(share >= 0.5))
    t_half = k - 1 + (0.5 - share[k - 1]) / (share[k] - share[k - 1])
    assert t_half == pytest.approx(np.log(99) / 0.2, rel=0.05)


def test_watts_cascade_window(tmp_path):
    """Watts (2002, PNAS 99:5766), phi = 0.18: window about 1.02 < z < 5.77.

    Frequency of global cascades (> 50% of 10,000 nodes) from one seed:
    frequent at z = 3, none at z = 0.5 and z = 8. 10 runs each.
    """
    freq = v.watts_frequency([3.0, 0.5, 8.0], 10, tmp_path)
    assert freq[3.0] >= 0.3
    assert freq[0.5] == 0.0
    assert freq[8.0] == 0.0


def test_complex_contagion_clustering():
    """Centola & Macy (2007, AJS 113:702): threshold 2 needs clustering.

    Threshold 2 on a ring lattice (4 neighbours) spreads to all 400 nodes;
    on its degree-preserving rewired twin it stalls at the seeds. Threshold 1
    (simple contagion) is faster on the rewired twin.
    """
    kw = {"n_schools": 400, "n_steps": 400}
    lat, _ = v.run_classic(v.classic("complex_lattice", **kw), seed=1, stop_stable=True)
    rew, _ = v.run_classic(v.classic("complex_rewired", **kw), seed=1, stop_stable=True)
    assert lat[-1] == 1.0
    assert rew[-1] < 0.05
    lat1, _ = v.run_classic(
        v.classic("complex_lattice", **{"complex.n_threshold": 1}, **kw), seed=1
    )
    rew1, _ = v.run_classic(
        v.classic("complex_rewired", **{"complex.n_threshold": 1}, **kw), seed=1
    )
    assert np.argmax(rew1 >= 0.9) < np.argmax(lat1 >= 0.9) / 3


def test_rogers_categories():
    """Rogers (2003) adopter categories in a Bass run (p=0.03, q=0.38).

    Cut at mean-2sd, mean-sd, mean, mean+sd of adoption time (step plus a
    uniform draw within it), the normal gives 2.3/13.6/34.1/34.1/15.9%. What
    holds: the middle three and laggards are within 6 pp; innovators are far
    fewer than 2.3% (under 1%), because Bass adoption times have a short left
    tail when q >> p (the spread is driven by imitation).
    """
    c = v.check_rogers(__import__("pathlib").Path("/tmp"), quick=True)
    shares = np.array(c.numbers["shares"])
    assert np.abs(shares[1:] - v.NORMAL[1:]).max() < 6
    assert shares[0] < 1.0


def test_rewiring_keeps_degrees():
    """Maslov-Sneppen swaps keep every node's degree and leave no loops or duplicates."""
    rng = np.random.default_rng(0)
    n, k = 300, 2
    a = np.repeat(np.arange(n), k)
    b = (a + np.tile(np.arange(1, k + 1), n)) % n
    a2, b2 = double_edge_swaps(a, b, len(a), rng)
    deg = np.bincount(np.r_[a, b], minlength=n)
    deg2 = np.bincount(np.r_[a2, b2], minlength=n)
    assert (deg == deg2).all()
    assert (a2 != b2).all()
    keys = np.minimum(a2, b2) * n + np.maximum(a2, b2)
    assert len(np.unique(keys)) == len(keys)
    assert (np.abs(a2 - b2) % (n - k) > k).mean() > 0.5  # most ties now long-range


def test_adjacency_cached_and_symmetric():
    """The CSR adjacency is symmetric and built once while ties do not change."""
    from sim.model.model import NextPracticeModel

    m = NextPracticeModel(v.classic("watts_er", n_schools=500), rng=1)
    adj = adjacency(m)
    assert (adj != adj.T).nnz == 0
    assert adjacency(m) is adj
    assert adj.sum() == 2 * len(m.alive_ties())
    from sim.rules.actions import add_ties, kill_ties

    # A tie formed or lapsed moves the ties' version on, and the matrix is rebuilt.
    a, b = int(m.ties.a[0]), int(m.ties.b[0])
    kill_ties(m, np.array([0]))
    adj2 = adjacency(m)
    assert adj2 is not adj and adj2[a, b] == 0 and adj2.sum() == adj.sum() - 2
    add_ties(m, [a], [b], 0, 0.5)
    adj3 = adjacency(m)
    assert adj3 is not adj2 and adj3[a, b] == 1 and adj3.sum() == adj.sum()


def test_neighbour_counts_equal_the_full_product():
    """Counts moved by the schools that changed equal ``adjacency @ has`` exactly.

    Adoptions and drops (a plugin might drop) in random batches, and a tie
    change between calls (which forces a rebuild).
    """
    from sim.model.model import NextPracticeModel
    from sim.rules.actions import add_ties
    from sim.rules.classic import neighbour_counts

    m = NextPracticeModel(v.classic("watts_er", n_schools=800), rng=2)
    rng = np.random.default_rng(0)
    has = np.zeros(800, bool)
    for k in range(30):
        flip = rng.choice(800, int(rng.integers(0, 60)), replace=False)
        has[flip] = ~has[flip]
        if k == 17:
            add_ties(m, [0, 1, 2], [500, 600, 700], 0, 0.5)
        got = neighbour_counts(m, has)
        want = adjacency(m) @ has.astype(float)
        assert np.array_equal(got, want), k
        assert not got.flags.writeable
    # Unchanged adoption: the very same counts object (the threshold rules' cue to skip).
    assert neighbour_counts(m, has.copy()) is got


def test_threshold_rules_draw_no_random_numbers():
    """Watts' and Centola-Macy's rules are deterministic: after seeding, no draw at all."""
    from sim.model.model import NextPracticeModel

    m = NextPracticeModel(v.classic("watts_er", n_schools=2000, z_degree=3.0), rng=5)
    m.step()  # places the seed adopter (one draw) and spreads
    state = m.rng.bit_generator.state
    m.run(20)
    assert m.rng.bit_generator.state == state
    assert m.metrics_frame()["top_adoption"].iloc[-1] > m.metrics_frame()["top_adoption"].iloc[1]


def test_adoption_metric_set_matches_the_full_set():
    """The reduced modes' ``adoption`` metrics are the full set's values for those columns."""
    from sim.experiments.runner import outcomes
    from sim.model.model import NextPracticeModel
    from sim.system.metrics import SETS

    p = v.classic("bass", n_schools=3000, n_steps=12)
    assert p.metrics == "adoption"
    small = NextPracticeModel(p, rng=7).run().metrics_frame()
    full = NextPracticeModel(p.model_copy(update={"metrics": "full"}), rng=7).run()
    full = full.metrics_frame()
    assert list(small.columns) == list(SETS["adoption"])
    assert len(full.columns) > len(small.columns)
    assert small.equals(full[list(small.columns)])
    assert small["top_adoption"].is_monotonic_increasing and small["adoptions"].sum() > 0
    out = outcomes(small)  # what a run of a reduced mode reports: NaN for what it did not record
    assert np.isnan(out["plateau_level"]) and np.isnan(out["final_perf_mean"])
    assert out["final_practices_in_use"] == 1.0
