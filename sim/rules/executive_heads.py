"""The ``lead`` slot: strong heads take on struggling schools as executive heads, and lift them."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.kernels import _linear_quantile, _per_month_step
from sim.core.numerics import order_statistics, quantiles
from sim.core.sources import CHAPMAN_2011, NEXT_PRACTICE
from sim.core.state import CHOSEN, EMPTY, EXECUTIVE
from sim.rules import Param, Rule, register
from sim.rules.actions import (
    add_ties,
    protection_inputs,
    runs_practice,
    take_up_slots,
    take_up_slots_compiled,
    value_inputs,
)
from sim.system.costs import Ledger

#: The decisions this rule draws for (``SystemLeadership.decisions``), rows of its ``keys``.
DECISIONS = ("candidate", "pick", "share")
CANDIDATE, PICK, SHARE = range(len(DECISIONS))


def federation_leads(fed: np.ndarray, head: np.ndarray, perf: np.ndarray):
    """Each federation's head and its lead school: the best-performing one.

    Args:
        fed: The federated schools (those sharing their head), ascending; at least one.
        head: Each school's head.
        perf: Each school's performance.

    Returns:
        The heads of the federations (ascending) and their lead schools; of equals in
        performance, the last by index. No draw; numpy only (a few federations a step).
    """
    h = head[fed]
    order = np.lexsort((perf[fed], h))
    last = np.r_[h[order][1:] != h[order][:-1], True]
    return h[order][last], fed[order][last]


@register("lead", "executive_heads", default=True)
class SystemLeadership(Rule):
    """Strong heads take on struggling schools as executive heads, and lift them.

    Matching: a head of a school in the top quarter of performance (quantile
    ``q_strong``), leading only that school, takes on a struggling school
    (below quantile ``q_weak``) in the same authority with chance
    ``p_exec_head`` a month times their appetite for system leadership (seed
    002: "headteachers are taking on the responsibility of leading more than
    one school"). The struggling school's head is replaced by the executive
    head and it gains a tie of high trust (``init_trust_exec``) to the strong
    school.

    Support, every month while the federation lasts (schools sharing a head):
    each school closes ``rate_exec_support`` of its capacity gap to the
    federation's most capable school, and with chance ``p_exec_share`` takes
    up the deepest practice of the federation's best-performing school that
    it does not yet run, with the ownership the lead school has of it (staff
    who run it there bring it over). Federations of a strong and a weak
    school raised the weak school's results over two to four years in England
    (Chapman, Muijs and MacAllister 2011): the lift comes from sustained
    shared leadership, staff and practice, not a one-off transfer. A
    federation ends when its head leaves (the ``turnover`` slot).

    System leadership costs the home school something: while a federation
    lasts, its lead school (the best performing, where the executive head
    came from) loses ``rate_home_loss`` of its capacity a month, its head's
    time being spent elsewhere (NLE deployments of 1-2, up to 3-4 days a week).

    Support costs the supported school's authority ``cost_exec_support`` a
    year per school taken on (:meth:`pay_for_support`); an authority short of
    money scales its federations' support down to the share it can pay.
    What it writes for observers: ``model.events["takeovers"]``. Each draw is
    keyed by the school it concerns and the step.
    """

    pays = True  # authorities pay for the support of schools taken on

    decisions = DECISIONS
    params = {
        "p_exec_head": Param(
            0.01,
            lo=0,
            hi=1,
            unit="1/month",
            kind="lever",
            sweep=(0, 0.03),
            ref=NEXT_PRACTICE,
            meaning="Chance a strong head with full appetite takes on a struggling school "
            "nearby as executive head in a month.",
        ),
        "rate_exec_support": Param(
            0.03,
            lo=0,
            hi=1,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.0, 0.08),
            sweep_ref="a judgement anchored on Chapman, Muijs and MacAllister 2011 (and Chapman "
            "and Muijs 2014: federated schools outperform matched ones in the years after "
            "federating, most in performance federations), which gives the direction, not the "
            "speed: none, up to closing a capacity gap half-way in 8 months",
            ref=CHAPMAN_2011,
            meaning="Share of its capacity gap to the strongest school of its federation "
            "(schools sharing a head) a school closes in a month.",
        ),
        "p_exec_share": Param(
            0.1,
            lo=0,
            hi=1,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.03, 0.25),
            sweep_ref="a judgement: no study measures how fast a federation passes on a practice; "
            "its deepest practice passes in 4 to 33 months",
            ref=CHAPMAN_2011,
            meaning="Chance in a month that a federated school takes up the deepest practice "
            "of its federation's strongest school.",
        ),
        "cost_exec_support": Param(
            20.0,
            lo=0,
            hi=200,
            unit="GBP k per school per year",
            kind="uncertainty",
            sweep=(10.0, 50.0),
            sweep_ref="a judgement, older than the sources: 10-50k a supported school a year; "
            "docs/sources.md derives 27k [14, 109] from half a day to four days a week of a "
            "national leader of education (literature note) at GBP 700 a day (NA2015) over "
            "39 weeks, so the default is under one day a week and the top under two",
            ref=NEXT_PRACTICE,
            meaning="Cost to an authority of executive headship support (rate_exec_support, "
            "p_exec_share) for one school taken on, for a year: the executive head's "
            "and lead school's staff time.",
        ),
        "rate_home_loss": Param(
            0.008,
            lo=0,
            hi=0.2,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.002, 0.02),
            sweep_ref="a judgement anchored on NLE deployments of 1-2 and up to 3-4 days a "
            "week (National College; school NLE pages): a head away 20% to 80% of the "
            "week, and a school without its head losing a judged 1% to 2.5% of its "
            "capacity a month for each week it is wholly away; default: 2 days a week, 2%",
            ref="National College, NLE FAQs (deployment models from 1-2 days a week to "
            "full-time acting head)",
            meaning="Share of its capacity the lead school of a federation loses a month "
            "while its head leads other schools too (system leadership's cost at home).",
        ),
        "q_strong": Param(
            0.75,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.6, 0.9),
            sweep_ref="a judgement: no rule says how strong a school must be to lead another; "
            "strong heads from the top 40% to the top tenth",
            ref=NEXT_PRACTICE,
            meaning="Quantile of performance from which a school's head counts as strong "
            "enough to take on another school (0.75: the top quarter).",
        ),
        "q_weak": Param(
            0.10,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.05, 0.25),
            sweep_ref="a judgement: the schools federations took on are not counted by results; "
            "struggling schools from the bottom twentieth to the bottom quarter",
            ref="Chapman, Muijs and MacAllister 2011 (federations of strong and weak schools)",
            meaning="Quantile of performance below which a school counts as struggling and "
            "may be taken on (0.10: the bottom tenth).",
        ),
        "init_trust_exec": Param(
            0.8,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.6, 1.0),
            sweep_ref="a judgement: trust has no measured scale; one head leading both schools: "
            "high trust (0.6), up to full",
            ref="Chapman, Muijs and MacAllister 2011 (one head leading both schools)",
            meaning="Trust on the tie an executive headship makes between the strong and the "
            "struggling school: high, as one head leads both.",
        ),
    }

    def apply(self, model):
        """Match strong heads with struggling schools, then support federations.

        The matching, the authorities' payment and the support are one call of
        :meth:`lead` (compiled: :meth:`lead_compiled`); the heads replaced leave, the
        pairs are tied and the practices brought over after it. A ledger that answers
        :meth:`~sim.system.costs.Ledger.authorities` its own way is asked in
        :meth:`apply_in_steps`, the same steps one call each.
        """
        s, p, hd, ledger = model.schools, model.p, model.heads, model.ledger
        if type(ledger).authorities is not Ledger.authorities:
            self.apply_in_steps(model)
            return
        p_exec = self.value(model, "p_exec_head")
        # At monthly steps the chance is computed inside (``per_step_array``'s arithmetic).
        chance = (
            _NO_CHANCE if p.dur_step == 1.0 else model.per_step_array(p_exec * hd.appetite[s.head])
        )
        by_authority, la_start, la_end = model.authority_index()
        strong_end, weak_end, replaced, weak, led, lead, col = self.lead(
            self.keys,
            model.t,
            s.logit_perf,
            self.value(model, "q_strong"),
            self.value(model, "q_weak"),
            s.head,
            hd.appetite,
            hd.n,
            p_exec,
            chance,
            s.authority,
            by_authority,
            la_start,
            la_end,
            ledger.allowance_la,
            ledger.spent_la,
            ledger.short_la,
            float(self.value(model, "cost_exec_support")),
            float(p.dur_step),
            s.capacity,
            model.per_step(self.value(model, "rate_exec_support")),
            model.per_step(self.value(model, "p_exec_share")),
            s.slot_p,
            s.slot_depth,
            model.per_step(self.value(model, "rate_home_loss")),
        )
        # The replaced heads leave and the pairs are tied, all at once (no draws).
        if len(replaced):
            model.retire_heads(replaced)
            add_ties(model, strong_end, weak_end, EXECUTIVE, self.value(model, "init_trust_exec"))
        # For observers: the schools taken on, and those as weak that were not.
        model.events["takeovers"] = (weak_end, weak)
        if len(led) == 0:
            return
        model.counts["adoptions"] += self.bring_over(
            led,
            lead,
            col,
            p.init_own_chosen,
            s.slot_depth,
            s.slot_own,
            s.slot_source,
            value_inputs(model),
            protection_inputs(model),
        )

    @staticmethod
    def lead(
        keys,
        t,
        perf,
        q_strong,
        q_weak,
        head,
        appetite,
        n_heads,
        p_exec,
        chance,
        authority,
        by_authority,
        la_start,
        la_end,
        allowance,
        spent,
        short,
        cost,
        dur_step,
        capacity,
        rate,
        share_chance,
        slot_p,
        slot_depth,
        home_loss,
    ):
        """A step's matching, payment and support: :meth:`apply_in_steps`' calls in one.

        The cuts (:func:`~sim.core.numerics.quantiles` of ``perf`` at ``q_strong`` and
        ``q_weak``, each in 0 to 1), :meth:`candidates` (``chance``: each school's, or
        empty at monthly steps: ``p_exec`` times its head's ``appetite``, clipped),
        :meth:`take_on` (rows of ``keys``: :data:`DECISIONS`), :meth:`supported` and the
        authorities' charge (:meth:`sim.system.costs.Ledger.authorities` on ``allowance``,
        ``spent`` and ``short``, in place, for ``cost`` a school a year over steps of
        ``dur_step`` months), then :meth:`support` with the shares funded. In place on
        ``head``, ``capacity``, ``spent`` and ``short``. Returns the strong and weak ends
        of the takeovers, the heads replaced, the weak schools not taken on, and the
        schools that take up their lead's practice, their leads and the lead's column.
        """
        hi_cut, lo_cut = quantiles(perf, [q_strong, q_weak])
        if len(chance) != len(perf):
            chance = 1.0 - (1.0 - np.clip(p_exec * appetite[head], 0.0, 1.0))
        n_led, go, weak = SystemLeadership.candidates(
            keys[CANDIDATE], t, perf, hi_cut, lo_cut, head, n_heads, chance
        )
        strong_end = weak_end = replaced = np.zeros(0, np.int64)
        if len(go):
            strong_end, weak_end, replaced = SystemLeadership.take_on(
                keys[PICK], t, go, authority, (by_authority, la_start, la_end), weak, head, n_led
            )
        any_fed, supported = SystemLeadership.supported(head, authority, n_led, len(allowance))
        paid = np.ones(len(allowance))
        if any_fed:
            ledger = SimpleNamespace(allowance_la=allowance, spent_la=spent, short_la=short)
            due = cost * supported * dur_step / 12.0
            paid = Ledger.authorities(ledger, due, asked=supported != 0)
        led, lead, col = SystemLeadership.support(
            keys[SHARE],
            t,
            head,
            n_led,
            perf,
            capacity,
            rate,
            share_chance,
            authority,
            paid,
            slot_p,
            slot_depth,
            home_loss,
        )
        return strong_end, weak_end, replaced, np.flatnonzero(weak), led, lead, col

    @staticmethod
    @jit
    def lead_compiled(
        keys,
        t,
        perf,
        q_strong,
        q_weak,
        head,
        appetite,
        n_heads,
        p_exec,
        chance,
        authority,
        by_authority,
        la_start,
        la_end,
        allowance,
        spent,
        short,
        cost,
        dur_step,
        capacity,
        rate,
        share_chance,
        slot_p,
        slot_depth,
        home_loss,
    ):
        """:meth:`lead`, compiled: the compiled kernels of its steps, called in turn.

        The cuts are :func:`_cuts` (``quantiles``' arithmetic), the chance
        :func:`sim.core.kernels.monthly_chance`'s, and the charge
        :meth:`~sim.system.costs.Ledger.authorities`' arithmetic authority by authority
        (as :func:`sim.system.costs.fund_authorities_compiled` does it).
        """
        n, n_la = len(perf), len(allowance)
        hi_cut, lo_cut = _cuts(perf, q_strong, q_weak)
        if len(chance) != n:
            chance = np.empty(n)
            for i in range(n):
                chance[i] = _per_month_step(p_exec * appetite[head[i]])
        n_led, go, weak = _candidates_compiled(
            keys[CANDIDATE], t, perf, hi_cut, lo_cut, head, n_heads, chance
        )
        if len(go):
            strong_end, weak_end, replaced = _take_on_compiled(
                keys[PICK], t, go, authority, (by_authority, la_start, la_end), weak, head, n_led
            )
        else:
            strong_end = weak_end = replaced = np.zeros(0, np.int64)
        any_fed, supported = _supported_compiled(head, authority, n_led, n_la)
        paid = np.ones(n_la)
        if any_fed:
            for a in range(n_la):
                if supported[a] != 0:
                    due = cost * supported[a] * dur_step / 12.0
                    d = allowance[a] - spent[a]
                    left = 0.0 if d < 0.0 else d  # np.maximum(0.0, d): -0.0 and NaN kept
                    share = left / due if due > left else 1.0
                    spent[a] = spent[a] + due * share
                    short[a] = short[a] + due * (1.0 - share)
                    paid[a] = share
        led, lead, col = _support_compiled(
            keys[SHARE],
            t,
            head,
            n_led,
            perf,
            capacity,
            rate,
            share_chance,
            authority,
            paid,
            slot_p,
            slot_depth,
            home_loss,
        )
        return strong_end, weak_end, replaced, np.flatnonzero(weak), led, lead, col

    def apply_in_steps(self, model):
        """:meth:`apply` one step at a time, for a ledger that answers its own way."""
        s, p = model.schools, model.p
        perf = s.logit_perf
        chance = model.per_step_array(
            self.value(model, "p_exec_head") * model.heads.appetite[s.head]
        )
        hi_cut, lo_cut = quantiles(
            perf, [self.value(model, "q_strong"), self.value(model, "q_weak")]
        )
        n_led, go, weak = self.candidates(
            self.keys[CANDIDATE], model.t, perf, hi_cut, lo_cut, s.head, model.heads.n, chance
        )
        strong_end = weak_end = replaced = np.zeros(0, np.int64)
        if len(go):
            strong_end, weak_end, replaced = self.take_on(
                self.keys[PICK],
                model.t,
                go,
                s.authority,
                model.authority_index(),
                weak,
                s.head,
                n_led,
            )
        # The replaced heads leave and the pairs are tied, all at once (no draws).
        if len(replaced):
            model.retire_heads(replaced)
        add_ties(model, strong_end, weak_end, EXECUTIVE, self.value(model, "init_trust_exec"))
        # For observers: the schools taken on, and those as weak that were not
        # (``weak`` now marks only the latter), e.g. for a matched comparison.
        model.events["takeovers"] = (weak_end, np.flatnonzero(weak))
        led, lead, col = self.support(
            self.keys[SHARE],
            model.t,
            s.head,
            n_led,
            perf,
            s.capacity,
            model.per_step(self.value(model, "rate_exec_support")),
            model.per_step(self.value(model, "p_exec_share")),
            s.authority,
            self.pay_for_support(model, n_led),  # share funded, per authority
            s.slot_p,
            s.slot_depth,
            model.per_step(self.value(model, "rate_home_loss")),
        )
        if len(led) == 0:
            return
        model.counts["adoptions"] += self.bring_over(
            led,
            lead,
            col,
            p.init_own_chosen,
            s.slot_depth,
            s.slot_own,
            s.slot_source,
            value_inputs(model),
            protection_inputs(model),
        )

    @staticmethod
    def home_cost(head, n_led, perf, capacity, rate):
        """Each federation's lead school loses ``rate`` of its capacity; in place.

        The lead is the best-performing school of the federation (the last of
        equals by index: :func:`federation_leads`, as :meth:`support` picks it). No
        draw; :meth:`home_cost_compiled` is its compiled form.
        """
        fed = np.flatnonzero(n_led[head] > 1)
        if len(fed) == 0:
            return
        _, lead = federation_leads(fed, head, perf)
        capacity[lead] -= rate * capacity[lead]

    @staticmethod
    @jit
    def home_cost_compiled(head, n_led, perf, capacity, rate):
        """:meth:`home_cost`, compiled: each federation's lead found in one pass over schools.

        The lead is the school with the highest ``perf`` in numpy's sort order (a nan
        above every number), the last by index among equals, as the sort finds it.
        """
        _home_cost(head, n_led, perf, capacity, rate)

    def pay_for_support(self, model, n_led):
        """Each authority pays for the support of its schools taken on; returns its shares.

        A federation of ``k`` schools supports ``k - 1`` of them (all but its
        lead), at ``cost_exec_support`` each a year, paid by their authority
        (a federation lies within one authority: heads take on schools of their
        own). An authority short of money pays what it has left, and its
        federated schools get that share of the support (of the capacity they
        close and of the chance to take up a practice); the rest is recorded as
        shortfall. Returns the share funded, per authority (1 where nothing is due).
        """
        s, p = model.schools, model.p
        n_la = len(model.ledger.allowance_la)
        any_fed, supported = self.supported(s.head[: s.n], s.authority[: s.n], n_led, n_la)
        if not any_fed:
            return np.ones(n_la)
        cost = self.value(model, "cost_exec_support")
        return model.ledger.authorities(cost * supported * p.dur_step / 12.0, asked=supported != 0)

    @staticmethod
    def supported(head, authority, n_led, n_la):
        """Whether any school is federated, and the schools supported in each authority.

        A federation (a head leading more than one school) supports all its schools
        but one; the one not counted is its first by index.
        """
        fed = np.flatnonzero(n_led[head] > 1)
        first = fed[np.unique(head[fed], return_index=True)[1]]  # one school per federation
        counts = np.bincount(authority[fed], minlength=n_la) - np.bincount(
            authority[first], minlength=n_la
        )
        return len(fed) > 0, counts

    @staticmethod
    @jit
    def supported_compiled(head, authority, n_led, n_la):
        """:meth:`supported`, compiled: one pass over schools."""
        counts = np.zeros(n_la, np.int64)
        first = np.ones(len(n_led), np.bool_)  # the federation's first school not yet met
        any_fed = False
        for i in range(len(head)):
            h = head[i]
            if n_led[h] > 1:
                any_fed = True
                if first[h]:
                    first[h] = False
                else:
                    counts[authority[i]] += 1
        return any_fed, counts

    @staticmethod
    def candidates(key, t, perf, hi_cut, lo_cut, head, n_heads, chance):
        """Strong heads who take on a school this step, and the weak schools.

        A keyed uniform per school. A school led alone is strong at or above
        ``hi_cut`` (its head takes on with ``chance``), weak at or below ``lo_cut``.

        Returns:
            Schools per head, the strong schools whose heads take on (ascending),
            and the weak mask.
        """
        n_led = np.bincount(head, minlength=n_heads)
        alone = n_led[head] == 1  # a head leading only this school
        u = draws.uniform(key, t, np.arange(len(perf)), 0)
        go = np.flatnonzero(alone & (perf >= hi_cut) & (u < chance))
        weak = alone & (perf <= lo_cut)
        return n_led, go, weak

    @staticmethod
    @jit
    def candidates_compiled(key, t, perf, hi_cut, lo_cut, head, n_heads, chance):
        """:meth:`candidates`, compiled: school by school.

        A school's keyed uniform is drawn only where it decides something (a strong
        school led alone): the same number the numpy form draws for it.
        """
        n = len(perf)
        n_led = np.zeros(n_heads, np.int64)
        for i in range(n):
            n_led[head[i]] += 1
        go = np.empty(n, np.int64)
        weak = np.empty(n, np.bool_)
        m = 0
        for i in range(n):
            alone = n_led[head[i]] == 1
            if alone and perf[i] >= hi_cut and draws.uniform1(key, t, i, 0) < chance[i]:
                go[m] = i
                m += 1
            weak[i] = alone and perf[i] <= lo_cut
        return n_led, go[:m], weak

    @staticmethod
    def take_on(key, t, go, authority, authority_index, weak, head, n_led):
        """Each strong head in ``go``, in turn, takes on a weak school of their authority.

        Of the schools still weak there, the one whose keyed uniform this step
        is smallest (a uniform choice, in which a school's chance does not
        depend on which others are weak). In place on
        ``weak``, ``head`` and ``n_led``; returns the strong and weak ends of
        each takeover and the heads replaced.
        """
        by_authority, start, end = authority_index
        strong_end, weak_end, replaced = [], [], []
        for a in go.tolist():
            mine = by_authority[start[authority[a]] : end[authority[a]]]
            pool = mine[weak[mine]]  # still weak (not yet taken on)
            if len(pool) == 0:
                continue
            b = pool[np.argmin(draws.uniform(key, t, pool, 0))]
            weak[b] = False
            replaced.append(head[b])
            head[b] = head[a]  # the executive head now leads both
            n_led[head[a]] += 1
            strong_end.append(a)
            weak_end.append(b)
        return (
            np.array(strong_end, np.int64),
            np.array(weak_end, np.int64),
            np.array(replaced, np.int64),
        )

    @staticmethod
    @jit
    def take_on_compiled(key, t, go, authority, authority_index, weak, head, n_led):
        """:meth:`take_on`, compiled: the weak school of the smallest keyed uniform each time."""
        by_authority, la_start, la_end = authority_index
        strong_end = np.empty(len(go), np.int64)
        weak_end = np.empty(len(go), np.int64)
        replaced = np.empty(len(go), np.int64)
        m = 0
        for a in go:
            b, least = -1, np.inf
            for x in range(la_start[authority[a]], la_end[authority[a]]):
                school = by_authority[x]
                if weak[school]:
                    u = draws.uniform1(key, t, school, 0)
                    if u < least:
                        b, least = school, u
            if b < 0:
                continue
            weak[b] = False
            replaced[m] = head[b]
            head[b] = head[a]
            n_led[head[a]] += 1
            strong_end[m], weak_end[m] = a, b
            m += 1
        return strong_end[:m], weak_end[:m], replaced[:m]

    @staticmethod
    def support(
        key,
        t,
        head,
        n_led,
        perf,
        capacity,
        rate,
        chance,
        authority,
        paid,
        slot_p,
        slot_depth,
        home_loss,
    ):
        """Support within federations: capacity converges, practice is shared from the lead.

        In place on ``capacity``. A school's rate and chance are ``rate`` and ``chance``
        times ``paid``, the share of the support its authority funds. Once capacities
        have converged, each federation's lead pays the cost at home: it loses
        ``home_loss`` of its capacity (:meth:`home_cost`). Returns the schools that
        take up a practice, their lead schools, and the lead's column of it.
        """
        fed = np.flatnonzero(n_led[head] > 1)  # schools sharing their head
        none = np.zeros(0, np.int64)
        if len(fed) == 0:
            return none, none, none
        h = head[fed]
        paid = paid[authority[fed]]
        # Each closes its rate of its gap to the federation's most capable school.
        top = np.zeros(len(n_led))
        np.maximum.at(top, h, capacity[fed])
        capacity[fed] += rate * paid * (top[h] - capacity[fed])
        SystemLeadership.home_cost(head, n_led, perf, capacity, home_loss)
        # The lead school performs best (the last of equals, by index).
        lead_of = np.full(len(n_led), -1)
        heads, leads = federation_leads(fed, head, perf)
        lead_of[heads] = leads
        lead = lead_of[h]
        # With ``chance``, a school that is not the lead takes up the lead's deepest
        # practice it does not yet run (the first of equals), if there is one.
        share = (lead != fed) & (draws.uniform(key, t, fed, 0) < chance * paid)
        led, lead = fed[share], lead[share]
        known = (slot_p[lead][:, :, None] == slot_p[led][:, None, :]).any(axis=2)
        depth = np.where((slot_p[lead] != EMPTY) & ~known, slot_depth[lead], -1.0)
        col = np.argmax(depth, axis=1)
        ok = depth[np.arange(len(led)), col] >= 0
        return led[ok], lead[ok], col[ok]

    @staticmethod
    @jit
    def support_compiled(
        key,
        t,
        head,
        n_led,
        perf,
        capacity,
        rate,
        chance,
        authority,
        paid,
        slot_p,
        slot_depth,
        home_loss,
    ):
        """:meth:`support`, compiled: a keyed uniform per federated school but the leads.

        The cost at home is :meth:`home_cost_compiled`'s pass, after the convergence.
        """
        n, k = slot_p.shape
        fed = np.empty(n, np.int64)
        top = np.zeros(len(n_led))
        lead_of = np.full(len(n_led), -1, np.int64)
        m = 0
        for i in range(n):
            h = head[i]
            if n_led[h] > 1:
                fed[m] = i
                m += 1
                top[h] = max(top[h], capacity[i])
                if lead_of[h] < 0 or perf[i] >= perf[lead_of[h]]:
                    lead_of[h] = i
        led = np.empty(m, np.int64)
        lead = np.empty(m, np.int64)
        col = np.empty(m, np.int64)
        if m == 0:
            return led, lead, col
        for x in range(m):
            i = fed[x]
            capacity[i] += rate * paid[authority[i]] * (top[head[i]] - capacity[i])
        _home_cost(head, n_led, perf, capacity, home_loss)
        g = 0
        for x in range(m):
            i = fed[x]
            ld = lead_of[head[i]]
            # The keyed uniform is drawn only for a school that is not its lead.
            if ld == i or not draws.uniform1(key, t, i, 0) < chance * paid[authority[i]]:
                continue
            best, at = -1.0, 0
            for j in range(k):
                pid = slot_p[ld, j]
                known = runs_practice(slot_p, i, pid)
                depth = slot_depth[ld, j] if pid != EMPTY and not known else -1.0
                if j == 0 or depth > best:
                    best, at = depth, j
            if best >= 0:
                led[g], lead[g], col[g] = i, ld, at
                g += 1
        return led[:g], lead[:g], col[:g]

    @staticmethod
    def bring_over(led, lead, col, own_chosen, depth, own, source, values, protection):
        """Federated schools take up their lead's practice, with the ownership its staff bring.

        Each takes it up as :func:`sim.rules.actions.take_up` does (chosen, no
        source tie); where it did, its ownership becomes the larger of its own and
        the lead school's. Returns how many took it up.
        """
        slot_p = values.slot_p
        ok = take_up_slots(
            led,
            slot_p[lead, col],
            np.full(len(led), EMPTY),
            own_chosen,
            CHOSEN,
            depth,
            own,
            source,
            values,
            protection,
        )
        rows, lead, col = led[ok], lead[ok], col[ok]
        at = np.argmax(slot_p[rows] == slot_p[lead, col][:, None], axis=1)
        own[rows, at] = np.maximum(own[rows, at], own[lead, col])
        return int(ok.sum())

    @staticmethod
    @jit
    def bring_over_compiled(led, lead, col, own_chosen, depth, own, source, values, protection):
        """:meth:`bring_over`, compiled (every ownership read before any is written)."""
        slot_p = values.slot_p
        m, k = len(led), slot_p.shape[1]
        practice = np.empty(m, np.int64)
        for x in range(m):
            practice[x] = slot_p[lead[x], col[x]]
        ok = take_up_slots_compiled(
            led,
            practice,
            np.full(m, EMPTY),
            own_chosen,
            CHOSEN,
            depth,
            own,
            source,
            values,
            protection,
        )
        at = np.zeros(m, np.int64)
        value = np.empty(m)
        for x in range(m):
            if ok[x]:
                i, q = led[x], slot_p[lead[x], col[x]]
                for j in range(k):
                    if slot_p[i, j] == q:
                        at[x] = j
                        break
                value[x] = max(own[i, at[x]], own[lead[x], col[x]])
        for x in range(m):
            if ok[x]:
                own[led[x], at[x]] = value[x]
        return np.count_nonzero(ok)


@jit(inline="always")
def _home_cost(head, n_led, perf, capacity, rate):
    """:meth:`SystemLeadership.home_cost_compiled`'s pass, for it and the support kernel.

    Each federation's lead (the highest ``perf`` in numpy's sort order, the last by
    index among equals) loses ``rate`` of its capacity; in place.
    """
    lead = np.full(len(n_led), -1, np.int64)
    for i in range(len(head)):
        h = head[i]
        if n_led[h] > 1 and (lead[h] < 0 or _sorts_at_or_after(perf[i], perf[lead[h]])):
            lead[h] = i
    for h in range(len(n_led)):
        i = lead[h]
        if i >= 0:
            capacity[i] -= rate * capacity[i]


@jit(inline="always")
def _sorts_at_or_after(a, b):
    """Whether ``a`` comes at or after ``b`` in numpy's ascending sort (a nan after all numbers)."""
    return np.isnan(a) or (not np.isnan(b) and a >= b)


#: No chance given: :meth:`SystemLeadership.lead` computes it (at monthly steps).
_NO_CHANCE = np.zeros(0)

# The kernels :meth:`SystemLeadership.lead_compiled` calls (a compiled function
# reaches another through a global name, not a class attribute).
_candidates_compiled = SystemLeadership.candidates_compiled
_take_on_compiled = SystemLeadership.take_on_compiled
_supported_compiled = SystemLeadership.supported_compiled
_support_compiled = SystemLeadership.support_compiled


@jit
def _cuts(x, q_hi, q_lo):
    """``quantiles(x, [q_hi, q_lo])`` of a 1-D float array (not empty; ``q`` in 0 to 1).

    :func:`sim.core.numerics.quantiles`' arithmetic on the same order statistics
    (:func:`~sim.core.numerics.order_statistics`; each cut
    :func:`sim.core.kernels._linear_quantile`, as the metric summary's), the same IEEE
    operations in the same order; a NaN anywhere gives NaN for both.
    """
    n = len(x)
    p_hi = min(int(math.floor((n - 1) * q_hi)), n - 1)
    p_lo = min(int(math.floor((n - 1) * q_lo)), n - 1)
    ranks = np.array([n - 1, p_hi, min(p_hi + 1, n - 1), p_lo, min(p_lo + 1, n - 1)], np.int64)
    stats = order_statistics(x, ranks)
    if np.isnan(stats[0]):
        return np.nan, np.nan
    return _linear_quantile(stats, n, q_hi, p_hi, 1), _linear_quantile(stats, n, q_lo, p_lo, 3)
