"""The one seed scheme: every seed of a batch is a node of its root seed's tree.

A batch (a sweep, ``compare``, the validation suite, a calibration, the bench) has one
root seed. Every seed it uses is read from numpy's seed tree at a key under that root,
``SeedSequence(root_seed, spawn_key=key)`` (:func:`tree_seed`, :func:`tree_state`), and
nowhere else: so a seed depends only on the root seed and the key, never on the worker
that runs it, the order runs finish in, or how many seeds were drawn before it.

The first element of a key says what the seed is for:

- ``RUNS`` (0): a run's seed, :func:`run_seed`. Keyed by the replication alone with
  common random numbers (replication *r* has the same seed in every design row, every
  scenario of ``compare``, every condition of ``validate``), else by the design row
  and the replication; a robustness design keys it by the world instead of the row
  (:meth:`sim.experiments.Plan.run_seed`).
- ``DESIGN`` (1): the sample of a design (Sobol' scrambling, Morris, Latin hypercube).
- ``ANALYSIS`` (2): the bootstrap of the intervals in ``analyze``.
- ``SEARCH`` (3): the optimiser's and the confirming seeds of a search for worlds where a
  policy is or is not the best (:mod:`sim.experiments.search`).

Calibration keys its own branches under the calibration's seed (the sampler's
candidates by generation call and index; posterior draws and predictive runs far above
them: :mod:`sim.calibration`), through the same two functions.
"""

from __future__ import annotations

import numpy as np

#: The branches of a root seed's tree (the first element of a key).
RUNS = 0
DESIGN = 1
ANALYSIS = 2
SEARCH = 3


def tree_state(root_seed: int, *key: int, words: int = 1) -> np.ndarray:
    """``words`` 32-bit words at ``key`` under ``root_seed`` (numpy's ``SeedSequence``).

    For seeding generators that take words (numpy's legacy global generator, which
    pyabc draws from) and for seeds that have always been one 32-bit word.
    """
    return np.random.SeedSequence(root_seed, spawn_key=key).generate_state(words)


def tree_seed(root_seed: int, *key: int) -> int:
    """The seed at ``key`` under ``root_seed``: a non-negative integer below 2**63.

    63 bits, so it fits a signed 64-bit Parquet column and any integer seed argument.
    """
    state = np.random.SeedSequence(root_seed, spawn_key=key).generate_state(1, dtype=np.uint64)
    return int(state[0] >> np.uint64(1))


def run_seed(root_seed: int, design_row: int, replication: int, *, common: bool) -> int:
    """Seed of one run, from the root seed, the replication index and (maybe) the design row.

    With common random numbers (``common=True``, an experiment's default, see
    :class:`sim.experiments.SeedSettings`) replication ``r`` has the same seed in every
    design row, so a difference between rows is the rows' doing, not seed luck: the
    variance-reduction technique of paired comparison (Law, *Simulation Modeling and
    Analysis*, 5th ed., section 11.2). Without, every run of the design has its own
    seed. Either way the seed depends on nothing else (not the worker, not the order of
    completion, not how many replications the batch has), so results are identical on
    any number of workers, and a batch grown by more replications keeps the runs it had.

    Args:
        root_seed: The batch's root seed.
        design_row: Index of the parameter set (unused when common); a robustness design
            passes the world.
        replication: Replication index, from 0.
        common: Common random numbers across design rows.

    Returns:
        A non-negative integer below 2**63.
    """
    if common:
        return tree_seed(root_seed, RUNS, replication)
    return tree_seed(root_seed, RUNS, design_row, replication)


def design_seed(root_seed: int) -> int:
    """Seed for drawing the design sample (Sobol scrambling, Morris, LHS)."""
    return tree_seed(root_seed, DESIGN)


def analysis_seed(root_seed: int) -> int:
    """Seed for the bootstrap of confidence intervals in the analysis."""
    return tree_seed(root_seed, ANALYSIS)
