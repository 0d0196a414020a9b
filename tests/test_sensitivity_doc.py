"""docs/sensitivity.md's Sobol' tables are the shipped sobol_indices.csv, number for number.

The page's tables were typed from a sweep's analysis; when the figures are replaced (a
stopped sweep finished, a re-run on a new model) a table left behind would cite indices
the shipped csv no longer has. Every outcome and factor of the csv must appear once, at
the page's three decimals, with its clear flags, and the summary table must agree.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "sensitivity.md"
CSV = ROOT / "docs" / "figures" / "plateau_sobol" / "sobol_indices.csv"
NUM = r"(-?\d+\.\d+)"
ROW = re.compile(
    rf"^\| `([\w.]+)` \| {NUM} \+- {NUM} \| {NUM} \+- {NUM} \| {NUM} \| (S1, ST|S1|ST|neither) \|$"
)
HEAD = re.compile(r"^\*\*.+\*\* \(`(\w+)`\)$")
SUMMARY = re.compile(rf"^\| .+ \| (\d+) of (\d+) \| {NUM} \| {NUM} \| {NUM} \|$")


def _sobol_part() -> str:
    text = PAGE.read_text(encoding="utf-8")
    return text[text.index("## Sobol' indices") :]


def test_every_sobol_index_on_the_page_is_the_shipped_csvs():
    table = pd.read_csv(CSV).set_index(["outcome", "factor"])
    seen, outcome = set(), None
    for line in _sobol_part().splitlines():
        if m := HEAD.match(line):
            outcome = m.group(1)
        elif (m := ROW.match(line)) and outcome:
            factor = m.group(1)
            row = table.loc[(outcome, factor)]
            page = [float(v) for v in m.groups()[1:6]]
            csv = [row.S1, row.S1_conf, row.ST, row.ST_conf, row.noise_floor]
            assert [f"{v:.3f}" for v in page] == [f"{v:.3f}" for v in csv], (outcome, factor)
            flags = {"S1": bool(row.S1_clear), "ST": bool(row.ST_clear)}
            assert m.group(7) == (", ".join(k for k, v in flags.items() if v) or "neither")
            assert (outcome, factor) not in seen, (outcome, factor)
            seen.add((outcome, factor))
    assert seen == set(table.index), sorted(set(table.index) - seen)


def test_the_sobol_summary_table_counts_what_the_csv_says():
    table = pd.read_csv(CSV)
    expected = sorted(
        (
            int(g.ST_clear.sum()),
            len(g),
            f"{g.S1.sum():.2f}",
            f"{g.ST.sum():.2f}",
            f"{g.noise_share.iloc[0]:.2f}",
        )
        for _, g in table.groupby("outcome")
    )
    rows = [m.groups() for line in _sobol_part().splitlines() if (m := SUMMARY.match(line))]
    found = sorted((int(a), int(b), s1, st, ns) for a, b, s1, st, ns in rows)
    assert found == expected
