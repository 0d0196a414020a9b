"""The bottom layer: what the engine's parts register into, and how they declare parameters.

Nothing in this module imports the rest of :mod:`sim` (except the errors), so
every module above it (rules, strategies, structure generators, the
parameter schema, the model) can import it without a cycle
(``tests/test_layers.py`` keeps it so). It holds:

* the rule base class :class:`Rule`, the order of a step's slots
  :data:`STEP_ORDER`, the registries :data:`RULES` and :data:`DEFAULTS` and
  their decorator :func:`register`;
* the strategy and structure-generator registries (:data:`STRATEGIES`,
  :func:`register_strategy`; :data:`NETWORKS`, :func:`register_network`);
* :class:`Param`, the declaration of a rule's or strategy's own parameter;
* :func:`stream_key`, how a named random stream is derived from a run's seed;
* :class:`ModelLike`, the protocol of the model that lower layers are typed
  against (they never import :class:`sim.model.NextPracticeModel`).

**Declaring a parameter.** A rule or strategy class lists its parameters in a
class attribute ``params``, a mapping of name to :class:`Param`, with the same
metadata as :func:`sim.params.par` (default, meaning, unit, lo/hi, kind, ref,
live, sweep)::

    from sim.rules import Param, Rule, register

    @register("adopt", "conformity")
    class Conformity(Rule):
        '''Heads adopt what most of their peers run (Asch 1951).'''
        params = {"share_needed": Param(0.5, lo=0, hi=1, unit="1", kind="uncertainty",
                                        meaning="Share of peers that must run a practice.",
                                        ref="Asch 1951", sweep=(0.2, 0.8))}

        def apply(self, model):
            need = self.value(model, "share_needed")
            u = self.rng.random(model.schools.n)   # this slot's own stream
            ...

The parameter's scenario key is the registered name, a dot, and its name
(``conformity.share_needed: 0.6`` in a scenario file, ``--set
conformity.share_needed=0.6`` on the command line, or an experiment factor);
``nextpractice params`` lists it; :mod:`sim.params`'s listing helpers
(``factors``, ``field_info``, ``parameter_table``, ``live_names``) include it.
A subclass inherits its bases' declarations (and may redeclare one to change
its default). Read a value in ``apply`` with ``self.value(model, name)``: it
is ``model.p.declared["<registered name>.<name>"]``, so a live parameter
changed during a run is read afresh each step.

**Random streams.** Each slot draws from its own ``numpy.random.Generator``,
derived from the run's seed and the slot's name (:func:`stream_key`), so
swapping or switching off one rule leaves every other rule's draws as they
were: common random numbers across rule variants and strategies. The model
gives each rule of its pipeline ``self.rng`` (the generator) and
``self.kernel_rng`` (the same stream as compiled kernels take it,
:class:`sim._jit.KernelRng`) before the first step; code outside a rule asks
``model.rng_for(name)`` / ``model.kernel_rng_for(name)``. The structure
builder (networks, the initial system, the first heads) draws from the stream
``structure``; the strategy from the ``centre`` slot's.

**Registering a name twice.** Registering a rule, strategy or network under a
name that another module already registered is refused (a
:class:`~sim.errors.UserError` naming both modules) unless the registration
says ``replace=True``; a replacement is recorded in :data:`REPLACED`, which
the runner writes into each run's summary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from sim.errors import UserError

#: The order of events in a step; :class:`sim.model.NextPracticeModel` documents each.
STEP_ORDER: tuple[str, ...] = (
    "centre", "hear", "adopt", "invent", "implement", "capacity", "perform", "review",
    "lifecycle", "ties", "collaborate", "lead", "turnover", "shocks",
)

#: Named random streams that are not slots: the structure builder's.
STRUCTURE_STREAM = "structure"

#: slot -> rule name -> rule class.
RULES: dict[str, dict[str, type[Rule]]] = {slot: {} for slot in STEP_ORDER}

#: The rule each slot runs unless a scenario says otherwise.
DEFAULTS: dict[str, str] = {}

#: Strategy name -> strategy class (:class:`sim.strategies.Strategy` subclasses).
STRATEGIES: dict[str, type] = {}

#: Structure generator name -> function ``(params, rng) -> Structure``.
NETWORKS: dict[str, Callable] = {}

#: Registrations that replaced a name already taken, with ``replace=True``:
#: one record per replacement (what, name, the module replaced, the module replacing).
REPLACED: list[dict[str, str]] = []


@runtime_checkable
class ModelLike(Protocol):
    """What rules, strategies, actions, agents and metrics may use of the model.

    :class:`sim.model.NextPracticeModel` is the one implementation; lower
    layers are typed against this protocol so they need not import it.
    """

    p: Any
    t: int
    schools: Any
    heads: Any
    practices: Any
    ties: Any
    authorities: Any
    collabs: Any
    agenda: int
    mandates: list[int]
    heard: Any
    counts: dict[str, int]
    events: dict[str, Any]
    strategy: Any

    def rng_for(self, name: str) -> Any:
        """The generator of the named stream."""
        ...

    def kernel_rng_for(self, name: str) -> Any:
        """The named stream as compiled kernels take it."""
        ...

    def per_step(self, rate: float) -> float:
        """Chance per step of an event with monthly chance ``rate``."""
        ...

    def occurs(self, rate: Any, rng: Any = None) -> Any:
        """Indices of the events, of monthly chances ``rate``, that happen this step."""
        ...

    def note(self, kind: str, **fields: Any) -> None:
        """Report an event for observers (the app's narration); changes no state."""
        ...


@dataclass(frozen=True)
class Param:
    """One parameter a rule or strategy declares beside its code.

    The same metadata as :func:`sim.params.par`: the default, the allowed
    range ``lo``..``hi`` (``None``: open), the unit, what it means, its kind
    (``lever``, ``uncertainty``, ``structure`` or ``setting``), its source,
    whether a trainer may change it during a run (``live``) and the range a
    sensitivity analysis sweeps (``sweep``) with its source or a one-line reason
    (``sweep_ref``; every uncertainty has both). The type of the default (bool,
    int, float or str) is the parameter's type.
    """

    default: Any
    unit: str
    meaning: str
    kind: str
    lo: float | None = None
    hi: float | None = None
    ref: str | None = None
    live: bool = False
    sweep: tuple[float, float] | None = None
    sweep_ref: str | None = None

    def __post_init__(self) -> None:
        """Refuse a declaration whose default is outside its own range, or of no known kind."""
        if self.kind not in ("lever", "uncertainty", "structure", "setting"):
            raise ValueError(f"Param kind must be lever, uncertainty, structure or setting, "
                             f"not {self.kind!r}")
        if not isinstance(self.default, bool | int | float | str):
            raise ValueError(f"Param default must be a bool, int, float or str, not "
                             f"{type(self.default).__name__}")
        if self.check(self.default) is not None:
            raise ValueError(f"Param default {self.default!r} is outside its own range "
                             f"{self.lo} to {self.hi}")

    @property
    def type(self) -> type:
        """The parameter's type: that of its default."""
        return type(self.default)

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not allowed, or None when it is."""
        want = self.type
        if want is bool:
            ok = isinstance(value, bool)
        elif want is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif want is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        else:
            ok = isinstance(value, str)
        if not ok:
            return f"must be a {want.__name__}, not {value!r}"
        if want in (int, float):
            if value != value:  # NaN
                return "must be a number, not NaN"
            if (self.lo is not None and value < self.lo) or (self.hi is not None
                                                             and value > self.hi):
                return f"must be {self.lo} to {self.hi} {self.unit}, not {value!r}"
        return None


_MISSING = object()


def _declared_on(cls: type) -> dict[str, Param]:
    """A class's declared parameters, its bases' first (a subclass may redeclare one)."""
    out: dict[str, Param] = {}
    for klass in reversed(cls.__mro__):
        own = klass.__dict__.get("params")
        if isinstance(own, Mapping):
            out.update(own)
    return out


class Rule:
    """One mechanism of the model, applied to the whole system once a step.

    Subclasses say in their docstring what the mechanism represents and where
    it comes from, declare their own parameters in ``params`` (see the module
    docstring), and implement :meth:`apply` with vectorised operations on
    ``model.schools`` and the other tables of :mod:`sim.state`. A rule holds no
    state of its own between steps; it reads core parameters from ``model.p``,
    its own with :meth:`value`, and draws only from ``self.rng`` /
    ``self.kernel_rng``, its slot's stream, which the model sets before the
    first step.
    """

    slot: ClassVar[str]
    name: ClassVar[str]
    #: This rule's own parameters: name -> :class:`Param` (see the module docstring).
    params: ClassVar[Mapping[str, Param]] = {}
    _rng: Any = None
    _kernel_rng: Any = None

    def __init__(self, model: ModelLike | None = None) -> None:
        """A rule; given a model, bound to its slot's stream at once (to apply it alone)."""
        if model is not None:
            self.bind(model)

    def bind(self, model: ModelLike) -> None:
        """Take this slot's random stream from the model (the model does it for its pipeline)."""
        self._rng = model.rng_for(self.slot)
        self._kernel_rng = model.kernel_rng_for(self.slot)

    def _unbound(self) -> UserError:
        return UserError(f"rule {self.name!r} has no random stream yet: make it with the model, "
                         f"{type(self).__name__}(model), or call rule.bind(model) before apply")

    @property
    def rng(self) -> Any:
        """This slot's ``numpy.random.Generator`` (see the module docstring)."""
        if self._rng is None:
            raise self._unbound()
        return self._rng

    @property
    def kernel_rng(self) -> Any:
        """This slot's stream as compiled kernels take it (:class:`sim._jit.KernelRng`)."""
        if self._kernel_rng is None:
            raise self._unbound()
        return self._kernel_rng

    def value(self, model: ModelLike, name: str) -> Any:
        """The value in force of this rule's declared parameter ``name``.

        Parameters built before this rule was registered lack it: then its default.
        """
        key = f"{self.name}.{name}"
        got = model.p.declared.get(key, _MISSING)
        return _declared_on(type(self))[name].default if got is _MISSING else got

    def apply(self, model: ModelLike) -> None:
        """Apply the mechanism for one step."""
        raise NotImplementedError


def _module_of(obj: Any) -> str:
    return getattr(obj, "__module__", "?")


def _claim(table: dict[str, Any], what: str, name: str, obj: Any, replace: bool) -> None:
    """Put ``obj`` in ``table`` under ``name``; refuse another module's name unless ``replace``.

    The same module registering the name again (a module re-imported, e.g.
    reloaded in a notebook) replaces silently: it is the same code's newer copy.
    """
    old = table.get(name)
    if old is not None and old is not obj and _module_of(old) != _module_of(obj):
        if not replace:
            raise UserError(
                f"{what} {name!r} is already registered by module {_module_of(old)}; module "
                f"{_module_of(obj)} registers it again. Choose another name, or say "
                f"replace=True in the registration to replace the built-in (recorded in "
                f"results).")
        REPLACED.append({"what": what, "name": name, "replaced": _module_of(old),
                         "by": _module_of(obj)})
    table[name] = obj


def register(slot: str, name: str, default: bool = False, replace: bool = False):
    """Class decorator: register a rule for ``slot`` under ``name``.

    Args:
        slot: one of :data:`STEP_ORDER`.
        name: the name a scenario uses to pick it; also its parameters' namespace.
        default: make it the slot's default rule.
        replace: allow replacing a rule another module registered under this name.
    """
    if slot not in RULES:
        raise ValueError(f"unknown rule slot {slot!r}; valid: {', '.join(STEP_ORDER)}")
    if "." in name or not name:
        raise ValueError(f"rule name {name!r} must be non-empty and without a dot")

    def deco(cls: type[Rule]) -> type[Rule]:
        cls.slot, cls.name = slot, name
        _check_namespace(name, cls)
        _claim(RULES[slot], f"rule for slot {slot!r}", name, cls, replace)
        if default:
            DEFAULTS[slot] = name
        return cls

    return deco


def register_strategy(name: str, replace: bool = False):
    """Class decorator: register a strategy under ``name`` (also its parameters' namespace)."""
    if "." in name or not name:
        raise ValueError(f"strategy name {name!r} must be non-empty and without a dot")

    def deco(cls: type) -> type:
        cls.name = name
        _check_namespace(name, cls)
        _claim(STRATEGIES, "strategy", name, cls, replace)
        return cls

    return deco


def register_network(name: str, replace: bool = False) -> Callable:
    """Register a structure generator under ``name`` (usable as ``network: name``)."""

    def deco(fn: Callable) -> Callable:
        _claim(NETWORKS, "network", name, fn, replace)
        return fn

    return deco


def _owners() -> list[tuple[str, type]]:
    """Every registered class that may declare parameters, with its namespace."""
    out = [(name, cls) for slot in STEP_ORDER for name, cls in RULES[slot].items()]
    out += list(STRATEGIES.items())
    return out


def _check_namespace(name: str, cls: type) -> None:
    """Refuse a second class with declared parameters under a namespace already in use."""
    if not _declared_on(cls):
        return
    for other_name, other in _owners():
        if (other_name == name and other is not cls and _declared_on(other)
                and getattr(other, "slot", None) != getattr(cls, "slot", None)):
            raise UserError(
                f"{cls.__module__}.{cls.__qualname__} declares parameters under {name!r}, "
                f"which {other.__module__}.{other.__qualname__} already uses; register it "
                "under another name")


def declared_params() -> dict[str, Param]:
    """Every declared parameter of every registered rule and strategy: ``ns.name`` -> Param.

    In a stable order: rules slot by slot in :data:`STEP_ORDER`, each slot's
    rules in registration order, then the strategies.
    """
    out: dict[str, Param] = {}
    for ns, cls in _owners():
        for pname, spec in _declared_on(cls).items():
            out.setdefault(f"{ns}.{pname}", spec)
    return out


def stream_key(name: str) -> int:
    """The spawn key of the random stream called ``name``: 64 bits of its SHA-256.

    Stable across Python processes and versions (unlike ``hash()``), so the
    stream of a slot depends only on the run's seed and the slot's name.
    """
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
