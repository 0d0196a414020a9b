"""compare --precision: replications added in batches until each paired difference is known
to a given half-width (Law, Simulation Modeling and Analysis, 5th ed., 9.4.1; issue 27).

On the ``normal`` test model the sd of a paired difference is known: scenario a's own
noise has sd 0.3, b's 0.4, from independent streams, and the noise they share cancels in
the pair, so the difference's sd is 0.5 and a 95% half-width of H needs about
(1.96 x 0.5 / H)^2 replications.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.core.errors import UserError
from sim.experiments.comparison import MIN_FIRST_BATCH, compare
from sim.experiments.sweep import chunk_files

SCENARIOS = {
    "a": {"mean": 0.0, "sd_own": 0.3, "stream": 1},
    "b": {"mean": 0.5, "sd_own": 0.4, "stream": 2},
}
SD_DIFF = 0.5


def by_precision(out: Path, target: float, most: int, workers: int = 1, first: int = 10):
    compare(
        SCENARIOS,
        first,
        3,
        out,
        workers=workers,
        baseline="a",
        precision={"y": target},
        max_replications=most,
        model="normal",
    )
    return pd.read_csv(out / "precision.csv"), pd.read_json(out / "compare.json", typ="series")


def files(out: Path) -> dict[str, bytes]:
    got = {f"results/{k}": p.read_bytes() for k, p in chunk_files(out / "results").items()}
    for name in ("outcomes.csv", "summary.csv", "differences.csv"):
        got[name] = (out / name).read_bytes()
    return got


def test_it_stops_at_the_target_and_is_the_comparison_of_that_many(tmp_path):
    table, meta = by_precision(tmp_path / "p", 0.1, 1000)
    info = meta["precision"]
    n = info["replications"]
    assert info["reached"] and info["first_batch"] == 10 and info["batches"][0] == 10
    assert table["half_width"].iloc[-1] <= 0.1 < table["half_width"].iloc[-2]
    assert table["replications"].tolist() == info["batches"]
    expected = (1.96 * SD_DIFF / 0.1) ** 2  # 96
    assert 0.6 * expected < n < 1.6 * expected
    # Each batch at most four times the one before, and more than it.
    steps = table["replications"].tolist()
    assert all(b < a * 4 + 1 and b > a for a, b in zip(steps, steps[1:], strict=False))
    # Growing kept the earlier runs (same seeds): the result is, file for file, the
    # comparison of n replications asked for outright.
    compare(SCENARIOS, n, 3, tmp_path / "plain", workers=1, baseline="a", model="normal")
    assert files(tmp_path / "p") == files(tmp_path / "plain")
    per_run = pd.read_csv(tmp_path / "p" / "outcomes.csv")
    assert len(per_run) == 2 * n and meta["replications"] == n


def test_it_respects_the_maximum_and_says_the_target_was_not_reached(tmp_path):
    table, meta = by_precision(tmp_path / "p", 0.01, 30)
    info = meta["precision"]
    assert not info["reached"] and info["replications"] == 30 == table["replications"].max()
    assert info["worst"]["half_width"] > 0.01 and info["worst"]["outcome"] == "y"


def test_the_same_on_one_or_two_workers(tmp_path):
    by_precision(tmp_path / "one", 0.2, 200, workers=1)
    by_precision(tmp_path / "two", 0.2, 200, workers=2)
    assert files(tmp_path / "one") == files(tmp_path / "two")


@pytest.mark.parametrize(
    ("kw", "says"),
    [
        ({"replications": MIN_FIRST_BATCH - 1}, "must be at least 10"),
        ({"baseline": None}, "add --baseline"),
        ({"max_replications": 10, "replications": 12}, "below the first batch"),
        ({"precision": {"y": 0.0}}, "above 0"),
        ({"precision": {"nope": 0.1}}, "unknown outcome"),
    ],
)
def test_bad_requests_are_refused(tmp_path, kw, says):
    args = {
        "replications": 10,
        "baseline": "a",
        "precision": {"y": 0.1},
        "max_replications": 50,
        **kw,
    }
    with pytest.raises(UserError, match=says):
        compare(
            SCENARIOS,
            args.pop("replications"),
            3,
            tmp_path / "p",
            workers=1,
            model="normal",
            **args,
        )


SMALL = ["--set", "n_schools=60", "--set", "n_authorities=2", "--steps", "4", "--workers", "1"]


def test_the_command_line_says_how_many_it_used(tmp_path, capsys):
    """The real model: a target already met stops after the first batch; one no number of
    runs can meet stops at the maximum, and says so; the grown comparison's per-step
    runs are those of the comparison of that many replications."""
    base = ["compare", "top_down", "bottom_up", "--baseline", "top_down", *SMALL]
    out = tmp_path / "met"
    assert main([*base, "--precision", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "reached after 20 replications" in text and "over 20 replications" in text
    out = tmp_path / "grown"
    args = ["--precision", "final_perf_mean=1e-9", "--max-replications", "12", "-r", "10"]
    assert main([*base, *args, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "NOT reached: stopped at --max-replications 12" in text
    assert "over 12 replications" in text and f"wrote {out / 'precision.csv'}" in text
    plain = tmp_path / "plain"
    assert main([*base, "-r", "12", "--out", str(plain)]) == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "runs.parquet"), pd.read_parquet(plain / "runs.parquet")
    )
    for k, p in chunk_files(plain / "series").items():
        assert (out / "series" / p.name).read_bytes() == p.read_bytes(), k
    assert main([*base, "--max-replications", "30", "--out", str(tmp_path / "x")]) == 2
    assert "only with --precision" in capsys.readouterr().err


def test_no_run_is_run_twice_across_batches_reruns_and_interruptions(tmp_path, monkeypatch):
    """Runs on record are kept: by the next batch, by the same command run again, and by
    a comparison by precision started where a plain one (or an interrupted one) left
    runs; the files are those of a fresh comparison."""
    import sim.experiments.ishigami as ishigami

    calls: list[int] = []
    real = ishigami.run_normal

    def counted(params, seed, steps=None):
        calls.append(seed)
        return real(params, seed, steps)

    monkeypatch.setattr(ishigami, "run_normal", counted)
    fresh = tmp_path / "fresh"
    by_precision(fresh, 0.15, 400)
    n = pd.read_json(fresh / "compare.json", typ="series")["replications"]
    assert len(calls) == 2 * n and len(set(calls)) == n  # each seed once per scenario
    calls.clear()
    by_precision(fresh, 0.15, 400)  # the same command again: nothing to run
    assert calls == []
    other = tmp_path / "other"
    compare(SCENARIOS, 30, 3, other, workers=1, baseline="a", model="normal")  # a plain one
    calls.clear()
    by_precision(other, 0.15, 400)
    assert len(calls) == 2 * (n - 30)  # only the replications beyond its 30
    assert files(other) == files(fresh)
