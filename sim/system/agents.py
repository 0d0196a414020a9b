"""Mesa agents: the readable face of the columnar state.

Schools, heads, local authorities and the national centre are real Mesa
agents, visible in ``model.agents`` and selectable by type
(``model.agents_by_type[School]``). Their attributes are properties that read
(and where it makes sense write) the arrays of :mod:`sim.core.state`, so an agent
and the vectorised rules always agree. Rules act on the arrays; agents are for
inspection, teaching and small custom analyses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.core.state import CHANNELS, EMPTY, PHASES, STANCES

if TYPE_CHECKING:
    from sim.core.registry import ModelLike


class School(mesa.Agent):
    """A school: phase, performance, collective capacity and the practices it runs."""

    model: ModelLike

    def __init__(self, model: ModelLike, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    @property
    def phase(self) -> str:
        """Early years, primary, secondary, special or FE college."""
        return PHASES[self.model.schools.phase[self.idx]]

    @property
    def performance(self) -> float:
        """Share of pupils reaching the expected standard, 0 to 1."""
        return float(1.0 / (1.0 + np.exp(-self.model.schools.logit_perf[self.idx])))

    @property
    def capacity(self) -> float:
        """Collective capacity, 0 to 1."""
        return float(self.model.schools.capacity[self.idx])

    @property
    def head(self) -> Head:
        """The school's head (may lead other schools too)."""
        return self.model.head_agents[int(self.model.schools.head[self.idx])]

    @property
    def authority(self) -> Authority:
        """The school's local authority."""
        return self.model.authority_agents[int(self.model.schools.authority[self.idx])]

    @property
    def practices(self) -> list[dict]:
        """The practices run: id, depth, ownership and how they came."""
        s = self.model.schools
        out = []
        for k in range(s.slot_p.shape[1]):
            pid = int(s.slot_p[self.idx, k])
            if pid != EMPTY:
                out.append(
                    {
                        "practice": pid,
                        "depth": float(s.slot_depth[self.idx, k]),
                        "ownership": float(s.slot_own[self.idx, k]),
                        "channel": CHANNELS[s.slot_channel[self.idx, k]],
                    }
                )
        return out

    @property
    def neighbours(self) -> list[School]:
        """Schools this one is tied to (ties in force)."""
        t = self.model.ties
        alive = t.alive[: t.n]
        a, b = t.a[: t.n], t.b[: t.n]
        nb = np.concatenate([b[alive & (a == self.idx)], a[alive & (b == self.idx)]])
        return [self.model.school_agents[int(i)] for i in nb]


class Head(mesa.Agent):
    """A head teacher: openness, ingenuity, appetite for system leadership, tenure."""

    model: ModelLike

    def __init__(self, model: ModelLike, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    @property
    def openness(self) -> float:
        """Chance of considering an idea heard of."""
        return float(self.model.heads.openness[self.idx])

    @property
    def ingenuity(self) -> float:
        """Multiplier of the invention rate."""
        return float(self.model.heads.ingenuity[self.idx])

    @property
    def appetite(self) -> float:
        """Appetite for system leadership, 0 to 1."""
        return float(self.model.heads.appetite[self.idx])

    @property
    def tenure(self) -> float:
        """Months in post."""
        return (self.model.t - int(self.model.heads.start[self.idx])) * self.model.p.dur_step

    @property
    def schools(self) -> list[School]:
        """Schools this head leads (more than one: an executive head)."""
        led = np.flatnonzero(self.model.schools.head == self.idx)
        return [self.model.school_agents[int(i)] for i in led]


class Authority(mesa.Agent):
    """A local authority: its schools, budget, facilitation and stance."""

    model: ModelLike

    def __init__(self, model: ModelLike, idx: int) -> None:
        super().__init__(model)
        self.idx = idx

    @property
    def budget(self) -> float:
        """Budget relative to normal."""
        return float(self.model.authorities.budget[self.idx])

    @property
    def facilitation(self) -> float:
        """Facilitation capacity, 0 to 1."""
        return float(self.model.authorities.facilitation[self.idx])

    @property
    def stance(self) -> str:
        """Administer, animate or absent."""
        return STANCES[self.model.authorities.stance[self.idx]]

    @property
    def schools(self) -> list[School]:
        """Schools in the authority."""
        mine = np.flatnonzero(self.model.schools.authority == self.idx)
        return [self.model.school_agents[int(i)] for i in mine]


class Centre(mesa.Agent):
    """The national centre: the agenda, mandates and field trials of the strategy."""

    model: ModelLike

    @property
    def strategy(self) -> str:
        """Name of the strategy in force."""
        return self.model.p.strategy

    @property
    def agenda(self) -> int:
        """Domain of the national agenda, or -1 for none."""
        return self.model.agenda

    @property
    def mandates(self) -> list[int]:
        """Practices under a standing mandate."""
        return list(self.model.mandates)

    @property
    def field_trials(self) -> list[int]:
        """Practices in field trial now."""
        from sim.core.state import TRIAL

        pr = self.model.practices
        return [int(i) for i in np.flatnonzero(pr.stage[: pr.n] == TRIAL)]
