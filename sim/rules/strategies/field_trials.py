"""The centre's field trials: scan ideas, trial the most promising, publish the evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.core import draws
from sim.core.numerics import row_any
from sim.core.registry import Param
from sim.core.sources import NEXT_PRACTICE
from sim.core.state import CREATED, EMPTY, IDEA, PROVEN, TRIAL
from sim.rules.actions import publish_evidence, take_up

if TYPE_CHECKING:
    from sim.core.registry import ModelLike

#: The mechanism's decisions: the centre's read of an idea (keyed by the practice), the
#: volunteer sites (by school and practice), and the trial's estimate (by the practice).
DECISIONS = ("field_trials.signal", "field_trials.sites", "field_trials.estimate")
SIGNAL, SITES, ESTIMATE = range(len(DECISIONS))


class FieldTrials:
    """The Innovation Unit's stimulate and incubate phases, and the evidence they feed back.

    Stimulate: every ``dur_cycle`` months the centre sees a weak, noisy
    signal (``sd_judge``) of each practitioner idea in use, favouring the
    agenda's domain by ``rel_signal_agenda`` times ``lever_agenda``, and picks
    the ``n_trials`` most promising. Incubate: each gets ``n_trial_sites``
    volunteer schools, open and capable heads first, who run it as
    co-designers with permission to experiment, for ``dur_trial`` months at
    ``cost_trial_site`` a site-month to the centre (seed 002: field trials
    with creative space, resources, permission and co-designed evaluation).
    Conclude: the estimate is the true effect plus noise ``sd_trial`` over the
    root of site-months; it is published, and the practice is proven if it
    clears ``threshold_proven`` (system learning that feeds back into policy).
    Draws are keyed by the practice (and the school, for sites) and the month,
    on the ``centre`` slot's stream. No kernel: a few practices a cycle.
    """

    params_namespace: ClassVar[str] = "field_trials"
    params: ClassVar[dict[str, Param]] = {
        "dur_cycle": Param(
            6.0,
            lo=1,
            hi=120,
            unit="months",
            kind="lever",
            ref=NEXT_PRACTICE,
            meaning="Months between the centre's horizon scans (stimulate).",
        ),
        "n_trials": Param(
            3,
            lo=0,
            hi=100,
            unit="trials per cycle",
            kind="lever",
            sweep=(0, 8),
            ref=NEXT_PRACTICE,
            meaning="Field trials the centre funds in each cycle (incubate).",
        ),
        "cost_trial_site": Param(
            1.0,
            lo=0,
            hi=100,
            unit="GBP k per site-month",
            kind="uncertainty",
            sweep=(0.3, 3.0),
            sweep_ref="supply cover, materials and a share of co-designed evaluation: 4-36k a "
            "site-year",
            ref=NEXT_PRACTICE,
            meaning="Cost to the centre of one field-trial site for a month.",
        ),
        "rel_signal_agenda": Param(
            0.1,
            lo=0,
            hi=3,
            unit="logit",
            kind="lever",
            ref=NEXT_PRACTICE,
            meaning="Lift in the centre's read of an idea in the agenda's domain at a full "
            "agenda lever, when it picks ideas to trial (stimulate).",
        ),
    }

    def stimulate_and_incubate(self, model: ModelLike) -> None:
        """Every ``dur_cycle`` months, scan practitioners' ideas and trial the best."""
        p, pr, s, keys = model.p, model.practices, model.schools, self.keys_of(DECISIONS)
        cycle = max(1, round(self.value(model, "dur_cycle") / p.dur_step))
        n_trials = self.value(model, "n_trials")
        if model.t % cycle != 0 or n_trials == 0:
            return
        users = model.users()
        cand = np.flatnonzero((pr.stage[: pr.n] == IDEA) & (users > 0) & (pr.ev_prec[: pr.n] == 0))
        if len(cand) == 0:
            return
        # Stimulate: a weak signal of each idea in use, the agenda's domain favoured.
        signal = pr.effect[cand] + p.sd_judge * draws.normal(keys[SIGNAL], model.t, pr.uid[cand], 0)
        if model.agenda >= 0:
            signal += (
                self.value(model, "rel_signal_agenda")
                * p.lever_agenda
                * (pr.domain[cand] == model.agenda)
            )
        chosen = cand[np.argsort(-signal, kind="stable")[:n_trials]]
        # Incubate: volunteer sites, open and capable heads first, as long as money lasts.
        dur = max(1, round(p.dur_trial / p.dur_step))
        for pid in chosen.tolist():
            free = np.flatnonzero(s.trial == EMPTY)
            if len(free) == 0:
                break
            w = model.heads.openness[s.head[free]] * s.capacity[free] + 1e-9
            # The centre commits each site's whole trial (cost_trial_site per site-month).
            k = model.ledger.centre_units(
                self.value(model, "cost_trial_site") * p.dur_trial,
                min(p.n_trial_sites, len(free)),
            )
            if k == 0:
                break
            # k of them, with chance in proportion to w, without replacement: those whose
            # exponential over their weight is least (Efraimidis and Spirakis 2006).
            clock = draws.exponential(keys[SITES], model.t, free, pr.uid[pid]) / w
            sites = free[np.argsort(clock, kind="stable")[:k]]
            take_up(model, sites, np.full(k, pid), CREATED)
            runs = row_any(s.slot_p[sites] == pid)
            s.trial[sites[runs]] = pid
            pr.stage[pid] = TRIAL
            pr.trial_end[pid] = model.t + dur

    def conclude_trials(self, model: ModelLike) -> None:
        """Trials that end are evaluated and their evidence published (proven or abandoned)."""
        p, pr, s, keys = model.p, model.practices, model.schools, self.keys_of(DECISIONS)
        ending = np.flatnonzero((pr.stage[: pr.n] == TRIAL) & (pr.trial_end[: pr.n] <= model.t))
        for pid in ending.tolist():
            sites = np.flatnonzero(s.trial == pid)
            site_months = max(len(sites), 1) * p.dur_trial
            sd = p.sd_trial / np.sqrt(site_months)
            est = pr.effect[pid] + sd * draws.normal1(keys[ESTIMATE], model.t, pr.uid[pid], 0)
            publish_evidence(
                model, np.array([pid]), np.array([est]), np.array([1.0 / sd**2]), p.threshold_proven
            )
            model.note(
                "trial",
                practice=pid,
                proven=bool(pr.stage[pid] == PROVEN),
                inventor=int(pr.inventor[pid]),
                sites=len(sites),
            )
            s.trial[sites] = EMPTY
            pr.trial_end[pid] = EMPTY
