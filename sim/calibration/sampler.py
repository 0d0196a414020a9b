"""A deterministic sampler for pyabc, and the executor that runs its simulations."""

from __future__ import annotations

import math
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

_CACHE: dict[int, Callable[[], Any]] = {}


# numpy's global generator is shared by the threads of a process (a Dask worker may run
# several): one candidate at a time per process, so no thread reseeds another's draws.
_LOCK = threading.Lock()


def _simulate_at(payload: bytes, entropy: int, call: int, index: int) -> Any:
    """Evaluate candidate ``index`` of sampler call ``call`` (in a worker or in process)."""
    import cloudpickle

    with _LOCK:
        key = hash(payload)
        fn = _CACHE.get(key)
        if fn is None:
            _CACHE.clear()
            fn = _CACHE[key] = cloudpickle.loads(payload)
        state = np.random.SeedSequence(entropy, spawn_key=(call, index)).generate_state(4)
        np.random.seed(state)  # noqa: NPY002 - pyabc's proposals use the global generator
        random.seed(int(state[0]))
        return fn()


def seeded_sampler(seed: int, executor: Any = None, slots: int = 1) -> Any:
    """A pyabc sampler whose result depends only on ``seed`` (see :class:`SeededSampler`)."""
    from pyabc.sampler import Sampler

    class SeededSampler(Sampler):
        """Evaluates candidates in index order with per-candidate seeds; keeps the first n.

        Candidates are run in batches (in this process, or on ``executor``: a process
        pool or a Dask client's executor). After each batch the first ``n`` accepted
        candidates by index are kept with the rejected ones before them, and
        ``nr_evaluations_`` counts up to the last one kept; so the population, its
        weights and the acceptance rate do not depend on the batch size, the number of
        workers or their speed. Batches beyond the needed candidate are wasted work, not
        a change of result.
        """

        def __init__(self) -> None:
            super().__init__()
            self.seed = int(seed)
            self.executor = executor
            self.slots = max(1, int(slots))
            self.calls = 0
            self.simulations = 0  # all candidates run, including wasted ones

        def sample_until_n_accepted(
            self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
        ):
            import cloudpickle

            call = self.calls
            self.calls += 1
            payload = cloudpickle.dumps(simulate_one)
            particles: list[Any] = []
            accepted: list[int] = []
            rate = 1.0
            while len(accepted) < n and len(particles) < max_eval:
                need = n - len(accepted)
                if self.executor is None:
                    batch = 1
                else:
                    batch = math.ceil(1.1 * need / max(rate, 0.02))
                    batch = max(self.slots, math.ceil(batch / self.slots) * self.slots)
                    batch = min(batch, 20 * n)
                if math.isfinite(max_eval):
                    batch = min(batch, int(max_eval) - len(particles))
                first = len(particles)
                idx = range(first, first + batch)
                if self.executor is None:
                    new = [_simulate_at(payload, self.seed, call, j) for j in idx]
                else:
                    futures = [
                        self.executor.submit(_simulate_at, payload, self.seed, call, j) for j in idx
                    ]
                    new = [f.result() for f in futures]
                self.simulations += len(new)
                for j, p in zip(idx, new, strict=True):
                    particles.append(p)
                    if p.accepted:
                        accepted.append(j)
                rate = max(len(accepted), 1) / len(particles)
            keep = accepted[n - 1] + 1 if len(accepted) >= n else len(particles)
            sample = self._create_empty_sample()
            for p in particles[:keep]:
                sample.append(p)
            self.nr_evaluations_ = keep
            if sample.n_accepted < n:
                sample.ok = False
            return sample

    return SeededSampler()


@dataclass
class _Pool:
    executor: Any
    slots: int


class _executor:  # noqa: N801 - used as a context manager, like a function
    """The executor for simulations: none (in process), a process pool or Dask."""

    def __init__(self, workers: int | None, scheduler: str | None) -> None:
        self.workers, self.scheduler = workers, scheduler
        self._cm: Any = None

    def __enter__(self) -> _Pool:
        from sim.experiments.sweep import _executor as sweep_executor

        n = self.workers if self.workers is not None else (len(os.sched_getaffinity(0)) or 1)
        if self.scheduler is None and n == 1:
            return _Pool(None, 1)
        self._cm = sweep_executor(self.workers, self.scheduler)
        ex, slots = self._cm.__enter__()
        return _Pool(ex, slots)

    def __exit__(self, *exc: Any) -> None:
        if self._cm is not None:
            self._cm.__exit__(*exc)
