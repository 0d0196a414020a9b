"""Out-of-sample forecasts against naive baselines, scored by error, CRPS and coverage."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sim.calibration.files import UNITS, SeriesSetup, Setup
from sim.calibration.stats import crps_sample, in_band

#: The naive forecasts, in the order tables show them.
NAIVE = ("last_value", "linear_trend", "logistic")


def logistic(t: np.ndarray, top: float, rate: float, mid: float) -> np.ndarray:
    """The logistic curve ``top / (1 + exp(-rate (t - mid)))`` (the naive S-curve)."""
    return top / (1.0 + np.exp(-rate * (np.asarray(t, float) - mid)))


def naive_forecasts(
    years: np.ndarray, values: np.ndarray, future: np.ndarray, ceiling: float
) -> dict[str, np.ndarray]:
    """Three naive forecasts of ``future`` years from the years up to the cutoff.

    ``last_value``: the last value carried forward. ``linear_trend``: the least-squares
    line through the same years, extended (NaN with fewer than two years).
    ``logistic``: a logistic curve fitted by least squares (``scipy.optimize.curve_fit``)
    to the same years, with its top between the highest value seen and ``ceiling``;
    NaN if it cannot be fitted (fewer than three years, or no convergence).
    """
    from scipy.optimize import OptimizeWarning, curve_fit

    years = np.asarray(years)
    values = np.asarray(values, float)
    future = np.asarray(future)
    out = {"last_value": np.full(len(future), float(values[np.argmax(years)]))}
    trend = np.full(len(future), np.nan)
    if len(years) >= 2:
        slope, intercept = np.polyfit(years.astype(float), values, 1)
        trend = intercept + slope * future.astype(float)
    out["linear_trend"] = trend
    fc = np.full(len(future), np.nan)
    if len(years) >= 3:
        top0 = min(ceiling, float(values.max()) * 1.05)
        lo = [float(values.max()), 1e-3, float(years.min()) - 50]
        hi = [ceiling, 10.0, float(years.max()) + 50]
        p0 = [min(max(top0, lo[0] * 1.0001), hi[0]), 0.5, float(years.min())]
        try:
            with warnings.catch_warnings():  # three points: no covariance, a curve all the same
                warnings.simplefilter("ignore", OptimizeWarning)
                par, _ = curve_fit(
                    logistic, years.astype(float), values, p0=p0, bounds=(lo, hi), maxfev=20_000
                )
            fc = logistic(future, *par)
        except (RuntimeError, ValueError):
            pass
    out["logistic"] = fc
    return out


def score_series(part: SeriesSetup, pred: pd.DataFrame) -> pd.DataFrame:
    """The forecast of one series' held-back years, one row per year, scored.

    Columns: ``series``, ``year``, ``horizon`` (years after the cutoff), ``observed``;
    the model's predictive median, 5%, 25%, 75% and 95% quantiles, whether the
    observation lies in its 50% and 90% bands, its CRPS; each naive forecast
    (:data:`NAIVE`) and its CRPS (a point forecast's: the absolute error). The naive
    forecasts are fitted to the series' years up to the cutoff (those before the
    model's start included).
    """
    s = part.series
    fut = s.years[part.held]
    obs = s.values[part.held]
    known = s.years <= (part.cutoff if part.cutoff is not None else s.years.max())
    naive = naive_forecasts(s.years[known], s.values[known], fut, UNITS[s.unit])
    mine = pred[pred["series"] == part.name] if "series" in pred else pred
    rows = []
    for j, (year, y) in enumerate(zip(fut, obs, strict=True)):
        x = mine.loc[mine["year"] == year, "value"].to_numpy(float)
        q = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95]) if len(x) else [np.nan] * 5
        row = {
            "series": part.name,
            "year": str(int(year)),
            "horizon": int(year - (part.cutoff or year)),
            "observed": float(y),
            "model_median": q[2],
            "model_p05": q[0],
            "model_p25": q[1],
            "model_p75": q[3],
            "model_p95": q[4],
            "in_band_50": bool(len(x)) and in_band(x, y, 0.5),
            "in_band_90": bool(len(x)) and in_band(x, y, 0.9),
            "model_crps": crps_sample(x, y),
        }
        for name in NAIVE:
            row[name] = float(naive[name][j])
            row[f"{name}_crps"] = abs(float(naive[name][j]) - float(y))
        rows.append(row)
    return pd.DataFrame(rows)


def forecast_table(setup: Setup, pred: pd.DataFrame) -> pd.DataFrame | None:
    """The out-of-sample forecast of every series' held-back years (None if none is).

    Per series: one row per held-back year (:func:`score_series`), then a row with
    ``year`` ``rmse``: each forecast's root mean squared error over those years (the
    model's of its median), the share of years in each band, and the mean CRPS.
    """
    parts = [p for p in setup.parts.values() if p.held.any()]
    if not parts:
        return None
    out = []
    for part in parts:
        t = score_series(part, pred)
        obs = t["observed"].to_numpy(float)
        row: dict[str, object] = {"series": part.name, "year": "rmse", "observed": np.nan}
        for c in ("model_median", *NAIVE):
            row[c] = float(np.sqrt(np.mean((t[c].to_numpy(float) - obs) ** 2)))
        for c in ("model_p05", "model_p25", "model_p75", "model_p95"):
            row[c] = np.nan
        row["in_band_50"] = bool(t["in_band_50"].all())
        row["in_band_90"] = bool(t["in_band_90"].all())
        for c in ("model_crps", *(f"{n}_crps" for n in NAIVE)):
            row[c] = float(t[c].mean())
        out += [t, pd.DataFrame([row])]
    table = pd.concat(out, ignore_index=True)
    table["horizon"] = table["horizon"].astype("Int64")
    return table
