"""The ``top_down`` strategy: innovation as transfer."""

from __future__ import annotations

from sim.core.registry import register_strategy
from sim.core.state import ADMINISTER
from sim.rules.strategies.strategy import Strategy


@register_strategy("top_down")
class TopDown(Strategy):
    """Innovation as transfer: the centre mandates today's best known practice.

    The agenda is the domain of the best known practice; authorities
    administer the mandate. The centre funds no trials; what it knows to be
    best changes as national monitoring of practices in wide use revises the
    evidence (a mandated practice that disappoints is withdrawn, one that
    spread from below and does well can be taken up: the National
    Strategies revised their frameworks), seed 000, question 1; Fullan's
    "tightening the focus from above".
    """

    stance = ADMINISTER
    label = "Top-down transfer"
    colour = "#d95f02"  # ColorBrewer Dark2

    def act(self, model):
        """Set stance and agenda, read national results, and mandate the best known practice."""
        self.set_stance(model)
        self.monitor(model)
        best = self.to_mandate(model)
        model.agenda = int(model.practices.domain[best[0]]) if best else -1
        self.mandate(model, best)
