"""The rules of the model: one mechanism, one class, one place.

A step runs the slots of :data:`STEP_ORDER` in order. Each slot is filled by a
registered rule class; a scenario can swap the rule in a slot for another
registered one, or switch the slot off, with ``rules: {slot: name}``. A
researcher adds a rule by writing a class in any module::

    from sim.rules import Rule, register

    @register("adopt", "my_judgement")
    class MyJudgement(Rule):
        '''What it represents, and its source.'''
        def apply(self, model):
            ...

and importing that module before the scenario is loaded (``plugins:`` in a
scenario file does it). Nothing in the engine changes. Every module of this
package is imported here, so the shipped rules register themselves.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from sim.model import NextPracticeModel

#: The order of events in a step; :class:`sim.model.NextPracticeModel` documents each.
STEP_ORDER: tuple[str, ...] = (
    "centre", "hear", "adopt", "invent", "implement", "capacity", "perform", "review",
    "lifecycle", "ties", "collaborate", "lead", "turnover", "shocks",
)

#: slot -> rule name -> rule class.
RULES: dict[str, dict[str, type[Rule]]] = {slot: {} for slot in STEP_ORDER}

#: The rule each slot runs unless a scenario says otherwise.
DEFAULTS: dict[str, str] = {}


class Rule:
    """One mechanism of the model, applied to the whole system once a step.

    Subclasses say in their docstring what the mechanism represents and where
    it comes from, and implement :meth:`apply` with vectorised operations on
    ``model.schools`` and the other tables of :mod:`sim.state`. A rule holds no
    state of its own between steps; it reads parameters from ``model.p``.
    """

    slot: ClassVar[str]
    name: ClassVar[str]

    def apply(self, model: NextPracticeModel) -> None:
        """Apply the mechanism for one step."""
        raise NotImplementedError


def register(slot: str, name: str, default: bool = False):
    """Class decorator: register a rule for ``slot`` under ``name``.

    Args:
        slot: one of :data:`STEP_ORDER`.
        name: the name a scenario uses to pick it.
        default: make it the slot's default rule.
    """
    if slot not in RULES:
        raise ValueError(f"unknown rule slot {slot!r}; valid: {', '.join(STEP_ORDER)}")

    def deco(cls: type[Rule]) -> type[Rule]:
        cls.slot, cls.name = slot, name
        RULES[slot][name] = cls
        if default:
            DEFAULTS[slot] = name
        return cls

    return deco


def build_pipeline(overrides: dict[str, str]) -> list[Rule]:
    """The rule instances of a step, in order, after a scenario's overrides."""
    out = []
    for slot in STEP_ORDER:
        name = overrides.get(slot, DEFAULTS.get(slot, "off"))
        if name != "off":
            out.append(RULES[slot][name]())
    return out


for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_mod.name}")
