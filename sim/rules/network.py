"""Ties, collaboratives and heads: the social structure changing over time."""

from __future__ import annotations

import numpy as np

from sim.core.jit import jit, plain_args
from sim.core.numerics import choice_without_replacement, quantiles
from sim.core.state import CHOSEN, COLLAB, CROSS, EMPTY, EXECUTIVE, TOWN
from sim.rules import Param, Rule, register
from sim.rules.actions import (
    add_ties,
    dissolve_collaboratives,
    kill_ties,
    protection_inputs,
    replace_heads,
    runs_practice,
    take_up_kernel,
    ties_within,
    value_inputs,
)


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

    def apply(self, model):
        """Form and lapse ties."""
        s, p, t = model.schools, model.p, model.ties
        prob = model.per_step_array(p.p_new_tie * model.school_facilitation() * p.lever_engagement)
        a, b, kind = self.proposed_ties(
            self.kernel_rng,
            prob,
            p.share_cross_new * p.lever_engagement,
            s.authority,
            model.authority_index(),
        )
        add_ties(model, a, b, kind, p.init_trust)
        weak = self.lapsing(t.alive[: t.n], t.trust, t.formal, p.min_trust)
        if len(weak):
            kill_ties(model, weak)


@jit
def _proposed_ties(rng, prob, share_cross, authority, authority_index):
    """:class:`TieFormation`'s new ties: ends and kinds, cross-authority ones first.

    The draws, in numpy's order: one uniform per school (``rng.random(n) <
    prob``: it seeks a tie); for those that do, one uniform each (crossing
    with chance ``share_cross``), one each for a partner in its own
    authority (``by_authority[start + int(u * size)]``), one school drawn
    anywhere each (``rng.integers(0, n, m)``), and a second draw anywhere for
    those whose first fell in their own authority. Crossing ties take the
    school drawn anywhere, the others the partner in the authority.
    ``authority_index``: ``model.authority_index()``.
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


@jit
def _lapsing(alive, trust, formal, min_trust):
    """Ties in force, not formal, with trust below ``min_trust``: indices, ascending."""
    out = np.empty(len(alive), np.int64)
    m = 0
    for e in range(len(alive)):
        out[m] = e
        m += alive[e] and trust[e] < min_trust and not formal[e]
    return out[:m]


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
    survives its founder leaving (see the ``turnover`` slot).
    """

    params = {
        "rel_trust_founded": Param(
            0.2,
            lo=-1,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.0, 0.4),
            sweep_ref="founding ties start no more trusted, up to well above a new tie",
            ref="Jackson, Adversity and innovation make good bedfellows (2011), seed 001",
            meaning="Trust a collaborative's founding ties start with above init_trust: "
            "members chose each other. An assumption of the model, not calibrated.",
        ),
    }

    def apply(self, model):
        """Found and formalise collaboratives."""
        s, p, c = model.schools, model.p, model.collabs
        fac = model.school_facilitation()
        push = 1.0 + p.rel_adversity * model.pressure()
        free = s.collab == EMPTY  # only a school outside any collaborative founds one
        founders = model.occurs(
            p.p_collab_form * model.heads.appetite[s.head] * fac * push * free, self.kernel_rng
        )
        if len(founders):
            founder, a, b = self.found(
                self.kernel_rng,
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
                c.append(founder=s.head[founder], formal=False, alive=True, born=model.t)
                add_ties(model, a, b, COLLAB, p.init_trust + self.value(model, "rel_trust_founded"))
        # Formalisation.
        informal = np.flatnonzero(c.alive[: c.n] & ~c.formal[: c.n])
        if len(informal):
            rate = self.formalisation_rate(s.collab, fac, push, c.n, p.p_formalise)
            go = informal[model.occurs(rate[informal], self.kernel_rng)]
            if len(go):
                c.formal[go] = True
                model.ties.formal[ties_within(model, go, alive_only=False)] = True


@jit
def _found(rng, founders, collab, town, authority, town_index, authority_index, size, first_id):
    """:class:`Collaboratives`' founding, founder by founder, in place on ``collab``.

    A founder already taken into a collaborative this step founds none.
    Members are the founder and ``size - 1`` free schools of its town, drawn
    as ``rng.choice(pool, size - 1, replace=False)`` does (pool ascending),
    or of its authority when the town has too few; with too few there
    either, no collaborative. Collaboratives are numbered ``first_id`` on.
    ``town_index``, ``authority_index``: ``model.town_index()``,
    ``model.authority_index()``.

    Returns:
        The founders of the collaboratives founded, and every pair of members
        of each, as two arrays of ends (member ``i`` with each later member
        ``j``, collaborative by collaborative: ``np.triu_indices`` order).
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
        groups[g, 1:] = choice_without_replacement(rng, pool[:m], size - 1)
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


@jit
def _formalisation_rate(collab, fac, push, n_collabs, p_formalise):
    """Each collaborative's monthly chance to formalise (see :class:`Collaboratives`).

    ``p_formalise`` times its members' mean facilitation times their mean
    push; sums taken school by school in index order, as ``np.bincount``
    takes them.
    """
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


@register("lead", "executive_heads", default=True)
class SystemLeadership(Rule):
    """Strong heads take on struggling schools as executive heads, and lift them.

    Matching: a head of a school in the top quarter of performance, leading
    only that school, takes on a struggling school (bottom tenth) in the same
    authority with chance ``p_exec_head`` a month times their appetite for
    system leadership (seed 002: "headteachers are taking on the
    responsibility of leading more than one school"). The struggling
    school's head is replaced by the executive head and it gains a tie of
    high trust to the strong school.

    Support, every month while the federation lasts (schools sharing a head):
    each school closes ``rate_exec_support`` of its capacity gap to the
    federation's most capable school, and with chance ``p_exec_share`` takes
    up the deepest practice of the federation's best-performing school that
    it does not yet run, with the ownership the lead school has of it (staff
    who run it there bring it over). Federations of a strong and a weak school raised the weak
    school's results over two to four years in England (Chapman, Muijs and
    MacAllister 2011): the lift comes from sustained shared leadership, staff
    and practice, not a one-off transfer. A federation ends when its head
    leaves (:class:`HeadTurnover`).

    Support costs the supported school's authority ``cost_exec_support`` a
    year per school taken on (:meth:`pay_for_support`); an authority short of
    money scales its federations' support down to the share it can pay.
    """

    params = {
        "q_strong": Param(
            0.75,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.6, 0.9),
            sweep_ref="strong heads from the top 40% to the top tenth",
            ref="Innovation Unit, Next Practice in System Leadership (2006), seed 002",
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
            sweep_ref="struggling schools from the bottom twentieth to the bottom quarter",
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
            sweep_ref="one head leading both schools: high trust, up to full",
            ref="Chapman, Muijs and MacAllister 2011 (one head leading both schools)",
            meaning="Trust on the tie an executive headship makes between the strong and the "
            "struggling school: high, as one head leads both.",
        ),
    }

    def apply(self, model):
        """Match strong heads with struggling schools, then support federations."""
        s, p = model.schools, model.p
        perf = s.logit_perf
        chance = model.per_step_array(p.p_exec_head * model.heads.appetite[s.head])
        hi_cut, lo_cut = quantiles(
            perf, [self.value(model, "q_strong"), self.value(model, "q_weak")]
        )
        n_led, go, weak = self.candidates(
            self.kernel_rng, perf, hi_cut, lo_cut, s.head, model.heads.n, chance
        )
        strong_end = weak_end = replaced = np.zeros(0, np.int64)
        if len(go):
            strong_end, weak_end, replaced = self.take_on(
                self.kernel_rng, go, s.authority, model.authority_index(), weak, s.head, n_led
            )
        # The replaced heads leave and the pairs are tied, all at once (no draws).
        model.retire_heads(replaced)
        add_ties(model, strong_end, weak_end, EXECUTIVE, self.value(model, "init_trust_exec"))
        # For observers: the schools taken on, and those as weak that were not
        # (``weak`` now marks only the latter), e.g. for a matched comparison.
        model.events["takeovers"] = (weak_end, np.flatnonzero(weak))
        paid = self.pay_for_support(model, n_led)[s.authority]  # share funded, per school
        led, lead, col = self.support(
            self.kernel_rng,
            s.head,
            n_led,
            perf,
            s.capacity,
            model.per_step(p.rate_exec_support) * paid,
            model.per_step(p.p_exec_share) * paid,
            s.slot_p,
            s.slot_depth,
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
    def pay_for_support(model, n_led):
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
        head, authority = s.head[: s.n], s.authority[: s.n]
        n_la = len(model.ledger.allowance_la)
        fed = np.flatnonzero(n_led[head] > 1)
        paid = np.ones(n_la)
        if len(fed) == 0:
            return paid
        first = fed[np.unique(head[fed], return_index=True)[1]]  # one school per federation
        supported = np.bincount(authority[fed], minlength=n_la) - np.bincount(
            authority[first], minlength=n_la
        )
        return model.ledger.authorities(
            p.cost_exec_support * supported * p.dur_step / 12.0, asked=supported != 0
        )


@jit
def _candidates(rng, perf, hi_cut, lo_cut, head, n_heads, chance):
    """:class:`SystemLeadership`'s candidates: who may take on a school, who is weak.

    ``n_led = np.bincount(head, minlength=n_heads)``; one uniform per school
    (numpy's ``rng.random(n)``); a school led alone is strong at or above
    ``hi_cut`` and its head takes on with ``chance``, weak at or below ``lo_cut``.

    Returns:
        ``n_led``, the strong schools whose heads take on (ascending), and the weak mask.
    """
    n = len(perf)
    n_led = np.zeros(n_heads, np.int64)
    for i in range(n):
        n_led[head[i]] += 1
    u = rng.random(n)
    go = np.empty(n, np.int64)
    weak = np.empty(n, np.bool_)
    m = 0
    for i in range(n):
        alone = n_led[head[i]] == 1
        go[m] = i
        m += alone and perf[i] >= hi_cut and u[i] < chance[i]
        weak[i] = alone and perf[i] <= lo_cut
    return n_led, go[:m], weak


@jit
def _take_on(rng, go, authority, authority_index, weak, head, n_led):
    """Each strong head in ``go``, in turn, takes on a weak school of their authority.

    The school is drawn uniformly from those still weak (numpy's
    ``rng.choice(pool)`` draws ``rng.integers(0, len(pool))``: the same
    number is drawn here from the model's generator). Updates ``weak``,
    ``head`` and ``n_led`` in place; returns the strong and weak ends of each
    takeover and the heads replaced. ``authority_index``: ``model.authority_index()``.
    """
    by_authority, la_start, la_end = authority_index
    strong_end = np.empty(len(go), np.int64)
    weak_end = np.empty(len(go), np.int64)
    replaced = np.empty(len(go), np.int64)
    pool = np.empty(len(by_authority), np.int64)
    m = 0
    for a in go:
        c = 0
        for x in range(la_start[authority[a]], la_end[authority[a]]):
            if weak[by_authority[x]]:
                pool[c] = by_authority[x]
                c += 1
        if c == 0:
            continue
        b = pool[rng.integers(0, c)]
        weak[b] = False
        replaced[m] = head[b]
        head[b] = head[a]
        n_led[head[a]] += 1
        strong_end[m], weak_end[m] = a, b
        m += 1
    return strong_end[:m], weak_end[:m], replaced[:m]


@jit
def _support(rng, head, n_led, perf, capacity, rate, chance, slot_p, slot_depth):
    """:class:`SystemLeadership`'s support within federations (schools sharing a head).

    In place on ``capacity``: each federated school ``i`` closes ``rate[i]`` of its
    gap to the federation's most capable, ``c + rate[i] * (top - c)``. The lead school
    of a federation performs best (the last of equals, by index: the last of
    each head in ``np.lexsort((perf[fed], head[fed]))``). If any school is
    federated, one uniform per federated school, ascending (numpy's
    ``rng.random(len(fed))``): under its ``chance[i]``, a school that is not the
    lead takes up the lead's deepest practice it does not run (the first of
    equals, as ``np.argmax``), if the lead runs one.

    Returns:
        The schools that take up a practice, their leads, and the lead's
        column of it.
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
        capacity[i] += rate[i] * (top[head[i]] - capacity[i])
    u = rng.random(m)
    g = 0
    for x in range(m):
        i = fed[x]
        ld = lead_of[head[i]]
        if ld == i or not u[x] < chance[i]:
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


@jit
def _bring_over(led, lead, col, own_chosen, depth, own, source, values, protection):
    """Federated schools take up their lead's practice, with the ownership its staff bring.

    Each school in ``led`` takes up the practice in its lead school's column
    ``col`` as :func:`sim.rules.actions.take_up` does (chosen, no source tie); where
    it did, its ownership of the practice becomes the larger of its own and
    the lead school's (the numpy form: ``at = np.argmax(slot_p[rows] ==
    practice[:, None], axis=1)``, then ``own[rows, at] = np.maximum(own[rows,
    at], own[lead, col])``, every value read before any is written).
    ``values`` and ``protection``: :func:`sim.rules.actions.value_inputs` and
    :func:`sim.rules.actions.protection_inputs`. Returns how many took it up.
    """
    slot_p = values[0]  # ValueInputs.slot_p (a bundle may come as a plain tuple)
    m, k = len(led), slot_p.shape[1]
    practice = np.empty(m, np.int64)
    for x in range(m):
        practice[x] = slot_p[lead[x], col[x]]
    ok = take_up_kernel(
        led, practice, np.full(m, EMPTY), own_chosen, CHOSEN, depth, own, source, values, protection
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


@register("turnover", "heads_leave", default=True)
class HeadTurnover(Rule):
    """Heads leave and are replaced; informal collaboratives may fade with them.

    Each head in post leaves in a step with chance ``p_head_leave``. Every
    school they led gets a new head (executive headships end), and its
    practices lose ownership (see :func:`sim.rules.actions.replace_heads`). A
    collaborative the head founded dissolves with chance ``p_fade_informal``
    if it is informal; a formalised one survives, its "governance enduring
    beyond the will of key leaders" (seed 001).
    """

    def apply(self, model):
        """Replace leaving heads."""
        s, p, rng, h, c = model.schools, model.p, self.rng, model.heads, model.collabs
        leaving, schools, founded = self.leaving(
            self.kernel_rng,
            h.active[: h.n],
            model.per_step(p.p_head_leave),
            s.head,
            c.alive[: c.n],
            c.founder[: c.n],
        )
        if len(leaving) == 0:
            return
        model.retire_heads(leaving)
        replace_heads(model, schools, rng)
        if len(founded):
            informal = founded[~c.formal[founded]]
            fade = informal[rng.random(len(informal)) < p.p_fade_informal]
            dissolve_collaboratives(model, fade)


@jit
def _leaving(rng, active, chance, head, collab_alive, founder):
    """:class:`HeadTurnover`'s leavers: the heads who leave, their schools, their collaboratives.

    One uniform per head in post, ascending (numpy's ``rng.random(len(in_post))``
    with ``in_post = np.flatnonzero(active)``); a head leaves under ``chance``.
    Returns the heads leaving, the schools they led and the live collaboratives
    they founded, each ascending.
    """
    m = 0
    for q in range(len(active)):
        m += active[q]
    u = rng.random(m)
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


#: The rules' compute functions: compiled here, their numpy forms in the ``*_numpy`` rules.
TieFormation.proposed_ties = staticmethod(_proposed_ties)
TieFormation.lapsing = staticmethod(_lapsing)
Collaboratives.found = staticmethod(_found)
Collaboratives.formalisation_rate = staticmethod(_formalisation_rate)
SystemLeadership.candidates = staticmethod(_candidates)
SystemLeadership.take_on = staticmethod(_take_on)
SystemLeadership.support = staticmethod(_support)
SystemLeadership.bring_over = staticmethod(plain_args(_bring_over))
HeadTurnover.leaving = staticmethod(_leaving)
