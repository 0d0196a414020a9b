"""Sweeps: tidy chunked results, worker invariance, failures, resuming after a kill.

Most tests use the Ishigami test model (microseconds a run) so they take seconds;
one smoke test runs the real model on a tiny system.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.core.errors import RunsFailed, UserError
from sim.experiments import plan_experiment, run_seed
from sim.experiments.ishigami import run_ishigami
from sim.experiments.sweep import chunk_files, load_results, run_sweep

ROOT = Path(__file__).resolve().parent.parent


def experiment(tmp_path: Path, name: str = "exp.yaml", **kw) -> Path:
    """A small noisy Ishigami sweep: 8 x 8 = 64 parameter sets, 3 seeds each, 20 chunks."""
    data = {
        "model": "ishigami",
        "root_seed": 11,
        "replications": 3,
        "chunk_size": 10,
        "overrides": {"noise_sd": 0.5},
        "design": {"method": "sobol", "n": 8},
    }
    data.update(kw)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def chunk_bytes(out: Path) -> dict[int, bytes]:
    return {k: p.read_bytes() for k, p in chunk_files(out / "results").items()}


def test_results_are_tidy_one_row_per_run(tmp_path):
    exp = experiment(tmp_path)
    out = run_sweep(exp, tmp_path / "out", workers=1, progress=False)
    plan = plan_experiment(exp)
    df = load_results(out)
    assert list(df.columns) == [
        "run_id",
        "design_row",
        "replication",
        "seed",
        "x1",
        "x2",
        "x3",
        "y",
        "y_clean",
        "status",
        "error",
    ]
    assert df["run_id"].tolist() == list(range(plan.n_runs)) == list(range(192))
    assert (df["design_row"] == df["run_id"] // 3).all()
    assert (df["replication"] == df["run_id"] % 3).all()
    pairs = zip(df.design_row, df.replication, strict=True)
    assert [run_seed(11, r, k, common=True) for r, k in pairs] == df["seed"].tolist()
    design = plan.design.reset_index()
    assert (
        df[["x1", "x2", "x3"]].to_numpy().tolist()
        == design.loc[df["design_row"], ["x1", "x2", "x3"]].to_numpy().tolist()
    )
    assert (df["status"] == "ok").all() and df["error"].isna().all()
    # Replications differ (seeded noise) but the deterministic part does not.
    first = df[df.design_row == 0]
    assert first["y"].nunique() == 3 and first["y_clean"].nunique() == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["root_seed"] == 11 and manifest["problem"]["names"] == ["x1", "x2", "x3"]
    assert "noise_sd" in manifest["experiment_text"] and manifest["n_runs"] == 192
    assert (out / "design.parquet").is_file()


def test_one_two_and_four_workers_write_identical_files(tmp_path):
    exp = experiment(tmp_path)
    files = {
        w: chunk_bytes(run_sweep(exp, tmp_path / f"w{w}", workers=w, progress=False))
        for w in (1, 2, 4)
    }
    assert len(files[1]) == 20
    assert files[1] == files[2] == files[4]


def test_a_dask_cluster_gives_the_same_results(tmp_path):
    distributed = pytest.importorskip("distributed")
    exp = experiment(tmp_path)
    local = chunk_bytes(run_sweep(exp, tmp_path / "local", workers=1, progress=False))
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        out = run_sweep(exp, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    assert chunk_bytes(out) == local


def test_unreachable_scheduler_is_a_user_error(tmp_path):
    dask = pytest.importorskip("dask")
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(UserError, match="cannot reach the Dask scheduler"),
    ):
        run_sweep(
            experiment(tmp_path), tmp_path / "o", scheduler="tcp://127.0.0.1:9", progress=False
        )


def test_a_failed_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    exp = experiment(tmp_path, overrides={"fail_above": 2.0})
    out = run_sweep(exp, tmp_path / "out", workers=2, progress=False, allow_failures=True)
    df = load_results(out)
    failed = df[df.status == "error"]
    assert len(df) == 192 and 0 < len(failed) < len(df)
    assert (failed["x1"] > 2.0).all() and (df[df.status == "ok"]["x1"] <= 2.0).all()
    assert failed["y"].isna().all()
    assert failed["error"].str.startswith("ValueError: x1=").all()
    listed = pd.read_csv(out / "failed_runs.csv")  # every failed run, beside the results
    assert listed["run_id"].tolist() == failed["run_id"].tolist()
    assert listed["error"].tolist() == failed["error"].tolist()


def test_failed_runs_are_not_success(tmp_path, capsys):
    """Issue 30: a sweep with failed runs exits 1 and says how many and where; the runs
    are all kept, and --allow-failures accepts them (exit 0, the count said)."""
    exp = experiment(tmp_path, overrides={"fail_above": 2.0})
    out = tmp_path / "out"
    with pytest.raises(RunsFailed, match=r"24 of 192 runs failed \(first: run 48"):
        run_sweep(exp, out, workers=1, progress=False)
    assert len(load_results(out)) == 192 and (out / "failed_runs.csv").is_file()
    assert main(["sweep", str(exp), "--out", str(out), "--workers", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "24 of 192 runs failed" in err[0]
    assert str(out / "failed_runs.csv") in err[0] and "--allow-failures" in err[0]
    assert main(["sweep", str(exp), "--out", str(out), "--allow-failures"]) == 0
    said = capsys.readouterr()
    assert "24 of 192 runs failed, accepted" in said.out and not said.err
    # A sweep with nothing failed leaves no stale list behind.
    clean = run_sweep(experiment(tmp_path, "ok.yaml"), tmp_path / "ok", workers=1, progress=False)
    assert not (clean / "failed_runs.csv").exists()


# ------------------------------------------------------------------ resuming

_calls = {"n": 0, "stop_after": 0}


def stop_after_some_runs(params, seed, steps):
    """Behave like the model, then act as if Ctrl-C were pressed after a number of runs."""
    _calls["n"] += 1
    if _calls["n"] > _calls["stop_after"]:
        raise KeyboardInterrupt
    return run_ishigami(params, seed, steps)


def test_an_interrupted_sweep_resumes_without_loss_or_duplication(tmp_path):
    exp = experiment(tmp_path)
    reference = chunk_bytes(run_sweep(exp, tmp_path / "ref", workers=1, progress=False))

    out = tmp_path / "out"
    _calls.update(n=0, stop_after=75)  # dies in the middle of chunk 7
    with pytest.raises(KeyboardInterrupt):
        run_sweep(exp, out, workers=1, progress=False, run_fn=stop_after_some_runs)
    before = chunk_files(out / "results")
    assert sorted(before) == list(range(len(before))) and 3 <= len(before) < 8
    stamps = {k: (p.stat().st_ino, p.stat().st_mtime_ns) for k, p in before.items()}

    run_sweep(exp, out, workers=2, progress=False)
    after = chunk_files(out / "results")
    assert {
        k: (p.stat().st_ino, p.stat().st_mtime_ns) for k, p in after.items() if k in stamps
    } == stamps  # the chunks already done were not redone
    assert chunk_bytes(out) == reference
    ids = load_results(out, columns=["run_id"])["run_id"]
    assert ids.is_unique and sorted(ids) == list(range(192))


def test_a_killed_sweep_process_resumes_with_the_same_command(tmp_path):
    exp = experiment(tmp_path, overrides={"noise_sd": 0.5, "sleep_s": 0.02})
    reference = chunk_bytes(
        run_sweep(exp, tmp_path / "ref", workers=1, progress=False, run_fn=run_ishigami_fast)
    )
    out = tmp_path / "out"
    code = (
        f"from sim.experiments.sweep import run_sweep; "
        f"run_sweep({str(exp)!r}, {str(out)!r}, workers=2, progress=False)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(chunk_files(out / "results")) < 3:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes
        proc.wait()
    done = len(chunk_files(out / "results"))
    assert 3 <= done < 20
    (out / "results" / ".tmp-chunk-000019.parquet.999").write_bytes(b"half a file")

    run_sweep(exp, out, workers=2, progress=False)
    assert chunk_bytes(out) == reference
    assert not list((out / "results").glob(".tmp-*"))
    ids = load_results(out, columns=["run_id"])["run_id"]
    assert ids.is_unique and sorted(ids) == list(range(192))


def run_ishigami_fast(params, seed, steps):
    """The Ishigami model without its sleep: same outcomes, quicker reference."""
    return run_ishigami({**params, "sleep_s": 0.0}, seed, steps)


def test_a_finished_sweep_run_again_does_nothing(tmp_path):
    exp = experiment(tmp_path)
    out = run_sweep(exp, tmp_path / "out", workers=1, progress=False)
    stamps = {k: p.stat().st_mtime_ns for k, p in chunk_files(out / "results").items()}
    run_sweep(exp, out, workers=1, progress=False)
    assert {k: p.stat().st_mtime_ns for k, p in chunk_files(out / "results").items()} == stamps


def test_an_edited_experiment_will_not_mix_into_old_results(tmp_path):
    exp = experiment(tmp_path)
    out = run_sweep(exp, tmp_path / "out", workers=1, progress=False)
    experiment(tmp_path, replications=4)  # same file, edited
    with pytest.raises(UserError, match="different experiment"):
        run_sweep(exp, out, workers=1, progress=False)


def test_two_sweeps_cannot_write_to_one_directory(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(UserError, match="another sweep"):
            run_sweep(experiment(tmp_path), out, workers=1, progress=False)


def test_default_output_directory_is_runs_and_the_stem(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = run_sweep(experiment(tmp_path, name="my_study.yaml"), workers=1, progress=False)
    assert out == Path("runs/my_study") and (tmp_path / "runs/my_study/manifest.json").is_file()


# ------------------------------------------------------------------ the real model


def test_the_real_model_sweeps_a_tiny_grid_of_scenarios(tmp_path):
    shipped = yaml.safe_load((ROOT / "experiments/tight_loose.yaml").read_text())
    shipped["design"]["factors"]["scenario"]["values"] = [
        str(ROOT / "scenarios" / f"{s}.yaml") for s in ("top_down", "next_practice")
    ]
    shipped["design"]["factors"]["tightness"] = {"values": [0.2, 0.8]}
    shipped.update(
        steps=30,
        replications=1,
        chunk_size=3,
        overrides={"n_schools": 30, "n_authorities": 2, "n_towns": 2},
    )
    exp = tmp_path / "tiny.yaml"
    exp.write_text(yaml.safe_dump(shipped))
    df = load_results(run_sweep(exp, tmp_path / "out", workers=2, progress=False))
    assert (df["status"] == "ok").all(), df["error"].dropna().tolist()
    assert df["scenario"].tolist() == ["top_down"] * 2 + ["next_practice"] * 2
    assert df["tightness"].tolist() == [0.2, 0.8, 0.2, 0.8]
    assert df["final_perf_mean"].between(0, 1).all()
