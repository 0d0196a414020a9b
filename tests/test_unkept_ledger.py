"""A run pays only for the mechanisms it runs: no ledger where nothing spends or reads spend."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.errors import UserError
from sim.model.model import NextPracticeModel
from sim.model.scenario import load_scenario
from sim.system.costs import Ledger


def _si(n: int = 400) -> NextPracticeModel:
    p = load_scenario("classics/si_complete.yaml", {"n_schools": n, "classic.init_adopters": 8})
    return NextPracticeModel(p, rng=5)


def test_reduced_mode_keeps_no_ledger_and_runs_the_same():
    """SI with every spending rule off and adoption metrics: no accrual, same adoption."""
    m = _si()
    assert not m._keeps_ledger and not isinstance(m.ledger, type(None))
    kept = _si()
    kept._keeps_ledger = True  # what the code did before: accrue and charge every step
    kept.ledger = Ledger(kept.authorities.n)
    m.run(15)
    kept.run(15)
    assert m.metrics_frame().equals(kept.metrics_frame())
    assert m.ledger.allowance_centre == 0.0 and m.ledger.spent_schools == 0.0
    assert kept.ledger.allowance_centre > 0.0


def test_spending_without_declaring_is_one_clear_error():
    """A rule that asks the unkept ledger for money is told to declare ``pays``."""
    m = _si()
    with pytest.raises(UserError, match="pays = True"):
        m.ledger.centre(1.0)
    with pytest.raises(UserError, match="pays = True"):
        m.ledger.authorities(np.ones(m.authorities.n))
    with pytest.raises(UserError, match="pays = True"):
        m.ledger.centre_units(1.0, 3)


@pytest.mark.parametrize("overrides", [{}, {"metrics": "adoption"}])
def test_full_model_keeps_its_ledger(overrides):
    """The centre and leadership rules pay: the ledger is kept whatever the metric set."""
    p = load_scenario("next_practice.yaml", {"n_schools": 300, "n_authorities": 4, **overrides})
    m = NextPracticeModel(p, rng=1)
    assert m._keeps_ledger
    m.run(3)
    assert m.ledger.allowance_centre > 0.0
