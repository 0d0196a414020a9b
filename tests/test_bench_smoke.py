"""Smoke test of the benchmarks: tiny sizes, figures are positive numbers (no timing asserts)."""

import json
import math

from sim.bench import run_bench


def _numbers(d):
    for v in d.values():
        if isinstance(v, dict):
            yield from _numbers(v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            yield v


def test_run_bench_quick(tmp_path):
    out = tmp_path / "bench.json"
    res = run_bench(str(out), quick=True)
    assert json.loads(out.read_text())["quick"] is True
    for key in ("england", "steps", "runs", "watts"):
        assert key in res
    assert res["england"]["wall_s"] > 0 and res["england"]["peak_mb"] > 0
    for r in res["steps"].values():  # a whole run's steps, timed one by one
        assert r["steps"] == 5 and r["ms_per_step"] > 0 and r["floor_ratio"] > 0
        assert r["ms_per_step_first"] > 0 and r["ms_per_step_last"] > 0
        assert r["floor_ms_start"] > 0 and r["floor_ms_end"] > 0
        assert r["ties_end"] >= 0 and r["ties_start"] >= 0
        assert r["words_per_step"] > 0 and r["draws_ms"] > 0 and r["draws_floors"] > 0
    from sim.rules import STEP_ORDER

    parts = res["rule_ms"]  # where a step goes: every slot that runs, and recording
    assert "record" in parts and all(v >= 0 for v in parts.values())
    assert {k.split(" ")[0] for k in parts} - {"record"} <= set(STEP_ORDER)
    assert list(parts.values()) == sorted(parts.values(), reverse=True)
    assert res["runs"]["runs_per_s"] > 0
    assert res["watts"]["speedup"] > 0 and res["watts"]["speedup_model"] > 0
    assert all(math.isfinite(x) and x >= 0 for x in _numbers(res))


def test_watts_reference_and_model_end_in_the_same_cascade():
    """Same graph, same seed adopter: idiomatic Mesa (random order, one agent at a
    time) and the model's threshold mode (synchronous) reach the same final set,
    as any monotone threshold cascade must; at least one seed cascades."""
    from sim.bench import watts

    w = watts(2000, 60, seeds=(2, 3, 4))
    assert w["mesa_active"] == w["model_active"] == w["vectorised_active"]
    assert w["cascades"] >= 1


def test_kernel_share_splits_a_step_into_compiled_work_and_glue():
    """benchmarks/kernel_share.py: the compiled share is a share, the rules' kernels are
    found (the review's read among them, and the centre's strategy's), and every figure is a
    positive number."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "kernel_share.py"
    out = subprocess.run(
        [sys.executable, str(script), "--schools", "120", "--steps", "4", "--top", "999"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    head = re.search(
        r"(\d+) compiled functions wrapped; a step ([\d.]+) ms of CPU, ([\d.]+) ms of it inside "
        r"compiled calls \((\d+)%\), (\d+) compiled calls a step",
        out,
    )
    assert head, out
    wrapped, step, inside, share, calls = (float(g) for g in head.groups())
    assert wrapped > 20 and calls > 10 and 0 < inside < step and 0 < share < 100
    assert "Review.read" in out and "WordOfMouth.exchanges" in out
    assert re.search(r"NextPractice\.\w+", out), out  # the centre's strategy's own kernels
    # The step by rule: every rule's turn and the record, summing to the step (rounding).
    part = out.split("by rule")[1].split("the largest")[0]
    rows = re.findall(r"^\s+([\d.]+)\s+([\d.]+)\s+(\w+)$", part, re.M)
    names = {name for _, _, name in rows}
    assert {"WordOfMouth", "Review", "CentreActs", "_record", "other"} <= names, out
    assert abs(sum(float(total) for total, _, _ in rows) - 1000 * step) < 0.1 * len(rows) + 2
    for total, compiled, name in rows:
        if name != "other":  # a rule's compiled calls are inside its turn
            assert 0 <= float(compiled) <= float(total) + 0.1, (name, out)


def test_same_state_times_one_step_from_a_saved_state(tmp_path):
    """benchmarks/same_state.py: a state saved at a step, then that one step timed from
    copies of it, by rule; the rules' turns fit inside the step, and the saved state is
    not moved by timing (the step after it is the same step every time)."""
    import pickle
    import re
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "same_state.py"
    state = tmp_path / "s.pkl"
    run = [sys.executable, str(script)]
    subprocess.run(run + ["save", str(state), "--schools", "60", "--at", "4"], check=True)
    with state.open("rb") as f:
        assert pickle.load(f).t == 4
    out = subprocess.run(
        run + ["time", str(state), "--reps", "2", "--before", "1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    best = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", out)}
    assert {"step", "_record", "WordOfMouth", "Review", "CentreActs"} <= set(best), out
    assert all(v > 0 for v in best.values())
    assert all(v <= best["step"] for k, v in best.items() if k != "step")
    with state.open("rb") as f:
        assert pickle.load(f).t == 4  # the file is read, never written back
    bad = subprocess.run(run + ["time", str(state), "--reps", "0"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--reps must be at least 1" in bad.stderr
