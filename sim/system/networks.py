"""Classic network generators for the reduced (known-answer) modes of the model.

Each is a structure generator in the sense of :mod:`sim.system.structure`: one
authority, one town, all schools primary, and a set of undirected ties of
kind ``town``. They exist so the same engine can reproduce the textbook
diffusion results (:mod:`sim.rules.classic`, ``scenarios/classics/``).

* ``complete``: everyone sees everyone. No ties are built (n^2 of them would
  be wasted): the Bass and SI rules use the global share of adopters instead.
* ``erdos_renyi``: G(n, m) with m = n z / 2 ties, mean degree ``z_degree``.
* ``ring_lattice``: each school tied to ``k_lattice`` neighbours on each side.
* ``rewired_lattice``: the ring lattice with its ties rewired by
  degree-preserving double-edge swaps (Maslov & Sneppen 2002): every school
  keeps its degree, the clustering goes.
"""

from __future__ import annotations

import numpy as np

from sim.core.state import TOWN
from sim.system.structure import Structure, dedupe_ties, register_network


def _flat(n: int, a: np.ndarray, b: np.ndarray) -> Structure:
    a, b, kind = dedupe_ties(a, b, np.full(len(a), TOWN, np.int8))
    z = np.zeros(n, np.int32)
    return Structure(
        authority=z,
        town=z.copy(),
        phase=np.full(n, 1, np.int8),
        n_authorities=1,
        tie_a=a,
        tie_b=b,
        tie_kind=kind,
    )


@register_network("complete")
def complete(p, rng: np.random.Generator) -> Structure:
    """Complete graph, implicitly: no ties; classic rules use the global share."""
    e = np.zeros(0, np.int64)
    return _flat(p.n_schools, e, e)


@register_network("erdos_renyi")
def erdos_renyi(p, rng: np.random.Generator) -> Structure:
    """Erdos-Renyi random graph with mean degree ``z_degree`` (duplicates redrawn)."""
    n = p.n_schools
    m = int(round(n * p.z_degree / 2.0))
    a = np.zeros(0, np.int64)
    b = np.zeros(0, np.int64)
    for _ in range(20):
        k = m - len(a)
        if k <= 0:
            break
        a2, b2 = rng.integers(0, n, k), rng.integers(0, n, k)
        a, b, _ = dedupe_ties(
            np.concatenate([a, a2]), np.concatenate([b, b2]), np.zeros(len(a) + k, np.int8)
        )
    a, b = a[:m], b[:m]
    return _flat(n, a, b)


def _ring(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    k = min(k, (n - 1) // 2)
    i = np.repeat(np.arange(n), k)
    j = (i + np.tile(np.arange(1, k + 1), n)) % n
    return i, j


@register_network("ring_lattice")
def ring_lattice(p, rng: np.random.Generator) -> Structure:
    """Ring lattice: each school tied to ``k_lattice`` neighbours on each side."""
    a, b = _ring(p.n_schools, p.k_lattice)
    return _flat(p.n_schools, a, b)


def double_edge_swaps(
    a: np.ndarray, b: np.ndarray, n_swaps: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Degree-preserving rewiring: ``n_swaps`` attempted swaps (a-b, c-d) -> (a-d, c-b).

    A swap that would make a self-tie or a duplicate is skipped (Maslov &
    Sneppen 2002). Every node keeps its degree.
    """
    a, b = a.copy(), b.copy()
    m = len(a)
    if m < 2:
        return a, b
    n = int(max(a.max(), b.max())) + 1
    keys = set((np.minimum(a, b) * n + np.maximum(a, b)).tolist())
    e1s, e2s = rng.integers(0, m, n_swaps), rng.integers(0, m, n_swaps)
    flips = rng.random(n_swaps) < 0.5
    for e1, e2, flip in zip(e1s.tolist(), e2s.tolist(), flips.tolist(), strict=True):
        if e1 == e2:
            continue
        x, y = int(a[e1]), int(b[e1])
        u, v = (int(b[e2]), int(a[e2])) if flip else (int(a[e2]), int(b[e2]))
        # (x-y, u-v) -> (x-v, u-y)
        if x == v or u == y:
            continue
        k1 = min(x, v) * n + max(x, v)
        k2 = min(u, y) * n + max(u, y)
        if k1 in keys or k2 in keys or k1 == k2:
            continue
        keys.discard(min(x, y) * n + max(x, y))
        keys.discard(min(u, v) * n + max(u, v))
        keys.add(k1)
        keys.add(k2)
        a[e1], b[e1] = x, v
        a[e2], b[e2] = u, y
    return a, b


@register_network("rewired_lattice")
def rewired_lattice(p, rng: np.random.Generator) -> Structure:
    """The ring lattice's degree-preserving random twin (``p_rewire`` swaps per tie)."""
    a, b = _ring(p.n_schools, p.k_lattice)
    a, b = double_edge_swaps(a, b, int(round(p.p_rewire * len(a))), rng)
    return _flat(p.n_schools, a, b)
