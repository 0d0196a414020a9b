"""The ABC-SMC machinery a fit and a model selection share.

The run, its database, its cost and its failures, for :mod:`sim.calibration.fit` and
:mod:`sim.calibration.selection` alike.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.files import Setup
from sim.calibration.sampler import Failure, MostFail, seeded_sampler
from sim.calibration.simulate import RMSE, SeriesRun, Simulator
from sim.core.errors import RunsFailed, UserError
from sim.experiments.seeds import tree_state
from sim.inputs.safe_io import excerpt

#: The table of a calibration's failed simulations, beside its results.

#: The table of a calibration's failed simulations, beside its results.
FAILED = "failed_runs.csv"


def generations_table(history: Any) -> pd.DataFrame:
    """Each generation's tolerance, simulations, accepted particles and acceptance rate."""
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
    return gens


def _history_tables(
    history: Any, names: Sequence[str], m: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    gens = generations_table(history)
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

    from sim.calibration.transition import FewParticlesTransition

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
        transitions=[FewParticlesTransition() for _ in names],
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
