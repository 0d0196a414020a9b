"""The ``shocks`` slot: a budget cut hits authorities at a set step (the burning platform)."""

from __future__ import annotations

import numpy as np

from sim.core import draws
from sim.core.sources import JACKSON_2011
from sim.rules import Param, Rule, register


@register("shocks", "budget_cut", default=True)
class BudgetShock(Rule):
    """A budget cut hits authorities at a set step: the burning platform.

    At step ``t_budget_cut``, ``n_authorities_cut`` authorities picked at
    random lose ``share_budget_cut`` of their budget (seed 001's Bradford and
    Corby). Lower budgets slow capacity building and force costly practice
    out; the pressure (budget lost times capacity) also raises invention and
    collaboration in those rules. A trainer's button does the same through
    :meth:`sim.model.model.NextPracticeModel.budget_cut`, which is why the
    share cut (``share_budget_cut``) is the model's, not this rule's. The
    authorities hit are those of the smallest uniforms keyed by authority and
    step. No kernel: one draw at one step.
    """

    decisions = ("pick",)
    params = {
        "t_budget_cut": Param(
            -1,
            lo=-1,
            hi=100000,
            unit="step",
            kind="uncertainty",
            sweep=(12, 108),
            sweep_ref="a judgement: a hypothetical cut in year 1 to 9 (England's real one, "
            "April 2011, LGC2010, falls after a 120-step run from September 1998 ends: "
            "docs/sources.md); share_budget_cut's range starting at 0 covers no cut",
            ref=JACKSON_2011,
            meaning="Step at which authorities' budgets are cut (-1: never).",
        ),
        "n_authorities_cut": Param(
            1,
            lo=0,
            hi=1000,
            unit="authorities",
            kind="uncertainty",
            sweep=(0, 4),
            sweep_ref="a judgement: a hypothetical local cut hits none up to four "
            "authorities (the 2010 cut, LGC2010, hit every authority: docs/sources.md)",
            meaning="How many authorities the cut hits (chosen at random).",
        ),
    }

    def apply(self, model):
        """Cut budgets when the scheduled step comes."""
        when = self.value(model, "t_budget_cut")
        if when >= 0 and model.t == when:
            k = min(self.value(model, "n_authorities_cut"), model.authorities.n)
            everyone = np.arange(model.authorities.n)
            for la in draws.smallest(self.keys[0], model.t, everyone, 0, k):
                model.budget_cut(int(la))
