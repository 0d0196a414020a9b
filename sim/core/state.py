"""Columnar state of the school system: the arrays the rules read and write.

The hot loop works on numpy arrays, one entry per school, head, practice or tie,
so a rule is a handful of vectorised operations rather than a Python loop over
agents. The Mesa agents in :mod:`sim.system.agents` are the readable face of this
state: ``school.performance`` reads ``model.schools.perf[school.idx]``.

Four tables, each a plain dataclass of equal-length arrays:

* :class:`Schools`: one row per school (fixed for a run), with ``n_slots``
  practice slots each (``slot_*`` arrays of shape ``(n_schools, n_slots)``).
* :class:`Heads`: one row per head who ever led a school (grows on turnover).
* :class:`Practices`: one row per practice ever known (grows on invention).
* :class:`Ties`: one row per lateral tie ever formed (grows; lapsed ties stay
  as rows with ``alive`` false so indices never move).

Growing tables double their capacity when full: :class:`Growable` handles it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields

import numpy as np
from numba.extending import overload

from sim.core.jit import jit

# Phases of a school (MODEL.md: early years, primary, secondary, special, FE college).
PHASES = ("early years", "primary", "secondary", "special", "FE college")
EARLY_YEARS, PRIMARY, SECONDARY, SPECIAL, FE = range(5)

# Life-cycle stages of a practice (MODEL.md).
STAGES = ("idea", "field trial", "proven", "mainstream", "abandoned")
IDEA, TRIAL, PROVEN, MAINSTREAM, ABANDONED = range(5)

# Origin of a practice.
ORIGINS = ("centre", "practitioner")
CENTRE, PRACTITIONER = range(2)

# How a school came to run a practice in a slot: sets its starting ownership.
CHANNELS = ("mandated", "chosen", "created")
MANDATED, CHOSEN, CREATED = range(3)

# Kinds of lateral tie.
TIE_KINDS = ("town", "feeder", "cross-authority", "collaborative", "brokered", "executive")
TOWN, FEEDER, CROSS, COLLAB, BROKERED, EXECUTIVE = range(6)

EMPTY = -1

#: An entity born during a run (a practice, a head, a collaborative) is identified for
#: random draws by where and when it was born, not by its row: (step + 1) << 40 | rank << 32
#: | place, the place a school, the rank its order among those born at that place in that
#: step (0 but for a second birth there in the same step). Those of the initial system are
#: "born" at step -1. Row indices depend on how many others were born before (another
#: strategy's run has other rows); these do not.
_PLACE_BITS, _RANK_BITS = 32, 8


_BORN_RANGE = "born_uid: a place must be 0 to 2**32 - 1 and a rank below 256"


def born_uid(t: int, place, rank=0) -> np.ndarray:
    """The identifier of entities born at step ``t`` at ``place`` (a school), ``rank``-th there.

    Vectorised over ``place`` and ``rank``. ``t`` from -1 (the initial system), places
    below 2**32, ranks below 256.
    """
    place = np.asarray(place, np.int64)
    rank = np.asarray(rank, np.int64)
    if (rank.size and rank.max() >= 1 << _RANK_BITS) or (
        place.size and (place.max() >= 1 << _PLACE_BITS or place.min() < 0)
    ):
        raise ValueError(_BORN_RANGE)
    return ((np.int64(t) + 1) << (_PLACE_BITS + _RANK_BITS)) | (rank << _PLACE_BITS) | place


def born_uids(t: int, places: np.ndarray, counts: dict[int, int]) -> np.ndarray:
    """:func:`born_uid` of births at ``places`` this step, ranked after ``counts`` there.

    :func:`born_ranks` then :func:`born_uid`; for up to 64 places (a few a step, the
    usual case) the two fused on Python ints (exact: each identifier is below 2**63),
    without their dozen numpy calls on arrays of one or two. ``places`` is int64;
    ``counts`` is updated, also when a place or a rank is out of range.
    """
    if places.ndim != 1 or len(places) > 64:  # many at once: the vectorised pair
        return born_uid(t, places, born_ranks(places, counts))
    high = (t + 1) << (_PLACE_BITS + _RANK_BITS)
    where = places.tolist()
    first = dict.fromkeys(where, 1)
    if len(first) == len(where) and counts.keys().isdisjoint(first):
        # Each place's first birth this step (the usual case): rank 0 each, so the
        # identifier is ``high | place``, one array operation for all of them.
        counts.update(first)
        if where and (min(where) < 0 or max(where) >= 1 << _PLACE_BITS):
            raise ValueError(_BORN_RANGE)
        return places | high
    uid, top = [], 0
    for place in where:
        rank = counts.get(place, 0)
        counts[place] = rank + 1
        top = max(top, rank)
        uid.append(high | (rank << _PLACE_BITS) | place)
    if where and (top >= 1 << _RANK_BITS or min(where) < 0 or max(where) >= 1 << _PLACE_BITS):
        raise ValueError(_BORN_RANGE)
    return np.array(uid, np.int64)


def born_ranks(places: np.ndarray, counts: dict[int, int]) -> np.ndarray:
    """Each birth's rank at its place this step, given ``counts`` of births there already.

    ``counts`` (place -> births so far this step) is updated in place.
    """
    rank = []
    for place in np.asarray(places, np.int64).tolist():  # Python ints: a few a step
        r = counts.get(place, 0)
        counts[place] = r + 1
        rank.append(r)
    return np.array(rank, np.int64)


def tie_uid(a, b) -> np.ndarray:
    """The identifier for draws of the tie between schools ``a`` and ``b``: ``lo << 32 | hi``.

    At most one tie joins two schools at a time (:func:`sim.rules.actions.add_ties`
    skips pairs already tied), so the pair names it, whatever its row or kind.
    Vectorised; :func:`tie_uid1` is the same for one pair in compiled loops.
    """
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    return (np.minimum(a, b) << _PLACE_BITS) | np.maximum(a, b)


@jit(inline="always")
def tie_uid1(a, b):
    """:func:`tie_uid` of one pair, for compiled loops."""
    return (min(a, b) << _PLACE_BITS) | max(a, b)


class Growable:
    """A table of equal-length 1-D arrays with a count ``n`` of rows in use.

    Subclasses are dataclasses whose fields are the columns. ``append`` adds
    rows, doubling the capacity when needed; views ``[:n]`` are what rules use.
    """

    n: int

    def _columns(self) -> tuple[str, ...]:
        return _column_names(type(self))

    @property
    def capacity(self) -> int:
        """Rows allocated (at least ``n``)."""
        return len(getattr(self, self._columns()[0]))

    def append(self, **cols: np.ndarray) -> np.ndarray:
        """Add rows given as columns of equal length; return their indices.

        Columns left out are filled with zeros, or -1 for integer id columns
        whose name ends in ``_id``, ``parent`` or ``founder``. A column given
        as a single value gives it to every row (at least one column must be
        an array, which sets the number of rows).

        Rows are only ever appended, so the capacity past ``n`` is kept at
        each column's default (filled so when allocated): only the columns
        given are written.
        """
        names, column_set = _column_info(type(self))
        if not cols.keys() <= column_set:
            raise ValueError(
                f"{type(self).__name__} has no column "
                f"{', '.join(sorted(cols.keys() - set(names)))}; "
                f"its columns: {', '.join(names)}"
            )
        # The columns straight from the instance's dict (a dataclass without slots): a few
        # rows are appended several times a step, and each column is one write.
        columns = self.__dict__
        n = self.n
        need = n + _rows(cols)
        if need > len(columns[names[0]]):
            new_cap = max(need, 2 * len(columns[names[0]]), 16)
            for name in names:
                old = columns[name]
                grown = np.full(new_cap, -1 if _is_id(name) else 0, dtype=old.dtype)
                grown[:n] = old[:n]
                setattr(self, name, grown)
        if need == n + 1:  # one row (the usual case): item writes, a third cheaper than slices
            for name, value in cols.items():
                if isinstance(value, np.ndarray):
                    if value.ndim == 1 and len(value) == 1:
                        value = value[0]
                elif isinstance(value, (list, tuple)) and len(value) == 1:
                    value = value[0]
                columns[name][n] = value
        else:
            for name, value in cols.items():
                columns[name][n:need] = value
        self.n = need
        return np.arange(n, need)


def _rows(cols: dict) -> int:
    """Rows in an append: the length of the first column given per row (array, list, tuple)."""
    for v in cols.values():
        if isinstance(v, np.ndarray):
            if v.ndim:
                return len(v)
        elif isinstance(v, (list, tuple)):
            return len(v)
    raise ValueError("append needs at least one column given per row (an array, list or tuple)")


@functools.cache
def _column_names(cls: type) -> tuple[str, ...]:
    """The column fields of a :class:`Growable` table class (all but ``n``, ``version``, ``_*``)."""
    return tuple(
        f.name for f in fields(cls) if f.name not in ("n", "version") and not f.name.startswith("_")
    )


@functools.cache
def _column_set(cls: type) -> frozenset[str]:
    return frozenset(_column_names(cls))


@functools.cache
def _column_info(cls: type) -> tuple[tuple[str, ...], frozenset[str]]:
    """A table class's column names and their set, in one look-up."""
    return _column_names(cls), _column_set(cls)


def _is_id(name: str) -> bool:
    return name.endswith("_id") or name in ("parent", "founder", "inventor", "trial_end")


@dataclass
class Schools:
    """Per-school state. Slots hold the practices a school runs.

    Attributes:
        authority: index of the school's local authority.
        town: global index of its town.
        phase: one of :data:`PHASES` (index).
        head: index into :class:`Heads` of the school's head (several schools
            may share one: executive heads, federations).
        collab: index of its collaborative, or -1.
        base: logit of the performance the school would have with no practices
            and its initial capacity.
        logit_perf: current performance on the logit scale.
        capacity: collective capacity, 0 to 1 (Fullan's capacity building).
        capacity0: capacity at the start (performance is relative to it).
        budget: discretionary budget relative to normal (1 = normal).
        trial: practice the school is field-trialling, or -1.
        slot_p: practice in each slot, or -1 for an empty slot.
        slot_depth: implementation depth, 0 to 1.
        slot_own: ownership, 0 to 1.
        slot_channel: how the practice came (mandated, chosen, created).
        slot_since: step the practice was taken up.
        slot_obs: running sum of the school's monthly reads of the effect.
        slot_nobs: number of reads in ``slot_obs``.
        slot_source: tie the practice was heard through, or -1.
        cohort: pupils in the school's KS2 cohort (its published result is theirs); 41, about
            England's mean, until the model draws each school's own at the start.
    """

    authority: np.ndarray
    town: np.ndarray
    phase: np.ndarray
    head: np.ndarray
    collab: np.ndarray
    base: np.ndarray
    logit_perf: np.ndarray
    capacity: np.ndarray
    capacity0: np.ndarray
    budget: np.ndarray
    trial: np.ndarray
    slot_p: np.ndarray
    slot_depth: np.ndarray
    slot_own: np.ndarray
    slot_channel: np.ndarray
    slot_since: np.ndarray
    slot_obs: np.ndarray
    slot_nobs: np.ndarray
    slot_source: np.ndarray
    cohort: np.ndarray

    @property
    def n(self) -> int:
        """Number of schools."""
        return len(self.authority)

    @property
    def perf(self) -> np.ndarray:
        """Performance: share of pupils reaching the expected standard, 0 to 1."""
        return 1.0 / (1.0 + np.exp(-self.logit_perf))

    @classmethod
    def empty(cls, n: int, n_slots: int) -> Schools:
        """Allocate state for ``n`` schools with ``n_slots`` slots, all slots empty."""
        z = np.zeros
        return cls(
            authority=z(n, np.int32),
            town=z(n, np.int32),
            phase=z(n, np.int8),
            head=np.arange(n, dtype=np.int64),
            collab=np.full(n, EMPTY, np.int64),
            base=z(n),
            logit_perf=z(n),
            capacity=z(n),
            capacity0=z(n),
            budget=np.ones(n),
            trial=np.full(n, EMPTY, np.int64),
            slot_p=np.full((n, n_slots), EMPTY, np.int64),
            slot_depth=z((n, n_slots)),
            slot_own=z((n, n_slots)),
            slot_channel=z((n, n_slots), np.int8),
            slot_since=z((n, n_slots), np.int32),
            slot_obs=z((n, n_slots)),
            slot_nobs=z((n, n_slots)),
            slot_source=np.full((n, n_slots), EMPTY, np.int64),
            cohort=np.full(n, 41, np.int64),
        )

    def filled(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The slots in use: flat positions (into ``slot_*.ravel()``), schools, practices.

        The slot arrays are C-contiguous, so ``slot_*.ravel()`` is a view and
        writes through it reach the slots. Positions come in row-major order.
        """
        at = np.flatnonzero(self.slot_p != EMPTY)
        k = self.slot_p.shape[1]
        return at, (at // k if k > 1 else at), self.slot_p.ravel()[at]

    def clear_slots(self, rows: np.ndarray, cols: np.ndarray) -> None:
        """Empty the given (school, slot) pairs (no practice, depth, ownership, reads or source).

        For setting up a state by hand; a rule drops practice through
        :func:`sim.rules.actions.drop`, which also costs the source tie trust.
        """
        clear_slot_pairs(
            np.asarray(rows, np.int64),
            np.asarray(cols, np.int64),
            self.slot_p,
            self.slot_depth,
            self.slot_own,
            self.slot_obs,
            self.slot_nobs,
            self.slot_source,
        )


@jit
def clear_slot_pairs(rows, cols, slot_p, depth, own, obs, nobs, source):
    """Empty the (school, slot) pairs ``rows, cols`` in place: the one way a slot is emptied."""
    for x in range(len(rows)):
        i, j = rows[x], cols[x]
        slot_p[i, j] = EMPTY
        depth[i, j] = 0.0
        own[i, j] = 0.0
        obs[i, j] = 0.0
        nobs[i, j] = 0.0
        source[i, j] = EMPTY


@dataclass
class Heads(Growable):
    """Per-head state: every head who ever led a school.

    Attributes:
        openness: chance to consider an idea heard of, 0 to 1.
        ingenuity: multiplier of the invention rate (mean 1).
        appetite: appetite for system leadership, 0 to 1.
        start: step the head took up post.
        active: still in post.
        uid: the head's identifier for random draws (:func:`born_uid`: the school
            first led and the step appointed), the same whatever other heads came
            and went before: a row index is not.
    """

    n: int
    openness: np.ndarray
    ingenuity: np.ndarray
    appetite: np.ndarray
    start: np.ndarray
    active: np.ndarray
    uid: np.ndarray

    @classmethod
    def empty(cls) -> Heads:
        """An empty table."""
        return cls(
            0,
            np.zeros(0),
            np.zeros(0),
            np.zeros(0),
            np.zeros(0, np.int32),
            np.zeros(0, bool),
            np.zeros(0, np.int64),
        )


@dataclass
class Practices(Growable):
    """Per-practice state: every practice ever known.

    The true ``effect`` is never read by an agent's decision: heads and the
    centre see only noisy reads of it (``sim.rules``).

    Attributes:
        effect: true effect on the logit of performance at full depth.
        cost: yearly running cost, as a share of a school's discretionary budget.
        difficulty: implementation difficulty, 0 to 1 (load on capacity).
        domain: domain index (coherence is depth concentrated in one domain).
        origin: centre or practitioner (:data:`ORIGINS`).
        stage: life-cycle stage (:data:`STAGES`).
        born: step it was invented (negative for those known at the start).
        parent: the practice it adapted, or -1.
        inventor: school that invented it, or -1.
        ev_mean: published evidence: estimated effect.
        ev_prec: published evidence: precision (1 / variance); 0 means none.
        trial_end: step its field trial ends, or -1.
        trial_base: the comparator of its field trial: the mean true effect of the
            practices it displaced at the trial sites (0 where it filled an empty
            slot), set when the trial starts (:mod:`sim.rules.strategies.field_trials`).
        uid: the practice's identifier for random draws (:func:`born_uid`: its
            inventor and the step; its row for those known at the start), the same
            whatever else was invented before it: a row index is not.
    """

    n: int
    effect: np.ndarray
    cost: np.ndarray
    difficulty: np.ndarray
    domain: np.ndarray
    origin: np.ndarray
    stage: np.ndarray
    born: np.ndarray
    parent: np.ndarray
    inventor: np.ndarray
    ev_mean: np.ndarray
    ev_prec: np.ndarray
    trial_end: np.ndarray
    uid: np.ndarray
    trial_base: np.ndarray

    @classmethod
    def empty(cls) -> Practices:
        """An empty table."""
        f, i = np.float64, np.int64
        return cls(
            0,
            *(np.zeros(0, t) for t in (f, f, f, np.int8, np.int8, np.int8, i, i, i, f, f, i, i, f)),
        )


@dataclass
class Ties(Growable):
    """Per-tie state: lateral ties between schools (undirected, one row each).

    Attributes:
        a, b: the two schools.
        kind: :data:`TIE_KINDS` index.
        trust: 0 to 1; grows with useful exchanges (Fullan's trust).
        alive: false once lapsed or dissolved.
        formal: part of a formalised collaborative (does not lapse).
        version: counts changes to the set of ties in force (rows appended,
            ties lapsed through :func:`sim.rules.actions.kill_ties`), so a cache of
            the tie graph (e.g. :func:`sim.rules.classic.adjacency`) knows
            exactly when to rebuild. Change ``alive`` only through those.
    """

    n: int
    a: np.ndarray
    b: np.ndarray
    kind: np.ndarray
    trust: np.ndarray
    alive: np.ndarray
    formal: np.ndarray
    version: int = 0
    _n_alive: tuple[int, int] = field(default=(-1, 0), repr=False, compare=False)

    @classmethod
    def empty(cls) -> Ties:
        """An empty table."""
        return cls(
            0,
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int8),
            np.zeros(0),
            np.zeros(0, bool),
            np.zeros(0, bool),
        )

    def append(self, **cols: np.ndarray) -> np.ndarray:
        """Add ties (see :meth:`Growable.append`); the graph's ``version`` moves on."""
        self.version += 1
        return super().append(**cols)

    def n_alive(self) -> int:
        """Number of ties in force (counted again only when ``version`` moves)."""
        if self._n_alive[0] != self.version:
            self._n_alive = (self.version, int(np.count_nonzero(self.alive[: self.n])))
        return self._n_alive[1]

    def alive_index(self) -> np.ndarray:
        """Indices of ties in force."""
        return np.flatnonzero(self.alive[: self.n])


_FREE, _GONE = -1, -2  # KeySet's marks: a place never used, a removed key's place


class KeySet:
    """A set of non-negative integer keys in a numpy table, for compiled loops.

    Which pairs of schools are tied (key ``lo * n + hi``): :func:`sim.rules.actions.add_ties`
    asks, for each proposed tie in turn, whether the pair is tied already and
    records it if not. A Python ``set`` did that at a microsecond a key; this
    is open addressing (linear probing, multiplicative hashing) in an array,
    so the whole batch is one compiled loop, and the model stays picklable.
    Removed keys leave a marker until the table is rebuilt.
    """

    def __init__(self, keys: np.ndarray | None = None) -> None:
        self.table = np.full(16, _FREE, np.int64)
        self.n_used = 0  # keys present
        self.n_gone = 0  # markers of removed keys
        if keys is not None:
            self.add_new(np.asarray(keys, np.int64))

    def __len__(self) -> int:
        return self.n_used

    def __contains__(self, key: int) -> bool:
        return bool(_keys_find(self.table, np.array([key], np.int64))[0] >= 0)

    def _room_for(self, m: int) -> None:
        """Rebuild the table, larger if need be, so ``m`` more keys keep it at most half full."""
        if 2 * (self.n_used + self.n_gone + m) <= len(self.table):
            return
        cap = len(self.table)
        while 2 * (self.n_used + m) > cap // 2:  # a quarter full at most, after rebuilding
            cap *= 2
        old = self.table[self.table >= 0]
        self.table = np.full(cap, _FREE, np.int64)
        self.n_gone = 0
        _keys_add(self.table, old, np.zeros(len(old), np.bool_))

    def add_new(self, keys: np.ndarray, skip: np.ndarray | None = None) -> np.ndarray:
        """Add keys in order; True for each that was absent (and not skipped), so added now.

        A key repeated in ``keys`` is new only the first time. ``skip``: keys
        to leave out (the answer for them is False).
        """
        keys = np.asarray(keys, np.int64)
        self._room_for(len(keys))
        skip = np.zeros(len(keys), np.bool_) if skip is None else np.asarray(skip, np.bool_)
        fresh = _keys_add(self.table, keys, skip)
        self.n_used += int(np.count_nonzero(fresh))
        return fresh

    def add_pairs(
        self, a: np.ndarray, b: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Add unordered pairs in order as keys ``lo * n + hi``; loops (``a == b``) are skipped.

        Returns the positions of the pairs added now (absent before, first
        time in the list) and their ends, low and high. The same as
        ``np.flatnonzero(add_new(lo * n + hi, skip=lo == hi))``.
        """
        self._room_for(len(a))
        at, lo, hi = _pairs_add(self.table, np.asarray(a, np.int64), np.asarray(b, np.int64), n)
        self.n_used += len(at)
        return at, lo, hi

    def discard(self, keys: np.ndarray) -> None:
        """Remove keys (absent ones are ignored)."""
        at = _keys_find(self.table, np.asarray(keys, np.int64))
        at = np.unique(at[at >= 0])
        self.table[at] = _GONE
        self.removed(len(at))

    def reserve(self, m: int) -> None:
        """Make room for ``m`` more keys, for a compiled loop that adds them to :attr:`table`.

        The loop adds with :func:`pairs_add_rows` (or ``_insert``); its caller then
        counts them (:meth:`added`).
        """
        self._room_for(m)

    def added(self, count: int) -> None:
        """Count ``count`` keys a compiled loop added to the table (after :meth:`reserve`)."""
        self.n_used += count

    def removed(self, count: int) -> None:
        """Count ``count`` keys a compiled loop removed from the table (:func:`discard_key`)."""
        self.n_used -= count
        self.n_gone += count


_U64 = 0xFFFF_FFFF_FFFF_FFFF


def wrapping_mul(a, b):
    """The product of two uint64 values modulo 2**64, as the hardware gives it.

    Fibonacci hashing needs the product to wrap. Compiled, the multiply wraps
    silently; run as Python (``NUMBA_DISABLE_JIT=1``) numpy's uint64 scalars
    warn "overflow encountered in scalar multiply" on every hash, so this
    Python form multiplies Python integers and masks to 64 bits instead; the
    compiled form (the overload below) is the plain machine multiply. Same
    value both ways.
    """
    return np.uint64((int(a) * int(b)) & _U64)


@overload(wrapping_mul, jit_options={"cache": True})
def _wrapping_mul_compiled(a, b):
    def impl(a, b):
        return np.uint64(a) * np.uint64(b)

    return impl


@jit(inline="always")
def _key_slot(key, mask):
    """A key's first place to look: Fibonacci hashing of the key, masked to the table."""
    h = wrapping_mul(np.uint64(key), np.uint64(0x9E3779B97F4A7C15))
    return np.int64(h >> np.uint64(17)) & mask


@jit(inline="always")
def _insert(table, key, mask):
    """Put ``key`` in ``table`` unless it is there (reusing a removed key's place); True if put."""
    at = _key_slot(key, mask)
    first_gone = -1
    while table[at] != _FREE and table[at] != key:
        if table[at] == _GONE and first_gone < 0:
            first_gone = at
        at = (at + 1) & mask
    if table[at] == key:
        return False
    table[first_gone if first_gone >= 0 else at] = key
    return True


@jit
def _keys_add(table, keys, skip):
    """Insert keys absent from ``table`` in order; True where one was inserted."""
    mask = len(table) - 1
    fresh = np.zeros(len(keys), np.bool_)
    for x in range(len(keys)):
        fresh[x] = not skip[x] and _insert(table, keys[x], mask)
    return fresh


@jit
def _pairs_add(table, a, b, n):
    """:meth:`KeySet.add_pairs`' loop: each pair's ``min * n + max``, unless there or a loop."""
    mask = len(table) - 1
    at = np.empty(len(a), np.int64)
    lo = np.empty(len(a), np.int64)
    hi = np.empty(len(a), np.int64)
    m = 0
    for x in range(len(a)):
        low, high = min(a[x], b[x]), max(a[x], b[x])
        if low == high:
            continue
        if not _insert(table, low * n + high, mask):
            continue
        at[m], lo[m], hi[m] = x, low, high
        m += 1
    return at[:m], lo[:m], hi[:m]


@jit
def pairs_add_rows(
    table, a, b, n, kinds, each, kind, trust, formal, ta, tb, tkind, ttrust, alive, tformal, start
):
    """:meth:`KeySet.add_pairs` and :meth:`Ties.append` of the pairs added, in one loop.

    Each pair absent from ``table`` (and not a loop) is added as :func:`_pairs_add`
    adds it and written as the next row of the tie table from row ``start`` on: its
    ends low and high, its kind (``kinds[x]`` if ``each``, else ``kind``), ``trust``,
    alive, ``formal``. The table must have room for every pair. Returns the rows
    written. :func:`sim.rules.actions.add_ties` calls it (its numpy form is those two
    calls).
    """
    mask = len(table) - 1
    r = start
    for x in range(len(a)):
        low, high = min(a[x], b[x]), max(a[x], b[x])
        if low == high:
            continue
        if not _insert(table, low * n + high, mask):
            continue
        ta[r] = low
        tb[r] = high
        tkind[r] = kinds[x] if each else kind
        ttrust[r] = trust
        alive[r] = True
        tformal[r] = formal
        r += 1
    return r - start


@jit(inline="always")
def _find(table, key, mask):
    """Where ``key`` sits in ``table``, or -1 if absent: linear probing from :func:`_key_slot`."""
    at = _key_slot(key, mask)
    while table[at] != _FREE:
        if table[at] == key:
            return at
        at = (at + 1) & mask
    return -1


@jit
def _keys_find(table, keys):
    """Where each key sits in ``table``, or -1 if absent."""
    mask = len(table) - 1
    out = np.empty(len(keys), np.int64)
    for x in range(len(keys)):
        out[x] = _find(table, keys[x], mask)
    return out


@jit(inline="always")
def discard_key(table, key):
    """:meth:`KeySet.discard` of one key, for a compiled loop over a set's ``table``.

    Marks ``key`` removed; True if it was there (a key met again is not: it is
    removed already). The loop's caller hands the count of True to
    :meth:`KeySet.removed`.
    """
    at = _find(table, key, len(table) - 1)
    if at < 0:
        return False
    table[at] = _GONE
    return True


@dataclass
class Authorities:
    """Per-authority state.

    Attributes:
        budget: budget relative to normal (1 = normal); cut by shocks.
        stance: 0 administer, 1 animate, 2 absent (set by the strategy).
        facilitation: facilitation capacity, 0 to 1, from the stance.
    """

    budget: np.ndarray
    stance: np.ndarray
    facilitation: np.ndarray

    @property
    def n(self) -> int:
        """Number of authorities."""
        return len(self.budget)


STANCES = ("administer", "animate", "absent")
ADMINISTER, ANIMATE, ABSENT = range(3)


@dataclass
class Collaboratives(Growable):
    """Per-collaborative state.

    Attributes:
        founder: head who founded it.
        formal: formalised as a trust, federation or collegiate academy.
        alive: still in existence.
        born: step it was founded.
        uid: its identifier for random draws (:func:`born_uid`: the founder's
            school and the step).
    """

    n: int
    founder: np.ndarray
    formal: np.ndarray
    alive: np.ndarray
    born: np.ndarray
    uid: np.ndarray

    @classmethod
    def empty(cls) -> Collaboratives:
        """An empty table."""
        return cls(
            0,
            np.zeros(0, np.int64),
            np.zeros(0, bool),
            np.zeros(0, bool),
            np.zeros(0, np.int32),
            np.zeros(0, np.int64),
        )
