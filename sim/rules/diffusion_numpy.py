"""Hearing and judging, in plain numpy: the readable forms of :mod:`sim.rules.diffusion`.

``hear: word_of_mouth_numpy`` and ``adopt: judged_numpy`` are the shipped
rules with their compiled kernels swapped for these functions, which draw
the same random numbers in the same order from the same generator and so
give the same run bit for bit (``tests/test_numpy_forms.py``). Copy one to
change a rule: it is the rule, written to be read.
"""

from __future__ import annotations

import numpy as np

from sim.core.state import EMPTY
from sim.rules import register
from sim.rules.actions_numpy import slot_values
from sim.rules.diffusion import JudgedAdoption, JudgeInputs, WordOfMouth


def first_over_rows(cum: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Per row, the first column whose running sum ``cum`` exceeds ``v``; the last if none.

    A pick in proportion to weight, row by row (:func:`sim.core.numerics.first_over`).
    """
    return np.minimum((v[:, None] >= cum).sum(axis=1), cum.shape[1] - 1)


def exchanges(rng, alive, a, b, trust, fac, slot_p, depth, p_exchange):
    """This step's exchanges: (school that heard, practice, tie), as :class:`WordOfMouth` says."""
    # How many ties are tried this step, and which (ties in force, with repetition).
    k = rng.binomial(len(alive), p_exchange)
    tried = alive[rng.integers(0, len(alive), k)]
    # A tried tie carries an exchange with chance: its trust times the better
    # facilitation found at either end.
    carried = rng.random(k) < trust[tried] * np.maximum(fac[a[tried]], fac[b[tried]])
    tie = tried[carried]
    # Which way it goes: a fair coin (under one half, end a hears from end b).
    a_hears = rng.random(len(tie)) < 0.5
    recv = np.where(a_hears, a[tie], b[tie])
    send = np.where(a_hears, b[tie], a[tie])
    # Which of the sender's practices it talks about: chance in proportion to depth.
    pick = rng.random(len(tie))
    cum = np.cumsum(depth[send], axis=1)
    total = cum[:, -1]
    practice = slot_p[send, first_over_rows(cum, pick * total)]
    # A sender with no depth anywhere (or an empty slot picked) has nothing to tell.
    told = (total > 0) & (practice != EMPTY)
    return (
        recv[told].astype(np.int64),
        practice[told].astype(np.int64),
        tie[told].astype(np.int64),
    )


def judge(rng, inputs: JudgeInputs):
    """Each heard item judged, as :class:`JudgedAdoption` says: (want, margin over the bar).

    Moves trust on each item's tie (a tie heard on twice: the last item's move wins).
    """
    (
        school,
        practice,
        tie,
        openness,
        capacity,
        capacity_absorb,
        agenda,
        lever_agenda,
        w_agenda,
        domain,
        effect,
        sd_judge,
        threshold_adopt,
        rate_trust,
        trust,
        spare,
        difficulty,
        values,
    ) = inputs
    m = len(school)
    # Does the head consider the idea? Openness times absorptive capacity (at most 1).
    u_consider = rng.random(m)
    u_agenda = rng.random(m) if agenda >= 0 else u_consider
    consider = u_consider < openness * np.minimum(1.0, capacity[school] / capacity_absorb)
    if agenda >= 0:  # an idea off the national agenda is set aside more often
        off_agenda = domain[practice] != agenda
        consider &= ~off_agenda | (u_agenda >= w_agenda * lever_agenda)
    # The judgement pools, by precision, the peer's noisy account, the published
    # evidence (weighted by the evidence lever) and a sceptical prior at 0.
    signal = effect[practice] + rng.normal(0.0, sd_judge, m)
    prec_j = 1.0 / sd_judge**2
    prec_e = values.lever * values.ev_prec[practice]
    judged = (prec_j * signal + prec_e * values.ev_mean[practice]) / (
        prec_j + prec_e + values.prec0
    )
    net = judged - values.rel_cost * values.cost[practice] / values.budget[school]
    # The bar: the threshold if the school has an empty slot and capacity to spare,
    # else the threshold over the value of the practice it values least.
    worst = slot_values(values, school).min(axis=1)
    has_room = spare >= difficulty[practice]
    bar = np.where(
        np.isinf(worst) & has_room,
        threshold_adopt,
        np.maximum(np.where(np.isinf(worst), 0.0, worst), 0.0) + threshold_adopt,
    )
    useful = net > bar
    # Trust on the tie follows the usefulness of the exchange.
    trust[tie] = trust[tie] + rate_trust * (useful - trust[tie])
    already = (values.slot_p[school] == practice[:, None]).any(axis=1)
    return consider & useful & ~already, net - bar


@register("hear", "word_of_mouth_numpy")
class WordOfMouthNumpy(WordOfMouth):
    """:class:`WordOfMouth` in plain numpy (:func:`exchanges`): same draws, same run."""

    exchanges = staticmethod(exchanges)


@register("adopt", "judged_numpy")
class JudgedAdoptionNumpy(JudgedAdoption):
    """:class:`JudgedAdoption` in plain numpy (:func:`judge`): same draws, same run."""

    judge = staticmethod(judge)
