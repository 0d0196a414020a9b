"""The slots in use, the users of each practice and the adoption curves read the slots right."""

import numpy as np
import pytest

from sim.core.state import CHOSEN, EMPTY
from sim.model.model import NextPracticeModel
from sim.rules.actions import drop, take_up
from tests.conftest import small


def _fresh(s):
    at = np.flatnonzero(s.slot_p != EMPTY)
    return at, at // s.slot_p.shape[1], s.slot_p.ravel()[at]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_filled_follows_take_up_drop_and_hand_edits():
    m = NextPracticeModel(small(), rng=1).run(3)
    s = m.schools
    assert _same(s.filled(), _fresh(s))
    row = int(np.flatnonzero((s.slot_p == EMPTY).any(axis=1))[0])
    new = int(np.setdiff1d(np.arange(m.practices.n), s.slot_p[row])[0])
    take_up(m, np.array([row]), np.array([new]), CHOSEN)
    assert _same(s.filled(), _fresh(s)) and new in s.slot_p[row]
    col = int(np.flatnonzero(s.slot_p[row] == new)[0])
    drop(m, np.array([row]), np.array([col]))
    assert _same(s.filled(), _fresh(s)) and new not in s.slot_p[row]
    s.slot_p[0, :] = EMPTY  # a hand edit is seen at once
    assert _same(s.filled(), _fresh(s))


def test_users_counts_schools_per_practice():
    m = NextPracticeModel(small(), rng=1).run(5)
    s, pr = m.schools, m.practices

    def brute():
        return np.array([(s.slot_p == j).any(axis=1).sum() for j in range(pr.n)])

    assert pr.n > 4 and np.array_equal(m.users(), brute())
    pr.n = 3  # few practices (the reduced modes): slots of others are left out
    s.slot_p[s.slot_p >= 3] = EMPTY
    assert np.array_equal(m.users(), brute())


def test_adoption_frame_gives_each_steps_users():
    """The adoption curves: per step, every practice in use and how many schools run it."""
    m = NextPracticeModel(
        small(**{"recombine.p_invent": 0.05}), rng=3
    )  # invention likely within 8 steps
    seen = []
    for k in range(9):  # step 0 is the state as built; practices are invented on the way
        if k:
            m.step()
        u = np.bincount(m.schools.slot_p[m.schools.slot_p != EMPTY], minlength=m.practices.n)
        used = np.flatnonzero(u)
        seen += [(m.t, int(p), int(u[p])) for p in used]
    df = m.adoption_frame()
    assert list(df.columns) == ["step", "practice", "schools"]
    assert list(df.itertuples(index=False, name=None)) == seen
    assert m.practices.n > m.n_practices_init  # the padding was exercised


def test_growing_tables_take_columns_or_single_values():
    """Growable.append: arrays per row, one value for every row, defaults for the rest; grows."""
    m = NextPracticeModel(small(), rng=1)
    t = m.ties
    n0, cap0, a0 = t.n, t.capacity, t.a[: t.n].copy()
    k = cap0 - n0 + 5  # more than fit: the table must grow
    idx = t.append(a=np.arange(k), b=np.arange(k) + 1, kind=4, trust=0.25, alive=True)
    assert np.array_equal(idx, np.arange(n0, n0 + k)) and t.n == n0 + k and t.capacity > cap0
    assert np.array_equal(t.a[n0 : t.n], np.arange(k)) and (t.kind[n0 : t.n] == 4).all()
    assert (t.trust[n0 : t.n] == 0.25).all() and t.alive[n0 : t.n].all()
    assert not t.formal[n0 : t.n].any()  # left out: zero
    assert np.array_equal(t.a[:n0], a0)  # rows kept through the growth
    t.append(
        a=[1, 2], b=np.array([3, 4]), kind=np.int8(1), trust=np.array(0.5), alive=True, formal=True
    )  # numpy scalars and 0-d arrays are single values too
    i = t.append(a=[5], b=[6], kind=1, trust=0.5, alive=True)  # formal left out again
    assert not t.formal[i].any() and t.formal[i - 1]
    pr = m.practices
    for _ in range(3):  # through a growth of the table
        j = pr.append(
            effect=np.full(pr.capacity - pr.n + 1, 0.1),
            cost=0.05,
            difficulty=0.3,
            domain=1,
            born=4,
            parent=7,
        )
        j = pr.append(effect=[0.1, 0.2], cost=0.05, difficulty=0.3, domain=1, born=4)
        assert (pr.parent[j] == -1).all() and (pr.trial_end[j] == -1).all()  # ids left out: -1
        assert np.array_equal(pr.cost[j], [0.05, 0.05]) and (pr.born[j] == 4).all()
        assert (pr.ev_prec[j] == 0).all() and (pr.parent[j[0] - 1] == 7)
    n = pr.n
    with pytest.raises(ValueError, match="no column efect"):
        pr.append(effect=[0.1], efect=[0.2])  # a misspelt column is not passed over
    assert pr.n == n and pr.effect[n] == 0.0  # and nothing was written
    with pytest.raises(ValueError, match="per row"):
        pr.append(effect=0.1, cost=np.float64(0.2))  # no column says how many rows
