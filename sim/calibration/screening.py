"""Which parameters a calibration fits: the leaders of a Morris screening, by a stated rule.

The joint fit of Key Stage 2 English and mathematics
(``experiments/calibrate_ks2_joint.yaml``) fits the uncertainties a Morris screening of
every uncertainty (``experiments/ks2_screen_morris.yaml``) finds most influential on
what the fit compares: the rise (``gain_first_2y``), the later slope (``gain_last_5y``)
and the level (``final_perf_mean``). :func:`leaders` applies the rule to the screening's
``morris_indices.csv`` (``nextpractice analyze``), so a test can check that the file
fits what the screening chose, and says so when a re-run of the screening (after the
model changes) chooses otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

#: The outcomes whose leaders are fitted: the rise, the later slope and the level.
OUTCOMES = ("gain_first_2y", "gain_last_5y", "final_perf_mean")


def leaders(indices: pd.DataFrame, outcomes: Sequence[str] = OUTCOMES, k: int = 3) -> list[str]:
    """The factors in the top ``k`` by mu* of any of ``outcomes``, clear of the noise floor.

    Args:
        indices: A Morris screening's table (``outcome``, ``factor``, ``mu_star`` and,
            from ``nextpractice analyze``, ``clear``: mu* above the seed-noise floor).
        outcomes: The outcomes whose leaders count.
        k: How many leaders of each.

    Returns:
        The factors, the most influential first (by their largest mu* over ``outcomes``
        relative to that outcome's largest).
    """
    chosen: dict[str, float] = {}
    for outcome in outcomes:
        rows = indices[indices["outcome"] == outcome]
        if "clear" in rows:
            rows = rows[rows["clear"].astype(bool)]
        if rows.empty:
            continue
        top = rows.sort_values("mu_star", ascending=False, kind="stable").head(k)
        best = float(rows["mu_star"].max())
        for r in top.itertuples():
            chosen[r.factor] = max(chosen.get(r.factor, 0.0), float(r.mu_star) / best)
    return sorted(chosen, key=lambda f: -chosen[f])
