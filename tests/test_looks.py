"""One look across all figures: each strategy keeps one colour and one label everywhere.

A strategy declares its label and colour on its class (``sim.rules.strategies``); a
plug-in that declares none gets its name in words and a colour of its own. Every figure
that shows strategies is built here from small saved-style tables, and its legend (or
its tick labels and boxes) is held against the registry: the label the strategy
declares, drawn in the colour it declares, and no strategy's colour on anything else.
The figures shipped in ``docs/`` are checked by their pixels: each strategy's colour is
there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

import sim.model.builtin  # noqa: F401
from sim.core.looks import NEUTRAL, PLUGIN_COLOURS, assign, plugin_colour, strategy_look, words
from sim.core.registry import STRATEGIES, register_strategy
from sim.rules.strategies import Strategy

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("top_down", "bottom_up", "next_practice")
LOOKS = {n: strategy_look(n) for n in SHIPPED}


def legend(ax) -> dict[str, str]:
    """Legend text -> the colour of its handle (a line's colour, a patch's fill).

    The axes' own legend, or the figure's when the plot is alone (the app puts it under
    the figure).
    """
    leg = ax.get_legend() or (ax.figure.legends[0] if ax.figure.legends else None)
    assert leg is not None, "no legend on the axes or the figure"
    out = {}
    for text, handle in zip(leg.get_texts(), leg.legend_handles, strict=True):
        if hasattr(handle, "get_xdata"):  # a line
            colour = handle.get_color()
        else:  # a patch or a collection
            colour = np.asarray(handle.get_facecolor()).ravel()[:3]
        out[text.get_text()] = to_hex(colour)
    return out


def check_strategies(entries: dict[str, str], shown: tuple[str, ...] = SHIPPED) -> None:
    """Each shown strategy under its own label and colour; its colour on nothing else."""
    for name in shown:
        look = LOOKS[name]
        assert entries.get(look.label) == look.colour, (name, entries)
    owned = {LOOKS[n].colour for n in SHIPPED}
    mine = {LOOKS[n].label for n in shown}
    for text, colour in entries.items():
        if colour in owned:
            assert any(text.startswith(lab) for lab in mine), (text, colour)


# ---------------------------------------------------------------------------- the registry
def test_each_shipped_strategy_declares_its_own_label_and_colour():
    for name in SHIPPED:
        cls = STRATEGIES[name]
        assert vars(cls)["label"] and vars(cls)["colour"].startswith("#")
    assert len({LOOKS[n].colour for n in SHIPPED}) == 3
    assert len({LOOKS[n].label for n in SHIPPED}) == 3
    owned = {LOOKS[n].colour for n in SHIPPED}
    assert not owned & set(PLUGIN_COLOURS) and not owned & set(NEUTRAL)


def test_a_plug_in_gets_a_look_of_its_own_or_the_one_it_declares():
    @register_strategy("looks_test_plain")
    class Plain(Strategy):
        def act(self, model):
            self.set_stance(model)

    @register_strategy("looks_test_declared")
    class Declared(Strategy):
        label = "Regional partnership"
        colour = "#123456"

        def act(self, model):
            self.set_stance(model)

    @register_strategy("looks_test_child")
    class Child(type(STRATEGIES["next_practice"])):
        pass

    try:
        plain = strategy_look("looks_test_plain")
        assert plain.label == "Looks test plain" == words("looks_test_plain")
        assert plain.colour == plugin_colour("looks_test_plain") in PLUGIN_COLOURS
        assert strategy_look("looks_test_declared").label == "Regional partnership"
        assert strategy_look("looks_test_declared").colour == "#123456"
        # a plug-in that declares nothing is not taken for the strategy it extends
        assert strategy_look("looks_test_child").label != LOOKS["next_practice"].label
        # an unregistered name (a plug-in not imported) draws the same as when registered
        assert strategy_look("looks_test_plain") == strategy_look("looks_test_plain")
    finally:
        for name in ("looks_test_plain", "looks_test_declared", "looks_test_child"):
            STRATEGIES.pop(name, None)


def test_two_scenarios_of_one_strategy_share_its_colour_and_differ_in_style():
    looks = assign(
        {
            "a": ("Top-down transfer", "top_down"),
            "b": ("Top-down transfer", "top_down"),
            "c": ("England", "next_practice"),
        }
    )
    assert looks["a"].colour == looks["b"].colour == LOOKS["top_down"].colour
    assert looks["a"].style != looks["b"].style
    assert looks["a"].label != looks["b"].label  # told apart by their names
    assert looks["c"] == looks["c"].__class__(
        "England", LOOKS["next_practice"].colour, "-", "next_practice"
    )


# ---------------------------------------------------------------------------- the figures
def _runs(keys: list[str]) -> pd.DataFrame:
    rows = []
    for i, key in enumerate(keys):
        for rep in range(3):
            for step in range(4):
                rows.append(
                    {
                        "scenario": key,
                        "replication": rep,
                        "year": 1998 + step,
                        "perf_mean": 0.6 + 0.01 * i + 0.02 * step,
                        "perf_sd": 0.1,
                    }
                )
    return pd.DataFrame(rows)


def test_compare_figure_shows_labels_not_file_names(tmp_path):
    from sim.analysis.plots import compare_axes
    from sim.cli import _about_scenarios
    from sim.model.scenario import load_scenario

    region = tmp_path / "region_top_down.yaml"
    region.write_text("extends: top_down\nn_schools: 2000\n")
    paths = [str(region), "bottom_up", "next_practice"]
    keys = ["region_top_down", "bottom_up", "next_practice"]
    about = _about_scenarios(paths, {k: load_scenario(p) for k, p in zip(keys, paths, strict=True)})
    from sim.core.looks import Look

    looks = {k: Look.from_dict(v) for k, v in about["looks"].items()}
    fig = compare_axes(_runs(keys), looks)
    for ax in fig.axes:
        entries = legend(ax)
        check_strategies(entries)
        assert not any("region_top_down" in t or "_" in t for t in entries)
    # and a folder that saved no looks: names of strategies still draw as them
    check_strategies(legend(compare_axes(_runs(list(SHIPPED))).axes[0]))


def _robust() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"policy": p, "measure": m, "best_share": s}
            for m in ("final_perf_mean", "points_per_million")
            for p, s in zip(SHIPPED, (0.2, 0.3, 0.5), strict=True)
        ]
    )


def test_robustness_figures_draw_each_policy_as_its_strategy():
    from sim.analysis.robustness import best_share_figure, regret_figure

    looks = {n: LOOKS[n] for n in SHIPPED}
    check_strategies(legend(best_share_figure(_robust(), looks).axes[0]))
    r = pd.DataFrame(np.random.default_rng(1).random((20, 3)), columns=list(SHIPPED))
    ax = regret_figure("final_perf_mean", "max", r, looks).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [LOOKS[n].label for n in SHIPPED]
    boxes = [p for p in ax.patches]
    assert [to_hex(b.get_facecolor()[:3]) for b in boxes] == [LOOKS[n].colour for n in SHIPPED]
    owned = {LOOKS[n].colour for n in SHIPPED}
    for line in ax.lines:  # medians, whiskers, markers: none in a strategy's colour
        assert to_hex(line.get_color()) not in owned


def test_grid_figure_draws_each_scenario_as_its_strategy():
    from sim.analysis.analyze import grid_figure

    manifest = {
        "factors": {"scenario": {"unit": "file"}, "tightness": {"unit": "1"}},
        "replications": 2,
        "looks": {n: LOOKS[n].to_dict() for n in SHIPPED},
    }
    table = pd.DataFrame(
        [
            {
                "scenario": n,
                "tightness": t,
                "outcome": "final_perf_mean",
                "mean": 0.7,
                "q05": 0.6,
                "q95": 0.8,
            }
            for n in SHIPPED
            for t in (0.0, 0.5, 1.0)
        ]
    )
    check_strategies(legend(grid_figure(manifest, table, "final_perf_mean", "tightness").axes[0]))


def test_validation_curves_draw_each_condition_in_its_strategys_colour():
    from sim.analysis.validation import curves_figure

    arrays = {
        n: np.random.default_rng(2).random((3, 5))
        for n in ("top_down", "top_down_t0.7", *SHIPPED[1:])
    }
    strategies = {
        "top_down": "top_down",
        "top_down_t0.7": "top_down",
        **{n: n for n in SHIPPED[1:]},
    }
    entries = legend(curves_figure(arrays, strategies, "perf_mean").axes[0])
    check_strategies(entries)
    assert entries["Top-down transfer, tightness 0.7"] == LOOKS["top_down"].colour


def test_the_workshop_app_names_and_colours_strategies_as_the_registry_does():
    from sim.analysis.plots import COLOURS
    from sim.app.figures import curve_figure
    from sim.app.workshop import STRATEGY_LABELS, WorkshopRun

    assert STRATEGY_LABELS == {n: LOOKS[n].label for n in SHIPPED}
    assert {n: COLOURS[n] for n in SHIPPED} == {n: LOOKS[n].colour for n in SHIPPED}
    run = WorkshopRun(seed=1)
    run.step()
    run.set_control("strategy", "bottom_up")
    run.step()
    ax = curve_figure(run).axes[0]
    entries = legend(ax)
    for name in ("next_practice", "bottom_up"):
        found = [c for t, c in entries.items() if LOOKS[name].label.lower() in t.lower()]
        assert found and set(found) == {LOOKS[name].colour}, (name, entries)


@pytest.mark.parametrize(
    "figure",
    ["docs/figures/compare.png", "docs/robustness/best_share.png"],
)
def test_shipped_figures_carry_each_strategys_colour(figure):
    from PIL import Image

    rgb = np.asarray(Image.open(ROOT / figure).convert("RGB")).reshape(-1, 3)
    found = {to_hex(px / 255) for px in np.unique(rgb, axis=0)}
    for name in SHIPPED:
        assert LOOKS[name].colour in found, (figure, name)
