"""Schools.filled() is kept only while a step runs, and forgotten whenever slots change."""

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


def test_nothing_is_kept_between_steps():
    m = NextPracticeModel(small(), rng=1).run(3)
    s = m.schools
    assert not s.cache_filled and s._filled is None
    s.slot_p[0, :] = EMPTY  # a hand edit between steps is seen at once
    assert _same(s.filled(), _fresh(s))


def test_take_up_and_drop_refresh_the_kept_slots():
    m = NextPracticeModel(small(), rng=1).run(3)
    s = m.schools
    s.cache_filled = True
    try:
        assert _same(s.filled(), _fresh(s))
        row = int(np.flatnonzero((s.slot_p == EMPTY).any(axis=1))[0])
        new = int(np.setdiff1d(np.arange(m.practices.n), s.slot_p[row])[0])
        take_up(m, np.array([row]), np.array([new]), CHOSEN)
        assert _same(s.filled(), _fresh(s))
        col = int(np.flatnonzero(s.slot_p[row] == new)[0])
        drop(m, np.array([row]), np.array([col]))
        assert _same(s.filled(), _fresh(s))
    finally:
        s.cache_filled = False
        s.slots_changed()


def test_a_step_leaves_no_cache_even_when_a_rule_fails():
    m = NextPracticeModel(small(), rng=1)

    class Boom:
        slot = "shocks"

        def apply(self, model):
            raise RuntimeError("boom")

    m._pipeline.append(Boom())
    try:
        m.step()
    except RuntimeError:
        pass
    assert not m.schools.cache_filled and m.schools._filled is None


def test_users_counts_every_way_alike():
    """users() by the kept slots, by a histogram of all slots, and by comparisons agree."""
    m = NextPracticeModel(small(), rng=1).run(5)
    s, pr = m.schools, m.practices

    def brute():
        return np.array([(s.slot_p == j).any(axis=1).sum() for j in range(pr.n)])

    assert pr.n > 4 and np.array_equal(m.users(), brute())  # histogram of all slots
    s.cache_filled = True
    s.filled()
    assert np.array_equal(m.users(), brute())  # from the slots kept in a step
    s.cache_filled = False
    s.slots_changed()
    pr.n = 3  # few practices: the comparison path (slots of others are still counted apart)
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
