"""A scenario's schedule: live parameters that change at dates during a run.

A story of a real system is often "this policy, then that one from a date": England's
National Literacy Strategy from September 1998, its loosening under "Excellence and
Enjoyment" (DfES, May 2003), system leadership from 2006. A scenario file writes such a
story as a ``schedule:``, a list of entries, each naming one date and the values that
change then::

    schedule:
      - month: 56                # months after the run's start (May 2003 from September 1998)
        set: {tightness: 0.4}
      - year: 2006               # on the results' year axis: start_year + months / 12
        set: {strategy: next_practice, lever_engagement: 0.7}

An entry gives ``month`` (months after step 0) or ``year`` (the same clock as the
``year`` column of every results table, ``start_year`` plus months over twelve), never
both, and ``set``: live parameters only (those a trainer may change during a run:
``nextpractice params`` marks them ``live``), each with a value its parameter accepts.
The change is made at the start of the step nearest that date, before any rule of that
step runs, through the same path a trainer's change takes
(:meth:`sim.model.model.NextPracticeModel.set_control`), so it is noted as a control
event and acts from that step. Two entries may not set the same parameter at the same
step. A date before the run's start is refused; one after its last step never acts.

Everything is checked when the scenario is read (:func:`check_schedule`), with one line
naming the entry, the key and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

#: Keys of one schedule entry.
ENTRY_KEYS = ("month", "year", "set")


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _at(i: int, key: str | None = None) -> str:
    return f"schedule[{i}]" + (f".{key}" if key else "")


def check_entry_shape(i: int, entry: Any, live: Sequence[str]) -> dict[str, Any]:
    """One entry's keys and date, checked; returns it as a plain dict (values unchecked).

    Raises:
        ValueError: one line naming ``schedule[i]`` and the fix.
    """
    example = "{month: 56, set: {tightness: 0.4}}"
    if not isinstance(entry, Mapping):
        raise ValueError(
            f"{_at(i)}: an entry is a mapping such as {example} (got {type(entry).__name__})"
        )
    unknown = [k for k in entry if k not in ENTRY_KEYS]
    if unknown:
        raise ValueError(
            f"{_at(i)}: unknown key {str(unknown[0])[:40]!r}; an entry has month or year, "
            f"and set, e.g. {example}"
        )
    dates = [k for k in ("month", "year") if k in entry]
    if len(dates) != 1:
        raise ValueError(
            f"{_at(i)}: give exactly one of month (months after the start) or year (on the "
            f"results' year axis){'; not both' if len(dates) == 2 else ''}, e.g. {example}"
        )
    when = entry[dates[0]]
    if not _number(when):
        raise ValueError(
            f"{_at(i, dates[0])}: {str(when)[:40]!r} is not a number; write e.g. "
            f"{dates[0]}: {56 if dates[0] == 'month' else 2003}"
        )
    if dates[0] == "month" and when < 0:
        raise ValueError(f"{_at(i, 'month')}: {when} is before the run's start; give 0 or more")
    changes = entry.get("set")
    if not isinstance(changes, Mapping) or not changes:
        raise ValueError(
            f"{_at(i, 'set')}: give the live parameters that change and their new values, "
            "e.g. set: {tightness: 0.4}"
        )
    for key in changes:
        if key not in live:
            raise ValueError(
                f"{_at(i, 'set')}: {str(key)[:60]!r} cannot change during a run; a schedule "
                f"sets live parameters only: {', '.join(live)}"
            )
    return {dates[0]: when, "set": dict(changes)}


def entry_step(entry: Mapping[str, Any], start_year: float, dur_step: float) -> int:
    """The step at whose start an entry acts: the step nearest its date."""
    months = entry["month"] if "month" in entry else (entry["year"] - start_year) * 12.0
    return int(round(months / dur_step))


def check_schedule(
    schedule: Sequence[Mapping[str, Any]], start_year: float, dur_step: float
) -> dict[int, list[tuple[str, Any]]]:
    """The checked schedule by step: step -> [(name, value), ...] in the file's order.

    Args:
        schedule: the entries (each already through :func:`check_entry_shape`).
        start_year: the run's ``start_year`` (for ``year:`` entries).
        dur_step: months a step lasts.

    Raises:
        ValueError: a date before the start, or one parameter set twice at one step.
    """
    by_step: dict[int, list[tuple[str, Any]]] = {}
    first: dict[tuple[int, str], int] = {}
    for i, entry in enumerate(schedule):
        step = entry_step(entry, start_year, dur_step)
        if step < 0:
            raise ValueError(
                f"{_at(i, 'year')}: {entry['year']} is before the run's start_year "
                f"({start_year:g}); give a year of {start_year:g} or later"
            )
        for name, value in entry["set"].items():
            if (step, name) in first:
                raise ValueError(
                    f"{_at(i, 'set')}.{name}: {_at(first[step, name])} already sets it at "
                    f"step {step}; keep one of the two"
                )
            first[step, name] = i
            by_step.setdefault(step, []).append((name, value))
    return by_step
