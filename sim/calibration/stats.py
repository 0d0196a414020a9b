"""Summary statistics of a series, and the scores of a probabilistic forecast.

**Summary statistics** (what ABC compares; :class:`Statistic`): a series' *level* in a
year, its *gain* between two years (the later value minus the earlier) and its *slope*
over a span of years (the least-squares slope a year of the values in it). Each is in
the series' unit (percentage points, or points a year for a slope), so one distance
serves every series and every story: the statistics of the data mean the same thing
whichever model is asked to reproduce them.

**Forecast scores**: the continuous ranked probability score (CRPS; Gneiting and
Raftery 2007, JASA 102:359, eq. 21) of a predictive sample against what happened, in the
data's unit, lower better; for a point forecast it is the absolute error. And whether
the observation lies in the sample's central 50% and 90% bands (coverage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Statistic:
    """One summary statistic of a series: a level, a gain or a slope over years.

    Attributes:
        kind: ``level``, ``gain`` or ``slope``.
        years: ``(year,)`` for a level; ``(from, to)`` for a gain or a slope.
        weight: The residual's weight in the distance.
    """

    kind: str
    years: tuple[int, ...]
    weight: float = 1.0

    def key(self, prefix: str = "") -> str:
        """Its name in pyabc's summary statistics: ``y1999``, ``gain_1999_2001``..."""
        if self.kind == "level":
            return f"{prefix}y{self.years[0]}"
        return f"{prefix}{self.kind}_{self.years[0]}_{self.years[1]}"

    def value(self, by_year: dict[int, float]) -> float:
        """The statistic of a series given as year -> value (the years it needs present)."""
        if self.kind == "level":
            return by_year[self.years[0]]
        lo, hi = self.years
        if self.kind == "gain":
            return by_year[hi] - by_year[lo]
        x = np.array([y for y in sorted(by_year) if lo <= y <= hi], float)
        v = np.array([by_year[int(y)] for y in x], float)
        return float(np.polyfit(x, v, 1)[0])


def crps_sample(sample: np.ndarray, observed: float) -> float:
    """The empirical CRPS of a predictive sample against one observation.

    ``E|X - y| - E|X - X'| / 2`` over the sample's empirical distribution (Gneiting and
    Raftery 2007, eq. 21), computed from the sorted sample in ``O(m log m)``: with
    ``x_(1) <= ... <= x_(m)``, ``E|X - X'| = 2 / m**2 * sum_i (2 i - m - 1) x_(i)``.
    A sample of one value gives the absolute error.
    """
    x = np.sort(np.asarray(sample, float))
    m = len(x)
    if m == 0 or not np.isfinite(observed) or not np.isfinite(x).all():
        return float("nan")
    first = np.mean(np.abs(x - observed))
    i = np.arange(1, m + 1)
    spread = 2.0 / m**2 * np.sum((2 * i - m - 1) * x)
    return float(first - 0.5 * spread)


def in_band(sample: np.ndarray, observed: float, level: float) -> bool:
    """Whether ``observed`` lies in the sample's central ``level`` band (e.g. 0.9: 5%-95%)."""
    lo, hi = np.quantile(np.asarray(sample, float), [(1 - level) / 2, (1 + level) / 2])
    return bool(lo <= observed <= hi)
