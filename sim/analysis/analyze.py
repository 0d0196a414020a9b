"""Analyse a finished sweep from its saved files alone: tables and charts.

:func:`analyze` is what ``nextpractice analyze DIR`` calls. It reads the sweep's
``manifest.json``, ``design.parquet`` and, one outcome at a time, only the columns it
needs from ``results/`` (never the whole table, never the model). By design method:

- ``sobol``: first-order (S1), total (ST) and second-order (S2) Sobol' indices with
  95% bootstrap confidence intervals for each outcome (``SALib.analyze.sobol``):
  ``sobol_indices.csv``, ``sobol_second_order.csv`` and ``sobol_<outcome>.png``.
- ``morris``: mu, mu*, sigma and the confidence interval of mu* per outcome
  (``SALib.analyze.morris``): ``morris_indices.csv`` and ``morris_<outcome>.png``.
- ``grid``: each outcome against the numeric factor with the most levels, one line
  per combination of the other factors (e.g. per strategy): the mean over
  replications and a band from the 5% to the 95% quantile of the replications
  (the 90% interval): ``grid_summary.csv`` and ``grid_<outcome>.png``.
- ``list``: mean and 90% interval per parameter set: ``list_summary.csv`` and
  ``list_<outcome>.png``.
- ``lhs``: the summary per parameter set and scatter plots of each outcome against
  each factor: ``lhs_summary.csv`` and ``lhs_<outcome>.png``.
- ``robustness``: best-share, regret, satisficing and paired differences of each
  policy over the worlds (:mod:`sim.analysis.robustness`): ``robustness.csv``,
  ``satisficing.csv``, ``paired_differences.csv``, ``world_means.csv``,
  ``regret_<measure>.png`` and ``best_share.png``; where each policy fails (is not
  the best on a measure), how often, by how much, and the PRIM box of those worlds:
  ``failures.csv``; the PRIM boxes of every "policy below another" case on every
  measure: ``cases.csv``; and all of these as the Markdown tables of
  ``docs/robustness.md``: ``robustness_tables.md``.

With ``discover``, scenario discovery (PRIM boxes and feature scores, :mod:`sim.analysis.discovery`)
runs on the case of interest it names, after the method's own analysis.

Sensitivity indices use, for each parameter set, the mean of the outcome over its
successful replications (the sensitivity of the expected outcome; with common random
numbers, replication ``r`` of every set has the same seed). Seed noise is variance no
factor explains, so beside each index stands a **noise floor** read from the
replications at fixed parameters (Marrel et al. 2012; the choice is in
``docs/decisions.md``), and whether the index's 95% interval stands clear of it:

- Sobol': each factor's floor is the total index seed noise alone would give it. SALib's
  total index is Jansen's, half the mean squared difference between the outcome at a
  base point and at the point with that factor moved, over the variance; noise in that
  difference adds its variance. The difference is computed for each replication (same
  seeds at both points: common random numbers, which shrink it), its variance over
  replications at fixed parameters is its noise, over the replications for the mean,
  halved and divided by the variance (:func:`sobol_floor`). ``ST_clear`` (and
  ``S2_clear``, against the larger floor of the pair): the lower end of the interval is
  above the floor. ``S1_clear``: that, and the factor's total index clear too, since a
  first-order index is part of its total (:func:`first_order_clear`). Beside it,
  ``noise_share``: the share of the variance of the set means that is seed noise
  (:func:`noise_share`), Marrel et al.'s measure, the floor's value were two sets' noise
  independent.
- Morris: each factor's floor is the mu* a factor without effect would show given the
  seed noise of its elementary effects: the elementary effects are computed for each
  replication, the spread over replications of each one (at fixed parameters, with the
  same seeds in every set) gives its noise, and a factor of no effect would have a mean
  absolute effect of ``sqrt(2 / pi)`` times that noise over ``sqrt(replications)``
  (:func:`morris_floor`). ``clear``: ``mu_star - mu_star_conf`` above the floor.

With one replication a set there is no floor (the columns are empty and a note says
to set ``replications`` to 2 or more). Failed runs are listed in ``failed_runs.csv``;
``summary.json`` says what was written and anything left out, and why.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
from matplotlib.figure import Figure

from sim.core.errors import UserError
from sim.core.looks import Look, assign, looks_or_default, strategy_look
from sim.experiments import DESIGN_METHODS, analysis_seed
from sim.experiments.chunks import read_manifest, trusted_chunks
from sim.experiments.sweep import DESIGN, MANIFEST
from sim.inputs.checks import writable_dir
from sim.inputs.safe_io import excerpt, read_parquet

#: Bootstrap resamples for the confidence intervals of sensitivity indices.
N_RESAMPLES = 1000
#: Confidence level of the intervals of sensitivity indices.
CONF_LEVEL = 0.95
#: Quantiles of the replication band in grid and list charts (a 90% interval).
BAND = (0.05, 0.95)


class _Sweep:
    """Read access to a sweep's output directory, column by column."""

    def __init__(self, path: Path) -> None:
        self.path = path
        manifest = path / MANIFEST
        if not manifest.is_file():
            raise UserError(
                f"{path}: no {MANIFEST} here, so this is not a sweep's output directory; "
                "give the directory `nextpractice sweep` wrote (default runs/<experiment>/)"
            )
        self.manifest: dict[str, Any] = read_manifest(manifest)
        self.design = _read_design(path / DESIGN)
        files = [str(p) for p in trusted_chunks(path, self.manifest).values()]
        if not files:
            raise UserError(f"{path}: no results yet; run `nextpractice sweep` first")
        self.dataset = ds.dataset(files, format="parquet")
        self.n_rows = len(self.design)
        self.n_runs = int(self.manifest["n_runs"])

    @property
    def outcomes(self) -> list[str]:
        """Outcome names recorded by the sweep."""
        return list(self.manifest["outcomes"])

    @property
    def factors(self) -> list[str]:
        """Varied factor names, in design column order."""
        return list(self.manifest["factors"])

    def columns(self, names: list[str]) -> dict[str, np.ndarray]:
        """Read only the given result columns."""
        table = self.dataset.to_table(columns=names)
        return {n: table.column(n).to_numpy(zero_copy_only=False) for n in names}

    def outcome(self, name: str) -> pd.DataFrame:
        """One outcome of the successful runs: ``design_row`` and ``value`` columns."""
        cols = self.columns(["design_row", "status", name])
        ok = cols["status"] == "ok"
        frame = pd.DataFrame({"design_row": cols["design_row"][ok], "value": cols[name][ok]})
        return frame[np.isfinite(frame["value"].to_numpy(dtype=float))]

    def row_means(self, name: str) -> np.ndarray:
        """Mean of an outcome over successful replications, per design row (NaN if none)."""
        frame = self.outcome(name)
        rows = frame["design_row"].to_numpy()
        values = frame["value"].to_numpy(dtype=float)
        total = np.bincount(rows, weights=values, minlength=self.n_rows)
        count = np.bincount(rows, minlength=self.n_rows)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def by_replication(self, name: str) -> np.ndarray:
        """An outcome as a (design rows x replications) array; NaN where a run failed."""
        cols = self.columns(["design_row", "replication", "status", name])
        reps = int(self.manifest["replications"])
        out = np.full((self.n_rows, reps), np.nan)
        ok = cols["status"] == "ok"
        out[cols["design_row"][ok], cols["replication"][ok]] = cols[name][ok].astype(float)
        return out

    def row_summary(self, name: str) -> pd.DataFrame:
        """Per design row: runs, mean, sd and the 90% band of an outcome over replications."""
        frame = self.outcome(name)
        grouped = frame.groupby("design_row")["value"]
        summary = pd.DataFrame(
            {
                "n": grouped.size(),
                "mean": grouped.mean(),
                "sd": grouped.std(ddof=1),
                "q05": grouped.quantile(BAND[0]),
                "q95": grouped.quantile(BAND[1]),
            }
        )
        return summary.reindex(self.design.index)


def _read_design(path: Path) -> pd.DataFrame:
    """The sweep's design table, or a UserError saying it is missing or damaged."""
    return read_parquet(
        path, "the design table a sweep writes", "restore it, or sweep again into a new --out"
    ).set_index("design_row")


def analyze(
    results_dir: str | Path, out_dir: str | Path | None = None, discover: str | None = None
) -> Path:
    """Write sensitivity tables and charts for a sweep, from its saved results.

    Args:
        results_dir: The sweep's output directory (with ``manifest.json``).
        out_dir: Where to write; default ``<results_dir>/analysis/``.
        discover: A case of interest over outcomes, for scenario discovery with PRIM
            (:mod:`sim.analysis.discovery`); robustness and sampled (lhs, sobol, morris) sweeps.

    Returns:
        The directory written to.

    Raises:
        UserError: Not a sweep directory, no results, or (for Sobol' and Morris, which
            need every parameter set) an unfinished sweep.

    """
    sweep = _Sweep(Path(results_dir))
    method = sweep.manifest["method"]
    if method not in DESIGN_METHODS:  # it fell back to the LHS analysis and said nothing
        raise UserError(
            f"{sweep.path / MANIFEST}: method {excerpt(method)} is not a design this version "
            f"analyses ({', '.join(DESIGN_METHODS)}); the manifest is damaged or from "
            "another program: sweep again into a new --out"
        )
    # Resolved once and checked before reading any result: a read-only sweep folder needs --out
    out = writable_dir(out_dir if out_dir is not None else sweep.path / "analysis")
    case = _case(sweep, discover) if discover is not None else None
    status = sweep.columns(["status"])["status"]
    n_done = len(status)
    n_failed = int((status != "ok").sum())
    if method in ("sobol", "morris") and n_done < sweep.n_runs:
        raise UserError(
            f"{sweep.path}: the sweep is unfinished ({n_done} of {sweep.n_runs} runs); a "
            f"{method} analysis needs every parameter set. Run the same sweep command again "
            "to finish it"
        )
    written: list[str] = []
    notes: list[str] = []
    if n_failed:
        written.append(_failed_runs(sweep, out))
    if method == "sobol":
        written += _sobol(sweep, out, notes)
    elif method == "morris":
        written += _morris(sweep, out, notes)
    elif method == "grid":
        written += _grid(sweep, out, notes)
    elif method == "list":
        written += _list(sweep, out, notes)
    elif method == "robustness":
        written += _robustness(sweep, out, notes)
    else:  # lhs
        written += _lhs(sweep, out, notes)
    found: dict[str, Any] = {}
    if case is not None:
        files, found = _discover(sweep, case, out, notes)
        written += files
    summary = {
        "experiment": sweep.manifest["name"],
        "method": method,
        "n_runs": sweep.n_runs,
        "n_done": n_done,
        "n_failed": n_failed,
        "complete": n_done == sweep.n_runs,
        "files": written,
        "notes": notes,
        **({"discover": found} if case is not None else {}),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return out


# --------------------------------------------------------------------------------------
# Robustness and scenario discovery (sim.analysis.robustness, sim.analysis.discovery)
# --------------------------------------------------------------------------------------


def _ok_runs(sweep: _Sweep, columns: list[str]) -> pd.DataFrame:
    cols = sweep.columns([*columns, "status"])
    frame = pd.DataFrame(cols)
    return frame[frame["status"] == "ok"].drop(columns="status")


def worlds_note(manifest: dict[str, Any]) -> str:
    """Where a robustness design's worlds came from, in a sentence (from its manifest)."""
    n = manifest.get("n_worlds")
    post = manifest.get("worlds_from_posterior") or []
    ranges = manifest.get("worlds_from_ranges")
    if ranges is None:  # a manifest from before the worlds were mixed
        ranges = [f for f in manifest.get("world_factors", []) if f not in post]
    source = manifest.get("worlds_posterior")
    if post:
        others = (
            f"{len(ranges)} other uncertainties from their declared ranges (Latin hypercube)"
            if ranges
            else "the other uncertainties at the policies' common values"
        )
        levers = manifest.get("worlds_posterior_levers") or []
        kept = (
            f"; the posterior's {', '.join(levers)} left to each policy (a lever)" if levers else ""
        )
        return (
            f"worlds: {n}; {', '.join(post)} drawn from the posterior in {source} "
            f"(evidence), {others}{kept}"
        )
    if source and not manifest.get("worlds_posterior_used", True):
        return (
            f"worlds: {n}, every uncertainty from its declared range (Latin hypercube); "
            f"the posterior in {source} was named but turned off (method: lhs)"
        )
    return f"worlds: {n}, every uncertainty from its declared range (Latin hypercube)"


def _robustness(sweep: _Sweep, out: Path, notes: list[str]) -> list[str]:
    from sim.analysis.robustness import write_robustness
    from sim.experiments.resolve import RECORD, ok_runs, round_folders

    m = sweep.manifest
    notes.append(worlds_note(m))
    needed = sorted({*m["measures"], *(m.get("targets") or {})})
    runs = ok_runs(sweep.path, ["world", "policy", "replication", *needed])
    rounds = round_folders(sweep.path)
    if rounds:
        added = int((runs["round"] > 0).sum())
        notes.append(
            f"{added} runs in {len(rounds)} round(s) of seeds added to worlds whose best "
            "two policies were within seed noise (resolve.json)"
        )
        record = json.loads((sweep.path / RECORD).read_text(encoding="utf-8"))
        for k, r in enumerate(record["rounds"], start=1):
            want = len(r["worlds"]) * len(m["policies"]) * int(r["replications"])
            have = int((runs["round"] == k).sum())
            if have < want:
                notes.append(
                    f"round {k} of added seeds is unfinished or has failed runs ({have} of "
                    f"{want} runs); run the same sweep command again to finish it"
                )
    seed = analysis_seed(int(m["root_seed"]))
    runs = runs.drop(columns="round")  # a world's extra seeds count like its first ones
    written = write_robustness(runs, m, seed, out, notes)
    written += _failures(sweep, runs, out, notes)
    return written


def _failures(sweep: _Sweep, runs: pd.DataFrame, out: Path, notes: list[str]) -> list[str]:
    """Where each policy fails, and where each policy trails each other, on every measure.

    ``failures.csv``: per measure and policy, the worlds where it is not the best (a
    lead within seed noise is a tie), how often and by how much it loses, and the PRIM
    box of those worlds. ``cases.csv``: per measure and ordered pair, the worlds where
    one policy is below the other, with their PRIM boxes (coverage, density,
    quasi-p). ``robustness_tables.md``: these and the robustness tables in Markdown,
    the tables of ``docs/robustness.md``.
    """
    from sim.analysis.robustness import (
        TABLES_MD,
        failures,
        markdown_tables,
        pairwise_cases,
        world_means,
    )
    from sim.experiments.resolve import within_noise

    m = sweep.manifest
    policies = list(m["policies"])
    measures = dict(m["measures"])
    tables = {o: world_means(runs, o, policies) for o in measures}
    names = list(m.get("world_factors") or [])
    if not names or all(len(t) < 2 for t in tables.values()):
        notes.append("failures: fewer than two worlds with every policy; left out")
        return []
    first = sweep.design[sweep.design["policy"] == policies[0]]
    x = first.set_index("world")[names].sort_index()
    for name in names:
        if m["factors"][name]["dtype"] == "int":
            x[name] = x[name].round()
    several = "replication" in runs and runs.groupby("world")["replication"].nunique().max() > 1
    frames = []
    for measure, better in measures.items():
        if len(tables[measure]) < 2:
            continue
        noise = within_noise(runs, measure, better, policies) if several else None
        frame = failures(tables[measure], better, x, noise)
        frame.insert(1, "measure", measure)
        frames.append(frame)
    fails = pd.concat(frames, ignore_index=True)
    fails.to_csv(out / "failures.csv", index=False)
    cases = pairwise_cases(tables, measures, x)
    cases.to_csv(out / "cases.csv", index=False)
    robust_file, pairs_file, sat_file = (
        out / "robustness.csv",
        out / "paired_differences.csv",
        out / "satisficing.csv",
    )
    if robust_file.is_file():
        text = markdown_tables(
            {**m, "replications": m.get("experiment", {}).get("replications")},
            pd.read_csv(robust_file),
            fails,
            cases,
            pd.read_csv(pairs_file) if pairs_file.is_file() else None,
            pd.read_csv(sat_file) if sat_file.is_file() else None,
        )
        (out / TABLES_MD).write_text(text, encoding="utf-8")
        return ["failures.csv", "cases.csv", TABLES_MD]
    return ["failures.csv", "cases.csv"]


def _case(sweep: _Sweep, expression: str):
    from sim.analysis.discovery import Case

    method = sweep.manifest["method"]
    if method not in ("robustness", "lhs", "sobol", "morris"):
        raise UserError(
            f"--discover needs sampled worlds (a robustness, lhs, sobol or morris sweep); "
            f"{sweep.path} is a {method} sweep"
        )
    policies = sweep.manifest.get("policies") if method == "robustness" else None
    return Case(expression, sweep.outcomes, policies)


def _discover(sweep: _Sweep, case, out: Path, notes: list[str]) -> tuple[list[str], dict]:
    from sim.analysis.discovery import discover

    m = sweep.manifest
    seed = analysis_seed(int(m["root_seed"]))
    outcomes = sorted({o for o, _ in case.columns()})
    if m["method"] == "robustness":
        names = list(m["world_factors"])
        first = sweep.design[sweep.design["policy"] == m["policies"][0]]
        x = first.set_index("world")[names].sort_index()
        from sim.experiments.resolve import ok_runs

        # With the rounds of added seeds, as the robustness tables read them.
        runs = ok_runs(sweep.path, ["world", "policy", *outcomes]).drop(columns="round")
        means = runs.groupby(["world", "policy"])[outcomes].mean()
        values = {}
        for outcome, policy in case.columns():
            col = means[outcome].xs(policy, level="policy") if len(means) else pd.Series()
            values[(outcome, policy)] = col.reindex(x.index).to_numpy(dtype=float)
    else:
        names = list(m["problem"]["names"])
        x = sweep.design[names]
        values = {(o, None): sweep.row_means(o) for o, _ in case.columns()}
    for name in names:
        if m["factors"][name]["dtype"] == "int":
            x[name] = x[name].round()
    return discover(case, x.reset_index(drop=True), values, out, seed, notes)


# --------------------------------------------------------------------------------------
# Sensitivity indices
# --------------------------------------------------------------------------------------


def _usable(y: np.ndarray, name: str, notes: list[str]) -> bool:
    missing = int(np.isnan(y).sum())
    if missing:
        notes.append(
            f"{name}: left out, {missing} parameter set(s) have no successful run with a "
            "finite value (see failed_runs.csv)"
        )
        return False
    if np.ptp(y) == 0:
        notes.append(f"{name}: left out, the outcome does not vary across the design")
        return False
    return True


def _each_outcome(
    sweep: _Sweep, notes: list[str], analyze: Callable[[np.ndarray], Any]
) -> Iterator[tuple[str, Any, np.ndarray]]:
    """``(outcome, indices, runs)`` for each usable outcome: ``analyze`` of its per-row means.

    ``runs`` is the outcome by design row and replication (:meth:`_Sweep.by_replication`),
    for the noise floor. SALib's RuntimeWarnings (degenerate resamples) are silenced for
    the call alone.
    """
    for outcome in sweep.outcomes:
        y = sweep.row_means(outcome)
        if not _usable(y, outcome, notes):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            si = analyze(y)
        yield outcome, si, sweep.by_replication(outcome)


def noise_share(runs: np.ndarray) -> float:
    """The share of the variance of the set means that is seed noise (Marrel et al. 2012).

    ``runs`` holds an outcome by parameter set (rows) and replication (columns), NaN for
    a failed run. The seed noise of a set's mean is its replications' variance over
    their number; averaged over the sets and divided by the variance of the set means,
    it is the share of the analysed variance that no factor can explain (Marrel et al.
    2012). NaN with fewer than two replications in every set.
    """
    counts = np.sum(np.isfinite(runs), axis=1)
    usable = counts >= 2
    if not usable.any():
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        within = np.nanvar(runs[usable], axis=1, ddof=1) / counts[usable]
        means = np.nanmean(runs, axis=1)
    total = float(np.nanvar(means, ddof=1))
    if not total > 0:
        return float("nan")
    return float(np.mean(within) / total)


def sobol_floor(runs: np.ndarray, k: int, second: bool) -> np.ndarray:
    """Each factor's Sobol' noise floor: the total index seed noise alone would give it.

    ``runs`` is the outcome by set (in SALib's sample order: blocks of A, the k points
    with one factor of B, with second order the k points with one factor of A, then
    B) and replication. For factor ``i``, Jansen's estimator averages the squared
    difference ``f(A) - f(AB_i)``; the difference is taken within each replication
    (the same seed at both points), its variance over replications is its seed noise,
    and that noise over the replications, halved and divided by the variance of the set
    means, is what it adds to the index. NaN with fewer than two replications.
    """
    reps = runs.shape[1]
    if reps < 2 or not np.isfinite(runs).all():
        return np.full(k, np.nan)
    step = 2 * k + 2 if second else k + 2
    a, b = runs[0::step], runs[step - 1 :: step]
    variance = float(np.var(np.r_[a.mean(axis=1), b.mean(axis=1)]))
    if not variance > 0:
        return np.full(k, np.nan)
    floor = np.empty(k)
    for i in range(k):
        noise = np.var(a - runs[i + 1 :: step], axis=1, ddof=1) / reps
        floor[i] = 0.5 * float(np.mean(noise)) / variance
    return floor


def morris_floor(
    problem: dict[str, Any], x: np.ndarray, runs: np.ndarray, levels: int
) -> np.ndarray:
    """Each factor's Morris noise floor: the mu* seed noise alone would give it.

    The elementary effects are computed for each replication (SALib's own computation,
    on that replication's outputs: the same seeds along every trajectory); the sd over
    replications of each effect is its seed noise; for a factor without effect the
    effect of the mean over ``R`` replications is a normal of that sd over ``sqrt(R)``,
    whose mean absolute value is ``sqrt(2 / pi)`` times it. Per factor: that, with the
    noise's root mean square over the factor's effects. NaN with fewer than two
    replications.
    """
    from SALib.analyze.morris import _compute_delta, _compute_elementary_effects

    reps = runs.shape[1]
    k = problem["num_vars"]
    if reps < 2 or not np.isfinite(runs).all():
        return np.full(k, np.nan)
    delta = _compute_delta(levels)
    effects = np.stack(
        [_compute_elementary_effects(x, runs[:, r], k + 1, delta) for r in range(reps)]
    )  # replications x factors x trajectories
    noise = np.sqrt(np.mean(np.var(effects, axis=0, ddof=1), axis=1))
    return np.sqrt(2 / np.pi) * noise / np.sqrt(reps)


def _clear(value: np.ndarray, conf: np.ndarray, floor: np.ndarray | float) -> np.ndarray:
    """Whether an index's interval (value - conf) is above its floor; None without a floor."""
    floor = np.broadcast_to(np.asarray(floor, float), np.shape(value))
    low = np.asarray(value, float) - np.asarray(conf, float)
    return np.where(np.isfinite(floor), low > floor, None)


def first_order_clear(
    s1: np.ndarray, s1_conf: np.ndarray, floor: np.ndarray, st_clear: np.ndarray
) -> np.ndarray:
    """Whether each first-order index stands clear: its interval above the floor, and its total.

    A factor's first-order index is part of its total index (S1 <= ST in theory, Saltelli
    et al. 2008, ch. 4), so a first-order effect cannot stand above seed noise while the
    total that contains it does not: there the first-order estimate is the estimator's own
    noise (SALib's first-order estimator multiplies by the outcome's level, not its
    deviation, and is the noisier of the two for small indices). The floor is the total
    index's (:func:`sobol_floor`): the noise floor of the index that bounds it. None
    without a floor.
    """
    own = _clear(s1, s1_conf, floor)
    total = np.broadcast_to(np.asarray(st_clear, object), own.shape)
    pairs = zip(own, total, strict=True)
    both = [None if a is None or b is None else bool(a and b) for a, b in pairs]
    return np.array(both, object)


def _floor_note(
    notes: list[str],
    outcome: str,
    floor: float,
    table: pd.DataFrame,
    column: str,
    what: str = "noise floor",
) -> None:
    """Say, per outcome, how many factors stand clear of the noise floor (or that none can)."""
    if not np.isfinite(floor):
        notes.append(
            f"{outcome}: no noise floor (one replication a parameter set, or failed runs); "
            "set replications: 2 or more to tell effects from seed noise"
        )
        return
    clear = table[table[column] == True]["factor"].tolist()  # noqa: E712 - None is not False
    notes.append(
        f"{outcome}: {what} {floor:.3g}; {len(clear)} of {len(table)} factors clear of "
        f"it{': ' + ', '.join(clear) if clear else ''}"
    )


def _factor_table(sweep: _Sweep, outcome: str, **indices: np.ndarray) -> pd.DataFrame:
    """One row per factor: outcome, factor, its kind (lever, uncertainty...), then ``indices``."""
    names = sweep.manifest["problem"]["names"]
    return pd.DataFrame(
        {
            "outcome": outcome,
            "factor": names,
            "kind": [sweep.manifest["factors"][n]["kind"] for n in names],
            **indices,
        }
    )


def _sobol(sweep: _Sweep, out: Path, notes: list[str]) -> list[str]:
    from SALib.analyze import sobol

    problem = dict(sweep.manifest["problem"])
    names = problem["names"]
    second = bool(sweep.manifest["experiment"]["design"].get("second_order", True))
    first_rows, second_rows = [], []
    charts = []
    seed = analysis_seed(sweep.manifest["root_seed"])
    for outcome, si, runs in _each_outcome(
        sweep,
        notes,
        lambda y: sobol.analyze(
            problem,
            y,
            calc_second_order=second,
            num_resamples=N_RESAMPLES,
            conf_level=CONF_LEVEL,
            seed=seed,
        ),
    ):
        floor = sobol_floor(runs, len(names), second)
        st_clear = _clear(si["ST"], si["ST_conf"], floor)
        table = _factor_table(
            sweep,
            outcome,
            S1=si["S1"],
            S1_conf=si["S1_conf"],
            ST=si["ST"],
            ST_conf=si["ST_conf"],
            noise_floor=floor,
            S1_clear=first_order_clear(si["S1"], si["S1_conf"], floor, st_clear),
            ST_clear=st_clear,
            noise_share=noise_share(runs),
        )
        largest = float(np.nanmax(floor)) if np.isfinite(floor).any() else float("nan")
        _floor_note(notes, outcome, largest, table, "ST_clear", "largest noise floor")
        first_rows.append(table)
        pairs = pd.DataFrame()
        if second:
            i, j = np.triu_indices(len(names), k=1)
            pairs = pd.DataFrame(
                {
                    "outcome": outcome,
                    "factor_a": np.asarray(names)[i],
                    "factor_b": np.asarray(names)[j],
                    "S2": si["S2"][i, j],
                    "S2_conf": si["S2_conf"][i, j],
                    "noise_floor": np.maximum(floor[i], floor[j]),
                    "S2_clear": _clear(
                        si["S2"][i, j], si["S2_conf"][i, j], np.maximum(floor[i], floor[j])
                    ),
                }
            )
            second_rows.append(pairs)
        charts.append(_sobol_chart(out, outcome, table, pairs))
    files = []
    if first_rows:
        pd.concat(first_rows).to_csv(out / "sobol_indices.csv", index=False)
        files.append("sobol_indices.csv")
    if second_rows:
        pd.concat(second_rows).to_csv(out / "sobol_second_order.csv", index=False)
        files.append("sobol_second_order.csv")
    return files + charts


def _sobol_chart(out: Path, outcome: str, table: pd.DataFrame, pairs: pd.DataFrame) -> str:
    """Draw :func:`sobol_figure` for ``outcome`` and save it as ``sobol_<outcome>.png``."""
    name = f"sobol_{outcome}.png"
    sobol_figure(outcome, table, pairs).savefig(out / name, dpi=120)
    return name


def sobol_figure(outcome: str, table: pd.DataFrame, pairs: pd.DataFrame) -> Figure:
    """First-order and total indices of ``outcome`` as bars with intervals and floors.

    Each factor gets a total (ST, orange) and a first-order (S1, blue) bar with its 95%
    interval, pale where the interval is not clear of the noise floor, and the floor as a
    tick; a second panel shows the ten largest second-order indices when ``pairs`` has
    any. The legend's patches are drawn explicitly (an empty bar container gives every
    label the default colour) and every label is kept short or broken over lines so that
    nothing falls outside the canvas.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    table = table.sort_values("ST")
    k = len(table)
    n_panels = 2 if len(pairs) else 1
    fig = Figure(figsize=(6.5 * n_panels, 1.6 + 0.32 * max(k, 5)), layout="constrained")
    ax = fig.add_subplot(1, n_panels, 1)
    pos = np.arange(k)
    faded = [1.0 if c is not False else 0.35 for c in table["ST_clear"]]
    for p, v, e, a in zip(pos, table["ST"], table["ST_conf"], faded, strict=True):
        ax.barh(p + 0.2, v, 0.4, xerr=e, color="C1", alpha=a)
    faded = [1.0 if c is not False else 0.35 for c in table["S1_clear"]]
    for p, v, e, a in zip(pos, table["S1"], table["S1_conf"], faded, strict=True):
        ax.barh(p - 0.2, v, 0.4, xerr=e, color="C0", alpha=a)
    handles = [Patch(color="C1", label="total (ST)"), Patch(color="C0", label="first order (S1)")]
    if np.isfinite(table["noise_floor"]).any():
        ax.scatter(table["noise_floor"], pos + 0.2, marker="|", s=120, color="0.2", zorder=3)
        handles.append(
            Line2D([], [], marker="|", markersize=11, ls="none", color="0.2", label="noise floor")
        )
    ax.set_yticks(pos, table["factor"])
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_xlabel("Sobol' index (whiskers: 95% interval)\npale: not clear of the noise floor")
    ax.set_title(f"{outcome}\nfirst-order and total effects")
    ax.legend(handles=handles, loc="lower right", fontsize="small")
    if len(pairs):
        top = pairs.reindex(pairs["S2"].abs().sort_values().index).tail(min(10, len(pairs)))
        ax2 = fig.add_subplot(1, n_panels, 2)
        pos2 = np.arange(len(top))
        ax2.barh(pos2, top["S2"], xerr=top["S2_conf"], color="C2")
        pair_names = [f"{a} x {b}" for a, b in zip(top["factor_a"], top["factor_b"], strict=True)]
        ax2.set_yticks(pos2, pair_names)
        ax2.axvline(0, color="0.5", lw=0.8)
        ax2.set_xlabel("second-order index S2 (95% interval)")
        ax2.set_title("largest interactions")
    return fig


def _morris(sweep: _Sweep, out: Path, notes: list[str]) -> list[str]:
    from SALib.analyze import morris

    problem = dict(sweep.manifest["problem"])
    names = problem["names"]
    levels = int(sweep.manifest["experiment"]["design"].get("levels", 4))
    x = sweep.design[names].to_numpy(dtype=float)
    rows, charts = [], []
    seed = analysis_seed(sweep.manifest["root_seed"])
    for outcome, si, runs in _each_outcome(
        sweep,
        notes,
        lambda y: morris.analyze(
            problem,
            x,
            y,
            num_resamples=N_RESAMPLES,
            conf_level=CONF_LEVEL,
            num_levels=levels,
            seed=seed,
        ),
    ):
        floor = morris_floor(problem, x, runs, levels)
        table = _factor_table(
            sweep,
            outcome,
            mu=si["mu"],
            mu_star=si["mu_star"],
            mu_star_conf=si["mu_star_conf"],
            sigma=si["sigma"],
            noise_floor=floor,
            clear=_clear(si["mu_star"], si["mu_star_conf"], floor),
        )
        _floor_note(
            notes,
            outcome,
            float(np.nanmax(floor)) if np.isfinite(floor).any() else float("nan"),
            table,
            "clear",
        )
        rows.append(table)
        charts.append(_morris_chart(out, outcome, table))
    if not rows:
        return charts
    pd.concat(rows).to_csv(out / "morris_indices.csv", index=False)
    return ["morris_indices.csv", *charts]


def _morris_chart(out: Path, outcome: str, table: pd.DataFrame) -> str:
    table = table.sort_values("mu_star")
    k = len(table)
    fig = Figure(figsize=(11, 1.2 + 0.32 * max(k, 5)), layout="constrained")
    ax = fig.add_subplot(1, 2, 1)
    pos = np.arange(k)
    faded = [1.0 if c is not False else 0.35 for c in table["clear"]]
    for p, v, e, a in zip(pos, table["mu_star"], table["mu_star_conf"], faded, strict=True):
        ax.barh(p + 0.2, v, 0.4, xerr=e, color="C0", alpha=a)
    ax.barh([], [], color="C0", label="mu* (pale: not clear of the noise floor)")
    ax.barh(pos - 0.2, table["sigma"], 0.4, label="sigma", color="C1")
    if np.isfinite(table["noise_floor"]).any():
        ax.scatter(
            table["noise_floor"],
            pos + 0.2,
            marker="|",
            s=120,
            color="0.2",
            zorder=3,
            label="noise floor",
        )
    ax.set_yticks(pos, table["factor"])
    ax.set_xlabel(f"elementary effect on {outcome}")
    ax.set_title(f"{outcome}: Morris screening")
    ax.legend(loc="lower right", fontsize="small")
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.scatter(table["mu_star"], table["sigma"])
    for _, r in table.iterrows():
        ax2.annotate(r["factor"], (r["mu_star"], r["sigma"]), fontsize="x-small")
    ax2.set_xlabel("mu* (overall influence)")
    ax2.set_ylabel("sigma (non-linearity and interactions)")
    name = f"morris_{outcome}.png"
    fig.savefig(out / name, dpi=120)
    return name


# --------------------------------------------------------------------------------------
# Grids, lists and samples: outcome against the factors
# --------------------------------------------------------------------------------------


def _summaries(sweep: _Sweep) -> pd.DataFrame:
    frames = []
    for outcome in sweep.outcomes:
        s = sweep.row_summary(outcome)
        s.insert(0, "outcome", outcome)
        frames.append(sweep.design.join(s))
    return pd.concat(frames).reset_index()


def _grid(sweep: _Sweep, out: Path, notes: list[str]) -> list[str]:
    table = _summaries(sweep)
    table.to_csv(out / "grid_summary.csv", index=False)
    factors = sweep.factors
    dtypes = {n: sweep.manifest["factors"][n]["dtype"] for n in factors}
    numeric = [n for n in factors if dtypes[n] in ("float", "int")]
    if not numeric:
        notes.append("no numeric factor to put on an axis: one bar per parameter set instead")
        return ["grid_summary.csv", *_bars(sweep, out, table, "grid")]
    x = max(numeric, key=lambda n: sweep.design[n].nunique())
    charts = []
    for outcome in sweep.outcomes:
        fig = grid_figure(sweep.manifest, table, outcome, x)
        name = f"grid_{outcome}.png"
        fig.savefig(out / name, dpi=120)
        charts.append(name)
    return ["grid_summary.csv", *charts]


def group_looks(manifest: dict[str, Any], groups: list[str], keys: list[Any]) -> list[Look]:
    """The look of each group of design rows: its scenario's or strategy's, then the rest.

    A group with a ``scenario`` takes the look the sweep saved for it (its label, its
    strategy's colour); one with a ``strategy`` factor, that strategy's; the other
    factors' values follow the label. Without either, colours are matplotlib's cycle.
    """
    entries: dict[str, tuple[str, str | None]] = {}
    saved = manifest.get("looks") or {}
    bases = manifest.get("bases") or {}
    plain = not ({"scenario", "strategy"} & set(groups))
    for key in keys:
        key = key if isinstance(key, tuple) else (key,)
        values = dict(zip(groups, key, strict=True))
        rest = [n for n in groups if n not in ("scenario", "strategy")]
        words = _label(rest, tuple(values[n] for n in rest)) if rest else ""
        if "scenario" in values:
            name = str(values["scenario"])
            look = looks_or_default([name], saved)[name]
            strategy = look.strategy or (bases.get(name) or {}).get("strategy")
            head = look.label
        elif "strategy" in values:
            strategy = str(values["strategy"])
            head = strategy_look(strategy).label
        else:
            strategy, head = None, ""
        if "strategy" in values and "scenario" in values:
            strategy = str(values["strategy"])
            head = f"{head}, {strategy_look(strategy).label}"
        entries[repr(key)] = (", ".join(t for t in (head, words) if t) or "mean", strategy)
    looks = list(assign(entries).values())
    if plain:
        looks = [Look(lk.label, f"C{i}") for i, lk in enumerate(looks)]
    return looks


def grid_figure(manifest: dict[str, Any], table: pd.DataFrame, outcome: str, x: str) -> Figure:
    """One outcome against factor ``x``: a line and 90% band per group of the other factors."""
    groups = [n for n in manifest["factors"] if n != x]
    part = table[table["outcome"] == outcome]
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    keyed = list(part.groupby(groups, sort=False)) if groups else [((), part)]
    looks = group_looks(manifest, groups, [k for k, _ in keyed])
    for look, (_, g) in zip(looks, keyed, strict=True):
        g = g.sort_values(x)
        ax.plot(
            g[x], g["mean"], marker="o", ms=3, color=look.colour, ls=look.style, label=look.label
        )
        ax.fill_between(g[x], g["q05"], g["q95"], color=look.colour, alpha=0.2, lw=0)
    unit = manifest["factors"][x].get("unit") or ""
    ax.set_xlabel(f"{x} ({unit})" if unit and unit not in ("1", "-") else x)
    ax.set_ylabel(outcome)
    reps = manifest["replications"]
    ax.set_title(f"{outcome} against {x}: mean and 90% band over {reps} replications")
    ax.legend(fontsize="small", loc="best")
    return fig


def _list(sweep: _Sweep, out: Path, notes: list[str]) -> list[str]:
    table = _summaries(sweep)
    table.to_csv(out / "list_summary.csv", index=False)
    return ["list_summary.csv", *_bars(sweep, out, table, "list")]


def _bars(sweep: _Sweep, out: Path, table: pd.DataFrame, prefix: str) -> list[str]:
    factors = sweep.factors
    charts = []
    for outcome in sweep.outcomes:
        part = table[table["outcome"] == outcome].sort_values("design_row")
        keys = [tuple(r[f] for f in factors) for _, r in part.iterrows()]
        looks = group_looks(sweep.manifest, factors, keys)
        labels = [lk.label for lk in looks]
        fig = Figure(figsize=(max(5, 1.1 * len(part) + 2), 4.5), layout="constrained")
        ax = fig.add_subplot()
        pos = np.arange(len(part))
        err = np.vstack([part["mean"] - part["q05"], part["q95"] - part["mean"]])
        colours = [lk.colour if lk.strategy else "C0" for lk in looks]
        ax.bar(pos, part["mean"], yerr=np.clip(err, 0, None), capsize=4, color=colours)
        ax.set_xticks(pos, labels, rotation=20 if len(part) > 4 else 0, ha="right")
        ax.set_ylabel(_outcome_label(sweep, outcome))
        ax.set_title(f"{outcome}: mean and 90% interval over replications")
        name = f"{prefix}_{outcome}.png"
        fig.savefig(out / name, dpi=120)
        charts.append(name)
    return charts


def _lhs(sweep: _Sweep, out: Path, notes: list[str]) -> list[str]:
    table = _summaries(sweep)
    table.to_csv(out / "lhs_summary.csv", index=False)
    factors = sweep.factors
    charts = []
    cols = min(4, len(factors))
    rows = math.ceil(len(factors) / cols)
    for outcome in sweep.outcomes:
        part = table[table["outcome"] == outcome]
        fig = Figure(figsize=(3.2 * cols, 2.8 * rows), layout="constrained")
        for i, f in enumerate(factors):
            ax = fig.add_subplot(rows, cols, i + 1)
            ax.scatter(part[f], part["mean"], s=6, alpha=0.6)
            ax.set_xlabel(_axis_label(sweep, f))
            if i % cols == 0:
                ax.set_ylabel(outcome)
        fig.suptitle(f"{outcome} (mean over replications) against each factor")
        name = f"lhs_{outcome}.png"
        fig.savefig(out / name, dpi=120)
        charts.append(name)
    return ["lhs_summary.csv", *charts]


def _failed_runs(sweep: _Sweep, out: Path) -> str:
    cols = sweep.columns(["run_id", "design_row", "replication", "seed", "status", "error"])
    frame = pd.DataFrame(cols)
    frame = frame[frame["status"] != "ok"].sort_values("run_id")
    frame.drop(columns="status").to_csv(out / "failed_runs.csv", index=False)
    return "failed_runs.csv"


def _label(names: list[str], key: Any) -> str:
    if not isinstance(key, tuple):
        key = (key,)
    return ", ".join(f"{n}={_short(v)}" for n, v in zip(names, key, strict=True))


def _short(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _axis_label(sweep: _Sweep, factor: str) -> str:
    unit = sweep.manifest["factors"][factor].get("unit") or ""
    return f"{factor} ({unit})" if unit and unit not in ("1", "-") else factor


def _outcome_label(sweep: _Sweep, outcome: str) -> str:
    return outcome


# --------------------------------------------------------------------------------------
# What `analyze` prints
# --------------------------------------------------------------------------------------

#: Most rows and outcomes of a design printed in the headline table (all are in the files).
HEADLINE_ROWS = 40
HEADLINE_OUTCOMES = 4


def headline(out: str | Path) -> str:
    """The headline table of an analysis folder, as ``analyze`` prints it.

    Robustness: each policy's mean, best-share and regret per measure (``robustness.csv``)
    and the satisficing shares; Sobol' and Morris: the five most influential factors per
    outcome; grids, lists and samples: the mean of the first outcomes per parameter set.
    Read from the files just written, so what is printed is what is saved.
    """
    out = Path(out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    method = summary["method"]
    parts: list[str] = []

    def show(title: str, frame: pd.DataFrame) -> None:
        with pd.option_context("display.width", 200, "display.max_columns", None):
            parts.append(f"{title}\n{frame.to_string(index=False, float_format=_num)}")

    if method == "robustness" and (out / "robustness.csv").is_file():
        t = pd.read_csv(out / "robustness.csv")
        keep = ["measure", "policy", "mean", "best_share", "regret_median", "regret_max"]
        t = t[[*keep, "minimax_regret"]].rename(columns={"minimax_regret": "minimax"})
        show("per measure and policy: mean over worlds, best-share, regret (robustness.csv)", t)
        if (out / "satisficing.csv").is_file():
            sat = pd.read_csv(out / "satisficing.csv")
            show("share of worlds meeting every target (satisficing.csv)", sat)
        if (out / "failures.csv").is_file():
            f = pd.read_csv(out / "failures.csv")
            f = f.drop_duplicates(["measure", "policy"])
            f = f[["measure", "policy", "n_fails", "n_worlds", "loss_median", "beaten_by"]]
            show("worlds in which each policy is not the best (failures.csv)", f)
    elif method in ("sobol", "morris"):
        name, key = (
            ("sobol_indices.csv", "ST") if method == "sobol" else ("morris_indices.csv", "mu_star")
        )
        if (out / name).is_file():
            t = pd.read_csv(out / name)
            top = t.sort_values(key, ascending=False).groupby("outcome", sort=False).head(5)
            cols = (
                ["outcome", "factor", "S1", "ST"]
                if method == "sobol"
                else ["outcome", "factor", "mu_star", "sigma"]
            )
            show(f"the five largest {key} per outcome ({name})", top[cols])
    else:
        name = f"{method}_summary.csv"
        if (out / name).is_file():
            t = pd.read_csv(out / name)
            outcomes = list(dict.fromkeys(t["outcome"]))[:HEADLINE_OUTCOMES]
            factors = [
                c
                for c in t.columns
                if c not in ("design_row", "outcome", "n", "mean", "sd", "q05", "q95")
            ]
            wide = t[t["outcome"].isin(outcomes)].pivot_table(
                index=["design_row", *factors], columns="outcome", values="mean", sort=False
            )
            wide = wide[outcomes].reset_index().drop(columns="design_row")
            more = f"; first {HEADLINE_ROWS} of {len(wide)}" if len(wide) > HEADLINE_ROWS else ""
            show(
                f"mean over replications per parameter set ({name}{more})", wide.head(HEADLINE_ROWS)
            )
    if summary.get("discover", {}).get("boxes"):
        box = summary["discover"]["boxes"][0]
        limits = "; ".join(f"{k} {lo:.4g} to {hi:.4g}" for k, (lo, hi) in box["limits"].items())
        parts.append(
            f'where "{summary["discover"]["expression"]}" holds: {limits} (coverage '
            f"{box['coverage']:.2f}, density {box['density']:.2f}; prim_boxes.csv)"
        )
    for note in summary.get("notes", []):
        parts.append(f"note: {note}")
    return "\n\n".join(parts)


def _num(x: float) -> str:
    return f"{x:.4g}"
