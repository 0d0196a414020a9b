"""Test support: models with known answers, dressed as models of the sweep machinery.

Two, registered beside the real model (:data:`sim.experiments.MODELS`), so tests (and
users) check the whole batch pipeline on answers known in closed form, as SALib's own
tests do. Neither is part of the simulation.

- ``model: ishigami``: SALib's Ishigami function, whose Sobol' indices are known;
  optional seeded noise, and a ``strategy`` lever.
- ``model: normal``: an outcome that is normal with a known mean and variance, with
  common random numbers built in (:class:`NormalParams`): the sd of the paired
  difference between two scenarios is known, so the number of replications a
  precision needs is known too (``compare --precision``).
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

# The Ishigami function (Ishigami and Homma 1990), SALib's classic test case. Its
# variance decomposition is known in closed form (a=7, b=0.1: S1 = 0.314, 0.442, 0;
# ST = 0.558, 0.442, 0.244; S13 = 0.244), which lets the tests pin the whole
# sweep-then-analyze pipeline on known answers, as SALib does.


def _x(desc: str) -> Any:
    return Field(
        0.0,
        ge=-math.pi,
        le=math.pi,
        description=desc,
        json_schema_extra={
            "unit": "1",
            "kind": "uncertainty",
            "ref": "Ishigami and Homma 1990",
            "live": False,
            "sweep": [-math.pi, math.pi],
        },
    )


def _setting(default: Any, desc: str, unit: str = "1", **bounds: Any) -> Any:
    extra = {"unit": unit, "kind": "setting", "ref": None, "live": False}
    return Field(default, description=desc, json_schema_extra=extra, **bounds)


class IshigamiParams(BaseModel):
    """Parameters of the Ishigami test model (a stand-in with known Sobol' indices)."""

    model_config = ConfigDict(extra="forbid")

    x1: float = _x("First input; S1 = 0.314 for a=7, b=0.1.")
    x2: float = _x("Second input; acts alone, S1 = ST = 0.442.")
    x3: float = _x("Third input; acts only with x1, S1 = 0, S13 = 0.244.")
    strategy: Literal["plain", "shifted"] = Field(
        "plain",
        description="A categorical lever: 'shifted' adds `shift` to y.",
        json_schema_extra={"unit": "-", "kind": "lever", "ref": None, "live": False},
    )
    a: float = _setting(7.0, "Amplitude of the sin(x2)^2 term.")
    b: float = _setting(0.1, "Weight of the x3^4 sin(x1) interaction.")
    shift: float = _setting(1.0, "What the 'shifted' strategy adds to y.")
    noise_sd: float = _setting(0.0, "Standard deviation of noise added to y.", ge=0.0)
    sleep_s: float = _setting(0.0, "Seconds each run waits (to test interruptions).", "s", ge=0)
    fail_above: float | None = _setting(None, "Runs with x1 above this raise an error.")


#: Outcomes of the Ishigami model.
ISHIGAMI_OUTCOMES = {
    "y": "Ishigami value plus shift and seeded noise.",
    "y_clean": "Ishigami value, deterministic.",
}


def run_ishigami(params: dict[str, Any], seed: int, steps: int | None = None) -> dict[str, float]:
    """Evaluate the Ishigami test model once.

    Args:
        params: Values of :class:`IshigamiParams` fields.
        seed: Seed of the noise draw.
        steps: Ignored; present for the common run-function signature.

    Returns:
        ``{"y": ..., "y_clean": ...}``.

    Raises:
        ValueError: When ``x1`` exceeds ``fail_above`` (a deliberate failure for tests).

    """
    p = IshigamiParams.model_validate(params)
    if p.sleep_s:
        time.sleep(p.sleep_s)
    if p.fail_above is not None and p.x1 > p.fail_above:
        raise ValueError(f"x1={p.x1:.3f} is above fail_above={p.fail_above}")
    clean = math.sin(p.x1) + p.a * math.sin(p.x2) ** 2 + p.b * p.x3**4 * math.sin(p.x1)
    noise = float(np.random.default_rng(seed).normal(0.0, p.noise_sd)) if p.noise_sd else 0.0
    shift = p.shift if p.strategy == "shifted" else 0.0
    return {"y": clean + shift + noise, "y_clean": clean}


# --------------------------------------------------------------------------------------
# A normal outcome of known mean and variance
# --------------------------------------------------------------------------------------


class NormalParams(BaseModel):
    """The normal test model: ``y = effect * mean + sd_shared * Z0 + sd_own * Zk``.

    ``Z0`` and ``Zk`` are standard normals drawn from the run's seed: ``Z0`` from its
    first stream, ``Zk`` from stream ``stream``. Two scenarios (or policies) run on the
    same seed (a replication, common random numbers) share ``Z0``; with different
    ``stream`` values their ``Zk`` are independent, so their paired difference is normal
    with mean ``effect * (mean_a - mean_b)`` and sd ``sd_own * sqrt(2)``, whatever
    ``sd_shared`` is (what pairing cancels). Each seed is its own draw: replications are
    independent. ``effect`` and ``sd_own`` are uncertainties (a robustness design's
    worlds vary them); ``mean`` and ``stream`` are levers (policies may differ in them).
    """

    model_config = ConfigDict(extra="forbid")

    mean: float = Field(
        0.0,
        description="Mean of y when effect is 1.",
        json_schema_extra={"unit": "1", "kind": "lever", "ref": None, "live": False},
    )
    stream: int = Field(
        1,
        ge=1,
        description="Which stream the own noise comes from: policies with different "
        "streams have independent own noise.",
        json_schema_extra={"unit": "-", "kind": "lever", "ref": None, "live": False},
    )
    effect: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="How much of mean shows in y.",
        json_schema_extra={
            "unit": "1",
            "kind": "uncertainty",
            "ref": None,
            "live": False,
            "sweep": [0.0, 1.0],
        },
    )
    sd_own: float = Field(
        0.1,
        ge=0.0,
        description="Sd of the scenario's own noise.",
        json_schema_extra={
            "unit": "1",
            "kind": "uncertainty",
            "ref": None,
            "live": False,
            "sweep": [0.05, 0.5],
        },
    )
    sd_shared: float = _setting(1.0, "Sd of the noise every scenario shares at a seed.", ge=0)


#: Outcomes of the normal test model.
NORMAL_OUTCOMES = {"y": "effect x mean + shared noise + the scenario's own noise."}


def run_normal(params: dict[str, Any], seed: int, steps: int | None = None) -> dict[str, float]:
    """Draw the normal test model's outcome for one seed.

    Args:
        params: Values of :class:`NormalParams` fields.
        seed: The run's seed: the shared draw and the own draw both derive from it.
        steps: Ignored; present for the common run-function signature.

    Returns:
        ``{"y": ...}``.
    """
    p = NormalParams.model_validate(params)
    shared = np.random.default_rng([seed, 0]).standard_normal()
    own = np.random.default_rng([seed, p.stream]).standard_normal()
    return {"y": p.effect * p.mean + p.sd_shared * float(shared) + p.sd_own * float(own)}
