"""The ``implement`` slot: implementation deepens towards a depth set by ownership and capacity."""

from __future__ import annotations

import numpy as np

from sim.core.jit import jit
from sim.core.state import EMPTY
from sim.rules import Param, Rule, register


@register("implement", "depth_and_ownership", default=True)
class Implementation(Rule):
    """Implementation deepens towards a depth set by ownership and capacity.

    Depth closes on its target at ``rate_depth`` (slower for difficult
    practice: times ``1 - slow_difficulty * difficulty``). The target is the
    practice's ownership, scaled down when the school runs more than its
    capacity can carry: a school of capacity c can run ``c * n_focus``
    practices of difficulty ``difficulty_focus`` in depth, and spreads itself
    thinner beyond that (Fullan's clutter; "initiative overload"). Spreading
    thinner also wastes effort: with ``r`` = room over load below 1, the target
    is scaled by ``r / (1 + rel_overload * (1 - r))``, so the total depth a
    school carries falls as it takes on more than it can carry (Ofsted's 2010
    review of the National Strategies: "the frequent introduction of new
    initiatives diminished their effectiveness"; Newmann et al. 2001 on
    uncoordinated programmes).

    Ownership rises towards the school's engagement at ``rate_own``:
    engagement is the trust on its ties, times the facilitation it finds, plus
    the pull of a collaborative. Staff come to own a practice by working on it
    with peers (seed 003's "hearts and minds"); a mandated practice starts low
    and stays low where nobody animates the network.
    """

    params = {
        "rate_depth": Param(
            0.2,
            lo=0,
            hi=1,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.05, 0.4),
            sweep_ref="a judgement anchored on Fixsen et al. 2005 (full implementation in 2-4 "
            "years, a half-time of about 6-12 months: literature note C) at the slow end; depth "
            "half-way to its target in 2 to 14 months",
            meaning="Rate at which implementation depth closes on its target.",
        ),
        "rate_own": Param(
            0.02,
            lo=0,
            hi=1,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.005, 0.05),
            sweep_ref="a judgement: ownership has no measured scale or speed; half-way to "
            "engagement in 14 months to 12 years",
            meaning="Rate at which ownership rises towards the school's engagement (trust on "
            "its ties times facilitation): hearts and minds.",
        ),
        "slow_difficulty": Param(
            0.5,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            sweep=(0.0, 0.9),
            sweep_ref="a judgement: no study measures how difficulty slows deepening; from not at "
            "all (0) to nearly stopping it for the most difficult practice (0.9)",
            meaning="How much difficulty slows deepening: depth closes on its target at "
            "rate_depth * (1 - this * difficulty); 0.5 as before (the most difficult "
            "practice deepens at half the rate), an assumption, not from a source.",
        ),
        "rel_overload": Param(
            1.0,
            lo=0,
            hi=10,
            unit="1",
            kind="uncertainty",
            sweep=(0.0, 2.0),
            sweep_ref="a judgement: no study gives a size; from no waste beyond spreading "
            "thin (0: a school at twice its room carries all its room in depth) to heavy "
            "waste (2: it carries half of it)",
            ref="Ofsted 2010 review of the National Strategies (initiative overload); "
            "Newmann, Smith, Allensworth and Bryk 2001 (instructional program coherence)",
            meaning="Effort an overloaded school wastes: at room over load r < 1, depth "
            "targets are scaled by r / (1 + rel_overload * (1 - r)).",
        ),
    }

    def apply(self, model):
        """Move depth and ownership one step."""
        s = model.schools
        self.implement(
            s.slot_p,
            s.slot_depth,
            s.slot_own,
            model.practices.difficulty,
            model.room(),
            model.load(),
            model.engagement(),
            model.per_step(self.value(model, "rate_depth")),
            model.per_step(self.value(model, "rate_own")),
            float(self.value(model, "slow_difficulty")),
            float(self.value(model, "rel_overload")),
        )

    @staticmethod
    def implement(
        slot_p,
        depth,
        own,
        difficulty,
        room,
        load,
        engagement,
        rate_depth,
        rate_own,
        slow_difficulty,
        rel_overload,
    ):
        """Depth closes on its target, ownership on engagement, in place."""
        filled = slot_p != EMPTY
        # A school running more than its room can carry spreads itself thinner.
        r = np.minimum(1.0, room / np.maximum(load, 1e-9))
        # ...and wastes effort doing so (initiative overload).
        scale = r / (1.0 + rel_overload * (1.0 - r))
        target = own * scale[:, None]
        # Difficult practice deepens more slowly.
        rate = rate_depth * (1.0 - slow_difficulty * difficulty[np.maximum(slot_p, 0)])
        new_depth = depth + rate * (target - depth)
        # Ownership rises towards engagement (never falls here).
        new_own = own + rate_own * np.maximum(engagement[:, None] - own, 0.0)
        depth[filled] = new_depth[filled]
        own[filled] = new_own[filled]

    @staticmethod
    @jit
    def implement_compiled(
        slot_p,
        depth,
        own,
        difficulty,
        room,
        load,
        engagement,
        rate_depth,
        rate_own,
        slow_difficulty,
        rel_overload,
    ):
        """:meth:`implement`, compiled: school by school, slot by slot, in place.

        Empty slots are computed too and written back unchanged (a select rather
        than a branch: most rows mix filled and empty slots unpredictably).
        """
        n, k = slot_p.shape
        for i in range(n):
            r = min(1.0, room[i] / max(load[i], 1e-9))
            scale = r / (1.0 + rel_overload * (1.0 - r))
            for j in range(k):
                pid = slot_p[i, j]
                d0, o0 = depth[i, j], own[i, j]
                target = o0 * scale
                rate = rate_depth * (1.0 - slow_difficulty * difficulty[max(pid, 0)])
                d1 = d0 + rate * (target - d0)
                o1 = o0 + rate_own * max(engagement[i] - o0, 0.0)
                depth[i, j] = d1 if pid >= 0 else d0
                own[i, j] = o1 if pid >= 0 else o0
