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

import time
from datetime import datetime

import solara

from sim.app.figures import (
    FIGSIZE,
    FIGSIZE_NARROW,
    PracticePalette,
    curve_figure,
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
.np-title { font-size: 24px; font-weight: 700; white-space: nowrap; margin-right: 6px; }
.np-top .v-btn-toggle .v-btn { height: 38px !important; }
.np-spacer { flex: 1 1 auto; }
.np-cards { display: flex; gap: 8px; }
.np-card { flex: 1 1 0; min-width: 0; border: 2px solid #ccc; border-radius: 6px;
           padding: 2px 8px; text-align: center; background: #fafafa; }
.np-num { font-size: 32px; font-weight: 700; line-height: 1.15; white-space: nowrap; }
.np-label, .np-sub { font-size: 18px; line-height: 1.2; overflow-wrap: normal;
                     word-break: keep-all; hyphens: none; }
.np-sub { color: #333; }
.np-main { flex: 1 1 auto; min-height: 0; display: flex; gap: 10px; }
.np-side { flex: 0 0 300px; overflow-y: auto; overflow-x: hidden; padding-right: 4px; }
.np-side .np-h { font-weight: 700; margin: 6px 0 2px 0; }
.np-caption { font-size: 18px; color: #111; }
.np-side .v-input__slot { margin-bottom: 0; }
.np-side .v-messages { display: none; }
.np-side .v-input__slot > .v-label { display: none; }  /* shown above; kept for aria */
.np-side .v-input--slider { margin-top: 0; }
.np-strategy .v-btn-toggle { flex-direction: column; width: 100%; }
.np-strategy .v-btn-toggle > .v-btn.v-btn { width: 100%; height: 38px !important;
                                            border-width: 1px; }
.np-root .v-btn-toggle > .v-btn.v-btn--active { background: #00594c; color: white; }
.np-cut .v-btn { margin: 3px 0; width: 100%; }
.np-views { flex: 1 1 auto; min-width: 0; display: flex; flex-direction: column; gap: 6px; }
.np-plots { flex: 1 1 auto; min-height: 0; display: flex; gap: 8px; }
.np-plot { flex: 1 1 0; min-width: 0; min-height: 0; display: flex; align-items: flex-start;
           justify-content: center; }
.np-plot img { width: 100% !important; height: 100% !important; object-fit: contain;
               object-position: center top; display: block; }
.np-log { flex: 0 0 auto; height: 96px; overflow-y: auto; border-top: 2px solid #ccc;
          padding-top: 2px; line-height: 1.25; }
.np-log div { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.np-finished { flex: 0 0 auto; background: #0b3d91; color: #fff; padding: 4px 10px;
               border-radius: 6px; line-height: 1.3; }
.np-saved { font-size: 18px; color: #111; white-space: nowrap; overflow: hidden;
            text-overflow: ellipsis; max-width: 340px; }
@media (min-height: 1000px) {
  .np-num { font-size: 44px; }
  .np-log { height: 150px; }
  .np-title { font-size: 30px; }
}
"""


def _card(value: str, label: str, sub: str = "", kind: str = "") -> None:
    """One big number with its label, as a headline card."""
    with solara.Div(classes=["np-card", f"np-card-{kind}"] if kind else ["np-card"]):
        solara.HTML(tag="div", unsafe_innerHTML=value, classes=["np-num"])
        solara.HTML(tag="div", unsafe_innerHTML=label, classes=["np-label"])
        if sub:
            solara.HTML(tag="div", unsafe_innerHTML=sub, classes=["np-sub"])


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
        solara.HTML(tag="div", unsafe_innerHTML=TITLE, classes=["np-title"])
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
        if saved:
            solara.HTML(tag="div", unsafe_innerHTML=f"Saved {saved}", classes=["np-saved"])


@solara.component
def Cards(run: WorkshopRun, version: int):
    """Show the counts the room watches: month, performance, practices, trials, cuts."""
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
        _card(f"{len(run.cuts):d}", "Budget cuts", cuts, "cuts")


def _slider(label: str, caption: str, value: float, on_value) -> None:
    solara.HTML(tag="div", classes=["np-caption"], unsafe_innerHTML=caption)
    solara.SliderFloat(
        label, value=value, min=0.0, max=1.0, step=0.1, on_value=on_value, thumb_label=True
    )


@solara.component
def Controls(run: WorkshopRun, redraw, seed: solara.Reactive[int], version: int):
    """Strategy, dial, budget cuts, comparison, levers and schools, acting from the next step."""

    def on_control(name: str):
        def on_value(value) -> None:
            run.set_control(name, value)
            redraw()

        return on_value

    def on_cut(authority: int):
        def on_click() -> None:
            run.budget_cut(authority)
            redraw()

        return on_click

    def on_compare(value: str) -> None:
        run.set_comparison(strategy=value)
        redraw()

    def on_compare_dial(value: float) -> None:
        run.set_comparison(tightness=value)
        redraw()

    with solara.Div(classes=["np-side"]):
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
        solara.HTML(
            tag="div", unsafe_innerHTML="Compare with the same schools under", classes=["np-h"]
        )
        with solara.Div(classes=["np-strategy", "np-compare"]):
            with solara.ToggleButtonsSingle(value=run.compare["strategy"], on_value=on_compare):
                for name, label in STRATEGY_LABELS.items():
                    solara.Button(label, value=name, text=True)
        dial = run.compare.get("tightness", run.params.tightness)
        _slider(
            COMPARE_TIGHTNESS_LABEL,
            f"{COMPARE_TIGHTNESS_LABEL}: <b>{dial:.1f}</b>",
            dial,
            on_compare_dial,
        )
        solara.HTML(
            tag="div", classes=["np-h"], unsafe_innerHTML="Coherence levers (0 none, 1 strong)"
        )
        for name, (label, hint) in LEVERS.items():
            value = run.control(name)
            _slider(label, f"{label}: <b>{value:.1f}</b><br>{hint}", value, on_control(name))
        solara.HTML(tag="div", unsafe_innerHTML="Another set of schools", classes=["np-h"])
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


@solara.component
def Views(
    run: WorkshopRun,
    side: bool,
    colour_by: solara.Reactive[str],
    palette: PracticePalette,
    version: int,
):
    """The network (or both runs' networks), the curve, and the narration below them."""
    label = STRATEGY_LABELS.get(run.control("strategy"), run.control("strategy"))
    size = FIGSIZE_NARROW if side else FIGSIZE
    with solara.Div(classes=["np-views"]):
        with solara.Div(classes=["np-plots"]):
            with solara.Div(classes=["np-plot", "np-network"]):
                solara.FigureMatplotlib(
                    network_figure(
                        run,
                        colour_by.value,
                        palette,
                        title=f"This run: {label.lower()}" if side else None,
                        figsize=size,
                    ),
                    format="png",
                )
            if side:
                with solara.Div(classes=["np-plot", "np-network-compare"]):
                    solara.FigureMatplotlib(
                        network_figure(
                            run,
                            colour_by.value,
                            palette,
                            which="shadow",
                            title=f"Comparison: {run.compare_label()}",
                            figsize=size,
                        ),
                        format="png",
                    )
            marks = (
                "; ".join(
                    f"month {e.step * run.system.p.dur_step:.0f}: {e.text}" for e in run.events
                )
                or "none yet"
            )
            with solara.Div(
                classes=["np-plot", "np-curve"],
                attributes={
                    "role": "img",
                    "aria-label": f"Performance over time. Changes marked: {marks}",
                },
            ):
                solara.FigureMatplotlib(curve_figure(run, size), format="png")
        with solara.Div(classes=["np-row"]):
            with solara.ToggleButtonsSingle(value=colour_by.value, on_value=colour_by.set):
                solara.Button("Colour by practice", value="practice", text=True)
                solara.Button("Colour by performance", value="performance", text=True)
        if not run.running:
            solara.HTML(
                tag="div",
                classes=["np-finished"],
                unsafe_innerHTML=f"<b>Finished at month {run.months:.0f}.</b> "
                f"{run.summary()} Press Reset to run the same "
                f"schools again.",
            )
        with solara.Div(classes=["np-log"]):
            lines = run.lines(NARRATION_LINES)
            if not lines:
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML="What happens will be told here.",
                    classes=["np-line"],
                )
            for text in lines:
                solara.HTML(tag="div", unsafe_innerHTML=text, classes=["np-line"])


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
    path = folder / f"nextpractice_month{run.months:03.0f}_{run.control('strategy')}_{stamp}.png"
    snapshot_figure(run, colour_by, palette, side_by_side).savefig(path, format="png")
    return str(path)


@solara.component
def Page():
    """Show the workshop page: the app's own controls, cards, views and narration."""
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

    solara.Style(CSS)
    solara.Title(f"{TITLE}: how innovation spreads through schools")
    with solara.Div(classes=["np-root"]):
        TopBar(run, playing, speed, side, redraw, on_save, on_reset, saved.value, version.value)
        Cards(run, version.value)
        with solara.Div(classes=["np-main"]):
            Controls(run, redraw, seed, version.value)
            Views(run, side.value, colour_by, palette, version.value)


@solara.component
def Layout(children=()):
    """The page alone: no app bar, no sidebar, nothing of solara's default layout."""
    return solara.Div(children=list(children))
