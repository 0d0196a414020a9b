"""Would a link between a school's cohort size and its results fit England's tails?

A diagnostic for docs/sources.md, section 3 (plausibility pattern 4), not the model and
not a fit that sets any parameter. The model's schools have no size: published results
are an expectation over England's cohort sizes, independent of performance
(``sim.system.metrics.published``). Here a static population of schools stands in for
the model's: each school gets a cohort size drawn from England's KS2 cohort sizes (all
of them, ``cohort_sizes(smallest=1)``), and a logit of its share of pupils at the
standard that is normal with sd ``sd`` plus ``delta`` if its cohort has 15 pupils or
fewer (the smallest band of the DfE's table, ks2_cohort_size_england), centred so that
``delta`` moves small schools against the rest and not the mean. The national result is
England's kind: pupils at the standard over all pupils (weighted by cohort), moved to the
level of each fact's year by one logit shift.

With ``delta`` 0 and ``sd`` 0.6 the population is the model's start (normal logits of
sd 0.6, no link), and it gives the shipped model's ten-year profile (docs/sources.md,
section 3) to within 0.4 points on the bottom facts and 0.05 on 1999's top fact: ten
years of rules move the spread only a little. The static population is why this is a
diagnostic: the model itself was not changed or run here.

The facts: the four bottom-tail facts the shipped ``sd_perf_init`` was fitted to, the
four 1998 facts on schools below the national result (ks2_schools_below_national_1998_england:
English 44%, reading 42%, writing 49%, mathematics 46% of schools; counted over every
school with results, small ones too), 1998's and 1999's schools with every pupil at the
standard (all three tests: the model's one test must show at least as many), and TES1999's
78 of 1999's 102 perfect results from classes of 20 or fewer (on all three tests, which
concentrate perfect results in small cohorts more than one test does, so the model's one
test should show at most about 0.76).

    .venv/bin/python scripts/tails_size_link.py            # the grid (about 30 s)
"""

import sys
from pathlib import Path

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit
from scipy.stats import binom

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.system.metrics import SMALLEST_PUBLISHED, cohort_sizes  # noqa: E402

#: Bottom-tail facts (level on the fact's measure, threshold, England's share of schools),
#: as scripts/extremes_at_england_mean.py's "about" facts: counted over published results.
BOTTOM = (
    (0.790, 0.65, 1 / 8),  # 2006 English below 65%
    (0.730, 0.55, 1359 / 14768),  # 2008 English and maths below 55%
    (0.720, 0.55, 1472 / 13532),  # 2009 the same
    (0.730, 0.50, 798 / 14768),  # 2008 more than half below level 4
)
#: 1998: schools below the national result, by subject (national level, England's share).
BELOW_1998 = ((0.648, 0.44), (0.71, 0.42), (0.53, 0.49), (0.59, 0.46))
#: Every pupil at level 4 in all three tests: 1998 (27 schools) and 1999 (102), of about 15,000.
ALL_1998, ALL_1999 = 27 / 15000, 102 / 15000
#: TES1999: 78 of the 102 perfect results came from classes of no more than 20.
SMALL_OF_PERFECT = 78 / 102
SMALL = 15  #: the DfE table's smallest band, 1 to 15 pupils


class Population:
    """A static population of schools with cohort sizes and normal logits (see the module)."""

    def __init__(self, n_schools: int = 200_000, seed: int = 1) -> None:
        sizes, weights = cohort_sizes(smallest=1)
        rng = np.random.default_rng(seed)
        self.n = rng.choice(sizes, size=n_schools, p=weights)
        self.z = rng.standard_normal(n_schools)
        self.published = self.n >= SMALLEST_PUBLISHED
        small = (self.n <= SMALL).astype(float)
        self.small = small - small.mean()

    def at(self, level: float, sd: float, delta: float) -> np.ndarray:
        """Schools' shares with England's (pupil-weighted) national result at ``level``."""
        base = sd * self.z + delta * self.small
        gap = lambda m: np.average(expit(m + base), weights=self.n) - level  # noqa: E731
        return expit(brentq(gap, -8.0, 8.0) + base)

    def below(self, p: np.ndarray, threshold: float, every: bool) -> float:
        """Expected share of schools whose cohort's result is below ``threshold``."""
        m = np.ones(len(p), bool) if every else self.published
        k = np.ceil(threshold * self.n[m]) - 1
        return float(binom.cdf(k, self.n[m], p[m]).mean())

    def all_pupils(self, p: np.ndarray) -> tuple[float, float]:
        """Published schools with every pupil at the standard, and those from small cohorts.

        Returns the expected share of published schools where every pupil reaches the
        standard, and the share of those results that come from cohorts of 20 or fewer.
        """
        every = p[self.published] ** self.n[self.published]
        return float(every.mean()), float(every[self.n[self.published] <= 20].sum() / every.sum())


def misfit(model: list[float], england: list[float]) -> float:
    """Squared log misfit of the model's shares to England's, summed over facts."""
    return sum(float(np.log(m / e)) ** 2 for m, e in zip(model, england, strict=True))


def row(pop: Population, sd: float, delta: float) -> dict[str, float]:
    """Every fact's model value and the two squared log misfits at one (sd, delta)."""
    bottom = [pop.below(pop.at(lv, sd, delta), t, False) for lv, t, _ in BOTTOM]
    b98 = [pop.below(pop.at(lv, sd, delta), lv, True) for lv, _ in BELOW_1998]
    all98, _ = pop.all_pupils(pop.at(0.648, sd, delta))
    p99 = pop.at(0.705, sd, delta)
    all99, small = pop.all_pupils(p99)
    unweighted = float(p99.mean()) - 0.705
    return {
        "bottom": bottom,
        "b98": b98,
        "mis_bottom": misfit(bottom, [e for *_, e in BOTTOM]),
        "mis_1998": misfit(b98, [e for _, e in BELOW_1998]),
        "all98": all98,
        "all99": all99,
        "small": small,
        "gap": unweighted,
    }


def main() -> None:
    """Print the grid as a markdown table."""
    pop = Population()
    print(
        "| sd | delta | bottom facts (misfit) | 1998 below national: Eng, read, writ, maths "
        "(misfit) | all pupils 1998 | all pupils 1999 | of them cohorts <= 20 | "
        "school mean minus national, 1999 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for sd in (0.55, 0.575, 0.6, 0.625, 0.65):
        for delta in (0.0, 0.1, 0.2, 0.3, 0.4, 0.6):
            r = row(pop, sd, delta)
            pct = lambda xs: ", ".join(f"{100 * x:.1f}" for x in xs)  # noqa: E731
            print(
                f"| {sd:.3f} | {delta:.1f} | {pct(r['bottom'])} ({r['mis_bottom']:.3f}) | "
                f"{pct(r['b98'])} ({r['mis_1998']:.3f}) | {100 * r['all98']:.2f}% | "
                f"{100 * r['all99']:.2f}% | {r['small']:.2f} | {100 * r['gap']:+.2f} |",
                flush=True,
            )
    print(
        f"\nEngland: bottom {', '.join(f'{100 * e:.1f}' for *_, e in BOTTOM)}; 1998 below "
        f"national {', '.join(f'{100 * e:.0f}' for _, e in BELOW_1998)}; every pupil, all "
        f"three tests, at least {100 * ALL_1998:.2f}% (1998) and {100 * ALL_1999:.2f}% (1999); "
        f"of 1999's perfect results {SMALL_OF_PERFECT:.2f} from classes of 20 or fewer"
    )


if __name__ == "__main__":
    main()
