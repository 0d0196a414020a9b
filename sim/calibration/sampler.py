"""A deterministic sampler for pyabc, whose simulations run through the one executor.

Its candidates are submitted to the :class:`sim.experiments.executor.Pool` that
:func:`sim.experiments.executor.open_pool` opens (in this process, a process pool or
a Dask cluster), as every batch's runs are; a candidate whose simulation raises is
recorded (:class:`Failure`), not fatal.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.experiments.executor import Pool, describe
from sim.experiments.seeds import tree_state

_CACHE: dict[int, Callable[[], Any]] = {}


# numpy's global generator is shared by the threads of a process (a Dask worker may run
# several): one candidate at a time per process, so no thread reseeds another's draws.
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Failure:
    """A candidate whose simulation raised: where it was, and the error.

    Attributes:
        call: The sampler call (one per generation, from 0).
        index: The candidate's index in that call.
        error: One line: type, message and the line that raised.
        parameters: The candidate's parameter values, when the simulation saw them.
        seed: The run's seed, when it had one.
    """

    call: int
    index: int
    error: str
    parameters: dict[str, float] | None = None
    seed: int | None = None


class SimulationFailed(Exception):
    """A candidate's simulation raised; carries its parameters and seed to the sampler."""

    def __init__(self, parameters: dict[str, float], seed: int, error: str) -> None:
        """Keep what the failure record needs."""
        super().__init__(error)
        self.parameters, self.seed, self.error = parameters, seed, error


class MostFail(Exception):
    """More than half a generation's candidates failed (at least 10, or the population).

    Sampling on would only reject parameter sets because the model breaks there (or run
    for ever if it always breaks), so the calibration stops and says so.
    """

    def __init__(self, failures: list[Failure], tried: int) -> None:
        """Keep the failures so far and how many candidates were tried."""
        super().__init__(f"{len(failures)} failed of {tried} candidates")
        self.failures, self.tried = failures, tried


def _simulate_at(payload: bytes, entropy: int, call: int, index: int) -> Any:
    """Evaluate candidate ``index`` of sampler call ``call`` (in a worker or in process).

    Its random state is the seed tree's words at ``(call, index)`` under the calibration
    seed (:func:`sim.experiments.seeds.tree_state`): pyabc's proposal draws from it and
    so does the run's seed (:class:`sim.calibration.simulate.Simulator`). A simulation
    that raises gives a :class:`Failure`.
    """
    import cloudpickle

    with _LOCK:
        key = hash(payload)
        fn = _CACHE.get(key)
        if fn is None:
            _CACHE.clear()
            fn = _CACHE[key] = cloudpickle.loads(payload)
        state = tree_state(entropy, call, index, words=4)
        np.random.seed(state)  # noqa: NPY002 - pyabc's proposals use the global generator
        random.seed(int(state[0]))
        try:
            return fn()
        except SimulationFailed as exc:
            return Failure(call, index, exc.error, exc.parameters, exc.seed)
        except Exception as exc:  # a failure of pyabc's own code around the simulation
            return Failure(call, index, describe(exc))


def seeded_sampler(seed: int, pool: Pool) -> Any:
    """A pyabc sampler whose result depends only on ``seed`` (see :class:`SeededSampler`)."""
    from pyabc.sampler import Sampler

    class SeededSampler(Sampler):
        """Evaluates candidates in index order with per-candidate seeds; keeps the first n.

        Candidates are run one at a time in this process, or in batches on the pool's
        workers (a process pool or a Dask cluster). After each batch the first ``n``
        accepted candidates by index are kept with the rejected ones before them, and
        ``nr_evaluations_`` counts up to the last one kept; so the population, its
        weights and the acceptance rate do not depend on the batch size, the number of
        workers or their speed. Batches beyond the needed candidate are wasted work, not
        a change of result. A candidate whose simulation failed counts as evaluated and
        not accepted, and is recorded in ``failures``.
        """

        def __init__(self) -> None:
            super().__init__()
            self.seed = int(seed)
            self.pool = pool
            self.slots = max(1, int(pool.slots))
            self.calls = 0
            self.simulations = 0  # all candidates run, including wasted ones
            self.failures: list[Failure] = []  # of the candidates kept (not the wasted)

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
                if self.pool.serial:
                    batch = 1
                else:
                    batch = math.ceil(1.1 * need / max(rate, 0.02))
                    batch = max(self.slots, math.ceil(batch / self.slots) * self.slots)
                    batch = min(batch, 20 * n)
                if math.isfinite(max_eval):
                    batch = min(batch, int(max_eval) - len(particles))
                first = len(particles)
                idx = range(first, first + batch)
                jobs = ((payload, self.seed, call, j) for j in idx)
                new = list(self.pool.imap(_simulate_at, jobs, window=len(idx)))
                self.simulations += len(new)
                for j, p in zip(idx, new, strict=True):
                    particles.append(p)
                    if not isinstance(p, Failure) and p.accepted:
                        accepted.append(j)
                failed = [p for p in particles if isinstance(p, Failure)]
                if len(failed) >= max(10, n) and 2 * len(failed) > len(particles):
                    raise MostFail(self.failures + failed, len(particles))
                rate = max(len(accepted), 1) / len(particles)
            keep = accepted[n - 1] + 1 if len(accepted) >= n else len(particles)
            sample = self._create_empty_sample()
            for p in particles[:keep]:
                if isinstance(p, Failure):
                    self.failures.append(p)
                else:
                    sample.append(p)
            self.nr_evaluations_ = keep
            if sample.n_accepted < n:
                sample.ok = False
            return sample

    return SeededSampler()
