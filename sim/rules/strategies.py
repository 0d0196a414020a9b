"""Strategies: what the national centre and the authorities do each step.

A strategy is a plug-in: a subclass of :class:`Strategy` registered by name
with :func:`register_strategy`, picked by ``strategy:`` in a scenario or
changed live with ``model.set_control("strategy", name)``. It composes the
centre's actions defined once on the base class (mandate the best known
practice, scan for ideas, fund field trials, judge their evidence, broker
ties) and sets the authorities' stance and the agenda. A strategy never
touches performance: everything it achieves goes through the schools' rules.

The three of seed 000 (Gibbons 2007, "our initiating questions"):

* ``top_down``: innovation as transfer. The centre mandates today's best
  known practice; authorities administer.
* ``bottom_up``: practitioner-led innovation. The centre is absent; schools
  network by themselves.
* ``next_practice``: generative innovation the centre animates. Agenda,
  stimulate (scan for promising practitioner ideas), incubate (field trials in
  volunteer sites), accelerate (publish evidence, broker ties, and mandate
  proven practice as hard as the tightness dial says); authorities animate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sim.core.jit import jit, plain_args
from sim.core.numerics import row_any, weighted_choice_without_replacement
from sim.core.registry import (  # noqa: F401  (STRATEGIES re-exported)
    STRATEGIES,
    Param,
    Rule,
    register_strategy,
)
from sim.core.state import (
    ABSENT,
    ADMINISTER,
    ANIMATE,
    BROKERED,
    CREATED,
    EMPTY,
    IDEA,
    MAINSTREAM,
    MANDATED,
    PRACTITIONER,
    PROVEN,
    TRIAL,
)
from sim.rules.actions import (
    add_ties,
    protection_inputs,
    publish_evidence,
    runs_practice,
    take_up,
    take_up_kernel,
    value_inputs,
)
from sim.system.costs import fund_authorities

if TYPE_CHECKING:
    from sim.core.registry import ModelLike

NEXT_PRACTICE_2006 = "Innovation Unit, Next Practice in System Leadership (2006), seed 002"

#: The random stream a strategy draws from: the ``centre`` slot's, where it acts.
STREAM = "centre"


class Strategy:
    """Base class: the centre's repertoire of actions; subclasses pick from it.

    Attributes:
        name: registered name.
        stance: the authorities' stance under this strategy (administer,
            animate or absent), which sets the facilitation schools find.
    """

    name: ClassVar[str]
    stance: ClassVar[int] = ABSENT
    #: How figures and tables name the strategy, and its colour in every figure
    #: (:mod:`sim.core.looks`); a plug-in that declares neither gets its name in words
    #: and a colour of its own.
    label: ClassVar[str | None] = None
    colour: ClassVar[str | None] = None
    #: The namespace of the parameters declared here, shared by every strategy: they
    #: belong to the centre, whichever strategy it follows (``centre.rel_trust_brokered``).
    params_namespace: ClassVar[str] = "centre"
    #: The centre's parameters (:class:`sim.core.registry.Param`), keyed ``centre.<param>``;
    #: a subclass reads these keys and keys the parameters it declares itself
    #: ``<strategy name>.<param>`` (see :mod:`sim.core.registry`).
    params: ClassVar[dict[str, Param]] = {
        "rel_trust_brokered": Param(
            0.2,
            lo=-1,
            hi=1,
            unit="1",
            kind="lever",
            ref=NEXT_PRACTICE_2006,
            meaning="Trust a tie the centre brokers starts with above init_trust: an "
            "introduction from the centre vouches for the partner (accelerate).",
        ),
        "rel_signal_agenda": Param(
            0.1,
            lo=0,
            hi=3,
            unit="logit",
            kind="lever",
            ref=NEXT_PRACTICE_2006,
            meaning="Lift in the centre's read of an idea in the agenda's domain at a full "
            "agenda lever, when it picks ideas to trial (stimulate).",
        ),
    }

    def value(self, model: ModelLike, name: str) -> Any:
        """The value in force of this strategy's declared parameter ``name`` (as Rule.value)."""
        return Rule.value(self, model, name)  # type: ignore[arg-type]

    def act(self, model: ModelLike) -> None:
        """The centre's turn in a step."""
        raise NotImplementedError

    # ------------------------------------------------------------------ shared actions
    def set_stance(self, model: ModelLike) -> None:
        """Authorities take this strategy's stance; facilitation follows from it."""
        p, la = model.p, model.authorities
        la.stance[:] = self.stance
        fac = {
            ADMINISTER: p.facilitation_administer,
            ANIMATE: p.facilitation_animate,
            ABSENT: p.facilitation_absent,
        }[self.stance]
        la.facilitation[:] = fac
        fund_authorities(model)  # facilitation and capacity investment, within budget

    def best_known(self, model: ModelLike, k: int, origin: int | None = None) -> list[int]:
        """The ``k`` practices with the best published evidence, proven or mainstream.

        The centre knows only what evidence says: it never reads true effects.
        ``origin`` restricts the choice to practices of that origin.
        """
        pr = model.practices
        if k <= 0:
            return []
        best = self.best_known_fn(
            pr.origin[: pr.n],
            -1 if origin is None else origin,
            pr.ev_prec[: pr.n],
            pr.ev_mean[: pr.n],
            pr.stage[: pr.n],
            model.p.threshold_proven,
            k,
        )
        return best.tolist()

    def mandate(self, model: ModelLike, practices: list[int]) -> None:
        """Mandate practices, with the low ownership of compliance.

        Each month a share ``p_mandate * tightness`` of the schools not yet
        running each practice is made to take it up. Standing mandates protect
        their slots.
        """
        model.mandates = list(practices)
        if not practices:
            return
        s, p = model.schools, model.p
        reach = model.per_step(p.p_mandate * p.tightness)
        # Administering and inspecting: cost_mandate per school the mandate reaches.
        users = model.users()
        expected = reach * sum(s.n - int(users[pid]) for pid in practices)
        reach *= model.ledger.centre(p.cost_mandate * expected)
        took_up = self.mandate_fn(
            model.kernel_rng_for(STREAM),
            np.asarray(practices, np.int64),
            reach,
            p.init_own_mandated,
            s.slot_depth,
            s.slot_own,
            s.slot_source,
            value_inputs(model),
            protection_inputs(model),
        )
        model.counts["adoptions"] += took_up
        model.note("mandate", practices=list(practices), took_up=int(took_up))

    def stimulate_and_incubate(self, model: ModelLike) -> None:
        """Every ``dur_cycle`` months, scan practitioners' ideas and trial the best.

        Stimulate: the centre sees a weak, noisy signal of each idea in use
        (``sd_judge``), favouring the agenda's domain by ``lever_agenda``
        signal units of ``rel_signal_agenda``, and picks the ``n_trials`` most promising.
        Incubate: each gets ``n_trial_sites`` volunteer schools, open heads
        first, who run it as co-designers with permission to experiment
        (seed 002: field trials with creative space, resources, permission and
        co-designed evaluation).
        """
        p, pr, s, rng = model.p, model.practices, model.schools, model.rng_for(STREAM)
        cycle = max(1, round(p.dur_cycle / p.dur_step))
        if model.t % cycle != 0 or p.n_trials == 0:
            return
        users = model.users()
        cand = np.flatnonzero((pr.stage[: pr.n] == IDEA) & (users > 0) & (pr.ev_prec[: pr.n] == 0))
        if len(cand) == 0:
            return
        signal = pr.effect[cand] + rng.normal(0.0, p.sd_judge, len(cand))
        if model.agenda >= 0:
            signal += (
                self.value(model, "rel_signal_agenda")
                * p.lever_agenda
                * (pr.domain[cand] == model.agenda)
            )
        chosen = cand[np.argsort(-signal, kind="stable")[: p.n_trials]]
        dur = max(1, round(p.dur_trial / p.dur_step))
        for pid in chosen.tolist():
            free = np.flatnonzero(s.trial == EMPTY)
            if len(free) == 0:
                break
            w = model.heads.openness[s.head[free]] * s.capacity[free] + 1e-9
            # The centre commits each site's whole trial (cost_trial_site per site-month).
            k = model.ledger.centre_units(
                p.cost_trial_site * p.dur_trial, min(p.n_trial_sites, len(free))
            )
            if k == 0:
                break
            sites = weighted_choice_without_replacement(
                model.kernel_rng_for(STREAM), free, k, w / w.sum()
            )
            take_up(model, sites, np.full(k, pid), CREATED)
            runs = row_any(s.slot_p[sites] == pid)
            s.trial[sites[runs]] = pid
            pr.stage[pid] = TRIAL
            pr.trial_end[pid] = model.t + dur

    def conclude_trials(self, model: ModelLike) -> None:
        """Trials that end are evaluated and their evidence published.

        The estimate is the true effect plus noise ``sd_trial`` over the root
        of site-months (co-designed evaluation); it is proven if it clears
        ``threshold_proven`` (system learning that feeds back into policy).
        """
        p, pr, s, rng = model.p, model.practices, model.schools, model.rng_for(STREAM)
        ending = np.flatnonzero((pr.stage[: pr.n] == TRIAL) & (pr.trial_end[: pr.n] <= model.t))
        for pid in ending.tolist():
            sites = np.flatnonzero(s.trial == pid)
            site_months = max(len(sites), 1) * p.dur_trial
            sd = p.sd_trial / np.sqrt(site_months)
            est = pr.effect[pid] + rng.normal(0.0, sd)
            publish_evidence(
                model, np.array([pid]), np.array([est]), np.array([1.0 / sd**2]), p.threshold_proven
            )
            model.note(
                "trial",
                practice=pid,
                proven=bool(pr.stage[pid] == PROVEN),
                inventor=int(pr.inventor[pid]),
                sites=len(sites),
            )
            s.trial[sites] = EMPTY
            pr.trial_end[pid] = EMPTY

    def broker(self, model: ModelLike, practices: list[int]) -> None:
        """Broker ties from schools running proven practice to schools that do not.

        About ``n_broker`` ties a month are shared among the practices, each
        from a random user to a random non-user anywhere in the system
        (seed 002's accelerate phase: spreading through networks).
        """
        if not practices:
            return
        p = model.p
        lam = p.n_broker * p.dur_step
        lam *= model.ledger.centre(p.cost_broker * lam)  # cost_broker per tie, expected
        a, b = self.brokered_fn(
            model.kernel_rng_for(STREAM), np.asarray(practices, np.int64), model.schools.slot_p, lam
        )
        # Formed all at once, in the order drawn (add_ties skips repeats as it goes).
        add_ties(model, a, b, BROKERED, p.init_trust + self.value(model, "rel_trust_brokered"))


@jit
def _best_known(origin, of_origin, ev_prec, ev_mean, stage, threshold, k):
    """:meth:`Strategy.best_known`'s pick: up to ``k`` practices, best published evidence first.

    Those of origin ``of_origin`` (any if -1) with evidence (``ev_prec > 0``),
    proven or mainstream, whose published estimate clears ``threshold``;
    ordered by estimate, highest first, equals by index (numpy's stable
    ``argsort`` of ``-ev_mean``).
    """
    ok = np.empty(len(stage), np.int64)
    m = 0
    for q in range(len(stage)):
        ok[m] = q
        m += (
            (of_origin < 0 or origin[q] == of_origin)
            and ev_prec[q] > 0
            and (stage[q] == PROVEN or stage[q] == MAINSTREAM)
            and ev_mean[q] > threshold
        )
    ok = ok[:m]
    order = np.argsort(-ev_mean[ok], kind="mergesort")
    return ok[order[:k]]


@jit
def _brokered(rng, practices, slot_p, lam):
    """The ends of the ties the centre brokers this month, in the order drawn.

    ``k = rng.poisson(lam)`` ties; for each, a practice drawn uniformly from
    ``practices``, then a school running it and one not running it, each
    drawn uniformly (``pool[rng.integers(len(pool))]``, what ``rng.choice``
    draws) in ascending order of school; a practice that everyone or no one
    runs gives no tie and no further draws. Who runs what is found once per
    practice drawn (forming ties changes no one's practice).
    """
    n, width = slot_p.shape
    m = len(practices)
    k = rng.poisson(lam)
    users = np.empty((m, n), np.int64)
    others = np.empty((m, n), np.int64)
    n_users = np.full(m, -1, np.int64)  # -1: not yet found
    n_others = np.zeros(m, np.int64)
    a = np.empty(k, np.int64)
    b = np.empty(k, np.int64)
    c = 0
    for _ in range(k):
        q = rng.integers(0, m)
        if n_users[q] < 0:
            n_users[q] = 0
            for i in range(n):
                if runs_practice(slot_p, i, practices[q]):
                    users[q, n_users[q]] = i
                    n_users[q] += 1
                else:
                    others[q, n_others[q]] = i
                    n_others[q] += 1
        if n_users[q] == 0 or n_others[q] == 0:
            continue
        a[c] = users[q, rng.integers(0, n_users[q])]
        b[c] = others[q, rng.integers(0, n_others[q])]
        c += 1
    return a[:c], b[:c]


@jit
def _mandate(rng, practices, chance, own, depth, own_a, source_a, values, protection):
    """:meth:`Strategy.mandate`'s take-ups, practice by practice; returns how many there were.

    For each practice in turn, the schools it reaches (:func:`_reached`, on
    the slots as the previous practice's take-ups left them) take it up as
    :func:`sim.rules.actions.take_up` does, mandated and with no source tie.
    ``values`` and ``protection``: :func:`sim.rules.actions.value_inputs` and
    :func:`sim.rules.actions.protection_inputs`.
    """
    total = 0
    for pid in practices:
        hit = _reached(rng, values[0], pid, chance)  # values[0]: ValueInputs.slot_p
        ok = take_up_kernel(
            hit,
            np.full(len(hit), pid),
            np.full(len(hit), EMPTY),
            own,
            MANDATED,
            depth,
            own_a,
            source_a,
            values,
            protection,
        )
        total += np.count_nonzero(ok)
    return total


@jit
def _reached(rng, slot_p, pid, chance):
    """Schools not running ``pid`` that a mandate reaches this month, ascending.

    One uniform per school, all drawn (numpy's ``rng.random(n)``):
    ``np.flatnonzero(~row_any(slot_p == pid) & (rng.random(n) < chance))``.
    """
    n, k = slot_p.shape
    u = rng.random(n)
    out = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        out[m] = i
        m += (not runs_practice(slot_p, i, pid)) and u[i] < chance
    return out[:m]


#: The shared actions' compute functions: compiled here, their numpy forms in
#: :mod:`sim.rules.strategies_numpy` (the ``*_numpy`` strategies swap them).
Strategy.best_known_fn = staticmethod(_best_known)
Strategy.mandate_fn = staticmethod(plain_args(_mandate))
Strategy.brokered_fn = staticmethod(_brokered)


@register_strategy("top_down")
class TopDown(Strategy):
    """Innovation as transfer: the centre mandates today's best known practice.

    The agenda is the domain of the best known practice; authorities
    administer the mandate. The centre funds no trials, so what it knows to
    be best changes only if evidence changes (seed 000, question 1; Fullan's
    "tightening the focus from above").
    """

    stance = ADMINISTER
    label = "Top-down transfer"
    colour = "#d95f02"  # ColorBrewer Dark2

    def act(self, model):
        """Set stance and agenda, and mandate the best known practice."""
        self.set_stance(model)
        best = self.best_known(model, model.p.n_mandate)
        model.agenda = int(model.practices.domain[best[0]]) if best else -1
        self.mandate(model, best)


@register_strategy("bottom_up")
class BottomUp(Strategy):
    """Practitioner-led innovation: no agenda, no mandate, no trials.

    Schools invent and pass on practice through their own ties; authorities
    stand back (seed 000, question 2).
    """

    stance = ABSENT
    label = "Bottom-up"
    colour = "#7570b3"  # ColorBrewer Dark2

    def act(self, model):
        """Stand back."""
        self.set_stance(model)
        model.agenda = -1
        model.mandates = []


@register_strategy("next_practice")
class NextPractice(Strategy):
    """Generative innovation the centre animates: agenda, trials, evidence, brokers.

    The agenda is a fixed national domain (domain 0: seed 003's "Every Child
    Matters" as rallying point). Each step: conclude trials that end and
    publish their evidence; every cycle, scan ideas and incubate the most
    promising in field trials; accelerate the practice its trials proved by
    brokering ties and by mandating it as hard as the tightness dial says.
    Practice known before is left to spread through the networks. Authorities
    animate (seed 000: "centre animates the system").
    """

    stance = ANIMATE
    label = "Next practice"
    colour = "#1b9e77"  # ColorBrewer Dark2

    def act(self, model):
        """Run the stimulate, incubate and accelerate phases."""
        self.set_stance(model)
        model.agenda = 0
        self.conclude_trials(model)
        self.stimulate_and_incubate(model)
        best = self.best_known(model, model.p.n_mandate, origin=PRACTITIONER)
        self.broker(model, best)
        self.mandate(model, best)
