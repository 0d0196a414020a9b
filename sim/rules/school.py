"""What happens inside a school: implementation, capacity, performance, review."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core.jit import jit, plain_args
from sim.core.kernels import slot_sum
from sim.core.numerics import sum_in_numpy_order
from sim.core.state import EMPTY
from sim.rules import Param, Rule, register
from sim.rules.actions import (
    ProtectionInputs,
    ValueInputs,
    drop,
    is_protected,
    protection_inputs,
    value_inputs,
    value_of,
)


@register("implement", "depth_and_ownership", default=True)
class Implementation(Rule):
    """Implementation deepens towards a depth set by ownership and capacity.

    Depth closes on its target at ``rate_depth`` (slower for difficult
    practice: times ``1 - slow_difficulty * difficulty``). The target is the
    practice's ownership, scaled down when the school runs more than its
    capacity can carry: a school of capacity c can run ``c * n_focus``
    practices of difficulty ``difficulty_focus`` in depth, and spreads itself
    thinner beyond that (Fullan's clutter; "initiative overload").

    Ownership rises towards the school's engagement at ``rate_own``:
    engagement is the trust on its ties, times the facilitation it finds, plus
    the pull of a collaborative. Staff come to own a practice by working on it
    with peers (seed 003's "hearts and minds"); a mandated practice starts low
    and stays low where nobody animates the network.
    """

    params = {
        "slow_difficulty": Param(
            0.5,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.0, 0.9),
            sweep_ref="from difficulty not slowing deepening at all to nearly stopping it for "
            "the most difficult practice",
            meaning="How much difficulty slows deepening: depth closes on its target at "
            "rate_depth * (1 - this * difficulty); 0.5 as before (the most difficult "
            "practice deepens at half the rate), an assumption, not from a source.",
        ),
    }

    def apply(self, model):
        """Move depth and ownership one step."""
        s, p = model.schools, model.p
        self.implement(
            s.slot_p,
            s.slot_depth,
            s.slot_own,
            model.practices.difficulty,
            model.room(),
            model.load(),
            model.engagement(),
            model.per_step(p.rate_depth),
            model.per_step(p.rate_own),
            float(self.value(model, "slow_difficulty")),
        )


@jit
def _implement(
    slot_p, depth, own, difficulty, room, load, engagement, rate_depth, rate_own, slow_difficulty
):
    """Implementation's update, school by school, in place (one compiled loop).

    Empty slots are computed too and written back unchanged (a select rather
    than a branch: most rows mix filled and empty slots unpredictably).
    """
    n, k = slot_p.shape
    for i in range(n):
        scale = min(1.0, room[i] / max(load[i], 1e-9))
        for j in range(k):
            pid = slot_p[i, j]
            d0, o0 = depth[i, j], own[i, j]
            target = o0 * scale
            rate = rate_depth * (1.0 - slow_difficulty * difficulty[max(pid, 0)])
            d1 = d0 + rate * (target - d0)
            o1 = o0 + rate_own * max(engagement[i] - o0, 0.0)
            depth[i, j] = d1 if pid >= 0 else d0
            own[i, j] = o1 if pid >= 0 else o0


@register("capacity", "build", default=True)
class CapacityBuilding(Rule):
    """Collective capacity grows with investment and collaboration, and decays.

    Capacity grows at ``rate_capacity`` into the room left to grow, driven by
    the authority's investment (the capacity-building lever times the
    school's budget) and by learning by doing: ``rel_capacity_learning`` times
    how much practice the school runs deeply and with ownership (the sum of
    depth times ownership over its slots, halved, at most 1). "When people
    become better at something they become clearer and more committed"
    (seed 003, lever 3). Capacity decays at ``rate_capacity_decay``. In a
    collaborative, members converge towards the strongest member at
    ``rate_capacity_collab``: Fullan's "collective increases in the power of
    groups" (seed 003, lever 3).
    """

    def apply(self, model):
        """Move capacity one step."""
        s, p = model.schools, model.p
        # Investment reaches a school as far as its authority could pay for it (sim.system.costs).
        funded = s.budget * model.capacity_funded[s.authority]
        self.build_capacity(
            s.slot_depth,
            s.slot_own,
            funded,
            s.collab,
            s.capacity,
            model.collabs.n,
            p.lever_capacity,
            p.rel_capacity_learning,
            model.per_step(p.rate_capacity),
            model.per_step(p.rate_capacity_decay),
            model.per_step(p.rate_capacity_collab),
        )


@jit
def _build_capacity(
    depth,
    own,
    budget,
    collab,
    capacity,
    n_collabs,
    lever,
    rel_learning,
    rate,
    rate_decay,
    rate_collab,
):
    """Capacity building's update, in place (one compiled loop, then the collaboratives)."""
    n, k = depth.shape
    buf = np.empty(k)
    for i in range(n):
        for j in range(k):
            buf[j] = depth[i, j] * own[i, j]
        learning = min(1.0, sum_in_numpy_order(buf, k) / 2.0)
        drive = lever * budget[i] + rel_learning * learning
        grow = rate * drive * (1 - capacity[i])
        decay = rate_decay * capacity[i]
        capacity[i] += grow - decay
    best = np.zeros(n_collabs + 1)  # each collaborative's most capable member
    for i in range(n):
        if collab[i] >= 0:
            best[collab[i]] = max(best[collab[i]], capacity[i])
    for i in range(n):
        if collab[i] >= 0:
            capacity[i] += rate_collab * (best[collab[i]] - capacity[i])
    for i in range(n):
        capacity[i] = min(max(capacity[i], 0.0), 1.0)


@register("perform", "practice_effects", default=True)
class Performance(Rule):
    """Performance closes on what the school's practice and capacity support.

    On the logit scale of the share of pupils reaching the expected standard,
    the target is the school's base, plus ``rel_capacity_perf`` per unit of
    capacity gained, plus the sum over its practices of true effect times
    depth, amplified by ``1 + rel_coherence * coherence``. Coherence is how
    concentrated the school's depth is in one domain, from 0 (spread evenly)
    to 1 (one domain): Fullan's coherence-making. Performance moves a share
    ``rate_perf`` of the way each month (cohorts pass through), with noise.
    """

    def apply(self, model):
        """Move performance one step."""
        s, pr, p = model.schools, model.practices, model.p
        self.perform(
            self.kernel_rng,
            s.logit_perf,
            s.base,
            s.capacity,
            s.capacity0,
            model.coherence(),
            slot_sum(s.slot_p, pr.effect, s.slot_depth),
            p.rel_capacity_perf,
            p.rel_coherence,
            model.per_step(p.rate_perf),
            p.sd_perf_noise * np.sqrt(p.dur_step),
        )


@jit
def _perform(
    rng,
    logit,
    base,
    capacity,
    capacity0,
    coherence,
    effect_depth,
    rel_capacity,
    rel_coherence,
    rate,
    sd,
):
    """:class:`Performance`'s move, in place, with one standard normal per school drawn here.

    The numpy form (``effect_depth``: the sum of effect times depth over the
    school's slots)::

        target = (base + rel_capacity * (capacity - capacity0)
                  + (1.0 + rel_coherence * coherence) * effect_depth)
        logit += rate * (target - logit) + sd * rng.standard_normal(n)
    """
    for i in range(len(logit)):
        target = (
            base[i]
            + rel_capacity * (capacity[i] - capacity0[i])
            + (1.0 + rel_coherence * coherence[i]) * effect_depth[i]
        )
        logit[i] += rate * (target - logit[i]) + sd * rng.standard_normal()


@register("review", "evidence_review", default=True)
class Review(Rule):
    """Schools read how their practices work, and drop the poor and unaffordable.

    Every month a school reads each practice it runs: the true effect plus
    noise ``sd_observe``, sharpened by evidence-based decision-making (the
    noise shrinks by half at a full evidence lever; Fullan's "steering and
    sorting mechanism"). With chance ``p_review`` a month it reviews: a
    practice whose estimated value (own reads, published evidence and prior;
    see :func:`sim.rules.actions.slot_value`) is below ``threshold_abandon`` by more
    than one standard error is dropped, and so is the least valued one while
    the school's practices cost more than its budget or load it beyond its
    capacity (a head reining in clutter; Fullan, seed 003). Practices under a
    standing mandate, or taken up too recently, are kept.
    """

    def apply(self, model):
        """Read, then review."""
        s, pr, p, rng = model.schools, model.practices, model.p, self.kernel_rng
        self.read(
            rng,
            s.slot_p,
            s.slot_obs,
            s.slot_nobs,
            pr.effect,
            model.sd_observe_eff,
            np.sqrt(p.dur_step),
            p.dur_step,
        )

        poor_school, poor_slot, over_school, over_slot = self.review(
            rng,
            ReviewInputs(
                model.per_step(p.p_review),
                value_inputs(model),
                protection_inputs(model),
                pr.difficulty,
                model.room(),
                p.threshold_abandon,
            ),
        )
        drop(model, poor_school, poor_slot)
        drop(model, over_school, over_slot)


class ReviewInputs(NamedTuple):
    """What :class:`Review`'s review reads.

    Attributes:
        chance: each school's chance to review this step.
        values: :class:`sim.rules.actions.ValueInputs`.
        protection: :class:`sim.rules.actions.ProtectionInputs`.
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


@jit
def _review(rng, inputs):
    """Who reviews this month, and what: (school, slot) pairs to drop as poor, then as over.

    One uniform per school (``rng.random(n) < chance``: reviewing). Poor: not
    protected, and estimated value plus one standard error (from the
    precision of own reads, prior and evidence) below the threshold. Over:
    with the poor gone, a school whose practices cost more than its budget,
    or load it (the difficulty of what it runs) beyond its room
    (``model.room()``), drops its least valued unprotected practice. Values
    and protection are :func:`sim.rules.actions.value_of` and
    :func:`sim.rules.actions.is_protected`. ``inputs``: :class:`ReviewInputs`.
    """
    chance, values, protection, difficulty, room, threshold = inputs
    slot_p, obs, nobs, budget, ev_prec, ev_mean, cost, sd2, lever, prec0, rel_cost = values
    since, channel, t, dur_step, dur_commit, mandates = protection
    n, k = slot_p.shape
    u = rng.random(n)
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
        if not u[i] < chance:
            continue
        for j in range(k):
            pid = slot_p[i, j]
            value[j] = value_of(
                pid,
                obs[i, j],
                nobs[i, j],
                budget[i],
                ev_prec,
                ev_mean,
                cost,
                sd2,
                lever,
                prec0,
                rel_cost,
            )
            keep[j] = is_protected(
                pid, channel[i, j], since[i, j], t, dur_step, dur_commit, mandates
            )
            gone[j] = False
            if pid == EMPTY or keep[j]:
                continue
            se = 1.0 / np.sqrt(nobs[i, j] / sd2 + prec0 + lever * ev_prec[pid])
            if value[j] + se < threshold:
                gone[j] = True
                poor_school[n_poor], poor_slot[n_poor] = i, j
                n_poor += 1
        for j in range(k):  # what the school still runs
            pid = slot_p[i, j]
            runs = pid != EMPTY and not gone[j]
            spend[j] = cost[pid] if runs else 0.0
            load[j] = difficulty[pid] if runs else 0.0
        if sum_in_numpy_order(spend, k) > budget[i] or room[i] - sum_in_numpy_order(load, k) < 0:
            best, col = np.inf, 0
            for j in range(k):
                if slot_p[i, j] != EMPTY and not gone[j] and not keep[j] and value[j] < best:
                    best, col = value[j], j
            if np.isfinite(best):
                over_school[n_over], over_slot[n_over] = i, col
                n_over += 1
    return poor_school[:n_poor], poor_slot[:n_poor], over_school[:n_over], over_slot[:n_over]


@jit
def _read(rng, slot_p, obs, nobs, effect, sd, sqrt_dur, dur):
    """Add this month's reads to the filled slots, in place.

    One standard normal per filled slot, in row-major order: the numbers
    ``rng.standard_normal(np.count_nonzero(slot_p != EMPTY))`` gives (numba
    draws them three times faster than numpy 2.5 does).
    """
    n, k = slot_p.shape
    for i in range(n):
        for j in range(k):
            pid = slot_p[i, j]
            if pid >= 0:
                read = effect[pid] + sd * rng.standard_normal() / sqrt_dur
                obs[i, j] += read * dur
                nobs[i, j] += dur


#: The rules' compute functions: compiled here, their numpy forms in the ``*_numpy`` rules.
Implementation.implement = staticmethod(_implement)
CapacityBuilding.build_capacity = staticmethod(_build_capacity)
Performance.perform = staticmethod(_perform)
Review.read = staticmethod(_read)
Review.review = staticmethod(plain_args(_review))
