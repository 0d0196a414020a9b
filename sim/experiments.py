"""Experiment files: what a batch of runs varies, how, and what it measures.

An experiment file (YAML, in ``experiments/``) names a base scenario, a design and the
run settings. This module turns it into a :class:`Plan`: the validated base parameters,
the factors with their ranges, the design table (one row per parameter set), the SALib
problem and the outcomes to record. It never runs the model (see :mod:`sim.sweep`) and
never draws (see :mod:`sim.analyze`).

The factors and their ranges are *declared once*, on the parameter class: every field
whose ``json_schema_extra`` says ``kind: uncertainty`` or ``kind: lever`` is a factor,
and ``sweep: [lo, hi]`` is its default range for sensitivity analysis (EMA workbench's
XLRM: uncertainties X, levers L). The SALib problem is generated from those
declarations; an experiment file only picks factors by name and may change a range
within the parameter's validation bounds.

Designs (``design.method``):

- ``sobol``: Saltelli/Sobol' sample (``SALib.sample.sobol``), with second-order terms
  by default; ``n`` is the base sample size, a power of 2; it makes
  ``n * (2 * k + 2)`` parameter sets for ``k`` factors (``n * (k + 2)`` without
  second order).
- ``morris``: ``n`` elementary-effect trajectories on ``levels`` levels
  (``SALib.sample.morris``); ``n * (k + 1)`` parameter sets. Cheap screening.
- ``lhs``: ``n`` Latin-hypercube points (``scipy.stats.qmc.LatinHypercube``).
- ``grid``: the full product of each factor's ``values`` (or ``range`` cut in ``n``
  points); factors may be categorical (e.g. ``strategy``).
- ``list``: explicit parameter sets, ``rows: [{strategy: top_down}, ...]``.

All randomness (the sample, the run seeds) derives from the experiment's ``root_seed``
through :class:`numpy.random.SeedSequence`, so a plan is identical on every machine.
By default replication ``r`` has the same seed in every design row (common random
numbers: differences between rows are not seed noise); ``seeds: {common: false}`` gives
every run its own seed (:func:`run_seed`).

Models are registered by name (:data:`MODELS`): ``nextpractice`` (the default, the real
model) and ``ishigami``, SALib's Ishigami test function dressed as a model, whose
Sobol' indices are known in closed form; tests and users check the pipeline with it.
"""

from __future__ import annotations

import enum
import hashlib
import itertools
import json
import math
import time
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.errors import UserError
from sim.safe_io import excerpt, read_yaml_file

#: The ``kind`` values (in a field's ``json_schema_extra``) that make a field a factor.
FACTOR_KINDS = ("uncertainty", "lever")

#: A grid or list design may vary the base scenario file under this name.
SCENARIO = "scenario"
#: A robustness design's policy label and world index columns.
POLICY = "policy"
WORLD = "world"
_LABELS = (SCENARIO, POLICY, WORLD)

# Namespaces of the seed tree under the root seed: runs are (RUNS, replication) with
# common random numbers (the default), else (RUNS, row, replication).
_SEED_RUNS = 0
_SEED_DESIGN = 1
_SEED_ANALYSIS = 2


# --------------------------------------------------------------------------------------
# Declarations
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
# Seeds
# --------------------------------------------------------------------------------------


def _seed_from(seq: np.random.SeedSequence) -> int:
    # 63 bits: fits a signed 64-bit parquet column and any integer seed argument.
    return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def run_seed(root_seed: int, design_row: int, replication: int, *, common: bool) -> int:
    """Seed of one run, from the root seed, the replication index and (maybe) the design row.

    With common random numbers (``common=True``, an experiment's default, see
    :class:`SeedSettings`) replication ``r`` has the same seed in every design row, so
    a difference between rows is the rows' doing, not seed luck: the variance-reduction
    technique of paired comparison (Law, *Simulation Modeling and Analysis*, 5th ed.,
    section 11.2). Without, every run of the design has its own seed. Either way the
    seed depends on nothing else (not the worker, not the order of completion), so
    results are identical on any number of workers.

    Args:
        root_seed: The experiment's root seed.
        design_row: Index of the parameter set in the design table (unused when common).
        replication: Replication index, from 0.
        common: Common random numbers across design rows.

    Returns:
        A non-negative integer below 2**63.

    """
    key = (_SEED_RUNS, replication) if common else (_SEED_RUNS, design_row, replication)
    return _seed_from(np.random.SeedSequence(root_seed, spawn_key=key))


def design_seed(root_seed: int) -> int:
    """Seed for drawing the design sample (Sobol scrambling, Morris, LHS)."""
    return _seed_from(np.random.SeedSequence(root_seed, spawn_key=(_SEED_DESIGN,)))


def analysis_seed(root_seed: int) -> int:
    """Seed for the bootstrap of confidence intervals in the analysis."""
    return _seed_from(np.random.SeedSequence(root_seed, spawn_key=(_SEED_ANALYSIS,)))


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
        params="sim.params:Params",
        run="sim.sweep:run_nextpractice",
        outcomes="sim.sweep:NEXTPRACTICE_OUTCOMES",
        load_scenario="sim.scenario:load_scenario",
    ),
    "ishigami": ModelSpec(
        name="ishigami",
        params="sim.experiments:IshigamiParams",
        run="sim.experiments:run_ishigami",
        outcomes="sim.experiments:ISHIGAMI_OUTCOMES",
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


# The Ishigami function (Ishigami and Homma 1990), SALib's classic test case. Its
# variance decomposition is known in closed form (a=7, b=0.1: S1 = 0.314, 0.442, 0;
# ST = 0.558, 0.442, 0.244; S13 = 0.244), which lets the tests pin the whole
# sweep-then-analyze pipeline on known answers, as SALib does.


def _x(desc: str) -> Any:
    return Field(
        0.0,
        ge=-math.pi,
        le=math.pi,
        description=desc,
        json_schema_extra={
            "unit": "1",
            "kind": "uncertainty",
            "ref": "Ishigami and Homma 1990",
            "live": False,
            "sweep": [-math.pi, math.pi],
        },
    )


def _setting(default: Any, desc: str, unit: str = "1", **bounds: Any) -> Any:
    extra = {"unit": unit, "kind": "setting", "ref": None, "live": False}
    return Field(default, description=desc, json_schema_extra=extra, **bounds)


class IshigamiParams(BaseModel):
    """Parameters of the Ishigami test model (a stand-in with known Sobol' indices)."""

    model_config = ConfigDict(extra="forbid")

    x1: float = _x("First input; S1 = 0.314 for a=7, b=0.1.")
    x2: float = _x("Second input; acts alone, S1 = ST = 0.442.")
    x3: float = _x("Third input; acts only with x1, S1 = 0, S13 = 0.244.")
    strategy: Literal["plain", "shifted"] = Field(
        "plain",
        description="A categorical lever: 'shifted' adds `shift` to y.",
        json_schema_extra={"unit": "-", "kind": "lever", "ref": None, "live": False},
    )
    a: float = _setting(7.0, "Amplitude of the sin(x2)^2 term.")
    b: float = _setting(0.1, "Weight of the x3^4 sin(x1) interaction.")
    shift: float = _setting(1.0, "What the 'shifted' strategy adds to y.")
    noise_sd: float = _setting(0.0, "Standard deviation of noise added to y.", ge=0.0)
    sleep_s: float = _setting(0.0, "Seconds each run waits (to test interruptions).", "s", ge=0)
    fail_above: float | None = _setting(None, "Runs with x1 above this raise an error.")


#: Outcomes of the Ishigami model.
ISHIGAMI_OUTCOMES = {
    "y": "Ishigami value plus shift and seeded noise.",
    "y_clean": "Ishigami value, deterministic.",
}


def run_ishigami(params: dict[str, Any], seed: int, steps: int | None = None) -> dict[str, float]:
    """Evaluate the Ishigami test model once.

    Args:
        params: Values of :class:`IshigamiParams` fields.
        seed: Seed of the noise draw.
        steps: Ignored; present for the common run-function signature.

    Returns:
        ``{"y": ..., "y_clean": ...}``.

    Raises:
        ValueError: When ``x1`` exceeds ``fail_above`` (a deliberate failure for tests).

    """
    p = IshigamiParams.model_validate(params)
    if p.sleep_s:
        time.sleep(p.sleep_s)
    if p.fail_above is not None and p.x1 > p.fail_above:
        raise ValueError(f"x1={p.x1:.3f} is above fail_above={p.fail_above}")
    clean = math.sin(p.x1) + p.a * math.sin(p.x2) ** 2 + p.b * p.x3**4 * math.sin(p.x1)
    noise = float(np.random.default_rng(seed).normal(0.0, p.noise_sd)) if p.noise_sd else 0.0
    shift = p.shift if p.strategy == "shifted" else 0.0
    return {"y": clean + shift + noise, "y_clean": clean}


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
    """The worlds of a robustness design: a Latin-hypercube sample of uncertainties."""

    method: Literal["lhs"] = Field("lhs", description="How worlds are sampled.")
    n: int = Field(ge=2, le=1_000_000, description="Number of worlds.")

    _normalise = field_validator("factors", mode="before")(_all_factors)


class PolicySpec(_Strict):
    """One policy: a scenario file, lever values on top of it, or both."""

    name: str | None = Field(None, description="Label; default: the scenario file's stem.")
    scenario: str | None = Field(None, description="Scenario file, relative to the experiment.")
    levers: dict[str, float | int | str | bool] = Field(
        default_factory=dict, description="Lever values set on top of the scenario."
    )


class TargetSpec(_Strict):
    """A satisficing target on one outcome: at least ``min``, at most ``max``, or both."""

    min: float | None = None
    max: float | None = None


class RobustnessDesign(_Strict):
    """Every world under every policy, with common random numbers (see sim.robustness)."""

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


@dataclass
class Plan:
    """Everything a sweep needs, checked: the runs are fully determined by it.

    Attributes:
        path: The experiment file.
        name: Experiment name.
        experiment: The validated experiment.
        model: The registered model.
        base: Validated base parameters (JSON-compatible values) shared by every run:
            the experiment's ``scenario`` with its ``overrides``.
        factors: Varied factors, in design column order.
        ranges: Effective ``(low, high)`` of each numeric factor of a sampled design.
        problem: SALib problem for sampled designs, else ``None``.
        design: Design table, one row per parameter set, index ``design_row``;
            sampled designs hold the sample as drawn (integers not yet rounded).
        outcomes: Outcome names to record, with their descriptions.
        bases: When the design varies the base scenario (a ``scenario`` factor), the
            base parameters of each scenario, by label (the file's stem).
        per_replication: Values put on top of every design row's parameters in
            replication ``r`` (e.g. posterior draws, :mod:`sim.posterior`), or None.
        seed_column: A design column whose value, not the design row, keys the run
            seeds (robustness: ``world``, so every policy meets the same seeds in a
            world: common random numbers).
        extra: Design-specific entries for the manifest (robustness: policies,
            measures, targets).
        n_runs: Number of runs (design rows times replications).

    """

    path: Path
    name: str
    experiment: Experiment
    model: ModelSpec
    base: dict[str, Any]
    factors: dict[str, Factor]
    ranges: dict[str, tuple[float, float]]
    problem: dict[str, Any] | None
    design: pd.DataFrame
    outcomes: dict[str, str]
    bases: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_replication: list[dict[str, Any]] | None = None
    seed_column: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    n_runs: int = field(init=False)

    def __post_init__(self) -> None:
        """Count the runs."""
        self.n_runs = len(self.design) * self.experiment.replications

    @property
    def method(self) -> str:
        """The design method."""
        return self.experiment.design.method

    def applied(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Parameter values one design row sets, as the model receives them.

        Integer factors drawn by a sampler are rounded; numpy scalars become Python.
        """
        out = {}
        for name, factor in self.factors.items():
            value = row[name]
            if isinstance(value, np.generic):
                value = value.item()
            if factor.dtype == "int":
                value = int(round(value))
            elif factor.dtype == "float":
                value = float(value)
            out[name] = value
        return out

    def params_for(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Full parameters of a run: its base scenario with the row's values on top.

        Args:
            values: What :meth:`applied` returned for the design row.

        Returns:
            Values of every parameter field, ready for the run function.

        """
        label = values.get(SCENARIO, values.get(POLICY))
        base = self.bases[label] if label is not None else self.base
        return {**base, **{k: v for k, v in values.items() if k not in _LABELS}}

    def seed_key(self, design_row: int) -> int:
        """The index the seeds of a design row's runs derive from (see ``seed_column``)."""
        if self.seed_column is None:
            return design_row
        return int(self.design.iloc[design_row][self.seed_column])

    def fingerprint(self) -> str:
        """Hash what determines the results; a resumed sweep must match it."""
        blob = json.dumps(
            {
                "experiment": self.experiment.model_dump(mode="json"),
                "base": self.base,
                "bases": self.bases,
                "per_replication": self.per_replication,
                "model": self.model.name,
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()


def _resolve_scenario(exp_path: Path, scenario: str) -> Path:
    """A scenario named in an experiment: beside the experiment, here, or built in."""
    from sim.shipped import locate

    try:
        return locate(scenario, "scenarios", exp_path.parent)
    except UserError as exc:
        raise UserError(f"{exp_path}: scenario: {exc}") from None


def _base_params(
    exp: Experiment, exp_path: Path, spec: ModelSpec, scenario_file: str | None = None
) -> dict[str, Any]:
    """Load a base scenario (the experiment's, or ``scenario_file``) with the overrides."""
    params_cls = spec.params_cls()
    file = scenario_file if scenario_file is not None else exp.scenario
    if file is not None:
        if spec.load_scenario is None:
            raise UserError(f"{exp_path}: scenario: model {spec.name!r} has no scenario files")
        scenario = _resolve_scenario(exp_path, file)
        params = _import(spec.load_scenario)(scenario, dict(exp.overrides) or None)
    else:
        try:
            params = params_cls.model_validate(dict(exp.overrides))
        except ValidationError as exc:
            raise UserError(
                format_validation_error(exc, exp_path, params_cls, prefix="overrides")
            ) from None
    return params.model_dump(mode="json")


def _check_params(
    params_cls: type[BaseModel], values: dict[str, Any], where: Path, keys: dict[str, str]
) -> None:
    """Validate one full parameter set; name the experiment key behind each bad value.

    Args:
        params_cls: Parameter class.
        values: Base parameters with the design row's values on top.
        where: The experiment file.
        keys: Field name to the experiment key that set it (e.g.
            ``{"tightness": "design.factors.tightness.values[3]"}``).

    """
    try:
        params_cls.model_validate(values)
    except ValidationError as exc:
        lines = []
        for line in format_validation_error(exc, where, params_cls).splitlines():
            for name, key in keys.items():
                line = line.replace(f"{where}: {name}:", f"{where}: {key}:")
                line = line.replace(f"set {name} to", f"set {key} to")
            lines.append(line)
        raise UserError("\n".join(lines)) from None


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
        why = f"unknown factor {name!r}"
    return UserError(
        f"{where}: {key}: {why}. Valid factors: uncertainties: {unc}; levers: {lev}; "
        f"and, in grid and list designs, {SCENARIO} (base scenario files)."
    )


def _sampled_factors(
    exp: Experiment,
    where: Path,
    params_cls: type[BaseModel],
    design: _SampledDesign | None = None,
    at: str = "design",
    kinds: tuple[str, ...] = FACTOR_KINDS,
) -> tuple[dict[str, Factor], dict[str, tuple[float, float]]]:
    """Factors and ranges of a sampled design (or of a robustness design's worlds, ``at``)."""
    declared = {n: f for n, f in declared_factors(params_cls).items() if f.kind in kinds}
    if design is None:
        design = typing.cast(SobolDesign | MorrisDesign | LHSDesign, exp.design)
    chosen = design.factors
    if chosen is not None and not chosen:
        raise UserError(
            f"{where}: {at}.factors: the list is empty; name at least one factor, or leave "
            f"out {at}.factors to vary every factor with a declared sweep range")
    for i, name in enumerate(design.exclude):
        if name not in declared:
            raise _unknown_factor(name, f"{at}.exclude[{i}]", where, params_cls)
    if chosen is not None and design.exclude:
        raise UserError(
            f"{where}: {at}.exclude: only applies to the default set of factors. Fix: "
            "remove exclude, or remove the factors list"
        )
    if chosen is None:
        chosen = {
            n: FactorSpec()
            for n, f in declared.items()
            if f.sweep is not None and n not in design.exclude
        }
        if not chosen:
            raise UserError(
                f"{where}: {at}.factors: no factor declares a sweep range; "
                "list the factors with a range each"
            )
    factors: dict[str, Factor] = {}
    ranges: dict[str, tuple[float, float]] = {}
    for name, spec in chosen.items():
        key = f"{at}.factors.{name}"
        if name not in declared and kinds != FACTOR_KINDS:
            raise not_an_uncertainty(name, key, where, params_cls)
        if name not in declared:
            raise _unknown_factor(name, key, where, params_cls)
        f = declared[name]
        if spec.values is not None or spec.n is not None:
            raise UserError(
                f"{where}: {key}: 'values' and 'n' belong to a grid; a {design.method} design "
                "samples within range: [low, high]. Fix: remove them, or use method: grid"
            )
        if not f.numeric:
            raise UserError(
                f"{where}: {key}: {name!r} is {f.dtype}, a {design.method} design samples "
                "numbers only. Fix: fix it under overrides:, or vary it in a grid or list design"
            )
        rng = tuple(spec.range) if spec.range is not None else f.sweep
        if rng is None:
            raise UserError(
                f"{where}: {key}: {name!r} declares no sweep range. Fix: give one, "
                f"e.g. {name}: {{range: [low, high]}} with values {f.allowed()}"
            )
        lo, hi = float(rng[0]), float(rng[1])
        if not lo < hi:
            raise UserError(f"{where}: {key}.range: low must be below high (got [{lo}, {hi}])")
        if (f.lower is not None and lo < f.lower) or (f.upper is not None and hi > f.upper):
            raise UserError(
                f"{where}: {key}.range: [{_fmt(lo)}, {_fmt(hi)}] goes outside the allowed "
                f"values of {name} ({f.allowed()}). Fix: narrow the range"
            )
        factors[name] = f
        ranges[name] = (lo, hi)
    return factors, ranges


def _sample(exp: Experiment, problem: dict[str, Any]) -> np.ndarray:
    design = exp.design
    seed = design_seed(exp.root_seed)
    if isinstance(design, SobolDesign):
        from SALib.sample import sobol

        return sobol.sample(
            problem, design.n, calc_second_order=design.second_order, scramble=True, seed=seed
        )
    if isinstance(design, MorrisDesign):
        from SALib.sample import morris

        return morris.sample(problem, design.n, num_levels=design.levels, seed=seed)
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=problem["num_vars"], rng=np.random.default_rng(seed)).random(
        design.n
    )
    bounds = np.asarray(problem["bounds"])
    return qmc.scale(unit, bounds[:, 0], bounds[:, 1])


def _grid(
    exp: Experiment, where: Path, model: ModelSpec, base: dict[str, Any]
) -> tuple[dict[str, Factor], pd.DataFrame, dict[str, dict[str, Any]]]:
    params_cls = model.params_cls()
    declared = declared_factors(params_cls)
    design = exp.design
    design = typing.cast(GridDesign, design)
    factors: dict[str, Factor] = {}
    levels: dict[str, list[Any]] = {}
    bases: dict[str, dict[str, Any]] = {}
    for name, spec in design.factors.items():
        key = f"design.factors.{name}"
        if name == SCENARIO:
            if spec.values is None or spec.range is not None or spec.n is not None:
                raise UserError(f"{where}: {key}: list the scenario files: values: [a.yaml, ...]")
            factors[name] = SCENARIO_FACTOR
            levels[name] = []
            for i, file in enumerate(spec.values):
                label = _add_scenario(bases, exp, where, model, file, f"{key}.values[{i}]")
                levels[name].append(label)
            continue
        if name not in declared:
            raise _unknown_factor(name, key, where, params_cls)
        f = declared[name]
        if spec.values is not None and (spec.range is not None or spec.n is not None):
            raise UserError(f"{where}: {key}: give either values: [...] or range + n, not both")
        if spec.values is not None:
            vals = list(spec.values)
        elif spec.range is not None and spec.n is not None:
            if not f.numeric:
                raise UserError(
                    f"{where}: {key}: {name!r} is {f.dtype}; list its values: "
                    f"values: [...] with each {f.allowed()}"
                )
            vals = grid_points(spec.range, spec.n, f.dtype, where, key)
        else:
            hint = f"values: {list(f.choices)}" if f.choices else "range: [low, high], n: 11"
            raise UserError(
                f"{where}: {key}: a grid needs the points of each factor. Fix: e.g. {hint}"
            )
        if len(set(map(repr, vals))) != len(vals):
            raise UserError(f"{where}: {key}.values: repeated values {vals}; list each once")
        for i, v in enumerate(vals):
            _check_params(params_cls, {**base, name: v}, where, {name: f"{key}.values[{i}]"})
        factors[name] = f
        levels[name] = vals
    rows = list(itertools.product(*levels.values()))
    table = pd.DataFrame(rows, columns=list(levels))
    if bases:  # values were checked on the experiment's base; check them on each scenario
        _check_rows(table, bases, params_cls, where, "design.factors")
    return factors, table, bases


def grid_points(rng: list[float], n: int, dtype: str, where: Path, key: str) -> list[Any]:
    """The ``n`` evenly spaced points of a grid factor's ``range: [low, high]``.

    A range with low above high, or equal ends, is refused; an integer factor
    whose range holds fewer whole numbers than ``n`` is refused too, rather than
    silently running fewer points than asked.

    Raises:
        UserError: naming the file, the key and the fix.
    """
    lo, hi = float(rng[0]), float(rng[1])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise UserError(f"{where}: {key}.range: both ends must be finite numbers "
                        f"(got [{_fmt(lo)}, {_fmt(hi)}])")
    if not lo < hi:
        raise UserError(f"{where}: {key}.range: low must be below high (got [{_fmt(lo)}, "
                        f"{_fmt(hi)}]); write range: [low, high]")
    vals = np.linspace(lo, hi, n).tolist()
    if dtype == "int":
        vals = sorted({int(round(v)) for v in vals})
        if len(vals) < n:
            raise UserError(
                f"{where}: {key}: range [{_fmt(lo)}, {_fmt(hi)}] holds only {len(vals)} whole "
                f"numbers of the n: {n} points asked; set n: {len(vals)} or widen the range"
            )
    return vals


def _explicit(
    exp: Experiment, where: Path, model: ModelSpec, base: dict[str, Any]
) -> tuple[dict[str, Factor], pd.DataFrame, dict[str, dict[str, Any]]]:
    params_cls = model.params_cls()
    declared = declared_factors(params_cls)
    design = exp.design
    design = typing.cast(ListDesign, design)
    names: list[str] = []
    for i, row in enumerate(design.rows):
        for name in row:
            if name != SCENARIO and name not in declared:
                raise _unknown_factor(name, f"design.rows[{i}].{name}", where, params_cls)
            if name not in names:
                names.append(name)
    bases: dict[str, dict[str, Any]] = {}
    default = Path(exp.scenario).stem if exp.scenario else "defaults"
    records = []
    for i, row in enumerate(design.rows):
        row = dict(row)
        if SCENARIO in names:
            file = row.get(SCENARIO)
            key = f"design.rows[{i}].{SCENARIO}"
            row[SCENARIO] = (
                _add_scenario(bases, exp, where, model, file, key) if file is not None else default
            )
            bases.setdefault(row[SCENARIO], base)
        row_base = bases[row[SCENARIO]] if SCENARIO in names else base
        full = {n: row.get(n, row_base.get(n)) for n in names}
        keys = {n: f"design.rows[{i}].{n}" for n in row if n != SCENARIO}
        values = {n: v for n, v in full.items() if n != SCENARIO}
        _check_params(params_cls, {**row_base, **values}, where, keys)
        records.append(full)
    factors = {n: (SCENARIO_FACTOR if n == SCENARIO else declared[n]) for n in names}
    return factors, pd.DataFrame(records, columns=names), bases


def _add_scenario(
    bases: dict[str, dict[str, Any]],
    exp: Experiment,
    where: Path,
    model: ModelSpec,
    file: Any,
    key: str,
) -> str:
    """Load one scenario file named in a design; return its label (the file's stem)."""
    if not isinstance(file, str):
        raise UserError(f"{where}: {key}: a scenario is a file name (got {file!r})")
    label = Path(file).stem
    loaded = _base_params(exp, where, model, file)
    if label in bases and bases[label] != loaded:
        raise UserError(f"{where}: {key}: two different scenarios are both called {label!r}")
    bases[label] = loaded
    return label


def _check_rows(
    table: pd.DataFrame,
    bases: dict[str, dict[str, Any]],
    params_cls: type[BaseModel],
    where: Path,
    key: str,
) -> None:
    """Validate every row of a design on its own base scenario."""
    for i, row in enumerate(table.to_dict("records")):
        values = {n: v for n, v in row.items() if n != SCENARIO}
        keys = {n: f"{key}.{n} (row {i}, scenario {row[SCENARIO]})" for n in values}
        _check_params(params_cls, {**bases[row[SCENARIO]], **values}, where, keys)


def plan_experiment(path: str | Path) -> Plan:
    """Validate an experiment file completely and build its design.

    Everything a user can get wrong is caught here, before any run starts.

    Args:
        path: The experiment file, or a built-in experiment's name (``strategies``).

    Returns:
        The :class:`Plan`.

    Raises:
        UserError: With file, key, what is allowed and a fix.

    """
    from sim.shipped import locate

    path = locate(path, "experiments")  # a file, else a built-in experiment's name
    exp = load_experiment(path)
    spec = get_model(exp.model)
    params_cls = spec.params_cls()
    base = _base_params(exp, path, spec)

    declared_outcomes = spec.outcome_names()
    if exp.outcomes is not None:
        unknown = [o for o in exp.outcomes if o not in declared_outcomes]
        if unknown:
            raise UserError(
                f"{path}: outcomes: unknown outcome(s) {', '.join(map(repr, unknown))}. "
                f"Valid outcomes: {', '.join(declared_outcomes)}"
            )
        outcomes = {o: declared_outcomes[o] for o in exp.outcomes}
    else:
        outcomes = declared_outcomes

    problem = None
    ranges: dict[str, tuple[float, float]] = {}
    bases: dict[str, dict[str, Any]] = {}
    extra: dict[str, Any] = {}
    if exp.design.method in ("sobol", "morris", "lhs"):
        factors, ranges = _sampled_factors(exp, path, params_cls)
        problem = salib_problem(ranges)
        design = pd.DataFrame(_sample(exp, dict(problem)), columns=list(factors))
    elif exp.design.method == "robustness":
        factors, ranges, design, bases, extra = plan_robustness(exp, path, spec, base)
        problem = salib_problem({n: ranges[n] for n in extra["world_factors"]})
    elif exp.design.method == "grid":
        factors, design, bases = _grid(exp, path, spec, base)
    else:
        factors, design, bases = _explicit(exp, path, spec, base)

    clash = set(factors) & (set(outcomes) | _RESERVED)
    if clash:
        raise UserError(f"{path}: factor name(s) {sorted(clash)} clash with result columns")
    design.index = pd.RangeIndex(len(design), name="design_row")
    return Plan(
        path=path,
        name=exp.name or path.stem,
        experiment=exp,
        model=spec,
        base=base,
        factors=factors,
        ranges=ranges,
        problem=problem,
        design=design,
        outcomes=outcomes,
        bases=bases,
        seed_column=WORLD if exp.design.method == "robustness" else None,
        extra=extra,
    )


# --------------------------------------------------------------------------------------
# Planning: policies x worlds (the measures over the results are in sim.robustness)
# --------------------------------------------------------------------------------------


def not_an_uncertainty(name: str, key: str, where: Path, params_cls: type[BaseModel]) -> UserError:
    """Error for a world factor that is not a declared uncertainty."""
    kinds = declared_parameters(params_cls)
    unc = ", ".join(n for n, f in declared_factors(params_cls).items() if f.kind == "uncertainty")
    if kinds.get(name) == "lever":
        why = f"{name!r} is a lever: a policy sets it (design.policies[...].levers), not a world"
    elif name in kinds:
        why = f"{name!r} is a {kinds[name] or 'undeclared'} parameter, not an uncertainty"
    else:
        why = f"unknown factor {name!r}"
    return UserError(f"{where}: {key}: {why}. Worlds sample uncertainties: {unc}")


def _policy_label(i: int, spec: Any, where: Path) -> str:
    if spec.name:
        return spec.name
    if spec.scenario:
        return Path(spec.scenario).stem
    raise UserError(
        f"{where}: design.policies[{i}]: give the policy a name: (or a scenario: file, "
        "whose stem becomes its name)"
    )


def plan_robustness(
    exp: Experiment, where: Path, model: ModelSpec, base: dict[str, Any]
) -> tuple[
    dict[str, Factor],
    dict[str, tuple[float, float]],
    pd.DataFrame,
    dict[str, dict[str, Any]],
    dict[str, Any],
]:
    """Build the policies x worlds design of an experiment.

    Args:
        exp: The validated experiment (its design is a robustness design).
        where: The experiment file, for messages.
        model: The registered model.
        base: The experiment's base parameters (its scenario and overrides).

    Returns:
        ``(factors, ranges, design, bases, extra)``: the design's columns (``policy``,
        ``world``, then the world factors), the world factors' ranges, one row per
        world and policy (world-major, so finished chunks hold whole worlds), each
        policy's full parameters by label, and the manifest entries (policies, world
        factors, measures, targets).

    Raises:
        UserError: A policy that changes anything but levers, a world factor that is not
            an uncertainty, a measure or target that is not a recorded outcome.

    """
    from scipy.stats import qmc

    design = exp.design
    design = typing.cast(RobustnessDesign, design)
    params_cls = model.params_cls()
    declared = declared_factors(params_cls)

    bases: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(design.policies):
        spec = PolicySpec(scenario=entry) if isinstance(entry, str) else entry
        label = _policy_label(i, spec, where)
        if label in bases:
            raise UserError(f"{where}: design.policies[{i}]: two policies are called {label!r}")
        pbase = _base_params(exp, where, model, spec.scenario) if spec.scenario else base
        keys = {}
        for name in spec.levers:
            key = f"design.policies[{i}].levers.{name}"
            if name not in declared or declared[name].kind != "lever":
                levers = ", ".join(n for n, f in declared.items() if f.kind == "lever")
                raise UserError(f"{where}: {key}: not a lever; a policy sets levers: {levers}")
            keys[name] = key
        values = {**pbase, **spec.levers}
        _check_params(params_cls, values, where, keys)
        bases[label] = params_cls.model_validate(values).model_dump(mode="json")

    factors, ranges = _sampled_factors(
        exp, where, params_cls, design.worlds, "design.worlds", ("uncertainty",)
    )
    _same_world(bases, set(factors), declared_parameters(params_cls), where)

    outcomes = model.outcome_names() if exp.outcomes is None else list(exp.outcomes)
    for what, names in (("measures", design.measures), ("targets", design.targets)):
        for name in names:
            if name not in outcomes:
                raise UserError(
                    f"{where}: design.{what}.{name}: not a recorded outcome. Recorded: "
                    f"{', '.join(outcomes)}"
                )
    for name, t in design.targets.items():
        if t.min is None and t.max is None:
            raise UserError(f"{where}: design.targets.{name}: give min:, max: or both")

    unit = qmc.LatinHypercube(
        d=len(factors), rng=np.random.default_rng(design_seed(exp.root_seed))
    ).random(design.worlds.n)
    bounds = np.array([ranges[n] for n in factors])
    worlds = qmc.scale(unit, bounds[:, 0], bounds[:, 1])
    labels = list(bases)
    table = pd.DataFrame(
        {
            POLICY: np.tile(labels, len(worlds)),
            WORLD: np.repeat(np.arange(len(worlds)), len(labels)),
            **{n: np.repeat(worlds[:, j], len(labels)) for j, n in enumerate(factors)},
        }
    )
    policy = Factor(POLICY, "policy", "label", "Policy (a scenario file and levers).",
                       None, "category", choices=tuple(labels))
    world = Factor(WORLD, "world", "index", "World: one sampled point of the "
                      "uncertainties; seeds derive from it.", None, "int")
    extra = {
        "policies": labels,
        "world_factors": list(factors),
        "n_worlds": int(design.worlds.n),
        "measures": dict(design.measures),
        "targets": {k: v.model_dump(exclude_none=True) for k, v in design.targets.items()},
    }
    return {POLICY: policy, WORLD: world, **factors}, ranges, table, bases, extra


def _same_world(
    bases: dict[str, dict[str, Any]], sampled: set[str], kinds: dict[str, str], where: Path
) -> None:
    """Refuse policies that differ in anything but levers (they would not share a world).

    The parameters rules and strategies declare (``declared``, keyed ``rule.param``) are
    compared one by one: a strategy's own levers may differ, nothing else may.
    """

    def flat(base: dict[str, Any]) -> dict[str, Any]:
        return {**{k: v for k, v in base.items() if k != "declared"},
                **dict(base.get("declared") or {})}

    labels = list(bases)
    first = flat(bases[labels[0]])
    for label in labels[1:]:
        other = flat(bases[label])
        for name in sorted(set(first) | set(other)):
            a, b = first.get(name), other.get(name)
            if kinds.get(name) == "lever" or name in sampled or a == b:
                continue
            raise UserError(
                f"{where}: design.policies: {labels[0]!r} and {label!r} differ in {name} "
                f"({a!r} and {b!r}), a {kinds.get(name) or 'setting'} "
                "parameter: a policy may change levers only, or the policies would not "
                f"share a world. Fix: set {name} under overrides:, or sample it in "
                "design.worlds.factors"
            )


#: Columns of the results table that are not factors or outcomes.
ID_COLUMNS = ("run_id", "design_row", "replication", "seed")
STATUS_COLUMNS = ("status", "error")
_RESERVED = set(ID_COLUMNS) | set(STATUS_COLUMNS)
