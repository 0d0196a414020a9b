"""nextpractice: how innovation spreads through a school system (Mesa agent-based model).

The model package: parameters (:mod:`sim.params`), scenario files
(:mod:`sim.scenario`), state (:mod:`sim.state`), structure generators
(:mod:`sim.structure`), rules (:mod:`sim.rules`), strategies
(:mod:`sim.strategies`), the model (:mod:`sim.model`), metrics
(:mod:`sim.metrics`) and batch running (:mod:`sim.runner`). Plots
(:mod:`sim.plots`) and the workshop app (:mod:`sim.app`) sit beside it and are
never imported by the model.
"""

__version__ = "0.1.0"
