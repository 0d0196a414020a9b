"""Counter-based random numbers: each draw a function of (key, step, entity, index).

A stream's numbers are read in order, so how many a rule draws before a
decision sets which number that decision meets; once two runs differ (two
strategies compared on the same seed), the same decision meets other numbers
and the comparison loses its common random numbers. Here a random number is
not read from a stream but computed from what it is for:

    ``u = draws.uniform(key, t, ids, b)``

is, for each entity ``ids[i]`` (a school, a practice, a head, a tie...), a
function of the run's seed and the decision (both in ``key``), the step ``t``,
the entity, and a second index ``b`` (another entity the decision concerns,
such as the practice a school judges; 0 when none). Nothing drawn before it,
by this rule or any other, moves it: two runs that differ in strategy meet the
same luck in every decision they both take (starsim's per-decision streams
indexed by agent slot, Klein et al. 2024, arXiv 2409.02086; keyed by event,
Buffalo, Pearson and Klein, arXiv 2603.11084).

The function is **Philox4x64-10** (Salmon, Moraes, Dror and Shaw 2011,
"Parallel random numbers: as easy as 1, 2, 3"), numpy's ``Philox`` bit
generator: a keyed bijection of a 256-bit counter, here ``(t, entity >> 2, b,
j)``, under a 128-bit key; ``j`` numbers the words of a draw that needs more
than one (rejection sampling), and the four 64-bit words of one block serve
four consecutive entities (``entity & 3``), so one block serves four schools of
a per-school draw. ``tests/test_draws.py`` checks the blocks against numpy's own
Philox, the distributions against their laws (Kolmogorov-Smirnov), the
independence of streams, steps, entities and indices, and a known-answer vector.

Every distribution is computed here, once, compiled: the rules' numpy forms
call these functions on arrays and their kernels call the scalar forms
(``uniform1``...), the same compiled code, so both forms get the same numbers
bit for bit (numpy's own ``log`` or ``exp`` can differ from the C library's by
an ulp). Uniforms are 53-bit, as numpy's; normals are the inverse of the
normal CDF (Wichura's AS 241, accurate to about 1e-16), so the same number
gives the same quantile whatever the mean and spread (the pairing that
inversion keeps, Law 2015, ch. 11); Student t is Bailey's polar method (1994);
gamma and beta are Marsaglia and Tsang's method (2000); Poisson counts, small
integers and exponentials are by inversion. Choosing ``k`` of a set without
replacement is ordering it by keyed uniforms (weighted: by exponentials over
weights, Efraimidis and Spirakis 2006, as the field trials choose their sites).

Keys: :func:`sim.core.registry.stream_keys` derives one per decision from a
named stream's ``numpy`` generator (its ``SeedSequence``, extended by the
decision's name), so a decision's numbers depend on the run's seed, the slot
(or stream) and the decision's name alone (:meth:`sim.core.registry.Rule.key`).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from sim.core.jit import jit

_MASK = (1 << 64) - 1
#: Philox4x64's multipliers and Weyl key increments (Salmon et al. 2011; numpy's values).
_M0, _M1 = 0xD2E7470EE14C6C93, 0xCA5A826395121157
_W0, _W1 = 0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B
#: Rounds of Philox4x64 (the authors' recommended number; numpy's).
ROUNDS = 10
_TWO53_INV = 1.0 / 9007199254740992.0


# ------------------------------------------------------------------ the block function
# Three machine operations on 64-bit words, each with a Python form (Python integers,
# for kernels run as Python with ``NUMBA_DISABLE_JIT=1``) and a compiled one.
def _u64(x):
    """``x`` as an unsigned 64-bit word (a signed integer counts modulo 2**64)."""
    return int(x) & _MASK


@overload(_u64, inline="always", jit_options={"cache": True})
def _u64_compiled(x):
    return lambda x: np.uint64(x)


def _wadd(x, y):
    """``x + y`` modulo 2**64."""
    return (x + y) & _MASK


@overload(_wadd, inline="always", jit_options={"cache": True})
def _wadd_compiled(x, y):
    return lambda x, y: x + y


def _mulhilo(x, y):
    """The 128-bit product of two 64-bit words: (high word, low word)."""
    prod = x * y
    return prod >> 64, prod & _MASK


@intrinsic
def _mulhilo_native(typingctx, a, b):
    """:func:`_mulhilo` in one machine multiply (LLVM's 128-bit integers)."""
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        wide = ir.IntType(128)
        prod = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        lo = builder.trunc(prod, ir.IntType(64))
        hi = builder.trunc(builder.lshr(prod, ir.Constant(wide, 64)), ir.IntType(64))
        return context.make_tuple(builder, signature.return_type, (hi, lo))

    return sig, codegen


@overload(_mulhilo, inline="always", jit_options={"cache": True})
def _mulhilo_compiled(x, y):
    return lambda x, y: _mulhilo_native(x, y)


@jit(inline="always")
def _round(c0, c1, c2, c3, k0, k1):
    """One Philox4x64 round: two wide multiplies, the words crossed and keyed."""
    hi0, lo0 = _mulhilo(_u64(_M0), c0)
    hi1, lo1 = _mulhilo(_u64(_M1), c2)
    return hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0


@jit(inline="always")
def philox(k0, k1, c0, c1, c2, c3):
    """Philox4x64-10 of the counter ``(c0, c1, c2, c3)`` under the key ``(k0, k1)``: 4 words.

    Ten rounds, the key bumped by the Weyl increments between rounds (written
    out: a loop of rounds runs at half the speed). Numbers are taken modulo
    2**64, so signed counters are allowed. numpy's ``Philox`` gives the same
    words (``tests/test_draws.py``).
    """
    a0, a1 = _u64(k0), _u64(k1)
    w0, w1 = _u64(_W0), _u64(_W1)
    x0, x1, x2, x3 = _round(_u64(c0), _u64(c1), _u64(c2), _u64(c3), a0, a1)
    a0, a1 = _wadd(a0, w0), _wadd(a1, w1)
    x0, x1, x2, x3 = _round(x0, x1, x2, x3, a0, a1)
    a0, a1 = _wadd(a0, w0), _wadd(a1, w1)
    x0, x1, x2, x3 = _round(x0, x1, x2, x3, a0, a1)
    a0, a1 = _wadd(a0, w0), _wadd(a1, w1)
    x0, x1, x2, x3 = _round(x0, x1, x2, x3, a0, a1)
    a0, a1 = _wadd(a0, w0), _wadd(a1, w1)
    x0, x1, x2, x3 = _round(x0, x1, x2, x3, a0, a1)
    a0, a1 = _wadd(a0, w0), _wadd(a1, w1)
    x0, x1, x2, x3 = _round(x0, x1, x2, x3, a0, a1)
    a0, a1 = _wadd(a0, w0), _wadd(a1, w1)
    x0, x1, x2, x3 = _round(x0, x1, x2, x3, a0, a1)
    a0, a1 = _wadd(a0, w0), _wadd(a1, w1)
    x0, x1, x2, x3 = _round(x0, x1, x2, x3, a0, a1)
    a0, a1 = _wadd(a0, w0), _wadd(a1, w1)
    x0, x1, x2, x3 = _round(x0, x1, x2, x3, a0, a1)
    a0, a1 = _wadd(a0, w0), _wadd(a1, w1)
    return _round(x0, x1, x2, x3, a0, a1)


@jit(inline="always")
def _pick(blk, j):
    """Word ``j`` (0 to 3) of a block, without a branch (``j`` is random: no guessing it)."""
    z = _u64(0)
    return (
        (blk[0] & (z - _u64(j == 0)))
        | (blk[1] & (z - _u64(j == 1)))
        | (blk[2] & (z - _u64(j == 2)))
        | (blk[3] & (z - _u64(j == 3)))
    )


def _at(b, i):
    """``b[i]`` for an array ``b``, ``b`` itself for a number (one index for every entity)."""
    return b[i] if np.ndim(b) else b


@overload(_at, jit_options={"cache": True})
def _at_compiled(b, i):
    if isinstance(b, types.Array):
        return lambda b, i: b[i]
    return lambda b, i: b


@jit(inline="always")
def word(key, t, a, b, j):
    """Word ``j`` of the draw for entity ``a`` (and index ``b``) at step ``t``: a uint64.

    Word ``a & 3`` of the Philox block of counter ``(t, a >> 2, b, j)``.
    """
    return _word(key[0], key[1], t, a, b, j)


@jit(inline="always")
def _word(k0, k1, t, a, b, j):
    """:func:`word` under the key ``(k0, k1)``.

    Helpers take the key's two words, not the array: handing an array to a
    compiled function that is not inlined costs two atomic reference counts.
    """
    return _pick(philox(k0, k1, t, a >> 2, b, j), a & 3)


@jit(inline="always")
def _u01(w):
    """A uint64 word as a uniform on [0, 1): its top 53 bits, as numpy makes a double."""
    return np.float64(w >> _u64(11)) * _TWO53_INV


@jit(inline="always")
def _u_open(w):
    """A uint64 word as a uniform on (0, 1): the top 53 bits, centred in their interval."""
    return (np.float64(w >> _u64(11)) + 0.5) * _TWO53_INV


# Wichura (1988), Algorithm AS 241, PPND16: the normal quantile to about 1e-16.
_A = (
    3.3871328727963666080e0,
    1.3314166789178437745e2,
    1.9715909503065514427e3,
    1.3731693765509461125e4,
    4.5921953931549871457e4,
    6.7265770927008700853e4,
    3.3430575583588128105e4,
    2.5090809287301226727e3,
)
_B = (
    1.0,
    4.2313330701600911252e1,
    6.8718700749205790830e2,
    5.3941960214247511077e3,
    2.1213794301586595867e4,
    3.9307895800092710610e4,
    2.8729085735721942674e4,
    5.2264952788528545610e3,
)
_C = (
    1.42343711074968357734e0,
    4.63033784615654529590e0,
    5.76949722146069140550e0,
    3.64784832476320460504e0,
    1.27045825245236838258e0,
    2.41780725177450611770e-1,
    2.27238449892691845833e-2,
    7.74545014278341407640e-4,
)
_D = (
    1.0,
    2.05319162663775882187e0,
    1.67638483018380384940e0,
    6.89767334985100004550e-1,
    1.48103976427480074590e-1,
    1.51986665636164571966e-2,
    5.47593808499534494600e-4,
    1.05075007164441684324e-9,
)
_E = (
    6.65790464350110377720e0,
    5.46378491116411436990e0,
    1.78482653991729133580e0,
    2.96560571828504891230e-1,
    2.65321895265761230930e-2,
    1.24266094738807843860e-3,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
)
_F = (
    1.0,
    5.99832206555887937690e-1,
    1.36929880922735805310e-1,
    1.48753612908506148525e-2,
    7.86869131145613259100e-4,
    1.84631831751005468180e-5,
    1.42151175831644588870e-7,
    2.04426310338993978564e-15,
)


@jit(inline="always")
def _poly(c, r):
    """``c[0] + c[1] r + ... + c[7] r^7`` by Horner's rule."""
    return (
        ((((((c[7] * r + c[6]) * r + c[5]) * r + c[4]) * r + c[3]) * r + c[2]) * r + c[1]) * r
    ) + c[0]


@jit(inline="always")
def normal_quantile(p):
    """The standard normal quantile of ``p`` in (0, 1): Wichura's AS 241 (PPND16)."""
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _poly(_A, r) / _poly(_B, r)
    r = p if q < 0.0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        z = _poly(_C, r) / _poly(_D, r)
    else:
        r -= 5.0
        z = _poly(_E, r) / _poly(_F, r)
    return -z if q < 0.0 else z


# The ziggurat of Marsaglia and Tsang (2000) with 256 layers, as numpy draws normals: the
# low 8 bits of a word pick a layer, the next its sign, the top 52 a point in it; 99% of
# draws end there, the rest try again with the draw's next words.
_ZIG_R = 3.6541528853610088  # where the tail starts
_ZIG_V = 4.92867323399e-3  # each layer's area


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Layer bounds (52-bit integers), widths and heights: Marsaglia and Tsang's ``zigset``."""
    m1 = 2.0**52
    ki, wi, fi = np.zeros(256, np.uint64), np.zeros(256), np.zeros(256)
    dn = tn = _ZIG_R
    q = _ZIG_V / math.exp(-0.5 * dn * dn)
    ki[0] = np.uint64(int((dn / q) * m1))
    wi[0] = q / m1
    wi[255] = dn / m1
    fi[0] = 1.0
    fi[255] = math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(_ZIG_V / dn + math.exp(-0.5 * dn * dn)))
        ki[i + 1] = np.uint64(int((dn / tn) * m1))
        tn = dn
        fi[i] = math.exp(-0.5 * dn * dn)
        wi[i] = dn / m1
    return ki, wi, fi


_KI, _WI, _FI = _ziggurat_tables()
_MASK52 = (1 << 52) - 1


@jit(inline="always")
def _zig_point(w):
    """A word's point in the ziggurat: its layer, sign and signed abscissa, and if it is inside.

    The low 8 bits pick the layer, the next the sign, the top 52 the point; a point
    under the layer's bound is inside the rectangle, and its abscissa is the normal.
    """
    layer = w & _u64(0xFF)
    rabs = (w >> _u64(9)) & _u64(_MASK52)
    negative = (w >> _u64(8)) & _u64(1)
    x = np.float64(rabs) * _WI[layer]
    if negative:
        x = -x
    return layer, negative, x, rabs < _KI[layer]


@jit
def _normal_of(k0, k1, t, a, b, w):
    """The standard normal of a draw whose first word is ``w``: the ziggurat's fast path."""
    _, _, x, inside = _zig_point(w)
    if inside:
        return x
    return _normal_rest(k0, k1, t, a, b, w)


@jit
def _normal_rest(k0, k1, t, a, b, w):
    """The ziggurat's slow path: the edge of a layer, or the tail; then the next words."""
    j = 1
    while True:
        layer, negative, x, inside = _zig_point(w)
        if inside:
            return x
        if layer == 0:  # the tail beyond _ZIG_R (Marsaglia 1964)
            while True:
                xx = -math.log1p(-_u01(_word(k0, k1, t, a, b, j))) / _ZIG_R
                yy = -math.log1p(-_u01(_word(k0, k1, t, a, b, j + 1)))
                j += 2
                if yy + yy > xx * xx:
                    return -(_ZIG_R + xx) if negative else _ZIG_R + xx
        u = _u01(_word(k0, k1, t, a, b, j))
        j += 1
        if (_FI[layer - 1] - _FI[layer]) * u + _FI[layer] < math.exp(-0.5 * x * x):
            return x
        w = _word(k0, k1, t, a, b, j)
        j += 1


# ------------------------------------------------------------------ one draw (for kernels)
# Kernels call these scalar forms; the array forms below loop over the same code. The
# inline wrappers take the key array and hand its two words on: handing an array to a
# compiled function that is not inlined costs two atomic reference counts (10 ns).
@jit(inline="always")
def uniform1(key, t, a, b):
    """A uniform on [0, 1) for entity ``a`` and index ``b`` at step ``t``."""
    return _u01(word(key, t, a, b, 0))


@jit(inline="always")
def normal1(key, t, a, b):
    """A standard normal (the ziggurat, from the draw's words)."""
    k0, k1 = key[0], key[1]
    return _normal_of(k0, k1, t, a, b, _word(k0, k1, t, a, b, 0))


@jit(inline="always")
def lognormal1(key, t, a, b, mean, sigma):
    """``exp(mean + sigma z)``, ``z`` the draw's standard normal."""
    return math.exp(mean + sigma * normal1(key, t, a, b))


@jit(inline="always")
def exponential1(key, t, a, b):
    """A standard exponential, ``-log(1 - u)`` (by inversion)."""
    return _exponential_of(word(key, t, a, b, 0))


@jit(inline="always")
def integer1(key, t, a, b, n):
    """An integer uniform on ``0 .. n - 1``: ``floor(u n)`` (``n`` at least 1)."""
    return _integer_of(word(key, t, a, b, 0), n)


# ------------------------------------------------------------------ blocks met again
# A kernel that visits entities in order, each with several indices (a school's slots,
# each keyed by its practice), meets the block of counter (t, a >> 2, b, 0) once for every
# entity of a group of four that has index b: four schools running one practice read one
# block. A memo keeps the blocks last met, direct-mapped on the index's low bits (a
# practice's identifier ends in the school it was born at, or its number among the first
# practices), each place tagged with its block's group and index, so a block met again is
# one test, not ten rounds. One array: the same memo as three arrays (tags apart), handed
# to this inlined call in a loop, ran slower than no memo (docs/performance.md).
_MEMO_BITS = 6
MEMO = 1 << _MEMO_BITS
_EMPTY_PLACE = 1 << 63  # no group ``a >> 2`` of a 64-bit ``a`` has these bits: an empty place


@jit(inline="always")
def block_memo():
    """An empty memo for :func:`memo_word`: per place, a block's 4 words, its group, its index."""
    memo = np.zeros((MEMO, 6), np.uint64)
    memo[:, 4] = _EMPTY_PLACE
    return memo


@jit(inline="always")
def memo_word(memo, k0, k1, t, a, b):
    """Word 0 of entity ``a``'s draw under index ``b`` and the key ``(k0, k1)``, memoised.

    :func:`word`'s number: the block of counter ``(t, a >> 2, b, 0)`` is taken from
    the memo's place ``b % MEMO`` when that place holds it, and computed and put
    there when not. ``memo`` from :func:`block_memo`, used with one key and step.
    """
    h = b & (MEMO - 1)
    g, i = _u64(a >> 2), _u64(b)
    if memo[h, 4] != g or memo[h, 5] != i:
        blk = philox(k0, k1, t, a >> 2, b, 0)
        memo[h, 0], memo[h, 1], memo[h, 2], memo[h, 3] = blk[0], blk[1], blk[2], blk[3]
        memo[h, 4], memo[h, 5] = g, i
    r = (_u64(memo[h, 0]), _u64(memo[h, 1]), _u64(memo[h, 2]), _u64(memo[h, 3]))
    return _pick(r, a & 3)


@jit(inline="always")
def normal_from(key, t, a, b, w):
    """:func:`normal1` of entity ``a`` and index ``b``, from its first word ``w`` in hand."""
    return _normal_of(key[0], key[1], t, a, b, w)


@jit(inline="always")
def _exponential_of(w):
    """The standard exponential of a word: ``-log(1 - u)``, ``u`` its uniform (inversion)."""
    return -math.log(1.0 - _u01(w))


@jit(inline="always")
def _integer_of(w, n):
    """The integer uniform on ``0 .. n - 1`` of a word: ``floor(u n)``, at most ``n - 1``."""
    return min(np.int64(_u01(w) * n), n - 1)


@jit(inline="always")
def student_t1(key, t, a, b, df):
    """A Student t with ``df`` degrees of freedom (see :func:`_student_t`)."""
    return _student_t(key[0], key[1], t, a, b, df)


@jit(inline="always")
def beta1(key, t, a, b, alpha, beta):
    """A Beta(``alpha``, ``beta``) variate (see :func:`_beta`)."""
    return _beta(key[0], key[1], t, a, b, alpha, beta)


@jit(inline="always")
def poisson1(key, t, a, b, lam):
    """A Poisson count of mean ``lam`` (see :func:`_poisson`)."""
    return _poisson(key[0], key[1], t, a, b, lam)


@jit
def _student_t(k0, k1, t, a, b, df):
    """A Student t with ``df`` degrees of freedom: Bailey's polar method (1994).

    Two uniforms on (-1, 1) a try (words ``2i`` and ``2i + 1``), until their
    point falls in the unit disc (a share pi/4 of tries); then
    ``u sqrt(df (w^(-2/df) - 1) / w)``, ``w`` the squared radius.
    """
    j = 0
    while True:
        u = 2.0 * _u01(_word(k0, k1, t, a, b, j)) - 1.0
        v = 2.0 * _u01(_word(k0, k1, t, a, b, j + 1)) - 1.0
        j += 2
        w = u * u + v * v
        if 0.0 < w <= 1.0:
            return u * math.sqrt(df * (w ** (-2.0 / df) - 1.0) / w)


@jit
def _log_gamma_variate(k0, k1, t, a, b, j, shape):
    """The log of a gamma variate of ``shape`` from words ``j`` on; and the next word.

    Marsaglia and Tsang (2000): a normal (by inversion, one word) and a
    uniform a try, accepted in most tries; below a shape of 1, the variate of
    ``shape + 1`` times ``u^(1/shape)`` (in logs, so tiny shapes do not
    underflow to 0).
    """
    boost = 0.0
    alpha = shape
    if shape < 1.0:
        boost = math.log(_u_open(_word(k0, k1, t, a, b, j))) / shape
        j += 1
        alpha = shape + 1.0
    d = alpha - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = normal_quantile(_u_open(_word(k0, k1, t, a, b, j)))
        j += 1
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = _u_open(_word(k0, k1, t, a, b, j))
        j += 1
        if math.log(u) < 0.5 * x * x + d - d * v + d * math.log(v):
            return math.log(d * v) + boost, j


@jit
def _beta(k0, k1, t, a, b, alpha, beta):
    """A Beta(``alpha``, ``beta``) variate: ``X / (X + Y)`` of two gamma variates."""
    lx, j = _log_gamma_variate(k0, k1, t, a, b, 0, alpha)
    ly, _ = _log_gamma_variate(k0, k1, t, a, b, j, beta)
    return 1.0 / (1.0 + math.exp(ly - lx))


#: Poisson counts are drawn in pieces of at most this mean (``exp(-mean)`` stays normal).
_POISSON_PIECE = 500.0


@jit
def _poisson(k0, k1, t, a, b, lam):
    """A Poisson count of mean ``lam``, by inversion (one uniform per piece of mean 500)."""
    total = 0
    j = 0
    rest = lam
    while rest > 0.0:
        piece = min(rest, _POISSON_PIECE)
        rest -= piece
        u = _u01(_word(k0, k1, t, a, b, j))
        j += 1
        p = math.exp(-piece)
        cdf = p
        x = 0
        while u > cdf and p > 0.0:
            x += 1
            p *= piece / x
            cdf += p
        total += x
    return total


# ------------------------------------------------------------------ many draws (arrays)
@jit
def words(key, t, a, b):
    """Word 0 of the draw of each entity ``a[i]`` (index ``b``, or ``b[i]``): uint64s.

    Entities ``4m .. 4m + 3`` with the same index share one Philox block, so a
    run of consecutive entities costs a block per four.
    """
    n = len(a)
    out = np.zeros(n, np.uint64)
    if n == 0:
        return out
    k0, k1 = key[0], key[1]
    q0 = a[0] >> 2
    b0 = _at(b, 0)
    blk = philox(k0, k1, t, q0, b0, 0)
    for i in range(n):
        q, bi = a[i] >> 2, _at(b, i)
        if q != q0 or bi != b0:
            blk = philox(k0, k1, t, q, bi, 0)
            q0, b0 = q, bi
        out[i] = _pick(blk, a[i] & 3)
    return out


@jit
def uniform(key, t, a, b):
    """A uniform on [0, 1) for each entity ``a[i]`` at step ``t`` (index ``b``, or ``b[i]``)."""
    w = words(key, t, a, b)
    out = np.empty(len(w))
    for i in range(len(w)):
        out[i] = _u01(w[i])
    return out


@jit
def normal(key, t, a, b):
    """A standard normal for each entity (the ziggurat; see :func:`normal1`)."""
    w = words(key, t, a, b)
    k0, k1 = key[0], key[1]
    out = np.empty(len(w))
    for i in range(len(w)):
        out[i] = _normal_of(k0, k1, t, a[i], _at(b, i), w[i])
    return out


@jit
def exponential(key, t, a, b):
    """A standard exponential for each entity (see :func:`exponential1`)."""
    w = words(key, t, a, b)
    out = np.empty(len(w))
    for i in range(len(w)):
        out[i] = _exponential_of(w[i])
    return out


@jit
def lognormal(key, t, a, b, mean, sigma):
    """``exp(mean + sigma z)`` for each entity, ``z`` its normal (``mean``: one or per entity)."""
    w = words(key, t, a, b)
    k0, k1 = key[0], key[1]
    out = np.empty(len(w))
    for i in range(len(w)):
        z = _normal_of(k0, k1, t, a[i], _at(b, i), w[i])
        out[i] = math.exp(_at(mean, i) + sigma * z)
    return out


@jit
def integers(key, t, a, b, n):
    """An integer uniform on ``0 .. n - 1`` for each entity (``n`` a number or per entity)."""
    w = words(key, t, a, b)
    out = np.empty(len(w), np.int64)
    for i in range(len(w)):
        out[i] = _integer_of(w[i], _at(n, i))
    return out


@jit
def student_t(key, t, a, b, df):
    """A Student t with ``df`` degrees of freedom for each entity (see :func:`_student_t`)."""
    out = np.empty(len(a))
    for i in range(len(a)):
        out[i] = _student_t(key[0], key[1], t, a[i], _at(b, i), df)
    return out


@jit
def beta(key, t, a, b, alpha, beta_):
    """A Beta(``alpha``, ``beta_``) variate for each entity (see :func:`_beta`)."""
    out = np.empty(len(a))
    for i in range(len(a)):
        out[i] = _beta(key[0], key[1], t, a[i], _at(b, i), alpha, beta_)
    return out


@jit
def poisson(key, t, a, b, lam):
    """A Poisson count of mean ``lam`` for each entity (see :func:`_poisson`)."""
    out = np.empty(len(a), np.int64)
    for i in range(len(a)):
        out[i] = _poisson(key[0], key[1], t, a[i], _at(b, i), lam)
    return out


@jit
def smallest(key, t, pool, b, k):
    """``k`` members of ``pool`` chosen without replacement: those of the ``k`` smallest uniforms.

    Each member's uniform is keyed by the member itself, so a member's chance
    of being chosen does not depend on the others in the pool or their order
    (ties of the 53-bit uniforms, which do not happen in practice, go to the
    earlier member). In the order of their uniforms.
    """
    u = uniform(key, t, pool, b)
    order = np.argsort(u, kind="mergesort")
    return pool[order[:k]]
