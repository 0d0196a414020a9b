"""The workshop app without a browser: its page imports, its runs step, its pictures draw.

The browser tests (tests/browser, marked ``browser``) check the page itself;
these check the pieces quickly and on any machine with the ``app`` extra.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("solara")

from sim.app import assets_dir, offline_env, server_command  # noqa: E402
from sim.app.layout import school_layout  # noqa: E402
from sim.app.workshop import (  # noqa: E402
    SHADOW_STRATEGY,
    WorkshopRun,
    default_scenario,
    strategy_settings,
)

ROOT = Path(__file__).resolve().parent.parent


def test_page_imports():
    from sim.app.app import Layout, Page

    assert Page is not None and Layout is not None


def test_app_serves_the_workshop_scenario_by_default():
    assert Path(default_scenario()) == ROOT / "scenarios" / "workshop.yaml"


def test_workshop_run_steps_both_systems_and_takes_live_controls():
    run = WorkshopRun(seed=3)
    assert run.shadow.p.strategy == SHADOW_STRATEGY
    # Same seed, same schools: the two systems start identical.
    np.testing.assert_array_equal(run.system.schools.authority, run.shadow.schools.authority)
    np.testing.assert_array_equal(run.system.schools.logit_perf, run.shadow.schools.logit_perf)
    for _ in range(3):
        run.step()
    run.set_control("strategy", "bottom_up")
    run.set_control("tightness", 0.9)
    run.set_control("lever_evidence", 0.2)
    run.budget_cut(0)
    for _ in range(3):
        run.step()
    assert run.t == 6 and run.shadow.t == 6
    # Controls change only the trainer's system; the comparison keeps its own settings.
    assert run.system.p.strategy == "bottom_up" and run.shadow.p.strategy == SHADOW_STRATEGY
    assert run.system.p.tightness == 0.9 and run.system.p.lever_evidence == 0.2
    assert run.shadow.p.tightness == strategy_settings(SHADOW_STRATEGY)["tightness"]
    df, shadow = run.frames()
    assert len(df) == len(shadow) == 7
    assert df["tightness"].iloc[-1] == 0.9
    # Every change is marked at the step from which it acts, read from the model's notes.
    assert run.cuts == [(3, 0)]
    assert [(e.step, e.text) for e in run.events] == [
        (3, "Bottom-up, dial 0.9"),
        (3, "Budget cut: Authority 1"),
    ]
    c = run.counters()
    assert 0 < c["perf_mean"] < 1 and c["practices_in_use"] >= 1
    main = run.main_practice()
    assert main.shape == (run.system.schools.n,) and (main >= -1).all()


def test_run_stops_at_the_scenario_horizon():
    run = WorkshopRun(seed=1)
    for _ in range(run.system.p.n_steps):
        assert run.running
        run.step()
    assert not run.running


def test_figures_draw_both_colourings():
    from sim.app.figures import PracticePalette, curve_figure, min_font_px, network_figure

    run = WorkshopRun(seed=2)
    palette = PracticePalette()
    for _ in range(4):
        run.step()
    run.budget_cut(1)
    by_practice = network_figure(run, "practice", palette)
    assert by_practice.legends  # which colour is which practice
    # Every text is at least 18 px in the image, which the page shows at its own size.
    assert min_font_px(by_practice) >= 18
    assert min_font_px(curve_figure(run)) >= 18
    by_performance = network_figure(run, "performance", palette)
    assert len(by_performance.axes) == 2  # the network and its colour bar
    fig = curve_figure(run)
    assert len(fig.axes[0].lines) >= 2


def test_practice_colours_stay_put_while_ranks_swap():
    from sim.app.figures import PracticePalette

    pal = PracticePalette(colours=("a", "b"))
    first = pal.assign(np.array([5, 3, 0]))
    again = pal.assign(np.array([3, 5, 0]))
    assert first == again == {0: "a", 1: "b"}
    # A newcomer takes the colour of the practice it pushed out.
    assert pal.assign(np.array([0, 5, 6])) == {1: "b", 2: "a"}


def test_layout_is_deterministic_and_keeps_authorities_apart():
    rng = np.random.default_rng(0)
    for n_la in (1, 2, 4, 20):
        authority = rng.integers(0, n_la, 500)
        authority[:n_la] = np.arange(n_la)
        town = authority * 3 + rng.integers(0, 3, 500)
        a, b = school_layout(authority, town), school_layout(authority, town)
        np.testing.assert_array_equal(a.xy, b.xy)
        # Every school is inside its authority's disc, and discs do not overlap.
        dist = np.linalg.norm(a.xy - a.centre[authority], axis=1)
        assert (dist <= a.radius[authority]).all()
        for i in range(n_la):
            for j in range(i):
                gap = np.linalg.norm(a.centre[i] - a.centre[j])
                assert gap >= a.radius[i] + a.radius[j]


def test_offline_assets_cover_what_solaras_page_loads():
    """Every front-end file solara's page template asks for is in the installed assets.

    Guards the pins: a solara upgrade that wants a newer front-end bundle than
    solara-assets ships would leave the page blank offline.
    """
    import ipyvue
    import ipywidgets
    import solara.server

    assert ipyvue.__version__.startswith("1."), "ipyvue 3 leaves SolaraViz's plots blank"
    template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
    wanted = set(re.findall(r"\{\{cdn\}\}/([^\"' ]+)", template.read_text()))
    assert wanted, "solara's template no longer names its front-end files as expected"
    major = ipywidgets.__version__.split(".")[0]
    for path in sorted(wanted):
        if "vuetify3-app" in path:
            continue  # the Vue 3 branch, used only with ipyvue 3
        if re.search(r"solara-vuetify-app[^/]*/dist/[^/]*[^n]\.js$", path):
            continue  # the development bundle; the app runs --production (minified)
        path = path.replace("{{ipywidget_major_version}}", major)
        assert (assets_dir() / path).is_file(), f"missing offline asset {path}"


def test_offline_env_points_solara_at_the_assets(tmp_path):
    scenario = tmp_path / "s.yaml"
    env = offline_env(str(scenario), base={})
    assert env["SOLARA_ASSETS_PROXY_CACHE_DIR"] == str(assets_dir())
    assert env["NEXTPRACTICE_SCENARIO"] == str(scenario.resolve())
    cmd = server_command(8123)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and "--production" in cmd


def test_model_package_imports_no_ui():
    code = (
        "import sys, sim.model.model, sim.model.scenario, sim.system.metrics; "
        "bad = [m for m in ('solara', 'matplotlib') if m in sys.modules]; "
        "sys.exit(str(bad) if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_warm_up_compiles_what_every_strategy_runs():
    """Before the page opens, the kernels every strategy reaches are compiled.

    In a fresh process, so that no other test has compiled them already.
    """
    code = (
        "from sim.core import kernels\n"
        "from sim.rules.judged import JudgedAdoption\n"
        "from sim.rules.depth_and_ownership import Implementation\n"
        "from sim.rules.practice_effects import Performance\n"
        "from sim.rules.evidence_review import Review\n"
        "from sim.rules.actions import take_up_pairs_compiled\n"
        "from sim.rules.strategies.mandate import Mandate\n"
        "ks = (kernels.domain_coherence, kernels.tie_engagement,\n"
        "      Implementation.implement_compiled, Review.reviews_compiled,\n"
        "      Review.read_faded_compiled, Performance.perform_faded_compiled,\n"
        "      JudgedAdoption.adopt_compiled,\n"
        "      take_up_pairs_compiled, Mandate.take_ups_funded_compiled,\n"
        "      Mandate.revised_best_compiled, kernels.metric_summary_args)\n"
        "assert not any(k.signatures for k in ks)\n"
        "from sim.app import warm_up\n"
        "warm_up(None)\n"
        "print(all(k.signatures for k in ks))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
