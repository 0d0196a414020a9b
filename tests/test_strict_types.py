"""Strict scenario, experiment and calibration files: a value's YAML type must be its field's.

pydantic's lax mode read ``tightness: "0.5"`` as 0.5 and ``n_schools: "1000"`` as
1000. Now every such value is refused with one line naming the file, the key, what
was given and the fix (``sim.inputs.strict``). Decisions tested here: a whole number is a
number (``tightness: 1`` runs); a decimal is not a whole number (``n_schools:
1000.0`` and ``1000.5`` are refused); programmatic ``Params(...)`` and the
workshop's ``set_control`` are not files and stay as they were.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.calibration.files import load_calibration, prepare
from sim.cli import main
from sim.core.errors import UserError
from sim.experiments import plan_experiment
from sim.model.model import NextPracticeModel
from sim.model.params import Params
from sim.model.scenario import load_scenario, parse_assignment
from tests.conftest import ROOT, SCENARIOS

SHIPPED = sorted([*SCENARIOS.glob("*.yaml"), *(SCENARIOS / "classics").glob("*.yaml")])
CHOICES = ("strategy", "network", "metrics")
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def call(argv: list, capsys) -> tuple[int, str]:
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:
        rc = exc.code
    return rc, capsys.readouterr().err


def one_line(rc: int, err: str, *parts: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2, err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


def mutations() -> list[tuple[Path, str, object, str]]:
    """(file, key, wrong value, what the message must say) for every typed value shipped."""
    out = []
    for path in SHIPPED:
        data = yaml.safe_load(path.read_text())
        for key, value in data.items():
            if key in ("extends", "description", "plugins", "rules"):
                continue
            if isinstance(value, bool):
                out.append((path, key, str(value).lower(), "without quotes"))
            elif isinstance(value, int | float):
                out.append((path, key, str(value), "without quotes"))
            elif key in CHOICES:
                out.append((path, key, 1, "is one of"))
    return out


MUTATIONS = mutations()


def test_the_shipped_files_give_mutations_of_every_kind():
    assert len(MUTATIONS) > 50
    assert {m[3] for m in MUTATIONS} == {"without quotes", "is one of"}


@SETTINGS
@given(case=st.sampled_from(MUTATIONS))
def test_a_quoted_number_or_a_number_for_a_name_is_refused_in_one_line(
    tmp_path_factory, capsys, case
):
    path, key, wrong, says = case
    tmp = tmp_path_factory.mktemp("strict")
    data = yaml.safe_load(path.read_text())
    if "extends" in data:
        data["extends"] = str(path.parent / data["extends"])
    data[key] = wrong
    bad = tmp / path.name
    bad.write_text(yaml.safe_dump(data, sort_keys=False))  # a str is quoted: '0.5'
    rc, err = call(["run", bad, "--steps", "1", "--out", tmp / "out"], capsys)
    line = one_line(rc, err, str(bad), f"{key}: ", says)
    if says == "without quotes":
        assert "is text, but" in line and f"write {key}: {wrong} without quotes" in line


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_still_loads(path):
    load_scenario(path)


def scenario(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            'tightness: "0.5"',
            'tightness: "0.5" is text, but tightness is a number (0 to 1); '
            "write tightness: 0.5 without quotes",
        ),
        (
            'n_schools: "1000"',
            'n_schools: "1000" is text, but n_schools is a whole number '
            "(2 to 100000 schools); write n_schools: 1000 without quotes",
        ),
        ("n_schools: 1000.5", "write a whole number, e.g. n_schools: 1000 or n_schools: 1001"),
        ("n_schools: 1000.0", "n_schools: 1000.0 is a decimal number"),
        ("n_schools: 1e3", "write n_schools: 1000, a whole number without a point"),
        ("strategy: 1", "strategy: 1 is a whole number, but strategy is one of bottom_up"),
        ("metrics: 1", "metrics is one of full, adoption"),
        ("network: true", "network: true is true/false"),
        ("tightness: true", "tightness: true is true/false, but tightness is a number"),
        ("tightness: null", "tightness: null is empty"),
        ('tightness: "high"', "write a number, e.g. tightness: 0.5"),
        (
            'judged.w_agenda: "0.3"',
            'judged.w_agenda: "0.3" is text, but judged.w_agenda is a '
            "number (0 to 1); write judged.w_agenda: 0.3 without quotes",
        ),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_with_the_fix(tmp_path, capsys, text, says):
    path = scenario(tmp_path, f"extends: {SCENARIOS / 'workshop.yaml'}\n{text}\n")
    one_line(
        *call(["run", path, "--steps", "1", "--out", tmp_path / "o"], capsys), f"{path}: ", says
    )


def test_a_whole_number_is_a_number(tmp_path):
    p = load_scenario(
        scenario(
            tmp_path, f"extends: {SCENARIOS / 'workshop.yaml'}\ntightness: 1\nn_ties_town: 5\n"
        )
    )
    assert p.tightness == 1.0 and isinstance(p.tightness, float)


def test_the_file_of_the_chain_that_holds_the_value_is_named(tmp_path):
    parent = scenario(
        tmp_path, f'extends: {SCENARIOS / "workshop.yaml"}\nlever_agenda: "0.2"\n', "parent.yaml"
    )
    child = scenario(tmp_path, "extends: parent.yaml\ntightness: 0.3\n", "child.yaml")
    with pytest.raises(UserError) as err:
        load_scenario(child)
    assert str(err.value).startswith(f'{parent.resolve()}: lever_agenda: "0.2" is text')


@pytest.mark.parametrize(
    ("assignment", "says"),
    [
        ('tightness="0.5"', "write --set tightness=0.5 without quotes"),
        ("n_schools=1e3", "write --set n_schools=1000, a whole number"),
        ("strategy=1", "write a name, e.g. --set strategy=next_practice"),
        ("judged.w_agenda='0.3'", "write --set judged.w_agenda=0.3 without quotes"),
    ],
)
def test_set_values_are_strict(tmp_path, capsys, assignment, says):
    one_line(
        *call(
            [
                "run",
                SCENARIOS / "workshop.yaml",
                "--steps",
                "1",
                "--out",
                tmp_path,
                "--set",
                assignment,
            ],
            capsys,
        ),
        "command-line --set",
        says,
    )


def test_set_unquoted_values_are_numbers():
    assert parse_assignment("tightness=0.5") == ("tightness", 0.5)
    p = load_scenario(
        SCENARIOS / "workshop.yaml",
        dict([parse_assignment("tightness=1"), parse_assignment("n_schools=50")]),
    )
    assert (p.tightness, p.n_schools) == (1.0, 50)


def test_a_declared_true_false_parameter_is_strict(tmp_path):
    mod = tmp_path / "strict_flag_plugin.py"
    mod.write_text(
        "from sim.rules import Param, Rule, register\n"
        "@register('shocks', 'test_strict_flag')\n"
        "class Flag(Rule):\n"
        "    '''Test rule: a true/false parameter.'''\n"
        "    params = {'on': Param(False, unit='1', kind='setting', meaning='Whether.')}\n"
        "    def apply(self, model):\n"
        "        pass\n"
    )
    head = "plugins: [strict_flag_plugin]\nrules: {shocks: test_strict_flag}\n"
    sys.path.insert(0, str(tmp_path))
    try:
        p = load_scenario(scenario(tmp_path, head + "test_strict_flag.on: true\n"))
        assert p.declared["test_strict_flag.on"] is True
        for text, says in (
            ('"true"', "write test_strict_flag.on: true without quotes"),
            ("1", "write test_strict_flag.on: true or test_strict_flag.on: false"),
        ):
            with pytest.raises(UserError, match=says):
                load_scenario(scenario(tmp_path, head + f"test_strict_flag.on: {text}\n"))
    finally:
        sys.path.remove(str(tmp_path))


def test_programmatic_values_are_not_files():
    assert Params(tightness=0.5, n_schools=50, n_authorities=2).tightness == 0.5
    m = NextPracticeModel(Params(n_schools=40, n_authorities=2), rng=1, tightness=0.7)
    assert m.p.tightness == 0.7
    m.set_control("tightness", 0.2)  # what the workshop's slider does
    m.set_control("strategy", "top_down")
    assert (m.p.tightness, m.p.strategy) == (0.2, "top_down")


# ------------------------------------------------------------------ experiment files


def experiment(tmp_path: Path, design: str, extra: str = "") -> Path:
    return scenario(
        tmp_path,
        f"root_seed: 1\nscenario: {SCENARIOS / 'workshop.yaml'}\n{extra}design: {design}\n",
        "e.yaml",
    )


@pytest.mark.parametrize(
    ("design", "extra", "says"),
    [
        (
            '{method: grid, factors: {tightness: {values: [0.1, "0.5"]}}}',
            "",
            'design.factors.tightness.values[1]: "0.5" is text, but tightness is a number '
            "(0 to 1); "
            "write 0.5 without quotes",
        ),
        (
            "{method: grid, factors: {field_trials.n_trials: {values: [1, 2.0]}}}",
            "",
            "design.factors.field_trials.n_trials.values[1]: 2.0 is a decimal number",
        ),
        (
            '{method: grid, factors: {tightness: {range: ["0", 1], n: 3}}}',
            "",
            'design.factors.tightness.range[0]: "0" is text',
        ),
        (
            '{method: lhs, n: 4, factors: {tightness: {range: [0, "1"]}}}',
            "",
            "write 1 without quotes",
        ),
        (
            "{method: list, rows: [{tightness: 0.2}, {strategy: 3}]}",
            "",
            "design.rows[1].strategy: 3 is a whole number, but strategy is one of",
        ),
        (
            '{method: list, rows: [{tightness: "0.2"}]}',
            "",
            'design.rows[0].tightness: "0.2" is text, but tightness is a number (0 to 1); '
            "write tightness: 0.2 without quotes",
        ),
        (
            "{method: list, rows: [{tightness: 0.2}]}",
            'overrides: {n_schools: "40"}\n',
            'overrides.n_schools: "40" is text, but n_schools is a whole number',
        ),
        (
            '{method: robustness, policies: [{name: a, levers: {tightness: "0.2"}}, {name: b}], '
            "worlds: {n: 4}, measures: {mean_perf: max}}",
            "",
            'design.policies[0].levers.tightness: "0.2" is text',
        ),
    ],
)
def test_experiment_values_are_strict(tmp_path, design, extra, says):
    path = experiment(tmp_path, design, extra)
    with pytest.raises(UserError) as err:
        plan_experiment(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: ") and says in msg and "\n" not in msg, msg


def test_experiment_whole_numbers_are_numbers(tmp_path):
    plan_experiment(
        experiment(
            tmp_path,
            "{method: grid, factors: {tightness: {values: [0, 1]}}}",
            "overrides: {tightness: 1, n_schools: 40}\n",
        )
    )


# ------------------------------------------------------------------ calibration files

CALIBRATION = ROOT / "experiments" / "calibrate_ks2_english.yaml"


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            "range: [0.15, 0.8]",
            'range: [0.15, "0.8"]',
            'parameters.sd_effect_init.range[1]: "0.8" is text',
        ),
        (
            "n_schools: 300",
            'n_schools: "300"',
            'overrides.n_schools: "300" is text, but n_schools is a whole number',
        ),
        ("n_schools: 300", "n_schools: 300.0", "write n_schools: 300, a whole number"),
        ("population: 150", "population: 150.0", "write population: 150"),
        ("seed: 19", 'seed: "19"', "write seed: 19 without quotes"),
    ],
)
def test_calibration_values_are_strict(tmp_path, old, new, says):
    text = CALIBRATION.read_text()
    assert old in text
    path = CALIBRATION.parent / f"_strict_{tmp_path.name}.yaml"  # beside its relative files
    path.write_text(text.replace(old, new))
    try:
        with pytest.raises(UserError) as err:
            prepare(path)
    finally:
        path.unlink()
    msg = str(err.value)
    assert msg.startswith(f"{path}: ") and says in msg and "\n" not in msg, msg


def test_calibration_files_are_read_as_yaml_1_2(tmp_path):
    text = CALIBRATION.read_text().replace("range: [0.15, 0.8]", "range: [1.5e-1, 8e-1]")
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert load_calibration(path).parameters["sd_effect_init"].range == [0.15, 0.8]
    path.write_text(text.replace("seed: 19", "seed: 19\nseed: 20"))
    with pytest.raises(UserError, match="seed"):
        load_calibration(path)
