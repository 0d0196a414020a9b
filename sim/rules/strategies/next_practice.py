"""The ``next_practice`` strategy: generative innovation the centre animates."""

from __future__ import annotations

from sim.core.registry import register_strategy
from sim.core.state import ANIMATE, PRACTITIONER
from sim.rules.strategies.strategy import Strategy


@register_strategy("next_practice")
class NextPractice(Strategy):
    """Generative innovation the centre animates: agenda, trials, evidence, brokers.

    The agenda is a fixed national domain (domain 0: seed 003's "Every Child
    Matters" as rallying point). Each step: conclude trials that end and
    publish their evidence; once a year, read national results for practices
    in wide use (a proven practice that disappoints at scale is withdrawn:
    :class:`~sim.rules.strategies.monitoring.Monitoring`); every cycle, scan
    ideas and incubate the most promising in field trials; accelerate the
    practice its trials proved by brokering ties and by mandating it as hard
    as the tightness dial says.
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
        self.monitor(model)
        self.stimulate_and_incubate(model)
        best = self.to_mandate(model, origin=PRACTITIONER)
        self.broker(model, best)
        self.mandate(model, best)
