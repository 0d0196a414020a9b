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
* :func:`use_forms`, the one switch between a rule's two forms (its numpy
  methods and their compiled twins), set by the run setting ``compiled``;
* :func:`stream_key`, how a named random stream is derived from a run's seed;
* :class:`ModelLike`, the protocol of the model that lower layers are typed
  against (they never import :class:`sim.model.model.NextPracticeModel`).

**Declaring a parameter.** A rule or strategy class lists its parameters in a
class attribute ``params``, a mapping of name to :class:`Param`, with the same
metadata as :func:`sim.model.params.par` (default, meaning, unit, lo/hi, kind, ref,
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

**Whose key.** A declared parameter belongs to the class that declares it:
the class whose own ``params`` (in its ``__dict__``) holds it. Its scenario
key is that class's registered name, a dot and its name
(``conformity.share_needed: 0.6`` in a scenario file, ``--set
conformity.share_needed=0.6`` on the command line, or an experiment factor);
``nextpractice params`` lists it; :mod:`sim.model.params`'s listing helpers
(``factors``, ``field_info``, ``parameter_table``, ``live_names``) include it.
So every registered class that inherits a parameter reads the one key of the
class that declared it:

* a subclass that only changes code (a plug-in's variant of a built-in,
  registered under a new name) reads its parent's keys: ``wary``, a subclass
  of ``judged``, reads ``judged.w_agenda``, and a key under the subclass's own
  name (``wary.w_agenda``) is refused with a message naming the key to set;
* a parameter the subclass adds, or redeclares (a different default or range),
  is its own, under its own registered name. Repeating the very same
  :class:`Param` object (``params = {**Base.params, "extra": ...}``) is not a
  redeclaration: the base's key stays;
* a class that is not registered but declares parameters for its subclasses
  names their namespace in its own class attribute ``params_namespace``. Each
  of the centre's mechanisms does (:mod:`sim.rules.strategies`: ``stance``,
  ``mandate``, ``field_trials``, ``brokering``): every strategy inherits them
  and reads ``brokering.n_broker``, whichever strategy is in force; so does the
  reduced modes' base (``classic.init_adopters``). Registering a subclass of an
  unregistered declaring class without one is refused.

A namespace belongs to one declaring class: registering a class whose
parameters would share a namespace with another class's is refused (classes
of the same module and name are the same code's newer copy, as when a
plug-in is reloaded). :func:`param_key` resolves a class's parameter to its
key, :func:`declared_params` lists every key with its declaration.

Read a value in ``apply`` with ``self.value(model, name)``: it is
``model.p.declared[param_key(type(self), name)]``, so a live parameter
changed during a run is read afresh each step.

**Two forms, one switch.** A rule whose computation is compiled keeps it twice
in its class, side by side: a numpy method ``X`` (the rule written to be read)
and its kernel ``X_compiled``, the same arithmetic and draws in the same order.
:meth:`Rule.bind` points ``X`` at ``X_compiled`` unless the run says ``compiled:
false`` (:func:`use_forms`); a subclass that overrides ``X`` alone runs its own.
Former names are refused in one line naming what to write instead
(:func:`key_hint` for keys, :func:`form_hint` for a numpy form's former name).

**Random numbers.** A shipped rule's random numbers are counter-based
(:mod:`sim.core.draws`): each a function of the run's seed, the slot, the
decision (``self.key("consider")``), the step and the entity it concerns (a
school, a practice, a tie...), never of how many numbers were drawn before it.
Two runs that differ in a rule, a parameter or the strategy then meet the same
luck in every decision both take: common random numbers across rule variants
and strategies, which a stream read in order loses as soon as the runs diverge.
A rule lists its decisions in ``decisions``; the model binds it before the
first step, and ``self.keys`` holds their keys, a row each, for kernels. The
key of a decision derives from the slot's own ``numpy.random.Generator``
(``self.rng``, derived from the run's seed and the slot's name with
:func:`stream_key`), which a plug-in may also read in order (``self.rng``, or
``self.kernel_rng``, the same stream as compiled kernels take it,
:class:`sim.core.jit.KernelRng`); code outside a rule asks
``model.rng_for(name)``. The structure builder (networks, the initial system,
the first heads) draws from the stream ``structure`` in order (it runs before
any strategy acts, so it is the same under every strategy); the strategy's
mechanisms key theirs on the ``centre`` slot's stream.

**Registering a name twice.** Registering a rule, strategy or network under a
name that another module already registered is refused (a
:class:`~sim.core.errors.UserError` naming both modules) unless the registration
says ``replace=True``; a replacement is recorded in :data:`REPLACED`, which
the runner writes into each run's summary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from sim.core.errors import UserError

#: The order of events in a step; :class:`sim.model.model.NextPracticeModel` documents each.
STEP_ORDER: tuple[str, ...] = (
    "centre",
    "hear",
    "adopt",
    "invent",
    "implement",
    "capacity",
    "perform",
    "review",
    "lifecycle",
    "ties",
    "collaborate",
    "lead",
    "turnover",
    "shocks",
)

#: Named random streams that are not slots: the structure builder's.
STRUCTURE_STREAM = "structure"
#: The stream of schools' cohort sizes at the start: its own, so no other draw moves.
COHORT_STREAM = "cohort"

#: slot -> rule name -> rule class.
RULES: dict[str, dict[str, type[Rule]]] = {slot: {} for slot in STEP_ORDER}

#: The rule each slot runs unless a scenario says otherwise.
DEFAULTS: dict[str, str] = {}

#: Strategy name -> strategy class (:class:`sim.rules.strategies.Strategy` subclasses).
STRATEGIES: dict[str, type] = {}

#: Structure generator name -> function ``(params, rng) -> Structure``.
NETWORKS: dict[str, Callable] = {}

#: Registrations that replaced a name already taken, with ``replace=True``:
#: one record per replacement (what, name, the module replaced, the module replacing).
REPLACED: list[dict[str, str]] = []


@runtime_checkable
class ModelLike(Protocol):
    """What rules, strategies, actions, agents and metrics may use of the model.

    :class:`sim.model.model.NextPracticeModel` is the one implementation; lower
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

    def occurs(self, rate: Any, rng: Any = None, ids: Any = None) -> Any:
        """Indices of the events, of monthly chances ``rate``, that happen this step."""
        ...

    def born(self, table: str, places: Any) -> Any:
        """Identifiers of entities of ``table`` born this step at ``places``."""
        ...

    def appoint_heads(self, schools: Any, keys: Any) -> Any:
        """A new head for each of ``schools``, traits drawn under ``keys``."""
        ...

    def note(self, kind: str, **fields: Any) -> None:
        """Report an event for observers (the app's narration); changes no state."""
        ...


@dataclass(frozen=True)
class Param:
    """One parameter a rule or strategy declares beside its code.

    The same metadata as :func:`sim.model.params.par`: the default, the allowed
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
            raise ValueError(
                f"Param kind must be lever, uncertainty, structure or setting, not {self.kind!r}"
            )
        if not isinstance(self.default, bool | int | float | str):
            raise ValueError(
                f"Param default must be a bool, int, float or str, not "
                f"{type(self.default).__name__}"
            )
        if self.check(self.default) is not None:
            raise ValueError(
                f"Param default {self.default!r} is outside its own range {self.lo} to {self.hi}"
            )

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
            if (self.lo is not None and value < self.lo) or (
                self.hi is not None and value > self.hi
            ):
                return f"must be {self.lo} to {self.hi} {self.unit}, not {value!r}"
        return None


_MISSING = object()


def _own_params(klass: type) -> Mapping[str, Param]:
    """The parameters a class declares itself (its own ``params``, not inherited)."""
    own = klass.__dict__.get("params")
    return own if isinstance(own, Mapping) else {}


def _declared_on(cls: type) -> dict[str, Param]:
    """A class's declared parameters, its bases' first (a subclass may redeclare one)."""
    out: dict[str, Param] = {}
    for klass in reversed(cls.__mro__):
        out.update(_own_params(klass))
    return out


def _qual(klass: type) -> str:
    return f"{klass.__module__}.{klass.__qualname__}"


def declaring_class(cls: type, name: str) -> type:
    """The class that declares ``cls``'s parameter ``name``, whose key it reads.

    The nearest class of ``cls``'s MRO whose own ``params`` holds ``name``;
    further up when a base's own ``params`` holds the very same :class:`Param`
    (a subclass that repeats its base's declarations does not redeclare them).

    Raises:
        KeyError: ``cls`` declares no parameter ``name``.
    """
    spec: Param | None = None
    owner: type | None = None
    for klass in cls.__mro__:
        got = _own_params(klass).get(name)
        if got is None:
            continue
        if spec is None:
            spec, owner = got, klass
        elif got is spec:
            owner = klass
    if owner is None:
        raise KeyError(f"{_qual(cls)} declares no parameter {name!r}")
    return owner


def namespace_of(klass: type) -> str | None:
    """The namespace of the parameters ``klass`` declares itself, or None if it has none.

    Its own ``params_namespace`` when it sets one (an unregistered base such as
    :class:`sim.rules.strategies.Strategy`), else the name it is registered under.
    """
    own = klass.__dict__
    ns = own.get("params_namespace", own.get("name"))
    return ns if isinstance(ns, str) and ns else None


def param_key(cls: type, name: str) -> str:
    """The scenario key ``cls``'s parameter ``name`` is read from: ``<namespace>.<name>``.

    The namespace is that of the class that declares it (:func:`declaring_class`),
    so a subclass that does not redeclare a parameter reads its base's key.

    Raises:
        KeyError: ``cls`` declares no parameter ``name``.
        UserError: the declaring class is neither registered nor names a namespace.
    """
    owner = declaring_class(cls, name)
    ns = namespace_of(owner)
    if ns is None:
        raise UserError(
            f"{_qual(owner)} declares parameter {name!r} but is not registered, so the "
            f"parameter has no scenario key; register it, or give it a class attribute "
            f"params_namespace = '<name>' (the namespace its subclasses' keys share)"
        )
    return f"{ns}.{name}"


#: class -> its parameters' keys, as :meth:`Rule.value` resolved them; every registration
#: clears it (a registration names a namespace).
_KEYS: dict[type, dict[str, str]] = {}


def param_keys(cls: type) -> dict[str, str]:
    """Each parameter ``cls`` declares or inherits, with the key it is read from."""
    return {name: param_key(cls, name) for name in _declared_on(cls)}


#: The suffix of a compute method's compiled twin: ``judge`` and ``judge_compiled``.
COMPILED = "_compiled"


def compiled_twins(cls: type) -> dict[str, str]:
    """Each compute method of ``cls`` that has a compiled twin in force: name -> twin's name.

    A method ``X`` (the readable numpy form) pairs with ``X_compiled`` (its
    kernel, the same computation compiled) when the class that defines the
    twin is the class that defines ``X``, or a subclass of it. A subclass
    that overrides ``X`` alone (a plug-in changing a shipped rule's numpy
    form) keeps no twin: its own ``X`` runs whatever the run setting says.
    """
    got = _TWINS.get(cls)
    if got is None:
        got = {}
        for twin in dir(cls):
            if not twin.endswith(COMPILED) or twin == COMPILED:
                continue
            name = twin.removesuffix(COMPILED)
            plain = next((k for k in cls.__mro__ if name in k.__dict__), None)
            fast = next((k for k in cls.__mro__ if twin in k.__dict__), None)
            if plain is not None and fast is not None and issubclass(fast, plain):
                got[name] = twin
        _TWINS[cls] = got
    return got


_TWINS: dict[type, dict[str, str]] = {}


def inherits(cls: type, base: type, names: tuple[str, ...]) -> bool:
    """Whether ``cls`` takes each method of ``names`` from ``base`` as ``base`` has it.

    A shipped rule that runs several compute methods as one compiled call does
    so only then: a plug-in subclass that overrides one of them (its numpy form
    or its kernel) runs the rule's methods one by one, its own among them.
    """
    return all(getattr(cls, name) is getattr(base, name) for name in names)


def forms_state(obj: Any) -> dict[str, Any]:
    """``obj``'s ``__dict__`` without its bound forms, and whether they were compiled."""
    state = dict(obj.__dict__)
    twins = compiled_twins(type(obj))
    state["_compiled_forms"] = any(name in state for name in twins)
    for name in twins:
        state.pop(name, None)
    return state


def restore_forms(obj: Any, state: dict[str, Any]) -> None:
    """The inverse of :func:`forms_state`: the state back, the same forms bound."""
    state = dict(state)
    compiled = state.pop("_compiled_forms", False)
    obj.__dict__.update(state)
    use_forms(obj, compiled)


def use_forms(obj: Any, compiled: bool) -> None:
    """Point ``obj``'s compute methods at their compiled twins, or back at the numpy forms.

    The one switch between the two forms of every rule and strategy: the run
    setting ``compiled`` (``true`` by default; ``compiled: false`` in a scenario
    or ``--set compiled=false`` runs every numpy form). Each form draws the same
    random numbers and does the same arithmetic in the same order, so a run is
    the same bit for bit either way (``tests/test_numpy_forms.py``).
    """
    for name, twin in compiled_twins(type(obj)).items():
        if compiled:
            obj.__dict__[name] = getattr(obj, twin)
        else:
            obj.__dict__.pop(name, None)


class Rule:
    """One mechanism of the model, applied to the whole system once a step.

    Subclasses say in their docstring what the mechanism represents and where
    it comes from, declare their own parameters in ``params`` (see the module
    docstring), and implement :meth:`apply` with vectorised operations on
    ``model.schools`` and the other tables of :mod:`sim.core.state`. A rule holds no
    state of its own between steps; it reads core parameters from ``model.p``,
    its own with :meth:`value`, and draws only from ``self.rng`` /
    ``self.kernel_rng``, its slot's stream, which the model sets before the
    first step. A compute method ``X`` compiled for speed has its kernel
    ``X_compiled`` beside it in the class (see the module docstring).
    """

    slot: ClassVar[str]
    name: ClassVar[str]
    #: This rule's own parameters: name -> :class:`Param` (see the module docstring).
    params: ClassVar[Mapping[str, Param]] = {}
    #: The decisions this rule draws random numbers for, each its own keyed stream:
    #: ``self.keys`` holds their keys in this order (rows), for kernels.
    decisions: ClassVar[tuple[str, ...]] = ()
    #: Whether the rule spends money through ``model.ledger`` (:mod:`sim.system.costs`).
    #: A run whose rules all leave it False, and whose metric set records no spend
    #: (``metrics: adoption``, the reduced diffusion modes), keeps no ledger: no
    #: allowance accrues and no running cost is charged, and a rule that asks the
    #: ledger for money then is told to declare ``pays = True``.
    pays: ClassVar[bool] = False
    _rng: Any = None
    _kernel_rng: Any = None
    _keys: Any = None

    def __init__(self, model: ModelLike | None = None) -> None:
        """A rule; given a model, bound to its slot's stream at once (to apply it alone)."""
        if model is not None:
            self.bind(model)

    def bind(self, model: ModelLike) -> None:
        """Take this slot's random stream from the model, and the forms its run setting asks.

        The model does it for its pipeline. Each compute method with a compiled
        twin then runs compiled, unless the run says ``compiled: false``
        (:func:`use_forms`).
        """
        self._rng = model.rng_for(self.slot)
        self._kernel_rng = model.kernel_rng_for(self.slot)
        self._keys = stream_keys(self._rng, self.decisions)
        use_forms(self, getattr(model.p, "compiled", True))

    def __getstate__(self) -> dict[str, Any]:
        """The rule as copied or pickled: its state, and which forms it runs, not the forms.

        A compiled form is a numba dispatcher; copying a model (``copy.deepcopy``)
        or sending it to another process would serialise each one. The copy
        binds the same forms again (:meth:`__setstate__`).
        """
        return forms_state(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a copied rule, pointing its compute methods at the same forms.

        Its keys stay read-only, as :func:`stream_keys` made them: a copied array
        is writeable, and a compiled kernel handed a writeable array where it had
        a read-only one compiles a second time (about a minute and a half the
        first time a copied model runs).
        """
        restore_forms(self, state)
        keys = self.__dict__.get("_keys")
        if isinstance(keys, np.ndarray):
            keys.flags.writeable = False

    def _unbound(self) -> UserError:
        return UserError(
            f"rule {self.name!r} has no random stream yet: make it with the model, "
            f"{type(self).__name__}(model), or call rule.bind(model) before apply"
        )

    @property
    def rng(self) -> Any:
        """This slot's ``numpy.random.Generator`` (see the module docstring)."""
        if self._rng is None:
            raise self._unbound()
        return self._rng

    @property
    def kernel_rng(self) -> Any:
        """This slot's stream as compiled kernels take it (:class:`sim.core.jit.KernelRng`)."""
        if self._kernel_rng is None:
            raise self._unbound()
        return self._kernel_rng

    @property
    def keys(self) -> Any:
        """The keys of this rule's :attr:`decisions`, in order: ``(len(decisions), 2)`` uint64.

        What kernels take: row ``i`` is the key of decision ``decisions[i]``
        (:func:`key` gives one by name).
        """
        if self._keys is None:
            raise self._unbound()
        return self._keys

    def key(self, decision: str) -> Any:
        """The key of one ``decision`` of this slot's stream, for :mod:`sim.core.draws`.

        Derived from the run's seed, the slot's name and the decision's name
        alone, so the decision's numbers move with nothing else: ``u =
        draws.uniform(self.key("consider"), model.t, schools, 0)``. Any name
        works; those in :attr:`decisions` are also rows of :attr:`keys`.
        """
        if self._rng is None:
            raise self._unbound()
        if decision in self.decisions:
            return self.keys[self.decisions.index(decision)]
        return stream_keys(self._rng, (decision,))[0]

    def value(self, model: ModelLike, name: str) -> Any:
        """The value in force of this rule's declared parameter ``name``.

        Its key is that of the class that declares it (:func:`param_key`): a
        subclass reads its parent's for what it inherits. Parameters built
        before this rule was registered lack it: then its default.
        """
        try:  # the usual case, in one expression (rules read a few dozen values a step)
            return model.p.declared[_KEYS[type(self)][name]]
        except KeyError:
            pass
        keys = _KEYS.get(type(self))
        if keys is None:  # resolved once per class (a registration clears the cache)
            keys = _KEYS[type(self)] = param_keys(type(self))
        key = keys.get(name)
        if key is None:
            raise KeyError(f"{_qual(type(self))} declares no parameter {name!r}")
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
                f"results)."
            )
        REPLACED.append(
            {"what": what, "name": name, "replaced": _module_of(old), "by": _module_of(obj)}
        )
    table[name] = obj


def register(slot: str, name: str, default: bool = False, replace: bool = False):
    """Class decorator: register a rule for ``slot`` under ``name``.

    Args:
        slot: one of :data:`STEP_ORDER`.
        name: the name a scenario uses to pick it; also the namespace of the
            parameters it declares itself (those it inherits keep their keys).
        default: make it the slot's default rule.
        replace: allow replacing a rule another module registered under this name.
    """
    if slot not in RULES:
        raise ValueError(f"unknown rule slot {slot!r}; valid: {', '.join(STEP_ORDER)}")
    if "." in name or not name:
        raise ValueError(f"rule name {name!r} must be non-empty and without a dot")

    def deco(cls: type[Rule]) -> type[Rule]:
        _one_name(cls, name)
        cls.slot, cls.name = slot, name
        _check_namespace(name, cls, RULES[slot].get(name))
        _claim(RULES[slot], f"rule for slot {slot!r}", name, cls, replace)
        _KEYS.clear()
        if default:
            DEFAULTS[slot] = name
        return cls

    return deco


def register_strategy(name: str, replace: bool = False):
    """Class decorator: register a strategy under ``name``.

    ``name`` is also the namespace of the parameters the class declares itself;
    those it inherits keep their keys (``brokering.*`` and the other centre mechanisms').
    """
    if "." in name or not name:
        raise ValueError(f"strategy name {name!r} must be non-empty and without a dot")

    def deco(cls: type) -> type:
        _one_name(cls, name)
        cls.name = name
        _check_namespace(name, cls, STRATEGIES.get(name))
        _claim(STRATEGIES, "strategy", name, cls, replace)
        _KEYS.clear()
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


def _one_name(cls: type, name: str) -> None:
    """Refuse registering a class that declares parameters under a second name.

    Its registered name is its parameters' namespace: one name, one set of keys.
    """
    before = cls.__dict__.get("name")
    if isinstance(before, str) and before != name and _own_params(cls):
        raise UserError(
            f"{_qual(cls)} is registered as {before!r} and declares parameters under that "
            f"name; it cannot be registered as {name!r} too. Register a subclass instead "
            f"(it reads {before!r}'s keys)"
        )


def _same_code(a: type, b: type) -> bool:
    """The same class, or its newer copy (a reloaded module's)."""
    return a is b or (_qual(a) == _qual(b))


def _check_namespace(name: str, cls: type, replaced: type | None) -> None:
    """Refuse a class whose parameters would share a namespace with another class's.

    ``cls`` is being registered under ``name`` (already set on it), replacing
    ``replaced`` (the class registered under that name in the same table, or
    None). Every namespace that ``cls`` reads keys from must be declared by one
    class only, among every registered class's.

    Raises:
        UserError: a declaring class of ``cls`` is neither registered nor names
            a namespace, or another class declares parameters under one of its
            namespaces (the message names both).
    """
    mine: dict[str, type] = {}
    for pname in _declared_on(cls):
        ns = param_key(cls, pname).split(".", 1)[0]
        mine.setdefault(ns, declaring_class(cls, pname))
    if not mine:
        return
    for other_name, other in _owners():
        if other is cls or other is replaced:
            continue
        for pname in _declared_on(other):
            ns = param_key(other, pname).split(".", 1)[0]
            owner = declaring_class(other, pname)
            if ns in mine and not _same_code(owner, mine[ns]):
                raise UserError(
                    f"{_qual(mine[ns])} declares parameters under {ns!r}, which "
                    f"{_qual(owner)} already uses (registered {other_name!r} reads "
                    f"{ns}.{pname}); register {_qual(cls)} under another name"
                )


def declared_params() -> dict[str, Param]:
    """Every declared parameter of every registered rule and strategy: key -> Param.

    One entry per key (:func:`param_key`), however many registered classes read
    it (``brokering.n_broker`` for every strategy). In a stable
    order: rules slot by slot in :data:`STEP_ORDER`, each slot's rules in
    registration order, then the strategies; a key where a class first reads it.
    """
    return dict(_tables()[0])


#: The last (registered classes -> (declared_params, owners)) worked out: parameters are
#: checked on every Params made, and the registered classes rarely change.
_TABLES: dict[tuple, tuple[dict[str, Param], dict[str, type]]] = {}


def _tables() -> tuple[dict[str, Param], dict[str, type]]:
    """:func:`declared_params` and :func:`owners`, worked out once per set of registered classes."""
    now = _owners()
    key = tuple((name, id(cls), id(cls.__dict__.get("params"))) for name, cls in now)
    got = _TABLES.get(key)
    if got is None:
        params: dict[str, Param] = {}
        owner: dict[str, type] = {}
        for _ns, cls in now:
            for pname, spec in _declared_on(cls).items():
                k = param_key(cls, pname)
                if k not in params:
                    params[k], owner[k] = spec, declaring_class(cls, pname)
        _TABLES.clear()
        got = _TABLES[key] = (params, owner)
    return got


def builtin_keys() -> set[str]:
    """The keys the built-in rules and strategies declare (those of the ``sim`` package)."""
    return {key for key, owner in owners().items() if owner.__module__.startswith("sim.")}


def keys_read(names: Iterable[str]) -> set[str]:
    """The keys the registered rules and strategies of these names read."""
    wanted = set(names)
    return {key for name, cls in _owners() if name in wanted for key in param_keys(cls).values()}


def key_hint(key: str) -> str | None:
    """For a key that is not a parameter: which key to set instead, if one is plain.

    * ``judged_numpy.w_agenda`` (a numpy form's name, no longer a rule of its own)
      -> ``judged.w_agenda``, with the run setting that runs the numpy form;
    * ``top_down.n_broker`` (a name that reads the parameter from another key)
      -> ``brokering.n_broker``;
    * ``rate_perf`` or ``centre.n_broker`` (a parameter declared beside the rule
      that reads it, under that rule's name) -> ``practice_effects.rate_perf``,
      ``brokering.n_broker``.

    None when no registered rule or strategy reads a parameter of that name.
    """
    if not isinstance(key, str) or not key:
        return None
    ns, _, pname = key.rpartition(".")
    if ns.endswith("_numpy"):
        form = ns.removesuffix("_numpy")
        right = _key_read_by(form, pname)
        if right is not None:
            return (
                f"{ns!r} was the numpy form of {form!r}, no longer a rule of its own: set "
                f"{right!r} instead (compiled: false runs every rule's numpy form)"
            )
    right = _key_read_by(ns, pname) if ns else None
    if right is not None and right != key:
        owner = _owner_of(right)
        return f"{ns!r} reads {pname} from {right!r} (declared by {owner}): set {right!r} instead"
    if right is None:
        table = declared_params()
        named = [k for k in table if k.rpartition(".")[2] == pname and k != key]
        if named:
            where = " or ".join(f"{k!r} (in {_file_of(k)})" for k in named)
            return (
                f"{pname} is declared beside the mechanism that reads it, under its name: "
                f"set {where} instead"
            )
    return None


def _key_read_by(name: str, pname: str) -> str | None:
    """The key the registered rule or strategy ``name`` reads its parameter ``pname`` from."""
    for ns, cls in _owners():
        if ns == name and pname in _declared_on(cls):
            return param_key(cls, pname)
    return None


def _owner_of(key: str) -> str:
    """The declaring class of a declared key, as ``module.Class``."""
    ns, _, pname = key.rpartition(".")
    for _name, cls in _owners():
        if pname in _declared_on(cls) and param_key(cls, pname) == key:
            return _qual(declaring_class(cls, pname))
    return ns


def _file_of(key: str) -> str:
    """The file of the class that declares a declared key (``sim/rules/judged.py``)."""
    owner = owners().get(key)
    return owner.__module__.replace(".", "/") + ".py" if owner is not None else "?"


def owners() -> dict[str, type]:
    """Each declared key with the class that declares it (what ``nextpractice params`` shows)."""
    return dict(_tables()[1])


def form_hint(what: str, name: str, table: Mapping[str, Any]) -> str | None:
    """For a rule or strategy name ending ``_numpy`` that is not registered: what to write.

    The numpy forms were rules (and strategies) of their own; they are now the
    readable form of the rule itself, run with the setting ``compiled: false``.
    """
    if isinstance(name, str) and name.endswith("_numpy") and name.removesuffix("_numpy") in table:
        plain = name.removesuffix("_numpy")
        return (
            f"{what} {name!r} was the numpy form of {plain!r}, no longer registered apart: "
            f"write {plain!r}, and compiled: false to run its numpy form"
        )
    return None


def stream_key(name: str) -> int:
    """64 bits of the SHA-256 of ``name``: a stream's or decision's spawn key.

    Stable across Python processes and versions (unlike ``hash()``).
    """
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def stream_keys(generator: np.random.Generator, names: Sequence[str]) -> np.ndarray:
    """A Philox key for each decision ``names`` of the named stream ``generator``.

    The stream's ``SeedSequence`` (run seed, stream name) extended by the
    decision's :func:`stream_key`: ``(len(names), 2)`` uint64, read-only.
    Cached: the same stream and names give the same array object.
    """
    ss = generator.bit_generator.seed_seq
    entropy = ss.entropy if isinstance(ss.entropy, int) else tuple(np.ravel(ss.entropy).tolist())
    return _keys(entropy, tuple(ss.spawn_key), tuple(names))


@lru_cache(maxsize=8192)
def _keys(entropy, spawn_key: tuple[int, ...], names: tuple[str, ...]) -> np.ndarray:
    out = np.empty((len(names), 2), np.uint64)
    for i, name in enumerate(names):
        seq = np.random.SeedSequence(entropy, spawn_key=(*spawn_key, stream_key(name)))
        out[i] = seq.generate_state(2, np.uint64)
    out.flags.writeable = False
    return out
