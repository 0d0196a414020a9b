"""Calibration: fit the model to a real series by ABC-SMC (pyabc), then forecast.

``nextpractice calibrate CALIBRATION.yaml`` reads a calibration file (strict schema,
:class:`Calibration`), fits the parameters it names to an observed series with
approximate Bayesian computation by sequential Monte Carlo (Toni et al. 2009, J R Soc
Interface 6:187; the implementation is pyabc, Klinger, Rickert and Hasenauer 2018,
Bioinformatics 34:3591; Schaelte et al. 2022, JOSS 7:4304), and writes into one folder:

- ``history.db``: pyabc's History (sqlite), every generation's particles;
- ``posterior.parquet``: the last generation's weighted particles, one column per
  fitted parameter, ``weight`` (summing to 1) and ``generation``;
- ``generations.csv``: per generation the tolerance ``epsilon``, the simulations run,
  the particles accepted and the acceptance rate;
- ``predictive.parquet``: posterior predictive runs (a weighted draw of parameters,
  each run with its own seed) at every observed year;
- ``forecast.csv`` (when the file holds years back): the out-of-sample forecast of the
  held-back years against two naive forecasts;
- ``posterior.png`` and ``predictive.png``; ``summary.json`` (the file, the posterior
  summaries, the forecast, the timings and the versions).

**Series file** (``observed.file``): CSV, ``#`` starts a comment line. The header's
first column is ``year``, the second names the series (any name: the value column),
an optional third is ``sd`` (the measurement's standard deviation, same unit). One
row per year, whole years, no repeats. ``observed.unit`` says whether values are
``percent`` (0 to 100; residuals and RMSE are then in percentage points) or
``share`` (0 to 1); the model's ``perf_mean`` (a share) is put in the same unit.

**Dates**: the model's step 0 is month ``start_month`` (default 9, September) of the
scenario's ``start_year``; a value of year ``Y`` measured in month
``observed.measured_month`` (default 5: Key Stage 2 tests are taken in May) is read
at step ``((Y - start_year) * 12 + measured_month - start_month) / dur_step``, so
May 1999 is step 8. Years measured before the first step (1997 and 1998 in the KS2
series, whose 1998 value is the model's starting level) are not fitted; the naive
logistic forecast still uses them, as it uses every year up to the cutoff.

**Determinism** (same seed, same posterior, on any number of workers): pyabc's own
parallel samplers reseed from the operating system. :class:`SeededSampler` instead
evaluates candidate ``j`` of sampler call ``c`` with numpy's global generator (which
pyabc's proposals and this module's simulation seed use) seeded from
``SeedSequence(seed, spawn_key=(c, j))``, and keeps the first ``n`` accepted
candidates in index order, whatever order the workers finish in.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import UserError
from sim.posterior import weighted_quantile
from sim.safe_io import loads

#: Posterior predictive quantiles written and drawn (median, 50% and 90% bands).
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)

# Namespaces of the seed tree under the calibration seed (the sampler uses call indices
# 0, 1, 2, ... as the first key; the predictive runs and draws sit far above them).
_SEED_PREDICTIVE = 1_000_000
_SEED_DRAW = 1_000_001

UNITS = {"percent": 100.0, "share": 1.0}


# --------------------------------------------------------------------------------------
# The calibration file
# --------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ObservedSpec(_Strict):
    """The observed series and how its dates map to model steps."""

    file: str = Field(description="CSV of year,value[,sd], relative to the calibration file.")
    unit: Literal["percent", "share"] = Field(
        "percent", description="percent (0-100) or share (0-1) of pupils.")
    measured_month: int = Field(
        5, ge=1, le=12, description="Month of the year the value was measured (5: May).")
    fit_until: int | None = Field(
        None, ge=1800, le=2200,
        description="Last year fitted; later years are held back and forecast.")


class PriorSpec(_Strict):
    """The prior of one fitted parameter: uniform over ``range``."""

    range: list[float] | None = Field(
        None, min_length=2, max_length=2,
        description="[low, high] of the uniform prior; default: the declared sweep range.",
        json_schema_extra={"fix": "write range: [low, high] with low < high"})


class Calibration(_Strict):
    """A calibration file: base scenario, observed series, priors, distance, settings."""

    description: str = Field("", description="What is fitted to what, and why.")
    scenario: str | None = Field(
        None, description="Base scenario file, relative to the calibration file.")
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Parameter values fixed for every simulation.")
    start_month: int = Field(
        9, ge=1, le=12, description="Calendar month of step 0 (9: September 1998).")
    observed: ObservedSpec
    parameters: dict[str, PriorSpec | None] = Field(
        min_length=1, description="Parameters to fit; each prior defaults to its sweep range.")
    distance: Literal["rmse", "sd_weighted", "adaptive_pnorm"] = Field(
        "rmse", description="rmse (in the series' unit), sd_weighted (residuals over the "
                            "file's sd column) or adaptive_pnorm (pyabc's adaptive L2).")
    population: int = Field(150, ge=5, le=100_000, description="Particles per generation.")
    generations: int = Field(6, ge=1, le=100, description="Most generations to run.")
    min_epsilon: float | None = Field(
        None, ge=0, description="Stop once the tolerance is at most this (distance units).")
    max_simulations: int | None = Field(
        None, ge=1, description="Stop once this many simulations have been run in all.")
    predictive: int = Field(
        100, ge=2, le=100_000, description="Posterior predictive runs for bands and forecast.")
    seed: int = Field(ge=0, le=2**63 - 1, description="Every random number derives from it.")


@dataclass
class Series:
    """An observed series: years, values (in ``unit``) and optional standard deviations."""

    path: Path
    name: str
    unit: str
    years: np.ndarray
    values: np.ndarray
    sd: np.ndarray | None = None

    def frame(self) -> pd.DataFrame:
        """The series as a table (year, value[, sd])."""
        out = pd.DataFrame({"year": self.years, "value": self.values})
        if self.sd is not None:
            out["sd"] = self.sd
        return out


@dataclass
class Setup:
    """A checked calibration: everything a run needs, nothing left to validate.

    Attributes:
        path: The calibration file.
        cal: Its parsed content.
        base: The base scenario's parameter values (JSON form) with the overrides.
        priors: Fitted parameter -> (low, high) of its uniform prior.
        integer: Fitted parameters that are whole numbers (rounded when applied).
        series: The observed series.
        steps: Model step of each observed year (may be below 1: before the model).
        fit: Mask of the years fitted (step at least 1 and year at most ``fit_until``).
        held: Mask of the years held back for the forecast.
    """

    path: Path
    cal: Calibration
    base: dict[str, Any]
    priors: dict[str, tuple[float, float]]
    integer: tuple[str, ...]
    series: Series
    steps: np.ndarray
    fit: np.ndarray
    held: np.ndarray
    notes: list[str] = field(default_factory=list)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such calibration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the calibration file ({exc})") from None
    # The safe reader of scenario files: YAML 1.2 numbers, no duplicate keys, no aliases.
    data = loads(text, str(path))
    if not isinstance(data, dict):
        raise UserError(f"{path}: a calibration file is a mapping of keys "
                        f"({', '.join(Calibration.model_fields)}); got {type(data).__name__}")
    return data


def load_calibration(path: str | Path) -> Calibration:
    """Read and validate a calibration file's schema (not yet its scenario or series).

    Raises:
        UserError: Missing file, bad YAML, unknown key, wrong type or out-of-range value;
            the message names the file, the key and the fix.
    """
    from sim.experiments import format_validation_error

    path = Path(path)
    data = _read_yaml(path)
    try:
        return Calibration.model_validate(data)
    except ValidationError as exc:
        raise UserError(format_validation_error(exc, path, Calibration)) from None


def read_series(path: str | Path, unit: str = "percent") -> Series:
    """Read an observed series file (format in the module docstring).

    Raises:
        UserError: naming the file, the line and what to fix.
    """
    path = Path(path)
    if unit not in UNITS:
        raise UserError(f"{path}: unit must be one of {', '.join(UNITS)} (got {unit!r})")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UserError(f"{path}: no such series file; observed.file is relative to the "
                        "calibration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the series file ({exc})") from None
    rows = [(i + 1, line) for i, line in enumerate(lines)
            if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise UserError(f"{path}: no header and no data; write a header line year,value[,sd] "
                        "and one line per year")
    header_no, header_line = rows[0]
    header = [h.strip() for h in next(csv.reader([header_line]))]
    if len(header) not in (2, 3) or header[0] != "year" or (len(header) == 3
                                                             and header[2] != "sd"):
        raise UserError(f"{path}: line {header_no}: the header must be year,<series name> or "
                        f"year,<series name>,sd (got {header_line.strip()!r})")
    if not header[1]:
        raise UserError(f"{path}: line {header_no}: the second column needs a name")
    hi = UNITS[unit]
    years: list[int] = []
    values: list[float] = []
    sds: list[float] = []
    for no, line in rows[1:]:
        cells = [c.strip() for c in next(csv.reader([line]))]
        where = f"{path}: line {no}"
        if len(cells) != len(header):
            raise UserError(f"{where}: {len(cells)} columns, the header has {len(header)} "
                            f"({','.join(header)}); got {line.strip()!r}")
        try:
            year_f = float(cells[0])
        except ValueError:
            raise UserError(f"{where}: year {cells[0]!r} is not a number; "
                            "write a whole year, e.g. 1999") from None
        if not math.isfinite(year_f) or year_f != int(year_f) or not 1800 <= year_f <= 2200:
            raise UserError(f"{where}: year {cells[0]!r} must be a whole year between 1800 "
                            "and 2200")
        year = int(year_f)
        if year in years:
            raise UserError(f"{where}: year {year} appears twice; keep one line per year")
        try:
            value = float(cells[1])
        except ValueError:
            raise UserError(f"{where}: value {cells[1]!r} is not a number") from None
        if not (math.isfinite(value) and 0 <= value <= hi):
            hint = (" (the file looks like shares: set observed.unit: share)"
                    if unit == "percent" else
                    " (the file looks like percentages: set observed.unit: percent)"
                    if 1 < value <= 100 else "")
            raise UserError(f"{where}: value {cells[1]!r} must be a {unit} between 0 and "
                            f"{hi:g}{hint}")
        if len(header) == 3:
            try:
                sd = float(cells[2])
            except ValueError:
                raise UserError(f"{where}: sd {cells[2]!r} is not a number") from None
            if not (math.isfinite(sd) and sd > 0):
                raise UserError(f"{where}: sd {cells[2]!r} must be a positive number")
            sds.append(sd)
        years.append(year)
        values.append(value)
    if not years:
        raise UserError(f"{path}: the header is there but no data lines follow")
    order = np.argsort(years)
    return Series(path, header[1], unit, np.array(years)[order], np.array(values)[order],
                  np.array(sds)[order] if sds else None)


def _priors(cal: Calibration, where: Path) -> tuple[dict[str, tuple[float, float]],
                                                      tuple[str, ...]]:
    """Each fitted parameter's uniform prior: its range, or its declared sweep range."""
    from sim.params import Params, factors, field_info
    from sim.registry import key_hint

    declared = factors()
    known = set(Params.model_fields) | set(declared)
    priors: dict[str, tuple[float, float]] = {}
    integer = []
    for name, spec in cal.parameters.items():
        key = f"parameters.{name}"
        if name not in known:
            valid = ", ".join(sorted(declared))
            hint = key_hint(name)  # a name that reads the parameter from another key
            why = f" ({hint})" if hint else ""
            raise UserError(f"{where}: {key}: unknown parameter {name!r}{why}. Parameters with "
                            f"a declared range: {valid}; run `nextpractice params` for the rest")
        info = field_info(name) if name in Params.model_fields else {}
        if info and info.get("type") not in ("float", "int"):
            raise UserError(f"{where}: {key}: {name!r} is a {info.get('type')}, not a number; "
                            "only numbers can be fitted (fix it under overrides:)")
        if spec is not None and spec.range is not None:
            lo, hi = float(spec.range[0]), float(spec.range[1])
        elif name in declared:
            lo, hi = (float(x) for x in declared[name])
        else:
            raise UserError(f"{where}: {key}: {name!r} declares no sweep range; give its prior, "
                            f"e.g. {name}: {{range: [low, high]}}")
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise UserError(f"{where}: {key}.range: low must be below high (got [{lo}, {hi}])")
        b_lo, b_hi = info.get("lo"), info.get("hi")
        if (b_lo is not None and lo < b_lo) or (b_hi is not None and hi > b_hi):
            raise UserError(f"{where}: {key}.range: [{lo:g}, {hi:g}] goes outside the allowed "
                            f"values of {name} ([{b_lo}, {b_hi}]); narrow the range")
        if name in cal.overrides:
            raise UserError(f"{where}: {key}: {name!r} is also fixed under overrides:; "
                            "fit it or fix it, not both")
        priors[name] = (lo, hi)
        if info.get("type") == "int":
            integer.append(name)
    return priors, tuple(integer)


def observation_steps(years: np.ndarray, start_year: float, start_month: int,
                      measured_month: int, dur_step: float) -> np.ndarray:
    """Model step at which each year's measurement is read (module docstring: Dates)."""
    months = (np.asarray(years) - math.floor(start_year)) * 12 + measured_month - start_month
    return np.round(months / dur_step).astype(int)


def prepare(path: str | Path) -> Setup:
    """Load and check a calibration file, its scenario and its series.

    Raises:
        UserError: naming the file, the key (or the series file's line) and the fix.
    """
    from sim.experiments import check_types, resolve_scenario
    from sim.params import Params
    from sim.scenario import load_scenario

    path = Path(path)
    cal = load_calibration(path)
    # Strict like a scenario file ("0.5" is text), named by the calibration file's key.
    check_types(Params, cal.overrides, path, {k: f"overrides.{k}" for k in cal.overrides})
    scenario = resolve_scenario(path, cal.scenario) if cal.scenario is not None else None
    try:
        params = load_scenario(scenario, dict(cal.overrides) or None)
    except UserError as exc:  # name the calibration file too: the values came from it
        raise UserError(f"{path}: scenario and overrides: {exc}") from None
    priors, integer = _priors(cal, path)
    base = params.model_dump(mode="json")
    # Both ends of every prior must make valid parameters (e.g. a phase share that
    # would push the shares past 1): refuse now, not in the middle of a generation.
    for name, (lo, hi) in priors.items():
        for v in (lo, hi):
            try:
                apply_values(base, {name: v}, integer)
            except ValueError as exc:
                raise UserError(f"{path}: parameters.{name}: at {v:g} the parameters are "
                                f"invalid ({str(exc).splitlines()[0]}); narrow the range") from None
    series_path = path.parent / cal.observed.file
    if not series_path.is_file() and Path(cal.observed.file).is_file():
        series_path = Path(cal.observed.file)
    series = read_series(series_path, cal.observed.unit)
    steps = observation_steps(series.years, params.start_year, cal.start_month,
                              cal.observed.measured_month, params.dur_step)
    cutoff = cal.observed.fit_until
    in_model = steps >= 1
    fit = in_model & (series.years <= cutoff if cutoff is not None else True)
    held = in_model & (series.years > cutoff if cutoff is not None else False)
    notes = []
    if (~in_model).any():
        notes.append("not fitted, measured before the model's first step: "
                     + ", ".join(str(y) for y in series.years[~in_model]))
    if fit.sum() < 1:
        raise UserError(f"{path}: observed.fit_until: no year of {series_path} is both after "
                        f"the model's start and at most {cutoff}; raise fit_until or check "
                        "start_month and the scenario's start_year")
    if cal.distance == "sd_weighted" and series.sd is None:
        raise UserError(f"{path}: distance: sd_weighted needs an sd column in {series_path}; "
                        "add one (year,value,sd) or use distance: rmse")
    return Setup(path, cal, base, priors, integer, series, steps, np.asarray(fit),
                 np.asarray(held), notes)


# --------------------------------------------------------------------------------------
# Simulating the series
# --------------------------------------------------------------------------------------


def apply_values(base: Mapping[str, Any], values: Mapping[str, float],
                 integer: Sequence[str] = ()) -> Any:
    """Parameters: the base values with fitted ones on top (whole numbers rounded).

    Raises:
        ValueError: the values make invalid parameters (pydantic's message).
    """
    from sim.params import Params

    upd = {k: (round(float(v)) if k in integer else float(v)) for k, v in values.items()}
    return Params.model_validate({**base, **upd})


def simulate_series(params: Any, seed: int, steps: Sequence[int], scale: float) -> np.ndarray:
    """Mean school performance at the given steps of one run, times ``scale``.

    The model's ``perf_mean`` (mean over schools of the share of pupils at the expected
    standard) is what the KS2 national figure measures, up to school size weights.
    """
    from sim.model import NextPracticeModel

    steps = np.asarray(steps, int)
    model = NextPracticeModel(params, rng=int(seed)).run(int(steps.max()))
    perf = model.metrics_frame().set_index("step")["perf_mean"]
    return perf.loc[steps].to_numpy(float) * scale


def _key(year: int) -> str:
    return f"y{int(year)}"


@dataclass
class Simulator:
    """pyabc's model: fitted values -> the simulated series at the fitted years.

    The run's seed comes from numpy's global generator, which :class:`SeededSampler`
    seeds for each candidate from the calibration seed, the sampler call and the
    candidate's index: so a candidate's simulation is the same on any worker.
    """

    base: dict[str, Any]
    integer: tuple[str, ...]
    years: tuple[int, ...]
    steps: tuple[int, ...]
    scale: float

    def __call__(self, theta: Mapping[str, float]) -> dict[str, float]:
        """Simulate one series; the keys are ``y<year>``."""
        # pyabc draws from numpy's global generator; the sampler seeds it per candidate.
        seed = int(np.random.randint(0, 2**62, dtype=np.int64))  # noqa: NPY002
        params = apply_values(self.base, dict(theta), self.integer)
        y = simulate_series(params, seed, self.steps, self.scale)
        return {_key(yr): float(v) for yr, v in zip(self.years, y, strict=True)}


@dataclass
class RMSE:
    """Root mean squared difference over the fitted years, in the series' unit.

    With ``sd``, each residual is divided by its year's sd first (a chi-like distance).
    """

    keys: tuple[str, ...]
    sd: tuple[float, ...] | None = None

    def __call__(self, x: Mapping[str, float], x0: Mapping[str, float]) -> float:
        """The distance between a simulated (``x``) and the observed (``x0``) series."""
        r = np.array([x[k] - x0[k] for k in self.keys], float)
        if self.sd is not None:
            r = r / np.asarray(self.sd, float)
        return float(np.sqrt(np.mean(r**2)))


# --------------------------------------------------------------------------------------
# A deterministic sampler for pyabc
# --------------------------------------------------------------------------------------

_CACHE: dict[int, Callable[[], Any]] = {}
# numpy's global generator is shared by the threads of a process (a Dask worker may run
# several): one candidate at a time per process, so no thread reseeds another's draws.
_LOCK = threading.Lock()


def _simulate_at(payload: bytes, entropy: int, call: int, index: int) -> Any:
    """Evaluate candidate ``index`` of sampler call ``call`` (in a worker or in process)."""
    import cloudpickle

    with _LOCK:
        key = hash(payload)
        fn = _CACHE.get(key)
        if fn is None:
            _CACHE.clear()
            fn = _CACHE[key] = cloudpickle.loads(payload)
        state = np.random.SeedSequence(entropy, spawn_key=(call, index)).generate_state(4)
        np.random.seed(state)  # noqa: NPY002 - pyabc's proposals use the global generator
        random.seed(int(state[0]))
        return fn()


def seeded_sampler(seed: int, executor: Any = None, slots: int = 1) -> Any:
    """A pyabc sampler whose result depends only on ``seed`` (see :class:`SeededSampler`)."""
    from pyabc.sampler import Sampler

    class SeededSampler(Sampler):
        """Evaluates candidates in index order with per-candidate seeds; keeps the first n.

        Candidates are run in batches (in this process, or on ``executor``: a process
        pool or a Dask client's executor). After each batch the first ``n`` accepted
        candidates by index are kept with the rejected ones before them, and
        ``nr_evaluations_`` counts up to the last one kept; so the population, its
        weights and the acceptance rate do not depend on the batch size, the number of
        workers or their speed. Batches beyond the needed candidate are wasted work, not
        a change of result.
        """

        def __init__(self) -> None:
            super().__init__()
            self.seed = int(seed)
            self.executor = executor
            self.slots = max(1, int(slots))
            self.calls = 0
            self.simulations = 0  # all candidates run, including wasted ones

        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf,
                                    all_accepted=False, ana_vars=None):
            import cloudpickle

            call = self.calls
            self.calls += 1
            payload = cloudpickle.dumps(simulate_one)
            particles: list[Any] = []
            accepted: list[int] = []
            rate = 1.0
            while len(accepted) < n and len(particles) < max_eval:
                need = n - len(accepted)
                if self.executor is None:
                    batch = 1
                else:
                    batch = math.ceil(1.1 * need / max(rate, 0.02))
                    batch = max(self.slots, math.ceil(batch / self.slots) * self.slots)
                    batch = min(batch, 20 * n)
                if math.isfinite(max_eval):
                    batch = min(batch, int(max_eval) - len(particles))
                first = len(particles)
                idx = range(first, first + batch)
                if self.executor is None:
                    new = [_simulate_at(payload, self.seed, call, j) for j in idx]
                else:
                    futures = [self.executor.submit(_simulate_at, payload, self.seed, call, j)
                               for j in idx]
                    new = [f.result() for f in futures]
                self.simulations += len(new)
                for j, p in zip(idx, new, strict=True):
                    particles.append(p)
                    if p.accepted:
                        accepted.append(j)
                rate = max(len(accepted), 1) / len(particles)
            keep = accepted[n - 1] + 1 if len(accepted) >= n else len(particles)
            sample = self._create_empty_sample()
            for p in particles[:keep]:
                sample.append(p)
            self.nr_evaluations_ = keep
            if sample.n_accepted < n:
                sample.ok = False
            return sample

    return SeededSampler()


# --------------------------------------------------------------------------------------
# Running a calibration
# --------------------------------------------------------------------------------------


@dataclass
class Result:
    """What a calibration wrote, in memory: the tables behind the files."""

    out: Path
    posterior: pd.DataFrame
    generations: pd.DataFrame
    summary: pd.DataFrame
    predictive: pd.DataFrame
    forecast: pd.DataFrame | None
    seconds: float


def posterior_summary(post: pd.DataFrame, priors: Mapping[str, tuple[float, float]]
                      ) -> pd.DataFrame:
    """Per fitted parameter: prior range, weighted median, 5% and 95% quantiles, mean."""
    rows = []
    w = post["weight"].to_numpy(float)
    for name, (lo, hi) in priors.items():
        q05, q50, q95 = weighted_quantile(post[name].to_numpy(), w, (0.05, 0.5, 0.95))
        rows.append({"parameter": name, "prior_low": lo, "prior_high": hi, "median": q50,
                     "p05": q05, "p95": q95,
                     "mean": float(np.average(post[name], weights=w)),
                     "width90_vs_prior": (q95 - q05) / (0.9 * (hi - lo))})
    return pd.DataFrame(rows)


@dataclass
class _Pool:
    executor: Any
    slots: int


class _executor:  # noqa: N801 - used as a context manager, like a function
    """The executor for simulations: none (in process), a process pool or Dask."""

    def __init__(self, workers: int | None, scheduler: str | None) -> None:
        self.workers, self.scheduler = workers, scheduler
        self._cm: Any = None

    def __enter__(self) -> _Pool:
        from sim.sweep import _executor as sweep_executor

        n = self.workers if self.workers is not None else (len(os.sched_getaffinity(0)) or 1)
        if self.scheduler is None and n == 1:
            return _Pool(None, 1)
        self._cm = sweep_executor(self.workers, self.scheduler)
        ex, slots = self._cm.__enter__()
        return _Pool(ex, slots)

    def __exit__(self, *exc: Any) -> None:
        if self._cm is not None:
            self._cm.__exit__(*exc)


def _predict_one(base: dict[str, Any], integer: tuple[str, ...], values: dict[str, float],
                 seed: int, steps: tuple[int, ...], scale: float) -> np.ndarray:
    return simulate_series(apply_values(base, values, integer), seed, steps, scale)


def predictive_runs(setup: Setup, post: pd.DataFrame, pool: _Pool) -> pd.DataFrame:
    """Posterior predictive runs at every observed year the model reaches.

    ``setup.cal.predictive`` parameter rows are drawn from the weighted posterior
    (:func:`sim.posterior.draw`), each run with its own seed from the calibration seed.
    """
    from sim.posterior import draw

    cal = setup.cal
    reach = setup.steps >= 1
    years = tuple(int(y) for y in setup.series.years[reach])
    steps = tuple(int(s) for s in setup.steps[reach])
    rows = draw(post, cal.predictive, np.random.SeedSequence(
        cal.seed, spawn_key=(_SEED_DRAW,)).generate_state(1)[0])
    seeds = [int(np.random.SeedSequence(cal.seed, spawn_key=(_SEED_PREDICTIVE, i))
                 .generate_state(1, dtype=np.uint64)[0] >> np.uint64(2)) for i in range(len(rows))]
    args = [(setup.base, setup.integer, {k: float(v) for k, v in r.items()}, seeds[i], steps,
             UNITS[cal.observed.unit]) for i, r in enumerate(rows.to_dict("records"))]
    if pool.executor is None:
        series = [_predict_one(*a) for a in args]
    else:
        series = [f.result() for f in [pool.executor.submit(_predict_one, *a) for a in args]]
    out = []
    for i, (r, y) in enumerate(zip(rows.to_dict("records"), series, strict=True)):
        for yr, v in zip(years, y, strict=True):
            out.append({"draw": i, "seed": seeds[i], **r, "year": yr, "value": float(v)})
    return pd.DataFrame(out)


def predictive_band(pred: pd.DataFrame) -> pd.DataFrame:
    """Per year: the posterior predictive quantiles (:data:`QUANTILES`) of the value."""
    g = pred.groupby("year")["value"]
    band = pd.DataFrame({f"q{round(q * 100):02d}": g.quantile(q) for q in QUANTILES})
    return band.reset_index()


def logistic(t: np.ndarray, top: float, rate: float, mid: float) -> np.ndarray:
    """The logistic curve ``top / (1 + exp(-rate (t - mid)))`` (the naive S-curve)."""
    return top / (1.0 + np.exp(-rate * (np.asarray(t, float) - mid)))


def naive_forecasts(years: np.ndarray, values: np.ndarray, future: np.ndarray, ceiling: float
                    ) -> dict[str, np.ndarray]:
    """Two naive forecasts of ``future`` years from the years up to the cutoff.

    ``last_value``: the last value carried forward. ``logistic``: a logistic curve
    fitted by least squares (``scipy.optimize.curve_fit``) to the same years, with its
    top between the highest value seen and ``ceiling``; NaN if it cannot be fitted
    (fewer than three years, or no convergence).
    """
    from scipy.optimize import curve_fit

    out = {"last_value": np.full(len(future), float(values[np.argmax(years)]))}
    fc = np.full(len(future), np.nan)
    if len(years) >= 3:
        top0 = min(ceiling, float(values.max()) * 1.05)
        lo = [float(values.max()), 1e-3, float(years.min()) - 50]
        hi = [ceiling, 10.0, float(years.max()) + 50]
        p0 = [min(max(top0, lo[0] * 1.0001), hi[0]), 0.5, float(years.min())]
        try:
            par, _ = curve_fit(logistic, years.astype(float), values, p0=p0, bounds=(lo, hi),
                               maxfev=20_000)
            fc = logistic(future, *par)
        except (RuntimeError, ValueError):
            pass
    out["logistic"] = fc
    return out


def forecast_table(setup: Setup, band: pd.DataFrame) -> pd.DataFrame | None:
    """The out-of-sample forecast of the held-back years (None if none is held back).

    One row per held-back year: observed, the model's predictive median and 90% band,
    whether the observation lies inside it, and the two naive forecasts; then a row
    ``rmse`` with the root mean squared error of each forecast over those years.
    """
    if not setup.held.any():
        return None
    s = setup.series
    cutoff = setup.cal.observed.fit_until
    known = s.years <= cutoff
    fut = s.years[setup.held]
    obs = s.values[setup.held]
    naive = naive_forecasts(s.years[known], s.values[known], fut, UNITS[s.unit])
    b = band.set_index("year").loc[fut]
    t = pd.DataFrame({"year": fut.astype(str), "observed": obs,
                      "model_median": b["q50"].to_numpy(), "model_p05": b["q05"].to_numpy(),
                      "model_p95": b["q95"].to_numpy()})
    t["in_band_90"] = (t["observed"] >= t["model_p05"]) & (t["observed"] <= t["model_p95"])
    t["last_value"] = naive["last_value"]
    t["logistic"] = naive["logistic"]
    rmse = {c: float(np.sqrt(np.mean((t[c].to_numpy(float) - obs) ** 2)))
            for c in ("model_median", "last_value", "logistic")}
    row = {"year": "rmse", "observed": np.nan, **rmse, "model_p05": np.nan,
           "model_p95": np.nan, "in_band_90": bool(t["in_band_90"].all())}
    return pd.concat([t, pd.DataFrame([row])], ignore_index=True)


def _history_tables(history: Any, names: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    gens = pd.DataFrame({"generation": pops["t"].astype(int),
                         "epsilon": pops["epsilon"].astype(float),
                         "simulations": pops["samples"].astype(int),
                         "accepted": pops["particles"].astype(int)})
    gens["acceptance_rate"] = gens["accepted"] / gens["simulations"]
    last = int(history.max_t)
    df, w = history.get_distribution(m=0, t=last)
    post = df[list(names)].reset_index(drop=True).astype(float)
    post["weight"] = np.asarray(w, float) / np.sum(w)
    post["generation"] = last
    return post, gens


def calibrate(path: str | Path, out: str | Path | None = None, workers: int | None = None,
              scheduler: str | None = None, progress: bool = False) -> Result:
    """Run a calibration file: ABC-SMC, posterior predictive runs, forecast, figures.

    Args:
        path: The calibration YAML.
        out: Output folder (default ``runs/<file stem>``).
        workers: Worker processes (default: the machine's cores; 1 runs in process).
        scheduler: A Dask scheduler's address; overrides ``workers``.
        progress: Log pyabc's progress per generation.

    Returns:
        The result tables; the files are in ``out``.

    Raises:
        UserError: A bad calibration file, scenario or series file.
    """
    setup = prepare(path)
    cal = setup.cal
    out = Path(out or Path("runs") / Path(path).stem)
    out.mkdir(parents=True, exist_ok=True)
    import pyabc
    from pyabc import ABCSMC, RV, Distribution

    for name in ("ABC", "pyabc", "Sampler", "History", "Epsilon", "Distance", "Acceptor",
                 "Adaptation", "Population"):
        logging.getLogger(name).setLevel(logging.INFO if progress else logging.WARNING)
    t0 = time.perf_counter()
    scale = UNITS[cal.observed.unit]
    years = tuple(int(y) for y in setup.series.years[setup.fit])
    steps = tuple(int(s) for s in setup.steps[setup.fit])
    keys = tuple(_key(y) for y in years)
    observed = {_key(y): float(v) for y, v in zip(setup.series.years, setup.series.values,
                                                  strict=True) if _key(y) in keys}
    sim_fn = Simulator(setup.base, setup.integer, years, steps, scale)
    if cal.distance == "rmse":
        distance: Any = RMSE(keys)
    elif cal.distance == "sd_weighted":
        distance = RMSE(keys, tuple(float(s) for s in setup.series.sd[setup.fit]))
    else:
        distance = pyabc.AdaptivePNormDistance(p=2)
    prior = Distribution(**{n: RV("uniform", lo, hi - lo) for n, (lo, hi) in setup.priors.items()})
    db = out / "history.db"
    for stale in (db, out / "history.db-journal"):
        stale.unlink(missing_ok=True)  # a fresh History: the run id is always 1
    np.random.seed(np.random.SeedSequence(cal.seed).generate_state(4))  # noqa: NPY002
    random.seed(cal.seed)
    with _executor(workers, scheduler) as pool:
        sampler = seeded_sampler(cal.seed, pool.executor, pool.slots)
        abc = ABCSMC(sim_fn, prior, distance, population_size=cal.population, sampler=sampler)
        abc.new(f"sqlite:///{db.resolve()}", observed)
        history = abc.run(
            minimum_epsilon=cal.min_epsilon if cal.min_epsilon is not None else 0.0,
            max_nr_populations=cal.generations,
            max_total_nr_simulations=(cal.max_simulations if cal.max_simulations is not None
                                      else np.inf))
        fit_seconds = time.perf_counter() - t0
        post, gens = _history_tables(history, list(setup.priors))
        pred = predictive_runs(setup, post, pool)
    seconds = time.perf_counter() - t0
    summary = posterior_summary(post, setup.priors)
    band = predictive_band(pred)
    forecast = forecast_table(setup, band)
    post.to_parquet(out / "posterior.parquet", index=False)
    gens.to_csv(out / "generations.csv", index=False)
    pred.to_parquet(out / "predictive.parquet", index=False)
    summary.to_csv(out / "posterior_summary.csv", index=False)
    if forecast is not None:
        forecast.to_csv(out / "forecast.csv", index=False)
    _write_summary(out, setup, summary, gens, forecast, fit_seconds, seconds, sampler)
    from sim.plots_calibration import posterior_figure, predictive_figure

    posterior_figure(post, setup.priors, out / "posterior.png",
                     title=f"{Path(path).stem}: posterior marginals")
    predictive_figure(band, setup, forecast, out / "predictive.png",
                      title=f"{Path(path).stem}: posterior predictive")
    return Result(out, post, gens, summary, pred, forecast, seconds)


def _write_summary(out: Path, setup: Setup, summary: pd.DataFrame, gens: pd.DataFrame,
                   forecast: pd.DataFrame | None, fit_seconds: float, seconds: float,
                   sampler: Any) -> None:
    from importlib import metadata

    from sim import __version__

    data = {
        "version": __version__,
        "pyabc": metadata.version("pyabc"),
        "calibration_file": str(setup.path),
        "calibration": setup.cal.model_dump(),
        "series": str(setup.series.path),
        "fitted_years": [int(y) for y in setup.series.years[setup.fit]],
        "held_back_years": [int(y) for y in setup.series.years[setup.held]],
        "notes": setup.notes,
        "posterior": summary.to_dict("records"),
        "generations": gens.to_dict("records"),
        "forecast": None if forecast is None else forecast.to_dict("records"),
        "seconds_fit": round(fit_seconds, 1),
        "seconds_total": round(seconds, 1),
        "simulations_run": int(sampler.simulations),
        "base_params": setup.base,
    }
    (out / "summary.json").write_text(json.dumps(data, indent=1, default=str))


def report(res: Result) -> str:
    """The text ``nextpractice calibrate`` prints: posterior, generations, forecast."""
    lines = ["posterior (weighted median and 90% interval; prior range):"]
    for r in res.summary.to_dict("records"):
        lines.append(f"  {r['parameter']:<22} {r['median']:.4g}  [{r['p05']:.4g}, {r['p95']:.4g}]"
                     f"   prior [{r['prior_low']:.4g}, {r['prior_high']:.4g}]")
    lines.append("generations:")
    lines.append(res.generations.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    if res.forecast is not None:
        lines.append("out-of-sample forecast (RMSE row in the series' unit):")
        lines.append(res.forecast.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    lines.append(f"took {res.seconds:.0f} s; wrote {res.out}/posterior.parquet, generations.csv, "
                 "predictive.parquet, posterior.png, predictive.png"
                 + (", forecast.csv" if res.forecast is not None else "") + ", summary.json")
    return "\n".join(lines)
