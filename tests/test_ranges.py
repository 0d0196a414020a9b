"""Every uncertainty declares a plausible sweep range, with a reason, inside its bounds.

Worlds for robustness analysis are drawn from these ranges (issue 18), so an
uncertainty without one cannot be explored, and a range outside the validation
bounds would make a sampled world fail to validate.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim.model.basis import param_basis, reason_of
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
def test_every_range_cites_a_source_or_says_it_is_a_judgement(name):
    """A world varies each uncertainty over a range whose reason is sourced or a judgement.

    The house rule (issue 28, item 4), read by sim.model.basis: the reason cites something a
    reader can look up, or says plainly that the range is a judgement and why.
    """
    basis = param_basis(field_info(name))
    assert basis in ("sourced", "judgement"), (
        f"{name}: its range's reason {reason_of(field_info(name))!r} neither cites a source "
        "nor says it is a judgement; fix its sweep_ref (sim/model/params.py, or the rule's "
        "params under sim/rules/): cite what gives the range (author year, 'seed 00N', a "
        "catalogue id, docs/sources.md) or write 'a judgement: <why this range>'"
    )


def test_the_robustness_page_quotes_todays_counts_of_range_bases():
    """docs/robustness.md states today's counts of how the uncertainties' ranges are based.

    A range's reason rewritten, or an uncertainty added, changes them. They are read from
    ``nextpractice params --basis`` in a fresh process: other tests register plug-in rules
    (with their own uncertainties) in this one.
    """
    import re
    from pathlib import Path

    out = subprocess.run(
        [sys.executable, "-m", "sim.cli", "params", "--basis"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    m = re.search(
        r"Ranges of the (\d+) uncertainties, by their reason: (\d+) sourced, (\d+) "
        r"judgement, (\d+) neither",
        out,
    )
    assert m, out[-300:]
    n, sourced, judgement, neither = m.groups()
    assert int(n) == len(UNCERTAINTIES)
    text = " ".join((Path(__file__).parents[1] / "docs" / "robustness.md").read_text().split())
    quoted = (
        f"over all {n} uncertainties: {sourced} sourced, {judgement} judgement, {neither} neither"
    )
    assert quoted in text, f"docs/robustness.md should say '{quoted}' (nextpractice params)"


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
