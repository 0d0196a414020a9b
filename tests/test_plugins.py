"""Plug-ins found beside the scenario file, hashed in results, and their errors (issue 20 part 5,
issue 21's plug-in edges)."""

from __future__ import annotations

import hashlib
import json
import sys
import textwrap
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.errors import UserError
from sim.core.registry import REPLACED, RULES, register
from sim.model.model import NextPracticeModel
from sim.model.plugins import import_plugins, locate
from sim.model.scenario import load_scenario


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _rule_plugin(rule: str, extra: str = "") -> str:
    return textwrap.dedent(f"""\
        from sim.rules import Rule, register
        @register('invent', '{rule}')
        class Quiet(Rule):
            '''Test rule: no invention.'''
            def apply(self, model):
                pass
        {extra}""")


def test_plugin_beside_the_scenario_needs_no_pythonpath(tmp_path):
    rule = _unique("beside")
    mod = _unique("beside_mod")
    (tmp_path / f"{mod}.py").write_text(_rule_plugin(rule))
    scen = tmp_path / "s.yaml"
    scen.write_text(f"plugins: [{mod}]\nrules: {{invent: {rule}}}\nn_schools: 60\n")
    assert str(tmp_path) not in sys.path
    p = load_scenario(scen)
    assert p.plugins == (str((tmp_path / f"{mod}.py").resolve()),)
    assert NextPracticeModel(p, rng=1).run(3).metrics_frame()["invented"].iloc[-1] == 0


def test_plugin_as_relative_path_and_beside_an_extended_file(tmp_path):
    lib = tmp_path / "base" / "lib"
    lib.mkdir(parents=True)
    rule = _unique("extended")
    mod = _unique("ext_mod")
    (lib / f"{mod}.py").write_text(_rule_plugin(rule))
    (tmp_path / "base" / "base.yaml").write_text(f"plugins: [lib/{mod}.py]\nn_schools: 60\n")
    child = tmp_path / "child"
    child.mkdir()
    (child / "c.yaml").write_text(f"extends: ../base/base.yaml\nrules: {{invent: {rule}}}\n")
    p = load_scenario(child / "c.yaml")
    assert p.rules == {"invent": rule}
    # A name the child gives is looked for beside the files it extends too.
    (child / "d.yaml").write_text(f"extends: ../base/base.yaml\nplugins: [lib/{mod}.py]\n")
    assert load_scenario(child / "d.yaml").plugins == p.plugins


def test_summary_records_each_plugins_sha256(tmp_path):
    from sim.experiments.runner import run_model

    rule = _unique("hashed")
    mod = _unique("hashed_mod")
    src = _rule_plugin(rule)
    (tmp_path / f"{mod}.py").write_text(src)
    (tmp_path / "s.yaml").write_text(f"plugins: [{mod}.py]\nn_schools: 60\nn_steps: 2\n")
    p = load_scenario(tmp_path / "s.yaml")
    summary = run_model(p, seed=1).summary
    rec = summary["plugins"]["files"][p.plugins[0]]
    assert rec["sha256"] == hashlib.sha256(src.encode()).hexdigest()
    json.dumps(summary, default=str)  # summary.json can be written


def test_relative_module_names_refused(tmp_path):
    with pytest.raises(UserError, match="relative module names"):
        locate(".foo", [tmp_path])
    (tmp_path / "s.yaml").write_text("plugins: [.foo]\n")
    with pytest.raises(UserError, match=r"s.yaml: key 'plugins'.*relative"):
        load_scenario(tmp_path / "s.yaml")


def test_missing_plugin_says_where_it_looked(tmp_path):
    (tmp_path / "s.yaml").write_text("plugins: [no_such_plugin_xyz]\n")
    with pytest.raises(UserError, match="no_such_plugin_xyz.*beside the scenario"):
        load_scenario(tmp_path / "s.yaml")
    (tmp_path / "t.yaml").write_text("plugins: [nothere.py]\n")
    with pytest.raises(UserError, match="no such file"):
        load_scenario(tmp_path / "t.yaml")


def test_syntax_error_names_the_plugin_and_its_line_only(tmp_path):
    mod = _unique("broken")
    (tmp_path / f"{mod}.py").write_text("x = 1\ndef f(:\n    pass\n")
    with pytest.raises(UserError) as got:
        import_plugins([mod], [tmp_path])
    msg = str(got.value)
    assert mod in msg and "SyntaxError" in msg and "line 2" in msg
    assert "sim/model/plugins.py" not in msg and "importlib" not in msg


def test_plugin_raising_on_import_shows_its_own_frames_only(tmp_path):
    mod = _unique("raises")
    (tmp_path / f"{mod}.py").write_text(
        "def helper():\n    raise RuntimeError('bad config in plug-in')\n\nhelper()\n"
    )
    with pytest.raises(UserError) as got:
        import_plugins([f"{mod}.py"], [tmp_path])
    msg = str(got.value)
    assert "RuntimeError: bad config in plug-in" in msg
    assert f'{mod}.py", line 4' in msg and f'{mod}.py", line 2' in msg
    assert "sim/model/plugins.py" not in msg and "<frozen" not in msg
    assert mod not in sys.modules  # a failed plug-in leaves nothing half-imported


def test_registering_a_taken_name_is_refused_naming_both_modules(tmp_path):
    mod = _unique("clash")
    (tmp_path / f"{mod}.py").write_text(
        textwrap.dedent("""\
        from sim.rules import Rule, register
        @register('adopt', 'judged')
        class Mine(Rule):
            '''Test rule: would replace the built-in silently.'''
            def apply(self, model):
                pass
        """)
    )
    with pytest.raises(UserError) as got:
        import_plugins([mod], [tmp_path])
    msg = str(got.value)
    assert "sim.rules.judged" in msg and mod in msg and "replace=True" in msg
    assert RULES["adopt"]["judged"].__module__ == "sim.rules.judged"


def test_replace_true_replaces_and_is_recorded(tmp_path):
    from sim.experiments.runner import run_model

    mod = _unique("replacer")
    (tmp_path / f"{mod}.py").write_text(
        textwrap.dedent("""\
        from sim.rules import Rule, register
        @register('shocks', 'budget_cut', default=True, replace=True)
        class NoCuts(Rule):
            '''Test rule: budgets are never cut.'''
            def apply(self, model):
                pass
        """)
    )
    from sim.rules import DEFAULTS

    builtin = RULES["shocks"]["budget_cut"]
    try:
        (tmp_path / "s.yaml").write_text(f"plugins: [{mod}]\nn_schools: 60\nn_steps: 1\n")
        p = load_scenario(tmp_path / "s.yaml")
        assert RULES["shocks"]["budget_cut"].__module__ == mod
        rec = run_model(p, seed=1).summary["plugins"]["replaced"]
        assert {
            "what": "rule for slot 'shocks'",
            "name": "budget_cut",
            "replaced": "sim.rules.budget_cut",
            "by": mod,
        } in rec
    finally:  # put the built-in back for the other tests of this process
        RULES["shocks"]["budget_cut"] = builtin
        DEFAULTS["shocks"] = "budget_cut"
        REPLACED[:] = [r for r in REPLACED if r["by"] != mod]


def test_same_module_registering_again_is_not_a_clash():
    """A module re-imported (e.g. reloaded in a notebook) may register its names again."""
    cls = RULES["adopt"]["judged"]
    again = type("JudgedAdoption", (cls,), {"__module__": cls.__module__})
    try:
        register("adopt", "judged", default=True)(again)
    finally:
        register("adopt", "judged", default=True)(cls)


@settings(max_examples=60, deadline=None)
@given(
    spec=st.one_of(
        st.text(max_size=20).map(lambda s: "zzq_no_such_" + s),
        st.text(max_size=20).map(lambda s: "." + s),
        st.text(max_size=20).map(lambda s: s + ".py"),
        st.text(max_size=20).map(lambda s: "sub/" + s),
    )
)
def test_hostile_plugin_specs_give_a_user_error(tmp_path_factory, spec):
    """Names no module has, relative names and missing paths: always a UserError."""
    d = tmp_path_factory.mktemp("hostile")
    with pytest.raises(UserError) as got:
        import_plugins([spec], [d])
    assert str(got.value).splitlines()[0]
