"""The schools at the extremes if the model's schools sat at England's national mean.

A diagnostic for docs/sources.md, section 3 (plausibility patterns 4 and 5), not a fit:
one run of each default scenario (seed 12345, ten years), then the same schools moved by
one logit shift so that their mean is a given national level, and what published results
would show there (``sim.system.metrics.published``). Nothing in the model changes.

    .venv/bin/python scripts/extremes_at_england_mean.py
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.model.model import NextPracticeModel  # noqa: E402
from sim.model.scenario import load_scenario  # noqa: E402
from sim.system.metrics import published  # noqa: E402

#: National levels to move the schools to: the 1998 start (English, 64.8%), 1999's English
#: (70.5%, the year of the 0.7% with every pupil at level 4) and England's 2009 English (80%).
LEVELS = (0.648, 0.705, 0.80)


def shifted(perf: np.ndarray, mean: float) -> np.ndarray:
    """``perf`` moved by one shift in logits so that its mean is ``mean`` (bisection)."""
    logit = np.log(perf / (1.0 - perf))
    lo, hi = -10.0, 10.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if np.mean(1.0 / (1.0 + np.exp(-(logit + mid)))) < mean:
            lo = mid
        else:
            hi = mid
    return 1.0 / (1.0 + np.exp(-(logit + 0.5 * (lo + hi))))


def main() -> None:
    """Print, per scenario, the three published measures at ten years and at each level."""
    print("scenario, at: mean perf, published_sd, share_all_pupils, share_below_floor")
    for name in ("top_down", "bottom_up", "next_practice"):
        p = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        model = NextPracticeModel(p, rng=12345).run(120)
        perf = model.schools.perf.copy()
        rows = [("ten years", perf)] + [(f"mean {v:.3f}", shifted(perf, v)) for v in LEVELS]
        for label, q in rows:
            sd, every, below = published(q)
            print(f"{name}, {label}: {q.mean():.3f}, {sd:.3f}, {every:.4f}, {below:.4f}")


if __name__ == "__main__":
    main()
