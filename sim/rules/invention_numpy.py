"""Invention by recombination, in plain numpy: the readable form of :mod:`sim.rules.invention`.

``invent: recombine_numpy`` is the shipped rule with its compiled kernels
swapped for these functions: same draws in the same order, same run bit for
bit (``tests/test_numpy_forms.py``).
"""

from __future__ import annotations

import numpy as np

from sim.core.state import EMPTY
from sim.rules import register
from sim.rules.diffusion_numpy import first_over_rows
from sim.rules.invention import Recombination, RecombineInputs


def invention_rate(p_invent, ingenuity, head, capacity, trial, tightness, rel_adversity, pressure):
    """Each school's monthly chance to invent (:class:`Recombination` says why)."""
    # Creative space: what tightness leaves, or all of it in a field-trial site.
    space = np.where(trial >= 0, 1.0, 1.0 - tightness)
    return p_invent * ingenuity[head] * capacity * space * (1.0 + rel_adversity * pressure)


def recombine(rng, inputs: RecombineInputs):
    """The inventions of the schools ``who``: effect, cost, difficulty, domain, first parent."""
    (
        who,
        slot_p,
        slot_depth,
        effect,
        cost,
        difficulty,
        domain,
        pressure,
        df,
        shift,
        scale,
        cost_mean,
        n_domains,
        agenda,
        lever_agenda,
        sd_log_cost,
        sd_jitter,
        clip_t,
    ) = inputs
    m = len(who)
    # Two parents among the practices the school runs, picked in proportion to depth
    # (a filled slot weighs at least 1e-9, so a school running anything has parents).
    weight = slot_depth[who] + 1e-9 * (slot_p[who] != EMPTY)
    cum = np.cumsum(weight, axis=1)
    total = cum[:, -1]
    u_a, u_b = rng.random(m), rng.random(m)
    parent_a = slot_p[who, first_over_rows(cum, u_a * total)]
    parent_b = slot_p[who, first_over_rows(cum, u_b * total)]
    # The draws: a heavy-tailed adaptation, a cost factor cut by pressure (radical
    # efficiency), a difficulty jitter, a domain for an invention without parents,
    # and, with an agenda, whether it falls in the agenda's domain.
    t_draw = rng.standard_t(df, m)
    cost_factor = rng.lognormal(-pressure[who], sd_log_cost)
    jitter = rng.normal(0.0, sd_jitter, m)
    any_domain = rng.integers(0, n_domains, m)
    to_agenda = rng.random(m) < lever_agenda if agenda >= 0 else np.zeros(m, bool)
    # Without parents (nothing run, or no depth) an invention starts from nothing.
    has = (parent_a != EMPTY) & (total > 0)
    pa = np.where(has, parent_a, EMPTY)
    pb = np.where(has & (parent_b != EMPTY), parent_b, pa)
    ia, ib = np.maximum(pa, 0), np.maximum(pb, 0)  # valid indices (masked by ``has``)
    parents_effect = 0.5 * (np.where(has, effect[ia], 0.0) + np.where(has, effect[ib], 0.0))
    new_effect = parents_effect + (shift + scale * np.clip(t_draw, -clip_t, clip_t))
    new_cost = np.where(has, 0.5 * (cost[ia] + cost[ib]), cost_mean) * cost_factor
    new_difficulty = np.clip(np.where(has, difficulty[ia], 0.5) + jitter, 0.05, 0.95)
    new_domain = np.where(has, domain[ia], any_domain).astype(np.int64)
    new_domain[to_agenda] = agenda
    return new_effect, new_cost, new_difficulty, new_domain, pa.astype(np.int64)


@register("invent", "recombine_numpy")
class RecombinationNumpy(Recombination):
    """:class:`Recombination` in plain numpy (:func:`recombine`): same draws, same run."""

    invention_rate = staticmethod(invention_rate)
    recombine = staticmethod(recombine)
