"""Why next practice loses more to top-down in a bigger system (docs/size.md, issue 28 item 7).

The trace (``scripts/size_trace.py``) found two parts. The larger is the mandate of what
the trials prove: a bigger system proves more practices, and every one whose published
estimate beats a standing mandate's replaces it, so each school is made to take up more
of them. The centre ranks a new trial's estimate (efficacy at its own sites, inflated by
the winner's curse) against monitoring's read of what is already mandated (effectiveness,
after the scale-up fade), so a newcomer looks far better than it is where it spreads.
The smaller is the trial sites: a fixed number of them is a larger share of a smaller
system, and a site keeps the whole effect of what it co-designed. These tests pin each
link at small sizes, paired on seeds.
"""

from __future__ import annotations

import numpy as np

from sim.core.state import EMPTY
from sim.model.model import NextPracticeModel
from sim.model.params import Params
from sim.model.scenario import load_scenario


def _churn(n: int, seed: int, **kw) -> tuple[float, list[tuple[float, float]]]:
    """Mandated take-ups per school in ten years of next practice, and the mandate's swaps.

    Each swap (a practice entering the standing mandate against one leaving it, the
    leaving one read by national monitoring) gives the published estimate of the one
    entering minus the leaving one's, and the same for the true effect each keeps at a
    school that neither invented nor trialled it. The centre is the one the trace found
    (``mandate.confidence_replace`` 0.5: any higher estimate replaces a standing mandate)
    unless ``kw`` says otherwise.
    """
    kw = {"mandate.confidence_replace": 0.5, **kw}
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


def test_a_centre_that_asks_confidence_to_replace_a_mandate_churns_less_in_a_big_system():
    """The default centre (0.95) swaps less than the traced one: fewer take-ups a school."""
    eager = [_churn(600, s)[0] for s in range(3)]
    careful = [_churn(600, s, **{"mandate.confidence_replace": 0.95})[0] for s in range(3)]
    assert np.mean(careful) < 0.8 * np.mean(eager)


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


def _site_gain(seed: int, **kw) -> float:
    """What being a field-trial site added to a school's gain, against top-down.

    The gain in performance of the schools next practice used as trial sites minus the
    other schools', less the same for the same schools under top-down on the same seed
    (the starting system is the seed's whatever the strategy). Shipped scenarios, 300
    schools, ten years.
    """
    over = {"n_schools": 300, "n_authorities": 3, **kw}
    sites, out = None, []
    for strategy in ("next_practice", "top_down"):
        p = load_scenario(strategy, over)
        m = NextPracticeModel(p, rng=seed)
        s = m.schools
        start, ever = s.perf[: s.n].copy(), np.zeros(s.n, bool)
        for _ in range(p.n_steps):
            m.step()
            ever |= s.trial[: s.n] != EMPTY
        sites = ever if sites is None else sites
        gain = s.perf[: s.n] - start
        out.append(gain[sites].mean() - gain[~sites].mean())
    return float(out[0] - out[1])


def test_a_trial_site_gains_more_than_other_schools_mostly_through_the_fade():
    """A site keeps the whole effect of what it co-designed (every other school keeps
    ``rel_effect_spread`` of it), so being a site pays, and pays less with no fade."""
    fade = [_site_gain(s) for s in range(4)]
    none = [_site_gain(s, rel_effect_spread=1.0) for s in range(4)]
    assert np.mean(fade) > 0
    assert np.mean(fade) > np.mean(none)
