"""The command line: run and compare write what they promise; user errors exit 2 cleanly."""

import json
import subprocess
import sys

import pandas as pd

from sim.cli import main
from tests.conftest import SCENARIOS


def test_run_writes_metrics_summary_and_figure(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(
        [
            "run",
            str(SCENARIOS / "workshop.yaml"),
            "--seed",
            "3",
            "--steps",
            "12",
            "--set",
            "tightness=0.7",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    m = pd.read_csv(out / "metrics.csv")
    assert list(m.columns)[0] == "step" and len(m) == 13
    s = json.loads((out / "summary.json").read_text())
    assert s["seed"] == 3 and s["params"]["tightness"] == 0.7 and "plateau_level" in s["outcomes"]
    assert (out / "performance.svg").read_text().startswith("<svg")
    # Every file written is listed, and nothing else is written.
    listed = {
        line.removeprefix("wrote ")
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("wrote ")
    }
    assert listed == {str(p) for p in out.iterdir()}


def test_run_is_byte_for_byte_reproducible(tmp_path):
    for d in ("a", "b"):
        main(["run", str(SCENARIOS / "workshop.yaml"), "--steps", "10", "--out", str(tmp_path / d)])
    assert (tmp_path / "a/metrics.csv").read_bytes() == (tmp_path / "b/metrics.csv").read_bytes()


def test_compare_writes_runs_summary_and_figure(tmp_path):
    out = tmp_path / "cmp"
    rc = main(
        [
            "compare",
            str(SCENARIOS / "top_down.yaml"),
            str(SCENARIOS / "bottom_up.yaml"),
            "--replications",
            "2",
            "--steps",
            "6",
            "--set",
            "n_schools=100",
            "--set",
            "n_towns=1",  # 10 schools a town (the scenarios have 10 authorities)
            "--workers",
            "1",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert {"scenario", "replication", "seed", "step", "perf_mean"} <= set(runs.columns)
    assert len(runs) == 2 * 2 * 7
    # Replication r uses the same seed in every scenario (common random numbers).
    seeds = runs.groupby(["scenario", "replication"])["seed"].first().unstack(0)
    assert (seeds["top_down"] == seeds["bottom_up"]).all()
    summary = pd.read_csv(out / "summary.csv")
    assert {"scenario", "outcome", "mean", "p05", "p95"} <= set(summary.columns)
    assert (out / "compare.png").stat().st_size > 10_000


def test_compare_same_with_one_or_two_workers(tmp_path):
    args = [str(SCENARIOS / "workshop.yaml"), "--replications", "2", "--steps", "5"]
    main(["compare", *args, "--workers", "1", "--out", str(tmp_path / "w1")])
    main(["compare", *args, "--workers", "2", "--out", str(tmp_path / "w2")])
    a = pd.read_parquet(tmp_path / "w1/runs.parquet")
    b = pd.read_parquet(tmp_path / "w2/runs.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_user_error_is_one_clear_line(tmp_path, capsys):
    rc = main(
        ["run", str(SCENARIOS / "workshop.yaml"), "--set", "tightness=3", "--out", str(tmp_path)]
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert "tightness" in err and "Traceback" not in err


def test_params_lists_every_parameter(capsys):
    from sim.model.params import Params

    assert main(["params", str(SCENARIOS / "top_down.yaml")]) == 0
    out = capsys.readouterr().out
    for name in Params.model_fields:
        assert name in out or name == "declared"  # the container: its entries are listed
    for name in (
        "judged.w_agenda",
        "brokering.rel_trust_brokered",
        "field_trials.rel_signal_agenda",
    ):
        assert name in out  # rules' and strategies' own, in use or not
    assert "Rule slots" in out


def test_run_of_a_reduced_mode_draws_adoption(tmp_path, capsys):
    """A classic scenario records the adoption metrics: run draws its adoption curve."""
    out = tmp_path / "bass"
    rc = main(
        [
            "run",
            str(SCENARIOS / "classics" / "bass.yaml"),
            "--steps",
            "8",
            "--set",
            "n_schools=2000",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    m = pd.read_csv(out / "metrics.csv")
    assert "perf_mean" not in m.columns and m["top_adoption"].iloc[-1] > 0.1
    assert (out / "adoption.svg").read_text().startswith("<svg")
    assert "final share adopted" in capsys.readouterr().out


def test_compare_refuses_a_reduced_mode_before_running(tmp_path, capsys):
    out = tmp_path / "cmp"
    rc = main(
        [
            "compare",
            str(SCENARIOS / "classics" / "bass.yaml"),
            "--replications",
            "2",
            "--out",
            str(out),
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert "bass.yaml" in err and "metrics" in err and "--set metrics=full" in err
    assert not out.exists()


def _console(tmp_path, code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (which ends by calling ``sim.cli.console``) in a new interpreter."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )


def test_console_exit_keeps_code_output_and_exit_handlers(tmp_path):
    """The command's quick exit still runs exit handlers, flushes all output, keeps the code."""
    pre = (
        "import atexit, sys; atexit.register(lambda: print('handler ran', flush=True)); "
        "from sim.cli import console; "
    )
    ok = _console(tmp_path, pre + "console(['params'])")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.rstrip().endswith("handler ran")
    assert "tightness" in ok.stdout  # the listing, all of it (flushed before the exit)
    bad = _console(tmp_path, pre + "console(['run', 'no_such_scenario'])")
    assert bad.returncode == 2
    assert bad.stderr.startswith("nextpractice: ") and "handler ran" in bad.stdout


def test_console_waits_for_a_running_thread(tmp_path):
    """With a non-daemon thread still running, the exit is the ordinary one: it waits for it."""
    # The thread starts as the command returns (a wrapped main), so it is surely running
    # when console() decides how to exit, however slow the machine.
    code = (
        "import threading, time, sim.cli as cli\n"
        "real = cli.main\n"
        "def main(argv=None):\n"
        "    rc = real(argv)\n"
        "    threading.Thread(target=lambda: (time.sleep(0.5), print('thread done', "
        "flush=True))).start()\n"
        "    return rc\n"
        "cli.main = main\n"
        "cli.console(['params'])\n"
    )
    res = _console(tmp_path, code)
    assert res.returncode == 0 and res.stdout.rstrip().endswith("thread done")


def _numba_lock_callbacks() -> list:
    """numba's callbacks on llvmlite's lock (its ``numba:llvm_lock`` timer)."""
    import llvmlite.binding.ffi as ffi
    import numba  # noqa: F401  (registers them)

    return [a for a, _ in ffi.lib._lock._cblist if a.__module__ == "numba.core.base"]


def test_only_the_command_drops_numbas_lock_timer_and_kernels_still_run(tmp_path):
    """``console``'s imports-done step removes numba's lock timer; ``main`` (tests) does not."""
    assert _numba_lock_callbacks()
    assert main(["params"]) == 0
    assert _numba_lock_callbacks()  # main alone leaves numba as it is
    code = (
        "import llvmlite.binding.ffi as ffi, numba, sim.cli as cli\n"
        "ours = lambda: [a for a, _ in ffi.lib._lock._cblist "
        "if a.__module__ == 'numba.core.base']\n"
        "before = len(ours())\n"
        "cli._GC_HELD = True\n"
        "cli._imports_done()\n"
        "f = numba.njit(lambda x: x + 1)\n"
        "print(before, len(ours()), f(41))\n"
    )
    res = _console(tmp_path, code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["1", "0", "42"]
