"""Running a calibration: ABC-SMC, then predictive runs, forecast, files and figures."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.calibration.abc import (  # noqa: F401  (re-exported: fit's public helpers)
    FAILED,
    LONG_HOURS,
    _duration,
    _history_tables,
    _workers,
    _write_failures,
    check_cost,
    cost_statement,
    distance_of,
    fresh_db,
    least_cost,
    quiet_pyabc,
    run_abc,
    series_runs,
    sqlite_url,
    stopped,
)
from sim.calibration.files import Setup, prepare, resized
from sim.calibration.forecast import forecast_table
from sim.calibration.predictive import posterior_summary, predictive_band, predictive_runs
from sim.calibration.sampler import Failure, MostFail
from sim.core.errors import RunsFailed
from sim.experiments.executor import open_pool
from sim.inputs.folders import shown, writable_dir


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


def calibrate(
    path: str | Path,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
    allow_failures: bool = False,
    allow_long: bool = False,
    say: Any = None,
    setup: Setup | None = None,
    sizes: dict[str, int | None] | None = None,
) -> Any:
    """Run a calibration file: ABC-SMC, posterior predictive runs, forecast, figures.

    The simulations (the sampler's candidates and the predictive runs) go through the
    one executor (:func:`sim.experiments.executor.open_pool`). A candidate whose
    simulation fails counts as rejected; a predictive run that fails is left out of the
    band. Either way every failure is listed in ``failed_runs.csv``. A file that
    compares stories (``models:``) runs the model selection instead
    (:func:`sim.calibration.selection.select`).

    Args:
        path: The calibration YAML.
        out: Output folder (default ``runs/<file stem>``).
        workers: Worker processes (default: the machine's cores; 1 runs in process).
        scheduler: A Dask scheduler's address; overrides ``workers``.
        progress: Log pyabc's progress per generation.
        allow_failures: Accept failed simulations instead of raising at the end.
        allow_long: Run even when the least time is above :data:`LONG_HOURS`.
        say: Called with the cost statement (:func:`cost_statement`) before the run.
        setup: The checked file, if already prepared (a rolling-origin fit's).
        sizes: ``population``, ``generations``, ``predictive`` or ``repeats`` in place
            of the file's (:func:`sim.calibration.files.resized`; the command line's
            options): a cheaper, less informative run of the same file.

    Returns:
        The result tables (:class:`Result`; a model selection's
        :class:`sim.calibration.selection.Selection`); the files are in ``out``.

    Raises:
        UserError: A bad calibration file, scenario or series file; an output folder
            that cannot be written; a least time above :data:`LONG_HOURS` without
            ``allow_long``.
        RunsFailed: Some simulations failed (after every file is written, unless
            ``allow_failures``), or more than half a generation's did (at once: the
            files of the generations before it are kept in ``history.db``).
    """
    setup = resized(setup or prepare(path), **(sizes or {}))
    if setup.cal.models is not None:
        from sim.calibration.selection import select

        return select(
            path, out, workers, scheduler, progress, allow_failures, allow_long, say, setup
        )
    cal = setup.cal
    out = writable_dir(out or Path("runs") / Path(path).stem)
    url = sqlite_url(out / "history.db")
    cost = check_cost(setup, workers, scheduler, allow_long, say)
    quiet_pyabc(progress)
    t0 = time.perf_counter()
    url = fresh_db(out)
    (out / FAILED).unlink(missing_ok=True)
    with open_pool(workers, scheduler) as pool:
        try:
            history, sampler = run_abc(setup, url, pool, cal.seed)
        except MostFail as exc:
            raise stopped("calibrate", path, out, exc, list(setup.priors)) from None
        fit_seconds = time.perf_counter() - t0
        post, gens = _history_tables(history, list(setup.priors))
        pred, failed_pred = predictive_runs(setup, post, pool)
    seconds = time.perf_counter() - t0
    summary = posterior_summary(post, setup.priors)
    band = predictive_band(pred)
    forecast = forecast_table(setup, pred)
    post.to_parquet(out / "posterior.parquet", index=False)
    gens.to_csv(out / "generations.csv", index=False)
    pred.to_parquet(out / "predictive.parquet", index=False)
    summary.to_csv(out / "posterior_summary.csv", index=False)
    if forecast is not None:
        forecast.to_csv(out / "forecast.csv", index=False)
    failures = [*sampler.failures, *failed_pred]
    _write_summary(
        out, setup, summary, gens, forecast, fit_seconds, seconds, sampler, failures, cost
    )
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
    if failures:
        _write_failures(out, failures, list(setup.priors))
        if not allow_failures:
            raise RunsFailed(
                f"calibrate {path}: {len(sampler.failures)} of {sampler.simulations} fit "
                f"simulations and {len(failed_pred)} of {cal.predictive * len(setup.parts)} "
                "predictive runs "
                f"failed (first: {failures[0].error}); every failure is listed in "
                f"{out / FAILED}. The fit counted a failed candidate as rejected and the "
                "predictive band leaves failed runs out; every file is written. To accept "
                "them pass --allow-failures, or fix the cause and calibrate again"
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
    failures: list[Failure],
    cost: dict[str, Any],
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
        **({"simulations_failed": len(failures)} if failures else {}),
        "least_cost": cost,
        "base_params": setup.base,
        "all_series": {
            name: {
                "file": str(part.series.path),
                "fitted_years": [int(y) for y in part.series.years[part.fit]],
                "held_back_years": [int(y) for y in part.series.years[part.held]],
                "statistics": part.observed_stats(),
                "base_params": setup.model.bases[name],
            }
            for name, part in setup.parts.items()
        },
    }
    (out / "summary.json").write_text(json.dumps(data, indent=1, default=str))


def report(res: Result) -> str:
    """The text ``nextpractice calibrate`` prints: posterior, generations, forecast."""
    lines = [
        "posterior (weighted median and 90% interval; prior range; the interval's width "
        "over the prior's: near 1, the data barely inform it):"
    ]
    for r in res.summary.to_dict("records"):
        lines.append(
            f"  {r['parameter']:<22} {r['median']:.4g}  [{r['p05']:.4g}, {r['p95']:.4g}]"
            f"   prior [{r['prior_low']:.4g}, {r['prior_high']:.4g}]"
            f"   width {r['width90_vs_prior']:.2f}"
        )
    lines.append("generations:")
    lines.append(res.generations.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    if res.forecast is not None:
        lines.append("out-of-sample forecast (RMSE row in the series' unit):")
        lines.append(res.forecast.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    lines.append(
        f"took {res.seconds:.0f} s; wrote {shown(res.out)}/posterior.parquet, generations.csv, "
        "predictive.parquet, posterior.png, predictive.png"
        + (", forecast.csv" if res.forecast is not None else "")
        + ", summary.json"
    )
    return "\n".join(lines)
