"""Fixtures for the browser tests: Debian's Chromium, and the app served on a free port.

Playwright's own browser download is not reachable here, so pytest-playwright
is pointed at the system Chromium (``scripts/install-browser.sh`` installs it).
The flags keep Chromium off the network: without them it keeps trying to
reach update and sync services that do not answer.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
]
#: Seconds to wait for the server to answer. Its first start in a fresh clone compiles the
#: model's kernels (the app's warm-up) while the other test worker compiles its own; on a
#: slower two-core machine with the cores shared, that took more than the 90 s this once
#: was (2026-12-07: six tests errored in a clean clone's suite, run beside a second suite).
#: A server that exits fails at once whatever this is; only one that hangs waits it out.
SERVER_START = 600


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium headless, with no background network traffic."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: scripts/install-browser.sh should install it")
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install-browser.sh")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def browser_context_args(browser_context_args):
    """A projector's window (tests that measure the layout set their own sizes)."""
    return {**browser_context_args, "viewport": {"width": 1280, "height": 720}}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_command(port: int) -> list[str]:
    """``nextpractice app --port PORT``, from this interpreter's environment."""
    script = Path(sys.executable).parent / "nextpractice"
    if script.exists():
        return [str(script), "app", "--port", str(port)]
    found = shutil.which("nextpractice")
    if found:
        return [found, "app", "--port", str(port)]
    return [
        sys.executable,
        "-c",
        "import sys; from sim.cli import main; sys.exit(main())",
        "app",
        "--port",
        str(port),
    ]


@pytest.fixture(scope="session")
def pictures_dir(tmp_path_factory) -> Path:
    """Where the served app's "Save picture" writes (``NEXTPRACTICE_PICTURES``)."""
    return tmp_path_factory.mktemp("pictures")


@contextlib.contextmanager
def serving(command: list[str], log: Path, env: dict[str, str], what: str):
    """Start ``command`` (a server) in its own session; yield its URL once it answers.

    Fails at once if the server exits, and after :data:`SERVER_START` seconds if it
    never answers; the server and anything it started are stopped afterwards.
    """
    port = int(command[command.index("--port") + 1])
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + SERVER_START
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the {what} stopped (exit {proc.returncode}):\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the {what} did not answer in {SERVER_START} s:\n{log.read_text()}")
            time.sleep(0.25)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # The server runs in its own session: make sure nothing of it is left.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, pictures_dir):
    """Serve the workshop app with ``nextpractice app`` on a free port; stop it afterwards."""
    log = tmp_path_factory.mktemp("app") / "server.log"
    env = {**os.environ, "NEXTPRACTICE_PICTURES": str(pictures_dir)}
    with serving(app_command(free_port()), log, env, "app") as url:
        yield url


@pytest.fixture(scope="session")
def room_server(tmp_path_factory):
    """Serve a room with ``nextpractice app --room``; yield its address, token, code, log."""
    import re

    folder = tmp_path_factory.mktemp("room")
    log = folder / "server.log"
    env = {
        **os.environ,
        "NEXTPRACTICE_SESSIONS": str(folder / "sessions"),
        "NEXTPRACTICE_PICTURES": str(folder / "pictures"),
    }
    with serving([*app_command(free_port()), "--room"], log, env, "room") as url:
        text = log.read_text()
        yield {
            "url": url,
            "token": re.search(r"trainer=([\w-]+)", text).group(1),
            "code": re.search(r"Room (\w{4}):", text).group(1),
            "session": Path(re.search(r"saved as it goes to (\S+)", text).group(1)),
            "pictures": folder / "pictures",
            "log": log,
        }
