"""Budgets as a total a year: the same run as the per-school value; both given is refused.

An analyst's question comes in GBP million a year for a whole system ("a centre budget
of about GBP 5m a year for 2,000 schools"); the model's budgets are per school. A
scenario may give ``budget_centre_total`` or ``budget_authority_total`` (GBP m a year)
instead, turned into the per-school value (total x 1000 / n_schools) before anything
reads it.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.core.errors import UserError
from sim.model.params import per_school
from sim.model.scenario import load_scenario


def _run(tmp_path, name: str, text: str) -> tuple[bytes, dict]:
    scenario = tmp_path / f"{name}.yaml"
    scenario.write_text(text)
    out = tmp_path / name
    assert main(["run", str(scenario), "--steps", "24", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    summary.pop("scenario")  # the file's own name
    return (out / "metrics.csv").read_bytes(), summary


def test_a_total_a_year_gives_the_same_run_as_the_per_school_value_byte_for_byte(tmp_path):
    base = "extends: next_practice\nn_schools: 2000\nn_authorities: 4\n"
    total = _run(tmp_path, "total", base + "budget_centre_total: 5.0\nbudget_authority_total: 9\n")
    each = _run(tmp_path, "each", base + "budget_centre: 2.5\nbudget_authority: 4.5\n")
    assert total[0] == each[0]  # metrics.csv, byte for byte
    assert total[1] == each[1]  # outcomes, final values, parameters, seed
    assert total[1]["params"]["budget_centre"] == 2.5
    other = _run(tmp_path, "other", base + "budget_centre: 0.1\nbudget_authority: 0.2\n")
    assert other[0] != each[0]  # the budget matters, so the test could fail


@settings(max_examples=60, deadline=None)
@given(
    total=st.floats(min_value=0, max_value=50, allow_nan=False, allow_subnormal=False),
    n=st.integers(min_value=200, max_value=100_000),
)
def test_any_total_is_its_per_school_value(total, n):
    given_total = load_scenario("top_down", {"n_schools": n, "budget_centre_total": total})
    given_each = load_scenario("top_down", {"n_schools": n, "budget_centre": per_school(total, n)})
    assert given_total == given_each


def test_the_nearest_file_wins_whichever_form_it_uses(tmp_path):
    (tmp_path / "parent.yaml").write_text("extends: top_down\nbudget_centre: 3.0\n")
    (tmp_path / "child.yaml").write_text("extends: parent.yaml\nbudget_centre_total: 0.5\n")
    assert load_scenario(tmp_path / "child.yaml").budget_centre == per_school(0.5, 1000)
    (tmp_path / "p2.yaml").write_text("extends: top_down\nbudget_centre_total: 9.0\n")
    (tmp_path / "c2.yaml").write_text("extends: p2.yaml\nbudget_centre: 1.0\n")
    assert load_scenario(tmp_path / "c2.yaml").budget_centre == 1.0
    # --set replaces the file's form too
    assert load_scenario(tmp_path / "c2.yaml", {"budget_centre_total": 2.0}).budget_centre == 2.0


@pytest.mark.parametrize("which", ["centre", "authority"])
def test_both_forms_in_one_file_are_refused_in_one_line(tmp_path, capsys, which):
    path = tmp_path / "both.yaml"
    path.write_text(f"extends: top_down\nbudget_{which}: 2.5\nbudget_{which}_total: 5.0\n")
    assert main(["run", str(path), "--steps", "2", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(path) in err and f"budget_{which}_total" in err and "keep one" in err
    assert not (tmp_path / "o" / "metrics.csv").exists()


def test_both_forms_on_the_command_line_are_refused():
    with pytest.raises(UserError, match="both given"):
        load_scenario("top_down", {"budget_centre": 2.0, "budget_centre_total": 5.0})


@pytest.mark.parametrize(
    ("value", "says"),
    [('"5.0"', "is text"), ("-1", "0 or more"), ("true", "true/false"), ("1e9", "above")],
)
def test_a_bad_total_is_refused_with_the_fix(tmp_path, value, says):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: top_down\nbudget_centre_total: {value}\n")
    with pytest.raises(UserError) as err:
        load_scenario(path)
    text = str(err.value)
    assert "budget_centre_total" in text and len(text.splitlines()) == 1, text
    assert says in text, text
