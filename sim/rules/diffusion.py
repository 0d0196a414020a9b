"""Hearing of practices through ties, and judging them on noisy evidence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim.core.jit import jit, plain_args
from sim.core.numerics import first_over
from sim.core.state import CHOSEN, EMPTY
from sim.rules import Param, Rule, register
from sim.rules.actions import ValueInputs, cost_weight, take_up, value_inputs, value_of


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
        model.heard = Heard(
            *self.exchanges(
                self.kernel_rng,
                alive,
                t.a,
                t.b,
                t.trust,
                model.school_facilitation(),
                s.slot_p,
                s.slot_depth,
                model.per_step(model.p.p_exchange),
            )
        )


@jit
def _exchanges(rng, alive, a, b, trust, fac, slot_p, depth, p_exchange):
    """This step's exchanges: (school that heard, practice, tie), drawn from ``rng``.

    The draws, in order, as the rule's docstring says: how many ties are
    tried (binomial), which (uniform over the ties in force, with
    repetition), whether each carries (chance trust times the better
    facilitation of its ends), which way it goes, and which of the sender's
    practices it talks about (chance in proportion to depth). numba's
    ``Generator`` methods draw numpy's numbers from the same state, so the
    stream is the one a numpy form of this rule would draw.
    """
    k = rng.binomial(len(alive), p_exchange)
    tried = alive[rng.integers(0, len(alive), k)]
    carried = rng.random(k)
    e = np.empty(k, np.int64)
    n = 0
    for x in range(k):
        tie = tried[x]
        if carried[x] < trust[tie] * max(fac[a[tie]], fac[b[tie]]):
            e[n] = tie
            n += 1
    flip = rng.random(n)
    pick = rng.random(n)
    width = slot_p.shape[1]
    cum = np.empty(width)
    school, practice, via = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    m = 0
    for x in range(n):
        tie = e[x]
        recv, send = (a[tie], b[tie]) if flip[x] < 0.5 else (b[tie], a[tie])
        total = depth[send, 0]
        cum[0] = total
        for j in range(1, width):  # running sum of the sender's depth, slot by slot
            total += depth[send, j]
            cum[j] = total
        pid = slot_p[send, first_over(cum, pick[x] * total)]
        if total > 0 and pid != EMPTY:
            school[m], practice[m], via[m] = recv, pid, tie
            m += 1
    return school[:m], practice[:m], via[:m]


#: The rule's compute function: compiled here, its numpy form in ``word_of_mouth_numpy``.
WordOfMouth.exchanges = staticmethod(_exchanges)


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

    params = {
        "w_agenda": Param(
            0.8,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.4, 1.0),
            sweep_ref="an agenda that narrows attention a little to almost wholly",
            ref="Fullan, Testing systemic solutions (NCSL 2006), seed 003",
            meaning="Share of off-agenda ideas a head sets aside at a full agenda lever (the "
            "share is this times lever_agenda): how much a national agenda narrows "
            "attention. An assumption of the model, not calibrated.",
        ),
    }

    def apply(self, model):
        """Judge this step's heard practices."""
        h = model.heard
        if len(h.school) == 0:
            return
        want, margin = self.judge(
            self.kernel_rng, judge_inputs(model, h, self.value(model, "w_agenda"))
        )
        idx = np.flatnonzero(want)
        if len(idx) == 0:
            return
        # Best idea per school first (largest margin over the bar), so take_up keeps it.
        order = idx[np.lexsort((-margin[idx], h.school[idx]))]
        take_up(model, h.school[order], h.practice[order], CHOSEN, source=h.tie[order])


class JudgeInputs(NamedTuple):
    """What :class:`JudgedAdoption` reads, one row per heard item where marked so.

    Attributes:
        school, practice, tie: the heard items (:class:`Heard`).
        openness: the hearing school's head's openness, per item.
        capacity: each school's capacity, 0 to 1.
        capacity_absorb: capacity from which a head considers all it hears.
        agenda: the national agenda's domain, or -1 for none.
        lever_agenda: the agenda lever, 0 to 1.
        w_agenda: share of off-agenda ideas set aside at a full agenda lever.
        domain, effect, difficulty: each practice's domain, true effect, difficulty.
        sd_judge: sd of the noise on a peer's account of a practice.
        threshold_adopt: net judged value a practice must clear.
        rate_trust: the share of the way a tie's trust moves after an exchange.
        trust: each tie's trust (written: trust follows the exchange's usefulness).
        spare: the hearing school's spare capacity, per item (``model.spare_capacity``).
        values: :class:`sim.rules.actions.ValueInputs`.
    """

    school: np.ndarray
    practice: np.ndarray
    tie: np.ndarray
    openness: np.ndarray
    capacity: np.ndarray
    capacity_absorb: float
    agenda: int
    lever_agenda: float
    w_agenda: float
    domain: np.ndarray
    effect: np.ndarray
    sd_judge: float
    threshold_adopt: float
    rate_trust: float
    trust: np.ndarray
    spare: np.ndarray
    difficulty: np.ndarray
    values: ValueInputs


def judge_inputs(model, heard: Heard, w_agenda: float) -> JudgeInputs:
    """:class:`JudgeInputs` of this step's heard items (``w_agenda``: the rule's parameter)."""
    s, pr, p = model.schools, model.practices, model.p
    return JudgeInputs(
        heard.school,
        heard.practice,
        heard.tie,
        model.heads.openness[s.head[heard.school]],
        s.capacity,
        p.capacity_absorb,
        model.agenda,
        p.lever_agenda,
        w_agenda,
        pr.domain,
        pr.effect,
        p.sd_judge,
        p.threshold_adopt,
        p.rate_trust,
        model.ties.trust,
        model.spare_capacity(heard.school),
        pr.difficulty,
        value_inputs(model),
    )


@jit
def _judge(rng, inputs):
    """:class:`JudgedAdoption`'s judgement of each heard item, compiled whole.

    Draws, in this order, one uniform per item (considered?), one more per item
    when there is an agenda (an off-agenda idea set aside, with chance
    ``w_agenda * lever_agenda``?), and one normal per
    item (the peer's account): numpy's numbers, as the rule drew them in numpy.
    Moves trust on each item's tie (all from the trust before this step's
    exchanges, the last write winning for a tie heard on twice, as numpy's
    ``trust[tie] += ...`` does). ``inputs``: :class:`JudgeInputs`.

    Returns:
        ``want``: considered, useful and not already run; ``margin``: net judged
        value over the bar it had to clear.
    """
    (
        school,
        practice,
        tie,
        openness,
        capacity,
        capacity_absorb,
        agenda,
        lever_agenda,
        w_agenda,
        domain,
        effect,
        sd_judge,
        threshold_adopt,
        rate_trust,
        trust,
        spare,
        difficulty,
        values,
    ) = inputs
    (slot_p, obs, nobs, budget, ev_prec, ev_mean, cost, sd2, lever_evidence, prec_0, rel_cost) = (
        values
    )
    m = len(school)
    u_consider = rng.random(m)
    u_agenda = rng.random(m) if agenda >= 0 else u_consider
    noise = rng.normal(0.0, sd_judge, m)
    prec_j = 1.0 / sd_judge**2
    width = slot_p.shape[1]
    want = np.zeros(m, np.bool_)
    margin = np.empty(m)
    moved = np.empty(m)
    for x in range(m):
        i, pid = school[x], practice[x]
        absorb = min(1.0, capacity[i] / capacity_absorb)
        consider = u_consider[x] < openness[x] * absorb
        if agenda >= 0 and domain[pid] != agenda:
            consider &= u_agenda[x] >= w_agenda * lever_agenda
        signal = effect[pid] + noise[x]
        prec_e = lever_evidence * ev_prec[pid]
        judged = (prec_j * signal + prec_e * ev_mean[pid]) / (prec_j + prec_e + prec_0)
        net = judged - cost_weight(rel_cost, cost[pid], budget[i])
        # With room (an empty slot and capacity to spare) the bar is the threshold;
        # otherwise the idea must beat the practice the school values least.
        worst = np.inf  # row_min of the school's slot values
        for j in range(width):
            v = value_of(
                slot_p[i, j],
                obs[i, j],
                nobs[i, j],
                budget[i],
                ev_prec,
                ev_mean,
                cost,
                sd2,
                lever_evidence,
                prec_0,
                rel_cost,
            )
            worst = min(worst, v)
        has_room = spare[x] >= difficulty[pid]
        if np.isinf(worst) and has_room:
            bar = threshold_adopt
        else:
            bar = max(0.0 if np.isinf(worst) else worst, 0.0) + threshold_adopt
        useful = net > bar
        moved[x] = trust[tie[x]] + rate_trust * ((1.0 if useful else 0.0) - trust[tie[x]])
        already = False
        for j in range(width):
            already |= slot_p[i, j] == pid
        want[x] = consider and useful and not already
        margin[x] = net - bar
    for x in range(m):  # trust follows the usefulness of the exchange
        trust[tie[x]] = moved[x]
    return want, margin


#: The rule's compute function: compiled here, its numpy form in ``judged_numpy``.
JudgedAdoption.judge = staticmethod(plain_args(_judge))
