"""The run a workshop watches: one school system and its top-down shadow.

The room sees one system under the strategy the trainer picks, and beside it
the same system (same scenario, same seed, so the same schools, heads and
ties) with the strategy forced to top-down transfer, stepped alongside. The
gap between the two curves is the plateau made visible.

:class:`WorkshopRun` is a Mesa model so that SolaraViz can step, play and
reset it; it holds the two :class:`~sim.model.NextPracticeModel` runs and
passes the trainer's controls to both (the strategy only to the first).
It draws no random numbers of its own: each system uses its own generator.
This module imports neither solara nor matplotlib.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim import shipped
from sim.app.layout import Layout, school_layout
from sim.model import NextPracticeModel
from sim.scenario import load_scenario
from sim.state import EMPTY

#: Environment variable naming the scenario file the app serves.
ENV_SCENARIO = "NEXTPRACTICE_SCENARIO"
#: Environment variable with the seed of the app's runs (default :data:`DEFAULT_SEED`).
ENV_SEED = "NEXTPRACTICE_SEED"
#: Seed of the app's runs: reset replays the same schools, so strategies compare fairly.
DEFAULT_SEED = 1
#: The scenario the app serves by default: the built-in workshop scenario (the checkout's,
#: or the installed package's copy; :mod:`sim.shipped`).
WORKSHOP_SCENARIO = (shipped.folder("scenarios") or Path("scenarios")) / "workshop.yaml"

#: The strategy of the shadow run.
SHADOW_STRATEGY = "top_down"

#: Strategies in the order the selector shows them, with the words the room reads.
STRATEGY_LABELS = {
    "top_down": "Top-down transfer",
    "bottom_up": "Bottom-up",
    "next_practice": "Next practice",
}


@dataclass(frozen=True)
class Event:
    """Something the trainer did, marked on the performance curve.

    Attributes:
        step: the step from which it acts (the next step when it was done).
        text: what happened, in words for the room.

    """

    step: int
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


class WorkshopRun(mesa.Model):
    """One school system under the trainer's strategy, and the same system run top-down.

    Controls act from the next step: a change waits for a step in progress to
    finish (the play loop steps in a thread while the trainer clicks), so no
    step ever runs with half its controls changed.

    Attributes:
        system: the run under the trainer's strategy.
        shadow: the same schools, same seed and controls, strategy top-down.
        layout: where each school is drawn (computed once from the structure).
        cuts: authorities whose budget has been cut, in order.
        lock: held while a step runs; hold it to read both systems at one step.
        events: what the trainer changed, and from which step it acts.
        strategies: the strategy in force during each step done.

    """

    def __init__(self, scenario_path: str | None = None, seed: int | None = None) -> None:
        """Build both systems from a scenario file.

        Args:
            scenario_path: YAML scenario; None serves :func:`default_scenario`.
            seed: seed of both systems' generators; None uses :func:`default_seed`.

        """
        seed = default_seed() if seed is None else int(seed)
        super().__init__(rng=seed)
        self.scenario_path = scenario_path if scenario_path is not None else default_scenario()
        params = load_scenario(self.scenario_path)
        self.system = NextPracticeModel(params, rng=seed)
        self.shadow = NextPracticeModel(params, rng=seed, strategy=SHADOW_STRATEGY)
        s = self.system.schools
        self.layout: Layout = school_layout(s.authority, s.town)
        self.cuts: list[int] = []
        self.events: list[Event] = []
        self.strategies: list[str] = []
        self.lock = threading.RLock()
        self.running = self.system.t < self.system.p.n_steps

    # ------------------------------------------------------------------ running
    def step(self) -> None:
        """Step both systems once; stop at the scenario's horizon (``n_steps``)."""
        with self.lock:
            self.strategies.append(self.system.p.strategy)
            self.system.step()
            self.shadow.step()
            self.running = self.system.t < self.system.p.n_steps

    @property
    def t(self) -> int:
        """Steps done."""
        return self.system.t

    @property
    def months(self) -> float:
        """Time elapsed in months."""
        return self.system.t * self.system.p.dur_step

    # ------------------------------------------------------------------ controls
    def control(self, name: str) -> Any:
        """Return the current value of a live control of the trainer's system."""
        return getattr(self.system.p, name)

    def set_control(self, name: str, value: Any) -> None:
        """Change a live control from the next step.

        The strategy changes only the trainer's system; the tightness dial and
        the coherence levers change both, so the shadow stays "the same system,
        run top-down".
        """
        with self.lock:
            if self.control(name) == value:
                return
            self.system.set_control(name, value)
            if name != "strategy":
                self.shadow.set_control(name, value)
            if name == "strategy" and self.t > 0:  # at step 0 it is the run's strategy
                self.events.append(Event(self.t, STRATEGY_LABELS.get(value, value)))

    def budget_cut(self, authority: int) -> None:
        """Cut one authority's budget in both systems (the burning platform)."""
        with self.lock:
            self.system.budget_cut(authority)
            self.shadow.budget_cut(authority)
            self.cuts.append(int(authority))
            self.events.append(Event(self.t, f"Budget cut: {authority_name(authority)}"))

    # ------------------------------------------------------------------ read-outs
    @property
    def n_authorities(self) -> int:
        """Number of authorities."""
        return self.system.authorities.n

    def authority_sizes(self) -> np.ndarray:
        """Count the schools in each authority."""
        return np.bincount(self.system.schools.authority, minlength=self.n_authorities)

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Metrics per step of the trainer's system and of the top-down shadow."""
        with self.lock:
            return self.system.metrics_frame(), self.shadow.metrics_frame()

    def counters(self) -> dict[str, float]:
        """Return the latest counts the room watches (see :data:`sim.metrics.DEFINITIONS`)."""
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


def authority_name(authority: int) -> str:
    """How the room reads an authority's name: numbered from 1."""
    return f"Authority {int(authority) + 1}"
