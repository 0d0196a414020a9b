"""The run a workshop watches: one school system, and the same schools replayed.

The room sees one system under the strategy the trainer picks and, beside it,
the same system (same scenario, same seed, so the same schools, heads and
ties) under a comparison strategy and dial the trainer chooses (top-down
transfer at its scenario's settings unless changed). Changing the
comparison replays the same schools from month 0 to now, with the same
budget cuts at the same months, so the two curves always compare like with
like. The gap between them is the plateau made visible.

:class:`WorkshopRun` holds the two :class:`~sim.model.model.NextPracticeModel`
runs and passes the trainer's controls to them; choosing a strategy applies
its scenario file's dial and levers (``scenarios/<strategy>.yaml``) unless the
trainer has set them by hand. What happened (mandates, field trials, budget
cuts, changes of dial, lever or strategy) is read from the notes the model's
rules write (:meth:`sim.model.model.NextPracticeModel.note`), marked on the chart
and told in plain words (:class:`Narration`). It draws no random numbers
of its own: each system uses its own generator. This module imports neither
solara nor matplotlib.
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import sim.model.builtin  # noqa: F401  (the shipped strategies, registered with their looks)
from sim.app.layout import Layout, school_layout
from sim.core.looks import strategy_look
from sim.core.state import EMPTY, MANDATED
from sim.inputs import shipped
from sim.model.model import NextPracticeModel
from sim.model.params import Params
from sim.model.scenario import load_scenario

#: Environment variable naming the scenario file the app serves.
ENV_SCENARIO = "NEXTPRACTICE_SCENARIO"
#: Environment variable with the seed of the app's runs (default :data:`DEFAULT_SEED`).
ENV_SEED = "NEXTPRACTICE_SEED"
#: Environment variable naming the folder where "Save picture" writes its PNG files.
ENV_PICTURES = "NEXTPRACTICE_PICTURES"
#: Seed of the app's runs: reset replays the same schools, so strategies compare fairly.
DEFAULT_SEED = 1
#: The folder of the built-in scenario files (the checkout's, or the installed package's
#: copy; :mod:`sim.inputs.shipped`): a strategy's settings come from here.
SCENARIOS = shipped.folder("scenarios") or Path("scenarios")
#: The scenario the app serves by default.
WORKSHOP_SCENARIO = SCENARIOS / "workshop.yaml"

#: The strategy the same schools are compared with until the trainer picks another.
SHADOW_STRATEGY = "top_down"

#: Strategies in the order the selector shows them, with the words the room reads: each
#: strategy's own label, as in every figure (:mod:`sim.core.looks`).
STRATEGY_LABELS = {
    name: strategy_look(name).label for name in ("top_down", "bottom_up", "next_practice")
}

#: The live controls a strategy's scenario file sets: the dial, then the four levers.
STRATEGY_SETTINGS = (
    "tightness",
    "lever_agenda",
    "lever_evidence",
    "lever_capacity",
    "lever_engagement",
)
#: How the room reads each control in a chart marker or a line of narration.
CONTROL_WORDS = {
    "tightness": "dial",
    "lever_agenda": "agenda",
    "lever_evidence": "evidence",
    "lever_capacity": "capacity",
    "lever_engagement": "engagement",
}
#: The levers in a sentence of narration.
LEVER_WORDS = {
    "lever_agenda": "the national agenda",
    "lever_evidence": "evidence-based decisions",
    "lever_capacity": "capacity building",
    "lever_engagement": "wider engagement",
}
#: Months after a budget cut at which a line says how many of its schools started new practice.
CUT_WATCH_MONTHS = 24


@dataclass(frozen=True)
class Event:
    """A change marked on the performance curve (strategy, dial, lever, budget cut).

    Attributes:
        step: the step from which it acts.
        text: what changed, in words for the room.

    """

    step: int
    text: str


@dataclass
class Line:
    """One line of narration, fixed once written.

    Attributes:
        step: the step in which it happened (shown as the month it ends).
        kind: the model note it comes from (``mandate``, ``trial``, ...).
        text: the sentence the room reads, without the month.

    """

    step: int
    kind: str
    text: str


def default_scenario() -> str | None:
    """Return the scenario file to serve: ``$NEXTPRACTICE_SCENARIO``, else the workshop one.

    Returns None (the model's defaults) when neither exists, so the app still
    starts from an installed package without the repository's scenarios.
    """
    env = os.environ.get(ENV_SCENARIO)
    if env:
        return env
    return str(WORKSHOP_SCENARIO) if WORKSHOP_SCENARIO.is_file() else None


def default_seed() -> int:
    """Return the seed of the app's runs: ``$NEXTPRACTICE_SEED``, else :data:`DEFAULT_SEED`."""
    return int(os.environ.get(ENV_SEED, DEFAULT_SEED))


def pictures_dir() -> Path:
    """Where "Save picture" writes: ``$NEXTPRACTICE_PICTURES``, else ``./workshop-pictures``."""
    env = os.environ.get(ENV_PICTURES)
    return Path(env) if env else Path.cwd() / "workshop-pictures"


@functools.cache
def strategy_settings(strategy: str, folder: Path = SCENARIOS) -> dict[str, float]:
    """The dial and levers of a strategy's own scenario file, ``<folder>/<strategy>.yaml``.

    These are the settings the README's figures and the seed documents give
    each strategy (e.g. top-down transfer is tight, 0.9). A strategy with no
    such file (a plug-in, or an installed package without the scenarios)
    has none, and choosing it leaves the controls as they are.
    """
    path = folder / f"{strategy}.yaml"
    if not path.is_file():
        return {}
    params = load_scenario(path)
    return {name: float(getattr(params, name)) for name in STRATEGY_SETTINGS}


def authority_name(authority: int) -> str:
    """How the room reads an authority's name: numbered from 1."""
    return f"Authority {int(authority) + 1}"


def _and(items: list[str]) -> str:
    """Join words as a sentence does: "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"


#: What practices of each domain are for, in a head's words: the model's domains are
#: abstract; these are the four its parameter ``n_domains`` names (pedagogy,
#: curriculum, leadership, structures), a labelling for the room, not a claim of the model.
DOMAIN_WORDS = ("teaching", "curriculum", "leadership", "organisation")

#: Names of schools for the room (made up; each school is a number in the model).
SCHOOL_WORDS = (
    "Ashby",
    "Beech",
    "Carlton",
    "Dale",
    "Elm",
    "Fernhill",
    "Greenway",
    "Hawthorn",
    "Ivy Lane",
    "Juniper",
    "Kingsmead",
    "Larch",
    "Meadow",
    "Northfield",
    "Oakwood",
    "Parkside",
    "Queensway",
    "Riverside",
    "Southfield",
    "Thornbury",
    "Upton",
    "Valley",
    "Westfield",
    "Yew Tree",
    "Abbey",
    "Brookside",
    "Castle",
    "Downs",
    "Eastgate",
    "Forest",
    "Grange",
    "Hillside",
    "Kestrel",
    "Lakeside",
    "Millbrook",
    "Newton",
    "Orchard",
    "Priory",
    "Rowan",
    "Station Road",
)
PHASE_WORDS = ("Nursery", "Primary", "Secondary", "Special School", "College")


def domain_name(model: NextPracticeModel, domain: int) -> str:
    """What practices of a domain are for (:data:`DOMAIN_WORDS`; "area N" past them)."""
    d = int(domain)
    return DOMAIN_WORDS[d] if 0 <= d < len(DOMAIN_WORDS) else f"area {d + 1}"


def practice_name(model: NextPracticeModel, practice: int) -> str:
    """A practice named by what it is for, and its number: "a teaching practice (no. 4)"."""
    q = int(practice)
    return f"{domain_name(model, model.practices.domain[q]).capitalize()} practice {q}"


def school_name(school: int, phase: int) -> str:
    """A made-up name for a school: a place word and its phase ("Elm Primary")."""
    i = int(school)
    word = SCHOOL_WORDS[i % len(SCHOOL_WORDS)]
    more = f" {i // len(SCHOOL_WORDS) + 1}" if i >= len(SCHOOL_WORDS) else ""
    return f"{word}{more} {PHASE_WORDS[int(phase)]}"


def _practices_words(model: NextPracticeModel, practices: list[int]) -> str:
    """Name practices by what they are for: "curriculum practices 1 and 3 and teaching practice 7".

    Grouped by domain, in the order each domain first appears.
    """
    groups: dict[str, list[int]] = {}
    for q in practices:
        groups.setdefault(domain_name(model, model.practices.domain[int(q)]), []).append(int(q))
    words = [
        f"{d} practice{'s' if len(qs) > 1 else ''} {_and([str(q) for q in qs])}"
        for d, qs in groups.items()
    ]
    return _and(words)


def level_words(value: float) -> str:
    """A lever's or the dial's setting in words, with its number."""
    v = float(value)
    word = "none" if v <= 0 else "weak" if v <= 0.3 else "moderate" if v <= 0.6 else "strong"
    return f"{word} ({v:.1f})"


def dial_words(value: float) -> str:
    """The dial in words: "0.9, tight"."""
    v = float(value)
    word = "loose" if v <= 0.3 else "in between" if v < 0.7 else "tight"
    return f"{v:.1f}, {word}"


#: Lines a plateau's narration waits between, in months (a plateau is told once).
PLATEAU_MONTHS = 12
#: A rise (share of pupils) that counts as performance moving; less over PLATEAU_MONTHS is flat.
PLATEAU_RISE = 0.01


class Narration:
    """Plain-words lines of what happened, read from the model's notes each step.

    Every line comes from a note the model wrote where the thing happened
    (:meth:`sim.model.model.NextPracticeModel.note`) or from the metrics it
    recorded, and is fixed once written: a mandate of the centre (and, a year
    on, how many schools run what it requires), a field trial concluded, a
    budget cut (and, :data:`CUT_WATCH_MONTHS` later, how many of the
    authority's schools started new practice since), a change of strategy,
    dial or lever, practices in use halving (the system converging on a few),
    and performance flattening after a rise (the plateau).
    """

    def __init__(self) -> None:
        """Start with no lines."""
        self.lines: list[Line] = []
        self._mandate: tuple[tuple[int, ...], int] | None = None  # practices, first step
        self._cuts: list[tuple[int, int, np.ndarray, list[set[int]]]] = []
        self._practices_ref: tuple[int, int] | None = None  # (count, step) told last
        self._plateau_told = False

    def read(self, model: NextPracticeModel) -> list[Event]:
        """Turn the notes of the step just done into lines; return the chart's markers."""
        ev = model.events
        step = model.t - 1
        marks = self._controls(model, step, ev.get("control", []))
        self._mandates(model, step, ev.get("mandate", []))
        for note in ev.get("trial", []):
            self._trial(model, note)
        for note in ev.get("budget_cut", []):
            self._cut(model, note)
            marks.append(Event(note["step"], f"Budget cut: {authority_name(note['authority'])}"))
        self._after_cuts(model, step)
        self._convergence(model, step)
        self._plateau(model, step)
        return marks

    def _controls(
        self, model: NextPracticeModel, step: int, notes: list[dict[str, Any]]
    ) -> list[Event]:
        """One line and one marker for the trainer's changes acting from this step."""
        if not notes:
            return []
        last = {n["name"]: n["new"] for n in notes}  # a control moved twice: where it ended
        first = {}
        for n in notes:
            first.setdefault(n["name"], n["old"])
        changed = {k: v for k, v in last.items() if first[k] != v}
        if not changed:
            return []
        marks = [f"{CONTROL_WORDS[k]} {v:.1f}" for k, v in changed.items() if k in CONTROL_WORDS]
        if "strategy" in changed:
            label = STRATEGY_LABELS.get(changed["strategy"], changed["strategy"])
            dial = f", dial {changed['tightness']:.1f}" if "tightness" in changed else ""
            marker = f"{label}{dial}"
            text = f"the centre switched to {label.lower()}" + (
                f" (dial {dial_words(changed['tightness'])})" if "tightness" in changed else ""
            )
        else:
            marker = ", ".join(marks).capitalize()
            words = [
                f"the dial to {dial_words(v)}"
                if k == "tightness"
                else f"{LEVER_WORDS[k]} to {level_words(v)}"
                for k, v in changed.items()
                if k in CONTROL_WORDS
            ]
            text = "the trainer set " + _and(words)
        self.lines.append(Line(step, "control", text))
        return [Event(step, marker)]

    def _mandates(self, model: NextPracticeModel, step: int, notes: list[dict[str, Any]]) -> None:
        """A line when the centre mandates new practice; another a year on, if it stands.

        The first says how many schools started the practices this month
        because of the mandate (slots taken up now by the mandate's channel);
        at the dial's 0 the mandate forces nobody and the line says so.
        """
        if not notes:
            self._mandate = None
            return
        practices = tuple(notes[-1]["practices"])
        s = model.schools
        if self._mandate is None or self._mandate[0] != practices:
            self._mandate = (practices, step)
            what = _practices_words(model, list(practices))
            if model.p.tightness <= 0:
                text = (
                    f"the centre named {what} as proven; with the dial at 0 it "
                    "requires no school to take "
                    + ("it" if len(practices) == 1 else "them")
                    + " up"
                )
            else:
                now = np.isin(s.slot_p, practices) & (s.slot_channel == MANDATED)
                started = int((now & (s.slot_since == step)).any(axis=1).sum())
                text = (
                    f"the centre required every school to run {what}; "
                    f"{started} {'school' if started == 1 else 'schools'} started "
                    + ("it" if len(practices) == 1 else "them")
                    + " this month"
                )
            self.lines.append(Line(step, "mandate", text))
            return
        first = self._mandate[1]
        if (step - first) * model.p.dur_step == 12 and model.p.tightness > 0:
            runs = np.isin(s.slot_p, practices).sum(axis=1) == len(practices)
            self.lines.append(
                Line(
                    step,
                    "mandate",
                    f"a year on, {int(runs.sum())} of {s.n} schools run all the practices "
                    "the centre requires",
                )
            )

    def _trial(self, model: NextPracticeModel, note: dict[str, Any]) -> None:
        """A line for a field trial concluded: proven or not, and where its idea came from."""
        inv = int(note["inventor"])
        where = (
            f"a school in {authority_name(model.schools.authority[inv])}"
            if inv >= 0
            else "the centre"
        )
        what = practice_name(model, note["practice"])
        if note["proven"]:
            text = f"a field trial proved {what}, invented at {where}"
        else:
            text = f"a field trial found {what} (invented at {where}) not good enough"
        self.lines.append(Line(note["step"], "trial", text))

    def _cut(self, model: NextPracticeModel, note: dict[str, Any]) -> None:
        """A line for a budget cut; a second when its watch ends (see :meth:`_after_cuts`)."""
        la = int(note["authority"])
        mine = np.flatnonzero(model.schools.authority == la)
        before = [set(row[row != EMPTY].tolist()) for row in model.schools.slot_p[mine]]
        self.lines.append(
            Line(
                note["step"],
                "budget_cut",
                f"{authority_name(la)}'s budget was cut by {float(note['share']):.0%}",
            )
        )
        self._cuts.append((note["step"], la, mine, before))

    def _after_cuts(self, model: NextPracticeModel, step: int) -> None:
        """:data:`CUT_WATCH_MONTHS` after a cut: how many of its schools started new practice."""
        for at, la, mine, before in self._cuts:
            if (step - at) * model.p.dur_step != CUT_WATCH_MONTHS - model.p.dur_step:
                continue
            rows = model.schools.slot_p[mine]
            started = sum(
                bool(set(r[r != EMPTY].tolist()) - b) for r, b in zip(rows, before, strict=True)
            )
            self.lines.append(
                Line(
                    step,
                    "budget_cut",
                    f"{CUT_WATCH_MONTHS} months after {authority_name(la)}'s budget cut, "
                    f"{started} of its {len(mine)} schools had started new practice",
                )
            )

    def _convergence(self, model: NextPracticeModel, step: int) -> None:
        """A line when practices in use fall to half the number last told (or first seen)."""
        rows = model._rows
        n_now = int(rows[-1]["practices_in_use"])
        if self._practices_ref is None:
            self._practices_ref = (int(rows[0]["practices_in_use"]), 0)
        ref, since = self._practices_ref
        if ref >= 4 and n_now <= ref // 2:
            month = (since + 1) * model.p.dur_step if since else 0
            self.lines.append(
                Line(
                    step,
                    "practices",
                    f"practices in use fell from {ref} (month {month:.0f}) to {n_now}: "
                    "schools now run the same few",
                )
            )
            self._practices_ref = (n_now, step)
        elif n_now > ref:
            self._practices_ref = (n_now, step)

    def _plateau(self, model: NextPracticeModel, step: int) -> None:
        """A line when performance, having risen, stays flat for :data:`PLATEAU_MONTHS`."""
        k = round(PLATEAU_MONTHS / model.p.dur_step)
        rows = model._rows
        if len(rows) <= 2 * k:
            return
        now, year_ago = rows[-1]["perf_mean"], rows[-1 - k]["perf_mean"]
        rise = year_ago - rows[-1 - 2 * k]["perf_mean"]
        if abs(now - year_ago) < PLATEAU_RISE and not self._plateau_told and rise >= 0:
            start = rows[0]["perf_mean"]
            if now - start >= 2 * PLATEAU_RISE:
                self.lines.append(
                    Line(
                        step,
                        "plateau",
                        f"pupils at the expected standard have stayed near {now:.0%} for a "
                        f"year (from {start:.0%} at the start): a plateau",
                    )
                )
                self._plateau_told = True
        elif now - year_ago >= 2 * PLATEAU_RISE:
            self._plateau_told = False  # rising again: a later plateau is told anew


class WorkshopRun:
    """One school system under the trainer's strategy, and the same schools compared.

    Controls act from the next step: a change waits for a step in progress to
    finish (the play loop steps in a thread while the trainer clicks), so no
    step ever runs with half its controls changed.

    Attributes:
        system: the run under the trainer's strategy.
        shadow: the same schools, same seed, under the comparison strategy and dial.
        compare: the comparison's strategy and its settings (dial and levers).
        layout: where each school is drawn (computed once from the structure).
        cuts: (step, authority) of every budget cut the trainer made, in order.
        touched: controls the trainer set by hand (a strategy's settings leave them).
        lock: held while a step runs; hold it to read both systems at one step.
        events: changes marked on the chart, from the model's notes.
        narration: the plain-words lines, from the model's notes.
        strategies: the strategy in force during each step done.

    """

    def __init__(
        self,
        scenario_path: str | None = None,
        seed: int | None = None,
        compare: str = SHADOW_STRATEGY,
        params: Params | None = None,
    ) -> None:
        """Build both systems from a scenario file.

        Args:
            scenario_path: YAML scenario; None serves :func:`default_scenario`.
            seed: seed of both systems' generators; None uses :func:`default_seed`.
            compare: the comparison's strategy (its scenario's dial and levers apply).
            params: the parameters themselves (a saved session's), instead of
                loading ``scenario_path``.

        """
        self.seed = default_seed() if seed is None else int(seed)
        self.scenario_path = scenario_path if scenario_path is not None else default_scenario()
        self.params = load_scenario(self.scenario_path) if params is None else params
        self.system = NextPracticeModel(self.params, rng=self.seed)
        self.compare: dict[str, Any] = {"strategy": compare, **strategy_settings(compare)}
        self.cuts: list[tuple[int, int]] = []
        self.shadow = self._replay()
        s = self.system.schools
        self.layout: Layout = school_layout(s.authority, s.town)
        self.touched: set[str] = set()
        self.events: list[Event] = []
        self.narration = Narration()
        self.strategies: list[str] = []
        self.lock = threading.RLock()

    # ------------------------------------------------------------------ running
    @property
    def running(self) -> bool:
        """Whether the run has months left before the scenario's horizon (``n_steps``)."""
        return self.system.t < self.system.p.n_steps

    def step(self) -> None:
        """Step both systems once, unless the run has reached its horizon."""
        with self.lock:
            if not self.running:
                return
            self.strategies.append(self.system.p.strategy)
            self.system.step()
            self.shadow.step()
            self.events.extend(self.narration.read(self.system))

    def advance(self, months: int) -> None:
        """Step on by ``months`` months (fewer at the horizon)."""
        for _ in range(max(1, round(months / self.system.p.dur_step))):
            self.step()

    @property
    def t(self) -> int:
        """Steps done."""
        return self.system.t

    @property
    def months(self) -> float:
        """Time elapsed in months."""
        return self.system.t * self.system.p.dur_step

    @property
    def horizon_months(self) -> float:
        """Length of the run in months."""
        return self.system.p.n_steps * self.system.p.dur_step

    # ------------------------------------------------------------------ controls
    def control(self, name: str) -> Any:
        """Return the current value of a live control of the trainer's system."""
        return getattr(self.system.p, name)

    def set_control(self, name: str, value: Any) -> None:
        """Change a live control of the trainer's system from the next step.

        Choosing a strategy also applies its scenario's dial and levers
        (:func:`strategy_settings`), except those the trainer set by hand.
        """
        with self.lock:
            if self.control(name) == value:
                return
            self.system.set_control(name, value)
            if name != "strategy":
                self.touched.add(name)
                return
            for key, setting in strategy_settings(value).items():
                if key not in self.touched:
                    self.system.set_control(key, setting)

    def set_comparison(self, strategy: str | None = None, tightness: float | None = None) -> None:
        """Compare with another strategy or dial: replay the same schools from month 0.

        A new strategy brings its scenario's dial and levers; a dial given
        (or set later) overrides the dial.
        """
        with self.lock:
            if strategy is not None and strategy != self.compare["strategy"]:
                self.compare = {"strategy": strategy, **strategy_settings(strategy)}
            if tightness is not None:
                self.compare["tightness"] = float(tightness)
            self.shadow = self._replay()

    def _replay(self) -> NextPracticeModel:
        """The comparison run, stepped to the trainer's step with the same budget cuts."""
        shadow = NextPracticeModel(self.params, rng=self.seed, **self.compare)
        for t in range(self.system.t):
            for at, la in self.cuts:
                if at == t:
                    shadow.budget_cut(la)
            shadow.step()
        for at, la in self.cuts:
            if at == self.system.t:
                shadow.budget_cut(la)
        return shadow

    def budget_cut(self, authority: int) -> None:
        """Cut one authority's budget in both systems (the burning platform)."""
        with self.lock:
            self.system.budget_cut(authority)
            self.shadow.budget_cut(authority)
            self.cuts.append((self.t, int(authority)))

    @property
    def cut_authorities(self) -> list[int]:
        """Authorities whose budget the trainer cut, first cut first, each once."""
        return list(dict.fromkeys(la for _, la in self.cuts))

    # ------------------------------------------------------------------ read-outs
    @property
    def n_authorities(self) -> int:
        """Number of authorities."""
        return self.system.authorities.n

    def authority_sizes(self) -> np.ndarray:
        """Count the schools in each authority."""
        return np.bincount(self.system.schools.authority, minlength=self.n_authorities)

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Metrics per step of the trainer's system and of the comparison."""
        with self.lock:
            return self.system.metrics_frame(), self.shadow.metrics_frame()

    def counters(self) -> dict[str, float]:
        """Return the latest counts the room watches (:data:`sim.system.metrics.DEFINITIONS`)."""
        df, shadow = self.frames()
        row = df.iloc[-1]
        return {
            "practices_in_use": int(row["practices_in_use"]),
            "field_trials": int(row["field_trials"]),
            "collaboratives": int(row["collaboratives"]),
            "collaboratives_formal": int(row["collaboratives_formal"]),
            "perf_mean": float(row["perf_mean"]),
            "shadow_perf_mean": float(shadow["perf_mean"].iloc[-1]),
            "year": float(row["year"]),
        }

    def compare_label(self, short: bool = False) -> str:
        """The comparison in words: its strategy, and its dial (``short``: a legend's words)."""
        name = self.compare["strategy"]
        label = STRATEGY_LABELS.get(name, name).lower()
        if short:
            label = label.removesuffix(" transfer")
        dial = self.compare.get("tightness", self.params.tightness)
        return f"{label}, dial {dial:.1f}"

    def spells(self) -> list[tuple[str, float]]:
        """The strategies in force so far, in order, with the months each ran."""
        out: list[tuple[str, float]] = []
        for name in self.strategies:
            if out and out[-1][0] == name:
                out[-1] = (name, out[-1][1] + self.system.p.dur_step)
            else:
                out.append((name, self.system.p.dur_step))
        return out

    def in_force(self) -> str:
        """The strategy of the last month played (the chosen one before the first month)."""
        return self.strategies[-1] if self.strategies else self.control("strategy")

    def dial_in_force(self) -> float:
        """The dial of the last month played (the one chosen before the first month)."""
        if not self.strategies:
            return float(self.control("tightness"))
        return float(self.system._rows[-1]["tightness"])

    def summary(self) -> str:
        """One sentence of what happened over the run, crediting each strategy its months."""
        df, shadow = self.frames()
        spells = self.spells() or [(self.control("strategy"), 0.0)]
        words = [
            f"{months:.0f} under {STRATEGY_LABELS.get(name, name).lower()}"
            for name, months in spells
        ]
        how = (
            f"under {STRATEGY_LABELS.get(spells[0][0], spells[0][0]).lower()}"
            if len(spells) == 1
            else "(" + ", then ".join(words) + ")"
        )
        start, end = float(df["perf_mean"].iloc[0]), float(df["perf_mean"].iloc[-1])
        other = float(shadow["perf_mean"].iloc[-1])
        return (
            f"After {self.months:.0f} months {how}, "
            f"{end:.0%} of pupils reach the expected standard (from {start:.0%}); "
            f"the same schools under {self.compare_label()} reach {other:.0%}."
        )

    def lines(self, last: int | None = None) -> list[str]:
        """The narration, newest first, each line with the month it happened in."""
        dur = self.system.p.dur_step
        out = [
            f"Month {(ln.step + 1) * dur:.0f}: {ln.text}" for ln in reversed(self.narration.lines)
        ]
        return out if last is None else out[:last]

    def main_practice(self, which: str = "system") -> np.ndarray:
        """Return the practice each school runs most deeply, or -1 if it runs none."""
        s = getattr(self, which).schools
        depth = np.where(s.slot_p != EMPTY, s.slot_depth, -1.0)
        col = depth.argmax(axis=1)
        pick = s.slot_p[np.arange(s.n), col]
        return np.where(depth.max(axis=1) >= 0, pick, EMPTY)

    def performance(self, which: str = "system") -> np.ndarray:
        """Each school's performance (share of pupils at the expected standard)."""
        return getattr(self, which).schools.perf

    def live_ties(self, which: str = "system") -> tuple[np.ndarray, np.ndarray]:
        """Return the two ends of every lateral tie in force."""
        m = getattr(self, which)
        alive = m.alive_ties()
        return m.ties.a[alive], m.ties.b[alive]
