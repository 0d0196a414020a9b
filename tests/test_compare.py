"""compare: a list design run by the sweep machinery, with paired differences (issue 20, 21)."""

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.experiments.comparison import paired_differences, summarise
from sim.experiments.sweep import load_results, run_sweep
from sim.model.scenario import load_scenario

SMALL = [
    "--set",
    "n_schools=80",
    "--set",
    "n_authorities=2",
    "--steps",
    "6",
    "--replications",
    "3",
    "--workers",
    "1",
]


def test_compare_is_a_sweep_folder_with_its_own_files(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "bottom_up", "top_down", *SMALL, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    # The table keeps the order the scenarios were given, each cell "mean [interval]".
    header = next(line for line in text.splitlines() if "bottom_up" in line)
    assert header.index("bottom_up") < header.index("top_down")
    assert "final_perf_mean" in text and " [" in text
    for name in ("runs.parquet", "outcomes.csv", "summary.csv", "compare.png"):
        assert f"wrote {out / name}" in text
    res = load_results(out)  # the sweep's results format, readable by analyze
    assert res["scenario"].tolist() == ["bottom_up"] * 3 + ["top_down"] * 3
    assert (res["status"] == "ok").all()
    s = pd.read_csv(out / "summary.csv")
    assert {"mean", "p05", "p95", "ci_lo", "ci_hi", "n"} <= set(s.columns)
    s = s.dropna(subset=["mean"])  # 6 steps: too short for the plateau measures
    assert len(s) > 10
    assert (s["ci_lo"] <= s["mean"]).all() and (s["mean"] <= s["ci_hi"]).all()


def test_a_scenario_against_itself_differs_by_exactly_nothing(tmp_path, capsys):
    """Replications share seeds: the same scenario under two names pairs to zero difference."""
    twin = tmp_path / "twin.yaml"
    twin.write_text("extends: top_down\n")
    out = tmp_path / "cmp"
    assert (
        main(
            ["compare", "top_down", str(twin), *SMALL, "--baseline", "top_down", "--out", str(out)]
        )
        == 0
    )
    d = pd.read_csv(out / "differences.csv")
    assert set(d["scenario"]) == {"twin"}
    finite = d.dropna(subset=["mean_diff"])  # 6 steps: too short for the plateau measures
    assert len(finite) > 10 and (finite["n"] == 3).all()
    assert (finite["mean_diff"] == 0).all() and (finite["ci_hi"] - finite["ci_lo"] == 0).all()
    assert "paired difference from top_down" in capsys.readouterr().out


def test_a_bad_baseline_is_refused_before_running(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert (
        main(
            [
                "compare",
                "top_down",
                "bottom_up",
                *SMALL,
                "--baseline",
                "next_practice",
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert "--baseline 'next_practice'" in capsys.readouterr().err
    assert not (out / "results").exists()


def test_paired_differences_known_answer():
    per_run = pd.DataFrame(
        {
            "scenario": ["a"] * 3 + ["b"] * 3,
            "replication": [0, 1, 2] * 2,
            "seed": [7, 8, 9] * 2,
            "y": [1.0, 2.0, 3.0, 2.0, 4.0, 6.0],
        }
    )
    d = paired_differences(per_run, "a").iloc[0]
    # differences 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.3027
    assert d["mean_diff"] == 2.0 and d["n"] == 3
    assert d["ci_hi"] - 2.0 == pytest.approx(4.302653 / np.sqrt(3), rel=1e-5)
    s = summarise(per_run).set_index("scenario").loc["b"]
    assert s["mean"] == 4.0 and s["ci_hi"] - 4.0 == pytest.approx(
        2 * 4.302653 / np.sqrt(3), rel=1e-5
    )


def test_a_grid_sweep_row_and_compare_give_the_same_runs(tmp_path):
    """Common random numbers: the base scenario is the same runs in a grid sweep and in compare."""
    base = load_scenario("top_down")
    exp = {
        "root_seed": 4,
        "scenario": "top_down",
        "replications": 3,
        "steps": 6,
        "overrides": {"n_schools": 80, "n_authorities": 2},
        "design": {"method": "grid", "factors": {"tightness": {"values": [0.95, base.tightness]}}},
    }
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(exp))
    sweep = load_results(
        run_sweep(tmp_path / "e.yaml", tmp_path / "sweep", workers=1, progress=False)
    )
    row = sweep[sweep["design_row"] == 1].reset_index(drop=True)
    out = tmp_path / "cmp"
    assert main(["compare", "top_down", *SMALL, "--seed", "4", "--out", str(out)]) == 0
    cmp = load_results(out)
    assert row["seed"].tolist() == cmp["seed"].tolist()
    pd.testing.assert_series_equal(row["final_perf_mean"], cmp["final_perf_mean"])
    assert not np.isnan(row["final_perf_mean"]).any()
    # ... and the other grid row, at another tightness, ran on the very same seeds.
    assert sweep[sweep["design_row"] == 0]["seed"].tolist() == row["seed"].tolist()


def test_uncommon_seeds_differ_between_rows(tmp_path):
    exp = {
        "root_seed": 4,
        "replications": 2,
        "steps": 3,
        "seeds": {"common": False},
        "overrides": {"n_schools": 60, "n_authorities": 2},
        "design": {"method": "grid", "factors": {"tightness": {"values": [0.2, 0.8]}}},
    }
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(exp))
    res = load_results(run_sweep(tmp_path / "e.yaml", tmp_path / "s", workers=1, progress=False))
    assert res["seed"].nunique() == 4


def test_a_different_comparison_replaces_the_last_one(tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", "top_down", *SMALL, "--out", str(out)]) == 0
    assert main(["compare", "bottom_up", *SMALL, "--out", str(out)]) == 0
    assert set(load_results(out)["scenario"]) == {"bottom_up"}
    assert set(pd.read_parquet(out / "runs.parquet")["scenario"]) == {"bottom_up"}


def test_compare_png_bands_take_their_line_colour(monkeypatch, tmp_path):
    from matplotlib.figure import Figure

    from sim.analysis.plots import compare_figure

    saved = []
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: saved.append(self))
    runs = pd.DataFrame(
        {
            "scenario": np.repeat(["mine", "yours", "top_down"], 4),
            "year": [2000, 2001] * 6,
            "perf_mean": np.linspace(0.5, 0.7, 12),
            "perf_sd": 0.1,
        }
    )
    compare_figure(runs, tmp_path / "c.png")
    ax = saved[0].axes[0]
    lines = [
        tuple(line.get_color()) if not isinstance(line.get_color(), str) else line.get_color()
        for line in ax.get_lines()[:3]
    ]
    from matplotlib.colors import to_hex

    line_hex = [to_hex(c) for c in lines]
    band_hex = [to_hex(c.get_facecolor()[0], keep_alpha=False) for c in ax.collections[:3]]
    assert band_hex == line_hex and len(set(line_hex)) == 3
