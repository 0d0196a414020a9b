"""The centre's actions in plain numpy: the readable forms of :mod:`sim.rules.strategies`' kernels.

Each shipped strategy has a twin registered as ``<name>_numpy`` whose shared
actions (best known practice, mandate, broker) run these functions in place
of the compiled kernels: the same draws in the same order, the same run bit
for bit (``tests/test_numpy_forms.py``). ``centre: strategy_numpy`` makes the
strategy in force act through its twin. A twin declares no parameters: it reads the
keys its strategy reads (``centre.rel_trust_brokered``, see :mod:`sim.core.registry`).
"""

from __future__ import annotations

import numpy as np

from sim.core.state import EMPTY, MAINSTREAM, MANDATED, PROVEN
from sim.rules import actions_numpy
from sim.rules.strategies import (
    STRATEGIES,
    BottomUp,
    NextPractice,
    Strategy,
    TopDown,
    register_strategy,
)


def best_known(origin, of_origin, ev_prec, ev_mean, stage, threshold, k):
    """Up to ``k`` practices with the best published evidence, best first (equals by index).

    Those of origin ``of_origin`` (any if -1) with evidence, proven or
    mainstream, whose published estimate clears ``threshold``.
    """
    of = np.ones(len(stage), bool) if of_origin < 0 else origin == of_origin
    ok = np.flatnonzero(
        of & (ev_prec > 0) & ((stage == PROVEN) | (stage == MAINSTREAM)) & (ev_mean > threshold)
    )
    return ok[np.argsort(-ev_mean[ok], kind="stable")][:k]


def reached(rng, slot_p, pid, chance):
    """Schools not running ``pid`` that a mandate reaches this month (one uniform per school)."""
    return np.flatnonzero(~(slot_p == pid).any(axis=1) & (rng.random(len(slot_p)) < chance))


def mandate(rng, practices, chance, own, depth, own_a, source_a, values, protection):
    """Each mandated practice in turn: the schools it reaches take it up, mandated.

    Returns how many took one up.
    """
    total = 0
    for pid in practices.tolist():
        hit = reached(rng, values.slot_p, pid, chance)
        ok = actions_numpy.take_up(
            hit,
            np.full(len(hit), pid),
            np.full(len(hit), EMPTY),
            own,
            MANDATED,
            depth,
            own_a,
            source_a,
            values,
            protection,
        )
        total += int(ok.sum())
    return total


def brokered(rng, practices, slot_p, lam):
    """The ends of the ties the centre brokers this month, in the order drawn.

    ``rng.poisson(lam)`` ties; for each, a practice drawn uniformly, then a
    school running it and one not running it (``rng.choice``); a practice
    that everyone or no one runs gives no tie and draws nothing more.
    """
    a, b = [], []
    for _ in range(rng.poisson(lam)):
        pid = practices[rng.integers(0, len(practices))]
        runs = (slot_p == pid).any(axis=1)
        users, others = np.flatnonzero(runs), np.flatnonzero(~runs)
        if len(users) == 0 or len(others) == 0:
            continue
        a.append(users[rng.integers(0, len(users))])
        b.append(others[rng.integers(0, len(others))])
    return np.array(a, np.int64), np.array(b, np.int64)


class NumpyActions(Strategy):
    """A strategy's shared actions through their numpy forms (mixed in before the strategy)."""

    best_known_fn = staticmethod(best_known)
    mandate_fn = staticmethod(mandate)
    brokered_fn = staticmethod(brokered)


@register_strategy("top_down_numpy")
class TopDownNumpy(NumpyActions, TopDown):
    """:class:`sim.rules.strategies.TopDown` through the numpy forms: same run."""


@register_strategy("bottom_up_numpy")
class BottomUpNumpy(NumpyActions, BottomUp):
    """:class:`sim.rules.strategies.BottomUp` (no kernels to swap): the same strategy."""


@register_strategy("next_practice_numpy")
class NextPracticeNumpy(NumpyActions, NextPractice):
    """:class:`sim.rules.strategies.NextPractice` through the numpy forms: same run."""


def numpy_form(strategy: Strategy) -> Strategy:
    """The strategy's numpy twin (``<name>_numpy``), or the strategy itself if it has none."""
    if isinstance(strategy, NumpyActions):
        return strategy
    twin = STRATEGIES.get(f"{strategy.name}_numpy")
    return twin() if twin is not None else strategy
