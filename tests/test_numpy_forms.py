"""Every compiled rule against its numpy form, bit for bit: the one switch ``compiled``.

Each rule's compute methods come in two forms side by side in its file: the
readable numpy method (``judge``) and its compiled kernel (``judge_compiled``).
The run setting ``compiled`` picks which runs (``compiled: false`` in a scenario,
``--set compiled=false``). Both forms draw the same keyed random numbers (the
one compiled implementation of :mod:`sim.core.draws`), and do the same
floating-point operations in the same order, so the comparison is exact (bit
for bit, and every slot's stream left as it was): on many random states of
small systems, rule by rule, then on whole runs of every shipped scenario with
each setting of the switch.
The judging (and judging with taking up), exchanging and recombining forms are
also checked on hostile random inputs (hypothesis).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sim.core.registry import compiled_twins
from sim.core.state import EMPTY
from sim.inputs.shipped import names
from sim.model.model import NextPracticeModel
from sim.model.scenario import load_scenario
from sim.rules import DEFAULTS, RULES, STEP_ORDER
from sim.rules.actions import ValueInputs
from sim.rules.judged import JudgedAdoption, JudgeInputs
from sim.rules.recombine import Recombination, RecombineInputs
from sim.rules.strategies import STRATEGIES
from sim.rules.word_of_mouth import WordOfMouth
from tests.conftest import small

TABLES = ("schools", "heads", "practices", "ties", "authorities", "collabs")

#: The default rules with compiled kernels: every slot but ``shocks`` (one draw, no loop).
COMPILED = [slot for slot in STEP_ORDER if slot != "shocks"]


def _bits(x):
    x = np.ascontiguousarray(x)
    return x.view(np.uint8) if x.dtype.kind == "f" else x


def _state(m: NextPracticeModel) -> dict:
    """Every array of every state table, the model's scalars, and what was heard."""
    out = {
        f"{t}.{k}": v
        for t in TABLES
        for k, v in vars(getattr(m, t)).items()
        if isinstance(v, np.ndarray)
    }
    out.update({f"{t}.n": np.array(getattr(m, t).n) for t in TABLES})
    out["agenda"], out["mandates"] = np.array(m.agenda), np.array(m.mandates, np.int64)
    out.update({f"heard.{k}": v for k, v in vars(m.heard).items()})
    out.update({f"counts.{k}": np.array(v) for k, v in m.counts.items()})
    return out


def _differences(a: NextPracticeModel, b: NextPracticeModel) -> list[str]:
    sa, sb = _state(a), _state(b)
    bad = [
        k
        for k in sa
        if sa[k].shape != sb[k].shape or not np.array_equal(_bits(sa[k]), _bits(sb[k]))
    ]
    for stream in (*STEP_ORDER, "structure"):  # every random stream left in the same state
        if a.rng_for(stream).bit_generator.state != b.rng_for(stream).bit_generator.state:
            bad.append(f"stream {stream}")
    return bad


def _readable(m: NextPracticeModel) -> NextPracticeModel:
    """The model set to run numpy forms (``compiled: false``), its strategy rebound."""
    m.p = m.p.model_copy(update={"compiled": False})
    m.strategy.bind(m)
    return m


def test_every_compiled_rule_has_its_numpy_form_beside_it():
    """Each default rule with a kernel pairs every ``X_compiled`` with its numpy ``X``.

    In the same class (one file), and the numpy form is what the class runs
    when nothing is bound (the readable form is the rule's own method).
    """
    for slot in COMPILED:
        cls = RULES[slot][DEFAULTS[slot]]
        twins = compiled_twins(cls)
        if slot != "centre":
            assert twins, slot
        kernels = {n for n in dir(cls) if n.endswith("_compiled")}
        assert set(twins.values()) == kernels, slot  # no kernel without its numpy form
        for name, twin in twins.items():
            assert name in vars(cls) and twin in vars(cls), (slot, name)  # side by side
    for name, cls in STRATEGIES.items():  # the centre's mechanisms, through each strategy
        assert set(compiled_twins(cls)) >= {"pick_best", "take_ups", "brokered"}, name


def test_no_numpy_form_is_a_registered_rule_of_its_own():
    """One registered name per rule: the form is a run setting, not a second rule."""
    for slot in STEP_ORDER:
        assert not [n for n in RULES[slot] if n.endswith("_numpy")], slot
    assert not [n for n in STRATEGIES if n.endswith("_numpy")]


def test_the_switch_binds_each_rule_to_one_form():
    compiled = NextPracticeModel(small(), rng=1)
    readable = NextPracticeModel(small(compiled=False), rng=1)
    for a, b in zip(compiled._pipeline, readable._pipeline, strict=True):
        for name, twin in compiled_twins(type(a)).items():
            assert getattr(a, name) is getattr(type(a), twin), (type(a).__name__, name)
            assert getattr(b, name) is getattr(type(b), name), (type(b).__name__, name)
    assert compiled.strategy.brokered is type(compiled.strategy).brokered_compiled
    assert readable.strategy.brokered is type(readable.strategy).brokered


def _random_states(n_states: int):
    """Small systems of varied size, parameters and strategy, run a random number of steps.

    Then some practices' stages are scrambled (a state no rule need have left).
    """
    rng = np.random.default_rng(2020)
    for k in range(n_states):
        params = small(
            n_schools=int(rng.integers(60, 260)),
            n_authorities=int(rng.integers(1, 5)),
            strategy=("next_practice", "top_down", "bottom_up")[k % 3],
            tightness=float(rng.random()),
            lever_agenda=float(rng.random()),
            lever_evidence=float(rng.random()),
            **{
                "recombine.p_invent": float(rng.random() * 0.05),
                "executive_heads.p_exec_head": float(rng.random() * 0.3),
                "found_and_formalise.p_collab_form": float(rng.random() * 0.1),
                "heads_leave.p_head_leave": float(rng.random() * 0.05),
                "field_trials.dur_cycle": 6.0,
            },
        )
        m = NextPracticeModel(params, rng=int(rng.integers(1 << 30))).run(int(rng.integers(0, 40)))
        # Scramble some practices' stages, so rules that settled the state have work to do.
        pr = m.practices
        hit = np.flatnonzero(rng.random(pr.n) < 0.3)
        pr.stage[hit] = rng.integers(0, 5, len(hit))
        yield m


#: Random states each rule's two forms are compared on. 32, not 24: with the fitted initial
#: spread (sd_perf_init 0.6) word of mouth (``hear``) acted on only 2 of the first 24, too
#: few to show the comparison is not of two rules that did nothing.
N_STATES = 32


@pytest.mark.parametrize("slot", COMPILED)
def test_each_rule_equals_its_numpy_form_on_random_states(slot):
    """Applied to the same state, the rule's two forms leave the same state.

    On ``N_STATES`` random states; the rule must change the state on some of them (so
    the comparison is not of two rules that did nothing).
    """
    rule = RULES[slot][DEFAULTS[slot]]
    changed = 0
    for k, m in enumerate(_random_states(N_STATES)):
        a, b = copy.deepcopy(m), _readable(copy.deepcopy(m))
        before = _state(m)
        rule(a).apply(a)  # each bound to its copy's stream of the slot, and to its form
        rule(b).apply(b)
        assert _differences(a, b) == [], (slot, k)
        after = _state(a)
        changed += any(
            not np.array_equal(_bits(before[x]), _bits(after[x]))
            for x in before
            if before[x].shape == after[x].shape
        ) or (a.rng_for(slot).bit_generator.state != m.rng_for(slot).bit_generator.state)
    assert changed >= 3, slot


@pytest.mark.parametrize("strategy", ["next_practice", "top_down", "bottom_up"])
def test_a_run_on_numpy_forms_equals_the_compiled_run_step_by_step(strategy):
    """``compiled: false``: the same run, step by step, every table bit for bit."""
    params = small(
        strategy=strategy,
        n_schools=150,
        tightness=0.7,
        **{
            "executive_heads.p_exec_head": 0.2,
            "found_and_formalise.p_collab_form": 0.05,
            "heads_leave.p_head_leave": 0.03,
            "field_trials.dur_cycle": 6.0,
        },
    )
    a = NextPracticeModel(params, rng=11)
    b = NextPracticeModel(params.model_copy(update={"compiled": False}), rng=11)
    assert b.strategy.take_ups is type(b.strategy).take_ups  # the numpy forms run
    for step in range(30):
        a.step()
        b.step()
        assert _differences(a, b) == [], step
    assert a.metrics_frame().equals(b.metrics_frame())
    assert a.practices.n > params.n_practices_init  # inventions happened on the way


#: Steps of each shipped scenario in the test of both settings (England is large).
STEPS = {"england": 12}


@pytest.mark.parametrize("name", names("scenarios"))
def test_every_shipped_scenario_runs_the_same_with_each_setting(name):
    """Every shipped scenario, ``compiled: true`` and ``compiled: false``: the same run."""
    steps = STEPS.get(Path(name).name, 36)
    runs = []
    for compiled in (True, False):
        p = load_scenario(name, {"compiled": compiled})
        m = NextPracticeModel(p, rng=5).run(min(steps, p.n_steps))
        runs.append(m)
    a, b = runs
    assert _differences(a, b) == [], name
    assert a.metrics_frame().equals(b.metrics_frame())
    assert a.adoption_frame().equals(b.adoption_frame())
    assert a.practices_frame().equals(b.practices_frame())


# ---------------------------------------------------------------- hostile inputs
def _values(rng, n, k, n_practices) -> ValueInputs:
    slot_p = rng.integers(-1, n_practices, (n, k)) if n_practices else np.full((n, k), -1)
    nobs = rng.integers(0, 20, (n, k)).astype(float)
    return ValueInputs(
        slot_p=slot_p,
        obs=rng.normal(0, 0.3, (n, k)) * nobs,
        nobs=nobs,
        budget=0.2 + rng.random(n) * 1.5,
        ev_prec=np.where(rng.random(n_practices) < 0.5, rng.random(n_practices) * 5, 0.0),
        ev_mean=rng.normal(0, 0.2, n_practices),
        cost=rng.random(n_practices) * 0.5,
        sd2=float(0.05 + rng.random()),
        lever=float(rng.random()),
        prec0=float(1 + rng.random() * 10),
        rel_cost=float(rng.random()),
    )


def _keys(seed: int, rows: int) -> np.ndarray:
    """Random draw keys (one row per decision), as :func:`sim.core.registry.stream_keys` gives."""
    return np.random.default_rng(seed).integers(0, 2**64, (rows, 2), dtype=np.uint64)


def _same(got, want):
    for g, w in zip(got, want, strict=True):
        assert np.asarray(g).shape == np.asarray(w).shape
        assert np.array_equal(_bits(np.asarray(g)), _bits(np.asarray(w)))


SYSTEMS = st.tuples(
    st.integers(1, 40), st.integers(1, 7), st.integers(1, 30), st.integers(0, 2**32 - 1)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SYSTEMS, st.integers(0, 120), st.sampled_from([-1, 0, 2]))
@example(system=(1, 1, 7, 10), m=76, agenda=-1)  # judged values differ in the last bit
def test_judge_equals_its_numpy_form(system, m, agenda):
    """Judging heard items: answers and trust moved (a tie heard on twice), on keyed draws.

    Decisions and trust are compared bit for bit; the judged values to 1e-12
    (relative and absolute): on some inputs the compiled pooling of precisions differs
    from numpy's in the last bit (found by hypothesis: system (1, 1, 7, 10), 76 items,
    differences of 1e-17; the compiler may fuse a multiply and an add), which the
    decisions never turned on here.
    """
    n, k, n_practices, seed = system
    rng = np.random.default_rng(seed)
    values = _values(rng, n, k, n_practices)
    n_ties = int(rng.integers(1, 10))  # few ties: some are heard on twice
    inputs = JudgeInputs(
        school=rng.integers(0, n, m),
        practice=rng.integers(0, n_practices, m),
        tie=rng.integers(0, n_ties, m),
        openness=rng.random(m),
        capacity=rng.random(n),
        capacity_absorb=float(0.1 + rng.random()),
        agenda=agenda,
        lever_agenda=float(rng.random()),
        w_agenda=float(rng.random()),
        domain=rng.integers(0, 3, n_practices),
        effect=rng.normal(0, 0.3, n_practices),
        uid=rng.integers(0, 2**62, n_practices),
        sd_judge=float(0.05 + rng.random()),
        threshold_adopt=float(rng.normal(0, 0.1)),
        rate_trust=float(rng.random()),
        trust=rng.random(n_ties),
        spare=rng.random(m) - 0.2,
        difficulty=rng.random(n_practices),
        values=values,
    )
    twin = inputs._replace(trust=inputs.trust.copy())
    keys, t = _keys(seed, 3), seed % 500
    got, want = JudgedAdoption.judge_compiled(keys, t, inputs), JudgedAdoption.judge(keys, t, twin)
    for g, w in zip(got, want, strict=True):
        g, w = np.asarray(g), np.asarray(w)
        if g.dtype.kind == "f":
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
        else:
            _same([g], [w])
    _same([inputs.trust], [twin.trust])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SYSTEMS, st.integers(0, 60), st.floats(0.0, 1.0))
def test_exchanges_equal_their_numpy_form(system, n_ties, p_exchange):
    """Exchanges over ties in force: who heard what, through which tie (keyed draws)."""
    n, k, n_practices, seed = system
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n, n_ties + 1), rng.integers(0, n, n_ties + 1)
    alive = np.flatnonzero(rng.random(n_ties + 1) < 0.8)
    slot_p = rng.integers(-1, n_practices, (n, k))
    depth = np.where((slot_p >= 0) & (rng.random((n, k)) < 0.7), rng.random((n, k)), 0.0)
    args = (alive, a, b, rng.random(n_ties + 1), rng.random(n) * 1.2, slot_p, depth, p_exchange)
    if len(alive) == 0:  # the rule asks for no exchange then
        return
    keys, t = _keys(seed, 3), seed % 500
    _same(WordOfMouth.exchanges_compiled(keys, t, *args), WordOfMouth.exchanges(keys, t, *args))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SYSTEMS, st.integers(0, 120), st.sampled_from([-1, 0, 2]), st.booleans())
def test_adopt_equals_its_numpy_form(system, m, agenda, hold):
    """Judging and taking up in one call: the same take-ups, slots, trust and count.

    Many items per school (the best of each is taken up, the first of equal margins),
    schools full or not, protected slots, and with ``hold`` some schools held.
    """
    n, k, n_practices, seed = system
    rng = np.random.default_rng(seed)
    v = _values(rng, n, k, n_practices)
    n_ties = int(rng.integers(1, 10))
    args = dict(
        school=rng.integers(0, n, m),
        practice=rng.integers(0, n_practices, m),
        tie=rng.integers(0, n_ties, m),
        openness=rng.random(n + 3),
        head=rng.integers(0, n + 3, n),
        capacity=rng.random(n),
        capacity_absorb=float(0.1 + rng.random()),
        agenda=agenda,
        lever_agenda=float(rng.random()),
        w_agenda=float(rng.random()),
        domain=rng.integers(0, 3, n_practices),
        effect=rng.normal(0, 0.3, n_practices),
        uid=rng.integers(0, 2**62, n_practices),
        sd_judge=float(0.05 + rng.random()),
        threshold_adopt=float(rng.normal(0, 0.1)),
        rate_trust=float(rng.random()),
        trust=rng.random(n_ties),
        n_focus=float(1 + 3 * rng.random()),
        difficulty_focus=0.5,
        difficulty=rng.random(n_practices),
        slot_p=v.slot_p,
        obs=v.obs,
        nobs=v.nobs,
        budget=v.budget,
        ev_prec=v.ev_prec,
        ev_mean=v.ev_mean,
        cost=v.cost,
        sd2=v.sd2,
        lever=v.lever,
        prec0=v.prec0,
        rel_cost=v.rel_cost,
        held=(rng.random(n) < 0.3) if hold else None,
        own=0.3,
        depth=rng.random((n, k)),
        own_a=rng.random((n, k)),
        source_a=rng.integers(-1, n_ties, (n, k)),
        since=rng.integers(0, 30, (n, k)),
        channel_a=rng.integers(0, 3, (n, k)),
        dur_step=1.0,
        dur_commit=float(rng.integers(0, 24)),
        mandates=rng.integers(0, max(n_practices, 1), 2),
    )
    twin = copy.deepcopy(args)
    keys, t = _keys(seed, 3), 30
    got = JudgedAdoption.adopt_compiled(keys, t, **args)
    want = JudgedAdoption.adopt(keys, t, **twin)
    assert got == want
    for name, a in args.items():
        if isinstance(a, np.ndarray):
            _same([a], [twin[name]])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SYSTEMS, st.integers(0, 50), st.sampled_from([-1, 1]))
def test_recombine_equals_its_numpy_form(system, m, agenda):
    """Inventions: parents by depth (none for schools running nothing), keyed draws, clipping."""
    n, k, n_practices, seed = system
    rng = np.random.default_rng(seed)
    slot_p = rng.integers(-1, n_practices, (n, k))
    slot_p[: n // 3] = EMPTY  # schools running nothing invent from nothing
    depth = np.where((slot_p >= 0) & (rng.random((n, k)) < 0.6), rng.random((n, k)), 0.0)
    inputs = RecombineInputs(
        who=np.sort(rng.integers(0, n, m)),
        slot_p=slot_p,
        slot_depth=depth,
        effect=rng.normal(0, 0.3, n_practices),
        cost=rng.random(n_practices),
        difficulty=rng.random(n_practices),
        domain=rng.integers(0, 4, n_practices),
        pressure=rng.random(n) * 0.5,
        df=float(1 + rng.random() * 5),
        shift=-0.1,
        scale=0.15,
        cost_mean=0.2,
        n_domains=4,
        agenda=agenda,
        lever_agenda=float(rng.random()),
        sd_log_cost=float(0.5 * rng.random()),
        sd_jitter=float(0.2 * rng.random()),
        clip_t=float(1 + rng.random() * 5),
    )
    keys, t = _keys(seed, 8), seed % 500
    _same(
        Recombination.recombine_compiled(keys, t, inputs), Recombination.recombine(keys, t, inputs)
    )


def test_the_actions_numpy_forms_equal_their_kernels():
    """Valuing, protecting, taking up, dropping and ties within collaboratives, on model states."""
    from sim.core.state import CHOSEN
    from sim.rules import actions

    for k, m in enumerate(_random_states(6)):
        s, t, c = m.schools, m.ties, m.collabs
        rows = np.arange(s.n)
        vals, prot = actions.value_inputs(m), actions.protection_inputs(m)
        _same(
            actions.values_and_protection_compiled(vals, rows, prot),
            actions.values_and_protection(vals, rows, prot),
        )
        # Take-ups of random pairs (repeated schools, practices already run), on copies.
        rng = np.random.default_rng(k)
        school = rng.integers(0, s.n, 80)
        practice = rng.integers(0, m.practices.n, 80)
        source = rng.integers(-1, max(t.n, 1), 80)
        a, b = copy.deepcopy(m), copy.deepcopy(m)
        got, want = (
            form(
                school,
                practice,
                source,
                0.3,
                CHOSEN,
                x.schools.slot_depth,
                x.schools.slot_own,
                x.schools.slot_source,
                actions.value_inputs(x),
                actions.protection_inputs(x),
            )
            for form, x in (
                (actions.take_up_slots_compiled, a),
                (actions.take_up_slots, b),
            )
        )
        assert np.array_equal(got, want) and want.any(), k
        assert _differences(a, b) == [], k
        # The same take-ups called with plain arrays (as take_up calls the kernel).
        f = copy.deepcopy(m)
        cs, cp = f.schools, f.practices
        flat = actions.take_up_pairs_compiled(
            school,
            practice,
            source,
            0.3,
            CHOSEN,
            cs.slot_depth,
            cs.slot_own,
            cs.slot_source,
            cs.slot_p,
            cs.slot_obs,
            cs.slot_nobs,
            cs.budget,
            cp.ev_prec,
            cp.ev_mean,
            cp.cost,
            f.sd_observe_eff**2,
            f.p.lever_evidence,
            1.0 / f.p.sd_prior**2,
            f.p.rel_cost,
            cs.slot_since,
            cs.slot_channel,
            f.t,
            f.p.dur_step,
            f.p.dur_commit,
            np.asarray(f.mandates, np.int64),
        )
        assert np.array_equal(flat, want), k
        assert _differences(f, b) == [], k
        # Drops of a third of the filled slots (shared source ties lose trust once).
        r, col = np.nonzero(s.slot_p >= 0)
        pick = rng.random(len(r)) < 0.3
        for model, form in ((a, actions.drop_slots_compiled), (b, actions.drop_slots)):
            ms = model.schools
            form(
                r[pick],
                col[pick],
                ms.slot_p,
                ms.slot_depth,
                ms.slot_own,
                ms.slot_obs,
                ms.slot_nobs,
                ms.slot_source,
                model.ties.trust,
                0.9,
            )
        assert _differences(a, b) == [], k
        # Ties within chosen collaboratives.
        chosen = rng.random(c.n + 1) < 0.5
        for alive_only in (True, False):
            args = (t.kind[: t.n], t.alive[: t.n], t.a, t.b, s.collab, chosen, alive_only)
            assert np.array_equal(actions.collab_ties_compiled(*args), actions.collab_ties(*args))


def test_a_budget_cut_to_nothing_values_slots_alike_in_both_forms():
    """At a budget of 0 the numpy forms weigh cost over MIN_BUDGET, as the kernels do."""
    from sim.rules import actions

    m = next(_random_states(1))
    m.schools.budget[::3] = 0.0
    vals, prot = actions.value_inputs(m), actions.protection_inputs(m)
    rows = np.arange(m.schools.n)
    got = actions.values_and_protection_compiled(vals, rows, prot)[0]
    want = actions.values_and_protection(vals, rows, prot)[0]
    assert np.isfinite(want[::3][m.schools.slot_p[::3] >= 0]).all()
    assert np.array_equal(_bits(got), _bits(want))


def test_a_subclass_overriding_a_method_of_a_rule_run_whole_runs_its_own():
    """Rules that run several compute methods as one compiled call run a plug-in's override.

    ``judged``, ``recombine``, ``facilitated`` and ``found_and_formalise`` call their methods
    one by one when a subclass overrides one of them, so the override runs (compiled or not).
    """
    from sim.rules.facilitated import TieFormation
    from sim.rules.found_and_formalise import Collaboratives

    calls = []

    def recorded(cls, name):
        plain = getattr(cls, name)

        def method(*args):
            calls.append((cls.__name__, name))
            return plain(*args)

        return type("Mine" + cls.__name__, (cls,), {name: staticmethod(method)})

    mine = [
        recorded(JudgedAdoption, "judge"),
        recorded(Recombination, "invention_rate"),
        recorded(TieFormation, "proposed_ties"),
        recorded(Collaboratives, "founding_chance"),
    ]
    for m in _random_states(6):
        for cls in mine:
            cls(m).apply(m)
    assert {c for c, _ in calls} == {
        "JudgedAdoption",
        "Recombination",
        "TieFormation",
        "Collaboratives",
    }
