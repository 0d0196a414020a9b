"""Knowing a sweep's chunk files are the ones it wrote: checksums and run ranges.

A chunk was once recognised by its file name only, so a truncated chunk was
skipped on resume and never repaired, and a chunk overwritten by another
chunk's valid file was analysed as complete with one chunk's runs missing and
another's twice. Now :func:`sim.sweep.run_sweep` records each chunk's SHA-256,
size and run range (``[first run_id, last run_id + 1)``) in the manifest's
``chunks`` entry as it writes the chunk, and every reader checks the file
against that record (and, for a chunk written by a sweep killed before it could
record it, or by an older version, against the run range it must hold):

* on resume, a chunk that fails is moved aside (``*.damaged``, nothing is
  deleted), its runs are run again, and the sweep says so;
* :func:`sim.analyze.analyze` refuses a sweep with a chunk that fails, naming
  the chunk and saying to resume the sweep.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from sim.errors import UserError

#: The manifest's key holding the chunk records.
CHUNKS = "chunks"
#: The ledger a running sweep appends each chunk's record to (one JSON line per chunk),
#: folded into the manifest when the sweep ends: appending keeps the cost of recording
#: a chunk constant, where rewriting the manifest each time would grow with the sweep.
LEDGER = "chunks.jsonl"


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


def chunk_record(path: Path, k: int, chunk_size: int, n_runs: int) -> dict[str, Any]:
    """What the manifest keeps about a chunk just written: its checksum, size and runs."""
    first, stop = run_range(k, chunk_size, n_runs)
    return {"file": path.name, "sha256": sha256_file(path), "bytes": path.stat().st_size,
            "runs": [first, stop]}


def problem_with(path: Path, k: int, record: dict[str, Any] | None, chunk_size: int,
                 n_runs: int) -> str | None:
    """Why chunk ``k``'s file cannot be trusted, or None when it is the one written.

    With a record, the file's size and SHA-256 must match it. Without one (a sweep
    killed between writing a chunk and recording it, or a sweep of an older
    version), the file must read as Parquet and hold exactly the chunk's run ids.
    """
    first, stop = run_range(k, chunk_size, n_runs)
    if first >= n_runs:
        return f"chunk {k} is beyond the {n_runs} runs of this sweep"
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot read it ({exc.strerror})"
    if size == 0:
        return "it is empty"
    if record is not None:
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
    try:
        import pyarrow.parquet as pq

        ids = pq.read_table(path, columns=["run_id"]).column("run_id").to_pylist()
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        return f"it is not a readable results file ({type(exc).__name__})"
    if ids != list(range(first, stop)):
        return (f"it does not hold runs {first} to {stop - 1} in order (another chunk's or "
                "another sweep's file?)")
    return None


def check_chunks(out: Path, files: dict[int, Path], manifest: dict[str, Any]
                 ) -> tuple[dict[int, Path], dict[int, str]]:
    """Split chunk files into the good and the bad (with why), against the manifest.

    Args:
        out: The sweep's output directory.
        files: Chunk index to file, as :func:`sim.sweep.chunk_files` finds them.
        manifest: The sweep's manifest (its ``chunk_size``, ``n_runs`` and ``chunks``).
    """
    records = chunk_records(out, manifest)
    size, n_runs = int(manifest["chunk_size"]), int(manifest["n_runs"])
    good: dict[int, Path] = {}
    bad: dict[int, str] = {}
    for k, path in files.items():
        why = problem_with(path, k, records.get(str(k)), size, n_runs)
        if why is None:
            good[k] = path
        else:
            bad[k] = why
    return good, bad


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
        raise UserError(f"{path}: damaged, not the JSON a sweep writes ({type(exc).__name__}); "
                        "restore it, or sweep again into a new --out") from None
    need = ("fingerprint", "n_runs", "chunk_size", "method", "outcomes", "factors", "name")
    missing = [k for k in need if not isinstance(data, dict) or k not in data]
    if missing:
        raise UserError(f"{path}: damaged, it lacks {', '.join(missing)}; restore it, or "
                        "sweep again into a new --out")
    try:
        if int(data["n_runs"]) < 0 or int(data["chunk_size"]) < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise UserError(f"{path}: damaged, n_runs or chunk_size is not a count; restore it, "
                        "or sweep again into a new --out") from None
    return data
