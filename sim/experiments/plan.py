"""The plan of a sweep: seeds, the registered models, and the checked :class:`Plan`.

:func:`plan_experiment` turns an experiment file into a :class:`Plan`: the validated
base parameters, the factors with their ranges, the design table, the SALib problem
and the outcomes to record. All randomness (the sample, the run seeds) derives from
the experiment's ``root_seed`` through the one seed tree (:mod:`sim.experiments.seeds`).
"""

from __future__ import annotations

import hashlib
import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from sim.core.errors import UserError
from sim.experiments.designs import (
    _base_params,
    _check_params,
    _explicit,
    _grid,
    _policy_label,
    _same_world,
    _sample,
    _sampled_factors,
)
from sim.experiments.schema import (
    _LABELS,
    _RESERVED,
    POLICY,
    SCENARIO,
    WORLD,
    Experiment,
    Factor,
    ModelSpec,
    PolicySpec,
    RobustnessDesign,
    declared_factors,
    declared_parameters,
    get_model,
    load_experiment,
    renamed,
    salib_problem,
)
from sim.experiments.seeds import design_seed, run_seed


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
            replication ``r`` (e.g. posterior draws, :mod:`sim.experiments.posterior`), or None.
        seed_column: A design column whose value, not the design row, keys the run
            seeds (robustness: ``world``, so every policy meets the same seeds in a
            world: common random numbers); see :meth:`run_seed`.
        extra: Design-specific entries for the manifest (robustness: policies,
            measures, targets).
        first_replication: The replication index of this plan's first replication:
            0, except for a round of seeds added to some worlds of a robustness design
            (:mod:`sim.experiments.resolve`), whose runs continue each world's seeds.
        part_of: For such a round, what it adds to (the experiment's fingerprint, the
            round and its worlds): part of the fingerprint.
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
    first_replication: int = 0
    part_of: dict[str, Any] = field(default_factory=dict)
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

    def run_seed(self, design_row: int, replication: int) -> int:
        """Seed of one run: the one place that decides what a run's seed is keyed by.

        Every way of running a plan (in this process, a process pool, a Dask cluster, a
        resumed sweep) takes its seeds from here, so the seeds do not depend on it.

        - Without a ``seed_column`` (grid, list and sampled designs, ``compare``):
          replication ``r`` has the same seed in every design row (common random
          numbers), or with ``seeds: {common: false}`` every run its own.
        - With one (robustness: ``world``): keyed by the row's value in that column and
          the replication, whatever ``seeds.common`` says, so the rows sharing a value
          (a world's policies) meet the same seeds and each value (world) has its own.

        Args:
            design_row: Index of the run's row in :attr:`design`.
            replication: Replication index, from 0.

        Returns:
            The seed, from :func:`sim.experiments.run_seed`.

        """
        root = self.experiment.root_seed
        if self.seed_column is None:
            return run_seed(root, design_row, replication, common=self.experiment.seeds.common)
        key = int(self.design.iloc[design_row][self.seed_column])
        return run_seed(root, key, replication, common=False)

    def fingerprint(self) -> str:
        """Hash what determines the results; a resumed sweep must match it."""
        experiment = self.experiment.model_dump(mode="json")
        if experiment["design"].get("resolve", "") is None:
            del experiment["design"]["resolve"]  # as before the key existed: same fingerprint
        what = {
            "experiment": experiment,
            "base": self.base,
            "bases": self.bases,
            "per_replication": self.per_replication,
            "model": self.model.name,
        }
        if self.part_of:
            what["part_of"] = self.part_of
            what["first_replication"] = self.first_replication
        blob = json.dumps(what, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


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
    from sim.inputs.shipped import locate

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
        factors, ranges = _sampled_factors(exp, path, params_cls, bases=[base])
        problem = salib_problem(ranges)
        design = pd.DataFrame(_sample(exp, dict(problem)), columns=list(factors))
    elif exp.design.method == "robustness":
        factors, ranges, design, bases, extra = plan_robustness(exp, path, spec, base)
        problem = salib_problem({n: ranges[n] for n in extra["world_factors"]})
    elif exp.design.method == "grid":
        factors, design, bases = _grid(exp, path, spec, base)
    else:
        factors, design, bases = _explicit(exp, path, spec, base)

    if bases:
        extra = {**extra, "looks": scenario_looks(exp, path, bases)}
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


def scenario_looks(
    exp: Experiment, where: Path, bases: dict[str, dict[str, Any]]
) -> dict[str, dict[str, str]]:
    """How figures show each scenario or policy of a design (:func:`sim.core.looks.assign`).

    Its label is its scenario file's (``label:`` or description,
    :func:`sim.model.scenario.scenario_label`), with a policy's levers after it; its
    colour, its strategy's. Saved in the manifest, so analysis draws them without
    reading scenario files or importing plug-ins.
    """
    from sim.core.looks import assign
    from sim.experiments.designs import resolve_scenario
    from sim.model.scenario import scenario_label

    files: dict[str, str] = {}
    levers: dict[str, dict[str, Any]] = {}
    design = exp.design
    if isinstance(design, RobustnessDesign):
        for i, entry in enumerate(design.policies):
            spec = PolicySpec(scenario=entry) if isinstance(entry, str) else entry
            label = _policy_label(i, spec, where)
            levers[label] = dict(spec.levers)
            if spec.scenario:
                files[label] = spec.scenario
    else:
        grid = getattr(design, "factors", None) or {}
        named = list(grid[SCENARIO].values or []) if SCENARIO in grid else []
        named += [r.get(SCENARIO) for r in getattr(design, "rows", None) or []]
        files.update({Path(f).stem: f for f in named if isinstance(f, str)})
    if exp.scenario:
        files.setdefault(Path(exp.scenario).stem, exp.scenario)
    entries = {}
    for key, base in bases.items():
        text = scenario_label(resolve_scenario(where, files[key])) if key in files else key
        if levers.get(key):
            text += ", " + ", ".join(f"{n} {v}" for n, v in levers[key].items())
        entries[key] = (text, base.get("strategy"))
    return {k: look.to_dict() for k, look in assign(entries).items()}


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

    from sim.model.params import BUDGET_TOTALS

    design = typing.cast(RobustnessDesign, exp.design)
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
        totals = {BUDGET_TOTALS[n]["sets"]: n for n in spec.levers if n in BUDGET_TOTALS}
        for name in spec.levers:
            key = f"design.policies[{i}].levers.{name}"
            if name in totals.values():  # a budget as a total a year: Params turns it per school
                if BUDGET_TOTALS[name]["sets"] in spec.levers:
                    raise UserError(
                        f"{where}: {key}: give {name} or {BUDGET_TOTALS[name]['sets']}, not both"
                    )
                continue
            if name not in declared or declared[name].kind != "lever":
                levers = ", ".join(n for n, f in declared.items() if f.kind == "lever")
                raise UserError(
                    f"{where}: {key}: not a lever{renamed(name)}; a policy sets levers: {levers}"
                )
            keys[name] = key
        values = {k: v for k, v in pbase.items() if k not in totals}
        values.update(spec.levers)
        _check_params(params_cls, values, where, keys)
        bases[label] = params_cls.model_validate(values).model_dump(mode="json")

    method = design.worlds.resolved_method()
    worlds_table = None
    from_posterior: list[str] = []
    posterior_levers: list[str] = []
    if method in ("posterior", "mix"):
        post_factors, post_table, posterior_levers = _posterior_worlds(
            exp, where, params_cls, design.worlds, method
        )
        from_posterior = list(post_factors)
    if method == "posterior":
        factors, worlds_table = post_factors, post_table
        ranges = {n: (float(worlds_table[n].min()), float(worlds_table[n].max())) for n in factors}
    else:
        factors, ranges = _sampled_factors(
            exp,
            where,
            params_cls,
            design.worlds,
            "design.worlds",
            ("uncertainty",),
            bases=list(bases.values()),
        )
        if method == "mix":  # the posterior's parameters come from it, not from the ranges
            for name in from_posterior:
                factors.pop(name, None)
                ranges.pop(name, None)
    # Every world factor, from the posterior or from a range, is the world's, not a policy's.
    _same_world(bases, {*factors, *from_posterior}, declared_parameters(params_cls), where)

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
    if design.resolve is not None:
        _check_resolve(design, exp, where)

    if worlds_table is not None:
        worlds = worlds_table[list(factors)].to_numpy(float)
    else:
        worlds = np.empty((design.worlds.n, 0))
        if factors:
            unit = qmc.LatinHypercube(
                d=len(factors), rng=np.random.default_rng(design_seed(exp.root_seed))
            ).random(design.worlds.n)
            bounds = np.array([ranges[n] for n in factors])
            worlds = qmc.scale(unit, bounds[:, 0], bounds[:, 1])
        if method == "mix":  # the posterior's draws first, then the sampled factors
            worlds = np.hstack([post_table[from_posterior].to_numpy(float), worlds])
            ranges = {
                **{
                    n: (float(post_table[n].min()), float(post_table[n].max()))
                    for n in from_posterior
                },
                **ranges,
            }
            factors = {**post_factors, **factors}
    labels = list(bases)
    table = pd.DataFrame(
        {
            POLICY: np.tile(labels, len(worlds)),
            WORLD: np.repeat(np.arange(len(worlds)), len(labels)),
            **{n: np.repeat(worlds[:, j], len(labels)) for j, n in enumerate(factors)},
        }
    )
    policy = Factor(
        POLICY,
        "policy",
        "label",
        "Policy (a scenario file and levers).",
        None,
        "category",
        choices=tuple(labels),
    )
    world = Factor(
        WORLD,
        "world",
        "index",
        "World: one sampled point of the uncertainties; seeds derive from it.",
        None,
        "int",
    )
    extra = {
        "policies": labels,
        "world_factors": list(factors),
        "n_worlds": int(design.worlds.n),
        "worlds_from": method,
        "worlds_posterior": design.worlds.posterior,
        "worlds_posterior_used": method in ("posterior", "mix"),
        "worlds_from_posterior": from_posterior,
        "worlds_posterior_levers": posterior_levers,
        "worlds_from_ranges": [n for n in factors if n not in from_posterior],
        "measures": dict(design.measures),
        "targets": {k: v.model_dump(exclude_none=True) for k, v in design.targets.items()},
    }
    extra.update(_policy_extras(bases, list(factors), params_cls))
    return {POLICY: policy, WORLD: world, **factors}, ranges, table, bases, extra


def _policy_extras(
    bases: dict[str, dict[str, Any]], world_factors: list[str], params_cls: type[BaseModel]
) -> dict[str, Any]:
    """Manifest entries saying what each policy is and where the worlds' ranges come from.

    ``policy_levers``: every declared lever's value in each policy (a policy is a
    strategy with its levers: budgets, trials, facilitation...), read from the policies'
    full parameters. ``world_factor_basis``: the world factors grouped by the reason their
    range gives (:func:`sim.model.basis.range_basis`: a cited source, a judgement, or
    neither).
    """
    from sim.model.basis import basis_of

    kinds = declared_parameters(params_cls)
    levers = [n for n, k in kinds.items() if k == "lever"]
    out: dict[str, dict[str, Any]] = {}
    for label, base in bases.items():
        flat = {**base, **dict(base.get("declared") or {})}
        out[label] = {n: flat[n] for n in levers if n in flat}
    return {"policy_levers": out, "world_factor_basis": basis_of(world_factors)}


def _check_resolve(design: RobustnessDesign, exp: Experiment, where: Path) -> None:
    """Refuse a ``resolve:`` the rounds could not follow."""
    res = typing.cast(Any, design.resolve)
    if exp.replications < 2:
        raise UserError(
            f"{where}: design.resolve: needs replications: 2 or more (got "
            f"{exp.replications}): the seed noise of a world's paired differences is "
            "estimated from its replications. Fix: set replications: 2"
        )
    if res.max_replications <= exp.replications:
        raise UserError(
            f"{where}: design.resolve.max_replications: {res.max_replications} is not above "
            f"replications ({exp.replications}), so no seed could be added; raise it"
        )
    for i, name in enumerate(res.measures or []):
        if name not in design.measures:
            raise UserError(
                f"{where}: design.resolve.measures[{i}]: {name!r} is not one of "
                f"design.measures ({', '.join(design.measures)})"
            )


def _posterior_worlds(
    exp: Experiment, where: Path, params_cls: type[BaseModel], worlds: Any, method: str
) -> tuple[dict[str, Factor], pd.DataFrame, list[str]]:
    """A robustness design's worlds drawn from a calibration's posterior (issues 19, 29).

    ``n`` weighted draws with replacement (:func:`sim.experiments.posterior.draw`), seeded from the
    experiment's root seed, so the same file gives the same worlds. The posterior's
    uncertainties are world factors: the only ones (``method: posterior``), or beside the
    sampled ones (``mix``). A lever the calibration fitted stays each policy's (returned
    third, for the manifest); any other column is refused.
    """
    from sim.experiments.posterior import draw, shipped_posterior

    if worlds.posterior is None:
        raise UserError(
            f"{where}: design.worlds.posterior: missing; with method: {method} "
            "name a calibration's output folder, e.g. posterior: "
            "../runs/calibrate_ks2_joint"
        )
    if method == "posterior" and (worlds.factors is not None or worlds.exclude):
        raise UserError(
            f"{where}: design.worlds: with method: posterior the world factors "
            "are the posterior's parameters; remove factors and exclude (or use method: "
            "mix to sample the others too)"
        )
    path = Path(worlds.posterior)
    if not path.is_absolute():
        beside = where.parent / path
        # A file beside the experiment wins; else a shipped posterior of that name.
        path = beside if beside.exists() else (shipped_posterior(path) or beside)
    table = draw(path, worlds.n, design_seed(exp.root_seed))
    declared = declared_factors(params_cls)
    factors, levers = {}, []
    for name in table.columns:
        factor = declared.get(name)
        if factor is not None and factor.kind == "lever":
            levers.append(name)
            # A calibration may fit a lever as a fact of history (how hard the centre
            # mandated in 1998-2005); in a robustness design each policy sets its levers,
            # so the particles' other parameters are the world (their marginal) and the
            # lever stays the policy's. Recorded in the manifest (worlds_posterior_levers).
            continue
        if factor is None or factor.kind != "uncertainty":
            raise UserError(
                f"{where}: design.worlds.posterior: {name!r} in {path} is not a "
                "declared uncertainty or lever of this model; a world varies "
                "uncertainties only. Fix: calibrate declared parameters, or name "
                "another posterior"
            )
        factors[name] = factor
    return factors, table[list(factors)], levers
