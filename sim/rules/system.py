"""System-level rules: the centre's turn, practices' life cycle, budget shocks."""

from __future__ import annotations

from sim.core.jit import jit
from sim.core.state import ABANDONED, IDEA, MAINSTREAM, TRIAL
from sim.rules import Param, Rule, register


@register("centre", "strategy", default=True)
class CentreActs(Rule):
    """The national centre and the authorities act, as the strategy says.

    The strategy (a plug-in of :mod:`sim.rules.strategies`, chosen by ``strategy``)
    sets the authorities' stance and the agenda, and may mandate, fund field
    trials and broker ties. The rule reads the strategy afresh every step, so
    a trainer's change of strategy or tightness acts from the next step.
    """

    def apply(self, model):
        """Let the current strategy act."""
        model.strategy.act(model)


@register("lifecycle", "stages", default=True)
class LifeCycle(Rule):
    """Practices move through their life cycle as use and evidence change.

    Idea, field trial and proven are set by invention and the centre's
    trials; here a practice run by at least a quarter of schools becomes
    mainstream (Rogers' early majority), and one nobody runs any more, and
    that is not in trial, is abandoned (MODEL.md's life-cycle stages).
    """

    params = {
        "share_mainstream": Param(
            0.25,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.16, 0.5),
            sweep_ref="from past Rogers' early adopters (a sixth) to half the schools",
            ref="Rogers, Diffusion of Innovations (1962): innovators and early adopters are "
            "about the first sixth; with the early majority, past a quarter",
            meaning="Share of schools running a practice from which it counts as mainstream.",
        ),
    }

    def apply(self, model):
        """Update stages from the number of users."""
        pr = model.practices
        self.stages(
            pr.stage[: pr.n],
            model.users(),
            pr.ev_prec[: pr.n],
            self.value(model, "share_mainstream") * model.schools.n,
        )


@jit
def _stages(stage, users, ev_prec, n_mainstream):
    """:class:`LifeCycle`'s update, in place, practice by practice.

    The numpy form::

        stage[(users >= n_mainstream) & (stage != ABANDONED)] = MAINSTREAM
        stage[(users == 0) & (stage != TRIAL)] = ABANDONED
        # A practice taken up again after being abandoned is an idea again.
        stage[(users > 0) & (stage == ABANDONED) & (ev_prec == 0)] = IDEA

    (each line reading the stages the one before left).
    """
    for q in range(len(stage)):
        s, u = stage[q], users[q]
        if u >= n_mainstream and s != ABANDONED:
            s = MAINSTREAM
        if u == 0 and s != TRIAL:
            s = ABANDONED
        if u > 0 and s == ABANDONED and ev_prec[q] == 0:
            s = IDEA
        stage[q] = s


#: The rule's compute function: compiled here, its numpy form in ``stages_numpy``.
LifeCycle.stages = staticmethod(_stages)


@register("shocks", "budget_cut", default=True)
class BudgetShock(Rule):
    """A budget cut hits authorities at a set step: the burning platform.

    At step ``t_budget_cut``, ``n_authorities_cut`` authorities picked at
    random lose ``share_budget_cut`` of their budget (seed 001's Bradford and
    Corby). Lower budgets slow capacity building and force costly practice
    out; the pressure (budget lost times capacity) also raises invention and
    collaboration in those rules. A trainer's button does the same through
    :meth:`sim.model.model.NextPracticeModel.budget_cut`.
    """

    def apply(self, model):
        """Cut budgets when the scheduled step comes."""
        p = model.p
        if p.t_budget_cut >= 0 and model.t == p.t_budget_cut:
            k = min(p.n_authorities_cut, model.authorities.n)
            for la in self.rng.choice(model.authorities.n, size=k, replace=False):
                model.budget_cut(int(la))
