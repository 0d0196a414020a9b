"""Experiment files: what a batch of runs varies, how, and what it measures.

Three modules: :mod:`~sim.experiments.schema` (the factors' declarations and the
file's strict schema), :mod:`~sim.experiments.designs` (the design tables) and
:mod:`~sim.experiments.plan` (seeds, registered models, the checked plan). The names
below are re-exported here, where the rest of the package and users import them.

An experiment file (YAML, in ``experiments/``) names a base scenario, a design and the
run settings. This module turns it into a :class:`Plan`: the validated base parameters,
the factors with their ranges, the design table (one row per parameter set), the SALib
problem and the outcomes to record. It never runs the model (see :mod:`sim.experiments.sweep`) and
never draws (see :mod:`sim.analysis.analyze`).

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
through the one seed tree (:mod:`sim.experiments.seeds`), so a plan is identical on
every machine. By default replication ``r`` has the same seed in every design row
(common random numbers: differences between rows are not seed noise); ``seeds: {common:
false}`` gives every run its own seed (:func:`run_seed`).

Models are registered by name (:data:`MODELS`): ``nextpractice`` (the default, the real
model), ``ishigami``, SALib's Ishigami test function dressed as a model, whose Sobol'
indices are known in closed form, and ``normal``, an outcome of known mean and variance
with common random numbers built in (the number of replications a precision needs is
known); tests and users check the pipeline with them. They live in
:mod:`sim.experiments.ishigami`, the test support, apart from the simulation.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Each re-exported name and the module it lives in, imported on first use (PEP 562), so that
#: importing one module of the package (the executor, for ``nextpractice run``) does not
#: import the schema, the designs and pydantic's models with it.
_WHERE = {
    "grid_points": "sim.experiments.designs",
    "resolve_scenario": "sim.experiments.designs",
    "Plan": "sim.experiments.plan",
    "plan_experiment": "sim.experiments.plan",
    "plan_robustness": "sim.experiments.plan",
    "DESIGN_METHODS": "sim.experiments.schema",
    "FACTOR_KINDS": "sim.experiments.schema",
    "ID_COLUMNS": "sim.experiments.schema",
    "MODELS": "sim.experiments.schema",
    "POLICY": "sim.experiments.schema",
    "SCENARIO": "sim.experiments.schema",
    "SCENARIO_FACTOR": "sim.experiments.schema",
    "STATUS_COLUMNS": "sim.experiments.schema",
    "WORLD": "sim.experiments.schema",
    "Design": "sim.experiments.schema",
    "Experiment": "sim.experiments.schema",
    "Factor": "sim.experiments.schema",
    "FactorSpec": "sim.experiments.schema",
    "GridDesign": "sim.experiments.schema",
    "LHSDesign": "sim.experiments.schema",
    "ListDesign": "sim.experiments.schema",
    "ModelSpec": "sim.experiments.schema",
    "MorrisDesign": "sim.experiments.schema",
    "PolicySpec": "sim.experiments.schema",
    "RobustnessDesign": "sim.experiments.schema",
    "RunFn": "sim.experiments.schema",
    "SeedSettings": "sim.experiments.schema",
    "SobolDesign": "sim.experiments.schema",
    "TargetSpec": "sim.experiments.schema",
    "WorldsDesign": "sim.experiments.schema",
    "check_types": "sim.experiments.schema",
    "declared_factors": "sim.experiments.schema",
    "declared_parameters": "sim.experiments.schema",
    "default_problem": "sim.experiments.schema",
    "format_validation_error": "sim.experiments.schema",
    "get_model": "sim.experiments.schema",
    "load_experiment": "sim.experiments.schema",
    "not_an_uncertainty": "sim.experiments.schema",
    "salib_problem": "sim.experiments.schema",
    "analysis_seed": "sim.experiments.seeds",
    "design_seed": "sim.experiments.seeds",
    "run_seed": "sim.experiments.seeds",
    "tree_seed": "sim.experiments.seeds",
}

__all__ = sorted(_WHERE)

if TYPE_CHECKING:  # what static tools see: the names as if imported here
    from sim.experiments.designs import (  # noqa: F401
        grid_points,
        resolve_scenario,
    )
    from sim.experiments.plan import (  # noqa: F401
        Plan,
        plan_experiment,
        plan_robustness,
    )
    from sim.experiments.schema import (  # noqa: F401
        DESIGN_METHODS,
        FACTOR_KINDS,
        ID_COLUMNS,
        MODELS,
        POLICY,
        SCENARIO,
        SCENARIO_FACTOR,
        STATUS_COLUMNS,
        WORLD,
        Design,
        Experiment,
        Factor,
        FactorSpec,
        GridDesign,
        LHSDesign,
        ListDesign,
        ModelSpec,
        MorrisDesign,
        PolicySpec,
        RobustnessDesign,
        RunFn,
        SeedSettings,
        SobolDesign,
        TargetSpec,
        WorldsDesign,
        check_types,
        declared_factors,
        declared_parameters,
        default_problem,
        format_validation_error,
        get_model,
        load_experiment,
        not_an_uncertainty,
        salib_problem,
    )
    from sim.experiments.seeds import (  # noqa: F401
        analysis_seed,
        design_seed,
        run_seed,
        tree_seed,
    )


def __getattr__(name: str) -> Any:
    """A re-exported name, from its module (imported now if it was not yet)."""
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'sim.experiments' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once found, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
