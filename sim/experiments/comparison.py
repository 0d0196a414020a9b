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

**Replications by precision** (``compare --precision``, :func:`compare`'s
``precision``): rather than a fixed number of replications, add them in batches until
the 95% interval of each paired difference from the baseline is at most as wide as
asked (its half-width at most ``H``), or a maximum is reached; the sequential
procedure of Law (*Simulation Modeling and Analysis*, 5th ed., section 9.4.1). The
first batch is the ``replications`` asked for, at least :data:`MIN_FIRST_BATCH`: a
rule that stops as soon as an interval looks narrow enough stops early too often when
the variance is estimated from a few runs, and its intervals then cover less often
than their 95% (Law's reason for a first batch of at least ten). Each further batch
brings the total to the number Law's estimate says is needed (the least ``i`` with
``t(i-1) s / sqrt(i) <= H``, ``s`` the paired differences' sd so far), at most
:data:`GROWTH` times it, so a poor early estimate of ``s`` cannot overshoot far; few,
large batches also mean few looks at the interval, and each look is a chance to stop
on a lucky low estimate of ``s``. Replication
``r`` keeps its seed however many there are (:func:`sim.experiments.run_seed`), so the
runs of one batch are kept by the next, and a comparison that stopped at ``n``
replications is, file for file, the comparison of ``n`` replications asked for
outright. ``precision.csv`` records each batch's half-widths; ``compare.json`` the
replications used and whether the target was reached.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from sim import __version__
from sim.core.errors import RunsFailed, UserError

#: Level of the intervals of a mean and of a paired mean difference.
CONFIDENCE = 0.95
#: The least first batch of a comparison by precision (Law 2015, section 9.4.1: at
#: least ten, or the variance estimate behind the stopping rule is too rough).
MIN_FIRST_BATCH = 10
#: A batch of a comparison by precision at most multiplies the replications by this.
GROWTH = 4
#: The outcome ``--precision H`` applies to when it names none.
PRECISION_OUTCOME = "final_perf_mean"
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
    "precision.csv",
    "failed_runs.csv",
)


def compare_plan(
    scenarios: dict[str, Any],
    replications: int,
    root_seed: int,
    out_dir: Path,
    steps: int | None = None,
    per_replication: list[dict[str, Any]] | None = None,
    model: str = "nextpractice",
):
    """The comparison as a checked sweep plan: a list design with one row per scenario.

    Writes ``compare.yaml`` into ``out_dir``: the experiment as run (its scenarios'
    full parameters are in the sweep's ``manifest.json`` under ``bases``).

    Args:
        scenarios: Label to parameters (:class:`Params`, or a mapping of the model's
            parameter values), in the order to report them.
        replications: Runs per scenario.
        root_seed: Every seed derives from it.
        out_dir: The comparison's folder.
        steps: Steps per run; None: each scenario's ``n_steps``.
        per_replication: Values on top of every scenario's parameters in replication
            ``r`` (posterior draws), or None.
        model: A registered model's name (:data:`sim.experiments.MODELS`); the test
            models compare too.

    Returns:
        A :class:`sim.experiments.Plan`.
    """
    import yaml

    from sim.experiments import SCENARIO, SCENARIO_FACTOR, Experiment, Plan, get_model

    if not scenarios:
        raise UserError("compare: give at least one scenario")
    spec = get_model(model)
    rows = [{SCENARIO: label} for label in scenarios]
    data = {
        "name": NAME,
        "description": "nextpractice compare: the scenarios side by side",
        **({"model": model} if model != "nextpractice" else {}),
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
    params_cls = spec.params_cls()
    bases = {
        label: (p if isinstance(p, BaseModel) else params_cls.model_validate(dict(p))).model_dump(
            mode="json"
        )
        for label, p in scenarios.items()
    }
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
    scenarios: dict[str, Any],
    replications: int,
    root_seed: int,
    out_dir: Path,
    steps: int | None = None,
    workers: int | None = None,
    progress: bool = False,
    scheduler: str | None = None,
    baseline: str | None = None,
    per_replication: list[dict[str, Any]] | None = None,
    *,
    precision: dict[str, float] | None = None,
    max_replications: int | None = None,
    allow_failures: bool = False,
    model: str = "nextpractice",
    about: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Run each scenario ``replications`` times through the sweep machinery; write tidy results.

    Args:
        scenarios: Label to parameters (:class:`sim.model.params.Params`, or for another
            registered model a mapping of its parameter values), in report order.
        replications: Runs per scenario; replication ``r`` has the same seed in each.
            With ``precision``, the first batch (at least :data:`MIN_FIRST_BATCH`).
        root_seed: Every seed derives from it (as in an experiment file).
        out_dir: Output folder.
        steps: Steps per run; None: each scenario's ``n_steps``.
        workers: Local worker processes (default: the CPUs available; 1: this process).
        progress: Show the runs done on stderr.
        scheduler: A Dask scheduler's address, to run on its workers instead.
        baseline: A scenario's label: also write paired differences against it.
        per_replication: For each replication, parameter values put on top of every
            scenario's (e.g. posterior draws,
            :func:`sim.experiments.posterior.replication_overrides`):
            the same in every scenario, so differences stay paired; written to
            ``draws.csv`` (and beside each run in the sweep's results). With
            ``precision``, give one for each of ``max_replications``.
        precision: Outcome to the largest half-width of the 95% interval of its paired
            difference from ``baseline`` (in the outcome's unit): add replications in
            batches until every scenario's difference meets it (module docstring).
        max_replications: With ``precision``, the most replications to run.
        allow_failures: Accept failed runs (left out of the tables, listed in
            ``failed_runs.csv``) instead of raising.
        model: A registered model's name; its run function is used (the real model's
            keeps every step's metrics for ``runs.parquet``).
        about: More to record in ``compare.json`` for readers of the results (the
            scenarios' files, labels and looks, :func:`sim.core.looks.assign`).

    Returns:
        The per-run outcomes table (scenario, replication, seed, one column per outcome).

    Raises:
        UserError: A bad baseline or precision request.
        RunsFailed: A run failed (and ``allow_failures`` is False); the finished runs
            stay on disk and ``failed_runs.csv`` lists the failed ones.
    """
    out_dir = Path(out_dir)
    if baseline is not None and baseline not in scenarios:
        raise UserError(
            f"--baseline {baseline!r}: not one of the compared scenarios "
            f"({', '.join(scenarios)}); give one of those names"
        )
    if precision is None:
        per_run, _ = _compare_once(
            scenarios,
            replications,
            root_seed,
            out_dir,
            steps,
            workers,
            progress,
            scheduler,
            baseline,
            per_replication,
            allow_failures,
            model,
            about=about,
        )
        _write_meta(
            out_dir,
            root_seed,
            replications,
            baseline,
            per_replication,
            scenarios,
            per_run,
            None,
            about,
        )
        return per_run
    most = _check_precision(
        scenarios, replications, baseline, precision, max_replications, per_replication
    )
    # Every run already in the folder that some batch would run (an interrupted or
    # earlier comparison of these scenarios), kept across the batches: none is run twice.
    full = per_replication[:most] if per_replication is not None else None
    largest = compare_plan(scenarios, most, root_seed, out_dir, steps, full, model)
    carry = _earlier_runs(out_dir, largest, same_ok=True)
    n, history = replications, []
    while True:
        draws = per_replication[:n] if per_replication is not None else None
        per_run, plan = _compare_once(
            scenarios,
            n,
            root_seed,
            out_dir,
            steps,
            workers,
            progress,
            scheduler,
            baseline,
            draws,
            allow_failures,
            model,
            carry,
            about,
        )
        diffs = paired_differences(per_run, typing.cast(str, baseline))
        stage = _half_widths(diffs, precision, n)
        history.append(stage)
        met = bool((stage["half_width"] <= stage["target"]).all())
        if met or n >= most:
            break
        needed = float(stage["needed"].max())  # inf where an interval has no width yet
        n = min(
            most,
            max(n + 1, GROWTH * n if not math.isfinite(needed) else min(GROWTH * n, int(needed))),
        )
    table = pd.concat(history, ignore_index=True)
    table.to_csv(out_dir / "precision.csv", index=False)
    info = {
        "targets": dict(precision),
        "first_batch": replications,
        "max_replications": most,
        "replications": n,
        "batches": [int(h["replications"].iat[0]) for h in history],
        "reached": met,
        "worst": stage.sort_values("ratio", ascending=False)
        .iloc[0][["scenario", "outcome", "half_width", "target"]]
        .to_dict(),
    }
    _write_meta(out_dir, root_seed, n, baseline, draws, scenarios, per_run, info, about)
    return per_run


def _check_precision(
    scenarios: dict[str, Any],
    first: int,
    baseline: str | None,
    precision: dict[str, float],
    most: int | None,
    per_replication: list[dict[str, Any]] | None,
) -> int:
    """Check a request for replications by precision; the most replications to run."""
    if baseline is None:
        raise UserError(
            "--precision: the half-widths are those of paired differences from a "
            "baseline; add --baseline NAME (one of the compared scenarios)"
        )
    if len(scenarios) < 2:
        raise UserError("--precision: give at least two scenarios, one of them the baseline")
    if first < MIN_FIRST_BATCH:
        raise UserError(
            f"--precision: the first batch (--replications {first}) must be at least "
            f"{MIN_FIRST_BATCH}: a stopping rule on fewer runs stops too early too often "
            f"(Law 2015, 9.4.1); set --replications {MIN_FIRST_BATCH} or more"
        )
    for outcome, target in precision.items():
        if not (isinstance(target, int | float) and math.isfinite(target) and target > 0):
            raise UserError(
                f"--precision {outcome}={target!r}: the half-width must be a number above 0"
            )
    most = int(most) if most is not None else 10 * first
    if most < first:
        raise UserError(
            f"--max-replications {most} is below the first batch (--replications {first}); "
            "raise it or lower --replications"
        )
    if per_replication is not None and len(per_replication) < most:
        raise UserError(
            f"--precision: {len(per_replication)} per-replication draws for up to {most} "
            "replications; draw one for each"
        )
    return most


def _half_widths(diffs: pd.DataFrame, precision: dict[str, float], n: int) -> pd.DataFrame:
    """Each targeted difference's half-width, its target, and Law's replications needed."""
    from scipy.stats import t

    unknown = sorted(set(precision) - set(diffs["outcome"]))
    if unknown:
        raise UserError(
            f"--precision: unknown outcome(s) {', '.join(unknown)}; "
            "`nextpractice params --outcomes` lists them"
        )
    rows = []
    level = 0.5 + CONFIDENCE / 2
    for r in diffs[diffs["outcome"].isin(precision)].itertuples():
        half = (r.ci_hi - r.ci_lo) / 2
        target = float(precision[r.outcome])
        needed = float("inf")
        if math.isfinite(half) and r.n > 1:
            sd = half / t.ppf(level, r.n - 1) * math.sqrt(r.n)
            i = max(n, math.ceil((1.96 * sd / target) ** 2))  # a start; then t's own df
            while t.ppf(level, i - 1) * sd / math.sqrt(i) > target:
                i += 1
            needed = i
        rows.append(
            {
                "replications": n,
                "scenario": r.scenario,
                "outcome": r.outcome,
                "half_width": half if math.isfinite(half) else float("inf"),
                "target": target,
                "ratio": (half / target) if math.isfinite(half) else float("inf"),
                "needed": needed,
            }
        )
    return pd.DataFrame(rows)


def _compare_once(
    scenarios: dict[str, Any],
    replications: int,
    root_seed: int,
    out_dir: Path,
    steps: int | None,
    workers: int | None,
    progress: bool,
    scheduler: str | None,
    baseline: str | None,
    per_replication: list[dict[str, Any]] | None,
    allow_failures: bool,
    model: str,
    carry: dict[tuple[int, int], Any] | None = None,
    about: dict[str, Any] | None = None,
):
    """One comparison of ``replications`` replications: the sweep, then the tables.

    ``carry``: runs on record from before (:func:`_earlier_runs`), used where the folder's
    own earlier comparison does not have them. ``about``: as :func:`compare`'s.
    """
    from sim.experiments.sweep import (
        FAILED,
        failed_runs,
        failure_message,
        load_results,
        load_series,
        run_nextpractice_series,
        sweep_plan,
    )

    plan = compare_plan(scenarios, replications, root_seed, out_dir, steps, per_replication, model)
    if about and "looks" in about:
        plan.extra["looks"] = about["looks"]  # for `analyze` of this folder's figures
    if per_replication is not None:
        pd.DataFrame(per_replication).rename_axis("replication").to_csv(out_dir / "draws.csv")
    reuse = {**(carry or {}), **_earlier_runs(out_dir, plan)}
    _clear_other_comparison(out_dir, plan.fingerprint())
    run_fn = run_nextpractice_series if model == "nextpractice" else None
    sweep_plan(plan, out_dir, workers, scheduler, progress, run_fn=run_fn, reuse=reuse)

    labels = list(scenarios)
    res = load_results(out_dir)
    failed, _ = failed_runs(out_dir)
    if len(failed) and not allow_failures:
        raise RunsFailed(
            failure_message(
                f"compare {out_dir}",
                failed,
                len(res),
                out_dir / FAILED,
                "the finished runs are kept in the results. To compare the runs that "
                "finished pass --allow-failures, or fix the cause and compare into a new --out",
            )
        )
    ok = res[res["status"] == "ok"]
    per_run = ok[["scenario", "replication", "seed", *plan.outcomes]].reset_index(drop=True)

    try:
        series = load_series(out_dir)
    except UserError:
        series = None  # a model that keeps no per-step series, or no run finished
    if series is not None:
        series = series.sort_values(["run_id", "step"], kind="stable")
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
    return per_run, plan


def _write_meta(
    out_dir: Path,
    root_seed: int,
    replications: int,
    baseline: str | None,
    per_replication: list[dict[str, Any]] | None,
    scenarios: dict[str, Any],
    per_run: pd.DataFrame,
    precision: dict[str, Any] | None,
    about: dict[str, Any] | None = None,
) -> None:
    from sim.experiments.seeds import run_seed

    meta = {
        "version": __version__,
        "root_seed": root_seed,
        "replications": replications,
        "seeds": [run_seed(root_seed, 0, r, common=True) for r in range(replications)],
        "seeds_common": True,
        "baseline": baseline,
        "per_replication": per_replication,
        "scenarios": {
            k: (v.model_dump() if isinstance(v, BaseModel) else dict(v))
            for k, v in scenarios.items()
        },
        **({"precision": precision} if precision is not None else {}),
        **(about or {}),
    }
    (out_dir / "compare.json").write_text(json.dumps(meta, indent=1, default=str))


def _earlier_runs(out_dir: Path, plan: Any, same_ok: bool = False) -> dict[tuple[int, int], Any]:
    """The runs of an earlier comparison in ``out_dir`` that this one would run again.

    Another comparison of the same scenarios (same full parameters, root seed, steps
    and model) with a different number of replications (or, with ``same_ok``, the same
    one): its replication ``r`` of a scenario is this one's (same seed, same
    per-replication values), so its outcomes and series are written as they are
    instead of being run again. Anything else gives nothing.
    """
    from sim.experiments.chunks import read_manifest, trusted_series
    from sim.experiments.sweep import Reused, load_results

    manifest = out_dir / "manifest.json"
    if not manifest.is_file():
        return {}
    try:
        old = read_manifest(manifest)
        same = (
            old.get("name") == NAME
            and (same_ok or old.get("fingerprint") != plan.fingerprint())
            and old.get("model") == plan.model.name
            and old.get("root_seed") == plan.experiment.root_seed
            and old.get("steps") == plan.experiment.steps
            and old.get("bases") == json.loads(json.dumps(plan.bases, default=str))
        )
        if not same:
            return {}
        files = trusted_series(out_dir)  # every chunk checked before any is read
        old_draws = _old_draws(out_dir)
        res = load_results(out_dir)
        series = (
            pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files else None
        )
    except Exception:  # noqa: BLE001 - reuse only saves time: anything odd is run again
        return {}
    series_by_run: dict[int, pd.DataFrame] = {}
    if series is not None:
        for run_id, part in series.groupby("run_id", sort=False):
            body = part.drop(columns=["run_id", "design_row", "replication", "seed"])
            series_by_run[int(run_id)] = body.reset_index(drop=True)
    new_draws = plan.per_replication
    reuse = {}
    for rec in res.to_dict("records"):
        rep = int(rec["replication"])
        if rep >= plan.experiment.replications:
            continue
        if (new_draws is None) != (old_draws is None):
            continue
        if new_draws is not None and (rep >= len(old_draws) or old_draws[rep] != new_draws[rep]):
            continue
        if rec["status"] != "ok":
            continue  # a failed run is tried again
        reuse[(int(rec["design_row"]), rep)] = Reused(
            seed=int(rec["seed"]),
            status="ok",
            error=None,
            outcomes={o: float(rec[o]) for o in plan.outcomes},
            series=series_by_run.get(int(rec["run_id"])),
        )
    return reuse


def _old_draws(out_dir: Path) -> list[dict[str, Any]] | None:
    """The per-replication draws an earlier comparison in ``out_dir`` ran with, if any."""
    meta = out_dir / "compare.json"
    if not meta.is_file():
        return None
    return json.loads(meta.read_text(encoding="utf-8")).get("per_replication")


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
