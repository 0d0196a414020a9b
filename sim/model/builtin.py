"""The engine's built-in rules, strategies and structure generators, imported explicitly.

Importing this module registers them (:mod:`sim.core.registry`). The model imports
it; so does the parameter schema's check of names (lazily, inside the check),
so ``Params(strategy="top_down")`` knows the built-ins without importing the
model. A new built-in module is added to this list by hand: nothing is
imported by walking a folder. One module per mechanism, listed in step order
(within a slot, ``nextpractice params`` lists rules in the order they register).
"""

# isort: off
from sim.rules.strategies import strategy, top_down, bottom_up, next_practice  # noqa: F401
from sim.rules import word_of_mouth  # noqa: F401
from sim.rules import judged, classic  # noqa: F401
from sim.rules import recombine  # noqa: F401
from sim.rules import depth_and_ownership, build, practice_effects, evidence_review  # noqa: F401
from sim.rules import stages, facilitated, found_and_formalise  # noqa: F401
from sim.rules import executive_heads, heads_leave, budget_cut  # noqa: F401

# isort: on
from sim.system import networks, structure  # noqa: F401
