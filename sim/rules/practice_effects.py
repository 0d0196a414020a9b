"""The ``perform`` slot: performance closes on what the school's practice and capacity support."""

from __future__ import annotations

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.kernels import slot_sum
from sim.core.sources import FULLAN_2006
from sim.rules import Param, Rule, register


@register("perform", "practice_effects", default=True)
class Performance(Rule):
    """Performance closes on what the school's practice and capacity support.

    On the logit scale of the share of pupils reaching the expected standard,
    the target is the school's base, plus ``rel_capacity_perf`` per unit of
    capacity gained, plus the sum over its practices of true effect times
    depth, amplified by ``1 + rel_coherence * coherence``. Coherence is how
    concentrated the school's depth is in one domain, from 0 (spread evenly)
    to 1 (one domain): Fullan's coherence-making. Performance moves a share
    ``rate_perf`` of the way each month (cohorts pass through), with noise
    ``sd_perf_noise`` (keyed by the school and the step).
    """

    decisions = ("noise",)
    params = {
        "rel_capacity_perf": Param(
            0.6,
            lo=0,
            hi=5,
            unit="logit",
            kind="uncertainty",
            sweep=(0.3, 1.0),
            sweep_ref="a unit of capacity worth 0.3 to 1 logit (7 to 22 points at 65%)",
            meaning="Effect on performance of one unit of capacity gained.",
        ),
        "rate_perf": Param(
            0.2,
            lo=0,
            hi=1,
            unit="1/month",
            kind="uncertainty",
            sweep=(0.08, 0.4),
            sweep_ref="performance half-way to its support in 1.5 to 8 months (cohorts)",
            meaning="Rate at which performance closes on what the school's practices and "
            "capacity support (cohorts take time).",
        ),
        "sd_perf_noise": Param(
            0.02,
            lo=0,
            hi=1,
            unit="logit/month^0.5",
            kind="uncertainty",
            sweep=(0.005, 0.05),
            sweep_ref="month-to-month noise of a quarter to 2.5 times the default",
            meaning="Month-to-month noise in a school's performance.",
        ),
        "rel_coherence": Param(
            0.5,
            lo=0,
            hi=5,
            unit="1",
            kind="uncertainty",
            sweep=(0.0, 1.0),
            sweep_ref="coherence worth nothing up to doubling the effect of practices",
            ref=FULLAN_2006,
            meaning="Extra effect of practices when a school's depth is concentrated in one "
            "domain (coherence).",
        ),
    }

    def apply(self, model):
        """Move performance one step."""
        s, pr, p = model.schools, model.practices, model.p
        self.perform(
            self.keys[0],
            model.t,
            s.logit_perf,
            s.base,
            s.capacity,
            s.capacity0,
            model.coherence(),
            slot_sum(s.slot_p, pr.effect, s.slot_depth),
            self.value(model, "rel_capacity_perf"),
            self.value(model, "rel_coherence"),
            model.per_step(self.value(model, "rate_perf")),
            self.value(model, "sd_perf_noise") * np.sqrt(p.dur_step),
        )

    @staticmethod
    def perform(
        key,
        t,
        logit,
        base,
        capacity,
        capacity0,
        coherence,
        effect_depth,
        rel_capacity,
        rel_coherence,
        rate,
        sd,
    ):
        """Performance (logit) closes on what practice and capacity support, with noise.

        ``effect_depth``: each school's sum of effect times depth over its slots.
        """
        target = (
            base
            + rel_capacity * (capacity - capacity0)
            + (1.0 + rel_coherence * coherence) * effect_depth
        )
        noise = draws.normal(key, t, np.arange(len(logit)), 0)  # keyed by (step, school)
        logit += rate * (target - logit) + sd * noise

    @staticmethod
    @jit
    def perform_compiled(
        key,
        t,
        logit,
        base,
        capacity,
        capacity0,
        coherence,
        effect_depth,
        rel_capacity,
        rel_coherence,
        rate,
        sd,
    ):
        """:meth:`perform`, compiled: school by school, its keyed normal each, in place."""
        noise = draws.normal(key, t, np.arange(len(logit)), 0)
        for i in range(len(logit)):
            target = (
                base[i]
                + rel_capacity * (capacity[i] - capacity0[i])
                + (1.0 + rel_coherence * coherence[i]) * effect_depth[i]
            )
            logit[i] += rate * (target - logit[i]) + sd * noise[i]
