"""Issue 29: a joint fit of several series, which story fits, honest forecasts, evidence.

Small runs only (seconds); the shipped files' own runs are the integrator's
(docs/calibration.md lists the commands). The parameter recovery of the joint fit
runs in about a minute on two workers and is marked slow; the tiny joint run here
goes through the same path.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.calibration.files import prepare
from sim.calibration.fit import calibrate
from sim.calibration.forecast import naive_forecasts
from sim.calibration.screening import leaders
from sim.calibration.selection import Selection, summarise
from sim.calibration.stats import Statistic, crps_sample, in_band
from sim.cli import main
from sim.core.errors import UserError
from sim.experiments import plan_experiment

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "sim" / "data"
ENGLISH = DATA / "ks2_english_level4_england.csv"
MATHS = DATA / "ks2_maths_level4_england.csv"
TOP_DOWN = ROOT / "scenarios" / "top_down.yaml"
JOINT = ROOT / "experiments" / "calibrate_ks2_joint.yaml"
STORIES = ROOT / "experiments" / "calibrate_ks2_stories.yaml"
SCREEN = ROOT / "experiments" / "ks2_screen_morris.yaml"
INDICES = ROOT / "docs" / "calibration" / "screening" / "morris_indices.csv"


def refused(fn, *args, **kw) -> str:
    with pytest.raises(UserError) as err:
        fn(*args, **kw)
    return str(err.value)


def joint(tmp_path: Path, name: str = "joint.yaml", **kw) -> Path:
    """A joint calibration of English and mathematics small enough to run in seconds."""
    cal = {
        "scenario": str(TOP_DOWN),
        "overrides": {"n_schools": 40, "n_authorities": 2},
        "series": {
            "english": {
                "file": str(ENGLISH),
                "start_year": 1998,
                "start_level": 1998,
                "years": [1997, 2005],
                "fit_until": 2002,
                "statistics": ["levels", {"gain": [1999, 2001]}, {"slope": [2000, 2002]}],
            },
            "maths": {
                "file": str(MATHS),
                "start_year": 1999,
                "start_level": 1999,
                "years": [1999, 2005],
                "fit_until": 2002,
                "statistics": ["levels", {"slope": [2000, 2002], "weight": 2}],
            },
        },
        "parameters": {"sd_effect_init": None, "init_own_mandated": {"range": [0.2, 0.5]}},
        "population": 8,
        "generations": 2,
        "predictive": 6,
        "seed": 11,
    }
    cal.update(kw)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(cal, sort_keys=False))
    return path


# ------------------------------------------------------------------ statistics and scores
def test_gain_slope_and_level_known_answers():
    by_year = {2000: 70.0, 2001: 72.0, 2002: 73.0, 2003: 77.0}
    assert Statistic("level", (2001,)).value(by_year) == 72.0
    assert Statistic("gain", (2000, 2003)).value(by_year) == 7.0
    # least-squares slope of 70, 72, 73, 77 over 0..3: cov / var = 4.5 / 1.25 * 0.5
    assert Statistic("slope", (2000, 2003)).value(by_year) == pytest.approx(2.2)
    assert Statistic("slope", (2001, 2002)).value(by_year) == pytest.approx(1.0)
    assert Statistic("gain", (2000, 2003), 3.0).key("maths.") == "maths.gain_2000_2003"


def test_crps_of_a_point_is_the_absolute_error():
    assert crps_sample(np.array([3.0]), 5.5) == pytest.approx(2.5)
    assert crps_sample(np.array([2.0, 2.0, 2.0]), 1.0) == pytest.approx(1.0)
    assert math.isnan(crps_sample(np.array([]), 1.0))


def test_crps_of_a_normal_sample_is_gneiting_and_rafterys_closed_form():
    from scipy.stats import norm

    x = norm.ppf((np.arange(20_000) + 0.5) / 20_000, loc=2.0, scale=1.5)  # a fine quantile grid
    for y in (2.0, 3.1, -1.0):
        z = (y - 2.0) / 1.5
        exact = 1.5 * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / math.sqrt(math.pi))
        assert crps_sample(x, y) == pytest.approx(exact, rel=1e-3)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=30),
    st.floats(-150, 150, allow_nan=False),
)
def test_crps_equals_the_double_sum_definition(sample, y):
    x = np.array(sample)
    direct = np.mean(np.abs(x - y)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :]))
    assert crps_sample(x, y) == pytest.approx(direct, abs=1e-9)
    assert crps_sample(x, y) >= -1e-9


def test_band_coverage():
    x = np.arange(1, 101, dtype=float)
    assert in_band(x, 50.0, 0.5) and not in_band(x, 10.0, 0.5)
    assert in_band(x, 10.0, 0.9) and not in_band(x, 99.0, 0.9)


def test_the_linear_trend_extends_the_line_through_the_same_years():
    years = np.array([2000, 2001, 2002, 2003])
    f = naive_forecasts(years, 70 + 1.5 * (years - 2000), np.array([2005, 2007]), 100.0)
    assert f["linear_trend"] == pytest.approx([77.5, 80.5])
    one = naive_forecasts(years[:1], np.array([70.0]), np.array([2001]), 100.0)
    assert np.isnan(one["linear_trend"][0]) and one["last_value"][0] == 70.0


# ------------------------------------------------------------------ several series
def test_a_joint_file_gives_each_series_its_start_and_statistics(tmp_path):
    s = prepare(joint(tmp_path))
    assert list(s.parts) == ["english", "maths"]
    eng, maths = s.parts["english"], s.parts["maths"]
    assert s.model.bases["english"]["start_year"] == 1998.0
    assert s.model.bases["maths"]["start_year"] == 1999.0
    assert s.model.bases["english"]["init_perf_mean"] == pytest.approx(0.648)
    assert s.model.bases["maths"]["init_perf_mean"] == pytest.approx(0.690)
    assert eng.fitted() == ((1999, 2000, 2001, 2002), (8, 20, 32, 44))
    assert maths.fitted() == ((2000, 2001, 2002), (8, 20, 32))  # May 2000 is step 8 from 1999
    obs = s.observed_stats()
    assert obs["english.gain_1999_2001"] == pytest.approx(75.0 - 70.5)
    assert obs["maths.slope_2000_2002"] == pytest.approx((73.2 - 71.6) / 2)
    assert s.weights()["maths.slope_2000_2002"] == 2.0
    assert list(eng.series.years[eng.held]) == [2003, 2004, 2005]


def test_the_shipped_joint_and_stories_files_read():
    s = prepare(JOINT)
    assert set(s.parts) == {"english", "maths"}
    assert s.parts["maths"].fitted()[0] == (2000, 2001, 2002, 2003, 2004, 2005)
    assert list(s.parts["english"].series.years[s.parts["english"].held]) == list(range(2006, 2011))
    st_ = prepare(STORIES)
    assert list(st_.models) == ["transfer", "loosening", "networks"]
    assert st_.models["networks"].bases["maths"]["schedule"][0]["set"]["strategy"] == (
        "next_practice"
    )
    # one distance for every story: the same statistics of the same data
    assert set(st_.models["transfer"].priors) == set(s.priors)
    assert st_.cal.repeats >= 3


def test_the_joint_fit_fits_what_the_screen_chose():
    """The rule of sim.calibration.screening on the committed screening picks the file's
    parameters; after a re-run of the screen this fails until the file is updated."""
    chosen = leaders(pd.read_csv(INDICES))
    assert set(prepare(JOINT).priors) == set(chosen), chosen


def test_the_screen_covers_every_uncertainty_the_top_down_runs_read():
    from sim.experiments.designs import keys_in_use
    from sim.model.params import factors
    from sim.model.scenario import load_scenario

    base = load_scenario(TOP_DOWN).model_dump(mode="json")
    used = keys_in_use([base])
    every = {n for n in factors(("uncertainty",)) if "." not in n or n in used}
    shock = {"budget_cut.t_budget_cut", "budget_cut.n_authorities_cut"}  # a scenario's event
    screened = set(yaml.safe_load(SCREEN.read_text())["design"]["factors"])
    assert screened == (every - shock) | {"mandate.p_mandate"}
    outcomes = yaml.safe_load(SCREEN.read_text())["outcomes"]
    assert "gain_last_5y" in outcomes  # a slope outcome


def _edit(tmp_path, **series_edits):
    path = joint(tmp_path)
    data = yaml.safe_load(path.read_text())
    for name, changes in series_edits.items():
        for key, value in changes.items():
            if value is None:
                data["series"][name].pop(key, None)
            else:
                data["series"][name][key] = value
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("edits", "says"),
    [
        ({"maths": {"statistics": ["levels", {"gain": [1999, 2001]}]}}, "among the fitted years"),
        ({"maths": {"statistics": [{"slope": [2002, 2004]}]}}, "fewer than two fitted years"),
        ({"maths": {"statistics": [{"slope": [2002, 2001]}]}}, "from before to"),
        ({"maths": {"statistics": [{"gain": [2000, 2002], "slope": [2000, 2002]}]}}, "one of gain"),
        ({"maths": {"statistics": [{"gain": [2000, 2002], "weight": -1}]}}, "positive number"),
        ({"maths": {"statistics": ["level"]}}, "not a statistic"),
        ({"maths": {"statistics": ["levels", "levels"]}}, "given twice"),
        ({"maths": {"start_level": 1990}}, "start_level: 1990 is not a year"),
        ({"maths": {"overrides": {"n_schools": "40"}}}, "series.maths.overrides.n_schools"),
        ({"maths": {"overrides": {"sd_effect_init": 0.3}}}, "fit it or fix it"),
        ({"maths": {"fit_until": 1999}}, "series.maths.fit_until"),
        ({"maths": {"years": [2006, 2001]}}, "series.maths.years"),
        ({"english": {"statistics": []}}, "nothing to compare"),
    ],
)
def test_a_bad_series_entry_names_the_file_the_key_and_the_fix(tmp_path, edits, says):
    path = _edit(tmp_path, **edits)
    msg = refused(prepare, path)
    assert str(path) in msg and says in msg and "\n" not in msg, msg


def test_observed_and_series_are_one_or_the_other(tmp_path):
    path = joint(tmp_path, observed={"file": str(ENGLISH)})
    assert "not both" in refused(prepare, path)
    data = yaml.safe_load(path.read_text())
    del data["observed"], data["series"]
    path.write_text(yaml.safe_dump(data))
    assert "not neither" in refused(prepare, path)
    assert "repeats is for comparing" in refused(prepare, joint(tmp_path, repeats=3))
    assert "sd_weighted" in refused(prepare, joint(tmp_path, distance="sd_weighted"))


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3000, 3000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.one_of(st.integers(1995, 2012), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.sampled_from(["gain", "slope", "weight", "x"]), st.integers(1995, 2012)),
)
_SERIES_KEYS = [
    "file",
    "unit",
    "fit_until",
    "years",
    "start_year",
    "start_level",
    "statistics",
    "overrides",
    "measured_month",
    "bogus",
]


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["english", "maths"]), st.sampled_from(_SERIES_KEYS), _JUNK),
        min_size=1,
        max_size=3,
    ),
    st.lists(st.one_of(_JUNK, st.sampled_from(["levels", {"gain": [2000, 2002]}])), max_size=3),
)
def test_a_mutated_joint_file_reads_or_is_refused_in_one_line(tmp_path, edits, statistics):
    data = yaml.safe_load(joint(tmp_path).read_text())
    for name, key, value in edits:
        data["series"][name][key] = value
    if statistics:
        data["series"]["maths"]["statistics"] = statistics
    path = tmp_path / "mutated.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        s = prepare(path)
    except UserError as exc:
        text = str(exc)
        assert str(path) in text or ".csv" in text, text
        assert "Traceback" not in text
        return
    assert s.observed_stats() and all(math.isfinite(v) for v in s.observed_stats().values())


# ------------------------------------------------------------------ a joint run
@pytest.fixture(scope="module")
def joint_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("joint")
    path = joint(tmp)
    return path, calibrate(path, tmp / "one", workers=1)


def test_a_joint_fit_writes_both_series(joint_run):
    _, res = joint_run
    assert set(res.predictive["series"]) == {"english", "maths"}
    f = res.forecast
    assert list(f["series"].unique()) == ["english", "maths"]
    held = f[f["year"].astype(str).str.isdigit()]
    assert list(held[held["series"] == "maths"]["year"]) == ["2003", "2004", "2005"]
    assert {"model_crps", "linear_trend", "in_band_50", "last_value_crps"} <= set(f.columns)
    assert (held["last_value_crps"] == (held["last_value"] - held["observed"]).abs()).all()
    summary = json.loads((res.out / "summary.json").read_text())
    assert set(summary["all_series"]) == {"english", "maths"}
    assert summary["all_series"]["maths"]["base_params"]["start_year"] == 1999.0
    first = res.predictive[res.predictive["year"] == 2001]
    # each draw runs both series with its own seed
    assert first.groupby("draw")["seed"].nunique().eq(2).all()
    assert (res.out / "predictive.png").is_file()
    from sim.calibration.fit import report

    text = report(res)  # the posterior's widths against the priors, said where it is read
    for row in res.summary.to_dict("records"):
        assert f"width {row['width90_vs_prior']:.2f}" in text


def test_a_joint_fit_is_the_same_on_two_workers(joint_run, tmp_path):
    path, res = joint_run
    again = calibrate(path, tmp_path / "two", workers=2)
    pd.testing.assert_frame_equal(res.posterior, again.posterior)
    pd.testing.assert_frame_equal(res.predictive, again.predictive)


@pytest.mark.slow
def test_parameter_recovery_of_the_joint_fit(tmp_path):
    """Both series simulated at known values, each in its own run: fitted back within the
    90% intervals, which are narrower than the prior's."""
    from sim.calibration.simulate import apply_values, simulate_series

    truth = {"sd_effect_init": 0.22, "practice_effects.rate_perf": 0.1}
    over = {"n_schools": 100, "n_authorities": 2}
    cal = yaml.safe_load(joint(tmp_path).read_text())
    cal["overrides"] = over
    cal["parameters"] = {
        "sd_effect_init": None,
        "practice_effects.rate_perf": {"range": [0.03, 0.4]},
    }
    setup_years = {"english": (1998, np.arange(1999, 2006)), "maths": (1999, np.arange(2000, 2006))}
    from sim.calibration.files import observation_steps
    from sim.model.scenario import load_scenario

    for k, (name, (start, years)) in enumerate(setup_years.items()):
        base = load_scenario(TOP_DOWN, {**over, "start_year": float(start)}).model_dump(mode="json")
        steps = observation_steps(years, float(start), 9, 5, 1.0)
        y = simulate_series(apply_values(base, truth), 20261206 + k, steps, 100.0)
        pd.DataFrame({"year": years, "simulated": y}).to_csv(tmp_path / f"{name}.csv", index=False)
        spec = cal["series"][name]
        spec.update(file=f"{name}.csv", years=None, fit_until=None, start_level=None)
        spec["statistics"] = ["levels", {"slope": [2002, 2005], "weight": 3}]
        for key in ("years", "fit_until", "start_level"):
            del spec[key]
    cal.update(population=40, generations=4, predictive=10, seed=5)
    (tmp_path / "cal.yaml").write_text(yaml.safe_dump(cal))
    res = calibrate(tmp_path / "cal.yaml", tmp_path / "out", workers=2)
    for row in res.summary.to_dict("records"):
        assert row["p05"] <= truth[row["parameter"]] <= row["p95"], row
        assert row["width90_vs_prior"] < 1.0, row


# ------------------------------------------------------------------ which story fits
class _History:
    """A stand-in for pyabc's History: probabilities by generation and model."""

    def __init__(self, table):
        self.table = table

    def get_model_probabilities(self):
        return self.table


def test_a_story_that_dies_keeps_its_zero_and_is_counted():
    from sim.calibration.selection import _probabilities

    names = ["a", "b", "c"]
    # pyabc leaves out a model with no particle (b at t=1 in the first run)
    first = pd.DataFrame({0: [0.3, 0.6], 1: [0.3, np.nan], 2: [0.4, 0.4]}, index=[0, 1])
    second = pd.DataFrame({0: [0.5, 0.7], 1: [0.2, 0.1], 2: [0.3, 0.2]}, index=[0, 1])
    probs = pd.concat(
        [
            _probabilities(_History(first), names).assign(repeat=0),
            _probabilities(_History(second), names).assign(repeat=1),
        ]
    )
    assert probs.groupby(["repeat", "generation"])["probability"].sum().round(9).eq(1).all()
    s = summarise(probs, names).set_index("model")
    assert s.loc["b", "min"] == 0.0 and s.loc["b", "died_out"] == 1
    assert s.loc["b", "died_at_generation"] == 1
    assert s.loc["a", "mean"] == pytest.approx(0.65) and s.loc["a", "died_out"] == 0
    assert s.loc["a", "sd"] == pytest.approx(np.std([0.6, 0.7], ddof=1))


def stories(tmp_path: Path, **kw) -> Path:
    path = joint(tmp_path, "stories.yaml", population=10, generations=2, predictive=4)
    data = yaml.safe_load(path.read_text())
    data.pop("scenario")
    data["models"] = {
        "transfer": {"scenario": str(ROOT / "scenarios/stories/transfer.yaml")},
        "loosening": {"scenario": str(ROOT / "scenarios/stories/transfer_then_loosening.yaml")},
    }
    data["repeats"] = 2
    data.update(kw)
    path.write_text(yaml.safe_dump(data, sort_keys=False))  # the stories in file order
    return path


def test_a_model_selection_runs_repeats_and_checks_each_story(tmp_path, capsys):
    path = stories(tmp_path)
    assert main(["calibrate", str(path), "--out", str(tmp_path / "o"), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "posterior model probabilities" in out and "loosening" in out
    probs = pd.read_csv(tmp_path / "o" / "model_probabilities.csv")
    assert set(probs["repeat"]) == {0, 1} and set(probs["model"]) == {"transfer", "loosening"}
    assert probs.groupby(["repeat", "generation"])["probability"].sum().round(9).eq(1).all()
    assert probs.groupby("repeat")["seed"].nunique().eq(1).all() and probs["seed"].nunique() == 2
    summary = pd.read_csv(tmp_path / "o" / "model_summary.csv")
    assert list(summary["model"]) == ["transfer", "loosening"]
    checks = pd.read_csv(tmp_path / "o" / "predictive_checks.csv")
    assert set(checks["series"]) == {"english", "maths"} and checks["fitted"].any()
    assert (checks["crps"] >= 0).all()
    for name in ("model_probabilities.png", "predictive_checks.png", "summary.json"):
        assert (tmp_path / "o" / name).is_file()
    assert (tmp_path / "o" / "repeat_1" / "history.db").is_file()


def test_a_model_selection_is_the_same_on_two_workers(tmp_path):
    path = stories(tmp_path, repeats=1, generations=1)
    one = calibrate(path, tmp_path / "one", workers=1)
    two = calibrate(path, tmp_path / "two", workers=2)
    assert isinstance(one, Selection)
    pd.testing.assert_frame_equal(one.probabilities, two.probabilities)


def test_bad_model_entries_are_refused(tmp_path):
    path = stories(tmp_path)
    data = yaml.safe_load(path.read_text())
    data["models"]["loosening"]["parameters"] = {"sd_effect_init": None}
    path.write_text(yaml.safe_dump(data))
    assert "give it once" in refused(prepare, path)
    data["models"] = {"only": {"scenario": str(TOP_DOWN)}}
    path.write_text(yaml.safe_dump(data))
    assert "models" in refused(prepare, path)
    data["models"] = {"a": {"scenario": str(TOP_DOWN)}, "b": {"scenario": "nowhere.yaml"}}
    path.write_text(yaml.safe_dump(data))
    assert "nowhere" in refused(prepare, path)
    # Each series here sets its own start_year, which wins over a story's; a story on
    # another step length is on other dates.
    data["models"]["b"] = {"scenario": str(TOP_DOWN), "overrides": {"dur_step": 0.5}}
    path.write_text(yaml.safe_dump(data))
    assert "fit it or fix it" in refused(prepare, path) or "same dates" in refused(prepare, path)


# ------------------------------------------------------------------ honest forecasts
def test_a_rolling_forecast_scores_every_origin(tmp_path, capsys):
    path = joint(tmp_path, rolling={"origins": [2000, 2001, 2002], "horizon": 3})
    out = tmp_path / "roll"
    assert main(["forecast", str(path), "--quick", "--out", str(out), "--workers", "1"]) == 0
    err = capsys.readouterr()
    assert "2 origins (2000, 2001)" in err.err and "not a result" in err.err
    assert "mean CRPS" in err.out
    scores = pd.read_csv(out / "scores.csv")
    assert sorted(scores["origin"].unique()) == [2000, 2001]
    assert (scores["horizon"] == scores["year"] - scores["origin"]).all()
    assert scores["horizon"].between(1, 3).all()
    summary = pd.read_csv(out / "summary.csv")
    overall = summary[(summary["series"] == "all") & (summary["horizon"] == "all")].iloc[0]
    assert overall["n"] == len(scores)
    assert overall["model_crps"] == pytest.approx(scores["model_crps"].mean())
    assert overall["coverage_90"] == pytest.approx(scores["in_band_90"].mean())
    assert (out / "scores.png").is_file() and (out / "origin_2001" / "posterior.parquet").is_file()
    notes = json.loads((out / "summary.json").read_text())["notes"]
    assert any("past the origin" in n or "cut to" in n for n in notes["2000"])


def test_rolling_origins_are_checked(tmp_path):
    from sim.calibration.rolling import plan

    path = joint(tmp_path)
    assert "rolling: missing" in refused(plan, path)
    assert "rolling origin 1998" in refused(plan, path, [1998])
    assert "no observed year after it" in refused(plan, path, [2005])
    assert "fits one model" in refused(plan, stories(tmp_path), [2001])


# ------------------------------------------------------------------ worlds from evidence
def _posterior(tmp: Path, **columns) -> Path:
    folder = tmp / "cal"
    folder.mkdir(exist_ok=True)
    n = len(next(iter(columns.values())))
    pd.DataFrame({**columns, "weight": np.full(n, 1.0 / n), "generation": 0}).to_parquet(
        folder / "posterior.parquet"
    )
    return folder


def _robust(tmp: Path, worlds: dict) -> Path:
    spec = {
        "root_seed": 3,
        "replications": 1,
        "steps": 2,
        "overrides": {"n_schools": 20, "n_authorities": 2, "n_towns": 1},
        "design": {
            "method": "robustness",
            "policies": [
                {"name": "td", "levers": {"strategy": "top_down"}},
                {"name": "np", "levers": {"strategy": "next_practice"}},
            ],
            "worlds": worlds,
            "measures": {"final_perf_mean": "max"},
        },
    }
    path = tmp / "robust.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_worlds_mix_evidence_and_ranges_by_default(tmp_path):
    _posterior(tmp_path, sd_judge=[0.2, 0.4, 0.6], init_trust=[0.3, 0.4, 0.5])
    path = _robust(
        tmp_path,
        {"posterior": "cal", "n": 10, "factors": ["sd_judge", "init_trust", "rate_trust"]},
    )
    plan = plan_experiment(path)
    d = plan.design
    pairs = set(zip(d["sd_judge"], d["init_trust"], strict=True))
    assert pairs <= {(0.2, 0.3), (0.4, 0.4), (0.6, 0.5)}  # whole particles, correlations kept
    assert d["rate_trust"].between(0.03, 0.25).all() and d["rate_trust"].nunique() == 10
    m = plan.extra
    assert m["worlds_from"] == "mix" and m["worlds_from_posterior"] == ["sd_judge", "init_trust"]
    assert m["worlds_from_ranges"] == ["rate_trust"]
    from sim.analysis.analyze import worlds_note

    assert "drawn from the posterior in cal" in worlds_note(m)
    assert "1 other uncertainties from their declared ranges" in worlds_note(m)
    pd.testing.assert_frame_equal(plan_experiment(path).design, d)  # same seed, same worlds


def test_an_experiment_can_turn_the_posterior_off(tmp_path):
    _posterior(tmp_path, sd_judge=[0.2, 0.4, 0.6])
    path = _robust(tmp_path, {"method": "lhs", "posterior": "cal", "n": 6, "factors": ["sd_judge"]})
    plan = plan_experiment(path)
    assert plan.design["sd_judge"].nunique() == 6  # sampled over the range, not the 3 draws
    assert plan.extra["worlds_from"] == "lhs" and not plan.extra["worlds_posterior_used"]
    from sim.analysis.analyze import worlds_note

    assert "turned off" in worlds_note(plan.extra)


def test_the_shipped_robustness_design_draws_the_fitted_parameters_from_evidence():
    from sim.experiments.posterior import load_posterior, shipped_names
    from sim.model.params import factors

    assert "ks2_joint" in shipped_names()
    post = load_posterior("ks2_joint")
    assert set(prepare(JOINT).priors) <= set(post.columns)
    plan = plan_experiment(ROOT / "experiments" / "robustness.yaml")
    m = plan.extra
    fitted = set(prepare(JOINT).priors)
    levers = {n for n in fitted if factors(("lever",)).get(n) is not None}
    assert m["worlds_from"] == "mix" and set(m["worlds_from_posterior"]) == fitted - levers
    assert set(m["worlds_posterior_levers"]) == levers  # each policy keeps its own
    assert len(m["worlds_from_ranges"]) > 20


# ------------------------------------------------------------------ sizes from the command line
def test_sizes_from_the_command_line_are_the_file_at_those_sizes(joint_run, tmp_path):
    """`--population 8 --generations 2 --predictive 6` on a bigger file is the small file."""
    path, res = joint_run
    big = joint(tmp_path, "big.yaml", population=50, generations=4, predictive=30)
    again = calibrate(
        big, tmp_path / "o", workers=1, sizes={"population": 8, "generations": 2, "predictive": 6}
    )
    pd.testing.assert_frame_equal(res.posterior, again.posterior)
    pd.testing.assert_frame_equal(res.predictive, again.predictive)
    used = json.loads((again.out / "summary.json").read_text())
    assert used["calibration"]["population"] == 8
    assert any("population 8 from the command line (the file says 50)" in n for n in used["notes"])


@functools.cache
def _prepared(path: Path):
    """A shipped file read once (the examples below only resize it)."""
    return prepare(path)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["population", "generations", "predictive", "repeats"]),
    st.integers(-(10**7), 10**7),
)
def test_a_size_is_used_or_refused_in_one_line(key, value):
    from sim.calibration.files import resized

    setup = _prepared(STORIES if key == "repeats" else JOINT)
    before = (setup.cal, list(setup.notes))
    bounds = {"population": (5, 100_000), "generations": (1, 100), "predictive": (2, 100_000)}
    lo, hi = bounds.get(key, (1, 100))
    try:
        out = resized(setup, **{key: value})
    except UserError as exc:
        text = str(exc)
        assert str(setup.path) in text and f"--{key} {value}" in text and "\n" not in text
        assert not lo <= value <= hi, text
        return
    finally:
        assert (setup.cal, setup.notes) == before  # the setup given is left as it is
    assert lo <= value <= hi and getattr(out.cal, key) == value


def test_repeats_on_the_command_line_needs_stories(capsys):
    assert main(["calibrate", str(JOINT), "--repeats", "2"]) != 0
    assert "repeats is for comparing stories" in capsys.readouterr().err


def _two_scenarios(tmp: Path, name: str, a: float, b: float) -> list[str]:
    paths = []
    for label, value in (("one", a), ("two", b)):
        path = tmp / f"{label}.yaml"
        path.write_text(f"extends: {TOP_DOWN}\n{name}: {value}\n")
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("method", ["mix", "posterior"])
def test_policies_may_differ_only_in_levers_and_world_factors(tmp_path, method):
    """A world factor drawn from the posterior is the world's: policies may differ in it
    (the world's value replaces theirs); in anything else that is not a lever they may not."""
    _posterior(tmp_path, sd_judge=[0.2, 0.4, 0.6])
    worlds = {"method": method, "posterior": "cal", "n": 4}
    if method == "mix":
        worlds["factors"] = ["sd_judge", "rate_trust"]
    path = _robust(tmp_path, worlds)
    spec = yaml.safe_load(path.read_text())
    spec["design"]["policies"] = _two_scenarios(tmp_path, "sd_judge", 0.3, 0.5)
    path.write_text(yaml.safe_dump(spec))
    assert set(plan_experiment(path).design["sd_judge"]) <= {0.2, 0.4, 0.6}
    spec["design"]["policies"] = _two_scenarios(tmp_path, "init_trust", 0.3, 0.5)
    path.write_text(yaml.safe_dump(spec))
    assert "differ in init_trust" in refused(plan_experiment, path)
