"""Scenarios side by side: ``compare`` as a list design run by the sweep machinery.

A comparison is an experiment whose design lists the scenarios (one design row each)
and whose replications share seeds across rows (common random numbers, see
:func:`sim.experiments.run_seed`): replication ``r`` of every scenario starts from the
same seed, so a difference between scenarios is not seed luck, and the difference can
be taken run by run (a paired comparison; Law, *Simulation Modeling and Analysis*, 5th
ed., section 11.2). It runs through :func:`sim.experiments.sweep.sweep_plan`, the one batch path:
one executor (local processes or a Dask scheduler), one seed scheme, one results format
(``manifest.json``, ``design.parquet``, ``results/`` chunks, which ``analyze`` reads as
it reads any sweep's), plus the per-step ``series/`` chunks the figure needs. A
scenario of a comparison and the same scenario as a design row of a sweep with the same
root seed give the same numbers.

On top of the sweep's files a comparison writes ``runs.parquet`` (every step of every
run, with scenario, replication and seed), ``outcomes.csv`` (one row per run),
``summary.csv`` (per scenario and outcome: mean, 90% range of runs, 95% interval of
the mean), ``differences.csv`` when a baseline is given, and ``compare.json``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import __version__
from sim.core.errors import UserError
from sim.model.params import Params

#: Level of the intervals of a mean and of a paired mean difference.
CONFIDENCE = 0.95
#: The file that records the comparison as an experiment (the sweep manifest's source).
EXPERIMENT_FILE = "compare.yaml"
#: Name of a comparison's plan (``manifest.json`` ``name``): marks a folder as compare's.
NAME = "compare"
_OWN_FILES = (
    "manifest.json",
    "design.parquet",
    "runs.parquet",
    "outcomes.csv",
    "summary.csv",
    "differences.csv",
    "compare.json",
    "draws.csv",
)


def compare_plan(
    scenarios: dict[str, Params],
    replications: int,
    root_seed: int,
    out_dir: Path,
    steps: int | None = None,
    per_replication: list[dict[str, Any]] | None = None,
):
    """The comparison as a checked sweep plan: a list design with one row per scenario.

    Writes ``compare.yaml`` into ``out_dir``: the experiment as run (its scenarios'
    full parameters are in the sweep's ``manifest.json`` under ``bases``).

    Args:
        scenarios: Label to parameters, in the order to report them.
        replications: Runs per scenario.
        root_seed: Every seed derives from it.
        out_dir: The comparison's folder.
        steps: Steps per run; None: each scenario's ``n_steps``.
        per_replication: Values on top of every scenario's parameters in replication
            ``r`` (posterior draws), or None.

    Returns:
        A :class:`sim.experiments.Plan`.
    """
    import yaml

    from sim.experiments import SCENARIO, SCENARIO_FACTOR, Experiment, Plan, get_model

    if not scenarios:
        raise UserError("compare: give at least one scenario")
    spec = get_model("nextpractice")
    rows = [{SCENARIO: label} for label in scenarios]
    data = {
        "name": NAME,
        "description": "nextpractice compare: the scenarios side by side",
        "root_seed": int(root_seed),
        "replications": int(replications),
        "steps": steps,
        "chunk_size": int(replications),
        "seeds": {"common": True},
        "design": {"method": "list", "rows": rows},
    }
    try:
        exp = Experiment.model_validate(data)
    except Exception as exc:  # pydantic's ValidationError, said as a UserError
        from pydantic import ValidationError

        if not isinstance(exc, ValidationError):
            raise
        first = exc.errors()[0]
        raise UserError(
            f"compare: {'.'.join(map(str, first['loc']))}: {first['msg']} "
            f"(got {first.get('input')!r})"
        ) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / EXPERIMENT_FILE
    header = (
        "# The comparison `nextpractice compare` ran, as an experiment (a list design).\n"
        "# Each scenario's full parameters are in manifest.json under `bases`.\n"
    )
    path.write_text(
        header + yaml.safe_dump(exp.model_dump(mode="json", exclude_none=True), sort_keys=False),
        encoding="utf-8",
    )
    bases = {label: p.model_dump(mode="json") for label, p in scenarios.items()}
    design = pd.DataFrame(rows, columns=[SCENARIO])
    design.index = pd.RangeIndex(len(design), name="design_row")
    return Plan(
        path=path,
        name=NAME,
        experiment=exp,
        model=spec,
        base=next(iter(bases.values())),
        factors={SCENARIO: SCENARIO_FACTOR},
        ranges={},
        problem=None,
        design=design,
        outcomes=dict(spec.outcome_names()),
        bases=bases,
        per_replication=per_replication,
    )


def _clear_other_comparison(out_dir: Path, fingerprint: str) -> None:
    """Remove a previous, different comparison's files from ``out_dir`` (only compare's own).

    A comparison rerun into the same folder replaces the last one, as it always has;
    the same comparison resumes. A folder holding another kind of sweep is left alone
    (the sweep refuses it with its own message).
    """
    manifest = out_dir / "manifest.json"
    if not manifest.is_file():
        return
    try:
        old = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if old.get("name") != NAME or old.get("fingerprint") == fingerprint:
        return
    for sub in ("results", "series"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    for name in _OWN_FILES:
        (out_dir / name).unlink(missing_ok=True)


def compare(
    scenarios: dict[str, Params],
    replications: int,
    root_seed: int,
    out_dir: Path,
    steps: int | None = None,
    workers: int | None = None,
    progress: bool = False,
    scheduler: str | None = None,
    baseline: str | None = None,
    per_replication: list[dict[str, Any]] | None = None,
    about: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Run each scenario ``replications`` times through the sweep machinery; write tidy results.

    Args:
        scenarios: Label to parameters, in the order to report them.
        replications: Runs per scenario; replication ``r`` has the same seed in each.
        root_seed: Every seed derives from it (as in an experiment file).
        out_dir: Output folder.
        steps: Steps per run; None: each scenario's ``n_steps``.
        workers: Local worker processes (default: the CPUs available; 1: this process).
        progress: Show a progress bar on stderr.
        scheduler: A Dask scheduler's address, to run on its workers instead.
        baseline: A scenario's label: also write paired differences against it.
        per_replication: For each replication, parameter values put on top of every
            scenario's (e.g. posterior draws,
            :func:`sim.experiments.posterior.replication_overrides`):
            the same in every scenario, so differences stay paired; written to
            ``draws.csv`` (and beside each run in the sweep's results).
        about: More to record in ``compare.json`` for readers of the results (the
            scenarios' files, labels and looks, :func:`sim.core.looks.assign`).

    Returns:
        The per-run outcomes table (scenario, replication, seed, one column per outcome).

    Raises:
        UserError: A run failed (the finished runs stay on disk), or a bad baseline.
    """
    from sim.experiments.sweep import load_results, load_series, run_nextpractice_series, sweep_plan

    out_dir = Path(out_dir)
    if baseline is not None and baseline not in scenarios:
        raise UserError(
            f"--baseline {baseline!r}: not one of the compared scenarios "
            f"({', '.join(scenarios)}); give one of those names"
        )
    plan = compare_plan(scenarios, replications, root_seed, out_dir, steps, per_replication)
    if about and "looks" in about:
        plan.extra["looks"] = about["looks"]  # for `analyze` of this folder's figures
    if per_replication is not None:
        pd.DataFrame(per_replication).rename_axis("replication").to_csv(out_dir / "draws.csv")
    _clear_other_comparison(out_dir, plan.fingerprint())
    sweep_plan(plan, out_dir, workers, scheduler, progress, run_fn=run_nextpractice_series)

    labels = list(scenarios)
    res = load_results(out_dir)
    failed = res[res["status"] != "ok"]
    if len(failed):
        first = failed.iloc[0]
        raise UserError(
            f"{len(failed)} of {len(res)} runs failed (first: scenario "
            f"{first['scenario']!r}, replication {first['replication']}: "
            f"{first['error']}); the finished runs are kept in {out_dir}/results"
        )
    per_run = res[["scenario", "replication", "seed", *plan.outcomes]].reset_index(drop=True)

    series = load_series(out_dir).sort_values(["run_id", "step"], kind="stable")
    series.insert(0, "scenario", [labels[r] for r in series.pop("design_row")])
    series = series.drop(columns="run_id")
    cols = ["scenario", "replication", "seed"]
    series = series[[*cols, *[c for c in series.columns if c not in cols]]]
    tmp = out_dir / ".tmp-runs.parquet"
    series.to_parquet(tmp, index=False)
    os.replace(tmp, out_dir / "runs.parquet")

    per_run.to_csv(out_dir / "outcomes.csv", index=False)
    summarise(per_run).to_csv(out_dir / "summary.csv", index=False)
    if baseline is not None:
        paired_differences(per_run, baseline).to_csv(out_dir / "differences.csv", index=False)
    meta = {
        "version": __version__,
        "root_seed": root_seed,
        "replications": replications,
        "seeds": [plan.run_seed(0, r) for r in range(replications)],
        "seeds_common": True,
        "baseline": baseline,
        "per_replication": per_replication,
        "scenarios": {k: v.model_dump() for k, v in scenarios.items()},
        **(about or {}),
    }
    (out_dir / "compare.json").write_text(json.dumps(meta, indent=1, default=str))
    return per_run


def _t_half_width(sd: float, n: int) -> float:
    """Half the width of the two-sided t interval of a mean at :data:`CONFIDENCE`."""
    if n < 2 or not math.isfinite(sd):
        return float("nan")
    from scipy.stats import t

    return float(t.ppf(0.5 + CONFIDENCE / 2, n - 1) * sd / math.sqrt(n))


def summarise(per_run: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and outcome: mean, the 90% range of runs, and the 95% interval of the mean.

    Columns: ``scenario``, ``outcome``, ``mean``, ``p05`` and ``p95`` (5th and 95th
    percentiles over replications: where runs fall), ``ci_lo`` and ``ci_hi`` (Student t
    interval of the mean: how well the mean is known), ``n``. Scenarios and outcomes keep
    the order they have in ``per_run``.
    """
    long = per_run.melt(id_vars=["scenario", "replication", "seed"], var_name="outcome")
    g = long.groupby(["scenario", "outcome"], sort=False)["value"]
    out = pd.DataFrame(
        {
            "mean": g.mean(),
            "p05": g.quantile(0.05),
            "p95": g.quantile(0.95),
            "sd": g.std(),
            "n": g.count(),
        }
    ).reset_index()
    half = [_t_half_width(sd, n) for sd, n in zip(out["sd"], out["n"], strict=True)]
    out["ci_lo"] = out["mean"] - half
    out["ci_hi"] = out["mean"] + half
    return out[["scenario", "outcome", "mean", "p05", "p95", "ci_lo", "ci_hi", "n"]]


def paired_differences(per_run: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Each scenario minus the baseline, replication by replication, with the mean's interval.

    Replications of a comparison share seeds, so scenario and baseline runs pair by
    replication; the interval of the mean difference (Student t on the paired
    differences) is narrower than comparing two unpaired intervals whenever the pairs
    are positively correlated.

    Returns:
        Columns ``scenario``, ``outcome``, ``mean_diff``, ``ci_lo``, ``ci_hi``, ``n``
        (pairs with both values), for every scenario but the baseline.
    """
    outcomes = [c for c in per_run.columns if c not in ("scenario", "replication", "seed")]
    base = per_run[per_run["scenario"] == baseline].set_index("replication")[outcomes]
    rows = []
    for label in dict.fromkeys(per_run["scenario"]):
        if label == baseline:
            continue
        other = per_run[per_run["scenario"] == label].set_index("replication")[outcomes]
        diff = other.sub(base).dropna(how="all")
        for name in outcomes:
            d = diff[name].dropna().to_numpy()
            mean = float(np.mean(d)) if len(d) else float("nan")
            half = _t_half_width(float(np.std(d, ddof=1)) if len(d) > 1 else float("nan"), len(d))
            rows.append(
                {
                    "scenario": label,
                    "outcome": name,
                    "mean_diff": mean,
                    "ci_lo": mean - half,
                    "ci_hi": mean + half,
                    "n": len(d),
                }
            )
    return pd.DataFrame(rows, columns=["scenario", "outcome", "mean_diff", "ci_lo", "ci_hi", "n"])


def _cell(mean: float, lo: float, hi: float) -> str:
    if not math.isfinite(lo):
        return f"{mean:.4f}"
    return f"{mean:.4f} [{lo:.4f}, {hi:.4f}]"


def summary_table(summary: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Printable table: one row per outcome, one column per scenario (given order), "mean [CI]"."""
    s = summary[summary["outcome"].isin(outcomes)]
    cells = {(r.outcome, r.scenario): _cell(r.mean, r.ci_lo, r.ci_hi) for r in s.itertuples()}
    labels = list(dict.fromkeys(summary["scenario"]))
    return pd.DataFrame(
        {lab: [cells.get((o, lab), "") for o in outcomes] for lab in labels},
        index=pd.Index(outcomes, name="outcome"),
    )


def differences_table(diffs: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Printable paired differences: one row per outcome, one column per scenario."""
    d = diffs[diffs["outcome"].isin(outcomes)]
    cells = {(r.outcome, r.scenario): _cell(r.mean_diff, r.ci_lo, r.ci_hi) for r in d.itertuples()}
    labels = list(dict.fromkeys(diffs["scenario"]))
    return pd.DataFrame(
        {lab: [cells.get((o, lab), "") for o in outcomes] for lab in labels},
        index=pd.Index(outcomes, name="outcome"),
    )
