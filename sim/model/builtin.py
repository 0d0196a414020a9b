"""The engine's built-in rules, strategies and structure generators, imported explicitly.

Importing this module registers them (:mod:`sim.core.registry`). The model imports
it; so does the parameter schema's check of names (lazily, inside the check),
so ``Params(strategy="top_down")`` knows the built-ins without importing the
model. A new built-in module is added to this list by hand: nothing is
imported by walking a folder.
"""

from sim.rules import (  # noqa: F401
    classic,
    diffusion,
    diffusion_numpy,
    invention,
    invention_numpy,
    network,
    network_numpy,
    school,
    school_numpy,
    strategies,
    strategies_numpy,
    system,
    system_numpy,
)
from sim.system import networks, structure  # noqa: F401
