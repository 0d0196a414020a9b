"""The centre mandates practices: schools take them up, with the ownership of compliance."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.numerics import row_any
from sim.core.registry import Param
from sim.core.state import EMPTY, MANDATED
from sim.rules.actions import (
    ProtectionInputs,
    ValueInputs,
    protection_inputs,
    runs_practice,
    take_up_slots,
    take_up_slots_compiled,
    value_inputs,
)
from sim.rules.strategies.best_known import BestKnown
from sim.rules.strategies.field_trials import z_of
from sim.system.costs import Ledger, share_funded

if TYPE_CHECKING:
    from sim.core.registry import ModelLike

#: The mechanism's decision: whether a mandate reaches a school (keyed by school and practice).
DECISIONS = ("mandate.reach",)

#: What :meth:`Mandate.to_mandate` runs as one call (:meth:`Mandate.revised_best`) when a
#: strategy takes them as shipped (:func:`picks_as_shipped`): a plug-in that overrides one
#: is asked for it, one by one.
_WHOLE_BEST = ("best_known", "pick_best", "pick_best_compiled")
_WHOLE_REVISED = ("revised", "revised_compiled")
#: The same for :meth:`Mandate.mandate`'s count, ask and take-ups (:meth:`Mandate.take_ups_funded`,
#: :func:`takes_up_as_shipped`).
_WHOLE_TAKE_UPS = ("counts", "counts_compiled", "take_ups", "take_ups_compiled")


class Mandate:
    """The centre mandates practices, with the low ownership of compliance.

    Each month a share ``p_mandate * tightness`` of the schools not yet
    running a mandated practice is made to take it up (Fullan's "tightening
    the focus from above"), starting at ``init_own_mandated`` ownership. The
    centre pays ``cost_mandate`` per school the mandate reaches (administering
    and inspecting take-up), and reaches fewer when its budget runs short.
    Standing mandates (``model.mandates``) protect their slots from being
    dropped or replaced. A strategy picks how many of the best known
    practices it mandates with ``n_mandate``. Whether a mandate reaches a
    school is keyed by the school, the practice and the month, on the
    ``centre`` slot's stream.

    What it mandates is revised from evidence, not re-picked every month
    (:meth:`to_mandate`): a standing mandate stays while its evidence still
    clears the bar, and a newly evidenced practice replaces one only when its
    published estimate beats the standing practice's by more than the
    uncertainty of the difference (``confidence_replace``). A centre renews a
    framework when the evidence says the new one is better, not whenever the
    latest estimate is a little higher: the National Strategies renewed their
    1998 and 1999 frameworks once, in 2006 (DfES, Primary Framework for
    literacy and mathematics). Without it a centre that compares a trial's
    estimate at its own sites (which the winner's curse inflates) with
    national monitoring's read at scale (which fade lowers) keeps swapping
    mandates, and each swap costs schools an implementation dip
    (docs/size.md, "Traced").
    """

    params_namespace: ClassVar[str] = "mandate"
    params: ClassVar[dict[str, Param]] = {
        "p_mandate": Param(
            0.5,
            lo=0,
            hi=1,
            unit="1/month",
            kind="lever",
            sweep=(0.05, 0.5),
            meaning="Share of schools not yet running a mandated practice that a mandate "
            "reaches in a month, at full tightness.",
        ),
        "n_mandate": Param(
            3,
            lo=0,
            hi=20,
            unit="practices",
            kind="lever",
            meaning="How many of the best known practices the centre mandates.",
        ),
        "cost_mandate": Param(
            0.5,
            lo=0,
            hi=100,
            unit="GBP k per school reached",
            kind="uncertainty",
            sweep=(0.2, 3.7),
            sweep_ref="central delivery of primary literacy a year per primary school 0.20k "
            "(H2007N) to the Literacy Strategy's first-year Standards Fund 3.7k (H2007N); "
            "docs/sources.md",
            meaning="Cost to the centre of administering and inspecting a mandate in one "
            "school it reaches, once.",
        ),
        "cost_mandate_year": Param(
            6.3,
            lo=0,
            hi=100,
            unit="GBP k per school per year",
            kind="uncertainty",
            sweep=(3.7, 12.5),
            sweep_ref="the National Strategies' Standards Fund per primary school a year: "
            "Literacy Strategy 1998-99 3.7, 2003-04 6.3, literacy and numeracy 2003-04 12.5 "
            "(H2007N, docs/sources.md); the default, one subject's strategy at its mature "
            "year, a judgement",
            ref="H2007N (Hansard written answer on the National Strategies' Standards Fund)",
            meaning="Yearly cost to the centre of running a mandate (consultants, training, "
            "monitoring) in one school running a mandated practice, charged at the start of "
            "each year.",
        ),
        "confidence_replace": Param(
            0.95,
            lo=0.5,
            hi=0.999,
            unit="1",
            kind="lever",
            sweep=(0.5, 0.99),
            sweep_ref="a judgement: 0.5 replaces a standing mandate whenever another's "
            "published estimate is higher (the centre before this lever); 0.95 asks of a "
            "replacement the confidence field_trials.share_confidence asks of a proof; 0.99 "
            "a centre that renews its framework rarely (the National Strategies renewed "
            "theirs once in eight years)",
            ref="the conventional 5% level of a one-sided test, as field_trials.share_confidence "
            "(a convention, not a source)",
            meaning="Confidence the centre asks that a practice beats a standing mandated "
            "one before replacing it: the difference of their published estimates must "
            "exceed this one-sided quantile times the standard error of the difference.",
        ),
    }

    def to_mandate(self, model: ModelLike, origin: int | None = None) -> list[int]:
        """The practices to mandate this month: the standing mandate, revised from evidence.

        The pool is every practice the centre may mandate (:meth:`best_known`
        of ``origin``, best published evidence first); the standing mandates
        still in it stay, free places up to ``n_mandate`` go to the best of
        the rest, and a challenger replaces the weakest standing practice only
        as :func:`revise_mandate` says.
        """
        pr = model.practices
        z = z_of(self.value(model, "confidence_replace"))
        k = int(self.value(model, "n_mandate"))
        standing = np.asarray(model.mandates, np.int64)
        n = pr.n
        if not picks_as_shipped(type(self)):
            pool = self.best_known(model, n, origin=origin)  # a plug-in's own pick or revision
            return self.revised(
                standing, np.asarray(pool, np.int64), pr.ev_mean[:n], pr.ev_prec[:n], k, z
            ).tolist()
        return self.revised_best(  # best_known's pick and the revision, in one call
            pr.origin[:n],
            -1 if origin is None else origin,
            pr.ev_prec[:n],
            pr.ev_mean[:n],
            pr.stage[:n],
            model.p.threshold_proven,
            standing,
            k,
            z,
        ).tolist()

    @staticmethod
    def revised_best(origin, of_origin, ev_prec, ev_mean, stage, threshold, standing, k, z):
        """:meth:`revised` of the pool :meth:`~BestKnown.best_known` picks, every practice.

        The pool is :meth:`~BestKnown.pick_best` of all the practices (``len(stage)``
        of them; none when there are none), then :meth:`revised` of ``standing``.
        """
        pool = BestKnown.pick_best(
            origin, of_origin, ev_prec, ev_mean, stage, threshold, len(stage)
        )
        return Mandate.revised(standing, np.asarray(pool, np.int64), ev_mean, ev_prec, k, z)

    @staticmethod
    @jit
    def revised_best_compiled(
        origin, of_origin, ev_prec, ev_mean, stage, threshold, standing, k, z
    ):
        """:meth:`revised_best`, compiled: in one call.

        :meth:`~BestKnown.pick_best_compiled`, then :meth:`revised_compiled`.
        """
        n = len(stage)
        pool = _pick_best_compiled(origin, of_origin, ev_prec, ev_mean, stage, threshold, n)
        return _revised_compiled(standing, pool, ev_mean, ev_prec, k, z)

    @staticmethod
    def revised(standing, pool, ev_mean, ev_prec, k, z):
        """:func:`revise_mandate` (``standing`` and ``pool`` as arrays), as an array."""
        return np.array(revise_mandate(standing.tolist(), pool, ev_mean, ev_prec, k, z), np.int64)

    @staticmethod
    @jit
    def revised_compiled(standing, pool, ev_mean, ev_prec, k, z):
        """:meth:`revised`, compiled: :func:`revise_mandate`'s steps on arrays.

        The standing practices in the pool, stably by estimate (best first), the
        first ``k``; free places filled in the pool's order; each challenger against
        the first weakest kept, found again after a change; then ordered by
        estimate, equals by place in the pool. The same comparisons, and the same
        ``sqrt(1 / ev_prec[a] + 1 / ev_prec[b])``, so the same answer.
        """
        n = len(pool)
        if k <= 0 or n == 0:
            return np.empty(0, np.int64)
        chosen = np.empty(len(standing) + n, np.int64)
        m = 0
        for s in standing:  # those in the pool, in a stable order by estimate, best first
            inside = False
            for q in pool:
                inside = inside or q == s
            if not inside:
                continue
            j = m
            while j > 0 and -ev_mean[s] < -ev_mean[chosen[j - 1]]:
                chosen[j] = chosen[j - 1]
                j -= 1
            chosen[j] = s
            m += 1
        m = min(m, k)
        weakest = -1  # place of the weakest kept; -1: to be found again
        weakest_mean = 0.0
        weakest_inv = 0.0
        for q in pool:
            kept = False
            for j in range(m):
                kept = kept or chosen[j] == q
            if kept:
                continue
            if m < k:
                chosen[m] = q
                m += 1
                weakest = -1
                continue
            if weakest < 0:
                weakest = 0
                for j in range(1, m):
                    if ev_mean[chosen[j]] < ev_mean[chosen[weakest]]:
                        weakest = j
                weakest_mean = ev_mean[chosen[weakest]]
                weakest_inv = 1.0 / ev_prec[chosen[weakest]]
            se = math.sqrt(1.0 / ev_prec[q] + weakest_inv)
            if ev_mean[q] - weakest_mean > z * se:
                chosen[weakest] = q
                weakest = -1
        at = np.empty(m, np.int64)  # each kept practice's place in the pool (the last, as a dict)
        for j in range(m):
            for x in range(n):
                if pool[x] == chosen[j]:
                    at[j] = x
        out = chosen[:m].copy()
        for j in range(1, m):  # by estimate, best first, equals by place in the pool
            q, a = out[j], at[j]
            x = j
            while x > 0 and (
                -ev_mean[q] < -ev_mean[out[x - 1]]
                or (-ev_mean[q] == -ev_mean[out[x - 1]] and a < at[x - 1])
            ):
                out[x] = out[x - 1]
                at[x] = at[x - 1]
                x -= 1
            out[x] = q
            at[x] = a
        return out

    def mandate(self, model: ModelLike, practices: list[int]) -> None:
        """Mandate ``practices`` (standing until the next mandate); schools reached take them up."""
        model.mandates = list(practices)
        if not practices:
            return
        s, p = model.schools, model.p
        practices = np.asarray(practices, np.int64)
        self.pay_running_cost(model)
        reach = model.per_step(self.value(model, "p_mandate") * p.tightness)
        reach *= model.ledger.share_mandate_year
        # Administering and inspecting: cost_mandate per school the mandate reaches.
        key, uid, led = self.keys_of(DECISIONS)[0], model.practices.uid[practices], model.ledger
        if type(led).centre is not Ledger.centre or not takes_up_as_shipped(type(self)):
            # a ledger's or a plug-in's own ask, count or take-ups: one by one
            expected = reach * self.counts(s.slot_p, s.n, practices, False)[0]
            reach *= led.centre(self.value(model, "cost_mandate") * expected)
            took_up = self.take_ups(
                key,
                model.t,
                practices,
                uid,
                reach,
                p.init_own_mandated,
                s.slot_depth,
                s.slot_own,
                s.slot_source,
                value_inputs(model),
                protection_inputs(model),
            )
        else:  # the same count, ask and take-ups in one call, the bundles' arrays one by one
            pr = model.practices
            took_up, led.spent_centre, led.short_centre = self.take_ups_funded(
                key,
                model.t,
                practices,
                uid,
                reach,
                s.n,
                self.value(model, "cost_mandate"),
                led.allowance_centre,
                led.spent_centre,
                led.short_centre,
                p.init_own_mandated,
                s.slot_depth,
                s.slot_own,
                s.slot_source,
                s.slot_p,
                s.slot_obs,
                s.slot_nobs,
                s.budget,
                pr.ev_prec,
                pr.ev_mean,
                pr.cost,
                model.sd_observe_eff**2,
                p.lever_evidence,
                1.0 / p.sd_prior**2,
                p.rel_cost,
                s.slot_since,
                s.slot_channel,
                p.dur_step,
                p.dur_commit,
                practices,  # model.mandates, as an array
            )
        model.counts["adoptions"] += took_up
        model.note("mandate", practices=practices.tolist(), took_up=int(took_up))

    def pay_running_cost(self, model: ModelLike) -> None:
        """At the start of each year, pay a year's running cost for the schools under mandate.

        ``cost_mandate_year`` for each school running any standing mandated
        practice (:meth:`counts`), asked of the centre once a year (a yearly
        grant, not a monthly one); the share it can pay sets how far the mandate
        reaches new schools for the year.
        """
        year = max(1, round(12.0 / model.p.dur_step))
        if model.t % year != 0:
            return
        s = model.schools
        under = self.counts(s.slot_p, s.n, np.asarray(model.mandates, np.int64), True)[1]
        model.ledger.share_mandate_year = model.ledger.centre(
            self.value(model, "cost_mandate_year") * under
        )

    @staticmethod
    def counts(slot_p, n, practices, schools):
        """What a mandate of ``practices`` asks: places not yet running them, and schools under it.

        The first is ``sum(n - users[q] for q in practices)``, ``users`` the slots
        running each practice (:meth:`~sim.model.model.NextPracticeModel.users`: a
        school runs a practice at most once); the second, counted only if
        ``schools`` (once a year: :meth:`pay_running_cost`), is the schools among
        the first ``n`` running any of them (else 0).
        """
        held = sum(int(np.count_nonzero(slot_p == q)) for q in practices.tolist())
        under = int(row_any(np.isin(slot_p[:n], practices)).sum()) if schools else 0
        return n * len(practices) - held, under

    @staticmethod
    @jit
    def counts_compiled(slot_p, n, practices, schools):
        """:meth:`counts`, compiled: a pass over the slots a practice, the same two integers."""
        flat = slot_p.ravel()
        held = 0
        for x in range(len(practices)):
            q = practices[x]
            c = 0
            for y in range(len(flat)):
                c += flat[y] == q
            held += c
        under = 0
        if schools:
            for i in range(min(n, slot_p.shape[0])):
                runs = False
                for j in range(slot_p.shape[1]):
                    for x in range(len(practices)):
                        runs |= slot_p[i, j] == practices[x]
                under += runs
        return n * len(practices) - held, under

    @staticmethod
    def take_ups(key, t, practices, uid, chance, own, depth, own_a, source_a, values, protection):
        """Each mandated practice in turn: the schools it reaches take it up, mandated.

        The schools reached are those not running it, each with ``chance`` (a
        uniform per school keyed by the school and the practice's ``uid``), on
        the slots as the previous practice's take-ups left them. Returns how
        many took one up.
        """
        total = 0
        for pid, q in zip(practices.tolist(), uid.tolist(), strict=True):
            hit = reached(key, t, values.slot_p, pid, q, chance)
            ok = take_up_slots(
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

    @staticmethod
    def take_ups_funded(
        key,
        t,
        practices,
        uid,
        chance,
        n,
        cost_unit,
        allowance,
        spent,
        short,
        own,
        depth,
        own_a,
        source_a,
        slot_p,
        slot_obs,
        slot_nobs,
        budget,
        ev_prec,
        ev_mean,
        cost,
        sd2,
        lever,
        prec0,
        rel_cost,
        since,
        channel,
        dur_step,
        dur_commit,
        mandates,
    ):
        """What :meth:`mandate` asks and takes up, as one call: the take-ups, spent, short.

        The places not yet running ``practices`` (:meth:`counts` of the first ``n``
        schools' ``slot_p``) times ``chance`` are the schools the mandate expects to
        reach, each at ``cost_unit``; the centre is asked for that as
        :meth:`~sim.system.costs.Ledger.centre` asks (``allowance``, ``spent`` and
        ``short`` its ``allowance_centre``, ``spent_centre`` and ``short_centre``),
        and ``chance`` scaled by the share it pays; then :meth:`take_ups`, the bundles
        built from their fields (:func:`~sim.rules.actions.value_inputs`,
        :func:`~sim.rules.actions.protection_inputs`, whose ``t`` is ``t``). Returns
        how many took one up, and the centre's ``spent`` and ``short`` after the ask.
        """
        c = cost_unit * (chance * Mandate.counts(slot_p, n, practices, False)[0])
        share = share_funded(c, max(0.0, allowance - spent))
        spent += c * share
        short += c * (1.0 - share)
        chance *= share
        values = ValueInputs(
            slot_p, slot_obs, slot_nobs, budget, ev_prec, ev_mean, cost, sd2, lever, prec0, rel_cost
        )
        protection = ProtectionInputs(since, channel, t, dur_step, dur_commit, mandates)
        took_up = Mandate.take_ups(
            key, t, practices, uid, chance, own, depth, own_a, source_a, values, protection
        )
        return took_up, spent, short

    @staticmethod
    @jit
    def take_ups_funded_compiled(
        key,
        t,
        practices,
        uid,
        chance,
        n,
        cost_unit,
        allowance,
        spent,
        short,
        own,
        depth,
        own_a,
        source_a,
        slot_p,
        slot_obs,
        slot_nobs,
        budget,
        ev_prec,
        ev_mean,
        cost,
        sd2,
        lever,
        prec0,
        rel_cost,
        since,
        channel,
        dur_step,
        dur_commit,
        mandates,
    ):
        """:meth:`take_ups_funded`, compiled: the same count, ask and take-ups.

        :meth:`counts_compiled`; the ask's arithmetic as
        :meth:`~sim.system.costs.Ledger.centre` and
        :func:`~sim.system.costs.share_funded` do it (``max(0.0, d)`` is ``d`` when
        ``d > 0.0``, else 0.0); the bundles built inside, then
        :meth:`take_ups_compiled` (a call with plain arguments costs less than one
        with two bundles).
        """
        c = cost_unit * (chance * _counts_compiled(slot_p, n, practices, False)[0])
        d = allowance - spent
        left = d if d > 0.0 else 0.0
        share = 1.0 if c <= left else (left / c if c > 0 else 1.0)
        spent += c * share
        short += c * (1.0 - share)
        chance *= share
        values = ValueInputs(
            slot_p, slot_obs, slot_nobs, budget, ev_prec, ev_mean, cost, sd2, lever, prec0, rel_cost
        )
        protection = ProtectionInputs(since, channel, t, dur_step, dur_commit, mandates)
        took_up = _take_ups_compiled(
            key, t, practices, uid, chance, own, depth, own_a, source_a, values, protection
        )
        return took_up, spent, short

    @staticmethod
    @jit
    def take_ups_compiled(
        key, t, practices, uid, chance, own, depth, own_a, source_a, values, protection
    ):
        """:meth:`take_ups`, compiled: practice by practice (:func:`reached_compiled`)."""
        total = 0
        for x in range(len(practices)):
            pid = practices[x]
            hit = reached_compiled(key, t, values.slot_p, pid, uid[x], chance)
            ok = take_up_slots_compiled(
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
            total += np.count_nonzero(ok)
        return total


def picks_as_shipped(cls: type) -> bool:
    """Whether ``cls`` takes ``BestKnown``'s and ``Mandate``'s picking methods as they have them.

    :data:`_WHOLE_BEST` and :data:`_WHOLE_REVISED`: :func:`sim.core.registry.inherits` of
    each, written out (the centre asks it every step, and the identities read in a line
    cost a fifth of the general loop).
    """
    return (
        cls.best_known is BestKnown.best_known
        and cls.pick_best is BestKnown.pick_best
        and cls.pick_best_compiled is BestKnown.pick_best_compiled
        and cls.revised is Mandate.revised
        and cls.revised_compiled is Mandate.revised_compiled
    )


def takes_up_as_shipped(cls: type) -> bool:
    """Whether ``cls`` takes :data:`_WHOLE_TAKE_UPS` from ``Mandate`` as it has them.

    :func:`sim.core.registry.inherits`, written out (as :func:`picks_as_shipped`).
    """
    return (
        cls.counts is Mandate.counts
        and cls.counts_compiled is Mandate.counts_compiled
        and cls.take_ups is Mandate.take_ups
        and cls.take_ups_compiled is Mandate.take_ups_compiled
    )


#: The kernels the whole-call kernels above call (a compiled call reaches a module's names).
_pick_best_compiled = BestKnown.pick_best_compiled
_revised_compiled = Mandate.revised_compiled
_take_ups_compiled = Mandate.take_ups_compiled
_counts_compiled = Mandate.counts_compiled


def revise_mandate(standing, pool, ev_mean, ev_prec, k, z) -> list[int]:
    """Up to ``k`` practices of ``pool`` to mandate, best published estimate first.

    ``pool`` is what may be mandated, best first. Standing practices still in
    the pool stay (the best ``k`` of them); free places are filled from the
    pool in its order; then each other practice of the pool, in order,
    replaces the weakest practice kept when its published estimate exceeds
    that one's by more than ``z`` standard errors of the difference,
    ``sqrt(1 / ev_prec[a] + 1 / ev_prec[b])``. At ``z`` 0 this is the best
    ``k`` of the pool (ties aside).
    """
    if k <= 0 or not len(pool):
        return []
    # The pool's estimates as Python floats (the same IEEE doubles as numpy's scalars, and
    # math.sqrt rounds as np.sqrt does), looked up in a dict: a numpy scalar per read cost
    # about 20 us a step at 1,000 schools, for the same comparisons.
    pool = [int(q) for q in pool]
    at = dict(zip(pool, range(len(pool)), strict=True))
    mean = dict(zip(pool, np.asarray(ev_mean, np.float64)[pool].tolist(), strict=True))
    inv_prec = dict(zip(pool, (1.0 / np.asarray(ev_prec, np.float64)[pool]).tolist(), strict=True))
    chosen = sorted((q for q in standing if q in at), key=lambda q: -mean[q])[:k]
    weakest = None  # the weakest kept, found again only after ``chosen`` changes
    for q in pool:
        if q in chosen:
            continue
        if len(chosen) < k:
            chosen.append(q)
            weakest = None
            continue
        if weakest is None:
            weakest = min(chosen, key=mean.__getitem__)
            weakest_mean, weakest_inv = mean[weakest], inv_prec[weakest]
        se = math.sqrt(inv_prec[q] + weakest_inv)
        if mean[q] - weakest_mean > z * se:
            chosen[chosen.index(weakest)] = q
            weakest = None
    return sorted(chosen, key=lambda q: (-mean[q], at[q]))


def reached(key, t, slot_p, pid, uid, chance):
    """Schools not running ``pid`` that a mandate reaches this month, ascending.

    A uniform per school keyed by the school and the practice's ``uid``.
    """
    u = draws.uniform(key, t, np.arange(len(slot_p)), uid)
    return np.flatnonzero(~(slot_p == pid).any(axis=1) & (u < chance))


@jit
def reached_compiled(key, t, slot_p, pid, uid, chance):
    """:func:`reached`, compiled: a keyed uniform per school not running ``pid``, ascending.

    Only the schools not running it draw: a keyed draw is the same whichever
    others are drawn (:func:`sim.core.draws.uniform` of those schools gives the
    uniforms :func:`reached` draws for them). No uniform is below a ``chance`` of 0
    or less (or NaN): then none draws.
    """
    n = slot_p.shape[0]
    out = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        out[m] = i
        m += not runs_practice(slot_p, i, pid)
    if m == 0 or not chance > 0.0:
        return out[:0]
    u = draws.uniform(key, t, out[:m], uid)
    k = 0
    for x in range(m):
        out[k] = out[x]
        k += u[x] < chance
    return out[:k]
