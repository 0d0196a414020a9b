"""Running a calibration: ABC-SMC, then predictive runs, forecast, files and figures."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.files import UNITS, Setup, prepare
from sim.calibration.forecast import forecast_table
from sim.calibration.predictive import posterior_summary, predictive_band, predictive_runs
from sim.calibration.sampler import _executor, seeded_sampler
from sim.calibration.simulate import RMSE, Simulator, _key


@dataclass
class Result:
    """What a calibration wrote, in memory: the tables behind the files."""

    out: Path
    posterior: pd.DataFrame
    generations: pd.DataFrame
    summary: pd.DataFrame
    predictive: pd.DataFrame
    forecast: pd.DataFrame | None
    seconds: float


def _history_tables(history: Any, names: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    gens = pd.DataFrame(
        {
            "generation": pops["t"].astype(int),
            "epsilon": pops["epsilon"].astype(float),
            "simulations": pops["samples"].astype(int),
            "accepted": pops["particles"].astype(int),
        }
    )
    gens["acceptance_rate"] = gens["accepted"] / gens["simulations"]
    last = int(history.max_t)
    df, w = history.get_distribution(m=0, t=last)
    post = df[list(names)].reset_index(drop=True).astype(float)
    post["weight"] = np.asarray(w, float) / np.sum(w)
    post["generation"] = last
    return post, gens


def calibrate(
    path: str | Path,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
) -> Result:
    """Run a calibration file: ABC-SMC, posterior predictive runs, forecast, figures.

    Args:
        path: The calibration YAML.
        out: Output folder (default ``runs/<file stem>``).
        workers: Worker processes (default: the machine's cores; 1 runs in process).
        scheduler: A Dask scheduler's address; overrides ``workers``.
        progress: Log pyabc's progress per generation.

    Returns:
        The result tables; the files are in ``out``.

    Raises:
        UserError: A bad calibration file, scenario or series file.
    """
    setup = prepare(path)
    cal = setup.cal
    out = Path(out or Path("runs") / Path(path).stem)
    out.mkdir(parents=True, exist_ok=True)
    import pyabc
    from pyabc import ABCSMC, RV, Distribution

    for name in (
        "ABC",
        "pyabc",
        "Sampler",
        "History",
        "Epsilon",
        "Distance",
        "Acceptor",
        "Adaptation",
        "Population",
    ):
        logging.getLogger(name).setLevel(logging.INFO if progress else logging.WARNING)
    t0 = time.perf_counter()
    scale = UNITS[cal.observed.unit]
    years = tuple(int(y) for y in setup.series.years[setup.fit])
    steps = tuple(int(s) for s in setup.steps[setup.fit])
    keys = tuple(_key(y) for y in years)
    observed = {
        _key(y): float(v)
        for y, v in zip(setup.series.years, setup.series.values, strict=True)
        if _key(y) in keys
    }
    sim_fn = Simulator(setup.base, setup.integer, years, steps, scale)
    if cal.distance == "rmse":
        distance: Any = RMSE(keys)
    elif cal.distance == "sd_weighted":
        distance = RMSE(keys, tuple(float(s) for s in setup.series.sd[setup.fit]))
    else:
        distance = pyabc.AdaptivePNormDistance(p=2)
    prior = Distribution(**{n: RV("uniform", lo, hi - lo) for n, (lo, hi) in setup.priors.items()})
    db = out / "history.db"
    for stale in (db, out / "history.db-journal"):
        stale.unlink(missing_ok=True)  # a fresh History: the run id is always 1
    np.random.seed(np.random.SeedSequence(cal.seed).generate_state(4))  # noqa: NPY002
    random.seed(cal.seed)
    with _executor(workers, scheduler) as pool:
        sampler = seeded_sampler(cal.seed, pool.executor, pool.slots)
        abc = ABCSMC(sim_fn, prior, distance, population_size=cal.population, sampler=sampler)
        abc.new(f"sqlite:///{db.resolve()}", observed)
        history = abc.run(
            minimum_epsilon=cal.min_epsilon if cal.min_epsilon is not None else 0.0,
            max_nr_populations=cal.generations,
            max_total_nr_simulations=(
                cal.max_simulations if cal.max_simulations is not None else np.inf
            ),
        )
        fit_seconds = time.perf_counter() - t0
        post, gens = _history_tables(history, list(setup.priors))
        pred = predictive_runs(setup, post, pool)
    seconds = time.perf_counter() - t0
    summary = posterior_summary(post, setup.priors)
    band = predictive_band(pred)
    forecast = forecast_table(setup, band)
    post.to_parquet(out / "posterior.parquet", index=False)
    gens.to_csv(out / "generations.csv", index=False)
    pred.to_parquet(out / "predictive.parquet", index=False)
    summary.to_csv(out / "posterior_summary.csv", index=False)
    if forecast is not None:
        forecast.to_csv(out / "forecast.csv", index=False)
    _write_summary(out, setup, summary, gens, forecast, fit_seconds, seconds, sampler)
    from sim.analysis.plots_calibration import posterior_figure, predictive_figure

    posterior_figure(
        post, setup.priors, out / "posterior.png", title=f"{Path(path).stem}: posterior marginals"
    )
    predictive_figure(
        band,
        setup,
        forecast,
        out / "predictive.png",
        title=f"{Path(path).stem}: posterior predictive",
    )
    return Result(out, post, gens, summary, pred, forecast, seconds)


def _write_summary(
    out: Path,
    setup: Setup,
    summary: pd.DataFrame,
    gens: pd.DataFrame,
    forecast: pd.DataFrame | None,
    fit_seconds: float,
    seconds: float,
    sampler: Any,
) -> None:
    from importlib import metadata

    from sim import __version__

    data = {
        "version": __version__,
        "pyabc": metadata.version("pyabc"),
        "calibration_file": str(setup.path),
        "calibration": setup.cal.model_dump(),
        "series": str(setup.series.path),
        "fitted_years": [int(y) for y in setup.series.years[setup.fit]],
        "held_back_years": [int(y) for y in setup.series.years[setup.held]],
        "notes": setup.notes,
        "posterior": summary.to_dict("records"),
        "generations": gens.to_dict("records"),
        "forecast": None if forecast is None else forecast.to_dict("records"),
        "seconds_fit": round(fit_seconds, 1),
        "seconds_total": round(seconds, 1),
        "simulations_run": int(sampler.simulations),
        "base_params": setup.base,
    }
    (out / "summary.json").write_text(json.dumps(data, indent=1, default=str))


def report(res: Result) -> str:
    """The text ``nextpractice calibrate`` prints: posterior, generations, forecast."""
    lines = ["posterior (weighted median and 90% interval; prior range):"]
    for r in res.summary.to_dict("records"):
        lines.append(
            f"  {r['parameter']:<22} {r['median']:.4g}  [{r['p05']:.4g}, {r['p95']:.4g}]"
            f"   prior [{r['prior_low']:.4g}, {r['prior_high']:.4g}]"
        )
    lines.append("generations:")
    lines.append(res.generations.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    if res.forecast is not None:
        lines.append("out-of-sample forecast (RMSE row in the series' unit):")
        lines.append(res.forecast.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    lines.append(
        f"took {res.seconds:.0f} s; wrote {res.out}/posterior.parquet, generations.csv, "
        "predictive.parquet, posterior.png, predictive.png"
        + (", forecast.csv" if res.forecast is not None else "")
        + ", summary.json"
    )
    return "\n".join(lines)
