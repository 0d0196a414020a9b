"""The fast row reductions give numpy's results bit for bit."""

import numpy as np
import pytest

from sim.core.numerics import (
    pairwise_add,
    quantiles,
    row_any,
    row_count,
    row_cumsum,
    row_min,
    row_sum,
)


def _bits(x):
    return np.ascontiguousarray(x).view(np.int64)


def _awkward(rng, n, w):
    """Floats of wildly different sizes and signs, with +0.0, -0.0 and all-zero rows."""
    x = rng.standard_normal((n, w)) * 10.0 ** rng.integers(-8, 8, (n, w))
    x[rng.random((n, w)) < 0.3] = 0.0
    x[rng.random((n, w)) < 0.3] *= -1.0
    x[::7] = -0.0
    x[1::7] = 0.0
    x[2::7, 0] = -0.0
    return x


@pytest.mark.parametrize("w", range(1, 128))
def test_row_sum_is_numpys_sum(w):
    rng = np.random.default_rng(w)
    for _ in range(3):
        x = _awkward(rng, 500, w)
        assert np.array_equal(_bits(row_sum(x)), _bits(x.sum(axis=1)))
        # Same for the transposed layout: parts are the rows of a (w, n) array.
        assert np.array_equal(_bits(pairwise_add(np.ascontiguousarray(x.T))), _bits(x.sum(axis=1)))


def test_row_sum_falls_back_to_numpy():
    x = np.arange(12.0).reshape(3, 4)
    assert np.array_equal(row_sum(np.asfortranarray(x)), x.sum(axis=1))
    assert np.array_equal(row_sum(x.astype(np.int64)), x.sum(axis=1))
    assert np.array_equal(row_sum(np.ones((3, 200))), np.full(3, 200.0))


def test_row_any_is_numpys_any():
    rng = np.random.default_rng(0)
    for w in (1, 2, 6, 9):
        b = rng.random((300, w)) < 0.2
        assert np.array_equal(row_any(b), b.any(axis=1))
    assert row_any(np.zeros((4, 0), bool)).tolist() == [False] * 4


def test_row_min_is_numpys_min():
    rng = np.random.default_rng(1)
    for w in (1, 2, 6, 9):
        x = rng.standard_normal((300, w))
        x[rng.random((300, w)) < 0.2] = -np.inf
        x[rng.random((300, w)) < 0.05] = np.nan
        assert np.array_equal(row_min(x), x.min(axis=1), equal_nan=True)


@pytest.mark.parametrize("w", [1, 2, 6, 9, 30])
def test_row_cumsum_and_row_count_are_numpys(w):
    rng = np.random.default_rng(w)
    x = _awkward(rng, 400, w)
    assert np.array_equal(_bits(row_cumsum(x)), _bits(np.cumsum(x, axis=1)))
    b = x > 0
    assert np.array_equal(row_count(b), b.sum(axis=1))
    assert row_count(b).dtype == b.sum(axis=1).dtype


def test_quantiles_is_numpys_quantile():
    rng = np.random.default_rng(3)
    qs = [0.05, 0.95, 0.75, 0.10, 0.0, 1.0, 0.5, 1 / 3, 0.999999]
    for n in list(range(1, 40)) + [99, 100, 1001, 21000]:
        for kind in range(3):
            x = rng.standard_normal(n)
            if kind == 1:
                x = np.round(x, 1)  # many ties
            elif kind == 2:
                x = 1.0 / (1.0 + np.exp(-x))
                x[rng.random(n) < 0.2] = -0.0
            before = x.copy()
            got, want = quantiles(x, qs), np.quantile(x, qs)
            # Bit for bit, except that a zero's sign is either (+0.0 and -0.0 tie in a sort).
            assert np.array_equal(got, want), (n, kind)
            assert np.array_equal(_bits(got[got != 0]), _bits(want[got != 0])), (n, kind)
            assert np.array_equal(_bits(x), _bits(before))  # input left as it was
    x = rng.standard_normal(50)
    x[7] = np.nan
    assert np.isnan(quantiles(x, [0.1, 0.9, 0.0, 1.0])).all()
    x[7], x[49] = 0.0, np.nan  # a NaN in last place: q = 1 reads only the maximum
    assert np.isnan(quantiles(x, [1.0, 0.98])).all()
    x[49] = 0.0
    with pytest.raises(ValueError):  # numpy's own complaint
        quantiles(x, [1.5])
    assert np.array_equal(quantiles(np.arange(5), [0.5]), np.quantile(np.arange(5), [0.5]))
    x = rng.standard_normal(30)
    for q in (0.3, np.array(0.3), np.array([0.2, 0.7]), (0.2, 0.7), np.array([[0.2], [0.7]])):
        got, want = quantiles(x, q), np.quantile(x, q)  # any q numpy takes, numpy's shape
        assert np.shape(got) == np.shape(want) and np.array_equal(got, want)


def _hard_arrays(rng, n):
    """Arrays that strain a counting select: ties, NaNs, infinities, tiny and huge ranges."""
    x = rng.standard_normal(n)
    yield np.round(x, 1)  # many ties
    y = x.copy()
    y[rng.random(n) < 0.3] = np.nan
    yield y
    yield np.full(n, 0.5)
    y = x.copy()
    y[rng.random(n) < 0.2] = np.inf
    y[rng.random(n) < 0.1] = -np.inf
    yield y
    yield x * 1e-310  # a range of subnormals: the bucket scale overflows
    yield np.clip(x, -1.5, 1.5) * 1e308  # a range wider than the largest double
    y = 1.0 / (1.0 + np.exp(-x))
    y[rng.random(n) < 0.2] = -0.0
    yield y
    yield np.exp(5 * x)  # skewed: most values in the lowest buckets
    yield x


def test_order_statistics_are_the_sorted_values():
    from sim.core.numerics import order_statistics

    rng = np.random.default_rng(11)
    for n in list(range(1, 50)) + [257, 1000, 21000]:
        for x in _hard_arrays(rng, n):
            before = x.copy()
            ranks = np.concatenate([rng.integers(0, n, 6), [0, n - 1, n // 2]])
            got, want = order_statistics(x, ranks), np.sort(x)[ranks]
            assert np.array_equal(got, want, equal_nan=True), (n, x[:5])
            assert np.array_equal(_bits(x), _bits(before), equal_nan=True)
    with pytest.raises(IndexError):
        order_statistics(np.ones(3), np.array([3]))


def test_tenth_means_are_the_partitions_means():
    from sim.core.kernels import tenth_means

    rng = np.random.default_rng(12)
    for n in list(range(1, 40)) + [1000, 21000]:
        for x in _hard_arrays(rng, n):
            if np.isinf(x).any() or np.abs(x).max() > 1e300:
                continue  # inf - inf: numpy's mean is nan or inf by order of addition
            for k in {1, max(1, n // 10), n}:
                part = np.partition(x, k - 1)
                want = (part[:k].mean(), part[k:].mean() if n > k else part[:k].mean())
                got = tenth_means(x, k)
                if np.isnan(x).any():
                    assert np.isnan(got).all()
                else:
                    # Added in another order: equal to within rounding on the values' scale.
                    scale = np.abs(x).max()
                    assert got == pytest.approx(want, rel=1e-12, abs=1e-13 * scale), (n, k)


def test_member_of_is_isin():
    from sim.core.numerics import member_of

    rng = np.random.default_rng(0)
    values = rng.integers(-1, 40, 1000)
    for ids in (np.array([], np.int64), np.array([3]), rng.integers(0, 40, 12)):
        assert np.array_equal(member_of(values, ids, 40), np.isin(values, ids))
    assert not member_of(np.array([-1]), np.arange(40), 40)[0]


def test_one_draw_from_a_pool_is_numpys_choice():
    """``pool[rng.integers(len(pool))]`` draws what ``rng.choice(pool)`` draws, state included.

    The rules use the first (a quarter of the cost); if numpy ever changes how
    choice draws, this fails and the rules' streams must be looked at again.
    """
    for seed in range(100):
        r1, r2 = np.random.default_rng(seed), np.random.default_rng(seed)
        for n in (1, 2, 3, 7, 100, 1000, 21_000):
            pool = np.arange(n) * 3 + 1
            assert r1.choice(pool) == pool[r2.integers(len(pool))]
        assert r1.random() == r2.random()


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 255, 256, 1000, 8193, 21_000, 96_226])
def test_numpy_sum_is_numpys_sum(n):
    from sim.core.numerics import numpy_sum

    rng = np.random.default_rng(n)
    for _ in range(3):
        x = _awkward(rng, n, 1).ravel() if n else np.zeros(0)
        assert _bits(np.float64(numpy_sum(x))) == _bits(np.float64(x.sum()))
