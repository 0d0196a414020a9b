"""The centre learns from national monitoring: evidence on practices in wide use."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.numerics import numpy_sum, row_any
from sim.core.registry import Param
from sim.core.state import ABANDONED, CREATED, IDEA, PROVEN, TRIAL
from sim.rules.strategies.field_trials import effects_at, z_of

if TYPE_CHECKING:
    from sim.core.registry import ModelLike

#: The mechanism's decision: the sampling error of a year's read of a practice (by practice).
DECISIONS = ("monitoring.read",)

#: Revising a framework from national evidence (issue 28 item 3, last bullet).
NATIONAL_STRATEGIES = (
    "the National Strategies revised their frameworks from national results: DfES, Primary "
    "Framework for literacy and mathematics (2006), renewing the 1998 and 1999 frameworks"
)


class Monitoring:
    """The centre reads national results for practices in wide use, and revises what it backs.

    Every ``dur_monitor`` months, for each practice run by at least
    ``share_min_users`` of the schools (and not in a field trial), the
    centre compares the schools running it with those that do not: the
    practice's true effect at its users
    (:func:`~sim.rules.strategies.field_trials.effect_at`) plus the
    sampling error of a comparison of two groups of schools,
    ``sd_monitor sqrt(1 / n_users + 1 / n_others)``, ``sd_monitor`` being
    the spread of schools' published results (0.61 logit in 2006, cohort
    noise included: docs/sources.md). Selection into use (better schools
    choosing a practice) would bias the read; it is left out (a stated
    limitation, docs/decisions.md). The read is published as evidence
    (precision-weighted with what was published before). A practice whose
    published estimate falls below ``threshold_proven`` is withdrawn
    (abandoned): the best known practices no longer include it, so a
    mandate or brokerage built on it is revised; an idea or an abandoned
    practice whose lower confidence bound clears ``threshold_proven`` at
    ``field_trials.share_confidence`` is proven. So a centre that mandates
    can learn from what happens when its mandate spreads, and can take up
    a practice that spread from below (the National Strategies revised
    their frameworks). Any strategy may monitor; a strategy that stands
    back does not. The read of each practice is keyed by the practice and
    the month, on the ``centre`` slot's stream. National tests are paid
    for already: monitoring costs the centre nothing here (a judgement).
    One kernel: each watched practice's mean effect at its users (:meth:`gains`).
    """

    params_namespace: ClassVar[str] = "monitoring"
    params: ClassVar[dict[str, Param]] = {
        "dur_monitor": Param(
            12.0,
            lo=1,
            hi=120,
            unit="months",
            kind="lever",
            ref="KS2 results are published once a year (sim/data/ks2_english_level4_england)",
            meaning="Months between the centre's reads of national results; 120 or more "
            "in a ten-year run means it never learns from them.",
        ),
        "share_min_users": Param(
            0.05,
            lo=0,
            hi=1,
            unit="1",
            kind="lever",
            ref="a judgement: a practice in one school in twenty is visible in national data; "
            "fewer users give reads too noisy to act on",
            meaning="Share of schools that must run a practice for the centre to monitor it.",
        ),
        "sd_monitor": Param(
            0.61,
            lo=0.01,
            hi=5,
            unit="logit",
            kind="uncertainty",
            sweep=(0.48, 1.0),
            sweep_ref="0.61: spread of schools' published English results in 2006, 0.48 net "
            "of cohort noise (docs/sources.md, DERIVED); 1.0 a judgement: selection into use "
            "adds noise an unadjusted comparison cannot remove",
            meaning="Spread of a school's result around what its practices predict, as "
            "national monitoring sees it; sets the sampling error of the centre's reads.",
        ),
    }

    def monitor(self, model: ModelLike) -> None:
        """Every ``dur_monitor`` months, read national results for practices in wide use."""
        p, pr, s = model.p, model.practices, model.schools
        cycle = max(1, round(self.value(model, "dur_monitor") / p.dur_step))
        if model.t % cycle != 0 or s.n == 0:
            return
        users = model.users()
        watched = np.flatnonzero(
            (users >= max(1.0, self.value(model, "share_min_users") * s.n))
            & (users < s.n)
            & (pr.stage[: pr.n] != TRIAL)
        )
        if len(watched) == 0:
            return
        gain = self.gains(
            watched,
            s.slot_p[: s.n],
            s.slot_channel[: s.n],
            pr.effect,
            pr.born,
            p.rel_effect_spread,
        )
        n_users = users[watched].astype(np.float64)
        se = self.value(model, "sd_monitor") * np.sqrt(1.0 / n_users + 1.0 / (s.n - n_users))
        z = z_of(self.value(model, "share_confidence"))
        key = self.keys_of(DECISIONS)[0]
        est = gain + se * draws.normal(key, model.t, pr.uid[watched], 0)
        revised = self.revise(
            pr.stage[: pr.n],
            pr.ev_mean[: pr.n],
            pr.ev_prec[: pr.n],
            watched,
            est,
            1.0 / se**2,
            p.threshold_proven,
            z,
        )
        model.note(
            "monitoring",
            practices=watched.tolist(),
            estimate=est.tolist(),
            withdrawn=revised[0].tolist(),
            proven=revised[1].tolist(),
        )

    @staticmethod
    def gains(watched, slot_p, slot_channel, effect, born, rel_spread):
        """Each watched practice's mean true effect at the schools running it.

        :func:`~sim.rules.strategies.field_trials.effects_at` at its users (the rows
        of ``slot_p`` that run it): its whole effect where a school holds it as its
        own (channel created) or it was known at the start (``born`` below 0),
        ``rel_spread`` of it elsewhere.
        """
        out = []
        for q in watched.tolist():
            users = np.flatnonzero(row_any(slot_p == q))
            at = effects_at(q, slot_p[users], slot_channel[users], effect, born, rel_spread)
            out.append(at.mean())
        return np.array(out)

    @staticmethod
    @jit
    def gains_compiled(watched, slot_p, slot_channel, effect, born, rel_spread):
        """:meth:`gains`, compiled: one pass over the schools a practice, the mean numpy's.

        The effects at the users are gathered in school order and summed in numpy's
        (pairwise) order (:func:`sim.core.numerics.numpy_sum`), then divided by
        their count, as ``mean`` does.
        """
        n, width = slot_p.shape
        out = np.empty(len(watched))
        at = np.empty(n)
        for x in range(len(watched)):
            q = watched[x]
            whole = float(effect[q])
            part = whole * rel_spread
            m = 0
            for i in range(n):
                runs = False
                own = False
                for j in range(width):
                    if slot_p[i, j] == q:
                        runs = True
                        own = own or slot_channel[i, j] == CREATED
                if runs:
                    at[m] = whole if (born[q] < 0 or own) else part
                    m += 1
            out[x] = numpy_sum(at[:m]) / m if m > 0 else np.nan
        return out

    @staticmethod
    def revise(stage, ev_mean, ev_prec, q, est, prec, threshold, z):
        """Publish reads ``est`` (precision ``prec``) of practices ``q``; revise their stages.

        In place. Returns the practices withdrawn (estimate below
        ``threshold``) and those newly proven (ideas or abandoned practices
        whose lower bound, ``z`` standard errors down, clears it).
        """
        tot = ev_prec[q] + prec
        ev_mean[q] = (ev_prec[q] * ev_mean[q] + prec * est) / tot
        ev_prec[q] = tot
        withdraw = (ev_mean[q] < threshold) & (stage[q] != ABANDONED)
        prove = ((stage[q] == IDEA) | (stage[q] == ABANDONED)) & (
            ev_mean[q] - z / np.sqrt(tot) >= threshold
        )
        stage[q[withdraw]] = ABANDONED
        stage[q[prove]] = PROVEN
        return q[withdraw], q[prove]
