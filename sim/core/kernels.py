"""Compiled loops for quantities several rules and the metrics read.

Engagement, coherence, users, sums over a school's slots, the metrics' means.

A school runs a handful of practices, so the natural unit of work is a
school's row of slots. numpy can only reach it through whole-array passes
(mask, gather, scatter, add columns), a dozen calls where one loop would do;
at 1,000 schools the calls cost more than the arithmetic, at 21,000 the
passes do. These kernels, compiled by numba, are the one-loop forms.

Each kernel computes exactly what the numpy expression in its docstring
computes, in the same order of floating-point operations, so results do not
change by a bit (``tests/test_kernels.py`` checks each against that
expression). These draw no random numbers; a kernel that must (a rule
compiled whole, such as ``WordOfMouth.exchanges_compiled`` in
:mod:`sim.rules.word_of_mouth`) takes the slot's generator and calls its
methods, which in numba draw numpy's numbers from the same state (tested), so
the stream does not change. Compiled code
is cached on disk and thrown away when the kernels' sources change
(:mod:`sim.core.jit`), so only the first run after an install or an edit pays for
compiling.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from sim.core import draws
from sim.core.jit import jit
from sim.core.numerics import numpy_sum, order_statistics, sum_in_numpy_order
from sim.core.state import CREATED


@jit
def tie_engagement(a, b, alive, trust, n, facilitation, collab, bonus_collab):
    """Engagement per school, 0 to 1: mean trust on its ties in force times facilitation.

    Plus ``bonus_collab`` for a collaborative member. The numpy expression::

        trust = np.where(alive, trust, 0.0)
        tr = np.bincount(a, trust, n) + np.bincount(b, trust, n)
        deg = np.bincount(a, alive, n) + np.bincount(b, alive, n)
        e = facilitation * (tr / np.maximum(deg, 1)) + bonus_collab * (collab >= 0)
        np.clip(e, 0.0, 1.0)
    """
    tra = np.zeros(n)
    trb = np.zeros(n)
    dga = np.zeros(n)
    dgb = np.zeros(n)
    for e in range(len(a)):
        if alive[e]:
            tra[a[e]] += trust[e]
            trb[b[e]] += trust[e]
            dga[a[e]] += 1.0
            dgb[b[e]] += 1.0
        else:
            tra[a[e]] += 0.0
            trb[b[e]] += 0.0
    out = np.empty(n)
    for i in range(n):
        mean = (tra[i] + trb[i]) / max(dga[i] + dgb[i], 1.0)
        x = facilitation[i] * mean + (bonus_collab if collab[i] >= 0 else 0.0)
        out[i] = min(max(x, 0.0), 1.0)
    return out


@jit
def domain_coherence(slot_p, depth, domain, n_domains):
    """Coherence per school: ``(top share - 1/D) / (1 - 1/D)`` of its depth by domain.

    0 where the school has no depth. The numpy expression (``at``: flat
    positions of the filled slots, row-major)::

        by = np.bincount(domain[pid] * n + school, depth.ravel()[at], D * n).reshape(D, n)
        tot = by.T.sum(axis=1)  # each school's domains, in numpy's order of addition
        top = by.max(axis=0) / np.maximum(tot, 1e-12)
        np.where(tot > 0, (top - 1 / D) / (1 - 1 / D), 0.0)
    """
    n, k = slot_p.shape
    inv = 1.0 / n_domains
    # One row per school, one column per domain, and a last column that collects
    # the empty slots' (zero) depth: a select rather than a branch on emptiness.
    by = np.zeros((n, n_domains + 1))
    for i in range(n):
        for j in range(k):
            p = slot_p[i, j]
            d = domain[max(p, 0)]
            by[i, d if p >= 0 else n_domains] += depth[i, j]
    out = np.empty(n)
    for i in range(n):
        row = by[i]
        tot = sum_in_numpy_order(row, n_domains)
        top = row[0]
        for d in range(1, n_domains):
            top = max(top, row[d])
        out[i] = (top / max(tot, 1e-12) - inv) / (1.0 - inv) if tot > 0 else 0.0
    return out


@jit
def slot_effects(slot_p, channel, effect, born, rel_spread):
    """Each slot's practice's true effect where the school runs it (schools x slots).

    The scale-up fade of :meth:`~sim.model.model.NextPracticeModel.slot_effect`, one
    pass over the slots instead of five over the table. The numpy expression::

        pid = np.maximum(slot_p, 0)
        faded = (born[pid] >= 0) & (channel != CREATED)
        effect[pid] * np.where(faded, rel_spread, 1.0)
    """
    n, k = slot_p.shape
    out = np.empty((n, k))
    sp, ch, flat = slot_p.ravel(), channel.ravel(), out.ravel()
    for x in range(n * k):
        pid = max(sp[x], 0)
        # ``&``, not ``and``: no branch on a coin the processor cannot guess (a third the time)
        faded = (born[pid] >= 0) & (ch[x] != CREATED)
        flat[x] = effect[pid] * (rel_spread if faded else 1.0)
    return out


@jit
def practice_users(slot_p, n_practices):
    """Schools running each practice: ``np.bincount(slot_p[slot_p >= 0], minlength=k)``.

    A school runs a practice at most once, so counting slots counts schools.
    """
    flat = slot_p.ravel()
    if n_practices <= 2:  # the reduced modes' one practice: a count the compiler vectorises
        few = np.zeros(n_practices, np.int64)
        for q in range(n_practices):
            c = 0
            for x in range(len(flat)):
                c += flat[x] == q
            few[q] = c
        return few
    # Four interleaved histograms, so that runs of one practice (or of empty
    # slots, counted in a last bin) do not wait on each other's increments.
    out = np.zeros((4, n_practices + 1), np.int64)
    for x in range(len(flat)):
        p = flat[x]
        out[x & 3, p if p >= 0 else n_practices] += 1
    return out[0, :n_practices] + out[1, :n_practices] + out[2, :n_practices] + out[3, :n_practices]


@jit
def filled_depth_ownership(slot_p, depth, own):
    """The filled slots' depth, and ownership times depth, in row-major order.

    With ``at = np.flatnonzero(slot_p >= 0)``: ``d = depth.ravel()[at]`` and
    ``own.ravel()[at] * d``.
    """
    flat_p, flat_d, flat_o = slot_p.ravel(), depth.ravel(), own.ravel()
    d = np.empty(len(flat_p))
    od = np.empty(len(flat_p))
    c = 0
    for x in range(len(flat_p)):  # write every slot, keep (move on) only the filled
        d[c] = flat_d[x]
        od[c] = flat_o[x] * flat_d[x]
        c += flat_p[x] >= 0
    return d[:c], od[:c]


@jit
def monthly_chance(rate):
    """``1.0 - (1.0 - np.clip(rate, 0.0, 1.0))`` of a 1-D float array, in one pass.

    The chance per step of monthly chances at one-month steps (the power
    ``** 1.0`` of the general form leaves a number as it is). NaN stays NaN.
    """
    out = np.empty(len(rate))
    for i in range(len(rate)):
        out[i] = _per_month_step(rate[i])
    return out


@jit(inline="always")
def _per_month_step(r):
    """One monthly chance over a one-month step: ``1.0 - (1.0 - clip(r, 0, 1))``."""
    c = 0.0 if r < 0.0 else (1.0 if r > 1.0 else r)
    return 1.0 - (1.0 - c)


@jit
def monthly_events(rng, rate):
    """Where events of monthly chance ``rate`` happen in a one-month step: indices, ascending.

    One uniform for every entry, all drawn first: numpy's
    ``np.flatnonzero(rng.random(len(rate)) < monthly_chance(rate))``.
    """
    n = len(rate)
    u = rng.random(n)
    out = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        out[m] = i
        m += u[i] < _per_month_step(rate[i])
    return out[:m]


@jit
def keyed_events(key, t, rate, ids):
    """Where events of monthly chance ``rate`` happen in a one-month step: indices, ascending.

    Event ``i`` happens when the keyed uniform of entity ``ids[i]`` at step
    ``t`` (:func:`sim.core.draws.uniform`) is below its chance:
    ``np.flatnonzero(draws.uniform(key, t, ids, 0) < monthly_chance(rate))``.
    """
    n = len(rate)
    u = draws.uniform(key, t, ids, 0)
    out = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        out[m] = i
        m += u[i] < _per_month_step(rate[i])
    return out[:m]


@jit
def practice_summary(
    slot_p,
    depth,
    own,
    coherence,
    head,
    n_heads,
    effect,
    users,
    ev_mean,
    ev_prec,
    stage,
    trial,
    collab_alive,
    collab_formal,
):
    """The metrics about practice, leadership and collaboratives, numpy's answers bit for bit.

    With ``d, od = filled_depth_ownership(slot_p, depth, own)`` and
    ``n_led = np.bincount(head, minlength=n_heads)``, returns ``(d.mean()``
    (0.0 if no slot is filled), ``od.sum() / max(d.sum(), 1e-12)``,
    ``coherence.mean()``, ``(n_led[head] > 1).mean()``, ``effect[users >
    0].max()``, ``ev_mean[ev_prec > 0].max()`` (each nan if empty), then the
    counts ``collab_alive.sum()``, ``(collab_alive & collab_formal).sum()``
    and ``(stage == trial).sum())``. Practice arrays are the ``[:n]`` in use.
    """
    d, od = filled_depth_ownership(slot_p, depth, own)
    total = numpy_sum(d)
    depth_mean = total / len(d) if len(d) else 0.0
    ownership = numpy_sum(od) / max(total, 1e-12)
    n = len(head)
    n_led = np.zeros(n_heads, np.int64)
    for i in range(n):
        n_led[head[i]] += 1
    exec_led = 0
    for i in range(n):
        exec_led += n_led[head[i]] > 1
    frontier = frontier_known = -np.inf
    seen = known = False
    for q in range(len(effect)):
        if users[q] > 0:
            frontier = max(frontier, effect[q]) if seen else effect[q]
            seen = True
        if ev_prec[q] > 0:
            frontier_known = max(frontier_known, ev_mean[q]) if known else ev_mean[q]
            known = True
    n_collab = n_formal = n_trials = 0
    for c in range(len(collab_alive)):
        n_collab += collab_alive[c]
        n_formal += collab_alive[c] and collab_formal[c]
    for q in range(len(stage)):
        n_trials += stage[q] == trial
    return (
        depth_mean,
        ownership,
        numpy_sum(coherence) / n,
        exec_led / n,
        frontier if seen else np.nan,
        frontier_known if known else np.nan,
        n_collab,
        n_formal,
        n_trials,
    )


@jit
def school_summary(perf, perf0, weakest0, capacity, budget, trust, alive):
    """The per-school means and spreads of the metrics, numpy's answers bit for bit.

    Returns ``(perf.mean(), perf.std(), (perf - perf0).std(),
    perf[weakest0].mean(), capacity.mean(), budget.mean(),
    trust[alive].mean())``, the last 0.0 when no tie is in force. A standard
    deviation is numpy's: the root of the mean squared deviation from the mean.
    """
    n = len(perf)
    gain = perf - perf0
    dev = np.empty(n)
    m = numpy_sum(perf) / n
    for i in range(n):
        dev[i] = (perf[i] - m) * (perf[i] - m)
    perf_sd = np.sqrt(numpy_sum(dev) / n)
    g = numpy_sum(gain) / n
    for i in range(n):
        dev[i] = (gain[i] - g) * (gain[i] - g)
    gain_sd = np.sqrt(numpy_sum(dev) / n)
    weakest = numpy_sum(perf[weakest0]) / len(weakest0)
    live = trust[alive]
    trust_mean = numpy_sum(live) / len(live) if len(live) else 0.0
    return (
        m,
        perf_sd,
        gain_sd,
        weakest,
        numpy_sum(capacity) / n,
        numpy_sum(budget) / n,
        trust_mean,
    )


@jit
def tenth_means(x, k):
    """Mean of the ``k`` smallest values of ``x`` and mean of the rest (nan if ``x`` has a NaN).

    What ``part = np.partition(x, k - 1)`` gives as ``part[:k].mean()`` and
    ``part[k:].mean()`` (the second equal to the first when ``k == len(x)``),
    added in another order, so equal to within rounding rather than to the
    bit. The ``k``-th smallest value ``v`` comes from
    :func:`~sim.core.numerics.order_statistics`; one pass then adds what lies
    below and above it, and the copies of ``v`` are shared out by count
    (:func:`_tenth_means_at`).
    """
    return _tenth_means_at(x, k, order_statistics(x, np.array([k - 1]))[0])


@jit(inline="always")
def _tenth_means_at(x, k, v):
    """:func:`tenth_means` given ``v``, the ``k``-th smallest value of ``x``."""
    n = len(x)
    below = above = 0.0
    n_below = n_above = 0
    nan = False
    for u in x:
        if u < v:
            below += u
            n_below += 1
        elif u > v:
            above += u
            n_above += 1
        elif u != u:
            nan = True
    if nan or v != v:
        return np.nan, np.nan
    low_ties = k - n_below  # copies of v among the k smallest
    weakest = (below + low_ties * v) / k
    if n == k:
        return weakest, weakest
    return weakest, (above + (n - k - n_above) * v) / (n - k)


@jit
def usage_summary(users):
    """``(np.count_nonzero(users), users.max(), users.sum())`` in one pass (0s when empty)."""
    in_use = top = total = 0
    for u in users:
        in_use += u != 0
        top = max(top, u)
        total += u
    return in_use, top, total


@jit
def slot_sum(slot_p, per_practice, weight=None):
    """Per school, the sum over its filled slots of ``per_practice[p]`` (times ``weight``).

    ``row_sum(np.where(slot_p >= 0, per_practice[np.maximum(slot_p, 0)] * weight, 0.0))``,
    or without ``* weight`` when it is None, slot by slot in numpy's order of addition.
    """
    n, k = slot_p.shape
    buf = np.empty(k)
    out = np.empty(n)
    for i in range(n):
        for j in range(k):
            p = slot_p[i, j]
            v = per_practice[max(p, 0)]  # read either way: a select, not a branch
            if weight is not None:  # decided when compiled, not in the loop
                v = v * weight[i, j]
            buf[j] = v if p >= 0 else 0.0
        out[i] = sum_in_numpy_order(buf, k)
    return out


@jit
def own_cohort_lookup(perf, cohort, smallest, table):
    """Published schools' shares, cohorts and interpolated table values, in one call.

    For the metrics' published results (:func:`sim.system.metrics.published`, each school's
    own cohort): with ``g = table.shape[1]`` (the grid's points, evenly spaced over 0 to 1),
    the numpy expression::

        p = np.clip(perf, 1e-9, 1.0 - 1e-9)
        keep = cohort >= smallest
        q, n = p[keep], cohort[keep]
        x = q * (g - 1)
        i = np.minimum(np.nan_to_num(x).astype(np.int64), g - 2)
        f = x - i
        (q, n, table[n, i] * (1.0 - f) + table[n, i + 1] * f)

    The same operations on each number, so the same bits. One call reading both of a
    school's neighbouring entries together: at England's size the table (11 MB) is read
    from memory rather than the processor's caches, and numpy's form reads it twice, in
    two passes, with the index arithmetic in three more. Published schools are listed
    first, and each one's cell found before any entry is read: the loop that reads the
    table is a few instructions long with no branch, so the processor keeps many of its
    reads (mostly cache misses at any size: the table is 11 MB) in flight at once.
    """
    n_all = len(perf)
    at = np.empty(n_all, np.int64)
    m = 0
    for j in range(n_all):
        if cohort[j] >= table.shape[0]:
            raise IndexError("a cohort is larger than the table's largest")  # as numpy's would
        at[m] = j
        m += cohort[j] >= smallest
    q = np.empty(m)
    n = np.empty(m, np.int64)
    cell = np.empty(m, np.int64)
    below = np.empty(m)
    last = table.shape[1] - 2
    scale = float(table.shape[1] - 1)
    lo, hi = 1e-9, 1.0 - 1e-9
    for k in range(m):
        j = at[k]
        v = perf[j]
        # np.clip: a NaN stays NaN, else max(v, lo) then min(.., hi)
        v = v if v != v else (v if v > lo else lo)
        v = v if v != v else (v if v < hi else hi)
        x = v * scale
        cell[k] = min(int(x), last) if x == x else 0  # nan_to_num: a NaN reads cell 0
        q[k] = v
        n[k] = cohort[j]
    for k in range(m):
        c, i = n[k], cell[k]
        f = q[k] * scale - i
        below[k] = table[c, i] * (1.0 - f) + table[c, i + 1] * f
    return q, n, below


@jit
def published_moments(q, n, logit, every, below):
    """The means behind the published-results metrics, numpy's answers bit for bit.

    Returns ``(logit.var(), np.mean(1.0 / (n * q * (1.0 - q))), every.mean(),
    below.mean())`` (``n`` the published schools' cohorts, ``q`` their shares): one loop
    for the per-school terms and numpy's order of addition for each sum (a variance is
    numpy's: the mean of squared deviations from the mean), instead of a dozen passes.
    """
    m = len(q)
    m_logit = numpy_sum(logit) / m
    dev = np.empty(m)
    inv = np.empty(m)
    for k in range(m):
        d = logit[k] - m_logit
        dev[k] = d * d
        w = n[k] * q[k] * (1.0 - q[k])
        inv[k] = 1.0 / w if w != 0.0 else math.copysign(math.inf, w)  # numba raises on 1 / 0
    return (
        numpy_sum(dev) / m,
        numpy_sum(inv) / m,
        numpy_sum(every) / m,
        numpy_sum(below) / m,
    )


class MetricInputs(NamedTuple):
    """What :func:`metric_summary` reads: the state behind one row of the full metric set.

    Arrays are passed whole with the count in use (``n_ties`` ties, ``n_practices``
    practices, ``n_collabs`` collaboratives); ``coherence`` is each school's
    (``model.coherence()``); ``users`` the schools running each practice. The
    published schools' shares ``q``, cohorts ``n_pub``, ``logit``, ``every`` (``q ** n``)
    and ``below`` are those of :func:`sim.system.metrics.published` (each school's own
    cohort), computed before the call (numpy's power and log).
    """

    perf: np.ndarray
    perf0: np.ndarray
    weakest0: np.ndarray
    capacity: np.ndarray
    budget: np.ndarray
    cohort: np.ndarray
    trust: np.ndarray
    alive: np.ndarray
    n_ties: int
    slot_p: np.ndarray
    depth: np.ndarray
    own: np.ndarray
    coherence: np.ndarray
    head: np.ndarray
    n_heads: int
    effect: np.ndarray
    users: np.ndarray
    ev_mean: np.ndarray
    ev_prec: np.ndarray
    stage: np.ndarray
    n_practices: int
    trial: int
    collab_alive: np.ndarray
    collab_formal: np.ndarray
    n_collabs: int
    q: np.ndarray
    n_pub: np.ndarray
    logit: np.ndarray
    every: np.ndarray
    below: np.ndarray


@jit
def metric_summary(x, q_low, q_high):
    """The full metric set's numbers in one compiled call, numpy's answers bit for bit.

    ``x`` is a :class:`MetricInputs`; ``len(x.perf)`` at least 1. Returns, in order:
    ``usage_summary(users)`` (3 counts); ``quantiles(perf, [q_low, q_high])`` (2,
    :func:`sim.core.numerics.quantiles`' arithmetic on the order statistics); the
    ``tenth_means(perf, max(1, n // 10))`` (2); ``school_summary(...)`` (7); the
    cohort-weighted mean ``(perf * cohort).sum() / cohort.sum()``; ``practice_summary(...)``
    (9) on the arrays' ``[:n]`` in use; and ``published_moments(q, n_pub, logit, every,
    below)`` (4, nan when no school is published). Its numpy form, the calls one by one,
    is :func:`sim.system.metrics._summary_numpy` (``tests/test_kernels.py`` compares
    them): one dispatch and one pass over ``perf`` for the order statistics of the
    quantiles and of the tenths, instead of a dozen calls and their glue.
    """
    users = x.users
    in_use, top, total = usage_summary(users)
    perf = x.perf
    n = len(perf)
    k = max(1, n // 10)
    # quantiles(): numpy's linear method on the order statistics, the maximum first
    prev_low = min(math.floor((n - 1) * q_low), n - 1)
    prev_high = min(math.floor((n - 1) * q_high), n - 1)
    ranks = np.empty(6, np.int64)
    ranks[0] = n - 1
    ranks[1], ranks[2] = prev_low, min(prev_low + 1, n - 1)
    ranks[3], ranks[4] = prev_high, min(prev_high + 1, n - 1)
    ranks[5] = k - 1  # the tenths' order statistic, in the same passes
    stats = order_statistics(perf, ranks)
    if stats[0] != stats[0]:
        p_low = p_high = np.nan
    else:
        p_low = _linear_quantile(stats, n, q_low, prev_low, 1)
        p_high = _linear_quantile(stats, n, q_high, prev_high, 3)
    weakest, rest = _tenth_means_at(perf, k, stats[5])
    trust, alive = x.trust[: x.n_ties], x.alive[: x.n_ties]
    mean, sd, gain_sd, weakest_start, capacity, budget, trust_mean = school_summary(
        perf, x.perf0, x.weakest0, x.capacity, x.budget, trust, alive
    )
    weighted = np.empty(n)
    pupils = 0
    for i in range(n):
        weighted[i] = perf[i] * x.cohort[i]
        pupils += x.cohort[i]
    perf_mean = _divide(numpy_sum(weighted), pupils)
    m = x.n_practices
    c = x.n_collabs
    depth, ownership, coherence, exec_led, frontier, known, n_collab, n_formal, n_trials = (
        practice_summary(
            x.slot_p,
            x.depth,
            x.own,
            x.coherence,
            x.head,
            x.n_heads,
            x.effect[:m],
            users,
            x.ev_mean[:m],
            x.ev_prec[:m],
            x.stage[:m],
            x.trial,
            x.collab_alive[:c],
            x.collab_formal[:c],
        )
    )
    if len(x.q):
        var, noise, every, below = published_moments(x.q, x.n_pub, x.logit, x.every, x.below)
        published_sd = np.sqrt(var + noise)
    else:
        published_sd = every = below = np.nan
    return (
        in_use,
        top,
        total,
        p_low,
        p_high,
        weakest,
        rest,
        mean,
        sd,
        gain_sd,
        weakest_start,
        capacity,
        budget,
        trust_mean,
        perf_mean,
        depth,
        ownership,
        coherence,
        exec_led,
        frontier,
        known,
        n_collab,
        n_formal,
        n_trials,
        published_sd,
        every,
        below,
    )


@jit
def metric_summary_args(
    perf,
    perf0,
    weakest0,
    capacity,
    budget,
    cohort,
    trust,
    alive,
    n_ties,
    slot_p,
    depth,
    own,
    coherence,
    head,
    n_heads,
    effect,
    users,
    ev_mean,
    ev_prec,
    stage,
    n_practices,
    trial,
    collab_alive,
    collab_formal,
    n_collabs,
    q,
    n_pub,
    logit,
    every,
    below,
    q_low,
    q_high,
    spent_la,
    short_la,
):
    """:func:`metric_summary` of the :class:`MetricInputs` made of these, its fields in order.

    The same call and numbers (the bundle is made inside the compiled code): plain arrays
    and numbers pass into a compiled call in half the time a 30-field bundle does, which
    the dispatcher types field by field at every call (:func:`sim.system.metrics.collect`
    calls this once a step; ``tests/test_kernels.py`` checks the two agree). Two numbers
    follow the summary's: ``spent_la.sum()`` and ``short_la.sum()`` (numpy's order), the
    ledger's authorities' spend and shortfall (:meth:`sim.system.costs.Ledger.metrics`),
    summed here rather than in two more numpy calls a step. Its numpy form is
    :func:`sim.system.metrics._summary_numpy_args`.
    """
    x = MetricInputs(
        perf,
        perf0,
        weakest0,
        capacity,
        budget,
        cohort,
        trust,
        alive,
        n_ties,
        slot_p,
        depth,
        own,
        coherence,
        head,
        n_heads,
        effect,
        users,
        ev_mean,
        ev_prec,
        stage,
        n_practices,
        trial,
        collab_alive,
        collab_formal,
        n_collabs,
        q,
        n_pub,
        logit,
        every,
        below,
    )
    return metric_summary(x, q_low, q_high) + (numpy_sum(spent_la), numpy_sum(short_la))


@jit(inline="always")
def _divide(a, b):
    """``a / b`` as numpy divides two numbers: ``b == 0`` gives inf or nan, not an error."""
    if b != 0:
        return a / b
    return np.nan if a == 0 or a != a else math.copysign(np.inf, a)  # numba raises on a / 0


@jit(inline="always")
def _linear_quantile(stats, n, v, prev, at):
    """One quantile ``v`` of :func:`sim.core.numerics.quantiles` from its order statistics.

    ``stats[0]`` is the maximum, ``stats[at]`` and ``stats[at + 1]`` those at ranks ``prev``
    and the next: numpy's ``a + (b - a) t``, or ``b - (b - a)(1 - t)`` from ``t = 0.5`` on.
    """
    virtual = (n - 1) * v
    if virtual >= n - 1:
        prev = -1  # numpy's index for the maximum; t below counts from it
        a = b = stats[0]
    else:
        a, b = stats[at], stats[at + 1]
    t = virtual - prev
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


@jit
def share_above(x, base, margin):
    """``np.count_nonzero(x > base + margin) / len(x)``: the share of entries above base + margin.

    One pass, no temporaries (the count over the length, both exact, divided once).
    """
    if len(base) != len(x):
        raise ValueError("share_above: x and base differ in length")
    c = 0
    for i in range(len(x)):
        c += x[i] > base[i] + margin
    return c / len(x)


@jit
def head_traits(keys, t, uid, openness_a, openness_b, mean, sd, appetite_a, appetite_b):
    """New heads' openness, ingenuity and appetite: three keyed draws each, in one call.

    ``draws.beta(keys[0], t, uid, 0, openness_a, openness_b)``,
    ``draws.lognormal(keys[1], t, uid, 0, mean, sd)`` and ``draws.beta(keys[2], t, uid,
    0, appetite_a, appetite_b)``: the same kernels, called in turn
    (:meth:`sim.model.model.NextPracticeModel.appoint_heads`).
    """
    return (
        draws.beta(keys[0], t, uid, 0, openness_a, openness_b),
        draws.lognormal(keys[1], t, uid, 0, mean, sd),
        draws.beta(keys[2], t, uid, 0, appetite_a, appetite_b),
    )
