"""The calibration file and the observed series: read, checked, and turned into a :class:`Setup`."""

from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.calibration.simulate import apply_values
from sim.core.errors import UserError
from sim.inputs.catalogue import PROVENANCE
from sim.inputs.safe_io import excerpt, read_text, read_yaml_file

UNITS = {"percent": 100.0, "share": 1.0}
#: A year in a series file: four digits (not ``2e3``, ``1999.0`` or ``1_999``).
_YEAR = re.compile(r"[0-9]{4}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ObservedSpec(_Strict):
    """The observed series and how its dates map to model steps."""

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


class PriorSpec(_Strict):
    """The prior of one fitted parameter: uniform over ``range``."""

    range: list[float] | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="[low, high] of the uniform prior; default: the declared sweep range.",
        json_schema_extra={"fix": "write range: [low, high] with low < high"},
    )


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
    observed: ObservedSpec
    parameters: dict[str, PriorSpec | None] = Field(
        min_length=1, description="Parameters to fit; each prior defaults to its sweep range."
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


def read_series(path: str | Path, unit: str = "percent") -> Series:
    """Read an observed series file (format in the module docstring).

    Raises:
        UserError: naming the file, the line and what to fix.
    """
    path = Path(path)
    if unit not in UNITS:
        raise UserError(f"{path}: unit must be one of {', '.join(UNITS)} (got {unit!r})")
    try:
        exists = os.path.lexists(path)
    except ValueError:  # a NUL byte in the name
        exists = True  # the reader says what is wrong with it
    if not exists:
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
    cal: Calibration, where: Path
) -> tuple[dict[str, tuple[float, float]], tuple[str, ...]]:
    """Each fitted parameter's uniform prior: its range, or its declared sweep range."""
    from sim.core.registry import key_hint
    from sim.model.params import Params, factors, field_info

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
        b_lo, b_hi = info.get("lo"), info.get("hi")
        if (b_lo is not None and lo < b_lo) or (b_hi is not None and hi > b_hi):
            raise UserError(
                f"{where}: {key}.range: [{lo:g}, {hi:g}] goes outside the allowed "
                f"values of {name} ([{b_lo}, {b_hi}]); narrow the range"
            )
        if name in cal.overrides:
            raise UserError(
                f"{where}: {key}: {name!r} is also fixed under overrides:; "
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


def prepare(path: str | Path) -> Setup:
    """Load and check a calibration file, its scenario and its series.

    Raises:
        UserError: naming the file, the key (or the series file's line) and the fix.
    """
    from sim.experiments import check_types, resolve_scenario
    from sim.model.params import Params
    from sim.model.scenario import load_scenario

    path = Path(path)
    cal = load_calibration(path)
    # Strict like a scenario file ("0.5" is text), named by the calibration file's key.
    check_types(Params, cal.overrides, path, {k: f"overrides.{k}" for k in cal.overrides})
    scenario = resolve_scenario(path, cal.scenario) if cal.scenario is not None else None
    try:
        params = load_scenario(scenario, dict(cal.overrides) or None)
    except UserError as exc:  # name the calibration file too: the values came from it
        raise UserError(f"{path}: scenario and overrides: {exc}") from None
    if params.metrics != "full":
        raise UserError(
            f"{path}: scenario: {cal.scenario or 'the defaults'} records the "
            f"{params.metrics!r} metric set, without the mean performance (perf_mean) a "
            "calibration fits (the classic diffusion scenarios record adoption only); "
            "use a scenario with metrics: full"
        )
    priors, integer = _priors(cal, path)
    base = params.model_dump(mode="json")
    # Both ends of every prior must make valid parameters (e.g. a phase share that
    # would push the shares past 1): refuse now, not in the middle of a generation.
    for name, (lo, hi) in priors.items():
        for v in (lo, hi):
            try:
                apply_values(base, {name: v}, integer)
            except ValueError as exc:
                raise UserError(
                    f"{path}: parameters.{name}: at {v:g} the parameters are "
                    f"invalid ({str(exc).splitlines()[0]}); narrow the range"
                ) from None
    series_path = path.parent / cal.observed.file
    if not series_path.is_file() and Path(cal.observed.file).is_file():
        series_path = Path(cal.observed.file)
    series = read_series(series_path, cal.observed.unit)
    left_out = ""
    if cal.observed.years is not None:
        first, last = cal.observed.years
        if first > last:
            raise UserError(
                f"{path}: observed.years: first year {first} is after last year {last}; "
                "write [first, last]"
            )
        keep = (series.years >= first) & (series.years <= last)
        if not keep.any():
            raise UserError(
                f"{path}: observed.years: no year of {series_path} is in [{first}, {last}] "
                f"(it has {series.years.min()} to {series.years.max()})"
            )
        left_out = ", ".join(str(y) for y in series.years[~keep])
        series = Series(
            series.path,
            series.name,
            series.unit,
            series.years[keep],
            series.values[keep],
            series.sd[keep] if series.sd is not None else None,
        )
    steps = observation_steps(
        series.years,
        params.start_year,
        cal.start_month,
        cal.observed.measured_month,
        params.dur_step,
    )
    cutoff = cal.observed.fit_until
    in_model = steps >= 1
    fit = in_model & (series.years <= cutoff if cutoff is not None else True)
    held = in_model & (series.years > cutoff if cutoff is not None else False)
    notes = []
    if (~in_model).any():
        notes.append(
            "not fitted, measured before the model's first step: "
            + ", ".join(str(y) for y in series.years[~in_model])
        )
    if left_out:
        notes.append(f"left out, outside observed.years: {left_out}")
    if fit.sum() < 1:
        raise UserError(
            f"{path}: observed.fit_until: no year of {series_path} is both after "
            f"the model's start and at most {cutoff}; raise fit_until or check "
            "start_month and the scenario's start_year"
        )
    if cal.distance == "sd_weighted" and series.sd is None:
        raise UserError(
            f"{path}: distance: sd_weighted needs an sd column in {series_path}; "
            "add one (year,value,sd) or use distance: rmse"
        )
    return Setup(
        path, cal, base, priors, integer, series, steps, np.asarray(fit), np.asarray(held), notes
    )
