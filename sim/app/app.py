"""The workshop page: the live model, laid out for a projector and a room.

Serve it with ``nextpractice app [SCENARIO] [--port N]`` (see :func:`sim.app.serve`),
or ``solara run sim.app.app``. One screen, no scrolling at 1280x720 or larger:

* a bar of the app's own controls: play or pause, a month on, a year on,
  reset, the speed in words (slow, normal, fast), side by side, save picture;
* headline cards: month, pupils at the expected standard (here and in the
  comparison), practices in use, field trials, collaboratives, budget cuts;
* on the left, what a trainer changes: the strategy (which brings its
  scenario's dial and levers), the tightness dial, a budget cut per
  authority, the comparison's strategy and dial, the coherence levers and
  another set of schools (at reset);
* the network of schools (both runs', side by side, when asked), the
  performance curve with every change marked, and below them the narration
  of what happened, read from the model's notes; at month 120, the finished
  state in one sentence.

The page is composed of solara components (not Mesa's SolaraViz page, whose
generic controls mean nothing to a room); the model stays apart in
:mod:`sim.app.workshop`. Each browser session gets its own run, so two people
on the page, or two tests, never step each other's model.
"""

from __future__ import annotations

import os
import time
import warnings

import solara

from sim.app.components import (
    CSS,
    MAX_MONTHS_A_FRAME,
    MIN_FRAME_SECONDS,
    SPEEDS,
    TITLE,
    Cards,
    Controls,
    SoloCentre,
    TopBar,
    Views,
    make_run,
    save_picture,
)
from sim.app.figures import PracticePalette
from sim.app.room import ENV_ROOM
from sim.app.workshop import WorkshopRun

__all__ = ["Layout", "Page", "SoloPage", "save_picture"]

# Solara warns, on a page's first load from any host but "localhost", that its session
# cookie falls back to SameSite=Lax over plain http. Lax is what a workshop on a laptop
# or a room's network needs (the page is never embedded in another site), so the
# warning would only alarm a trainer reading the terminal (issue 32).
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")


@solara.component
def Page():
    """Show the workshop page, or in a room (``--room``) the page its address asks for."""
    if os.environ.get(ENV_ROOM):
        from sim.app.room_pages import RoomPage

        RoomPage()
        return
    SoloPage()


@solara.component
def SoloPage():
    """The workshop page of one browser: the app's own controls, cards, views and narration."""
    first = solara.use_memo(make_run, [])
    run_state = solara.use_reactive(first)
    run: WorkshopRun = run_state.value
    version = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive("normal")
    side = solara.use_reactive(False)
    colour_by = solara.use_reactive("practice")
    seed = solara.use_reactive(run.seed)
    saved = solara.use_reactive("")
    palette = solara.use_memo(PracticePalette, [run])

    def redraw() -> None:
        version.value += 1

    def play() -> None:
        if not playing.value:
            return  # only a task started by Play may stop playing (no race with a stale one)
        owed, last = 1.0, time.monotonic()  # months of the run due; the first at once
        while playing.value and run.running:
            now = time.monotonic()
            owed += (now - last) * SPEEDS[speed.value]
            last = now
            if owed < 1.0:
                time.sleep((1.0 - owed) / SPEEDS[speed.value])
                continue
            months = min(int(owed), MAX_MONTHS_A_FRAME)
            owed = min(owed - months, 1.0)
            run.advance(months)
            redraw()
            time.sleep(max(0.0, MIN_FRAME_SECONDS - (time.monotonic() - now)))
        if not run.running:
            playing.value = False  # finished at the horizon: the button shows Play, disabled

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    def on_reset() -> None:
        playing.value = False
        with run.lock:
            run_state.value = make_run(seed.value)
        saved.value = ""
        redraw()

    def on_save() -> None:
        saved.value = save_picture(run, colour_by.value, palette, side.value)

    centre = solara.use_memo(lambda: SoloCentre(run), [run])
    solara.Style(CSS)
    solara.Title(f"{TITLE}: how innovation spreads through schools")
    with solara.Div(classes=["np-root"]):
        TopBar(run, playing, speed, side, redraw, on_save, on_reset, saved.value, version.value)
        Cards(run, version.value)
        with solara.Div(classes=["np-main"]):
            Controls(run, centre, redraw, seed, colour_by, version.value)
            Views(run, side.value, colour_by, palette, version.value, saved.value)


@solara.component
def Layout(children=()):
    """The page alone: no app bar, no sidebar, nothing of solara's default layout."""
    return solara.Div(children=list(children))
