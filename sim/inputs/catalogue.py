"""The catalogue of real data shipped in ``sim/data/``: each file's sources and table, checked.

Every number the model is compared with, or that a cost is read from, sits in one CSV
file of ``sim/data/`` that says where it comes from. A catalogue file starts with
``# key: value`` lines, the title first and the sources next, then the table::

    # title: KS2 English test, pupils at level 4 or above, England, 1995-2010
    # source H2006: House of Commons written answer, Hansard, 4 September 2006, column 1987W, ...
    # source IND1996: The Independent, "Primary pupils boost their test results" (1996; ...)
    # unit: percent of pupils
    # kind: series
    # what: Share of pupils at the end of Key Stage 2 (age 11) in England reaching ...
    # note: The National Literacy Strategy started in schools in September 1998, ...
    year,percent_level4_or_above,source,status,note
    1995,48,IND1996,as reported in 1996,TES1996 also gives 48 for 1995
    1997,63.4,H2006,final,H2002: 63

The keys:

* ``title`` (line 1) and at least one ``source ID: text`` (from line 2): the
  publication, the table or column, the date and where it is stored. ``ID`` is a short
  name (capitals and digits, e.g. ``H2006`` for a 2006 Hansard answer) that the
  table's ``source`` column and its notes use;
* ``unit``: the unit of the values (``percent of pupils``, ``schools``...);
* ``kind``: ``series`` (one number a year: column 2 is the value, years unique and
  increasing) or ``facts`` (rows of facts as printed, years in order);
* ``what`` (optional): what the values measure; ``note`` (any number): caveats,
  conflicts between sources and choices made.

The table's first column is ``year`` (a whole year; for a financial year, the year it
starts) and it has a ``source`` column naming a declared source on every row. Every
declared source is cited somewhere (a row, the ``what`` or a ``note``). No ``#`` in
the table (pandas' ``comment="#"`` reads these files too), no comment after it starts.

The three series files of KS2 results keep ``year,percent_level4_or_above`` as their
first two columns: the calibration reads them (:func:`sim.calibration.files.read_series`
ignores the provenance columns named in :data:`PROVENANCE`).

``nextpractice data`` lists the catalogue and ``nextpractice data NAME`` prints one
file; ``docs/sources.md`` says what the model takes from it.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.errors import UserError
from sim.inputs.safe_io import excerpt, read_text

#: Columns after a series' value that describe it rather than measure it: where each
#: value comes from, whether it is final, what other sources print.
PROVENANCE = ("source", "status", "note")
#: Kinds of catalogue file.
KINDS = ("series", "facts")
#: Keys of the header lines (``source`` takes an id: ``# source H2006: ...``).
KEYS = ("title", "source", "unit", "kind", "what", "note")
_KEY = re.compile(r"#\s*([a-z]+)(?:\s+([A-Za-z0-9]+))?\s*:\s*(.*)$")
_ID = re.compile(r"[A-Z][A-Z0-9]*$")
_DATA = Path(__file__).resolve().parent.parent / "data"  # the sim package's data folder


@dataclass(frozen=True)
class DataFile:
    """One catalogue file: where its numbers come from, and its table as text.

    Attributes:
        name: The file's stem (``ks2_english_level4_england``), its name in the catalogue.
        path: The file.
        title: One line saying what it holds.
        unit: The unit of its values.
        kind: ``series`` (one value a year) or ``facts`` (rows of facts as printed).
        sources: Source id -> the publication, table or column, date and address.
        what: What the values measure (may be empty).
        notes: Caveats, conflicts and choices, one string each.
        columns: The table's column names.
        rows: The table's cells as text, one tuple per row.
    """

    name: str
    path: Path
    title: str
    unit: str
    kind: str
    sources: dict[str, str]
    what: str
    notes: tuple[str, ...]
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    @property
    def years(self) -> np.ndarray:
        """The year of each row."""
        return np.array([int(r[0]) for r in self.rows], dtype=np.int64)

    @property
    def value_column(self) -> str:
        """The column holding a series' values (the second); a facts file has none."""
        if self.kind != "series":
            raise ValueError(f"{self.name} is a facts file: it has no value column")
        return self.columns[1]

    @property
    def values(self) -> np.ndarray:
        """A series' values, one per year."""
        self.value_column  # noqa: B018 (refuses a facts file)
        return np.array([float(r[1]) for r in self.rows])

    def column(self, name: str) -> list[str]:
        """One column's cells as text."""
        return [r[self.columns.index(name)] for r in self.rows]

    def value(self, year: int) -> float:
        """A series' value in ``year`` (KeyError if the year is not in the file)."""
        hit = np.flatnonzero(self.years == year)
        if self.kind != "series" or len(hit) == 0:
            raise KeyError(f"{self.name} has no value for {year}")
        return float(self.values[hit[0]])

    def source_of(self, row: int) -> str:
        """The full text of the source of table row ``row`` (0-based)."""
        return self.sources[self.rows[row][self.columns.index("source")]]

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame: years as integers, a series' values as floats."""
        out = pd.DataFrame(list(self.rows), columns=list(self.columns))
        out["year"] = self.years
        if self.kind == "series":
            out[self.value_column] = self.values
        return out

    def main_source(self) -> str:
        """The id of the source most rows come from (the first declared on a tie)."""
        counts = {sid: 0 for sid in self.sources}
        for sid in self.column("source"):
            counts[sid] += 1
        return max(counts, key=lambda s: counts[s])  # max keeps the first of equals


def _refuse(path: Path, line: int | None, problem: str) -> UserError:
    where = f"{path}: line {line}" if line else str(path)
    return UserError(f"{where}: {problem}")


def _header(path: Path, lines: list[str]) -> tuple[dict, int]:
    """The ``# key: value`` lines at the top; returns them and the table header's index."""
    meta: dict = {"sources": {}, "notes": []}
    i = 0
    while i < len(lines) and lines[i].lstrip().startswith("#"):
        no, text = i + 1, lines[i].strip()
        m = _KEY.match(text)
        if m is None or m.group(1) not in KEYS:
            raise _refuse(
                path,
                no,
                f"{excerpt(text)} is not a header line; write '# key: value' with a key "
                f"among {', '.join(KEYS)} ('# source ID: publication, table, date')",
            )
        key, sid, value = m.group(1), m.group(2), m.group(3).strip()
        if not value:
            raise _refuse(path, no, f"'{key}' has no text after the colon; write what it is")
        if (key == "source") != (sid is not None):
            raise _refuse(
                path,
                no,
                "only a source line takes an id: '# source H2006: Hansard, 4 September 2006, ...'"
                if key != "source"
                else "a source line needs an id: '# source H2006: Hansard, 4 September 2006, ...'",
            )
        if key == "source":
            if not _ID.match(sid):
                raise _refuse(
                    path, no, f"source id {sid!r} must be capitals and digits, e.g. H2006"
                )
            if sid in meta["sources"]:
                raise _refuse(path, no, f"source {sid} is declared twice; keep one line")
            meta["sources"][sid] = value
        elif key == "note":
            meta["notes"].append(value)
        elif key in meta:
            raise _refuse(path, no, f"'{key}' appears twice; keep one line")
        else:
            meta[key] = value
        if no == 1 and key != "title":
            raise _refuse(path, no, "line 1 must be '# title: what the file holds'")
        if no == 2 and key != "source":
            raise _refuse(
                path, no, "line 2 must be a source: '# source ID: publication, table, date'"
            )
        i += 1
    if i == 0:
        raise _refuse(
            path,
            1,
            "no header: a catalogue file starts with '# title: ...' and "
            "'# source ID: publication, table or column, date'",
        )
    if not meta["sources"]:
        raise _refuse(
            path, None, "no source line; add '# source ID: publication, table or column, date'"
        )
    for key in ("unit", "kind"):
        if key not in meta:
            raise _refuse(path, None, f"no '# {key}:' line; add one to the header")
    if meta["kind"] not in KINDS:
        raise _refuse(path, None, f"kind {meta['kind']!r} must be one of {', '.join(KINDS)}")
    return meta, i


def _cells(path: Path, no: int, line: str) -> list[str]:
    try:
        return [c.strip() for c in next(csv.reader([line], strict=True))]
    except csv.Error as exc:
        raise _refuse(path, no, f"not a CSV line ({exc}); check its quotes") from None


def parse(text: str, path: Path) -> DataFile:
    """Check a catalogue file's text (module docstring) and return it as a :class:`DataFile`.

    Raises:
        UserError: One line naming the file, the line and the fix.
    """
    lines = text.splitlines()
    meta, start = _header(path, lines)
    body = [(start + k + 1, line) for k, line in enumerate(lines[start:]) if line.strip()]
    if not body:
        raise _refuse(path, None, "a header but no table; add 'year,...' and one line a row")
    head_no, head_line = body[0]
    columns = _cells(path, head_no, head_line)
    if columns[0] != "year" or "source" not in columns:
        raise _refuse(
            path, head_no, "the table's header must start with 'year' and have a 'source' column"
        )
    if "" in columns or len(set(columns)) != len(columns):
        raise _refuse(path, head_no, "every column needs a name of its own")
    kind = meta["kind"]
    if kind == "series" and (len(columns) < 3 or columns[1] in PROVENANCE):
        raise _refuse(
            path, head_no, "a series has 'year', then its value column, then a 'source' column"
        )
    rows: list[tuple[str, ...]] = []
    last = -math.inf
    src = columns.index("source")
    for no, line in body[1:]:
        if line.lstrip().startswith("#"):
            raise _refuse(path, no, "a comment inside the table; move it to a '# note:' line")
        if "#" in line:
            raise _refuse(path, no, "'#' in the table (pandas reads it as a comment); reword it")
        cells = _cells(path, no, line)
        if len(cells) != len(columns):
            raise _refuse(
                path, no, f"{len(cells)} cells, the header has {len(columns)} ({head_line})"
            )
        try:
            year = int(cells[0])
        except ValueError:
            raise _refuse(
                path, no, f"year {excerpt(cells[0])} is not a whole year, e.g. 1999"
            ) from None
        if not 1800 <= year <= 2200:
            raise _refuse(path, no, f"year {year} is not between 1800 and 2200")
        if year < last or (kind == "series" and year == last):
            order = "increasing, once each" if kind == "series" else "in order"
            raise _refuse(path, no, f"year {year} after {last}; a {kind}'s years are {order}")
        last = year
        if cells[src] not in meta["sources"]:
            raise _refuse(
                path,
                no,
                f"source {excerpt(cells[src])} is not declared; add '# source "
                f"{cells[src] or 'ID'}: ...' or use one of {', '.join(meta['sources'])}",
            )
        if kind == "series":
            try:
                value = float(cells[1])
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise _refuse(path, no, f"value {excerpt(cells[1])} is not a finite number")
        rows.append(tuple(cells))
    if not rows:
        raise _refuse(path, None, "the table has a header but no rows")
    used = " ".join([*(" ".join(r) for r in rows), meta.get("what", ""), *meta["notes"]])
    unused = [s for s in meta["sources"] if not re.search(rf"\b{s}\b", used)]
    if unused:
        raise _refuse(
            path,
            None,
            f"source {unused[0]} is declared but neither a row nor a note cites it; cite it "
            "or drop it",
        )
    return DataFile(
        name=path.stem,
        path=path,
        title=meta["title"],
        unit=meta["unit"],
        kind=kind,
        sources=dict(meta["sources"]),
        what=meta.get("what", ""),
        notes=tuple(meta["notes"]),
        columns=tuple(columns),
        rows=tuple(rows),
    )


def read(path: str | Path) -> DataFile:
    """Read and check one catalogue file (format in the module docstring).

    Raises:
        UserError: Missing, unreadable or not UTF-8, or any broken rule of the format.
    """
    path = Path(path)
    return parse(read_text(path, "data"), path)


def folder() -> Path:
    """The folder of the shipped data files (``sim/data``, in a checkout or installed)."""
    return _DATA


def names() -> list[str]:
    """The name of every shipped data file, sorted."""
    return sorted(p.stem for p in _DATA.glob("*.csv"))


def load(name: str) -> DataFile:
    """The shipped data file called ``name`` (with or without ``.csv``).

    Raises:
        UserError: No such file (the message lists the names), or a broken file.
    """
    stem = name.removesuffix(".csv")
    if stem not in names():
        import difflib

        near = difflib.get_close_matches(stem, names(), n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise UserError(
            f"no data called {excerpt(name)}{hint}; `nextpractice data` lists the "
            f"catalogue: {', '.join(names())}"
        )
    return read(_DATA / f"{stem}.csv")


def catalogue() -> list[DataFile]:
    """Every shipped data file, read and checked, sorted by name."""
    return [load(n) for n in names()]


def year_span(years: np.ndarray) -> str:
    """Years as runs: ``1995-2010``, or ``1998-2002, 2005-2009`` where some are missing."""
    ys = sorted({int(y) for y in years})
    if not ys:
        return ""
    runs, first, prev = [], ys[0], ys[0]
    for y in [*ys[1:], None]:
        if y is not None and y == prev + 1:
            prev = y
            continue
        runs.append(str(first) if first == prev else f"{first}-{prev}")
        if y is not None:
            first = prev = y
    return ", ".join(runs)
