"""Shared helpers for the tests: small systems that run in well under a second."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.model.model import NextPracticeModel
from sim.model.params import Params

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def small(**kw) -> Params:
    """A 200-school system in 4 authorities, with overrides."""
    base = {"n_schools": 200, "n_authorities": 4, "n_steps": 60}
    base.update(kw)
    return Params(**base)


def mean_over_seeds(metric: str, steps: int, seeds=range(6), at: int = -1, **kw) -> float:
    """Mean of a metric at a step over several seeds (common random numbers)."""
    vals = []
    for s in seeds:
        m = NextPracticeModel(small(**kw), rng=s).run(steps)
        vals.append(m.metrics_frame()[metric].iloc[at])
    return float(np.mean(vals))


@pytest.fixture
def model() -> NextPracticeModel:
    """A small next-practice model, not yet stepped."""
    return NextPracticeModel(small(), rng=7)
