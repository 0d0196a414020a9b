"""scripts/extremes_at_england_mean.py --profile: every fact on England's tails at England's
level of its year, read from the catalogue (a changed data file or a mistyped level fails)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.inputs import catalogue
from tests.conftest import ROOT, load_script

SCRIPT = ROOT / "scripts" / "extremes_at_england_mean.py"


@pytest.fixture(scope="module")
def script():
    return load_script(SCRIPT)


def _level(name: str, year: int) -> float:
    f = catalogue.load(name)
    return float(f.values[list(f.years).index(year)]) / 100


def test_each_facts_level_is_englands_on_its_measure(script):
    measure = {
        "every pupil": "ks2_english_level4_england",
        "English below": "ks2_english_level4_england",
        "maths below": "ks2_maths_level4_england",
        "English and maths": "ks2_english_and_maths_level4_england",
        "more than half": "ks2_english_and_maths_level4_england",
    }
    for year, what, _, _, level, _ in script.FACTS:
        (name,) = [v for k, v in measure.items() if what.startswith(k)]
        assert level == pytest.approx(_level(name, int(year)), abs=1e-9), (year, what)


def test_the_every_pupil_shares_are_the_catalogues_counts(script):
    counts = catalogue.load("ks2_schools_all_pupils_level4_england")
    by_year = dict(zip(counts.years.tolist(), counts.values.tolist(), strict=True))
    for year, what, england, _, _, _ in script.FACTS:
        if what.startswith("every pupil"):
            assert by_year[int(year)] / england == pytest.approx(
                {1999: 15000, 2005: 13500, 2007: 13446, 2008: 14768, 2009: 13532}[int(year)]
            )


def test_the_profile_prints_a_row_per_fact_and_a_wider_spread_thickens_the_tails(script, capsys):
    rng = np.random.default_rng(3)
    narrow = 1 / (1 + np.exp(-rng.normal(0.9, 0.4, 2000)))
    wide = 1 / (1 + np.exp(-rng.normal(0.9, 0.8, 2000)))
    script.profile({"a": narrow, "b": wide})
    rows = [
        r
        for r in capsys.readouterr().out.splitlines()
        if r.startswith("| 1") or r.startswith("| 2")
    ]
    assert len(rows) == len(script.FACTS)
    for _, _, _, _, level, threshold in script.FACTS:
        if threshold is not None and abs(threshold - level) < 0.05:
            continue  # 1998's "below the national result" is about the median, not a tail
        n = script.tail_share(script.at_level(narrow, level), threshold)
        w = script.tail_share(script.at_level(wide, level), threshold)
        assert w > n
