"""Built-in scenarios and experiments: named anywhere a path is accepted, a file wins, init."""

import json

import pytest
import yaml

from sim.cli import main
from sim.core.errors import UserError
from sim.experiments import plan_experiment
from sim.inputs import shipped
from sim.model.scenario import load_scenario
from tests.conftest import ROOT, SCENARIOS


def test_every_shipped_file_is_a_builtin_name():
    assert shipped.folder("scenarios") == SCENARIOS  # in a checkout: the one source
    files = {p.relative_to(SCENARIOS).with_suffix("").as_posix() for p in SCENARIOS.rglob("*.yaml")}
    assert set(shipped.names("scenarios")) == files
    assert {"top_down", "classics/bass"} <= files
    assert set(shipped.names("experiments")) == {
        p.stem for p in (ROOT / "experiments").glob("*.yaml")
    }


def test_a_name_loads_the_same_as_its_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an empty folder: no scenarios/ here
    assert load_scenario("top_down") == load_scenario(SCENARIOS / "top_down.yaml")
    assert load_scenario("classics/bass.yaml") == load_scenario(SCENARIOS / "classics/bass.yaml")


def test_a_file_at_the_path_wins_over_a_builtin(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "top_down").write_text("n_schools: 77\n")
    assert load_scenario("top_down").n_schools == 77
    assert load_scenario("top_down.yaml") == load_scenario(SCENARIOS / "top_down.yaml")


def test_extends_a_builtin_name(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("extends: next_practice\ntightness: 0.9\n")
    p = load_scenario(f)
    base = load_scenario("next_practice")
    assert p.tightness == 0.9 and p.strategy == base.strategy
    (tmp_path / "next_practice.yaml").write_text("n_schools: 333\n")
    assert load_scenario(f).n_schools == base.n_schools != 333  # a name is not this file
    f.write_text("extends: next_practice.yaml\n")
    assert load_scenario(f).n_schools == 333  # the file beside, at that path, wins


def test_extends_does_not_read_the_working_folder(tmp_path, monkeypatch):
    """A relative ``extends:`` means beside the file (or built in), never the working folder."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mine.yaml").write_text("extends: only_here.yaml\n")
    (tmp_path / "only_here.yaml").write_text("n_schools: 50\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="only_here.yaml: not found"):
        load_scenario(tmp_path / "sub" / "mine.yaml")


def test_an_unknown_name_lists_the_builtins_and_suggests(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as err:
        load_scenario("top_dwn")
    msg = str(err.value)
    assert "Did you mean 'top_down'?" in msg and "classics/bass" in msg and "\n" not in msg


def test_experiment_names_a_builtin_scenario_and_is_named_itself(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = plan_experiment("strategies")  # the built-in experiment, from an empty folder
    assert plan.path == shipped.builtin("experiments", "strategies")
    exp = {
        "root_seed": 1,
        "scenario": "top_down",
        "design": {"method": "grid", "factors": {"tightness": {"values": [0.1, 0.9]}}},
    }
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(exp))
    plan = plan_experiment(tmp_path / "e.yaml")
    assert plan.base["strategy"] == load_scenario("top_down").strategy


def test_run_by_name_from_an_empty_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            ["run", "top_down", "--steps", "3", "--set", "n_schools=60", "--set", "n_authorities=2"]
        )
        == 0
    )
    s = json.loads((tmp_path / "runs" / "top_down" / "summary.json").read_text())
    assert s["steps"] == 3 and s["scenario"] == "top_down"


def test_init_copies_everything_and_refuses_to_overwrite(tmp_path, capsys):
    target = tmp_path / "study"
    assert main(["init", str(target)]) == 0
    for kind in ("scenarios", "experiments"):
        copied = sorted(p.relative_to(target / kind) for p in (target / kind).rglob("*.yaml"))
        files = sorted(
            p.relative_to(shipped.folder(kind)) for p in shipped.folder(kind).rglob("*.yaml")
        )
        assert copied == files
    assert (target / "notebooks" / shipped.STARTER_NOTEBOOK).is_file()
    # The copies are usable as they are: an experiment reads its scenario beside it or built in.
    assert load_scenario(target / "scenarios" / "england.yaml") == load_scenario("england")
    plan_experiment(target / "experiments" / "strategies.yaml")
    (target / "scenarios" / "top_down.yaml").write_text("n_schools: 5\n")  # a user's edit
    assert main(["init", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (target / "scenarios" / "top_down.yaml").read_text() == "n_schools: 5\n"
