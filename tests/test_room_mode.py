"""The room without a browser: participants' choices, the trainer's token, the session log.

The browser tests (tests/browser/test_room.py) play the same with a trainer and
a dozen phones; these check the pieces quickly: choices take effect through
the rules' own actions and change the schools' state, held schools are left
to their participants while a round runs, a participant who does not choose is
simulated, a session log replays and resumes to the same state byte for byte,
hostile names, codes and choices are refused or shown as text, and only the
trainer's token changes the system.
"""

from __future__ import annotations

import html
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.app.room import (
    ALPHABET,
    CODE_LEN,
    MAX_NAME,
    PREPARED_MOMENTS,
    Room,
    RoomError,
    clean_code,
    clean_name,
    escaped,
    state_digest,
)
from sim.core.state import CHOSEN, COLLAB, CREATED, EMPTY, EXECUTIVE, MANDATED, PRACTITIONER
from sim.model.model import NextPracticeModel
from sim.model.scenario import load_scenario
from sim.rules.actions import decided_by_rules


@pytest.fixture
def room(tmp_path, monkeypatch):
    monkeypatch.setenv("NEXTPRACTICE_SESSIONS", str(tmp_path / "sessions"))
    return Room(log_path=tmp_path / "session.jsonl", seed=1)


def joined(room: Room, n: int) -> list:
    return [room.join(room.code, f"Head {i}") for i in range(n)]


def test_joining_gives_each_a_school_a_code_and_a_number(room):
    people = joined(room, 12)
    assert len({p.school for p in people}) == 12
    assert len({p.code for p in people}) == 12
    assert [p.number for p in people] == list(range(1, 13))
    s = room.run.system.schools
    # Authorities taken in turn: the room spreads over the system.
    assert len({int(s.authority[p.school]) for p in people}) == room.run.n_authorities
    assert all(len(p.code) == CODE_LEN and set(p.code) <= set(ALPHABET) for p in people)
    with pytest.raises(RoomError, match="not this room's code"):
        room.join("ZZZZ" if room.code != "ZZZZ" else "YYYY", "Eve")
    # One browser, one school: joining again from it gives its participant back.
    first = room.join(room.code.lower(), "Eve", browser="cookie-1")
    assert room.join(room.code, "Eve again", browser="cookie-1") is first
    assert len(room.participants) == 13


def test_choices_change_their_schools_through_the_rules(room):
    a, b, c, d = joined(room, 4)
    m = room.run.system
    s = m.schools
    room.set_control(room.token, "strategy", "bottom_up")  # no mandate gets in the way
    room.play(room.token, 1)
    heard = room.options(a.school)["adopt"]
    runs = room.options(b.school)["drop"]
    assert heard and runs
    room.choose(a.code, [{"action": "adopt", "target": heard[0]}])
    room.choose(b.code, [{"action": "drop", "target": runs[0]}])
    room.choose(c.code, [{"action": "invent", "target": -1}])
    weaker = room.options(d.school)["support"]
    plan = [{"action": "support", "target": weaker[0]}] if weaker else [{"action": "keep"}]
    room.choose(d.code, [{**x, "target": x.get("target", -1)} for x in plan])
    n_practices, t = m.practices.n, m.t
    room.play(room.token, 4)
    # a took the practice up, chosen, in the round's first step (held since: kept).
    col = np.flatnonzero(s.slot_p[a.school] == heard[0])
    assert len(col) == 1
    assert s.slot_channel[a.school, col[0]] == CHOSEN and s.slot_since[a.school, col[0]] == t
    # b dropped it and, held, took nothing up by the rules' choice.
    assert runs[0] not in s.slot_p[b.school]
    # c invented through the invent rule: a new practitioner's idea of c's, run by c.
    new = [q for q in range(n_practices, m.practices.n) if m.practices.inventor[q] == c.school]
    assert new and m.practices.origin[new[0]] == PRACTITIONER
    assert new[0] in s.slot_p[c.school]
    col = np.flatnonzero(s.slot_p[c.school] == new[0])[0]
    assert s.slot_channel[c.school, col] == CREATED and s.slot_since[c.school, col] == t
    if weaker:  # d leads the weaker school too, tied by an executive tie
        assert s.head[weaker[0]] == s.head[d.school]
        ties = m.ties
        ex = (ties.kind[: ties.n] == EXECUTIVE) & ties.alive[: ties.n]
        ends = {
            (int(x), int(y))
            for x, y in zip(ties.a[: ties.n][ex], ties.b[: ties.n][ex], strict=True)
        }
        assert tuple(sorted((d.school, weaker[0]))) in ends
    # The round is logged with each choice and the step it took effect.
    last = json.loads(room.log_path.read_text().splitlines()[-1])
    assert last["op"] == "round" and last["step"] == t
    assert {(c_["school"], c_["action"], c_["step"]) for c_ in last["choices"]} >= {
        (a.school, "adopt", t),
        (b.school, "drop", t),
        (c.school, "invent", t),
    }


def test_joining_and_leaving_a_collaborative(room):
    people = joined(room, 20)
    s, m = room.run.system.schools, room.run.system
    room.set_control(room.token, "strategy", "next_practice")
    for _ in range(6):
        room.play(room.token, 12)
        for p in people:
            near = room.options(p.school)["join"]
            if s.collab[p.school] == EMPTY and near:
                room.choose(p.code, [{"action": "join", "target": near[0]}])
                room.play(room.token, 1)
                assert s.collab[p.school] == near[0]
                mine = m.ties.kind[: m.ties.n] == COLLAB
                tied = (m.ties.a[: m.ties.n] == p.school) | (m.ties.b[: m.ties.n] == p.school)
                assert (mine & tied & m.ties.alive[: m.ties.n]).any()
                room.choose(p.code, [{"action": "leave", "target": -1}])
                room.play(room.token, 1)
                assert s.collab[p.school] != near[0]
                return
    pytest.skip("no collaborative formed near a participant's school on this seed")


def test_held_schools_are_left_to_their_heads_while_a_round_runs(room):
    people = joined(room, 12)
    room.set_control(room.token, "strategy", "next_practice")
    for p in people:
        room.choose(p.code, [{"action": "keep", "target": -1}])
    m = room.run.system
    s = m.schools
    before = s.slot_p[[p.school for p in people]].copy()
    t, n_practices = m.t, m.practices.n
    room.play(room.token, 12)
    mine = [p.school for p in people]
    # No practice taken up by the rules' choice, none dropped but by the centre's
    # leave (a mandate or a trial replaces only what a head may not keep), no invention.
    for k, i in enumerate(mine):
        for j, q in enumerate(s.slot_p[i]):
            if q != EMPTY and s.slot_since[i, j] >= t:
                assert s.slot_channel[i, j] in (MANDATED, CREATED)
                assert s.slot_channel[i, j] == MANDATED or s.trial[i] == q
        kept = set(before[k][before[k] != EMPTY].tolist())
        now = set(s.slot_p[i][s.slot_p[i] != EMPTY].tolist())
        lost = kept - now
        assert not lost or all(q not in m.mandates for q in lost)  # replaced by the centre
    inventors = m.practices.inventor[n_practices : m.practices.n]
    assert not set(inventors.tolist()) & set(mine)
    # After the round the rules decide for everyone again.
    assert not m.held.any()


def test_a_participant_who_does_not_choose_is_simulated(room):
    a, b = joined(room, 2)
    room.choose(a.code, [{"action": "keep", "target": -1}])
    room.play(room.token, 4)
    last = room.ops[-1]
    assert last["held"] == [a.school]
    assert b.school not in last["held"]


def test_the_hold_gates_only_held_schools_and_only_in_a_step():
    m = NextPracticeModel(load_scenario("scenarios/workshop.yaml"), rng=1)
    m.hold([3, 5])
    schools = np.arange(8)
    assert decided_by_rules(m, schools).all()  # between steps: the participant's own choices
    m._stepping = True
    try:
        assert decided_by_rules(m, schools).tolist() == [i not in (3, 5) for i in range(8)]
    finally:
        m._stepping = False
    with pytest.raises(Exception, match="schools to hold"):
        m.hold([m.schools.n])


def test_holding_nobody_changes_nothing():
    p = load_scenario("scenarios/workshop.yaml")
    a, b = NextPracticeModel(p, rng=4), NextPracticeModel(p, rng=4)
    b.hold([])
    a.run(24)
    b.run(24)
    assert a.metrics_frame().equals(b.metrics_frame())


def play_a_session(room: Room, rounds: int = 3) -> list:
    people = joined(room, 12)
    room.set_control(room.token, "strategy", "top_down")
    room.budget_cut(room.token, 1)
    for r in range(rounds):
        for k, p in enumerate(people):
            o = room.options(p.school)
            kind = ("adopt", "drop", "invent", "support", "keep")[(k + r) % 5]
            target = (o[kind] or [None])[0]
            if kind not in ("invent", "keep") and target is None:
                continue
            room.choose(p.code, [{"action": kind, "target": -1 if target is None else target}])
        room.play(room.token, (4, 12, 4)[r % 3])
        room.set_control(room.token, "tightness", 0.5 + 0.1 * r)
    return people


def test_a_saved_session_replays_to_the_same_state_byte_for_byte(room):
    play_a_session(room)
    again = Room.replay(room.log_path)
    assert again.digest() == room.digest()
    a, b = room.run.system, again.run.system
    for name in ("slot_p", "slot_depth", "slot_own", "logit_perf", "capacity", "head", "collab"):
        assert getattr(a.schools, name).tobytes() == getattr(b.schools, name).tobytes()
    assert a.metrics_frame().to_csv() == b.metrics_frame().to_csv()
    # Participants come back with their codes and schools.
    assert {p.code: p.school for p in again.participants.values()} == {
        p.code: p.school for p in room.participants.values()
    }


def test_a_session_resumes_after_a_crash_and_goes_on_writing(room):
    people = play_a_session(room, rounds=2)
    # A crash mid-write leaves the last line cut: it never took effect.
    with open(room.log_path, "a") as f:
        f.write('{"op": "round", "mon')
    again = Room.resume(room.log_path)
    assert again.digest() == room.digest()
    assert room.log_path.read_text().endswith("}\n")  # the cut line is gone
    # The resumed room goes on writing; the first, as if it had never stopped, does not.
    room.log_path = None
    for r in (room, again):
        r.choose(people[0].code, [{"action": "keep", "target": -1}])
        r.play(r.token, 4)
    assert again.digest() == room.digest()
    assert Room.replay(again.log_path).digest() == room.digest()


def test_a_damaged_log_is_refused_in_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"op": "nothing"}\n')
    with pytest.raises(RoomError, match="not a session log"):
        Room.replay(bad)
    bad.write_text('{"op": "session"}\nnot json\n{"op": "round"}\n')
    with pytest.raises(RoomError, match="line 2"):
        Room.replay(bad)


def test_replay_names_a_session_the_code_no_longer_reproduces(room):
    play_a_session(room, rounds=1)
    lines = room.log_path.read_text().splitlines()
    rows = [json.loads(x) for x in lines]
    for r in rows:
        if r.get("op") == "round":
            r["digest"] = "0" * 64
    room.log_path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(RoomError, match="replay differs"):
        Room.replay(room.log_path)


def test_only_the_trainer_changes_the_system(room):
    (p,) = joined(room, 1)
    dial = room.run.control("tightness")
    for token in (p.code, room.code, "", None, room.token[:-1], room.token + "x", 0.9):
        with pytest.raises(RoomError, match="Only the trainer"):
            room.set_control(token, "tightness", 1.0)
        with pytest.raises(RoomError, match="Only the trainer"):
            room.play(token, 4)
        with pytest.raises(RoomError, match="Only the trainer"):
            room.budget_cut(token, 0)
    assert room.run.control("tightness") == dial and room.run.t == 0
    room.set_control(room.token, "tightness", 1.0)
    assert room.run.control("tightness") == 1.0


def test_a_participant_sees_only_their_own_school(room):
    a, b = joined(room, 2)
    view = room.view(a.code)
    text = json.dumps(view)
    assert view["school"] and view["code"] == a.code
    assert b.code not in text and b.name not in text
    # Nothing of a practice's true effect: only words of evidence and of the school's reads.
    assert "effect" not in text
    assert room.view("AAAAAA" if a.code != "AAAAAA" else "BBBBBB") is None


def test_prepared_moments_jump_without_playing_up(room):
    (p,) = joined(room, 1)
    name = next(iter(PREPARED_MOMENTS))
    room.jump(room.token, name)
    assert room.run.months == 46 and room.run.in_force() == "top_down"
    assert room.participants[p.code].school == p.school
    saved = room.save_moment(room.token, "Our plateau")
    assert saved.is_file()
    assert "Our plateau" in room.moments()
    again = Room.replay(room.log_path)
    assert again.digest() == room.digest()


def test_debrief_runs_each_strategy_from_the_rooms_first_round(room):
    play_a_session(room)
    d = room.debrief()
    t0 = d["t0"]
    assert t0 == 0 or t0 > 0
    assert set(d["curves"]) == {"top_down", "bottom_up", "next_practice", "centre_only"}
    for curve in d["curves"].values():
        assert len(curve) == len(d["room"])
        # The same system up to the room's first round: the same curve.
        np.testing.assert_array_equal(curve[: t0 + 1], d["room"][: t0 + 1])
    assert len(d["room_ends"]) == 12


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_any_name_is_cleaned_or_refused_in_one_line(raw):
    try:
        name = clean_name(raw)
    except RoomError as exc:
        assert "\n" not in str(exc)
        return
    assert 0 < len(name) <= MAX_NAME
    assert name == name.strip() and "  " not in name
    assert all(ch.isprintable() for ch in name)
    shown = escaped(name)
    assert "<" not in shown and ">" not in shown and '"' not in shown
    assert html.unescape(shown) == name


@given(st.one_of(st.text(max_size=40), st.integers(), st.none(), st.binary(max_size=10)))
def test_any_code_is_a_code_or_nothing(raw):
    code = clean_code(raw)
    assert code is None or (len(code) == CODE_LEN and set(code) <= set(ALPHABET))


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=st.one_of(
        _json,
        st.lists(
            st.fixed_dictionaries(
                {
                    "action": st.sampled_from(
                        [
                            "adopt",
                            "drop",
                            "invent",
                            "join",
                            "leave",
                            "support",
                            "keep",
                            "mandate",
                            "",
                        ]
                    ),
                    "target": st.one_of(st.integers(-5, 60), st.text(max_size=3), st.booleans()),
                }
            ),
            max_size=8,
        ),
    )
)
def test_any_plan_is_checked_or_refused_in_one_line(room, plan):
    if not room.participants:
        joined(room, 1)
    p = next(iter(room.participants.values()))
    digest = state_digest(room.run)
    try:
        room.choose(p.code, plan)
    except RoomError as exc:
        assert "\n" not in str(exc)
    else:
        opts = room.options(p.school)
        assert all(c["target"] in opts[c["action"]] for c in p.plan)
    assert state_digest(room.run) == digest  # choosing changes nothing until the round


def test_serving_beyond_the_laptop_warns_and_prints_the_rooms_addresses(
    tmp_path, monkeypatch, capsys
):
    import sim.app as app

    started = []

    class Server:
        def __init__(self, cmd, env):
            started.append((cmd, env))

        def wait(self, timeout=None):
            return 0

    monkeypatch.setenv("NEXTPRACTICE_SESSIONS", str(tmp_path))
    monkeypatch.setattr(app, "warm_up", lambda scenario: None)
    monkeypatch.setattr(app.subprocess, "Popen", Server)
    app.serve(None, 8123, host="0.0.0.0", room=True)
    out = capsys.readouterr().out
    assert "WARNING: the app listens on 0.0.0.0" in out and "trust" in out
    cmd, env = started[0]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"
    token = env["NEXTPRACTICE_ROOM_TOKEN"]
    assert f"?trainer={token}" in out and env["NEXTPRACTICE_ROOM"] == "1"
    assert env["NEXTPRACTICE_ROOM_CODE"] in out and env["NEXTPRACTICE_JOIN_URL"] in out
    # On the laptop alone: no warning, and a word that phones need --host.
    started.clear()
    app.serve(None, 8123)
    out = capsys.readouterr().out
    assert "WARNING" not in out and "127.0.0.1:8123" in out


def test_solaras_cookie_warning_is_not_printed():
    import warnings

    import sim.app.app  # noqa: F401  (installs the filter)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        import importlib

        importlib.reload(sim.app.app)
        warnings.warn(
            "Cookies with samesite=none require https, but according to the asgi framework",
            UserWarning,
            stacklevel=1,
        )
    assert not [w for w in caught if "samesite" in str(w.message)]


def test_a_rule_draws_inside_its_kernel_only_for_the_model_itself(room):
    """The fused tie and collaborative paths skip ``occurs``: never for a view that has its own.

    The room's acting view names a participant's school through ``occurs``; a subclass that
    changes ``occurs``, ``per_step_array`` or ``school_facilitation`` is asked one by one too.
    """
    from sim.app.room import _OnlyThese

    system = room.run.system
    assert system.plain_monthly
    assert not _OnlyThese(system, np.array([0])).plain_monthly

    for name in ("occurs", "per_step_array", "school_facilitation"):
        base = getattr(NextPracticeModel, name)
        own = type("Own", (NextPracticeModel,), {name: lambda self, *a, f=base: f(self, *a)})
        assert NextPracticeModel.plain_monthly.fget(system)
        system.__class__ = own
        try:
            assert system.plain_monthly is False, name
        finally:
            system.__class__ = NextPracticeModel
