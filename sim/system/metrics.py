"""What users measure: per-step metrics and the plateau measures of a curve.

Per-step metrics (one row per step, see :data:`DEFINITIONS`) are collected
from the arrays of :mod:`sim.core.state` in a few vectorised operations, so
collection costs a small fraction of a step even at England's size.
Performance is the share of pupils reaching the expected standard (0 to 1).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.core.kernels import practice_summary, school_summary, tenth_means, usage_summary
from sim.core.numerics import quantiles
from sim.core.state import TRIAL

if TYPE_CHECKING:
    from sim.core.registry import ModelLike

#: Column name -> definition. The metrics table has these columns, in this order.
DEFINITIONS: dict[str, str] = {
    "step": "step number (0 is the state before the first step)",
    "year": "calendar year: start_year plus elapsed time",
    "perf_mean": "mean school performance (share of pupils at the expected standard)",
    "perf_sd": "standard deviation of school performance",
    "perf_p05": "5th percentile of school performance",
    "perf_p95": "95th percentile of school performance",
    "gain_sd": "standard deviation between schools of their change in performance since step 0",
    "weakest_start": "mean performance of the tenth of schools that were weakest at step 0",
    "gap": "mean of the other nine tenths of schools minus mean of the weakest tenth",
    "published_sd": "standard deviation between schools of the logit of published results: "
    "performance plus the binomial noise of one cohort of COHORT pupils (the spread tables "
    "show)",
    "share_all_pupils": "expected share of schools where every pupil of a COHORT-pupil cohort "
    "reaches the standard",
    "share_below_floor": "expected share of schools where fewer than FLOOR of a COHORT-pupil "
    "cohort reach the standard",
    "practices_in_use": "distinct practices run by at least one school (clutter)",
    "frontier": "best true effect among practices in use (logit)",
    "frontier_known": "best published evidence of effect (logit; nan if none)",
    "top_adoption": "share of schools running the most widely run practice",
    "slots_used": "mean number of practices a school runs",
    "depth": "mean implementation depth over practices run",
    "ownership": "depth-weighted mean ownership of practices run",
    "coherence": "mean coherence: concentration of a school's depth in one domain",
    "capacity": "mean collective capacity",
    "ties": "lateral ties in force",
    "trust": "mean trust over ties in force",
    "collaboratives": "collaboratives in existence",
    "collaboratives_formal": "formalised collaboratives (trusts, federations)",
    "field_trials": "practices in field trial",
    "mandates": "practices under a standing mandate",
    "invented": "practices invented since the start (cumulative)",
    "exec_led": "share of schools led by a head who leads more than one school",
    "budget": "mean school budget relative to normal",
    "tightness": "tightness dial in force",
    "spend_centre": "cumulative spend of the centre on trials, brokering and mandates "
    "(GBP thousand, sim.system.costs)",
    "spend_authorities": "cumulative spend of the authorities on facilitation and capacity "
    "investment (GBP thousand)",
    "spend_public": "spend_centre plus spend_authorities (GBP thousand)",
    "spend_schools": "cumulative running costs of the practices schools run (GBP thousand)",
    "shortfall": "cumulative cost of the centre's and authorities' actions not done for want "
    "of money (GBP thousand)",
    "past_plateau": "share of schools whose performance is above the highest it reached in "
    "its first 24 months (past its own early plateau; nan before month 24)",
    "adoptions": "practices taken up in the step (chosen, mandated, created)",
    "drops": "practices dropped in the step",
}

#: Pupils in a school's cohort with KS2 results, for what published results would show: 2005's
#: 609.6 thousand pupils over 2008's 14,768 schools in the tables (docs/sources.md, section 3).
COHORT = 41
#: The floor standard of 2008-2009: 55% of pupils at level 4 (ks2_schools_below_floor_england).
FLOOR = 0.55
for _k in ("published_sd", "share_all_pupils", "share_below_floor"):
    DEFINITIONS[_k] = (
        DEFINITIONS[_k].replace("COHORT", str(COHORT)).replace("FLOOR", f"{FLOOR:.0%}")
    )


def published(perf: np.ndarray, cohort: int = COHORT, floor: float = FLOOR):
    """What published results of schools with true shares ``perf`` would show, in expectation.

    Returns the sd between schools of the logit of a cohort's result (true spread plus
    the binomial noise of ``cohort`` pupils, delta method), the expected share of schools
    where every pupil reaches the standard, and the expected share below ``floor``.
    No draw is made: a metric never touches the run's random numbers.
    """
    p = np.clip(perf, 1e-9, 1.0 - 1e-9)
    logit = np.log(p / (1.0 - p))
    sd = float(np.sqrt(logit.var() + np.mean(1.0 / (cohort * p * (1.0 - p)))))
    every = float(np.mean(p**cohort))
    below = np.zeros(len(p))
    k_max = int(np.ceil(floor * cohort)) - 1  # fewer than the floor: at most k_max pupils
    for k in range(k_max + 1):
        below += math.comb(cohort, k) * p**k * (1.0 - p) ** (cohort - k)
    return sd, every, float(below.mean())


#: Metric set (the ``metrics`` parameter) -> its columns, in order.
SETS: dict[str, tuple[str, ...]] = {
    "full": tuple(DEFINITIONS),
    "adoption": (
        "step",
        "year",
        "practices_in_use",
        "top_adoption",
        "slots_used",
        "ties",
        "adoptions",
        "drops",
    ),
}

#: Event counters kept during a step (``model.counts``), reported as metrics.
COUNTS = ("adoptions", "drops")


def collect(model: ModelLike, users: np.ndarray | None = None) -> dict[str, float]:
    """One row of metrics for the model's current state (``users``: ``model.users()`` if known).

    The row has the columns of the model's metric set (``SETS[model.p.metrics]``).
    """
    users = model.users() if users is None else users
    row = collect_adoption(model, users)  # the columns both sets share
    if model.p.metrics == "adoption":
        return row
    s, pr, t, p = model.schools, model.practices, model.ties, model.p
    perf = s.perf
    n = s.n
    q05, q95 = quantiles(perf, [0.05, 0.95])
    weakest, rest = tenth_means(perf, max(1, n // 10))
    c = model.collabs
    (perf_mean, perf_sd, gain_sd, weakest_start, capacity, budget, trust) = school_summary(
        perf, model.perf0, model.weakest0, s.capacity, s.budget, t.trust[: t.n], t.alive[: t.n]
    )
    (
        depth,
        ownership,
        coherence,
        exec_led,
        frontier,
        frontier_known,
        n_collab,
        n_formal,
        n_trials,
    ) = practice_summary(
        s.slot_p,
        s.slot_depth,
        s.slot_own,
        model.coherence(),
        s.head,
        model.heads.n,
        pr.effect[: pr.n],
        users,
        pr.ev_mean[: pr.n],
        pr.ev_prec[: pr.n],
        pr.stage[: pr.n],
        TRIAL,
        c.alive[: c.n],
        c.formal[: c.n],
    )
    published_sd, share_all, share_below = published(perf)
    return {
        **row,
        "published_sd": published_sd,
        "share_all_pupils": share_all,
        "share_below_floor": share_below,
        "perf_mean": perf_mean,
        "perf_sd": perf_sd,
        "perf_p05": float(q05),
        "perf_p95": float(q95),
        "gain_sd": gain_sd,
        "weakest_start": weakest_start,
        "gap": float(rest - weakest),
        "frontier": frontier,
        "frontier_known": frontier_known,
        "depth": depth,
        "ownership": ownership,
        "coherence": coherence,
        "capacity": capacity,
        "trust": trust,
        "collaboratives": n_collab,
        "collaboratives_formal": n_formal,
        "field_trials": n_trials,
        "mandates": len(model.mandates),
        "invented": int(pr.n - model.n_practices_init),
        "exec_led": exec_led,
        "budget": budget,
        "tightness": float(p.tightness),
        **model.ledger.metrics(),
        "past_plateau": model.past_plateau(),
    }


def collect_adoption(model: ModelLike, users: np.ndarray | None = None) -> dict[str, float]:
    """The ``adoption`` metric set: step, year and adoption (also the start of the full row)."""
    s, t, p = model.schools, model.ties, model.p
    n = s.n
    users = model.users() if users is None else users
    in_use, top, total = usage_summary(users)  # counts are whole numbers, so exact
    return {
        "step": model.t,
        "year": p.start_year + model.t * p.dur_step / 12.0,
        "practices_in_use": int(in_use),
        "top_adoption": top / n,
        "slots_used": total / n,  # a school runs a practice at most once
        "ties": t.n_alive(),
        **{k: int(model.counts[k]) for k in COUNTS},
    }


#: Plateau measure -> definition (all computed by :func:`plateau_measures`).
PLATEAU_DEFINITIONS: dict[str, str] = {
    "plateau_step": "first step from which the trailing 12-month gain in mean performance "
    "stays below a fifth of its largest value; the last step if it never does",
    "plateaued": "1 if the curve flattened before the last step, else 0",
    "plateau_level": "mean performance from plateau_step to the end",
    "growth_after_plateau": "mean performance at the end minus at plateau_step",
    "gain_first_2y": "mean performance after 24 months minus at the start",
    "gain_last_5y": "mean performance at the end minus 60 months before the end",
    "late_early_ratio": "gain_last_5y / gain_first_2y (nan if the first is not positive)",
}


def plateau_measures(
    y: np.ndarray, dur_step: float = 1.0, window: float = 12.0, share: float = 0.2
) -> dict[str, float]:
    """Plateau measures of a performance curve (see :data:`PLATEAU_DEFINITIONS`).

    Args:
        y: mean performance per step, from step 0.
        dur_step: months per step.
        window: months over which the trailing gain is measured.
        share: the curve has flattened once the trailing gain stays below this
            share of its largest value.

    Returns:
        The measures, all floats (``plateau_step`` in steps).
    """
    y = np.asarray(y, float)
    T = len(y) - 1
    w = max(1, round(window / dur_step))
    out = {k: float("nan") for k in PLATEAU_DEFINITIONS}
    if T < w:
        return out
    gain = y[w:] - y[:-w]  # gain[i] is the gain over the window ending at step i + w
    peak = gain.max()
    if peak <= 0:
        first = 0
        plateaued = True
    else:
        above = np.flatnonzero(gain >= share * peak)
        last_above = above[-1] + w  # last step whose trailing gain is still large
        plateaued = last_above < T
        first = min(last_above + 1, T)
    out["plateau_step"] = float(first)
    out["plateaued"] = float(plateaued)
    out["plateau_level"] = float(y[first:].mean())
    out["growth_after_plateau"] = float(y[T] - y[first])
    e = round(24 / dur_step)
    late = round(60 / dur_step)
    out["gain_first_2y"] = float(y[min(e, T)] - y[0])
    out["gain_last_5y"] = float(y[T] - y[max(T - late, 0)])
    early = out["gain_first_2y"]
    out["late_early_ratio"] = float(out["gain_last_5y"] / early) if early > 0 else float("nan")
    return out
