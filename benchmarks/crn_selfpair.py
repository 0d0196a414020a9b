"""A strategy paired with itself under a small change: do the draws stay in step?

``python -P benchmarks/crn_selfpair.py`` runs ``next_practice`` at 300 schools on 60 common
seeds twice, the second time with the chance of an exchange on a tie 1% higher
(``word_of_mouth.p_exchange`` 0.08 -> 0.0808), and prints, for final performance and the
gain in the first two years, the correlation of the pairs, the sd of their differences
and the sd under independent seeds (replication r against r + 1). Run it with
``PYTHONPATH`` pointing at a tree of older code (``python -P``) to compare the streams of
that code (``docs/crn.md``). In a loop in this process: about 20 CPU-seconds.
"""

from __future__ import annotations

import numpy as np

from sim.experiments.seeds import run_seed
from sim.experiments.sweep import run_nextpractice
from sim.model.scenario import load_scenario

REPS = 60
OUTCOMES = ("final_perf_mean", "gain_first_2y")


def main() -> None:
    """Run both versions on the common seeds and print the pairing of each outcome."""
    over = {"n_schools": 300}
    base = load_scenario("next_practice.yaml", over).model_dump(mode="json")
    nudged = load_scenario(
        "next_practice.yaml", {**over, "word_of_mouth.p_exchange": 0.0808}
    ).model_dump(mode="json")
    a, b = [], []
    for r in range(REPS):
        seed = run_seed(2024, 0, r, common=True)
        ra, rb = run_nextpractice(base, seed, None), run_nextpractice(nudged, seed, None)
        a.append([ra[k] for k in OUTCOMES])
        b.append([rb[k] for k in OUTCOMES])
    a, b = np.array(a), np.array(b)
    for j, name in enumerate(OUTCOMES):
        x, y = a[:, j], b[:, j]
        print(
            f"{name} r {np.corrcoef(x, y)[0, 1]:.2f}"
            f" sd paired {np.std(x - y, ddof=1):.4f}"
            f" sd indep {np.std(x - np.roll(y, -1), ddof=1):.4f}"
            f" mean diff {(y - x).mean():.4f}"
        )


if __name__ == "__main__":
    main()
