"""The workshop app in a real browser, checked the way a trainer would look at it.

Each test opens the page served by ``nextpractice app`` in headless Chromium
and asserts on what a person sees: the counters' text, the dial's value, the
highlighted strategy, and the two plots actually drawn (their pixels, not just
their captions, since a page whose widgets failed to render still shows text).
Waits are on conditions, never fixed sleeps.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from pagecheck import PAGE_WAIT, STEP_WAIT, drawing_measures, is_drawn, picture, red_pixels
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
#: Set to a folder to keep the mid-run screenshots (docs/screenshots is where they live).
ENV_SCREENSHOTS = "NEXTPRACTICE_SCREENSHOTS"


def open_app(page: Page, url: str) -> list[str]:
    """Open the page and wait until it is mounted; return the list of URLs it requests."""
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(url)
    expect(page.get_by_text("Performance over time")).to_be_visible(timeout=PAGE_WAIT)
    expect_month(page, 0)
    return requested


def expect_month(page: Page, n: int) -> None:
    """Wait until the counters say the run is at month ``n``."""
    expect(page.locator(".np-count .np-sub").filter(has_text=re.compile(rf"^month {n}$"))
           ).to_be_visible(timeout=STEP_WAIT)


def month(page: Page) -> int:
    """The month the counters show."""
    text = page.locator(".np-count .np-sub").filter(has_text=re.compile(r"^month \d+$")
                                                     ).inner_text()
    return int(text.split()[1])


def plot(page: Page, which: str):
    """The drawn image of a plot (``network`` or ``curve``), once it has loaded."""
    img = page.locator(f".np-{which} img")
    expect(img).to_be_visible(timeout=STEP_WAIT)
    page.wait_for_function("el => el.complete && el.naturalWidth > 300",
                           arg=img.element_handle(), timeout=STEP_WAIT)
    return img


def step(page: Page, times: int = 1) -> None:
    """Press Step, waiting each time until the step is shown."""
    for _ in range(times):
        start = month(page)
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_function(
            "n => [...document.querySelectorAll('.np-count .np-sub')]"
            ".some(e => /^month \\d+$/.test(e.innerText) && +e.innerText.split(' ')[1] > n)",
            arg=start, timeout=STEP_WAIT)


def expect_drawn(page: Page, which: str) -> bytes:
    """Wait until a plot shows a drawing (not a blank box); return its screenshot.

    The browser may show an image element a moment before it has painted a new
    picture into it (a redraw swaps the picture), so this polls for up to
    ``STEP_WAIT``; a plot still blank then fails with its measures.
    """
    deadline = STEP_WAIT / 1000
    waited = 0.0
    while True:
        shot = plot(page, which).screenshot()
        if is_drawn(shot) or waited >= deadline:
            break
        page.wait_for_timeout(250)
        waited += 0.25
    assert is_drawn(shot), f"the {which} plot is blank: {drawing_measures(shot)}"
    return shot


def settled(locator) -> bytes:
    """A screenshot of an element once it has stopped changing (fades, redraws)."""
    shot = locator.screenshot()
    for _ in range(40):
        locator.page.wait_for_timeout(150)
        again = locator.screenshot()
        if again == shot:
            return shot
        shot = again
    return shot


def test_page_draws_the_network_and_the_curve_without_internet(page: Page, app_url: str):
    requested = open_app(page, app_url)
    page.get_by_role("button", name="Step", exact=True).wait_for()

    # Both plots are real pictures of a sensible size, not empty boxes.
    for which in ("network", "curve"):
        img = plot(page, which)
        box = img.bounding_box()
        assert box["width"] > 300 and box["height"] > 250, which
        expect_drawn(page, which)

    # What the room reads: counters, legend caption, controls in plain words.
    for label in ("Practices in use", "Field trials running", "Collaboratives",
                  "Pupils at the expected standard", "Budget cuts"):
        expect(page.get_by_text(label, exact=True)).to_be_visible()
    expect(page.get_by_text("Dashed: the same schools run by top-down transfer",
                            exact=False)).to_be_visible()
    for button in ("Top-down transfer", "Bottom-up", "Next practice"):
        expect(page.get_by_role("button", name=button)).to_be_visible()

    # Offline: every file came from the app's own server.
    hosts = {urlparse(u).hostname for u in requested if u.startswith("http")}
    assert hosts <= {"127.0.0.1"}, f"the page reached outside: {hosts}"


def test_controls_act_on_the_running_model(page: Page, app_url: str):
    open_app(page, app_url)
    step(page, 2)
    expect_month(page, 2)
    curve_before = plot(page, "curve").get_attribute("src")

    # Move the tightness dial with the keyboard, as a trainer would with the mouse.
    dial = page.get_by_role("slider", name="How tight is the centre")
    start = float(dial.get_attribute("aria-valuenow"))
    dial.focus()
    for _ in range(3):
        dial.press("ArrowRight")
    target = min(1.0, round(start + 0.3, 1))
    expect(page.locator(".np-caption").filter(has_text=f"How tight is the centre: {target:.1f}")
           ).to_be_visible(timeout=STEP_WAIT)

    # Switch strategy mid-run: the button lights up; the curve says so from the next step.
    page.get_by_role("button", name="Bottom-up").click()
    expect(page.get_by_role("button", name="Bottom-up")).to_have_class(
        re.compile("v-btn--active"), timeout=STEP_WAIT)
    step(page)
    expect_month(page, 3)
    expect(page.get_by_text("this system, run by bottom-up", exact=False)).to_be_visible(
        timeout=STEP_WAIT)
    expect(plot(page, "curve")).not_to_have_attribute("src", curve_before, timeout=STEP_WAIT)
    expect_drawn(page, "curve")

    # Play runs on by itself; pause stops it.
    page.get_by_role("button", name="▶").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.np-count .np-sub')]"
        ".some(e => /^month \\d+$/.test(e.innerText) && +e.innerText.split(' ')[1] >= 5)",
        timeout=STEP_WAIT)
    page.get_by_role("button", name="❚❚").click()
    expect(page.get_by_role("button", name="Step", exact=True)).to_be_enabled(timeout=STEP_WAIT)

    # Budget cut: the authority is outlined in red on the network and counted.
    network = plot(page, "network")
    assert red_pixels(network.screenshot()) == 0
    page.get_by_role("button", name="Cut Authority 1's budget").click()
    cuts = page.locator(".np-count").filter(has_text="Budget cuts")
    expect(cuts).to_contain_text("1", timeout=STEP_WAIT)
    expect(cuts).to_contain_text("Authority 1", timeout=STEP_WAIT)
    page.wait_for_function("el => el.complete && el.naturalWidth > 300",
                           arg=plot(page, "network").element_handle())
    for _ in range(50):
        if red_pixels(plot(page, "network").screenshot()) > 200:
            break
        page.wait_for_timeout(200)
    assert red_pixels(plot(page, "network").screenshot()) > 200, "no red budget-cut outline"


def test_reset_starts_the_same_schools_again(page: Page, app_url: str):
    open_app(page, app_url)
    expect_drawn(page, "network")
    first = np.asarray(picture(settled(plot(page, "network"))), float)
    dial = page.get_by_role("slider", name="How tight is the centre")
    start = dial.get_attribute("aria-valuenow")
    dial.focus()
    dial.press("ArrowLeft")
    page.get_by_role("button", name="Top-down transfer").click()
    step(page, 3)
    expect_month(page, 3)

    before_reset = plot(page, "network").get_attribute("src")
    page.get_by_role("button", name="Reset").click()
    expect_month(page, 0)
    expect(plot(page, "network")).not_to_have_attribute("src", before_reset, timeout=STEP_WAIT)
    expect(dial).to_have_attribute("aria-valuenow", start, timeout=STEP_WAIT)
    expect(page.get_by_role("button", name="Next practice")).to_have_class(
        re.compile("v-btn--active"), timeout=STEP_WAIT)
    expect_drawn(page, "network")
    again = np.asarray(picture(settled(plot(page, "network"))), float)
    expect_drawn(page, "curve")
    # Same seed, same schools: the network looks as it did when the page opened.
    assert first.shape == again.shape
    assert np.abs(first - again).mean() < 2.0


def test_another_system_of_schools_at_reset(page: Page, app_url: str):
    open_app(page, app_url)
    expect_drawn(page, "network")
    first = np.asarray(picture(settled(plot(page, "network"))), float)
    chooser = page.get_by_role("slider", name="Which schools")
    start = int(chooser.get_attribute("aria-valuenow"))
    chooser.focus()
    chooser.press("ArrowRight")
    expect(chooser).to_have_attribute("aria-valuenow", str(start + 1), timeout=STEP_WAIT)
    # Nothing changes until Reset: the run in progress is not rebuilt.
    step(page)
    expect_month(page, 1)
    before_reset = plot(page, "network").get_attribute("src")
    page.get_by_role("button", name="Reset").click()
    expect_month(page, 0)
    expect(plot(page, "network")).not_to_have_attribute("src", before_reset, timeout=STEP_WAIT)
    expect_drawn(page, "network")
    other = np.asarray(picture(settled(plot(page, "network"))), float)
    # Other schools: the network looks different from the one the page opened with.
    assert first.shape == other.shape
    assert np.abs(first - other).mean() > 2.0


@pytest.mark.parametrize("strategy", ["Top-down transfer", "Bottom-up", "Next practice"])
def test_mid_run_under_each_strategy(page: Page, app_url: str, strategy: str, tmp_path):
    page.set_viewport_size({"width": 1600, "height": 1100})
    open_app(page, app_url)
    page.get_by_role("button", name=strategy).click()
    # Draw every 11th month, so a few presses of Step reach the middle of the run.
    # (The server may take the new interval a moment after the slider shows it.)
    interval = page.get_by_role("slider", name="Render Interval (steps)")
    interval.focus()
    for _ in range(5):
        interval.press("ArrowRight")
    expect(interval).to_have_attribute("aria-valuenow", "11", timeout=STEP_WAIT)
    for _ in range(30):
        if month(page) >= 55:
            break
        step(page)
    assert 55 <= month(page) < 120
    expect(page.get_by_text(f"this system, run by {strategy.lower()}", exact=False)
           ).to_be_visible(timeout=STEP_WAIT)
    for which in ("network", "curve"):
        expect_drawn(page, which)
    out = Path(os.environ.get(ENV_SCREENSHOTS) or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    name = strategy.lower().replace(" ", "_").replace("-", "_")
    page.screenshot(path=str(out / f"workshop_{name}.png"))
