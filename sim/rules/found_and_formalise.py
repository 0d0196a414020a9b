"""The ``collaborate`` slot: heads found collaboratives; some formalise into trusts."""

from __future__ import annotations

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.kernels import keyed_events
from sim.core.registry import inherits
from sim.core.sources import JACKSON_2011
from sim.core.state import COLLAB, EMPTY
from sim.rules import Param, Rule, register
from sim.rules.actions import add_ties, ties_within

#: The methods :meth:`Collaboratives.founders` and ``formalising`` run as one.
_WHOLE = (
    "founding_chance",
    "founding_chance_compiled",
    "informal_rates",
    "informal_rates_compiled",
    "formalisation_rate",
)

#: The decisions this rule draws for (``Collaboratives.decisions``), rows of its ``keys``.
DECISIONS = ("found", "member", "formalise")
FOUND, MEMBER, FORMALISE = range(len(DECISIONS))


@register("collaborate", "found_and_formalise", default=True)
class Collaboratives(Rule):
    """Heads found collaboratives; some formalise into trusts and federations.

    A head leading a school outside any collaborative founds one in a step
    with chance ``p_collab_form`` times their appetite for system leadership
    times facilitation, raised by adversity (seed 001: the threat of cuts
    drove Bradford's heads to a formal coalition). Members are the founder's
    school and the nearest free schools (same town first), all tied to each
    other. An informal collaborative formalises with chance ``p_formalise``
    times facilitation, raised by adversity; its ties then never lapse, and it
    survives its founder leaving (see the ``turnover`` slot). Draws are keyed
    by the step and the founding school, the school asked to join, or the
    collaborative formalising.
    """

    decisions = DECISIONS
    params = {
        "p_collab_form": Param(
            0.003,
            lo=0,
            hi=1,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.001, 0.008),
            sweep_ref="a judgement: no count of collaboratives founded by a head was found; a "
            "system leader founds one every 10 to 80 years (times facilitation)",
            meaning="Chance a head with full appetite for system leadership founds a "
            "collaborative in a month (times facilitation).",
        ),
        "p_formalise": Param(
            0.01,
            lo=0,
            hi=1,
            unit="1/month",
            kind="lever",
            sweep=(0, 0.04),
            ref=JACKSON_2011,
            meaning="Chance an informal collaborative formalises in a month (times "
            "facilitation, raised by adversity).",
        ),
        "rel_trust_founded": Param(
            0.2,
            lo=-1,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.0, 0.4),
            sweep_ref="a judgement: seed 001 describes heads who chose to work together, not how "
            "much trust it adds; founding ties start no more trusted, up to well above a new tie",
            ref=JACKSON_2011,
            meaning="Trust a collaborative's founding ties start with above init_trust: "
            "members chose each other. An assumption of the model, not calibrated.",
        ),
    }

    def apply(self, model):
        """Found and formalise collaboratives."""
        s, p, c = model.schools, model.p, model.collabs
        # At monthly steps, chances and draws in one call each (unless a subclass overrides one).
        monthly = model.plain_monthly and inherits(type(self), Collaboratives, _WHOLE)
        args = (
            float(self.value(model, "p_collab_form")),
            model.heads.appetite,
            s.head,
            model.authorities.facilitation,
            s.authority,
            s.budget,
            s.capacity,
            float(p.rel_adversity),
            s.collab,
        )
        if monthly:
            founders, fac, push = self.founders(self.keys[FOUND], model.t, *args)
        else:
            chance, fac, push = self.founding_chance(*args)
            founders = model.occurs(chance, self.keys[FOUND])
        if len(founders):
            founder, a, b = self.found(
                self.keys[MEMBER],
                model.t,
                founders,
                s.collab,
                s.town,
                s.authority,
                model.town_index(),
                model.authority_index(),
                p.n_collab_size,
                c.n,
            )
            if len(founder):  # recorded and tied all at once: the founding reads neither
                c.append(
                    founder=s.head[founder],
                    formal=False,
                    alive=True,
                    born=model.t,
                    uid=model.born("collabs", founder),
                )
                add_ties(model, a, b, COLLAB, p.init_trust + self.value(model, "rel_trust_founded"))
        # Formalisation.
        if monthly:
            go = self.formalising(
                self.keys[FORMALISE],
                model.t,
                s.collab,
                fac,
                push,
                c.alive[: c.n],
                c.formal,
                c.uid,
                float(self.value(model, "p_formalise")),
            )
        else:
            informal, rate, uid = self.informal_rates(
                s.collab,
                fac,
                push,
                c.alive[: c.n],
                c.formal,
                c.uid,
                self.value(model, "p_formalise"),
            )
            go = (
                informal[model.occurs(rate, self.keys[FORMALISE], uid)]
                if len(informal)
                else informal
            )
        if len(go):
            c.formal[go] = True
            model.ties.formal[ties_within(model, go, alive_only=False)] = True

    @staticmethod
    def founders(
        key,
        t,
        p_collab_form,
        appetite,
        head,
        facilitation,
        authority,
        budget,
        capacity,
        rel_adversity,
        collab,
    ):
        """At a one-month step, the schools founding a collaborative (ascending), fac, push.

        :meth:`founding_chance`, then ``model.occurs`` of the chances at one-month
        steps (:func:`sim.core.kernels.keyed_events`, each school's keyed uniform).
        """
        chance, fac, push = Collaboratives.founding_chance(
            p_collab_form,
            appetite,
            head,
            facilitation,
            authority,
            budget,
            capacity,
            rel_adversity,
            collab,
        )
        return keyed_events(key, t, chance, np.arange(len(chance))), fac, push

    @staticmethod
    @jit
    def founders_compiled(
        key,
        t,
        p_collab_form,
        appetite,
        head,
        facilitation,
        authority,
        budget,
        capacity,
        rel_adversity,
        collab,
    ):
        """:meth:`founders`, compiled: :meth:`founding_chance_compiled` and the draws, one call."""
        chance, fac, push = _founding_chance_compiled(
            p_collab_form,
            appetite,
            head,
            facilitation,
            authority,
            budget,
            capacity,
            rel_adversity,
            collab,
        )
        return keyed_events(key, t, chance, np.arange(len(chance))), fac, push

    @staticmethod
    def formalising(key, t, collab, fac, push, alive, formal, uid, p_formalise):
        """At a one-month step, the informal collaboratives that formalise (ascending).

        :meth:`informal_rates`, then ``model.occurs`` of their chances at one-month
        steps, keyed by each collaborative's uid (:func:`sim.core.kernels.keyed_events`).
        """
        informal, rate, ids = Collaboratives.informal_rates(
            collab, fac, push, alive, formal, uid, p_formalise
        )
        if len(informal) == 0:
            return informal
        return informal[keyed_events(key, t, rate, np.asarray(ids, np.int64))]

    @staticmethod
    @jit
    def formalising_compiled(key, t, collab, fac, push, alive, formal, uid, p_formalise):
        """:meth:`formalising`, compiled: :meth:`informal_rates_compiled` and the draws."""
        informal, rate, ids = _informal_rates_compiled(
            collab, fac, push, alive, formal, uid, p_formalise
        )
        if len(informal) == 0:
            return informal
        return informal[keyed_events(key, t, rate, ids.astype(np.int64))]

    @staticmethod
    def founding_chance(
        p_collab_form,
        appetite,
        head,
        facilitation,
        authority,
        budget,
        capacity,
        rel_adversity,
        collab,
    ):
        """Each school's monthly chance to found a collaborative, its facilitation and push.

        Facilitation is its authority's (``model.school_facilitation()``); push is
        ``1 + rel_adversity * pressure`` (``model.pressure()``: budget lost times
        capacity). The chance is ``p_collab_form`` times its head's appetite,
        facilitation and push, and 0 for a school already in a collaborative.
        """
        fac = facilitation[authority]
        push = 1.0 + rel_adversity * (np.maximum(0.0, 1.0 - budget) * capacity)
        free = collab == EMPTY  # only a school outside any collaborative founds one
        chance = p_collab_form * appetite[head] * fac * push
        return chance * free, fac, push

    @staticmethod
    @jit
    def founding_chance_compiled(
        p_collab_form,
        appetite,
        head,
        facilitation,
        authority,
        budget,
        capacity,
        rel_adversity,
        collab,
    ):
        """:meth:`founding_chance`, compiled: school by school, in numpy's order of operations.

        ``np.maximum(0.0, x)`` keeps a NaN, and a free school's chance is multiplied
        by 1.0 (by 0.0 otherwise), as numpy multiplies by the boolean.
        """
        n = len(head)
        chance, fac, push = np.empty(n), np.empty(n), np.empty(n)
        for i in range(n):
            lost = 1.0 - budget[i]
            pressure = (lost if lost > 0.0 or lost != lost else 0.0) * capacity[i]
            fac[i] = facilitation[authority[i]]
            push[i] = 1.0 + rel_adversity * pressure
            c = p_collab_form * appetite[head[i]] * fac[i] * push[i]
            chance[i] = c * (1.0 if collab[i] == EMPTY else 0.0)
        return chance, fac, push

    @staticmethod
    def found(
        key, t, founders, collab, town, authority, town_index, authority_index, size, first_id
    ):
        """Founders found collaboratives, in turn, in place on ``collab``.

        A founder already taken into a collaborative this step founds none.
        Members are the founder and ``size - 1`` free schools of its town, or of
        its authority when the town has too few: those of the smallest keyed
        uniforms (a school's number this step, the same for every founder
        asking); with too few there either, no collaborative. Collaboratives are
        numbered ``first_id`` on.

        Returns:
            The founders who founded one, and each pair of members of each
            collaborative (member ``i`` with each later member ``j``).
        """
        groups = []
        for f in founders.tolist():
            if collab[f] != EMPTY:  # taken into another's collaborative this step
                continue
            # Free schools of the founder's town; of its authority if the town has too few.
            for (order, start, end), where in (
                (town_index, town[f]),
                (authority_index, authority[f]),
            ):
                near = order[start[where] : end[where]]
                pool = near[(collab[near] == EMPTY) & (near != f)]
                if len(pool) >= size - 1:
                    break
            if len(pool) < size - 1:
                continue
            ask = np.argsort(draws.uniform(key, t, pool, 0), kind="stable")  # who is asked first
            members = np.r_[f, pool[ask[: size - 1]]]
            collab[members] = first_id + len(groups)
            groups.append(members)
        g = np.array(groups, np.int64).reshape(-1, size)
        i, j = np.triu_indices(size, 1)  # every pair of members, collaborative by collaborative
        return g[:, 0].copy(), g[:, i].ravel(), g[:, j].ravel()

    @staticmethod
    @jit
    def found_compiled(
        key, t, founders, collab, town, authority, town_index, authority_index, size, first_id
    ):
        """:meth:`found`, compiled: founder by founder, the same keyed draws.

        Members are those of the pool (ascending) with the smallest keyed
        uniforms (:func:`sim.core.draws.smallest`); pairs in ``np.triu_indices``
        order.
        """
        by_town, town_start, town_end = town_index
        by_la, la_start, la_end = authority_index
        groups = np.empty((len(founders), size), np.int64)
        pool = np.empty(len(collab), np.int64)
        g = 0
        for f in founders:
            if collab[f] != EMPTY:
                continue
            for by, start, end, where in (
                (by_town, town_start, town_end, town[f]),
                (by_la, la_start, la_end, authority[f]),
            ):
                m = 0
                for x in range(start[where], end[where]):
                    school = by[x]
                    pool[m] = school
                    m += collab[school] == EMPTY and school != f
                if m >= size - 1:
                    break
            if m < size - 1:
                continue
            groups[g, 0] = f
            groups[g, 1:] = draws.smallest(key, t, pool[:m], 0, size - 1)
            for q in range(size):
                collab[groups[g, q]] = first_id + g
            g += 1
        n_pairs = size * (size - 1) // 2
        a = np.empty(g * n_pairs, np.int64)
        b = np.empty(g * n_pairs, np.int64)
        x = 0
        for q in range(g):
            for i in range(size):
                for j in range(i + 1, size):
                    a[x], b[x] = groups[q, i], groups[q, j]
                    x += 1
        return groups[:g, 0].copy(), a, b

    @staticmethod
    def informal_rates(collab, fac, push, alive, formal, uid, p_formalise):
        """The informal collaboratives in being (ascending), their chances to formalise, uids.

        ``alive`` is over the collaboratives; ``formal`` and ``uid`` at least as long.
        The chances are :meth:`formalisation_rate`'s.
        """
        n = len(alive)
        informal = np.flatnonzero(alive & ~formal[:n])
        if len(informal) == 0:
            return informal, np.zeros(0), uid[:0]
        rate = Collaboratives.formalisation_rate(collab, fac, push, n, p_formalise)
        return informal, rate[informal], uid[informal]

    @staticmethod
    @jit
    def informal_rates_compiled(collab, fac, push, alive, formal, uid, p_formalise):
        """:meth:`informal_rates`, compiled: one pass of sums, the chance of the informal alone.

        The sums and the chance are :meth:`formalisation_rate_compiled`'s.
        """
        n = len(alive)
        fac_c = np.zeros(n)
        push_c = np.zeros(n)
        cnt = np.zeros(n, np.int64)
        for i in range(len(collab)):
            q = collab[i]
            if q >= 0:
                fac_c[q] += fac[i]
                push_c[q] += push[i]
                cnt[q] += 1
        informal = np.empty(n, np.int64)
        m = 0
        for q in range(n):
            informal[m] = q
            m += alive[q] and not formal[q]
        rate = np.empty(m)
        ids = np.empty(m, uid.dtype)
        for x in range(m):
            q = informal[x]
            size = max(cnt[q], 1)
            rate[x] = p_formalise * (fac_c[q] / size) * (push_c[q] / size)
            ids[x] = uid[q]
        return informal[:m], rate, ids

    @staticmethod
    def formalisation_rate(collab, fac, push, n_collabs, p_formalise):
        """Each collaborative's monthly chance to formalise: members' mean facilitation x push."""
        member = collab >= 0
        c = collab[member]
        size = np.maximum(np.bincount(c, minlength=n_collabs), 1)
        mean_fac = np.bincount(c, fac[member], n_collabs) / size
        mean_push = np.bincount(c, push[member], n_collabs) / size
        return p_formalise * mean_fac * mean_push

    @staticmethod
    @jit
    def formalisation_rate_compiled(collab, fac, push, n_collabs, p_formalise):
        """:meth:`formalisation_rate`, compiled: sums school by school in index order."""
        fac_c = np.zeros(n_collabs)
        push_c = np.zeros(n_collabs)
        cnt = np.zeros(n_collabs, np.int64)
        for i in range(len(collab)):
            q = collab[i]
            if q >= 0:
                fac_c[q] += fac[i]
                push_c[q] += push[i]
                cnt[q] += 1
        rate = np.empty(n_collabs)
        for q in range(n_collabs):
            m = max(cnt[q], 1)
            rate[q] = p_formalise * (fac_c[q] / m) * (push_c[q] / m)
        return rate


#: The kernels :meth:`Collaboratives.founders_compiled` and ``formalising_compiled`` call.
_founding_chance_compiled = Collaboratives.founding_chance_compiled
_informal_rates_compiled = Collaboratives.informal_rates_compiled
