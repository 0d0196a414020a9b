"""The engine's built-in rules, strategies and structure generators, imported explicitly.

Importing this module registers them (:mod:`sim.registry`). The model imports
it; so does the parameter schema's check of names (lazily, inside the check),
so ``Params(strategy="top_down")`` knows the built-ins without importing the
model. A new built-in module is added to this list by hand: nothing is
imported by walking a folder.
"""

from sim import networks, strategies, structure  # noqa: F401
from sim.rules import classic, diffusion, invention, network, school, system  # noqa: F401
