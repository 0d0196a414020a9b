"""The analyst's briefing in a real browser, as a ministry reader opens it: offline, 1280x720.

``nextpractice report`` is run on small saved results of ``compare``, a robustness sweep
and ``calibrate`` (``briefing_dirs`` in ``tests/conftest.py``); the page is opened from
the file in headless Chromium. It must ask for nothing but itself (its figures are data
URIs), draw every figure, fit the window's width, and show the saved tables' numbers:
every cell of the headline and of the robustness tables carries the value it quotes,
and that value is the one in ``summary.csv``, ``differences.csv`` or ``robustness.csv``.
"""

from __future__ import annotations

import pandas as pd
import pytest
from pagecheck import is_drawn
from playwright.sync_api import Page

from sim.analysis.report import millions, pct, points, pounds
from sim.cli import main

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def briefing(briefing_dirs, tmp_path_factory):
    out = tmp_path_factory.mktemp("page") / "briefing.html"
    dirs = [str(briefing_dirs[k]) for k in ("compare", "robustness", "calibration")]
    assert main(["report", *dirs, "--out", str(out)]) == 0
    return out


def open_page(page: Page, path) -> list[str]:
    page.set_viewport_size({"width": 1280, "height": 720})
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return requested


def test_the_briefing_opens_offline_and_draws_every_figure(page: Page, briefing):
    requested = open_page(page, briefing)
    assert requested and all(u.startswith(("file:", "data:")) for u in requested), requested
    images = page.locator("img")
    assert images.count() >= 6  # compare, best-share, two regrets, predictive, posterior
    sizes = page.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth])")
    assert all(done and width > 100 for done, width in sizes), sizes
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # no sideways scroll
    for i in range(images.count()):
        img = images.nth(i)
        img.scroll_into_view_if_needed()
        assert is_drawn(img.screenshot()), f"figure {i} is blank"
    for section in ("scenarios", "headline", "figures", "robustness", "calibration", "provenance"):
        assert page.locator(f"section#{section}").is_visible(), section


def test_the_headline_numbers_are_the_saved_tables(page: Page, briefing, briefing_dirs):
    open_page(page, briefing)
    summary = pd.read_csv(briefing_dirs["compare"] / "summary.csv")
    diffs = pd.read_csv(briefing_dirs["compare"] / "differences.csv")
    stat = summary.set_index(["scenario", "outcome"])
    cells = page.locator("table.headline td[data-key]")
    seen = set()
    for i in range(cells.count()):
        cell = cells.nth(i)
        key, scenario = cell.get_attribute("data-key"), cell.get_attribute("data-scenario")
        value, text = float(cell.get_attribute("data-value")), cell.inner_text().strip()
        seen.add(key)
        if key == "perf":
            r = stat.loc[(scenario, "final_perf_mean")]
            assert value == r["mean"]
            assert text == f"{pct(r['mean'])} [{pct(r['ci_lo'])}, {pct(r['ci_hi'])}]"
        elif key == "diff" and scenario == "top_down":
            assert text == "baseline"
        elif key == "diff":
            r = diffs[(diffs["scenario"] == scenario) & (diffs["outcome"] == "final_perf_mean")]
            r = r.iloc[0]
            assert value == r["mean_diff"]
            assert text == f"{points(r['mean_diff'])} [{points(r['ci_lo'])}, {points(r['ci_hi'])}]"
        else:
            assert value == stat.loc[(scenario, key), "mean"], (key, scenario)
            fmt = millions if key.startswith("spend_year_") else pounds
            assert text == fmt(value)
    payers = ("centre", "authorities", "schools")
    assert seen == {
        "perf",
        "diff",
        *(f"spend_year_{p}" for p in payers),
        *(f"spend_school_year_{p}" for p in payers),
    }
    assert cells.count() == 3 * len(seen)
    rows = page.locator("table.headline tbody tr")
    assert [rows.nth(i).locator("td").first.inner_text().strip() for i in range(3)] == [
        "Top-down transfer",
        "Bottom-up",
        "Next practice",
    ]


def test_the_robustness_numbers_are_the_saved_tables(page: Page, briefing, briefing_dirs):
    open_page(page, briefing)
    robust = pd.read_csv(briefing_dirs["robustness"] / "analysis" / "robustness.csv")
    cells = page.locator("table.robust td[data-key]")
    assert cells.count() == 2 * len(robust)
    for i in range(cells.count()):
        cell = cells.nth(i)
        what, measure = cell.get_attribute("data-key").split(":")
        row = robust[
            (robust["policy"] == cell.get_attribute("data-scenario"))
            & (robust["measure"] == measure)
        ].iloc[0]
        assert float(cell.get_attribute("data-value")) == row[what]
        if what == "best_share":
            assert cell.inner_text().strip() == f"{pct(row[what])}%"
