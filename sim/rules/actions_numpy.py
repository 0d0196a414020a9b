"""The numpy forms of :mod:`sim.rules.actions`' compiled loops: valuing, protecting, taking up.

Each function here computes what the compiled loop of the same name in
:mod:`sim.rules.actions` computes, written as plain numpy a researcher can read
(``tests/test_numpy_forms.py`` checks them against each other bit for bit).
The numpy forms of the rules (:mod:`sim.rules.diffusion_numpy` and its
siblings) build on them.
"""

from __future__ import annotations

import numpy as np

from sim.core.state import COLLAB, EMPTY, MANDATED
from sim.rules.actions import ProtectionInputs, ValueInputs


def slot_values(values: ValueInputs, rows: np.ndarray) -> np.ndarray:
    """Each slot's value as its school sees it, for the schools ``rows`` (rows x slots).

    The estimated effect pools the school's own reads, the published evidence
    (weighted by the evidence lever) and a sceptical prior at 0, each by its
    precision; the value is that less the cost's weight over the budget.
    An empty slot is worth ``-inf``. (:func:`sim.rules.actions.value_of`, row by row.)
    """
    v = values
    pid = v.slot_p[rows]
    safe = np.maximum(pid, 0)  # a valid index even for empty slots (masked below)
    prec_pub = v.lever * v.ev_prec[safe]  # precision of the published evidence
    estimate = (v.obs[rows] / v.sd2 + prec_pub * v.ev_mean[safe]) / (
        v.nobs[rows] / v.sd2 + prec_pub + v.prec0
    )
    value = estimate - v.rel_cost * v.cost[safe] / v.budget[rows][:, None]
    return np.where(pid == EMPTY, -np.inf, value)


def protected(protection: ProtectionInputs, slot_p: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Which slots of the schools ``rows`` may not be dropped or replaced now (rows x slots).

    A practice taken up less than ``dur_commit`` months ago, and a mandated
    practice while its mandate stands. (:func:`sim.rules.actions.is_protected`.)
    """
    pr = protection
    pid = slot_p[rows]
    young = (pr.t - pr.since[rows]) * pr.dur_step < pr.dur_commit
    standing = (pr.channel[rows] == MANDATED) & np.isin(pid, pr.mandates)
    return (pid != EMPTY) & (young | standing)


def value_and_protection(
    values: ValueInputs, rows: np.ndarray, protection: ProtectionInputs
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`slot_values` and :func:`protected` together (``_value_and_protection``'s form)."""
    return slot_values(values, rows), protected(protection, values.slot_p, rows)


def take_up(
    school,
    practice,
    source,
    own,
    channel,
    depth,
    own_a,
    source_a,
    values: ValueInputs,
    protection: ProtectionInputs,
) -> np.ndarray:
    """Schools take up practices, pair by pair (:func:`sim.rules.actions.take_up_kernel`'s form).

    A school seen earlier in the list, or already running the practice, is
    passed over. A school with an empty slot fills its first one; a full
    school replaces the slot it values least among those not protected (the
    first if tied), or nothing if every slot is protected. The slot starts
    afresh: no depth, no reads, ownership ``own``, the channel, this step,
    and the source tie. Writes the slot arrays; returns which pairs were taken up.
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


def drop(rows, cols, slot_p, depth, own, obs, nobs, source, trust, keep) -> None:
    """Empty the slots ``(rows, cols)``; each one's source tie keeps ``keep`` of its trust.

    (:func:`sim.rules.actions._drop`'s form.) A tie that is the source of two
    dropped slots loses trust once: numpy's ``trust[src] *= keep``.
    """
    src = source[rows, cols]
    src = src[src >= 0]
    trust[src] *= keep
    slot_p[rows, cols] = EMPTY
    for a in (depth, own, obs, nobs):
        a[rows, cols] = 0.0
    source[rows, cols] = EMPTY


def ties_within(kind, alive, a, b, collab, chosen, alive_only) -> np.ndarray:
    """Collaborative ties with both ends in one ``chosen`` collaborative, ascending.

    (:func:`sim.rules.actions._ties_within`'s form.) In force only, with ``alive_only``.
    """
    ca, cb = collab[a[: len(kind)]], collab[b[: len(kind)]]
    keep = (kind == COLLAB) & (alive | (not alive_only)) & (ca >= 0) & (ca == cb)
    keep &= chosen[np.maximum(ca, 0)]
    return np.flatnonzero(keep)
