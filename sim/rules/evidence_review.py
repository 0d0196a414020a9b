"""The ``review`` slot: schools read how their practices work, and drop the poor ones."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.numerics import sum_in_numpy_order
from sim.core.registry import inherits
from sim.core.state import CREATED, EMPTY
from sim.rules import Param, Rule, register
from sim.rules.actions import (
    ProtectionInputs,
    ValueInputs,
    drop,
    protected,
    protected_at,
    protection_inputs,
    slot_values,
    value_at,
    value_inputs,
)

#: The methods :meth:`Review.read_faded` stands for with the fade: a subclass overriding one
#: reads the model's ``slot_effect`` table through its own.
_READS = ("read", "read_compiled", "read_faded", "read_faded_compiled")
#: The methods :meth:`Review.reviews` stands for: a subclass overriding one reviews through
#: its own, handed the bundle.
_REVIEWS = ("review", "review_compiled", "reviews", "reviews_compiled")
#: The decisions this rule draws for (``Review.decisions``), rows of its ``keys``.
DECISIONS = ("read", "review")
READ, REVIEW = range(len(DECISIONS))


@register("review", "evidence_review", default=True)
class Review(Rule):
    """Schools read how their practices work, and drop the poor and unaffordable.

    Every month a school reads each practice it runs: its true effect where the
    school runs it (after the scale-up fade of a practice made elsewhere) plus
    noise ``sd_observe``, sharpened by evidence-based decision-making (the
    noise shrinks by ``rel_evidence_observe`` at a full evidence lever;
    Fullan's "steering and sorting mechanism"). With chance ``p_review`` a
    month it reviews: a practice whose estimated value (own reads, published
    evidence and prior; see :func:`sim.rules.actions.slot_value`) is below
    ``threshold_abandon`` by more than one standard error is dropped, and so
    is the least valued one while the school's practices cost more than its
    budget or load it beyond its capacity (a head reining in clutter; Fullan,
    seed 003). Practices under a standing mandate, or taken up too recently,
    are kept. A read is keyed by the school, the practice and the month; the
    chance to review by the school and the month.
    """

    decisions = DECISIONS
    params = {
        "p_review": Param(
            0.1,
            lo=0,
            hi=1,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.04, 0.25),
            sweep_ref="a judgement: no survey counts how often schools review their practices; "
            "every 4 months to every 2 years",
            meaning="Chance a school reviews its practices in a month.",
        ),
        "threshold_abandon": Param(
            0.0,
            lo=-1,
            hi=1,
            unit="logit",
            kind="uncertainty",
            sweep=(-0.1, 0.05),
            sweep_ref="a judgement: no study gives the bar at which schools drop a practice; drop "
            "only clearly harmful practices (-0.1 logit), up to dropping weak ones (0.05)",
            meaning="A reviewed practice whose estimated effect is below this, with confidence, "
            "is dropped.",
        ),
    }

    def apply(self, model):
        """Read, then review."""
        s, pr, p = model.schools, model.practices, model.p
        # np.sqrt's number (both correctly rounded), without a numpy scalar
        noise = (model.sd_observe_eff, math.sqrt(p.dur_step), p.dur_step)
        if getattr(model, "plain_slot_effect", False) and inherits(type(self), Review, _READS):
            # the model's scale-up fade applied slot by slot as each is read: no table
            self.read_faded(
                self.keys[READ],
                model.t,
                s.slot_p,
                s.slot_obs,
                s.slot_nobs,
                s.slot_channel,
                pr.effect,
                pr.born,
                float(p.rel_effect_spread),
                pr.uid,
                *noise,
            )
        else:  # a model whose slot_effect is its own, or a rule whose read is
            self.read(
                self.keys[READ],
                model.t,
                s.slot_p,
                s.slot_obs,
                s.slot_nobs,
                model.slot_effect(),
                pr.uid,
                *noise,
            )
        x = self.inputs(model)
        if inherits(type(self), Review, _REVIEWS):  # the bundle's fields as plain arguments
            found = self.reviews(
                self.keys[REVIEW],
                model.t,
                x.chance,
                *x.values,
                *x.protection,
                x.difficulty,
                x.room,
                x.threshold,
            )
        else:  # a plug-in's own review
            found = self.review(self.keys[REVIEW], model.t, x)
        poor_school, poor_slot, over_school, over_slot = found
        drop(model, poor_school, poor_slot)
        drop(model, over_school, over_slot)

    def inputs(self, model) -> ReviewInputs:
        """What :meth:`review` reads this step (:class:`ReviewInputs`)."""
        return ReviewInputs(
            chance=model.per_step(self.value(model, "p_review")),
            values=value_inputs(model),
            protection=protection_inputs(model),
            difficulty=model.practices.difficulty,
            room=model.room(),
            threshold=self.value(model, "threshold_abandon"),
        )

    @staticmethod
    def read(key, t, slot_p, obs, nobs, slot_effect, uid, sd, sqrt_dur, dur):
        """Each filled slot gets this month's read of its practice: true effect plus noise.

        ``slot_effect``: the practice's effect where the school runs it (after any
        scale-up fade, :meth:`~sim.model.model.NextPracticeModel.slot_effect`). The
        noise a standard normal keyed by the school, the practice and the step; in place.
        """
        school, col = np.nonzero(slot_p != EMPTY)
        pid = slot_p[school, col]
        noise = draws.normal(key, t, school, uid[pid])
        reads = slot_effect[school, col] + sd * noise / sqrt_dur
        obs[school, col] += reads * dur
        nobs[school, col] += dur

    @staticmethod
    @jit
    def read_compiled(key, t, slot_p, obs, nobs, slot_effect, uid, sd, sqrt_dur, dur):
        """:meth:`read`, compiled: slot by slot, the same keyed normals.

        Schools are visited in order, so the four of a Philox block (``i >> 2``) that
        run one practice share its block (:func:`sim.core.draws.memo_word`): over an
        England run about 0.4 blocks a filled slot instead of one (a fifth to two-fifths
        less time).
        """
        n, k = slot_p.shape
        memo = draws.block_memo()  # four schools running one practice: one block
        k0, k1 = key[0], key[1]
        for i in range(n):
            for j in range(k):
                pid = slot_p[i, j]
                if pid >= 0:
                    u = uid[pid]
                    w = draws.memo_word(memo, k0, k1, t, i, u)
                    read = slot_effect[i, j] + sd * draws.normal_from(key, t, i, u, w) / sqrt_dur
                    obs[i, j] += read * dur
                    nobs[i, j] += dur

    @staticmethod
    def read_faded(
        key, t, slot_p, obs, nobs, channel, effect, born, rel_spread, uid, sd, sqrt_dur, dur
    ):
        """:meth:`read` of the slots' effects after the scale-up fade, from the fade's inputs.

        The effects are :meth:`~sim.model.model.NextPracticeModel.slot_effect`'s numpy
        expression (:func:`sim.core.kernels.slot_effects`): a practice invented during
        the run (``born`` at least 0) keeps ``rel_spread`` of its ``effect`` at a school
        that did not make it (``channel`` not created). Run when the model's
        ``slot_effect`` is its own (``plain_slot_effect``).
        """
        pid = np.maximum(slot_p, 0)
        faded = (born[pid] >= 0) & (channel != CREATED)
        slot_effect = effect[pid] * np.where(faded, rel_spread, 1.0)
        Review.read(key, t, slot_p, obs, nobs, slot_effect, uid, sd, sqrt_dur, dur)

    @staticmethod
    @jit
    def read_faded_compiled(
        key, t, slot_p, obs, nobs, channel, effect, born, rel_spread, uid, sd, sqrt_dur, dur
    ):
        """:meth:`read_faded`, compiled: :meth:`read_compiled`, each slot's effect faded as read.

        The fade is :func:`sim.core.kernels.slot_effects`' product, slot by slot: no table.
        """
        n, k = slot_p.shape
        memo = draws.block_memo()  # as read_compiled
        k0, k1 = key[0], key[1]
        for i in range(n):
            for j in range(k):
                pid = slot_p[i, j]
                if pid >= 0:
                    faded = (born[pid] >= 0) & (channel[i, j] != CREATED)
                    effect_here = effect[pid] * (rel_spread if faded else 1.0)
                    u = uid[pid]
                    w = draws.memo_word(memo, k0, k1, t, i, u)
                    read = effect_here + sd * draws.normal_from(key, t, i, u, w) / sqrt_dur
                    obs[i, j] += read * dur
                    nobs[i, j] += dur

    @staticmethod
    def review(key, t, x: ReviewInputs):
        """Who reviews, and what they drop: (school, slot) pairs as poor, then as over.

        Poor: not protected, and the estimated value plus one standard error is
        below the threshold. Over: with the poor gone, a school whose practices
        cost more than its budget, or load it beyond its room, drops the least
        valued practice it may drop.
        """
        v = x.values
        slot_p = v.slot_p
        n = len(slot_p)
        rows = np.flatnonzero(draws.uniform(key, t, np.arange(n), 0) < x.chance)  # reviewing
        value = slot_values(v, rows)
        keep = protected(x.protection, slot_p, rows)
        s = slot_p[rows].copy()  # what the reviewing schools run (poor ones removed below)
        # Poor: the estimated value plus one standard error is below the threshold.
        precision = v.nobs[rows] / v.sd2 + v.prec0 + v.lever * v.ev_prec[np.maximum(s, 0)]
        poor = (s != EMPTY) & ~keep & (value + 1.0 / np.sqrt(precision) < x.threshold)
        poor_row, poor_col = np.nonzero(poor)
        s[poor_row, poor_col] = EMPTY
        # Over: what is left costs more than the budget, or loads the school beyond its room;
        # then the least valued practice it may drop goes.
        safe = np.maximum(s, 0)
        spend = np.where(s != EMPTY, v.cost[safe], 0.0).sum(axis=1)
        load = np.where(s != EMPTY, x.difficulty[safe], 0.0).sum(axis=1)
        over = np.flatnonzero((spend > v.budget[rows]) | (x.room[rows] - load < 0))
        val = np.where((s[over] == EMPTY) | keep[over], np.inf, value[over])
        col = np.argmin(val, axis=1)
        can = np.isfinite(val[np.arange(len(over)), col])
        return rows[poor_row], poor_col, rows[over][can], col[can]

    @staticmethod
    @jit
    def review_compiled(key, t, x):
        """:meth:`review`, compiled: school by school, its keyed uniform each.

        Values and protection are :func:`sim.rules.actions.value_of` and
        :func:`sim.rules.actions.is_protected`; sums in numpy's order.
        """
        v, pr = x.values, x.protection
        slot_p = v.slot_p
        n, k = slot_p.shape
        u = draws.uniform(key, t, np.arange(n), 0)
        poor_school = np.empty(n * k, np.int64)
        poor_slot = np.empty(n * k, np.int64)
        over_school = np.empty(n, np.int64)
        over_slot = np.empty(n, np.int64)
        n_poor = n_over = 0
        gone = np.empty(k, np.bool_)
        keep = np.empty(k, np.bool_)
        value = np.empty(k)
        spend = np.empty(k)
        load = np.empty(k)
        for i in range(n):
            if not u[i] < x.chance:
                continue
            for j in range(k):
                pid = slot_p[i, j]
                value[j] = value_at(v, pid, i, j)
                keep[j] = protected_at(pr, pid, i, j)
                gone[j] = False
                if pid == EMPTY or keep[j]:
                    continue
                se = 1.0 / np.sqrt(v.nobs[i, j] / v.sd2 + v.prec0 + v.lever * v.ev_prec[pid])
                if value[j] + se < x.threshold:
                    gone[j] = True
                    poor_school[n_poor], poor_slot[n_poor] = i, j
                    n_poor += 1
            for j in range(k):  # what the school still runs
                pid = slot_p[i, j]
                runs = pid != EMPTY and not gone[j]
                spend[j] = v.cost[pid] if runs else 0.0
                load[j] = x.difficulty[pid] if runs else 0.0
            if (
                sum_in_numpy_order(spend, k) > v.budget[i]
                or x.room[i] - sum_in_numpy_order(load, k) < 0
            ):
                best, col = np.inf, 0
                for j in range(k):
                    if slot_p[i, j] != EMPTY and not gone[j] and not keep[j] and value[j] < best:
                        best, col = value[j], j
                if np.isfinite(best):
                    over_school[n_over], over_slot[n_over] = i, col
                    n_over += 1
        return poor_school[:n_poor], poor_slot[:n_poor], over_school[:n_over], over_slot[:n_over]

    @staticmethod
    def reviews(
        key,
        t,
        chance,
        slot_p,
        obs,
        nobs,
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
        t_protect,
        dur_step,
        dur_commit,
        mandates,
        difficulty,
        room,
        threshold,
    ):
        """:meth:`review` of a :class:`ReviewInputs` given field by field, nested bundles too.

        The values' fields (:class:`sim.rules.actions.ValueInputs`), then the
        protection's (:class:`sim.rules.actions.ProtectionInputs`, its step
        ``t_protect``), in their order: a compiled call handed plain arguments costs
        a third of one handed the nested bundle (:meth:`reviews_compiled`).
        """
        x = ReviewInputs(
            chance,
            ValueInputs(
                slot_p, obs, nobs, budget, ev_prec, ev_mean, cost, sd2, lever, prec0, rel_cost
            ),
            ProtectionInputs(since, channel, t_protect, dur_step, dur_commit, mandates),
            difficulty,
            room,
            threshold,
        )
        return Review.review(key, t, x)

    @staticmethod
    @jit
    def reviews_compiled(
        key,
        t,
        chance,
        slot_p,
        obs,
        nobs,
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
        t_protect,
        dur_step,
        dur_commit,
        mandates,
        difficulty,
        room,
        threshold,
    ):
        """:meth:`reviews`, compiled: the bundle built inside, then :meth:`review_compiled`."""
        x = ReviewInputs(
            chance,
            ValueInputs(
                slot_p, obs, nobs, budget, ev_prec, ev_mean, cost, sd2, lever, prec0, rel_cost
            ),
            ProtectionInputs(since, channel, t_protect, dur_step, dur_commit, mandates),
            difficulty,
            room,
            threshold,
        )
        return _review_compiled(key, t, x)


class ReviewInputs(NamedTuple):
    """What :class:`Review`'s review reads.

    Attributes:
        chance: each school's chance to review this step.
        values: what valuing a slot reads (:class:`sim.rules.actions.ValueInputs`).
        protection: what protecting one reads (:class:`sim.rules.actions.ProtectionInputs`).
        difficulty: each practice's difficulty (the load it puts on a school).
        room: each school's room for practice (``model.room()``).
        threshold: the value below which a practice is poor (``threshold_abandon``).
    """

    chance: float
    values: ValueInputs
    protection: ProtectionInputs
    difficulty: np.ndarray
    room: np.ndarray
    threshold: float


#: :meth:`Review.review_compiled`, for :meth:`Review.reviews_compiled` to call.
_review_compiled = Review.review_compiled
