"""Calibration by ABC-SMC: files, dates, determinism, forecasts, recovery, posterior input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sim.calibration.files import load_calibration, observation_steps, prepare, read_series
from sim.calibration.fit import calibrate
from sim.calibration.forecast import naive_forecasts
from sim.cli import main
from sim.core.errors import UserError
from sim.experiments.posterior import draw, load_posterior, replication_overrides, weighted_quantile
from sim.model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
KS2 = ROOT / "sim" / "data" / "ks2_english_level4_england.csv"
SHIPPED = ROOT / "experiments" / "calibrate_ks2_english.yaml"
TOP_DOWN = ROOT / "scenarios" / "top_down.yaml"


def tiny(tmp_path: Path, **kw) -> Path:
    """A calibration small enough to run in seconds."""
    cal = {
        "scenario": str(TOP_DOWN),
        "overrides": {"n_schools": 40, "n_authorities": 2},
        "observed": {"file": str(KS2), "fit_until": 2000, "years": [1997, 2005]},
        "parameters": {"sd_effect_init": None, "init_own_mandated": {"range": [0.2, 0.5]}},
        "population": 8,
        "generations": 2,
        "predictive": 6,
        "seed": 7,
    }
    cal.update(kw)
    path = tmp_path / "cal.yaml"
    path.write_text(yaml.safe_dump(cal, sort_keys=False))
    return path


def refused(fn, *args) -> str:
    with pytest.raises(UserError) as err:
        fn(*args)
    return str(err.value)


# ------------------------------------------------------------------ series files and dates
def test_the_shipped_series_reads_in_percent():
    s = read_series(KS2, "percent")  # its provenance columns (source, status, note) are not read
    assert list(s.years) == list(range(1995, 2011))  # every year of the test to 2010
    assert s.values[s.years == 1999][0] == 70.5
    assert s.sd is None and s.name == "percent_level4_or_above"


def test_provenance_columns_follow_the_value_and_nothing_else_does(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text('year,v,sd,note,source\n1999,70,1,"a note, with a comma",H2006\n')
    s = read_series(path, "percent")
    assert list(s.values) == [70.0] and list(s.sd) == [1.0]
    path.write_text("year,v,source,source\n1999,70,H,H\n")
    assert "provenance" in refused(read_series, path, "percent")
    path.write_text("year,v,quote\n1999,70,x\n")
    assert "source, status, note" in refused(read_series, path, "percent")


def test_observed_years_keeps_the_shipped_fit_on_the_years_it_was_made_with(tmp_path):
    s = prepare(SHIPPED)
    assert list(s.series.years) == list(range(1997, 2006))  # 1995-96 and 2006-10 left out
    assert "1995, 1996, 2006, 2007, 2008, 2009, 2010" in s.notes[-1]
    for years, says in (([2005, 1997], "after last year"), ([1980, 1990], "no year")):
        path = tiny(tmp_path, observed={"file": str(KS2), "fit_until": 2000, "years": years})
        assert says in refused(prepare, path)


def test_may_1999_is_month_8_of_a_model_started_in_september_1998():
    steps = observation_steps(np.array([1998, 1999, 2002, 2005]), 1998.0, 9, 5, 1.0)
    assert list(steps) == [-4, 8, 44, 80]
    assert list(observation_steps(np.array([1999]), 1998.0, 9, 5, 2.0)) == [4]


def test_the_shipped_calibration_fits_1999_to_2002_and_holds_back_2003_to_2005():
    s = prepare(SHIPPED)
    assert list(s.series.years[s.fit]) == [1999, 2000, 2001, 2002]
    assert list(s.series.years[s.held]) == [2003, 2004, 2005]
    assert set(s.priors) == {"sd_effect_init", "init_own_mandated", "heads_leave.p_head_leave"}
    assert s.priors["heads_leave.p_head_leave"] == (0.005, 0.03)  # the declared sweep range
    assert s.priors["sd_effect_init"] == (0.15, 0.8)  # the file's own range
    assert "1997, 1998" in s.notes[0]


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ("", "", "no header"),
        ("years,v\n1999,70\n", "line 1", "header"),
        ("year,v,err\n1999,70,1\n", "line 1", "header"),
        ("year,v\n", "", "no data"),
        ("year,v\n1999,70,3\n", "line 2", "columns"),
        ("year,v\n# note\n1999,70\nnineteen,71\n", "line 4", "not a number"),
        ("year,v\n1999.5,70\n", "line 2", "whole year"),
        ("year,v\n1999,70\n1999,71\n", "line 3", "twice"),
        ("year,v\n1999,seventy\n", "line 2", "not a number"),
        ("year,v\n1999,170\n", "line 2", "between 0 and 100"),
        ("year,v\n1999,nan\n", "line 2", "between 0 and 100"),
        ("year,v,sd\n1999,70,0\n", "line 2", "positive"),
        ("year,v,sd\n1999,70,x\n", "line 2", "sd"),
    ],
)
def test_a_bad_series_file_names_the_line_and_the_fix(tmp_path, text, where, says):
    path = tmp_path / "series.csv"
    path.write_text(text)
    msg = refused(read_series, path, "percent")
    assert str(path) in msg and where in msg and says in msg


def test_shares_declared_as_percent_or_the_reverse_are_caught(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("year,share\n1999,70.5\n")
    assert "unit: percent" in refused(read_series, path, "share")
    path.write_text("year,share\n1999,0.705\n2000,0.748\n")
    assert read_series(path, "share").values[1] == 0.748


def test_a_missing_series_file_is_a_user_error(tmp_path):
    assert "no such series file" in refused(read_series, tmp_path / "none.csv", "percent")


_LINES = [
    "year,value",
    "year,value,sd",
    "1999,70.5",
    "2000,74.8,1.2",
    "# comment",
    "",
    "2001,",
    ",",
    "2002,74.6,-1",
    "x",
    "1999,70.5",
    "3000,1",
    "2003,1e309",
    '"2004",77',
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.one_of(st.sampled_from(_LINES), st.text(max_size=20)), max_size=8),
    st.sampled_from(["percent", "share"]),
)
def test_a_mutated_series_file_reads_or_is_refused_clearly(tmp_path, lines, unit):
    path = tmp_path / "mutated.csv"
    path.write_bytes("\n".join(lines).encode("utf-8", "replace"))
    try:
        s = read_series(path, unit)
    except UserError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        return
    assert len(s.years) == len(set(s.years)) >= 1
    assert np.all((s.values >= 0) & (s.values <= (100 if unit == "percent" else 1)))


# ------------------------------------------------------------------ calibration files
def _bad(tmp_path, **kw) -> str:
    return refused(prepare, tiny(tmp_path, **kw))


def test_bad_calibration_files_name_the_file_the_key_and_the_fix(tmp_path):
    assert "unknown key 'populaton'" in _bad(tmp_path, populaton=10)
    assert "seed: required key is missing" in refused(
        load_calibration, _without(tiny(tmp_path), "seed")
    )
    msg = _bad(tmp_path, parameters={"sd_efect_init": None})
    assert "parameters.sd_efect_init" in msg and "sd_effect_init" in msg
    msg = _bad(tmp_path, parameters={"threshold_proven": None})  # a lever with no sweep range
    assert "declares no sweep range" in msg and "range: [low, high]" in msg
    assert "outside the allowed" in _bad(tmp_path, parameters={"sd_judge": {"range": [0, 1]}})
    assert "low must be below high" in _bad(
        tmp_path, parameters={"sd_judge": {"range": [0.5, 0.2]}}
    )
    assert "not a number" in _bad(tmp_path, parameters={"strategy": {"range": [0, 1]}})
    assert "fit it or fix it" in _bad(
        tmp_path, overrides={"sd_effect_init": 0.2}, parameters={"sd_effect_init": None}
    )
    assert "sd column" in _bad(tmp_path, distance="sd_weighted")
    assert "observed.fit_until" in _bad(tmp_path, observed={"file": str(KS2), "fit_until": 1998})
    assert "distance" in _bad(tmp_path, distance="euclid")
    assert "no such series file" in _bad(tmp_path, observed={"file": "nowhere.csv"})
    assert "scenario" in _bad(tmp_path, scenario="nowhere.yaml")
    msg = _bad(tmp_path, overrides={"tightnes": 1})
    assert "tightnes" in msg and "tightness" in msg


def _without(path: Path, key: str) -> Path:
    data = yaml.safe_load(path.read_text())
    del data[key]
    path.write_text(yaml.safe_dump(data))
    return path


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.sampled_from(["range", "file", "x"]), st.integers(-2, 2), max_size=2),
)
_KEYS = [
    "scenario",
    "overrides",
    "observed",
    "parameters",
    "distance",
    "population",
    "generations",
    "min_epsilon",
    "predictive",
    "seed",
    "start_month",
    "bogus",
]


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.tuples(st.sampled_from(_KEYS), _JUNK), min_size=1, max_size=3),
    st.lists(st.sampled_from(["unit", "measured_month", "fit_until", "file"]), max_size=2),
    _JUNK,
)
def test_a_mutated_calibration_file_is_accepted_or_refused_clearly(tmp_path, edits, obs_keys, junk):
    data = yaml.safe_load(tiny(tmp_path).read_text())
    for key, value in edits:
        data[key] = value
    if isinstance(data.get("observed"), dict):
        for k in obs_keys:
            data["observed"][k] = junk
    path = tmp_path / "mutated.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        prepare(path)
    except UserError as exc:
        assert str(path) in str(exc) or "nowhere" in str(exc) or ".csv" in str(exc)


def test_a_calibration_file_that_is_not_yaml_or_not_a_mapping(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("seed: [1,\n")
    assert "not valid YAML" in refused(load_calibration, p)
    p.write_text("- 1\n- 2\n")
    assert "mapping" in refused(load_calibration, p)
    assert "no such calibration file" in refused(load_calibration, tmp_path / "none.yaml")


# ------------------------------------------------------------------ statistics
def test_weighted_quantiles_known_answers():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    assert weighted_quantile(v, np.ones(4), [0.5])[0] == pytest.approx(2.5)
    assert weighted_quantile(v, np.array([0, 0, 0, 1.0]), [0.05, 0.95]).tolist() == [4.0, 4.0]


def test_naive_forecasts_carry_the_last_value_and_fit_a_logistic():
    years = np.arange(1990, 2000)
    truth = 80 / (1 + np.exp(-0.6 * (years - 1994)))
    f = naive_forecasts(years, truth, np.array([2001, 2004]), 100.0)
    assert f["last_value"].tolist() == [truth[-1], truth[-1]]
    expected = 80 / (1 + np.exp(-0.6 * (np.array([2001, 2004]) - 1994)))
    assert f["logistic"] == pytest.approx(expected, abs=0.05)
    assert np.isnan(naive_forecasts(years[:2], truth[:2], np.array([2001]), 100.0)["logistic"][0])


# ------------------------------------------------------------------ running
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tiny")
    path = tiny(tmp)
    return path, calibrate(path, tmp / "one", workers=1)


def test_a_calibration_writes_its_outputs(tiny_run):
    _, res = tiny_run
    for name in (
        "posterior.parquet",
        "generations.csv",
        "predictive.parquet",
        "forecast.csv",
        "posterior.png",
        "predictive.png",
        "summary.json",
        "history.db",
    ):
        assert (res.out / name).is_file(), name
    post = pd.read_parquet(res.out / "posterior.parquet")
    assert list(post.columns) == ["sd_effect_init", "init_own_mandated", "weight", "generation"]
    assert post["weight"].sum() == pytest.approx(1.0) and len(post) == 8
    from sim.model.params import field_info

    assert post["sd_effect_init"].between(*field_info("sd_effect_init")["sweep"]).all()
    gens = pd.read_csv(res.out / "generations.csv")
    assert list(gens["generation"]) == [0, 1]
    assert (gens["epsilon"].diff().dropna() <= 0).all()  # the tolerance never grows
    assert gens["acceptance_rate"].between(0, 1).all()
    f = pd.read_csv(res.out / "forecast.csv")
    assert list(f["year"]) == ["2001", "2002", "2003", "2004", "2005", "rmse"]
    held = f[f["year"] != "rmse"]
    inside = (held["observed"] >= held["model_p05"]) & (held["observed"] <= held["model_p95"])
    assert (inside == held["in_band_90"]).all()
    err = np.sqrt(np.mean((held["last_value"] - held["observed"]) ** 2))
    assert f.loc[f["year"] == "rmse", "last_value"].iat[0] == pytest.approx(err)
    assert (held["last_value"] == 74.8).all()  # the 2000 value carried forward


def test_same_seed_same_posterior_on_any_number_of_workers(tiny_run, tmp_path):
    path, res = tiny_run
    again = calibrate(path, tmp_path / "two", workers=2)
    pd.testing.assert_frame_equal(res.posterior, again.posterior)
    pd.testing.assert_frame_equal(res.generations, again.generations)
    pd.testing.assert_frame_equal(res.predictive, again.predictive)


def test_a_dask_scheduler_gives_the_same_posterior(tiny_run, tmp_path):
    """Two threads in one Dask worker share numpy's global generator: still the same."""
    from distributed import LocalCluster

    path, res = tiny_run
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        again = calibrate(path, tmp_path / "dask", scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(res.posterior, again.posterior)


def test_another_seed_gives_another_posterior(tiny_run, tmp_path):
    _, res = tiny_run
    other = calibrate(tiny(tmp_path, seed=8, generations=1), tmp_path / "s8", workers=1)
    assert not np.allclose(
        res.posterior["sd_effect_init"].to_numpy()[:8],
        other.posterior["sd_effect_init"].to_numpy()[:8],
    )


def test_the_cli_calibrates_and_reports(tmp_path, capsys):
    path = tiny(tmp_path, generations=1, predictive=3)
    assert main(["calibrate", str(path), "--out", str(tmp_path / "o"), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "sd_effect_init" in out and "rmse" in out and "last_value" in out
    bad = tiny(tmp_path, population="many")
    assert main(["calibrate", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "population" in capsys.readouterr().err


# ------------------------------------------------------------------ posterior as input
def test_draws_follow_the_weights_and_the_seed():
    post = pd.DataFrame({"a": [1.0, 2.0, 3.0], "weight": [0.0, 0.25, 0.75], "generation": 3})
    d = draw(post, 4000, seed=1)
    assert list(d.columns) == ["a"] and set(d["a"]) == {2.0, 3.0}
    assert (d["a"] == 3.0).mean() == pytest.approx(0.75, abs=0.03)
    pd.testing.assert_frame_equal(d, draw(post, 4000, seed=1))
    assert not d.equals(draw(post, 4000, seed=2))


def test_bad_posteriors_are_refused(tmp_path):
    assert "posterior.parquet" in refused(load_posterior, tmp_path)
    with pytest.raises(UserError, match="weight"):
        draw(pd.DataFrame({"a": [1.0]}), 1, 0)
    with pytest.raises(UserError, match="non-negative"):
        draw(pd.DataFrame({"a": [1.0], "weight": [-1.0]}), 1, 0)


def test_each_replication_gets_one_draw_shared_by_every_scenario(tiny_run):
    _, res = tiny_run
    sc = {"td": load_scenario(TOP_DOWN), "np": load_scenario(ROOT / "scenarios/next_practice.yaml")}
    rows = replication_overrides(sc, 5, res.out, root_seed=3)
    assert len(rows) == 5 and all(set(r) == {"sd_effect_init", "init_own_mandated"} for r in rows)
    assert rows == replication_overrides(sc, 5, res.out, root_seed=3)
    bad = pd.DataFrame({"no_such_param": [1.0], "weight": [1.0]})
    with pytest.raises(UserError, match="no_such_param"):
        replication_overrides(sc, 2, bad, root_seed=3)


def test_compare_with_a_posterior_runs_each_replication_at_its_draw(tiny_run, tmp_path):
    _, res = tiny_run
    out = tmp_path / "cmp"
    args = [
        "compare",
        str(TOP_DOWN),
        str(ROOT / "scenarios/bottom_up.yaml"),
        "-r",
        "3",
        "--steps",
        "6",
        "--workers",
        "1",
        "--set",
        "n_schools=40",
        "--set",
        "n_authorities=2",
        "--posterior",
        str(res.out),
        "--out",
        str(out),
    ]
    assert main(args) == 0
    draws = pd.read_csv(out / "draws.csv")
    assert len(draws) == 3 and {"sd_effect_init", "init_own_mandated"} <= set(draws.columns)
    import json

    meta = json.loads((out / "compare.json").read_text())
    assert meta["per_replication"][1]["sd_effect_init"] == pytest.approx(draws["sd_effect_init"][1])
    assert main([*args[:-4], "--posterior", str(tmp_path), "--out", str(out)]) == 2


# ------------------------------------------------------------------ parameter recovery
@pytest.mark.slow
def test_parameter_recovery(tmp_path):
    """Data simulated at known values: each lies in its 90% interval, which beats the prior's.

    The two parameters act differently (sd_effect_init sets the level the curve
    reaches, practice_effects.rate_perf how fast it gets there), so both are identifiable from one
    simulated series of seven years. One series carries the model's seed noise (about
    3 percentage points between seeds), so the posterior narrows, but not to a point.
    """
    from sim.calibration.simulate import apply_values, simulate_series

    truth = {"sd_effect_init": 0.22, "practice_effects.rate_perf": 0.1}
    over = {"n_schools": 100, "n_authorities": 2}
    base = load_scenario(TOP_DOWN, over).model_dump(mode="json")
    years = np.arange(1999, 2006)
    steps = observation_steps(years, 1998.0, 9, 5, 1.0)
    y = simulate_series(apply_values(base, truth), 20261202, steps, 100.0)
    pd.DataFrame({"year": years, "simulated": y}).to_csv(tmp_path / "series.csv", index=False)
    cal = {
        "scenario": str(TOP_DOWN),
        "overrides": over,
        "observed": {"file": "series.csv"},
        "parameters": {
            "sd_effect_init": None,
            "practice_effects.rate_perf": {"range": [0.03, 0.4]},
        },
        "population": 40,
        "generations": 4,
        "predictive": 10,
        "seed": 5,
    }
    (tmp_path / "cal.yaml").write_text(yaml.safe_dump(cal))
    res = calibrate(tmp_path / "cal.yaml", tmp_path / "out", workers=2)
    for row in res.summary.to_dict("records"):
        assert row["p05"] <= truth[row["parameter"]] <= row["p95"], row
        assert row["width90_vs_prior"] < 1.0, row  # narrower than the prior's 90% interval


# ------------------------------------------------------------------ a story's clock
KS2_MATHS = ROOT / "sim" / "data" / "ks2_maths_level4_england.csv"
_YEAR = st.sampled_from([None, 1997, 1998, 1999])


@settings(max_examples=15, deadline=None)
@given(
    stories=st.lists(st.tuples(_YEAR, _YEAR), min_size=2, max_size=3),
    top=st.sampled_from([None, 1998]),
    english=st.sampled_from([None, 1998]),
    maths=st.sampled_from([None, 1999]),
)
@example(stories=[(None, None), (None, None)], top=None, english=1998, maths=1999)  # accepted
@example(stories=[(None, None), (1999, None)], top=None, english=1998, maths=None)  # refused
@example(stories=[(1999, None), (1999, None)], top=None, english=None, maths=None)  # accepted
def test_a_story_never_has_its_start_year_overwritten_by_a_series(stories, top, english, maths):
    """A story (scenario or overrides) that sets a start_year other than a series' own is
    refused, naming the file and the key; otherwise every run starts where it says.

    The series' start_year places its years on the runs' clock, so it used to replace
    a story's own start_year without a word.
    """
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        models = {}
        for i, (in_scenario, in_overrides) in enumerate(stories):
            story = {"extends": str(TOP_DOWN)}
            if in_scenario is not None:
                story["start_year"] = in_scenario
            (tmp_path / f"story{i}.yaml").write_text(yaml.safe_dump(story))
            models[f"s{i}"] = {
                "scenario": f"story{i}.yaml",
                "overrides": {} if in_overrides is None else {"start_year": in_overrides},
            }
        series = {
            "english": {"file": str(KS2), "years": [1999, 2005]},
            "maths": {"file": str(KS2_MATHS), "years": [2000, 2005]},
        }
        for name, year in (("english", english), ("maths", maths)):
            if year is not None:
                series[name]["start_year"] = year
        over = {"n_schools": 40, "n_authorities": 2}
        if top is not None:
            over["start_year"] = top
        cal = {
            "overrides": over,
            "series": series,
            "parameters": {"sd_effect_init": None},
            "models": models,
            "population": 8,
            "generations": 2,
            "predictive": 6,
            "seed": 7,
        }
        path = tmp_path / "stories.yaml"
        path.write_text(yaml.safe_dump(cal, sort_keys=False))

        # Where each story starts by its own word: its overrides, the file's, its scenario's.
        own = [next((y for y in (o, top, s) if y is not None), 1998) for s, o in stories]
        said = [[y for y in (s, top, o) if y is not None] for s, o in stories]
        fixed = [y for y in (english, maths) if y is not None]
        conflict = any(y != f for ys in said for y in ys for f in fixed)
        try:
            setup = prepare(path)
        except UserError as exc:
            text = str(exc)
            assert text.startswith(str(path)) and "start_year" in text, text
            assert conflict or len(set(own)) > 1, text  # else: stories on other dates
            return
        assert not conflict
        for i, start in enumerate(own):
            for name, year in (("english", english), ("maths", maths)):
                assert setup.models[f"s{i}"].bases[name]["start_year"] == (
                    start if year is None else year
                )
