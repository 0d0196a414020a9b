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
from datetime import datetime
from html import escape

import solara

from sim.app.figures import (
    FIGSIZE,
    FIGSIZE_NARROW,
    PracticePalette,
    curve_figure,
    debrief_figure,
    draw_debrief,
    min_font_px,
    network_figure,
    snapshot_figure,
)
from sim.app.room import ENV_ROOM, ROUNDS, RoomError
from sim.app.workshop import (
    STRATEGY_LABELS,
    WorkshopRun,
    authority_name,
    default_scenario,
    default_seed,
    pictures_dir,
)

# Solara warns, on a page's first load from any host but "localhost", that its session
# cookie falls back to SameSite=Lax over plain http. Lax is what a workshop on a laptop
# or a room's network needs (the page is never embedded in another site), so the
# warning would only alarm a trainer reading the terminal (issue 32).
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")

TITLE = "Next practice"

TIGHTNESS_LABEL = "How tight is the centre"
COMPARE_TIGHTNESS_LABEL = "Comparison's dial"
#: Systems of schools a trainer can choose between (the seed), and the control's label.
SEED_CHOICES = 20
SEED_LABEL = "Which schools (at Reset)"

#: The coherence levers, in the words the room reads, with what each does.
LEVERS = {
    "lever_agenda": ("National agenda", "a shared focus for what schools try"),
    "lever_evidence": ("Evidence guides decisions", "weak practice is dropped sooner"),
    "lever_capacity": ("Capacity building", "investment in staff and leadership"),
    "lever_engagement": ("Wider engagement", "ties across schools and authorities"),
}

#: Speeds in the room's words, in months of the run per second of the room's time:
#: normal plays the ten-year run (120 months) in a minute, slow in two, fast in
#: fifteen seconds. When drawing a frame takes longer than a month's share of
#: time (a busy laptop, a big scenario), a frame steps several months, so the
#: run keeps time; it never jumps more than :data:`MAX_MONTHS_A_FRAME`.
SPEEDS = {"slow": 1.0, "normal": 2.0, "fast": 8.0}
MAX_MONTHS_A_FRAME = 12
#: Frames are at least this far apart, in seconds: a browser on a slow laptop shows
#: each frame (two pictures) before the next arrives, so it never lags the run and
#: Pause stops what the room sees.
MIN_FRAME_SECONDS = 1.0
#: Lines of narration shown (newest first); older ones scroll.
NARRATION_LINES = 12

#: Red of the budget-cut buttons: the red of a cut on the network, dark enough to read
#: on white (contrast 8:1; Vuetify's "error" red is 3.3:1).
CUT_COLOUR = "#c00000"
#: Up to this many authorities get a budget-cut button each; more get a list and one button.
MAX_CUT_BUTTONS = 6

CSS = """
html, body { overflow: hidden; }
.v-application, .np-root { font-size: 18px; color: #111; }
.np-root { height: 100vh; display: flex; flex-direction: column; padding: 6px 10px;
           box-sizing: border-box; gap: 6px; background: #fff; }
.np-root .v-btn { font-size: 18px !important; text-transform: none; letter-spacing: 0;
                  padding: 0 10px !important; min-width: 0 !important; }
.np-root .v-label, .np-root .v-input, .np-root .v-list-item__title,
.np-root .v-select__selection { font-size: 18px !important; color: #111 !important; }
.np-root .v-slider__thumb-label { font-size: 18px !important; }
.np-top { display: flex; align-items: center; gap: 8px; flex-wrap: nowrap; }
.np-title { font-size: 22px; font-weight: 700; white-space: nowrap; margin-right: 6px; }
.np-top .v-btn-toggle .v-btn { height: 38px !important; }
.np-spacer { flex: 1 1 auto; }
.np-cards { display: flex; gap: 8px; }
.np-card { flex: 1 1 0; min-width: 0; border: 2px solid #ccc; border-radius: 6px;
           padding: 1px 8px; text-align: center; background: #fafafa; }
.np-num { font-size: 28px; font-weight: 700; line-height: 1.1; white-space: nowrap; }
.np-label, .np-sub { font-size: 18px; line-height: 1.2; overflow-wrap: normal;
                     word-break: keep-all; hyphens: none; }
.np-sub { color: #333; }
.np-main { flex: 1 1 auto; min-height: 0; display: flex; gap: 10px; }
.np-side { flex: 0 0 300px; display: flex; flex-direction: column; min-height: 0;
           overflow: hidden; }
.np-tabs { display: flex; gap: 3px; margin-bottom: 4px; }
.np-tabs .v-btn { flex: 1 1 auto; height: 36px !important; padding: 0 6px !important; }
.np-tab { flex: 1 1 auto; min-height: 0; overflow: hidden; display: flex;
          flex-direction: column; }
.np-side .np-h { font-weight: 700; margin: 4px 0 2px 0; }
.np-caption { font-size: 18px; color: #111; line-height: 1.25; }
.np-side .v-input__slot { margin-bottom: 0; }
.np-side .v-messages { display: none; }
.np-side .v-input__slot > .v-label { display: none; }  /* shown above; kept for aria */
.np-side .v-input--slider { margin-top: 0; }
.np-strategy .v-btn-toggle { flex-direction: column; width: 100%; }
.np-strategy .v-btn-toggle > .v-btn.v-btn { width: 100%; height: 36px !important;
                                            border-width: 1px; }
.np-root .v-btn-toggle > .v-btn.v-btn--active { background: #00594c; color: white; }
.np-cut .v-btn { margin: 3px 0; width: 100%; }
.np-views { flex: 1 1 auto; min-width: 0; display: flex; flex-direction: column; gap: 4px; }
.np-plots { flex: 1 1 auto; min-height: 0; display: flex; gap: 8px; }
.np-plot { flex: 1 1 0; min-width: 0; min-height: 0; display: flex; align-items: flex-start;
           justify-content: center; }
.np-plot img { width: 100% !important; height: 100% !important; object-fit: contain;
               object-position: center top; display: block; }
.np-log { flex: 0 0 auto; height: 150px; overflow-y: scroll; border-top: 2px solid #ccc;
          padding-top: 2px; line-height: 1.25; }
.np-log div { margin-bottom: 2px; }
.np-finished { flex: 0 0 auto; background: #0b3d91; color: #fff; padding: 4px 10px;
               border-radius: 6px; line-height: 1.3; }
.np-saved { font-size: 18px; color: #111; line-height: 1.25; overflow-wrap: anywhere; }
.np-moment .v-input { margin-top: 0; padding-top: 0; }
.np-moment .v-input__slot > .v-label, .np-moment .v-text-field__details { display: none; }
.np-room-panel { display: flex; flex-direction: column; gap: 4px; min-height: 0; flex: 1 1 auto; }
.np-qr { display: flex; gap: 8px; align-items: center; }
.np-qr svg { width: 150px; height: 150px; flex: 0 0 150px; }
.np-code { font-size: 28px; font-weight: 700; letter-spacing: 2px; }
.np-join { overflow-wrap: anywhere; line-height: 1.2; }
.np-people { flex: 1 1 auto; min-height: 60px; overflow-y: scroll; border-top: 2px solid #ccc;
             line-height: 1.3; }
.np-debrief { flex: 1 1 auto; min-height: 0; display: flex; flex-direction: column; gap: 4px; }
.np-stories { flex: 0 0 auto; max-height: 150px; overflow-y: scroll; line-height: 1.25;
              border-top: 2px solid #ccc; }
@media (min-height: 1000px) {
  .np-num { font-size: 40px; }
  .np-log { height: 220px; }
  .np-title { font-size: 28px; }
}
"""


def _card(value: str, label: str, sub: str = "", kind: str = "") -> None:
    """One big number with its label, as a headline card."""
    with solara.Div(classes=["np-card", f"np-card-{kind}"] if kind else ["np-card"]):
        solara.HTML(tag="div", unsafe_innerHTML=value, classes=["np-num"])
        solara.HTML(tag="div", unsafe_innerHTML=label, classes=["np-label"])
        if sub:
            solara.HTML(tag="div", unsafe_innerHTML=sub, classes=["np-sub"])


def heading(run: WorkshopRun) -> str:
    """The page's heading: the strategy in force and its dial, and a change waiting to act."""
    now, chosen = run.in_force(), run.control("strategy")
    label = STRATEGY_LABELS.get(now, now)
    text = f"{label}, dial {run.system.p.tightness:.1f}"
    if chosen != now:
        text += f" (then {STRATEGY_LABELS.get(chosen, chosen).lower()})"
    return text


@solara.component
def TopBar(
    run: WorkshopRun,
    playing: solara.Reactive[bool],
    speed: solara.Reactive[str],
    side: solara.Reactive[bool],
    redraw,
    on_save,
    on_reset,
    saved: str,
    version: int,
):
    """Play or pause, a month or a year on, reset, speed, side by side, save picture.

    ``version`` counts the run's changes: a new value redraws the component.
    """

    def step_months(months: int):
        def on_click() -> None:
            run.advance(months)
            redraw()

        return on_click

    with solara.Div(classes=["np-top"]):
        solara.HTML(tag="div", unsafe_innerHTML=heading(run), classes=["np-title"])
        if playing.value:
            solara.Button(
                "❚❚ Pause",
                on_click=lambda: playing.set(False),
                color="primary",
                classes=["np-play"],
            )
        else:
            solara.Button(
                "▶ Play",
                on_click=lambda: playing.set(True),
                color="primary",
                disabled=not run.running,
                classes=["np-play"],
            )
        solara.Button(
            "+1 month",
            on_click=step_months(1),
            outlined=True,
            disabled=playing.value or not run.running,
        )
        solara.Button(
            "+1 year",
            on_click=step_months(12),
            outlined=True,
            disabled=playing.value or not run.running,
        )
        solara.Button("Reset", on_click=on_reset, outlined=True)
        solara.HTML(tag="div", unsafe_innerHTML="Speed:", classes=["np-caption"])
        with solara.ToggleButtonsSingle(value=speed.value, on_value=speed.set):
            for name in SPEEDS:
                solara.Button(name.capitalize(), value=name, text=True)
        solara.Div(classes=["np-spacer"])
        solara.Button(
            "Side by side: on" if side.value else "Side by side",
            on_click=lambda: side.set(not side.value),
            outlined=not side.value,
            color="primary",
        )
        solara.Button("Save picture", on_click=on_save, outlined=True, color="primary")


@solara.component
def Cards(run: WorkshopRun, version: int, people: tuple[int, int] | None = None):
    """Show the counts the room watches: month, performance, practices, trials, cuts.

    ``people``: in a room, (heads who have chosen, heads in the room), shown in
    place of the budget cuts' card (the cuts are marked on the network and chart).
    """
    c = run.counters()
    cuts = ", ".join(authority_name(la) for la in run.cut_authorities) or "none"
    with solara.Div(classes=["np-cards"]):
        _card(
            f"{run.months:.0f}", "Month", f"of {run.horizon_months:.0f} · {c['year']:.0f}", "month"
        )
        _card(
            f"{c['perf_mean']:.0%}",
            "Pupils at expected standard",
            f"comparison: {c['shadow_perf_mean']:.0%}",
            "perf",
        )
        _card(f"{c['practices_in_use']:d}", "Practices in use", "", "practices")
        _card(f"{c['field_trials']:d}", "Field trials running", "", "trials")
        _card(
            f"{c['collaboratives']:d}",
            "Collaboratives",
            f"{c['collaboratives_formal']:d} formalised",
            "collabs",
        )
        if people is None:
            _card(f"{len(run.cuts):d}", "Budget cuts", cuts, "cuts")
        else:
            _card(f"{people[0]:d} of {people[1]:d}", "Heads who chose", "this round", "people")


def _slider(label: str, caption: str, value: float, on_value) -> None:
    solara.HTML(tag="div", classes=["np-caption"], unsafe_innerHTML=caption)
    solara.SliderFloat(
        label, value=value, min=0.0, max=1.0, step=0.1, on_value=on_value, thumb_label=True
    )


#: The tabs of the side panel: every control is on a tab, none scrolled out of sight.
SIDE_TABS = {"centre": "Centre", "levers": "Levers", "compare": "Compare", "view": "View"}
ROOM_TABS = {"room": "Room", "centre": "Centre", "levers": "Levers", "compare": "Compare"}


class SoloCentre:
    """The centre's controls acting on the page's own run (one browser, one run)."""

    def __init__(self, run: WorkshopRun) -> None:
        self.run = run

    def set_control(self, name: str, value) -> None:
        """Change a control of the centre, from the next month."""
        self.run.set_control(name, value)

    def budget_cut(self, authority: int) -> None:
        """Cut an authority's budget."""
        self.run.budget_cut(authority)

    def set_comparison(self, strategy=None, tightness=None) -> None:
        """Compare the same schools with another strategy or dial."""
        self.run.set_comparison(strategy=strategy, tightness=tightness)


class RoomCentre:
    """The centre's controls of a room: each goes through the room with the trainer's token."""

    def __init__(self, room, token: str) -> None:
        self.room, self.token = room, token

    def set_control(self, name: str, value) -> None:
        """Change a control of the centre, from the next round."""
        self.room.set_control(self.token, name, value)

    def budget_cut(self, authority: int) -> None:
        """Cut an authority's budget."""
        self.room.budget_cut(self.token, authority)

    def set_comparison(self, strategy=None, tightness=None) -> None:
        """Compare the same schools with another strategy or dial."""
        self.room.set_comparison(self.token, strategy, tightness)


@solara.component
def Controls(
    run: WorkshopRun,
    centre,
    redraw,
    seed: solara.Reactive[int] | None,
    colour_by: solara.Reactive[str],
    version: int,
    room_panel=None,
):
    """The side panel's tabs: the centre, the levers, the comparison, the view (or the room)."""
    tabs = ROOM_TABS if room_panel is not None else SIDE_TABS
    tab = solara.use_reactive(next(iter(tabs)))

    def on_control(name: str):
        def on_value(value) -> None:
            centre.set_control(name, value)
            redraw()

        return on_value

    def on_cut(authority: int):
        def on_click() -> None:
            centre.budget_cut(authority)
            redraw()

        return on_click

    def on_compare(value: str) -> None:
        centre.set_comparison(strategy=value)
        redraw()

    def on_compare_dial(value: float) -> None:
        centre.set_comparison(tightness=value)
        redraw()

    with solara.Div(classes=["np-side"]):
        with solara.Div(classes=["np-tabs"]):
            for key, label in tabs.items():
                solara.Button(
                    label,
                    on_click=lambda key=key: tab.set(key),
                    color="primary",
                    outlined=tab.value != key,
                    classes=[f"np-tab-{key}"],
                )
        with solara.Div(classes=["np-tab", f"np-tab-body-{tab.value}"]):
            if tab.value == "room":
                room_panel()
            elif tab.value == "centre":
                solara.HTML(tag="div", unsafe_innerHTML="How the centre works", classes=["np-h"])
                with solara.Div(classes=["np-strategy"]):
                    with solara.ToggleButtonsSingle(
                        value=run.control("strategy"), on_value=on_control("strategy")
                    ):
                        for name, label in STRATEGY_LABELS.items():
                            solara.Button(label, value=name, text=True)
                tight = run.control("tightness")
                _slider(
                    TIGHTNESS_LABEL,
                    f"<b>{TIGHTNESS_LABEL}: {tight:.1f}</b><br>0 loose, 1 tight",
                    tight,
                    on_control("tightness"),
                )
                solara.HTML(
                    tag="div",
                    classes=["np-h"],
                    unsafe_innerHTML=f"Budget cut ({run.system.p.share_budget_cut:.0%})",
                )
                with solara.Div(classes=["np-cut"]):
                    if run.n_authorities <= MAX_CUT_BUTTONS:
                        for la in range(run.n_authorities):
                            solara.Button(
                                f"Cut {authority_name(la)}'s budget",
                                color=CUT_COLOUR,
                                outlined=True,
                                on_click=on_cut(la),
                            )
                    else:
                        CutPicker(run, on_cut)
            elif tab.value == "levers":
                solara.HTML(
                    tag="div",
                    classes=["np-h"],
                    unsafe_innerHTML="Coherence levers (0 none, 1 strong)",
                )
                for name, (label, hint) in LEVERS.items():
                    value = run.control(name)
                    _slider(
                        label, f"{label}: <b>{value:.1f}</b><br>{hint}", value, on_control(name)
                    )
            elif tab.value == "compare":
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML="Compare with the same schools under",
                    classes=["np-h"],
                )
                with solara.Div(classes=["np-strategy", "np-compare"]):
                    with solara.ToggleButtonsSingle(
                        value=run.compare["strategy"], on_value=on_compare
                    ):
                        for name, label in STRATEGY_LABELS.items():
                            solara.Button(label, value=name, text=True)
                dial = run.compare.get("tightness", run.params.tightness)
                _slider(
                    COMPARE_TIGHTNESS_LABEL,
                    f"{COMPARE_TIGHTNESS_LABEL}: <b>{dial:.1f}</b>",
                    dial,
                    on_compare_dial,
                )
            else:  # view
                solara.HTML(tag="div", unsafe_innerHTML="Colour the schools by", classes=["np-h"])
                with solara.Div(classes=["np-strategy"]):
                    with solara.ToggleButtonsSingle(value=colour_by.value, on_value=colour_by.set):
                        solara.Button("Colour by practice", value="practice", text=True)
                        solara.Button("Colour by performance", value="performance", text=True)
                if seed is not None:
                    solara.HTML(
                        tag="div", unsafe_innerHTML="Another set of schools", classes=["np-h"]
                    )
                    solara.SliderInt(
                        SEED_LABEL,
                        value=seed.value,
                        min=1,
                        max=max(SEED_CHOICES, default_seed()),
                        step=1,
                        on_value=seed.set,
                        thumb_label=True,
                    )
                    solara.HTML(
                        tag="div",
                        classes=["np-caption"],
                        unsafe_innerHTML=f"Schools number {seed.value}: used from the next Reset.",
                    )


@solara.component
def CutPicker(run: WorkshopRun, on_cut):
    """Offer a list of authorities and one budget-cut button, for a large system."""
    names = [authority_name(la) for la in range(run.n_authorities)]
    chosen, set_chosen = solara.use_state(names[0])
    solara.Select("Authority", value=chosen, values=names, on_value=set_chosen)
    solara.Button(
        "Cut its budget", color=CUT_COLOUR, outlined=True, on_click=on_cut(names.index(chosen))
    )


def _figure(fig, which: str, label: str | None = None) -> None:
    """A figure in its box, with the size of its smallest text for the tests (data-min-font-px)."""
    attributes = {"data-min-font-px": f"{min_font_px(fig):.1f}"}
    if label is not None:
        attributes |= {"role": "img", "aria-label": label}
    with solara.Div(classes=["np-plot", f"np-{which}"], attributes=attributes):
        solara.FigureMatplotlib(fig, format="png")


@solara.component
def Views(
    run: WorkshopRun,
    side: bool,
    colour_by: solara.Reactive[str],
    palette: PracticePalette,
    version: int,
    saved: str = "",
    marked: dict[int, int] | None = None,
):
    """The network (or both runs' networks), the curve, and the narration below them."""
    label = STRATEGY_LABELS.get(run.in_force(), run.in_force())
    size = FIGSIZE_NARROW if side else FIGSIZE
    figures = solara.use_memo(
        lambda: _draw_views(run, side, colour_by.value, palette, size, label, marked),
        [run, version, side, colour_by.value, tuple(sorted((marked or {}).items()))],
    )
    with solara.Div(classes=["np-views"]):
        with solara.Div(classes=["np-plots"]):
            for which, fig, aria in figures:
                _figure(fig, which, aria)
        if not run.running:
            solara.HTML(
                tag="div",
                classes=["np-finished"],
                unsafe_innerHTML=f"<b>Finished at month {run.months:.0f}.</b> "
                f"{run.summary()} Press Reset to run the same "
                f"schools again.",
            )
        with solara.Div(classes=["np-log"]):
            if saved:
                solara.HTML(
                    tag="div", unsafe_innerHTML=f"Saved {escape(saved)}", classes=["np-saved"]
                )
            lines = run.lines(NARRATION_LINES)
            if not lines:
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML="What happens will be told here.",
                    classes=["np-line"],
                )
            for text in lines:
                solara.HTML(tag="div", unsafe_innerHTML=text, classes=["np-line"])


def _draw_views(run, side, colour_by, palette, size, label, marked):
    """The figures of the views: (which, figure, accessible label or None)."""
    out = [
        (
            "network",
            network_figure(
                run,
                colour_by,
                palette,
                title=f"This run: {label.lower()}" if side else None,
                figsize=size,
                marked=marked,
            ),
            None,
        )
    ]
    if side:
        out.append(
            (
                "network-compare",
                network_figure(
                    run,
                    colour_by,
                    palette,
                    which="shadow",
                    title=f"Comparison: {run.compare_label()}",
                    figsize=size,
                ),
                None,
            )
        )
    marks = (
        "; ".join(f"month {e.step * run.system.p.dur_step:.0f}: {e.text}" for e in run.events)
        or "none yet"
    )
    out.append(
        ("curve", curve_figure(run, size), f"Performance over time. Changes marked: {marks}")
    )
    return out


def make_run(seed: int | None = None) -> WorkshopRun:
    """Build the run a new browser session starts with: the served scenario and seed."""
    return WorkshopRun(default_scenario(), default_seed() if seed is None else seed)


def save_picture(
    run: WorkshopRun, colour_by: str, palette: PracticePalette, side_by_side: bool
) -> str:
    """Save the current view as a PNG in :func:`~sim.app.workshop.pictures_dir`; return its path."""
    folder = pictures_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = folder / f"nextpractice_month{run.months:03.0f}_{run.in_force()}_{stamp}.png"
    snapshot_figure(run, colour_by, palette, side_by_side).savefig(path, format="png")
    return str(path)


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
def TrainerPage(room, token: str):
    """The trainer's screen of a room: the system, the join address, the centre's controls.

    Rounds replace play: a term or a year at a time, each participant's choices
    taking effect at its start. The debrief replaces the views with the room
    against each strategy from the round the room started.
    """
    from sim.app.room_pages import join_url, participant_rows, qr_svg, use_room_version

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
            Controls(run, centre, redraw, None, colour_by, room.state_version, room_panel)
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


@solara.component
def Layout(children=()):
    """The page alone: no app bar, no sidebar, nothing of solara's default layout."""
    return solara.Div(children=list(children))
