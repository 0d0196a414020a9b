"""The ``capacity`` slot: collective capacity grows with investment and collaboration."""

from __future__ import annotations

import numpy as np

from sim.core.jit import jit
from sim.core.numerics import sum_in_numpy_order
from sim.core.sources import FULLAN_2006
from sim.rules import Param, Rule, register


@register("capacity", "build", default=True)
class CapacityBuilding(Rule):
    """Collective capacity grows with investment and collaboration, and decays.

    Capacity grows at ``rate_capacity`` into the room left to grow, driven by
    the authority's investment (the capacity-building lever times the
    school's budget, as far as the authority could pay for it) and by
    learning by doing: ``rel_capacity_learning`` times how much practice the
    school runs deeply and with ownership (the sum of depth times ownership
    over its slots, halved, at most 1). "When people become better at
    something they become clearer and more committed" (seed 003, lever 3).
    Capacity decays at ``rate_capacity_decay``. In a collaborative, members
    converge towards the strongest member at ``rate_capacity_collab``:
    Fullan's "collective increases in the power of groups" (seed 003, lever 3).
    """

    params = {
        "rate_capacity": Param(
            0.02,
            lo=0,
            hi=1,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.005, 0.05),
            sweep_ref="a judgement: capacity has no national measure (its money is "
            "cost_capacity, docs/sources.md); a quarter to 2.5 times the default gain at full "
            "lever and budget",
            meaning="Capacity gained per month at full capacity-building lever and full budget "
            "(times the room left to grow).",
        ),
        "rel_capacity_learning": Param(
            1.0,
            lo=0,
            hi=10,
            unit="1",
            kind="uncertainty",
            sweep=(0.3, 2.0),
            sweep_ref="a judgement: no study separates capacity built by practising from capacity "
            "bought; learning by doing worth a third to twice a full capacity lever",
            ref=FULLAN_2006,
            meaning="Capacity built by implementing practice deeply and with ownership "
            "(learning by doing), relative to a full capacity-building lever.",
        ),
        "rate_capacity_decay": Param(
            0.004,
            lo=0,
            hi=1,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.001, 0.01),
            sweep_ref="a judgement: capacity has no national measure, so neither has its decay; a "
            "half-life without upkeep of 6 to 58 years",
            meaning="Share of capacity lost per month without upkeep.",
        ),
        "rate_capacity_collab": Param(
            0.01,
            lo=0,
            hi=1,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.003, 0.03),
            sweep_ref="a judgement: no study measures how fast collaborating schools converge; "
            "members half-way to the strongest in 2 to 19 years",
            meaning="Rate at which a collaborative's members converge towards its strongest "
            "member's capacity.",
        ),
    }

    def apply(self, model):
        """Move capacity one step."""
        s, p = model.schools, model.p
        # Investment reaches a school as far as its authority could pay for it (sim.system.costs).
        funded = s.budget * model.capacity_funded[s.authority]
        self.build_capacity(
            s.slot_depth,
            s.slot_own,
            funded,
            s.collab,
            s.capacity,
            model.collabs.n,
            p.lever_capacity,
            self.value(model, "rel_capacity_learning"),
            model.per_step(self.value(model, "rate_capacity")),
            model.per_step(self.value(model, "rate_capacity_decay")),
            model.per_step(self.value(model, "rate_capacity_collab")),
        )

    @staticmethod
    def build_capacity(
        depth,
        own,
        budget,
        collab,
        capacity,
        n_collabs,
        lever,
        rel_learning,
        rate,
        rate_decay,
        rate_collab,
    ):
        """Capacity grows with investment and learning by doing, decays, converges, in place."""
        # Learning by doing: practice run deeply and with ownership (halved, at most 1).
        learning = np.minimum(1.0, (depth * own).sum(axis=1) / 2.0)
        drive = lever * budget + rel_learning * learning
        capacity += rate * drive * (1 - capacity) - rate_decay * capacity
        # Members of a collaborative close on its most capable member.
        member = collab >= 0
        best = np.zeros(n_collabs + 1)
        np.maximum.at(best, collab[member], capacity[member])
        capacity[member] += rate_collab * (best[collab[member]] - capacity[member])
        np.clip(capacity, 0.0, 1.0, out=capacity)

    @staticmethod
    @jit
    def build_capacity_compiled(
        depth,
        own,
        budget,
        collab,
        capacity,
        n_collabs,
        lever,
        rel_learning,
        rate,
        rate_decay,
        rate_collab,
    ):
        """:meth:`build_capacity`, compiled: school by school, then the collaboratives, in place."""
        n, k = depth.shape
        buf = np.empty(k)
        for i in range(n):
            for j in range(k):
                buf[j] = depth[i, j] * own[i, j]
            learning = min(1.0, sum_in_numpy_order(buf, k) / 2.0)
            drive = lever * budget[i] + rel_learning * learning
            grow = rate * drive * (1 - capacity[i])
            decay = rate_decay * capacity[i]
            capacity[i] += grow - decay
        best = np.zeros(n_collabs + 1)  # each collaborative's most capable member
        for i in range(n):
            if collab[i] >= 0:
                best[collab[i]] = max(best[collab[i]], capacity[i])
        for i in range(n):
            if collab[i] >= 0:
                capacity[i] += rate_collab * (best[collab[i]] - capacity[i])
        for i in range(n):
            capacity[i] = min(max(capacity[i], 0.0), 1.0)
