"""Baseline regression: one canonical run compared with a stored summary.

Only ``scripts/update_baseline.py`` rewrites the stored file; a change that
moves these numbers must say why in its commit.
"""

import json
from pathlib import Path

import pytest

from sim.experiments.runner import run_model
from sim.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
STORED = ROOT / "tests" / "baseline" / "next_practice.json"
KEYS = (
    "perf_mean",
    "perf_sd",
    "gap",
    "practices_in_use",
    "frontier",
    "ownership",
    "capacity",
    "ties",
    "collaboratives",
    "invented",
)


def baseline_summary() -> dict:
    """The canonical run: next_practice.yaml at 300 schools, 60 steps, seed 2024."""
    p = load_scenario(
        ROOT / "scenarios" / "next_practice.yaml", {"n_schools": 300, "n_authorities": 4}
    )
    res = run_model(p, seed=2024, steps=60)
    m = res.metrics
    return {f"{k}@{s}": float(m[k].iloc[s]) for k in KEYS for s in (12, 36, 60)}


def test_baseline_matches_stored_summary():
    stored = json.loads(STORED.read_text())
    now = baseline_summary()
    assert set(now) == set(stored)
    for k, v in stored.items():
        assert now[k] == pytest.approx(v, rel=1e-9, abs=1e-12), k
