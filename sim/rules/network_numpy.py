"""Ties, collaboratives and heads in plain numpy: the readable forms of :mod:`sim.rules.network`.

``ties: facilitated_numpy``, ``collaborate: found_and_formalise_numpy``,
``lead: executive_heads_numpy`` and ``turnover: heads_leave_numpy`` are the
shipped rules with their compiled kernels swapped for these functions: same
draws in the same order, same run bit for bit (``tests/test_numpy_forms.py``).
"""

from __future__ import annotations

import numpy as np

from sim.core.state import CHOSEN, CROSS, EMPTY, TOWN
from sim.rules import actions_numpy, register
from sim.rules.network import Collaboratives, HeadTurnover, SystemLeadership, TieFormation


def proposed_ties(rng, prob, share_cross, authority, authority_index):
    """New ties sought this step: (school, partner, kind), crossing ties first.

    (:class:`TieFormation`.) ``authority_index``: schools sorted by authority,
    and where each authority's run starts and ends.
    """
    by_authority, start, end = authority_index
    n = len(prob)
    who = np.flatnonzero(rng.random(n) < prob)  # the schools seeking a tie
    m = len(who)
    cross = rng.random(m) < share_cross  # does the tie cross authorities?
    # A partner in the seeker's own authority, drawn uniformly from its run.
    lo, hi = start[authority[who]], end[authority[who]]
    same = by_authority[lo + (rng.random(m) * (hi - lo)).astype(np.int64)]
    # A partner anywhere; drawn again where the first fell in the seeker's authority.
    anywhere = rng.integers(0, n, m)
    retry = authority[anywhere] == authority[who]
    anywhere[retry] = rng.integers(0, n, int(retry.sum()))
    partner = np.where(cross, anywhere, same)
    order = np.r_[np.flatnonzero(cross), np.flatnonzero(~cross)].astype(np.int64)
    return who[order], partner[order], np.where(cross[order], CROSS, TOWN).astype(np.int64)


def lapsing(alive, trust, formal, min_trust):
    """Ties in force, not formal, whose trust is below ``min_trust``: indices, ascending."""
    n = len(alive)
    return np.flatnonzero(alive & (trust[:n] < min_trust) & ~formal[:n])


def found(rng, founders, collab, town, authority, town_index, authority_index, size, first_id):
    """Founders found collaboratives, in turn, in place on ``collab`` (:class:`Collaboratives`).

    Returns the founders who founded one, and each pair of members of each
    collaborative (member ``i`` with each later member ``j``).
    """
    groups = []
    for f in founders.tolist():
        if collab[f] != EMPTY:  # taken into another's collaborative this step
            continue
        # Free schools of the founder's town; of its authority if the town has too few.
        for (order, start, end), where in ((town_index, town[f]), (authority_index, authority[f])):
            near = order[start[where] : end[where]]
            pool = near[(collab[near] == EMPTY) & (near != f)]
            if len(pool) >= size - 1:
                break
        if len(pool) < size - 1:
            continue
        members = np.r_[f, rng.choice(pool, size - 1, replace=False)]
        collab[members] = first_id + len(groups)
        groups.append(members)
    g = np.array(groups, np.int64).reshape(-1, size)
    i, j = np.triu_indices(size, 1)  # every pair of members, collaborative by collaborative
    return g[:, 0].copy(), g[:, i].ravel(), g[:, j].ravel()


def formalisation_rate(collab, fac, push, n_collabs, p_formalise):
    """Each collaborative's monthly chance to formalise: members' mean facilitation x mean push."""
    member = collab >= 0
    c = collab[member]
    size = np.maximum(np.bincount(c, minlength=n_collabs), 1)
    mean_fac = np.bincount(c, fac[member], n_collabs) / size
    mean_push = np.bincount(c, push[member], n_collabs) / size
    return p_formalise * mean_fac * mean_push


def candidates(rng, perf, hi_cut, lo_cut, head, n_heads, chance):
    """Strong heads who take on a school this step, and the weak schools (``SystemLeadership``).

    Returns schools per head, the strong schools whose heads take on (ascending), the weak mask.
    """
    n_led = np.bincount(head, minlength=n_heads)
    alone = n_led[head] == 1  # a head leading only this school
    go = np.flatnonzero(alone & (perf >= hi_cut) & (rng.random(len(perf)) < chance))
    weak = alone & (perf <= lo_cut)
    return n_led, go, weak


def take_on(rng, go, authority, authority_index, weak, head, n_led):
    """Each strong head in ``go``, in turn, takes on a weak school of their authority, in place.

    Returns the strong and weak ends of each takeover and the heads replaced.
    """
    by_authority, start, end = authority_index
    strong_end, weak_end, replaced = [], [], []
    for a in go.tolist():
        mine = by_authority[start[authority[a]] : end[authority[a]]]
        pool = mine[weak[mine]]  # still weak (not yet taken on)
        if len(pool) == 0:
            continue
        b = pool[rng.integers(0, len(pool))]
        weak[b] = False
        replaced.append(head[b])
        head[b] = head[a]  # the executive head now leads both
        n_led[head[a]] += 1
        strong_end.append(a)
        weak_end.append(b)
    return (
        np.array(strong_end, np.int64),
        np.array(weak_end, np.int64),
        np.array(replaced, np.int64),
    )


def support(rng, head, n_led, perf, capacity, rate, chance, slot_p, slot_depth):
    """Support within federations: capacity converges, practice is shared from the lead school.

    In place on ``capacity``; ``rate`` and ``chance`` are per school. Returns the
    schools that take up a practice, their lead schools, and the lead's column of it.
    """
    fed = np.flatnonzero(n_led[head] > 1)  # schools sharing their head
    none = np.zeros(0, np.int64)
    if len(fed) == 0:
        return none, none, none
    h = head[fed]
    # Each closes ``rate`` of its gap to the federation's most capable school.
    top = np.zeros(len(n_led))
    np.maximum.at(top, h, capacity[fed])
    capacity[fed] += rate[fed] * (top[h] - capacity[fed])
    # The lead school performs best (the last of equals, by index).
    order = np.lexsort((perf[fed], h))
    last = np.r_[h[order][1:] != h[order][:-1], True]
    lead_of = np.full(len(n_led), -1)
    lead_of[h[order][last]] = fed[order][last]
    lead = lead_of[h]
    # With ``chance``, a school that is not the lead takes up the lead's deepest
    # practice it does not yet run (the first of equals), if there is one.
    share = (lead != fed) & (rng.random(len(fed)) < chance[fed])
    led, lead = fed[share], lead[share]
    known = (slot_p[lead][:, :, None] == slot_p[led][:, None, :]).any(axis=2)
    depth = np.where((slot_p[lead] != EMPTY) & ~known, slot_depth[lead], -1.0)
    col = np.argmax(depth, axis=1)
    ok = depth[np.arange(len(led)), col] >= 0
    return led[ok], lead[ok], col[ok]


def bring_over(led, lead, col, own_chosen, depth, own, source, values, protection):
    """Federated schools take up their lead's practice, with the ownership its staff bring.

    Returns how many took it up.
    """
    slot_p = values.slot_p
    ok = actions_numpy.take_up(
        led,
        slot_p[lead, col],
        np.full(len(led), EMPTY),
        own_chosen,
        CHOSEN,
        depth,
        own,
        source,
        values,
        protection,
    )
    rows, lead, col = led[ok], lead[ok], col[ok]
    at = np.argmax(slot_p[rows] == slot_p[lead, col][:, None], axis=1)
    own[rows, at] = np.maximum(own[rows, at], own[lead, col])
    return int(ok.sum())


def leaving(rng, active, chance, head, collab_alive, founder):
    """Heads who leave this step, the schools they led, the live collaboratives they founded."""
    in_post = np.flatnonzero(active)
    leavers = in_post[rng.random(len(in_post)) < chance]
    is_leaving = np.zeros(len(active), bool)
    is_leaving[leavers] = True
    return (
        leavers,
        np.flatnonzero(is_leaving[head]),
        np.flatnonzero(collab_alive & is_leaving[founder]),
    )


@register("ties", "facilitated_numpy")
class TieFormationNumpy(TieFormation):
    """:class:`TieFormation` in plain numpy: same draws, same run."""

    proposed_ties = staticmethod(proposed_ties)
    lapsing = staticmethod(lapsing)


@register("collaborate", "found_and_formalise_numpy")
class CollaborativesNumpy(Collaboratives):
    """:class:`Collaboratives` in plain numpy: same draws, same run."""

    found = staticmethod(found)
    formalisation_rate = staticmethod(formalisation_rate)


@register("lead", "executive_heads_numpy")
class SystemLeadershipNumpy(SystemLeadership):
    """:class:`SystemLeadership` in plain numpy: same draws, same run."""

    candidates = staticmethod(candidates)
    take_on = staticmethod(take_on)
    support = staticmethod(support)
    bring_over = staticmethod(bring_over)


@register("turnover", "heads_leave_numpy")
class HeadTurnoverNumpy(HeadTurnover):
    """:class:`HeadTurnover` in plain numpy: same draws, same run."""

    leaving = staticmethod(leaving)
