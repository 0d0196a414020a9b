"""Which story fits: ABC model selection over scenarios, repeated over seeds.

A calibration file with ``models:`` names several stories (each a scenario, often with
a ``schedule:`` of changes at dates) fitted to the same series with the same summary
statistics and, for the parameters they share, the same priors. One ABC-SMC run samples
(story, parameters) together (Toni et al. 2009, J R Soc Interface 6:187; Grelaud et al.
2009, Bayesian Analysis 4:317; pyabc's ``model_selection`` example): a story whose
simulations come closer to the data more often keeps more particles, and its share of
the last generation's weight is its posterior probability
(``History.get_model_probabilities``), under a uniform prior over the stories.

The known pitfalls, and what is done about them:

- *One distance for every story.* The summary statistics are the data's levels, gains
  and slopes (:mod:`sim.calibration.stats`), which mean the same whichever story is
  asked to reproduce them; the distance is computed the same way for all.
- *A story can die out* in an early generation: it then has no particle and no
  posterior from that generation on. Its probability is kept as 0 (never left out),
  and ``model_summary.csv`` says in how many repeats it died and in which generation.
- *Probabilities from a few generations vary between seeds.* ``repeats:`` runs the
  whole selection from that many seeds (the seed tree under ``seed``); the table gives
  each story's final probability in every repeat and their mean, standard deviation,
  least and most.
- *A probability is not a fit.* Each story with a posterior gets posterior predictive
  runs (from the first repeat), scored against every year it reaches: whether the data
  lie in its bands, and the CRPS (``predictive_checks.csv``, ``predictive_checks.png``).

Outputs (one folder): ``repeat_<r>/`` (pyabc's ``history.db``, ``generations.csv``,
``model_probabilities.csv`` and each surviving story's ``posterior_<story>.parquet``);
``model_probabilities.csv`` (repeat, seed, generation, story, probability: every
story in every generation, 0 once it has died); ``model_summary.csv``;
``predictive.parquet``; ``predictive_checks.csv``; ``model_probabilities.png``;
``predictive_checks.png``; ``summary.json``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.files import Setup, prepare
from sim.calibration.predictive import posterior_summary, predictive_runs
from sim.calibration.sampler import MostFail
from sim.calibration.stats import crps_sample, in_band
from sim.core.errors import RunsFailed
from sim.experiments.executor import open_pool
from sim.experiments.seeds import tree_seed
from sim.inputs.folders import shown, writable_dir

#: The seed tree's branch under the calibration seed for the repeats' seeds.
_SEED_REPEAT = 2_000_000


@dataclass
class Selection:
    """What a model selection wrote, in memory.

    Attributes:
        out: The output folder.
        probabilities: Repeat, seed, generation, story, probability (0 once dead).
        summary: Per story: its final probability's mean, sd, least and most over the
            repeats, and in how many repeats it died out (and the earliest generation).
        posteriors: The first repeat's last-generation posterior of each story that
            survived it, by story.
        checks: The posterior predictive checks per story, series and year.
        seconds: Wall time.
    """

    out: Path
    probabilities: pd.DataFrame
    summary: pd.DataFrame
    posteriors: dict[str, pd.DataFrame]
    checks: pd.DataFrame
    seconds: float


def repeat_seed(seed: int, r: int) -> int:
    """The seed of repeat ``r`` of a selection whose file gives ``seed`` (62 bits)."""
    return tree_seed(seed, _SEED_REPEAT, r) >> 1


def _probabilities(history: Any, names: list[str]) -> pd.DataFrame:
    """Every story's probability in every generation (0 where it had no particle)."""
    probs = history.get_model_probabilities()
    probs = probs.reindex(columns=range(len(names))).fillna(0.0)
    rows = [
        {"generation": int(t), "model": names[m], "probability": float(probs.loc[t, m])}
        for t in probs.index
        if int(t) >= 0
        for m in range(len(names))
    ]
    return pd.DataFrame(rows)


def _posterior(history: Any, m: int, names: list[str]) -> pd.DataFrame | None:
    """Story ``m``'s last-generation posterior, or None if it has no particle there."""
    last = int(history.max_t)
    df, w = history.get_distribution(m=m, t=last)
    if len(df) == 0:
        return None
    post = df[list(names)].reset_index(drop=True).astype(float)
    post["weight"] = np.asarray(w, float) / np.sum(w)
    post["generation"] = last
    return post


def summarise(probs: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Per story: the final probability over the repeats, and where it died out."""
    rows = []
    for name in names:
        mine = probs[probs["model"] == name].reset_index(drop=True)
        final = mine.loc[mine.groupby("repeat")["generation"].idxmax(), "probability"]
        dead_at = [
            int(g["generation"][g["probability"] == 0].min())
            for _, g in mine.groupby("repeat")
            if (g.sort_values("generation")["probability"].iloc[-1] == 0)
        ]
        rows.append(
            {
                "model": name,
                "mean": float(final.mean()),
                "sd": float(final.std(ddof=1)) if len(final) > 1 else float("nan"),
                "min": float(final.min()),
                "max": float(final.max()),
                "repeats": int(len(final)),
                "died_out": len(dead_at),
                "died_at_generation": min(dead_at) if dead_at else None,
            }
        )
    return pd.DataFrame(rows)


def predictive_checks(setup: Setup, pred: pd.DataFrame) -> pd.DataFrame:
    """Each story's posterior predictive against every observed year it reaches.

    One row per story, series and year: whether the year was fitted, the observation,
    the predictive median and 5% and 95% quantiles, whether the observation lies in
    the 50% and 90% bands, and the CRPS (:func:`sim.calibration.stats.crps_sample`).
    """
    rows = []
    for model, mine in pred.groupby("model", sort=False):
        for name, part in setup.parts.items():
            s = part.series
            reach = part.steps >= 1
            fitted = dict(zip(s.years, part.fit, strict=True))
            for year, y in zip(s.years[reach], s.values[reach], strict=True):
                sel = (mine["series"] == name) & (mine["year"] == year)
                x = mine.loc[sel, "value"].to_numpy(float)
                if not len(x):
                    continue
                q05, q50, q95 = np.quantile(x, [0.05, 0.5, 0.95])
                rows.append(
                    {
                        "model": model,
                        "series": name,
                        "year": int(year),
                        "fitted": bool(fitted[year]),
                        "observed": float(y),
                        "median": q50,
                        "p05": q05,
                        "p95": q95,
                        "in_band_50": in_band(x, y, 0.5),
                        "in_band_90": in_band(x, y, 0.9),
                        "crps": crps_sample(x, y),
                    }
                )
    return pd.DataFrame(rows)


def select(
    path: str | Path,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
    allow_failures: bool = False,
    allow_long: bool = False,
    say: Any = None,
    setup: Setup | None = None,
) -> Selection:
    """Run a model selection file: ``repeats`` ABC-SMC runs over the stories, then checks.

    Arguments as :func:`sim.calibration.fit.calibrate`, which calls this for a file
    with ``models:``.

    Raises:
        UserError: A bad file, or a least time above an hour without ``allow_long``.
        RunsFailed: Simulations failed (after every file is written, unless
            ``allow_failures``), or more than half of a generation's did.
    """
    from sim.calibration.abc import (
        FAILED,
        _write_failures,
        check_cost,
        fresh_db,
        generations_table,
        quiet_pyabc,
        run_abc,
        sqlite_url,
        stopped,
    )

    setup = setup or prepare(path)
    cal = setup.cal
    names = list(setup.models)
    params = sorted({p for m in setup.models.values() for p in m.priors})
    out = writable_dir(out or Path("runs") / Path(path).stem)
    sqlite_url(out / "history.db")  # a folder whose name survives an SQL URL, or say so now
    cost = check_cost(setup, workers, scheduler, allow_long, say)
    quiet_pyabc(progress)
    t0 = time.perf_counter()
    (out / FAILED).unlink(missing_ok=True)
    tables, gens_all, failures = [], [], []
    posteriors: dict[str, pd.DataFrame] = {}
    simulations = 0
    with open_pool(workers, scheduler) as pool:
        for r in range(cal.repeats):
            seed = repeat_seed(cal.seed, r)
            rdir = writable_dir(out / f"repeat_{r}")
            try:
                history, sampler = run_abc(setup, fresh_db(rdir), pool, seed, names)
            except MostFail as exc:
                raise stopped("calibrate", path, rdir, exc, params) from None
            simulations += sampler.simulations
            failures += sampler.failures
            probs = _probabilities(history, names)
            probs.to_csv(rdir / "model_probabilities.csv", index=False)
            gens = generations_table(history)
            gens.to_csv(rdir / "generations.csv", index=False)
            tables.append(probs.assign(repeat=r, seed=seed))
            gens_all.append(gens.assign(repeat=r, seed=seed))
            for m, name in enumerate(names):
                post = _posterior(history, m, list(setup.models[name].priors))
                if post is None:
                    continue
                post.to_parquet(rdir / f"posterior_{name}.parquet", index=False)
                if r == 0:
                    posteriors[name] = post
        preds = []
        for name, post in posteriors.items():
            pred, failed = predictive_runs(setup, post, pool, model=name)
            preds.append(pred.assign(model=name))
            failures += failed
    probabilities = pd.concat(tables, ignore_index=True)[
        ["repeat", "seed", "generation", "model", "probability"]
    ]
    summary = summarise(probabilities, names)
    pred = pd.concat(preds, ignore_index=True) if preds else pd.DataFrame()
    checks = predictive_checks(setup, pred) if len(pred) else pd.DataFrame()
    seconds = time.perf_counter() - t0
    probabilities.to_csv(out / "model_probabilities.csv", index=False)
    summary.to_csv(out / "model_summary.csv", index=False)
    pd.concat(gens_all, ignore_index=True).to_csv(out / "generations.csv", index=False)
    pred.to_parquet(out / "predictive.parquet", index=False)
    checks.to_csv(out / "predictive_checks.csv", index=False)
    posterior_rows = {
        name: posterior_summary(post, setup.models[name].priors).to_dict("records")
        for name, post in posteriors.items()
    }
    _write_summary(out, setup, summary, checks, posterior_rows, cost, seconds, simulations)
    from sim.analysis.plots_calibration import model_probability_figure, predictive_check_figure

    model_probability_figure(probabilities, out / "model_probabilities.png", Path(path).stem)
    if len(pred):
        predictive_check_figure(pred, setup, out / "predictive_checks.png", Path(path).stem)
    if failures:
        _write_failures(out, failures, params)
        if not allow_failures:
            raise RunsFailed(
                f"calibrate {path}: {len(failures)} simulations failed (first: "
                f"{failures[0].error}); every failure is listed in {out / FAILED}, every "
                "file is written. To accept them pass --allow-failures, or fix the cause "
                "and calibrate again"
            )
    return Selection(out, probabilities, summary, posteriors, checks, seconds)


def _write_summary(
    out: Path,
    setup: Setup,
    summary: pd.DataFrame,
    checks: pd.DataFrame,
    posteriors: dict[str, Any],
    cost: dict[str, Any],
    seconds: float,
    simulations: int,
) -> None:
    from importlib import metadata

    from sim import __version__

    scores = []
    if len(checks):
        for (model, fitted), g in checks.groupby(["model", "fitted"], sort=False):
            scores.append(
                {
                    "model": model,
                    "years": "fitted" if fitted else "held back",
                    "n": int(len(g)),
                    "in_band_90": float(g["in_band_90"].mean()),
                    "in_band_50": float(g["in_band_50"].mean()),
                    "crps": float(g["crps"].mean()),
                }
            )
    data = {
        "version": __version__,
        "pyabc": metadata.version("pyabc"),
        "calibration_file": str(setup.path),
        "calibration": setup.cal.model_dump(),
        "models": {
            name: {
                "description": m.description,
                "schedule": m.bases[setup.first.name].get("schedule", []),
                "strategy": m.bases[setup.first.name].get("strategy"),
            }
            for name, m in setup.models.items()
        },
        "repeat_seeds": [repeat_seed(setup.cal.seed, r) for r in range(setup.cal.repeats)],
        "model_probabilities": summary.to_dict("records"),
        "posteriors_first_repeat": posteriors,
        "predictive_scores": scores,
        "observed_statistics": setup.observed_stats(),
        "notes": setup.notes,
        "seconds_total": round(seconds, 1),
        "simulations_run": int(simulations),
        "least_cost": cost,
    }
    (out / "summary.json").write_text(json.dumps(data, indent=1, default=str))


def report(sel: Selection) -> str:
    """The text ``nextpractice calibrate`` prints for a model selection."""
    lines = [
        "posterior model probabilities (last generation; over the repeats: mean, sd, "
        "least, most; stories that died out keep 0):"
    ]
    lines.append(sel.summary.to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    if len(sel.checks):
        g = sel.checks.groupby(["model", "fitted"], sort=False)
        table = g.agg(
            years=("year", "size"),
            in_band_90=("in_band_90", "mean"),
            in_band_50=("in_band_50", "mean"),
            crps=("crps", "mean"),
        ).reset_index()
        lines.append("posterior predictive checks (first repeat; share of years in band, CRPS):")
        lines.append(table.to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    lines.append(
        f"took {sel.seconds:.0f} s; wrote {shown(sel.out)}/model_probabilities.csv, "
        "model_summary.csv, predictive_checks.csv, model_probabilities.png, "
        "predictive_checks.png, summary.json and repeat_*/"
    )
    return "\n".join(lines)
