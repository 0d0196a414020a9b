"""The validation suite runs in its quick form and writes its report."""

from __future__ import annotations

from sim.analysis.validation import run_validation


def test_quick_validation(tmp_path):
    """Quick validation writes report.md with figures; the known-answer checks pass.

    Pattern checks (MODEL.md's seven patterns) are asserted in
    tests/test_patterns.py with more replications; here their verdicts are
    only required to appear in the report.
    """
    run_validation(tmp_path, quick=True)
    report = (tmp_path / "report.md").read_text()
    for name in ("Bass", "SI on the complete graph", "Watts", "Centola", "Rogers"):
        line = next(
            ln
            for ln in report.splitlines()[
                report.splitlines().index(
                    next(h for h in report.splitlines() if h.startswith("## ") and name in h)
                )
                + 2 :
            ]
        )
        assert line.startswith("**PASS**"), line
    for n in range(1, 8):
        assert f"Pattern {n}" in report
    assert (tmp_path / "bass.png").exists() and (tmp_path / "watts.png").exists()
