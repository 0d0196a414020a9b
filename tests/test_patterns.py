"""MODEL.md's seven patterns, each a replicated comparison (20 seeds, t 90% intervals).

Slow (about 340 runs). A failing pattern is a finding about the mechanisms,
not a test to loosen: see the verdict text for the measured numbers.
"""

from __future__ import annotations

import pytest

from sim.analysis.validation import pattern_checks

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    out = tmp_path_factory.mktemp("patterns")
    return {c.name.split(":")[0]: c for c in pattern_checks(out, quick=False)}


#: Patterns the model does not show: findings, reported by `nextpractice validate` and
#: docs/validation/report.md, not tests to loosen. Strict, so a pattern that comes back
#: fails here until it is taken off this list (docs/decisions.md, 2026-12-06). Pattern 2
#: came back with the fitted initial spread and the revised mandate (bottom-up's spread
#: between schools 0.119 against top-down's 0.116, 90% interval of the difference above 0).
NOT_SHOWN = {
    2: "bottom-up's spread between schools is not clearly the widest once schools start with "
    "their cohorts' link (0.0009 wider than the others', 90% interval -0.0003 to 0.0021; it "
    "held by 0.001 before, CHANGELOG)",
    3: "next practice does not end clearly above top-down at the defaults (+0.005, 90% "
    "interval -0.005 to 0.014) and the tight-loose optimum is not interior (issue 28: the "
    "model can say no)",
}


@pytest.mark.parametrize(
    "n",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=NOT_SHOWN[n]))
        if n in NOT_SHOWN
        else n
        for n in range(1, 8)
    ],
)
def test_pattern(checks, n):
    """Pattern n of MODEL.md holds over 20 seeds (see the check's verdict)."""
    c = checks[f"Pattern {n}"]
    assert c.passed, c.verdict
