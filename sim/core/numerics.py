"""Reductions numpy does slowly for our shapes, bit for bit the same as numpy's.

numpy reduces each row of an ``(n_schools, n_slots)`` array in a separate
inner loop, which costs more than the arithmetic when rows are a handful of
slots long (``a.sum(axis=1)`` at 21,000 schools and 6 slots takes four times
as long as six column additions). These helpers add or combine whole columns
instead, in the order numpy uses, so results do not change by a bit:
``tests/test_numerics.py`` checks them against numpy for every width up to 127.
:func:`quantiles` gives ``np.quantile``'s default answer from one counting pass
(:func:`order_statistics`) instead of its general machinery.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sim.core.jit import jit

#: numpy's pairwise summation adds blocks of up to this many items without recursing.
_PW_BLOCK = 128


def pairwise_add(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Sum equal-shape float arrays as numpy's ``sum`` adds the items of a reduced axis.

    ``pairwise_add(list(a.T)) == a.sum(axis=1)`` bit for bit: numpy starts
    from zero and adds fewer than 8 items left to right; from 8 items on it
    keeps eight interleaved partial sums, combines them pairwise, then adds
    the remainder. Fewer than 128 parts (longer axes recurse; not needed here).
    """
    w = len(parts)
    if not 0 < w < _PW_BLOCK:
        raise ValueError(f"pairwise_add takes 1 to {_PW_BLOCK - 1} parts, not {w}")
    if w < 8:
        res = np.array(parts[0], dtype=np.float64, copy=True)
        for k in range(1, w):
            res += parts[k]
    else:
        r = [np.array(parts[j], dtype=np.float64, copy=True) for j in range(8)]
        i = 8
        while i + 8 <= w:
            for j in range(8):
                r[j] += parts[i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for k in range(i, w):
            res += parts[k]
    res += 0.0  # numpy's result starts from +0.0: a sum of -0.0s is +0.0
    return res


@jit(inline="always")
def sum_in_numpy_order(x: np.ndarray, w: int) -> float:
    """``x[:w].sum()`` for a compiled loop, added in numpy's order (1 <= w <= 128).

    The scalar form of :func:`pairwise_add`, so compiled kernels that sum a
    school's slots give the numpy expressions' answers bit for bit.
    """
    return _pairwise_block(x, 0, w) + 0.0


@jit
def numpy_sum(x: np.ndarray) -> float:
    """``x.sum()`` of a contiguous 1-D float64 array in a compiled loop, bit for bit.

    numpy's pairwise summation: blocks of at most 128 items (fewer than 8
    added left to right, else eight interleaved partial sums), and a longer
    stretch split in two (the first half a multiple of 8 long), each half
    summed so and the two added. The recursion runs on an explicit stack:
    numba cannot load a recursive function from its disk cache.
    """
    n = len(x)
    if n <= _PW_BLOCK:
        return _pairwise_block(x, 0, n) + 0.0
    lo_of = np.empty(64, np.int64)  # stretches waiting, as a stack (depth <= 64)
    n_of = np.empty(64, np.int64)
    stage = np.empty(64, np.int64)  # 0: neither half summed, 1: the first, 2: both
    sums = np.empty(65)
    lo_of[0], n_of[0], stage[0] = 0, n, 0
    top, n_sums = 0, 0
    while top >= 0:
        lo, m = lo_of[top], n_of[top]
        if m <= _PW_BLOCK:
            sums[n_sums] = _pairwise_block(x, lo, m)
            n_sums += 1
            top -= 1
            continue
        half = m // 2
        half -= half % 8
        if stage[top] == 2:  # both halves summed: add them, first + second
            sums[n_sums - 2] = sums[n_sums - 2] + sums[n_sums - 1]
            n_sums -= 1
            top -= 1
            continue
        first = stage[top] == 0
        stage[top] += 1
        top += 1
        lo_of[top] = lo if first else lo + half
        n_of[top] = half if first else m - half
        stage[top] = 0
    return sums[0] + 0.0


@jit(inline="always")
def _pairwise_block(x, lo, n):
    """The numpy sum of ``x[lo:lo + n]`` for ``n <= 128``."""
    if n < 8:
        res = -0.0
        for i in range(n):
            res += x[lo + i]
        return res
    # A slice read from 0 by range loops: indices the compiler knows are not negative, so
    # no wraparound test per item, and the eight sums load as vectors (twice the speed).
    y = x[lo : lo + n]
    r0, r1, r2, r3 = y[0], y[1], y[2], y[3]
    r4, r5, r6, r7 = y[4], y[5], y[6], y[7]
    m = n - n % 8
    for b in range(1, m // 8):
        i = 8 * b
        r0 += y[i]
        r1 += y[i + 1]
        r2 += y[i + 2]
        r3 += y[i + 3]
        r4 += y[i + 4]
        r5 += y[i + 5]
        r6 += y[i + 6]
        r7 += y[i + 7]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(m, n):
        res += y[i]
    return res


def row_sum(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=1)`` of a 2-D float64 array, bit for bit, by adding columns."""
    if (
        a.ndim != 2
        or a.dtype != np.float64
        or not a.flags.c_contiguous
        or not 0 < a.shape[1] < _PW_BLOCK
    ):
        return a.sum(axis=1)
    return pairwise_add(a.T)


def row_any(a: np.ndarray) -> np.ndarray:
    """``a.any(axis=1)`` of a 2-D boolean array, by or-ing columns."""
    if a.ndim != 2 or a.dtype != np.bool_ or a.shape[1] == 0:
        return a.any(axis=1)
    cols = a.T
    out = cols[0].copy()
    for k in range(1, len(cols)):
        out |= cols[k]
    return out


def member_of(values: np.ndarray, ids: np.ndarray, size: int) -> np.ndarray:
    """``np.isin(values, ids)`` for ids in ``[0, size)`` and values in ``[-1, size)``.

    A lookup table instead of isin's sort: ``-1`` (no such thing, e.g. no
    collaborative) reads the table's extra last entry, which is never set.
    """
    table = np.zeros(size + 1, bool)
    table[ids] = True
    return table[values]


def row_min(a: np.ndarray) -> np.ndarray:
    """``a.min(axis=1)`` of a 2-D array with at least one column, by columns.

    The same values (a minimum does not depend on the order it is taken in;
    NaN propagates as in numpy), except that of a +0.0 and a -0.0 in one row
    either may come out.
    """
    if a.ndim != 2 or a.shape[1] == 0:
        return a.min(axis=1)
    cols = a.T
    out = cols[0].copy()
    for k in range(1, len(cols)):
        np.minimum(out, cols[k], out=out)
    return out


def row_cumsum(a: np.ndarray) -> np.ndarray:
    """``np.cumsum(a, axis=1)`` of a 2-D float64 array, bit for bit, by columns.

    A cumulative sum adds left to right whichever way it is run.
    """
    if a.ndim != 2 or a.dtype != np.float64 or a.shape[1] == 0:
        return np.cumsum(a, axis=1)
    out = np.empty_like(a)
    out[:, 0] = a[:, 0]
    for k in range(1, a.shape[1]):
        np.add(out[:, k - 1], a[:, k], out=out[:, k])
    return out


def row_count(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=1)`` of a 2-D boolean array (the Trues in each row), by columns."""
    if a.ndim != 2 or a.dtype != np.bool_ or a.shape[1] == 0:
        return a.sum(axis=1)
    cols = a.T
    out = cols[0].astype(np.int64)
    for k in range(1, len(cols)):
        out += cols[k]
    return out


def quantiles(x: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """``np.quantile(x, q)`` (default ``linear`` method) of a 1-D float array, bit for bit.

    numpy interpolates between the order statistics at ``floor((n - 1) q)``
    and the next one, ``a + (b - a) t`` (``b - (b - a)(1 - t)`` from
    ``t = 0.5`` on); at or past the last index both are the maximum. All the
    order statistics come from one compiled pass (:func:`order_statistics`)
    instead of a partition each; the arithmetic is numpy's, done on Python
    floats (the same IEEE doubles) to spare a dozen small array operations a
    call. A NaN anywhere gives NaN, as numpy's does: the largest order
    statistic, always asked for, is NaN exactly when one is present.
    (Where +0.0 and -0.0 tie at a statistic, either sign may be taken.)
    """
    x = np.asarray(x)
    try:
        qs = [float(v) for v in q]
    except TypeError:  # a single q, or not a flat sequence: numpy's answer (or complaint)
        return np.quantile(x, q)
    n = len(x)
    if x.ndim != 1 or x.dtype != np.float64 or n == 0 or not all(0.0 <= v <= 1.0 for v in qs):
        return np.quantile(x, q)
    prevs = [min(math.floor((n - 1) * v), n - 1) for v in qs]
    ranks = np.array([n - 1] + [r for p in prevs for r in (p, min(p + 1, n - 1))], np.int64)
    stats = order_statistics(x, ranks)
    if math.isnan(stats[0]):
        return np.full(len(qs), np.nan)
    out = np.empty(len(qs))
    for i, v in enumerate(qs):
        virtual = (n - 1) * v
        if virtual >= n - 1:
            prev = -1  # numpy's index for the maximum; t below counts from it
            a = b = float(stats[0])
        else:
            prev = prevs[i]
            a, b = float(stats[1 + 2 * i]), float(stats[2 + 2 * i])
        t = virtual - prev
        diff = b - a
        out[i] = b - diff * (1 - t) if t >= 0.5 else a + diff * t
    return out


@jit(inline="always")
def _bucket(v, lo, scale, last):
    """Bucket of ``v`` (not NaN) in :func:`order_statistics`: 0 when ``scale`` is 0."""
    return min(int((v - lo) * scale), last) if scale > 0.0 else 0


@jit
def order_statistics(x, ranks):
    """``np.sort(x)[ranks]``: the values at the given 0-based ranks, found by counting.

    One pass finds the range of ``x``, a second counts its values into about
    ``len(x) / 4`` equal-width buckets, a third gathers the few values of
    the buckets that hold the wanted ranks, and only those are sorted. A
    bucket's index, ``floor((v - lo) * scale)``, never decreases as ``v``
    grows (IEEE rounding is monotone), so every value of a lower bucket is
    at most every value of a higher one and the answers are exact: the same
    floats ``np.sort`` puts at those ranks (NaNs last, as numpy sorts them).
    Values whose range is not finite fall into one bucket, which is then a
    plain sort; so, in part, do values crowded into a small part of their
    range (a few far outliers), whose sort then costs more. ``np.partition``
    makes a pass per rank at best; this is a fixed three.
    """
    n = len(x)
    out = np.empty(len(ranks))
    lo, hi, m = np.inf, -np.inf, 0
    for v in x:
        if v == v:  # not NaN
            lo = min(lo, v)
            hi = max(hi, v)
            m += 1
    if m == 0:
        out[:] = np.nan
        return out
    n_buckets = max(1, m // 4)
    width = hi - lo
    scale = n_buckets / width if width > 0.0 else 0.0
    if not (np.isfinite(lo) and np.isfinite(hi) and np.isfinite(scale)):
        scale = 0.0
    last = n_buckets - 1
    counts = np.zeros(n_buckets, np.int64)
    bucket = np.empty(n, np.int32)  # each value's bucket, -1 for NaN, read again below
    for i in range(n):
        v = x[i]
        if v == v:
            b = _bucket(v, lo, scale, last)
            counts[b] += 1
            bucket[i] = b
        else:
            bucket[i] = -1
    start = np.empty(n_buckets + 1, np.int64)  # rank of each bucket's least value
    start[0] = 0
    for b in range(n_buckets):
        start[b + 1] = start[b] + counts[b]
    # The buckets holding wanted ranks, each given a segment of ``pool``.
    segment = np.full(n_buckets, -1, np.int64)
    where = np.full(len(ranks), -1, np.int64)
    seg_start = np.zeros(len(ranks) + 1, np.int64)
    n_seg = 0
    for i in range(len(ranks)):
        r = ranks[i]
        if r < 0 or r >= n:
            raise IndexError("order_statistics: a rank is outside the array")
        if r >= m:
            continue  # a NaN's rank
        b = np.searchsorted(start[1:], r, side="right")
        if segment[b] < 0:
            segment[b] = n_seg
            seg_start[n_seg + 1] = seg_start[n_seg] + counts[b]
            n_seg += 1
        where[i] = b
    pool = np.empty(seg_start[n_seg])
    fill = seg_start[:n_seg].copy()
    if n_seg:
        for i in range(n):
            b = bucket[i]
            if b >= 0 and segment[b] >= 0:
                s = segment[b]
                pool[fill[s]] = x[i]
                fill[s] += 1
    for s in range(n_seg):
        pool[seg_start[s] : seg_start[s + 1]].sort()
    for i in range(len(ranks)):
        b = where[i]
        if b < 0:
            out[i] = np.nan
        else:
            out[i] = pool[seg_start[segment[b]] + ranks[i] - start[b]]
    return out


@jit(inline="always")
def first_over(cum, v):
    """The first position whose running sum ``cum`` exceeds ``v``; the last if none does.

    A pick in proportion to weight, for compiled loops: with ``cum`` the
    running sum of the weights and ``v`` a uniform times their total.
    ``min(np.count_nonzero(v >= cum), len(cum) - 1)``.
    """
    col = 0
    for j in range(len(cum)):
        col += v >= cum[j]
    return min(col, len(cum) - 1)


def first_over_rows(cum: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Per row, the first column whose running sum ``cum`` exceeds ``v``; the last if none.

    :func:`first_over` row by row, in numpy (for the rules' numpy forms).
    """
    return np.minimum((v[:, None] >= cum).sum(axis=1), cum.shape[1] - 1)


def first_in_order(x: np.ndarray, k: int) -> np.ndarray:
    """``np.argsort(x, kind="stable")[:k]``: the indices of the ``k`` least, without a full sort.

    The same indices in the same order, ties included: a stable sort orders by value,
    then by index, with NaNs last. The ``k``-th least value ``v`` is found by
    partition (which compares as the sort does: -0.0 equals 0.0, NaNs last); every
    element below ``v`` is among the first ``k``, then the lowest-indexed of those
    equal to ``v``; these few are sorted stably. When ``v`` is a NaN (fewer than ``k``
    numbers), or ``k`` is not small beside ``len(x)``, the full sort is taken.
    """
    x = np.asarray(x)
    n = len(x)
    if k <= 0 or 4 * k >= n or x.dtype.kind != "f":
        return np.argsort(x, kind="stable")[:k]
    v = np.partition(x, k - 1)[k - 1]
    if np.isnan(v):
        return np.argsort(x, kind="stable")[:k]
    below = np.flatnonzero(x < v)
    level = np.flatnonzero(x == v)[: k - len(below)]
    # Equal values are all in ``below`` or all in ``level``, each ascending by index:
    # the stable sort of the few then breaks ties by index, as the full one does.
    chosen = np.concatenate((below, level))
    return chosen[np.argsort(x[chosen], kind="stable")]
