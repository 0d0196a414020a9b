"""The room: participants play the heads of schools while the trainer plays the centre.

``nextpractice app --room`` serves one :class:`Room` to every browser that
connects. The trainer's screen (opened with the trainer's token) shows the
whole system, a join address and QR code, and the centre's controls;
participants join from a phone or laptop with the room's code, each taking
one school and playing its head. Between rounds a participant sees what their
head would see (:meth:`Room.view`) and chooses (:meth:`Room.choose`); the
trainer then plays a term or a year (:meth:`Room.play`). A participant's
choices take effect at the start of the round through the same actions the
rules use (:mod:`sim.rules.actions`: take up, drop, invent, join or leave a
collaborative, take on a school), and during the round the rules make none of
that head's own choices (:meth:`sim.model.model.NextPracticeModel.hold`). A
participant who has not chosen when the round starts is simulated as usual.

Everything that changes the system is an *operation* written to the session
log as it happens (one JSON line each, flushed and synced): the session's
scenario (its parameters in full), seed and code version first, then joins,
the trainer's controls and budget cuts, jumps to a prepared moment, and each
round with its choices and the step they took effect. :meth:`Room.replay`
applies the same operations to the same schools and reaches the same state,
byte for byte (:func:`state_digest`); :meth:`Room.resume` does so and goes on
writing to the same file, so a crash or a closed laptop loses nothing and
participants rejoin with their codes.

The model stays unaware of strategies and rooms: it is told which schools'
heads are held, nothing else. This module imports neither solara nor
matplotlib. Participants' input is hostile input: names are cleaned
(:func:`clean_name`) and shown escaped; codes are checked against their
alphabet (:func:`clean_code`); every choice is checked against the options
the participant's school has now; only a caller holding the trainer's token
changes the system's controls.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import secrets
import subprocess
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sim import __version__
from sim.app.workshop import (
    STRATEGY_LABELS,
    WorkshopRun,
    authority_name,
    default_scenario,
    default_seed,
    practice_name,
    school_name,
    strategy_settings,
)
from sim.core.errors import UserError
from sim.core.registry import DEFAULTS, RULES, Rule
from sim.core.state import CHOSEN, EMPTY, MANDATED, PHASES, PROVEN, STAGES
from sim.model.params import Params
from sim.model.scenario import load_scenario
from sim.rules.actions import (
    drop,
    join_collaborative,
    leave_collaborative,
    slot_value,
    take_on,
    take_up,
)

#: Letters of codes: no I, O, 0 or 1, which a room misreads on a projector.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#: Length of a participant's own code (rejoins with it): 32**6, about a billion codes.
CODE_LEN = 6
#: Length of the room's code (on the projector and in the QR code).
ROOM_CODE_LEN = 4
#: Longest name a participant may give, in characters (longer ones are cut).
MAX_NAME = 24
#: Most participants a room takes (a school each; fewer if the system has fewer schools).
MAX_PARTICIPANTS = 60
#: Rounds the trainer plays, in months.
ROUNDS = {"term": 4, "year": 12}
#: What a participant may choose, in the order choices take effect in a round.
ACTIONS = ("drop", "adopt", "invent", "leave", "join", "support", "keep")
#: Most weaker schools offered for support.
MAX_SUPPORT = 5
#: Environment variables of a room served by ``nextpractice app --room``.
ENV_ROOM = "NEXTPRACTICE_ROOM"
ENV_TOKEN = "NEXTPRACTICE_ROOM_TOKEN"
ENV_ROOM_CODE = "NEXTPRACTICE_ROOM_CODE"
ENV_JOIN_URL = "NEXTPRACTICE_JOIN_URL"
ENV_SESSION = "NEXTPRACTICE_SESSION"
ENV_RESUME = "NEXTPRACTICE_RESUME"
ENV_SESSIONS = "NEXTPRACTICE_SESSIONS"
#: Format of the session log (its first line says which).
LOG_FORMAT = 1

#: Moments a trainer can jump to without playing up to them: operations applied to
#: the served scenario's schools from month 0 (valid for any scenario and seed).
PREPARED_MOMENTS: dict[str, list[dict[str, Any]]] = {
    "The plateau: top-down transfer, month 46": [
        {"op": "control", "name": "strategy", "value": "top_down"},
        {"op": "round", "months": 46, "held": [], "choices": []},
    ],
    "After a budget cut: next practice, month 36": [
        {"op": "control", "name": "strategy", "value": "next_practice"},
        {"op": "round", "months": 24, "held": [], "choices": []},
        {"op": "cut", "authority": 0},
        {"op": "round", "months": 12, "held": [], "choices": []},
    ],
}


class RoomError(UserError):
    """Something a participant or the trainer asked that the room refuses, in one line."""


def sessions_dir() -> Path:
    """Where sessions and saved moments go: ``$NEXTPRACTICE_SESSIONS``, else ./workshop-sessions."""
    env = os.environ.get(ENV_SESSIONS)
    return Path(env) if env else Path.cwd() / "workshop-sessions"


def code_version() -> str:
    """The code's version: the package's, and the git commit when run from a checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        commit = out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+{commit}" if commit else __version__


def new_code(length: int = CODE_LEN, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A random code of :data:`ALPHABET` letters not in ``taken`` (from the OS's secrets)."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(length))
        if code not in taken:
            return code


def clean_code(raw: object, length: int = CODE_LEN) -> str | None:
    """A code as typed (any case, spaces or dashes between letters), or None if it is not one."""
    if not isinstance(raw, str) or len(raw) > 4 * length:
        return None
    code = re.sub(r"[\s-]", "", raw).upper()
    if len(code) != length or any(c not in ALPHABET for c in code):
        return None
    return code


def clean_name(raw: object) -> str:
    """A participant's name as the room shows it: printable, one line, at most MAX_NAME long.

    Control, format and private-use characters become spaces, runs of space
    one space; the result is cut to :data:`MAX_NAME` characters. Markup is
    kept as text: the pages escape it (:func:`html.escape`), so ``<b>Ann</b>``
    shows as typed.

    Raises:
        RoomError: nothing printable is left.
    """
    if not isinstance(raw, str):
        raise RoomError("Type your name (letters, numbers, anything printable).")
    text = unicodedata.normalize("NFC", raw[: 10 * MAX_NAME])
    kept = "".join(
        " " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text
    )  # C: control, format, private, unassigned; Z: separators (spaces and line breaks)
    name = " ".join(kept.split())[:MAX_NAME].strip()
    if not name:
        raise RoomError("Type your name (letters, numbers, anything printable).")
    return name


def escaped(text: str) -> str:
    """Text safe inside HTML (names and anything else a participant typed)."""
    return html.escape(text, quote=True)


def state_digest(run: WorkshopRun) -> str:
    """A SHA-256 of the trainer's system: every table of its state and its metrics.

    Two runs with the same digest are in the same state, byte for byte (the
    arrays' bytes, types and shapes; the metrics table as CSV with every digit).
    """
    m = run.system
    h = hashlib.sha256()

    def add(name: str, value: Any) -> None:
        a = np.ascontiguousarray(value)
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())

    for table in ("schools", "heads", "practices", "ties", "collabs", "authorities"):
        obj = getattr(m, table)
        n = getattr(obj, "n", None)
        for name, value in sorted(vars(obj).items()):
            if isinstance(value, np.ndarray):
                add(f"{table}.{name}", value if n is None or value.ndim != 1 else value[:n])
    add("held", m.held)
    add("mandates", np.asarray(m.mandates, np.int64))
    h.update(f"t={m.t};agenda={m.agenda};p={m.p.model_dump_json()}".encode())
    h.update(m.metrics_frame().to_csv(float_format="%.17g").encode())
    return h.hexdigest()


@dataclass
class Participant:
    """One participant: who they are, the school they play, what they chose.

    Attributes:
        code: their own code (they rejoin with it; it opens their private view).
        name: as cleaned by :func:`clean_name` (show it escaped).
        school: the school they play the head of.
        number: their number in the room (1, 2, ...), shown on the projector.
        plan: the choices they have sent for the next round.
        sent: whether they have sent choices for the next round.
        story: what they chose, round by round: ``(step, choices, performance after)``.
    """

    code: str
    name: str
    school: int
    number: int
    plan: list[dict[str, Any]] = field(default_factory=list)
    sent: bool = False
    story: list[dict[str, Any]] = field(default_factory=list)


class _OnlyThese:
    """The model as a rule sees it when only the given schools act (a participant's choice).

    A participant who tries something of their own invents through the
    ``invent`` rule itself: the rule runs on this view, whose ``occurs``
    names the participant's school instead of drawing who invents, and whose
    random streams are the room's own (so no rule's stream moves). Everything
    else is the model's.
    """

    #: Its ``occurs`` is not the model's: no rule may draw who acts inside its own kernel.
    plain_monthly = False

    def __init__(self, model: Any, schools: np.ndarray) -> None:
        self._model, self._schools, self._asked = model, schools, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def occurs(self, rate: Any, rng: Any = None) -> np.ndarray:
        """The participant's school, the first time the rule asks; nobody after."""
        if self._asked:
            return np.zeros(0, np.int64)
        self._asked = True
        return self._schools

    def rng_for(self, name: str) -> Any:
        return self._model.rng_for(f"room:{name}")

    def kernel_rng_for(self, name: str) -> Any:
        return self._model.kernel_rng_for(f"room:{name}")


def rule_in(model: Any, slot: str) -> Rule | None:
    """A fresh instance of the rule the model runs in ``slot`` (None if it is off)."""
    name = model.p.rules.get(slot, DEFAULTS.get(slot, "off"))
    return None if name == "off" else RULES[slot][name]()


def _rule_value(model: Any, slot: str, name: str, default: float) -> float:
    """A parameter of the rule in ``slot``, or ``default`` if that rule has none by that name."""
    rule = rule_in(model, slot)
    if rule is None or name not in getattr(type(rule), "params", {}):
        return default
    return float(rule.value(model, name))


class Room:
    """A workshop room: the system, the trainer's token, the participants, the session log.

    Attributes:
        run: the trainer's system and its comparison (:class:`WorkshopRun`).
        token: the trainer's token: only a caller holding it changes controls.
        code: the room's code, which a participant types (or scans) to join.
        participants: by their code.
        ops: every operation so far, as written to the log.
        rounds: rounds played since the room started (or since the last jump).
        t0: the step at which the room's first round started (None before it).
        version: counts changes; pages redraw when it moves (:meth:`wait`).
        log_path: the session log (None: not written).
    """

    def __init__(
        self,
        scenario_path: str | None = None,
        seed: int | None = None,
        log_path: str | Path | None = None,
        token: str | None = None,
        code: str | None = None,
        params: Params | None = None,
    ) -> None:
        """Open a room on a scenario's schools; start the session log if given a path."""
        self.scenario_path = scenario_path if scenario_path is not None else default_scenario()
        self.params = params if params is not None else load_scenario(self.scenario_path)
        self.seed = default_seed() if seed is None else int(seed)
        self.run = WorkshopRun(self.scenario_path, self.seed, params=self.params)
        self.token = token or secrets.token_urlsafe(16)
        self.code = clean_code(code, ROOM_CODE_LEN) or new_code(ROOM_CODE_LEN)
        self.participants: dict[str, Participant] = {}
        self._browsers: dict[str, str] = {}  # a browser's session -> its participant's code
        self.ops: list[dict[str, Any]] = []
        self.rounds = 0
        self.t0: int | None = None
        self.version = 0
        self.state_version = 0
        self.round_ended_at = 0.0
        #: Held by every operation (a round, a control, a join, a choice), so each
        #: happens whole; a page's watcher waits on it (:meth:`wait`).
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self.log_path = Path(log_path) if log_path is not None else None
        self.header = {
            "op": "session",
            "format": LOG_FORMAT,
            "code_version": code_version(),
            "scenario": str(self.scenario_path),
            "params": json.loads(self.params.model_dump_json()),
            "seed": self.seed,
            "room_code": self.code,
            "started": datetime.now().isoformat(timespec="seconds"),
        }
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "x", encoding="utf-8") as f:
                f.write(json.dumps(self.header) + "\n")
                f.flush()
                os.fsync(f.fileno())

    # ------------------------------------------------------------------ the log
    def _record(self, op: dict[str, Any]) -> None:
        """Keep an operation and append it to the session log, synced to disk."""
        self.ops.append(op)
        if self.log_path is not None:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(op) + "\n")
                f.flush()
                os.fsync(f.fileno())

    def _changed_now(self, system: bool = True) -> None:
        """Tell the pages: every change moves ``version``; one of the system, ``state_version``."""
        self.version += 1
        if system:
            self.state_version += 1
        self._changed.notify_all()

    def wait(self, seen: int, timeout: float, which: str = "version") -> int:
        """Wait until ``version`` (or ``state_version``) moves past ``seen``, at most ``timeout`` s.

        Returns the version then. The trainer's screen follows every change
        (who has chosen); a participant's follows the system's only.
        """
        with self._changed:
            if getattr(self, which) == seen:
                self._changed.wait(timeout)
            return getattr(self, which)

    @classmethod
    def _from_header(cls, path: Path, header: dict[str, Any], **kw: Any) -> Room:
        if header.get("op") != "session" or header.get("format") != LOG_FORMAT:
            raise RoomError(f"{path}: not a session log of this app (its first line must say so)")
        try:
            params = Params.model_validate(header["params"])
        except Exception as exc:  # pydantic's ValidationError
            raise RoomError(f"{path}: the session's parameters do not load: {exc}") from None
        kw.setdefault("code", header.get("room_code"))
        return cls(header.get("scenario"), int(header["seed"]), params=params, **kw)

    @staticmethod
    def read_log(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The header and operations of a session log.

        Raises:
            RoomError: the file is missing or not a session log; a line that is not
                JSON (a crash mid-write leaves at most the last one cut) is named.
        """
        path = Path(path)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise RoomError(f"{path}: cannot read the session log ({exc.strerror})") from None
        rows = []
        for i, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                if i == len(lines):  # the last line, cut by a crash: the op never took effect
                    break
                raise RoomError(f"{path}, line {i}: not a line of a session log") from None
        if not rows:
            raise RoomError(f"{path}: empty; a session log starts with its session line")
        return rows[0], rows[1:]

    @classmethod
    def replay(cls, path: str | Path) -> Room:
        """The room a session log describes: the same operations on the same schools.

        The state reached is the one the session had, byte for byte
        (:func:`state_digest`; each round's digest in the log is checked).
        """
        header, ops = cls.read_log(path)
        room = cls._from_header(Path(path), header)
        room.header = header
        for op in ops:
            room._apply(op, check=True)
        return room

    @classmethod
    def resume(cls, path: str | Path, token: str | None = None) -> Room:
        """Replay a session log and go on writing to it: after a crash or a closed laptop."""
        header, ops = cls.read_log(path)
        room = cls._from_header(Path(path), header, token=token)
        room.header = header
        for op in ops:
            room._apply(op, check=True)
        room.log_path = Path(path)
        with open(room.log_path, "rb+") as f:  # a line cut by a crash: gone, as it never acted
            data = f.read()
            if data and not data.endswith(b"\n"):
                f.truncate(data.rindex(b"\n") + 1 if b"\n" in data else 0)
        return room

    def digest(self) -> str:
        """:func:`state_digest` of the room's system."""
        with self.lock:
            return state_digest(self.run)

    # ------------------------------------------------------------------ operations
    def _apply(self, op: dict[str, Any], check: bool = False) -> None:
        """Apply one operation (live or replayed) and record it."""
        kind = op.get("op")
        if kind == "join":
            self._join(str(op["code"]), str(op["name"]), int(op["school"]))
        elif kind == "control":
            self.run.set_control(str(op["name"]), op["value"])
        elif kind == "cut":
            self.run.budget_cut(int(op["authority"]))
        elif kind == "compare":
            self.run.set_comparison(op.get("strategy"), op.get("tightness"))
        elif kind == "round":
            self._round(op, check)
        elif kind == "moment":
            self._moment(op)
        else:
            raise RoomError(f"unknown operation {kind!r} in the session log")
        if kind != "round":  # a round records itself, with what it did
            self._record(op)

    def _round(self, op: dict[str, Any], check: bool) -> None:
        """Apply a round: choices at its first step, the choosers' schools held, then months."""
        m = self.run.system
        at = m.t
        choices = []
        for c in op.get("choices", []):
            done = self._take_effect(int(c["school"]), c)
            choices.append({**c, "step": at, "ok": done})
        held = sorted({int(s) for s in op.get("held", [])})
        m.hold(held)
        try:
            self.run.advance(int(op["months"]))
        finally:
            m.hold([])
        if held and self.t0 is None:
            self.t0 = at
        self.rounds += 1
        digest = state_digest(self.run)
        if check and op.get("digest") and op["digest"] != digest:
            raise RoomError(
                f"the replay differs from the session after the round at month {at}: "
                f"the code changed since (session {self.header['code_version']}, "
                f"now {code_version()})"
            )
        perf = m.schools.perf
        for p in self.participants.values():
            mine = [c for c in choices if int(c["school"]) == p.school]
            p.story.append(
                {
                    "step": at,
                    "months": int(op["months"]),
                    "choices": mine,
                    "perf": float(perf[p.school]),
                }
            )
            p.plan, p.sent = [], False
        self._record(
            {
                "op": "round",
                "months": int(op["months"]),
                "step": at,
                "held": held,
                "choices": choices,
                "digest": digest,
                # When it ended (wall clock, seconds): for the trainer's record and the
                # latency benchmark; a replay reads no time.
                "ended_at": op.get("ended_at", time.time()),
            }
        )

    def _moment(self, op: dict[str, Any]) -> None:
        """Start again from month 0 on the same schools and apply a moment's operations."""
        self.run = WorkshopRun(self.scenario_path, self.seed, params=self.params)
        self.rounds, self.t0 = 0, None
        for p in self.participants.values():
            p.plan, p.sent, p.story = [], False, []
        for sub in op.get("ops", []):
            kind = sub.get("op")
            if kind == "control":
                self.run.set_control(str(sub["name"]), sub["value"])
            elif kind == "cut":
                self.run.budget_cut(int(sub["authority"]))
            elif kind == "compare":
                self.run.set_comparison(sub.get("strategy"), sub.get("tightness"))
            elif kind == "round":
                m = self.run.system
                for c in sub.get("choices", []):
                    self._take_effect(int(c["school"]), c)
                m.hold(sorted({int(s) for s in sub.get("held", [])}))
                try:
                    self.run.advance(int(sub["months"]))
                finally:
                    m.hold([])
            elif kind == "moment":
                self._moment(sub)
            # joins are the session's, not the moment's: skipped
        self.rounds, self.t0 = 0, None

    # ------------------------------------------------------------------ the trainer
    def is_trainer(self, token: object) -> bool:
        """Whether ``token`` is the trainer's (compared in constant time)."""
        return isinstance(token, str) and secrets.compare_digest(token, self.token)

    def _trainer(self, token: object) -> None:
        if not self.is_trainer(token):
            raise RoomError(
                "Only the trainer changes the system: this screen has no trainer token."
            )

    def set_control(self, token: object, name: str, value: Any) -> None:
        """The trainer changes a control of the centre (strategy, dial, lever)."""
        with self.lock:
            self._trainer(token)
            if self.run.control(name) == value:
                return
            self._apply({"op": "control", "name": name, "value": value})
            self._changed_now()

    def budget_cut(self, token: object, authority: int) -> None:
        """The trainer cuts an authority's budget."""
        with self.lock:
            self._trainer(token)
            if not 0 <= int(authority) < self.run.n_authorities:
                raise RoomError(f"there is no {authority_name(authority)}")
            self._apply({"op": "cut", "authority": int(authority)})
            self._changed_now()

    def set_comparison(
        self, token: object, strategy: str | None = None, tightness: float | None = None
    ) -> None:
        """The trainer picks what the same schools are compared with."""
        with self.lock:
            self._trainer(token)
            self._apply({"op": "compare", "strategy": strategy, "tightness": tightness})
            self._changed_now()

    def play(self, token: object, months: int) -> None:
        """The trainer plays a round: choices take effect, the choosers' schools held, months on."""
        with self.lock:
            self._trainer(token)
            if not self.run.running:
                raise RoomError("the run has reached its end; jump to a moment to play on")
            sent = sorted((p for p in self.participants.values() if p.sent), key=lambda p: p.school)
            choices = [
                {"school": p.school, **c}
                for p in sent
                for c in sorted(p.plan, key=lambda c: ACTIONS.index(c["action"]))
            ]
            self._apply(
                {
                    "op": "round",
                    "months": int(months),
                    "held": [p.school for p in sent],
                    "choices": choices,
                }
            )
            self.round_ended_at = self.ops[-1]["ended_at"]
            self._changed_now()

    def jump(self, token: object, name: str) -> None:
        """The trainer jumps to a prepared or saved moment (participants keep their schools)."""
        with self.lock:
            self._trainer(token)
            moments = self.moments()
            if name not in moments:
                raise RoomError(f"no moment called {name!r}")
            self._apply({"op": "moment", "name": name, "ops": moments[name]})
            self._changed_now()

    def moments(self) -> dict[str, list[dict[str, Any]]]:
        """Moments to jump to: the prepared ones, then those saved for these schools."""
        out = {"The start: month 0": []} | dict(PREPARED_MOMENTS)
        folder = sessions_dir() / "moments"
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            if saved.get("seed") == self.seed and saved.get("params") == self.header["params"]:
                out[str(saved.get("name", path.stem))[:80]] = list(saved.get("ops", []))
        return out

    def save_moment(self, token: object, name: str) -> Path:
        """Save this moment for a later session on the same schools; return its file."""
        with self.lock:
            self._trainer(token)
            label = clean_name(name) if name else f"Month {self.run.months:.0f}"
            ops = [
                {k: v for k, v in op.items() if k != "digest"}
                for op in self.ops
                if op.get("op") != "join"
            ]
            folder = sessions_dir() / "moments"
            folder.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "moment"
            path = folder / f"{slug}-{datetime.now():%Y%m%d-%H%M%S}.json"
            path.write_text(
                json.dumps(
                    {"name": label, "seed": self.seed, "params": self.header["params"], "ops": ops},
                    indent=1,
                ),
                encoding="utf-8",
            )
            return path

    # ------------------------------------------------------------------ participants
    def _next_school(self) -> int:
        """The next free school, authorities taken in turn (so the room spreads out)."""
        s = self.run.system.schools
        taken = {p.school for p in self.participants.values()}
        rank = np.zeros(s.n, np.int64)
        for la in range(self.run.n_authorities):
            mine = np.flatnonzero(s.authority == la)
            rank[mine] = np.arange(len(mine))
        order = np.lexsort((s.authority, rank))
        for i in order.tolist():
            if i not in taken:
                return int(i)
        raise RoomError("every school is taken: the room is full")

    def _join(self, code: str, name: str, school: int) -> Participant:
        p = Participant(code, name, school, len(self.participants) + 1)
        self.participants[code] = p
        return p

    @property
    def capacity(self) -> int:
        """Most participants this room takes."""
        return min(MAX_PARTICIPANTS, self.run.system.schools.n)

    def join(self, room_code: object, name: object, browser: str | None = None) -> Participant:
        """A participant joins with the room's code and a name; they get a school and a code.

        ``browser``: the browser's session (its cookie); a browser that has
        joined before gets its participant back rather than another school, so
        one browser cannot fill the room.

        Raises:
            RoomError: a wrong room code, an empty name, or a full room.
        """
        if clean_code(room_code, ROOM_CODE_LEN) != self.code:
            raise RoomError("That is not this room's code: check the screen at the front.")
        clean = clean_name(name)
        with self.lock:
            if browser is not None and browser in self._browsers:
                return self.participants[self._browsers[browser]]
            if len(self.participants) >= self.capacity:
                raise RoomError("The room is full: every school has a head.")
            code = new_code(CODE_LEN, set(self.participants))
            op = {"op": "join", "code": code, "name": clean, "school": self._next_school()}
            self._apply(op)
            if browser is not None:
                self._browsers[browser] = code
            self._changed_now(system=False)  # the projector marks the school; phones stay
            return self.participants[code]

    def participant(self, code: object) -> Participant | None:
        """The participant with this code, or None (a wrong or malformed code)."""
        got = clean_code(code)
        return None if got is None else self.participants.get(got)

    def choose(self, code: object, plan: object) -> None:
        """A participant sends their choices for the next round (replacing any sent before).

        Raises:
            RoomError: an unknown code, or a choice their school cannot make now.
        """
        with self.lock:
            p = self.participant(code)
            if p is None:
                raise RoomError("No one in this room has that code.")
            checked = self.check_plan(p.school, plan)
            p.plan, p.sent = checked, True
            self._changed_now(system=False)

    def check_plan(self, school: int, plan: object) -> list[dict[str, Any]]:
        """Choices a school can make now, cleaned; raise RoomError naming the first that is not."""
        if not isinstance(plan, list) or len(plan) > 3 * len(ACTIONS):
            raise RoomError("Choices come as a short list.")
        opts = self.options(school)
        out: list[dict[str, Any]] = []
        seen: set[tuple[str, int]] = set()
        for c in plan:
            if not isinstance(c, dict) or c.get("action") not in ACTIONS:
                raise RoomError("Unknown choice.")
            action = c["action"]
            arg = c.get("target", -1)
            if isinstance(arg, bool) or not isinstance(arg, int):
                raise RoomError(f"A choice to {action} names no practice or school.")
            allowed = opts[action]
            if arg not in allowed:
                raise RoomError(f"Your school cannot {action} that now.")
            if (action, arg) in seen:
                continue
            if action in ("adopt", "join", "support", "invent", "leave", "keep") and any(
                o["action"] == action for o in out
            ):
                raise RoomError(f"One choice to {action} a round.")
            seen.add((action, arg))
            out.append({"action": action, "target": arg})
        if any(o["action"] == "join" for o in out) and self.run.system.schools.collab[school] >= 0:
            if not any(o["action"] == "leave" for o in out):
                raise RoomError("Leave your collaborative before joining another.")
        return out

    def options(self, school: int) -> dict[str, list[int]]:
        """What a school's head may choose now: the target of each choice (-1: none needed)."""
        m = self.run.system
        s = m.schools
        row = s.slot_p[school]
        runs = [int(q) for q in row if q != EMPTY]
        # A practice under a standing mandate stays: the centre's mandate reaches every school.
        mandated = {
            int(q)
            for q, ch in zip(row, s.slot_channel[school], strict=True)
            if q != EMPTY and ch == MANDATED and int(q) in m.mandates
        }
        out: dict[str, list[int]] = {
            "drop": [q for q in runs if q not in mandated],
            "adopt": [q for q in self.heard_of(school) if q not in runs],
            "invent": [-1] if rule_in(m, "invent") is not None else [],
            "keep": [-1],
            "leave": [-1] if s.collab[school] >= 0 else [],
            "join": self.collaboratives_nearby(school),
            "support": self.weaker_schools(school),
        }
        return out

    def heard_of(self, school: int) -> list[int]:
        """Practices this head knows of: run by schools tied to it, mandated, or proven."""
        m = self.run.system
        s, pr, t = m.schools, m.practices, m.ties
        alive = m.alive_ties()
        mine = alive[(t.a[alive] == school) | (t.b[alive] == school)]
        peers = np.unique(np.concatenate([t.a[mine], t.b[mine]]))
        peers = peers[peers != school]
        known = set(s.slot_p[peers].ravel().tolist()) - {EMPTY}
        known |= set(m.mandates)
        known |= set(
            np.flatnonzero((pr.stage[: pr.n] == PROVEN) & (pr.ev_prec[: pr.n] > 0)).tolist()
        )
        return sorted(int(q) for q in known)

    def collaboratives_nearby(self, school: int) -> list[int]:
        """Live collaboratives with a member in this school's town or tied to it."""
        m = self.run.system
        s, t, c = m.schools, m.ties, m.collabs
        alive = m.alive_ties()
        mine = alive[(t.a[alive] == school) | (t.b[alive] == school)]
        near = set(s.collab[s.town == s.town[school]].tolist())
        near |= set(s.collab[t.a[mine]].tolist()) | set(s.collab[t.b[mine]].tolist())
        near -= {EMPTY, int(s.collab[school])}
        return sorted(int(q) for q in near if c.alive[q])

    def weaker_schools(self, school: int) -> list[int]:
        """Schools of this school's authority it may take on: led alone, weaker, not held."""
        s = self.run.system.schools
        n_led = np.bincount(s.head, minlength=int(s.head.max()) + 1)
        if n_led[s.head[school]] > 1:
            return []
        held = {p.school for p in self.participants.values()}
        cand = [
            int(i)
            for i in np.flatnonzero(
                (s.authority == s.authority[school])
                & (n_led[s.head] == 1)
                & (s.logit_perf < s.logit_perf[school])
            )
            if int(i) not in held
        ]
        cand.sort(key=lambda i: s.logit_perf[i])
        return cand[:MAX_SUPPORT]

    def _take_effect(self, school: int, choice: dict[str, Any]) -> bool:
        """Carry out one choice through the rules' own actions; whether it took effect."""
        m = self.run.system
        s = m.schools
        action, target = choice["action"], int(choice.get("target", -1))
        if action == "keep":
            return True
        if action == "drop":
            col = np.flatnonzero(s.slot_p[school] == target)
            if len(col) == 0:
                return False
            drop(m, np.array([school]), col[:1])
            return True
        if action == "adopt":
            return bool(
                take_up(
                    m,
                    np.array([school]),
                    np.array([target]),
                    CHOSEN,
                    np.array([self._tie_to_user(school, target)]),
                )[0]
            )
        if action == "invent":
            rule = rule_in(m, "invent")
            if rule is None:
                return False
            before = m.practices.n
            view = _OnlyThese(m, np.array([school], np.int64))
            rule.bind(view)
            rule.apply(view)
            return m.practices.n > before
        if action == "leave":
            if s.collab[school] < 0:
                return False
            leave_collaborative(m, school)
            return True
        if action == "join":
            if s.collab[school] >= 0 or not m.collabs.alive[target]:
                return False
            join_collaborative(m, school, target, m.p.init_trust)
            return True
        if action == "support":
            n_led = np.bincount(s.head, minlength=int(s.head.max()) + 1)
            if n_led[s.head[school]] > 1 or n_led[s.head[target]] > 1:
                return False
            trust = _rule_value(m, "lead", "init_trust_exec", m.p.init_trust)
            take_on(m, school, target, trust)
            return True
        return False

    def _tie_to_user(self, school: int, practice: int) -> int:
        """The most trusted live tie from ``school`` to a school running ``practice``, or -1."""
        m = self.run.system
        t, s = m.ties, m.schools
        alive = m.alive_ties()
        mine = alive[(t.a[alive] == school) | (t.b[alive] == school)]
        other = np.where(t.a[mine] == school, t.b[mine], t.a[mine])
        runs = (s.slot_p[other] == practice).any(axis=1)
        if not runs.any():
            return EMPTY
        best = mine[runs][np.argmax(t.trust[mine[runs]])]
        return int(best)

    # ------------------------------------------------------------------ what a head sees
    def view(self, code: object) -> dict[str, Any] | None:
        """What a participant's head sees now, in words (None for an unknown code).

        Only their own school's private information: its practices and what
        its staff make of them, its ties and collaborative, its results. Of
        the rest of the system, only what a head would hear: practices run
        nearby, the centre's asks and published evidence.
        """
        with self.lock:
            p = self.participant(code)
            if p is None:
                return None
            return self._view(p)

    def _view(self, p: Participant) -> dict[str, Any]:
        m = self.run.system
        s, pr = m.schools, m.practices
        i = p.school
        opts = self.options(i)
        value = slot_value(m, np.array([i]))[0]
        users = m.users()
        runs = []
        for j, q in enumerate(s.slot_p[i].tolist()):
            if q == EMPTY:
                continue
            runs.append(
                {
                    "practice": q,
                    "name": practice_name(m, q),
                    "depth": float(s.slot_depth[i, j]),
                    "how": {MANDATED: "the centre requires it", CHOSEN: "your school chose it"}.get(
                        int(s.slot_channel[i, j]), "your school created it"
                    ),
                    "since": int(s.slot_since[i, j]),
                    "seen": _seen_words(value[j], float(s.slot_nobs[i, j])),
                    "evidence": _evidence_words(pr, q),
                    "schools": int(users[q]),
                    "can_drop": q in opts["drop"],
                }
            )
        heard = []
        tied = self._tied(i)
        for q in opts["adopt"]:
            near = int((s.slot_p[tied] == q).any(axis=1).sum()) if len(tied) else 0
            heard.append(
                {
                    "practice": q,
                    "name": practice_name(m, q),
                    "evidence": _evidence_words(pr, q),
                    "schools": int(users[q]),
                    "near": near,
                    "mandated": q in m.mandates,
                }
            )
        heard.sort(key=lambda h: (-h["mandated"], -h["near"], -h["schools"], h["practice"]))
        story = [
            {
                "month": (e["step"] + e["months"]) * m.p.dur_step,
                "perf": e["perf"],
                "choices": e["choices"],
            }
            for e in p.story
        ]
        centre = {
            "strategy": STRATEGY_LABELS.get(m.p.strategy, m.p.strategy),
            "dial": float(m.p.tightness),
            "mandates": [practice_name(m, q) for q in m.mandates],
            "agenda": _domain(m, m.agenda) if m.agenda >= 0 else "",
            "trial": practice_name(m, int(s.trial[i])) if s.trial[i] >= 0 else "",
        }
        collab = int(s.collab[i])
        return {
            "name": p.name,
            "number": p.number,
            "code": p.code,
            "school": school_name(i, int(s.phase[i])),
            "phase": PHASES[int(s.phase[i])],
            "authority": authority_name(int(s.authority[i])),
            "perf": float(s.perf[i]),
            "perf_start": float(m.perf0[i]),
            "capacity": float(s.capacity[i]),
            "budget": float(s.budget[i]),
            "months": float(self.run.months),
            "horizon": float(self.run.horizon_months),
            "round": self.rounds,
            "runs": runs,
            "heard": heard,
            "ties": len(tied),
            "collab": {
                "id": collab,
                "formal": bool(m.collabs.formal[collab]) if collab >= 0 else False,
                "members": [
                    school_name(int(j), int(s.phase[j]))
                    for j in np.flatnonzero(s.collab == collab)
                    if j != i
                ]
                if collab >= 0
                else [],
            },
            "join": [
                {
                    "collab": q,
                    "members": [
                        school_name(int(j), int(s.phase[j])) for j in np.flatnonzero(s.collab == q)
                    ],
                }
                for q in opts["join"]
            ],
            "support": [
                {"school": j, "name": school_name(j, int(s.phase[j])), "perf": float(s.perf[j])}
                for j in opts["support"]
            ],
            "can_invent": bool(opts["invent"]),
            "can_leave": bool(opts["leave"]),
            "centre": centre,
            "plan": list(p.plan),
            "sent": p.sent,
            "story": story,
            "running": self.run.running,
        }

    def _tied(self, school: int) -> np.ndarray:
        m = self.run.system
        t = m.ties
        alive = m.alive_ties()
        mine = alive[(t.a[alive] == school) | (t.b[alive] == school)]
        return np.unique(np.where(t.a[mine] == school, t.b[mine], t.a[mine]))

    # ------------------------------------------------------------------ debrief
    def debrief(self) -> dict[str, Any]:
        """The room against each strategy from the round the room started, same random numbers.

        Each strategy's run replays the session's operations up to the room's
        first round (the same schools, the same history), then goes on under
        that strategy's own settings with every head simulated, meeting the
        same budget cuts at the same months; "the centre's moves, heads
        simulated" follows the trainer's moves with no participant. Returns the
        curves (mean performance by month from the start) and each
        participant's school's end under each.
        """
        with self.lock:
            if self.t0 is None:
                return {"t0": None}
            ops, t_now = self._ops_since_moment(), self.run.t
            curves, ends = {}, {}
            schools = [p.school for p in self.participants.values()]
            for name in [*STRATEGY_LABELS, "centre_only"]:
                run = self._counterfactual(ops, name, t_now)
                df = run.system.metrics_frame()
                curves[name] = df["perf_mean"].to_numpy()
                ends[name] = run.system.schools.perf[schools].tolist() if schools else []
            room = self.run.system.metrics_frame()["perf_mean"].to_numpy()
            return {
                "t0": self.t0,
                "dur_step": self.run.system.p.dur_step,
                "start_year": self.run.system.p.start_year,
                "room": room,
                "curves": curves,
                "ends": ends,
                "schools": schools,
                "room_ends": self.run.system.schools.perf[schools].tolist() if schools else [],
                "strategies": list(self.run.strategies),
            }

    def _ops_since_moment(self) -> list[dict[str, Any]]:
        """The operations since the last jump to a moment (that jump included)."""
        start = 0
        for k, op in enumerate(self.ops):
            if op.get("op") == "moment":
                start = k
        return [op for op in self.ops[start:] if op.get("op") != "join"]

    def _counterfactual(self, ops: list[dict[str, Any]], strategy: str, t_end: int) -> WorkshopRun:
        """Replay ``ops`` to the room's first round, then run on as ``strategy`` would."""
        shadow = Room(self.scenario_path, self.seed, params=self.params)
        run = shadow.run
        started = False
        for op in ops:
            kind = op.get("op")
            if not started and kind == "round" and op.get("held") and run.t == self.t0:
                started = True
                if strategy != "centre_only":
                    run.set_control("strategy", strategy)
                    for key, v in strategy_settings(strategy).items():
                        run.system.set_control(key, v)
            if not started:
                if kind == "moment":
                    shadow._moment(op)
                    run = shadow.run
                elif kind == "round":
                    shadow._round({**op, "digest": None}, check=False)
                else:
                    shadow._apply(op)
                continue
            if kind == "cut":
                run.budget_cut(int(op["authority"]))
            elif kind == "round":
                run.advance(int(op["months"]))
            elif kind == "control" and strategy == "centre_only":
                run.set_control(str(op["name"]), op["value"])
        while run.t < t_end and run.running:
            run.step()
        return run


def _domain(model: Any, domain: int) -> str:
    from sim.app.workshop import domain_name

    return domain_name(model, domain)


def _seen_words(value: float, months: float) -> str:
    """What a school's staff make of a practice from their own reads and the evidence."""
    if months < 3:
        return "too early to tell"
    if value > 0.1:
        return "your staff see it helping"
    if value < -0.1:
        return "your staff see it not helping"
    return "your staff see little difference"


def _evidence_words(pr: Any, practice: int) -> str:
    """Published evidence on a practice, in words (never its true effect)."""
    stage = STAGES[int(pr.stage[practice])]
    if pr.ev_prec[practice] <= 0:
        return "no published evidence" + (
            " (in a field trial now)" if stage == "field trial" else ""
        )
    est = float(pr.ev_mean[practice])
    if stage in ("proven", "mainstream"):
        return (
            "a field trial found it works"
            if est > 0.15
            else "a field trial found it helps a little"
        )
    if stage == "abandoned":
        return "a field trial found it not good enough"
    return "some published evidence"
