"""Hearing of practices through ties, and judging them on noisy evidence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.actions import slot_value, take_up
from sim.numerics import row_any, row_count, row_cumsum, row_min
from sim.rules import Rule, register
from sim.state import CHOSEN, EMPTY


@dataclass
class Heard:
    """What schools heard this step: one row per exchange.

    Attributes:
        school: the school that heard.
        practice: the practice it heard of.
        tie: the tie the exchange travelled on.
    """

    school: np.ndarray
    practice: np.ndarray
    tie: np.ndarray

    @classmethod
    def none(cls) -> Heard:
        """Nothing heard."""
        z = np.zeros(0, np.int64)
        return cls(z, z, z)


@register("hear", "word_of_mouth", default=True)
class WordOfMouth(Rule):
    """Heads hear of practices from schools they are tied to.

    Each tie carries an exchange in a step with chance ``p_exchange`` times its
    trust times the facilitation its schools find (the better facilitated end
    counts): Fullan's five components of effective networks make exchange
    happen (enquiry, trust, facilitation; seed 003). The exchange goes one way,
    either way at random, and the sender talks about one of its practices,
    chosen in proportion to how deeply it runs them: deep practice is visible
    practice. Heard items go to ``model.heard`` for the ``adopt`` slot.
    """

    def apply(self, model):
        """Sample this step's exchanges."""
        t, s = model.ties, model.schools
        alive = model.alive_ties()
        model.heard = Heard.none()
        if len(alive) == 0:
            return
        pmax = model.per_step(model.p.p_exchange)
        k = model.rng.binomial(len(alive), pmax)
        e = alive[model.rng.integers(0, len(alive), k)]
        fac = model.school_facilitation()
        accept = t.trust[e] * np.maximum(fac[t.a[e]], fac[t.b[e]])
        e = e[model.rng.random(k) < accept]
        flip = model.rng.random(len(e)) < 0.5
        recv = np.where(flip, t.a[e], t.b[e])
        send = np.where(flip, t.b[e], t.a[e])
        depth = s.slot_depth[send]
        cum = row_cumsum(depth)
        total = cum[:, -1]
        has = total > 0
        u = model.rng.random(len(send)) * total
        col = np.minimum(row_count(u[:, None] >= cum), cum.shape[1] - 1)
        practice = s.slot_p[send, col]
        ok = has & (practice != EMPTY)
        model.heard = Heard(recv[ok], practice[ok], e[ok])


@register("adopt", "judged", default=True)
class JudgedAdoption(Rule):
    """A head judges a practice heard of on noisy evidence, and adopts or not.

    An open head considers the idea, with chance ``openness`` times the
    school's capacity over ``capacity_absorb`` (at most 1): absorptive
    capacity (Cohen and Levinthal 1990) means stronger schools take in more
    of what they hear. Ideas outside the
    national agenda's domain are considered less often (``lever_agenda``,
    Fullan's rallying point). The head's judgement pools three sources by
    precision: the peer's account (the true effect plus noise ``sd_judge``),
    published evidence weighted by the evidence lever (Fullan's evidence-based
    decision-making), and a sceptical prior centred on no effect. The judged
    effect less the cost's weight must beat ``threshold_adopt`` and, when the
    school has no empty slot or no spare capacity for the practice's
    difficulty, also the practice it values least by that margin. Of
    several ideas in a step, the head takes the best. Trust on the tie moves
    up after an exchange the head judged useful, down after a useless one.
    """

    def apply(self, model):
        """Judge this step's heard practices."""
        h = model.heard
        if len(h.school) == 0:
            return
        s, pr, p, rng = model.schools, model.practices, model.p, model.rng
        school, practice, tie = h.school, h.practice, h.tie
        head = s.head[school]
        absorb = np.minimum(1.0, s.capacity[school] / p.capacity_absorb)
        consider = rng.random(len(school)) < model.heads.openness[head] * absorb
        if model.agenda >= 0:
            off = pr.domain[practice] != model.agenda
            consider &= ~off | (rng.random(len(school)) >= 0.8 * p.lever_agenda)
        signal = pr.effect[practice] + rng.normal(0.0, p.sd_judge, len(school))
        prec_j = 1.0 / p.sd_judge**2
        prec_e = p.lever_evidence * pr.ev_prec[practice]
        prec_0 = 1.0 / p.sd_prior**2
        judged = (prec_j * signal + prec_e * pr.ev_mean[practice]) / (prec_j + prec_e + prec_0)
        net = judged - p.rel_cost * pr.cost[practice] / s.budget[school]
        # With room (an empty slot and capacity to spare) the bar is the threshold;
        # otherwise the idea must beat the practice the school values least.
        worst = row_min(slot_value(model, school))
        room = model.spare_capacity(school) >= pr.difficulty[practice]
        bar = np.where(np.isinf(worst) & room, p.threshold_adopt,
                       np.maximum(np.where(np.isinf(worst), 0.0, worst), 0.0)
                       + p.threshold_adopt)
        useful = net > bar
        # Trust follows the usefulness of the exchange.
        rate = p.rate_trust
        model.ties.trust[tie] += rate * (useful.astype(float) - model.ties.trust[tie])
        want = consider & useful
        already = row_any(s.slot_p[school] == practice[:, None])
        want &= ~already
        idx = np.flatnonzero(want)
        if len(idx) == 0:
            return
        # Best idea per school first, so take_up keeps it.
        order = idx[np.lexsort((-(net[idx] - bar[idx]), school[idx]))]
        take_up(model, school[order], practice[order], CHOSEN, source=tie[order])
