"""Invariants that hold at every step, and determinism."""

import hashlib

import numpy as np
import pytest

from sim.core.state import EMPTY
from sim.model.model import NextPracticeModel
from sim.system.agents import Authority, Centre, Head, School
from tests.conftest import small


@pytest.mark.parametrize("strategy", ["top_down", "bottom_up", "next_practice"])
def test_state_stays_valid(strategy):
    m = NextPracticeModel(
        small(
            strategy=strategy,
            **{
                "heads_leave.p_head_leave": 0.05,
                "executive_heads.p_exec_head": 0.05,
                "budget_cut.t_budget_cut": 10,
                "budget_cut.n_authorities_cut": 2,
            },
        ),
        rng=3,
    )
    for _ in range(40):
        m.step()
        s = m.schools
        assert np.all((s.perf > 0) & (s.perf < 1))
        assert np.all((s.capacity >= 0) & (s.capacity <= 1))
        assert np.all((s.slot_depth >= 0) & (s.slot_depth <= 1 + 1e-12))
        assert np.all((s.slot_own >= 0) & (s.slot_own <= 1 + 1e-12))
        # Every school has a head in post; no practice twice in one school.
        assert np.all(m.heads.active[s.head])
        for row in s.slot_p:
            used = row[row != EMPTY]
            assert len(used) == len(set(used.tolist()))
        # Empty slots hold nothing.
        assert np.all(s.slot_depth[s.slot_p == EMPTY] == 0)


def test_heads_conserved_through_turnover():
    m = NextPracticeModel(small(**{"heads_leave.p_head_leave": 0.1}), rng=1)
    # Read the agents at the start, mid-run and at the end: the heads' agents
    # follow the arrays lazily, and must match them whenever they are read.
    for steps in (0, 13, 17):
        m.run(steps)
        active = np.flatnonzero(m.heads.active[: m.heads.n])
        # Heads in post are exactly those leading a school, and each has its Mesa agent.
        assert set(active.tolist()) == set(np.unique(m.schools.head).tolist())
        assert set(m.head_agents) == set(active.tolist())
        assert {a.idx for a in m.agents_by_type[Head]} == set(active.tolist())
        assert len(m.agents) == m.schools.n + len(active) + m.authorities.n + 1
    assert m.heads.n > m.schools.n  # turnover happened


def test_agents_are_made_when_first_read_numbered_as_if_at_construction():
    """No Mesa agent is made during a run nobody reads; when read, the ids are construction's.

    Schools first (1 to n), then authorities, then the centre, then the heads in post.
    """
    from mesa import Model

    for read_at in (0, 6):
        m = NextPracticeModel(small(), rng=2).run(read_at)
        assert len(Model.agents.fget(m)) == 0  # Mesa's own registry: nothing made yet
        ids = [a.unique_id for a in m.school_agents]
        n, n_la = m.schools.n, m.authorities.n
        assert ids == list(range(1, n + 1)) and [a.idx for a in m.school_agents] == list(range(n))
        assert [a.unique_id for a in m.authority_agents] == list(range(n + 1, n + n_la + 1))
        assert m.centre.unique_id == n + n_la + 1
        assert min(a.unique_id for a in m.head_agents.values()) == n + n_la + 2
    m = NextPracticeModel(small(), rng=2)
    m.remove_all_agents()  # those not yet made are gone too
    assert len(m.agents) == 0 and len(m.school_agents) == m.schools.n  # lists kept, as before


def test_agents_are_mesa_agents_reading_the_arrays(model):
    model.run(5)
    schools = model.agents_by_type[School]
    assert len(schools) == model.schools.n
    assert len(model.agents_by_type[Authority]) == model.authorities.n
    assert len(model.agents_by_type[Centre]) == 1
    a = schools[0]
    assert a.performance == pytest.approx(model.schools.perf[a.idx])
    assert a in a.head.schools
    assert a.authority.idx == model.schools.authority[a.idx]
    assert all(isinstance(n, School) for n in a.neighbours)


def _digest(seed, **kw):
    m = NextPracticeModel(small(**kw), rng=seed).run(30)
    return hashlib.sha256(m.metrics_frame().to_csv().encode()).hexdigest()


@pytest.mark.parametrize("strategy", ["top_down", "bottom_up", "next_practice"])
def test_same_seed_same_run(strategy):
    assert _digest(5, strategy=strategy) == _digest(5, strategy=strategy)
    assert _digest(5, strategy=strategy) != _digest(6, strategy=strategy)


def test_model_package_never_imports_plotting_or_app():
    import subprocess
    import sys

    code = (
        "import sys, sim.model.model, sim.experiments.runner, sim.model.scenario;"
        "bad=[m for m in ('matplotlib','solara') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
