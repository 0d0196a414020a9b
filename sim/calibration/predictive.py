"""Posterior summaries and posterior predictive runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.files import UNITS, Setup
from sim.calibration.sampler import _Pool
from sim.calibration.simulate import apply_values, simulate_series
from sim.experiments.posterior import weighted_quantile

#: Posterior predictive quantiles written and drawn (median, 50% and 90% bands).
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


# Namespaces of the seed tree under the calibration seed (the sampler uses call indices
# 0, 1, 2, ... as the first key; the predictive runs and draws sit far above them).
_SEED_PREDICTIVE = 1_000_000


_SEED_DRAW = 1_000_001


def posterior_summary(
    post: pd.DataFrame, priors: Mapping[str, tuple[float, float]]
) -> pd.DataFrame:
    """Per fitted parameter: prior range, weighted median, 5% and 95% quantiles, mean."""
    rows = []
    w = post["weight"].to_numpy(float)
    for name, (lo, hi) in priors.items():
        q05, q50, q95 = weighted_quantile(post[name].to_numpy(), w, (0.05, 0.5, 0.95))
        rows.append(
            {
                "parameter": name,
                "prior_low": lo,
                "prior_high": hi,
                "median": q50,
                "p05": q05,
                "p95": q95,
                "mean": float(np.average(post[name], weights=w)),
                "width90_vs_prior": (q95 - q05) / (0.9 * (hi - lo)),
            }
        )
    return pd.DataFrame(rows)


def _predict_one(
    base: dict[str, Any],
    integer: tuple[str, ...],
    values: dict[str, float],
    seed: int,
    steps: tuple[int, ...],
    scale: float,
) -> np.ndarray:
    return simulate_series(apply_values(base, values, integer), seed, steps, scale)


def predictive_runs(setup: Setup, post: pd.DataFrame, pool: _Pool) -> pd.DataFrame:
    """Posterior predictive runs at every observed year the model reaches.

    ``setup.cal.predictive`` parameter rows are drawn from the weighted posterior
    (:func:`sim.experiments.posterior.draw`), each run with its own seed from the calibration seed.
    """
    from sim.experiments.posterior import draw

    cal = setup.cal
    reach = setup.steps >= 1
    years = tuple(int(y) for y in setup.series.years[reach])
    steps = tuple(int(s) for s in setup.steps[reach])
    rows = draw(
        post,
        cal.predictive,
        np.random.SeedSequence(cal.seed, spawn_key=(_SEED_DRAW,)).generate_state(1)[0],
    )
    seeds = [
        int(
            np.random.SeedSequence(cal.seed, spawn_key=(_SEED_PREDICTIVE, i)).generate_state(
                1, dtype=np.uint64
            )[0]
            >> np.uint64(2)
        )
        for i in range(len(rows))
    ]
    args = [
        (
            setup.base,
            setup.integer,
            {k: float(v) for k, v in r.items()},
            seeds[i],
            steps,
            UNITS[cal.observed.unit],
        )
        for i, r in enumerate(rows.to_dict("records"))
    ]
    if pool.executor is None:
        series = [_predict_one(*a) for a in args]
    else:
        series = [f.result() for f in [pool.executor.submit(_predict_one, *a) for a in args]]
    out = []
    for i, (r, y) in enumerate(zip(rows.to_dict("records"), series, strict=True)):
        for yr, v in zip(years, y, strict=True):
            out.append({"draw": i, "seed": seeds[i], **r, "year": yr, "value": float(v)})
    return pd.DataFrame(out)


def predictive_band(pred: pd.DataFrame) -> pd.DataFrame:
    """Per year: the posterior predictive quantiles (:data:`QUANTILES`) of the value."""
    g = pred.groupby("year")["value"]
    band = pd.DataFrame({f"q{round(q * 100):02d}": g.quantile(q) for q in QUANTILES})
    return band.reset_index()
