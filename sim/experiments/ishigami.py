"""Test support: SALib's Ishigami function dressed as a model of the sweep machinery.

Registered as ``model: ishigami`` (:data:`sim.experiments.MODELS`): its Sobol' indices
are known in closed form, so tests (and users) check the whole sweep-then-analyze
pipeline on known answers, as SALib's own tests do. Not part of the simulation.
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
