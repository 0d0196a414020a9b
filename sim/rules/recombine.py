"""The ``invent`` slot: practitioners invent new practice by recombining what they run."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.kernels import keyed_events
from sim.core.numerics import first_over, first_over_rows
from sim.core.registry import inherits
from sim.core.sources import GIBBONS_2007
from sim.core.state import EMPTY
from sim.rules import Param, Rule, register
from sim.rules.actions import invent

#: The methods :meth:`Recombination.inventions` stands for: a subclass overriding one runs them.
_WHOLE = ("inputs", "recombine", "recombine_compiled")
#: The methods :meth:`Recombination.inventors` stands for (with the model's ``occurs``).
_RATE = ("invention_rate", "invention_rate_compiled", "inventors", "inventors_compiled")

#: The decisions this rule draws for (``Recombination.decisions``), rows of its ``keys``.
DECISIONS = (
    "invent",
    "parent_a",
    "parent_b",
    "adapt",
    "cost",
    "difficulty",
    "domain",
    "agenda",
)
INVENT, PARENT_A, PARENT_B, ADAPT, COST, DIFFICULTY, DOMAIN, AGENDA = range(len(DECISIONS))


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
    adaptation (``invent_df``, ``invent_scale``, clipped to ``clip_t`` scales),
    shifted by ``invent_shift`` below zero: most inventions are no better, a
    few are much better (seed 000: "next practice... amplifying weak
    signals"; the heavy tail follows March 1991's exploration). Its cost
    follows the parents', cut by pressure (radical efficiency, seed 001); its
    domain is the agenda's with chance ``lever_agenda``, else its first
    parent's. Each draw is keyed by the inventing school and the step.
    """

    decisions = DECISIONS
    params = {
        "p_invent": Param(
            0.004,
            lo=0,
            hi=1,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.001, 0.01),
            sweep_ref="a judgement: seed 000 calls for practitioner-led invention but no rate of "
            "inventing is measured; an invention every 8 to 80 school-years at full space and "
            "capacity",
            ref=GIBBONS_2007,
            meaning="Chance a school invents a new practice in a month at full creative space, "
            "average ingenuity and full capacity.",
        ),
        "invent_shift": Param(
            -0.05,
            lo=-1,
            hi=1,
            unit="logit",
            kind="uncertainty",
            sweep=(-0.15, 0.05),
            sweep_ref="a judgement: no study compares inventions with their parents; large trials' "
            "effects near zero (Lortie-Forgues and Inglis 2019) suggest most are no better; most "
            "inventions worse than their parents, up to slightly better",
            meaning="Mean change of effect of an invention over its parents (below zero: most "
            "inventions are no better).",
        ),
        "invent_scale": Param(
            0.1,
            lo=0,
            hi=1,
            unit="logit",
            kind="uncertainty",
            sweep=(0.04, 0.16),
            sweep_ref="a judgement: how far an invention strays is unmeasured; the default +-60%",
            meaning="Scale of the change of effect of an invention (Student t).",
        ),
        "invent_df": Param(
            4.0,
            lo=1,
            hi=100,
            unit="1",
            kind="uncertainty",
            sweep=(2.0, 30.0),
            sweep_ref="a judgement: the shape of inventions' effects is unmeasured; a heavy tail "
            "(2: a few much better inventions) to near-normal (30)",
            meaning="Degrees of freedom of the invention's t distribution: low gives a heavy "
            "tail, so a few inventions are much better. Draws are truncated at clip_t "
            "scales either side.",
        ),
        "sd_log_cost": Param(
            0.3,
            lo=0,
            hi=2,
            unit="log",
            kind="uncertainty",
            sweep=(0.15, 0.6),
            sweep_ref="a judgement: how far an invention's cost strays from its parents' is "
            "unmeasured (docs/sources.md); half to twice the default spread",
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
            sweep_ref="a judgement: how far an invention's difficulty strays from its parent's is "
            "unmeasured; half to twice the default spread",
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
            sweep_ref="a judgement: a guard against implausible draws, not a measured bound; from "
            "a cut at 3 scales (2.9% of a df=3 t's draws beyond it on each side) to almost no cut "
            "(10)",
            meaning="Bound, in units of invent_scale, on the Student-t adaptation draw (clipped "
            "to +-this): keeps a rare extreme draw from making an implausible "
            "invention; 5 as before, an assumption, not from a source.",
        ),
    }

    def apply(self, model):
        """Draw this step's inventions.

        Who invents is ``model.occurs`` of the rates (a workshop's view of the model
        names a participant's school instead); what they invent is one call of
        :meth:`inventions` with plain arguments, unless a subclass overrides
        :meth:`inputs` or :meth:`recombine` (then those run).
        """
        s, p = model.schools, model.p
        rate_inputs = (
            self.value(model, "p_invent"),
            model.heads.ingenuity,
            s.head,
            s.capacity,
            s.trial,
            p.tightness,
            p.rel_adversity,
            s.budget,
        )
        if model.plain_monthly and inherits(type(self), Recombination, _RATE):  # in one call
            who, pressure = self.inventors(self.keys[INVENT], model.t, *rate_inputs)
        else:
            rate, pressure = self.invention_rate(*rate_inputs)
            who = model.occurs(rate, self.keys[INVENT])
        if len(who) == 0:
            return
        if not inherits(type(self), Recombination, _WHOLE):  # a plug-in's own methods
            got = self.recombine(self.keys, model.t, self.inputs(model, who, pressure))
            invent(model, who, *got)
            return
        pr = model.practices
        got = self.inventions(
            self.keys,
            model.t,
            who,
            s.slot_p,
            s.slot_depth,
            pr.effect,
            pr.cost,
            pr.difficulty,
            pr.domain,
            pressure,
            float(self.value(model, "invent_df")),
            float(self.value(model, "invent_shift")),
            float(self.value(model, "invent_scale")),
            p.cost_mean,
            p.n_domains,
            model.agenda,
            p.lever_agenda,
            float(self.value(model, "sd_log_cost")),
            float(self.value(model, "sd_difficulty_jitter")),
            float(self.value(model, "clip_t")),
        )
        invent(model, who, *got)

    @staticmethod
    def inventions(
        keys,
        t,
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
    ):
        """:meth:`recombine` of the :class:`RecombineInputs` made of these arguments, in order."""
        x = RecombineInputs(
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
        )
        return Recombination.recombine(keys, t, x)

    @staticmethod
    @jit
    def inventions_compiled(
        keys,
        t,
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
    ):
        """:meth:`inventions`, compiled: :meth:`recombine_compiled` called with plain arguments.

        The bundle is made inside the kernel: a call with plain arguments costs less
        than one with a named tuple.
        """
        x = RecombineInputs(
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
        )
        return _recombine_compiled(keys, t, x)

    def inputs(self, model, who: np.ndarray, pressure: np.ndarray) -> RecombineInputs:
        """What :meth:`recombine` reads to make the inventions of the schools ``who``."""
        s, p, pr = model.schools, model.p, model.practices
        return RecombineInputs(
            who=who,
            slot_p=s.slot_p,
            slot_depth=s.slot_depth,
            effect=pr.effect,
            cost=pr.cost,
            difficulty=pr.difficulty,
            domain=pr.domain,
            pressure=pressure,
            df=float(self.value(model, "invent_df")),
            shift=float(self.value(model, "invent_shift")),
            scale=float(self.value(model, "invent_scale")),
            cost_mean=p.cost_mean,
            n_domains=p.n_domains,
            agenda=model.agenda,
            lever_agenda=p.lever_agenda,
            sd_log_cost=float(self.value(model, "sd_log_cost")),
            sd_jitter=float(self.value(model, "sd_difficulty_jitter")),
            clip_t=float(self.value(model, "clip_t")),
        )

    @staticmethod
    def inventors(
        key, t, p_invent, ingenuity, head, capacity, trial, tightness, rel_adversity, budget
    ):
        """Who invents in a one-month step, ascending, and each school's pressure.

        :meth:`invention_rate`, then what ``model.occurs`` gives of the rates under
        ``key`` at a one-month step (:func:`sim.core.kernels.keyed_events` of each
        school's index): :meth:`apply`'s two asks in one call.
        """
        rate, pressure = Recombination.invention_rate(
            p_invent, ingenuity, head, capacity, trial, tightness, rel_adversity, budget
        )
        return keyed_events(key, t, rate, np.arange(len(rate))), pressure

    @staticmethod
    @jit
    def inventors_compiled(
        key, t, p_invent, ingenuity, head, capacity, trial, tightness, rel_adversity, budget
    ):
        """:meth:`inventors`, compiled: :meth:`invention_rate_compiled`, then ``keyed_events``."""
        rate, pressure = _invention_rate_compiled(
            p_invent, ingenuity, head, capacity, trial, tightness, rel_adversity, budget
        )
        return keyed_events(key, t, rate, np.arange(len(rate))), pressure

    @staticmethod
    def invention_rate(
        p_invent, ingenuity, head, capacity, trial, tightness, rel_adversity, budget
    ):
        """Each school's monthly chance to invent (before the step's length), and its pressure.

        Pressure is ``model.pressure()``: budget lost times capacity.
        """
        pressure = np.maximum(0.0, 1.0 - budget) * capacity
        # Creative space: what tightness leaves, or all of it in a field-trial site.
        space = np.where(trial >= 0, 1.0, 1.0 - tightness)
        rate = p_invent * ingenuity[head] * capacity * space * (1.0 + rel_adversity * pressure)
        return rate, pressure

    @staticmethod
    @jit
    def invention_rate_compiled(
        p_invent, ingenuity, head, capacity, trial, tightness, rel_adversity, budget
    ):
        """:meth:`invention_rate`, compiled: school by school in numpy's order.

        ``np.maximum(0.0, x)`` keeps a NaN, as the pressure's numpy form does.
        """
        out = np.empty(len(head))
        pressure = np.empty(len(head))
        for i in range(len(head)):
            lost = 1.0 - budget[i]
            pressure[i] = (lost if lost > 0.0 or lost != lost else 0.0) * capacity[i]
            space = 1.0 if trial[i] >= 0 else 1.0 - tightness
            out[i] = (
                p_invent
                * ingenuity[head[i]]
                * capacity[i]
                * space
                * (1.0 + rel_adversity * pressure[i])
            )
        return out, pressure

    @staticmethod
    def recombine(keys, t, x: RecombineInputs):
        """The inventions of the schools ``x.who``: effect, cost, difficulty, domain, parent."""
        who = x.who  # each draw keyed by (step, inventing school)
        # Two parents among the practices the school runs, picked in proportion to depth
        # (a filled slot weighs at least 1e-9, so a school running anything has parents).
        weight = x.slot_depth[who] + 1e-9 * (x.slot_p[who] != EMPTY)
        cum = np.cumsum(weight, axis=1)
        total = cum[:, -1]
        u_a, u_b = (
            draws.uniform(keys[PARENT_A], t, who, 0),
            draws.uniform(keys[PARENT_B], t, who, 0),
        )
        parent_a = x.slot_p[who, first_over_rows(cum, u_a * total)]
        parent_b = x.slot_p[who, first_over_rows(cum, u_b * total)]
        # The draws: a heavy-tailed adaptation, a cost factor cut by pressure (radical
        # efficiency), a difficulty jitter, a domain for an invention without parents,
        # and, with an agenda, whether it falls in the agenda's domain.
        t_draw = draws.student_t(keys[ADAPT], t, who, 0, x.df)
        cost_factor = draws.lognormal(keys[COST], t, who, 0, -x.pressure[who], x.sd_log_cost)
        jitter = x.sd_jitter * draws.normal(keys[DIFFICULTY], t, who, 0)
        any_domain = draws.integers(keys[DOMAIN], t, who, 0, x.n_domains)
        to_agenda = (
            draws.uniform(keys[AGENDA], t, who, 0) < x.lever_agenda
            if x.agenda >= 0
            else np.zeros(len(who), bool)
        )
        # Without parents (nothing run, or no depth) an invention starts from nothing.
        has = (parent_a != EMPTY) & (total > 0)
        pa = np.where(has, parent_a, EMPTY)
        pb = np.where(has & (parent_b != EMPTY), parent_b, pa)
        ia, ib = np.maximum(pa, 0), np.maximum(pb, 0)  # valid indices (masked by ``has``)
        parents = 0.5 * (np.where(has, x.effect[ia], 0.0) + np.where(has, x.effect[ib], 0.0))
        new_effect = parents + (x.shift + x.scale * np.clip(t_draw, -x.clip_t, x.clip_t))
        new_cost = np.where(has, 0.5 * (x.cost[ia] + x.cost[ib]), x.cost_mean) * cost_factor
        new_difficulty = np.clip(np.where(has, x.difficulty[ia], 0.5) + jitter, 0.05, 0.95)
        new_domain = np.where(has, x.domain[ia], any_domain).astype(np.int64)
        new_domain[to_agenda] = x.agenda
        return new_effect, new_cost, new_difficulty, new_domain, pa.astype(np.int64)

    @staticmethod
    @jit
    def recombine_compiled(keys, t, x):
        """:meth:`recombine`, compiled: inventor by inventor, the same keyed draws.

        Two uniforms per inventor (the parents: a filled slot weighs its depth
        plus 1e-9, the first slot whose running sum exceeds the draw times the
        total is taken), a Student t, a lognormal, a normal, a domain and, with
        an agenda, one more uniform, each keyed by the inventor and the step.
        """
        m, k = len(x.who), x.slot_p.shape[1]
        k_a, k_b, k_adapt = keys[PARENT_A], keys[PARENT_B], keys[ADAPT]
        k_cost, k_diff, k_domain, k_agenda = (
            keys[COST],
            keys[DIFFICULTY],
            keys[DOMAIN],
            keys[AGENDA],
        )
        cum = np.empty(k)
        new_effect, new_cost, new_difficulty = np.empty(m), np.empty(m), np.empty(m)
        new_domain = np.empty(m, np.int64)
        parent = np.empty(m, np.int64)
        for w in range(m):
            i, run = x.who[w], 0.0
            for j in range(k):
                run += x.slot_depth[i, j] + 1e-9 * (x.slot_p[i, j] != EMPTY)
                cum[j] = run
            parent_a = x.slot_p[i, first_over(cum, draws.uniform1(k_a, t, i, 0) * run)]
            parent_b = x.slot_p[i, first_over(cum, draws.uniform1(k_b, t, i, 0) * run)]
            has = parent_a != EMPTY and run > 0
            pa = parent_a if has else EMPTY
            pb = parent_b if has and parent_b != EMPTY else pa
            parent[w] = pa
            ea = x.effect[max(pa, 0)] if has else 0.0
            eb = x.effect[max(pb, 0)] if has else 0.0
            t_draw = draws.student_t1(k_adapt, t, i, 0, x.df)
            adapt = x.shift + x.scale * min(max(t_draw, -x.clip_t), x.clip_t)
            new_effect[w] = 0.5 * (ea + eb) + adapt
            parent_cost = 0.5 * (x.cost[max(pa, 0)] + x.cost[max(pb, 0)]) if has else x.cost_mean
            factor = draws.lognormal1(k_cost, t, i, 0, -x.pressure[i], x.sd_log_cost)
            new_cost[w] = parent_cost * factor
            jitter = x.sd_jitter * draws.normal1(k_diff, t, i, 0)
            d = (x.difficulty[max(pa, 0)] if has else 0.5) + jitter
            new_difficulty[w] = min(max(d, 0.05), 0.95)
            any_domain = draws.integer1(k_domain, t, i, 0, x.n_domains)
            new_domain[w] = x.domain[max(pa, 0)] if has else any_domain
            if x.agenda >= 0 and draws.uniform1(k_agenda, t, i, 0) < x.lever_agenda:
                new_domain[w] = x.agenda
        return new_effect, new_cost, new_difficulty, new_domain, parent


class RecombineInputs(NamedTuple):
    """What :class:`Recombination` reads to make the inventions of a step.

    Attributes:
        who: the inventing schools, ascending.
        slot_p, slot_depth: each school's practices and how deeply it runs them.
        effect, cost, difficulty, domain: each practice's.
        pressure: each school's pressure (budget lost times capacity).
        df, shift, scale: the Student-t adaptation's degrees of freedom, shift and scale
            (``recombine.invent_df``, ``recombine.invent_shift``, ``recombine.invent_scale``).
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


#: :meth:`Recombination.recombine_compiled`, for :meth:`Recombination.inventions_compiled`.
_recombine_compiled = Recombination.recombine_compiled
_invention_rate_compiled = Recombination.invention_rate_compiled
