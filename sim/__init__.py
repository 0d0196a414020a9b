"""nextpractice: how innovation spreads through a school system (Mesa agent-based model).

The model package: parameters (:mod:`sim.model.params`), scenario files
(:mod:`sim.model.scenario`), state (:mod:`sim.core.state`), structure generators
(:mod:`sim.system.structure`), rules (:mod:`sim.rules`), strategies
(:mod:`sim.rules.strategies`), the model (:mod:`sim.model.model`), metrics
(:mod:`sim.system.metrics`) and batch running (:mod:`sim.experiments.runner`). Plots
(:mod:`sim.analysis.plots`) and the workshop app (:mod:`sim.app`) sit beside it and are
never imported by the model.
"""

__version__ = "0.2.0"
