"""The schools at the extremes if the model's schools sat at England's national mean.

A diagnostic for docs/sources.md, section 3 (plausibility patterns 4 and 5), not a fit:
one run of each default scenario (seed 12345, ten years), then the same schools moved by
one logit shift so that their mean is a given national level, and what published results
would show there (``sim.system.metrics.published``). Nothing in the model changes.

    .venv/bin/python scripts/extremes_at_england_mean.py
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.model.model import NextPracticeModel  # noqa: E402
from sim.model.scenario import load_scenario  # noqa: E402
from sim.system.metrics import at_level, published  # noqa: E402

#: National levels to move the schools to: the 1998 start (English, 64.8%), 1999's English
#: (70.5%, the year of the 0.7% with every pupil at level 4: plausibility pattern 4's level),
#: 2009's English and maths together (72.0%, the floor's measure: pattern 5's level) and
#: 2009's English (80%).
LEVELS = (0.648, 0.705, 0.72, 0.80)


def main() -> None:
    """Print, per scenario, the three published measures at ten years and at each level."""
    print("scenario, at: mean perf, published_sd, share_all_pupils, share_below_floor")
    for name in ("top_down", "bottom_up", "next_practice"):
        p = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        model = NextPracticeModel(p, rng=12345).run(120)
        perf = model.schools.perf.copy()
        rows = [("ten years", perf)] + [(f"mean {v:.3f}", at_level(perf, v)) for v in LEVELS]
        for label, q in rows:
            sd, every, below = published(q)
            print(f"{name}, {label}: {q.mean():.3f}, {sd:.3f}, {every:.4f}, {below:.4f}")


if __name__ == "__main__":
    main()
