"""The centre revises a standing mandate from evidence (issue 28, item 3 and item 7): a
practice replaces a mandated one only when its published estimate beats that one's by more
than the uncertainty of the difference (``mandate.confidence_replace``)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.model import NextPracticeModel
from sim.model.params import Params
from sim.rules.strategies.mandate import revise_mandate


@st.composite
def evidence(draw):
    """A pool of practices with distinct published estimates, and a standing mandate."""
    n = draw(st.integers(1, 12))
    mean = np.array(draw(st.lists(st.floats(-1, 2), min_size=n, max_size=n, unique=True)), float)
    prec = np.array(draw(st.lists(st.floats(0.5, 500), min_size=n, max_size=n)), float)
    pool = [int(q) for q in np.argsort(-mean, kind="stable")]
    pool = draw(st.lists(st.sampled_from(pool), unique=True)) if draw(st.booleans()) else pool
    pool = sorted(pool, key=lambda q: -mean[q])
    standing = draw(st.lists(st.integers(0, n - 1), unique=True, max_size=4))
    k = draw(st.integers(0, 5))
    return standing, pool, mean, prec, k


@settings(max_examples=300, deadline=None)
@given(evidence())
def test_asking_no_confidence_mandates_the_best_of_the_pool(case):
    standing, pool, mean, prec, k = case
    assert revise_mandate(standing, pool, mean, prec, k, 0.0) == pool[:k]


@settings(max_examples=300, deadline=None)
@given(evidence(), st.floats(0, 3), st.floats(0, 3))
def test_more_confidence_keeps_at_least_as_much_of_the_standing_mandate(case, z1, z2):
    standing, pool, mean, prec, k = case
    lo, hi = sorted((z1, z2))
    a = revise_mandate(standing, pool, mean, prec, k, lo)
    b = revise_mandate(standing, pool, mean, prec, k, hi)
    for out in (a, b):
        assert len(out) == min(k, len(pool)) and set(out) <= set(pool)
        assert out == sorted(out, key=lambda q: -mean[q])  # best first
    assert len(set(b) & set(standing)) >= len(set(a) & set(standing))


def test_a_clearly_better_practice_replaces_a_mandated_one_and_a_marginal_one_does_not():
    mean, prec = np.array([0.30, 0.35, 0.90]), np.array([100.0, 100.0, 100.0])
    z = 1.645  # 0.95, one-sided; the standard error of a difference here is 0.141
    assert revise_mandate([0], [2, 1, 0], mean, prec, 1, z) == [2]
    assert revise_mandate([0], [1, 0], mean, prec, 1, z) == [0]
    # withdrawn (no longer in the pool): replaced whatever the confidence
    assert revise_mandate([0], [1], mean, prec, 1, z) == [1]


def _mandate_changes(confidence: float, seed: int) -> int:
    """How many practices entered next practice's standing mandate in ten years, 300 schools."""
    p = Params(
        strategy="next_practice",
        n_schools=300,
        n_authorities=3,
        n_towns=3,
        **{"mandate.confidence_replace": confidence},
    )
    m = NextPracticeModel(p, rng=seed)
    before: set[int] = set()
    entered = 0
    for _ in range(120):
        m.step()
        now = set(m.mandates)
        entered += len(now - before) if before else 0
        before = now
    return entered


def test_a_centre_that_asks_more_confidence_swaps_its_mandate_less_often():
    """Direction of effect: replacing on any higher estimate (0.5) churns the mandate."""
    eager = [_mandate_changes(0.5, s) for s in range(3)]
    careful = [_mandate_changes(0.95, s) for s in range(3)]
    assert np.mean(eager) > np.mean(careful)
    assert np.mean(eager) >= 3  # the churn traced in docs/size.md is there to remove


def _revise_mandate_reference(standing, pool, ev_mean, ev_prec, k, z):
    """``revise_mandate`` as it was before it read Python floats (8cceac2): numpy scalars."""
    if k <= 0:
        return []
    in_pool = set(pool)
    chosen = sorted((q for q in standing if q in in_pool), key=lambda q: -ev_mean[q])[:k]
    for q in pool:
        if q in chosen:
            continue
        if len(chosen) < k:
            chosen.append(q)
            continue
        weakest = min(chosen, key=lambda w: ev_mean[w])
        se = np.sqrt(1.0 / ev_prec[q] + 1.0 / ev_prec[weakest])
        if ev_mean[q] - ev_mean[weakest] > z * se:
            chosen[chosen.index(weakest)] = q
    order = {q: i for i, q in enumerate(pool)}
    return sorted(chosen, key=lambda q: (-ev_mean[q], order[q]))


@st.composite
def hostile_evidence(draw):
    """Any estimates (ties, infinities, signed zeros), any positive precisions, any pool order."""
    n = draw(st.integers(1, 12))
    mean = np.array(draw(st.lists(st.floats(allow_nan=False), min_size=n, max_size=n)), np.float64)
    prec = np.array(
        draw(
            st.lists(
                st.floats(min_value=5e-324, allow_infinity=True, allow_nan=False),
                min_size=n,
                max_size=n,
            )
        ),
        np.float64,
    )
    pool = draw(st.lists(st.integers(0, n - 1), unique=True))
    standing = draw(st.lists(st.integers(0, n - 1), unique=True, max_size=5))
    return standing, pool, mean, prec, draw(st.integers(-1, 6))


@settings(max_examples=500, deadline=None)
@given(hostile_evidence(), st.floats(-3, 5))
def test_revision_on_python_floats_is_the_numpy_scalar_revision(case, z):
    """The same practices in the same order as the numpy-scalar form, on any evidence."""
    standing, pool, mean, prec, k = case
    with np.errstate(all="ignore"):
        want = _revise_mandate_reference(standing, pool, mean, prec, k, z)
        got = revise_mandate(standing, pool, mean, prec, k, z)
    assert [int(q) for q in got] == [int(q) for q in want]


@settings(max_examples=500, deadline=None)
@given(evidence(), st.sampled_from([0.0, 0.5, 1.64, 3.0]), st.booleans(), st.booleans())
def test_the_compiled_revision_is_revise_mandate(case, z, ties, extra):
    """``Mandate.revised_compiled`` gives :func:`revise_mandate`'s practices in its order.

    Also with equal estimates (-0.0 and 0.0 among them) and standing practices that
    are not in the pool.
    """
    from sim.rules.strategies.mandate import Mandate

    standing, pool, mean, prec, k = case
    if ties:
        mean = np.round(mean, 0) * 0.5
        mean[mean == 0.0] = np.where(np.arange((mean == 0.0).sum()) % 2, -0.0, 0.0)
        pool = sorted(pool, key=lambda q: -mean[q])
    if extra:
        standing = [*standing, len(mean) + 3]
        mean, prec = np.append(mean, [0.1] * 4), np.append(prec, [1.0] * 4)
    args = (np.array(standing, np.int64), np.array(pool, np.int64), mean, prec, k, z)
    want = revise_mandate(standing, pool, mean, prec, k, z)
    assert Mandate.revised(*args).tolist() == want
    assert Mandate.revised_compiled(*args).tolist() == want


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 40),
    st.integers(-1, 1),
    st.integers(-1, 5),
    st.sampled_from([0.0, 0.5, 1.64, 3.0]),
    st.integers(0, 2**31),
)
def test_the_pick_and_revision_in_one_call_are_best_known_then_revise_mandate(n, of, k, z, seed):
    """``Mandate.revised_best`` and its kernel: :meth:`pick_best` of every practice, then the
    revision of the standing mandate (as ``to_mandate`` asked them one by one), in its order.

    With many equal estimates (signed zeros among them) and standing practices not picked.
    """
    from sim.rules.strategies.best_known import BestKnown
    from sim.rules.strategies.mandate import Mandate

    rng = np.random.default_rng(seed)
    origin, stage = rng.integers(0, 2, n), rng.integers(0, 5, n)
    ev_prec = np.where(rng.random(n) < 0.7, rng.random(n) * 100, 0.0)
    ev_mean = np.round(rng.standard_normal(n) * 0.3, 1)
    ev_mean[rng.random(n) < 0.1] = -0.0
    standing = np.array(rng.choice(max(n, 1), min(n, 4), replace=False), np.int64)
    pool = BestKnown.pick_best(origin, of, ev_prec, ev_mean, stage, -0.2, n).tolist()
    want = revise_mandate(standing.tolist(), pool, ev_mean, ev_prec, k, z)
    args = (origin, of, ev_prec, ev_mean, stage, -0.2, standing, k, z)
    assert Mandate.revised_best(*args).tolist() == want
    assert Mandate.revised_best_compiled(*args).tolist() == want


def _mandating(compiled: bool) -> NextPracticeModel:
    p = Params(strategy="next_practice", n_schools=200, n_authorities=4, compiled=compiled)
    return NextPracticeModel(p, rng=3).run(40)


def test_the_mandate_in_one_call_is_the_mandate_asked_one_by_one():
    """``Mandate.mandate``'s count, ask and take-ups as one call (``take_ups_funded``, either
    form) leave what a ledger of its own (which the mandate asks one by one) leaves, bit for bit.
    """
    import copy

    from sim.system.costs import Ledger

    class OwnLedger(Ledger):
        def centre(self, cost):
            return super().centre(cost)

    for compiled in (True, False):
        base = _mandating(compiled)
        for poor in (False, True):  # a centre with money enough, and one short of it
            results = []
            for own in (False, True):
                m = copy.deepcopy(base)
                if poor:
                    m.ledger.spent_centre = m.ledger.allowance_centre - 3.0
                if own:
                    m.ledger.__class__ = OwnLedger
                m.counts = {"adoptions": 0}
                m.strategy.mandate(m, list(range(min(3, m.practices.n))))
                s, led = m.schools, m.ledger
                arrays = [s.slot_p, s.slot_depth, s.slot_own, s.slot_source, s.slot_channel]
                floats = [led.spent_centre, led.short_centre, led.share_mandate_year]
                results.append((m.counts["adoptions"], [a.copy() for a in arrays], floats))
            (n_a, a, fa), (n_b, b, fb) = results
            assert n_a == n_b and (n_a > 0 or poor)
            assert np.array(fa).view(np.uint64).tolist() == np.array(fb).view(np.uint64).tolist()
            for x, y in zip(a, b, strict=True):
                assert np.array_equal(x.view(np.uint8), y.view(np.uint8))


def test_a_strategy_overriding_the_pick_or_the_take_ups_is_asked_for_its_own():
    """``to_mandate`` and ``mandate`` run one call each only for the shipped methods: a
    plug-in strategy's own ``best_known``, ``revised`` or ``take_ups`` still runs."""
    from sim.rules.strategies.mandate import Mandate
    from sim.rules.strategies.next_practice import NextPractice

    calls = []

    class Mine(NextPractice):
        def best_known(self, model, k, origin=None):
            calls.append("best_known")
            return super().best_known(model, k, origin=origin)

        @staticmethod
        def revised(*args):
            calls.append("revised")
            return Mandate.revised(*args)

        @staticmethod
        def take_ups(*args):
            calls.append("take_ups")
            return Mandate.take_ups(*args)

    from sim.core.registry import inherits
    from sim.rules.strategies import STRATEGIES
    from sim.rules.strategies.best_known import BestKnown
    from sim.rules.strategies.mandate import (
        _WHOLE_BEST,
        _WHOLE_REVISED,
        _WHOLE_TAKE_UPS,
        picks_as_shipped,
        takes_up_as_shipped,
    )

    for cls in (*STRATEGIES.values(), Mine):  # the guards written out are inherits'
        picks = inherits(cls, BestKnown, _WHOLE_BEST) and inherits(cls, Mandate, _WHOLE_REVISED)
        assert picks_as_shipped(cls) == picks == (cls is not Mine)
        assert takes_up_as_shipped(cls) == inherits(cls, Mandate, _WHOLE_TAKE_UPS)
    for compiled in (True, False):
        m = _mandating(compiled)
        mine = Mine()
        mine.bind(m)
        calls.clear()
        best = mine.to_mandate(m)
        assert calls == ["best_known", "revised"]
        assert best == m.strategy.to_mandate(m)
        mine.mandate(m, best or [0])
        assert calls[-1] == "take_ups"


def test_a_strategy_remembers_its_stream_keys_and_a_copy_finds_them_again():
    """``keys_of`` gives ``stream_keys``' read-only array, remembered; a copied or pickled
    model's strategy does not carry the remembered ones, and finds the same again."""
    import copy
    import pickle

    from sim.core.registry import stream_keys
    from sim.rules.strategies.mandate import DECISIONS

    m = NextPracticeModel(Params(n_schools=60, n_authorities=2), rng=2).run(2)
    keys = m.strategy.keys_of(DECISIONS)
    assert keys is stream_keys(m.strategy._rng, DECISIONS) and not keys.flags.writeable
    assert m.strategy.keys_of(DECISIONS) is keys
    for other in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert "_stream_keys" not in vars(other.strategy)
        again = other.strategy.keys_of(DECISIONS)
        assert np.array_equal(again, keys) and not again.flags.writeable
