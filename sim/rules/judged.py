"""The ``adopt`` slot: a head judges a practice heard of on noisy evidence, and adopts or not."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.kernels import slot_sum
from sim.core.registry import inherits
from sim.core.state import CHOSEN
from sim.rules import Param, Rule, register
from sim.rules.actions import (
    MIN_BUDGET,
    ProtectionInputs,
    ValueInputs,
    cost_weight,
    slot_values,
    take_up,
    take_up_slots,
    take_up_slots_compiled,
    value_at,
    value_inputs,
)

#: The methods :meth:`JudgedAdoption.adopt` runs as one: a subclass overriding one runs them
#: one by one (:meth:`JudgedAdoption.apply_in_parts`).
_WHOLE = ("inputs", "judge", "judge_compiled")

#: The decisions this rule draws for (``JudgedAdoption.decisions``), rows of its ``keys``.
DECISIONS = ("consider", "agenda", "judge")
CONSIDER, AGENDA, JUDGE = range(len(DECISIONS))


@register("adopt", "judged", default=True)
class JudgedAdoption(Rule):
    """A head judges a practice heard of on noisy evidence, and adopts or not.

    An open head considers the idea, with chance ``openness`` times the
    school's capacity over ``capacity_absorb`` (at most 1): absorptive
    capacity (Cohen and Levinthal 1990) means stronger schools take in more
    of what they hear. Ideas outside the national agenda's domain are
    considered less often (``w_agenda`` times ``lever_agenda``, Fullan's
    rallying point). The head's judgement pools three sources by precision:
    the peer's account (the true effect plus noise ``sd_judge``), published
    evidence weighted by the evidence lever (Fullan's evidence-based
    decision-making), and a sceptical prior centred on no effect. The judged
    effect less the cost's weight must beat ``threshold_adopt`` and, when the
    school has no empty slot or no spare capacity for the practice's
    difficulty, also the practice it values least by that margin. Of several
    ideas in a step, the head takes the best. Trust on the tie moves
    (``rate_trust``) up after an exchange the head judged useful, down after
    a useless one. Each draw is keyed by the school, the practice and the step.
    """

    decisions = DECISIONS
    params = {
        "w_agenda": Param(
            0.8,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.4, 1.0),
            sweep_ref="a judgement: seed 003 names a national agenda as a rallying point, not how "
            "far it narrows attention; from a little (0.4) to almost wholly (1)",
            ref="Fullan, Testing systemic solutions (NCSL 2006), seed 003",
            meaning="Share of off-agenda ideas a head sets aside at a full agenda lever (the "
            "share is this times lever_agenda): how much a national agenda narrows "
            "attention. An assumption of the model, not calibrated.",
        ),
        "capacity_absorb": Param(
            0.5,
            lo=0.01,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.3, 0.8),
            sweep_ref="a judgement: Cohen and Levinthal 1990 name absorptive capacity but give no "
            "level on this scale; reached by a weak-average (0.3) to a strong (0.8) school",
            meaning="Capacity from which a head takes in everything they hear; below it, in "
            "proportion (absorptive capacity, Cohen and Levinthal 1990).",
        ),
        "threshold_adopt": Param(
            0.03,
            lo=-1,
            hi=1,
            unit="logit",
            kind="uncertainty",
            sweep=(0.0, 0.1),
            sweep_ref="a judgement: no study measures the gain a head needs to adopt; from any "
            "judged gain up to 0.1 logit (about 0.06 SD, the mean effect of large trials: "
            "Lortie-Forgues and Inglis 2019)",
            meaning="Least judged net gain for which a head adopts.",
        ),
    }

    def apply(self, model):
        """Judge this step's heard practices; take up the best of each school's.

        One call of :meth:`adopt` (one compiled call): the arrays it reads, gathered here.
        """
        h = model.heard
        if len(h.school) == 0:
            return
        if not inherits(type(self), JudgedAdoption, _WHOLE):  # a plug-in's own judge
            self.apply_in_parts(model)
            return
        s, pr, p = model.schools, model.practices, model.p
        held = getattr(model, "held", None) if getattr(model, "in_step", False) else None
        model.counts["adoptions"] += self.adopt(
            self.keys,
            model.t,
            h.school,
            h.practice,
            h.tie,
            model.heads.openness,
            s.head,
            s.capacity,
            float(self.value(model, "capacity_absorb")),
            int(model.agenda),
            float(p.lever_agenda),
            float(self.value(model, "w_agenda")),
            pr.domain,
            pr.effect,
            pr.uid,
            float(p.sd_judge),
            float(self.value(model, "threshold_adopt")),
            float(p.rate_trust),
            model.ties.trust,
            float(p.n_focus),
            float(p.difficulty_focus),
            pr.difficulty,
            s.slot_p,
            s.slot_obs,
            s.slot_nobs,
            s.budget,
            pr.ev_prec,
            pr.ev_mean,
            pr.cost,
            float(model.sd_observe_eff**2),
            float(p.lever_evidence),
            float(1.0 / p.sd_prior**2),
            float(p.rel_cost),
            held,
            float(p.init_own_chosen),
            s.slot_depth,
            s.slot_own,
            s.slot_source,
            s.slot_since,
            s.slot_channel,
            float(p.dur_step),
            float(p.dur_commit),
            np.asarray(model.mandates, np.int64),
        )

    def apply_in_parts(self, model):
        """:meth:`apply` method by method: :meth:`inputs`, :meth:`judge`, then take-ups.

        What runs when a subclass overrides one of them (its own then runs).
        """
        h = model.heard
        want, margin = self.judge(self.keys, model.t, self.inputs(model))
        idx = np.flatnonzero(want)
        if len(idx) == 0:
            return
        # Best idea per school first (largest margin over the bar), so take_up keeps it.
        order = idx[np.lexsort((-margin[idx], h.school[idx]))]
        take_up(model, h.school[order], h.practice[order], CHOSEN, source=h.tie[order])

    @staticmethod
    def adopt(
        keys,
        t,
        school,
        practice,
        tie,
        openness,
        head,
        capacity,
        capacity_absorb,
        agenda,
        lever_agenda,
        w_agenda,
        domain,
        effect,
        uid,
        sd_judge,
        threshold_adopt,
        rate_trust,
        trust,
        n_focus,
        difficulty_focus,
        difficulty,
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
        held,
        own,
        depth,
        own_a,
        source_a,
        since,
        channel_a,
        dur_step,
        dur_commit,
        mandates,
    ) -> int:
        """The heard items judged (:meth:`judge`) and the best of each school's taken up.

        The items' heads' openness is ``openness[head[school]]``, their schools'
        spare capacity ``model.spare_capacity`` (capacity times ``n_focus`` times
        ``difficulty_focus``, less the difficulty of what the school runs). Items
        of schools ``held`` (None: none) are set aside; of each school's wanted
        items, the one of largest margin (the first of equal ones) is taken up
        (:func:`sim.rules.actions.take_up_slots`, channel chosen, ownership
        ``own``, source its tie), schools in ascending order. Returns how many
        were taken up.
        """
        values = ValueInputs(
            slot_p, obs, nobs, budget, ev_prec, ev_mean, cost, sd2, lever, prec0, rel_cost
        )
        spare = capacity[school] * n_focus * difficulty_focus - slot_sum(slot_p[school], difficulty)
        x = JudgeInputs(
            school,
            practice,
            tie,
            openness[head[school]],
            capacity,
            capacity_absorb,
            agenda,
            lever_agenda,
            w_agenda,
            domain,
            effect,
            uid,
            sd_judge,
            threshold_adopt,
            rate_trust,
            trust,
            spare,
            difficulty,
            values,
        )
        want, margin = JudgedAdoption.judge(keys, t, x)
        if held is not None:  # a participant's school: their choice, not the rule's
            want &= ~held[school]
        idx = np.flatnonzero(want)
        if len(idx) == 0:
            return 0
        # Best idea per school first (largest margin over the bar), so take-up keeps it.
        order = idx[np.lexsort((-margin[idx], school[idx]))]
        protection = ProtectionInputs(since, channel_a, t, dur_step, dur_commit, mandates)
        ok = take_up_slots(
            school[order],
            practice[order],
            tie[order],
            own,
            CHOSEN,
            depth,
            own_a,
            source_a,
            values,
            protection,
        )
        return int(np.count_nonzero(ok))

    @staticmethod
    @jit
    def adopt_compiled(
        keys,
        t,
        school,
        practice,
        tie,
        openness,
        head,
        capacity,
        capacity_absorb,
        agenda,
        lever_agenda,
        w_agenda,
        domain,
        effect,
        uid,
        sd_judge,
        threshold_adopt,
        rate_trust,
        trust,
        n_focus,
        difficulty_focus,
        difficulty,
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
        held,
        own,
        depth,
        own_a,
        source_a,
        since,
        channel_a,
        dur_step,
        dur_commit,
        mandates,
    ):
        """:meth:`adopt`, compiled: judging and taking up in one call.

        :meth:`judge_compiled`, then each school's best item to
        :func:`sim.rules.actions.take_up_slots_compiled`.

        A school's best is its wanted item of largest margin (the first of equal
        margins; a NaN margin only if all are), as ``np.lexsort`` orders them.
        """
        values = ValueInputs(
            slot_p, obs, nobs, budget, ev_prec, ev_mean, cost, sd2, lever, prec0, rel_cost
        )
        spare = capacity[school] * n_focus * difficulty_focus - slot_sum(slot_p[school], difficulty)
        x = JudgeInputs(
            school,
            practice,
            tie,
            openness[head[school]],
            capacity,
            capacity_absorb,
            agenda,
            lever_agenda,
            w_agenda,
            domain,
            effect,
            uid,
            sd_judge,
            threshold_adopt,
            rate_trust,
            trust,
            spare,
            difficulty,
            values,
        )
        want, margin = _judge_compiled(keys, t, x)
        best = np.full(slot_p.shape[0], -1, np.int64)
        m = 0
        for k in range(len(school)):
            i = school[k]
            if not want[k] or (held is not None and held[i]):
                continue
            b = best[i]
            if b < 0:
                best[i] = k
                m += 1
            elif margin[k] > margin[b] or (margin[b] != margin[b] and margin[k] == margin[k]):
                best[i] = k
        if m == 0:
            return 0
        sel = np.empty(m, np.int64)
        c = 0
        for i in range(len(best)):  # schools in ascending order, as the lexsort puts them
            if best[i] >= 0:
                sel[c] = best[i]
                c += 1
        protection = ProtectionInputs(since, channel_a, t, dur_step, dur_commit, mandates)
        ok = take_up_slots_compiled(
            school[sel],
            practice[sel],
            tie[sel],
            own,
            CHOSEN,
            depth,
            own_a,
            source_a,
            values,
            protection,
        )
        return np.count_nonzero(ok)

    def inputs(self, model) -> JudgeInputs:
        """What :meth:`judge` reads this step (:class:`JudgeInputs`)."""
        h, s, pr, p = model.heard, model.schools, model.practices, model.p
        return JudgeInputs(
            school=h.school,
            practice=h.practice,
            tie=h.tie,
            openness=model.heads.openness[s.head[h.school]],
            capacity=s.capacity,
            capacity_absorb=self.value(model, "capacity_absorb"),
            agenda=model.agenda,
            lever_agenda=p.lever_agenda,
            w_agenda=self.value(model, "w_agenda"),
            domain=pr.domain,
            effect=pr.effect,
            uid=pr.uid,
            sd_judge=p.sd_judge,
            threshold_adopt=self.value(model, "threshold_adopt"),
            rate_trust=p.rate_trust,
            trust=model.ties.trust,
            spare=model.spare_capacity(h.school),
            difficulty=pr.difficulty,
            values=value_inputs(model),
        )

    @staticmethod
    def judge(keys, t, x: JudgeInputs) -> tuple[np.ndarray, np.ndarray]:
        """Each heard item judged: (want it, margin of its net judged value over the bar).

        Moves trust on each item's tie (a tie heard on twice: the last item's move wins).
        """
        v = x.values
        uid = x.uid[x.practice]  # each draw keyed by (step, school, practice)
        # Does the head consider the idea? Openness times absorptive capacity (at most 1).
        consider = draws.uniform(keys[CONSIDER], t, x.school, uid) < x.openness * np.minimum(
            1.0, x.capacity[x.school] / x.capacity_absorb
        )
        if x.agenda >= 0:  # an idea off the national agenda is set aside more often
            off_agenda = x.domain[x.practice] != x.agenda
            u_agenda = draws.uniform(keys[AGENDA], t, x.school, uid)
            consider &= ~off_agenda | (u_agenda >= x.w_agenda * x.lever_agenda)
        # The judgement pools, by precision, the peer's noisy account, the published
        # evidence (weighted by the evidence lever) and a sceptical prior at 0.
        signal = x.effect[x.practice] + x.sd_judge * draws.normal(keys[JUDGE], t, x.school, uid)
        prec_j = 1.0 / x.sd_judge**2
        prec_e = v.lever * v.ev_prec[x.practice]
        judged = (prec_j * signal + prec_e * v.ev_mean[x.practice]) / (prec_j + prec_e + v.prec0)
        net = judged - v.rel_cost * v.cost[x.practice] / np.maximum(v.budget[x.school], MIN_BUDGET)
        # The bar: the threshold if the school has an empty slot and capacity to spare,
        # else the threshold over the value of the practice it values least.
        worst = slot_values(v, x.school).min(axis=1)
        has_room = x.spare >= x.difficulty[x.practice]
        bar = np.where(
            np.isinf(worst) & has_room,
            x.threshold_adopt,
            np.maximum(np.where(np.isinf(worst), 0.0, worst), 0.0) + x.threshold_adopt,
        )
        useful = net > bar
        # Trust on the tie follows the usefulness of the exchange.
        x.trust[x.tie] = x.trust[x.tie] + x.rate_trust * (useful - x.trust[x.tie])
        already = (v.slot_p[x.school] == x.practice[:, None]).any(axis=1)
        return consider & useful & ~already, net - bar

    @staticmethod
    @jit
    def judge_compiled(keys, t, x):
        """:meth:`judge`, compiled: item by item, the same keyed draws and arithmetic.

        A uniform per item (considered?), one more when there is an agenda and
        the idea is off it (set aside?), and a normal (the peer's account),
        each keyed by the item's school, its practice and the step. Every
        tie's trust moves from its value before this step's exchanges (the
        last write wins for a tie heard on twice, as numpy's ``trust[tie] =
        ...`` does). The least valued slot is :func:`sim.rules.actions.value_of`
        over the school's slots.
        """
        v, m = x.values, len(x.school)
        k_consider, k_agenda, k_judge = keys[CONSIDER], keys[AGENDA], keys[JUDGE]
        prec_j = 1.0 / x.sd_judge**2
        width = v.slot_p.shape[1]
        want = np.zeros(m, np.bool_)
        margin = np.empty(m)
        moved = np.empty(m)
        for k in range(m):
            i, pid = x.school[k], x.practice[k]
            uid = x.uid[pid]
            absorb = min(1.0, x.capacity[i] / x.capacity_absorb)
            consider = draws.uniform1(k_consider, t, i, uid) < x.openness[k] * absorb
            if x.agenda >= 0 and x.domain[pid] != x.agenda:
                consider &= draws.uniform1(k_agenda, t, i, uid) >= x.w_agenda * x.lever_agenda
            signal = x.effect[pid] + x.sd_judge * draws.normal1(k_judge, t, i, uid)
            prec_e = v.lever * v.ev_prec[pid]
            judged = (prec_j * signal + prec_e * v.ev_mean[pid]) / (prec_j + prec_e + v.prec0)
            net = judged - cost_weight(v.rel_cost, v.cost[pid], v.budget[i])
            worst = np.inf  # the least valued of the school's slots
            for j in range(width):
                value = value_at(v, v.slot_p[i, j], i, j)
                worst = min(worst, value)
            has_room = x.spare[k] >= x.difficulty[pid]
            if np.isinf(worst) and has_room:
                bar = x.threshold_adopt
            else:
                bar = max(0.0 if np.isinf(worst) else worst, 0.0) + x.threshold_adopt
            useful = net > bar
            tie = x.tie[k]
            moved[k] = x.trust[tie] + x.rate_trust * ((1.0 if useful else 0.0) - x.trust[tie])
            already = False
            for j in range(width):
                already |= v.slot_p[i, j] == pid
            want[k] = consider and useful and not already
            margin[k] = net - bar
        for k in range(m):  # trust follows the usefulness of the exchange
            x.trust[x.tie[k]] = moved[k]
        return want, margin


class JudgeInputs(NamedTuple):
    """What :class:`JudgedAdoption` reads: the heard items, the heads, the practices.

    Attributes:
        school, practice, tie: the heard items (``model.heard``).
        openness: the hearing school's head's openness, per item.
        capacity: each school's capacity, 0 to 1.
        capacity_absorb: capacity from which a head considers all it hears.
        agenda: the national agenda's domain, or -1 for none.
        lever_agenda: the agenda lever, 0 to 1.
        w_agenda: share of off-agenda ideas set aside at a full agenda lever.
        domain, effect: each practice's domain and true effect.
        uid: each practice's identifier for random draws (``practices.uid``).
        sd_judge: sd of the noise on a peer's account of a practice.
        threshold_adopt: net judged value a practice must clear.
        rate_trust: the share of the way a tie's trust moves after an exchange.
        trust: each tie's trust (written: trust follows the exchange's usefulness).
        spare: the hearing school's spare capacity, per item (``model.spare_capacity``).
        difficulty: each practice's difficulty.
        values: what valuing a slot reads (:class:`sim.rules.actions.ValueInputs`).
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
    uid: np.ndarray
    sd_judge: float
    threshold_adopt: float
    rate_trust: float
    trust: np.ndarray
    spare: np.ndarray
    difficulty: np.ndarray
    values: ValueInputs


#: :meth:`JudgedAdoption.judge_compiled`, for :meth:`JudgedAdoption.adopt_compiled` to call.
_judge_compiled = JudgedAdoption.judge_compiled
