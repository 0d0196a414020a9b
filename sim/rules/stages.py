"""The ``lifecycle`` slot: practices move through their life cycle as use and evidence change."""

from __future__ import annotations

from sim.core.jit import jit
from sim.core.state import ABANDONED, IDEA, MAINSTREAM, TRIAL
from sim.rules import Param, Rule, register


@register("lifecycle", "stages", default=True)
class LifeCycle(Rule):
    """Practices move through their life cycle as use and evidence change.

    Idea, field trial and proven are set by invention and the centre's
    trials; here a practice run by at least ``share_mainstream`` of schools
    becomes mainstream (Rogers' early majority), and one nobody runs any
    more, and that is not in trial, is abandoned (MODEL.md's life-cycle
    stages). A practice taken up again after being abandoned, with no
    evidence, is an idea again.
    """

    params = {
        "share_mainstream": Param(
            0.25,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.16, 0.5),
            sweep_ref="Rogers' adopter categories (1962): from the end of the early adopters (2.5% "
            "+ 13.5%, a sixth) to the end of the early majority (a further 34%, half the schools)",
            ref="Rogers, Diffusion of Innovations (1962): innovators and early adopters are "
            "the first sixth (16%), with the early majority half; the default, a quarter, lies "
            "between the two, a judgement",
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

    @staticmethod
    def stages(stage, users, ev_prec, n_mainstream):
        """Practices' stages from their users, in place (each line reads what the last left)."""
        # Run by enough schools: mainstream (unless abandoned).
        stage[(users >= n_mainstream) & (stage != ABANDONED)] = MAINSTREAM
        # Run by nobody and not in trial: abandoned.
        stage[(users == 0) & (stage != TRIAL)] = ABANDONED
        # Taken up again after being abandoned, with no evidence: an idea again.
        stage[(users > 0) & (stage == ABANDONED) & (ev_prec == 0)] = IDEA

    @staticmethod
    @jit
    def stages_compiled(stage, users, ev_prec, n_mainstream):
        """:meth:`stages`, compiled: practice by practice, in place."""
        for q in range(len(stage)):
            s, u = stage[q], users[q]
            if u >= n_mainstream and s != ABANDONED:
                s = MAINSTREAM
            if u == 0 and s != TRIAL:
                s = ABANDONED
            if u > 0 and s == ABANDONED and ev_prec[q] == 0:
                s = IDEA
            stage[q] = s
