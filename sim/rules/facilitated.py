"""The ``ties`` slot: new ties form through facilitation; ties without trust lapse."""

from __future__ import annotations

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.kernels import monthly_chance
from sim.core.registry import inherits
from sim.core.sources import FULLAN_2006
from sim.core.state import CROSS, TOWN
from sim.rules import Param, Rule, register
from sim.rules.actions import add_ties, kill_ties

#: The methods :meth:`TieFormation.sought_ties` runs as one (the chances and the draws): a
#: subclass overriding one runs them one by one.
_WHOLE = ("proposed_ties", "proposed_ties_compiled")

#: The decisions this rule draws for (``TieFormation.decisions``), rows of its ``keys``.
DECISIONS = ("seek", "cross", "near", "far", "far_again")
SEEK, CROSSING, NEAR, FAR, FAR_AGAIN = range(len(DECISIONS))


@register("ties", "facilitated", default=True)
class TieFormation(Rule):
    """New ties form through facilitation; ties without trust lapse.

    A school forms a new tie in a step with chance ``p_new_tie`` times the
    facilitation it finds times the engagement lever. The tie crosses
    authorities with chance ``share_cross_new`` times the engagement lever,
    else it joins a school in the same authority: Fullan's lever 4, enlarging
    one's sphere of engagement, laterally and across the system (seed 003).
    A tie whose trust has fallen below ``min_trust`` lapses, unless it belongs
    to a formalised collaborative. Each draw is keyed by the seeking school and
    the step.
    """

    decisions = DECISIONS
    params = {
        "p_new_tie": Param(
            0.01,
            lo=0,
            hi=1,
            unit="1/month",
            kind="lever",
            sweep=(0.0, 0.03),
            meaning="Chance a school forms a new tie in a month at full facilitation and "
            "engagement.",
        ),
        "share_cross_new": Param(
            0.5,
            lo=0,
            hi=1,
            unit="1",
            kind="lever",
            sweep=(0, 1),
            ref=FULLAN_2006,
            meaning="Share of new ties that cross authorities when the engagement lever is full.",
        ),
        "min_trust": Param(
            0.05,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.01, 0.15),
            sweep_ref="a judgement: trust has no measured scale; ties lapse only when trust is "
            "nearly gone (0.01), up to lapsing at low trust (0.15)",
            meaning="A tie whose trust falls below this lapses (except formal collaborative ties).",
        ),
    }

    def apply(self, model):
        """Form and lapse ties."""
        s, p, t = model.schools, model.p, model.ties
        if model.plain_monthly and inherits(type(self), TieFormation, _WHOLE):  # in one call
            by_authority, la_start, la_end = model.authority_index()
            a, b, kind = self.sought_ties(
                self.keys,
                model.t,
                float(self.value(model, "p_new_tie")),
                model.authorities.facilitation,
                float(p.lever_engagement),
                float(self.value(model, "share_cross_new") * p.lever_engagement),
                s.authority,
                by_authority,
                la_start,
                la_end,
            )
        else:
            chance = (
                self.value(model, "p_new_tie") * model.school_facilitation() * p.lever_engagement
            )
            a, b, kind = self.proposed_ties(
                self.keys,
                model.t,
                model.per_step_array(chance),
                self.value(model, "share_cross_new") * p.lever_engagement,
                s.authority,
                model.authority_index(),
            )
        add_ties(model, a, b, kind, p.init_trust)
        weak = self.lapsing(t.alive[: t.n], t.trust, t.formal, self.value(model, "min_trust"))
        if len(weak):
            kill_ties(model, weak)

    @staticmethod
    def sought_ties(
        keys,
        t,
        p_new_tie,
        facilitation,
        lever_engagement,
        share_cross,
        authority,
        by_authority,
        la_start,
        la_end,
    ):
        """:meth:`proposed_ties` at one-month steps, from the monthly chances.

        A school's chance is ``p_new_tie`` times its authority's facilitation
        times ``lever_engagement``, per step as ``model.per_step_array`` gives
        it at one-month steps (:func:`sim.core.kernels.monthly_chance`).
        """
        chance = p_new_tie * facilitation[authority] * lever_engagement
        return TieFormation.proposed_ties(
            keys,
            t,
            monthly_chance(chance),
            share_cross,
            authority,
            (by_authority, la_start, la_end),
        )

    @staticmethod
    @jit
    def sought_ties_compiled(
        keys,
        t,
        p_new_tie,
        facilitation,
        lever_engagement,
        share_cross,
        authority,
        by_authority,
        la_start,
        la_end,
    ):
        """:meth:`sought_ties`, compiled: the chances and the draws in one call.

        The chances school by school, in numpy's order, then :meth:`proposed_ties_compiled`.
        """
        prob = np.empty(len(authority))
        for i in range(len(authority)):
            chance = p_new_tie * facilitation[authority[i]] * lever_engagement
            prob[i] = 1.0 - (1.0 - (0.0 if chance < 0.0 else (1.0 if chance > 1.0 else chance)))
        return _proposed_ties_compiled(
            keys, t, prob, share_cross, authority, (by_authority, la_start, la_end)
        )

    @staticmethod
    def proposed_ties(keys, t, prob, share_cross, authority, authority_index):
        """New ties sought this step: (school, partner, kind), crossing ties first.

        ``authority_index``: schools sorted by authority, and where each
        authority's run starts and ends (``model.authority_index()``).
        """
        by_authority, start, end = authority_index
        n = len(prob)
        who = np.flatnonzero(draws.uniform(keys[SEEK], t, np.arange(n), 0) < prob)  # seekers
        cross = draws.uniform(keys[CROSSING], t, who, 0) < share_cross  # crosses authorities?
        # A partner in the seeker's own authority, drawn uniformly from its run.
        lo, hi = start[authority[who]], end[authority[who]]
        near = draws.uniform(keys[NEAR], t, who, 0)
        same = by_authority[lo + (near * (hi - lo)).astype(np.int64)]
        # A partner anywhere; drawn again where the first fell in the seeker's authority.
        anywhere = draws.integers(keys[FAR], t, who, 0, n)
        retry = authority[anywhere] == authority[who]
        anywhere[retry] = draws.integers(keys[FAR_AGAIN], t, who[retry], 0, n)
        partner = np.where(cross, anywhere, same)
        order = np.r_[np.flatnonzero(cross), np.flatnonzero(~cross)].astype(np.int64)
        return who[order], partner[order], np.where(cross[order], CROSS, TOWN).astype(np.int64)

    @staticmethod
    @jit
    def proposed_ties_compiled(keys, t, prob, share_cross, authority, authority_index):
        """:meth:`proposed_ties`, compiled: the same keyed draws.

        A uniform per school (seeking?); for those that do, whether the tie
        crosses, a partner in its own authority, a school drawn anywhere and,
        where that fell in its own authority, a second one.
        """
        by_authority, la_start, la_end = authority_index
        n = len(prob)
        seek = draws.uniform(keys[SEEK], t, np.arange(n), 0)
        k_cross, k_near, k_far, k_again = keys[CROSSING], keys[NEAR], keys[FAR], keys[FAR_AGAIN]
        who = np.empty(n, np.int64)
        m = 0
        for i in range(n):
            who[m] = i
            m += seek[i] < prob[i]
        cross = np.empty(m, np.bool_)
        anywhere = np.empty(m, np.int64)
        a = np.empty(m, np.int64)
        b = np.empty(m, np.int64)
        kind = np.empty(m, np.int64)
        for x in range(m):
            i = who[x]
            cross[x] = draws.uniform1(k_cross, t, i, 0) < share_cross
            anywhere[x] = draws.integer1(k_far, t, i, 0, n)
            if authority[anywhere[x]] == authority[i]:
                anywhere[x] = draws.integer1(k_again, t, i, 0, n)
        c = 0
        for x in range(m):  # crossing ties first, in the order drawn
            if cross[x]:
                a[c], b[c], kind[c] = who[x], anywhere[x], CROSS
                c += 1
        for x in range(m):  # then those within authorities
            if not cross[x]:
                i = who[x]
                lo, hi = la_start[authority[i]], la_end[authority[i]]
                near = draws.uniform1(k_near, t, i, 0)
                a[c], b[c], kind[c] = i, by_authority[lo + np.int64(near * (hi - lo))], TOWN
                c += 1
        return a, b, kind

    @staticmethod
    def lapsing(alive, trust, formal, min_trust):
        """Ties in force, not formal, whose trust is below ``min_trust``: indices, ascending."""
        n = len(alive)
        return np.flatnonzero(alive & (trust[:n] < min_trust) & ~formal[:n])

    @staticmethod
    @jit
    def lapsing_compiled(alive, trust, formal, min_trust):
        """:meth:`lapsing`, compiled: one pass over the ties."""
        out = np.empty(len(alive), np.int64)
        m = 0
        for e in range(len(alive)):
            out[m] = e
            m += alive[e] and trust[e] < min_trust and not formal[e]
        return out[:m]


#: :meth:`TieFormation.proposed_ties_compiled`, for :meth:`TieFormation.sought_ties_compiled`.
_proposed_ties_compiled = TieFormation.proposed_ties_compiled
