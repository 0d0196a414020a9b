"""Posterior summaries and posterior predictive runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.files import Setup
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


def predictive_seed(seed: int, draw: int, series: int) -> int:
    """The seed of predictive run ``draw`` of the ``series``-th series (62 bits).

    The first series keeps the seed a calibration of one series gives its runs; each
    further series has its own branch of the calibration seed's tree.
    """
    if series == 0:
        return tree_seed(seed, _SEED_PREDICTIVE, draw) >> 1
    return tree_seed(seed, _SEED_PREDICTIVE, draw, series) >> 1


def predictive_runs(
    setup: Setup,
    post: pd.DataFrame,
    pool: Pool,
    model: str | None = None,
    n: int | None = None,
    seed: int | None = None,
) -> tuple[pd.DataFrame, list[Failure]]:
    """Posterior predictive runs at every observed year the model reaches, every series.

    ``n`` (default ``setup.cal.predictive``) parameter rows are drawn from the weighted
    posterior (:func:`sim.experiments.posterior.draw`); each draw runs every series,
    each with its own seed from the calibration seed's tree
    (:func:`predictive_seed`), through the one executor.

    Args:
        setup: The checked calibration.
        post: The weighted posterior of ``model``.
        pool: The executor's pool.
        model: Which model's parameters (default: the first).
        n: How many draws.
        seed: The seed of the draws and runs (default: the calibration's).

    Returns:
        The runs' values by draw, series and year, and the draws whose run failed
        (``call`` -1, ``index`` the draw), which the table leaves out.
    """
    from sim.experiments.posterior import draw

    cal = setup.cal
    mset = setup.models[model] if model is not None else setup.model
    n = cal.predictive if n is None else n
    seed = cal.seed if seed is None else seed
    rows = draw(post, n, tree_state(seed, _SEED_DRAW)[0])
    records = rows.to_dict("records")
    args, where = [], []
    for k, (name, part) in enumerate(setup.parts.items()):
        years, steps = part.reached()
        for i, r in enumerate(records):
            args.append(
                (
                    mset.bases[name],
                    mset.integer,
                    {c: float(v) for c, v in r.items()},
                    predictive_seed(seed, i, k),
                    steps,
                    part.scale,
                )
            )
            where.append((i, name, years))
    done = run_batch(_predict_one, args, pool=pool, progress=False)
    out, failures = [], []
    for a, (i, name, years), got in zip(args, where, done, strict=True):
        if not got.ok:
            failures.append(Failure(-1, i, str(got.error), a[2], a[3]))
            continue
        for yr, v in zip(years, got.value, strict=True):
            out.append(
                {
                    "draw": i,
                    "seed": a[3],
                    **records[i],
                    "series": name,
                    "year": yr,
                    "value": float(v),
                }
            )
    columns = ["draw", "seed", *rows.columns, "series", "year", "value"]
    table = pd.DataFrame(out, columns=columns)
    order = table["series"].map({name: k for k, name in enumerate(setup.parts)})
    table = table.assign(_k=order).sort_values(["draw", "_k", "year"], kind="stable")
    return table.drop(columns="_k").reset_index(drop=True), failures


def predictive_band(pred: pd.DataFrame) -> pd.DataFrame:
    """Per series and year: the posterior predictive quantiles (:data:`QUANTILES`)."""
    keys = ["series", "year"] if "series" in pred else ["year"]
    g = pred.groupby(keys, sort=False)["value"]
    band = pd.DataFrame({f"q{round(q * 100):02d}": g.quantile(q) for q in QUANTILES})
    return band.reset_index()
