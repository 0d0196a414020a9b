"""Strategies: what the national centre and the authorities do each step.

A strategy is a plug-in: a subclass of :class:`Strategy` registered by name
with :func:`register_strategy`, picked by ``strategy:`` in a scenario or
changed live with ``model.set_control("strategy", name)``. It composes the
centre's mechanisms, each a class in a file of this folder with its own
parameters and its numpy form beside its kernel, and sets the authorities'
stance and the agenda. A strategy never touches performance: everything it
achieves goes through the schools' rules.

The files, as a newcomer looks for them:

* ``strategy.py``: what a strategy must do (:class:`Strategy`), and the
  ``centre`` slot's rule that runs the one in force (:class:`CentreActs`);
* the centre's mechanisms: ``stance.py`` (authorities administer, animate or
  stand back), ``best_known.py`` (the best evidenced practice),
  ``mandate.py``, ``field_trials.py`` (stimulate, incubate, conclude) and
  ``brokering.py`` (accelerate);
* the three strategies of seed 000 (Gibbons 2007, "our initiating
  questions"), one file each, named as a scenario names them:
  ``top_down.py`` (innovation as transfer: the centre mandates today's best
  known practice; authorities administer), ``bottom_up.py`` (practitioner-led:
  the centre is absent) and ``next_practice.py`` (generative innovation the
  centre animates: agenda, field trials, evidence, brokered ties, and mandates
  as hard as the tightness dial says).
"""

from __future__ import annotations

from sim.core.registry import STRATEGIES, register_strategy
from sim.rules.strategies.strategy import CentreActs, Strategy

# isort: off
from sim.rules.strategies.top_down import TopDown  # registered in this order: seed 000's
from sim.rules.strategies.bottom_up import BottomUp
from sim.rules.strategies.next_practice import NextPractice

# isort: on

__all__ = [
    "STRATEGIES",
    "BottomUp",
    "CentreActs",
    "NextPractice",
    "Strategy",
    "TopDown",
    "register_strategy",
]
