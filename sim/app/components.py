"""The pieces of the workshop's pages: cards, the side panel's tabs, the views, pictures.

Shared by the projector's page of one browser (:mod:`sim.app.app`) and the room's
trainer's screen (:mod:`sim.app.room_pages`). Each chart is drawn at the size of
its box at 1280x720 (:data:`sim.app.figures.FIGSIZE`), so its text is shown at
the size it is drawn, at least 18 px; the box tells the browser tests that size
(``data-min-font-px``).
"""

from __future__ import annotations

from datetime import datetime
from html import escape

import solara

from sim.app.figures import (
    FIGSIZE,
    FIGSIZE_NARROW,
    PracticePalette,
    curve_figure,
    min_font_px,
    network_figure,
    snapshot_figure,
)
from sim.app.workshop import (
    STRATEGY_LABELS,
    WorkshopRun,
    authority_name,
    default_scenario,
    default_seed,
    pictures_dir,
)

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
.np-moment .v-label, .np-moment .v-text-field__details { display: none !important; }
.np-tab > * { flex: 0 0 auto; }
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
    dial, next_dial = run.dial_in_force(), float(run.control("tightness"))
    text = f"{STRATEGY_LABELS.get(now, now)}, dial {dial:.1f}"
    if chosen != now:
        text += f" (next: {STRATEGY_LABELS.get(chosen, chosen).lower()}, {next_dial:.1f})"
    elif abs(next_dial - dial) > 1e-9:
        text += f" (next: dial {next_dial:.1f})"
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
        with solara.Div(classes=["np-log"]):
            if not run.running:  # on top of the narration: the charts keep their size
                solara.HTML(
                    tag="div",
                    classes=["np-finished"],
                    unsafe_innerHTML=f"<b>Finished at month {run.months:.0f}.</b> "
                    f"{run.summary()} Press Reset to run the same "
                    f"schools again.",
                )
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
                title="This run" if side else None,
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
                    title="Comparison",
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
