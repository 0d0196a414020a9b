"""Time the published-results metrics: England's cohort mixture against one 41-pupil cohort.

Paired and alternated (old, new, old, new...), medians of 15 rounds of 20 calls, at 300
schools and at England's 21,000; the table's one-off cost is printed first.

    .venv/bin/python scripts/bench_published.py
"""

import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.system.metrics import FLOOR, _table, published  # noqa: E402


def one_cohort(perf: np.ndarray, cohort: int = 41, floor: float = FLOOR):
    """The metric of release 0.2.0: every school one cohort of ``cohort`` pupils."""
    p = np.clip(perf, 1e-9, 1.0 - 1e-9)
    logit = np.log(p / (1.0 - p))
    sd = float(np.sqrt(logit.var() + np.mean(1.0 / (cohort * p * (1.0 - p)))))
    every = float(np.mean(p**cohort))
    below = np.zeros(len(p))
    for k in range(int(np.ceil(floor * cohort))):
        below += math.comb(cohort, k) * p**k * (1.0 - p) ** (cohort - k)
    return sd, every, float(below.mean())


def main() -> None:
    """Print the table's cost, then the median time per call of each form at two sizes."""
    t = time.perf_counter()
    _table(FLOOR)
    print(f"table, once per process: {time.perf_counter() - t:.3f} s")
    for n in (300, 21000):
        perf = np.random.default_rng(0).uniform(0.3, 0.95, n)
        took: dict[str, list[float]] = {"one 41-pupil cohort": [], "England's cohorts": []}
        for _ in range(15):
            for name, f in zip(took, (one_cohort, published), strict=True):
                t = time.perf_counter()
                for _ in range(20):
                    f(perf)
                took[name].append((time.perf_counter() - t) / 20)
        cells = ", ".join(f"{k} {np.median(v) * 1e3:.3f} ms" for k, v in took.items())
        print(f"{n} schools: {cells}")


if __name__ == "__main__":
    main()
