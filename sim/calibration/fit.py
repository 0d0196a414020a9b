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

from sim.calibration.files import Setup, prepare, resized
from sim.calibration.forecast import forecast_table
from sim.calibration.predictive import posterior_summary, predictive_band, predictive_runs
from sim.calibration.sampler import Failure, MostFail, seeded_sampler
from sim.calibration.simulate import RMSE, SeriesRun, Simulator
from sim.core.errors import RunsFailed, UserError
from sim.experiments.executor import open_pool
from sim.experiments.seeds import tree_state
from sim.inputs.folders import shown, writable_dir
from sim.inputs.safe_io import excerpt

#: The table of a calibration's failed simulations, beside its results.
FAILED = "failed_runs.csv"


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


def _history_tables(
    history: Any, names: Sequence[str], m: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
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
    df, w = history.get_distribution(m=m, t=last)
    post = df[list(names)].reset_index(drop=True).astype(float)
    post["weight"] = np.asarray(w, float) / np.sum(w)
    post["generation"] = last
    return post, gens


def sqlite_url(db: Path) -> str:
    """The SQL URL of the sqlite file ``db``, for pyabc: the path exactly, whatever its name.

    ``f"sqlite:///{db}"`` let the folder's name speak URL: a ``?`` cut the path short
    (the rest became options) and ``%2e%2e%2f`` was decoded to ``../``, so the database
    went outside the folder asked for. ``URL.create`` quotes such characters; the URL
    is parsed back and must give the same path, or the folder is refused.

    Raises:
        UserError: the URL would not lead to ``db`` (naming the path).
    """
    from sqlalchemy.engine import URL, make_url

    url = URL.create("sqlite", database=str(db)).render_as_string(hide_password=False)
    if make_url(url).database != str(db):
        raise UserError(
            f"{db}: pyabc's database cannot be kept at this path (its name does not survive "
            "an SQL URL); give another folder with --out"
        )
    return url


def least_cost(setup: Setup, workers: int | None, scheduler: str | None) -> dict[str, Any]:
    """What a calibration costs at the least, measured before it runs.

    The least number of simulations is ``population x generations`` (every candidate
    accepted; at most ``max_simulations``) for each of the ``repeats``, plus the
    ``predictive`` runs (for each model, when stories are compared); ABC-SMC needs
    more, as the acceptance rate falls with the tolerance. One simulation (a parameter
    set: every series' run) is timed here (a pilot at the first model's priors'
    midpoints, the second of two runs: the first loads the compiled kernels), so the
    figure is this machine's.

    Returns:
        ``simulations`` (least), ``seconds_each``, ``slots`` (parallel simulations;
        None on a Dask cluster, whose size is not known before connecting),
        ``seconds`` (least wall time on those slots, or of simulation time on a cluster)
        and ``pilot_failed``: when the pilot simulation raised, its error, and the times
        are None (the calibration runs and records its failed simulations as they come).
    """
    import os

    from sim.calibration.simulate import apply_values, simulate_series

    cal = setup.cal
    fits = cal.population * cal.generations
    if cal.max_simulations is not None:
        fits = min(fits, cal.max_simulations)
    mset = setup.model
    mid = {n: (lo + hi) / 2 for n, (lo, hi) in mset.priors.items()}
    each: float | None = 0.0
    failed = None
    for _ in range(2):
        t0 = time.perf_counter()
        try:
            for name, part in setup.parts.items():  # one simulation: every series' run
                params = apply_values(mset.bases[name], mid, mset.integer)
                steps = [int(x) for x in part.steps[part.fit | part.held]]
                simulate_series(params, 0, steps, 1.0)
        except Exception as exc:  # the calibration records failed simulations as it runs
            each, failed = None, f"{type(exc).__name__}: {exc}"
            break
        each = time.perf_counter() - t0
    if scheduler is not None:
        slots = None
    else:
        slots = workers if workers is not None else (len(os.sched_getaffinity(0)) or 1)
    sims = fits * cal.repeats + cal.predictive * len(setup.models)
    return {
        "simulations": sims,
        "seconds_each": each,
        "slots": slots,
        "seconds": None if each is None else sims * each / (slots or 1),
        "pilot_failed": failed,
    }


def _workers(n: int) -> str:
    return f"{n} worker{'s' if n != 1 else ''}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.2g} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} hours"


def cost_statement(setup: Setup, cost: dict[str, Any]) -> str:
    """The line ``calibrate`` prints before it runs: the least simulations and time."""
    cal = setup.cal
    parts = f"population {cal.population} x {cal.generations} generations"
    if cal.max_simulations is not None and cal.max_simulations < cal.population * cal.generations:
        parts = f"max_simulations {cal.max_simulations}"
    if cal.repeats > 1:
        parts += f", {cal.repeats} repeats"
    n_models = len(setup.models)
    runs = f"{cal.predictive} predictive runs" + (f" x {n_models} models" if n_models > 1 else "")
    n_series = len(setup.parts)
    where = (
        f"on {_workers(cost['slots'])}"
        if cost["slots"] is not None
        else "of simulation time, shared by the cluster's workers"
    )
    head = (
        f"calibrate: at least {cost['simulations']:,} simulations ({parts} + {runs}"
        + (f"; each runs {n_series} series" if n_series > 1 else "")
        + ")"
    )
    if cost["seconds"] is None:
        return (
            f"{head}; not timed: the pilot simulation at the priors' midpoints failed "
            f"({excerpt(cost['pilot_failed'], 160)})"
        )
    return (
        f"{head}, {cost['seconds_each']:.3g} s each on this machine: at least "
        f"{_duration(cost['seconds'])} {where}; ABC-SMC usually needs several times that, "
        "as acceptance falls"
    )


#: A calibration whose least time (:func:`least_cost`) is longer than this many hours on
#: the workers it will use is refused unless ``allow_long`` (``--allow-long``) is given:
#: a population of 100,000 typed for 1,000 would otherwise run for days with no word.
#: A judgement: the shipped calibration needs at least 70 to 85 s on one worker here,
#: and the real run takes several times the least, so an hour's least is a long job
#: that deserves a deliberate "yes".
LONG_HOURS = 1.0


def check_cost(
    setup: Setup,
    workers: int | None,
    scheduler: str | None,
    allow_long: bool,
    say: Any,
    command: str = "calibrate",
) -> dict[str, Any]:
    """Measure and state the least cost (:func:`least_cost`); refuse a long one.

    Raises:
        UserError: the least time is above :data:`LONG_HOURS` and not ``allow_long``.
    """
    cal = setup.cal
    cost = least_cost(setup, workers, scheduler)
    if say is not None:
        say(cost_statement(setup, cost).replace("calibrate:", f"{command}:", 1))
    long = cost["seconds"] is not None and cost["seconds"] > LONG_HOURS * 3600
    if cost["slots"] is not None and long and not allow_long:
        raise UserError(
            f"{setup.path}: population: {cal.population} particles would take at least "
            f"{_duration(cost['seconds'])} here ({cost['simulations']:,} simulations of "
            f"{cost['seconds_each']:.3g} s on {_workers(cost['slots'])}), more than "
            f"{_duration(LONG_HOURS * 3600)}; lower population, generations or predictive, "
            "or give --allow-long to run it anyway"
        )
    return cost


def quiet_pyabc(progress: bool) -> None:
    """Let pyabc's loggers speak per generation only when ``progress`` is asked for."""
    import pyabc  # noqa: F401  (its import sets its loggers' levels: set them after)

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


def series_runs(setup: Setup, model: str) -> tuple[SeriesRun, ...]:
    """What a fit simulates of each series for ``model``: the fitted years and statistics."""
    mset = setup.models[model]
    runs = []
    for name, part in setup.parts.items():
        years, steps = part.fitted()
        runs.append(
            SeriesRun(mset.bases[name], years, steps, part.scale, part.statistics, part.prefix)
        )
    return tuple(runs)


def distance_of(setup: Setup) -> Any:
    """The distance between simulated and observed summary statistics (``distance:``)."""
    import pyabc

    keys = tuple(setup.observed_stats())
    cal = setup.cal
    if cal.distance == "adaptive_pnorm":
        return pyabc.AdaptivePNormDistance(p=2)
    weights = setup.weights()
    w = tuple(weights[k] for k in keys)
    if all(x == 1.0 for x in w):
        w = None  # a calibration of levels only: the root mean squared error itself
    if cal.distance == "sd_weighted":
        sds = {}
        for part in setup.parts.values():
            sd = part.series.sd
            for st in part.statistics:  # levels only (checked when the file was read)
                sds[st.key(part.prefix)] = float(sd[part.series.years == st.years[0]][0])
        return RMSE(keys, tuple(sds[k] for k in keys), w)
    return RMSE(keys, None, w)


def run_abc(
    setup: Setup, url: str, pool: Any, seed: int, models: Sequence[str] | None = None
) -> tuple[Any, Any]:
    """One ABC-SMC run of the models named (default: the first) on the shared statistics.

    Several models make pyabc's model selection: one population over (model,
    parameters), each model with its own uniform priors, one distance for all (Toni et
    al. 2009; pyabc's ``model_selection`` example). Same seed, same history, on any
    number of workers (:func:`sim.calibration.sampler.seeded_sampler`).

    Returns:
        pyabc's History and the sampler (its failures and simulation count).

    Raises:
        MostFail: more than half a generation's simulations failed.
    """
    from pyabc import ABCSMC, RV, Distribution

    cal = setup.cal
    names = list(models) if models is not None else [next(iter(setup.models))]
    sims = [Simulator(series_runs(setup, m), setup.models[m].integer) for m in names]
    priors = [
        Distribution(
            **{n: RV("uniform", lo, hi - lo) for n, (lo, hi) in setup.models[m].priors.items()}
        )
        for m in names
    ]
    np.random.seed(tree_state(seed, words=4))  # noqa: NPY002
    random.seed(seed)
    sampler = seeded_sampler(seed, pool)
    one = len(names) == 1
    abc = ABCSMC(
        sims[0] if one else sims,
        priors[0] if one else priors,
        distance_of(setup),
        population_size=cal.population,
        sampler=sampler,
    )
    abc.new(url, setup.observed_stats())
    history = abc.run(
        minimum_epsilon=cal.min_epsilon if cal.min_epsilon is not None else 0.0,
        max_nr_populations=cal.generations,
        max_total_nr_simulations=(
            cal.max_simulations if cal.max_simulations is not None else np.inf
        ),
    )
    return history, sampler


def fresh_db(out: Path) -> str:
    """The URL of a fresh ``history.db`` in ``out`` (so pyabc's run id is always 1)."""
    db = out / "history.db"
    url = sqlite_url(db)
    for stale in (db, out / "history.db-journal"):
        stale.unlink(missing_ok=True)
    return url


def stopped(command: str, path: Any, out: Path, exc: MostFail, names: list[str]) -> RunsFailed:
    """Write the failures of a run that most simulations failed; the error to raise."""
    _write_failures(out, exc.failures, names)
    return RunsFailed(
        f"{command} {path}: stopped: {len(exc.failures)} of {exc.tried} simulations "
        f"of generation {exc.failures[-1].call} failed (first: {exc.failures[0].error}); "
        f"every failure is listed in {out / FAILED}, the generations before it are "
        f"in {out / 'history.db'}. Fix the cause (often a prior range where the model "
        "cannot run) and calibrate again"
    )


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


def _write_failures(out: Path, failures: list[Failure], names: list[str]) -> None:
    """List failed simulations in ``failed_runs.csv``: where, parameters, seed, error."""
    rows = []
    for f in failures:
        where = "predictive" if f.call < 0 else f"generation call {f.call}"
        params = f.parameters or {}
        rows.append(
            {
                "stage": where,
                "index": f.index,
                **{n: params.get(n, float("nan")) for n in names},
                "seed": f.seed,
                "error": f.error,
            }
        )
    pd.DataFrame(rows).to_csv(out / FAILED, index=False)


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
