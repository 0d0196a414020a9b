"""Classic diffusion rules for the ``adopt`` slot: the model's reduced modes.

With the other slots off (``rules: {centre: off, hear: off, invent: off, ...}``)
and one practice known (``n_practices_init: 1, n_running_init: 0``), the
engine reduces to a textbook diffusion model of practice 0. A school has
adopted when practice 0 is in its slots; adoption goes through
:func:`sim.rules.actions.take_up` like any other (the channel is immaterial).
Seed adopters (``classic.init_adopters``) are placed at the first step, which
then also spreads from them, so the share after step t is the model's value at t.
Each rule declares its own parameters (``bass.p_bass``, ``si.beta_si``...).

* ``bass``: Bass (1969) in discrete time, hazard p + q F per step.
* ``si``: susceptible-infected, mean-field exact on a complete graph.
* ``threshold``: Watts (2002) fractional threshold.
* ``complex``: Centola & Macy (2007) absolute threshold, seeded with a
  school and its neighbours.

Neighbour counts use a scipy.sparse CSR adjacency of the alive ties,
symmetric, cached on the model while the ties do not change, and are moved
each step by the schools whose adoption changed (:func:`neighbour_counts`).
The deterministic rules (threshold, complex) draw no random numbers. The four
stay together in this one file: they are the textbook references the validation
checks the engine against, not mechanisms of the model, and share their seeding
and neighbour counting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.numerics import row_any
from sim.core.state import CHOSEN
from sim.rules import Param, Rule, register
from sim.rules.actions import take_up

if TYPE_CHECKING:
    import scipy.sparse as sp

PRACTICE = 0


def adopted(model) -> np.ndarray:
    """Boolean per school: practice 0 is in its slots."""
    return row_any(model.schools.slot_p == PRACTICE)


def adjacency_and_degree(model) -> tuple[sp.csr_matrix, np.ndarray]:
    """Symmetric CSR adjacency of alive ties and its row sums (degrees).

    Both are cached on the model until the ties change (``model.ties.version``).
    """
    t = model.ties
    key = (t.version, t.n)
    cache = model.__dict__.get("_classic_adj")
    if cache is not None and cache[0] == key:
        return cache[1], cache[2]
    import scipy.sparse as sp  # here: every run imports the rules, few run these modes (0.1 s)

    n = model.schools.n
    alive = t.alive_index()
    a, b = t.a[alive], t.b[alive]
    data = np.ones(2 * len(a), np.float64)
    adj = sp.csr_matrix((data, (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n))
    adj.sum_duplicates()
    adj.data[:] = 1.0
    deg = np.asarray(adj.sum(axis=1)).ravel()
    model._classic_adj = (key, adj, deg)
    return adj, deg


def neighbour_counts(model, has: np.ndarray) -> np.ndarray:
    """Adopted neighbours of each school: ``adjacency(model) @ has``, kept up to date.

    The product over every tie is what a step of a network diffusion model
    costs (the floor of :mod:`sim.bench`). But adoption changes at few
    schools a step, so the counts are carried from the previous call and
    moved only by the rows of the schools whose adoption changed since:
    the event-driven update of discrete-event simulation, work in proportion
    to the changes rather than to the ties. The counts are whole numbers
    held exactly as floats, so they equal the full product bit for bit
    (tested). Rebuilt from scratch when the ties change. Read-only.
    """
    adj, _ = adjacency_and_degree(model)
    if not model.p.compiled:  # the numpy form: the whole product, every step (the same counts)
        m = adj @ has.astype(float)
        m.flags.writeable = False
        return m
    cache = model.__dict__.get("_classic_counts")
    if cache is None or cache[0] is not adj:
        m = adj @ has.astype(float)
    else:
        prev, m = cache[1], cache[2]
        changed = np.flatnonzero(has != prev)
        if len(changed):
            m = m.copy()  # a new object: callers tell "nothing changed" by identity
            _move_counts(adj.indptr, adj.indices, changed, has, m)
    m.flags.writeable = False
    model._classic_counts = (adj, has.copy(), m)
    return m


@jit
def _move_counts(indptr, indices, changed, has, m):
    """Move the counts ``m`` in place by the rows of the schools whose adoption changed.

    Compiled only: its numpy form is the whole product ``adj @ has`` that
    :func:`neighbour_counts` computes when the run says ``compiled: false``.
    """
    for i in changed:
        step = 1.0 if has[i] else -1.0
        for x in range(indptr[i], indptr[i + 1]):
            m[indices[x]] += step


def adjacency(model) -> sp.csr_matrix:
    """Symmetric CSR adjacency of alive ties, cached while the ties are unchanged."""
    return adjacency_and_degree(model)[0]


def complete(model) -> bool:
    """Whether the run is on the implicit complete graph (global share, no ties)."""
    return model.p.network == "complete"


def adopt(model, schools: np.ndarray) -> None:
    """Schools take up practice 0."""
    schools = np.asarray(schools, np.int64)
    if len(schools):
        take_up(model, schools, np.full(len(schools), PRACTICE), CHOSEN)


class Classic(Rule):
    """Shared seeding: ``init_adopters`` random schools at the first step.

    Random numbers are keyed by the school and the step (:mod:`sim.core.draws`):
    the seeds are the schools of the smallest uniforms of the decision
    ``seed``, and each step a school adopts when its uniform of ``adopt`` falls
    below its chance.
    """

    decisions = ("seed", "adopt")
    params_namespace = "classic"
    params = {
        "init_adopters": Param(
            0,
            lo=0,
            hi=100000,
            unit="schools",
            kind="setting",
            meaning="Seed adopters of practice 0 placed at the first step of a classic rule "
            "(complex: a random school and its neighbours).",
        ),
    }

    def seed(self, model) -> None:
        """Place the seed adopters once."""
        if getattr(model, "_classic_seeded", False):
            return
        model._classic_seeded = True
        k = min(self.value(model, "init_adopters"), model.schools.n)
        if k:
            everyone = np.arange(model.schools.n)
            adopt(model, draws.smallest(self.key("seed"), model.t, everyone, 0, k))

    def apply(self, model):
        """Seed, then spread one step."""
        self.seed(model)
        has = adopted(model)
        adopt(model, self.new_adopters(model, has))

    def new_adopters(self, model, has: np.ndarray) -> np.ndarray:
        """Schools that adopt this step: each non-adopter with its :meth:`chance`."""
        chance = self.chance(model, has)
        u = draws.uniform(self.key("adopt"), model.t, np.arange(len(has)), 0)
        return np.flatnonzero(~has & (u < chance))

    def chance(self, model, has: np.ndarray) -> np.ndarray:
        """Chance per non-adopter of adopting this step."""
        raise NotImplementedError


class Deterministic(Classic):
    """A rule whose adoption is certain once a condition holds: no draw is made."""

    def new_adopters(self, model, has):
        """Non-adopters whose condition holds.

        Once a step finds nobody ready, later steps need not look again until
        some school's adoption changes: the counts object then stays the same
        (:func:`neighbour_counts`), and so would the answer.
        """
        m = neighbour_counts(model, has)
        if model.__dict__.get("_classic_quiet") is m:
            return np.zeros(0, np.int64)
        new = np.flatnonzero(~has & self.ready(model, has, m))
        model._classic_quiet = m if len(new) == 0 else None
        return new

    def ready(self, model, has: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Boolean per school: the condition for adopting holds (``m``: adopted neighbours)."""
        raise NotImplementedError


@register("adopt", "bass")
class Bass(Classic):
    """Bass (1969, Management Science 15:215) diffusion in discrete time.

    Each step a non-adopter adopts with chance p + q F, F the share of
    adopters: the global share on the complete graph, else the share of its
    neighbours. Its expected curve is the discrete Bass recursion
    F_{t+1} = F_t + (p + q F_t)(1 - F_t), not the continuous closed form.
    """

    params = {
        "p_bass": Param(
            0.03,
            lo=0,
            hi=1,
            unit="1/step",
            kind="uncertainty",
            sweep=(0.001, 0.05),
            sweep_ref="Sultan, Farley and Lehmann, J Marketing Res 27:70 (1990): mean p 0.03",
            ref="Bass, Management Science 15:215 (1969)",
            meaning="Bass coefficient of innovation: chance per step that a non-adopter adopts "
            "from outside influence (adopt: bass).",
        ),
        "q_bass": Param(
            0.38,
            lo=0,
            hi=5,
            unit="1/step",
            kind="uncertainty",
            sweep=(0.1, 0.6),
            sweep_ref="Sultan, Farley and Lehmann, J Marketing Res 27:70 (1990): mean q 0.38",
            ref="Bass, Management Science 15:215 (1969)",
            meaning="Bass coefficient of imitation: added chance per step per share of "
            "adopters (global share, or share of neighbours).",
        ),
    }

    def chance(self, model, has):
        """P + q F."""
        if complete(model):
            f = has.mean()
        else:
            _, deg = adjacency_and_degree(model)
            f = neighbour_counts(model, has) / np.maximum(deg, 1)
        return np.clip(self.value(model, "p_bass") + self.value(model, "q_bass") * f, 0.0, 1.0)


@register("adopt", "si")
class SI(Classic):
    """Susceptible-infected spread (logistic growth).

    On the complete graph the chance per step integrates di/dt = beta i (1-i)
    over the step in mean field, i(e^beta - 1) / (1 - i + i e^beta), so the
    expected curve is exactly the logistic with time to half adoption
    ln((1 - i0) / i0) / beta. On a network, each infected neighbour transmits
    at rate beta: chance 1 - exp(-beta m), m infected neighbours.
    """

    params = {
        "beta_si": Param(
            0.2,
            lo=0,
            hi=10,
            unit="1/step",
            kind="uncertainty",
            sweep=(0.05, 0.5),
            sweep_ref="a judgement: the classic SI comparator has no measured rate for schools; "
            "half the schools adopt in 6 to 60 steps from one seed on a complete graph",
            ref="Kermack & McKendrick (1927); logistic SI model",
            meaning="SI transmission rate: on a complete graph di/dt = beta i (1-i); on a "
            "network, rate per infected neighbour (adopt: si).",
        ),
    }

    def chance(self, model, has):
        """Per-step infection chance."""
        beta = self.value(model, "beta_si")
        if complete(model):
            i = has.mean()
            g = np.exp(beta)
            return np.full(len(has), i * (g - 1.0) / (1.0 - i + i * g))
        m = neighbour_counts(model, has)
        return 1.0 - np.exp(-beta * m)


@register("adopt", "threshold")
class Threshold(Deterministic):
    """Watts (2002, PNAS 99:5766) fractional threshold, synchronous update.

    A school with at least one tie adopts once the share of its neighbours
    that have adopted reaches ``phi_threshold``.
    """

    params = {
        "phi_threshold": Param(
            0.18,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.1, 0.26),
            sweep_ref="Watts (2002) fig. 1: the cascade window at mean degree 4 to 10",
            ref="Watts, PNAS 99:5766 (2002)",
            meaning="Fractional threshold: a school adopts once this share of its neighbours "
            "has (adopt: threshold).",
        ),
    }

    def ready(self, model, has, m):
        """Where the share of adopted neighbours reaches phi."""
        _, deg = adjacency_and_degree(model)
        return (deg > 0) & (m >= self.value(model, "phi_threshold") * deg - 1e-12)


@register("adopt", "complex")
class Complex(Deterministic):
    """Centola & Macy (2007, AJS 113:702) complex contagion, absolute threshold.

    A school adopts once ``n_threshold`` of its neighbours have. The seed is a
    random school and its neighbours (``init_adopters`` in all), as in Centola
    and Macy, so a threshold-2 contagion can start.
    """

    params = {
        "n_threshold": Param(
            2,
            lo=1,
            hi=100,
            unit="schools",
            kind="uncertainty",
            sweep=(1, 4),
            sweep_ref="simple (1) to complex contagion needing up to 4 neighbours (Centola and "
            "Macy 2007)",
            ref="Centola & Macy, AJS 113:702 (2007)",
            meaning="Absolute threshold: a school adopts once this many of its neighbours have "
            "(adopt: complex).",
        ),
    }

    def seed(self, model):
        """A random school and up to ``init_adopters - 1`` of its neighbours."""
        if getattr(model, "_classic_seeded", False):
            return
        model._classic_seeded = True
        k = min(self.value(model, "init_adopters"), model.schools.n)
        if not k:
            return
        adj = adjacency(model)
        n = model.schools.n
        focal = int(draws.integers(self.key("seed"), model.t, np.zeros(1, np.int64), 0, n)[0])
        nb = adj.indices[adj.indptr[focal] : adj.indptr[focal + 1]]
        # Nearest neighbours first on a lattice (smallest ring distance).
        dist = np.minimum((nb - focal) % n, (focal - nb) % n)
        nb = nb[np.argsort(dist, kind="stable")][: k - 1]
        adopt(model, np.concatenate([[focal], nb]))

    def ready(self, model, has, m):
        """Where at least n_threshold neighbours have adopted."""
        return m >= self.value(model, "n_threshold")
