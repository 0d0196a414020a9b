"""Time from a round's end to every phone showing it: ``python benchmarks/room_latency.py``.

A measurement for issue 32 (up to 40 participants on a two-core laptop), not a
test. It serves a room with ``nextpractice app --room`` on this machine, opens
the trainer's screen and N participants' (default 40, the workshop scenario's
every school), each in its own browser context at a phone's size, joins them,
and plays rounds. In each round half the participants send a choice first
(the others are simulated, as in a room). Each phone's page records, with a
MutationObserver, the moment its status shows the round's new month; the
round's end is the time the server wrote in the session log (``ended_at``,
after the round's steps and before any page is told). Both clocks are this
machine's.

It prints, per round, the time to the first and the last of the N screens,
and the median and largest of those last times over the rounds. Note that the
one machine runs the server *and* draws all N phones' pages in one Chromium:
a room's phones draw their own pages, so the figure is pessimistic.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

WATCH_JS = """
target => {
  window.__seenAt = null;
  const seen = () => {
    const el = document.querySelector('.rp-status');
    return el && el.dataset.month === String(target);
  };
  const obs = new MutationObserver(() => {
    if (window.__seenAt === null && seen()) { window.__seenAt = Date.now(); obs.disconnect(); }
  });
  obs.observe(document.body, {subtree: true, childList: true, attributes: true});
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="room-latency-"))
    port = free_port()
    env = {**os.environ, "NEXTPRACTICE_SESSIONS": str(folder)}
    exe = Path(sys.executable).parent / "nextpractice"
    log = folder / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(exe), "app", "--room", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        text = log.read_text()
        token = re.search(r"trainer=([\w-]+)", text).group(1)
        code = re.search(r"Room (\w{4}):", text).group(1)
        session = Path(re.search(r"saved as it goes to (\S+)", text).group(1))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=args.chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
            trainer = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
            trainer.goto(f"{url}?trainer={token}")
            trainer.wait_for_selector(".np-curve img", timeout=120_000)
            phones = []
            start = time.monotonic()
            for k in range(args.people):
                page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
                page.goto(f"{url}?room={code}")
                page.get_by_label("Your name").fill(f"Head {k + 1}")
                page.get_by_role("button", name="Join", exact=True).click()
                page.wait_for_selector(".rp-participant", timeout=120_000)
                phones.append(page)
            print(f"{args.people} joined in {time.monotonic() - start:.0f} s", flush=True)
            month, lasts = 0, []
            for r in range(args.rounds):
                for k, page in enumerate(phones):
                    if (k + r) % 2 == 0:
                        page.get_by_role("button", name="Send my choices").click()
                time.sleep(2.0)  # the sends reach the server
                months = 4 if r % 2 == 0 else 12
                month += months
                for p in phones:
                    p.evaluate(WATCH_JS, month)
                trainer.get_by_role(
                    "button", name="Play a term" if months == 4 else "Play a year"
                ).click()
                seen = []
                for p in phones:
                    p.wait_for_function("() => window.__seenAt !== null", timeout=120_000)
                    seen.append(p.evaluate("() => window.__seenAt") / 1000.0)
                ops = [json.loads(x) for x in session.read_text().splitlines()]
                ended = [o for o in ops if o.get("op") == "round"][-1]["ended_at"]
                delays = sorted(t - ended for t in seen)
                lasts.append(delays[-1])
                sent = sum((k + r) % 2 == 0 for k in range(len(phones)))
                print(
                    f"round {r + 1} (+{months} months, {sent} sent): "
                    f"first screen {delays[0]:.2f} s, "
                    f"median {statistics.median(delays):.2f} s, "
                    f"last {delays[-1]:.2f} s after the round ended",
                    flush=True,
                )
            browser.close()
        print(
            f"every one of {args.people} screens updated: median {statistics.median(lasts):.2f} s, "
            f"largest {max(lasts):.2f} s after a round ended ({args.rounds} rounds)"
        )
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
