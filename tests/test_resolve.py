"""Robustness designs add seeds where a world's best two policies are within seed noise.

The rule (sim.experiments.resolve.within_noise) on a known answer; the rounds of added
seeds on the ``normal`` test model, whose policies' paired difference in a world is
``effect x 0.3`` with noise of sd ``sd_own x sqrt(2)`` (both uncertainties the worlds
sample); and the analysis, which counts a world still within noise as a tie.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import t

from sim.analysis.analyze import analyze
from sim.core.errors import UserError
from sim.experiments import run_seed
from sim.experiments.resolve import within_noise
from sim.experiments.sweep import chunk_files, load_results, run_sweep

DESIGN = {
    "method": "robustness",
    "policies": [
        {"name": "a", "levers": {"mean": 0.0, "stream": 1}},
        {"name": "b", "levers": {"mean": 0.3, "stream": 2}},
    ],
    "worlds": {"n": 24, "factors": "all"},
    "measures": {"y": "max"},
    "resolve": {"max_replications": 8},
}


def experiment(tmp: Path, **design) -> Path:
    data = {
        "model": "normal",
        "root_seed": 8,
        "replications": 2,
        "chunk_size": 10,
        "design": {**DESIGN, **design},
    }
    path = tmp / "rob.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_the_rule_on_a_known_answer():
    """Two worlds, three replications each; the pair's differences deviate by -1, 0, +1
    from their world's mean in both, so the pooled variance is 4 / 4 = 1 on 4 degrees of
    freedom and the half-width is t(0.975, 4) / sqrt(3) = 1.605: a lead of 1 is noise,
    one of 2 is not. Lower-is-better turns the lead round."""
    rows = []
    for world, lead in ((0, 1.0), (1, 2.0)):
        for rep, dev in enumerate((-1.0, 0.0, 1.0)):
            rows.append({"world": world, "policy": "p", "replication": rep, "y": 10.0})
            rows.append({"world": world, "policy": "q", "replication": rep, "y": 10 + lead + dev})
    runs = pd.DataFrame(rows)
    w = within_noise(runs, "y", "max", ["p", "q"])
    half = t.ppf(0.975, 4) / np.sqrt(3)
    assert w["half_width"].to_numpy() == pytest.approx([half, half])
    assert w["best"].tolist() == ["q", "q"] and w["second"].tolist() == ["p", "p"]
    assert w["lead"].tolist() == [1.0, 2.0] and w["within"].tolist() == [True, False]
    low = within_noise(runs, "y", "min", ["p", "q"])
    assert low["best"].tolist() == ["p", "p"] and low["within"].tolist() == [True, False]


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resolve")
    exp = experiment(tmp)
    return exp, run_sweep(exp, tmp / "one", workers=1, progress=False)


def test_rounds_add_seeds_to_worlds_within_noise_only(resolved):
    _, out = resolved
    record = json.loads((out / "resolve.json").read_text())
    rounds = record["rounds"]
    assert rounds, "some worlds of a 0.3 x effect lead are within noise at 2 seeds"
    assert [r["first_replication"] for r in rounds] == [2 + 2 * i for i in range(len(rounds))]
    sets = [set(r["worlds"]) for r in rounds]
    assert all(b <= a for a, b in zip(sets, sets[1:], strict=False)) and len(sets[0]) < 24
    main = load_results(out)
    for r, worlds in zip(rounds, sets, strict=True):
        df = load_results(out / "rounds" / f"round-{r['round']:02d}")
        assert set(df["world"]) == worlds and (df["status"] == "ok").all()
        assert sorted(df["replication"].unique()) == [
            r["first_replication"],
            r["first_replication"] + 1,
        ]
        # Each world's seeds continue: replication r of world w, in every policy.
        seeds = [
            run_seed(8, w, k, common=False) for w, k in zip(df.world, df.replication, strict=True)
        ]
        assert df["seed"].tolist() == seeds
    assert main["replication"].max() == 1 and rounds[-1]["first_replication"] + 2 <= 8
    # What is still within noise is recorded: a world of the last round, or none.
    assert set(record["within_noise"]["y"]) <= sets[-1] | set()


def test_rounds_are_the_same_on_two_workers_and_resume(resolved, tmp_path):
    exp, out = resolved
    two = run_sweep(exp, tmp_path / "two", workers=2, progress=False)

    def snapshot(folder: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("results/chunk-*.parquet"))
        }

    assert snapshot(out) == snapshot(two) and len(snapshot(two)) > 3
    assert (out / "resolve.json").read_text() == (two / "resolve.json").read_text()
    first = chunk_files(two / "rounds" / "round-01" / "results")
    first[max(first)].unlink()  # stopped in the middle of round 1
    run_sweep(exp, two, workers=1, progress=False)
    assert snapshot(out) == snapshot(two)


def test_the_analysis_counts_a_world_within_noise_as_a_tie(resolved, tmp_path):
    _, out = resolved
    table = pd.read_csv(analyze(out, tmp_path / "a") / "robustness.csv").set_index("policy")
    within = json.loads((out / "resolve.json").read_text())["within_noise"]["y"]
    assert (table["worlds_within_noise"] == len(within)).all()
    # Every world has one best policy; a world within noise counts for both.
    assert table["best_share"].sum() == pytest.approx(1 + len(within) / 24)
    notes = json.loads((tmp_path / "a" / "summary.json").read_text())["notes"]
    assert any("round(s) of seeds added" in n for n in notes)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"resolve": {"max_replications": 2}}, "greater than or equal to 3"),
        ({"resolve": {"max_replications": 6, "measures": ["z"]}}, "not one of design.measures"),
        ({"resolve": {"max_replications": 6, "bogus": 1}}, "unknown key"),
    ],
)
def test_bad_resolve_settings_are_refused(tmp_path, change, says):
    with pytest.raises(UserError, match=says):
        run_sweep(experiment(tmp_path, **change), tmp_path / "o", workers=1, progress=False)


@pytest.mark.parametrize(
    ("replications", "says"), [(1, "needs replications: 2 or more"), (8, "is not above")]
)
def test_resolve_needs_two_replications_and_room_for_more(tmp_path, replications, says):
    path = experiment(tmp_path)
    data = yaml.safe_load(path.read_text())
    data["replications"] = replications
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(UserError, match=says):
        run_sweep(path, tmp_path / "o", workers=1, progress=False)
