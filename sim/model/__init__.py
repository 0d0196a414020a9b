"""The model: parameters, built-in rules, plug-ins, scenario files and the model.

The names most scripts want are here: ``from sim.model import NextPracticeModel,
Params, load_scenario``. They are imported when first asked for, so importing one
module of this package (the parameters, say) does not import Mesa.
"""

from __future__ import annotations

from typing import Any

#: Public name -> the module of this package that defines it.
_PUBLIC = {"NextPracticeModel": "model", "Params": "params", "load_scenario": "scenario"}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for (PEP 562)."""
    if name in _PUBLIC:
        from importlib import import_module

        return getattr(import_module(f"sim.model.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module 'sim.model' has no attribute {name!r}")
