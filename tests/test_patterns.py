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


@pytest.mark.parametrize("n", range(1, 8))
def test_pattern(checks, n):
    """Pattern n of MODEL.md holds over 20 seeds (see the check's verdict)."""
    c = checks[f"Pattern {n}"]
    assert c.passed, c.verdict
