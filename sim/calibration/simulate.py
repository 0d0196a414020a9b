"""Simulating the observed series from parameter values, and the distance to the data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.calibration.sampler import SimulationFailed
from sim.experiments.executor import describe


def apply_values(
    base: Mapping[str, Any], values: Mapping[str, float], integer: Sequence[str] = ()
) -> Any:
    """Parameters: the base values with fitted ones on top (whole numbers rounded).

    Raises:
        ValueError: the values make invalid parameters (pydantic's message).
    """
    from sim.model.params import Params

    upd = {k: (round(float(v)) if k in integer else float(v)) for k, v in values.items()}
    return Params.model_validate({**base, **upd})


def simulate_series(params: Any, seed: int, steps: Sequence[int], scale: float) -> np.ndarray:
    """The national result at the given steps of one run, times ``scale``.

    The model's ``perf_mean`` (the share of all pupils at the expected standard, each
    school weighted by its KS2 cohort) is what the KS2 national figure measures.
    """
    from sim.model.model import NextPracticeModel

    steps = np.asarray(steps, int)
    model = NextPracticeModel(params, rng=int(seed)).run(int(steps.max()))
    perf = model.metrics_frame().set_index("step")["perf_mean"]
    return perf.loc[steps].to_numpy(float) * scale


def _key(year: int) -> str:
    return f"y{int(year)}"


@dataclass(frozen=True)
class SeriesRun:
    """What one series' run needs: its parameters, the steps read, its statistics.

    Attributes:
        base: The parameter values (JSON form) of this series' runs.
        years: The years read (the fitted ones, in a fit).
        steps: Their model steps.
        scale: The model's share times this gives the series' unit.
        statistics: The summary statistics computed from the years read.
        prefix: Put before each statistic's key (the series' name and a dot, or empty).
    """

    base: dict[str, Any]
    years: tuple[int, ...]
    steps: tuple[int, ...]
    scale: float
    statistics: tuple[Any, ...]
    prefix: str = ""


@dataclass
class Simulator:
    """pyabc's model: fitted values -> the summary statistics of every series.

    Each series is its own run of the model at the same fitted values (one system,
    its base parameters per series: e.g. a subject's own start date and level), each
    with its own seed. The seeds come from numpy's global generator, which
    :class:`SeededSampler` seeds for each candidate from the calibration seed, the
    sampler call and the candidate's index: so a candidate's simulations are the same
    on any worker. A single series' statistics are those of a calibration of one
    series, drawn from the same seed.
    """

    runs: tuple[SeriesRun, ...]
    integer: tuple[str, ...]

    def __call__(self, theta: Mapping[str, float]) -> dict[str, float]:
        """Simulate every series; the keys are the statistics' (``y1999``, ...)."""
        values = {k: float(v) for k, v in dict(theta).items()}
        out: dict[str, float] = {}
        for run in self.runs:
            # pyabc draws from numpy's global generator; the sampler seeds it per candidate.
            seed = int(np.random.randint(0, 2**62, dtype=np.int64))  # noqa: NPY002
            try:
                params = apply_values(run.base, values, self.integer)
                y = simulate_series(params, seed, run.steps, run.scale)
            except Exception as exc:  # recorded by the sampler as a failed candidate
                raise SimulationFailed(values, seed, describe(exc)) from exc
            by_year = {yr: float(v) for yr, v in zip(run.years, y, strict=True)}
            out.update({st.key(run.prefix): float(st.value(by_year)) for st in run.statistics})
        return out


@dataclass
class RMSE:
    """Root mean squared difference over the summary statistics, in the series' unit.

    With ``sd``, each residual is divided by its statistic's sd first (a chi-like
    distance); with ``weights``, multiplied by its weight. A calibration of one series
    by its levels is the root mean squared error over the fitted years.
    """

    keys: tuple[str, ...]
    sd: tuple[float, ...] | None = None
    weights: tuple[float, ...] | None = None

    def __call__(self, x: Mapping[str, float], x0: Mapping[str, float]) -> float:
        """The distance between simulated (``x``) and observed (``x0``) statistics."""
        r = np.array([x[k] - x0[k] for k in self.keys], float)
        if self.sd is not None:
            r = r / np.asarray(self.sd, float)
        if self.weights is not None:
            r = r * np.asarray(self.weights, float)
        return float(np.sqrt(np.mean(r**2)))
