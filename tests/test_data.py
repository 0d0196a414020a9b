"""The catalogue of real data (sim/data, issue 29): every file says where its numbers come
from, and every number is the one its source prints (pinned here: a changed file fails)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.core.errors import UserError
from sim.inputs import catalogue
from sim.inputs.catalogue import parse, year_span

DATA = Path(__file__).resolve().parent.parent / "sim" / "data"

# ------------------------------------------------------------------ the values, pinned
#: Series: year -> value, exactly as the chosen source prints it (quotes in
#: /work/research/data/README.md; the source of each row is in the file).
SERIES = {
    "ks2_english_level4_england": {
        1995: 48, 1996: 58, 1997: 63.4, 1998: 64.8, 1999: 70.5, 2000: 74.8, 2001: 75.0,
        2002: 74.6, 2003: 75.3, 2004: 77.5, 2005: 79.0, 2006: 79, 2007: 80, 2008: 81,
        2009: 80, 2010: 80,
    },
    "ks2_maths_level4_england": {
        1995: 44, 1996: 54, 1997: 62.1, 1998: 58.7, 1999: 69.0, 2000: 71.6, 2001: 70.6,
        2002: 73.2, 2003: 72.5, 2004: 74.0, 2005: 75.1, 2006: 76, 2007: 77, 2008: 79,
        2009: 79, 2010: 79,
    },
    "ks2_science_level4_england": {
        1995: 70, 1996: 62, 1997: 69, 1998: 69, 1999: 78, 2000: 85, 2001: 87, 2002: 86,
        2003: 87, 2004: 86, 2005: 86, 2006: 87, 2007: 88, 2008: 88, 2009: 88,
    },
    "ks2_english_and_maths_level4_england": {2007: 71, 2008: 73, 2009: 72.0, 2010: 73.5},
    "ks2_schools_all_pupils_level4_england": {
        1998: 27, 1999: 102, 2000: 148, 2001: 179, 2002: 178, 2005: 229, 2006: 209,
        2007: 255, 2008: 329, 2009: 268,
    },
    "primary_funding_per_pupil_england": {
        1997: 2480, 1998: 2580, 1999: 2750, 2000: 2990, 2001: 3160, 2002: 3250, 2003: 3450,
        2004: 3550, 2005: 3770,
    },
}  # fmt: skip

#: The source of each series row (the 1997-2005 English and maths values are one table).
SERIES_SOURCES = {
    "ks2_english_level4_england": ["IND1996", "H1997", *["H2006"] * 9, "GUA2006D", "BBC2007D",
                                   "SFR2008F", "DCSF2009F", "DFE2012"],
    "ks2_maths_level4_england": ["IND1996", "IND1996", *["H2006"] * 9, "GUA2006D", "BBC2007D",
                                 "SFR2008F", "BBC2009D", "DFE2012"],
    "ks2_english_and_maths_level4_england": ["SFR2008F", "SFR2008F", "SFR2010C", "SFR2010C"],
    "ks2_science_level4_england": ["IND1996", "IND1996", "H2002", "H2002", "H2002", "H2002",
                                   "H2003", "H2003", "BBC2003", "TES2004", "BBC2005D",
                                   "GUA2006D", "BBC2007D", "SFR2008F", "BBC2009D"],
}  # fmt: skip

#: Facts files: for each row (year, the columns named, as printed).
FACTS = {
    "ks2_schools_below_floor_england": (
        ("schools_below", "share_percent", "source"),
        [
            (2008, "1,359", "", "BBC2009D"), (2009, "1,472", "", "BBC2009D"),
            (2009, "1,631", "", "IND2010"), (2010, "962", "", "IND2010"),
            (2011, "1,310", "9", "GUA2011"), (2012, "476", "", "TES2012"),
            (2012, "834", "", "GUA2013"), (2013, "767", "more than 4", "GUA2013"),
            (2014, "768", "6", "SFR2015R"), (2015, "676", "5", "SFR2015R"),
        ],
    ),
    "ks2_schools_below_65pct_england": (
        ("subject", "share_of_schools_as_printed"),
        [
            (1997, "English", "just under half"), (1997, "mathematics", "nearly half"),
            (2006, "English", "one in eight"), (2006, "mathematics", "fewer than one in five"),
        ],
    ),
    "ks2_schools_below_national_1998_england": (
        ("subject", "national_percent_level4", "schools_below", "percent_of_schools",
         "schools_below_in_action_zones", "action_zone_percent"),
        [
            (1998, "English", "65", "6,520", "44", "230", "4"),
            (1998, "Reading", "71", "6,150", "42", "220", "4"),
            (1998, "Writing", "53", "7,180", "49", "230", "3"),
            (1998, "Mathematics", "59", "6,770", "46", "230", "3"),
        ],
    ),
    "ks2_school_spread_facts_england": (
        ("value_as_printed", "source"),
        [
            (2003, "9.7 per cent", "H2004J"), (2005, "66-88 / 63-86 / 76-96", "BBC2005A"),
            (2005, "267 to 209", "BBC2005D"), (2005, "57", "BBC2005D"),
            (2005, "53% / 45%", "BBC2005D"), (2007, "3,655", "H2008"),
            (2007, "54% / 2% / 44%", "BBC2007D"), (2008, "798", "BBC2009A"),
            (2009, "885", "GUA2009D"), (2009, "54", "GUA2009D"),
            (2009, "6,084 (47%) / 308 (2%) / 6,632 (51%)", "BBC2009E"), (2012, "502", "IND2012"),
            (2015, "over 2,200", "FT2015"),
        ],
    ),
    "ks2_level4_best_results_england": (
        ("best_percent_level4", "source"),
        [
            (2007, "88", "SFR2008F"), (2008, "81", "SFR2008F"), (2008, "79", "SFR2008F"),
            (2010, "81", "TIMES2010"), (2011, "82", "DFE2012"), (2012, "85", "DFE2012"),
            (2015, "87", "SFR2015R"), (2015, "89", "SFR2015R"), (2015, "87", "SFR2015R"),
            (2015, "80", "SFR2015R"),
        ],
    ),
    "national_strategies_spending_england": (
        ("period", "gbp_million", "source"),
        [
            (1998, "1998-99", "59", "H1998L"), (1998, "1998-99", "62.7", "H2007N"),
            (1999, "1999-2000", "72.8", "H2007N"), (2000, "2000-01", "84.5", "H2007N"),
            (2001, "2001-02", "102.6", "H2007N"), (2002, "2002-03", "101.2", "H2007N"),
            (2003, "2003-04", "107.4", "H2007N"), (2003, "2003-04", "211.9", "H2004F"),
            (2003, "2003-04", "218.9", "H2004F"), (2004, "2004-05", "131", "H2007N"),
            (2005, "2005-06", "185", "H2007N"), (2005, "2005-06 to 2007-08", "10", "H2007N"),
            (2006, "2006-07", "198", "H2007N"), (2007, "2007-08", "206.5", "H2007N"),
            (2007, "2007-08", "469", "H2009J"), (2007, "2007-08", "377", "H2009J"),
            (2007, "2007-08", "92", "H2009J"), (2008, "2008-09", "471", "H2009J"),
            (2008, "2008-09", "306", "H2009J"), (2008, "2008-09", "60", "H2009J"),
            (2008, "2008-09", "195.8", "H2009L"), (2008, "2008-09", "109.5", "H2009L"),
            (2009, "2009-10", "207.4", "H2009L"), (2009, "2009-10", "106.3", "H2009L"),
            (2009, "2009-10", "390", "H2009O"),
        ],
    ),
    "school_improvement_spending_england": (
        ("value", "unit", "source"),
        [
            (2002, "24,700", "GBP a year", "BBC2002B"), (2002, "not collected", "", "H2002D"),
            (2002, "59.8", "GBP million", "TES2003"), (2003, "85", "GBP million", "TES2003"),
            (2005, "10 to 20", "days a year", "TES2005S"),
            (2005, "2,000", "GBP flat fee", "TES2005S"),
            (2006, "200", "GBP per pupil a year", "DM2006"),
            (2006, "50,000", "GBP a year", "DM2006"), (2007, "15,803,938", "GBP", "H2007S"),
            (2007, "7,651,200", "GBP", "H2007S"), (2007, "111,012", "GBP thousand", "H2008N"),
            (2007, "92,073", "GBP thousand", "H2008N"),
            (2008, "400", "GBP million over three years", "DCSF2008NC"),
            (2009, "36.3", "percent", "IFS2015"),
            (2010, "26", "percent over four years", "LGC2010"),
            (2015, "700", "GBP a day", "NA2015"), (2015, "420", "GBP a day", "NA2015"),
        ],
    ),
    "ks2_cohort_size_england": (
        ("band", "schools", "pupils", "source"),
        [
            (1997, "all", "18,392", "4,429,040", "H2008C"),
            (1997, "more than 800 pupils on roll", "11", "9,270", "H2008C"),
            (1997, "fewer than 300 pupils on roll", "14,182", "", "CL2008"),
            (1997, "more than 400 pupils on roll", "1,450", "", "CL2008"),
            (2008, "all", "17,205", "4,087,790", "H2008C"),
            (2008, "more than 800 pupils on roll", "18", "15,760", "H2008C"),
            (2008, "fewer than 100 pupils on roll", "2,605", "", "BBC2008R"),
            (2008, "fewer than 300 pupils on roll", "12,975", "", "CL2008"),
            (2008, "more than 400 pupils on roll", "1,886", "", "CL2008"),
            (2009, "all", "14,759", "", "BBC2009E"),
            (2009, "11 or more eligible pupils", "13,532", "", "BBC2009E"),
            (2011, "6 to 10 pupils", "about 1,000", "", "TES2011T"),
            (2022, "1 to 15 pupils", "2,029", "19,910", "DFE2022C"),
            (2022, "16 to 30 pupils", "4,742", "116,134", "DFE2022C"),
            (2022, "31 to 60 pupils", "5,884", "268,681", "DFE2022C"),
            (2022, "61 to 90 pupils", "2,045", "145,830", "DFE2022C"),
            (2022, "91 or more pupils", "636", "68,565", "DFE2022C"),
        ],
    ),
    "schools_count_england": (
        ("value", "source"),
        [
            (2005, "609.6 thousand", "H2006"), (2009, "15,610", "H2009S"),
            (2009, "14,759", "BBC2009E"), (2012, "4.2 million", "SFR2012"),
            (2013, "nearly 17,000", "GUA2013"), (2014, "16,787", "OFSTED2014"),
            (2014, "3,372", "OFSTED2014"), (2014, "1,039", "OFSTED2014"),
            (2014, "412", "OFSTED2014"), (2015, "16,778", "DFE2016"), (2015, "3,401", "DFE2016"),
            (2015, "1,326", "DFE2016"), (2015, "406", "DFE2016"), (2015, "21,911", "DFE2016"),
        ],
    ),
}  # fmt: skip


def test_the_catalogue_is_exactly_the_files_pinned_here():
    assert catalogue.names() == sorted([*SERIES, *FACTS])
    assert sorted(p.stem for p in DATA.glob("*.csv")) == catalogue.names()


@pytest.mark.parametrize("name", sorted(SERIES))
def test_every_series_value_is_the_sources(name):
    f = catalogue.load(name)
    assert f.kind == "series"
    assert dict(zip(f.years.tolist(), f.values.tolist(), strict=True)) == SERIES[name]
    if name in SERIES_SOURCES:
        assert f.column("source") == SERIES_SOURCES[name]


@pytest.mark.parametrize("name", sorted(FACTS))
def test_every_fact_is_the_sources(name):
    f = catalogue.load(name)
    columns, rows = FACTS[name]
    assert f.kind == "facts"
    got = [(int(r[0]), *(r[f.columns.index(c)] for c in columns)) for r in f.rows]
    assert got == rows


def test_the_english_file_keeps_the_calibrations_columns_and_1997_to_2005():
    """Calibration files and tests read it: the values they were made with are unchanged."""
    f = catalogue.load("ks2_english_level4_england")
    assert f.columns[:2] == ("year", "percent_level4_or_above")
    old = [63.4, 64.8, 70.5, 74.8, 75.0, 74.6, 75.3, 77.5, 79.0]  # Hansard 4 Sep 2006 c1987W
    assert [f.value(y) for y in range(1997, 2006)] == old
    text = f.path.read_text()
    assert "column 1987W" in text.splitlines()[1]  # the source on the first lines


@pytest.mark.parametrize("name", catalogue.names())
def test_every_file_starts_with_its_title_and_sources(name):
    lines = (DATA / f"{name}.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# title: ")
    assert re.match(r"# source [A-Z][A-Z0-9]*: .+\d{4}", lines[1])  # a publication with a date
    f = catalogue.load(name)
    for sid, text in f.sources.items():
        assert re.search(r"(1[89]|20)\d\d", text), (sid, "no date")
        assert "." in text and len(text) > 40, (sid, "no publication or address")
    # Every id a note or quote cites is declared in the header.
    cited = set(re.findall(r"\b[A-Z][A-Z]*[0-9]{4}[A-Z]*\b", " ".join(" ".join(r) for r in f.rows)))
    assert cited <= set(f.sources), cited - set(f.sources)


@pytest.mark.parametrize("name", catalogue.names())
def test_pandas_reads_every_file_as_the_catalogue_does(name):
    """Scripts and the notebooks read these with pandas' comment="#"; they must agree."""
    f = catalogue.load(name)
    df = pd.read_csv(DATA / f"{name}.csv", comment="#", dtype=str, keep_default_na=False)
    assert list(df.columns) == list(f.columns)
    assert [tuple(r) for r in df.itertuples(index=False)] == list(f.rows)
    pd.testing.assert_series_equal(f.frame()["year"], df["year"].astype(np.int64))


def test_the_series_are_what_the_issue_asks_for():
    for name in ("ks2_english_level4_england", "ks2_maths_level4_england"):
        assert catalogue.load(name).years.tolist() == list(range(1995, 2011))
    science = catalogue.load("ks2_science_level4_england")
    assert science.years.tolist() == list(range(1995, 2010))  # no statutory test in 2010
    assert "sampling test" in " ".join(science.notes)


def test_year_spans_read_as_runs():
    assert year_span(np.array([1995, 1996, 1997])) == "1995-1997"
    assert year_span(np.array([2009, 1998, 1999, 2005, 2006, 2009])) == "1998-1999, 2005-2006, 2009"
    assert year_span(np.array([2003])) == "2003" and year_span(np.array([])) == ""


# ------------------------------------------------------------------ the command
def test_data_lists_every_file_with_its_years_unit_and_source(capsys):
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    for f in catalogue.catalogue():
        block = out.split(f"\n{f.name}\n", 1)[1].split("\n\n", 1)[0]
        assert year_span(f.years) in block and f.unit in block
        assert f.sources[f.main_source()] in block


def test_data_name_prints_the_table_with_every_source(capsys):
    assert main(["data", "ks2_maths_level4_england"]) == 0
    out = capsys.readouterr().out
    f = catalogue.load("ks2_maths_level4_england")
    for sid, text in f.sources.items():
        assert f"{sid}: {text}" in out
    assert re.search(r"^1998\s+58\.7\s+H2006\s+final", out, re.M)
    assert main(["data", "ks2_maths_level4_england.csv", "--csv"]) == 0
    assert capsys.readouterr().out == f.path.read_text(encoding="utf-8")


def test_an_unknown_name_is_one_line_with_the_names(capsys):
    assert main(["data", "ks2_english"]) == 2
    err = capsys.readouterr().err
    assert "ks2_english_level4_england" in err and err.count("\n") == 1


# ------------------------------------------------------------------ bad files refused
GOOD = """# title: A series
# source H2006: Hansard, 4 September 2006, column 1987W, table "National"
# unit: percent of pupils
# kind: series
# note: a caveat
year,percent,source,note
1997,63.4,H2006,
1998,64.8,H2006,H2006 again
"""


def _refused(text: str, tmp_path: Path) -> str:
    path = tmp_path / "bad.csv"
    with pytest.raises(UserError) as err:
        parse(text, path)
    msg = str(err.value)
    assert str(path) in msg and "\n" not in msg
    return msg


def test_a_good_file_reads(tmp_path):
    f = parse(GOOD, tmp_path / "good.csv")
    assert f.name == "good" and f.sources == {
        "H2006": 'Hansard, 4 September 2006, column 1987W, table "National"'
    }
    assert f.values.tolist() == [63.4, 64.8] and f.notes == ("a caveat",)
    assert f.source_of(1).startswith("Hansard")


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda t: t.replace("# source H2006:", "# note:"), "line 2 must be a source"),
        (lambda t: "\n".join(t.splitlines()[2:]), "line 1 must be '# title"),
        (lambda t: "\n".join(t.splitlines()[5:]), "no header"),
        (lambda t: t.replace("# title: A series", "# title:"), "no text after the colon"),
        (lambda t: t.replace("# unit: percent of pupils\n", ""), "no '# unit:' line"),
        (lambda t: t.replace("kind: series", "kind: table"), "must be one of series, facts"),
        (lambda t: t.replace("# note:", "# caveat:"), "not a header line"),
        (lambda t: t.replace("# note:", "# source X1:"), "neither a row nor a note cites it"),
        (lambda t: t.replace("source H2006:", "source h2006:"), "capitals and digits"),
        (lambda t: t.replace("1998,64.8,H2006", "1998,64.8,H2007"), "is not declared"),
        (lambda t: t.replace("1998,64.8", "1997,64.8"), "increasing, once each"),
        (lambda t: t.replace("1998,64.8", "1996,64.8"), "increasing, once each"),
        (lambda t: t.replace("64.8", "sixty"), "not a finite number"),
        (lambda t: t.replace("64.8", "nan"), "not a finite number"),
        (lambda t: t.replace("1998,", "1998.5,"), "not a whole year"),
        (lambda t: t.replace("1998,", "3000,"), "between 1800 and 2200"),
        (lambda t: t.replace("again", "again #2"), "'#' in the table"),
        (lambda t: t + "# a late comment\n", "comment inside the table"),
        (lambda t: t.replace(",H2006,\n", ",H2006\n"), "3 cells, the header has 4"),
        (lambda t: t.replace("year,percent,source", "yr,percent,source"), "start with 'year'"),
        (lambda t: t.replace(",source,note", ",src,note"), "'source' column"),
        (lambda t: t.replace(",source,note", ",source,source"), "a name of its own"),
        (lambda t: t.replace("year,percent,source,note", "year,source,note,x"), "its value column"),
        (lambda t: t.split("year,")[0], "no table"),
        (lambda t: t.split("1997,")[0], "no rows"),
        (lambda t: t.replace("H2006 again", '"H2006 again'), "not a CSV line"),
        (lambda t: t.replace("# unit:", "# unit: x\n# unit:"), "appears twice"),
        (lambda t: t.replace("# note: a caveat", "# source H2006: again"), "declared twice"),
    ],
)
def test_a_broken_file_is_refused_in_one_line_with_the_fix(tmp_path, change, says):
    assert says in _refused(change(GOOD), tmp_path)


def test_a_missing_or_undecodable_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError):
        catalogue.read(tmp_path / "none.csv")
    (tmp_path / "latin.csv").write_bytes(GOOD.encode("utf-8").replace(b"A series", b"\xe9"))
    with pytest.raises(UserError, match="not UTF-8"):
        catalogue.read(tmp_path / "latin.csv")


_LINES = GOOD.splitlines()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(st.sampled_from(_LINES), st.text(max_size=30)), min_size=0, max_size=12))
def test_any_mangled_file_reads_or_is_refused_in_one_line(tmp_path, lines):
    """Lines dropped, repeated, reordered or replaced by junk: a DataFile or a UserError."""
    path = tmp_path / "mangled.csv"
    text = "\n".join(lines)
    try:
        f = parse(text, path)
    except UserError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        return
    assert f.sources and f.rows and f.title and f.unit  # what was read has its source
    assert set(f.column("source")) <= set(f.sources)
