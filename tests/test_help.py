"""The CLI explains itself: every option has a meaning and its default; outcomes and metrics
are listed with their definitions, which live beside the code that computes them."""

import argparse

import pytest

from sim.cli import build_parser, main
from sim.experiments.runner import outcome_definitions, outcomes, run_model
from sim.model.scenario import load_scenario
from sim.system.metrics import DEFINITIONS, SETS


def _commands():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_option_has_a_meaning_and_its_default(name):
    parser = _commands()[name]
    text = parser.format_help()
    assert parser.description and len(parser.description) > 30
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help and len(action.help) > 10, (name, action.dest)
        if action.default not in (None, False) and action.option_strings:
            assert f"(default: {action.default})" in " ".join(text.split()), (name, action.dest)


def test_the_numbers_a_user_asks_about_are_in_the_help():
    help_of = {n: " ".join(p.format_help().split()) for n, p in _commands().items()}
    assert "(default: 20)" in help_of["compare"] and "(default: 1)" in help_of["compare"]
    assert "(default: 8765)" in help_of["app"]
    assert "default: the CPUs available" in help_of["sweep"]


def test_params_outcomes_defines_every_outcome_a_run_reports(capsys):
    res = run_model(load_scenario("top_down", {"n_schools": 60, "n_authorities": 2}), 1, 30)
    assert list(outcome_definitions()) == list(outcomes(res.metrics))
    assert main(["params", "--outcomes"]) == 0
    out = capsys.readouterr().out
    for name, text in outcome_definitions().items():
        assert f"{name} " in out and text in out
    for name in ("plateaued", "late_early_ratio"):
        assert name in out


def test_params_metrics_defines_every_metric_column(capsys):
    res = run_model(load_scenario("top_down", {"n_schools": 60, "n_authorities": 2}), 1, 3)
    assert list(res.metrics.columns) == list(DEFINITIONS) == list(SETS["full"])
    assert main(["params", "--metrics"]) == 0
    out = capsys.readouterr().out
    for name, text in DEFINITIONS.items():
        assert name in out and text in out


def test_ranges_read_as_words(tmp_path, capsys):
    from sim.model.scenario import readable_range

    assert readable_range(0, 1, "1") == "0 to 1"
    assert readable_range(2, None, "schools") == "at least 2 schools"
    assert readable_range(None, 0.5, "") == "at most 0.5"
    assert readable_range(None, None) == ""
    assert main(["run", "top_down", "--set", "tightness=3", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "allowed range: 0 to 1;" in err and "0 to 1 1" not in err


@pytest.mark.parametrize("name", sorted(_commands()))
def test_help_has_no_unformatted_percent_signs(name):
    assert "%%" not in _commands()[name].format_help()
