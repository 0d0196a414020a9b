"""The centre brokers ties from schools running proven practice to schools that do not."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.registry import Param
from sim.core.sources import NEXT_PRACTICE
from sim.core.state import BROKERED
from sim.rules.actions import add_ties, runs_practice

if TYPE_CHECKING:
    from sim.core.registry import ModelLike

#: The mechanism's decisions: how many ties this month, and for the j-th, which practice,
#: which school running it and which not (keyed by j and the month).
DECISIONS = ("brokering.count", "brokering.practice", "brokering.user", "brokering.other")
COUNT, PRACTICE, USER, OTHER = range(len(DECISIONS))


class Brokering:
    """The Innovation Unit's accelerate phase: spreading what proved itself through networks.

    About ``n_broker`` ties a month are shared among the practices brokered,
    each from a random school running one to a random school anywhere in the
    system that does not (seed 002). The centre pays ``cost_broker`` a tie and
    brokers fewer when its budget runs short. A brokered tie starts with
    ``rel_trust_brokered`` more trust than a new tie: an introduction from the
    centre vouches for the partner. Draws are keyed by the month (and the
    tie's place in the month's list), on the ``centre`` slot's stream.
    """

    params_namespace: ClassVar[str] = "brokering"
    params: ClassVar[dict[str, Param]] = {
        "n_broker": Param(
            2.0,
            lo=0,
            hi=100,
            unit="ties per month",
            kind="lever",
            sweep=(0, 6),
            ref=NEXT_PRACTICE,
            meaning="Ties the centre brokers each month from schools running a proven practice "
            "to schools that do not (accelerate).",
        ),
        "cost_broker": Param(
            2.0,
            lo=0,
            hi=100,
            unit="GBP k per tie",
            kind="uncertainty",
            sweep=(1.6, 3.8),
            sweep_ref="system leaders' day rates (NA2015): two heads a day each with 15% "
            "brokerage 1.6k, to a diagnostic day and two heads two days each 3.8k; the days "
            "a judgement (docs/sources.md)",
            ref=NEXT_PRACTICE,
            meaning="Cost to the centre of brokering one tie.",
        ),
        "rel_trust_brokered": Param(
            0.2,
            lo=-1,
            hi=1,
            unit="1",
            kind="lever",
            ref=NEXT_PRACTICE,
            meaning="Trust a tie the centre brokers starts with above init_trust: an "
            "introduction from the centre vouches for the partner (accelerate).",
        ),
    }

    def broker(self, model: ModelLike, practices: list[int]) -> None:
        """Broker this month's ties for ``practices``, formed in the order drawn."""
        if not practices:
            return
        p = model.p
        lam = self.value(model, "n_broker") * p.dur_step
        lam *= model.ledger.centre(self.value(model, "cost_broker") * lam)  # per tie, expected
        a, b = self.brokered(
            self.keys_of(DECISIONS),
            model.t,
            np.asarray(practices, np.int64),
            model.schools.slot_p,
            lam,
        )
        # Formed all at once, in the order drawn (add_ties skips repeats as it goes).
        add_ties(model, a, b, BROKERED, p.init_trust + self.value(model, "rel_trust_brokered"))

    @staticmethod
    def brokered(keys, t, practices, slot_p, lam):
        """The ends of the ties brokered this month, in the order drawn.

        A Poisson count of mean ``lam`` (by inversion); for the ``j``-th tie, a
        practice drawn uniformly, then a school running it and one not running
        it, each keyed by ``j`` and the month; a practice that everyone or no one
        runs gives no tie.
        """
        a, b = [], []
        for j in range(draws.poisson1(keys[COUNT], t, 0, 0, lam)):
            pid = practices[draws.integer1(keys[PRACTICE], t, j, 0, len(practices))]
            runs = (slot_p == pid).any(axis=1)
            users, others = np.flatnonzero(runs), np.flatnonzero(~runs)
            if len(users) == 0 or len(others) == 0:
                continue
            a.append(users[draws.integer1(keys[USER], t, j, 0, len(users))])
            b.append(others[draws.integer1(keys[OTHER], t, j, 0, len(others))])
        return np.array(a, np.int64), np.array(b, np.int64)

    @staticmethod
    @jit
    def brokered_compiled(keys, t, practices, slot_p, lam):
        """:meth:`brokered`, compiled: who runs what found once per practice drawn."""
        n, width = slot_p.shape
        m = len(practices)
        k = draws.poisson1(keys[COUNT], t, 0, 0, lam)
        users = np.empty((m, n), np.int64)
        others = np.empty((m, n), np.int64)
        n_users = np.full(m, -1, np.int64)  # -1: not yet found
        n_others = np.zeros(m, np.int64)
        a = np.empty(k, np.int64)
        b = np.empty(k, np.int64)
        c = 0
        for j in range(k):
            q = draws.integer1(keys[PRACTICE], t, j, 0, m)
            if n_users[q] < 0:
                n_users[q] = 0
                for i in range(n):
                    if runs_practice(slot_p, i, practices[q]):
                        users[q, n_users[q]] = i
                        n_users[q] += 1
                    else:
                        others[q, n_others[q]] = i
                        n_others[q] += 1
            if n_users[q] == 0 or n_others[q] == 0:
                continue
            a[c] = users[q, draws.integer1(keys[USER], t, j, 0, n_users[q])]
            b[c] = others[q, draws.integer1(keys[OTHER], t, j, 0, n_others[q])]
            c += 1
        return a[:c], b[:c]
