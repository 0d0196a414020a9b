"""Every uncertainty declares a plausible sweep range, with a reason, inside its bounds.

Worlds for robustness analysis are drawn from these ranges (issue 18), so an
uncertainty without one cannot be explored, and a range outside the validation
bounds would make a sampled world fail to validate.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim.model.params import Params, field_info, parameter_table

#: Core parameters and those rules and strategies declare (``<rule>.<param>``).
UNCERTAINTIES = [r["name"] for r in parameter_table() if r["kind"] == "uncertainty"]


def test_there_are_uncertainties_to_check():
    assert len(UNCERTAINTIES) > 40


@pytest.mark.parametrize("name", UNCERTAINTIES)
def test_every_uncertainty_has_a_range_with_a_reason(name):
    info = field_info(name)
    assert info.get("sweep"), f"{name} declares no sweep range"
    lo, hi = info["sweep"]
    assert lo < hi, f"{name}: sweep low {lo} is not below high {hi}"
    reason = info.get("sweep_ref") or ""
    assert len(reason.split()) >= 4, f"{name}: the range needs a source or a one-line reason"


@pytest.mark.parametrize("name", UNCERTAINTIES)
def test_every_range_lies_within_the_validation_bounds(name):
    info = field_info(name)
    lo, hi = info["sweep"]
    if info["lo"] is not None:
        assert lo >= info["lo"], f"{name}: sweep low {lo} below the bound {info['lo']}"
    if info["hi"] is not None:
        assert hi <= info["hi"], f"{name}: sweep high {hi} above the bound {info['hi']}"
    # Both ends make a valid parameter set on their own.
    Params(**{name: type(info["default"])(lo)})
    Params(**{name: type(info["default"])(hi)})


def test_params_prints_each_range_and_its_reason():
    out = subprocess.run(
        [sys.executable, "-m", "sim.cli", "params"], capture_output=True, text=True, check=True
    ).stdout
    info = field_info("evidence_review.p_review")
    assert f"sweep: [{info['sweep'][0]}, {info['sweep'][1]}] ({info['sweep_ref']})" in out
