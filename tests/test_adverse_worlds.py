"""scripts/adverse_worlds.py (issue 28's adverse-world table) names real parameters inside
their declared ranges, and its table comes out of paired runs (small here)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.params import field_info
from tests.conftest import ROOT, load_script

SCRIPT = ROOT / "scripts" / "adverse_worlds.py"


@pytest.fixture(scope="module")
def adverse():
    return load_script(SCRIPT)


def test_every_world_is_valid_for_both_strategies(adverse):
    assert len(adverse.WORLDS) == 6
    for overrides in adverse.WORLDS.values():
        for s in adverse.STRATEGIES:
            p = adverse.world_params(s, overrides)  # raises on an unknown key or a bad value
            assert p.n_schools == 300


def test_the_table_says_which_values_leave_their_sweep_range(adverse):
    """The issue's worlds are run as it wrote them; two values lie outside the ranges worlds
    are drawn from (trials three times today's default cost, and no invention), and the
    table says so rather than hiding it."""
    outside = {k: adverse.outside_sweep(w) for k, w in adverse.WORLDS.items()}
    assert outside["noisy trials and poor inventions"] == []
    assert outside["trials three times dearer, half the centre's budget"] == [
        "field_trials.cost_trial_site 1.5 (sweep 0.2-1)"
    ]
    assert outside["no invention at all (p_invent 0)"] == [
        "recombine.p_invent 0 (sweep 0.001-0.01)"
    ]
    for key, value in adverse.WORLDS["all of the above together"].items():
        info = field_info(key)
        assert info["lo"] <= value <= info["hi"], key


def test_the_table_pairs_seeds_and_brackets_the_mean(adverse, monkeypatch):
    monkeypatch.setattr(adverse, "SIZE", {"n_schools": 60, "n_authorities": 2, "n_steps": 12})
    monkeypatch.setattr(adverse, "WORLDS", dict(list(adverse.WORLDS.items())[-1:]))
    (row,) = adverse.table(seeds=3, root_seed=5, workers=1)
    assert row["lo"] <= row["mean"] <= row["hi"]
    assert 0 <= row["np_wins"] <= 3 and np.isfinite(row["spend_np"])


def test_one_seed_is_refused(adverse, monkeypatch):
    monkeypatch.setattr("sys.argv", ["adverse_worlds.py", "--seeds", "1"])
    with pytest.raises(SystemExit, match="at least 2"):
        adverse.main()
