"""The calibration file and the observed series: read, checked, and turned into a :class:`Setup`."""

from __future__ import annotations

import csv
import math
import os
import re
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.calibration.simulate import apply_values
from sim.calibration.stats import Statistic
from sim.core.errors import UserError
from sim.inputs.catalogue import PROVENANCE
from sim.inputs.safe_io import excerpt, read_text, read_yaml_file

UNITS = {"percent": 100.0, "share": 1.0}
#: A year in a series file: four digits (not ``2e3``, ``1999.0`` or ``1_999``).
_YEAR = re.compile(r"[0-9]{4}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ObservedSpec(_Strict):
    """One observed series, how its dates map to model steps, and what is fitted of it.

    The keys after ``years`` matter when a calibration fits several series at once
    (``series:``), each in its own runs of the same system; a single ``observed:``
    series may use them too.
    """

    file: str = Field(description="CSV of year,value[,sd], relative to the calibration file.")
    unit: Literal["percent", "share"] = Field(
        "percent", description="percent (0-100) or share (0-1) of pupils."
    )
    measured_month: int = Field(
        5, ge=1, le=12, description="Month of the year the value was measured (5: May)."
    )
    fit_until: int | None = Field(
        None,
        ge=1800,
        le=2200,
        description="Last year fitted; later years are held back and forecast.",
    )
    years: list[int] | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="[first, last]: the years of the file used; the others are left "
        "out (default: every year).",
        json_schema_extra={"fix": "write years: [first, last], e.g. [1997, 2005]"},
    )
    start_year: int | None = Field(
        None,
        ge=1800,
        le=2200,
        description="The year whose start_month is step 0 of this series' runs "
        "(default: the scenario's start_year).",
    )
    start_level: int | None = Field(
        None,
        ge=1800,
        le=2200,
        description="Start this series' runs at the file's value for this year "
        "(init_perf_mean, as a share); default: the scenario's init_perf_mean.",
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="Parameter values fixed in this series' runs only, on top of the "
        "calibration's overrides.",
    )
    statistics: list[Any] = Field(
        default_factory=lambda: ["levels"],
        description="What is compared with the data: levels (each fitted year), "
        "{gain: [from, to]} (the change between two years), {slope: [from, to]} "
        "(the least-squares slope a year); each mapping may add weight:.",
        json_schema_extra={
            "fix": "write statistics: [levels, {gain: [1999, 2001]}, {slope: [2002, 2005]}]"
        },
    )

    _check_statistics = field_validator("statistics", mode="before")(
        lambda v: [_statistic(i, x) for i, x in enumerate(v)] if isinstance(v, list) else v
    )


class PriorSpec(_Strict):
    """The prior of one fitted parameter: uniform over ``range``."""

    range: list[float] | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="[low, high] of the uniform prior; default: the declared sweep range.",
        json_schema_extra={"fix": "write range: [low, high] with low < high"},
    )


class ModelSpec(_Strict):
    """One story (model) of a model selection: its scenario, values and extra priors."""

    description: str = Field("", description="The story in a sentence.")
    scenario: str | None = Field(
        None,
        description="Its scenario file (with a schedule, if the story changes at dates), "
        "relative to the calibration file; default: the calibration's scenario.",
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Values fixed in this story's runs only."
    )
    parameters: dict[str, PriorSpec | None] = Field(
        default_factory=dict,
        description="Parameters fitted in this story only, besides the shared ones.",
    )


class RollingSpec(_Strict):
    """The origins of a rolling-origin forecast (``nextpractice forecast``)."""

    origins: list[int] = Field(
        min_length=1,
        description="Last fitted year of each fit; each forecasts the horizon's years after it.",
        json_schema_extra={"fix": "write origins: [2001, 2002, 2003]"},
    )
    horizon: int = Field(5, ge=1, le=50, description="Years forecast after each origin.")


class Calibration(_Strict):
    """A calibration file: base scenario, observed series, priors, distance, settings."""

    description: str = Field("", description="What is fitted to what, and why.")
    scenario: str | None = Field(
        None, description="Base scenario file, relative to the calibration file."
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Parameter values fixed for every simulation."
    )
    start_month: int = Field(
        9, ge=1, le=12, description="Calendar month of step 0 (9: September 1998)."
    )
    observed: ObservedSpec | None = Field(
        None, description="The one observed series (or give series: for several)."
    )
    series: dict[str, ObservedSpec] | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="Several observed series fitted at once, by name; each in its own runs.",
    )
    parameters: dict[str, PriorSpec | None] = Field(
        min_length=1, description="Parameters to fit; each prior defaults to its sweep range."
    )
    models: dict[str, ModelSpec] | None = Field(
        None,
        min_length=2,
        max_length=20,
        description="Stories compared by ABC model selection, by name (at least two).",
    )
    repeats: int = Field(
        1,
        ge=1,
        le=100,
        description="Independent ABC-SMC runs, each from its own seed (model selection: "
        "the spread of the model probabilities across them).",
    )
    rolling: RollingSpec | None = Field(
        None, description="Origins and horizon of `nextpractice forecast` (rolling origin)."
    )
    distance: Literal["rmse", "sd_weighted", "adaptive_pnorm"] = Field(
        "rmse",
        description="rmse (in the series' unit), sd_weighted (residuals over the "
        "file's sd column) or adaptive_pnorm (pyabc's adaptive L2).",
    )
    population: int = Field(150, ge=5, le=100_000, description="Particles per generation.")
    generations: int = Field(6, ge=1, le=100, description="Most generations to run.")
    min_epsilon: float | None = Field(
        None, ge=0, description="Stop once the tolerance is at most this (distance units)."
    )
    max_simulations: int | None = Field(
        None, ge=1, description="Stop once this many simulations have been run in all."
    )
    predictive: int = Field(
        100, ge=2, le=100_000, description="Posterior predictive runs for bands and forecast."
    )
    seed: int = Field(ge=0, le=2**63 - 1, description="Every random number derives from it.")

    @model_validator(mode="after")
    def _one_form(self) -> Calibration:
        if (self.observed is None) == (self.series is None):
            raise ValueError(
                "give observed: (one series) or series: (several, by name), not "
                + ("both" if self.observed is not None else "neither")
            )
        return self

    def series_specs(self) -> dict[str, ObservedSpec]:
        """The observed series by name (a single ``observed:`` is named ``observed``)."""
        if self.series is not None:
            return dict(self.series)
        return {"observed": typing.cast(ObservedSpec, self.observed)}


def _statistic(i: int, item: Any) -> Any:
    """One entry of ``statistics:``, parsed (the years are checked against the data later)."""
    at = f"statistics[{i}]"
    if item == "levels":
        return item
    if not isinstance(item, dict):
        raise ValueError(
            f"{at}: {str(item)[:40]!r} is not a statistic; write levels, {{gain: [from, to]}} "
            "or {slope: [from, to]}"
        )
    kinds = [k for k in ("gain", "slope") if k in item]
    unknown = [k for k in item if k not in ("gain", "slope", "weight")]
    if unknown or len(kinds) != 1:
        raise ValueError(
            f"{at}: a statistic has one of gain or slope (and weight); got keys "
            f"{', '.join(map(str, item))[:80]}; write e.g. {{slope: [2002, 2005], weight: 1}}"
        )
    years = item[kinds[0]]
    if (
        not isinstance(years, list)
        or len(years) != 2
        or not all(isinstance(y, int) and not isinstance(y, bool) for y in years)
        or not years[0] < years[1]
    ):
        raise ValueError(
            f"{at}.{kinds[0]}: give [from, to], two whole years with from before to "
            f"(got {str(years)[:40]})"
        )
    weight = item.get("weight", 1.0)
    if (
        isinstance(weight, bool)
        or not isinstance(weight, int | float)
        or not (math.isfinite(weight) and weight > 0)
    ):
        raise ValueError(f"{at}.weight: a positive number (got {str(weight)[:40]})")
    return {kinds[0]: list(years), "weight": float(weight)}


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
class SeriesSetup:
    """One observed series of a calibration, checked: its dates, its fitted years, its statistics.

    Attributes:
        name: Its name (``observed`` for a single ``observed:`` series).
        spec: Its entry in the calibration file.
        series: The data (the years of ``spec.years`` only).
        steps: Model step of each year (may be below 1: before the model starts).
        fit: Mask of the years fitted (step at least 1 and year at most the cutoff).
        held: Mask of the years held back and forecast.
        cutoff: The last year fitted (None: every year the model reaches).
        statistics: The summary statistics compared with the data.
        prefix: Put before each statistic's key (empty for a single series).
        notes: What was left out and why.
    """

    name: str
    spec: ObservedSpec
    series: Series
    steps: np.ndarray
    fit: np.ndarray
    held: np.ndarray
    cutoff: int | None
    statistics: tuple[Statistic, ...]
    prefix: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def scale(self) -> float:
        """The model's share times this gives the series' unit."""
        return UNITS[self.series.unit]

    def fitted(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The fitted years and their model steps."""
        return (
            tuple(int(y) for y in self.series.years[self.fit]),
            tuple(int(x) for x in self.steps[self.fit]),
        )

    def reached(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Every year the model reaches (fitted, held back or after) and its step."""
        keep = self.steps >= 1
        return (
            tuple(int(y) for y in self.series.years[keep]),
            tuple(int(x) for x in self.steps[keep]),
        )

    def stats(self, by_year: dict[int, float]) -> dict[str, float]:
        """The summary statistics of a series given as year -> value, by key."""
        return {st.key(self.prefix): float(st.value(by_year)) for st in self.statistics}

    def observed_stats(self) -> dict[str, float]:
        """The summary statistics of the data."""
        s = self.series
        return self.stats({int(y): float(v) for y, v in zip(s.years, s.values, strict=True)})

    def weights(self) -> dict[str, float]:
        """Each statistic's weight in the distance, by key."""
        return {st.key(self.prefix): st.weight for st in self.statistics}


@dataclass
class ModelSetup:
    """One model (story) of a calibration: its priors and each series' base parameters.

    Attributes:
        name: Its name (``model`` when the file compares no stories).
        description: The story in a sentence.
        priors: Fitted parameter -> (low, high) of its uniform prior.
        integer: Fitted parameters that are whole numbers (rounded when applied).
        bases: Series name -> the parameter values (JSON form) of that series' runs.
    """

    name: str
    description: str
    priors: dict[str, tuple[float, float]]
    integer: tuple[str, ...]
    bases: dict[str, dict[str, Any]]


@dataclass
class Setup:
    """A checked calibration: everything a run needs, nothing left to validate.

    Attributes:
        path: The calibration file.
        cal: Its parsed content.
        models: The models by name: one (``model``), or the stories of ``models:``.
        parts: The observed series by name, in the file's order.
        notes: What was left out and why, for every series.

    The first model's and the first series' fields are also reachable directly
    (``base``, ``priors``, ``integer``, ``series``, ``steps``, ``fit``, ``held``), as a
    calibration of one series reads them.
    """

    path: Path
    cal: Calibration
    models: dict[str, ModelSetup]
    parts: dict[str, SeriesSetup]
    notes: list[str] = field(default_factory=list)

    @property
    def model(self) -> ModelSetup:
        """The first (or only) model."""
        return next(iter(self.models.values()))

    @property
    def first(self) -> SeriesSetup:
        """The first (or only) series."""
        return next(iter(self.parts.values()))

    @property
    def base(self) -> dict[str, Any]:
        """The first model's parameters for the first series."""
        return self.model.bases[self.first.name]

    @property
    def priors(self) -> dict[str, tuple[float, float]]:
        """The first model's priors."""
        return self.model.priors

    @property
    def integer(self) -> tuple[str, ...]:
        """The first model's whole-number parameters."""
        return self.model.integer

    @property
    def series(self) -> Series:
        """The first series' data."""
        return self.first.series

    @property
    def steps(self) -> np.ndarray:
        """The first series' steps."""
        return self.first.steps

    @property
    def fit(self) -> np.ndarray:
        """The first series' fitted years (mask)."""
        return self.first.fit

    @property
    def held(self) -> np.ndarray:
        """The first series' held-back years (mask)."""
        return self.first.held

    def observed_stats(self) -> dict[str, float]:
        """Every series' summary statistics of the data, by key."""
        return {k: v for part in self.parts.values() for k, v in part.observed_stats().items()}

    def weights(self) -> dict[str, float]:
        """Every statistic's weight, by key."""
        return {k: v for part in self.parts.values() for k, v in part.weights().items()}


def _read_yaml(path: Path) -> dict[str, Any]:
    # The safe reader of scenario files: a regular file of at most 1 MB (a FIFO or a
    # device is refused before it is opened), UTF-8, YAML 1.2 numbers, no duplicate
    # keys, no aliases.
    data = read_yaml_file(path, "calibration")
    if not isinstance(data, dict):
        raise UserError(
            f"{path}: a calibration file is a mapping of keys "
            f"({', '.join(Calibration.model_fields)}); got {type(data).__name__}"
        )
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


def _exists(path: Path) -> bool:
    """Whether ``path`` names something (a NUL byte in the name counts: the reader says why)."""
    try:
        return os.path.lexists(path)
    except ValueError:
        return True


def read_series(path: str | Path, unit: str = "percent") -> Series:
    """Read an observed series file (format in the module docstring).

    Raises:
        UserError: naming the file, the line and what to fix.
    """
    path = Path(path)
    if unit not in UNITS:
        raise UserError(f"{path}: unit must be one of {', '.join(UNITS)} (got {unit!r})")
    if not _exists(path):
        raise UserError(
            f"{path}: no such series file; observed.file is relative to the calibration file"
        )
    # The safe reader: a regular file of at most 1 MB (a FIFO or /dev/zero is refused
    # before it is opened), UTF-8.
    lines = read_text(path, "series", ".csv").splitlines()
    rows = [
        (i + 1, line)
        for i, line in enumerate(lines)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not rows:
        raise UserError(
            f"{path}: no header and no data; write a header line year,value[,sd] "
            "and one line per year"
        )
    header_no, header_line = rows[0]
    header = [h.strip() for h in next(csv.reader([header_line]))]
    # year, the value, an optional sd; then only provenance columns, which are not read.
    n_read = 3 if len(header) >= 3 and header[2] == "sd" else 2
    extra = header[n_read:]
    if (
        len(header) < 2
        or header[0] != "year"
        or any(c not in PROVENANCE for c in extra)
        or len(set(extra)) != len(extra)
    ):
        raise UserError(
            f"{path}: line {header_no}: the header must be year,<series name> or "
            f"year,<series name>,sd, optionally followed by the provenance columns "
            f"{', '.join(PROVENANCE)} (got {header_line.strip()!r})"
        )
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
            raise UserError(
                f"{where}: {len(cells)} columns, the header has {len(header)} "
                f"({','.join(header)}); got {line.strip()!r}"
            )
        if not _YEAR.fullmatch(cells[0]):  # 2e3, 1999.0, 1_999: not how a year is written
            raise UserError(
                f"{where}: year {excerpt(cells[0])} is not a number of four digits; "
                "write a whole year, e.g. 1999"
            )
        year = int(cells[0])
        if not 1800 <= year <= 2200:
            raise UserError(
                f"{where}: year {cells[0]!r} must be a whole year between 1800 and 2200"
            )
        if year in years:
            raise UserError(f"{where}: year {year} appears twice; keep one line per year")
        try:
            value = float(cells[1])
        except ValueError:
            raise UserError(f"{where}: value {cells[1]!r} is not a number") from None
        if not (math.isfinite(value) and 0 <= value <= hi):
            hint = (
                " (the file looks like shares: set observed.unit: share)"
                if unit == "percent"
                else " (the file looks like percentages: set observed.unit: percent)"
                if 1 < value <= 100
                else ""
            )
            raise UserError(
                f"{where}: value {cells[1]!r} must be a {unit} between 0 and {hi:g}{hint}"
            )
        if n_read == 3:
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
    if unit == "percent" and 0 < max(values) <= 1:
        raise UserError(
            f"{path}: every value is at most 1 ({', '.join(f'{v:g}' for v in values[:3])}"
            f"{', ...' if len(values) > 3 else ''}), which reads as shares (0.7 for 70%), "
            "but observed.unit is percent; set observed.unit: share, or write the values "
            "as percentages (70)"
        )
    order = np.argsort(years)
    return Series(
        path,
        header[1],
        unit,
        np.array(years)[order],
        np.array(values)[order],
        np.array(sds)[order] if sds else None,
    )


def _priors(
    specs: dict[str, PriorSpec | None], where: Path, at: dict[str, str], fixed: dict[str, str]
) -> tuple[dict[str, tuple[float, float]], tuple[str, ...]]:
    """Each fitted parameter's uniform prior: its range, or its declared sweep range.

    Args:
        specs: Parameter -> its prior spec (None: the declared sweep range).
        where: The calibration file, for messages.
        at: Parameter -> the key its spec is under (``parameters``,
            ``models.x.parameters``).
        fixed: Parameters fixed somewhere in the file -> the key that fixes them.
    """
    from sim.core.registry import key_hint
    from sim.model.params import Params, factors, field_info

    declared = factors()
    known = set(Params.model_fields) | set(declared)
    priors: dict[str, tuple[float, float]] = {}
    integer = []
    for name, spec in specs.items():
        key = f"{at[name]}.{name}"
        if name not in known:
            valid = ", ".join(sorted(declared))
            hint = key_hint(name)  # a name that reads the parameter from another key
            why = f" ({hint})" if hint else ""
            raise UserError(
                f"{where}: {key}: unknown parameter {name!r}{why}. Parameters with "
                f"a declared range: {valid}; run `nextpractice params` for the rest"
            )
        info = field_info(name) if name in Params.model_fields else {}
        if info and info.get("type") not in ("float", "int"):
            raise UserError(
                f"{where}: {key}: {name!r} is a {info.get('type')}, not a number; "
                "only numbers can be fitted (fix it under overrides:)"
            )
        if spec is not None and spec.range is not None:
            lo, hi = float(spec.range[0]), float(spec.range[1])
        elif name in declared:
            lo, hi = (float(x) for x in declared[name])
        else:
            raise UserError(
                f"{where}: {key}: {name!r} declares no sweep range; give its prior, "
                f"e.g. {name}: {{range: [low, high]}}"
            )
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise UserError(f"{where}: {key}.range: low must be below high (got [{lo}, {hi}])")
        if not info:
            info = field_info(name)
        b_lo, b_hi = info.get("lo"), info.get("hi")
        if (b_lo is not None and lo < b_lo) or (b_hi is not None and hi > b_hi):
            raise UserError(
                f"{where}: {key}.range: [{lo:g}, {hi:g}] goes outside the allowed "
                f"values of {name} ([{b_lo}, {b_hi}]); narrow the range"
            )
        if name in fixed:
            raise UserError(
                f"{where}: {key}: {name!r} is also fixed under {fixed[name]}; "
                "fit it or fix it, not both"
            )
        priors[name] = (lo, hi)
        if info.get("type") == "int":
            integer.append(name)
    return priors, tuple(integer)


def observation_steps(
    years: np.ndarray, start_year: float, start_month: int, measured_month: int, dur_step: float
) -> np.ndarray:
    """Model step at which each year's measurement is read (module docstring: Dates)."""
    months = (np.asarray(years) - math.floor(start_year)) * 12 + measured_month - start_month
    return np.round(months / dur_step).astype(int)


def _file_path(path: Path, name: str) -> Path:
    """A file a calibration names: relative to the calibration file, else as given."""
    found = path.parent / name
    if not found.is_file() and Path(name).is_file():
        return Path(name)
    return found


def _window(series: Series, spec: ObservedSpec, path: Path, at: str) -> tuple[Series, str]:
    """The years of ``spec.years`` of a series, and the years left out (text)."""
    if spec.years is None:
        return series, ""
    first, last = spec.years
    if first > last:
        raise UserError(
            f"{path}: {at}.years: first year {first} is after last year {last}; write [first, last]"
        )
    keep = (series.years >= first) & (series.years <= last)
    if not keep.any():
        raise UserError(
            f"{path}: {at}.years: no year of {series.path} is in [{first}, {last}] "
            f"(it has {series.years.min()} to {series.years.max()})"
        )
    left_out = ", ".join(str(y) for y in series.years[~keep])
    return (
        Series(
            series.path,
            series.name,
            series.unit,
            series.years[keep],
            series.values[keep],
            series.sd[keep] if series.sd is not None else None,
        ),
        left_out,
    )


def _statistics(
    spec: ObservedSpec, years: list[int], path: Path, at: str, clip_to: int | None
) -> tuple[tuple[Statistic, ...], list[str]]:
    """A series' statistics, their years checked against its fitted ``years``.

    ``clip_to`` (a rolling-origin fit): a gain or slope that runs past it is cut to
    the fitted years, and left out if too few remain; the notes say so.
    """
    out: list[Statistic] = []
    notes: list[str] = []
    fitted = set(years)
    for i, item in enumerate(spec.statistics):
        key = f"{at}.statistics[{i}]"
        if item == "levels":
            out.extend(Statistic("level", (y,)) for y in years)
            continue
        kind = "gain" if "gain" in item else "slope"
        lo, hi = item[kind]
        if clip_to is not None and hi > clip_to:
            inside = [y for y in years if lo <= y <= clip_to]
            if len(inside) < 2:
                notes.append(f"{key} ({kind} {lo}-{hi}) left out: past the origin {clip_to}")
                continue
            notes.append(f"{key} ({kind} {lo}-{hi}) cut to {lo}-{max(inside)} at the origin")
            hi = max(inside)
        if kind == "gain" and not {lo, hi} <= fitted:
            raise UserError(
                f"{path}: {key}.gain: [{lo}, {hi}] needs both years among the fitted "
                f"years ({', '.join(map(str, years))}); choose two of them"
            )
        if kind == "slope" and len([y for y in years if lo <= y <= hi]) < 2:
            raise UserError(
                f"{path}: {key}.slope: [{lo}, {hi}] holds fewer than two fitted years "
                f"({', '.join(map(str, years))}); widen it"
            )
        out.append(Statistic(kind, (lo, hi), float(item["weight"])))
    keys = [st.key() for st in out]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise UserError(f"{path}: {at}.statistics: {twice[0]} is given twice; keep one")
    if not out:
        raise UserError(f"{path}: {at}.statistics: nothing to compare; add levels")
    return tuple(out), notes


def _base_values(
    path: Path,
    scenario: str | None,
    layers: list[tuple[str, dict[str, Any]]],
    where: str,
) -> dict[str, Any]:
    """Parameters (JSON form) of a scenario with layers of overrides, checked strictly."""
    from sim.experiments import check_types, resolve_scenario
    from sim.model.params import Params
    from sim.model.scenario import load_scenario

    values: dict[str, Any] = {}
    for at, layer in layers:
        check_types(Params, layer, path, {k: f"{at}.{k}" for k in layer})
        values.update(layer)
    file = resolve_scenario(path, scenario) if scenario is not None else None
    try:
        params = load_scenario(file, values or None)
    except UserError as exc:  # name the calibration file too: the values came from it
        raise UserError(f"{path}: {where}: {exc}") from None
    if params.metrics != "full":
        raise UserError(
            f"{path}: {where}: {scenario or 'the defaults'} records the "
            f"{params.metrics!r} metric set, without the mean performance (perf_mean) a "
            "calibration fits (the classic diffusion scenarios record adoption only); "
            "use a scenario with metrics: full"
        )
    return params.model_dump(mode="json")


def _clock_conflicts(
    path: Path,
    scenario: str | None,
    scenario_key: str,
    layers: list[tuple[str, dict[str, Any]]],
    series_key: str,
    start_year: int,
) -> None:
    """Refuse a scenario or override that sets a start_year other than the series' own.

    A series' ``start_year`` is where its observations fall on the runs' clock (the
    step of each measured year, :func:`observation_steps`), and in a model selection
    every story is scored on the same dates with one distance; a story's own
    ``start_year`` would be overwritten by it, so it is refused rather than ignored. A
    story that changes at a date says so with its ``schedule:`` (docs/decisions.md,
    mends).

    Args:
        path: The calibration file.
        scenario: The scenario the runs start from (as the file names it), or None.
        scenario_key: The file's key naming that scenario (``models.<story>.scenario``).
        layers: The override layers under the series' values, as (key, values).
        series_key: The series' key (``series.<name>`` or ``observed``).
        start_year: The series' ``start_year``.

    Raises:
        UserError: naming the file, the key that sets another start_year and the fix.
    """
    from sim.experiments import resolve_scenario
    from sim.model.scenario import resolve

    said: list[tuple[str, Any]] = []
    if scenario is not None:
        file = resolve_scenario(path, scenario)
        values, _ = resolve(file)
        if "start_year" in values:
            said.append((f"{scenario_key} ({file})", values["start_year"]))
    said += [
        (f"{at}.start_year", layer["start_year"]) for at, layer in layers if "start_year" in layer
    ]
    for where, value in said:
        if not isinstance(value, int | float) or float(value) != float(start_year):
            raise UserError(
                f"{path}: {where} sets start_year: {excerpt(value)}, but "
                f"{series_key}.start_year is {start_year}, which places that series' years on "
                "the runs' clock and would overwrite it; remove start_year there (a story "
                "that changes at a date says so with schedule:) or remove "
                f"{series_key}.start_year"
            )


def prepare(path: str | Path, origin: int | None = None, horizon: int | None = None) -> Setup:
    """Load and check a calibration file, its scenarios and its series.

    Args:
        path: The calibration file.
        origin: A rolling-origin fit: every series is fitted up to this year (whatever
            its ``fit_until``), and ``horizon`` years after it are held back.
        horizon: With ``origin``: the years held back after it (default: all).

    Raises:
        UserError: naming the file, the key (or the series file's line) and the fix.
    """
    path = Path(path)
    cal = load_calibration(path)
    specs = cal.series_specs()
    many = cal.series is not None
    at_of = {n: (f"series.{n}" if many else "observed") for n in specs}
    # Read every series first (the start levels come from them).
    raw = {}
    for n, s in specs.items():
        file = _file_path(path, s.file)
        if not _exists(file):  # name the calibration file and the key, not only the path
            raise UserError(
                f"{path}: {at_of[n]}.file: no such series file {file} (a path relative to "
                "the calibration file). Fix: give the path of a series CSV, e.g. "
                "../sim/data/ks2_english_level4_england.csv"
            )
        raw[n] = read_series(file, s.unit)
    model_specs = (
        dict(cal.models)
        if cal.models is not None
        else {"model": ModelSpec(scenario=cal.scenario, overrides={}, parameters={})}
    )
    if cal.models is None and cal.repeats > 1:
        raise UserError(
            f"{path}: repeats: {cal.repeats} runs of one model; repeats is for comparing "
            "stories (models:). Run calibrate again with another seed instead"
        )
    fixed = {k: "overrides" for k in cal.overrides}
    for n, s in specs.items():
        fixed.update({k: f"{at_of[n]}.overrides" for k in s.overrides})
        if s.start_level is not None:
            fixed["init_perf_mean"] = f"{at_of[n]}.start_level"
        if s.start_year is not None:
            fixed["start_year"] = f"{at_of[n]}.start_year"
    models: dict[str, ModelSetup] = {}
    steps_of: dict[str, tuple[float, float]] = {}
    for m, mspec in model_specs.items():
        at_m = f"models.{m}" if cal.models is not None else ""
        mfixed = {**fixed, **{k: f"{at_m}.overrides" for k in mspec.overrides}}
        scenario = mspec.scenario if mspec.scenario is not None else cal.scenario
        bases = {}
        for n, s in specs.items():
            layers = [("overrides", dict(cal.overrides))]
            if at_m:
                layers.append((f"{at_m}.overrides", dict(mspec.overrides)))
            layers.append((f"{at_of[n]}.overrides", dict(s.overrides)))
            extra: dict[str, Any] = {}
            if s.start_year is not None:
                _clock_conflicts(
                    path,
                    scenario,
                    f"models.{m}.scenario" if at_m and mspec.scenario is not None else "scenario",
                    layers,
                    at_of[n],
                    s.start_year,
                )
                extra["start_year"] = float(s.start_year)
            if s.start_level is not None:
                hit = raw[n].years == s.start_level
                if not hit.any():
                    raise UserError(
                        f"{path}: {at_of[n]}.start_level: {s.start_level} is not a year of "
                        f"{raw[n].path} (it has {raw[n].years.min()} to {raw[n].years.max()})"
                    )
                extra["init_perf_mean"] = float(raw[n].values[hit][0]) / UNITS[s.unit]
            if extra:
                layers.append((f"{at_of[n]}", extra))
            where = f"{at_m + ' ' if at_m else ''}scenario and overrides" + (
                f" for series {n}" if many else ""
            )
            bases[n] = _base_values(path, scenario, layers, where.strip())
            clock = (float(bases[n]["start_year"]), float(bases[n]["dur_step"]))
            if steps_of.setdefault(n, clock) != clock:
                raise UserError(
                    f"{path}: {at_m}.scenario: its start_year or dur_step differs from the "
                    f"first model's for series {n}; every model is compared on the same "
                    "dates (set start_year and dur_step the same, or per series)"
                )
        for name in mspec.parameters:
            if name in cal.parameters:
                raise UserError(
                    f"{path}: {at_m}.parameters.{name}: already fitted in every model "
                    "under parameters:; give it once"
                )
        keys = {
            **dict.fromkeys(cal.parameters, "parameters"),
            **dict.fromkeys(mspec.parameters, f"{at_m}.parameters"),
        }
        priors, integer = _priors({**cal.parameters, **mspec.parameters}, path, keys, mfixed)
        # Both ends of every prior must make valid parameters (e.g. a phase share that
        # would push the shares past 1): refuse now, not in the middle of a generation.
        for base in bases.values():
            for name, (lo, hi) in priors.items():
                for v in (lo, hi):
                    try:
                        apply_values(base, {name: v}, integer)
                    except ValueError as exc:
                        raise UserError(
                            f"{path}: {keys[name]}.{name}: at {v:g} the parameters are "
                            f"invalid ({str(exc).splitlines()[0]}); narrow the range"
                        ) from None
        models[m] = ModelSetup(m, mspec.description, priors, integer, bases)
    parts: dict[str, SeriesSetup] = {}
    notes: list[str] = []
    for n, s in specs.items():
        at = at_of[n]
        series, left_out = _window(raw[n], s, path, at)
        start_year, dur_step = steps_of[n]
        steps = observation_steps(
            series.years, start_year, cal.start_month, s.measured_month, dur_step
        )
        cutoff = s.fit_until if origin is None else origin
        in_model = steps >= 1
        fit = in_model & (series.years <= cutoff if cutoff is not None else True)
        if origin is None:
            held = in_model & (series.years > cutoff if cutoff is not None else False)
        else:
            last = origin + horizon if horizon is not None else 10_000
            held = in_model & (series.years > origin) & (series.years <= last)
        mine = []
        label = f"{n}: " if many else ""
        if (~in_model).any():
            mine.append(
                f"{label}not fitted, measured before the model's first step: "
                + ", ".join(str(y) for y in series.years[~in_model])
            )
        if left_out:
            mine.append(f"{label}left out, outside {at}.years: {left_out}")
        if fit.sum() < 1:
            raise UserError(
                f"{path}: {at}.fit_until: no year of {series.path} is both after "
                f"the model's start and at most {cutoff}; raise fit_until or check "
                "start_month and the scenario's start_year"
            )
        years = [int(y) for y in series.years[fit]]
        stats, clipped = _statistics(s, years, path, at, origin)
        mine += [f"{label}{c}" for c in clipped]
        if cal.distance == "sd_weighted":
            if series.sd is None:
                raise UserError(
                    f"{path}: distance: sd_weighted needs an sd column in {series.path}; "
                    "add one (year,value,sd) or use distance: rmse"
                )
            if any(st.kind != "level" for st in stats):
                raise UserError(
                    f"{path}: distance: sd_weighted divides each year's residual by its sd, "
                    f"but {at}.statistics has gains or slopes; use distance: rmse"
                )
        parts[n] = SeriesSetup(
            n,
            s,
            series,
            steps,
            np.asarray(fit),
            np.asarray(held),
            cutoff,
            stats,
            f"{n}." if many else "",
            mine,
        )
        notes += mine
    return Setup(path, cal, models, parts, notes)


#: The sizes a command line may set over a calibration file's (``--population`` ...).
SIZES = ("population", "generations", "predictive", "repeats")


def resized(setup: Setup, **sizes: int | None) -> Setup:
    """A copy of the setup with the sizes given on the command line in place of the file's.

    ``setup`` itself is left as it is (a caller's setup, handed to
    :func:`sim.calibration.fit.calibrate`, stays the file's). A smaller run of the
    same file (the same data, statistics, priors and seed) costs less and says less:
    the values used are in ``summary.json`` (``calibration``) and a note names each
    change. Each value is checked against the key's bounds, as in the file.

    Raises:
        UserError: a value outside a key's bounds, or ``repeats`` for a file that
            compares no stories (naming the file, the option and the fix).
    """
    given = {k: v for k, v in sizes.items() if v is not None}
    if not given:
        return setup
    from typing import Annotated

    from pydantic import TypeAdapter

    fields = type(setup.cal).model_fields
    for key, value in given.items():
        if key not in SIZES:
            raise ValueError(f"not a size: {key}")
        if key == "repeats" and setup.cal.models is None:
            raise UserError(
                f"{setup.path}: --repeats {value}: repeats is for comparing stories "
                "(models:); leave --repeats out"
            )
        info = fields[key]
        try:
            TypeAdapter(Annotated[info.annotation, info]).validate_python(value)
        except ValidationError as exc:
            why = exc.errors()[0]["msg"].lower()
            raise UserError(
                f"{setup.path}: --{key} {value}: {why}; give a value the key {key}: accepts"
            ) from None
    notes = [
        f"{k} {v} from the command line (the file says {getattr(setup.cal, k)})"
        for k, v in given.items()
        if v != getattr(setup.cal, k)
    ]
    return replace(setup, cal=setup.cal.model_copy(update=given), notes=[*setup.notes, *notes])
