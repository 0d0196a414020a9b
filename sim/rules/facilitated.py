"""The ``ties`` slot: new ties form through facilitation; ties without trust lapse."""

from __future__ import annotations

import numpy as np

from sim.core.jit import jit
from sim.core.sources import FULLAN_2006
from sim.core.state import CROSS, TOWN
from sim.rules import Param, Rule, register
from sim.rules.actions import add_ties, kill_ties


@register("ties", "facilitated", default=True)
class TieFormation(Rule):
    """New ties form through facilitation; ties without trust lapse.

    A school forms a new tie in a step with chance ``p_new_tie`` times the
    facilitation it finds times the engagement lever. The tie crosses
    authorities with chance ``share_cross_new`` times the engagement lever,
    else it joins a school in the same authority: Fullan's lever 4, enlarging
    one's sphere of engagement, laterally and across the system (seed 003).
    A tie whose trust has fallen below ``min_trust`` lapses, unless it belongs
    to a formalised collaborative.
    """

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
            sweep_ref="ties lapse only when trust is nearly gone, up to lapsing at low trust",
            meaning="A tie whose trust falls below this lapses (except formal collaborative ties).",
        ),
    }

    def apply(self, model):
        """Form and lapse ties."""
        s, p, t = model.schools, model.p, model.ties
        chance = self.value(model, "p_new_tie") * model.school_facilitation() * p.lever_engagement
        a, b, kind = self.proposed_ties(
            self.kernel_rng,
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
    def proposed_ties(rng, prob, share_cross, authority, authority_index):
        """New ties sought this step: (school, partner, kind), crossing ties first.

        ``authority_index``: schools sorted by authority, and where each
        authority's run starts and ends (``model.authority_index()``).
        """
        by_authority, start, end = authority_index
        n = len(prob)
        who = np.flatnonzero(rng.random(n) < prob)  # the schools seeking a tie
        m = len(who)
        cross = rng.random(m) < share_cross  # does the tie cross authorities?
        # A partner in the seeker's own authority, drawn uniformly from its run.
        lo, hi = start[authority[who]], end[authority[who]]
        same = by_authority[lo + (rng.random(m) * (hi - lo)).astype(np.int64)]
        # A partner anywhere; drawn again where the first fell in the seeker's authority.
        anywhere = rng.integers(0, n, m)
        retry = authority[anywhere] == authority[who]
        anywhere[retry] = rng.integers(0, n, int(retry.sum()))
        partner = np.where(cross, anywhere, same)
        order = np.r_[np.flatnonzero(cross), np.flatnonzero(~cross)].astype(np.int64)
        return who[order], partner[order], np.where(cross[order], CROSS, TOWN).astype(np.int64)

    @staticmethod
    @jit
    def proposed_ties_compiled(rng, prob, share_cross, authority, authority_index):
        """:meth:`proposed_ties`, compiled: the same draws in numpy's order.

        One uniform per school (seeking?); for those that do, one uniform each
        (crossing?), one each for a partner in its own authority, one school
        drawn anywhere each, and a second draw anywhere for those whose first
        fell in their own authority.
        """
        by_authority, la_start, la_end = authority_index
        n = len(prob)
        who = np.flatnonzero(rng.random(n) < prob)
        m = len(who)
        cross = rng.random(m) < share_cross
        pick = rng.random(m)
        anywhere = rng.integers(0, n, m)
        retry = np.empty(m, np.bool_)
        n_retry = 0
        for x in range(m):
            retry[x] = authority[anywhere[x]] == authority[who[x]]
            n_retry += retry[x]
        again = rng.integers(0, n, n_retry)
        a = np.empty(m, np.int64)
        b = np.empty(m, np.int64)
        kind = np.empty(m, np.int64)
        c = r = 0
        for x in range(m):  # crossing ties first, in the order drawn
            if retry[x]:
                anywhere[x] = again[r]
                r += 1
            if cross[x]:
                a[c], b[c], kind[c] = who[x], anywhere[x], CROSS
                c += 1
        for x in range(m):  # then those within authorities
            if not cross[x]:
                lo, hi = la_start[authority[who[x]]], la_end[authority[who[x]]]
                a[c], b[c], kind[c] = who[x], by_authority[lo + np.int64(pick[x] * (hi - lo))], TOWN
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
