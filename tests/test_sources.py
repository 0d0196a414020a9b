"""docs/sources.md (issue 29): every cost and budget has a row with a source or "a judgement",
every sum on the page is right, every figure it takes from the catalogue is the catalogue's,
and its "today" column is what the model declares now."""

from __future__ import annotations

import ast
import math
import operator
import re

import pytest

from sim.inputs import catalogue
from sim.model.basis import param_basis, reason_of
from sim.model.params import parameter_table
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
PARAMS = {p["name"]: p for p in parameter_table()}
#: The parameters the brief names beside every parameter about money.
NAMED = {
    "build.rate_capacity",
    "budget_cut.t_budget_cut",
    "budget_cut.n_authorities_cut",
    "rel_adversity",
}


# ------------------------------------------------------------------ the sums
_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
}
_FUNCS = {"ln": math.log, "sqrt": math.sqrt}


def _eval(node: ast.AST) -> float:
    """Numbers, + - * /, ln() and sqrt(): nothing else (the page's sums are data, not code)."""
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_eval(node.left), _eval(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS:
        (arg,) = node.args
        return _FUNCS[node.func.id](_eval(arg))
    raise ValueError(f"not allowed in a sum: {ast.dump(node)}")


def sums() -> list[tuple[str, str, str]]:
    """Every line of every ```arithmetic block: (label, expression, result as written)."""
    out = []
    for block in re.findall(r"```arithmetic\n(.*?)```", DOC, re.S):
        for line in block.strip().splitlines():
            m = re.match(r"^(?P<label>.+?): (?P<expr>[^:]+?) = (?P<result>-?[0-9.]+)$", line)
            assert m, f"not 'label: expression = result': {line}"
            out.append((m["label"], m["expr"], m["result"]))
    return out


def test_the_page_shows_its_arithmetic():
    assert len(sums()) >= 50


@pytest.mark.parametrize(("label", "expr", "result"), sums(), ids=[s[0][:60] for s in sums()])
def test_every_sum_on_the_page_is_right(label, expr, result):
    got = _eval(ast.parse(expr, mode="eval"))
    decimals = len(result.split(".")[1]) if "." in result else 0
    assert abs(got - float(result)) <= 0.5 * 10**-decimals + 1e-9, (label, got)


# ------------------------------------------------------------------ figures from the catalogue
def _fact(name: str, year: int, column: str, printed: str) -> float:
    """A facts file's figure (as printed, e.g. "15,803,938") read as a number."""
    f = catalogue.load(name)
    hits = [r for r in f.rows if int(r[0]) == year and r[f.columns.index(column)] == printed]
    assert hits, (name, year, printed)
    return float(re.sub(r"[^0-9.]", "", printed))


def _series(name: str, year: int) -> float:
    return catalogue.load(name).value(year)


def _base(year: int) -> float:
    """The first number of the base the report of schools with every pupil at level 4 gives."""
    f = catalogue.load("ks2_schools_all_pupils_level4_england")
    printed = f.column("schools_base")[f.years.tolist().index(year)]
    return float(re.search(r"[0-9][0-9,]*", printed)[0].replace(",", ""))


NS, SI, COUNT = (
    "national_strategies_spending_england",
    "school_improvement_spending_england",
    "schools_count_england",
)
SIZE = "ks2_cohort_size_england"
#: 2022's bands of schools by KS2 cohort size, as printed: (band, schools, pupils).
BANDS = [
    ("1 to 15 pupils", "2,029", "19,910"), ("16 to 30 pupils", "4,742", "116,134"),
    ("31 to 60 pupils", "5,884", "268,681"), ("61 to 90 pupils", "2,045", "145,830"),
    ("91 or more pupils", "636", "68,565"),
]  # fmt: skip
#: Each figure the page's sums take from the catalogue, as written in a sum, and the
#: catalogue's value (in the sum's unit).
CITED = {
    "62.7e6": _fact(NS, 1998, "gbp_million", "62.7") * 1e6,
    "107.4e6": _fact(NS, 2003, "gbp_million", "107.4") * 1e6,
    "211.9e6": _fact(NS, 2003, "gbp_million", "211.9") * 1e6,
    "206.5e6": _fact(NS, 2007, "gbp_million", "206.5") * 1e6,
    "207.4e6": _fact(NS, 2009, "gbp_million", "207.4") * 1e6,
    "469e6": _fact(NS, 2007, "gbp_million", "469") * 1e6,
    "92e6": _fact(NS, 2007, "gbp_million", "92") * 1e6,
    "390e6": _fact(NS, 2009, "gbp_million", "390") * 1e6,
    "377e6": _fact(NS, 2007, "gbp_million", "377") * 1e6,
    "60e6": _fact(NS, 2008, "gbp_million", "60") * 1e6,
    "306e6": _fact(NS, 2008, "gbp_million", "306") * 1e6,
    "195.8e6": _fact(NS, 2008, "gbp_million", "195.8") * 1e6,
    "10e6": _fact(NS, 2005, "gbp_million", "10") * 1e6,
    "15803938": _fact(SI, 2007, "value", "15,803,938"),
    "24700": _fact(SI, 2002, "value", "24,700"),
    "200 * 250": _fact(SI, 2006, "value", "200") * 250,
    "2000": _fact(SI, 2005, "value", "2,000"),
    "700": _fact(SI, 2015, "value", "700"),
    "420": _fact(SI, 2015, "value", "420"),
    "400e6": _fact(SI, 2008, "value", "400") * 1e6,
    "3770": _series("primary_funding_per_pupil_england", 2005),
    "4.2e6": _fact(COUNT, 2012, "value", "4.2 million") * 1e6,
    "16787": _fact(COUNT, 2014, "value", "16,787"),
    "16778": _fact(COUNT, 2015, "value", "16,778"),
    "21911": _fact(COUNT, 2015, "value", "21,911"),
    "609.6e3": _fact(COUNT, 2005, "value", "609.6 thousand") * 1e3,
    "14768": _base(2008),
    "13532": _base(2009),
    "15000": _base(1999),
    "102 /": _series("ks2_schools_all_pupils_level4_england", 1999),
    "329 /": _series("ks2_schools_all_pupils_level4_england", 2008),
    "268 /": _series("ks2_schools_all_pupils_level4_england", 2009),
    "798 /": _fact("ks2_school_spread_facts_england", 2008, "value_as_printed", "798"),
    "1359 /": _fact("ks2_schools_below_floor_england", 2008, "schools_below", "1,359"),
    "1472 /": _fact("ks2_schools_below_floor_england", 2009, "schools_below", "1,472"),
    "54 /": _fact("ks2_school_spread_facts_england", 2009, "value_as_printed", "54"),
    "81 - 64.8": _series("ks2_english_level4_england", 2008) - 64.8,
    "- 64.8": _series("ks2_english_level4_england", 1998),
    "79 - 58.7": _series("ks2_maths_level4_england", 2008) - 58.7,
    "- 58.7": _series("ks2_maths_level4_england", 1998),
    "88 - 69": _series("ks2_science_level4_england", 2008) - 69,
    "- 69": _series("ks2_science_level4_england", 1998),
    "(79.0 - 74.6)": _series("ks2_english_level4_england", 2005)
    - _series("ks2_english_level4_england", 2002),
    "(0.79 /": _series("ks2_english_level4_england", 2006) / 100,
    "(0.76 /": _series("ks2_maths_level4_england", 2006) / 100,
    "619120": sum(_fact(SIZE, 2022, "pupils", b[2]) for b in BANDS),
    "15336": sum(_fact(SIZE, 2022, "schools", b[1]) for b in BANDS),
    "14759 - 13532": _fact(SIZE, 2009, "schools", "14,759")
    - _fact(SIZE, 2009, "schools", "13,532"),
    "2605 /": _fact(SIZE, 2008, "schools", "2,605"),
    "17205": _fact(SIZE, 2008, "schools", "17,205"),
}  # fmt: skip


@pytest.mark.parametrize("written", sorted(CITED))
def test_every_figure_taken_from_the_catalogue_is_the_catalogues(written):
    exprs = " | ".join(e for _, e, _ in sums())
    assert written in exprs, f"{written} is in no sum on the page"
    value = CITED[written]
    bare = written.strip("(- /")  # "- 64.8" and "329 /" locate one figure in a sum
    if re.fullmatch(r"[0-9.e]+", bare):
        assert float(bare) == pytest.approx(value)
    else:  # a sum of catalogue figures, e.g. "81 - 64.8"
        assert _eval(ast.parse(written.strip("()"), mode="eval")) == pytest.approx(value)


# ------------------------------------------------------------------ the reference table
def table() -> dict[str, dict[str, str]]:
    """The reference table under "### The table": parameter -> its cells."""
    part = DOC.split("### The table", 1)[1].split("\n### ", 1)[0]
    rows = [r for r in part.splitlines() if r.startswith("| `")]
    out = {}
    for r in rows:
        cells = [c.strip() for c in r.strip("|").split(" | ")]
        assert len(cells) == 5, r
        name = cells[0].strip("`")
        out[name] = dict(zip(("unit", "today", "sourced", "basis"), cells[1:], strict=True))
    return out


def test_every_cost_and_budget_parameter_has_a_row():
    money = {n for n in PARAMS if "cost" in n or "budget" in n}
    assert money | NAMED <= set(table()), (money | NAMED) - set(table())
    assert set(table()) <= set(PARAMS)


@pytest.mark.parametrize("name", sorted(table()))
def test_each_row_says_today_as_the_model_does(name):
    row, info = table()[name], PARAMS[name]
    assert row["unit"] == info["unit"]
    default = f"{info['default']}"
    sweep = f" [{info['sweep'][0]}, {info['sweep'][1]}]" if info.get("sweep") else ""
    assert row["today"] == default + sweep, "docs/sources.md is stale: the model changed"


@pytest.mark.parametrize("name", sorted(table()))
def test_each_row_has_a_source_or_says_it_is_a_judgement(name):
    row = table()[name]
    ids = {sid for f in catalogue.catalogue() for sid in f.sources}
    cited = set(re.findall(r"\b[A-Z][A-Z0-9]*[0-9]{4}[A-Z]*\b", row["basis"])) & ids
    if row["sourced"] == "a judgement":
        assert len(row["basis"]) > 30  # and why
        return
    assert cited or "EEF" in row["basis"], "a sourced value needs a source id or EEF"
    m = re.fullmatch(r"([0-9.]+) \[([0-9.]+), ([0-9.]+)\]", row["sourced"])
    assert m, row["sourced"]
    value, lo, hi = (float(x) for x in m.groups())
    assert lo <= value <= hi
    info = PARAMS[name]
    assert (info["lo"] is None or lo >= info["lo"]) and (info["hi"] is None or hi <= info["hi"])


def test_the_flags_the_issue_names_are_fixed_in_the_model():
    rows = table()
    assert "7.5-10" in rows["budget_centre"]["basis"]  # the old flag, kept as history
    assert "judgement" in rows["budget_authority"]["basis"]
    assert re.search(r"H2009J|H2007S", rows["budget_authority"]["basis"])  # a real reason
    # The model itself: the sourced default, and a reason that is not a template's.
    assert 4.0 <= PARAMS["budget_centre"]["default"] <= 21.0
    reason = PARAMS["budget_authority"]["sweep_ref"]
    assert "(one-line reason)" not in reason and re.search(r"H2009J|H2007S", reason)


def _sourced(row: dict[str, str]) -> tuple[float, float, float] | None:
    """A row's sourced default and range, or None where the row says "a judgement"."""
    m = re.fullmatch(r"([0-9.]+) \[([0-9.]+), ([0-9.]+)\]", row["sourced"])
    return None if m is None else (float(m[1]), float(m[2]), float(m[3]))


@pytest.mark.parametrize("name", sorted(table()))
def test_each_money_parameter_in_the_model_cites_its_source_or_judgement(name):
    """The declaration's reason for its range (what `nextpractice params` counts) cites a
    source or says "a judgement"; it says "a judgement" where the page finds no source,
    and where the declared default or sweep is not the page's sourced one."""
    info, row = PARAMS[name], table()[name]
    reason = reason_of(info)
    assert "(one-line reason)" not in reason
    basis = param_basis(info)
    assert basis in ("sourced", "judgement"), (name, reason)
    sourced = _sourced(row)
    if sourced is None:
        assert basis == "judgement", (name, reason)
        return
    value, lo, hi = sourced
    same = info["default"] == pytest.approx(value, abs=0.051)
    if info.get("sweep"):
        same = same and tuple(info["sweep"]) == pytest.approx((lo, hi), abs=0.051)
    if not same:  # a value the page does not derive: chosen, so the declaration says so
        assert basis == "judgement", (name, reason)


def test_every_catalogue_file_is_on_the_page():
    for name in catalogue.names():
        assert f"`{name}`" in DOC, name
