"""System-level rules in plain numpy: the readable forms of :mod:`sim.rules.system`.

``lifecycle: stages_numpy`` is the shipped rule with its kernel swapped for
:func:`stages`; ``centre: strategy_numpy`` lets the strategy in force act
through its numpy form (the strategy registered as ``<name>_numpy``, see
:mod:`sim.rules.strategies_numpy`). Same draws, same run bit for bit
(``tests/test_numpy_forms.py``).
"""

from __future__ import annotations

from sim.core.state import ABANDONED, IDEA, MAINSTREAM, TRIAL
from sim.rules import register, strategies_numpy
from sim.rules.system import CentreActs, LifeCycle


def stages(stage, users, ev_prec, n_mainstream):
    """Practices' life-cycle stages from their users, in place (:class:`LifeCycle`)."""
    # Run by enough schools: mainstream (unless abandoned).
    stage[(users >= n_mainstream) & (stage != ABANDONED)] = MAINSTREAM
    # Run by nobody and not in trial: abandoned.
    stage[(users == 0) & (stage != TRIAL)] = ABANDONED
    # Taken up again after being abandoned, with no evidence: an idea again.
    stage[(users > 0) & (stage == ABANDONED) & (ev_prec == 0)] = IDEA


@register("lifecycle", "stages_numpy")
class LifeCycleNumpy(LifeCycle):
    """:class:`LifeCycle` in plain numpy (:func:`stages`): same run."""

    stages = staticmethod(stages)


@register("centre", "strategy_numpy")
class CentreActsNumpy(CentreActs):
    """:class:`CentreActs`, the strategy in force acting through its numpy form: same run."""

    def apply(self, model):
        """Let the current strategy's numpy form act."""
        strategies_numpy.numpy_form(model.strategy).act(model)
