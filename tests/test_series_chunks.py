"""Per-step series chunks have the results chunks' guarantees (sim.experiments.chunks).

A series chunk (``series/chunk-NNNNNN.parquet``, what ``compare``'s curves and
``runs.parquet`` are built from) was recognised by its name only: truncated, emptied,
swapped or deleted, it was skipped on resume and read as it was. Now it is recorded
with its results chunk; on resume a failing one makes the whole chunk run again (set
aside, said once on stderr), and readers refuse it in one line.

Most tests use the Ishigami test model with a made-up series (microseconds a run);
the compare tests run the real model on a tiny system.
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sim.core.errors import UserError
from sim.experiments.ishigami import run_ishigami
from sim.experiments.sweep import RunOutput, chunk_files, load_series, run_sweep
from tests.test_hostile_inputs import cli, one_line_error

N_CHUNKS = 8


def run_ishigami_series(params: dict[str, Any], seed: int, steps: int | None = None) -> RunOutput:
    """The Ishigami model with a three-step series, as compare's run function returns one."""
    out = run_ishigami(params, seed, steps)
    return RunOutput(
        out, pd.DataFrame({"step": [0, 1, 2], "y": [out["y"] * i for i in (0.0, 0.5, 1.0)]})
    )


def series_sweep(tmp_path: Path, name: str = "exp", seed: int = 11, **kw: Any) -> tuple[Path, Path]:
    """64 runs in 8 chunks, each with its series chunk."""
    data = {
        "model": "ishigami",
        "root_seed": seed,
        "replications": 2,
        "chunk_size": 8,
        "design": {"method": "sobol", "n": 4},
        **kw,
    }
    exp = tmp_path / f"{name}.yaml"
    exp.write_text(yaml.safe_dump(data, sort_keys=False))
    return exp, resume(exp, tmp_path / name)


def resume(exp: Path, out: Path) -> Path:
    return run_sweep(exp, out, workers=1, progress=False, run_fn=run_ishigami_series)


def series(out: Path, k: int) -> Path:
    return out / "series" / f"chunk-{k:06d}.parquet"


def results(out: Path, k: int) -> Path:
    return out / "results" / f"chunk-{k:06d}.parquet"


def snapshot(out: Path) -> dict[str, bytes]:
    """Every chunk file's bytes, and the manifest's chunk records."""
    files = {f"results/{k}": p.read_bytes() for k, p in chunk_files(out / "results").items()}
    files |= {f"series/{k}": p.read_bytes() for k, p in chunk_files(out / "series").items()}
    files["records"] = json.dumps(
        json.loads((out / "manifest.json").read_text())["chunks"], sort_keys=True
    ).encode()
    return files


def damage(out: Path, kind: str, k: int = 2, other: Path | None = None) -> None:
    target = series(out, k)
    data = target.read_bytes()
    if kind == "truncated":
        target.write_bytes(data[: len(data) // 2])
    elif kind == "empty":
        target.write_bytes(b"")
    elif kind == "swapped":
        target.write_bytes(series(out, 5).read_bytes())
    elif kind == "missing":
        target.unlink()
    elif kind == "garbage":
        target.write_bytes(b"PAR1" + b"\x00" * len(data))
    elif kind == "foreign":
        assert other is not None
        shutil.copy(series(other, k), target)
    else:
        raise AssertionError(kind)


def test_the_manifest_records_each_series_chunks_checksum_and_runs(tmp_path):
    from sim.experiments.chunks import sha256_file

    _, out = series_sweep(tmp_path)
    records = json.loads((out / "manifest.json").read_text())["chunks"]
    assert sorted(map(int, records)) == list(range(N_CHUNKS))
    rec = records["3"]["series"]
    assert rec["runs"] == [24, 32] and rec["file"] == "chunk-000003.parquet"
    assert rec["sha256"] == sha256_file(series(out, 3))
    assert rec["bytes"] == series(out, 3).stat().st_size


def test_a_sweep_without_series_records_none_for_each_chunk(tmp_path):
    from tests.test_hostile_inputs import ishigami_sweep

    _, out = ishigami_sweep(tmp_path)
    records = json.loads((out / "manifest.json").read_text())["chunks"]
    assert all(r["series"] is None for r in records.values())
    assert not (out / "series").exists()


@pytest.mark.parametrize("kind", ["truncated", "empty", "swapped", "missing", "garbage", "foreign"])
def test_a_damaged_series_chunk_is_refused_by_readers_and_repaired_on_resume(
    tmp_path, capsys, kind
):
    exp, out = series_sweep(tmp_path)
    clean = snapshot(out)
    other = series_sweep(tmp_path, "other", seed=12)[1] if kind == "foreign" else None
    damage(out, kind, other=other)
    capsys.readouterr()
    # Readers: one line naming the file and the fix, no traceback.
    line = one_line_error(*cli(["analyze", out], capsys), "series/chunk-000002.parquet", "again")
    assert "Traceback" not in line
    with pytest.raises(UserError, match=r"series/chunk-000002\.parquet.*again") as err:
        load_series(out)
    assert "\n" not in str(err.value)
    # Resume: the chunk runs again, said once; every file as a clean sweep wrote it.
    resume(exp, out)
    said = [line for line in capsys.readouterr().err.splitlines() if "chunk-" in line]
    assert len(said) == 1, said
    assert "series/chunk-000002.parquet" in said[0] and "running its runs again" in said[0]
    assert snapshot(out) == clean
    damaged = list((out / "series").glob("*.damaged*"))
    assert len(damaged) == (0 if kind == "missing" else 1)  # kept, never deleted
    assert not list((out / "results").glob("*.damaged*"))  # the results chunk was fine
    assert len(load_series(out)) == 64 * 3
    assert cli(["analyze", out], capsys)[0] == 0


def test_a_chunk_with_both_files_damaged_is_said_once_and_both_are_kept(tmp_path, capsys):
    exp, out = series_sweep(tmp_path)
    clean = snapshot(out)
    damage(out, "truncated", k=4)
    results(out, 4).write_bytes(b"")
    capsys.readouterr()
    resume(exp, out)
    said = [line for line in capsys.readouterr().err.splitlines() if "chunk-" in line]
    assert len(said) == 1 and "series/chunk-000004" in said[0] and "it is empty" in said[0]
    assert snapshot(out) == clean
    assert len(list((out / "series").glob("*.damaged*"))) == 1
    assert len(list((out / "results").glob("*.damaged*"))) == 1


def test_a_series_file_where_none_was_recorded_is_refused(tmp_path, capsys):
    exp, out = series_sweep(tmp_path)
    clean = snapshot(out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["chunks"]["6"]["series"] = None  # as a chunk whose runs all failed records it
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="records no series"):
        load_series(out)
    resume(exp, out)
    assert "records no series" in capsys.readouterr().err
    assert snapshot(out) == clean


def test_a_series_chunk_written_but_not_recorded_is_checked_by_its_runs(tmp_path, capsys):
    exp, out = series_sweep(tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["chunks"]["4"]  # as if killed between writing chunk 4 and recording it
    (out / "manifest.json").write_text(json.dumps(manifest))
    stamps = (results(out, 4).stat().st_mtime_ns, series(out, 4).stat().st_mtime_ns)
    assert len(load_series(out)) == 64 * 3
    resume(exp, out)
    assert (results(out, 4).stat().st_mtime_ns, series(out, 4).stat().st_mtime_ns) == stamps
    assert "chunk-" not in capsys.readouterr().err


def old_version(out: Path) -> None:
    """Make a sweep folder look as a version before series were recorded wrote it."""
    manifest = json.loads((out / "manifest.json").read_text())
    for rec in manifest["chunks"].values():
        del rec["series"]
    (out / "manifest.json").write_text(json.dumps(manifest))


def test_an_older_sweeps_series_are_verified_by_reading_and_accepted(tmp_path, capsys):
    exp, out = series_sweep(tmp_path)
    old_version(out)
    stamps = {k: p.stat().st_mtime_ns for k, p in chunk_files(out / "series").items()}
    assert len(load_series(out)) == 64 * 3  # readable as it is
    assert cli(["analyze", out], capsys)[0] == 0
    resume(exp, out)  # resumable: nothing to do, nothing rewritten
    assert {k: p.stat().st_mtime_ns for k, p in chunk_files(out / "series").items()} == stamps
    assert "chunk-" not in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["truncated", "empty", "swapped", "missing", "foreign"])
def test_an_older_sweeps_damaged_series_is_found_by_reading(tmp_path, capsys, kind):
    exp, out = series_sweep(tmp_path)
    clean = snapshot(out)
    other = series_sweep(tmp_path, "other", seed=12)[1] if kind == "foreign" else None
    old_version(out)
    damage(out, kind, other=other)
    if kind != "foreign":  # another sweep's chunk 2 holds the same run ids: not detectable
        with pytest.raises(UserError, match=r"series/chunk-000002\.parquet"):
            load_series(out)
        capsys.readouterr()
        resume(exp, out)
        assert "series/chunk-000002.parquet" in capsys.readouterr().err
        repaired = snapshot(out)
        assert {k: v for k, v in repaired.items() if k != "records"} == {
            k: v for k, v in clean.items() if k != "records"
        }
        records = json.loads(repaired["records"])
        assert records["2"]["series"] is not None  # the chunk run again is recorded now
    else:
        assert len(load_series(out)) == 64 * 3


def test_a_finished_sweep_with_series_is_read_from_a_read_only_folder(
    tmp_path, capsys, monkeypatch
):
    import sim.experiments.sweep

    exp, out = series_sweep(tmp_path)
    clean = snapshot(out)
    monkeypatch.setattr(
        sim.experiments.sweep,
        "_open_lock",
        lambda path: (_ for _ in ()).throw(OSError(errno.EROFS, "Read-only")),
    )
    resume(exp, out)  # finished and whole: nothing to write
    assert len(load_series(out)) == 64 * 3
    assert snapshot(out) == clean
    damage(out, "truncated", k=7)
    with pytest.raises(UserError, match="cannot write.*8 of 64 runs"):
        resume(exp, out)
    with pytest.raises(UserError, match=r"series/chunk-000007\.parquet"):
        load_series(out)


# ------------------------------------------------------------------ compare (the real model)

COMPARE = [
    "compare",
    "workshop",
    "top_down",
    "--replications",
    "2",
    "--steps",
    "4",
    "--set",
    "n_schools=40",
    "--set",
    "n_authorities=2",
]


def compare_files(out: Path) -> dict[str, bytes]:
    files = snapshot(out)
    files["runs"] = pd.read_parquet(out / "runs.parquet").to_json().encode()
    files["outcomes"] = (out / "outcomes.csv").read_bytes()
    return files


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cmp") / "cmp"
    from sim.cli import main

    assert main([*COMPARE, "--workers", "1", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("kind", ["truncated", "empty", "swapped", "missing"])
def test_compare_refuses_then_repairs_a_damaged_series_chunk(compared, tmp_path, capsys, kind):
    from sim.experiments.runner import load_runs

    out = tmp_path / "cmp"
    shutil.copytree(compared, out)
    clean = compare_files(out)
    target = series(out, 0)
    if kind == "swapped":
        target.write_bytes(series(out, 1).read_bytes())
    elif kind == "missing":
        target.unlink()
    else:
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 2] if kind == "truncated" else b"")
    capsys.readouterr()
    one_line_error(
        *cli(["analyze", out, "--out", tmp_path / "an"], capsys),
        "series/chunk-000000.parquet",
        "again",
    )
    with pytest.raises(UserError, match=r"series/chunk-000000\.parquet.*again") as err:
        load_runs(out, ["scenario", "year", "perf_mean", "perf_sd"])
    assert "\n" not in str(err.value)
    rc, err_text = cli([*COMPARE, "--workers", "1", "--out", out], capsys)
    assert rc == 0 and "Traceback" not in err_text
    said = [line for line in err_text.splitlines() if "chunk-" in line]
    assert len(said) == 1 and "series/chunk-000000.parquet" in said[0], err_text
    assert compare_files(out) == clean
    assert len(load_runs(out)) == 2 * 2 * 5


def test_a_damaged_runs_parquet_is_one_line(compared, tmp_path, capsys):
    from sim.experiments.runner import load_runs

    out = tmp_path / "cmp"
    shutil.copytree(compared, out)
    (out / "runs.parquet").write_bytes(b"not parquet")
    with pytest.raises(UserError, match=r"runs\.parquet: damaged.*compare"):
        load_runs(out)
    (out / "runs.parquet").unlink()
    with pytest.raises(UserError, match=r"runs\.parquet: missing.*compare"):
        load_runs(out)


def test_compare_with_one_or_two_workers_writes_identical_chunks(compared, tmp_path):
    from sim.cli import main

    out = tmp_path / "w2"
    assert main([*COMPARE, "--workers", "2", "--out", str(out)]) == 0
    assert compare_files(out) == compare_files(compared)


def test_a_damaged_series_file_of_an_unfinished_chunk_is_set_aside_not_overwritten(
    tmp_path, capsys
):
    exp, out = series_sweep(tmp_path)
    clean = snapshot(out)
    results(out, 3).unlink()  # as if stopped between writing chunk 3's series and results
    series(out, 3).write_bytes(b"junk")
    capsys.readouterr()
    resume(exp, out)
    assert "series/chunk-000003.parquet" in capsys.readouterr().err
    assert snapshot(out) == clean
    assert (out / "series" / "chunk-000003.parquet.damaged").read_bytes() == b"junk"
