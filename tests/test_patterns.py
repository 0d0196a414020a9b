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


#: Patterns the model does not show at release 0.2.0: findings, reported by `nextpractice
#: validate` and docs/validation/report.md, not tests to loosen. Strict, so a pattern that
#: comes back fails here until it is taken off this list (docs/decisions.md, 2026-12-06).
NOT_SHOWN = {
    2: "bottom-up's spread between schools is no wider than next practice's once effects "
    "are bounded (0.103 against 0.103 at 1,000 schools)",
    3: "next practice does not end above top-down at the defaults once effects are the size "
    "trials find (issue 28: the model can say no)",
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
