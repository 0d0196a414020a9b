"""Structure generators: who the schools are and how they are tied at the start.

A generator is a function ``(params, rng) -> Structure`` registered by name with
:func:`register_network`; a scenario picks one with ``network:``. The default,
``school_system``, builds MODEL.md's English system: authorities of uneven
size, towns within them, schools of each phase, same-town ties (same phase
preferred), feeder ties from primaries to a secondary in their town, a few ties
across authorities, and some initial collaboratives. It scales from a
40-school workshop to England's ~21,000 schools in 152 authorities in well
under a second, and never computes a graph layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.core.registry import NETWORKS, register_network  # noqa: F401  (re-exported)
from sim.core.state import COLLAB, CROSS, FEEDER, PRIMARY, SECONDARY, TOWN


@dataclass
class Structure:
    """What a generator returns: per-school attributes and the initial ties.

    Attributes:
        authority: authority index per school.
        town: global town index per school.
        phase: phase index per school (:data:`sim.core.state.PHASES`).
        n_authorities: number of authorities.
        tie_a, tie_b, tie_kind: initial undirected ties (no duplicates, no loops).
        collab: initial collaborative of each school, or -1.
        collab_formal: per initial collaborative, whether it is formalised.
    """

    authority: np.ndarray
    town: np.ndarray
    phase: np.ndarray
    n_authorities: int
    tie_a: np.ndarray
    tie_b: np.ndarray
    tie_kind: np.ndarray
    collab: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    collab_formal: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __post_init__(self) -> None:
        """Default to no collaboratives."""
        if len(self.collab) == 0:
            self.collab = np.full(len(self.authority), -1, np.int64)


def dedupe_ties(a: np.ndarray, b: np.ndarray, kind: np.ndarray):
    """Drop self-ties and duplicates (keeping the first kind seen) of undirected ties."""
    a, b, kind = np.asarray(a, np.int64), np.asarray(b, np.int64), np.asarray(kind, np.int8)
    keep = a != b
    a, b, kind = a[keep], b[keep], kind[keep]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = lo * (int(hi.max(initial=0)) + 1) + hi
    _, first = np.unique(key, return_index=True)
    first.sort()
    return lo[first], hi[first], kind[first]


@register_network("school_system")
def school_system(p, rng: np.random.Generator) -> Structure:
    """English school system: authorities, towns, phases, town/feeder/cross ties.

    Authority sizes are log-normal (English authorities run from about 30 to
    over 600 schools); towns within an authority likewise. Phase shares default
    to DfES 2007 counts. Town ties pair schools in the same town, preferring the
    same phase; each primary gets a feeder tie to a secondary in its town where
    there is one. Cross-authority ties join random schools in different
    authorities (Fullan's "enlarging one's sphere of engagement").
    """
    n, n_la = p.n_schools, p.n_authorities
    # Authorities of uneven size; every authority gets at least one school.
    w = rng.lognormal(0.0, 0.5, n_la)
    extra = rng.multinomial(n - n_la, w / w.sum())
    authority = np.repeat(np.arange(n_la), extra + 1)
    rng.shuffle(authority)
    # Towns within each authority, also of uneven size.
    tw = rng.lognormal(0.0, 0.5, (n_la, p.n_towns))
    tw /= tw.sum(axis=1, keepdims=True)
    cum = np.cumsum(tw, axis=1)
    u = rng.random(n)
    local_town = (u[:, None] > cum[authority]).sum(axis=1)
    local_town = np.minimum(local_town, p.n_towns - 1)
    town = authority * p.n_towns + local_town
    # Phases.
    shares = np.array([p.share_early_years, 0.0, p.share_secondary, p.share_special, p.share_fe])
    shares[PRIMARY] = 1.0 - shares.sum()
    phase = rng.choice(5, size=n, p=shares).astype(np.int8)

    # Same-town ties: each school draws partners in its town; same phase first.
    order = np.lexsort((phase, town))
    town_sorted = town[order]
    starts = np.searchsorted(town_sorted, np.arange(n_la * p.n_towns))
    ends = np.searchsorted(town_sorted, np.arange(n_la * p.n_towns), side="right")
    k_per = rng.poisson(p.n_ties_town / 2.0, n)  # each tie has two ends
    src = np.repeat(np.arange(n), k_per)
    m = len(src)
    s_town = town[src]
    lo, hi = starts[s_town], ends[s_town]
    partner_any = order[lo + (rng.random(m) * (hi - lo)).astype(np.int64)]
    # Same-phase partner: search within the town's block for the phase's sub-block.
    tp_key = town.astype(np.int64) * 8 + phase
    tp_sorted = tp_key[order]
    key = tp_key[src]
    plo = np.searchsorted(tp_sorted, key)
    phi = np.searchsorted(tp_sorted, key, side="right")
    partner_same = order[plo + (rng.random(m) * (phi - plo)).astype(np.int64)]
    same = rng.random(m) < p.share_same_phase
    dst = np.where(same, partner_same, partner_any)
    ties_a, ties_b, kinds = [src], [dst], [np.full(m, TOWN)]

    # Feeder ties: each primary to a random secondary in its town.
    sec_key = town.astype(np.int64) * 8 + SECONDARY
    prim = np.flatnonzero(phase == PRIMARY)
    flo = np.searchsorted(tp_sorted, sec_key[prim])
    fhi = np.searchsorted(tp_sorted, sec_key[prim], side="right")
    has = fhi > flo
    prim, flo, fhi = prim[has], flo[has], fhi[has]
    sec = order[flo + (rng.random(len(prim)) * (fhi - flo)).astype(np.int64)]
    ties_a.append(prim)
    ties_b.append(sec)
    kinds.append(np.full(len(prim), FEEDER))

    # Cross-authority ties.
    if n_la > 1:
        k = rng.poisson(n * p.n_ties_cross / 2.0)
        ca, cb = rng.integers(0, n, k), rng.integers(0, n, k)
        ok = authority[ca] != authority[cb]
        ties_a.append(ca[ok])
        ties_b.append(cb[ok])
        kinds.append(np.full(int(ok.sum()), CROSS))

    # Initial collaboratives: runs of schools in the same town.
    collab = np.full(n, -1, np.int64)
    n_members = int(round(p.share_collab_init * n))
    size = p.n_collab_size
    n_collab = n_members // size
    by_town = np.lexsort((rng.random(n), town))
    collab_formal = np.zeros(0, bool)
    if n_collab > 0:
        # Pick starting positions in the town-sorted order; keep groups within one town.
        starts_c = rng.choice(n // size, size=min(n_collab, n // size), replace=False) * size
        members = by_town[starts_c[:, None] + np.arange(size)]
        same_town = (town[members] == town[members[:, :1]]).all(axis=1)
        members = members[same_town]
        collab[members.ravel()] = np.repeat(np.arange(len(members)), size)
        collab_formal = rng.random(len(members)) < p.share_formal_init
        # Collaborative members are all tied to each other.
        ia, ib = np.triu_indices(size, 1)
        # First in the list, so a pair tied twice is kept as a collaborative tie.
        ties_a.insert(0, members[:, ia].ravel())
        ties_b.insert(0, members[:, ib].ravel())
        kinds.insert(0, np.full(members[:, ia].size, COLLAB))

    a, b, kind = dedupe_ties(np.concatenate(ties_a), np.concatenate(ties_b), np.concatenate(kinds))
    return Structure(
        authority=authority.astype(np.int32),
        town=town.astype(np.int32),
        phase=phase,
        n_authorities=n_la,
        tie_a=a,
        tie_b=b,
        tie_kind=kind,
        collab=collab,
        collab_formal=collab_formal,
    )
