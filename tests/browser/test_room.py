"""The room in a real browser: a trainer and a dozen phones play three rounds (issue 32).

One server (``nextpractice app --room``), one Chromium, a context per person:
the trainer's at 1280x720 and twelve participants' at 390x844, each joining
with the room's code. Participants choose (take up a practice they heard of,
drop one, try something of their own, or keep everything), send, and the
trainer plays a term, a year and a term; every phone follows each round
without a reload. The session log the room wrote is then replayed here: the
choices took effect at their round's first step and changed those schools'
state through the rules. A reload rejoins; a participant's try at the
trainer's screen is refused; a name with markup shows as text. The layout
is measured on both screens: nothing scrolls the page, every control is in
view, text is at least 18 px (a chart's text as shown, not as drawn).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from pagecheck import PAGE_WAIT, STEP_WAIT
from playwright.sync_api import Browser, Page, expect
from test_app import (
    CHART_TEXT_JS,
    ENV_SCREENSHOTS,
    MIN_CONTRAST,
    MIN_FONT_PX,
    TEXT_STYLE_JS,
    in_viewport,
)

pytestmark = pytest.mark.browser

N_PEOPLE = 12
#: A name a hostile participant types: it must show as these characters, never as markup.
MARKUP_NAME = "<b>Bold</b><img src=x>"
#: Rounds the trainer plays: a term, a year, a term.
ROUNDS = ("Play a term", "Play a year", "Play a term")
MONTHS = {"Play a term": 4, "Play a year": 12}

NO_SCROLL_JS = """
() => [document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight,
       innerWidth, innerHeight]
"""


def no_page_scroll(page: Page) -> None:
    w, h, vw, vh = page.evaluate(NO_SCROLL_JS)
    assert w <= vw and h <= vh, f"the page scrolls: {w}x{h} in {vw}x{vh}"


def text_style(page: Page, root: str) -> list[str]:
    return page.evaluate(TEXT_STYLE_JS.replace(".np-root", root), [MIN_FONT_PX, MIN_CONTRAST])


def join(browser: Browser, url: str, code: str, name: str) -> Page:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{url}?room={code}")
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join", exact=True).click()
    expect(page.locator(".rp-participant")).to_be_visible(timeout=PAGE_WAIT)
    return page


def month_shown(page: Page) -> int:
    return int(page.locator(".rp-status").get_attribute("data-month"))


def names_in(page: Page, item: str) -> list[str]:
    return [t.strip() for t in page.locator(f"{item} .rp-name").all_inner_texts()]


def choose(page: Page, k: int) -> tuple[str, str | None]:
    """Participant ``k``'s choice: take up, drop, try their own, or keep. Returns (kind, name)."""
    kind = ("adopt", "drop", "invent", "keep")[k % 4]
    name = None
    if kind == "adopt":
        page.locator(".rp-tab-heard").click()
        item = page.locator(".rp-heard").first
        expect(item).to_be_visible(timeout=STEP_WAIT)
        name = item.locator(".rp-name").inner_text().strip()
        item.get_by_role("button", name="Take it up").click()
        expect(page.locator(".rp-plan")).to_contain_text(f"take up {name}", timeout=STEP_WAIT)
    elif kind == "drop":
        page.locator(".rp-tab-practices").click()
        button = page.get_by_role("button", name="Drop it")
        if button.count() == 0:
            kind = "keep"
        else:
            item = page.locator(".rp-run").filter(has=button.first).first
            name = item.locator(".rp-name").inner_text().strip()
            button.first.click()
            expect(page.locator(".rp-plan")).to_contain_text(f"drop {name}", timeout=STEP_WAIT)
    elif kind == "invent":
        page.locator(".rp-tab-practices").click()
        page.get_by_role("button", name="Try something of our own").click()
        expect(page.locator(".rp-plan")).to_contain_text("try something", timeout=STEP_WAIT)
    page.get_by_role("button", name="Send my choices").click()
    expect(page.locator(".rp-status")).to_contain_text("Choices sent", timeout=STEP_WAIT)
    return kind, name


def chart_text(page: Page) -> None:
    sizes = page.evaluate(CHART_TEXT_JS)
    assert sizes, "no chart on the page"
    small = [(c, round(px, 1)) for c, px in sizes if px < MIN_FONT_PX]
    assert not small, f"chart text under {MIN_FONT_PX} px as shown: {small}"


def trainer_layout(page: Page) -> None:
    no_page_scroll(page)
    for what, loc in [
        ("play a term", page.get_by_role("button", name="Play a term")),
        ("play a year", page.get_by_role("button", name="Play a year")),
        ("debrief", page.get_by_role("button", name=re.compile("^Debrief"))),
        ("save", page.get_by_role("button", name="Save picture")),
        ("room tab", page.locator(".np-tab-room")),
        ("centre tab", page.locator(".np-tab-centre")),
        ("levers tab", page.locator(".np-tab-levers")),
        ("compare tab", page.locator(".np-tab-compare")),
        ("network", page.locator(".np-network img")),
        ("curve", page.locator(".np-curve img")),
    ]:
        in_viewport(page, loc, f"the {what}")
    assert text_style(page, ".np-root") == []
    chart_text(page)


def phone_layout(page: Page) -> None:
    no_page_scroll(page)
    for what in (".rp-school", ".rp-status", ".rp-tabs", ".rp-send button"):
        in_viewport(page, page.locator(what).first, what)
    assert text_style(page, ".rp-root") == []


def test_a_room_plays_three_rounds(browser: Browser, room_server, tmp_path):
    from sim.app.room import Room
    from sim.core.state import CHOSEN

    url, token, code = room_server["url"], room_server["token"], room_server["code"]
    out = None
    if os.environ.get(ENV_SCREENSHOTS):
        out = Path(os.environ[ENV_SCREENSHOTS])
        out.mkdir(parents=True, exist_ok=True)
    trainer = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    trainer.goto(f"{url}?trainer={token}")
    expect(trainer.locator(".np-curve img")).to_be_visible(timeout=PAGE_WAIT)
    expect(trainer.locator(".np-code")).to_have_text(code)
    expect(trainer.locator(".np-qr-code svg")).to_be_visible()
    expect(trainer.locator(".np-join")).to_contain_text(f"?room={code}")

    people = [
        join(browser, url, code, MARKUP_NAME if k == 0 else f"Head {k + 1}")
        for k in range(N_PEOPLE)
    ]
    expect(trainer.locator(".np-person")).to_have_count(N_PEOPLE, timeout=STEP_WAIT)
    # A name with markup is shown as its characters, on the projector and on the phone.
    first_row = trainer.locator(".np-person").first
    expect(first_row).to_contain_text(MARKUP_NAME)
    assert trainer.locator(".np-people img").count() == 0
    assert first_row.locator("b").all_inner_texts() == ["1"]
    expect(people[0].locator(".rp-me")).to_have_text(MARKUP_NAME)
    assert people[0].locator(".rp-who img").count() == 0
    schools = [p.locator(".rp-school").inner_text() for p in people]
    assert len(set(schools)) == N_PEOPLE
    codes = [p.locator(".rp-code").inner_text() for p in people]
    trainer_layout(trainer)
    phone_layout(people[1])

    # A participant's try at the trainer's screen: refused, no controls; the dial stays.
    dial_before = room_dial(trainer)
    intruder = people[5].context.new_page()
    for guess in (codes[5], token[:-2] + "xx", ""):
        intruder.goto(f"{url}?trainer={guess}")
        expect(intruder.locator(".rp-refused")).to_contain_text(
            "Only the trainer changes the system", timeout=PAGE_WAIT
        )
        assert intruder.get_by_role("slider").count() == 0
        assert intruder.get_by_role("button", name=re.compile("^Play")).count() == 0
    intruder.close()
    assert room_dial(trainer) == dial_before

    month = 0
    chosen: list[list[tuple[str, str | None]]] = []
    for r, label in enumerate(ROUNDS):
        chosen.append([choose(p, k + r) for k, p in enumerate(people)])
        expect(trainer.locator(".np-card-people .np-num")).to_have_text(
            f"{N_PEOPLE} of {N_PEOPLE}", timeout=STEP_WAIT
        )
        if r == 0 and out is not None:
            people[0].locator(".rp-tab-heard").click()
            people[0].screenshot(path=str(out / "room_phone.png"))
        trainer.get_by_role("button", name=label).click()
        month += MONTHS[label]
        for p in people:  # every phone follows the round, without a reload
            expect(p.locator(".rp-status")).to_have_attribute(
                "data-month", str(month), timeout=STEP_WAIT
            )
            expect(p.locator(".rp-status")).to_contain_text("Choose, then send")
        expect(trainer.locator(".np-card-month .np-num")).to_have_text(str(month))
        # Those who took a practice up run it now (their view lists it).
        for (kind, name), p in zip(chosen[-1], people, strict=True):
            if kind == "adopt":
                p.locator(".rp-tab-practices").click()
                expect(p.locator(".rp-run .rp-name").filter(has_text=name)).to_have_count(
                    1, timeout=STEP_WAIT
                )

    trainer_layout(trainer)
    phone_layout(people[2])
    if out is not None:
        trainer.locator(".np-tab-room").click()
        trainer.screenshot(path=str(out / "room_trainer.png"))

    # A reload rejoins: the same school, the same code, the story so far.
    people[3].reload()
    expect(people[3].locator(".rp-school")).to_have_text(schools[3], timeout=PAGE_WAIT)
    expect(people[3].locator(".rp-code")).to_have_text(codes[3])
    people[3].locator(".rp-tab-centre").click()
    expect(people[3].locator(".rp-story")).to_contain_text(f"month {month}")

    # The debrief: the room among the strategies, and each participant's school.
    trainer.get_by_role("button", name="Debrief").click()
    expect(trainer.locator(".np-debrief img")).to_be_visible(timeout=STEP_WAIT)
    expect(trainer.locator(".np-story")).to_have_count(N_PEOPLE)
    no_page_scroll(trainer)
    chart_text(trainer)
    if out is not None:
        trainer.screenshot(path=str(out / "room_debrief.png"))
    trainer.get_by_role("button", name="Save picture").click()
    expect(trainer.locator(".np-saved")).to_contain_text("nextpractice_debrief", timeout=STEP_WAIT)
    assert list(room_server["pictures"].glob("nextpractice_debrief_*.png"))

    # The session log: each choice with the step it took effect, and it replays here,
    # to the state the server reached, through the same rules.
    room = Room.replay(room_server["session"])
    assert room.run.months == month
    rounds = [op for op in room.ops if op["op"] == "round"]
    assert [op["step"] for op in rounds] == [0, 4, 16]
    s = room.run.system.schools
    by_code = {p.code: p for p in room.participants.values()}
    for r, op in enumerate(rounds):
        assert sorted(op["held"]) == sorted(by_code[c].school for c in codes)
        kinds = {(c["school"], c["action"]) for c in op["choices"]}
        for (kind, _), c in zip(chosen[r], codes, strict=True):
            assert (by_code[c].school, kind) in kinds
    # The last round's take-ups are in those schools' slots, chosen, from its first step.
    practices_by_name = _practice_names(room)
    for (kind, name), c in zip(chosen[-1], codes, strict=True):
        i = by_code[c].school
        if kind == "adopt":
            q = practices_by_name[name]
            col = np.flatnonzero(s.slot_p[i] == q)
            assert len(col) == 1 and s.slot_since[i, col[0]] == rounds[-1]["step"]
        if kind == "drop":  # gone, unless the centre's mandate or trial brought it back
            q = practices_by_name[name]
            back = s.slot_channel[i][s.slot_p[i] == q]
            assert all(ch != CHOSEN for ch in back)
        if kind == "invent":
            pr = room.run.system.practices
            assert any(
                pr.inventor[q] == i and pr.born[q] == rounds[-1]["step"] for q in range(pr.n)
            )
    for context in {p.context for p in people} | {trainer.context}:
        context.close()
    # Solara's cookie warning was not printed when the pages opened (from 127.0.0.1).
    assert "samesite" not in room_server["log"].read_text()


def room_dial(trainer: Page) -> str:
    trainer.locator(".np-tab-centre").click()
    slider = trainer.get_by_role("slider", name="How tight is the centre")
    expect(slider).to_have_count(1, timeout=STEP_WAIT)
    value = slider.get_attribute("aria-valuenow")
    trainer.locator(".np-tab-room").click()
    return value


def _practice_names(room) -> dict[str, int]:
    from sim.app.workshop import practice_name

    m = room.run.system
    return {practice_name(m, q): q for q in range(m.practices.n)}
