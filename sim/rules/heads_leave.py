"""The ``turnover`` slot: heads leave and are replaced; informal collaboratives may fade."""

from __future__ import annotations

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.sources import JACKSON_2011
from sim.rules import Param, Rule, register
from sim.rules.actions import dissolve_collaboratives, replace_heads

#: The decisions this rule draws for (``HeadTurnover.decisions``), rows of its ``keys``:
#: who leaves, which collaboratives fade, and the new heads' three traits.
DECISIONS = ("leave", "fade", "openness", "ingenuity", "appetite")
LEAVE, FADE, OPENNESS, INGENUITY, APPETITE = range(len(DECISIONS))


@register("turnover", "heads_leave", default=True)
class HeadTurnover(Rule):
    """Heads leave and are replaced; informal collaboratives may fade with them.

    Each head in post leaves in a step with chance ``p_head_leave``. Every
    school they led gets a new head (executive headships end), and its
    practices lose ownership (see :func:`sim.rules.actions.replace_heads`). A
    collaborative the head founded dissolves with chance ``p_fade_informal``
    if it is informal; a formalised one survives, its "governance enduring
    beyond the will of key leaders" (seed 001). Draws are keyed by the step and
    the head (:attr:`sim.core.state.Heads.uid`), the collaborative, or the new
    head (its school and the step).
    """

    decisions = DECISIONS
    params = {
        "p_head_leave": Param(
            0.012,
            lo=0,
            hi=1,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.005, 0.03),
            sweep_ref="a judgement anchored on England's heads leaving about 5% to 12% a year "
            "(DfE 2024's new heads, retirements aside, to the 2000s' adverts: literature note F7) "
            "and US principals' 20% (Miller 2013): mean tenure of 3 to 17 years (6% to 31% a "
            "year), beyond both at the short end",
            meaning="Chance a head leaves in a month (1/84: seven years' mean tenure).",
        ),
        "p_fade_informal": Param(
            0.7,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.4, 0.9),
            sweep_ref="a judgement anchored on seed 001 (a trust's governance outlasts the 'much "
            "more ephemeral' will of key leaders), which gives the direction, not the share: two "
            "in five to nine in ten informal collaboratives fade when the founder leaves",
            ref=JACKSON_2011,
            meaning="Chance an informal collaborative dissolves when its founding head leaves.",
        ),
    }

    def apply(self, model):
        """Replace leaving heads; informal collaboratives they founded may dissolve."""
        s, h, c, keys = model.schools, model.heads, model.collabs, self.keys
        leaving, schools, fading = self.turnover(
            keys,
            model.t,
            h.active[: h.n],
            h.uid[: h.n],
            model.per_step(self.value(model, "p_head_leave")),
            s.head,
            c.alive[: c.n],
            c.founder[: c.n],
            c.formal[: c.n],
            c.uid[: c.n],
            float(self.value(model, "p_fade_informal")),
        )
        if len(leaving) == 0:
            return
        model.retire_heads(leaving)
        replace_heads(model, schools, keys[OPENNESS : APPETITE + 1])
        if len(fading):
            dissolve_collaboratives(model, fading)

    @staticmethod
    def turnover(
        key, t, active, uid, chance, head, collab_alive, founder, formal, collab_uid, fade
    ):
        """:meth:`leaving`, and which of the collaboratives founded fade: one call.

        ``key``: the rule's keys (rows: :data:`DECISIONS`). Returns the heads who leave,
        the schools they led, and the informal collaboratives they founded that dissolve:
        each whose uniform, keyed by its ``collab_uid`` and the step, is below ``fade``;
        each ascending.
        """
        leaving, schools, founded = HeadTurnover.leaving(
            key[LEAVE], t, active, uid, chance, head, collab_alive, founder
        )
        if len(leaving) == 0 or len(founded) == 0:
            return leaving, schools, founded[:0]
        informal = founded[~formal[founded]]
        u = draws.uniform(key[FADE], t, collab_uid[informal], 0)
        return leaving, schools, informal[u < fade]

    @staticmethod
    @jit
    def turnover_compiled(
        key, t, active, uid, chance, head, collab_alive, founder, formal, collab_uid, fade
    ):
        """:meth:`turnover`, compiled: :meth:`leaving_compiled`, then a uniform per informal."""
        leaving, schools, founded = _leaving_compiled(
            key[LEAVE], t, active, uid, chance, head, collab_alive, founder
        )
        fading = np.empty(len(founded), np.int64)
        m = 0
        if len(leaving):
            for k in founded:
                if not formal[k] and draws.uniform1(key[FADE], t, collab_uid[k], 0) < fade:
                    fading[m] = k
                    m += 1
        return leaving, schools, fading[:m]

    @staticmethod
    def leaving(key, t, active, uid, chance, head, collab_alive, founder):
        """Heads who leave this step, the schools they led, the live collaboratives they founded.

        A uniform per head in post, keyed by the head's ``uid`` and the step; each ascending.
        """
        in_post = np.flatnonzero(active)
        leavers = in_post[draws.uniform(key, t, uid[in_post], 0) < chance]
        is_leaving = np.zeros(len(active), bool)
        is_leaving[leavers] = True
        return (
            leavers,
            np.flatnonzero(is_leaving[head]),
            np.flatnonzero(collab_alive & is_leaving[founder]),
        )

    @staticmethod
    @jit
    def leaving_compiled(key, t, active, uid, chance, head, collab_alive, founder):
        """:meth:`leaving`, compiled: head by head, then school by school."""
        m = 0
        for q in range(len(active)):
            m += active[q]
        in_post = np.empty(m, np.int64)
        x = 0
        for q in range(len(active)):
            if active[q]:
                in_post[x] = uid[q]
                x += 1
        u = draws.uniform(key, t, in_post, 0)
        is_leaving = np.zeros(len(active), np.bool_)
        leaving = np.empty(m, np.int64)
        x = g = 0
        for q in range(len(active)):
            if active[q]:
                if u[x] < chance:
                    is_leaving[q] = True
                    leaving[g] = q
                    g += 1
                x += 1
        schools = np.empty(len(head), np.int64)
        c = 0
        for i in range(len(head)):
            schools[c] = i
            c += is_leaving[head[i]]
        founded = np.empty(len(founder), np.int64)
        f = 0
        for k in range(len(founder)):
            founded[f] = k
            f += collab_alive[k] and is_leaving[founder[k]]
        return leaving[:g], schools[:c], founded[:f]


# The kernel :meth:`HeadTurnover.turnover_compiled` calls (by a global name).
_leaving_compiled = HeadTurnover.leaving_compiled
