"""Honest forecasts: fit to each origin, forecast the years after it, score every forecast.

One held-back split says little: a model may beat a naive forecast on three years by
luck. A rolling origin (Tashman 2000, Int J Forecasting 16:437) fits the calibration
again up to each origin year ``t`` (every series' ``fit_until`` set to ``t``) and
forecasts ``t + 1`` to ``t + horizon``, then moves ``t`` on; the scores are averaged
over origins. Each forecast is scored by the continuous ranked probability score of the
posterior predictive sample (CRPS; Gneiting and Raftery 2007, JASA 102:359: lower is
better, in the data's unit) and by whether the observation lies in its central 50% and
90% bands (coverage; a calibrated forecast covers about 50% and 90%). Three naive
forecasts fitted to the same years stand beside it: the last value carried forward, a
linear trend and a logistic curve (:func:`sim.calibration.forecast.naive_forecasts`);
each is a point forecast, whose CRPS is its absolute error. The table is reported
whatever it shows.

A gain or slope statistic that runs past an origin is cut to the fitted years, or left
out when fewer than two remain (the notes say which), so every origin compares the
same kinds of statistic on what was known at the time.

Outputs (one folder): ``origin_<t>/`` (each fit's files, as ``calibrate`` writes them);
``scores.csv`` (one row per origin, series and forecast year); ``summary.csv`` (mean
CRPS of the model and of each naive forecast, and the model's coverage, by series and
horizon, by series, and over everything); ``scores.png``; ``summary.json``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.files import Setup, prepare, resized
from sim.calibration.forecast import NAIVE
from sim.core.errors import UserError
from sim.inputs.folders import shown, writable_dir

#: The small form (``--quick``): particles, generations, predictive runs, origins.
QUICK = {"population": 12, "generations": 2, "predictive": 20, "origins": 2}


@dataclass
class Rolling:
    """What a rolling-origin forecast wrote, in memory.

    Attributes:
        out: The output folder.
        scores: One row per origin, series and forecast year.
        summary: Mean scores by series and horizon, by series, and overall.
        origins: The origins fitted.
        seconds: Wall time.
    """

    out: Path
    scores: pd.DataFrame
    summary: pd.DataFrame
    origins: list[int]
    seconds: float


def _quick(setup: Setup) -> Setup:
    """The setup with the small settings of :data:`QUICK` (not for citing)."""
    small = {k: min(getattr(setup.cal, k), v) for k, v in QUICK.items() if k != "origins"}
    setup.cal = setup.cal.model_copy(update=small)
    return setup


def plan(
    path: str | Path,
    origins: list[int] | None = None,
    horizon: int | None = None,
    quick: bool = False,
    sizes: dict[str, int | None] | None = None,
) -> tuple[list[int], int, list[Setup]]:
    """The origins, the horizon and each origin's checked setup.

    Origins and horizon come from the arguments, else the file's ``rolling:``; ``sizes``
    (population, generations, predictive) replace the file's
    (:func:`sim.calibration.files.resized`), before ``quick`` makes them smaller still.

    Raises:
        UserError: no origins; a model selection file; an origin that leaves a series
            with no fitted year (naming the origin and the fix).
    """
    path = Path(path)
    first = resized(prepare(path), **(sizes or {}))
    cal = first.cal
    if cal.models is not None:
        raise UserError(
            f"{path}: models: a rolling-origin forecast fits one model; give a calibration "
            "file without models: (the stories' own predictive checks are in calibrate's "
            "output)"
        )
    if origins is None:
        if cal.rolling is None:
            raise UserError(
                f"{path}: rolling: missing; add rolling: {{origins: [2001, 2002, 2003], "
                "horizon: 5}, or give --origins"
            )
        origins = list(cal.rolling.origins)
    if horizon is None:
        horizon = cal.rolling.horizon if cal.rolling is not None else 5
    origins = sorted(dict.fromkeys(int(t) for t in origins))
    if quick:
        origins = origins[: QUICK["origins"]]
    setups = []
    for t in origins:
        try:
            setup = resized(prepare(path, origin=t, horizon=horizon), **(sizes or {}))
        except UserError as exc:
            raise UserError(
                f"{path}: rolling origin {t}: {str(exc).removeprefix(f'{path}: ')}; "
                "choose later origins"
            ) from None
        if not any(p.held.any() for p in setup.parts.values()):
            raise UserError(
                f"{path}: rolling origin {t}: no observed year after it within {horizon} "
                "years; choose earlier origins"
            )
        setups.append(_quick(setup) if quick else setup)
    return origins, horizon, setups


def summarise(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean scores by series and horizon, by series, and over everything.

    Each row: how many forecasts, the mean CRPS of the model and of each naive forecast,
    the model's coverage of its 50% and 90% bands, and the best (lowest mean CRPS).
    """
    crps = ["model_crps", *(f"{n}_crps" for n in NAIVE)]

    def row(g: pd.DataFrame, series: str, horizon: Any) -> dict[str, Any]:
        means = {c: float(g[c].mean()) for c in crps}
        finite = {c: v for c, v in means.items() if np.isfinite(v)}
        best = min(finite, key=finite.get).removesuffix("_crps") if finite else ""
        return {
            "series": series,
            "horizon": horizon,
            "n": int(len(g)),
            **means,
            "coverage_50": float(g["in_band_50"].mean()),
            "coverage_90": float(g["in_band_90"].mean()),
            "best": best,
        }

    rows = []
    for series, g in scores.groupby("series", sort=False):
        for h, gh in g.groupby("horizon"):
            rows.append(row(gh, str(series), int(h)))
        rows.append(row(g, str(series), "all"))
    rows.append(row(scores, "all", "all"))
    return pd.DataFrame(rows)


def rolling(
    path: str | Path,
    out: str | Path | None = None,
    origins: list[int] | None = None,
    horizon: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    quick: bool = False,
    progress: bool = False,
    allow_failures: bool = False,
    allow_long: bool = False,
    say: Any = None,
    sizes: dict[str, int | None] | None = None,
) -> Rolling:
    """Fit the calibration at each origin, forecast the horizon, score against naive ones.

    Args:
        path: A calibration file (one model, one or several series).
        out: Output folder (default ``runs/forecast_<file stem>``).
        origins: Last fitted years (default: the file's ``rolling.origins``).
        horizon: Years forecast after each origin (default: the file's, or 5).
        workers: Worker processes.
        scheduler: A Dask scheduler's address.
        quick: The small form (:data:`QUICK`): a test of the machinery, not a result.
        progress: Log pyabc's progress.
        allow_failures: Accept failed simulations.
        allow_long: Run even when the least time is above an hour.
        say: Called with the cost statement before any fit.
        sizes: ``population``, ``generations`` or ``predictive`` in place of the file's.

    Raises:
        UserError: a bad file or origin, or a least time above an hour without
            ``allow_long``.
    """
    from sim.calibration.fit import LONG_HOURS, _duration, calibrate, cost_statement, least_cost

    path = Path(path)
    origins, horizon, setups = plan(path, origins, horizon, quick, sizes)
    out = writable_dir(out or Path("runs") / f"forecast_{path.stem}")
    cost = least_cost(setups[0], workers, scheduler)
    n = len(setups)
    total = None if cost["seconds"] is None else cost["seconds"] * n
    if say is not None:
        line = cost_statement(setups[0], cost).replace("calibrate:", "forecast: each of", 1)
        say(
            f"{line}. {n} origins ({', '.join(map(str, origins))}): at least "
            + (f"{_duration(total)} in all" if total is not None else "n/a")
            + (" (--quick: a test of the machinery, not a result)" if quick else "")
        )
    if cost["slots"] is not None and total is not None and total > LONG_HOURS * 3600:
        if not allow_long:
            raise UserError(
                f"{path}: rolling: {n} fits would take at least {_duration(total)} here, "
                f"more than {_duration(LONG_HOURS * 3600)}; give fewer origins, --quick, "
                "or --allow-long to run it anyway"
            )
    t0 = time.perf_counter()
    tables = []
    for t, setup in zip(origins, setups, strict=True):
        res = calibrate(
            path,
            out / f"origin_{t}",
            workers,
            scheduler,
            progress=progress,
            allow_failures=allow_failures,
            allow_long=True,  # the whole was stated and checked above
            setup=setup,
        )
        if res.forecast is not None:
            f = res.forecast[res.forecast["year"].astype(str).str.isdigit()]
            tables.append(f.assign(origin=t, year=f["year"].astype(int)))
    scores = pd.concat(tables, ignore_index=True)
    first = ["origin", "series", "year", "horizon"]
    scores = scores[first + [c for c in scores.columns if c not in first]]
    summary = summarise(scores)
    seconds = time.perf_counter() - t0
    scores.to_csv(out / "scores.csv", index=False)
    summary.to_csv(out / "summary.csv", index=False)
    data = {
        "calibration_file": str(path),
        "origins": origins,
        "horizon": horizon,
        "quick": quick,
        "settings": {
            k: getattr(setups[0].cal, k) for k in ("population", "generations", "predictive")
        },
        "notes": {str(t): s.notes for t, s in zip(origins, setups, strict=True)},
        "summary": summary.to_dict("records"),
        "least_cost_each": cost,
        "seconds_total": round(seconds, 1),
    }
    (out / "summary.json").write_text(json.dumps(data, indent=1, default=str))
    from sim.analysis.plots_calibration import rolling_figure

    rolling_figure(summary, out / "scores.png", path.stem)
    return Rolling(out, scores, summary, origins, seconds)


def report(res: Rolling) -> str:
    """The text ``nextpractice forecast`` prints: the summary table."""
    lines = [
        f"rolling-origin forecast from {len(res.origins)} origins "
        f"({', '.join(map(str, res.origins))}): mean CRPS (lower is better; a naive point "
        "forecast's is its absolute error) and the model's coverage of its 50% and 90% bands",
        res.summary.to_string(index=False, float_format=lambda x: f"{x:.3g}"),
        f"took {res.seconds:.0f} s; wrote {shown(res.out)}/scores.csv, summary.csv, "
        "scores.png, summary.json and origin_*/",
    ]
    return "\n".join(lines)
