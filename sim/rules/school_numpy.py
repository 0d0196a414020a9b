"""Inside a school, in plain numpy: the readable forms of :mod:`sim.rules.school`.

``implement: depth_and_ownership_numpy``, ``capacity: build_numpy``,
``perform: practice_effects_numpy`` and ``review: evidence_review_numpy`` are
the shipped rules with their compiled kernels swapped for these functions:
same draws in the same order, same run bit for bit
(``tests/test_numpy_forms.py``). The updates are in place, as the kernels'.
"""

from __future__ import annotations

import numpy as np

from sim.core.state import EMPTY
from sim.rules import register
from sim.rules.actions_numpy import protected, slot_values
from sim.rules.school import (
    CapacityBuilding,
    Implementation,
    Performance,
    Review,
    ReviewInputs,
)


def implement(
    slot_p, depth, own, difficulty, room, load, engagement, rate_depth, rate_own, slow_difficulty
):
    """Depth closes on its target, ownership on engagement (:class:`Implementation`)."""
    filled = slot_p != EMPTY
    # A school running more than its room can carry spreads itself thinner.
    scale = np.minimum(1.0, room / np.maximum(load, 1e-9))
    target = own * scale[:, None]
    # Difficult practice deepens more slowly.
    rate = rate_depth * (1.0 - slow_difficulty * difficulty[np.maximum(slot_p, 0)])
    new_depth = depth + rate * (target - depth)
    # Ownership rises towards engagement (never falls here).
    new_own = own + rate_own * np.maximum(engagement[:, None] - own, 0.0)
    depth[filled] = new_depth[filled]
    own[filled] = new_own[filled]


def build_capacity(
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
    """Capacity grows with investment and learning by doing, decays, converges in collaboratives.

    (:class:`CapacityBuilding`.)
    """
    # Learning by doing: practice run deeply and with ownership (halved, at most 1).
    learning = np.minimum(1.0, (depth * own).sum(axis=1) / 2.0)
    drive = lever * budget + rel_learning * learning
    capacity += rate * drive * (1 - capacity) - rate_decay * capacity
    # Members of a collaborative close on its most capable member.
    member = collab >= 0
    best = np.zeros(n_collabs + 1)
    np.maximum.at(best, collab[member], capacity[member])
    capacity[member] += rate_collab * (best[collab[member]] - capacity[member])
    np.clip(capacity, 0.0, 1.0, out=capacity)


def perform(
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
    """Performance (logit) closes on what practice and capacity support, with noise.

    (:class:`Performance`; ``effect_depth``: each school's sum of effect times depth.)
    """
    target = (
        base
        + rel_capacity * (capacity - capacity0)
        + (1.0 + rel_coherence * coherence) * effect_depth
    )
    logit += rate * (target - logit) + sd * rng.standard_normal(len(logit))


def read(rng, slot_p, obs, nobs, effect, sd, sqrt_dur, dur):
    """Each filled slot gets this step's read of its practice: true effect plus noise.

    (:class:`Review`; one standard normal per filled slot, in row-major order.)
    """
    filled = slot_p != EMPTY
    pid = slot_p[filled]
    reads = effect[pid] + sd * rng.standard_normal(len(pid)) / sqrt_dur
    obs[filled] += reads * dur
    nobs[filled] += dur


def review(rng, inputs: ReviewInputs):
    """Who reviews, and what they drop: (school, slot) pairs as poor, then as over budget or load.

    (:class:`Review`.)
    """
    chance, values, protection, difficulty, room, threshold = inputs
    slot_p = values.slot_p
    rows = np.flatnonzero(rng.random(len(slot_p)) < chance)  # the schools reviewing
    value = slot_values(values, rows)
    keep = protected(protection, slot_p, rows)
    s = slot_p[rows].copy()  # what the reviewing schools run (poor ones removed below)
    # Poor: the estimated value plus one standard error is below the threshold.
    precision = (
        values.nobs[rows] / values.sd2
        + values.prec0
        + values.lever * values.ev_prec[np.maximum(s, 0)]
    )
    poor = (s != EMPTY) & ~keep & (value + 1.0 / np.sqrt(precision) < threshold)
    poor_row, poor_col = np.nonzero(poor)
    s[poor_row, poor_col] = EMPTY
    # Over: what is left costs more than the budget, or loads the school beyond its room;
    # then the least valued practice it may drop goes.
    safe = np.maximum(s, 0)
    spend = np.where(s != EMPTY, values.cost[safe], 0.0).sum(axis=1)
    load = np.where(s != EMPTY, difficulty[safe], 0.0).sum(axis=1)
    over = np.flatnonzero((spend > values.budget[rows]) | (room[rows] - load < 0))
    v = np.where((s[over] == EMPTY) | keep[over], np.inf, value[over])
    col = np.argmin(v, axis=1)
    can = np.isfinite(v[np.arange(len(over)), col])
    return rows[poor_row], poor_col, rows[over][can], col[can]


@register("implement", "depth_and_ownership_numpy")
class ImplementationNumpy(Implementation):
    """:class:`Implementation` in plain numpy (:func:`implement`): same run."""

    implement = staticmethod(implement)


@register("capacity", "build_numpy")
class CapacityBuildingNumpy(CapacityBuilding):
    """:class:`CapacityBuilding` in plain numpy (:func:`build_capacity`): same run."""

    build_capacity = staticmethod(build_capacity)


@register("perform", "practice_effects_numpy")
class PerformanceNumpy(Performance):
    """:class:`Performance` in plain numpy (:func:`perform`): same draws, same run."""

    perform = staticmethod(perform)


@register("review", "evidence_review_numpy")
class ReviewNumpy(Review):
    """:class:`Review` in plain numpy (:func:`read`, :func:`review`): same draws, same run."""

    read = staticmethod(read)
    review = staticmethod(review)
