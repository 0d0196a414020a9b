"""The workshop page: a Mesa SolaraViz app on the live model.

Serve it with ``nextpractice app [SCENARIO] [--port N]`` (see :func:`sim.app.serve`),
or ``solara run sim.app.app``. The page shows, for a room:

* the strategy selector, the tightness dial and the four coherence levers,
  which act on the running model from the next step (no reset);
* a "budget cut" button per authority (the burning platform);
* counters: practices in use, field trials running, collaboratives, and the
  share of pupils at the expected standard here and under top-down transfer;
* the network of schools grouped by authority and town, coloured by the
  practice each runs most deeply or by performance;
* the mean performance curve with its band, and beside it the same schools
  run top-down (:class:`~sim.app.workshop.WorkshopRun`).

SolaraViz supplies the step, play and reset buttons. Each browser session gets
its own run (built when the page loads), so two people on the page, or two
tests, never step each other's model.
"""

from __future__ import annotations

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.app.figures import PracticePalette, curve_figure, network_figure
from sim.app.workshop import (
    SHADOW_STRATEGY,
    STRATEGY_LABELS,
    WorkshopRun,
    authority_name,
    default_scenario,
    default_seed,
)

TITLE = "Next practice: how innovation spreads through schools"

TIGHTNESS_LABEL = "How tight is the centre"
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

#: Up to this many authorities get a budget-cut button each; more get a list and one button.
MAX_CUT_BUTTONS = 6

CSS = """
.v-application { font-size: 18px; }
.v-toolbar__title { font-size: 26px !important; }
.v-card__title { font-size: 24px !important; }
.v-label, .v-btn, .v-input, .v-list-item__title { font-size: 18px !important; }
.v-slider__thumb-label { font-size: 15px !important; }
.np-caption { font-size: 18px; color: #333; }
.np-hint { font-size: 16px; color: #555; margin: 0 0 10px 0; }
.np-lever { font-size: 17px; color: #333; margin-top: 4px; }
.np-lever small, .np-caption small { font-size: 15px; color: #555; }
.np-controls .v-input__slot { margin-bottom: 0; }
.np-controls .v-messages { display: none; }
.np-controls .v-input__slot > .v-label { display: none; }  /* shown above; kept for aria */
.np-count { text-align: center; padding: 8px 4px; }
.np-count .np-num { font-size: 44px; font-weight: 700; line-height: 1.1; }
.np-count .np-label { font-size: 17px; color: #333; word-break: keep-all; hyphens: none; }
.np-count .np-sub { font-size: 16px; color: #666; }
.np-plot img { width: 100%; height: auto; display: block; }
.np-strategy .v-btn-toggle { flex-direction: column; width: 100%; }
.np-strategy .v-btn-toggle > .v-btn.v-btn { width: 100%; height: 44px; border-width: 1px; }
.np-strategy .v-btn-toggle > .v-btn.v-btn--active { background: #1b9e77; color: white; }
.np-cut .v-btn { margin: 4px 0; width: 100%; }
"""


def _counter(value: str, label: str, sub: str = "") -> None:
    """One big number with its label, as a card in the counters row."""
    with solara.Card(classes=["np-count"]):
        solara.HTML(tag="div", unsafe_innerHTML=value, classes=["np-num"])
        solara.HTML(tag="div", unsafe_innerHTML=label, classes=["np-label"])
        if sub:
            solara.HTML(tag="div", unsafe_innerHTML=sub, classes=["np-sub"])


@solara.component
def Controls(model: solara.Reactive[WorkshopRun]):
    """Strategy, tightness dial, coherence levers and budget cuts, acting from the next step."""
    run = model.value
    update_counter.get()
    _, set_version = solara.use_state(0)

    def changed() -> None:
        set_version(lambda v: v + 1)

    def on_control(name: str):
        def on_value(value) -> None:
            run.set_control(name, value)
            changed()

        return on_value

    def on_cut(authority: int):
        def on_click() -> None:
            run.budget_cut(authority)
            changed()
            update_counter.set(update_counter.value + 1)

        return on_click

    with solara.Card("Workshop controls", classes=["np-controls"]):
        solara.HTML(tag="div", unsafe_innerHTML="Changes act from the next step.",
                    classes=["np-hint"])
        solara.Text("How the centre works", classes=["np-caption"])
        with solara.Div(classes=["np-strategy"]):
            with solara.ToggleButtonsSingle(value=run.control("strategy"),
                                            on_value=on_control("strategy")):
                for name, label in STRATEGY_LABELS.items():
                    solara.Button(label, value=name, text=True)
        tight = run.control("tightness")
        solara.HTML(tag="div", classes=["np-caption"],
                    unsafe_innerHTML=f"{TIGHTNESS_LABEL}: <b>{tight:.1f}</b>"
                                     f"<br><small>0 = loose, 1 = tight</small>")
        solara.SliderFloat(TIGHTNESS_LABEL, value=tight, min=0.0, max=1.0, step=0.1,
                           on_value=on_control("tightness"), thumb_label=True)
        solara.HTML(tag="div", classes=["np-caption"],
                    unsafe_innerHTML="<b>Coherence levers</b> (0 = none, 1 = strong)")
        for name, (label, hint) in LEVERS.items():
            value = run.control(name)
            solara.HTML(tag="div", classes=["np-lever"],
                        unsafe_innerHTML=f"{label}: <b>{value:.1f}</b><br><small>{hint}</small>")
            solara.SliderFloat(label, value=value, min=0.0, max=1.0, step=0.1,
                               on_value=on_control(name), thumb_label=True)
    with solara.Card("Budget cut"):
        solara.HTML(tag="div", classes=["np-hint"],
                    unsafe_innerHTML=f"Cut one authority's budget by "
                                     f"{run.system.p.share_budget_cut:.0%}: the burning platform.")
        with solara.Div(classes=["np-cut"]):
            if run.n_authorities <= MAX_CUT_BUTTONS:
                for la in range(run.n_authorities):
                    solara.Button(f"Cut {authority_name(la)}'s budget", color="error",
                                  outlined=True, on_click=on_cut(la))
            else:
                CutPicker(run, on_cut)


@solara.component
def SidebarControls(model: solara.Reactive[WorkshopRun]):
    """Put the workshop controls in the sidebar, below SolaraViz's step, play and reset.

    Solara orders sidebar content by how deep in the component tree it is
    declared (deeper comes later); SolaraViz declares its cards one level
    below the page, so these are declared two levels below.
    """
    _SidebarCards(model)


@solara.component
def _SidebarCards(model: solara.Reactive[WorkshopRun]):
    with solara.Sidebar():
        Controls(model)


@solara.component
def CutPicker(run: WorkshopRun, on_cut):
    """Offer a list of authorities and one budget-cut button, for a large system."""
    names = [authority_name(la) for la in range(run.n_authorities)]
    chosen, set_chosen = solara.use_state(names[0])
    solara.Select("Authority", value=chosen, values=names, on_value=set_chosen)
    solara.Button("Cut its budget", color="error", outlined=True,
                  on_click=on_cut(names.index(chosen)))


@solara.component
def Counters(model: solara.Reactive[WorkshopRun]):
    """Show the counts the room watches: practices, trials, collaboratives, performance."""
    update_counter.get()
    run = model.value
    c = run.counters()
    cuts = ", ".join(authority_name(la) for la in dict.fromkeys(run.cuts)) or "none"
    with solara.ColumnsResponsive(default=6, medium=4, large=2):
        _counter(f"{c['year']:.0f}", "Year", f"month {run.months:.0f}")
        _counter(f"{c['perf_mean']:.0%}", "Pupils at the expected standard",
                 f"top-down: {c['shadow_perf_mean']:.0%}")
        _counter(f"{c['practices_in_use']:d}", "Practices in use")
        _counter(f"{c['field_trials']:d}", "Field trials running")
        _counter(f"{c['collaboratives']:d}", "Collaboratives",
                 f"{c['collaboratives_formal']:d} formalised")
        _counter(f"{len(run.cuts):d}", "Budget cuts", cuts)


@solara.component
def NetworkView(model: solara.Reactive[WorkshopRun]):
    """Draw the schools and ties by authority, coloured by practice or performance."""
    update_counter.get()
    run = model.value
    colour_by, set_colour_by = solara.use_state("practice")
    palette = solara.use_memo(PracticePalette, [run])
    with solara.Card("Schools and their ties, by authority"):
        with solara.Row():
            solara.Text("Colour schools by:", classes=["np-caption"])
            with solara.ToggleButtonsSingle(value=colour_by, on_value=set_colour_by):
                solara.Button("Practice they run", value="practice", text=True)
                solara.Button("Performance", value="performance", text=True)
        with solara.Div(classes=["np-plot", "np-network"]):
            solara.FigureMatplotlib(network_figure(run, colour_by, palette), format="png")


@solara.component
def CurveView(model: solara.Reactive[WorkshopRun]):
    """Mean performance with its band, and the same schools run top-down beside it."""
    update_counter.get()
    run = model.value
    strategy = STRATEGY_LABELS.get(run.control("strategy"), run.control("strategy"))
    with solara.Card("Performance over time"):
        with solara.Div(classes=["np-plot", "np-curve"]):
            solara.FigureMatplotlib(curve_figure(run), format="png")
        solara.HTML(
            tag="div", classes=["np-caption"],
            unsafe_innerHTML=f"Solid line: this system, run by <b>{strategy.lower()}</b>; "
                             f"shaded: the middle 90% of its schools. Dashed: the same schools "
                             f"run by {STRATEGY_LABELS[SHADOW_STRATEGY].lower()}.")


@solara.component
def Dashboard(model: solara.Reactive[WorkshopRun]):
    """Lay out the main area: counters above, network and curve side by side."""
    with solara.Column(classes=["np-dash"]):
        Counters(model)
        with solara.ColumnsResponsive(default=12, large=6):
            NetworkView(model)
            CurveView(model)
        if not model.value.running:
            solara.Info("End of the run: press Reset to run the same schools again.")


def make_run() -> WorkshopRun:
    """Build the run a new browser session starts with: the served scenario and seed."""
    return WorkshopRun(default_scenario(), default_seed())


@solara.component
def Page():
    """Show the workshop page: SolaraViz's step, play and reset, and the dashboard."""
    model = solara.use_memo(lambda: solara.reactive(make_run()), [])
    solara.Style(CSS)
    SolaraViz(
        model,
        components=[],
        model_params={
            "scenario_path": model.value.scenario_path,
            # The one thing a trainer may want between runs: another system of
            # schools. It applies at Reset (a run in progress is not rebuilt).
            "seed": {"type": "SliderInt", "value": default_seed(), "min": 1,
                     "max": max(SEED_CHOICES, default_seed()), "step": 1,
                     "label": SEED_LABEL},
        },
        name=TITLE,
        play_interval=200,
    )
    SidebarControls(model)
    Dashboard(model)


page = Page()
