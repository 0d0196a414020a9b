"""The slots in use, the users of each practice and the adoption curves read the slots right."""

import numpy as np

from sim.actions import drop, take_up
from sim.model import NextPracticeModel
from sim.state import CHOSEN, EMPTY
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
    m = NextPracticeModel(small(), rng=3)
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
