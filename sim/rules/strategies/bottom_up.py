"""The ``bottom_up`` strategy: practitioner-led innovation."""

from __future__ import annotations

from sim.core.registry import register_strategy
from sim.core.state import ABSENT
from sim.rules.strategies.strategy import Strategy


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
