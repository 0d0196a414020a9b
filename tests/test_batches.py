"""One executor and one seed tree for every batch; failures said; progress that suits a log.

Issue 26 (one executor, one seed function), issue 30 (failed runs are not success) and
issue 31 (progress on a non-terminal). compare --precision and the robustness rounds of
added seeds have their own files (tests/test_precision.py, tests/test_resolve.py).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.core.errors import RunsFailed
from sim.experiments.executor import Progress, open_pool, run_batch
from sim.experiments.seeds import run_seed, tree_seed
from sim.experiments.sweep import run_nextpractice_series

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------------------
# One of each, in the source
# --------------------------------------------------------------------------------------

#: Where a pool of workers may be made, and where a seed may be read from numpy's tree.
ALLOWED = {
    "ProcessPoolExecutor(": {"sim/experiments/executor.py"},
    "Client(": {"sim/experiments/executor.py"},
    # The model's own per-rule streams and per-decision keys, inside one run, are not
    # a batch's seeds.
    "SeedSequence(": {"sim/experiments/seeds.py", "sim/model/model.py", "sim/core/registry.py"},
}


def test_one_executor_and_one_seed_tree_in_the_source():
    """grep shows one executor and one seed function (issue 26's done-when)."""
    found: dict[str, set[str]] = {k: set() for k in ALLOWED}
    for path in [*ROOT.glob("sim/**/*.py"), *ROOT.glob("benchmarks/*.py")]:
        text = path.read_text(encoding="utf-8")
        code = "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))
        for needle in ALLOWED:
            if re.search(rf"(?<![\w`]){re.escape(needle)}", code):
                found[needle].add(str(path.relative_to(ROOT)))
        for gone in ("derive_seeds", "iter_runs", "_executor("):
            if gone in code and path.name != "executor.py":
                pytest.fail(f"{path}: {gone} (the one executor and seed tree replace it)")
    for needle, where in found.items():
        assert where <= ALLOWED[needle], (needle, where - ALLOWED[needle])


def test_run_seeds_are_nodes_of_the_tree():
    assert run_seed(9, 4, 2, common=True) == tree_seed(9, 0, 2)
    assert run_seed(9, 4, 2, common=False) == tree_seed(9, 0, 4, 2)
    state = np.random.SeedSequence(9, spawn_key=(0, 2)).generate_state(1, dtype=np.uint64)
    assert tree_seed(9, 0, 2) == int(state[0] >> np.uint64(1)) < 2**63


# --------------------------------------------------------------------------------------
# The executor
# --------------------------------------------------------------------------------------


def fails_on_odd(x: int) -> int:
    """Square an even number; raise on an odd one."""
    if x % 2:
        raise ValueError(f"{x} is odd")
    return x * x


@pytest.mark.parametrize("workers", [1, 2])
def test_a_batch_records_failures_in_order_and_goes_on(workers):
    done = list(run_batch(fails_on_odd, [(x,) for x in range(7)], workers=workers, progress=False))
    assert [d.value for d in done] == [0, None, 4, None, 16, None, 36]
    assert [d.ok for d in done] == [True, False] * 3 + [True]
    assert done[1].error.startswith("ValueError: 1 is odd (at test_batches.py:")
    assert "Traceback" in done[1].trace and "fails_on_odd" in done[1].trace


def test_a_pool_maps_in_order_whatever_finishes_first():
    with open_pool(2) as pool:
        assert not pool.serial and pool.slots == 2
        assert list(pool.imap(pow, [(x, 2) for x in range(20)], window=3)) == [
            x * x for x in range(20)
        ]
    with open_pool(1) as pool:
        assert pool.serial and list(pool.imap(pow, [(3, 2)])) == [9]


# --------------------------------------------------------------------------------------
# Validation through the executor
# --------------------------------------------------------------------------------------


def test_validation_runs_are_the_same_on_one_or_two_workers(tmp_path):
    from sim.analysis.validation import ROOT_SEED, seed_of, watts_frequency

    assert [seed_of(r) for r in range(3)] == [
        run_seed(ROOT_SEED, 0, r, common=True) for r in range(3)
    ]
    with open_pool(1) as one, open_pool(2) as two:
        a = watts_frequency([1.0, 3.0], 6, tmp_path, n=400, pool=one)
        b = watts_frequency([1.0, 3.0], 6, tmp_path, n=400, pool=two)
    assert a == b and list(a) == [1.0, 3.0]


def test_a_failed_validation_run_stops_the_suite_with_the_count(tmp_path):
    import sim.analysis.validation as validation

    with pytest.raises(
        RunsFailed, match=r"validate: 3 of 7 runs of odd failed \(first: ValueError"
    ):
        validation.batch(fails_on_odd, [(x,) for x in range(7)], "odd", tmp_path)
    listed = pd.read_csv(tmp_path / "failed_runs.csv")
    assert listed["job"].tolist() == [1, 3, 5] and listed["error"].str.contains("is odd").all()


# --------------------------------------------------------------------------------------
# Failed runs are not success: compare and calibrate (sweeps: tests/test_sweep.py)
# --------------------------------------------------------------------------------------

SMALL = ["--set", "n_schools=60", "--set", "n_authorities=2", "--steps", "4", "--workers", "1"]


def fail_replication_1(params, seed, steps):
    """compare's run function, failing in replication 1 (its seed) of every scenario."""
    if seed == run_seed(1, 0, 1, common=True):
        raise RuntimeError("the model broke here")
    return run_nextpractice_series(params, seed, steps)


def test_a_comparison_with_failed_runs_exits_1_and_keeps_everything(tmp_path, monkeypatch, capsys):
    import sim.experiments.sweep

    monkeypatch.setattr(sim.experiments.sweep, "run_nextpractice_series", fail_replication_1)
    out = tmp_path / "cmp"
    args = ["compare", "top_down", "bottom_up", "-r", "3", *SMALL, "--out", str(out)]
    assert main([*args, "--baseline", "top_down"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "2 of 6 runs failed" in err[0] and "the model broke here" in err[0]
    assert str(out / "failed_runs.csv") in err[0] and "--allow-failures" in err[0]
    assert len(pd.read_csv(out / "failed_runs.csv")) == 2
    assert main([*args, "--baseline", "top_down", "--allow-failures"]) == 0
    said = capsys.readouterr().out
    assert "over 3 replications" in said and f"wrote {out / 'failed_runs.csv'}" in said
    per_run = pd.read_csv(out / "outcomes.csv")
    assert sorted(per_run["replication"].unique()) == [0, 2]  # the failed ones left out
    assert (pd.read_csv(out / "differences.csv").dropna()["n"] == 2).all()


def test_a_calibration_with_failed_simulations_says_so(tmp_path, monkeypatch):
    """A candidate whose simulation fails counts as rejected and is listed; the command
    exits non-zero unless failures are allowed; where most fail, it stops at once."""
    import sim.calibration.simulate as simulate
    from sim.calibration.fit import calibrate
    from tests.test_calibrate import tiny

    real = simulate.simulate_series

    def breaks_above(limit):
        def run(params, seed, steps, scale):
            if params.init_own_mandated > limit:
                raise FloatingPointError(f"init_own_mandated {params.init_own_mandated:.3f}")
            return real(params, seed, steps, scale)

        return run

    monkeypatch.setattr(simulate, "simulate_series", breaks_above(0.45))
    path = tiny(tmp_path, generations=1, predictive=4)
    with pytest.raises(RunsFailed, match=r"fit simulations and 0 of 4 predictive runs failed"):
        calibrate(path, tmp_path / "a", workers=1)
    listed = pd.read_csv(tmp_path / "a" / "failed_runs.csv")
    assert len(listed) > 0 and (listed["init_own_mandated"] > 0.45).all()
    assert listed["error"].str.startswith("FloatingPointError: init_own_mandated").all()
    assert (tmp_path / "a" / "posterior.parquet").is_file()  # everything is written first
    res = calibrate(path, tmp_path / "b", workers=1, allow_failures=True)
    assert (res.posterior["init_own_mandated"] <= 0.45).all()
    monkeypatch.setattr(simulate, "simulate_series", breaks_above(-1.0))  # every one fails
    with pytest.raises(RunsFailed, match=r"stopped: 10 of 10 simulations of generation 0"):
        calibrate(path, tmp_path / "c", workers=1)


# --------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_in_a_log_is_a_line_every_few_percent(monkeypatch):
    monkeypatch.setattr(Progress, "EVERY_S", 0.0)
    log = io.StringIO()
    with Progress(1000, "study", stream=log) as bar:
        for i in range(1000):
            bar.update(1, failed=i % 100 == 0)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) == 20  # 5%, 10% ... 95%, then the end
    assert lines[0].startswith("study: 50 of 1,000 runs (5%), 1 failed, ")
    assert (
        lines[-1].startswith("study: 1,000 of 1,000 runs (100%), 10 failed")
        and "done in" in lines[-1]
    )


def test_a_short_batch_in_a_log_writes_nothing_and_a_terminal_gets_a_bar():
    log = io.StringIO()
    with Progress(50, "quick", stream=log) as bar:
        bar.update(50)
    assert log.getvalue() == ""
    term = _Terminal()
    with Progress(50, "quick", stream=term) as bar:
        bar.update(50)
    assert "\r" in term.getvalue() and "50/50" in term.getvalue()


def test_a_sweep_logs_lines_not_a_bar(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(Progress, "EVERY_S", 0.0)
    exp = tmp_path / "e.yaml"
    exp.write_text(
        yaml.safe_dump(
            {
                "model": "ishigami",
                "root_seed": 1,
                "chunk_size": 10,
                "design": {"method": "lhs", "n": 40},
            }
        )
    )
    assert main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and len(err.splitlines()) == 20
    assert err.splitlines()[-1].startswith("e: 40 of 40 runs (100%), 0 failed")
