"""Designs: the tables of parameter sets an experiment runs, one row per set.

Sampled designs (Sobol', Morris, Latin hypercube) draw from the declared ranges with
SALib and scipy; grid and list designs enumerate; a robustness design crosses
policies with sampled worlds. Nothing here runs the model or builds a plan
(:mod:`sim.experiments.plan` does).
"""

from __future__ import annotations

import itertools
import math
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from sim.core.errors import UserError
from sim.experiments.schema import (
    FACTOR_KINDS,
    SCENARIO,
    SCENARIO_FACTOR,
    Experiment,
    Factor,
    FactorSpec,
    GridDesign,
    LHSDesign,
    ListDesign,
    ModelSpec,
    MorrisDesign,
    SobolDesign,
    _fmt,
    _import,
    _SampledDesign,
    _unknown_factor,
    check_types,
    declared_factors,
    format_validation_error,
    not_an_uncertainty,
    renamed,
)
from sim.experiments.seeds import design_seed

# --------------------------------------------------------------------------------------
# Designs
# --------------------------------------------------------------------------------------


def resolve_scenario(file: Path, scenario: str) -> Path:
    """The scenario file that a file's ``scenario:`` key names.

    Experiment and calibration files name their base scenario the same way: a path
    relative to the file itself, else one relative to the working directory, else a
    built-in scenario's name (``top_down``); :func:`sim.inputs.shipped.locate` looks.

    Args:
        file: The experiment or calibration file that names the scenario.
        scenario: The value of its ``scenario:`` key.

    Returns:
        The scenario file's path.

    Raises:
        UserError: No such scenario; the message names ``file`` and its
            ``scenario:`` key.

    """
    from sim.inputs.shipped import locate

    try:
        return locate(scenario, "scenarios", file.parent)
    except UserError as exc:
        raise UserError(f"{file}: scenario: {exc}") from None


def _base_params(
    exp: Experiment, exp_path: Path, spec: ModelSpec, scenario_file: str | None = None
) -> dict[str, Any]:
    """Load a base scenario (the experiment's, or ``scenario_file``) with the overrides."""
    params_cls = spec.params_cls()
    check_types(params_cls, exp.overrides, exp_path, {k: f"overrides.{k}" for k in exp.overrides})
    file = scenario_file if scenario_file is not None else exp.scenario
    if file is not None:
        if spec.load_scenario is None:
            raise UserError(f"{exp_path}: scenario: model {spec.name!r} has no scenario files")
        scenario = resolve_scenario(exp_path, file)
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
            ``{"tightness": "design.factors.tightness.values[3]"}``); those
            values must be of their parameter's type (:func:`check_types`: strict,
            ``"0.5"`` is text), the rest are the base's.

    """
    check_types(params_cls, values, where, keys)
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


def keys_in_use(bases: list[dict[str, Any]]) -> set[str]:
    """The declared parameters (``rule.param`` keys) that runs with these bases read.

    Those of the rules in their slots (the default where a base names none) and of
    their strategy (whose keys are those of the centre's mechanisms it inherits).
    """
    from sim.core.registry import DEFAULTS, STEP_ORDER, keys_read

    used: set[str] = set()
    for base in bases:
        rules = base.get("rules") or {}
        used |= {str(rules.get(slot, DEFAULTS.get(slot))) for slot in STEP_ORDER}
        if base.get("strategy"):
            used.add(str(base["strategy"]))
    return keys_read(used)


def _sampled_factors(
    exp: Experiment,
    where: Path,
    params_cls: type[BaseModel],
    design: _SampledDesign | None = None,
    at: str = "design",
    kinds: tuple[str, ...] = FACTOR_KINDS,
    bases: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, Factor], dict[str, tuple[float, float]]]:
    """Factors and ranges of a sampled design (or of a robustness design's worlds, ``at``).

    The default set of factors (no ``factors:`` list) leaves out the declared
    parameters that no rule or strategy of ``bases`` (the runs' base parameters)
    reads: varying them would add dimensions that change nothing (e.g.
    ``judged.w_agenda`` when every base runs ``adopt: bass``).
    """
    allowed = set(getattr(design, "levers", None) or ()) if design is not None else set()
    everything = declared_factors(params_cls)
    for name in sorted(allowed):
        if name not in everything or everything[name].kind != "lever":
            raise UserError(
                f"{where}: {at}.levers: {name!r} is not a lever{renamed(name)}; levers: "
                + ", ".join(n for n, f in everything.items() if f.kind == "lever")
            )
    # Levers named in the worlds' levers: list are world factors too (explicitly allowed).
    declared = {n: f for n, f in everything.items() if f.kind in kinds or n in allowed}
    if bases is not None:
        used = keys_in_use(bases)
        declared = {n: f for n, f in declared.items() if "." not in n or n in used}
    if design is None:
        design = typing.cast(SobolDesign | MorrisDesign | LHSDesign, exp.design)
    chosen = design.factors
    if chosen is not None and not chosen:
        raise UserError(
            f"{where}: {at}.factors: the list is empty; name at least one factor, or leave "
            f"out {at}.factors to vary every factor with a declared sweep range"
        )
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
            if (f.sweep is not None or n in allowed) and n not in design.exclude
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
    design = typing.cast(GridDesign, exp.design)
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
        raise UserError(
            f"{where}: {key}.range: both ends must be finite numbers (got [{_fmt(lo)}, {_fmt(hi)}])"
        )
    if not lo < hi:
        raise UserError(
            f"{where}: {key}.range: low must be below high (got [{_fmt(lo)}, "
            f"{_fmt(hi)}]); write range: [low, high]"
        )
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
    design = typing.cast(ListDesign, exp.design)
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


def _policy_label(i: int, spec: Any, where: Path) -> str:
    if spec.name:
        return spec.name
    if spec.scenario:
        return Path(spec.scenario).stem
    raise UserError(
        f"{where}: design.policies[{i}]: give the policy a name: (or a scenario: file, "
        "whose stem becomes its name)"
    )


def _same_world(
    bases: dict[str, dict[str, Any]], sampled: set[str], kinds: dict[str, str], where: Path
) -> None:
    """Refuse policies that differ in anything but levers (they would not share a world).

    The parameters rules and strategies declare (``declared``, keyed ``rule.param``) are
    compared one by one: a strategy's own levers may differ, nothing else may.
    """

    def flat(base: dict[str, Any]) -> dict[str, Any]:
        return {
            **{k: v for k, v in base.items() if k != "declared"},
            **dict(base.get("declared") or {}),
        }

    labels = list(bases)
    first = flat(bases[labels[0]])
    for label in labels[1:]:
        other = flat(bases[label])
        for name in sorted(set(first) | set(other)):
            a, b = first.get(name), other.get(name)
            if name in sampled and kinds.get(name) == "lever" and a != b:
                raise UserError(
                    f"{where}: design.worlds.levers: {name} differs between the policies "
                    f"{labels[0]!r} ({a!r}) and {label!r} ({b!r}), and the worlds vary it, so "
                    "the difference would be lost. Fix: leave it out of design.worlds.levers "
                    "(a policy's lever), or give the policies the same value"
                )
            if kinds.get(name) == "lever" or name in sampled or a == b:
                continue
            raise UserError(
                f"{where}: design.policies: {labels[0]!r} and {label!r} differ in {name} "
                f"({a!r} and {b!r}), a {kinds.get(name) or 'setting'} "
                "parameter: a policy may change levers only, or the policies would not "
                f"share a world. Fix: set {name} under overrides:, or sample it in "
                "design.worlds.factors"
            )
