"""Running the model: single runs, seeds and outcomes (comparisons: :mod:`.comparison`).

Seeds: a batch derives each run's seed from one root seed with numpy's
``SeedSequence`` (``derive_seeds`` here, :func:`sim.experiments.run_seed` for
sweeps and ``compare``), so results depend only on the root seed and the run's
position in the design, never on worker count or order. Every output records the
seed of each run.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
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


def pool_context() -> multiprocessing.context.BaseContext:
    """Start method for worker processes: forkserver where available, else spawn.

    Forking a process that already runs threads (pyarrow, tqdm) can deadlock;
    workers import the model afresh and the plugins named in the parameters.
    """
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def derive_seeds(root_seed: int, n: int) -> list[int]:
    """``n`` independent run seeds from one root seed (numpy SeedSequence)."""
    children = np.random.SeedSequence(root_seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


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


def _one(args: tuple[Params, int, int | None, str, int]) -> pd.DataFrame:
    params, seed, steps, label, rep = args
    res = run_model(params, seed, steps)
    df = res.metrics
    df.insert(0, "seed", seed)
    df.insert(0, "replication", rep)
    df.insert(0, "scenario", label)
    return df


def workers_default() -> int:
    """Worker processes to use by default: the machine's cores."""
    return max(1, os.cpu_count() or 1)


def iter_runs(
    jobs: list[tuple[Params, int, int | None, str, int]],
    workers: int | None = None,
    progress: bool = False,
) -> Iterator[pd.DataFrame]:
    """Run jobs, yielding each run's metrics (with scenario, replication, seed) in job order."""
    workers = workers or workers_default()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), unit="run", desc="runs", dynamic_ncols=True)
    try:
        if workers == 1:
            for job in jobs:
                yield _one(job)
                if bar is not None:
                    bar.update()
        else:
            with ProcessPoolExecutor(workers, mp_context=pool_context()) as pool:
                for df in pool.map(_one, jobs, chunksize=1):
                    yield df
                    if bar is not None:
                        bar.update()
    finally:
        if bar is not None:
            bar.close()


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
