"""The one executor: every batch of runs goes through it, locally or on a Dask cluster.

``run``, ``compare``, ``sweep``, ``calibrate`` (its ABC sampler's simulations and its
predictive runs), ``validate`` and ``bench`` all open their workers with
:func:`open_pool` and hand them work through the :class:`Pool` it yields:

- one worker (``workers=1``): every task runs in this process when it is submitted;
- several: a local process pool (:class:`concurrent.futures.ProcessPoolExecutor`,
  started by forkserver, :func:`pool_context`);
- ``scheduler``: a Dask distributed cluster, through its client's executor.

A run that raises is not the end of the batch: :func:`attempt` runs it in the worker
and returns an :class:`Attempt`, the value or the error (its type, message and the
line that raised it, and the whole traceback), so every caller records failures the
same way and says how many there were (:class:`sim.core.errors.RunsFailed`).

Seeds never come from here: each run's seed is fixed before it is submitted, from the
batch's root seed (:mod:`sim.experiments.seeds`), so results do not depend on which of
these ran them, or on the number of workers.

:class:`Progress` tells a person how far a batch has gone: a bar on a terminal, and,
when stderr is a file or a pipe (a log, a CI job), a line every few percent rather
than a bar redrawn thousands of times into the log.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import itertools
import multiprocessing
import os
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sim.core.errors import UserError


def pool_context() -> multiprocessing.context.BaseContext:
    """Start method for worker processes: forkserver where available, else spawn.

    Forking a process that already runs threads (pyarrow, tqdm) can deadlock;
    workers import the model afresh and the plugins named in the parameters.
    """
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def workers_default() -> int:
    """Worker processes to use by default: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------------------
# A run that may fail
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What one task gave: its value, or the error it raised.

    Attributes:
        value: The task's return value (None when it failed).
        error: None, or one line: ``"ValueError: x is 3 (at rule.py:12 in apply)"``.
        trace: None, or the whole traceback, for the file that records the failure.
    """

    value: Any = None
    error: str | None = None
    trace: str | None = None

    @property
    def ok(self) -> bool:
        """True when the task returned."""
        return self.error is None


def describe(exc: BaseException) -> str:
    """An exception in one line: its type, its message and where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})"
    return f"{type(exc).__name__}: {exc}" + (where if frames else "")


def attempt(fn: Callable[..., Any], *args: Any) -> Attempt:
    """Call ``fn(*args)`` (in a worker); a raised exception becomes a recorded failure.

    ``KeyboardInterrupt`` and ``SystemExit`` are not caught: Ctrl-C stops the batch.
    """
    try:
        return Attempt(fn(*args))
    except Exception as exc:  # a failed run is data, not the end of the batch
        return Attempt(None, describe(exc), traceback.format_exc())


# --------------------------------------------------------------------------------------
# The pool
# --------------------------------------------------------------------------------------


class _SerialExecutor(cf.Executor):
    """Runs each task in this process when it is submitted (one worker, no pool)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # handed to the caller through the future, as a pool does
            future.set_exception(exc)
        # KeyboardInterrupt and SystemExit propagate at once: Ctrl-C stops the batch now.
        return future


_WORKER_DIED = (
    "a worker process died (out of memory, or killed); what was already written is safe: "
    "run the same command again to continue"
)


@dataclass
class Pool:
    """Workers for a batch, as :func:`open_pool` opens them.

    Attributes:
        executor: Where tasks run: this process, a process pool or a Dask client.
        slots: How many tasks it works on at once.
        serial: True when tasks run in this process, one at a time, as submitted.
    """

    executor: cf.Executor
    slots: int
    serial: bool

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> cf.Future:
        """Submit one task; its future."""
        return self.executor.submit(fn, *args)

    def imap(
        self, fn: Callable[..., Any], jobs: Iterable[tuple[Any, ...]], window: int | None = None
    ) -> Iterator[Any]:
        """``fn(*job)`` for each job, yielded in the jobs' order.

        Jobs are submitted lazily, at most ``window`` (default four per slot) ahead of
        the one yielded, so a long batch holds a bounded number of results in memory.
        In this process each job runs when its result is asked for.

        Raises:
            RuntimeError: a worker process died (the pool is then unusable).
        """
        if self.serial:
            for job in jobs:
                yield fn(*job)
            return
        window = window or 4 * self.slots
        it = iter(jobs)
        pending: deque[cf.Future] = deque(
            self.submit(fn, *job) for job in itertools.islice(it, window)
        )
        while pending:
            future = pending.popleft()
            try:
                result = future.result()
            except BrokenProcessPool:
                raise RuntimeError(_WORKER_DIED) from None
            job = next(it, None)
            if job is not None:
                pending.append(self.submit(fn, *job))
            yield result


@contextlib.contextmanager
def open_pool(workers: int | None = None, scheduler: str | None = None) -> Iterator[Pool]:
    """Open the workers of a batch, and close them when it ends.

    Args:
        workers: Local worker processes; default: the CPUs available
            (:func:`workers_default`). ``1`` runs every task in this process.
        scheduler: A Dask distributed scheduler's address (``tcp://host:8786``); its
            workers need nextpractice installed. ``workers`` is then ignored.

    Raises:
        UserError: ``workers`` below 1, or a scheduler that cannot be reached.
    """
    if scheduler is not None:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - dask[distributed] is a dependency
            raise UserError("--scheduler needs dask[distributed]; install it") from None
        try:
            import dask

            timeout = dask.config.get("distributed.comm.timeouts.connect")
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise UserError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); "
                "check the address (e.g. tcp://host:8786) and that the scheduler is running"
            ) from None
        try:
            slots = max(1, sum(client.nthreads().values()))
            yield Pool(client.get_executor(pure=False), slots, serial=False)
        finally:
            client.close()
        return
    n = workers if workers is not None else workers_default()
    if n < 1:
        raise UserError(f"--workers must be at least 1 (got {n})")
    if n == 1:
        yield Pool(_SerialExecutor(), 1, serial=True)
        return
    pool = cf.ProcessPoolExecutor(max_workers=n, mp_context=pool_context())
    try:
        yield Pool(pool, n, serial=False)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_batch(
    fn: Callable[..., Any],
    jobs: Iterable[tuple[Any, ...]],
    *,
    pool: Pool | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    desc: str = "runs",
    total: int | None = None,
) -> Iterator[Attempt]:
    """Run ``fn(*job)`` for every job through the one executor; yield each :class:`Attempt`.

    In the jobs' order, a failure recorded rather than raised. The batches that keep no
    files of their own (``validate``, ``bench``, a calibration's predictive runs) run
    here; sweeps and ``compare`` stream their runs to chunks through the same pool
    (:func:`sim.experiments.sweep.sweep_plan`).

    Args:
        fn: A module-level function (it must pickle by name to reach workers).
        jobs: The argument tuples, one per run; each carries its seed.
        pool: An open pool to use; default: one opened for this batch.
        workers: Local worker processes when no pool is given (see :func:`open_pool`).
        scheduler: A Dask scheduler's address when no pool is given.
        progress: Show the runs done on stderr (:class:`Progress`).
        desc: What the progress line calls the batch.
        total: The number of jobs, when ``jobs`` has no length.
    """
    jobs = list(jobs) if total is None and not hasattr(jobs, "__len__") else jobs
    n = total if total is not None else len(jobs)  # type: ignore[arg-type]
    if pool is None and scheduler is None and n <= 1:
        workers = 1  # a pool for one run is all start-up: run it here
    with contextlib.ExitStack() as stack:
        if pool is None:
            pool = stack.enter_context(open_pool(workers, scheduler))
        bar = stack.enter_context(Progress(n, desc, enabled=progress))
        for result in pool.imap(attempt, ((fn, *job) for job in jobs)):
            bar.update(1, failed=not result.ok)
            yield result


# --------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------


class Progress:
    """Runs done of a batch, on stderr: a bar on a terminal, else a line every few percent.

    On a terminal, tqdm's bar (runs done, rate, time left, failures so far). Anywhere
    else (a log file, a pipe, a CI job) a bar would be redrawn into the file at every
    run, so instead one line is written each time another :data:`STEP` of the runs is
    done, at most one every :data:`EVERY_S` seconds, and a last line when the batch
    ends if any was written: a batch of a few seconds writes nothing.

    Args:
        total: Runs in the batch.
        desc: What to call the batch.
        initial: Runs already done (a resumed sweep).
        enabled: False shows nothing.
        stream: Where to write; default ``sys.stderr``.
    """

    #: Share of the runs between two lines on a non-terminal.
    STEP = 0.05
    #: Least seconds between two lines on a non-terminal.
    EVERY_S = 5.0

    def __init__(
        self,
        total: int,
        desc: str = "runs",
        *,
        initial: int = 0,
        enabled: bool = True,
        stream: TextIO | None = None,
    ) -> None:
        self.total, self.desc, self.done, self.failed = int(total), desc, int(initial), 0
        self._initial = int(initial)
        self._stream = stream if stream is not None else sys.stderr
        self._bar: Any = None
        self._lines = 0
        self._t0 = self._last = time.monotonic()
        self._next = self._threshold(self.done)
        self.enabled = bool(enabled)
        if self.enabled and _is_terminal(self._stream):
            from tqdm import tqdm

            self._bar = tqdm(
                total=self.total,
                initial=self.done,
                unit="run",
                desc=desc,
                dynamic_ncols=True,
                file=self._stream,
            )

    def _threshold(self, done: int) -> int:
        """Runs done at which the next line is due: the next multiple of STEP above ``done``."""
        step = max(1, round(self.STEP * self.total))
        return (done // step + 1) * step

    def update(self, n: int = 1, failed: int | bool = 0) -> None:
        """Count ``n`` more runs done, ``failed`` of them failed."""
        self.done += n
        self.failed += int(failed)
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
            if self.failed:
                self._bar.set_postfix(failed=self.failed, refresh=False)
            return
        now = time.monotonic()
        if self.done >= self._next and now - self._last >= self.EVERY_S and self.done < self.total:
            self._write(now)
            self._next = self._threshold(self.done)

    def _write(self, now: float) -> None:
        ran = self.done - self._initial
        rate = ran / (now - self._t0) if now > self._t0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        text = (
            f"{self.desc}: {self.done:,} of {self.total:,} runs "
            f"({self.done / max(self.total, 1):.0%}), {self.failed} failed, "
            f"{rate:.3g} runs/s"
        )
        if self.done < self.total and left == left:
            text += f", about {_duration(left)} left"
        elif self.done >= self.total:
            text += f", done in {_duration(now - self._t0)}"
        print(text, file=self._stream, flush=True)
        self._last = now
        self._lines += 1

    def close(self) -> None:
        """End the bar; on a non-terminal, a last line if any line was written."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled and self._lines:
            self._write(time.monotonic())
            self._lines = 0

    def __enter__(self) -> Progress:
        """Use as a context manager: closed at the end of the block."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the bar or write the last line."""
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
