"""A saved posterior as input: load it, draw parameter sets from it, pair the draws.

A calibration (:mod:`sim.calibration`) writes ``posterior.parquet``: weighted particles,
one column per fitted parameter, ``weight`` (summing to 1) and ``generation``. Here
that table becomes input to other runs: :func:`draw` resamples parameter rows in
proportion to their weights (multinomial resampling, seeded), and
:func:`replication_overrides` gives ``compare`` one draw per replication, the same
draw for replication ``r`` in every scenario, so scenario differences stay paired
(common random numbers over both seeds and parameter uncertainty). A robustness
experiment can take its worlds from :func:`draw` in place of the prior ranges.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.errors import UserError
from sim.experiments.seeds import tree_state
from sim.inputs.safe_io import excerpt, read_parquet
from sim.model.params import Params, key_to_set

POSTERIOR = "posterior.parquet"
META_COLUMNS = ("weight", "generation")

# The branch of compare's seed tree for its posterior draws (sim.experiments.seeds: runs
# are branch 0).
_SEED_COMPARE_DRAWS = 19


def load_posterior(path: str | Path) -> pd.DataFrame:
    """Read a posterior: a calibration's output folder or its ``posterior.parquet``.

    Returns:
        The weighted particles: parameter columns, ``weight`` (normalised to sum to 1)
        and ``generation``.

    Raises:
        UserError: no such folder or file, or a table that is not a posterior.
    """
    path = Path(path)
    file = path / POSTERIOR if path.is_dir() else path
    if not file.is_file():
        raise UserError(
            f"{path}: no {POSTERIOR} here; give the output folder of "
            "`nextpractice calibrate` (or its posterior.parquet)"
        )
    post = read_parquet(
        file,
        "a posterior table",
        "give the posterior.parquet that `nextpractice calibrate` wrote, or run it again",
    )
    return check_posterior(post, str(file))


def check_posterior(post: pd.DataFrame, where: str = "posterior") -> pd.DataFrame:
    """Check a posterior table and return it with weights normalised to sum to 1."""
    if "weight" not in post:
        raise UserError(
            f"{where}: no 'weight' column; a posterior has one column per "
            "parameter, weight and generation"
        )
    names = parameter_names(post)
    if not names:
        raise UserError(f"{where}: no parameter columns besides weight and generation")
    for n in names:  # a column under a parameter's former key (before it moved beside its rule)
        hint = key_to_set(n) if n not in Params.model_fields else None
        if hint is not None:
            raise UserError(
                f"{where}: column {n!r} is not a parameter: {hint}; rename the column, or "
                "run `nextpractice calibrate` again"
            )
    if len(post) == 0:
        raise UserError(f"{where}: no particles")
    for column in ("weight", *names):  # text (or dates, lists) cannot be a weight or a value
        if not pd.api.types.is_numeric_dtype(post[column]) or post[column].dtype == bool:
            raise UserError(
                f"{where}: column {excerpt(column)} holds {post[column].dtype} values, not "
                "numbers; a posterior's weight and parameter columns are numbers"
            )
    w = post["weight"].to_numpy(float)
    if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
        raise UserError(f"{where}: weights must be finite, non-negative and not all zero")
    for n in names:
        if not np.isfinite(post[n].to_numpy(float)).all():
            raise UserError(f"{where}: column {n!r} has missing or infinite values")
    post = post.copy()
    post["weight"] = w / w.sum()
    return post


def parameter_names(post: pd.DataFrame) -> list[str]:
    """The parameter columns of a posterior table (all but weight and generation)."""
    return [c for c in post.columns if c not in META_COLUMNS]


def draw(posterior: str | Path | pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` parameter sets drawn from a weighted posterior, with replacement.

    Args:
        posterior: A calibration folder, a ``posterior.parquet`` or the table itself.
        n: How many parameter sets.
        seed: Seed of the draw (numpy ``default_rng``): same seed, same rows.

    Returns:
        ``n`` rows, one column per parameter, index ``0..n-1``.
    """
    post = (
        check_posterior(posterior)
        if isinstance(posterior, pd.DataFrame)
        else load_posterior(posterior)
    )
    if n < 0:
        raise UserError(f"cannot draw {n} parameter sets; give a number of at least 0")
    rng = np.random.default_rng(int(seed))
    idx = rng.choice(len(post), size=int(n), replace=True, p=post["weight"].to_numpy(float))
    return post.iloc[idx][parameter_names(post)].reset_index(drop=True)


def replication_overrides(
    scenarios: Mapping[str, Any],
    replications: int,
    posterior: str | Path | pd.DataFrame,
    root_seed: int,
) -> list[dict[str, float]]:
    """One parameter draw per replication, shared by every scenario (paired).

    Args:
        scenarios: Label -> :class:`sim.model.params.Params`; each must accept the
            posterior's parameters (checked here, so a run never fails later).
        replications: Replications per scenario. The draws of ``n`` replications are
            the first ``n`` of any larger number's (``compare --precision`` adds
            replications and keeps the draws it had).
        posterior: A calibration folder, a ``posterior.parquet`` or the table.
        root_seed: The comparison's root seed; the draw's seed derives from it.

    Returns:
        For each replication ``r``, the parameter values to put on top of every
        scenario's parameters (whole-number parameters rounded).

    Raises:
        UserError: the posterior's parameters do not fit a scenario.
    """
    from sim.model.params import Params

    seed = int(tree_state(root_seed, _SEED_COMPARE_DRAWS)[0])
    rows = draw(posterior, replications, seed).to_dict("records")
    ints = {n for n, f in Params.model_fields.items() if f.annotation is int}
    rows = [{k: (round(v) if k in ints else float(v)) for k, v in r.items()} for r in rows]
    for label, p in scenarios.items():
        for r in rows:
            apply(p, r, f"scenario {label!r} with --posterior")
    return rows


def apply(params: Any, values: Mapping[str, Any], where: str = "posterior draw") -> Any:
    """Parameters with a draw's values on top, validated.

    Raises:
        UserError: a value is not a parameter or is out of its range.
    """
    from sim.model.scenario import validate

    return validate({**params.model_dump(), **dict(values)}, where)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: Any) -> np.ndarray:
    """Quantiles of a weighted sample (the weighted empirical distribution, interpolated)."""
    v = np.asarray(values, float)
    w = np.asarray(weights, float)
    v, w = v[w > 0], w[w > 0]  # a particle of no weight is not part of the distribution
    order = np.argsort(v)
    v, w = v[order], w[order]
    cw = np.cumsum(w) - 0.5 * w
    cw /= w.sum()
    return np.interp(q, cw, v)
