"""Primitive changes of state that several rules share.

Rules decide *whether* something happens; these functions carry it out the one
way it is done everywhere: a school taking up a practice, a practice being
invented, a tie forming, a head being replaced, the centre's evidence being
published. Keeping them here means a rule never writes the slot arrays by hand.

Where the work is a loop, it has two forms side by side, as every rule's has: a
readable numpy function (``take_up_slots``) and its compiled kernel
(``take_up_slots_compiled``), which does the same arithmetic in the same order
(``tests/test_numpy_forms.py`` checks them bit for bit). The public functions
(:func:`take_up`, :func:`drop`, :func:`slot_value`...) run the kernel, or the
numpy form when the run says ``compiled: false``. Compiled rules call the
kernels directly (a kernel calls kernels); their numpy forms call the numpy ones.
The inline helpers :func:`value_of`, :func:`is_protected`, :func:`cost_weight` and
:func:`runs_practice` are the single-slot formulas compiled loops share; their
numpy forms are :func:`slot_values`, :func:`protected` and numpy's own
expressions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.core.jit import jit
from sim.core.numerics import member_of
from sim.core.state import (
    ABANDONED,
    CHOSEN,
    COLLAB,
    CREATED,
    EMPTY,
    EXECUTIVE,
    IDEA,
    MANDATED,
    PRACTITIONER,
    PROVEN,
    clear_slot_pairs,
    discard_key,
    pairs_add_rows,
)

if TYPE_CHECKING:
    from sim.core.registry import ModelLike


def slot_value(model: ModelLike, rows: np.ndarray | None = None) -> np.ndarray:
    """Each slot's value as its school sees it: estimated effect net of cost.

    The estimate pools the school's own monthly reads of the practice (kept in
    ``slot_obs``) with a sceptical prior and, weighted by the evidence lever,
    the published evidence: with precisions ``nobs / sd_obs^2`` (own reads),
    ``lever_evidence * ev_prec`` (evidence) and ``1 / sd_prior^2`` (prior, at
    0), the estimate is ``(obs / sd_obs^2 + lever * ev_prec * ev_mean) /
    (sum of precisions)``; the value is that less ``rel_cost * cost /
    budget``. Empty slots are worth ``-inf``. With ``rows``, only those
    schools' rows (same values, computed for them alone).
    """
    return value_and_protection(model, rows)[0]


def protected_slots(model: ModelLike, rows: np.ndarray | None = None) -> np.ndarray:
    """Slots a school may not drop or replace now.

    A practice taken up less than ``dur_commit`` months ago (a school gives a
    practice time through the implementation dip), and a mandated practice
    while its mandate stands. With ``rows``, only those schools' rows.
    """
    return value_and_protection(model, rows)[1]


def value_and_protection(
    model: ModelLike, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`slot_value` and :func:`protected_slots` of the same rows, in one pass."""
    rows = np.arange(model.schools.n) if rows is None else np.asarray(rows, np.int64)
    form = values_and_protection_compiled if model.p.compiled else values_and_protection
    return form(value_inputs(model), rows, protection_inputs(model))


class ValueInputs(NamedTuple):
    """What valuing a slot reads (:func:`value_of`), as one bundle for compiled loops.

    Attributes:
        slot_p: practice in each school's slot (-1 empty), schools x slots.
        obs: sum of the school's own reads of the slot's practice, times months.
        nobs: months of reads behind ``obs``.
        budget: each school's budget (1 is the national mean).
        ev_prec: published evidence's precision, per practice (0: none).
        ev_mean: published evidence's estimate of effect, per practice.
        cost: each practice's yearly cost, in budget units.
        sd2: variance of one month's read (``model.sd_observe_eff ** 2``).
        lever: the evidence lever, 0 to 1: the weight given to published evidence.
        prec0: the sceptical prior's precision (``1 / sd_prior ** 2``).
        rel_cost: weight of cost against effect.
    """

    slot_p: np.ndarray
    obs: np.ndarray
    nobs: np.ndarray
    budget: np.ndarray
    ev_prec: np.ndarray
    ev_mean: np.ndarray
    cost: np.ndarray
    sd2: float
    lever: float
    prec0: float
    rel_cost: float


class ProtectionInputs(NamedTuple):
    """What :func:`is_protected` reads besides a slot's own, as one bundle.

    Attributes:
        since: step each slot's practice was taken up, schools x slots.
        channel: how each slot's practice came (mandated, chosen, created).
        t: steps done.
        dur_step: months a step lasts.
        dur_commit: months a school keeps a practice before it may drop it.
        mandates: practices under a standing mandate.
    """

    since: np.ndarray
    channel: np.ndarray
    t: int
    dur_step: float
    dur_commit: float
    mandates: np.ndarray


def value_inputs(model: ModelLike) -> ValueInputs:
    """What valuing a slot reads (:class:`ValueInputs`), for the loops that value slots."""
    s, pr, p = model.schools, model.practices, model.p
    return ValueInputs(
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
    )


def protection_inputs(model: ModelLike) -> ProtectionInputs:
    """What protecting a slot reads besides the slot's own (:class:`ProtectionInputs`)."""
    s, p = model.schools, model.p
    return ProtectionInputs(
        s.slot_since,
        s.slot_channel,
        model.t,
        p.dur_step,
        p.dur_commit,
        np.asarray(model.mandates, np.int64),
    )


#: Smallest budget a cost is divided by. A school whose discretionary budget is cut
#: to nothing (``share_budget_cut: 1``) can afford nothing new: each practice with a
#: running cost then weighs as at a budget of a billionth of normal, far below any
#: threshold, so it is neither taken up nor kept, and nothing divides by zero.
MIN_BUDGET = 1e-9


@jit(inline="always")
def cost_weight(rel_cost, cost, budget):
    """Weight of a yearly cost against a judged effect: ``rel_cost * cost / budget``.

    A budget at or below :data:`MIN_BUDGET` counts as :data:`MIN_BUDGET` (a school
    with no budget can afford nothing that costs; a free practice stays free).
    """
    return rel_cost * cost / max(budget, MIN_BUDGET)


@jit(inline="always")
def value_of(pid, obs, nobs, budget, ev_prec, ev_mean, cost, sd2, lever, prec0, rel_cost):
    """The value of one slot (:func:`slot_value` says what) for compiled loops; -inf if empty.

    ``pid``, ``obs``, ``nobs``: the slot's practice and reads; ``budget``: its
    school's; the rest as :func:`value_inputs` gives them. (Slot and school
    are passed as values, not as arrays and indices: numba compiles a helper
    handed 2-D arrays into a loop ten times slower.)
    """
    if pid == EMPTY:
        return -np.inf
    prec_obs = nobs / sd2
    prec_pub = lever * ev_prec[pid]
    est = (obs / sd2 + prec_pub * ev_mean[pid]) / (prec_obs + prec_pub + prec0)
    return est - cost_weight(rel_cost, cost[pid], budget)


def slot_values(values: ValueInputs, rows: np.ndarray) -> np.ndarray:
    """Each slot's value as its school sees it, for the schools ``rows`` (rows x slots).

    The numpy form of :func:`value_of`, row by row: the estimated effect pools the
    school's own reads, the published evidence (weighted by the evidence lever)
    and a sceptical prior at 0, each by its precision; the value is that less the
    cost's weight over the budget (at least :data:`MIN_BUDGET`). An empty slot is
    worth ``-inf``.
    """
    v = values
    pid = v.slot_p[rows]
    safe = np.maximum(pid, 0)  # a valid index even for empty slots (masked below)
    prec_pub = v.lever * v.ev_prec[safe]  # precision of the published evidence
    estimate = (v.obs[rows] / v.sd2 + prec_pub * v.ev_mean[safe]) / (
        v.nobs[rows] / v.sd2 + prec_pub + v.prec0
    )
    value = estimate - v.rel_cost * v.cost[safe] / np.maximum(v.budget[rows], MIN_BUDGET)[:, None]
    return np.where(pid == EMPTY, -np.inf, value)


def protected(protection: ProtectionInputs, slot_p: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Which slots of the schools ``rows`` may not be dropped or replaced now (rows x slots).

    The numpy form of :func:`is_protected`: a practice taken up less than
    ``dur_commit`` months ago, and a mandated practice while its mandate stands.
    """
    pr = protection
    pid = slot_p[rows]
    young = (pr.t - pr.since[rows]) * pr.dur_step < pr.dur_commit
    standing = (pr.channel[rows] == MANDATED) & np.isin(pid, pr.mandates)
    return (pid != EMPTY) & (young | standing)


def values_and_protection(
    values: ValueInputs, rows: np.ndarray, protection: ProtectionInputs
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`slot_values` and :func:`protected` of the schools ``rows`` (numpy form)."""
    return slot_values(values, rows), protected(protection, values.slot_p, rows)


@jit
def values_and_protection_compiled(values, rows, protection):
    """:func:`values_and_protection`, compiled: :func:`value_of` and :func:`is_protected` per slot.

    ``values`` and ``protection``: :class:`ValueInputs` and :class:`ProtectionInputs`.
    """
    v, pr = values, protection
    k = v.slot_p.shape[1]
    value = np.empty((len(rows), k))
    keep = np.zeros((len(rows), k), np.bool_)
    for r in range(len(rows)):
        i = rows[r]
        for j in range(k):
            value[r, j] = value_at(v, v.slot_p[i, j], i, j)
            keep[r, j] = protected_at(pr, v.slot_p[i, j], i, j)
    return value, keep


@jit(inline="always")
def runs_practice(slot_p, i, pid):
    """Whether school ``i`` runs ``pid`` (``row_any(slot_p == pid)[i]``), for compiled loops."""
    runs = False
    for j in range(slot_p.shape[1]):
        runs |= slot_p[i, j] == pid
    return runs


@jit(inline="always")
def is_protected(pid, channel, since, t, dur_step, dur_commit, mandates):
    """Whether one slot is protected (:func:`protected_slots` says when), for compiled loops."""
    if pid == EMPTY:
        return False
    standing = False
    if channel == MANDATED:
        for q in mandates:
            standing |= q == pid
    return (t - since) * dur_step < dur_commit or standing


@jit(inline="always")
def value_at(values, pid, i, j):
    """:func:`value_of` of school ``i``'s slot ``j`` holding ``pid``, read from ``values``.

    ``values``: :class:`ValueInputs`. Inlined where it is called, so a compiled loop
    reads the slot as if :func:`value_of` were called with the values written out.
    """
    v = values
    return value_of(
        pid,
        v.obs[i, j],
        v.nobs[i, j],
        v.budget[i],
        v.ev_prec,
        v.ev_mean,
        v.cost,
        v.sd2,
        v.lever,
        v.prec0,
        v.rel_cost,
    )


@jit(inline="always")
def protected_at(protection, pid, i, j):
    """:func:`is_protected` of school ``i``'s slot ``j`` holding ``pid`` (inlined).

    ``protection``: :class:`ProtectionInputs`.
    """
    pr = protection
    return is_protected(
        pid, pr.channel[i, j], pr.since[i, j], pr.t, pr.dur_step, pr.dur_commit, pr.mandates
    )


def decided_by_rules(model: ModelLike, school: np.ndarray) -> np.ndarray:
    """Which of these schools' heads the rules choose for now (a mask over ``school``).

    All of them, except while a step runs for a school a participant holds
    (:meth:`sim.model.model.NextPracticeModel.hold`): that head's own choices,
    taking up practice heard of, dropping practice and inventing, are the
    participant's, made between steps through these same actions. What others
    decide (the centre's mandates and field trials) is not gated.
    """
    school = np.asarray(school, np.int64)
    held = getattr(model, "held", None)
    if held is None or not getattr(model, "in_step", False) or not held.any():
        return np.ones(len(school), bool)
    return ~held[school]


def _any_held(model: ModelLike) -> bool:
    """Whether a step runs with a school held (else :func:`decided_by_rules` is all True)."""
    held = getattr(model, "held", None)
    return held is not None and getattr(model, "in_step", False) and bool(held.any())


def take_up(
    model: ModelLike,
    school: np.ndarray,
    practice: np.ndarray,
    channel: int,
    source: np.ndarray | None = None,
) -> np.ndarray:
    """Schools take up practices: each pair goes into an empty slot or the worst one.

    A school already running the practice is left as it is. With no empty
    slot, the practice replaces the slot the school values least, unless that
    slot is protected by a standing mandate (then nothing happens). At most
    one take-up per school per call: later duplicates of a school are ignored.
    Starting ownership is set by the channel (mandated, chosen, created).

    Returns:
        Boolean mask over the pairs: which were taken up.
    """
    s, p = model.schools, model.p
    school = np.asarray(school, np.int64)
    if len(school) == 0:
        return np.zeros(0, bool)
    # A head's own choice: a participant's, for a school they hold (none held: no mask).
    if channel == CHOSEN and _any_held(model):
        mine = decided_by_rules(model, school)
        if not mine.all():
            ok = np.zeros(len(school), bool)
            at = np.flatnonzero(mine)
            src = None if source is None else np.asarray(source, np.int64)[at]
            ok[at] = take_up(model, school[at], np.asarray(practice, np.int64)[at], channel, src)
            return ok
    if channel == CREATED:  # the channel's starting ownership (no dict built each call)
        own = p.init_own_created
    elif channel == CHOSEN:
        own = p.init_own_chosen
    elif channel == MANDATED:
        own = p.init_own_mandated
    else:
        raise KeyError(channel)
    source = (
        np.full(len(school), EMPTY, np.int64) if source is None else np.asarray(source, np.int64)
    )
    practice = np.asarray(practice, np.int64)
    if p.compiled:  # plain arrays: cheaper to call than with the two bundles
        ok = take_up_pairs_compiled(
            school,
            practice,
            source,
            own,
            channel,
            s.slot_depth,
            s.slot_own,
            s.slot_source,
            s.slot_p,
            s.slot_obs,
            s.slot_nobs,
            s.budget,
            model.practices.ev_prec,
            model.practices.ev_mean,
            model.practices.cost,
            model.sd_observe_eff**2,
            p.lever_evidence,
            1.0 / p.sd_prior**2,
            p.rel_cost,
            s.slot_since,
            s.slot_channel,
            model.t,
            p.dur_step,
            p.dur_commit,
            np.asarray(model.mandates, np.int64),
        )
    else:
        ok = take_up_slots(
            school,
            practice,
            source,
            own,
            channel,
            s.slot_depth,
            s.slot_own,
            s.slot_source,
            value_inputs(model),
            protection_inputs(model),
        )
    model.counts["adoptions"] += int(np.count_nonzero(ok))
    return ok


def take_up_slots(
    school: np.ndarray,
    practice: np.ndarray,
    source: np.ndarray,
    own: float,
    channel: int,
    depth: np.ndarray,
    own_a: np.ndarray,
    source_a: np.ndarray,
    values: ValueInputs,
    protection: ProtectionInputs,
) -> np.ndarray:
    """:func:`take_up`'s pairs in order, into the slot arrays; True for those taken up.

    A school seen earlier in the list, or already running the practice, is
    passed over. A school with an empty slot fills its first one; a full
    school replaces the slot it values least among those not protected (the
    first if tied), or nothing if every slot is protected. The slot starts
    afresh: no depth, no reads, ownership ``own``, the channel, this step,
    and the source tie. ``values`` and ``protection`` are :func:`value_inputs`
    and :func:`protection_inputs` (the slot arrays among them are written too).
    """
    slot_p, t = values.slot_p, protection.t
    ok = np.zeros(len(school), bool)
    seen = set()
    for x, (i, pid) in enumerate(zip(school.tolist(), practice.tolist(), strict=True)):
        if i in seen or pid in slot_p[i]:  # one take-up per school; none of what it runs
            seen.add(i)
            continue
        seen.add(i)
        empty = np.flatnonzero(slot_p[i] == EMPTY)
        if len(empty):
            col = empty[0]
        else:  # full: the least valued slot it may replace
            row = np.array([i])
            value = np.where(
                protected(protection, slot_p, row)[0], np.inf, slot_values(values, row)[0]
            )
            col = int(np.argmin(value))
            if value[col] == np.inf:
                continue
        slot_p[i, col], depth[i, col], own_a[i, col] = pid, 0.0, own
        protection.channel[i, col], protection.since[i, col] = channel, t
        values.obs[i, col], values.nobs[i, col], source_a[i, col] = 0.0, 0.0, source[x]
        ok[x] = True
    return ok


@jit
def take_up_slots_compiled(
    school, practice, source, own, channel, depth, own_a, source_a, values, protection
):
    """:func:`take_up_slots`, compiled: one loop over the pairs, in order.

    Compiled rules that take up practice call this (a kernel calls kernels;
    rules in Python call :func:`take_up`, which counts the adoptions). A full
    school replaces its least valued unprotected slot: ``argmin`` over
    :func:`value_of` with protected slots (:func:`is_protected`) at +inf.
    """
    v, pr = values, protection
    slot_p = v.slot_p
    n, k = slot_p.shape
    ok = np.zeros(len(school), np.bool_)
    seen = np.zeros(n, np.bool_)
    for x in range(len(school)):
        i, pid = school[x], practice[x]
        if seen[i]:
            continue
        seen[i] = True
        col = -1
        runs = False
        for j in range(k):
            runs |= slot_p[i, j] == pid
            if col < 0 and slot_p[i, j] == EMPTY:
                col = j
        if runs:
            continue
        if col < 0:  # full: the least valued slot it may replace
            best = np.inf
            for j in range(k):
                q = slot_p[i, j]
                if protected_at(pr, q, i, j):
                    continue
                value = value_at(v, q, i, j)
                if value < best:
                    best, col = value, j
            if col < 0:
                continue
        slot_p[i, col] = pid
        depth[i, col] = 0.0
        own_a[i, col] = own
        pr.channel[i, col] = channel
        pr.since[i, col] = pr.t
        v.obs[i, col] = 0.0
        v.nobs[i, col] = 0.0
        source_a[i, col] = source[x]
        ok[x] = True
    return ok


@jit
def take_up_pairs_compiled(
    school,
    practice,
    source,
    own,
    channel,
    depth,
    own_a,
    source_a,
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
    t,
    dur_step,
    dur_commit,
    mandates,
):
    """:func:`take_up_slots_compiled` called with the fields of its two bundles as arrays.

    The bundles (:class:`ValueInputs`: ``slot_p`` to ``rel_cost``;
    :class:`ProtectionInputs`: ``since`` to ``mandates``) are made inside the
    kernel: a call with plain arguments costs less than one with named tuples.
    """
    values = ValueInputs(
        slot_p, obs, nobs, budget, ev_prec, ev_mean, cost, sd2, lever, prec0, rel_cost
    )
    protection = ProtectionInputs(since, channel_a, t, dur_step, dur_commit, mandates)
    return take_up_slots_compiled(
        school, practice, source, own, channel, depth, own_a, source_a, values, protection
    )


def drop(model: ModelLike, rows: np.ndarray, cols: np.ndarray) -> None:
    """Schools drop practices. A practice heard of through a tie costs that tie trust."""
    s = model.schools
    if _any_held(model):  # else the rules decide for every school (no mask to build)
        mine = decided_by_rules(model, rows)
        if not mine.all():  # a participant keeps or drops a held school's practice
            rows, cols = np.asarray(rows, np.int64)[mine], np.asarray(cols, np.int64)[mine]
    model.counts["drops"] += len(rows)
    if len(rows):
        form = drop_slots_compiled if model.p.compiled else drop_slots
        form(
            np.asarray(rows, np.int64),
            np.asarray(cols, np.int64),
            s.slot_p,
            s.slot_depth,
            s.slot_own,
            s.slot_obs,
            s.slot_nobs,
            s.slot_source,
            model.ties.trust,
            1.0 - model.p.rate_trust,
        )


def drop_slots(rows, cols, slot_p, depth, own, obs, nobs, source, trust, keep) -> None:
    """Empty the slots ``(rows, cols)``; each one's source tie keeps ``keep`` of its trust.

    A tie that is the source of two dropped slots loses trust once: numpy's
    ``trust[src] *= keep`` reads every product before it writes any.
    """
    src = source[rows, cols]
    src = src[src >= 0]
    trust[src] *= keep
    slot_p[rows, cols] = EMPTY
    for a in (depth, own, obs, nobs):
        a[rows, cols] = 0.0
    source[rows, cols] = EMPTY


@jit
def drop_slots_compiled(rows, cols, slot_p, depth, own, obs, nobs, source, trust, keep):
    """:func:`drop_slots`, compiled: trust first (every product read before any is written)."""
    m = len(rows)
    src = np.empty(m, np.int64)
    new = np.empty(m)
    for x in range(m):
        src[x] = source[rows[x], cols[x]]
        new[x] = trust[max(src[x], 0)] * keep
    for x in range(m):
        if src[x] >= 0:
            trust[src[x]] = new[x]
    clear_slot_pairs(rows, cols, slot_p, depth, own, obs, nobs, source)


def invent(
    model: ModelLike,
    school: np.ndarray,
    effect: np.ndarray,
    cost: np.ndarray,
    difficulty: np.ndarray,
    domain: np.ndarray,
    parent: np.ndarray,
) -> np.ndarray:
    """Record new practices invented by ``school`` (stage idea) and let the inventors run them."""
    mine = decided_by_rules(model, school) if _any_held(model) else None
    if mine is not None and not mine.all():  # a participant's own ideas for a held school
        school, effect, cost, difficulty, domain, parent = (
            np.asarray(a)[mine] for a in (school, effect, cost, difficulty, domain, parent)
        )
        if len(school) == 0:
            return np.zeros(0, np.int64)
    idx = model.practices.append(
        effect=effect,
        cost=cost,
        difficulty=difficulty,
        domain=domain,
        origin=PRACTITIONER,
        stage=IDEA,
        born=model.t,
        parent=parent,
        inventor=school,
        ev_mean=0.0,
        ev_prec=0.0,
        uid=model.born("practices", school),
    )
    take_up(model, school, idx, CREATED)
    return idx


def publish_evidence(
    model: ModelLike,
    practice: np.ndarray,
    estimate: np.ndarray,
    precision: np.ndarray,
    threshold: float,
    z: float = 0.0,
) -> None:
    """Publish evidence on practices: proven if its lower bound clears ``threshold``.

    Evidence accumulates by precision weighting with what was already
    published. A practice is proven when the published estimate less ``z``
    standard errors (``z`` from the confidence asked, 0 for the estimate
    alone) clears ``threshold``; one that falls short is marked abandoned by
    the centre; schools running it will see the evidence when they review.
    """
    pr = model.practices
    form = publish
    if (  # one estimate and precision each, as arrays: the compiled loop
        model.p.compiled
        and isinstance(practice, np.ndarray)
        and practice.ndim == 1
        and practice.dtype.kind in "iu"
        and isinstance(estimate, np.ndarray)
        and isinstance(precision, np.ndarray)
        and estimate.shape == precision.shape == practice.shape
        and estimate.dtype == precision.dtype == np.float64
    ):
        form = publish_compiled
    form(practice, estimate, precision, threshold, z, pr.stage, pr.ev_mean, pr.ev_prec)


def publish(practice, estimate, precision, threshold, z, stage, ev_mean, ev_prec) -> None:
    """:func:`publish_evidence` on the practices' arrays, in place."""
    tot = ev_prec[practice] + precision
    ev_mean[practice] = (ev_prec[practice] * ev_mean[practice] + precision * estimate) / tot
    ev_prec[practice] = tot
    lower = ev_mean[practice] - z / np.sqrt(tot)
    stage[practice] = np.where(lower >= threshold, PROVEN, ABANDONED)


@jit
def publish_compiled(practice, estimate, precision, threshold, z, stage, ev_mean, ev_prec):
    """:func:`publish`, compiled: each of its numpy statements a loop, in its order.

    Every gather before the scatter that follows it, so a practice listed twice
    ends as numpy leaves it (the last write kept; the bound read after the means
    are written).
    """
    m = len(practice)
    tot = np.empty(m)
    mean = np.empty(m)
    for x in range(m):
        q = practice[x]
        tot[x] = ev_prec[q] + precision[x]
        mean[x] = (ev_prec[q] * ev_mean[q] + precision[x] * estimate[x]) / tot[x]
    for x in range(m):
        ev_mean[practice[x]] = mean[x]
    for x in range(m):
        ev_prec[practice[x]] = tot[x]
    lower = np.empty(m)
    for x in range(m):
        lower[x] = ev_mean[practice[x]] - z / np.sqrt(tot[x])
    for x in range(m):
        stage[practice[x]] = PROVEN if lower[x] >= threshold else ABANDONED


def add_ties(
    model: ModelLike,
    a: np.ndarray,
    b: np.ndarray,
    kind: int | np.ndarray,
    trust: float,
    formal: bool = False,
) -> np.ndarray:
    """Form ties between schools in order, skipping loops and pairs already tied.

    ``kind``: one kind for all, or each pair's. Returns the indices of the ties formed.
    """
    if len(a) == 0:
        return np.zeros(0, np.int64)
    ties, keys = model.ties, model.tie_keys
    if (
        model.p.compiled
        and ties.n + len(a) <= len(ties.a)  # room for every pair: no table grows
        and isinstance(trust, (float, int, np.floating, np.integer))
        and isinstance(formal, (bool, np.bool_))
    ):  # both steps in one compiled loop, the rows written in place
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        each = not isinstance(kind, (int, np.integer))
        if each:
            kind = np.asarray(kind)
            each = kind.ndim > 0
            kind = kind if each else kind[()]
        keys.reserve(len(a))
        start = ties.n
        m = pairs_add_rows(
            keys.table,
            a,
            b,
            model.schools.n,
            kind if each else a,
            each,
            0 if each else kind,
            trust,
            formal,
            ties.a,
            ties.b,
            ties.kind,
            ties.trust,
            ties.alive,
            ties.formal,
            start,
        )
        if m == 0:
            return np.zeros(0, np.int64)
        keys.added(m)
        ties.n = start + m
        ties.version += 1
        return np.arange(start, start + m)
    f, lo, hi = keys.add_pairs(a, b, model.schools.n)
    if len(f) == 0:
        return f
    if not isinstance(kind, (int, np.integer)):  # each pair's kind (or one, as an array)
        kind = np.asarray(kind)
        kind = kind[f] if kind.ndim else kind
    return ties.append(a=lo, b=hi, kind=kind, trust=trust, alive=True, formal=formal)


def kill_ties(model: ModelLike, idx: np.ndarray) -> None:
    """Ties lapse: they stop carrying exchanges and may form again later."""
    t = model.ties
    idx = idx[t.alive[idx]]
    t.alive[idx] = False
    t.version += 1
    n = model.schools.n
    model.tie_keys.discard(t.a[idx] * n + t.b[idx])


def replace_heads(model: ModelLike, schools: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Give each school a new head; returns the new heads' indices.

    Their traits are keyed by each new head's identifier (school and step),
    under ``keys``, the keys of the decisions openness, ingenuity and appetite
    (:meth:`sim.model.model.NextPracticeModel.appoint_heads`). Ownership of the
    school's practices falls to ``rel_own_new_head`` of what it was: a new head
    has not lived through their adoption.
    """
    schools = np.asarray(schools, np.int64)
    if len(schools) == 0:
        return schools
    new = model.appoint_heads(schools, keys)
    s, p = model.schools, model.p
    form = new_heads_in_post_compiled if p.compiled else new_heads_in_post
    form(s.head, s.slot_own, schools, new, p.rel_own_new_head)
    return new


def new_heads_in_post(head, own, schools, new, rel) -> None:
    """Each of ``schools`` is led by its ``new`` head; its ownership is ``rel`` of what it was.

    In place on ``head`` and ``own`` (a school's row of ownership, each slot).
    """
    head[schools] = new
    own[schools] *= rel


@jit
def new_heads_in_post_compiled(head, own, schools, new, rel):
    """:func:`new_heads_in_post`, compiled: every ownership read before any is written."""
    k = own.shape[1]
    scaled = np.empty((len(schools), k))
    for x in range(len(schools)):
        for j in range(k):
            scaled[x, j] = own[schools[x], j] * rel
    for x in range(len(schools)):
        head[schools[x]] = new[x]
        for j in range(k):
            own[schools[x], j] = scaled[x, j]


def dissolve_collaboratives(model: ModelLike, collabs: np.ndarray) -> None:
    """Collaboratives end: members leave and the ties that made them lapse.

    Compiled, one call of :func:`dissolve_compiled` (the steps below, and
    :func:`kill_ties`' removal of the ties' keys, in one pass over the ties).
    """
    if len(collabs) == 0:
        return
    s, c = model.schools, model.collabs
    if model.p.compiled:
        t, keys = model.ties, model.tie_keys
        gone = dissolve_compiled(
            np.asarray(collabs, np.int64),
            c.alive,
            c.n,
            s.collab,
            t.kind[: t.n],
            t.alive[: t.n],
            t.a,
            t.b,
            keys.table,
            s.n,
        )
        t.version += 1  # as kill_ties
        keys.removed(gone)
        return
    c.alive[collabs] = False
    members = member_of(s.collab, collabs, c.n)
    kill_ties(model, ties_within(model, collabs, alive_only=True))
    s.collab[members] = EMPTY


def ties_within(model: ModelLike, collabs: np.ndarray, alive_only: bool) -> np.ndarray:
    """The collaborative ties between two members of one of ``collabs``, ascending.

    Those in force only, with ``alive_only``; else lapsed ones too.
    """
    t, c = model.ties, model.collabs
    chosen = np.zeros(c.n, np.bool_)
    chosen[collabs] = True
    form = collab_ties_compiled if model.p.compiled else collab_ties
    return form(t.kind[: t.n], t.alive[: t.n], t.a, t.b, model.schools.collab, chosen, alive_only)


def collab_ties(kind, alive, a, b, collab, chosen, alive_only) -> np.ndarray:
    """Collaborative ties with both ends in one ``chosen`` collaborative, ascending.

    In force only, with ``alive_only``.
    """
    ca, cb = collab[a[: len(kind)]], collab[b[: len(kind)]]
    keep = (kind == COLLAB) & (alive | (not alive_only)) & (ca >= 0) & (ca == cb)
    keep &= chosen[np.maximum(ca, 0)]
    return np.flatnonzero(keep)


@jit
def collab_ties_compiled(kind, alive, a, b, collab, chosen, alive_only):
    """:func:`collab_ties`, compiled: one pass over the ties."""
    out = np.empty(len(kind), np.int64)
    m = 0
    for e in range(len(kind)):
        ca = collab[a[e]]
        out[m] = e
        m += (
            kind[e] == COLLAB
            and (alive[e] or not alive_only)
            and ca >= 0
            and ca == collab[b[e]]
            and chosen[ca]
        )
    return out[:m]


@jit
def dissolve_compiled(collabs, collab_alive, n_collabs, collab, kind, alive, a, b, table, n):
    """:func:`dissolve_collaboratives`' numpy steps, compiled: returns the keys removed.

    The collaboratives ``collabs`` end (``collab_alive``); their ties in force
    (:func:`collab_ties_compiled` with ``alive_only``, read before any member
    leaves) lapse, and each one's key ``a * n + b`` leaves the tie keys'
    ``table`` (:func:`~sim.core.state.discard_key`); then their members
    (:func:`~sim.core.numerics.member_of` of ``collab``) leave. The caller counts
    the version as :func:`kill_ties` does, and the keys removed
    (:meth:`~sim.core.state.KeySet.removed`).
    """
    chosen = np.zeros(n_collabs + 1, np.bool_)  # the last entry: no collaborative (-1)
    for k in collabs:
        chosen[k] = True
        collab_alive[k] = False
    gone = 0
    for e in range(len(kind)):
        ca = collab[a[e]]
        if kind[e] == COLLAB and alive[e] and ca >= 0 and ca == collab[b[e]] and chosen[ca]:
            alive[e] = False
            gone += discard_key(table, a[e] * n + b[e])
    for i in range(len(collab)):
        if chosen[collab[i]]:
            collab[i] = EMPTY
    return gone


def join_collaborative(model: ModelLike, school: int, collab: int, trust: float) -> np.ndarray:
    """A school joins a live collaborative: tied to each member, formally if it is formal.

    The rules found collaboratives whole (the ``collaborate`` slot); a
    participant's head may also join one founded nearby. The new ties start at
    ``trust``. Returns the indices of the ties formed.
    """
    s, c = model.schools, model.collabs
    members = np.flatnonzero(s.collab == collab)
    s.collab[school] = collab
    formal = bool(c.formal[collab])
    return add_ties(model, np.full(len(members), school), members, COLLAB, trust, formal=formal)


def leave_collaborative(model: ModelLike, school: int) -> None:
    """A school leaves its collaborative: its ties to the members lapse.

    A collaborative left with fewer than two members ends
    (:func:`dissolve_collaboratives`).
    """
    s, t = model.schools, model.ties
    collab = int(s.collab[school])
    if collab == EMPTY:
        return
    inside = ties_within(model, np.array([collab]), alive_only=True)
    mine = inside[(t.a[inside] == school) | (t.b[inside] == school)]
    t.formal[mine] = False
    kill_ties(model, mine)
    s.collab[school] = EMPTY
    if np.count_nonzero(s.collab == collab) < 2:
        dissolve_collaboratives(model, np.array([collab]))


def take_on(model: ModelLike, strong: int, weak: int, trust: float) -> None:
    """The head of ``strong`` takes on ``weak`` as executive head, as the ``lead`` slot does.

    The weak school's head leaves post, the strong school's head leads both
    (a federation: the ``lead`` rule supports it every month while it lasts),
    and the two schools gain an executive tie of ``trust``.
    """
    s = model.schools
    model.retire_heads(np.array([s.head[weak]]))
    s.head[weak] = s.head[strong]
    add_ties(model, np.array([strong]), np.array([weak]), EXECUTIVE, trust)
