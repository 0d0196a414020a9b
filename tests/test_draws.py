"""Counter-based random numbers (:mod:`sim.core.draws`): right, the same everywhere, and good.

A draw is a function of (key, step, entity, index): these tests check the
function against numpy's own Philox, pin a known-answer vector (a change of
algorithm fails here first), check that the array forms the numpy rules call,
the scalar forms the kernels call and the Python forms (``NUMBA_DISABLE_JIT``)
give the same bits, that each distribution follows its law (Kolmogorov-Smirnov
and chi-square over large samples), and that numbers of different streams,
steps, entities and indices are uncorrelated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from scipy import stats

from sim.core import draws
from sim.core.registry import stream_key, stream_keys
from tests.conftest import ROOT

KEY = np.array([0x0123456789ABCDEF, 0xFEDCBA9876543210], np.uint64)
N = 200_000  # draws per law checked; p-values below 1e-4 fail (a false alarm in 10,000)
P_MIN = 1e-4


def _bits(x):
    return np.ascontiguousarray(x).view(np.uint8)


# ------------------------------------------------------------------ the block function
def test_blocks_are_numpys_philox():
    """Philox4x64-10 as numpy's ``Philox`` computes it, for many keys and counters.

    numpy adds one to its counter before each block, so its block after
    counter ``c - 1`` is ours of counter ``c``. (Python mode: below.)
    """
    rng = np.random.default_rng(0)
    for _ in range(200):
        key = rng.integers(0, 2**64, 2, dtype=np.uint64)
        t = int(rng.integers(1, 2**40))
        a, b = int(rng.integers(0, 2**62)), int(rng.integers(0, 2**62))
        counter = np.array([t - 1, a >> 2, b, 0], np.uint64)
        want = np.random.Philox(key=key, counter=counter).random_raw(4)
        block = np.array(draws.philox(key[0], key[1], t, a >> 2, b, 0), np.uint64)
        assert np.array_equal(block, want)
        compiled = draws.words(key, t, np.array([a], np.int64), b)[0]
        assert compiled == want[a & 3]


def test_known_answers():
    """A fixed key, step, four entities and an index: the numbers this version draws.

    A change of generator, of the word a draw reads or of a distribution's method
    changes every simulated number; it must show here first.
    """
    a = np.arange(4, dtype=np.int64)
    words = [hex(int(x)) for x in draws.words(KEY, 3, a, 5)]
    assert words == [
        "0x3251b75bd0f394e7",
        "0x55a75d2c1ba4c24",
        "0xe8bbb0a630cf2460",
        "0xf6ac8e79811571a6",
    ]
    assert draws.uniform(KEY, 3, a, 5).tolist() == [
        0.19655939094168517,
        0.02091156382969317,
        0.9091139226664464,
        0.963570503868217,
    ]
    assert draws.normal(KEY, 3, a, 5).tolist() == [
        1.4377967245254752,
        0.14450652549205723,
        0.3604152236759315,
        -1.2803572002625538,
    ]
    assert draws.student_t(KEY, 3, a, 5, 4.0).tolist() == [
        -1.3979127513573417,
        -0.2975258826891229,
        0.3702095629973014,
        0.34236455199612054,
    ]
    assert draws.beta(KEY, 3, a, 5, 3.0, 2.0).tolist() == [
        0.6472484292644111,
        0.2542718185172705,
        0.5282479875157975,
        0.6890091436012745,
    ]
    assert draws.poisson(KEY, 3, a, 5, 2.5).tolist() == [1, 0, 5, 6]
    assert draws.integers(KEY, 3, a, 5, 1000).tolist() == [196, 20, 909, 963]


def test_a_decisions_key_is_the_streams_seed_sequence_extended_by_its_name():
    """Known answer: seed 2024, the stream ``adopt``, the decisions ``consider`` and ``judge``."""
    g = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(2024, spawn_key=(stream_key("adopt"),)))
    )
    keys = stream_keys(g, ("consider", "judge"))
    assert [[hex(int(x)) for x in row] for row in keys] == [
        ["0xd26fa7d9334a9032", "0xac542b14773bd9cd"],
        ["0xbdf792a1753b5b82", "0x97c0338499f95c02"],
    ]
    assert not keys.flags.writeable
    assert stream_keys(g, ("consider", "judge")) is keys  # worked out once
    other = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(2025, spawn_key=(stream_key("adopt"),)))
    )
    assert not np.array_equal(stream_keys(other, ("consider",))[0], keys[0])


# ------------------------------------------------------------------ one implementation
@numba.njit
def _scalar_forms(key, t, a, b, df, alpha, beta, lam, n):
    """Every scalar form, entity by entity: what kernels compute."""
    m = len(a)
    out = np.empty((8, m))
    for i in range(m):
        out[0, i] = draws.uniform1(key, t, a[i], b)
        out[1, i] = draws.normal1(key, t, a[i], b)
        out[2, i] = draws.exponential1(key, t, a[i], b)
        out[3, i] = draws.lognormal1(key, t, a[i], b, -0.3, 0.7)
        out[4, i] = draws.integer1(key, t, a[i], b, n)
        out[5, i] = draws.student_t1(key, t, a[i], b, df)
        out[6, i] = draws.beta1(key, t, a[i], b, alpha, beta)
        out[7, i] = draws.poisson1(key, t, a[i], b, lam)
    return out


def _array_forms(key, t, a, b, df, alpha, beta, lam, n):
    """Every array form: what the numpy forms call."""
    return np.array(
        [
            draws.uniform(key, t, a, b),
            draws.normal(key, t, a, b),
            draws.exponential(key, t, a, b),
            draws.lognormal(key, t, a, b, -0.3, 0.7),
            draws.integers(key, t, a, b, n).astype(float),
            draws.student_t(key, t, a, b, df),
            draws.beta(key, t, a, b, alpha, beta),
            draws.poisson(key, t, a, b, lam).astype(float),
        ]
    )


def test_the_array_forms_and_the_scalar_forms_draw_the_same_bits():
    """The numpy forms' arrays and the kernels' single draws: the same numbers, bit for bit.

    Entities in runs (sharing Philox blocks) and scattered (each its own), enough
    of them that every slow path (the ziggurat's edges and tail, rejected tries)
    is taken.
    """
    rng = np.random.default_rng(1)
    for a in (np.arange(50_000), rng.integers(-(2**62), 2**62, 50_000)):
        for args in ((7, 4.0, 3.0, 2.0, 2.5, 1000), (0, 1.0, 0.02, 0.3, 700.0, 3)):
            t, df, alpha, beta, lam, n = args
            got = _scalar_forms(KEY, t, a, 11, df, alpha, beta, lam, n)
            want = _array_forms(KEY, t, a, 11, df, alpha, beta, lam, n)
            assert np.array_equal(_bits(got), _bits(want))
    # A per-entity index (``b[i]``) is each entity's own index.
    a = np.arange(1000)
    b = rng.integers(0, 50, 1000)
    one_by_one = [draws.uniform(KEY, 2, a[i : i + 1], int(b[i]))[0] for i in range(1000)]
    assert np.array_equal(draws.uniform(KEY, 2, a, b), one_by_one)


def _memo_normals(key, t, slot_uid, first):
    """Each filled slot's normal read through a block memo, as Review's kernels read them.

    Row ``i`` is entity ``first + i``.
    """
    n, k = slot_uid.shape
    memo = draws.block_memo()
    out = np.full((n, k), np.nan)
    for i in range(n):
        a = first + i
        for j in range(k):
            u = slot_uid[i, j]
            if u >= 0:
                w = draws.memo_word(memo, key[0], key[1], t, a, u)
                out[i, j] = draws.normal_from(key, t, a, u, w)
    return out


def test_a_block_memo_gives_each_entity_its_own_numbers():
    """Blocks kept for a group of four (:func:`draws.memo_word`): the same numbers.

    Slots hold a few practices (most groups of four meet one again, some slots
    empty), indices that share a memo place (``b % MEMO``), and many; the rows
    start at a negative entity (the memo's empty places must not look like group
    -1's). Compared, bit for bit, with :func:`draws.normal1` one by one.
    """
    rng = np.random.default_rng(5)
    memo = numba.njit(_memo_normals)
    choices = (
        np.arange(-1, 3),  # few practices: most blocks met again
        np.array([-1, 0, 64, 128, 5, 69, 2**40 + 5]),  # one place (index % 64), several indices
        np.arange(-1, 10**12, 10**9),  # many
    )
    for values in choices:
        slot_uid = rng.choice(values, (403, 6))
        for first in (0, -9, 2**61 - 200):
            got = memo(KEY, 9, slot_uid, first)
            want = np.full(slot_uid.shape, np.nan)
            for i, j in zip(*np.nonzero(slot_uid >= 0), strict=True):
                want[i, j] = draws.normal1(KEY, 9, first + i, slot_uid[i, j])
            assert np.array_equal(_bits(got), _bits(want))


_PYTHON_MODE = """
import json, numpy as np
from sim.core import draws
from sim.core.registry import stream_key, stream_keys
from tests.test_draws import KEY, _array_forms, _memo_normals
a = np.concatenate([np.arange(300), np.array([-5, 2**61 + 3])])
out = [_array_forms(KEY, t, a, b, *rest).tolist() for t, b, *rest in (
    (4, 0, 4.0, 3.0, 2.0, 2.5, 10), (9, 77, 1.5, 0.05, 0.4, 600.0, 7))]
memo = _memo_normals(KEY, 9, np.arange(-1, 47).reshape(8, 6) % 5 - 1, -3)
print(json.dumps([out, np.nan_to_num(memo, nan=-99.0).tolist()]))
"""


def test_python_mode_draws_the_same_bits():
    """Kernels run as Python (``NUMBA_DISABLE_JIT=1``, for debugging) draw the same numbers."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    proc = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", _PYTHON_MODE],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    got, memo = (np.array(x) for x in json.loads(proc.stdout))
    a = np.concatenate([np.arange(300), np.array([-5, 2**61 + 3])])
    slot_uid = np.arange(-1, 47).reshape(8, 6) % 5 - 1
    want_memo = numba.njit(_memo_normals)(KEY, 9, slot_uid, -3)
    assert np.array_equal(_bits(memo), _bits(np.nan_to_num(want_memo, nan=-99.0)))
    want = np.array(
        [
            _array_forms(KEY, t, a, b, *rest)
            for t, b, *rest in ((4, 0, 4.0, 3.0, 2.0, 2.5, 10), (9, 77, 1.5, 0.05, 0.4, 600.0, 7))
        ]
    )
    assert np.array_equal(_bits(got), _bits(want))


# ------------------------------------------------------------------ the laws
def _sample(fn, *args):
    return fn(KEY, 5, np.arange(N), 0, *args)


@pytest.mark.parametrize(
    ("name", "sample", "law"),
    [
        ("uniform", lambda: _sample(draws.uniform), stats.uniform()),
        ("normal", lambda: _sample(draws.normal), stats.norm()),
        ("exponential", lambda: _sample(draws.exponential), stats.expon()),
        (
            "lognormal",
            lambda: _sample(draws.lognormal, -0.3, 0.7),
            stats.lognorm(0.7, scale=np.exp(-0.3)),
        ),
        ("t(1)", lambda: _sample(draws.student_t, 1.0), stats.t(1.0)),
        ("t(4)", lambda: _sample(draws.student_t, 4.0), stats.t(4.0)),
        ("t(30)", lambda: _sample(draws.student_t, 30.0), stats.t(30.0)),
        ("beta(3, 2)", lambda: _sample(draws.beta, 3.0, 2.0), stats.beta(3.0, 2.0)),
        ("beta(1.5, 3)", lambda: _sample(draws.beta, 1.5, 3.0), stats.beta(1.5, 3.0)),
        ("beta(0.3, 0.5)", lambda: _sample(draws.beta, 0.3, 0.5), stats.beta(0.3, 0.5)),
        ("beta(40, 60)", lambda: _sample(draws.beta, 40.0, 60.0), stats.beta(40.0, 60.0)),
    ],
)
def test_continuous_draws_follow_their_law(name, sample, law):
    """Kolmogorov-Smirnov against the law, 200,000 draws of consecutive entities."""
    x = sample()
    assert np.isfinite(x).all(), name
    assert stats.kstest(x, law.cdf).pvalue > P_MIN, name


def test_normal_tails_are_the_normals():
    """The ziggurat's tail (past 3.65) and edges: counts of |z| past each cut, 10 million draws."""
    z = np.concatenate([draws.normal(KEY, t, np.arange(2_000_000), 0) for t in range(5)])
    for cut in (1.0, 2.0, 3.0, 3.6541528853610088, 4.0, 4.5):
        expected = len(z) * 2 * stats.norm.sf(cut)
        seen = np.count_nonzero(np.abs(z) > cut)
        assert abs(seen - expected) < 5 * np.sqrt(expected), cut


@pytest.mark.parametrize("lam", [0.0, 0.3, 2.5, 40.0, 1234.5])
def test_poisson_counts_follow_their_law(lam):
    """Chi-square of the counts against the Poisson pmf (cells of expected count 20 or more)."""
    x = _sample(draws.poisson, lam)
    if lam == 0.0:
        assert (x == 0).all()
        return
    lo, hi = int(stats.poisson.ppf(1e-4, lam)), int(stats.poisson.ppf(1 - 1e-4, lam))
    edges = np.arange(lo, hi + 2)
    seen = np.array([np.count_nonzero(x < lo)] + [np.count_nonzero(x == k) for k in edges[:-1]])
    seen = np.append(seen, np.count_nonzero(x > hi))
    p = np.concatenate(
        [
            [stats.poisson.cdf(lo - 1, lam)],
            stats.poisson.pmf(edges[:-1], lam),
            [stats.poisson.sf(hi, lam)],
        ]
    )
    expected = p * len(x)
    keep = expected >= 20
    seen = np.append(seen[keep], seen[~keep].sum())
    expected = np.append(expected[keep], expected[~keep].sum())
    assert stats.chisquare(seen, expected * seen.sum() / expected.sum()).pvalue > P_MIN


@pytest.mark.parametrize("n", [1, 2, 7, 1000])
def test_integers_are_uniform(n):
    """Chi-square of ``integers(..., n)`` over its ``n`` values."""
    x = _sample(draws.integers, n)
    assert x.min() >= 0 and x.max() <= n - 1
    if n > 1:
        counts = np.bincount(x, minlength=n)
        assert stats.chisquare(counts).pvalue > P_MIN


def test_choosing_without_replacement_is_fair_and_ignores_the_pools_order():
    """``smallest``: k distinct members; each as often as any other; the pool's order immaterial."""
    pool = np.arange(100, 140)
    seen = np.zeros(140, np.int64)
    for t in range(20_000):
        got = draws.smallest(KEY, t, pool, 3, 5)
        assert len(np.unique(got)) == 5 and np.isin(got, pool).all()
        seen[got] += 1
        if t < 50:
            shuffled = np.random.default_rng(t).permutation(pool)
            assert np.array_equal(draws.smallest(KEY, t, shuffled, 3, 5), got)
    assert stats.chisquare(seen[100:]).pvalue > P_MIN


# ------------------------------------------------------------------ independence
def _uncorrelated(x, y, what):
    r = np.corrcoef(x, y)[0, 1]
    assert abs(r) < 4.5 / np.sqrt(len(x)), (what, r)  # no correlation beyond chance


def test_streams_steps_entities_and_indices_are_uncorrelated():
    """Neighbouring keys, steps, entities (in one block and across) and indices: no correlation.

    Each pair of samples differs in one coordinate only; uniforms and normals.
    """
    a = np.arange(N)
    other = KEY.copy()
    other[1] += np.uint64(1)
    base_u, base_z = draws.uniform(KEY, 5, a, 0), draws.normal(KEY, 5, a, 0)
    for what, u, z in (
        ("key", draws.uniform(other, 5, a, 0), draws.normal(other, 5, a, 0)),
        ("step", draws.uniform(KEY, 6, a, 0), draws.normal(KEY, 6, a, 0)),
        ("index", draws.uniform(KEY, 5, a, 1), draws.normal(KEY, 5, a, 1)),
        ("entity + 1", draws.uniform(KEY, 5, a + 1, 0), draws.normal(KEY, 5, a + 1, 0)),
        ("entity + 4", draws.uniform(KEY, 5, a + 4, 0), draws.normal(KEY, 5, a + 4, 0)),
    ):
        _uncorrelated(base_u, u, what)
        _uncorrelated(base_z, z, what)
    # Serial structure within a run of entities (the four words of a block, then the next).
    for lag in (1, 2, 3, 4, 5):
        _uncorrelated(base_u[:-lag], base_u[lag:], f"lag {lag}")
    # The words of a rejection sampler's further tries (index j) are independent too.
    for j in (1, 2, 3):
        w = np.array([draws.word(KEY, 5, i, 0, j) for i in range(20_000)], np.uint64)
        _uncorrelated(base_u[:20_000], (w >> np.uint64(11)) * 2.0**-53, f"word {j}")


def test_a_draw_does_not_depend_on_what_else_is_drawn():
    """The point of keyed draws: an entity's number is the same in any array, in any order."""
    rng = np.random.default_rng(4)
    a = rng.integers(0, 10**9, 5000)
    whole = draws.normal(KEY, 8, a, 3)
    order = rng.permutation(len(a))
    assert np.array_equal(draws.normal(KEY, 8, a[order], 3), whole[order])
    assert np.array_equal(draws.normal(KEY, 8, a[:17], 3), whole[:17])


# --------------------------------------------------------------- identifiers of births
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sim.core.state import born_ranks, born_uid, born_uids  # noqa: E402


def _uids_or_error(fn, *args):
    try:
        return fn(*args).tolist()
    except ValueError as e:
        return str(e)


@settings(max_examples=300, deadline=None)
@given(
    t=st.integers(-1, 10_000),
    places=st.lists(st.integers(-3, 2**32 + 2), max_size=70),
    before=st.dictionaries(st.integers(0, 40), st.integers(0, 300), max_size=5),
    few=st.sampled_from([[0], [0, 0], [5] * 3]),
)
def test_born_uids_fused_path_is_born_uid_of_born_ranks(t, places, before, few):
    """Up to 64 places on Python ints, more vectorised: the same identifiers, counts, errors.

    Places outside 0 to 2**32 - 1 and ranks of 256 or more are refused with one message.
    """
    for where in (places, places + few):
        arr = np.array(where, np.int64)
        c_fused, c_plain = dict(before), dict(before)
        fused = _uids_or_error(born_uids, t, arr, c_fused)
        plain = _uids_or_error(lambda a, c: born_uid(t, a, born_ranks(a, c)), arr, c_plain)
        assert fused == plain
        assert c_fused == c_plain
