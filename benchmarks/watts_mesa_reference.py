"""Watts' threshold model written twice outside the model: the speed references.

:class:`WattsMesa` is idiomatic Mesa 3.5: each agent holds its neighbours (from a
networkx graph) and, in its ``step``, reads their states in Python: it becomes active
once the share of its active neighbours reaches ``phi`` (Watts 2002). Agents act in
random order each step (``model.agents.shuffle_do("step")``). :func:`watts_vectorised`
is the bare rule as one sparse product per step, no model around it. ``sim.bench``
times the model's own threshold mode (``scenarios/classics/watts_er.yaml``) against
both; neither is part of the model, which is why they live here and not in ``sim``.

Run it alone: ``python benchmarks/watts_mesa_reference.py``.
"""

from __future__ import annotations

import time

import mesa
import networkx as nx
import numpy as np
import scipy.sparse as sp


class Node(mesa.Agent):
    """A node of the network: active or not, with its neighbours."""

    def __init__(self, model: WattsMesa) -> None:
        super().__init__(model)
        self.active = False
        self.neighbours: list[Node] = []

    def step(self) -> None:
        """Become active once the share of active neighbours reaches phi."""
        if self.active or not self.neighbours:
            return
        on = sum(1 for nb in self.neighbours if nb.active)
        if on / len(self.neighbours) >= self.model.phi:
            self.active = True


class WattsMesa(mesa.Model):
    """Watts' threshold cascade on a given graph, one random seed node."""

    def __init__(
        self, graph: nx.Graph, phi: float = 0.18, seed_node: int = 0, rng: int | None = None
    ) -> None:
        super().__init__(rng=rng)
        self.phi = phi
        nodes = [Node(self) for _ in range(graph.number_of_nodes())]
        for u, v in graph.edges():
            nodes[u].neighbours.append(nodes[v])
            nodes[v].neighbours.append(nodes[u])
        nodes[seed_node].active = True
        self.nodes = nodes

    def step(self) -> None:
        """Every agent, in random order, applies the rule."""
        self.agents.shuffle_do("step")

    def n_active(self) -> int:
        """Active nodes."""
        return sum(a.active for a in self.nodes)


def watts_vectorised(A: sp.csr_matrix, seed_node: int, steps: int, phi: float = 0.18) -> np.ndarray:
    """Watts' threshold rule, vectorised: one CSR product and a comparison a step.

    A node becomes active once the share of its active neighbours reaches
    ``phi``; all nodes update together (synchronously).
    """
    deg = np.asarray(A.sum(axis=1)).ravel()
    bar = phi * deg  # share >= phi  <=>  active neighbours >= phi * degree
    has = deg > 0
    active = np.zeros(A.shape[0], bool)
    active[seed_node] = True
    x = np.zeros(A.shape[0])
    for _ in range(steps):
        x[:] = active
        active |= ((A @ x) >= bar) & has
    return active


def er_graph(n: int, mean_degree: float = 4.0, seed: int = 1) -> nx.Graph:
    """An Erdos-Renyi graph with the given mean degree."""
    return nx.fast_gnp_random_graph(n, mean_degree / (n - 1), seed=seed)


if __name__ == "__main__":
    g = er_graph(10_000)
    m = WattsMesa(g, seed_node=0, rng=1)
    t0 = time.perf_counter()
    for _ in range(50):
        m.step()
    dt = time.perf_counter() - t0
    print(f"{10_000 * 50 / dt:,.0f} agent-steps/s; {m.n_active()} active")
