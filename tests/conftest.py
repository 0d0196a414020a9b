"""Shared helpers for the tests: small systems that run in well under a second."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from sim.model.model import NextPracticeModel
from sim.model.params import Params

# An "unexpected error" is a bug behind a polite line (sim.cli._unexpected). In the tests it
# is raised with its traceback instead, in this process and in the commands tests start, so
# a bug that a user would see as one line fails the test that met it (issue 30).
os.environ["NEXTPRACTICE_DEBUG"] = "1"

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
