"""What users measure: per-step metrics and the plateau measures of a curve.

Per-step metrics (one row per step, see :data:`DEFINITIONS`) are collected
from the arrays of :mod:`sim.core.state` in a few vectorised operations, so
collection costs a small fraction of a step even at England's size.
Performance is the share of pupils reaching the expected standard (0 to 1).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.core.kernels import (
    MetricInputs,
    metric_summary_args,
    own_cohort_lookup,
    practice_summary,
    published_moments,
    school_summary,
    tenth_means,
    usage_summary,
)
from sim.core.numerics import quantiles
from sim.core.state import TRIAL
from sim.system.costs import Ledger

if TYPE_CHECKING:
    from sim.core.registry import ModelLike

#: Column name -> definition. The metrics table has these columns, in this order.
DEFINITIONS: dict[str, str] = {
    "step": "step number (0 is the state before the first step)",
    "year": "calendar year: start_year plus elapsed time",
    "perf_mean": "national performance: share of all pupils at the expected standard (each "
    "school weighted by its KS2 cohort, as England's national result is)",
    "perf_sd": "standard deviation of school performance",
    "perf_p05": "5th percentile of school performance",
    "perf_p95": "95th percentile of school performance",
    "gain_sd": "standard deviation between schools of their change in performance since step 0",
    "weakest_start": "mean performance of the tenth of schools that were weakest at step 0",
    "gap": "mean of the other nine tenths of schools minus mean of the weakest tenth",
    "published_sd": "standard deviation between schools of the logit of published results: "
    "performance plus the binomial noise of the school's own KS2 cohort, over schools with "
    "published results (COHORT; the spread tables show)",
    "share_all_pupils": "expected share of schools with published results where every pupil "
    "of the school's cohort reaches the standard (COHORT)",
    "share_below_floor": "expected share of schools with published results where fewer than "
    "FLOOR of the school's cohort reach the standard (COHORT)",
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

#: England's schools by the size of their KS2 cohort, as printed (tests of May 2022,
#: sim/data/ks2_cohort_size_england, source DFE2022C): per band the smallest and largest
#: cohort (None: open), the schools and the pupils. The only table of schools by KS2 cohort
#: size found; none was found for the level-4 era (docs/sources.md, section 3).
COHORT_BANDS: tuple[tuple[int, int | None, int, int], ...] = (
    (1, 15, 2029, 19910),
    (16, 30, 4742, 116134),
    (31, 60, 5884, 268681),
    (61, 90, 2045, 145830),
    (91, None, 636, 68565),
)
#: The smallest cohort whose results were published: schools with 10 or fewer eligible pupils
#: were left out of the performance tables until 2010 (ks2_cohort_size_england, TES2011T).
SMALLEST_PUBLISHED = 11
#: The floor standard of 2008-2009: 55% of pupils at level 4 (ks2_schools_below_floor_england).
FLOOR = 0.55


def cohort_sizes(
    bands: tuple[tuple[int, int | None, int, int], ...] = COHORT_BANDS,
    smallest: int = SMALLEST_PUBLISHED,
) -> tuple[np.ndarray, np.ndarray]:
    """Cohort sizes and their shares among schools with published results, from size bands.

    Within a band the schools are spread over its whole numbers with a density linear in
    the size that keeps the band's schools and its mean cohort (pupils over schools); an
    open top band ends where a density falling linearly from its smallest size to zero
    would give its mean (smallest plus three times the mean's excess). Both are a
    judgement: the sources print bands, not sizes, and this is the simplest spread that
    keeps every printed number (for England's bands the densities stay positive). Sizes
    below ``smallest`` are dropped and the shares renormalised: those schools' results
    were not published.

    Returns:
        ``(sizes, weights)``: whole cohort sizes, increasing, and shares summing to 1.
    """
    sizes, weights = [], []
    for lo, hi, schools, pupils in bands:
        mean = pupils / schools
        top = int(round(lo + 3.0 * (mean - lo))) if hi is None else hi
        n = np.arange(lo, top + 1)
        slope = (mean - n.mean()) / n.var() if len(n) > 1 else 0.0
        density = np.maximum(1.0 + slope * (n - n.mean()), 0.0)
        sizes.append(n)
        weights.append(schools * density / density.sum())
    size, weight = np.concatenate(sizes), np.concatenate(weights)
    keep = size >= smallest
    return size[keep], weight[keep] / weight[keep].sum()


#: Cohort sizes of schools with published results and their shares (:func:`cohort_sizes`).
COHORT_SIZES, COHORT_WEIGHTS = cohort_sizes()
#: Their mean cohort (42.8 pupils: 2022's mean over all schools is 40.4, the level-4 era's
#: 41.3; the smallest cohorts, not published, are left out).
COHORT = float(COHORT_SIZES @ COHORT_WEIGHTS)
#: Every cohort size with its share of schools, the unpublished small ones too: what a
#: school's own cohort is drawn from at the start (``Schools.cohort``).
ALL_SIZES, ALL_WEIGHTS = cohort_sizes(smallest=1)
#: Cohorts this small or smaller are the DfE table's smallest band (1 to 15 pupils), the
#: schools ``init_perf_small`` moves (docs/decisions.md).
SMALL_COHORT = 15
#: The share of England's schools with a cohort of :data:`SMALL_COHORT` or fewer, and the
#: share of its pupils they teach: the population's, not a run's sample.
SMALL_SCHOOLS = float(ALL_WEIGHTS[ALL_SIZES <= SMALL_COHORT].sum())
SMALL_PUPILS = float(
    (ALL_WEIGHTS * ALL_SIZES)[ALL_SIZES <= SMALL_COHORT].sum() / (ALL_WEIGHTS * ALL_SIZES).sum()
)
for _k in ("published_sd", "share_all_pupils", "share_below_floor"):
    DEFINITIONS[_k] = (
        DEFINITIONS[_k]
        .replace("COHORT", f"{SMALLEST_PUBLISHED} or more pupils")
        .replace("FLOOR", f"{FLOOR:.0%}")
    )


def _mixture(
    p: np.ndarray, sizes: np.ndarray, weights: np.ndarray, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per school, the chances that every pupil, and that fewer than ``floor``, reach the standard.

    Exact sums over cohorts of ``sizes`` with shares ``weights``. Each power ``p ** k``
    and ``(1 - p) ** m`` is taken once and kept for every cohort that uses it (the same
    numpy expression on the same array gives the same numbers): about 280 powers, not
    11,000, for England's cohorts, held at once (twice the largest cohort's arrays of
    ``len(p)`` numbers: 22 MB for England's table).
    """
    every = np.zeros(len(p))
    below = np.zeros(len(p))
    q = 1.0 - p
    p_to: dict[int, np.ndarray] = {}
    q_to: dict[int, np.ndarray] = {}

    def p_pow(k: int) -> np.ndarray:
        if k not in p_to:
            p_to[k] = p**k
        return p_to[k]

    def q_pow(m: int) -> np.ndarray:
        if m not in q_to:
            q_to[m] = q**m
        return q_to[m]

    for n, w in zip(sizes.tolist(), weights.tolist(), strict=True):
        every += w * p_pow(n)
        k_max = int(np.ceil(floor * n)) - 1  # fewer than the floor: at most k_max pupils
        cdf = np.zeros(len(p))
        for k in range(k_max + 1):
            cdf += math.comb(n, k) * p_pow(k) * q_pow(n - k)
        below += w * cdf
    return every, below


#: Performance values at which England's cohort mixture is tabulated (:func:`_table`).
GRID = np.linspace(0.0, 1.0, 10001)


@functools.cache
def _table(floor: float) -> tuple[np.ndarray, np.ndarray]:
    """England's cohort mixture (:data:`COHORT_SIZES`) at each :data:`GRID` value, once.

    Summing 131 cohort sizes per school at every step would cost more than the step; both
    mixtures are smooth in performance, and linear interpolation between points 1e-4 apart
    is within 1e-5 of the exact sum (``tests/test_cohort.py``). Reading the table costs less
    than the one 41-pupil cohort's sum it replaced, at 300 schools and at England's 21,000
    (``scripts/bench_published.py``).
    """
    return _mixture(GRID, COHORT_SIZES, COHORT_WEIGHTS, floor)


def published(
    perf: np.ndarray,
    sizes: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    floor: float = FLOOR,
    cohort: np.ndarray | None = None,
) -> tuple[float, float, float]:
    """What published results of schools with true shares ``perf`` would show, in expectation.

    Given ``cohort`` (each school's own cohort size, ``Schools.cohort``), the expectation is
    over each school's own cohort, and only schools whose results were published
    (:data:`SMALLEST_PUBLISHED` or more pupils) count; ``sizes`` and ``weights`` are then
    not read. Otherwise:

    A school's published result is one cohort's: its size is drawn, in expectation, from
    ``sizes`` with shares ``weights`` (normalised; equal if not given; default England's KS2
    cohorts of :data:`SMALLEST_PUBLISHED` or more pupils, :data:`COHORT_SIZES`),
    independently of the school's performance: for a table of shares with no schools'
    cohorts behind it (the model's own metrics pass each school's cohort, whose size and
    results are linked through ``init_perf_small``; docs/decisions.md).

    Returns the sd between schools of the logit of a cohort's result (true spread plus the
    binomial noise of the cohort, delta method: the mean of ``1 / (n p (1 - p))``), the
    expected share of schools where every pupil reaches the standard (the mean of
    ``p ** n``), and the expected share below ``floor``. No draw is made: a metric never
    touches the run's random numbers.
    """
    if cohort is not None:  # the clip is the lookup's, in the same pass
        return _own_cohorts(np.asarray(perf, dtype=float), np.asarray(cohort, np.int64), floor)
    p = np.clip(perf, 1e-9, 1.0 - 1e-9)
    if sizes is None:
        t_every, t_below = _table(floor)
        if weights is not None:
            raise ValueError("weights need their sizes")
        sizes, weights = COHORT_SIZES, COHORT_WEIGHTS
        x = p * (len(GRID) - 1)  # the grid is even: a point's cell is its index, no search
        i = np.minimum(np.nan_to_num(x).astype(np.int64), len(GRID) - 2)
        f = x - i  # nan where perf is: the result is nan, as the exact sums' would be
        every = t_every[i] * (1.0 - f) + t_every[i + 1] * f
        below = t_below[i] * (1.0 - f) + t_below[i + 1] * f
    else:
        sizes = np.asarray(sizes, dtype=np.int64)
        weights = np.ones(len(sizes)) if weights is None else np.asarray(weights, dtype=float)
        weights = weights / weights.sum()
        every, below = _mixture(p, sizes, weights, floor)
    inv_n = float(np.sum(weights / sizes))  # the mean of 1 / n over cohorts
    logit = np.log(p / (1.0 - p))
    sd = float(np.sqrt(logit.var() + np.mean(inv_n / (p * (1.0 - p)))))
    return sd, float(every.mean()), float(below.mean())


#: Where :func:`_below_by_size` keeps its tables between processes (None: not kept).
TABLE_CACHE: Path | None = Path(__file__).resolve().parent.parent / "__pycache__"


@functools.cache
def _below_by_size(floor: float) -> np.ndarray:
    """:func:`_below_by_size_computed`; at :data:`FLOOR`, kept on disk between processes.

    The table costs about 0.2 s of every process that records the published results (its
    grid's 284 powers through the C library's ``pow``), reading its file (11 MB) a few
    milliseconds. Only the recorded floor's table is kept, in one file in
    :data:`TABLE_CACHE` whose name is a digest of everything the table depends on: the
    floor, the grid, the cohort sizes, the computing function's code, numpy's version and
    the machine (``pow`` may round otherwise elsewhere); writing it removes any other. A
    file that cannot be read, or is not such a table, is computed anew; a cache that
    cannot be written is skipped.
    """
    fn = _below_by_size_computed
    if TABLE_CACHE is None or floor != FLOOR:
        return fn(floor)
    key = hashlib.sha256(
        repr(
            (float(floor), SMALLEST_PUBLISHED, int(ALL_SIZES.max()), np.__version__)
            + (platform.machine(), sys.platform, fn.__code__.co_code, fn.__code__.co_consts)
        ).encode()
        + GRID.tobytes()
    ).hexdigest()[:24]
    path = TABLE_CACHE / f"below_by_size-{key}.npy"
    try:
        kept = np.load(path, allow_pickle=False)
        if kept.shape == (int(ALL_SIZES.max()) + 1, len(GRID)) and kept.dtype == np.float64:
            return kept
    except (OSError, ValueError, EOFError):
        pass
    out = fn(floor)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.save(f, out, allow_pickle=False)
        os.replace(tmp, path)  # whole or not at all, whoever writes at the same time
        for old in path.parent.glob("below_by_size-*.npy"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass
    return out


def _below_by_size_computed(floor: float) -> np.ndarray:
    """Per cohort size, the chance of fewer than ``floor`` at each :data:`GRID` value.

    Row ``n`` is a cohort of ``n`` (rows below :data:`SMALLEST_PUBLISHED` stay 0: never
    read); the binomial's exact sums, each power of the grid
    and of one minus it taken once for every row that uses it.
    """
    top = int(ALL_SIZES.max())
    out = np.zeros((top + 1, len(GRID)))
    q = 1.0 - GRID
    p_to = [GRID**0]
    q_to = [q**0]
    for k in range(1, top + 1):
        p_to.append(GRID**k)
        q_to.append(q**k)
    for n in range(SMALLEST_PUBLISHED, top + 1):
        row = out[n]
        for k in range(int(np.ceil(floor * n))):  # fewer than the floor: at most ceil - 1
            row += math.comb(n, k) * p_to[k] * q_to[n - k]
    return out


def _own_cohorts(perf: np.ndarray, cohort: np.ndarray, floor: float) -> tuple[float, float, float]:
    """:func:`published` over each school's own cohort, published schools only.

    Performance is clipped and the published schools picked, their cohorts read and the
    table interpolated in one compiled pass (:func:`sim.core.kernels.own_cohort_lookup`,
    whose numpy form is :func:`_own_cohorts_lookup_numpy`), and the means taken in
    another (:func:`sim.core.kernels.published_moments`): the same numbers as
    ``logit.var() + np.mean(1 / (n q (1 - q)))`` and the two means in numpy. Nothing is
    kept between calls, so a cohort changed during a run is read as it is.
    """
    q, n, below, every, logit = _published_inputs(perf, cohort, floor)
    if not len(q):
        return float("nan"), float("nan"), float("nan")
    var, noise, every_mean, below_mean = published_moments(q, n, logit, every, below)
    return float(np.sqrt(var + noise)), float(every_mean), float(below_mean)


def _published_inputs(
    perf: np.ndarray, cohort: np.ndarray, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The published schools' shares, cohorts and the moments' inputs (:func:`_own_cohorts`).

    Returns ``q`` (clipped performance), ``n`` (cohort), the chance of fewer than
    ``floor`` (the table read), ``q ** n`` and the logit of ``q``, published schools
    only; the last two in numpy (a compiled loop's power and log may differ by an ulp).
    """
    if len(cohort) != len(perf):
        raise ValueError("cohort needs a size for every school")
    q, n, below = own_cohort_lookup(perf, cohort, SMALLEST_PUBLISHED, _below_by_size(floor))
    logit = np.subtract(1.0, q)  # np.log(q / (1.0 - q)), in one array: the same ufuncs
    np.divide(q, logit, out=logit)
    return q, n, below, np.power(q, n), np.log(logit, out=logit)


def _own_cohorts_lookup_numpy(
    perf: np.ndarray, cohort: np.ndarray, table: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The numpy form of :func:`sim.core.kernels.own_cohort_lookup` (tests compare them)."""
    p = np.clip(perf, 1e-9, 1.0 - 1e-9)
    keep = cohort >= SMALLEST_PUBLISHED
    q, n = p[keep], cohort[keep]
    x = q * (table.shape[1] - 1)
    i = np.minimum(np.nan_to_num(x).astype(np.int64), table.shape[1] - 2)
    f = x - i
    return q, n, table[n, i] * (1.0 - f) + table[n, i + 1] * f


def at_level(perf: np.ndarray, level: float, weights: np.ndarray | None = None) -> np.ndarray:
    """Schools' true shares ``perf`` moved by one shift in logits so that their mean is ``level``.

    The same schools, spread and order kept, sat at another national level: how the
    plausibility patterns on the extremes compare a run's schools with England's in the year
    a band was measured (docs/decisions.md, "the extremes at England's level"). Bisection on
    the shift (monotone in it), to 1e-12 of a logit; ``level`` must lie in (0, 1). Given
    ``weights`` (each school's cohort), the mean is England's kind, pupils over pupils.

    Raises:
        ValueError: ``level`` outside (0, 1), or ``perf`` empty or not finite.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), not {level!r}")
    p = np.clip(np.asarray(perf, dtype=float), 1e-9, 1.0 - 1e-9)
    if p.size == 0 or not np.isfinite(p).all():
        raise ValueError("perf must be a non-empty array of finite shares")
    logit = np.log(p / (1.0 - p))
    lo, hi = -30.0, 30.0
    while hi - lo > 1e-12:
        mid = 0.5 * (lo + hi)
        if np.average(1.0 / (1.0 + np.exp(-(logit + mid))), weights=weights) < level:
            lo = mid
        else:
            hi = mid
    return 1.0 / (1.0 + np.exp(-(logit + 0.5 * (lo + hi))))


#: No authorities: what :func:`collect` passes for a ledger that sums its own.
_NONE = np.zeros(0)

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


def collect(
    model: ModelLike, users: np.ndarray | None = None, perf: np.ndarray | None = None
) -> dict[str, float]:
    """One row of metrics for the model's current state.

    ``users``: ``model.users()``, and ``perf``: ``model.schools.perf``, if known (each is
    computed afresh otherwise). The row has the columns of the model's metric set
    (``SETS[model.p.metrics]``). The full set's numbers come from one compiled call
    (:func:`sim.core.kernels.metric_summary`, whose numpy form, the calls one by one, is
    :func:`_summary_numpy`; passed its inputs as plain arguments through
    :func:`sim.core.kernels.metric_summary_args`, numpy form :func:`_summary_numpy_args`),
    after the published results' lookup and numpy's power and log (:func:`_own_cohorts`'
    steps).
    """
    users = model.users() if users is None else users
    p = model.p
    if p.metrics == "adoption":
        return collect_adoption(model, users)
    s, pr, t, c = model.schools, model.practices, model.ties, model.collabs
    perf = s.perf if perf is None else perf
    n = s.n
    cohort = s.cohort
    q, n_pub, below, every, logit = _published_inputs(perf, cohort, FLOOR)
    fields = (
        perf,
        model.perf0,
        model.weakest0,
        s.capacity,
        s.budget,
        cohort,
        t.trust,
        t.alive,
        t.n,
        s.slot_p,
        s.slot_depth,
        s.slot_own,
        model.coherence(),
        s.head,
        model.heads.n,
        pr.effect,
        users,
        pr.ev_mean,
        pr.ev_prec,
        pr.stage,
        pr.n,
        TRIAL,
        c.alive,
        c.formal,
        c.n,
        q,
        n_pub,
        logit,
        every,
        below,
    )
    # The national result (perf_mean) is England's kind: pupils at the standard over all
    # pupils, each school weighted by its cohort (the spread and the tenths are between
    # schools); the kernel adds in numpy's order (not np.dot: with integers it takes a slow
    # generic loop, with floats BLAS's, whose threads spin after each call).
    led = model.ledger
    # The ledger's authorities' sums in the same call, unless it reports its own way.
    plain = type(led).metrics is Ledger.metrics
    la = (led.spent_la, led.short_la) if plain else (_NONE, _NONE)
    summary = (metric_summary_args if n else _summary_numpy_args)(*fields, 0.05, 0.95, *la)
    (
        in_use,
        top,
        total,
        q05,
        q95,
        weakest,
        rest,
        _,
        perf_sd,
        gain_sd,
        weakest_start,
        capacity,
        budget,
        trust,
        perf_mean,
        depth,
        ownership,
        coherence,
        exec_led,
        frontier,
        frontier_known,
        n_collab,
        n_formal,
        n_trials,
        published_sd,
        share_all,
        share_below,
        spent_la,
        short_la,
    ) = summary
    spend = led.metrics(spent_la, short_la) if plain else led.metrics()  # sums taken above
    row = collect_adoption(model, usage=(in_use, top, total))  # its columns first
    row |= {  # then the others, in the order always written
        "published_sd": published_sd,
        "share_all_pupils": share_all,
        "share_below_floor": share_below,
        "perf_mean": perf_mean,
        "perf_sd": perf_sd,
        "perf_p05": q05,
        "perf_p95": q95,
        "gain_sd": gain_sd,
        "weakest_start": weakest_start,
        "gap": rest - weakest,
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
        **spend,
        "past_plateau": model.past_plateau(perf),
    }
    return row


def _summary_numpy_args(*args: object) -> tuple:
    """The numpy form of :func:`sim.core.kernels.metric_summary_args` (:func:`_summary_numpy`).

    Its arguments: :class:`MetricInputs`' fields in order, the two quantiles' levels, and
    the authorities' spend and shortfall, whose sums follow the summary's numbers.
    """
    spent_la, short_la = args[-2:]
    return (
        *_summary_numpy(MetricInputs(*args[:-4]), *args[-4:-2]),
        float(spent_la.sum()),
        float(short_la.sum()),
    )


def _summary_numpy(x: MetricInputs, q_low: float, q_high: float) -> tuple:
    """The numpy form of :func:`sim.core.kernels.metric_summary`: its numbers call by call.

    The kernels it folds, each tested against its numpy expression, called one by one as
    :func:`collect` called them before, with numpy's quantiles' arithmetic
    (:func:`sim.core.numerics.quantiles`) and numpy's sums; also what :func:`collect` runs
    for a system without schools (numpy's answers, or its errors).
    """
    perf, m, c = x.perf, x.n_practices, x.n_collabs
    n = len(perf)
    in_use, top, total = usage_summary(x.users)
    q05, q95 = quantiles(perf, [q_low, q_high])
    weakest, rest = tenth_means(perf, max(1, n // 10))
    summary = school_summary(
        perf, x.perf0, x.weakest0, x.capacity, x.budget, x.trust[: x.n_ties], x.alive[: x.n_ties]
    )
    perf_mean = (perf * x.cohort).sum() / x.cohort.sum()
    practice = practice_summary(
        x.slot_p,
        x.depth,
        x.own,
        x.coherence,
        x.head,
        x.n_heads,
        x.effect[:m],
        x.users,
        x.ev_mean[:m],
        x.ev_prec[:m],
        x.stage[:m],
        x.trial,
        x.collab_alive[:c],
        x.collab_formal[:c],
    )
    if len(x.q):
        var, noise, every, below = published_moments(x.q, x.n_pub, x.logit, x.every, x.below)
        published = (float(np.sqrt(var + noise)), float(every), float(below))
    else:
        published = (float("nan"),) * 3
    return (
        int(in_use),
        top,
        total,
        float(q05),
        float(q95),
        weakest,
        rest,
        *summary,
        float(perf_mean),
        *practice,
        *published,
    )


def collect_adoption(
    model: ModelLike, users: np.ndarray | None = None, usage: tuple | None = None
) -> dict[str, float]:
    """The ``adoption`` metric set: step, year and adoption (also the start of the full row).

    ``usage``: :func:`sim.core.kernels.usage_summary` of ``users`` when already known
    (:func:`collect` has it from its one compiled call).
    """
    s, t, p = model.schools, model.ties, model.p
    n = s.n
    if usage is None:
        users = model.users() if users is None else users
        usage = usage_summary(users)  # counts are whole numbers, so exact
    in_use, top, total = usage
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
