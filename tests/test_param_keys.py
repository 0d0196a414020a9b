"""Whose key a declared parameter has: the class that declares it (sim.core.registry).

Each mechanism declares the parameters only it reads, under its own name
(``judged.threshold_adopt``, ``brokering.n_broker``); a plug-in's subclass of a
built-in reads its parent's keys; every strategy reads the keys of the centre's
mechanisms. A key under a name that reads the parameter elsewhere, a numpy
form's former name (``judged_numpy.w_agenda``) or a parameter's former place
(``rate_perf``, ``centre.rel_trust_brokered``) is refused, naming the key to set.
Both forms of every rule read the same keys (the form is the run setting
``compiled``, not a name).
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.errors import UserError
from sim.core.registry import (
    DEFAULTS,
    RULES,
    STEP_ORDER,
    STRATEGIES,
    Param,
    Rule,
    declared_params,
    declaring_class,
    key_hint,
    namespace_of,
    owners,
    param_key,
    param_keys,
    register,
    register_strategy,
)
from sim.experiments.designs import keys_in_use
from sim.model.model import NextPracticeModel
from sim.model.params import Params, parameter_table
from sim.model.scenario import load_scenario
from sim.rules.judged import JudgedAdoption
from sim.rules.strategies import TopDown
from tests.conftest import small


def _registered() -> list[tuple[str, type]]:
    return [(name, cls) for slot in STEP_ORDER for name, cls in RULES[slot].items()] + list(
        STRATEGIES.items()
    )


def _own(klass: type) -> dict:
    own = klass.__dict__.get("params")
    return dict(own) if isinstance(own, dict) else {}


@contextmanager
def registered(slot: str | None, name: str, cls: type):
    """Register ``cls`` (a rule for ``slot``, or a strategy if None) for one test only."""
    table = STRATEGIES if slot is None else RULES[slot]
    assert name not in table
    try:
        (register_strategy(name) if slot is None else register(slot, name))(cls)
        yield cls
    finally:
        table.pop(name, None)


def _run(steps: int = 30, **kw):
    p = Params(
        **{
            "n_schools": 150,
            "n_authorities": 3,
            "executive_heads.p_exec_head": 0.2,
            "found_and_formalise.p_collab_form": 0.05,
            "n_steps": steps,
            **kw,
        }
    )
    return NextPracticeModel(p, rng=7).run(steps).metrics_frame()


# ------------------------------------------------------------------- both forms, one key
def test_a_key_acts_alike_on_both_forms():
    """judged.w_agenda set: the numpy forms' run is the compiled run with it, bit for bit."""
    set_ = {"judged.w_agenda": 0.3}
    compiled = _run(**set_)
    readable = _run(compiled=False, **set_)
    assert compiled.equals(readable)
    assert not readable.equals(_run(compiled=False))  # the key acts on it


def test_every_key_reaches_both_forms_of_every_rule_and_strategy():
    """Every declared key moved off its default: the numpy forms give the compiled run bit
    for bit, and not the default's."""
    moved = {}
    for key, spec in declared_params().items():
        if owners()[key].__module__ == "sim.rules.classic":
            continue  # the reduced modes: not in these runs
        lo = spec.lo if spec.lo is not None else spec.default - 1
        hi = spec.hi if spec.hi is not None else spec.default + 1
        value = spec.default + 0.5 * (
            (hi if spec.default - lo < hi - spec.default else lo) - spec.default
        )
        moved[key] = type(spec.default)(value)
        assert moved[key] != spec.default and spec.check(moved[key]) is None, key
    moved["budget_cut.t_budget_cut"] = 10  # a cut within the run
    moved["budget_cut.n_authorities_cut"] = 2
    for strategy in ("next_practice", "top_down"):
        compiled = _run(strategy=strategy, **moved)
        readable = _run(strategy=strategy, compiled=False, **moved)
        assert compiled.equals(readable), strategy
        assert not readable.equals(_run(strategy=strategy, compiled=False)), strategy


def test_a_strategy_key_reaches_both_forms_of_the_strategy():
    """brokering.rel_trust_brokered acts through the numpy forms as through the kernels."""
    kw = {"strategy": "next_practice", "field_trials.dur_cycle": 6.0, "tightness": 0.7}
    set_ = {"brokering.rel_trust_brokered": -0.5}
    compiled = _run(60, **kw, **set_)
    readable = _run(60, compiled=False, **kw, **set_)
    assert compiled.equals(readable)
    assert not readable.equals(_run(60, compiled=False, **kw))


@pytest.mark.parametrize(
    ("wrong", "right"),
    [
        ("judged_numpy.w_agenda", "judged.w_agenda"),
        ("executive_heads_numpy.q_strong", "executive_heads.q_strong"),
        ("next_practice.rel_trust_brokered", "brokering.rel_trust_brokered"),
        ("top_down_numpy.rel_signal_agenda", "field_trials.rel_signal_agenda"),
        ("centre.rel_trust_brokered", "brokering.rel_trust_brokered"),
        ("centre.n_broker", "brokering.n_broker"),
        ("rate_perf", "practice_effects.rate_perf"),
        ("p_bass", "bass.p_bass"),
        ("n_trials", "field_trials.n_trials"),
    ],
)
def test_a_key_under_a_name_that_reads_it_elsewhere_is_refused_naming_the_key(
    tmp_path, wrong, right
):
    with pytest.raises(UserError, match=f"set '{right}'.* instead"):
        load_scenario(None, {wrong: 0.3})
    path = tmp_path / "s.yaml"
    path.write_text(f"{wrong}: 0.3\n")
    with pytest.raises(UserError, match=f"{path}: unknown key '{wrong}'.*set '{right}'") as exc:
        load_scenario(path)
    assert "\n" not in str(exc.value)  # one line
    with pytest.raises(ValueError, match=f"set '{right}'.* instead"):
        Params(**{wrong: 0.3})
    assert right in key_hint(wrong)
    assert key_hint(right) is None and key_hint("judged.nope") is None


@pytest.mark.parametrize(
    ("where", "name"), [("rules", "adopt: judged_numpy"), ("strategy", "top_down_numpy")]
)
def test_a_numpy_form_named_as_a_rule_is_refused_naming_the_setting(tmp_path, where, name):
    path = tmp_path / "s.yaml"
    path.write_text(f"{where}: {{{name}}}\n" if where == "rules" else f"{where}: {name}\n")
    with pytest.raises(UserError, match="compiled: false") as exc:
        load_scenario(path)
    plain = name.split(": ")[-1].removesuffix("_numpy")
    assert f"write '{plain}'" in str(exc.value) and "\n" not in str(exc.value)


def test_a_former_key_as_an_experiment_factor_names_the_key(tmp_path):
    from sim.experiments import plan_experiment

    for wrong, right in (
        ("judged_numpy.w_agenda", "judged.w_agenda"),
        ("p_invent", "recombine.p_invent"),
    ):
        exp = tmp_path / "e.yaml"
        exp.write_text(
            "description: t\nsteps: 2\nroot_seed: 1\n"
            "design:\n  method: lhs\n  n: 4\n  factors:\n"
            f"    {wrong}: {{range: [0.4, 0.9]}}\n"
        )
        with pytest.raises(UserError, match=f"set '{right}'.* instead"):
            plan_experiment(exp)


def test_summary_and_listing_have_one_key_per_parameter():
    from sim.experiments.runner import run_model

    p = small(n_steps=2, compiled=False, **{"judged.w_agenda": 0.5})
    summary = run_model(p, seed=1).summary["params"]
    declared = summary["declared"]
    assert declared["judged.w_agenda"] == 0.5 and "brokering.rel_trust_brokered" in declared
    assert summary["compiled"] is False
    assert not [k for k in declared if "_numpy." in k]
    names = [r["name"] for r in parameter_table()]
    assert len(names) == len(set(names))
    strategies = {"top_down", "bottom_up", "next_practice", "centre"}
    assert not [n for n in names if n.split(".", 1)[0] in strategies]  # the mechanisms' own


def test_sampled_designs_keep_the_keys_the_bases_read():
    """A rule no base runs adds none of its keys."""
    plain = keys_in_use([{"strategy": "next_practice"}])
    # What the default rules and next practice read (other tests in this process may have
    # registered plug-ins, whose keys declared_params() lists too and no base here reads).
    read = {
        key for slot, name in DEFAULTS.items() for key in param_keys(RULES[slot][name]).values()
    }
    assert plain == read | set(param_keys(STRATEGIES["next_practice"]).values())
    assert plain <= set(declared_params())
    bass = keys_in_use([{"strategy": "top_down", "rules": {"adopt": "bass"}}])
    assert "judged.w_agenda" not in bass and "stages.share_mainstream" in bass
    assert "bass.p_bass" in bass and "classic.init_adopters" in bass


# --------------------------------------------------------------- plug-in subclasses
class Variant(JudgedAdoption):
    """Test: the built-in judged adoption, unchanged, with one parameter of its own."""

    params = {
        "extra": Param(
            1.0,
            lo=0,
            hi=2,
            unit="1",
            kind="uncertainty",
            meaning="x",
            sweep=(0.5, 1.5),
            sweep_ref="test",
        )
    }


class Redeclared(JudgedAdoption):
    """Test: judged adoption with its own default for w_agenda."""

    params = {
        "w_agenda": Param(
            0.5,
            lo=0,
            hi=1,
            unit="1",
            kind="uncertainty",
            meaning="x",
            sweep=(0.4, 1.0),
            sweep_ref="test",
        )
    }


class Repeated(JudgedAdoption):
    """Test: repeats its base's declarations (the same Param objects) and adds one."""

    params = {
        **JudgedAdoption.params,
        "extra": Param(1.0, lo=0, hi=2, unit="1", kind="setting", meaning="x"),
    }


def test_a_plugin_subclass_reads_its_parents_key_and_keys_its_own():
    with registered("adopt", "test_variant", Variant):
        assert param_keys(Variant) == {
            **{n: f"judged.{n}" for n in JudgedAdoption.params},
            "extra": "test_variant.extra",
        }
        keys = declared_params()
        assert "test_variant.extra" in keys and "test_variant.w_agenda" not in keys
        set_ = {"judged.w_agenda": 0.3, "test_variant.extra": 1.5}
        assert _run(rules={"adopt": "test_variant"}, **set_).equals(
            _run(rules={"adopt": "judged"}, **set_)
        )
        with pytest.raises(UserError, match="set 'judged.w_agenda' instead"):
            load_scenario(None, {"test_variant.w_agenda": 0.3})
    assert "test_variant.extra" not in declared_params()


def test_a_redeclared_parameter_is_the_subclass_own():
    with registered("adopt", "test_redeclared", Redeclared):
        assert param_key(Redeclared, "w_agenda") == "test_redeclared.w_agenda"
        p = Params(rules={"adopt": "test_redeclared"})
        assert p.declared["test_redeclared.w_agenda"] == 0.5
        assert p.declared["judged.w_agenda"] == 0.8  # a built-in's key: listed, not read
        m = NextPracticeModel(p, rng=1)
        rule = next(r for r in m._pipeline if isinstance(r, Redeclared))
        assert rule.value(m, "w_agenda") == 0.5
        m.p.declared["judged.w_agenda"] = 0.1  # the parent's key is not the subclass's
        assert rule.value(m, "w_agenda") == 0.5
        m.p.declared["test_redeclared.w_agenda"] = 0.2
        assert rule.value(m, "w_agenda") == 0.2


def test_repeating_the_bases_declaration_is_not_a_redeclaration():
    with registered("adopt", "test_repeated", Repeated):
        assert param_keys(Repeated) == {
            **{n: f"judged.{n}" for n in JudgedAdoption.params},
            "extra": "test_repeated.extra",
        }


def test_an_unregistered_declaring_base_needs_a_namespace():
    class Base(Rule):
        """Test base: declares, is not registered."""

        params = {"k": Param(1, lo=0, hi=5, unit="1", kind="setting", meaning="x")}

    class Leaf(Base):
        """Test leaf."""

    with pytest.raises(UserError, match="params_namespace"):
        register("shocks", "test_leaf")(Leaf)
    assert "test_leaf" not in RULES["shocks"]

    class Named(Rule):
        """Test base with a namespace."""

        params_namespace = "test_family"
        params = {"k": Param(1, lo=0, hi=5, unit="1", kind="setting", meaning="x")}

    class Member(Named):
        """Test member."""

    with registered("shocks", "test_member", Member):
        assert param_key(Member, "k") == "test_family.k"
        assert declared_params()["test_family.k"] is Named.params["k"]


def test_a_namespace_has_one_declaring_class():
    class Squatter(Rule):
        """Test: declares under the brokering mechanism's namespace."""

        params = {
            "rel_trust_brokered": Param(0.0, lo=-1, hi=1, unit="1", kind="lever", meaning="x")
        }

    with pytest.raises(UserError, match="'brokering'.*sim.rules.strategies.brokering.Brokering"):
        register("shocks", "brokering")(Squatter)
    assert "brokering" not in RULES["shocks"]


def test_a_class_that_declares_is_registered_under_one_name():
    once = type("Once", (JudgedAdoption,), {"params": dict(Variant.params), "__doc__": "t"})
    with registered("adopt", "test_once", once):
        with pytest.raises(UserError, match="registered as 'test_once'"):
            register("adopt", "test_twice")(once)
    assert "test_twice" not in RULES["adopt"]


# --------------------------------------------------------------- properties
def test_every_key_has_one_declaring_class_and_every_class_resolves_its_params():
    seen: dict[str, str] = {}  # key -> its declaring class (module.qualname)
    table = declared_params()
    for name, cls in _registered():
        for pname, key in param_keys(cls).items():
            owner = declaring_class(cls, pname)
            assert pname in _own(owner), (name, pname)
            assert key == f"{namespace_of(owner)}.{pname}"
            qual = f"{owner.__module__}.{owner.__qualname__}"  # a reloaded copy is the same
            assert seen.setdefault(key, qual) == qual, (key, seen[key], qual)
            assert table[key] == _own(owner)[pname]
            if owner is not cls and issubclass(cls, owner) and pname not in _own(cls):
                assert not key.startswith(f"{name}."), (name, key)  # its parent's key
    assert set(seen) == set(table)  # every listed key is read by a registered class
    assert not [k for k in table if k.split(".")[0].endswith("_numpy")]
    mechanisms = ("stance", "mandate", "field_trials", "brokering", "monitoring")
    assert {k.split(".")[0] for k in param_keys(TopDown).values()} == set(mechanisms)


#: One class of a generated chain: declares nothing, a fresh Param, or repeats its base's.
_MOVES = st.lists(st.sampled_from(["none", "fresh", "repeat"]), min_size=1, max_size=5)


@settings(max_examples=80, deadline=None)
@given(moves=_MOVES, named=st.lists(st.booleans(), min_size=5, max_size=5))
def test_a_parameter_is_read_from_the_class_that_made_its_declaration(moves, named):
    """Generated class chains: the key's namespace is that of the class that created the
    Param object the leaf sees (a fresh declaration), whatever repeats it below."""
    base: type = Rule
    maker: int | None = None  # index of the class that created the Param in force
    for i, move in enumerate(moves):
        attrs: dict = {"__doc__": "generated", "name": f"c{i}"}
        if not named[i]:
            attrs = {"__doc__": "generated", "params_namespace": f"n{i}"}
        parent = dict(base.__dict__.get("params") or {}) if base is not Rule else {}
        if move == "fresh":
            attrs["params"] = {
                "x": Param(float(i), lo=0, hi=10, unit="1", kind="setting", meaning="x")
            }
            maker = i
        elif move == "repeat" and "x" in (getattr(base, "params", None) or {}):
            attrs["params"] = {**parent, "x": base.params["x"]}
        base = type(f"C{i}", (base,), attrs)
    if maker is None:
        with pytest.raises(KeyError):
            param_key(base, "x")
        return
    ns = f"c{maker}" if named[maker] else f"n{maker}"
    assert param_key(base, "x") == f"{ns}.x"
    assert declaring_class(base, "x").__name__ == f"C{maker}"


def test_a_posterior_column_under_a_former_key_is_refused_naming_the_key():
    import pandas as pd

    from sim.experiments.posterior import check_posterior

    post = pd.DataFrame({"p_head_leave": [0.01, 0.02], "weight": [1.0, 1.0], "generation": 0})
    with pytest.raises(UserError, match="'heads_leave.p_head_leave'.*rename the column") as exc:
        check_posterior(post, "cal/posterior.parquet")
    assert str(exc.value).startswith("cal/posterior.parquet: column 'p_head_leave'")
    post = post.rename(columns={"p_head_leave": "heads_leave.p_head_leave"})
    assert list(check_posterior(post).columns)[0] == "heads_leave.p_head_leave"
