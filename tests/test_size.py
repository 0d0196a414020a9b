"""Why next practice loses more to top-down in a bigger system (docs/size.md, issue 28 item 7).

The trace (``scripts/size_trace.py``) found the drift in the mandate of what the trials
prove: a bigger system proves more practices, and every one whose published estimate
beats a standing mandate's replaces it, so each school is made to take up more of them.
The centre ranks a new trial's estimate (efficacy at its own sites, inflated by the
winner's curse) against monitoring's read of what is already mandated (effectiveness,
after the scale-up fade), so a newcomer looks far better than it is where it spreads.
These tests pin both links at small sizes, paired on seeds.
"""

from __future__ import annotations

import numpy as np

from sim.model.model import NextPracticeModel
from sim.model.params import Params


def _churn(n: int, seed: int, **kw) -> tuple[float, list[tuple[float, float]]]:
    """Mandated take-ups per school in ten years of next practice, and the mandate's swaps.

    Each swap (a practice entering the standing mandate against one leaving it, the
    leaving one read by national monitoring) gives the published estimate of the one
    entering minus the leaving one's, and the same for the true effect each keeps at a
    school that neither invented nor trialled it.
    """
    p = Params(
        strategy="next_practice", n_schools=n, n_authorities=max(1, n // 100), n_towns=4, **kw
    )
    m = NextPracticeModel(p, rng=seed)
    pr = m.practices
    trial_prec: dict[int, float] = {}
    took_up, before, swaps = 0, [], []

    def kept(q: int) -> float:
        return float(pr.effect[q]) * (p.rel_effect_spread if pr.born[q] >= 0 else 1.0)

    for _ in range(p.n_steps):
        m.step()
        trial_prec.update({e["practice"]: e["se"] ** -2 for e in m.events.get("trial", [])})
        took_up += sum(e["took_up"] for e in m.events.get("mandate", []))
        now = list(m.mandates)
        for q_in in set(now) - set(before) if before else ():
            for q_out in set(before) - set(now):
                if pr.ev_prec[q_out] > trial_prec.get(q_out, 0.0) * 1.0001:  # monitored
                    est = float(pr.ev_mean[q_in] - pr.ev_mean[q_out])
                    swaps.append((est, kept(q_in) - kept(q_out)))
        before = now
    return took_up / n, swaps


def test_a_bigger_system_makes_each_school_take_up_more_mandated_practices():
    """More schools, more ideas, more trials proven: the standing mandate turns over more."""
    small = [_churn(150, s)[0] for s in range(4)]
    big = [_churn(600, s)[0] for s in range(4)]
    assert np.mean(big) > 1.5 * np.mean(small) > 0


def test_a_new_proof_outranks_a_monitored_mandate_by_more_than_it_is_better_at_scale():
    """Efficacy against effectiveness: the published gap far exceeds the true one, and the
    scale-up fade is what opens it (with no fade the gap narrows)."""
    gaps = {}
    for spread in (0.5, 1.0):
        swaps = [w for s in range(2) for w in _churn(600, s, rel_effect_spread=spread)[1]]
        assert len(swaps) >= 5
        est, true = np.array(swaps).T
        gaps[spread] = float(est.mean() - true.mean())
    assert gaps[0.5] > 0.2  # a newcomer looks ~0.4 logit better, is ~0.03 better at scale
    assert gaps[1.0] < gaps[0.5]
