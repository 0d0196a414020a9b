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
    """Mean school performance at the given steps of one run, times ``scale``.

    The model's ``perf_mean`` (mean over schools of the share of pupils at the expected
    standard) is what the KS2 national figure measures, up to school size weights.
    """
    from sim.model.model import NextPracticeModel

    steps = np.asarray(steps, int)
    model = NextPracticeModel(params, rng=int(seed)).run(int(steps.max()))
    perf = model.metrics_frame().set_index("step")["perf_mean"]
    return perf.loc[steps].to_numpy(float) * scale


def _key(year: int) -> str:
    return f"y{int(year)}"


@dataclass
class Simulator:
    """pyabc's model: fitted values -> the simulated series at the fitted years.

    The run's seed comes from numpy's global generator, which :class:`SeededSampler`
    seeds for each candidate from the calibration seed, the sampler call and the
    candidate's index: so a candidate's simulation is the same on any worker.
    """

    base: dict[str, Any]
    integer: tuple[str, ...]
    years: tuple[int, ...]
    steps: tuple[int, ...]
    scale: float

    def __call__(self, theta: Mapping[str, float]) -> dict[str, float]:
        """Simulate one series; the keys are ``y<year>``."""
        # pyabc draws from numpy's global generator; the sampler seeds it per candidate.
        seed = int(np.random.randint(0, 2**62, dtype=np.int64))  # noqa: NPY002
        values = {k: float(v) for k, v in dict(theta).items()}
        try:
            params = apply_values(self.base, values, self.integer)
            y = simulate_series(params, seed, self.steps, self.scale)
        except Exception as exc:  # recorded by the sampler as a failed candidate
            raise SimulationFailed(values, seed, describe(exc)) from exc
        return {_key(yr): float(v) for yr, v in zip(self.years, y, strict=True)}


@dataclass
class RMSE:
    """Root mean squared difference over the fitted years, in the series' unit.

    With ``sd``, each residual is divided by its year's sd first (a chi-like distance).
    """

    keys: tuple[str, ...]
    sd: tuple[float, ...] | None = None

    def __call__(self, x: Mapping[str, float], x0: Mapping[str, float]) -> float:
        """The distance between a simulated (``x``) and the observed (``x0``) series."""
        r = np.array([x[k] - x0[k] for k in self.keys], float)
        if self.sd is not None:
            r = r / np.asarray(self.sd, float)
        return float(np.sqrt(np.mean(r**2)))
