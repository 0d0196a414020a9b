"""The centre's field trials: scan ideas, trial the most promising, publish the evidence."""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.numerics import first_in_order, numpy_sum, row_any
from sim.core.registry import Param
from sim.core.sources import NEXT_PRACTICE
from sim.core.state import CREATED, EMPTY, IDEA, PROVEN, TRIAL
from sim.rules.actions import (
    ProtectionInputs,
    ValueInputs,
    publish_evidence,
    take_up_slots,
    take_up_slots_compiled,
)

if TYPE_CHECKING:
    from sim.core.registry import ModelLike

#: The mechanism's decisions: the centre's read of an idea (keyed by the practice), the
#: volunteer sites (by school and practice), and the trial's estimate (by the practice).
DECISIONS = ("field_trials.signal", "field_trials.sites", "field_trials.estimate")
SIGNAL, SITES, ESTIMATE = range(len(DECISIONS))


@lru_cache(maxsize=256)
def z_of(confidence: float) -> float:
    """``NormalDist().inv_cdf(confidence)``: the one-sided quantile the centre asks for.

    Remembered: the centre asks the same few confidences every step.
    """
    return NormalDist().inv_cdf(confidence)


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

    Conclude: a trial is a comparison, not a measurement of the candidate
    alone (issue 28 item 2). Its estimand is the candidate's effect minus
    its comparator's: the mean true effect of the practices the candidate
    displaced at its sites (0 where it filled an empty slot: business as
    usual), fixed when the sites take it up (``practices.trial_base``). Its
    estimate adds the sampling error of a two-arm cluster trial with
    ``n_trial_sites`` sites in each arm (controls cost the centre nothing
    here): variance ``2 (sd_trial^2 + 1 / (m c s (1 - s))) / n``, between-site
    variance plus each site's binomial (pupil) variance on the logit scale
    for ``m = n_pupils_site`` pupils a cohort, ``c`` cohorts tested (one a
    year of trial, at least one) and ``s`` the sites' mean share at the
    expected standard (the delta method). The estimate is published with
    its precision, and the practice is proven when the one-sided lower
    confidence bound at ``share_confidence`` clears ``threshold_proven``
    (the least effect worth the cost); otherwise it is abandoned. Because
    the centre picks the most promising ideas and then the best published
    estimates, the published effect of a proven practice exceeds its true
    gain on average (the winner's curse: Cheung and Slavin 2016, small
    trials about twice the effect of large ones; literature note B3),
    without any special code; a false positive is mandated and brokered as
    any proven practice is, and its harm shows where it displaces better
    practice. Draws are keyed by the practice (and the school, for sites)
    and the month, on the ``centre`` slot's stream. Two kernels: the pick of a
    trial's volunteer sites (:meth:`volunteers`) and their enrolment, with the
    comparator (:meth:`enrol`).
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
            0.5,
            lo=0,
            hi=100,
            unit="GBP k per site-month",
            kind="uncertainty",
            sweep=(0.2, 1.0),
            sweep_ref="EEF trials' grants per treated school-month, 0.20 to 0.81 (four EEF "
            "projects: docs/sources.md, literature note B1); the top is the co-designed "
            "field trial's extra, a judgement",
            ref="EEF project pages (Philosophy for Children, Switch-on Reading), docs/sources.md",
            meaning="Cost to the centre of one field-trial site for a month.",
        ),
        "n_pupils_site": Param(
            41,
            lo=1,
            hi=500,
            unit="pupils",
            kind="structure",
            ref="docs/sources.md: 609.6 thousand KS2 pupils (2005) over 14,768 schools with "
            "results (2008) = 41.3 a school (SFR tables, DERIVED)",
            meaning="Pupils tested at a trial site in one cohort (a year group at KS2), "
            "which sets the within-site (pupil) sampling error of a trial's estimate.",
        ),
        "share_confidence": Param(
            0.95,
            lo=0.5,
            hi=0.999,
            unit="1",
            kind="lever",
            ref="the conventional 5% level of a one-sided test (a convention, not a source; "
            "at 0.5 the point estimate alone must clear threshold_proven)",
            meaning="Confidence the centre asks of a trial: a practice is proven when the "
            "one-sided lower bound of its estimate at this confidence clears "
            "threshold_proven.",
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
        p = model.p
        cycle = max(1, round(self.value(model, "dur_cycle") / p.dur_step))
        if model.t % cycle != 0:
            return
        n_trials = self.value(model, "n_trials")
        if n_trials == 0:
            return
        pr, s, keys = model.practices, model.schools, self.keys_of(DECISIONS)
        chosen = self.scan(
            keys[SIGNAL],
            model.t,
            pr.stage[: pr.n],
            model.users(),
            pr.ev_prec[: pr.n],
            pr.effect,
            pr.uid,
            pr.domain,
            model.agenda,
            self.value(model, "rel_signal_agenda") * p.lever_agenda,
            p.sd_judge,
            n_trials,
        )
        if len(chosen) == 0:
            return
        # Incubate: volunteer sites, open and capable heads first, as long as money lasts.
        dur = max(1, round(p.dur_trial / p.dur_step))
        for pid in chosen.tolist():
            free = np.flatnonzero(s.trial == EMPTY)
            if len(free) == 0:
                break
            # The centre commits each site's whole trial (cost_trial_site per site-month).
            k = model.ledger.centre_units(
                self.value(model, "cost_trial_site") * p.dur_trial,
                min(p.n_trial_sites, len(free)),
            )
            if k == 0:
                break
            pr.trial_base[pid], took_up = self.incubate(
                keys[SITES],
                model.t,
                free,
                pr.uid[pid],
                model.heads.openness,
                s.head,
                s.capacity,
                k,
                pid,
                p.init_own_created,
                s.slot_depth,
                s.slot_own,
                s.slot_source,
                s.trial,
                pr.effect,
                pr.born,
                p.rel_effect_spread,
                # value_inputs(model) and protection_inputs(model) but the step, as fields
                s.slot_p,
                s.slot_obs,
                s.slot_nobs,
                s.budget,
                pr.ev_prec,
                pr.ev_mean,
                pr.cost,
                model.sd_observe_eff**2,
                p.lever_evidence,
                1.0 / p.sd_prior**2,
                p.rel_cost,
                s.slot_since,
                s.slot_channel,
                p.dur_step,
                p.dur_commit,
                np.asarray(model.mandates, np.int64),
            )
            model.counts["adoptions"] += took_up
            pr.stage[pid] = TRIAL
            pr.trial_end[pid] = model.t + dur

    @staticmethod
    def scan(key, t, stage, users, ev_prec, effect, uid, domain, agenda, lift, sd_judge, k):
        """Stimulate: the ``k`` ideas the centre trials this cycle, most promising first.

        The candidates are the ideas in use (``users`` above 0) with no published
        evidence. The centre's read of each is a weak signal, its true effect plus
        ``sd_judge`` times a normal (keyed by the practice's ``uid``), lifted by
        ``lift`` in the ``agenda``'s domain (when there is one, ``agenda`` from 0);
        the ``k`` highest reads, in order (equals by index: ``first_in_order`` of
        the reads' negatives).
        """
        cand = np.flatnonzero((stage == IDEA) & (users > 0) & (ev_prec == 0))
        if len(cand) == 0:
            return cand
        signal = effect[cand] + sd_judge * draws.normal(key, t, uid[cand], 0)
        if agenda >= 0:
            signal += lift * (domain[cand] == agenda)
        return cand[first_in_order(-signal, k)]

    @staticmethod
    @jit
    def scan_compiled(
        key, t, stage, users, ev_prec, effect, uid, domain, agenda, lift, sd_judge, k
    ):
        """:meth:`scan`, compiled: the candidates, their reads and the ``k`` best in one call.

        The reads' normals are :func:`sim.core.draws.normal` of the candidates' ``uid``
        (one call, as the numpy form draws them); the ``k`` least negated reads are kept
        in order in one pass, each inserted after those it does not undercut (a stable
        sort's order: equals by index, NaNs last), as ``first_in_order`` picks them.
        """
        cand = np.empty(len(stage), np.int64)
        n = 0
        for q in range(len(stage)):
            cand[n] = q
            n += stage[q] == IDEA and users[q] > 0 and ev_prec[q] == 0
        cand = cand[:n]
        ids = np.empty(n, uid.dtype)
        for x in range(n):
            ids[x] = uid[cand[x]]
        z = draws.normal(key, t, ids, 0)
        best = np.empty(max(k, 0), np.int64)
        clock = np.empty(max(k, 0))
        m = 0
        for x in range(n):
            q = cand[x]
            signal = effect[q] + sd_judge * z[x]
            if agenda >= 0:
                signal += lift * (1.0 if domain[q] == agenda else 0.0)
            c = -signal
            j = m
            while j > 0 and (c < clock[j - 1] or (clock[j - 1] != clock[j - 1] and c == c)):
                j -= 1
            if j >= k:
                continue
            for y in range(min(m, k - 1), j, -1):
                best[y] = best[y - 1]
                clock[y] = clock[y - 1]
            best[j] = q
            clock[j] = c
            m = min(m + 1, k)
        return best[:m]

    @staticmethod
    def incubate(
        key,
        t,
        free,
        uid,
        openness,
        head,
        capacity,
        k,
        pid,
        own,
        depth,
        own_a,
        source_a,
        trial,
        effect,
        born,
        rel_spread,
        slot_p,
        obs,
        nobs,
        budget,
        ev_prec,
        ev_mean,
        cost,
        sd2,
        lever,
        prec0,
        rel_cost,
        since,
        channel_a,
        dur_step,
        dur_commit,
        mandates,
    ):
        """Incubate ``pid``: ``k`` volunteer sites take it up as their own and join its trial.

        :meth:`volunteers` among the ``free`` schools; each takes ``pid`` up
        (:func:`sim.rules.actions.take_up_slots`, channel created, ownership
        ``own``: what :func:`sim.rules.actions.take_up` does); those running it
        join the trial (:meth:`enrol`). ``slot_p`` to ``rel_cost``: the fields of
        :func:`~sim.rules.actions.value_inputs`; ``since`` to ``mandates``: those of
        :func:`~sim.rules.actions.protection_inputs` but the step (``t``), passed as
        plain arguments (a compiled call with named tuples costs more). Returns the
        trial's comparator and how many sites took it up.
        """
        values = ValueInputs(
            slot_p, obs, nobs, budget, ev_prec, ev_mean, cost, sd2, lever, prec0, rel_cost
        )
        protection = ProtectionInputs(since, channel_a, t, dur_step, dur_commit, mandates)
        sites = FieldTrials.volunteers(key, t, free, uid, openness, head, capacity, k)
        channel = protection.channel
        before = slot_p[sites]  # a copy (fancy indexing)
        m = len(sites)
        ok = take_up_slots(
            sites,
            np.full(m, pid, np.int64),
            np.full(m, EMPTY, np.int64),
            own,
            CREATED,
            depth,
            own_a,
            source_a,
            values,
            protection,
        )
        base = FieldTrials.enrol(
            pid, sites, before, slot_p, channel, trial, effect, born, rel_spread
        )
        return base, int(np.count_nonzero(ok))

    @staticmethod
    @jit
    def incubate_compiled(
        key,
        t,
        free,
        uid,
        openness,
        head,
        capacity,
        k,
        pid,
        own,
        depth,
        own_a,
        source_a,
        trial,
        effect,
        born,
        rel_spread,
        slot_p,
        obs,
        nobs,
        budget,
        ev_prec,
        ev_mean,
        cost,
        sd2,
        lever,
        prec0,
        rel_cost,
        since,
        channel_a,
        dur_step,
        dur_commit,
        mandates,
    ):
        """:meth:`incubate`, compiled: the three kernels in one call.

        :meth:`volunteers_compiled`, :func:`~sim.rules.actions.take_up_slots_compiled`
        and :meth:`enrol_compiled`, in that order, on the same arrays; the two bundles
        are made inside the kernel.
        """
        values = ValueInputs(
            slot_p, obs, nobs, budget, ev_prec, ev_mean, cost, sd2, lever, prec0, rel_cost
        )
        protection = ProtectionInputs(since, channel_a, t, dur_step, dur_commit, mandates)
        sites = _volunteers(key, t, free, uid, openness, head, capacity, k)
        channel = protection.channel
        m = len(sites)
        before = np.empty((m, slot_p.shape[1]), slot_p.dtype)
        for x in range(m):
            before[x] = slot_p[sites[x]]
        ok = take_up_slots_compiled(
            sites,
            np.full(m, pid),
            np.full(m, EMPTY),
            own,
            CREATED,
            depth,
            own_a,
            source_a,
            values,
            protection,
        )
        base = _enrol(pid, sites, before, slot_p, channel, trial, effect, born, rel_spread)
        return base, np.count_nonzero(ok)

    @staticmethod
    def volunteers(key, t, free, uid, openness, head, capacity, k):
        """The ``k`` volunteer sites of a trial among the ``free`` schools, in the order drawn.

        Open and capable heads first: ``k`` of them, with chance in proportion to
        ``openness * capacity`` (plus 1e-9), without replacement: those whose
        exponential (keyed by the school and the practice's ``uid``) over their weight
        is least, equals by index (Efraimidis and Spirakis 2006).
        """
        w = openness[head[free]] * capacity[free] + 1e-9
        clock = draws.exponential(key, t, free, uid) / w
        return free[first_in_order(clock, k)]

    @staticmethod
    @jit
    def volunteers_compiled(key, t, free, uid, openness, head, capacity, k):
        """:meth:`volunteers`, compiled: one pass keeping the ``k`` least clocks in order.

        Each clock is inserted after those it does not undercut (a stable sort's
        order: equals by index, NaNs last), as ``first_in_order`` picks them.
        """
        e = draws.exponential(key, t, free, uid)
        best = np.empty(k, np.int64)
        clock = np.empty(k)
        m = 0
        for i in range(len(free)):
            f = free[i]
            c = e[i] / (openness[head[f]] * capacity[f] + 1e-9)
            j = m
            while j > 0 and (c < clock[j - 1] or (clock[j - 1] != clock[j - 1] and c == c)):
                j -= 1
            if j >= k:
                continue
            for x in range(min(m, k - 1), j, -1):
                best[x] = best[x - 1]
                clock[x] = clock[x - 1]
            best[j] = f
            clock[j] = c
            m = min(m + 1, k)
        return best[:m]

    @staticmethod
    def enrol(pid, sites, before, slot_p, slot_channel, trial, effect, born, rel_spread):
        """The ``sites`` now running ``pid`` join its trial; returns its :func:`comparator`.

        ``before``: the sites' slots before they took it up (one row a site). The
        comparator is :func:`comparator`'s, on arrays: the mean true effect
        (:func:`effect_at`) of what ``pid`` displaced at each site running it, 0 where
        it filled an empty slot.
        """
        runs = row_any(slot_p[sites] == pid)
        at = sites[runs]
        trial[at] = pid
        before, after = before[runs], slot_p[at]
        if len(before) == 0:
            return 0.0
        displaced = np.where((before != after) & (after == pid), before, EMPTY).max(axis=1)
        base = np.zeros(len(displaced))
        for i in np.flatnonzero(displaced >= 0).tolist():
            row = at[i : i + 1]
            q = int(displaced[i])
            base[i] = effects_at(q, slot_p[row], slot_channel[row], effect, born, rel_spread)[0]
        return float(base.mean())

    @staticmethod
    @jit
    def enrol_compiled(pid, sites, before, slot_p, slot_channel, trial, effect, born, rel_spread):
        """:meth:`enrol`, compiled: one pass over the sites, the mean numpy's.

        The displaced effects are summed in numpy's order
        (:func:`sim.core.numerics.numpy_sum`) and divided by the sites running it.
        """
        width = slot_p.shape[1]
        base = np.zeros(len(sites))
        m = 0
        for x in range(len(sites)):
            i = sites[x]
            runs = False
            for j in range(width):
                runs = runs or slot_p[i, j] == pid
            if not runs:
                continue
            trial[i] = pid
            q = EMPTY
            for j in range(width):
                if before[x, j] != slot_p[i, j] and slot_p[i, j] == pid:
                    q = max(q, before[x, j])
            v = 0.0
            if q >= 0:
                v = float(effect[q])
                own = False
                for j in range(width):
                    own = own or (slot_p[i, j] == q and slot_channel[i, j] == CREATED)
                if born[q] >= 0 and not own:
                    v = v * rel_spread
            base[m] = v
            m += 1
        if m == 0:
            return 0.0
        return numpy_sum(base[:m]) / m

    def conclude_trials(self, model: ModelLike) -> None:
        """Trials that end are evaluated and their evidence published (proven or abandoned).

        One call of :meth:`concluded` finds the trials ending this month, frees their
        sites and measures each (sites, their mean logit performance, the candidate's
        mean true effect there); a trial no site ran is an idea again. The estimates
        of the rest are drawn and published together: each practice's evidence is its
        own, so publishing them at once is publishing them one by one.
        """
        pr, s, p = model.practices, model.schools, model.p
        if not self.any_ending(model.t, pr.stage[: pr.n], pr.trial_end[: pr.n]):
            return  # most months: no trial ends, and nothing is freed or measured
        ending, n_sites, perf, effect = self.concluded(
            model.t,
            pr.stage[: pr.n],
            pr.trial_end[: pr.n],
            s.trial,
            s.logit_perf,
            s.slot_p,
            s.slot_channel,
            pr.effect,
            pr.born,
            p.rel_effect_spread,
        )
        if not len(ending):
            return
        ran = n_sites > 0
        if not ran.all():  # no site ran it: nothing measured, an idea again
            pr.stage[ending[~ran]] = IDEA
            ending, n_sites, perf, effect = ending[ran], n_sites[ran], perf[ran], effect[ran]
            if not len(ending):
                return
        keys = self.keys_of(DECISIONS)
        z = z_of(self.value(model, "share_confidence"))
        n_pupils = self.value(model, "n_pupils_site")
        noise = draws.normal(keys[ESTIMATE], model.t, pr.uid[ending], 0)
        trials = []
        for pid, m, lp, mean, e in zip(
            ending.tolist(),
            n_sites.tolist(),
            perf.tolist(),
            effect.tolist(),
            noise.tolist(),
            strict=True,
        ):
            se = trial_se(p.sd_trial, m, n_pupils, p.dur_trial, expit(lp))
            gain = mean - pr.trial_base[pid]
            trials.append((pid, m, gain, gain + se * e, se))
        publish_evidence(
            model,
            ending,
            np.array([est for *_, est, _ in trials]),
            np.array([1.0 / se**2 for *_, se in trials]),
            p.threshold_proven,
            z,
        )
        for pid, m, gain, est, se in trials:
            model.note(
                "trial",
                practice=pid,
                proven=bool(pr.stage[pid] == PROVEN),
                inventor=int(pr.inventor[pid]),
                sites=m,
                estimate=float(est),
                se=float(se),
                true_gain=gain,
            )

    @staticmethod
    def any_ending(t, stage, trial_end):
        """Whether any practice in trial reaches its ``trial_end`` at step ``t``.

        :meth:`concluded` would find one (a cheap look before its call).
        """
        return bool(((stage == TRIAL) & (trial_end <= t)).any())

    @staticmethod
    @jit
    def any_ending_compiled(t, stage, trial_end):
        """:meth:`any_ending`, compiled: the first practice found in trial and due."""
        for q in range(len(stage)):
            if stage[q] == TRIAL and trial_end[q] <= t:
                return True
        return False

    @staticmethod
    def concluded(t, stage, trial_end, trial, logit_perf, slot_p, slot_channel, effect, born, rel):
        """The trials ending at step ``t``, their sites freed, and what each measured.

        Returns the practices in trial whose ``trial_end`` is reached (ascending), and
        for each its sites (the schools whose ``trial`` it was, now freed: ``trial``
        set to -1 and its ``trial_end`` too), their mean ``logit_perf``, and the mean
        of its true effect at them (:func:`effects_at`); 0 for both where no site ran it.
        """
        ending = np.flatnonzero((stage == TRIAL) & (trial_end <= t))
        n_sites = np.zeros(len(ending), np.int64)
        perf = np.zeros(len(ending))
        gain = np.zeros(len(ending))
        for x, pid in enumerate(ending.tolist()):
            sites = np.flatnonzero(trial == pid)
            trial[sites] = EMPTY
            trial_end[pid] = EMPTY
            n_sites[x] = len(sites)
            if len(sites):
                perf[x] = logit_perf[sites].mean()
                at = effects_at(pid, slot_p[sites], slot_channel[sites], effect, born, rel)
                gain[x] = at.mean()
        return ending, n_sites, perf, gain

    @staticmethod
    @jit
    def concluded_compiled(
        t, stage, trial_end, trial, logit_perf, slot_p, slot_channel, effect, born, rel
    ):
        """:meth:`concluded`, compiled: one pass over the schools a trial, the means numpy's.

        Each trial's sites in school order; their logit performances and the
        candidate's effects there (whole where it is the school's own, channel
        created, or known at the start; ``rel`` of it elsewhere) summed in numpy's
        (pairwise) order (:func:`sim.core.numerics.numpy_sum`) and divided by their count.
        """
        m_all = 0
        ending = np.empty(len(stage), np.int64)
        for q in range(len(stage)):
            ending[m_all] = q
            m_all += stage[q] == TRIAL and trial_end[q] <= t
        ending = ending[:m_all]
        n_sites = np.zeros(m_all, np.int64)
        perf = np.zeros(m_all)
        gain = np.zeros(m_all)
        if m_all == 0:
            return ending, n_sites, perf, gain
        n, width = len(trial), slot_p.shape[1]
        lp = np.empty(n)
        at = np.empty(n)
        for x in range(m_all):
            pid = ending[x]
            trial_end[pid] = EMPTY
            whole = float(effect[pid])
            part = whole * rel
            m = 0
            for i in range(n):
                if trial[i] != pid:
                    continue
                trial[i] = EMPTY
                own = False
                for j in range(width):
                    own = own or (slot_p[i, j] == pid and slot_channel[i, j] == CREATED)
                lp[m] = logit_perf[i]
                at[m] = whole if (born[pid] < 0 or own) else part
                m += 1
            n_sites[x] = m
            if m > 0:
                perf[x] = numpy_sum(lp[:m]) / m
                gain[x] = numpy_sum(at[:m]) / m
        return ending, n_sites, perf, gain


#: The kernels :meth:`FieldTrials.incubate_compiled` calls: a kernel reaches another
#: through a name of its module, not through a class.
_volunteers = FieldTrials.volunteers_compiled
_enrol = FieldTrials.enrol_compiled


def expit(x: float) -> float:
    """The logistic function: a logit as a share."""
    return 1.0 / (1.0 + np.exp(-x))


def trial_se(sd_site: float, n_sites: int, n_pupils: float, dur: float, share: float) -> float:
    """Standard error (logit) of a two-arm cluster trial with ``n_sites`` sites an arm.

    ``2 (sd_site^2 + 1 / (n_pupils c share (1 - share))) / n_sites`` is its
    variance: the between-site variance and each site's binomial variance on
    the logit scale (the delta method), ``c`` the cohorts tested, one a year of
    trial and at least one (``dur`` in months).
    """
    cohorts = max(1.0, np.floor(dur / 12.0))
    share = min(max(float(share), 1e-6), 1.0 - 1e-6)
    v_pupil = 1.0 / (n_pupils * float(cohorts) * share * (1.0 - share))
    # On Python floats (numpy's scalars cost a microsecond an operation); math.sqrt and
    # np.sqrt are both the correctly rounded root (a NaN stays a NaN).
    return math.sqrt(2.0 * (sd_site**2 + v_pupil) / max(n_sites, 1))


def effect_at(model: ModelLike, practice: int, schools: np.ndarray) -> np.ndarray:
    """The true effect (logit, at full depth) of ``practice`` at each of ``schools``.

    What a trial or the centre's monitoring measures, and the single place where an
    effect that varies by school enters the centre's evidence. It is the scale-up fade
    of :meth:`sim.model.model.NextPracticeModel.slot_effect` read for one practice: a
    practice invented during the run keeps its whole effect at a school that holds it
    as its own (its inventor, its trial sites: channel created) and
    ``rel_effect_spread`` of it anywhere else, including a school that does not hold
    it; a practice known at the start keeps its effect everywhere. So a trial measures
    efficacy at its own sites and monitoring measures effectiveness in wide use.
    The rule itself, on arrays, is :func:`effects_at`; the slots are read only for a
    practice invented during the run.
    """
    pr = model.practices
    if pr.born[practice] < 0:  # known at the start: its whole effect everywhere
        return effects_at(practice, schools, None, pr.effect, pr.born, 0.0)
    s = model.schools
    return effects_at(
        practice,
        s.slot_p[schools],
        s.slot_channel[schools],
        pr.effect,
        pr.born,
        model.p.rel_effect_spread,
    )


def effects_at(practice, slot_p, slot_channel, effect, born, rel_spread) -> np.ndarray:
    """:func:`effect_at` on arrays: ``practice``'s true effect at schools with these slots.

    ``slot_p`` and ``slot_channel``: the schools' rows (one a school; only their
    number is read for a practice known at the start). Its whole effect where it was
    known at the start (``born`` below 0) or a school holds it as its own (channel
    created), ``rel_spread`` of it elsewhere. Monitoring's
    :meth:`~sim.rules.strategies.monitoring.Monitoring.gains` and a trial's
    conclusion (:meth:`FieldTrials.concluded`) read it too; their kernels write it
    out in a loop.
    """
    out = np.full(len(slot_p), float(effect[practice]))
    if born[practice] < 0:
        return out
    own = ((slot_p == practice) & (slot_channel == CREATED)).any(axis=1)
    return np.where(own, out, out * rel_spread)


def comparator(
    model: ModelLike, pid: int, sites: np.ndarray, before: np.ndarray, after: np.ndarray
) -> float:
    """The mean true effect of what ``pid`` displaced at ``sites`` (0 for an empty slot).

    ``before`` and ``after``: the sites' slots before and after they took it up
    (one row a site, each running it). A site's comparator is the practice that was
    in the slot ``pid`` now holds, or nothing (business as usual).
    """
    if len(before) == 0:
        return 0.0
    displaced = np.where((before != after) & (after == pid), before, EMPTY).max(axis=1)
    base = np.zeros(len(displaced))
    for i in np.flatnonzero(displaced >= 0).tolist():
        base[i] = effect_at(model, int(displaced[i]), sites[i : i + 1])[0]
    return float(base.mean())
