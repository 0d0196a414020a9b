"""The room's pages: the trainer's screen (the projector) and a participant's (a phone).

Served by ``nextpractice app --room`` (see :func:`sim.app.serve`). One
:class:`~sim.app.room.Room` is shared by every browser the server talks to
(:func:`get_room`); each page redraws when the room changes, from a thread
that waits on it (:func:`use_room_version`), so a round the trainer plays
reaches every phone without a reload.

Which page a browser gets is read from its address:

* ``/?trainer=TOKEN``: the trainer's screen (the token is printed at start);
  a wrong token gets a refusal and no controls;
* ``/?me=CODE``: a participant's own view (a reload or a return rejoins);
* anything else: the join page (``/?room=CODE`` fills in the room's code, as
  the QR code on the trainer's screen does).

Everything a participant typed is shown escaped (:func:`sim.app.room.escaped`);
names never reach a figure.
"""

from __future__ import annotations

import os
import threading
import urllib.parse
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

import solara

from sim.app.components import (
    CSS,
    Cards,
    Controls,
    RoomCentre,
    Views,
    _figure,
    heading,
    save_picture,
)
from sim.app.figures import PracticePalette, debrief_figure, draw_debrief
from sim.app.room import (
    ENV_JOIN_URL,
    ENV_RESUME,
    ENV_ROOM_CODE,
    ENV_SESSION,
    ENV_TOKEN,
    ROUNDS,
    Room,
    RoomError,
    escaped,
    sessions_dir,
)
from sim.app.workshop import STRATEGY_LABELS, WorkshopRun, dial_words, level_words, pictures_dir

_ROOM: Room | None = None
_ROOM_LOCK = threading.Lock()

#: Seconds a page's watcher waits on the room before checking it is still wanted.
WATCH_SECONDS = 0.5


def get_room() -> Room:
    """The one room this server serves, made on first use from the environment.

    ``$NEXTPRACTICE_RESUME`` names a session log to resume; otherwise a new
    session log is started at ``$NEXTPRACTICE_SESSION`` (or in
    :func:`sim.app.room.sessions_dir`). ``$NEXTPRACTICE_ROOM_TOKEN`` and
    ``$NEXTPRACTICE_ROOM_CODE`` are the trainer's token and the room's code the
    command printed.
    """
    global _ROOM
    with _ROOM_LOCK:
        if _ROOM is None:
            token = os.environ.get(ENV_TOKEN) or None
            resume = os.environ.get(ENV_RESUME)
            if resume:
                _ROOM = Room.resume(resume, token=token)
            else:
                path = os.environ.get(ENV_SESSION) or str(new_session_path())
                _ROOM = Room(log_path=path, token=token, code=os.environ.get(ENV_ROOM_CODE))
        return _ROOM


def new_session_path() -> Path:
    """A new session log's path in :func:`sim.app.room.sessions_dir`, named by the time."""
    from datetime import datetime

    return sessions_dir() / f"room-{datetime.now():%Y%m%d-%H%M%S}.jsonl"


def join_url(room: Room) -> str:
    """The address participants open (the QR code's), with the room's code in it."""
    base = os.environ.get(ENV_JOIN_URL) or "http://127.0.0.1:8765/"
    return f"{base.rstrip('/')}/?room={room.code}"


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as inline SVG (segno, pure Python)."""
    import segno

    return segno.make(url, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff")


def use_room_version(room: Room, which: str = "version") -> int:
    """The room's version (or ``state_version``), kept current by a thread waiting on the room.

    The thread is a daemon (it never keeps a stopping server waiting) and stops
    when the page goes; it sets the page's value in the page's own context, so
    the page redraws at once when a round ends.
    """
    version = solara.use_reactive(getattr(room, which))

    def start():
        from solara.server import kernel_context

        context = kernel_context.get_current_context()
        stop = threading.Event()

        def watch() -> None:
            seen = getattr(room, which)
            while not stop.is_set():
                now = room.wait(seen, WATCH_SECONDS, which)
                if now != seen and not stop.is_set():
                    seen = now
                    with context:
                        version.value = now

        threading.Thread(target=watch, name=f"room-watch-{which}", daemon=True).start()
        return stop.set

    solara.use_effect(start, [id(room), which])
    return version.value


def query(router: Any) -> dict[str, str]:
    """The address's query parameters (the first of each), as text."""
    parsed = urllib.parse.parse_qs(router.search or "", keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


ROOM_CSS = """
html, body { overflow: hidden; }
.rp-root { height: 100vh; display: flex; flex-direction: column; box-sizing: border-box;
           padding: 8px 10px; gap: 8px; font-size: 18px; color: #111; background: #fff; }
.rp-root .v-btn { font-size: 18px !important; text-transform: none; letter-spacing: 0;
                  min-width: 0 !important; }
.rp-head { font-size: 22px; font-weight: 700; line-height: 1.2; }
.rp-sub { font-size: 18px; color: #222; line-height: 1.3; }
.rp-status { background: #eef4f3; border-radius: 6px; padding: 6px 10px; line-height: 1.3; }
.rp-sent { background: #00594c; color: #fff; }
.rp-cards { display: flex; gap: 8px; }
.rp-card { flex: 1 1 0; border: 2px solid #ccc; border-radius: 6px; padding: 4px 8px;
           text-align: center; }
.rp-num { font-size: 28px; font-weight: 700; line-height: 1.15; }
.rp-tabs { display: flex; gap: 4px; flex-wrap: nowrap; }
.rp-tabs .v-btn { flex: 1 1 0; padding: 0 4px !important; height: 40px !important; }
.rp-list { flex: 1 1 auto; min-height: 0; overflow-y: auto; border-top: 2px solid #ccc;
           border-bottom: 2px solid #ccc; padding: 4px 2px; }
.rp-item { border-bottom: 1px solid #ddd; padding: 6px 0; line-height: 1.3; }
.rp-item .v-btn { margin-top: 4px; }
.rp-name { font-weight: 700; }
.rp-plan { line-height: 1.3; }
.rp-send .v-btn { width: 100%; height: 48px !important; }
.rp-error { color: #a00000; font-weight: 700; }
.rp-join { max-width: 420px; margin: 0 auto; display: flex; flex-direction: column; gap: 12px; }
.rp-join .v-input { font-size: 18px; }
.rp-join label { font-size: 18px !important; }
"""


@solara.component
def RoomPage():
    """Route a browser of the room to the trainer's screen, a participant's, or the join page."""
    router = solara.use_router()
    q = query(router)
    room = get_room()
    solara.Style(ROOM_CSS)
    if "trainer" in q:
        if room.is_trainer(q["trainer"]):
            solara.Title("Next practice: the room (trainer)")
            TrainerPage(room, q["trainer"])
        else:
            solara.Title("Next practice: the room")
            Refused()
        return
    me = room.participant(q.get("me"))
    solara.Title("Next practice: the room")
    if me is not None:
        ParticipantPage(room, me.code)
    else:
        JoinPage(room, q.get("room", ""), bad_code=bool(q.get("me")))


@solara.component
def Refused():
    """What a screen without the trainer's token gets instead of the controls."""
    with solara.Div(classes=["rp-root", "rp-refused"]):
        solara.HTML(tag="div", classes=["rp-head"], unsafe_innerHTML="This is the trainer's screen")
        solara.HTML(
            tag="div",
            classes=["rp-error"],
            unsafe_innerHTML="Only the trainer changes the system: this address has no "
            "trainer token. To play a school, open the join address on the screen at the front.",
        )


@solara.component
def JoinPage(room: Room, room_code: str, bad_code: bool = False):
    """Join with the room's code and a name; or rejoin with one's own code."""
    router = solara.use_router()
    code = solara.use_reactive(room_code)
    name = solara.use_reactive("")
    mine = solara.use_reactive("")
    error = solara.use_reactive("That code is not in this room." if bad_code else "")

    def on_join() -> None:
        try:
            p = room.join(code.value, name.value, browser=solara.get_session_id())
        except RoomError as exc:
            error.value = str(exc)
            return
        router.push(f"/?me={p.code}")

    def on_rejoin() -> None:
        p = room.participant(mine.value)
        if p is None:
            error.value = "No one in this room has that code."
            return
        router.push(f"/?me={p.code}")

    with solara.Div(classes=["rp-root"]):
        with solara.Div(classes=["rp-join"]):
            solara.HTML(tag="div", classes=["rp-head"], unsafe_innerHTML="Join the room")
            solara.HTML(
                tag="div",
                classes=["rp-sub"],
                unsafe_innerHTML="You will be the head of a school. Type the room's code "
                "from the screen at the front, and your name.",
            )
            solara.InputText("Room code", value=code, continuous_update=True)
            solara.InputText("Your name", value=name, continuous_update=True)
            solara.Button("Join", on_click=on_join, color="primary", classes=["rp-join-btn"])
            solara.HTML(tag="div", classes=["rp-sub"], unsafe_innerHTML="Been here before?")
            solara.InputText("Your own code", value=mine, continuous_update=True)
            solara.Button("Rejoin", on_click=on_rejoin, outlined=True, color="primary")
            if error.value:
                solara.HTML(tag="div", classes=["rp-error"], unsafe_innerHTML=escaped(error.value))


PARTICIPANT_TABS = {
    "practices": "Practices",
    "heard": "Heard of",
    "network": "Network",
    "centre": "Centre",
}


def _plan_words(view: dict[str, Any], plan: list[dict[str, Any]]) -> list[str]:
    """A participant's plan in words."""
    names = {r["practice"]: r["name"] for r in view["runs"]} | {
        h["practice"]: h["name"] for h in view["heard"]
    }
    support = {s["school"]: s["name"] for s in view["support"]}
    out = []
    for c in plan:
        a, t = c["action"], c.get("target", -1)
        out.append(
            {
                "drop": f"drop {names.get(t, t)}",
                "adopt": f"take up {names.get(t, t)}",
                "invent": "try something of our own",
                "leave": "leave our collaborative",
                "join": "join a collaborative",
                "support": f"lead {support.get(t, t)} as executive head",
                "keep": "keep everything as it is",
            }[a]
        )
    return out


@solara.component
def ParticipantPage(room: Room, code: str):
    """A participant's own view: their school, what they have heard of, their choices."""
    version = use_room_version(room, "state_version")
    tab = solara.use_reactive("practices")
    plan = solara.use_reactive([])
    error = solara.use_reactive("")
    sends = solara.use_reactive(0)  # this page's sends: each redraws it (sent or not)
    view = room.view(code)
    rounds = (view["round"], view["months"]) if view is not None else None

    def new_round() -> None:  # a round played or a jump: start from what was sent (nothing)
        if view is not None:
            plan.value = list(view["plan"])

    solara.use_effect(new_round, [rounds])
    if view is None:
        solara.HTML(tag="div", unsafe_innerHTML="No one in this room has that code.")
        return

    def toggle(action: str, target: int = -1):
        def on_click() -> None:
            now = [c for c in plan.value if c["action"] != "keep"]
            choice = {"action": action, "target": target}
            if choice in now:
                now.remove(choice)
            else:
                if action in ("adopt", "join", "support", "invent", "leave"):
                    now = [c for c in now if c["action"] != action]
                now.append(choice)
            plan.value = now
            error.value = ""

        return on_click

    def send() -> None:
        chosen = plan.value or [{"action": "keep", "target": -1}]
        try:
            room.choose(code, chosen)
        except RoomError as exc:
            error.value = str(exc)
            return
        plan.value = list(chosen)
        error.value = ""
        sends.value += 1

    chosen = {(c["action"], c.get("target", -1)) for c in plan.value}
    with solara.Div(
        classes=["rp-root", "rp-participant"],
        attributes={"data-version": version, "data-sends": sends.value},
    ):
        solara.HTML(
            tag="div", classes=["rp-head", "rp-school"], unsafe_innerHTML=escaped(view["school"])
        )
        solara.HTML(
            tag="div",
            classes=["rp-sub", "rp-who"],
            unsafe_innerHTML=f"Head: <b class='rp-me'>{escaped(view['name'])}</b> · "
            f"{escaped(view['authority'])} · your code <b class='rp-code'>{view['code']}</b>",
        )
        sent = view["sent"]
        status = (
            f"Month {view['months']:.0f} of {view['horizon']:.0f} · "
            + (
                "Choices sent: you can change them until the trainer plays."
                if sent
                else "Choose, then send. If you do not, your school is simulated."
            )
            if view["running"]
            else f"Month {view['months']:.0f}: the end. See your story below."
        )
        with solara.Div(
            classes=["rp-status"] + (["rp-sent"] if sent else []),
            attributes={"data-round": view["round"], "data-month": f"{view['months']:.0f}"},
        ):
            solara.HTML(tag="span", unsafe_innerHTML=status)
        change = view["perf"] - view["perf_start"]
        with solara.Div(classes=["rp-cards"]):
            with solara.Div(classes=["rp-card"]):
                solara.HTML(
                    tag="div", classes=["rp-num", "rp-perf"], unsafe_innerHTML=f"{view['perf']:.0%}"
                )
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=f"pupils at the standard ({change:+.0%} since month 0)",
                )
            with solara.Div(classes=["rp-card"]):
                solara.HTML(
                    tag="div", classes=["rp-num"], unsafe_innerHTML=f"{view['capacity']:.0%}"
                )
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML="staff capacity"
                    + (f"; budget {view['budget']:.0%}" if view["budget"] < 1 else ""),
                )
        with solara.Div(classes=["rp-tabs"]):
            for key, label in PARTICIPANT_TABS.items():
                solara.Button(
                    label,
                    on_click=lambda key=key: tab.set(key),
                    color="primary",
                    outlined=tab.value != key,
                    classes=[f"rp-tab-{key}"],
                )
        with solara.Div(classes=["rp-list", f"rp-list-{tab.value}"]):
            ParticipantList(view, tab.value, chosen, toggle)
        with solara.Div(classes=["rp-plan"]):
            words = _plan_words(view, plan.value) if plan.value else []
            solara.HTML(
                tag="div",
                unsafe_innerHTML="Your choices: "
                + (escaped("; ".join(words)) if words else "none yet (send to keep everything)"),
            )
            if error.value:
                solara.HTML(tag="div", classes=["rp-error"], unsafe_innerHTML=escaped(error.value))
        with solara.Div(classes=["rp-send"]):
            solara.Button(
                "Send my choices",
                on_click=send,
                color="primary",
                disabled=not view["running"],
            )


def _item(title: str, lines: list[str], classes: list[str] | None = None) -> None:
    solara.HTML(
        tag="div",
        classes=["rp-item-text"] + (classes or []),
        unsafe_innerHTML=f"<span class='rp-name'>{escaped(title)}</span><br>"
        + "<br>".join(escaped(x) for x in lines),
    )


def ParticipantList(view: dict[str, Any], tab: str, chosen: set, toggle) -> None:
    """The list of one tab of a participant's page (a plain function: drawn inside the page)."""
    if tab == "practices":
        if not view["runs"]:
            solara.HTML(tag="div", unsafe_innerHTML="Your school runs no practice yet.")
        for r in view["runs"]:
            with solara.Div(classes=["rp-item", "rp-run"]):
                _item(
                    r["name"],
                    [
                        f"in depth {r['depth']:.0%}; {r['how']}",
                        f"{r['seen']}; {r['evidence']}",
                        f"{r['schools']} schools run it",
                    ],
                )
                if r["can_drop"]:
                    on = ("drop", r["practice"]) in chosen
                    solara.Button(
                        "Keep it after all" if on else "Drop it",
                        on_click=toggle("drop", r["practice"]),
                        outlined=not on,
                        color="primary",
                        small=True,
                    )
                else:
                    solara.HTML(tag="div", unsafe_innerHTML="The centre requires it: you keep it.")
        on = ("invent", -1) in chosen
        if view["can_invent"]:
            with solara.Div(classes=["rp-item"]):
                _item(
                    "Something of your own",
                    [
                        "your staff adapt what you run into a new practice (most are no "
                        "better; a few are much better)"
                    ],
                )
                solara.Button(
                    "Don't try after all" if on else "Try something of our own",
                    on_click=toggle("invent"),
                    outlined=not on,
                    color="primary",
                    small=True,
                )
    elif tab == "heard":
        if not view["heard"]:
            solara.HTML(tag="div", unsafe_innerHTML="You have heard of nothing new.")
        for h in view["heard"]:
            with solara.Div(classes=["rp-item", "rp-heard"]):
                _item(
                    h["name"],
                    [
                        ("the centre requires it; " if h["mandated"] else "") + h["evidence"],
                        f"{h['near']} of the schools you are tied to run it; {h['schools']} in all",
                    ],
                )
                on = ("adopt", h["practice"]) in chosen
                solara.Button(
                    "Don't take it up" if on else "Take it up",
                    on_click=toggle("adopt", h["practice"]),
                    outlined=not on,
                    color="primary",
                    small=True,
                )
    elif tab == "network":
        c = view["collab"]
        with solara.Div(classes=["rp-item"]):
            if c["id"] >= 0:
                _item(
                    "Your collaborative" + (" (formal: a trust)" if c["formal"] else ""),
                    ["with " + ", ".join(c["members"]) if c["members"] else "no one else yet"],
                )
                on = ("leave", -1) in chosen
                solara.Button(
                    "Stay" if on else "Leave it",
                    on_click=toggle("leave"),
                    outlined=not on,
                    color="primary",
                    small=True,
                )
            else:
                _item("No collaborative", [f"you are tied to {view['ties']} schools"])
        for j in view["join"]:
            with solara.Div(classes=["rp-item", "rp-joinable"]):
                _item("A collaborative nearby", ["with " + ", ".join(j["members"])])
                on = ("join", j["collab"]) in chosen
                solara.Button(
                    "Don't join" if on else "Join it",
                    on_click=toggle("join", j["collab"]),
                    outlined=not on,
                    color="primary",
                    small=True,
                )
        for s in view["support"]:
            with solara.Div(classes=["rp-item", "rp-support"]):
                _item(s["name"], [f"{s['perf']:.0%} of its pupils at the standard; led alone"])
                on = ("support", s["school"]) in chosen
                solara.Button(
                    "Don't offer" if on else "Offer to lead it too",
                    on_click=toggle("support", s["school"]),
                    outlined=not on,
                    color="primary",
                    small=True,
                )
    elif tab == "centre":
        c = view["centre"]
        lines = [
            f"The centre works by {c['strategy'].lower()}, its dial at {dial_words(c['dial'])}.",
            "It requires: " + (", ".join(c["mandates"]) if c["mandates"] else "nothing") + ".",
        ]
        if c["agenda"]:
            lines.append(f"Its national agenda is {c['agenda']}.")
        if c["trial"]:
            lines.append(f"Your school is a field-trial site for {c['trial']}.")
        _item("What the centre asks", lines)
        if view["story"]:
            story = [
                f"month {e['month']:.0f}: {e['perf']:.0%} of pupils"
                + (" (you chose)" if e["choices"] else " (simulated)")
                for e in view["story"]
            ]
            _item("Your story so far", story, ["rp-story"])


def participant_rows(room: Room) -> list[str]:
    """The participants as the projector lists them: number, name (escaped), ticked if sent."""
    rows = []
    for p in sorted(room.participants.values(), key=lambda p: p.number):
        tick = "✓" if p.sent else "…"
        rows.append(f"<span class='rp-tick'>{tick}</span> <b>{p.number}</b> {escaped(p.name)}")
    return rows


@solara.component
def TrainerPage(room, token: str):
    """The trainer's screen of a room: the system, the join address, the centre's controls.

    Rounds replace play: a term or a year at a time, each participant's choices
    taking effect at its start. The debrief replaces the views with the room
    against each strategy from the round the room started.
    """
    version = use_room_version(room)
    run: WorkshopRun = room.run
    side = solara.use_reactive(False)
    debrief = solara.use_reactive(False)
    colour_by = solara.use_reactive("practice")
    saved = solara.use_reactive("")
    error = solara.use_reactive("")
    moment = solara.use_reactive("")
    palette = solara.use_memo(PracticePalette, [run])
    centre = solara.use_memo(lambda: RoomCentre(room, token), [room, token])
    url = join_url(room)
    qr = solara.use_memo(lambda: qr_svg(url), [url])

    def redraw() -> None:
        pass  # the room's version moves with every change and redraws the page

    def act(fn):
        def on_click() -> None:
            try:
                fn()
                error.value = ""
            except RoomError as exc:
                error.value = str(exc)

        return on_click

    def on_save() -> None:
        if debrief.value:
            saved.value = save_debrief(room)
        else:
            saved.value = save_picture(run, colour_by.value, palette, side.value)

    def room_panel() -> None:
        moments = list(room.moments())
        with solara.Div(classes=["np-room-panel"]):
            with solara.Div(classes=["np-qr"]):
                solara.HTML(tag="div", unsafe_innerHTML=qr, classes=["np-qr-code"])
                with solara.Div():
                    solara.HTML(tag="div", unsafe_innerHTML="Room code", classes=["np-caption"])
                    solara.HTML(tag="div", unsafe_innerHTML=room.code, classes=["np-code"])
            solara.HTML(tag="div", classes=["np-join"], unsafe_innerHTML=f"Join at {escape(url)}")
            solara.HTML(tag="div", unsafe_innerHTML="Jump to a moment", classes=["np-caption"])
            with solara.Div(classes=["np-moment"]):
                solara.Select(
                    "Jump to a moment",
                    value=moment.value or moments[0],
                    values=moments,
                    on_value=moment.set,
                )
            with solara.Div(classes=["np-tabs"]):
                solara.Button(
                    "Jump",
                    outlined=True,
                    color="primary",
                    on_click=act(lambda: room.jump(token, moment.value or moments[0])),
                )
                solara.Button(
                    "Save this moment",
                    outlined=True,
                    color="primary",
                    on_click=act(
                        lambda: saved.set(str(room.save_moment(token, f"Month {run.months:.0f}")))
                    ),
                )
            with solara.Div(classes=["np-people"]):
                rows = participant_rows(room)
                if not rows:
                    solara.HTML(tag="div", unsafe_innerHTML="No one has joined yet.")
                for row in rows:
                    solara.HTML(tag="div", unsafe_innerHTML=row, classes=["np-person"])

    marked = {p.school: p.number for p in room.participants.values()}
    n_sent = sum(p.sent for p in room.participants.values())
    solara.Style(CSS)
    with solara.Div(classes=["np-root", "np-trainer"], attributes={"data-version": version}):
        with solara.Div(classes=["np-top"]):
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"Room {room.code} · {heading(run)}",
                classes=["np-title"],
            )
            for what, months in ROUNDS.items():
                solara.Button(
                    f"Play a {what}",
                    on_click=act(lambda months=months: room.play(token, months)),
                    color="primary",
                    disabled=not run.running,
                    classes=[f"np-play-{what}"],
                )
            solara.Div(classes=["np-spacer"])
            solara.Button(
                "Debrief: on" if debrief.value else "Debrief",
                on_click=lambda: debrief.set(not debrief.value),
                outlined=not debrief.value,
                color="primary",
            )
            solara.Button(
                "Side by side: on" if side.value else "Side by side",
                on_click=lambda: side.set(not side.value),
                outlined=not side.value,
                color="primary",
            )
            solara.Button("Save picture", on_click=on_save, outlined=True, color="primary")
        if error.value:
            solara.HTML(tag="div", unsafe_innerHTML=escape(error.value), classes=["np-error"])
        Cards(run, room.state_version, (n_sent, len(room.participants)))
        with solara.Div(classes=["np-main"]):
            Controls(run, centre, redraw, None, colour_by, version, room_panel)
            if debrief.value:
                Debrief(room, room.state_version, saved.value)
            else:
                Views(run, side.value, colour_by, palette, room.state_version, saved.value, marked)


@solara.component
def Debrief(room, version: int, saved: str = ""):
    """The room's curve among each strategy's from its first round, and each school's end."""
    d = solara.use_memo(room.debrief, [room, version])
    fig = solara.use_memo(lambda: debrief_figure(d) if d.get("t0") is not None else None, [d])
    with solara.Div(classes=["np-debrief"]):
        if fig is None:
            solara.HTML(
                tag="div",
                unsafe_innerHTML="The debrief starts once a round has been played with "
                "participants' choices.",
            )
            return
        _figure(fig, "debrief", "The room against each strategy, from the round it started")
        with solara.Div(classes=["np-stories"]):
            if saved:
                solara.HTML(
                    tag="div", unsafe_innerHTML=f"Saved {escape(saved)}", classes=["np-saved"]
                )
            for line in debrief_lines(room, d):
                solara.HTML(tag="div", unsafe_innerHTML=line, classes=["np-story"])


def debrief_rows(room, d: dict) -> list[tuple[int, str, float, float, int, int]]:
    """Each participant's line of the debrief, as values.

    Number, name, their school's end in the room and with every head
    simulated, rounds they chose in, rounds played.
    """
    ends = dict(zip(d["schools"], d["room_ends"], strict=True))
    sim = dict(zip(d["schools"], d["ends"]["centre_only"], strict=True))
    return [
        (
            p.number,
            p.name,
            ends[p.school],
            sim[p.school],
            sum(1 for e in p.story if e["choices"]),
            len(p.story),
        )
        for p in sorted(room.participants.values(), key=lambda p: p.number)
    ]


def debrief_lines(room, d: dict) -> list[str]:
    """:func:`debrief_rows` as lines of HTML (names escaped)."""
    return [
        f"<b>{n}</b> {escape(name)}: {end:.0%} of pupils at the standard "
        f"(heads simulated: {sim:.0%}); chose in {chose} of {rounds} rounds"
        for n, name, end, sim, chose, rounds in debrief_rows(room, d)
    ]


def save_debrief(room) -> str:
    """Save the debrief as one page (PNG, A4 landscape): the curves and each school's end."""
    from matplotlib.figure import Figure

    d = room.debrief()
    if d.get("t0") is None:
        raise RoomError("play a round with participants' choices first")
    folder = pictures_dir()
    folder.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(11.69, 8.27), dpi=150, layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[3, 2])
    ax = top.add_subplot()
    draw_debrief(ax, d, 12)
    ax.set_title(
        f"Room {room.code}, month {room.run.months:.0f}: the room against each strategy "
        "(same schools, same random numbers)",
        fontsize=14,
        fontweight="bold",
    )
    ax.legend(fontsize=11, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    rows = [
        f"{n}  {name}: {end:.0%} (heads simulated: {sim:.0%}), chose in {chose} of {rounds}"
        for n, name, end, sim, chose, rounds in debrief_rows(room, d)
    ]
    half = (len(rows) + 1) // 2
    for k, col in enumerate((rows[:half], rows[half:])):
        bottom.text(
            0.01 + 0.5 * k, 0.98, "\n".join(col), va="top", ha="left", fontsize=10, parse_math=False
        )
    path = folder / f"nextpractice_debrief_{room.code}_{datetime.now():%Y%m%d-%H%M%S}.png"
    fig.savefig(path, format="png")
    return str(path)


__all__ = [
    "ROUNDS",
    "STRATEGY_LABELS",
    "JoinPage",
    "ParticipantPage",
    "Refused",
    "RoomPage",
    "get_room",
    "join_url",
    "level_words",
    "participant_rows",
    "qr_svg",
]
