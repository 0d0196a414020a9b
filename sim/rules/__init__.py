"""The rules of the model: one mechanism, one class, one place.

A step runs the slots of :data:`STEP_ORDER` in order. Each slot is filled by a
registered rule class; a scenario can swap the rule in a slot for another
registered one, or switch the slot off, with ``rules: {slot: name}``. A
researcher adds a rule by writing a class in any module::

    from sim.rules import Param, Rule, register

    @register("adopt", "my_judgement")
    class MyJudgement(Rule):
        '''What it represents, and its source.'''
        params = {"bar": Param(0.1, lo=0, hi=1, unit="logit", kind="uncertainty",
                               meaning="Least judged gain for which a head adopts.")}

        def apply(self, model):
            bar = self.value(model, "bar")      # my_judgement.bar in a scenario
            u = self.rng.random(model.schools.n)  # the adopt slot's own stream
            ...

and naming that module in a scenario's ``plugins:`` (found beside the
scenario file). Nothing in the engine changes. The base class, the slot order
and the registries live in :mod:`sim.core.registry` (the bottom layer) and are
re-exported here; the built-in rules are imported by :mod:`sim.model.builtin`.

Each shipped rule is one class in one module here, named as the rule is
registered (``judged`` is :mod:`sim.rules.judged`): its docstring, the
parameters only it reads, ``apply``, and its computation twice, side by side, a
readable numpy method and the compiled kernel beside it (``judge`` and
``judge_compiled``), one of which runs as the run setting ``compiled`` says.
The centre's mechanisms and the strategies are in :mod:`sim.rules.strategies`;
the shared changes of state every rule goes through in :mod:`sim.rules.actions`;
the reduced diffusion modes in :mod:`sim.rules.classic`.
"""

from __future__ import annotations

from sim.core.registry import DEFAULTS, RULES, STEP_ORDER, Param, Rule, register

__all__ = ["DEFAULTS", "RULES", "STEP_ORDER", "Param", "Rule", "build_pipeline", "register"]


def build_pipeline(overrides: dict[str, str]) -> list[Rule]:
    """The rule instances of a step, in order, after a scenario's overrides."""
    out = []
    for slot in STEP_ORDER:
        name = overrides.get(slot, DEFAULTS.get(slot, "off"))
        if name != "off":
            out.append(RULES[slot][name]())
    return out
