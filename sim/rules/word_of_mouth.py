"""The ``hear`` slot: heads hear of practices from schools they are tied to."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.numerics import first_over, first_over_rows
from sim.core.state import EMPTY, tie_uid, tie_uid1
from sim.rules import Param, Rule, register

#: The decisions this rule draws for (``WordOfMouth.decisions``), rows of its ``keys``.
DECISIONS = ("exchange", "direction", "topic")
EXCHANGE, DIRECTION, TOPIC = range(len(DECISIONS))


@dataclass
class Heard:
    """What schools heard this step (``model.heard``): one row per exchange.

    The state this rule owns: it writes it each step, and only the ``adopt``
    slot reads it.

    Attributes:
        school: the school that heard.
        practice: the practice it heard of.
        tie: the tie the exchange travelled on.
    """

    school: np.ndarray
    practice: np.ndarray
    tie: np.ndarray

    @classmethod
    def none(cls) -> Heard:
        """Nothing heard."""
        z = np.zeros(0, np.int64)
        return cls(z, z, z)


@register("hear", "word_of_mouth", default=True)
class WordOfMouth(Rule):
    """Heads hear of practices from schools they are tied to.

    Each tie in force carries an exchange in a step with chance ``p_exchange``
    times its trust times the facilitation its schools find (the better
    facilitated end counts): Fullan's five components of effective networks
    make exchange happen (enquiry, trust, facilitation; seed 003). The exchange
    goes one way, either way at random, and the sender talks about one of its
    practices, chosen in proportion to how deeply it runs them: deep practice
    is visible practice. Heard items go to ``model.heard`` (:class:`Heard`) for
    the ``adopt`` slot. Each draw is keyed by the tie's two schools
    (:func:`sim.core.state.tie_uid`) and the step.
    """

    decisions = DECISIONS
    params = {
        "p_exchange": Param(
            0.08,
            lo=0,
            hi=1,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.03, 0.2),
            sweep_ref="a judgement: no count of exchanges about practice between schools was "
            "found; an exchange every 5 to 33 months on a tie of full trust",
            meaning="Chance a tie of full trust carries an exchange about practice in a month "
            "(Fullan's enquiry).",
        ),
    }

    def apply(self, model):
        """Draw this step's exchanges."""
        t, s = model.ties, model.schools
        alive = model.alive_ties()
        model.heard = Heard.none()
        if len(alive) == 0:
            return
        model.heard = Heard(
            *self.exchanges(
                self.keys,
                model.t,
                alive,
                t.a,
                t.b,
                t.trust,
                model.school_facilitation(),
                s.slot_p,
                s.slot_depth,
                model.per_step(self.value(model, "p_exchange")),
            )
        )

    @staticmethod
    def exchanges(keys, t, alive, a, b, trust, fac, slot_p, depth, p_exchange):
        """This step's exchanges: (school that heard, practice, tie), in the order of ``alive``."""
        pair = tie_uid(a[alive], b[alive])  # each tie's draws are keyed by its two schools
        # A tie carries an exchange with chance p_exchange times its trust times the
        # better facilitation found at either end.
        chance = p_exchange * trust[alive] * np.maximum(fac[a[alive]], fac[b[alive]])
        carried = draws.uniform(keys[EXCHANGE], t, pair, 0) < chance
        tie, pair = alive[carried], pair[carried]
        # Which way it goes: a fair coin (under one half, end a hears from end b).
        a_hears = draws.uniform(keys[DIRECTION], t, pair, 0) < 0.5
        recv = np.where(a_hears, a[tie], b[tie])
        send = np.where(a_hears, b[tie], a[tie])
        # Which of the sender's practices it talks about: chance in proportion to depth.
        pick = draws.uniform(keys[TOPIC], t, pair, 0)
        cum = np.cumsum(depth[send], axis=1)
        total = cum[:, -1]
        practice = slot_p[send, first_over_rows(cum, pick * total)]
        # A sender with no depth anywhere (or an empty slot picked) has nothing to tell.
        told = (total > 0) & (practice != EMPTY)
        return (
            recv[told].astype(np.int64),
            practice[told].astype(np.int64),
            tie[told].astype(np.int64),
        )

    @staticmethod
    @jit
    def exchanges_compiled(keys, t, alive, a, b, trust, fac, slot_p, depth, p_exchange):
        """:meth:`exchanges`, compiled: tie by tie, the same keyed draws and arithmetic.

        Whether each tie in force carries an exchange, which way it goes, and
        which of the sender's practices it talks about.
        """
        width = slot_p.shape[1]
        cum = np.empty(width)
        school = np.empty(len(alive), np.int64)
        practice = np.empty(len(alive), np.int64)
        via = np.empty(len(alive), np.int64)
        m = 0
        for x in range(len(alive)):
            tie = alive[x]
            pair = tie_uid1(a[tie], b[tie])
            chance = p_exchange * trust[tie] * max(fac[a[tie]], fac[b[tie]])
            if not draws.uniform1(keys[EXCHANGE], t, pair, 0) < chance:
                continue
            if draws.uniform1(keys[DIRECTION], t, pair, 0) < 0.5:
                recv, send = a[tie], b[tie]
            else:
                recv, send = b[tie], a[tie]
            pick = draws.uniform1(keys[TOPIC], t, pair, 0)
            total = depth[send, 0]
            cum[0] = total
            for j in range(1, width):  # running sum of the sender's depth, slot by slot
                total += depth[send, j]
                cum[j] = total
            pid = slot_p[send, first_over(cum, pick * total)]
            if total > 0 and pid != EMPTY:
                school[m], practice[m], via[m] = recv, pid, tie
                m += 1
        return school[:m], practice[:m], via[:m]
