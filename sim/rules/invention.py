"""Practitioners invent new practice by recombining and adapting what they run."""

from __future__ import annotations

import numpy as np

from sim._jit import jit
from sim.actions import invent
from sim.numerics import first_over
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
        s, p, pr = model.schools, model.p, model.practices
        pressure = model.pressure()
        rate = _invention_rate(p.p_invent, model.heads.ingenuity, s.head, s.capacity, s.trial,
                               p.tightness, p.rel_adversity, pressure)
        who = model.occurs(rate, self.kernel_rng)
        if len(who) == 0:
            return
        effect, cost, difficulty, domain, pa = _recombine(
            self.kernel_rng, who, s.slot_p, s.slot_depth, pr.effect, pr.cost, pr.difficulty,
            pr.domain, pressure, p.invent_df, p.invent_shift, p.invent_scale, p.cost_mean,
            p.n_domains, model.agenda, p.lever_agenda)
        invent(model, who, effect, cost, difficulty, domain, pa)


@jit
def _invention_rate(p_invent, ingenuity, head, capacity, trial, tightness, rel_adversity,
                    pressure):
    """Each school's monthly chance to invent, before the step's length is applied.

    ``p_invent * ingenuity[head] * capacity * space * (1 + rel_adversity *
    pressure)``, multiplied in that order (numpy's), where ``space`` is 1 in a
    field-trial site (``trial >= 0``) and ``1 - tightness`` elsewhere.
    """
    out = np.empty(len(head))
    for i in range(len(head)):
        space = 1.0 if trial[i] >= 0 else 1.0 - tightness
        out[i] = (p_invent * ingenuity[head[i]] * capacity[i] * space
                  * (1.0 + rel_adversity * pressure[i]))
    return out


@jit
def _recombine(rng, who, slot_p, slot_depth, effect, cost, difficulty, domain, pressure, df,
               shift, scale, cost_mean, n_domains, agenda, lever_agenda):
    """:class:`Recombination`'s inventions by the schools ``who``, compiled whole.

    Returns the new practices' effect, cost, difficulty, domain and first
    parent (-1 for none). Draws what the rule drew in numpy, in its order:
    two uniforms per inventor (the parents, picked by depth: a filled slot
    weighs its depth plus 1e-9, the first slot whose running sum exceeds the
    draw times the total is taken), a Student-t per inventor (clipped to
    +-5), a lognormal (log-mean minus the school's pressure, log-sd 0.3), a
    normal (sd 0.1), a domain drawn uniformly (used only without parents), and
    with an agenda one more uniform (take the agenda's domain?).
    """
    m, k = len(who), slot_p.shape[1]
    u_a, u_b = rng.random(m), rng.random(m)
    parent = np.empty((2, m), np.int64)
    total = np.empty(m)
    cum = np.empty(k)
    for x in range(m):
        i, run = who[x], 0.0
        for j in range(k):
            run += slot_depth[i, j] + 1e-9 * (slot_p[i, j] != EMPTY)
            cum[j] = run
        total[x] = run
        parent[0, x] = slot_p[i, first_over(cum, u_a[x] * run)]
        parent[1, x] = slot_p[i, first_over(cum, u_b[x] * run)]
    t_draw = rng.standard_t(df, m)
    log_cost = np.empty(m)
    for x in range(m):
        log_cost[x] = rng.lognormal(-pressure[who[x]], 0.3)
    jitter = rng.normal(0.0, 0.1, m)
    any_domain = rng.integers(0, n_domains, m)
    to_agenda = rng.random(m) < lever_agenda if agenda >= 0 else np.zeros(m, np.bool_)
    new_effect, new_cost, new_difficulty = np.empty(m), np.empty(m), np.empty(m)
    new_domain = np.empty(m, np.int64)
    for x in range(m):
        has = parent[0, x] != EMPTY and total[x] > 0
        pa = parent[0, x] if has else EMPTY
        pb = parent[1, x] if has and parent[1, x] != EMPTY else pa
        parent[0, x] = pa
        ea = effect[max(pa, 0)] if has else 0.0
        eb = effect[max(pb, 0)] if has else 0.0
        new_effect[x] = 0.5 * (ea + eb) + (shift + scale * min(max(t_draw[x], -5.0), 5.0))
        parent_cost = 0.5 * (cost[max(pa, 0)] + cost[max(pb, 0)]) if has else cost_mean
        new_cost[x] = parent_cost * log_cost[x]
        d = (difficulty[max(pa, 0)] if has else 0.5) + jitter[x]
        new_difficulty[x] = min(max(d, 0.05), 0.95)
        new_domain[x] = domain[max(pa, 0)] if has else any_domain[x]
        if to_agenda[x]:
            new_domain[x] = agenda
    return new_effect, new_cost, new_difficulty, new_domain, parent[0]
