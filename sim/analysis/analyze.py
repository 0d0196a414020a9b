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
  ``regret_<measure>.png`` and ``best_share.png``.

With ``discover``, scenario discovery (PRIM boxes and feature scores, :mod:`sim.analysis.discovery`)
runs on the case of interest it names, after the method's own analysis.

Sensitivity indices use, for each parameter set, the mean of the outcome over its
successful replications (the sensitivity of the expected outcome). Failed runs are
listed in ``failed_runs.csv``; ``summary.json`` says what was written and anything
left out, and why.
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


def _robustness(sweep: _Sweep, out: Path, notes: list[str]) -> list[str]:
    from sim.analysis.robustness import write_robustness

    m = sweep.manifest
    needed = sorted({*m["measures"], *(m.get("targets") or {})})
    runs = _ok_runs(sweep, ["world", "policy", *needed])
    seed = analysis_seed(int(m["root_seed"]))
    return write_robustness(runs, m, seed, out, notes)


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
        runs = _ok_runs(sweep, ["world", "policy", *outcomes])
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
) -> Iterator[tuple[str, Any]]:
    """``(outcome, indices)`` for each usable outcome: ``analyze`` of its per-row means.

    SALib's RuntimeWarnings (degenerate resamples) are silenced for the call alone.
    """
    for outcome in sweep.outcomes:
        y = sweep.row_means(outcome)
        if not _usable(y, outcome, notes):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            si = analyze(y)
        yield outcome, si


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
    for outcome, si in _each_outcome(
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
        table = _factor_table(
            sweep, outcome, S1=si["S1"], S1_conf=si["S1_conf"], ST=si["ST"], ST_conf=si["ST_conf"]
        )
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
    table = table.sort_values("ST")
    k = len(table)
    n_panels = 2 if len(pairs) else 1
    fig = Figure(figsize=(5.5 * n_panels, 1.2 + 0.32 * max(k, 5)), layout="constrained")
    ax = fig.add_subplot(1, n_panels, 1)
    pos = np.arange(k)
    ax.barh(pos + 0.2, table["ST"], 0.4, xerr=table["ST_conf"], label="total (ST)", color="C1")
    ax.barh(pos - 0.2, table["S1"], 0.4, xerr=table["S1_conf"], label="first order (S1)")
    ax.set_yticks(pos, table["factor"])
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_xlabel("Sobol' index (95% interval)")
    ax.set_title(f"{outcome}: first-order and total effects")
    ax.legend(loc="lower right", fontsize="small")
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
    name = f"sobol_{outcome}.png"
    fig.savefig(out / name, dpi=120)
    return name


def _morris(sweep: _Sweep, out: Path, notes: list[str]) -> list[str]:
    from SALib.analyze import morris

    problem = dict(sweep.manifest["problem"])
    names = problem["names"]
    levels = int(sweep.manifest["experiment"]["design"].get("levels", 4))
    x = sweep.design[names].to_numpy(dtype=float)
    rows, charts = [], []
    seed = analysis_seed(sweep.manifest["root_seed"])
    for outcome, si in _each_outcome(
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
        table = _factor_table(
            sweep,
            outcome,
            mu=si["mu"],
            mu_star=si["mu_star"],
            mu_star_conf=si["mu_star_conf"],
            sigma=si["sigma"],
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
    ax.barh(pos + 0.2, table["mu_star"], 0.4, xerr=table["mu_star_conf"], label="mu*")
    ax.barh(pos - 0.2, table["sigma"], 0.4, label="sigma", color="C1")
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
    groups = [n for n in factors if n != x]
    charts = []
    for outcome in sweep.outcomes:
        part = table[table["outcome"] == outcome]
        fig = Figure(figsize=(7, 4.5), layout="constrained")
        ax = fig.add_subplot()
        keyed = part.groupby(groups, sort=False) if groups else [((), part)]
        for i, (key, g) in enumerate(keyed):
            g = g.sort_values(x)
            label = _label(groups, key)
            ax.plot(g[x], g["mean"], marker="o", ms=3, color=f"C{i}", label=label or "mean")
            ax.fill_between(g[x], g["q05"], g["q95"], color=f"C{i}", alpha=0.2, lw=0)
        ax.set_xlabel(_axis_label(sweep, x))
        ax.set_ylabel(_outcome_label(sweep, outcome))
        reps = sweep.manifest["replications"]
        ax.set_title(f"{outcome} against {x}: mean and 90% band over {reps} replications")
        ax.legend(fontsize="small", loc="best")
        name = f"grid_{outcome}.png"
        fig.savefig(out / name, dpi=120)
        charts.append(name)
    return ["grid_summary.csv", *charts]


def _list(sweep: _Sweep, out: Path, notes: list[str]) -> list[str]:
    table = _summaries(sweep)
    table.to_csv(out / "list_summary.csv", index=False)
    return ["list_summary.csv", *_bars(sweep, out, table, "list")]


def _bars(sweep: _Sweep, out: Path, table: pd.DataFrame, prefix: str) -> list[str]:
    factors = sweep.factors
    charts = []
    for outcome in sweep.outcomes:
        part = table[table["outcome"] == outcome].sort_values("design_row")
        labels = [_label(factors, tuple(r[f] for f in factors)) for _, r in part.iterrows()]
        fig = Figure(figsize=(max(5, 1.1 * len(part) + 2), 4.5), layout="constrained")
        ax = fig.add_subplot()
        pos = np.arange(len(part))
        err = np.vstack([part["mean"] - part["q05"], part["q95"] - part["mean"]])
        ax.bar(pos, part["mean"], yerr=np.clip(err, 0, None), capsize=4, color="C0")
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
