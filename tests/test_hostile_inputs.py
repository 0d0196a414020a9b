"""Issue 21, one named test per hostile input: a one-line error, no traceback, no hang.

Each case got a traceback, a hang or silent acceptance before. The property-based
tests (tests/test_hostile_properties.py) generate many more of the same kinds.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.core.errors import UserError
from sim.model.scenario import load_scenario, readable_range
from tests.conftest import ROOT, SCENARIOS

SMALL = SCENARIOS / "workshop.yaml"  # 40 schools: a run of a few steps takes well under a second


def cli(argv: list[str], capsys) -> tuple[int, str]:
    """Run the command line in this process; return its exit code and stderr."""
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's usage errors
        rc = exc.code
    return rc, capsys.readouterr().err


def one_line_error(rc: int, err: str, *words: str) -> str:
    assert rc not in (0, None), err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for word in words:
        assert word in err, (word, err)
    return lines[0]


def scenario(tmp_path: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def run_file(path: Path, tmp_path: Path, capsys, *extra: str) -> tuple[int, str]:
    return cli(["run", path, "--steps", "2", "--out", tmp_path / "out", *extra], capsys)


# ------------------------------------------------------------------ files that are not text


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_scenario_is_refused_with_save_as_utf8(tmp_path, capsys, encoding):
    path = scenario(tmp_path, "tightness: 0.4\n".encode(encoding))
    one_line_error(*run_file(path, tmp_path, capsys), "s.yaml", "save it as UTF-8")


def test_a_latin1_scenario_is_refused_naming_the_line(tmp_path, capsys):
    path = scenario(tmp_path, "description: \xe9cole\ntightness: 0.4\n".encode("latin-1"))
    one_line_error(*run_file(path, tmp_path, capsys), "line 1", "0xe9", "save it as UTF-8")


def test_a_binary_file_is_refused(tmp_path, capsys):
    path = scenario(tmp_path, bytes(range(256)) * 4)
    one_line_error(*run_file(path, tmp_path, capsys), "s.yaml", "UTF-8")


def test_a_binary_experiment_is_refused(tmp_path, capsys):
    path = scenario(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00", "exp.yaml")
    one_line_error(*cli(["sweep", path, "--out", tmp_path / "o"], capsys), "exp.yaml", "UTF-8")


def test_a_directory_given_as_a_scenario_is_refused(tmp_path, capsys):
    one_line_error(*run_file(tmp_path, tmp_path, capsys), "is a directory")


def test_a_device_given_as_a_scenario_is_refused(tmp_path, capsys):
    one_line_error(*run_file(Path("/dev/zero"), tmp_path, capsys), "not a regular file")


def test_a_fifo_given_as_an_experiment_is_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "exp.yaml"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    one_line_error(*cli(["sweep", fifo, "--out", tmp_path / "o"], capsys), "not a regular file")
    assert time.monotonic() - t0 < 5


def test_a_symlink_loop_is_refused(tmp_path, capsys):
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    one_line_error(*run_file(tmp_path / "a.yaml", tmp_path, capsys), "symbolic link loop")


def test_a_name_too_long_is_refused(tmp_path, capsys):
    one_line_error(*run_file(tmp_path / ("x" * 300 + ".yaml"), tmp_path, capsys), "too long")


def test_an_extends_chain_hundreds_deep_is_refused(tmp_path, capsys):
    for i in range(300):
        scenario(
            tmp_path, f"extends: s{i + 1}.yaml\n" if i < 299 else "tightness: 0.4\n", f"s{i}.yaml"
        )
    one_line_error(*run_file(tmp_path / "s0.yaml", tmp_path, capsys), "more than 32 files deep")


def test_an_extends_cycle_is_refused(tmp_path, capsys):
    scenario(tmp_path, "extends: b.yaml\n", "a.yaml")
    scenario(tmp_path, "extends: a.yaml\n", "b.yaml")
    one_line_error(*run_file(tmp_path / "a.yaml", tmp_path, capsys), "cycle")


def test_deeply_nested_values_are_refused(tmp_path, capsys):
    path = scenario(tmp_path, "rules: " + "[" * 5000 + "]" * 5000 + "\n")
    one_line_error(*run_file(path, tmp_path, capsys), "nested more than")


def test_a_yaml_alias_bomb_is_refused_at_once_and_never_printed(tmp_path, capsys):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("tightness: *i")
    path = scenario(tmp_path, "\n".join(lines) + "\n")
    assert path.stat().st_size < 1000
    t0 = time.monotonic()
    line = one_line_error(*run_file(path, tmp_path, capsys), "alias", "line 2")
    assert time.monotonic() - t0 < 2 and len(line) < 400


def test_a_5mb_file_of_unknown_keys_fails_fast_with_a_short_message(tmp_path, capsys):
    path = scenario(tmp_path, "".join(f"key_{i}: {i}\n" for i in range(400_000)))
    assert path.stat().st_size > 5_000_000
    t0 = time.monotonic()
    line = one_line_error(*run_file(path, tmp_path, capsys), "at most 1,000,000 bytes")
    assert time.monotonic() - t0 < 2 and len(line) < 400


def test_many_unknown_keys_are_counted_not_listed(tmp_path, capsys):
    path = scenario(tmp_path, "".join(f"key_{i}: {i}\n" for i in range(5000)))
    line = one_line_error(*run_file(path, tmp_path, capsys), "'key_0'", "4999 more unknown keys")
    assert "key_4999" not in line


def test_a_huge_bad_value_is_quoted_as_a_short_excerpt(tmp_path, capsys):
    path = scenario(tmp_path, "tightness: " + "9" * 500_000 + "\n")
    line = one_line_error(*run_file(path, tmp_path, capsys), "line 1", "500000 digits")
    assert len(line) < 1000
    path = scenario(tmp_path, "n_slots: [" + "'word', " * 50_000 + "]\n")
    line = one_line_error(*run_file(path, tmp_path, capsys), "n_slots", "'word', 'word'", "...")
    assert len(line) < 1000


# ------------------------------------------------------------------ YAML 1.1 surprises


@pytest.mark.parametrize("word", ["yes", "on", "true", "y", "True"])
def test_a_boolean_word_for_a_number_is_refused(tmp_path, capsys, word):
    path = scenario(tmp_path, f"n_schools: {word}\n")
    one_line_error(*run_file(path, tmp_path, capsys), "n_schools")


def test_a_boolean_for_a_number_is_refused_through_set(tmp_path, capsys):
    one_line_error(*run_file(SMALL, tmp_path, capsys, "--set", "n_slots=yes"), "n_slots")
    one_line_error(
        *run_file(SMALL, tmp_path, capsys, "--set", "n_slots=true"),
        "true is true/false, but n_slots is a whole number",
    )


def test_a_leading_zero_number_is_refused_as_octal_or_decimal(tmp_path, capsys):
    path = scenario(tmp_path, "n_schools: 050\n")
    one_line_error(*run_file(path, tmp_path, capsys), "050", "leading zero", "write 50")


def test_a_base_60_number_is_refused(tmp_path, capsys):
    path = scenario(tmp_path, "n_schools: 1:20\n")
    one_line_error(*run_file(path, tmp_path, capsys), "1:20", "base-60", "80")


def test_a_duplicate_key_is_refused_naming_key_and_lines(tmp_path, capsys):
    path = scenario(tmp_path, "tightness: 0.2\nn_slots: 4\ntightness: 0.9\n")
    one_line_error(*run_file(path, tmp_path, capsys), "'tightness'", "lines 1 and 3")


def test_extends_through_set_is_refused(tmp_path, capsys):
    one_line_error(
        *run_file(SMALL, tmp_path, capsys, "--set", "extends=top_down.yaml"),
        "extends",
        "scenario file",
    )


def exp_file(tmp_path: Path, **kw) -> Path:
    data = {"model": "ishigami", "root_seed": 3, "design": {"method": "lhs", "n": 4}}
    data.update(kw)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_extends_in_an_experiments_overrides_is_refused(tmp_path, capsys):
    path = exp_file(
        tmp_path, model="nextpractice", scenario=str(SMALL), overrides={"extends": "top_down.yaml"}
    )
    one_line_error(*cli(["sweep", path, "--out", tmp_path / "o"], capsys), "extends")


def test_a_grid_range_with_low_above_high_is_refused(tmp_path, capsys):
    path = exp_file(
        tmp_path, design={"method": "grid", "factors": {"x1": {"range": [2.0, -2.0], "n": 3}}}
    )
    one_line_error(
        *cli(["sweep", path, "--out", tmp_path / "o"], capsys),
        "design.factors.x1.range",
        "low must be below high",
    )


def test_an_integer_grid_with_fewer_points_than_asked_is_refused(tmp_path, capsys):
    path = exp_file(
        tmp_path,
        model="nextpractice",
        scenario=str(SMALL),
        design={"method": "grid", "factors": {"field_trials.n_trials": {"range": [0, 3], "n": 10}}},
    )
    one_line_error(
        *cli(["sweep", path, "--out", tmp_path / "o"], capsys),
        "field_trials.n_trials",
        "only 4 whole numbers",
        "n: 10",
    )


@pytest.mark.parametrize("factors", [[], {}])
def test_an_empty_factor_list_is_refused(tmp_path, capsys, factors):
    for method in ({"method": "lhs", "n": 4}, {"method": "grid"}):
        path = exp_file(tmp_path, design={**method, "factors": factors})
        one_line_error(*cli(["sweep", path, "--out", tmp_path / "o"], capsys), "factors")


# ------------------------------------------------------------------ impossible combinations


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"n_running_init": 8, "n_slots": 6}, ["n_running_init", "n_slots"]),
        ({"n_running_init": 5, "n_practices_init": 3, "n_slots": 6}, ["n_practices_init"]),
        ({"n_collab_size": 50, "n_schools": 40, "n_authorities": 2}, ["collaborative"]),
        ({"budget_cut.n_authorities_cut": 5, "n_authorities": 2}, ["n_authorities_cut (5)"]),
        ({"network": "erdos_renyi", "z_degree": 60.0}, ["z_degree", "n_schools - 1"]),
        ({"network": "ring_lattice", "k_lattice": 20}, ["k_lattice", "19"]),
        ({"classic.init_adopters": 41}, ["classic.init_adopters", "n_schools"]),
    ],
)
def test_an_impossible_combination_is_refused_with_the_reason(values, words):
    with pytest.raises(UserError) as err:
        load_scenario(SMALL, values)
    for word in words:
        assert word in str(err.value)


def test_the_edge_of_each_combination_is_accepted():
    p = load_scenario(
        SMALL,
        {
            "n_running_init": 6,
            "n_slots": 6,
            "n_practices_init": 6,
            "n_collab_size": 40,
            "budget_cut.n_authorities_cut": 2,
            "classic.init_adopters": 40,
        },
    )
    assert p.n_running_init == p.n_slots == 6
    load_scenario(SMALL, {"network": "ring_lattice", "k_lattice": 19})
    load_scenario(SMALL, {"network": "erdos_renyi", "z_degree": 39.0})
    # Only the networks that read them care about z_degree and k_lattice.
    load_scenario(SMALL, {"k_lattice": 500, "z_degree": 1000.0})


def test_shipped_scenarios_and_experiments_still_load():
    from sim.experiments import load_experiment

    for path in [*SCENARIOS.glob("*.yaml"), *SCENARIOS.glob("classics/*.yaml")]:
        load_scenario(path)
    for path in (ROOT / "experiments").glob("*.yaml"):
        if not path.name.startswith("calibrate_"):  # calibration files have their own schema
            load_experiment(path)


# ------------------------------------------------------------------ command-line values


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["run", SMALL, "--steps", "0"], "--steps"),
        (["run", SMALL, "--steps", "-5"], "--steps"),
        (["run", SMALL, "--seed", "-1"], "--seed"),
        (["run", SMALL, "--seed", "1.5"], "--seed"),
        (["compare", SMALL, "--replications", "0"], "--replications"),
        (["compare", SMALL, "-r", "-2"], "--replications"),
        (["compare", SMALL, "--workers", "0"], "--workers"),
        (["sweep", "x.yaml", "--workers", "-1"], "--workers"),
        (["app", "--port", "0"], "--port"),
        (["app", "--port", "65536"], "--port"),
        (["app", "--port", "-80"], "--port"),
        (["run", SMALL, "--out", "/proc/self/np"], "/proc"),
        (["run", SMALL, "--out", "/sys/np"], "/sys"),
        (["run", SMALL, "--out", str(ROOT / "pyproject.toml")], "is a file"),
        (["run", SMALL, "--out", "/tmp/" + "n" * 300], "longer than"),
        (["sweep", "x.yaml", "--scheduler", "tcp://no such host:99"], "scheduler address"),
        (["sweep", "x.yaml", "--scheduler", "tcp://host:999999"], "scheduler address"),
    ],
)
def test_a_bad_command_line_value_is_one_line_exit_2(capsys, argv, option):
    rc, err = cli(argv, capsys)
    assert rc == 2
    one_line_error(rc, err, option)


def refuse_writes(monkeypatch, under: Path) -> None:
    """Make writing under ``under`` fail as on a read-only file system (root ignores chmod)."""
    import sim.inputs.folders

    real = sim.inputs.folders.tempfile.NamedTemporaryFile

    def fake(*args, dir=None, **kw):  # noqa: A002 - tempfile's own keyword
        if dir is not None and Path(dir).resolve().is_relative_to(under.resolve()):
            raise OSError(errno.EROFS, "Read-only file system")
        return real(*args, dir=dir, **kw)

    monkeypatch.setattr(sim.inputs.folders.tempfile, "NamedTemporaryFile", fake)


def test_a_run_that_cannot_write_fails_before_it_computes(tmp_path, capsys, monkeypatch):
    import sim.experiments.runner

    def must_not_run(*a, **k):
        raise AssertionError("the model ran although its outputs cannot be written")

    monkeypatch.setattr(sim.experiments.runner, "run_model", must_not_run)
    refuse_writes(monkeypatch, tmp_path)
    rc, err = run_file(SMALL, tmp_path, capsys)
    one_line_error(rc, err, "read-only", "--out")


def test_compare_that_cannot_write_fails_before_it_computes(tmp_path, capsys, monkeypatch):
    import sim.experiments.comparison

    monkeypatch.setattr(
        sim.experiments.comparison, "compare", lambda *a, **k: pytest.fail("compare ran")
    )
    refuse_writes(monkeypatch, tmp_path)
    rc, err = cli(["compare", SMALL, "-r", "2", "--out", tmp_path / "c"], capsys)
    one_line_error(rc, err, "read-only")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through chmod; the mock above tests it")
def test_a_read_only_folder_really_refuses(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    one_line_error(*cli(["run", SMALL, "--steps", "2", "--out", ro / "x"], capsys), "cannot write")


def test_an_unexpected_error_is_one_line_with_the_debug_hint(capsys, monkeypatch):
    import sim.cli

    def boom(args):
        raise KeyError("something internal")

    monkeypatch.setattr(sim.cli, "cmd_params", boom)
    monkeypatch.delenv("NEXTPRACTICE_DEBUG", raising=False)
    one_line_error(*cli(["params"], capsys), "KeyError", "NEXTPRACTICE_DEBUG=1")
    monkeypatch.setenv("NEXTPRACTICE_DEBUG", "1")
    with pytest.raises(KeyError):
        main(["params"])


def test_a_multi_problem_error_is_one_line():
    from sim.cli import one_line

    assert one_line("a\nb\n\nc") == "a; b; c"
    assert one_line("\n".join("x" * 9)).endswith("and 4 more problem(s)")


def test_ranges_print_readably():
    assert readable_range(0, 1, "1") == "0 to 1"
    assert readable_range(0.0, 1.0, "1") == "0 to 1"
    assert readable_range(2, 100_000, "schools") == "2 to 100000 schools"
    assert readable_range(0.1, None, "practices") == "at least 0.1 practices"
    assert readable_range(None, None, "1") == ""


def test_an_out_of_range_error_reads_its_range(tmp_path, capsys):
    line = one_line_error(*run_file(SMALL, tmp_path, capsys, "--set", "tightness=3"), "tightness")
    assert "allowed range: 0 to 1;" in line and "0 to 1 1" not in line


# ------------------------------------------------------------------ sweep folders


def ishigami_sweep(tmp_path: Path, name: str = "exp", seed: int = 11) -> tuple[Path, Path]:
    from sim.experiments.sweep import run_sweep

    data = {
        "model": "ishigami",
        "root_seed": seed,
        "replications": 2,
        "chunk_size": 8,
        "design": {"method": "sobol", "n": 4},
    }  # 4 x 8 = 32 sets, 64 runs, 8 chunks
    exp = tmp_path / f"{name}.yaml"
    exp.write_text(yaml.safe_dump(data, sort_keys=False))
    return exp, run_sweep(exp, tmp_path / name, workers=1, progress=False)


def chunk(out: Path, k: int) -> Path:
    return out / "results" / f"chunk-{k:06d}.parquet"


def test_the_manifest_records_each_chunks_checksum_and_runs(tmp_path):
    import json

    from sim.experiments.chunks import sha256_file

    _, out = ishigami_sweep(tmp_path)
    records = json.loads((out / "manifest.json").read_text())["chunks"]
    assert sorted(map(int, records)) == list(range(8))
    assert records["3"]["runs"] == [24, 32]
    assert records["3"]["sha256"] == sha256_file(chunk(out, 3))


@pytest.mark.parametrize("damage", ["truncated", "empty", "swapped", "foreign", "garbage"])
def test_a_damaged_chunk_is_refused_by_analyze_and_repaired_on_resume(tmp_path, capsys, damage):
    from sim.analysis.analyze import analyze
    from sim.experiments.sweep import run_sweep

    exp, out = ishigami_sweep(tmp_path)
    reference = {k: chunk(out, k).read_bytes() for k in range(8)}
    target = chunk(out, 2)
    if damage == "truncated":
        target.write_bytes(reference[2][: len(reference[2]) // 2])
    elif damage == "empty":
        target.write_bytes(b"")
    elif damage == "swapped":
        target.write_bytes(reference[5])
    elif damage == "foreign":
        _, other = ishigami_sweep(tmp_path, "other", seed=12)
        shutil.copy(chunk(other, 2), target)
    else:
        target.write_bytes(b"PAR1" + b"\x00" * len(reference[2]))
    capsys.readouterr()
    rc, err = cli(["analyze", out], capsys)
    one_line_error(rc, err, "chunk-000002.parquet", "again")

    run_sweep(exp, out, workers=1, progress=False)
    said = capsys.readouterr().err
    assert "chunk-000002.parquet" in said and "running its runs again" in said
    assert {k: chunk(out, k).read_bytes() for k in range(8)} == reference
    assert list((out / "results").glob("*.damaged"))  # kept, not deleted
    analyze(out)


def test_a_chunk_written_but_not_recorded_is_checked_by_its_runs(tmp_path):
    import json

    from sim.experiments.sweep import run_sweep

    exp, out = ishigami_sweep(tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["chunks"]["4"]  # as if killed between writing chunk 4 and recording it
    (out / "manifest.json").write_text(json.dumps(manifest))
    stamp = chunk(out, 4).stat().st_mtime_ns
    run_sweep(exp, out, workers=1, progress=False)
    assert chunk(out, 4).stat().st_mtime_ns == stamp  # trusted: it holds runs 32 to 39


@pytest.mark.parametrize("text", [b"{not json", b"", b"[]", b'{"name": "x"}', b"\xff\xfe"])
def test_a_broken_manifest_is_a_clear_error(tmp_path, capsys, text):
    exp, out = ishigami_sweep(tmp_path)
    (out / "manifest.json").write_bytes(text)
    one_line_error(*cli(["analyze", out], capsys), "manifest.json", "damaged")
    one_line_error(
        *cli(["sweep", exp, "--out", out, "--workers", "1"], capsys), "manifest.json", "damaged"
    )


@pytest.mark.parametrize("text", [b"", b"not parquet at all"])
def test_a_broken_design_file_is_a_clear_error(tmp_path, capsys, text):
    _, out = ishigami_sweep(tmp_path)
    (out / "design.parquet").write_bytes(text)
    one_line_error(*cli(["analyze", out], capsys), "design.parquet", "damaged")


def test_a_finished_sweep_in_a_read_only_folder_is_read_without_writing(
    tmp_path, capsys, monkeypatch
):
    import sim.experiments.sweep

    exp, out = ishigami_sweep(tmp_path)

    def read_only(path):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(sim.experiments.sweep, "_open_lock", read_only)
    refuse_writes(monkeypatch, out)
    assert cli(["sweep", exp, "--out", out, "--workers", "1"], capsys)[0] == 0
    # analyze needs somewhere to write: the sweep's own folder is refused clearly...
    one_line_error(*cli(["analyze", out], capsys), "read-only", "--out")
    # ...and another folder works, reading the sweep only.
    assert cli(["analyze", out, "--out", tmp_path / "analysis"], capsys)[0] == 0
    assert (tmp_path / "analysis" / "summary.json").is_file()


def test_an_unfinished_sweep_in_a_read_only_folder_says_it_cannot_write(
    tmp_path, capsys, monkeypatch
):
    import sim.experiments.sweep

    exp, out = ishigami_sweep(tmp_path)
    chunk(out, 7).unlink()
    monkeypatch.setattr(
        sim.experiments.sweep,
        "_open_lock",
        lambda path: (_ for _ in ()).throw(OSError(errno.EROFS, "Read-only")),
    )
    one_line_error(
        *cli(["sweep", exp, "--out", out, "--workers", "1"], capsys),
        "cannot write",
        "8 of 64 runs",
        "--out",
    )


# ------------------------------------------------------------------ valid input never crashes


def test_a_budget_cut_to_zero_runs_and_schools_afford_nothing_that_costs(tmp_path, capsys):
    base = {"budget_cut.t_budget_cut": 1, "budget_cut.n_authorities_cut": 2}
    full = load_scenario(SMALL, {**base, "share_budget_cut": 1.0})
    assert full.share_budget_cut == 1.0
    from sim.experiments.runner import run_model

    cut = run_model(full, 1, 24).metrics
    half = run_model(load_scenario(SMALL, {**base, "share_budget_cut": 0.5}), 1, 24).metrics
    assert np.isfinite(cut[["perf_mean", "slots_used", "capacity", "depth"]].to_numpy()).all()
    assert cut["budget"].iloc[-1] == 0.0
    # With no budget every practice that costs is dropped at review and none chosen.
    assert cut["slots_used"].iloc[-1] < half["slots_used"].iloc[-1]
    rc, _ = cli(
        [
            "run",
            SMALL,
            "--steps",
            "6",
            "--out",
            tmp_path / "o",
            "--set",
            "share_budget_cut=1",
            "--set",
            "budget_cut.t_budget_cut=1",
            "--set",
            "budget_cut.n_authorities_cut=2",
        ],
        capsys,
    )
    assert rc == 0


def test_cost_weight_with_no_budget_is_finite_and_prohibitive():
    from sim.rules.actions import MIN_BUDGET, cost_weight

    assert cost_weight(0.3, 0.12, 1.0) == pytest.approx(0.036)
    assert np.isfinite(cost_weight(0.3, 0.12, 0.0)) and cost_weight(0.3, 0.12, 0.0) > 1e6
    assert cost_weight(0.3, 0.0, 0.0) == 0.0  # a free practice stays free
    assert cost_weight(0.3, 0.12, 0.0) == cost_weight(0.3, 0.12, MIN_BUDGET)


def test_the_hash_multiply_wraps_without_a_warning_in_python_mode():
    import warnings

    from sim.core.state import wrapping_mul

    rng = np.random.default_rng(0)
    keys = rng.integers(0, 2**62, 1000, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = [wrapping_mul(np.uint64(k), np.uint64(0x9E3779B97F4A7C15)) for k in keys]
    with np.errstate(over="ignore"):
        want = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    assert np.array_equal(np.array(got, np.uint64), want)


def test_a_run_without_jit_prints_no_overflow_warning(tmp_path):
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    code = (
        "import warnings, sys; warnings.simplefilter('error', RuntimeWarning); "
        "from sim.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "run",
            str(SMALL),
            "--steps",
            "3",
            "--out",
            str(tmp_path / "o"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "overflow" not in proc.stderr
    assert len(pd.read_csv(tmp_path / "o" / "metrics.csv")) == 4


# ------------------------------------------------------------------ real processes


@pytest.mark.parametrize(
    ("content", "args", "words"),
    [
        ("tightness: 0.4\n".encode("utf-16"), [], ["save it as UTF-8"]),
        (
            b"a: &a [1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\ntightness: *b\n",
            [],
            ["alias"],
        ),
        (b"tightness: 0.4\n", ["--steps", "0"], ["--steps"]),
        (b"n_schools: yes\n", [], ["n_schools"]),
    ],
)
def test_a_real_process_prints_one_line_and_no_traceback(tmp_path, content, args, words):
    path = scenario(tmp_path, content)
    exe = Path(sys.executable).parent / "nextpractice"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "sim.cli"]
    proc = subprocess.run(
        [*cmd, "run", str(path), "--out", str(tmp_path / "o"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    one_line_error(proc.returncode, proc.stderr, *words)
