"""Parameters that rules and strategies declare beside their code (issue 20, part 3)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.errors import UserError
from sim.core.registry import Param, declared_params
from sim.core.state import EXECUTIVE
from sim.model.model import NextPracticeModel
from sim.model.params import Params, factors, field_info, live_names, parameter_table
from sim.model.scenario import load_scenario, parse_assignment
from tests.conftest import SCENARIOS, small

BURIED = {  # the constants that were buried in rules, at today's values
    "judged.w_agenda": 0.8,
    "executive_heads.init_trust_exec": 0.8,
    "executive_heads.q_strong": 0.75,
    "executive_heads.q_weak": 0.10,
    "found_and_formalise.rel_trust_founded": 0.2,
    "stages.share_mainstream": 0.25,
    "brokering.rel_trust_brokered": 0.2,
    "field_trials.rel_signal_agenda": 0.1,
    "recombine.sd_log_cost": 0.3,
    "recombine.sd_difficulty_jitter": 0.1,
    "recombine.clip_t": 5.0,
    "depth_and_ownership.slow_difficulty": 0.5,
}
BURIED_CORE = {  # model-level constants that became core parameters, at their old values
    "difficulty_focus": 0.5,
    "rel_engagement_collab": 0.2,
    "rel_evidence_observe": 0.5,
    "init_depth": 0.5,
}


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_are_todays_constants_and_listed_everywhere():
    p = Params()
    names = {r["name"] for r in parameter_table()}
    for key, value in BURIED.items():
        assert p.declared[key] == value
        assert key in names
        info = field_info(key)
        assert info["meaning"] and info["unit"] and info["kind"] in ("lever", "uncertainty")
    assert "judged.w_agenda" in factors()
    assert Params().head_openness_a == 3.0 and Params().sd_head_ingenuity == 0.5
    for name, value in BURIED_CORE.items():
        assert getattr(p, name) == value and name in names
        info = field_info(name)
        assert info["meaning"] and info["kind"] == "uncertainty" and info["sweep"]


def test_the_former_constants_act_on_a_run():
    """Each new parameter reaches the code it replaced a constant in."""
    base = small(n_schools=60)
    m = NextPracticeModel(base.model_copy(update={"init_depth": 0.8}))
    run = m.schools.slot_depth[m.schools.slot_p >= 0]
    assert len(run) and (run == 0.8).all()
    m = NextPracticeModel(base.model_copy(update={"difficulty_focus": 0.25}))
    assert np.array_equal(m.room(), m.schools.capacity * base.n_focus * 0.25)
    m = NextPracticeModel(base.model_copy(update={"rel_evidence_observe": 0.0}))
    assert m.sd_observe_eff == base.sd_observe


def test_experiment_helpers_see_declared_factors():
    from sim.experiments import declared_factors

    f = declared_factors(Params)
    assert f["judged.w_agenda"].sweep == (0.4, 1.0)
    assert f["executive_heads.init_trust_exec"].upper == 1


def test_scenario_file_and_set_give_a_value(tmp_path):
    path = write(
        tmp_path, "extends: " + str(SCENARIOS / "workshop.yaml") + "\njudged.w_agenda: 0.3\n"
    )
    assert load_scenario(path).declared["judged.w_agenda"] == 0.3
    key, value = parse_assignment("judged.w_agenda=0.7")
    assert load_scenario(path, {key: value}).declared["judged.w_agenda"] == 0.7


def test_unknown_declared_key_lists_the_rules_keys(tmp_path):
    with pytest.raises(UserError, match="executive_heads.q_strong"):
        load_scenario(write(tmp_path, "executive_heads.q_stong: 0.5\n"))
    with pytest.raises(UserError, match="judged.w_agenda"):
        load_scenario(None, {"judged.foo": 1.0})
    with pytest.raises(UserError, match="no registered rule or strategy 'nope'"):
        load_scenario(None, {"nope.x": 1.0})


def test_out_of_range_and_wrong_type_refused(tmp_path):
    with pytest.raises(UserError, match="judged.w_agenda.*0 to 1"):
        load_scenario(write(tmp_path, "judged.w_agenda: 1.5\n"))
    with pytest.raises(UserError, match="is text, but judged.w_agenda is a number"):
        load_scenario(None, {"judged.w_agenda": "high"})


def test_declared_values_reach_summary_json():
    from sim.experiments.runner import run_model

    p = small(**{"judged.w_agenda": 0.5, "n_steps": 2})
    summary = run_model(p, seed=1).summary
    assert summary["params"]["declared"]["judged.w_agenda"] == 0.5
    assert summary["params"]["declared"]["stages.share_mainstream"] == 0.25
    assert Params.model_validate(summary["params"]) == p  # the summary rebuilds the params


def test_executive_tie_trust_is_the_declared_value():
    """Known answer: with adopt off, trust on a tie moves only by adoption, so every
    executive tie keeps exactly the trust it was made with."""
    p = small(
        **{"executive_heads.p_exec_head": 0.5},
        rules={"adopt": "off"},
        **{"executive_heads.init_trust_exec": 0.55},
    )
    m = NextPracticeModel(p, rng=3).run(12)
    t = m.ties
    exec_ties = t.kind[: t.n] == EXECUTIVE
    assert exec_ties.sum() > 0
    assert np.all(t.trust[: t.n][exec_ties] == 0.55)


def test_share_mainstream_direction():
    """A lower bar makes more practices mainstream (same seed, same run up to the bar)."""

    def mainstream(share):
        m = NextPracticeModel(small(**{"stages.share_mainstream": share}), rng=2).run(24)
        from sim.core.state import MAINSTREAM

        return int((m.practices.stage[: m.practices.n] == MAINSTREAM).sum())

    assert mainstream(0.05) > mainstream(0.9)


def test_a_plugin_declares_a_live_parameter_without_engine_change(tmp_path):
    mod = tmp_path / "decl_plugin.py"
    mod.write_text(
        "from sim.rules import Param, Rule, register\n"
        "@register('shocks', 'test_counted')\n"
        "class Counted(Rule):\n"
        "    '''Test rule: counts into events what its parameter says.'''\n"
        "    params = {'k': Param(2, lo=0, hi=10, unit='1', kind='uncertainty', live=True,\n"
        "                         meaning='How many.', sweep=(0, 5),\n"
        "                         sweep_ref='a judgement: a test count')}\n"
        "    def apply(self, model):\n"
        "        model.events['counted'] = self.value(model, 'k')\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        p = load_scenario(
            write(
                tmp_path,
                "plugins: [decl_plugin]\nrules: {shocks: test_counted}"
                "\nn_schools: 60\ntest_counted.k: 4\n",
            )
        )
        assert p.declared["test_counted.k"] == 4
        assert "test_counted.k" in live_names() and "test_counted.k" in factors()
        m = NextPracticeModel(p, rng=1)
        m.step()
        assert m.events["counted"] == 4
        m.set_control("test_counted.k", 7)
        m.step()
        assert m.events["counted"] == 7
        assert p.declared["test_counted.k"] == 4  # the caller's parameters are untouched
        with pytest.raises(UserError, match="test_counted.k"):
            m.set_control("test_counted.k", 11)
        with pytest.raises(UserError, match="cannot change during a run"):
            m.set_control("judged.w_agenda", 0.1)
    finally:
        sys.path.remove(str(tmp_path))


def test_bad_declarations_are_refused():
    with pytest.raises(ValueError, match="outside its own range"):
        Param(2.0, lo=0, hi=1, unit="1", kind="uncertainty", meaning="x")
    with pytest.raises(ValueError, match="kind"):
        Param(0.5, unit="1", kind="knob", meaning="x")


@settings(max_examples=60, deadline=None)
@given(
    key=st.sampled_from(sorted(BURIED)) | st.text(min_size=1, max_size=12),
    value=st.one_of(
        st.floats(allow_nan=True), st.integers(), st.text(max_size=5), st.booleans(), st.none()
    ),
)
def test_hostile_declared_values_give_a_user_error_or_a_valid_value(key, value):
    """Any key and value: either accepted within the declaration, or a one-line UserError."""
    try:
        p = load_scenario(None, {key: value})
    except UserError as exc:
        assert str(exc)
        return
    if "." in key:
        spec = declared_params()[key]
        assert spec.check(p.declared[key]) is None
