"""Practitioners invent new practice by recombining and adapting what they run."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core.jit import jit, plain_args
from sim.core.numerics import first_over
from sim.core.state import EMPTY
from sim.rules import Param, Rule, register
from sim.rules.actions import invent


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

    params = {
        "sd_log_cost": Param(
            0.3,
            lo=0,
            hi=2,
            unit="log",
            kind="uncertainty",
            sweep=(0.15, 0.6),
            sweep_ref="half to twice the default spread",
            meaning="Log-sd of an invention's cost factor around its parents' cost (cut by "
            "pressure): how much an invention's cost strays from its parents'; 0.3 as "
            "before, an assumption, not from a source.",
        ),
        "sd_difficulty_jitter": Param(
            0.1,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.05, 0.2),
            sweep_ref="half to twice the default spread",
            meaning="Sd of the jitter added to an invention's difficulty (its first parent's, "
            "or 0.5 without parents; clipped to 0.05..0.95); 0.1 as before, an "
            "assumption, not from a source.",
        ),
        "clip_t": Param(
            5.0,
            lo=0,
            hi=100,
            unit="1",
            kind="uncertainty",
            sweep=(3.0, 10.0),
            sweep_ref="from a tail cut near the df=3 t's 2% quantile to almost no cut",
            meaning="Bound, in units of invent_scale, on the Student-t adaptation draw (clipped "
            "to +-this): keeps a rare extreme draw from making an implausible "
            "invention; 5 as before, an assumption, not from a source.",
        ),
    }

    def apply(self, model):
        """Draw this step's inventions."""
        s, p, pr = model.schools, model.p, model.practices
        pressure = model.pressure()
        rate = self.invention_rate(
            p.p_invent,
            model.heads.ingenuity,
            s.head,
            s.capacity,
            s.trial,
            p.tightness,
            p.rel_adversity,
            pressure,
        )
        who = model.occurs(rate, self.kernel_rng)
        if len(who) == 0:
            return
        effect, cost, difficulty, domain, pa = self.recombine(
            self.kernel_rng,
            RecombineInputs(
                who,
                s.slot_p,
                s.slot_depth,
                pr.effect,
                pr.cost,
                pr.difficulty,
                pr.domain,
                pressure,
                p.invent_df,
                p.invent_shift,
                p.invent_scale,
                p.cost_mean,
                p.n_domains,
                model.agenda,
                p.lever_agenda,
                float(self.value(model, "sd_log_cost")),
                float(self.value(model, "sd_difficulty_jitter")),
                float(self.value(model, "clip_t")),
            ),
        )
        invent(model, who, effect, cost, difficulty, domain, pa)


class RecombineInputs(NamedTuple):
    """What :class:`Recombination` reads to make the inventions of a step.

    Attributes:
        who: the inventing schools, ascending.
        slot_p, slot_depth: each school's practices and how deeply it runs them.
        effect, cost, difficulty, domain: each practice's.
        pressure: each school's pressure (budget lost times capacity).
        df, shift, scale: the Student-t adaptation's degrees of freedom, shift and scale.
        cost_mean: the mean cost of a practice (an invention without parents costs it).
        n_domains: how many domains practice falls in.
        agenda: the national agenda's domain, or -1 for none.
        lever_agenda: the agenda lever, 0 to 1.
        sd_log_cost: the log-sd of an invention's cost factor (``recombine.sd_log_cost``).
        sd_jitter: the sd of its difficulty's jitter (``recombine.sd_difficulty_jitter``).
        clip_t: the bound on the Student-t draw (``recombine.clip_t``).
    """

    who: np.ndarray
    slot_p: np.ndarray
    slot_depth: np.ndarray
    effect: np.ndarray
    cost: np.ndarray
    difficulty: np.ndarray
    domain: np.ndarray
    pressure: np.ndarray
    df: float
    shift: float
    scale: float
    cost_mean: float
    n_domains: int
    agenda: int
    lever_agenda: float
    sd_log_cost: float
    sd_jitter: float
    clip_t: float


@jit
def _invention_rate(p_invent, ingenuity, head, capacity, trial, tightness, rel_adversity, pressure):
    """Each school's monthly chance to invent, before the step's length is applied.

    ``p_invent * ingenuity[head] * capacity * space * (1 + rel_adversity *
    pressure)``, multiplied in that order (numpy's), where ``space`` is 1 in a
    field-trial site (``trial >= 0``) and ``1 - tightness`` elsewhere.
    """
    out = np.empty(len(head))
    for i in range(len(head)):
        space = 1.0 if trial[i] >= 0 else 1.0 - tightness
        out[i] = (
            p_invent
            * ingenuity[head[i]]
            * capacity[i]
            * space
            * (1.0 + rel_adversity * pressure[i])
        )
    return out


@jit
def _recombine(rng, inputs):
    """:class:`Recombination`'s inventions by the schools ``who``, compiled whole.

    Returns the new practices' effect, cost, difficulty, domain and first
    parent (-1 for none). Draws what the rule drew in numpy, in its order:
    two uniforms per inventor (the parents, picked by depth: a filled slot
    weighs its depth plus 1e-9, the first slot whose running sum exceeds the
    draw times the total is taken), a Student-t per inventor (clipped to
    +-``clip_t``), a lognormal (log-mean minus the school's pressure, log-sd
    ``sd_log_cost``), a normal (sd ``sd_jitter``), a domain drawn uniformly
    (used only without parents), and with an agenda one more uniform (take
    the agenda's domain?). ``inputs``: :class:`RecombineInputs`.
    """
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
        log_cost[x] = rng.lognormal(-pressure[who[x]], sd_log_cost)
    jitter = rng.normal(0.0, sd_jitter, m)
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
        new_effect[x] = 0.5 * (ea + eb) + (shift + scale * min(max(t_draw[x], -clip_t), clip_t))
        parent_cost = 0.5 * (cost[max(pa, 0)] + cost[max(pb, 0)]) if has else cost_mean
        new_cost[x] = parent_cost * log_cost[x]
        d = (difficulty[max(pa, 0)] if has else 0.5) + jitter[x]
        new_difficulty[x] = min(max(d, 0.05), 0.95)
        new_domain[x] = domain[max(pa, 0)] if has else any_domain[x]
        if to_agenda[x]:
            new_domain[x] = agenda
    return new_effect, new_cost, new_difficulty, new_domain, parent[0]


#: The rule's compute functions: compiled here, their numpy forms in ``recombine_numpy``.
Recombination.invention_rate = staticmethod(_invention_rate)
Recombination.recombine = staticmethod(plain_args(_recombine))
