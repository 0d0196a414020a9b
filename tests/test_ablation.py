"""docs/robustness/ablation.py (the ablation table of docs/robustness.md) runs, small.

At a tiny size (40 schools, 3 seeds, two years) in a few seconds; its shipped size stays
300 schools and 16 paired seeds, as its docstring says.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import ROOT, load_script

SCRIPT = ROOT / "docs" / "robustness" / "ablation.py"


@pytest.fixture(scope="module")
def ablation():
    return load_script(SCRIPT)


def test_the_shipped_size_is_the_one_its_docstring_gives(ablation):
    assert (ablation.N_SCHOOLS, ablation.N_AUTHORITIES, ablation.N_SEEDS) == (300, 4, 16)
    assert "300 schools, 16 paired seeds" in ablation.__doc__


def test_the_ablation_table_has_its_columns_and_signs(ablation, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # the script runs from the repository root
    table = ablation.main(
        ["--schools", "40", "--authorities", "2", "--seeds", "3", "--steps", "24"]
    )
    assert tuple(table.columns) == ablation.COLUMNS
    assert list(table["configuration"]) == list(ablation.CASES)
    assert np.isfinite(table.drop(columns="configuration").to_numpy(float)).all()
    rows = table.set_index("configuration")
    # Next practice against itself: the same seeds, so exactly no difference.
    ref = rows.loc[ablation.REFERENCE]
    assert (ref["minus_next_practice"], ref["lo"], ref["hi"]) == (0.0, 0.0, 0.0)
    # Each difference is the mean of its paired differences, inside its interval.
    means = rows["final_perf_mean"] - ref["final_perf_mean"]
    assert np.allclose(rows["minus_next_practice"], means)
    assert (rows["lo"] <= rows["minus_next_practice"] + 1e-12).all()
    assert (rows["minus_next_practice"] <= rows["hi"] + 1e-12).all()
    assert ((rows["final_perf_mean"] > 0) & (rows["final_perf_mean"] < 1)).all()
    # Spending counts money, and a centre with no budget spends none of it.
    assert (rows["spend_public"] >= rows["spend_centre"]).all() and (
        rows["spend_centre"] >= 0
    ).all()
    assert rows.loc["np, centre budget 0", "spend_centre"] == 0.0
    assert rows.loc[ablation.REFERENCE, "spend_centre"] > 0.0
    # One printed line per configuration, with its difference and interval.
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(ablation.CASES)
    for line, r in zip(lines, table.itertuples(index=False), strict=True):
        assert line.startswith(r.configuration)
        assert f"{r.minus_next_practice:+.3f} [{r.lo:+.3f}, {r.hi:+.3f}]" in line


def test_an_interval_needs_two_seeds(ablation):
    with pytest.raises(SystemExit):
        ablation.main(["--seeds", "1"])
