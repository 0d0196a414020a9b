"""Out-of-sample forecasts against naive baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.calibration.files import UNITS, Setup


def logistic(t: np.ndarray, top: float, rate: float, mid: float) -> np.ndarray:
    """The logistic curve ``top / (1 + exp(-rate (t - mid)))`` (the naive S-curve)."""
    return top / (1.0 + np.exp(-rate * (np.asarray(t, float) - mid)))


def naive_forecasts(
    years: np.ndarray, values: np.ndarray, future: np.ndarray, ceiling: float
) -> dict[str, np.ndarray]:
    """Two naive forecasts of ``future`` years from the years up to the cutoff.

    ``last_value``: the last value carried forward. ``logistic``: a logistic curve
    fitted by least squares (``scipy.optimize.curve_fit``) to the same years, with its
    top between the highest value seen and ``ceiling``; NaN if it cannot be fitted
    (fewer than three years, or no convergence).
    """
    from scipy.optimize import curve_fit

    out = {"last_value": np.full(len(future), float(values[np.argmax(years)]))}
    fc = np.full(len(future), np.nan)
    if len(years) >= 3:
        top0 = min(ceiling, float(values.max()) * 1.05)
        lo = [float(values.max()), 1e-3, float(years.min()) - 50]
        hi = [ceiling, 10.0, float(years.max()) + 50]
        p0 = [min(max(top0, lo[0] * 1.0001), hi[0]), 0.5, float(years.min())]
        try:
            par, _ = curve_fit(
                logistic, years.astype(float), values, p0=p0, bounds=(lo, hi), maxfev=20_000
            )
            fc = logistic(future, *par)
        except (RuntimeError, ValueError):
            pass
    out["logistic"] = fc
    return out


def forecast_table(setup: Setup, band: pd.DataFrame) -> pd.DataFrame | None:
    """The out-of-sample forecast of the held-back years (None if none is held back).

    One row per held-back year: observed, the model's predictive median and 90% band,
    whether the observation lies inside it, and the two naive forecasts; then a row
    ``rmse`` with the root mean squared error of each forecast over those years.
    """
    if not setup.held.any():
        return None
    s = setup.series
    cutoff = setup.cal.observed.fit_until
    known = s.years <= cutoff
    fut = s.years[setup.held]
    obs = s.values[setup.held]
    naive = naive_forecasts(s.years[known], s.values[known], fut, UNITS[s.unit])
    b = band.set_index("year").loc[fut]
    t = pd.DataFrame(
        {
            "year": fut.astype(str),
            "observed": obs,
            "model_median": b["q50"].to_numpy(),
            "model_p05": b["q05"].to_numpy(),
            "model_p95": b["q95"].to_numpy(),
        }
    )
    t["in_band_90"] = (t["observed"] >= t["model_p05"]) & (t["observed"] <= t["model_p95"])
    t["last_value"] = naive["last_value"]
    t["logistic"] = naive["logistic"]
    rmse = {
        c: float(np.sqrt(np.mean((t[c].to_numpy(float) - obs) ** 2)))
        for c in ("model_median", "last_value", "logistic")
    }
    row = {
        "year": "rmse",
        "observed": np.nan,
        **rmse,
        "model_p05": np.nan,
        "model_p95": np.nan,
        "in_band_90": bool(t["in_band_90"].all()),
    }
    return pd.concat([t, pd.DataFrame([row])], ignore_index=True)
