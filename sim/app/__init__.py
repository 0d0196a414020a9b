"""The workshop app: a browser page that runs the model live for a room.

``nextpractice app [SCENARIO] [--port N]`` calls :func:`serve`, which runs
Solara's server on 127.0.0.1 with the page of :mod:`sim.app.app`. The page
works without internet: Solara's front-end files come from the installed
``solara-assets`` package (the ``app`` extra), never from a CDN.

This module imports neither solara nor matplotlib, so the command line stays
fast and works without the ``app`` extra until the app is asked for.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

from sim.core.errors import UserError

#: Host the server listens on: this machine only (a workshop laptop, not a network service).
HOST = "127.0.0.1"


def assets_dir() -> Path:
    """Where ``solara-assets`` installs Solara's front-end files (``<prefix>/share/solara/cdn``)."""
    return Path(sysconfig.get_path("data")) / "share" / "solara" / "cdn"


def offline_env(
    scenario_path: str | None = None, base: dict[str, str] | None = None
) -> dict[str, str]:
    """Build the environment in which Solara's server serves the app with no network.

    Args:
        scenario_path: scenario file the page runs; None keeps the default
            (``$NEXTPRACTICE_SCENARIO`` or ``scenarios/workshop.yaml``).
        base: environment to start from (default: this process's).

    Returns:
        A copy of ``base`` with Solara's asset cache pointed at the installed
        assets, telemetry off, and the scenario named.

    """
    env = dict(os.environ if base is None else base)
    env["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(assets_dir())
    env["SOLARA_ASSETS_PROXY"] = "True"
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    # Solara's "This website runs on Solara" badge would cover the chart on a projector.
    env["SOLARA_THEME_SHOW_BANNER"] = "False"
    env.setdefault("MPLBACKEND", "Agg")
    if scenario_path is not None:
        env["NEXTPRACTICE_SCENARIO"] = str(Path(scenario_path).resolve())
    return env


def server_command(port: int, host: str = HOST) -> list[str]:
    """Return the command that runs Solara's server for the app on ``HOST:port``.

    ``-P``: Python puts nothing of the working folder on the module path (``python -m``
    puts it first, so a ``json.py`` in the folder the trainer starts the app from was
    imported and run). The environment is cleaned to match (:func:`launch_env`).
    """
    return [
        sys.executable,
        "-P",
        "-m",
        "solara",
        "run",
        APP_MODULE,
        "--production",
        "--host",
        host,
        "--port",
        str(int(port)),
        "--no-open",
        "--log-level",
        "warning",
    ]


#: The module Solara serves; Solara reads a file or folder of this name in the working
#: folder as the app instead of the module, so one there is refused (:func:`check_folder`).
APP_MODULE = "sim.app.app"


def launch_env(env: dict[str, str], cwd: str | None = None) -> dict[str, str]:
    """``env`` without the ways ``PYTHONPATH`` brings the working folder onto the module path.

    An empty entry (``PYTHONPATH=:/x``, a trailing colon), a relative one (read from the
    working folder) or the working folder itself is dropped; absolute entries elsewhere
    are kept. Plug-ins named in the scenario are not found through the module path but
    by their files (:mod:`sim.model.plugins`), so they still load.
    """
    env = dict(env)
    here = os.path.realpath(cwd or os.getcwd())
    entries = env.get("PYTHONPATH", "").split(os.pathsep)
    kept = [e for e in entries if os.path.isabs(e) and os.path.realpath(e) != here]
    if kept:
        env["PYTHONPATH"] = os.pathsep.join(kept)
    else:
        env.pop("PYTHONPATH", None)
    return env


def check_folder(cwd: str | None = None) -> None:
    """Refuse to serve from a folder holding a file or folder named :data:`APP_MODULE`.

    Raises:
        UserError: naming it and the fix.
    """
    shadow = Path(cwd or os.getcwd()) / APP_MODULE
    if os.path.lexists(shadow):
        raise UserError(
            f"{shadow}: Solara would serve this instead of the workshop app; start the "
            "app from another folder, or rename it"
        )


def check_ready(scenario_path: str | None) -> None:
    """Refuse to start, saying what to do, when the app cannot work.

    Raises:
        UserError: the ``app`` extra or its offline assets are missing, or the
            scenario file does not load.

    """
    try:
        import ipyvue
        import solara  # noqa: F401
    except ImportError:
        raise UserError("the workshop app needs the 'app' extra: pip install -e '.[app]'") from None
    if not ipyvue.__version__.startswith("1."):
        raise UserError(
            f"ipyvue {ipyvue.__version__} leaves the plots blank; the app needs "
            "the 1.x line: pip install -e '.[app]'"
        )
    if not (assets_dir() / "@widgetti").is_dir():
        raise UserError(
            f"Solara's offline assets are missing from {assets_dir()}; "
            "install them with: pip install -e '.[app]'"
        )
    from sim.model.scenario import load_scenario

    if scenario_path is not None:
        load_scenario(scenario_path)


def warm_up(scenario_path: str | None) -> None:
    """Compile the model's kernels before the page opens, under every strategy.

    The first run after an install (or an edit of a kernel's source) compiles
    them, 5 to 10 s; done here, on the workshop's small system, that wait is
    at the command line and not on a trainer's first click. The compiled
    code is cached on disk, so the server process only loads it.
    """
    import numpy as np

    from sim.app.workshop import WORKSHOP_SCENARIO
    from sim.core.state import CHOSEN
    from sim.model.model import NextPracticeModel
    from sim.model.scenario import load_scenario
    from sim.rules.actions import take_up
    from sim.rules.strategies import STRATEGIES

    params = load_scenario(scenario_path or WORKSHOP_SCENARIO)
    for name in STRATEGIES:  # a year: long enough for take-ups by choice and by mandate
        model = NextPracticeModel(params.model_copy(update={"strategy": name}), rng=0).run(12)
    # A take-up by a rule's action (an invention's inventor, a participant's choice): judged
    # adoption now takes its schools' up inside its own kernel, so a year may not reach it.
    take_up(model, np.zeros(1, np.int64), np.zeros(1, np.int64), CHOSEN)


def lan_address(host: str) -> str:
    """The address other machines reach this one at, for a join link.

    ``host`` itself, unless it is a wildcard (0.0.0.0, ::): then this machine's
    first address by its name that is not a loopback one.
    """
    if host not in ("0.0.0.0", "::", ""):
        return host
    import socket

    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    for info in infos:
        addr = info[4][0]
        if not addr.startswith("127."):
            return addr
    return HOST


#: What ``--host`` prints before the server listens beyond this laptop.
HOST_WARNING = (
    "WARNING: the app listens on {host}: any device on the networks this laptop is on can "
    "open it. Use a network you trust (the room's own wifi), not a public one. Only the "
    "trainer's address, with its token, changes the system."
)


def serve(
    scenario_path: str | None,
    port: int,
    host: str = HOST,
    room: bool = False,
    resume: str | None = None,
) -> None:
    """Serve the workshop app on http://HOST:PORT until interrupted (Ctrl-C).

    Args:
        scenario_path: scenario file to run; None runs ``scenarios/workshop.yaml``.
        port: port to listen on.
        host: address to listen on (default this laptop only; ``0.0.0.0`` every network).
        room: serve a room (participants join from their phones; see :mod:`sim.app.room`).
        resume: a room's session log to resume (implies ``room``).

    Raises:
        UserError: the app cannot start (see :func:`check_ready`), or the
            server stopped with an error.

    """
    from_env = scenario_path is None and bool(os.environ.get("NEXTPRACTICE_SCENARIO"))
    if from_env:  # the page would read it: a broken or missing file is refused here
        scenario_path = os.environ["NEXTPRACTICE_SCENARIO"]
    try:
        check_ready(scenario_path)
    except UserError as exc:
        if not from_env:
            raise
        raise UserError(f"NEXTPRACTICE_SCENARIO={scenario_path[:200]!r}: {exc}") from None
    check_folder()
    room = room or resume is not None
    env = offline_env(scenario_path)
    if room:
        room_env = prepare_room(scenario_path, resume, host, port)
        env.update(room_env)
    print("Preparing the model (the first run after an install compiles it)...", flush=True)
    warm_up(scenario_path)
    from sim.app.workshop import pictures_dir

    if host != HOST:
        print(HOST_WARNING.format(host=host), flush=True)
    if room:
        print(
            f"Room {env['NEXTPRACTICE_ROOM_CODE']}: participants join at "
            f"{env['NEXTPRACTICE_JOIN_URL']} (the trainer's screen shows it, with a QR code).",
            flush=True,
        )
        print(
            f"Trainer's screen: http://127.0.0.1:{port}/?trainer={env['NEXTPRACTICE_ROOM_TOKEN']}"
            " (keep this address to yourself: it changes the system).",
            flush=True,
        )
        print(f"The session is saved as it goes to {env['NEXTPRACTICE_SESSION']}", flush=True)
        if host == HOST:
            print(
                "Phones cannot reach 127.0.0.1: start with --host 0.0.0.0 for a room.", flush=True
            )
    else:
        print(
            f"Workshop app: open http://{HOST}:{port} in a browser (Ctrl-C stops it).", flush=True
        )
    print(f"Pictures saved from the page go to {pictures_dir()}", flush=True)
    proc = subprocess.Popen(server_command(port, host), env=launch_env(env))

    def forward(_signum: int, _frame: object) -> None:
        # Solara's server stops cleanly on an interrupt but ignores a terminate.
        proc.send_signal(signal.SIGINT)

    # A terminate sent to this process stops the server too, rather than orphaning it.
    previous = signal.signal(signal.SIGTERM, forward)
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return
    finally:
        signal.signal(signal.SIGTERM, previous)
    if code in (-signal.SIGTERM, -signal.SIGINT):
        return
    if code != 0:
        raise UserError(
            f"the app's server stopped with exit code {code}; "
            f"is port {port} already in use? Try --port with another number."
        )


def prepare_room(
    scenario_path: str | None, resume: str | None, host: str, port: int
) -> dict[str, str]:
    """The environment of a room's server: token, room code, join address, session log.

    A resumed session is read first, so a damaged log is refused here, in one
    line, before the server starts.
    """
    import secrets

    from sim.app.room import (
        ENV_JOIN_URL,
        ENV_RESUME,
        ENV_ROOM,
        ENV_ROOM_CODE,
        ENV_SESSION,
        ENV_TOKEN,
        Room,
        new_code,
        sessions_dir,
    )

    env = {ENV_ROOM: "1", ENV_TOKEN: secrets.token_urlsafe(16)}
    if resume is not None:
        header, _ = Room.read_log(resume)
        Room.replay(resume)  # refuses, naming the line, a log that does not replay
        env[ENV_RESUME] = str(Path(resume).resolve())
        env[ENV_SESSION] = env[ENV_RESUME]
        env[ENV_ROOM_CODE] = str(header.get("room_code") or new_code(4))
    else:
        from datetime import datetime

        path = sessions_dir() / f"room-{datetime.now():%Y%m%d-%H%M%S}.jsonl"
        env[ENV_SESSION] = str(path.resolve())
        env[ENV_ROOM_CODE] = new_code(4)
    env[ENV_JOIN_URL] = f"http://{lan_address(host)}:{int(port)}/"
    return env
