"""Knowing a sweep's chunk files are the ones it wrote: checksums and run ranges.

A chunk was once recognised by its file name only, so a truncated chunk was
skipped on resume and never repaired, and a chunk overwritten by another
chunk's valid file was analysed as complete with one chunk's runs missing and
another's twice. Now :func:`sim.experiments.sweep.run_sweep` records each chunk's SHA-256,
size and run range (``[first run_id, last run_id + 1)``) in the manifest's
``chunks`` entry as it writes the chunk, and every reader checks the file
against that record (and, for a chunk written by a sweep killed before it could
record it, or by an older version, against the run range it must hold):

* on resume, a chunk that fails is moved aside (``*.damaged``, nothing is
  deleted), its runs are run again, and the sweep says so;
* :func:`sim.analysis.analyze.analyze` refuses a sweep with a chunk that fails, naming
  the chunk and saying to resume the sweep.

Per-step series (``series/chunk-NNNNNN.parquet``, written by ``compare``'s run
function just before its results chunk) have the same guarantees: the chunk's
record holds, under ``series``, the series file's SHA-256, size and run range, or
None when the chunk kept no series (a sweep whose run function returns none, or a
chunk whose runs all failed). Results chunk and series chunk are one unit: if
either fails its check, the chunk's runs are all run again (same seeds, so the
good file is rewritten byte for byte), the damaged file is set aside, and the
sweep says so once for the chunk. Readers of series (:func:`sim.experiments.sweep.load_series`,
``compare``'s ``runs.parquet``, :func:`sim.experiments.runner.load_runs`) check them through
:func:`trusted_chunks` as ``analyze`` does.

A record without a ``series`` key (a sweep of a version before series were
recorded) or no record at all (a sweep killed between writing a chunk and recording
it) is verified by reading: a series file there must read as Parquet and hold only
the chunk's run ids, in order; a missing one is accepted only if the sweep keeps no
series (no ``series/`` chunk and no recorded series) or the chunk has no successful
run. Such a chunk is accepted unrecorded; a resume that re-runs it records it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from sim.core.errors import UserError

#: The manifest's key holding the chunk records.
CHUNKS = "chunks"
#: The ledger a running sweep appends each chunk's record to (one JSON line per chunk),
#: folded into the manifest when the sweep ends: appending keeps the cost of recording
#: a chunk constant, where rewriting the manifest each time would grow with the sweep.
LEDGER = "chunks.jsonl"
#: The sweep's folders of chunk files: results (one row per run) and per-step series.
RESULTS = "results"
SERIES = "series"
MANIFEST = "manifest.json"
#: A chunk record's key for its series file's record (None: the chunk kept no series).
SERIES_RECORD = "series"
CHUNK_NAME = "chunk-{:06d}.parquet"
_CHUNK_RE = re.compile(r"^chunk-(\d{6})\.parquet$")


def chunk_files(folder: Path) -> dict[int, Path]:
    """Complete chunk files in a ``results`` or ``series`` folder, by chunk index."""
    found = {}
    if folder.is_dir():
        for p in folder.iterdir():
            m = _CHUNK_RE.match(p.name)
            if m:
                found[int(m.group(1))] = p
    return dict(sorted(found.items()))


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in 1 MB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_range(k: int, chunk_size: int, n_runs: int) -> tuple[int, int]:
    """The runs chunk ``k`` holds: ``run_id`` from the first up to (not including) the second."""
    return k * chunk_size, min((k + 1) * chunk_size, n_runs)


def chunk_record(
    path: Path, k: int, chunk_size: int, n_runs: int, series: Path | None = None
) -> dict[str, Any]:
    """What the manifest keeps about a chunk just written: its checksum, size and runs.

    ``series``: the chunk's per-step series file, written with it, or None when the
    chunk kept none; its checksum, size and runs go under the ``series`` key.
    """
    first, stop = run_range(k, chunk_size, n_runs)
    rec: dict[str, Any] = {
        "file": path.name,
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
        "runs": [first, stop],
    }
    rec[SERIES_RECORD] = (
        None
        if series is None
        else {
            "file": series.name,
            "sha256": sha256_file(series),
            "bytes": series.stat().st_size,
            "runs": [first, stop],
        }
    )
    return rec


def _against_record(
    path: Path, record: dict[str, Any], size: int, first: int, stop: int
) -> str | None:
    """Why a file is not the one its record describes (runs, size, SHA-256), or None."""
    if record.get("runs") != [first, stop]:
        return f"the manifest records runs {record.get('runs')}, not [{first}, {stop}]"
    if size != record.get("bytes"):
        return f"it has {size} bytes, the manifest records {record.get('bytes')} (truncated?)"
    try:
        digest = sha256_file(path)
    except OSError as exc:
        return f"cannot read it ({exc.strerror})"
    if digest != record.get("sha256"):
        return "its checksum does not match the manifest (damaged, or another chunk's file)"
    return None


def _size(path: Path) -> tuple[int | None, str | None]:
    """A file's size, or why it cannot be read."""
    try:
        return path.stat().st_size, None
    except FileNotFoundError:
        return None, "it is missing"
    except OSError as exc:
        return None, f"cannot read it ({exc.strerror})"


def _run_ids(path: Path) -> list[int]:
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=["run_id"]).column("run_id").to_pylist()


def problem_with(
    path: Path, k: int, record: dict[str, Any] | None, chunk_size: int, n_runs: int
) -> str | None:
    """Why chunk ``k``'s results file cannot be trusted, or None when it is the one written.

    With a record, the file's size and SHA-256 must match it. Without one (a sweep
    killed between writing a chunk and recording it, or a sweep of an older
    version), the file must read as Parquet and hold exactly the chunk's run ids.
    """
    first, stop = run_range(k, chunk_size, n_runs)
    if first >= n_runs:
        return f"chunk {k} is beyond the {n_runs} runs of this sweep"
    size, why = _size(path)
    if size is None:
        return why
    if size == 0:
        return "it is empty"
    if record is not None:
        return _against_record(path, record, size, first, stop)
    try:
        ids = _run_ids(path)
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        return f"it is not a readable results file ({type(exc).__name__})"
    if ids != list(range(first, stop)):
        return (
            f"it does not hold runs {first} to {stop - 1} in order (another chunk's or "
            "another sweep's file?)"
        )
    return None


def series_problem(
    path: Path,
    results: Path,
    k: int,
    record: dict[str, Any] | None,
    chunk_size: int,
    n_runs: int,
    keeps_series: bool,
) -> str | None:
    """Why chunk ``k``'s series file (present or not) cannot be trusted, or None.

    Args:
        path: Where the chunk's series file is, or would be.
        results: The chunk's results file (read only for an unrecorded missing series).
        k: The chunk's index.
        record: The chunk's record (None: unrecorded).
        chunk_size: Runs per chunk.
        n_runs: Runs of the sweep.
        keeps_series: Whether the sweep keeps series at all (any recorded, or any on disk).

    A record with a ``series`` entry is checked exactly: a file recorded must be there
    with its size and SHA-256, none recorded must mean none there. Otherwise (an older
    version's record, or none) the file is verified by reading, see the module's text.
    """
    first, stop = run_range(k, chunk_size, n_runs)
    size, why = _size(path)
    if record is not None and SERIES_RECORD in record:
        rec = record[SERIES_RECORD]
        if rec is None:
            if size is None:
                return None
            return "the manifest records no series for this chunk (another chunk's file?)"
        if size is None:
            return f"{why} (the manifest records it)"
        if size == 0:
            return "it is empty"
        if not isinstance(rec, dict):
            return "the manifest's record of it is damaged"
        return _against_record(path, rec, size, first, stop)
    if size is None:
        if why != "it is missing":
            return why
        if not keeps_series:
            return None
        try:
            import pyarrow.parquet as pq

            status = pq.read_table(results, columns=["status"]).column("status").to_pylist()
        except Exception:  # the results file's own check says what is wrong with it
            return None
        return "it is missing" if "ok" in status else None
    if size == 0:
        return "it is empty"
    try:
        ids = _run_ids(path)
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        return f"it is not a readable series file ({type(exc).__name__})"
    if any(not first <= i < stop for i in ids) or ids != sorted(ids):
        return (
            f"it does not hold only runs {first} to {stop - 1} in order (another "
            "chunk's or another sweep's file?)"
        )
    return None


#: One file of a chunk that failed its check, and why.
Problem = tuple[Path, str]


def check_chunks(
    out: Path, files: dict[int, Path], manifest: dict[str, Any]
) -> tuple[dict[int, Path], dict[int, list[Problem]]]:
    """Split chunks into the good and the bad, checking results and series files.

    Args:
        out: The sweep's output directory.
        files: Chunk index to results file, as :func:`chunk_files` finds them.
        manifest: The sweep's manifest (its ``chunk_size``, ``n_runs`` and ``chunks``).

    Returns:
        ``(good, bad)``: chunk index to results file for the chunks whose files
        (results and, if any, series) pass; chunk index to every failing file of it,
        with why (the series file of a missing series too, which does not exist).
    """
    records = chunk_records(out, manifest)
    size, n_runs = int(manifest["chunk_size"]), int(manifest["n_runs"])
    series = out / SERIES
    keeps_series = bool(chunk_files(series)) or any(
        isinstance(r, dict) and r.get(SERIES_RECORD) for r in records.values()
    )
    good: dict[int, Path] = {}
    bad: dict[int, list[Problem]] = {}
    for k, path in files.items():
        record = records.get(str(k))
        if not isinstance(record, dict):
            record = None
        problems: list[Problem] = []
        why = problem_with(path, k, record, size, n_runs)
        if why is not None:
            problems.append((path, why))
        if run_range(k, size, n_runs)[0] < n_runs:  # beyond the sweep: its series is moot
            spath = series / path.name
            swhy = series_problem(spath, path, k, record, size, n_runs, keeps_series)
            if swhy is not None:
                problems.append((spath, swhy))
        if problems:
            bad[k] = problems
        else:
            good[k] = path
    return good, bad


def unfinished_series(
    out: Path, files: dict[int, Path], manifest: dict[str, Any]
) -> dict[int, Problem]:
    """Series files of chunks with no results file, that fail a check by reading.

    A series file is written just before its results chunk, so one without it is
    normally a chunk a stopped sweep had not finished (the resume rewrites it, byte for
    byte). One that is not even that (unreadable, or holding other runs) is returned,
    for the resume to set it aside rather than overwrite it.
    """
    size, n_runs = int(manifest["chunk_size"]), int(manifest["n_runs"])
    out_problems: dict[int, Problem] = {}
    for k, path in chunk_files(out / SERIES).items():
        if k not in files:
            why = series_problem(path, path, k, None, size, n_runs, keeps_series=False)
            if why is not None:
                out_problems[k] = (path, why)
    return out_problems


def describe(path: Path) -> str:
    """A chunk file's name as the sweep's messages give it: ``series/chunk-...`` or as is."""
    return f"{SERIES}/{path.name}" if path.parent.name == SERIES else path.name


def trusted_chunks(out: Path, manifest: dict[str, Any]) -> dict[int, Path]:
    """The sweep's results chunks, each checked with its series (for readers).

    Raises:
        UserError: a results or series chunk is truncated, empty, missing, damaged or
            another chunk's file; one line naming it and saying to run the command that
            wrote the folder again, which repairs it.
    """
    good, bad = check_chunks(out, chunk_files(out / RESULTS), manifest)
    if bad:
        path, why = next(iter(bad.values()))[0]
        more = f" (and {len(bad) - 1} more chunks)" if len(bad) > 1 else ""
        raise UserError(
            f"{path}: {why}{more}. Run the same `nextpractice sweep` (or "
            "`compare`) command again: it re-runs the damaged chunks"
        )
    return good


def trusted_series(out: Path) -> list[Path]:
    """The series files of a sweep's chunks, all checked (in chunk order; for readers).

    Only chunks with a results file count: a series file without one is a chunk a
    stopped sweep had not finished, and a resume rewrites it.

    Raises:
        UserError: as :func:`trusted_chunks`; a missing or damaged manifest.
    """
    manifest_path = out / MANIFEST
    if not manifest_path.is_file():
        raise UserError(
            f"{out}: no {MANIFEST} here, so this is not a sweep's or a "
            "comparison's output directory"
        )
    good = trusted_chunks(out, read_manifest(manifest_path))
    return [p for p in (out / SERIES / path.name for path in good.values()) if p.is_file()]


def append_record(out: Path, k: int, record: dict[str, Any]) -> None:
    """Append chunk ``k``'s record to the sweep's ledger, flushed to disk."""
    line = json.dumps({"chunk": k, **record}, sort_keys=True) + "\n"
    with open(out / LEDGER, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def chunk_records(out: Path, manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every chunk record: the manifest's, then the ledger's (a later line wins).

    A line cut short by a kill is skipped: its chunk is then checked by its runs.
    """
    records = dict(manifest.get(CHUNKS) or {})
    try:
        lines = (out / LEDGER).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            rec = json.loads(line)
            k = int(rec.pop("chunk"))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        records[str(k)] = rec
    return records


def set_aside(path: Path) -> Path:
    """Move a chunk that failed its check out of the way, keeping it (``.damaged``)."""
    target = path.with_name(path.name + ".damaged")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.damaged{n}")
    os.replace(path, target)
    return target


def read_manifest(path: Path) -> dict[str, Any]:
    """A sweep's manifest, or a UserError saying it is damaged and what to do.

    Raises:
        UserError: not readable, not JSON, or missing what a sweep writes.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(
            f"{path}: damaged, not the JSON a sweep writes ({type(exc).__name__}); "
            "restore it, or sweep again into a new --out"
        ) from None
    need = ("fingerprint", "n_runs", "chunk_size", "method", "outcomes", "factors", "name")
    missing = [k for k in need if not isinstance(data, dict) or k not in data]
    if missing:
        raise UserError(
            f"{path}: damaged, it lacks {', '.join(missing)}; restore it, or "
            "sweep again into a new --out"
        )
    try:
        if int(data["n_runs"]) < 0 or int(data["chunk_size"]) < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise UserError(
            f"{path}: damaged, n_runs or chunk_size is not a count; restore it, "
            "or sweep again into a new --out"
        ) from None
    return data
