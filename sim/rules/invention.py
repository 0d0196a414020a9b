"""Practitioners invent new practice by recombining and adapting what they run."""

from __future__ import annotations

import numpy as np

from sim.actions import invent
from sim.numerics import row_count, row_cumsum
from sim.rules import Rule, register
from sim.state import EMPTY


@register("invent", "recombine", default=True)
class Recombination(Rule):
    """Schools invent practices by recombining two they run, with an adaptation.

    A school invents in a step with chance ``p_invent`` times its head's
    ingenuity, its capacity, its creative space, and the push of adversity.
    Creative space is what tightness leaves: ``1 - tightness``, except in a
    field-trial site, which has permission to experiment (seed 002's incubate
    phase: "creative space, resources, permission to experiment"). Adversity
    multiplies the chance by ``1 + rel_adversity * pressure``, where pressure
    is the budget lost times capacity (seed 001: the burning platform pushes
    heads to search for radically different practice, where capacity allows).

    The new practice's effect is the mean of its two parents' (two practices
    the school runs, picked by depth; none gives zero) plus a Student-t
    adaptation, shifted below zero: most inventions are no better, a few are
    much better (seed 000: "next practice... amplifying weak signals"; the
    heavy tail follows March 1991's exploration). Its cost follows the
    parents', cut by pressure (radical efficiency, seed 001); its domain is the
    agenda's with chance ``lever_agenda``, else its first parent's.
    """

    def apply(self, model):
        """Draw this step's inventions."""
        s, p, pr, rng = model.schools, model.p, model.practices, model.rng
        head = s.head
        space = np.where(s.trial >= 0, 1.0, 1.0 - p.tightness)
        pressure = model.pressure()
        rate = (p.p_invent * model.heads.ingenuity[head] * s.capacity * space
                * (1.0 + p.rel_adversity * pressure))
        who = np.flatnonzero(rng.random(s.n) < model.per_step_array(rate))
        if len(who) == 0:
            return
        depth = s.slot_depth[who] + 1e-9 * (s.slot_p[who] != EMPTY)
        cum = row_cumsum(depth)
        total = cum[:, -1]
        pick = []
        for _ in range(2):
            u = rng.random(len(who)) * total
            col = np.minimum(row_count(u[:, None] >= cum), cum.shape[1] - 1)
            pick.append(s.slot_p[who, col])
        pa, pb = pick
        has = (pa != EMPTY) & (total > 0)
        pa = np.where(has, pa, EMPTY)
        pb = np.where(has & (pb != EMPTY), pb, pa)
        ea = np.where(has, pr.effect[np.maximum(pa, 0)], 0.0)
        eb = np.where(has, pr.effect[np.maximum(pb, 0)], 0.0)
        t_draw = np.clip(rng.standard_t(p.invent_df, len(who)), -5.0, 5.0)
        adapt = p.invent_shift + p.invent_scale * t_draw
        effect = 0.5 * (ea + eb) + adapt
        parent_cost = np.where(has, 0.5 * (pr.cost[np.maximum(pa, 0)]
                                           + pr.cost[np.maximum(pb, 0)]), p.cost_mean)
        cost = parent_cost * rng.lognormal(-pressure[who], 0.3)
        difficulty = np.clip(np.where(has, pr.difficulty[np.maximum(pa, 0)], 0.5)
                             + rng.normal(0.0, 0.1, len(who)), 0.05, 0.95)
        domain = np.where(has, pr.domain[np.maximum(pa, 0)],
                          rng.integers(0, p.n_domains, len(who)))
        if model.agenda >= 0:
            domain = np.where(rng.random(len(who)) < p.lever_agenda, model.agenda, domain)
        invent(model, who, effect, cost, difficulty, domain, pa)
