"""Random numbers keyed by slot and decision: swapping a rule leaves the others' draws alone.

Issue 20, part 2, and issue 27. Each slot has a stream derived from the run's
seed and the slot's name, and each decision of its rule a key derived from
that stream and the decision's name (:mod:`sim.core.draws`); the structure
builder reads its own stream in order. These tests compare runs that differ in
one rule and check that what other rules decide is identical, number for
number, and that no shipped rule reads a stream in order any more.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from sim.core.registry import (
    STEP_ORDER,
    STRUCTURE_STREAM,
    Rule,
    register,
    stream_key,
    stream_keys,
)
from sim.model.model import NextPracticeModel
from tests.conftest import ROOT, small


@register("invent", "test_draws_a_lot")
class DrawsALot(Rule):
    """Test rule: invents nothing but draws many numbers from its stream each step."""

    def apply(self, model):
        """Draw and discard."""
        self.rng.random(10_000)
        self.kernel_rng.generator.normal(size=777)


def _initial(m: NextPracticeModel) -> dict[str, np.ndarray]:
    s, h, t = m.schools, m.heads, m.ties
    return {
        "authority": s.authority.copy(),
        "town": s.town.copy(),
        "phase": s.phase.copy(),
        "perf": s.logit_perf.copy(),
        "capacity": s.capacity.copy(),
        "slots": s.slot_p.copy(),
        "openness": h.openness[: h.n].copy(),
        "ingenuity": h.ingenuity[: h.n].copy(),
        "tie_a": t.a[: t.n].copy(),
        "tie_b": t.b[: t.n].copy(),
        "effect": m.practices.effect[: m.practices.n].copy(),
    }


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("invent", ["off", "test_draws_a_lot"])
def test_swapping_invent_leaves_initial_system_and_turnover_identical(invent):
    """Turnover's leavers and their replacements, and the initial system, do not move.

    ``lead`` and ``collaborate`` are off in both runs: executive takeovers
    retire heads and collaboratives fade with their founders, and both depend
    on performance, which invention changes (a causal link, not a shared
    stream). With them off, who is in post depends on turnover's stream alone.
    """
    base = {"lead": "off", "collaborate": "off"}
    a = NextPracticeModel(small(rules=base), rng=11)
    b = NextPracticeModel(small(rules={**base, "invent": invent}), rng=11)
    assert _same(_initial(a), _initial(b))
    a.run(36)
    b.run(36)
    ha, hb = a.heads, b.heads
    assert ha.n == hb.n and ha.n > a.schools.n  # heads left and were replaced
    for col in ("active", "start", "openness", "ingenuity", "appetite"):
        assert np.array_equal(getattr(ha, col)[: ha.n], getattr(hb, col)[: hb.n]), col
    # ...while invention itself did differ.
    assert a.practices.n != b.practices.n


def test_switching_lead_off_leaves_step_one_exchanges_identical():
    """``hear`` runs before ``lead``; with its own stream, lead's draws cannot move it."""
    a = NextPracticeModel(small(), rng=5)
    b = NextPracticeModel(small(rules={"lead": "off"}), rng=5)
    a.step()
    b.step()
    assert len(a.heard.school) > 0
    for col in ("school", "practice", "tie"):
        assert np.array_equal(getattr(a.heard, col), getattr(b.heard, col))


def test_strategy_does_not_move_the_initial_system():
    """The structure stream is the strategy's neither: same seed, same schools and ties."""
    a = NextPracticeModel(small(strategy="top_down"), rng=2)
    b = NextPracticeModel(small(strategy="bottom_up"), rng=2)
    assert _same(_initial(a), _initial(b))


def test_streams_differ_by_name_and_seed():
    """Each slot's stream is its own, and a different seed gives different streams."""
    m = NextPracticeModel(small(), rng=1)
    first = {
        name: m.rng_for(name).bit_generator.state["state"]["state"]
        for name in (*STEP_ORDER, STRUCTURE_STREAM)
    }
    assert len(set(first.values())) == len(first)
    other = NextPracticeModel(small(), rng=2).rng_for("adopt").bit_generator.state
    assert (
        other["state"]["state"]
        != NextPracticeModel(small(), rng=1).rng_for("adopt").bit_generator.state["state"]["state"]
    )


def test_rules_are_bound_to_their_slots_stream():
    """The pipeline's rules draw under keys of their slot's stream, and nothing else."""
    m = NextPracticeModel(small(), rng=4)
    seen = set()
    for rule in m._pipeline:
        assert rule.rng is m.rng_for(rule.slot)
        assert rule.kernel_rng.generator is rule.rng
        assert np.array_equal(rule.keys, stream_keys(m.rng_for(rule.slot), rule.decisions))
        for i, name in enumerate(rule.decisions):
            assert np.array_equal(rule.key(name), rule.keys[i])
            seen.add(tuple(rule.keys[i].tolist()))
        assert len(rule.key("an undeclared decision")) == 2  # any name has a key
    assert len(seen) == sum(len(r.decisions) for r in m._pipeline)  # every key its own


def test_shipped_rules_read_no_stream_in_order():
    """Every shipped rule and strategy draws keyed numbers: no slot's stream moves in a run.

    A stream read in order pairs badly between runs that diverge (issue 27); each
    scenario family (the full model with a budget cut, the reduced modes) is run.
    """
    for params in (
        small(strategy="next_practice", **{"budget_cut.t_budget_cut": 2}),
        small(strategy="top_down"),
        small(strategy="bottom_up"),
        small(rules={"adopt": "bass"}, **{"classic.init_adopters": 3}),
        small(rules={"adopt": "si"}, **{"classic.init_adopters": 3}),
    ):
        m = NextPracticeModel(params, rng=3)
        before = {name: m.rng_for(name).bit_generator.state for name in STEP_ORDER}
        m.run(14)
        after = {name: m.rng_for(name).bit_generator.state for name in STEP_ORDER}
        assert before == after, params.strategy
        assert m.heads.n > m.schools.n and m.practices.n > params.n_practices_init


class _Renamed:
    """A view of a model whose streams have other names (as the workshop room's view does)."""

    def __init__(self, model):
        self._model = model

    def __getattr__(self, name):
        return getattr(self._model, name)

    def rng_for(self, name):
        return self._model.rng_for(f"room:{name}")

    def kernel_rng_for(self, name):
        return self._model.kernel_rng_for(f"room:{name}")


def test_a_rule_bound_to_a_view_with_its_own_streams_draws_under_its_own_keys():
    """Keys follow the stream a rule is bound to: the room's view draws apart from the rules."""
    from sim.rules import RULES

    m = NextPracticeModel(small(), rng=6)
    rule = RULES["invent"]["recombine"](m)
    apart = RULES["invent"]["recombine"](_Renamed(m))
    assert not np.array_equal(rule.keys, apart.keys)
    assert np.array_equal(apart.keys, stream_keys(m.rng_for("room:invent"), apart.decisions))


def test_shipped_rules_never_draw_from_mesas_generator():
    """Mesa's ``model.rng`` is left for user code: a run leaves its state as it was."""
    m = NextPracticeModel(small(strategy="next_practice", **{"budget_cut.t_budget_cut": 3}), rng=9)
    before = m.rng.bit_generator.state
    m.run(12)
    assert m.rng.bit_generator.state == before


def test_stream_key_is_sha256_of_the_name():
    """Known answer: the low 8 bytes of SHA-256, little-endian; no Python ``hash()``."""
    want = int.from_bytes(hashlib.sha256(b"adopt").digest()[:8], "little")
    assert stream_key("adopt") == want
    assert stream_key("adopt") != stream_key("hear")


def test_same_seed_same_run_across_processes_and_hash_seeds():
    """A fresh interpreter with another PYTHONHASHSEED gives the same numbers."""
    code = (
        "from sim.model.model import NextPracticeModel\nfrom tests.conftest import small\n"
        "m = NextPracticeModel(small(), rng=21).run(6)\n"
        "print(repr(float(m.schools.logit_perf.sum())))\n"
    )
    out = []
    for hs in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hs}
        res = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        out.append(res.stdout.strip())
    here = NextPracticeModel(small(), rng=21).run(6)
    assert out[0] == out[1] == repr(float(here.schools.logit_perf.sum()))


def test_a_rule_alone_needs_its_stream():
    """Applying an unbound rule says how to bind it, instead of failing inside a kernel."""
    from sim.core.errors import UserError
    from sim.rules import RULES

    m = NextPracticeModel(small(), rng=1)
    with pytest.raises(UserError, match="bind"):
        RULES["hear"]["word_of_mouth"]().apply(m)
    RULES["hear"]["word_of_mouth"](m).apply(m)  # bound at construction


def test_strategy_keys_are_its_streams_and_follow_a_new_binding():
    """``keys_of`` remembers the keys it made, for the stream they were made for.

    The same as :func:`stream_keys` of the strategy's stream; a strategy bound to
    another model (another seed) gets that stream's keys, not the remembered ones;
    a copy of the model keeps them right.
    """
    import copy

    from sim.rules.strategies.field_trials import DECISIONS

    a = NextPracticeModel(small(), rng=1)
    st = a.strategy
    first = st.keys_of(DECISIONS)
    assert st.keys_of(DECISIONS) is first
    assert np.array_equal(first, stream_keys(a.rng_for("centre"), DECISIONS))
    c = copy.deepcopy(a)
    assert np.array_equal(c.strategy.keys_of(DECISIONS), first)
    b = NextPracticeModel(small(), rng=2)
    st.bind(b)
    assert np.array_equal(st.keys_of(DECISIONS), stream_keys(b.rng_for("centre"), DECISIONS))
    assert not np.array_equal(st.keys_of(DECISIONS), first)
