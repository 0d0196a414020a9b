"""A scenario's schedule: live changes at dates, made as a trainer's are, checked strictly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.core.errors import UserError
from sim.model.model import NextPracticeModel
from sim.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"n_schools": 60, "n_authorities": 2}


def _run(schedule=None, steps=14, seed=3, by_hand=None):
    p = load_scenario("top_down", {**SMALL, **({"schedule": schedule} if schedule else {})})
    m = NextPracticeModel(p, rng=seed)
    for _ in range(steps):
        for name, value in (by_hand or {}).get(m.t, ()):
            m.set_control(name, value)
        m.step()
    return m


def test_a_scheduled_change_is_the_trainers_change_at_that_step():
    entry = [{"month": 5, "set": {"strategy": "next_practice", "tightness": 0.3}}]
    scheduled = _run(entry)
    by_hand = _run(by_hand={5: [("strategy", "next_practice"), ("tightness", 0.3)]})
    pd.testing.assert_frame_equal(scheduled.metrics_frame(), by_hand.metrics_frame())
    f = scheduled.metrics_frame().set_index("step")["tightness"]
    assert f[5] == 0.9 and f[6] == 0.3  # made at the start of step 5 (from t=5 to t=6)
    assert not _run().metrics_frame().equals(scheduled.metrics_frame())


def test_year_and_month_name_the_same_step():
    by_month = _run([{"month": 6, "set": {"tightness": 0.2}}])
    by_year = _run([{"year": 1998.5, "set": {"tightness": 0.2}}])  # start_year 1998
    pd.testing.assert_frame_equal(by_month.metrics_frame(), by_year.metrics_frame())


def test_setting_the_value_in_force_changes_nothing():
    same = _run([{"month": 4, "set": {"tightness": 0.9}}])  # top_down's own dial
    pd.testing.assert_frame_equal(same.metrics_frame(), _run().metrics_frame())


def test_a_change_is_noted_as_a_control_event_of_its_step():
    p = load_scenario("top_down", {**SMALL, "schedule": [{"month": 2, "set": {"tightness": 0.5}}]})
    m = NextPracticeModel(p, rng=1)
    m.run(2)
    m.step()
    assert m.events["control"] == [{"step": 2, "name": "tightness", "old": 0.9, "new": 0.5}]


def test_a_schedule_in_a_scenario_file(tmp_path):
    path = tmp_path / "story.yaml"
    path.write_text(
        "extends: top_down\nschedule:\n  - {month: 3, set: {tightness: 0.4}}\n"
        "  - {year: 1999, set: {strategy: next_practice}}\n"
    )
    p = load_scenario(path, SMALL)
    assert [e["set"] for e in p.schedule] == [{"tightness": 0.4}, {"strategy": "next_practice"}]
    path.write_text('extends: top_down\nschedule:\n  - {month: 3, set: {tightness: "0.4"}}\n')
    with pytest.raises(UserError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert str(path) in msg and "schedule[0].set.tightness" in msg and "without quotes" in msg


@pytest.mark.parametrize(
    ("schedule", "says"),
    [
        ([{"month": 3}], "schedule[0].set"),
        ([{"set": {"tightness": 0.1}}], "exactly one of month"),
        ([{"month": 3, "year": 1999, "set": {"tightness": 0.1}}], "not both"),
        ([{"month": -1, "set": {"tightness": 0.1}}], "before the run's start"),
        ([{"year": 1990, "set": {"tightness": 0.1}}], "before the run's start_year"),
        ([{"month": 3, "set": {"tightnes": 0.1}}], "live parameters only"),
        ([{"month": 3, "set": {"n_schools": 5}}], "cannot change during a run"),
        ([{"month": 3, "set": {"tightness": 1.5}}], "outside [0, 1]"),
        ([{"month": 3, "set": {"tightness": float("nan")}}], "outside [0, 1]"),
        ([{"month": 3, "set": {"strategy": "nope"}}], "unknown strategy"),
        ([{"month": 3, "when": 1, "set": {"tightness": 0.1}}], "unknown key 'when'"),
        (
            [{"month": 3, "set": {"tightness": 0.1}}, {"month": 3, "set": {"tightness": 0.2}}],
            "keep one",
        ),
        ([3], "an entry is a mapping"),
    ],
)
def test_a_bad_schedule_is_refused_in_one_line(schedule, says):
    with pytest.raises(UserError) as err:
        load_scenario("top_down", {"schedule": schedule})
    msg = str(err.value)
    assert says in msg and "\n" not in msg and "schedule" in msg


_LIVE = ["strategy", "tightness", "lever_agenda", "lever_engagement", "n_schools", "rate_perf"]
_VALUES = st.one_of(
    st.floats(-1, 2),
    st.just(float("nan")),
    st.integers(-3, 3),
    st.sampled_from(["top_down", "bottom_up", "nope", "0.4", ""]),
    st.none(),
    st.booleans(),
)
_ENTRY = st.one_of(
    st.fixed_dictionaries(
        {"month": st.one_of(st.integers(-2, 30), st.floats(-1, 30), st.text(max_size=3))},
        optional={"set": st.dictionaries(st.sampled_from(_LIVE), _VALUES, max_size=3)},
    ),
    st.fixed_dictionaries(
        {"year": st.one_of(st.floats(1990, 2001), st.just(float("inf")))},
        optional={"set": st.dictionaries(st.sampled_from(_LIVE), _VALUES, max_size=3)},
    ),
    st.dictionaries(st.sampled_from(["month", "year", "set", "at"]), _VALUES, max_size=3),
    _VALUES,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(_ENTRY, max_size=4), _VALUES))
def test_generated_schedules_load_or_are_refused_in_one_line(schedule):
    try:
        p = load_scenario("top_down", {**SMALL, "schedule": schedule})
    except UserError as exc:
        assert "schedule" in str(exc) and "\n" not in str(exc)
        return
    m = NextPracticeModel(p, rng=1).run(3)  # an accepted schedule runs
    assert m.t == 3


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_ENTRY, max_size=3))
def test_generated_schedules_in_files_name_the_file(tmp_path, schedule):
    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump({"extends": str(ROOT / "scenarios/top_down.yaml"), "schedule": schedule})
    )
    try:
        load_scenario(path)
    except UserError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
