"""What the centre knows to be the best practice: the best published evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.jit import jit
from sim.core.state import MAINSTREAM, PROVEN

if TYPE_CHECKING:
    from sim.core.registry import ModelLike


class BestKnown:
    """The centre picks the practices with the best published evidence.

    It knows only what evidence says (field trials' published estimates and
    the evidence on today's good practice): practices proven or mainstream,
    whose published estimate clears ``threshold_proven``, best first. What it
    mandates and brokers comes from here; it never reads a true effect.
    """

    def best_known(self, model: ModelLike, k: int, origin: int | None = None) -> list[int]:
        """The ``k`` practices with the best published evidence (of ``origin`` if given)."""
        pr = model.practices
        if k <= 0:
            return []
        best = self.pick_best(
            pr.origin[: pr.n],
            -1 if origin is None else origin,
            pr.ev_prec[: pr.n],
            pr.ev_mean[: pr.n],
            pr.stage[: pr.n],
            model.p.threshold_proven,
            k,
        )
        return best.tolist()

    @staticmethod
    def pick_best(origin, of_origin, ev_prec, ev_mean, stage, threshold, k):
        """Up to ``k`` practices, best published evidence first (equals by index).

        Those of origin ``of_origin`` (any if -1) with evidence, proven or
        mainstream, whose published estimate clears ``threshold``.
        """
        of = np.ones(len(stage), bool) if of_origin < 0 else origin == of_origin
        ok = np.flatnonzero(
            of & (ev_prec > 0) & ((stage == PROVEN) | (stage == MAINSTREAM)) & (ev_mean > threshold)
        )
        return ok[np.argsort(-ev_mean[ok], kind="stable")][:k]

    @staticmethod
    @jit
    def pick_best_compiled(origin, of_origin, ev_prec, ev_mean, stage, threshold, k):
        """:meth:`pick_best`, compiled: one pass, then a stable sort of ``-ev_mean``."""
        ok = np.empty(len(stage), np.int64)
        m = 0
        for q in range(len(stage)):
            ok[m] = q
            m += (
                (of_origin < 0 or origin[q] == of_origin)
                and ev_prec[q] > 0
                and (stage[q] == PROVEN or stage[q] == MAINSTREAM)
                and ev_mean[q] > threshold
            )
        ok = ok[:m]
        order = np.argsort(-ev_mean[ok], kind="mergesort")
        return ok[order[:k]]
