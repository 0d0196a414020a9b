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


def load_script(path: Path):
    """A script shipped outside the package (``scripts/``, ``docs/``), imported as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


@pytest.fixture(scope="session")
def briefing_dirs(tmp_path_factory) -> dict[str, Path]:
    """Small saved results of the three commands a briefing reads (about 15 s, once).

    ``compare`` of the three strategies (60 schools, 24 months, 4 replications, against
    top-down), a robustness sweep of two strategies in 10 worlds, and a two-generation
    calibration; each through the command line, as an analyst would.
    """
    import yaml

    from sim.cli import main

    tmp = tmp_path_factory.mktemp("briefing")
    compare = tmp / "compare"
    assert (
        main(
            [
                "compare",
                "top_down",
                "bottom_up",
                "next_practice",
                "--baseline",
                "top_down",
                "-r",
                "4",
                "--steps",
                "24",
                "--set",
                "n_schools=60",
                "--set",
                "n_authorities=2",
                "--workers",
                "1",
                "--out",
                str(compare),
            ]
        )
        == 0
    )
    rob = tmp / "rob.yaml"
    rob.write_text(
        yaml.safe_dump(
            {
                "description": "two strategies in ten worlds",
                "overrides": {"n_schools": 40, "n_authorities": 2},
                "steps": 12,
                "replications": 1,
                "root_seed": 5,
                "chunk_size": 10,
                "design": {
                    "method": "robustness",
                    "policies": ["top_down", "next_practice"],
                    "worlds": {
                        "n": 10,
                        "factors": ["heads_leave.p_head_leave", "cost_mean", "sd_effect_init"],
                    },
                    "measures": {"final_perf_mean": "max", "points_per_million": "max"},
                    "targets": {"final_perf_mean": {"min": 0.66}},
                },
            }
        )
    )
    assert main(["sweep", str(rob), "--out", str(tmp / "robustness"), "--workers", "1"]) == 0
    cal = tmp / "cal.yaml"
    cal.write_text(
        yaml.safe_dump(
            {
                "scenario": "top_down",
                "overrides": {"n_schools": 40, "n_authorities": 2},
                "observed": {
                    "file": str(ROOT / "sim" / "data" / "ks2_english_level4_england.csv"),
                    "fit_until": 2000,
                },
                "parameters": {"sd_effect_init": None, "init_own_mandated": {"range": [0.2, 0.5]}},
                "population": 8,
                "generations": 2,
                "predictive": 6,
                "seed": 7,
            }
        )
    )
    assert main(["calibrate", str(cal), "--out", str(tmp / "calibration"), "--workers", "1"]) == 0
    return {
        "compare": compare,
        "robustness": tmp / "robustness",
        "calibration": tmp / "calibration",
    }
