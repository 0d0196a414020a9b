"""Run an experiment's design: many runs, streamed to disk in chunks, resumable.

:func:`run_sweep` is what ``nextpractice sweep`` calls. The output directory holds:

- ``design.parquet``: the design table (one row per parameter set, ``design_row``
  first), written before any run;
- ``manifest.json``: the experiment file's text and parsed form, the versions, the
  root seed, the factors and SALib problem, the base parameters and the outcomes, so
  :mod:`sim.analysis.analyze` needs nothing else; and, under ``chunks``, each chunk's SHA-256,
  size and run range (appended to ``chunks.jsonl`` as chunks are written, folded in
  when the sweep ends), checked on resume and by ``analyze`` (:mod:`sim.experiments.chunks`);
- ``results/chunk-NNNNNN.parquet``: one row per run with ``run_id``, ``design_row``,
  ``replication``, ``seed``, every varied parameter, every outcome, ``status``
  (``ok`` or ``error``) and ``error`` (the exception of a failed run);
- ``series/chunk-NNNNNN.parquet`` (only when the run function returns a
  :class:`RunOutput` with a series, as ``compare``'s does): every step of every
  successful run of the chunk, with ``run_id``, ``design_row``, ``replication`` and
  ``seed`` first. It is written before its results chunk, which marks the chunk done,
  and recorded with it (SHA-256, size, runs; under the chunk's ``series`` entry):
  results and series of a chunk are checked together, on resume and by every reader
  (:func:`load_series`, ``analyze``, ``compare``), and if either fails the whole chunk
  is run again (:mod:`sim.experiments.chunks`).

Run ``i`` is design row ``i // replications``, replication ``i % replications``; chunk
``k`` holds runs ``k * chunk_size`` up to the next chunk. Each chunk file is written to
a temporary name and moved into place with :func:`os.replace`, so it either exists
whole or not at all. Restarted with the same command, a sweep skips the chunks on disk
and runs the rest: no run is lost, none is recorded twice. Each run's seed is the
plan's (:meth:`sim.experiments.Plan.run_seed`: the root seed, the replication and, as
the design says, the row or the world, never the worker or the order), and rows are
sorted by ``run_id`` in each chunk, so the files are the same whether one
worker or forty ran them, locally or on a Dask cluster.

Memory stays flat: runs are submitted lazily, and at most a bounded number of runs
(about two chunks' worth) are in flight or waiting in memory for their chunk.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import fcntl
import json
import os
import platform
import sys
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.core.errors import RunsFailed, UserError
from sim.experiments import (
    ID_COLUMNS,
    STATUS_COLUMNS,
    Plan,
    RunFn,
    plan_experiment,
)
from sim.experiments.chunks import (
    CHUNK_NAME,
    CHUNKS,
    LEDGER,
    MANIFEST,
    RESULTS,
    SERIES,
    append_record,
    check_chunks,
    chunk_files,
    chunk_record,
    chunk_records,
    describe,
    read_manifest,
    set_aside,
    trusted_series,
    unfinished_series,
)
from sim.experiments.executor import Progress, attempt, open_pool
from sim.experiments.executor import describe as describe_error

DESIGN = "design.parquet"
_CHUNK = CHUNK_NAME
_TMP_PREFIX = ".tmp-"


# --------------------------------------------------------------------------------------
# The real model's run function
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOutput:
    """What a run function may return instead of a bare outcomes mapping.

    Attributes:
        outcomes: Outcome name to value.
        series: Per-step values of the run (one row per step), kept in the sweep's
            ``series/`` chunks; None keeps none.
    """

    outcomes: Mapping[str, float]
    series: Any = None  # a pandas DataFrame; Any keeps pandas out of this module's imports


def run_nextpractice(params: dict[str, Any], seed: int, steps: int | None) -> dict[str, float]:
    """Run the nextpractice model once and return its scalar outcomes.

    Args:
        params: Values of :class:`sim.model.params.Params` fields (base scenario plus the
            design row).
        seed: Seed of the run.
        steps: Number of steps, or ``None`` for the scenario's ``n_steps``.

    Returns:
        Outcome name to value, as :func:`sim.experiments.runner.outcomes` computes them.

    """
    from sim.experiments.runner import run_model
    from sim.model.params import Params

    return run_model(Params.model_validate(params), seed, steps).summary["outcomes"]


def run_nextpractice_series(params: dict[str, Any], seed: int, steps: int | None) -> RunOutput:
    """Run the nextpractice model once; return its outcomes and every step's metrics.

    What ``compare`` runs: the per-step metrics become its ``runs.parquet``.
    """
    from sim.experiments.runner import run_model
    from sim.model.params import Params

    res = run_model(Params.model_validate(params), seed, steps)
    return RunOutput(res.summary["outcomes"], res.metrics)


class _Outcomes(Mapping[str, str]):
    """The real model's outcomes, read from the core's declarations on first use.

    They are the plateau measures (:data:`sim.system.metrics.PLATEAU_DEFINITIONS`) and the
    final value of each of :data:`sim.experiments.runner.FINAL_METRICS`, prefixed ``final_``.
    """

    def _decl(self) -> dict[str, str]:
        from sim.experiments.runner import outcome_definitions

        return outcome_definitions()

    def __getitem__(self, key: str) -> str:
        return self._decl()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decl())

    def __len__(self) -> int:
        return len(self._decl())


#: Outcomes of the real model (declared in :mod:`sim.system.metrics` and
#: :mod:`sim.experiments.runner`).
NEXTPRACTICE_OUTCOMES: Mapping[str, str] = _Outcomes()


# --------------------------------------------------------------------------------------
# One run, in a worker
# --------------------------------------------------------------------------------------


def _execute(
    run_fn: RunFn, params: dict[str, Any], seed: int, steps: int | None
) -> tuple[str, str | None, dict[str, float], Any]:
    """Run once in a worker (:func:`sim.experiments.executor.attempt`); a failure is recorded.

    Returns:
        ``(status, error, outcomes, series)``: ``("ok", None, {...}, frame or None)`` or
        ``("error", "ValueError: ... (at file.py:12 in f)", {}, None)``.

    """
    done = attempt(run_fn, params, seed, steps)
    if not done.ok:
        return "error", done.error, {}, None
    out, series = done.value, None
    if isinstance(out, RunOutput):
        out, series = out.outcomes, out.series
    return "ok", None, {k: _as_float(v) for k, v in out.items()}, series


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------


def _write_atomic(path: Path, write: Callable[[Any], None]) -> None:
    """Write a file under a temporary name, flush it to disk, then move it into place."""
    tmp = path.with_name(f"{_TMP_PREFIX}{path.name}.{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_parquet(path: Path, table: pa.Table) -> None:
    _write_atomic(path, lambda fh: pq.write_table(table, fh))


def _write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    _write_atomic(path, lambda fh: fh.write(text.encode("utf-8")))


def _open_lock(path: Path) -> Any:
    """Open the lock file for writing (apart, so tests can fail it as a read-only disk would)."""
    return open(path, "w")


class _CannotWrite(Exception):
    """The output directory cannot be written (a read-only disk, no permission)."""


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the output directory (released if the process dies)."""
    try:
        opened = _open_lock(out / ".lock")
    except OSError as exc:
        raise _CannotWrite(exc.strerror or str(exc)) from None
    with opened as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(
                f"{out}: another sweep is writing here; wait for it or use another --out"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("nextpractice", "mesa", "numpy", "SALib", "pandas", "pyarrow"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _manifest(plan: Plan) -> dict[str, Any]:
    exp = plan.experiment
    return {
        "name": plan.name,
        "fingerprint": plan.fingerprint(),
        "experiment_file": str(plan.path),
        "experiment_text": plan.path.read_text(encoding="utf-8"),
        "experiment": exp.model_dump(mode="json"),
        "model": plan.model.name,
        "method": plan.method,
        "root_seed": exp.root_seed,
        "steps": exp.steps,
        "replications": exp.replications,
        "chunk_size": exp.chunk_size,
        "n_design_rows": len(plan.design),
        "n_runs": plan.n_runs,
        "factors": {
            n: {
                "kind": f.kind,
                "unit": f.unit,
                "dtype": f.dtype,
                "description": f.description,
                "range": list(plan.ranges[n]) if n in plan.ranges else None,
            }
            for n, f in plan.factors.items()
        },
        "problem": plan.problem,
        "outcomes": plan.outcomes,
        "base": plan.base,
        "bases": plan.bases,
        "seed_column": plan.seed_column,
        **plan.extra,
        **(
            {"first_replication": plan.first_replication, "part_of": plan.part_of}
            if plan.part_of
            else {}
        ),
        "versions": _versions(),
        CHUNKS: {},  # filled as chunks are written: sim.experiments.chunks
    }


def _result_schema(plan: Plan) -> pa.Schema:
    types = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}
    fields = [
        pa.field("run_id", pa.int64()),
        pa.field("design_row", pa.int64()),
        pa.field("replication", pa.int64()),
        pa.field("seed", pa.int64()),
    ]
    fields += [pa.field(n, types.get(f.dtype, pa.string())) for n, f in plan.factors.items()]
    drawn = dict.fromkeys(k for r in plan.per_replication or [] for k in r)
    fields += [pa.field(n, pa.float64()) for n in drawn if n not in plan.factors]
    fields += [pa.field(o, pa.float64()) for o in plan.outcomes]
    fields += [pa.field("status", pa.string()), pa.field("error", pa.string())]
    return pa.schema(fields)


def _prepare(out: Path, plan: Plan) -> None:
    """Start a new output directory, or check that an existing one is this experiment."""
    results = out / RESULTS
    manifest_path = out / MANIFEST
    series = out / SERIES
    for stale in [
        *out.glob(f"{_TMP_PREFIX}*"),
        *results.glob(f"{_TMP_PREFIX}*"),
        *series.glob(f"{_TMP_PREFIX}*"),
    ]:
        stale.unlink(missing_ok=True)  # left by a sweep killed while writing
    if manifest_path.exists():
        old = read_manifest(manifest_path)
        if old.get("fingerprint") != plan.fingerprint():
            raise UserError(
                f"{out} holds results of a different experiment (or of this file before it "
                f"was edited: {old.get('experiment_file', '?')}). To keep them, sweep into "
                "another --out; to start again, delete that directory"
            )
        return
    if chunk_files(results):
        raise UserError(f"{out}/{RESULTS} holds chunks but no {MANIFEST}; use another --out")
    results.mkdir(parents=True, exist_ok=True)
    design = pa.Table.from_pandas(plan.design.reset_index(), preserve_index=False)
    _write_parquet(out / DESIGN, design)
    _write_json(manifest_path, _manifest(plan))


# --------------------------------------------------------------------------------------
# The sweep
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    run_id: int
    chunk: int
    design_row: int
    replication: int
    seed: int
    values: dict[str, Any]


def _runs(plan: Plan, chunks: list[int]) -> Iterator[_Run]:
    """Yield the runs of the given chunks, in run_id order, built lazily."""
    reps = plan.experiment.replications
    size = plan.experiment.chunk_size
    design = plan.design
    for k in chunks:
        for run_id in range(k * size, min((k + 1) * size, plan.n_runs)):
            row, rep = divmod(run_id, reps)
            rep += plan.first_replication  # a round of added seeds continues each world's
            values = plan.applied(design.iloc[row])
            if plan.per_replication is not None:  # the same draw in every design row
                values = {**values, **plan.per_replication[rep]}
            yield _Run(run_id, k, row, rep, plan.run_seed(row, rep), values)


def _record(plan: Plan, run: _Run, status: str, error: str | None, out: dict[str, float]):
    rec: dict[str, Any] = {
        "run_id": run.run_id,
        "design_row": run.design_row,
        "replication": run.replication,
        "seed": run.seed,
        **run.values,
    }
    for name in plan.outcomes:
        rec[name] = out.get(name, float("nan"))
    if status == "ok":
        missing = [n for n in plan.outcomes if n not in out]
        if missing:
            status, error = "error", f"run returned no value for outcome(s) {missing}"
    rec["status"] = status
    rec["error"] = error
    return rec


def run_sweep(
    experiment_path: str | Path,
    out_dir: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    *,
    run_fn: RunFn | None = None,
    allow_failures: bool = False,
) -> Path:
    """Run every run of an experiment not yet on disk, and save the results in chunks.

    Args:
        experiment_path: The experiment YAML file.
        out_dir: Output directory; default ``runs/<experiment file stem>/``.
        workers: Local worker processes; default: the CPUs available. ``1`` runs in
            this process. Ignored when ``scheduler`` is given.
        scheduler: Address of a Dask distributed scheduler (``tcp://host:8786``); its
            workers need nextpractice installed.
        progress: Show the runs done on stderr: a bar on a terminal, a line every few
            percent elsewhere (:class:`sim.experiments.executor.Progress`).
        run_fn: Replace the model's run function, ``(params, seed, steps) -> outcomes``;
            must be importable by name (a module-level function) to reach workers.
        allow_failures: Accept failed runs (they stay recorded, with their errors, in
            the results and in ``failed_runs.csv``) instead of raising.

    Returns:
        The output directory.

    Raises:
        UserError: A bad experiment file, an output directory holding another
            experiment, or an unreachable scheduler.
        RunsFailed: Some runs failed (and ``allow_failures`` is False); every run,
            failed or not, is on disk, and ``failed_runs.csv`` lists the failures.

    """
    plan = plan_experiment(experiment_path)
    out = Path(out_dir) if out_dir is not None else Path("runs") / Path(experiment_path).stem
    sweep_plan(plan, out, workers, scheduler, progress, run_fn=run_fn)
    if getattr(plan.experiment.design, "resolve", None) is not None:
        fn = run_fn if run_fn is not None else plan.model.run_fn()
        _resolve(plan, out, fn, workers, scheduler, progress)
    failed, _ = failed_runs(out)
    if len(failed) and not allow_failures:
        raise RunsFailed(
            failure_message(
                f"sweep {out}",
                failed,
                plan.n_runs,
                out / FAILED,
                "the other runs are saved. A failed run is a result: running the same "
                "command again does not retry it; to accept the failures pass "
                "--allow-failures (analyze leaves failed runs out and says so), or fix "
                "the cause and sweep into a new --out",
            )
        )
    return out


def _resolve(
    plan: Any,
    out: Path,
    run_fn: Any,
    workers: int | None,
    scheduler: str | None,
    progress: bool,
) -> dict[str, Any]:
    """Run the rounds of added seeds of a finished robustness sweep (:mod:`.resolve`).

    Args:
        plan: The sweep's plan (a robustness design with ``resolve``).
        out: The sweep's folder, its runs all on disk.
        run_fn: The run function the sweep used.
        workers: Local worker processes (as the sweep's).
        scheduler: A Dask scheduler's address (as the sweep's).
        progress: Show the runs done on stderr.

    Returns:
        What ``resolve.json`` records: the rule, the rounds and their worlds, and per
        measure the worlds still within noise.
    """
    from sim.experiments.resolve import (
        RECORD,
        ROUNDS,
        ok_runs_of,
        round_plan,
        within_noise,
        write_record,
    )
    from sim.experiments.schema import WORLD

    design = plan.experiment.design
    spec = design.resolve
    measures = list(spec.measures or design.measures)
    policies = list(plan.extra["policies"])
    batch = spec.batch or plan.experiment.replications
    n = plan.experiment.replications
    columns = [WORLD, "policy", "replication", *measures]
    runs = ok_runs_of(out, columns)
    open_worlds = set(plan.design[WORLD].unique().tolist())
    rounds: list[dict[str, Any]] = []
    record_path = out / RECORD
    while n < spec.max_replications:
        undecided: set[int] = set()
        for m in measures:
            w = within_noise(runs, m, design.measures[m], policies)
            undecided |= {int(x) for x in w.index[w["within"]]}
        undecided &= open_worlds
        if not undecided:
            break
        add = min(batch, spec.max_replications - n)
        k = len(rounds) + 1
        worlds = sorted(undecided)
        folder = out / ROUNDS / f"round-{k:02d}"
        rounds.append({"round": k, "first_replication": n, "replications": add, "worlds": worlds})
        # Recorded before the round runs, so a resumed sweep finds the round and readers
        # (which check every chunk) see an unfinished round as unfinished.
        write_record(record_path, measures, rounds, None)
        sweep_plan(
            round_plan(plan, k, worlds, n, add), folder, workers, scheduler, progress, run_fn=run_fn
        )
        import pandas as pd

        runs = pd.concat([runs, ok_runs_of(folder, columns)], ignore_index=True)
        open_worlds, n = undecided, n + add
    still = {}
    for m in measures:
        w = within_noise(runs, m, design.measures[m], policies)
        still[m] = [int(x) for x in w.index[w["within"]]]
    return write_record(record_path, measures, rounds, still)


def sweep_plan(
    plan: Plan,
    out: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    *,
    run_fn: RunFn | None = None,
    reuse: Mapping[tuple[int, int], Reused] | None = None,
) -> Path:
    """Run every run of a checked plan not yet on disk in ``out``: the one batch path.

    :func:`run_sweep` (experiment files) and :func:`sim.experiments.comparison.compare`
    (scenarios side by side) both end here. Arguments as :func:`run_sweep`'s, and
    ``reuse``: runs already on record, by ``(design_row, replication)``, written as
    they are instead of being run again when their seed is the run's (``compare``
    growing a comparison by more replications). Failed runs are recorded, not
    raised: the caller decides (:func:`failed_runs`).
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create output directory {out} ({exc.strerror})") from None
    fn = run_fn if run_fn is not None else plan.model.run_fn()
    try:
        with _lock(out):
            _prepare(out, plan)
            try:
                _sweep(plan, out, fn, workers, scheduler, progress, reuse)
            finally:
                _fold_records(out)  # also when stopped: the records written so far
    except _CannotWrite as exc:
        _finished_read_only(out, plan, str(exc))  # a finished sweep needs no writing
    return out


def _finished_read_only(out: Path, plan: Plan, why: str) -> None:
    """Accept a read-only output directory if its sweep is finished and whole, else say why.

    Raises:
        UserError: the sweep has runs left (or damaged chunks) and cannot write them.
    """
    manifest_path = out / MANIFEST
    left = plan.n_runs
    if manifest_path.is_file():
        manifest = read_manifest(manifest_path)
        if manifest.get("fingerprint") == plan.fingerprint():
            good, _ = check_chunks(out, chunk_files(out / RESULTS), manifest)
            size = plan.experiment.chunk_size
            left -= sum(min(size, plan.n_runs - k * size) for k in good)
            if left == 0:
                return
    raise UserError(
        f"{out}: cannot write here ({why}) and {left} of {plan.n_runs} runs are "
        "still to do; sweep into a folder you can write with --out"
    )


def _sweep(
    plan: Plan,
    out: Path,
    fn: RunFn,
    workers: int | None,
    scheduler: str | None,
    progress: bool,
    reuse: Mapping[tuple[int, int], Reused] | None = None,
) -> None:
    results = out / RESULTS
    size = plan.experiment.chunk_size
    n_chunks = -(-plan.n_runs // size)
    done = _verified_chunks(out, chunk_files(results))  # damaged ones set aside, run again
    todo = [k for k in range(n_chunks) if k not in done]
    n_done = sum(min(size, plan.n_runs - k * size) for k in done if k < n_chunks)
    if not todo:
        return
    schema = _result_schema(plan)
    steps = plan.experiment.steps
    reuse = reuse or {}
    bar = Progress(plan.n_runs, plan.name, initial=n_done, enabled=progress)
    with bar, open_pool(workers, scheduler) as pool:
        # At most `window` runs are submitted but not yet written: bounded memory, and
        # enough to keep every worker busy while a chunk waits for its slowest run.
        window = max(2 * size, 4 * pool.slots)
        runs = _runs(plan, todo)
        pending: dict[cf.Future, _Run] = {}
        ready: list[tuple[_Run, Reused]] = []  # runs already on record (see `reuse`)
        buffers: dict[int, list[dict[str, Any]]] = {}
        series_buffers: dict[int, list[tuple[_Run, Any]]] = {}
        expected = {k: min(size, plan.n_runs - k * size) for k in todo}
        unwritten = 0
        exhausted = False
        while True:
            while not exhausted and unwritten < window:
                run = next(runs, None)
                if run is None:
                    exhausted = True
                    break
                known = reuse.get((run.design_row, run.replication))
                if known is not None and known.seed == run.seed:
                    ready.append((run, known))
                else:
                    params = plan.params_for(run.values)
                    pending[pool.submit(_execute, fn, params, run.seed, steps)] = run
                unwritten += 1
            if not pending and not ready:
                break
            finished_runs: list[tuple[_Run, tuple[str, str | None, dict[str, float], Any]]] = [
                (run, (r.status, r.error, r.outcomes, r.series)) for run, r in ready
            ]
            ready.clear()
            if pending and not finished_runs:
                finished, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in finished:
                    run = pending.pop(future)
                    try:
                        finished_runs.append((run, future.result()))
                    except BrokenProcessPool:
                        raise RuntimeError(
                            "a worker process died (out of memory, or killed); the chunks "
                            f"already written in {results} are safe: run the same command "
                            "again to continue"
                        ) from None
                    except Exception as exc:  # e.g. a Dask worker lost while running it
                        finished_runs.append(
                            (run, ("error", f"worker failure: {describe_error(exc)}", {}, None))
                        )
            for run, (status, error, values, series) in finished_runs:
                if series is not None:
                    series_buffers.setdefault(run.chunk, []).append((run, series))
                buf = buffers.setdefault(run.chunk, [])
                record = _record(plan, run, status, error, values)
                buf.append(record)
                bar.update(1, failed=record["status"] != "ok")
                if len(buf) == expected[run.chunk]:
                    buf.sort(key=lambda r: r["run_id"])
                    table = pa.Table.from_pylist(buf, schema=schema)
                    kept = _write_series(out, run.chunk, series_buffers.pop(run.chunk, []))
                    _write_parquet(results / _CHUNK.format(run.chunk), table)
                    # checksums and runs of both files, for resume and readers
                    _record_chunk(out, plan, run.chunk, kept)
                    unwritten -= len(buf)
                    del buffers[run.chunk]


@dataclass(frozen=True)
class Reused:
    """A run already on record elsewhere (a smaller comparison of the same scenarios).

    :func:`sweep_plan` writes it as the run would have (same seed, same parameters: the
    same outcomes and series), instead of running it again.
    """

    seed: int
    status: str
    error: str | None
    outcomes: dict[str, float]
    series: Any = None


# --------------------------------------------------------------------------------------
# Failed runs
# --------------------------------------------------------------------------------------

#: The table of a batch's failed runs, beside its results.
FAILED = "failed_runs.csv"


def failed_runs(out: str | Path):
    """Every failed run of a sweep on disk (its rounds of added seeds too), and the runs done.

    Writes ``failed_runs.csv`` in ``out`` (run id, design row, replication, seed and the
    error of each failed run; and the round, 0 for the sweep itself, when a robustness
    sweep added seeds) when there is one, and removes a stale one otherwise.

    Returns:
        ``(table, n_done)``: the failed runs (empty when none) and the runs on disk.
    """
    import pandas as pd

    from sim.experiments.resolve import round_folders

    out = Path(out)
    cols = ["run_id", "design_row", "replication", "seed", "status", "error"]
    folders = [out, *round_folders(out)]
    frames = []
    for k, folder in enumerate(folders):
        files = [str(p) for p in chunk_files(folder / RESULTS).values()]
        if files:
            import pyarrow.dataset as ds

            frame = ds.dataset(files, format="parquet").to_table(columns=cols).to_pandas()
            frames.append(frame.assign(round=k) if len(folders) > 1 else frame)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    order = ["round", "run_id"] if len(folders) > 1 else ["run_id"]
    failed = frame[frame["status"] != "ok"].sort_values(order, kind="stable")
    failed = failed.drop(columns="status").reset_index(drop=True)
    if len(failed):
        failed.to_csv(out / FAILED, index=False)
    else:
        (out / FAILED).unlink(missing_ok=True)
    return failed, len(frame)


def failure_message(what: str, failed: Any, n_runs: int, where: Path, fix: str) -> str:
    """One line: how many runs failed, the first error, where all are listed, what to do."""
    first = failed.iloc[0]
    return (
        f"{what}: {len(failed)} of {n_runs} runs failed (first: run {int(first['run_id'])}, "
        f"design row {int(first['design_row'])}, replication {int(first['replication'])}: "
        f"{first['error']}); every failed run and its error is listed in {where}; {fix}"
    )


def _verified_chunks(out: Path, files: dict[int, Path]) -> dict[int, Path]:
    """The chunks whose results and series files pass their check.

    Each failing file of the others is set aside (a missing series has none to move);
    the chunk is then run again whole, so its results and series stay one unit (same
    seeds: a good file of it is rewritten byte for byte). One line per chunk on stderr.
    """
    manifest = read_manifest(out / MANIFEST)
    good, bad = check_chunks(out, files, manifest)
    for problems in bad.values():
        said = []
        for path, why in problems:
            if path.exists():
                kept = set_aside(path)
                said.append(f"{describe(path)}: {why}; moved to {kept.name}")
            else:
                said.append(f"{describe(path)}: {why}")
        print(f"nextpractice: {'; '.join(said)}; running its runs again", file=sys.stderr)
    for path, why in unfinished_series(out, files, manifest).values():
        kept = set_aside(path)  # not overwritten by the run of its chunk: kept
        print(f"nextpractice: {describe(path)}: {why}; moved to {kept.name}", file=sys.stderr)
    return good


def _record_chunk(out: Path, plan: Plan, k: int, series: Path | None) -> None:
    """Record a chunk just written: SHA-256, size and runs of it and its series, in the ledger."""
    path = out / RESULTS / _CHUNK.format(k)
    append_record(out, k, chunk_record(path, k, plan.experiment.chunk_size, plan.n_runs, series))


def _fold_records(out: Path) -> None:
    """Put every chunk record into the manifest once the sweep has ended; drop the ledger."""
    manifest = read_manifest(out / MANIFEST)
    records = chunk_records(out, manifest)
    if records == manifest.get(CHUNKS) and not (out / LEDGER).exists():
        return
    manifest[CHUNKS] = dict(sorted(records.items(), key=lambda kv: int(kv[0])))
    _write_json(out / MANIFEST, manifest)
    (out / LEDGER).unlink(missing_ok=True)


def _write_series(out: Path, chunk: int, runs: list[tuple[_Run, Any]]) -> Path | None:
    """Write a chunk's per-step series (before its results chunk, which marks it done).

    Returns:
        The file written, or None when no run of the chunk kept a series.
    """
    if not runs:
        return None
    import pandas as pd

    frames = []
    for run, frame in sorted(runs, key=lambda x: x[0].run_id):
        ids = {
            "run_id": run.run_id,
            "design_row": run.design_row,
            "replication": run.replication,
            "seed": run.seed,
        }
        frames.append(frame.assign(**ids)[[*ids, *frame.columns]])
    table = pa.Table.from_pandas(pd.concat(frames, ignore_index=True), preserve_index=False)
    (out / SERIES).mkdir(exist_ok=True)
    path = out / SERIES / _CHUNK.format(chunk)
    _write_parquet(path, table)
    return path


def load_series(out_dir: str | Path, columns: list[str] | None = None):
    """Read a sweep's per-step series (every finished chunk's), in ``run_id`` and step order.

    Every chunk is checked first, its results and series file against the manifest
    (:func:`sim.experiments.chunks.trusted_series`).

    Args:
        out_dir: The sweep's output directory.
        columns: Columns to read; default all.

    Returns:
        One row per step of each run that kept a series.

    Raises:
        UserError: a damaged, missing or swapped chunk (one line: the file and the fix),
            or no series at all.
    """
    import pyarrow.dataset as ds

    files = [str(p) for p in trusted_series(Path(out_dir))]
    if not files:
        raise UserError(f"{out_dir}: no per-step series; only `compare` keeps them")
    return ds.dataset(files, format="parquet").to_table(columns=columns).to_pandas()


def load_results(out_dir: str | Path, columns: list[str] | None = None):
    """Read a sweep's results (all chunks on disk) as one pandas DataFrame.

    For small sweeps and tests; :mod:`sim.analysis.analyze` reads only the columns it needs.

    Args:
        out_dir: The sweep's output directory.
        columns: Columns to read; default all.

    Returns:
        One row per run, sorted by ``run_id``.

    """
    import pyarrow.dataset as ds

    files = [str(p) for p in chunk_files(Path(out_dir) / RESULTS).values()]
    if not files:
        raise UserError(f"{out_dir}: no results yet; run `nextpractice sweep` first")
    table = ds.dataset(files, format="parquet").to_table(columns=columns)
    frame = table.to_pandas()
    if "run_id" in frame:
        frame = frame.sort_values("run_id", kind="stable").reset_index(drop=True)
    return frame


__all__ = [
    "DESIGN",
    "ID_COLUMNS",
    "MANIFEST",
    "NEXTPRACTICE_OUTCOMES",
    "RESULTS",
    "SERIES",
    "STATUS_COLUMNS",
    "FAILED",
    "Reused",
    "RunOutput",
    "chunk_files",
    "failed_runs",
    "failure_message",
    "load_results",
    "load_series",
    "run_nextpractice",
    "run_nextpractice_series",
    "run_sweep",
    "sweep_plan",
]
