"""scripts/tails_size_link.py: the diagnostic's facts are the catalogue's, and its population
behaves as its docstring says (no link: cohort size and results independent)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.inputs import catalogue
from tests.conftest import ROOT, load_script

SCRIPT = ROOT / "scripts" / "tails_size_link.py"


@pytest.fixture(scope="module")
def script():
    return load_script(SCRIPT)


@pytest.fixture(scope="module")
def pop(script):
    return script.Population(n_schools=40_000, seed=3)


def test_the_1998_facts_are_the_catalogues(script):
    df = catalogue.load("ks2_schools_below_national_1998_england").frame()
    rows = df[["national_percent_level4", "percent_of_schools"]].to_numpy(float)
    want = sorted((lv / 100, e / 100) for lv, e in rows)
    got = sorted((round(lv, 2), e) for lv, e in script.BELOW_1998)
    # English's level is the unrounded 64.8% (ks2_english_level4_england), the file's 65 rounded.
    assert [e for _, e in got] == pytest.approx([e for _, e in want])
    assert [lv for lv, _ in got] == pytest.approx([lv for lv, _ in want], abs=0.005)


def test_the_bottom_facts_are_the_shipped_fits(script):
    other = load_script(ROOT / "scripts" / "extremes_at_england_mean.py")
    about = [
        (f[4], f[5], f[2])
        for f in other.FACTS
        if f[3] == "about" and f[5] is not None and abs(f[5] - f[4]) >= 0.05
    ]
    assert sorted(about) == sorted(script.BOTTOM)


def test_without_a_link_size_and_results_are_independent(script, pop):
    p = pop.at(0.705, 0.6, 0.0)
    assert np.average(p, weights=pop.n) == pytest.approx(0.705, abs=1e-9)
    assert p.mean() == pytest.approx(0.705, abs=0.002)  # school mean = pupils' mean
    r = script.row(pop, 0.6, 0.0)
    assert abs(r["gap"]) < 0.002


@pytest.mark.parametrize("sd", [0.5, 0.6])
def test_a_link_thickens_the_top_and_lowers_the_share_below_national(script, pop, sd):
    lo, hi = script.row(pop, sd, 0.0), script.row(pop, sd, 0.4)
    assert hi["all99"] > lo["all99"] * 1.2
    assert hi["small"] > lo["small"]
    assert all(h < w for h, w in zip(hi["b98"], lo["b98"], strict=True))
    assert hi["gap"] > 0.004  # small schools do better: the mean school above the pupils' mean
