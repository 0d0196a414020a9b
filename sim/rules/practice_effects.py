"""The ``perform`` slot: performance closes on what the school's practice and capacity support."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core import draws
from sim.core import kernels as _kernels
from sim.core.jit import jit
from sim.core.numerics import sum_in_numpy_order
from sim.core.registry import inherits
from sim.core.sources import FULLAN_2006
from sim.core.state import CREATED
from sim.rules import Param, Rule, register

#: Least headroom (logit) a school keeps under its ceiling: a school at or above it
#: gains (almost) nothing more from practice, and no division is by zero.
MIN_ROOM = 1e-9

# What "effect" means, everywhere the model reads it: the change in the logit of the
# share of a school's pupils at the expected standard that a practice makes, at full
# depth, against business as usual (the same school not running it), alone. Trials,
# heads' reads and the literature's effect sizes all measure this. How several
# practices combine in one school is this rule's business, and only this rule's.

#: The methods :meth:`Performance.performs` and :meth:`Performance.perform_faded` stand for:
#: a subclass overriding one performs through its own ``perform``, handed the bundle.
_PERFORMS = (
    "perform",
    "perform_compiled",
    "performs",
    "performs_compiled",
    "perform_faded",
    "perform_faded_compiled",
)


@register("perform", "practice_effects", default=True)
class Performance(Rule):
    """Performance closes on what the school's practice and capacity support, within bounds.

    On the logit scale of the share of pupils reaching the expected standard,
    the target is the school's base plus a gain. The gain is
    ``rel_capacity_perf`` per unit of capacity gained, plus what the school's
    practices do, amplified by ``1 + rel_coherence * coherence`` (Fullan's
    coherence-making: depth concentrated in one domain), minus the
    implementation dip. Performance moves a share ``rate_perf`` of the way each
    month (cohorts pass through), with noise ``sd_perf_noise`` keyed by the
    school and the step.

    Bounded effects (issue 28). Each practice contributes its effect where the
    school runs it (:meth:`~sim.model.model.NextPracticeModel.slot_effect`:
    fading away from its inventors and trial sites) times its depth. Within a
    domain practices are substitutes, doing the same job: the largest helpful
    contribution counts fully and each other helpful one ``rel_substitute`` of
    itself; harmful ones count fully. Across domains contributions add: they
    do different jobs (complements; Bryk et al. 2010's essential supports),
    and coherence's amplification stays as it was. Near what its pupils can
    reach, a school's returns diminish: a positive gain ``g`` counts as
    ``g * H / (g + H)``, where the headroom ``H`` is the logit of
    ``share_ceiling`` minus the school's base, so no school's expected share
    passes the ceiling (the best systems' 90-92% at PIRLS 2006's intermediate
    benchmark, 99% at its low one; England's KS2 English flat at 79-81% from
    2005 to 2010).

    The implementation dip (Fullan 2001: "a dip in performance and confidence
    as one encounters an innovation that requires new skills"): each practice
    a school took up in the last ``dur_dip`` months costs ``rel_dip`` logit,
    whatever its channel; the practices it ran at the start are past it.
    Fullan gives no size; the best efforts reach "the breakthrough line to the
    plus side" within six months.
    """

    decisions = ("noise",)
    params = {
        "rel_capacity_perf": Param(
            0.6,
            lo=0,
            hi=5,
            unit="logit",
            kind="uncertainty",
            sweep=(0.3, 1.0),
            sweep_ref="a judgement: capacity has no measured scale; a unit of capacity worth 0.3 "
            "to 1 logit (7 to 22 points at 65%)",
            meaning="Effect on performance of one unit of capacity gained.",
        ),
        "rate_perf": Param(
            0.2,
            lo=0,
            hi=1,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.08, 0.4),
            sweep_ref="a judgement: how fast results follow practice is unmeasured; performance "
            "half-way to its support in 1.5 to 8 months (cohorts)",
            meaning="Rate at which performance closes on what the school's practices and "
            "capacity support (cohorts take time).",
        ),
        "sd_perf_noise": Param(
            0.02,
            lo=0,
            hi=1,
            unit="logit/month^0.5",
            kind="uncertainty",
            sweep=(0.005, 0.05),
            sweep_ref="a judgement: schools' month-to-month noise is unobserved (results are "
            "yearly); a quarter to 2.5 times the default",
            meaning="Month-to-month noise in a school's performance.",
        ),
        "rel_coherence": Param(
            0.5,
            lo=0,
            hi=5,
            unit="1",
            kind="uncertainty",
            sweep=(0.0, 1.0),
            sweep_ref="a judgement anchored on Newmann et al. 2001 and Bryk et al. 2010 (more "
            "coherent schools improve more: literature note D), which give no multiplier; "
            "coherence worth nothing up to doubling the effect of practices",
            ref=FULLAN_2006,
            meaning="Extra effect of practices when a school's depth is concentrated in one "
            "domain (coherence).",
        ),
        "rel_substitute": Param(
            0.5,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.2, 0.8),
            sweep_ref="a judgement: no study measures how much a second practice doing the "
            "same job adds; from little (0.2) to most of its own effect (0.8); 0 would be "
            "perfect substitutes, 1 none",
            meaning="Share of its own effect that a helpful practice adds when the school "
            "already runs a more helpful one in the same domain (substitutes).",
        ),
        "share_ceiling": Param(
            0.95,
            lo=0.5,
            hi=0.9999,
            unit="1",
            kind="uncertainty",
            sweep=(0.9, 0.99),
            sweep_ref="the best systems' share at PIRLS 2006's intermediate benchmark (Hong "
            "Kong 92%, Flemish Belgium 90%) to their share at its low one (99%, NCES "
            "Table B.1.04); a judgement between the two for a school's expected share",
            ref="PIRLS 2006 (NCES Table B.1.04); KS2 English level 4+ 79-81% 2005-2010 (DfE)",
            meaning="Share of its pupils at the standard that a school's practice and "
            "capacity can approach but not pass: returns diminish towards it.",
        ),
        "rel_dip": Param(
            0.05,
            lo=0,
            hi=1,
            unit="logit",
            kind="uncertainty",
            sweep=(0.0, 0.15),
            sweep_ref="a judgement: Fullan 2001 names the dip but gives no size; none, up to "
            "1.5 times the mean effect of a practice (0.1 logit: 0.06 SD); the default is "
            "about 0.03 SD, near recalled (unverified) dips after a change of head",
            ref="Fullan 2001, Leading in a Culture of Change (the implementation dip)",
            meaning="Fall in performance while a school learns a practice it has just taken "
            "up, per such practice.",
        ),
        "dur_dip": Param(
            12.0,
            lo=0,
            hi=60,
            unit="months",
            kind="uncertainty",
            sweep=(6.0, 24.0),
            sweep_ref="six months, the best case ('within six months in our best efforts'), "
            "to two years (full implementation takes 2-4 years: Fixsen et al. 2005)",
            meaning="Months after taking up a practice during which the school is in its "
            "implementation dip.",
        ),
    }

    def apply(self, model):
        """Move performance one step."""
        if not inherits(type(self), Performance, _PERFORMS):  # a plug-in's own perform
            self.perform(self.keys[0], model.t, model.schools.logit_perf, self.inputs(model))
            return
        s, pr = model.schools, model.practices
        scalars = self.scalars(model)
        if (
            getattr(model, "plain_slot_effect", False)
            and getattr(model, "plain_coherence", False)
            and scalars[0] > 1
        ):
            # the scale-up fade and coherence computed school by school inside the call: no
            # slot_effect table, no coherence array
            self.perform_faded(
                self.keys[0],
                model.t,
                s.logit_perf,
                s.base,
                s.capacity,
                s.capacity0,
                s.slot_p,
                s.slot_channel,
                pr.effect,
                pr.born,
                float(model.p.rel_effect_spread),
                s.slot_depth,
                s.slot_since,
                pr.domain,
                *scalars,
            )
        else:  # a model whose slot_effect or coherence is its own, or a single domain
            self.performs(
                self.keys[0],
                model.t,
                s.logit_perf,
                s.base,
                s.capacity,
                s.capacity0,
                model.coherence(),
                s.slot_p,
                model.slot_effect(),
                s.slot_depth,
                s.slot_since,
                pr.domain,
                *scalars,
            )

    def inputs(self, model) -> PerformInputs:
        """What :meth:`perform` reads this step (:class:`PerformInputs`)."""
        s = model.schools
        return PerformInputs(
            s.base,
            s.capacity,
            s.capacity0,
            model.coherence(),
            s.slot_p,
            model.slot_effect(),
            s.slot_depth,
            s.slot_since,
            model.practices.domain,
            *self.scalars(model),
        )

    def scalars(self, model) -> tuple:
        """:class:`PerformInputs`' numbers, ``n_domains`` to ``sd``, in its order."""
        p = model.p
        return (
            int(p.n_domains),
            float(p.dur_step),
            float(self.value(model, "rel_capacity_perf")),
            float(self.value(model, "rel_coherence")),
            float(self.value(model, "rel_substitute")),
            float(_logit(self.value(model, "share_ceiling"))),
            float(self.value(model, "rel_dip")),
            float(self.value(model, "dur_dip")),
            float(model.per_step(self.value(model, "rate_perf"))),
            float(self.value(model, "sd_perf_noise") * np.sqrt(p.dur_step)),
        )

    def base_for(self, model) -> np.ndarray:
        """Each school's base: the logit its pupils would reach with no practice, at the start.

        The inverse of :meth:`perform`'s target at the start (capacity as it was, no
        dip): the base ``b`` with ``b + gain * H / (gain + H) = logit_perf`` for a
        helpful gain, ``H = logit(share_ceiling) - b`` (a quadratic in ``H``), or
        ``logit_perf - gain`` otherwise; a school drawn above its ceiling gains nothing
        from its practices, so its base is its performance.
        """
        x = self.inputs(model)
        y = model.schools.logit_perf
        combined = self.combine(
            x.slot_p, x.slot_effect, x.depth, x.domain, x.n_domains, x.rel_substitute
        )
        gain = (1.0 + x.rel_coherence * x.coherence) * combined
        a = np.maximum(x.logit_ceiling - y, 0.0)
        g = np.maximum(gain, 0.0)
        room = 0.5 * (a + np.sqrt(a * a + 4.0 * a * g))
        helpful = np.where(a > 0, x.logit_ceiling - room, y)
        return np.where(gain > 0, helpful, y - gain)

    @staticmethod
    def combine(slot_p, slot_effect, depth, domain, n_domains, rel_substitute):
        """Each school's practices combined: substitutes within a domain, added across.

        In a domain, the largest helpful contribution (effect where run times depth)
        counts fully, every other helpful one ``rel_substitute`` of itself, every
        harmful one fully. Slot by slot, in the compiled kernel's order of addition.
        """
        n, k = slot_p.shape
        total = np.zeros(n)
        for d in range(n_domains):
            top = np.zeros(n)
            pos = np.zeros(n)
            neg = np.zeros(n)
            for j in range(k):
                pid = slot_p[:, j]
                here = (pid >= 0) & (domain[np.maximum(pid, 0)] == d)
                c = np.where(here, slot_effect[:, j] * depth[:, j], 0.0)
                top = np.maximum(top, c)
                pos = pos + np.maximum(c, 0.0)
                neg = neg + np.minimum(c, 0.0)
            total = total + (top + rel_substitute * (pos - top) + neg)
        return total

    @staticmethod
    def perform(key, t, logit, x):
        """Performance (logit) closes on what practice and capacity support, with noise.

        The gain: capacity gained, the practices combined (:meth:`combine`) times
        coherence's amplification, less the dip of every practice taken up in the last
        ``dur_dip`` months; a helpful gain diminishes towards the ceiling. In place.
        """
        combined = Performance.combine(
            x.slot_p, x.slot_effect, x.depth, x.domain, x.n_domains, x.rel_substitute
        )
        n, k = x.slot_p.shape
        dip = np.zeros(n)
        for j in range(k):
            learning = (
                (x.slot_p[:, j] >= 0)
                & (x.since[:, j] >= 0)
                & ((t - x.since[:, j]) * x.dur_step < x.dur_dip)
            )
            dip = dip + np.where(learning, x.rel_dip, 0.0)
        gain = (
            x.rel_capacity * (x.capacity - x.capacity0)
            + (1.0 + x.rel_coherence * x.coherence) * combined
            - dip
        )
        # Diminishing returns: a helpful gain g counts g * H / (g + H) under headroom H.
        room = np.maximum(x.logit_ceiling - x.base, MIN_ROOM)
        g = np.maximum(gain, 0.0)
        gain = np.where(gain > 0, g * room / (g + room), gain)
        target = x.base + gain
        noise = draws.normal(key, t, np.arange(len(logit)), 0)  # keyed by (step, school)
        logit += x.rate * (target - logit) + x.sd * noise

    @staticmethod
    @jit
    def perform_compiled(key, t, logit, x):
        """:meth:`perform`, compiled: school by school, its keyed normal each, in place.

        One pass over a school's slots adds each to its own domain's sums (the numpy
        form's pass per domain adds a slot of another domain as 0.0, which leaves the
        sums as they are: ``top`` starts at 0.0 and only grows, so ``max(top, 0.0)``
        is ``top``; ``pos`` and ``neg`` are never -0.0, so adding 0.0 leaves them), then
        the domains are added up in order, as numpy does.
        """
        noise = draws.normal(key, t, np.arange(len(logit)), 0)
        n, k = x.slot_p.shape
        n_dom = x.n_domains
        # A row of sums per domain, and a last one that takes what counts in none (an empty
        # slot, a domain out of range): a select rather than a branch on emptiness.
        top = np.zeros(n_dom + 1)
        pos = np.zeros(n_dom + 1)
        neg = np.zeros(n_dom + 1)
        for i in range(n):
            for d in range(n_dom):
                top[d] = 0.0
                pos[d] = 0.0
                neg[d] = 0.0
            dip = 0.0
            for j in range(k):
                pid = x.slot_p[i, j]
                d = x.domain[max(pid, 0)]
                d = d if (pid >= 0) & (d >= 0) & (d < n_dom) else n_dom
                c = x.slot_effect[i, j] * x.depth[i, j]
                top[d] = max(top[d], c)
                pos[d] = pos[d] + max(c, 0.0)
                neg[d] = neg[d] + min(c, 0.0)
                s0 = x.since[i, j]
                learning = (pid >= 0) & (s0 >= 0) & ((t - s0) * x.dur_step < x.dur_dip)
                dip = dip + (x.rel_dip if learning else 0.0)
            total = 0.0
            for d in range(n_dom):
                total = total + (top[d] + x.rel_substitute * (pos[d] - top[d]) + neg[d])
            gain = (
                x.rel_capacity * (x.capacity[i] - x.capacity0[i])
                + (1.0 + x.rel_coherence * x.coherence[i]) * total
                - dip
            )
            room = max(x.logit_ceiling - x.base[i], MIN_ROOM)
            if gain > 0:
                gain = gain * room / (gain + room)
            target = x.base[i] + gain
            logit[i] += x.rate * (target - logit[i]) + x.sd * noise[i]

    @staticmethod
    def performs(
        key,
        t,
        logit,
        base,
        capacity,
        capacity0,
        coherence,
        slot_p,
        slot_effect,
        depth,
        since,
        domain,
        n_domains,
        dur_step,
        rel_capacity,
        rel_coherence,
        rel_substitute,
        logit_ceiling,
        rel_dip,
        dur_dip,
        rate,
        sd,
    ):
        """:meth:`perform` of a :class:`PerformInputs` given field by field, in its order.

        A compiled call handed plain arguments costs less than one handed the bundle
        (:meth:`performs_compiled`). In place.
        """
        x = PerformInputs(
            base,
            capacity,
            capacity0,
            coherence,
            slot_p,
            slot_effect,
            depth,
            since,
            domain,
            n_domains,
            dur_step,
            rel_capacity,
            rel_coherence,
            rel_substitute,
            logit_ceiling,
            rel_dip,
            dur_dip,
            rate,
            sd,
        )
        Performance.perform(key, t, logit, x)

    @staticmethod
    @jit
    def performs_compiled(
        key,
        t,
        logit,
        base,
        capacity,
        capacity0,
        coherence,
        slot_p,
        slot_effect,
        depth,
        since,
        domain,
        n_domains,
        dur_step,
        rel_capacity,
        rel_coherence,
        rel_substitute,
        logit_ceiling,
        rel_dip,
        dur_dip,
        rate,
        sd,
    ):
        """:meth:`performs`, compiled: the bundle built inside, then :meth:`perform_compiled`."""
        x = PerformInputs(
            base,
            capacity,
            capacity0,
            coherence,
            slot_p,
            slot_effect,
            depth,
            since,
            domain,
            n_domains,
            dur_step,
            rel_capacity,
            rel_coherence,
            rel_substitute,
            logit_ceiling,
            rel_dip,
            dur_dip,
            rate,
            sd,
        )
        _perform_compiled(key, t, logit, x)

    @staticmethod
    def perform_faded(
        key,
        t,
        logit,
        base,
        capacity,
        capacity0,
        slot_p,
        channel,
        effect,
        born,
        rel_spread,
        depth,
        since,
        domain,
        n_domains,
        dur_step,
        rel_capacity,
        rel_coherence,
        rel_substitute,
        logit_ceiling,
        rel_dip,
        dur_dip,
        rate,
        sd,
    ):
        """:meth:`performs` with the slots' effects and coherence from their inputs.

        The effects are :meth:`~sim.model.model.NextPracticeModel.slot_effect`'s numpy
        expression (:func:`sim.core.kernels.slot_effects`: a practice invented during the
        run, ``born`` at least 0, keeps ``rel_spread`` of its ``effect`` at a school that
        did not make it, ``channel`` not created); coherence is
        :meth:`~sim.model.model.NextPracticeModel.coherence`'s
        (:func:`sim.core.kernels.domain_coherence`, more than one domain). Run when the
        model's ``slot_effect`` and ``coherence`` are its own. In place.
        """
        pid = np.maximum(slot_p, 0)
        faded = (born[pid] >= 0) & (channel != CREATED)
        slot_effect = effect[pid] * np.where(faded, rel_spread, 1.0)
        coherence = _kernels.domain_coherence(slot_p, depth, domain, n_domains)
        Performance.performs(
            key,
            t,
            logit,
            base,
            capacity,
            capacity0,
            coherence,
            slot_p,
            slot_effect,
            depth,
            since,
            domain,
            n_domains,
            dur_step,
            rel_capacity,
            rel_coherence,
            rel_substitute,
            logit_ceiling,
            rel_dip,
            dur_dip,
            rate,
            sd,
        )

    @staticmethod
    @jit
    def perform_faded_compiled(
        key,
        t,
        logit,
        base,
        capacity,
        capacity0,
        slot_p,
        channel,
        effect,
        born,
        rel_spread,
        depth,
        since,
        domain,
        n_domains,
        dur_step,
        rel_capacity,
        rel_coherence,
        rel_substitute,
        logit_ceiling,
        rel_dip,
        dur_dip,
        rate,
        sd,
    ):
        """:meth:`perform_faded`, compiled: :meth:`perform_compiled` with no tables.

        Each slot's effect is faded as it is read (:func:`sim.core.kernels.slot_effects`'
        product), and each school's coherence is summed from its slots' depth by domain
        in the same pass (:func:`sim.core.kernels.domain_coherence`'s sums, in its order),
        so the model builds neither a slot-effect table nor a coherence array.
        """
        noise = draws.normal(key, t, np.arange(len(logit)), 0)
        n, k = slot_p.shape
        n_dom = n_domains
        inv = 1.0 / n_dom
        # As perform_compiled: a row of sums per domain, and a last one for what counts in
        # none; ``by`` is domain_coherence's row of depth by domain (its last: empty slots).
        top = np.zeros(n_dom + 1)
        pos = np.zeros(n_dom + 1)
        neg = np.zeros(n_dom + 1)
        by = np.zeros(n_dom + 1)
        for i in range(n):
            for d in range(n_dom + 1):
                top[d] = 0.0
                pos[d] = 0.0
                neg[d] = 0.0
                by[d] = 0.0
            dip = 0.0
            for j in range(k):
                pid = slot_p[i, j]
                p0 = max(pid, 0)
                dd = domain[p0]
                by[dd if pid >= 0 else n_dom] += depth[i, j]
                d = dd if (pid >= 0) & (dd >= 0) & (dd < n_dom) else n_dom
                faded = (born[p0] >= 0) & (channel[i, j] != CREATED)
                effect_here = effect[p0] * (rel_spread if faded else 1.0)
                c = effect_here * depth[i, j]
                top[d] = max(top[d], c)
                pos[d] = pos[d] + max(c, 0.0)
                neg[d] = neg[d] + min(c, 0.0)
                s0 = since[i, j]
                learning = (pid >= 0) & (s0 >= 0) & ((t - s0) * dur_step < dur_dip)
                dip = dip + (rel_dip if learning else 0.0)
            tot = sum_in_numpy_order(by, n_dom)
            most = by[0]
            for d in range(1, n_dom):
                most = max(most, by[d])
            coherence = (most / max(tot, 1e-12) - inv) / (1.0 - inv) if tot > 0 else 0.0
            total = 0.0
            for d in range(n_dom):
                total = total + (top[d] + rel_substitute * (pos[d] - top[d]) + neg[d])
            gain = (
                rel_capacity * (capacity[i] - capacity0[i])
                + (1.0 + rel_coherence * coherence) * total
                - dip
            )
            room = max(logit_ceiling - base[i], MIN_ROOM)
            if gain > 0:
                gain = gain * room / (gain + room)
            target = base[i] + gain
            logit[i] += rate * (target - logit[i]) + sd * noise[i]


def _logit(share: float) -> float:
    """The logit of a share."""
    return float(np.log(share / (1.0 - share)))


class PerformInputs(NamedTuple):
    """What :meth:`Performance.perform` reads: one school per row, one slot per column."""

    base: np.ndarray  #: each school's logit with no practice and capacity as at the start
    capacity: np.ndarray  #: collective capacity now
    capacity0: np.ndarray  #: collective capacity at the start
    coherence: np.ndarray  #: concentration of depth in one domain (0 to 1)
    slot_p: np.ndarray  #: practice in each slot (-1: empty)
    slot_effect: np.ndarray  #: each slot's practice's true effect where it runs (logit)
    depth: np.ndarray  #: implementation depth of each slot (0 to 1)
    since: np.ndarray  #: step each slot's practice was taken up (negative: at the start)
    domain: np.ndarray  #: each practice's domain
    n_domains: int  #: domains
    dur_step: float  #: months a step lasts
    rel_capacity: float  #: logit per unit of capacity gained
    rel_coherence: float  #: coherence's amplification of practices' effects
    rel_substitute: float  #: what a second helpful practice in a domain adds, of itself
    logit_ceiling: float  #: logit of share_ceiling
    rel_dip: float  #: dip per practice being learnt (logit)
    dur_dip: float  #: months a dip lasts
    rate: float  #: share of the way to the target moved this step
    sd: float  #: noise this step (logit)


#: :meth:`Performance.perform_compiled`, for :meth:`Performance.performs_compiled` to call.
_perform_compiled = Performance.perform_compiled
