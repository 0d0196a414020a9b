"""What an experiment file may say: its factors' declarations and the file's schema.

The factors and their ranges are declared once, on the parameter class (EMA
workbench's XLRM: uncertainties X, levers L): :func:`declared_factors` reads them.
The pydantic models below are the experiment file's strict schema (an unknown key
is refused with the valid ones); :func:`load_experiment` reads a file with the safe
YAML reader and says what is wrong with it in the user's terms.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.core.errors import UserError
from sim.inputs.safe_io import excerpt, read_yaml_file
from sim.inputs.strict import TYPE_ERRORS, wrong_type

#: The ``kind`` values (in a field's ``json_schema_extra``) that make a field a factor.
FACTOR_KINDS = ("uncertainty", "lever")

#: A grid or list design may vary the base scenario file under this name.
SCENARIO = "scenario"
#: A robustness design's policy label and world index columns.
POLICY = "policy"
WORLD = "world"
_LABELS = (SCENARIO, POLICY, WORLD)


# --------------------------------------------------------------------------------------
# Declarations
# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------


RunFn = Callable[[dict[str, Any], int, int | None], Mapping[str, float]]


@dataclass(frozen=True)
class ModelSpec:
    """What the sweep machinery needs to know about a model, registered by name.

    The callables are given as ``"module:attribute"`` strings so that looking up a
    model imports nothing until it is used, and a run function pickles by reference
    to worker processes and Dask workers.

    Attributes:
        name: Registered name, as written in an experiment's ``model:`` key.
        params: ``"module:Class"`` of the pydantic parameter class (the declarations).
        run: ``"module:function"`` taking ``(params: dict, seed: int, steps: int | None)``
            and returning the scalar outcomes of one run.
        outcomes: ``"module:attribute"`` of the declared outcomes, a mapping from
            outcome name to its description; or a mapping itself.
        load_scenario: ``"module:function"`` ``(path, overrides) -> params object``, or
            ``None`` when the model has no scenario files.

    """

    name: str
    params: str
    run: str
    outcomes: str | Mapping[str, str]
    load_scenario: str | None = None

    def params_cls(self) -> type[BaseModel]:
        """Import and return the parameter class."""
        return _import(self.params)

    def run_fn(self) -> RunFn:
        """Import and return the run function."""
        return _import(self.run)

    def outcome_names(self) -> dict[str, str]:
        """Import and return the declared outcomes (name to description)."""
        decl = self.outcomes if isinstance(self.outcomes, Mapping) else _import(self.outcomes)
        return dict(decl)


def _import(target: str) -> Any:
    import importlib

    module, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as exc:  # the core may not be written yet, or not installed
        raise UserError(f"cannot import {module} ({exc}); is nextpractice installed?") from exc
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


#: Registered models. The real model comes first and is the default.
MODELS: dict[str, ModelSpec] = {
    "nextpractice": ModelSpec(
        name="nextpractice",
        params="sim.model.params:Params",
        run="sim.experiments.sweep:run_nextpractice",
        outcomes="sim.experiments.sweep:NEXTPRACTICE_OUTCOMES",
        load_scenario="sim.model.scenario:load_scenario",
    ),
    "ishigami": ModelSpec(
        name="ishigami",
        params="sim.experiments.ishigami:IshigamiParams",
        run="sim.experiments.ishigami:run_ishigami",
        outcomes="sim.experiments.ishigami:ISHIGAMI_OUTCOMES",
    ),
    "normal": ModelSpec(
        name="normal",
        params="sim.experiments.ishigami:NormalParams",
        run="sim.experiments.ishigami:run_normal",
        outcomes="sim.experiments.ishigami:NORMAL_OUTCOMES",
    ),
}


def get_model(name: str) -> ModelSpec:
    """Look up a registered model by name.

    Raises:
        UserError: The name is not registered; the message lists the valid names.

    """
    if name not in MODELS:
        raise UserError(f"unknown model {name!r}; valid models: {', '.join(MODELS)}")
    return MODELS[name]


# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    """One declared uncertainty or lever, read from a parameter class field.

    Attributes:
        name: Field name, also the column name in design and results tables.
        kind: ``"uncertainty"`` (the world decides) or ``"lever"`` (a policy choice).
        unit: Unit of the value, as declared.
        description: What the parameter means.
        default: Default value on the parameter class.
        dtype: ``"float"``, ``"int"``, ``"bool"`` or ``"category"``.
        lower: Validation lower bound (inclusive), if any.
        upper: Validation upper bound (inclusive), if any.
        sweep: Declared default range for sensitivity analysis, if any.
        choices: Allowed values of a categorical factor.

    """

    name: str
    kind: str
    unit: str
    description: str
    default: Any
    dtype: str
    lower: float | None = None
    upper: float | None = None
    sweep: tuple[float, float] | None = None
    choices: tuple[Any, ...] | None = None

    @property
    def numeric(self) -> bool:
        """Whether a sampler can draw this factor from an interval."""
        return self.dtype in ("float", "int")

    def allowed(self) -> str:
        """Describe the allowed values in words, for error messages."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.dtype == "category":
            return "a name"
        if self.dtype == "bool":
            return "true or false"
        lo = "-inf" if self.lower is None else _fmt(self.lower)
        hi = "inf" if self.upper is None else _fmt(self.upper)
        return f"{'a whole number' if self.dtype == 'int' else 'a number'} in [{lo}, {hi}]"


#: The base scenario as a factor of grid and list designs (values: file names).
SCENARIO_FACTOR = Factor(
    name=SCENARIO,
    kind="scenario",
    unit="file",
    description="Base scenario file (the label is the file's stem).",
    default=None,
    dtype="category",
)


def _fmt(x: float) -> str:
    if float(x).is_integer() and abs(x) < 1e19:
        return str(int(x))
    return f"{x:.6g}"


def _unwrap_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _field_dtype(annotation: Any) -> tuple[str, tuple[Any, ...] | None]:
    ann = _unwrap_optional(annotation)
    if typing.get_origin(ann) is Literal:
        return "category", tuple(typing.get_args(ann))
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return "category", tuple(m.value for m in ann)
    if ann is str:
        return "category", None
    if ann is bool:
        return "bool", None
    if ann is int:
        return "int", None
    if ann is float:
        return "float", None
    return "other", None


def _bounds(info: Any) -> tuple[float | None, float | None]:
    lower = upper = None
    for m in info.metadata:
        if getattr(m, "ge", None) is not None:
            lower = float(m.ge)
        if getattr(m, "gt", None) is not None:
            lower = float(m.gt)
        if getattr(m, "le", None) is not None:
            upper = float(m.le)
        if getattr(m, "lt", None) is not None:
            upper = float(m.lt)
    return lower, upper


def _fields(params_cls: type[BaseModel]) -> dict[str, Any]:
    """The parameter fields of a class, with those its rules declare (``all_fields``) if any."""
    extra = getattr(params_cls, "all_fields", None)
    return extra() if callable(extra) else dict(params_cls.model_fields)


def declared_parameters(params_cls: type[BaseModel]) -> dict[str, str]:
    """Return every parameter field name with its declared kind.

    Args:
        params_cls: A pydantic parameter class following the house convention
            (``json_schema_extra`` with ``kind``).

    Returns:
        Field name to kind (``uncertainty``, ``lever``, ``structure``, ``setting``,
        or ``""`` when the field declares none).

    """
    kinds = {}
    for name, info in _fields(params_cls).items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        kinds[name] = str(extra.get("kind", ""))
    return kinds


def declared_factors(params_cls: type[BaseModel]) -> dict[str, Factor]:
    """Read the uncertainties and levers declared on a parameter class.

    Args:
        params_cls: A pydantic parameter class whose fields carry ``json_schema_extra``
            with ``kind``, ``unit`` and, for fields meant for sensitivity analysis,
            ``sweep: [lo, hi]``.

    Returns:
        Factor name to :class:`Factor`, uncertainties first, then levers, each group
        in field order.

    """
    found: dict[str, Factor] = {}
    fields = _fields(params_cls)
    for kind in FACTOR_KINDS:
        for name, info in fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            if extra.get("kind") != kind:
                continue
            dtype, choices = _field_dtype(info.annotation)
            lower, upper = _bounds(info)
            sweep = extra.get("sweep")
            default = info.default
            if isinstance(default, enum.Enum):
                default = default.value
            found[name] = Factor(
                name=name,
                kind=kind,
                unit=str(extra.get("unit", "")),
                description=info.description or "",
                default=default,
                dtype=dtype,
                lower=lower,
                upper=upper,
                sweep=(float(sweep[0]), float(sweep[1])) if sweep is not None else None,
                choices=choices,
            )
    return found


def salib_problem(factors: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    """Build a SALib problem dictionary from factor names and ranges.

    Args:
        factors: Factor name to ``(low, high)``, in the order the sample columns use.

    Returns:
        ``{"num_vars", "names", "bounds"}`` as SALib's samplers and analysers expect.

    """
    return {
        "num_vars": len(factors),
        "names": list(factors),
        "bounds": [[float(lo), float(hi)] for lo, hi in factors.values()],
    }


def default_problem(model: str = "nextpractice") -> dict[str, Any]:
    """Build the SALib problem over every factor with a declared sweep range.

    Args:
        model: Registered model name.

    Returns:
        The SALib problem generated from the declarations, nothing retyped.

    """
    spec = get_model(model)
    factors = declared_factors(spec.params_cls())
    return salib_problem({f.name: f.sweep for f in factors.values() if f.sweep is not None})


# --------------------------------------------------------------------------------------
# The experiment file schema
# --------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class FactorSpec(_Strict):
    """How one factor varies in an experiment."""

    range: list[float] | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="[low, high]; defaults to the declared sweep range.",
        json_schema_extra={"fix": "write range: [low, high] with low < high"},
    )
    values: list[float | int | str | bool] | None = Field(
        None, min_length=1, description="Grid only: the values to run."
    )
    n: int | None = Field(
        None, ge=2, le=10_000, description="Grid only: number of evenly spaced points."
    )


def _factor_map(value: Any) -> Any:
    """Accept ``[a, b]`` or ``{a: null}`` as shorthand for ``{a: {}, b: {}}``."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return {v: {} for v in value}
    if isinstance(value, dict):
        return {k: ({} if v is None else v) for k, v in value.items()}
    return value


class _SampledDesign(_Strict):
    factors: dict[str, FactorSpec] | None = Field(
        None,
        description="Factors to vary (names, or name: {range: [lo, hi]}); "
        "default: every factor with a declared sweep range.",
    )
    exclude: list[str] = Field(
        default_factory=list,
        description="Without factors: leave these out of the default set (e.g. parameters "
        "only the reduced diffusion modes read).",
    )

    _normalise = field_validator("factors", mode="before")(_factor_map)


class SobolDesign(_SampledDesign):
    """Saltelli sampling for Sobol' indices."""

    method: Literal["sobol"]
    n: int = Field(
        ge=2,
        le=2**20,
        description="Base sample size N (a power of 2).",
        json_schema_extra={"fix": "use a power of 2 such as 64, 256 or 1024"},
    )
    second_order: bool = Field(True, description="Also estimate second-order indices.")

    @field_validator("n")
    @classmethod
    def _power_of_two(cls, n: int) -> int:
        if n & (n - 1):
            lo = 1 << (n.bit_length() - 1)
            raise ValueError(f"must be a power of 2 for a Sobol' sample; try {lo} or {lo * 2}")
        return n


class MorrisDesign(_SampledDesign):
    """Morris elementary-effects screening."""

    method: Literal["morris"]
    n: int = Field(ge=2, le=100_000, description="Number of trajectories.")
    levels: int = Field(4, ge=2, le=100, description="Grid levels per factor (even).")

    @field_validator("levels")
    @classmethod
    def _even(cls, levels: int) -> int:
        if levels % 2:
            raise ValueError(f"must be even for a balanced Morris design; try {levels + 1}")
        return levels


class LHSDesign(_SampledDesign):
    """Latin hypercube sample."""

    method: Literal["lhs"]
    n: int = Field(ge=1, le=10_000_000, description="Number of parameter sets.")


class GridDesign(_Strict):
    """Full factorial grid."""

    method: Literal["grid"]
    factors: dict[str, FactorSpec] = Field(
        min_length=1, description="name: {values: [...]} or name: {range: [lo, hi], n: k}."
    )


class ListDesign(_Strict):
    """Explicit parameter sets."""

    method: Literal["list"]
    rows: list[dict[str, float | int | str | bool]] = Field(
        min_length=1, description="One mapping of factor values per parameter set."
    )


def _all_factors(value: Any) -> Any:
    """``factors: all`` means every uncertainty with a declared sweep range."""
    return None if value == "all" else _factor_map(value)


class WorldsDesign(_SampledDesign):
    """The worlds of a robustness design.

    ``lhs``: a Latin-hypercube sample of the uncertainties' declared (or given) ranges.
    ``posterior``: ``n`` weighted draws from a calibration's posterior
    (:mod:`sim.experiments.posterior`): the world factors are the posterior's parameters, every
    other uncertainty stays at the policies' common value.
    ``mix`` (the default when ``posterior:`` is given): worlds from evidence where there is
    some; the posterior's parameters are drawn from it (weighted draws of whole
    particles, so their correlations are kept), every other factor by a Latin
    hypercube over its range. ``method: lhs`` with a ``posterior:`` turns the posterior
    off (the manifest says it was named and not used).
    """

    method: Literal["lhs", "posterior", "mix"] | None = Field(
        None,
        description="How worlds are sampled: lhs, posterior or mix; default mix when "
        "posterior: is given, else lhs.",
    )
    n: int = Field(ge=2, le=1_000_000, description="Number of worlds.")
    posterior: str | None = Field(
        None,
        description="The output folder of `nextpractice calibrate` (or its "
        "posterior.parquet), relative to the experiment file: with method mix (the "
        "default) or posterior, worlds draw its parameters from it.",
    )

    def resolved_method(self) -> str:
        """The method in force: the one given, else mix with a posterior, else lhs."""
        if self.method is not None:
            return self.method
        return "mix" if self.posterior is not None else "lhs"

    _normalise = field_validator("factors", mode="before")(_all_factors)

    levers: list[str] = Field(
        default_factory=list,
        description="Levers the worlds vary as well, each over its declared sweep range (or "
        "a range under factors:), for an analyst who asks how a policy fares whatever a "
        "lever's value; only those named here (a lever is the policies' otherwise).",
    )


class PolicySpec(_Strict):
    """One policy: a scenario file, lever values on top of it, or both."""

    name: str | None = Field(None, description="Label; default: the scenario file's stem.")
    scenario: str | None = Field(None, description="Scenario file, relative to the experiment.")
    levers: dict[str, float | int | str | bool] = Field(
        default_factory=dict,
        description="Lever values set on top of the scenario (a budget may be given as a "
        "total a year, budget_centre_total or budget_authority_total, GBP m).",
    )


class TargetSpec(_Strict):
    """A satisficing target on one outcome: at least ``min``, at most ``max``, or both."""

    min: float | None = None
    max: float | None = None


class ResolveSpec(_Strict):
    """More seeds for the worlds whose best two policies are within seed noise.

    After every world has run its ``replications``, a world in which the best and the
    second-best policy of a measure differ by less than the seed noise of that
    difference (:func:`sim.experiments.resolve.within_noise`) runs ``batch`` more
    replications under every policy, round after round, until no world is within noise
    or the worlds still within noise have ``max_replications``.
    """

    max_replications: int = Field(
        ge=3, le=1_000_000, description="The most replications a world runs, in all."
    )
    batch: int | None = Field(
        None, ge=1, le=1_000_000, description="Replications a round adds; default: replications."
    )
    measures: list[str] | None = Field(
        None, min_length=1, description="Measures whose ties are resolved; default: all."
    )


class RobustnessDesign(_Strict):
    """Every world under every policy, with common random numbers (see sim.analysis.robustness)."""

    method: Literal["robustness"]
    policies: list[str | PolicySpec] = Field(
        min_length=2, description="Scenario files or {name, scenario, levers} mappings."
    )
    worlds: WorldsDesign
    measures: dict[str, Literal["max", "min"]] = Field(
        min_length=1, description="Outcomes to rank policies on, and which way is better."
    )
    targets: dict[str, TargetSpec] = Field(
        default_factory=dict, description="Satisficing targets: outcome: {min: x, max: y}."
    )
    resolve: ResolveSpec | None = Field(
        None,
        description="Add seeds to worlds whose best two policies are within seed noise: "
        "{max_replications: n}.",
    )


Design = Annotated[
    SobolDesign | MorrisDesign | LHSDesign | GridDesign | ListDesign | RobustnessDesign,
    Field(discriminator="method"),
]
#: Design methods an experiment can use.
DESIGN_METHODS = ("sobol", "morris", "lhs", "grid", "list", "robustness")


class SeedSettings(_Strict):
    """How an experiment seeds its runs (see :func:`run_seed`)."""

    common: bool = Field(
        True,
        description="Common random numbers: replication r has the same seed in every design "
        "row, so differences between rows are not seed noise. false: every run its own seed.",
    )


class Experiment(_Strict):
    """An experiment file: base scenario, design and run settings."""

    name: str | None = Field(None, description="Defaults to the file's stem.")
    description: str = Field("", description="What the experiment asks.")
    model: str = Field("nextpractice", description="Registered model name.")
    scenario: str | None = Field(
        None,
        description="Base scenario file, relative to the experiment file, or a built-in "
        "scenario's name (e.g. top_down).",
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Parameter values fixed for every run."
    )
    steps: int | None = Field(
        None, ge=1, le=1_000_000, description="Steps per run; default: the scenario's."
    )
    replications: int = Field(
        1, ge=1, le=1_000_000, description="Runs per parameter set, each with its own seed."
    )
    root_seed: int = Field(
        ge=0, le=2**63 - 1, description="Every seed of the experiment derives from it."
    )
    seeds: SeedSettings = Field(
        default_factory=SeedSettings,
        description="Seeding of runs: {common: true} (the default) gives replication r "
        "the same seed in every design row.",
    )
    chunk_size: int = Field(
        100, ge=1, le=1_000_000, description="Runs per results file (the unit of resuming)."
    )
    outcomes: list[str] | None = Field(
        None, min_length=1, description="Outcomes to record; default: all declared."
    )
    design: Design


# --------------------------------------------------------------------------------------
# Error messages for people
# --------------------------------------------------------------------------------------


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Follow an error location through the schema to the model that owns the last key."""
    current: Any = root
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            if part not in current.model_fields:
                return None
            current = current.model_fields[part].annotation
        else:
            current = _step_into(current, part)
            if current is None:
                return None
        current = _step_into(current, None)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _step_into(ann: Any, part: Any) -> Any:
    """Descend one level into a type annotation (Optional, Annotated, union, dict, list)."""
    while True:
        origin = typing.get_origin(ann)
        if origin is Annotated:
            ann = typing.get_args(ann)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if len(args) == 1:
                ann = args[0]
                continue
            # A discriminated union: the location names the tag (e.g. 'sobol').
            for a in args:
                method = getattr(a, "model_fields", {}).get("method")
                if method is not None and part in typing.get_args(method.annotation):
                    return a
            return ann if part is None else None
        if part is None:
            return ann
        if origin is dict:
            return typing.get_args(ann)[1]
        if origin is list:
            return typing.get_args(ann)[0]
        return None


def _key(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in DESIGN_METHODS and out == "design":
            continue  # the discriminator tag pydantic adds; not a key the user wrote
        else:
            out += ("." if out else "") + str(part)
    return out


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic adds type names for unions of scalars ('float', 'str', ...) in the location.
    return tuple(p for p in loc if not (isinstance(p, str) and p in _SCALAR_TAGS))


_SCALAR_TAGS = {"float", "int", "str", "bool", "list[float]", "dict[str,any]", "none"}


def format_validation_error(
    exc: ValidationError, where: str | Path, schema: type[BaseModel], prefix: str = ""
) -> str:
    """Turn a pydantic error into lines a person can act on.

    Each line names the file and the key, says what is wrong and what is allowed, and
    for an unknown key lists the valid keys at that place.

    Args:
        exc: The validation error.
        where: File the values came from.
        schema: The model that was validated (to find valid keys).
        prefix: Key path to put in front of each location (e.g. ``"overrides"``).

    Returns:
        A multi-line message.

    """
    lines = []
    seen = set()
    for err in exc.errors():
        loc = _clean_loc(tuple(err["loc"]))
        key = _key(loc)
        full = f"{prefix}.{key}" if prefix and key else (prefix or key)
        if err["type"] == "extra_forbidden":
            owner = _model_at(schema, loc[:-1])
            valid = ", ".join(owner.model_fields) if owner else "?"
            line = f"{where}: unknown key {excerpt(full)}. Valid keys here: {valid}."
        elif err["type"] == "missing":
            line = f"{where}: {full}: required key is missing; add it."
        elif err["type"] == "union_tag_invalid" or err["type"] == "union_tag_not_found":
            line = f"{where}: {full}: method must be one of: {', '.join(DESIGN_METHODS)}."
        elif err["type"] in TYPE_ERRORS and (
            wrong := _wrong_type(schema, loc, full, err.get("input"), err["type"])
        ):
            line = f"{where}: {wrong}"
        else:
            msg = err["msg"].removeprefix("Value error, ")
            got = err.get("input")
            fix = _fix_hint(schema, loc, full)
            line = f"{where}: {full}: {msg} (got {excerpt(got)})."
            line += f" Fix: {fix}." if fix else ""
        if line not in seen:
            seen.add(line)
            lines.append(line)
    return "\n".join(lines)


def _wrong_type(
    schema: type[BaseModel], loc: tuple[Any, ...], key: str, value: Any, err_type: str
) -> str | None:
    """A strict-mode type error of the file's schema in words (``"64" is text, ...``)."""
    owner = _model_at(schema, loc[:-1]) if loc else None
    info = owner.model_fields.get(loc[-1]) if owner is not None and loc else None
    lower, upper = _bounds(info) if info is not None else (None, None)
    return wrong_type(key, value, TYPE_ERRORS[err_type], lo=lower, hi=upper, write=_writer(key))


def _writer(key: str) -> Callable[[str], str]:
    """How to write a value at ``key``: ``name: value``, or the value alone in a list."""
    if key.endswith("]"):
        return lambda v: v
    last = key.rsplit(".", 1)[-1]
    return lambda v: f"{last}: {v}"


def type_problem(params_cls: type[BaseModel], name: str, value: Any, key: str) -> str | None:
    """Why a value a file sets for parameter ``name`` (at ``key``) is of the wrong type.

    Strict, as scenario files are (:mod:`sim.inputs.strict`): ``"0.5"`` is text, not a
    number. A parameter class may word it itself (``value_problem``, as
    :class:`sim.model.params.Params` does); else the field's annotation and bounds are used.

    Returns:
        One line without the file, or None when the type is right (or ``name`` is
        no field: other checks name unknown keys).
    """
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        value = value.item()  # a design's own numbers (a table's cells), not the file's
    write = _writer(key)
    hook = getattr(params_cls, "value_problem", None)
    if callable(hook):
        return hook(name, value, at=key, write=write)
    info = _fields(params_cls).get(name)
    if info is None:
        return None
    lower, upper = _bounds(info)
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    default = None if info.is_required() else info.default
    return wrong_type(
        name,
        value,
        info.annotation,
        lo=lower,
        hi=upper,
        unit=str(extra.get("unit", "1")),
        example=default,
        at=key,
        write=write,
    )


def check_types(
    params_cls: type[BaseModel],
    values: Mapping[str, Any],
    where: str | Path,
    keys: Mapping[str, str],
) -> None:
    """Refuse the first value of ``values`` (named by ``keys``) of the wrong type.

    Raises:
        UserError: ``<file>: <key>: <given> is <what>, but <name> is <type>; <fix>``.
    """
    for name, key in keys.items():
        if name in values:
            problem = type_problem(params_cls, name, values[name], key)
            if problem is not None:
                raise UserError(f"{where}: {problem}")


def _fix_hint(schema: type[BaseModel], loc: tuple[Any, ...], key: str) -> str:
    owner = _model_at(schema, loc[:-1]) if loc else None
    if owner is None or not loc or loc[-1] not in owner.model_fields:
        return ""
    info = owner.model_fields[loc[-1]]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "fix" in extra:
        return str(extra["fix"])
    dtype, choices = _field_dtype(info.annotation)
    lower, upper = _bounds(info)
    probe = Factor(loc[-1], "", "", "", None, dtype, lower, upper, None, choices)
    if dtype in ("float", "int", "bool", "category"):
        return f"set {key} to {probe.allowed()}"
    return ""


# --------------------------------------------------------------------------------------
# Loading and planning
# --------------------------------------------------------------------------------------


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file.

    Args:
        path: The YAML file.

    Returns:
        The validated :class:`Experiment`.

    Raises:
        UserError: Missing file, bad YAML, unknown key, wrong type or out-of-range value;
            the message names the file, the key, what is allowed and how to fix it.

    """
    path = Path(path)
    data = read_yaml_file(path, "experiment")  # UTF-8, size cap, no aliases, YAML 1.2 numbers
    if not isinstance(data, dict):
        raise UserError(
            f"{path}: an experiment file is a mapping of keys "
            f"({', '.join(Experiment.model_fields)}); got {type(data).__name__}"
        )
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        raise UserError(format_validation_error(exc, path, Experiment)) from None


def renamed(name: str) -> str:
    """A parenthesis naming the key to set instead of ``name``, or ``""``.

    For a rule's or strategy's parameter under a name that reads it from another
    key (``judged_numpy.w_agenda``: ``judged.w_agenda``).
    """
    from sim.core.registry import key_hint

    hint = key_hint(name)
    return f" ({hint})" if hint else ""


def _unknown_factor(name: str, key: str, where: Path, params_cls: type[BaseModel]) -> UserError:
    factors = declared_factors(params_cls)
    kinds = declared_parameters(params_cls)
    unc = ", ".join(n for n, f in factors.items() if f.kind == "uncertainty") or "none"
    lev = ", ".join(n for n, f in factors.items() if f.kind == "lever") or "none"
    if name in kinds:
        why = (
            f"{name!r} is a {kinds[name] or 'undeclared'} parameter, not an uncertainty or "
            f"a lever; to fix its value for every run put it under overrides:"
        )
    else:
        why = f"unknown factor {name!r}{renamed(name)}"
    return UserError(
        f"{where}: {key}: {why}. Valid factors: uncertainties: {unc}; levers: {lev}; "
        f"and, in grid and list designs, {SCENARIO} (base scenario files)."
    )


def not_an_uncertainty(name: str, key: str, where: Path, params_cls: type[BaseModel]) -> UserError:
    """Error for a world factor that is not a declared uncertainty."""
    kinds = declared_parameters(params_cls)
    unc = ", ".join(n for n, f in declared_factors(params_cls).items() if f.kind == "uncertainty")
    if kinds.get(name) == "lever":
        why = (
            f"{name!r} is a lever: a policy sets it (design.policies[...].levers); to vary it "
            "across the worlds as well, name it in design.worlds.levers"
        )
    elif name in kinds:
        why = f"{name!r} is a {kinds[name] or 'undeclared'} parameter, not an uncertainty"
    else:
        why = f"unknown factor {name!r}{renamed(name)}"
    return UserError(f"{where}: {key}: {why}. Worlds sample uncertainties: {unc}")


#: Columns of the results table that are not factors or outcomes.
ID_COLUMNS = ("run_id", "design_row", "replication", "seed")
STATUS_COLUMNS = ("status", "error")
_RESERVED = set(ID_COLUMNS) | set(STATUS_COLUMNS)
