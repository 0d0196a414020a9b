"""Posterior summaries and posterior predictive runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.files import UNITS, Setup
from sim.calibration.sampler import Failure
from sim.calibration.simulate import apply_values, simulate_series
from sim.experiments.executor import Pool, run_batch
from sim.experiments.posterior import weighted_quantile
from sim.experiments.seeds import tree_seed, tree_state

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


def predictive_runs(
    setup: Setup, post: pd.DataFrame, pool: Pool
) -> tuple[pd.DataFrame, list[Failure]]:
    """Posterior predictive runs at every observed year the model reaches.

    ``setup.cal.predictive`` parameter rows are drawn from the weighted posterior
    (:func:`sim.experiments.posterior.draw`), each run with its own seed from the
    calibration seed's tree (:mod:`sim.experiments.seeds`), through the one executor.

    Returns:
        The runs' values by draw and year, and the draws whose run failed (``call`` -1,
        ``index`` the draw), which the table leaves out.
    """
    from sim.experiments.posterior import draw

    cal = setup.cal
    reach = setup.steps >= 1
    years = tuple(int(y) for y in setup.series.years[reach])
    steps = tuple(int(s) for s in setup.steps[reach])
    rows = draw(post, cal.predictive, tree_state(cal.seed, _SEED_DRAW)[0])
    # 62 bits (the tree's 63 halved again): below 2**62, as a fit candidate's seed is.
    seeds = [tree_seed(cal.seed, _SEED_PREDICTIVE, i) >> 1 for i in range(len(rows))]
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
    done = run_batch(_predict_one, args, pool=pool, progress=False)
    out, failures = [], []
    for i, (r, got) in enumerate(zip(rows.to_dict("records"), done, strict=True)):
        if not got.ok:
            failures.append(Failure(-1, i, str(got.error), args[i][2], seeds[i]))
            continue
        for yr, v in zip(years, got.value, strict=True):
            out.append({"draw": i, "seed": seeds[i], **r, "year": yr, "value": float(v)})
    columns = ["draw", "seed", *rows.columns, "year", "value"]
    return pd.DataFrame(out, columns=columns), failures


def predictive_band(pred: pd.DataFrame) -> pd.DataFrame:
    """Per year: the posterior predictive quantiles (:data:`QUANTILES`) of the value."""
    g = pred.groupby("year")["value"]
    band = pd.DataFrame({f"q{round(q * 100):02d}": g.quantile(q) for q in QUANTILES})
    return band.reset_index()
