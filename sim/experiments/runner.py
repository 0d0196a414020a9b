"""Running the model once, and its outcomes (comparisons: :mod:`.comparison`).

:func:`run_model` is one run. Batches of runs go through the one executor
(:mod:`sim.experiments.executor`), each run with its seed from the batch's root seed
(:mod:`sim.experiments.seeds`), so results depend only on the root seed and the run's
place in the batch, never on the number of workers or the order runs finish in. Every
output records the seed of each run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.inputs.safe_io import read_parquet
from sim.model.model import NextPracticeModel
from sim.model.params import Params
from sim.model.plugins import plugin_records
from sim.system.costs import COST_DEFINITIONS, YEARLY_DEFINITIONS, cost_outcomes, yearly_outcomes
from sim.system.metrics import PLATEAU_DEFINITIONS, plateau_measures

#: Final-step metrics reported as outcomes (prefixed ``final_``).
FINAL_METRICS = (
    "perf_mean",
    "perf_sd",
    "gain_sd",
    "gap",
    "practices_in_use",
    "frontier",
    "ownership",
    "coherence",
    "capacity",
    "ties",
    "collaboratives",
    "spend_centre",
    "spend_authorities",
    "spend_public",
    "spend_schools",
    "shortfall",
    "past_plateau",
)


@dataclass
class RunResult:
    """One run's results.

    Attributes:
        metrics: one row per step, ``step`` first (see :mod:`sim.system.metrics`).
        summary: plateau measures, final values, parameters, seed, version.
        adoption: schools running each practice at each step (long format).
        practices: every practice's attributes at the end.
    """

    metrics: pd.DataFrame
    summary: dict[str, Any]
    adoption: pd.DataFrame = field(default_factory=pd.DataFrame)
    practices: pd.DataFrame = field(default_factory=pd.DataFrame)


def outcome_definitions() -> dict[str, str]:
    """Every outcome :func:`outcomes` reports, in its order, with its definition.

    The plateau measures are defined beside the code that computes them
    (:data:`sim.system.metrics.PLATEAU_DEFINITIONS`); each ``final_`` outcome is a metric's
    value at the last step (:data:`sim.system.metrics.DEFINITIONS`); value for money is
    defined beside the costs (:data:`sim.system.costs.COST_DEFINITIONS`).
    """
    from sim.system.metrics import DEFINITIONS

    final = {f"final_{m}": f"at the last step: {DEFINITIONS[m]}" for m in FINAL_METRICS}
    return {**PLATEAU_DEFINITIONS, **final, **COST_DEFINITIONS, **YEARLY_DEFINITIONS}


def outcomes(
    metrics: pd.DataFrame, dur_step: float = 1.0, n_schools: int | None = None
) -> dict[str, float]:
    """Scalar outcomes of a run: plateau measures of mean performance and final values.

    Each is defined in :func:`outcome_definitions` (``nextpractice params --outcomes``).
    A metric the run did not record (the ``adoption`` metric set) gives NaN; so does
    spend per school when ``n_schools`` is not given.
    """
    if "perf_mean" in metrics:
        out = plateau_measures(metrics["perf_mean"].to_numpy(), dur_step=dur_step)
    else:
        out = {k: float("nan") for k in PLATEAU_DEFINITIONS}
    last = metrics.iloc[-1]
    for name in FINAL_METRICS:
        out[f"final_{name}"] = float(last[name]) if name in last else float("nan")
    if "spend_public" in metrics:
        out.update(
            cost_outcomes(
                float(metrics["perf_mean"].iat[0]),
                float(last["perf_mean"]),
                float(last["spend_public"]),
                float(last["spend_schools"]) if "spend_schools" in last else float("nan"),
            )
        )
        years = float(last["step"] - metrics["step"].iat[0]) * dur_step / 12.0
        spend = {p: float(last[f"spend_{p}"]) for p in ("centre", "authorities", "public")}
        spend["schools"] = float(last["spend_schools"])
        out.update(yearly_outcomes(spend, years, n_schools or 0))
    else:
        out.update(dict.fromkeys(COST_DEFINITIONS, float("nan")))
        out.update(dict.fromkeys(YEARLY_DEFINITIONS, float("nan")))
    return out


def run_model(
    params: Params, seed: int, steps: int | None = None, detail: bool = False
) -> RunResult:
    """Run one model and summarise it.

    Args:
        params: the parameters.
        seed: the model's seed.
        steps: steps to run (default ``params.n_steps``).
        detail: also return adoption curves and the practice table.
    """
    model = NextPracticeModel(params, rng=seed).run(steps)
    m = model.metrics_frame()
    summary = {
        "version": __version__,
        "seed": int(seed),
        "steps": int(model.t),
        "outcomes": outcomes(m, params.dur_step, params.n_schools),
        "final": {k: (None if pd.isna(v) else float(v)) for k, v in m.iloc[-1].items()},
        "params": params.model_dump(),
        # Each plug-in's file and SHA-256 (an edited plug-in shows), and built-ins replaced.
        "plugins": plugin_records(params.plugins),
    }
    if detail:
        return RunResult(m, summary, model.adoption_frame(), model.practices_frame())
    return RunResult(m, summary)


def load_runs(out_dir: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a comparison's per-step results (``runs.parquet``) back.

    ``runs.parquet`` is assembled from the sweep's ``series/`` chunks, so those are
    checked first, with their results chunks, against the manifest
    (:func:`sim.experiments.chunks.trusted_series`); a folder without a manifest (a comparison
    written before compare ran through the sweep) is read as it is.

    Raises:
        UserError: a damaged chunk, or a missing or unreadable ``runs.parquet``: one
            line naming the file and saying to run the same ``compare`` again.
    """
    from sim.experiments.chunks import MANIFEST, trusted_series

    out_dir = Path(out_dir)
    if (out_dir / MANIFEST).is_file():
        trusted_series(out_dir)
    return read_parquet(
        out_dir / "runs.parquet",
        "the table compare writes",
        "run the same `nextpractice compare` command again to write it",
        columns=columns,
    )
