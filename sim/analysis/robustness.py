"""Policies x worlds: the robustness design, and the robustness measures over its results.

A robustness design (``design: {method: robustness, ...}`` in an experiment file,
planned by :func:`sim.experiments.plan_robustness`) runs
every sampled *world* (a point of the uncertainties, EMA workbench's "scenario") under
every *policy* (a scenario file and/or lever values, EMA's "policy"), Lempert, Popper
and Bankes 2003's XLRM. The seeds of a run depend on its world and replication, never on
its policy (:meth:`sim.experiments.Plan.run_seed`), so each policy meets the same
random draws in a world (common random numbers) and policy differences are paired.

The measures follow McPhail et al. 2018 ("Robustness metrics", Earth's Future 6):

- **best-share**: the share of worlds in which a policy has the best value of a measure
  (ties count for every tied policy, and so does a lead within seed noise: a world
  whose best two policies differ by less than the 95% interval of their paired
  difference counts for both, :func:`sim.experiments.resolve.within_noise`; a
  robustness design can add seeds to such worlds first, ``design.resolve``);
- **regret**: in each world, the distance of a policy from the best policy in that world;
  its median, 90th percentile and maximum over worlds; **minimax regret** (Savage 1951)
  picks the policy whose maximum regret is smallest;
- **satisficing** (Starr's domain criterion): the share of worlds in which a policy meets
  every target the experiment file declares;
- **paired differences** between policies, world by world, with a bootstrap interval
  over worlds.

A world's value of a measure under a policy is the mean over its successful
replications. The functions here take tidy tables and know nothing of files;
:func:`write_robustness` writes the tables and charts beside a sweep's results.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.looks import NEUTRAL, Look, looks_or_default

#: Two values closer than this are a tie for best.
TIE = 1e-12
#: Quantile of regret reported beside the median and the maximum.
REGRET_Q = 0.9
#: Bootstrap resamples and level of the intervals of paired differences.
N_BOOT = 2000
CONF = 0.95


# --------------------------------------------------------------------------------------
# Measures
# --------------------------------------------------------------------------------------


def world_means(runs: pd.DataFrame, outcome: str, policies: list[str]) -> pd.DataFrame:
    """Mean of an outcome over replications, one row per world, one column per policy.

    Args:
        runs: Successful runs with ``world``, ``policy`` and the outcome's column.
        outcome: The outcome.
        policies: Policy labels, in column order.

    Returns:
        Worlds with a finite value under every policy (others are dropped: a policy
        difference needs both sides).

    """
    values = runs[["world", "policy", outcome]].dropna()
    table = values.pivot_table(index="world", columns="policy", values=outcome, aggfunc="mean")
    return table.reindex(columns=policies).dropna()


def _oriented(table: pd.DataFrame, better: str) -> pd.DataFrame:
    if better not in ("max", "min"):
        raise ValueError(f"better must be 'max' or 'min', not {better!r}")
    return table if better == "max" else -table


def best_share(
    table: pd.DataFrame, better: str = "max", noise: pd.DataFrame | None = None
) -> pd.Series:
    """Share of worlds in which each policy is best (ties count for each tied policy).

    Args:
        table: Worlds x policies (a :func:`world_means` table).
        better: ``"max"`` or ``"min"``.
        noise: :func:`sim.experiments.resolve.within_noise` of the same runs: in a world
            whose lead is within noise, the second-best policy counts as best too.
    """
    t = _oriented(table, better)
    best = t.max(axis=1)
    is_best = t.ge(best.to_numpy()[:, None] - TIE)
    if noise is not None and len(noise):
        tied = noise[noise["within"]].reindex(table.index).dropna(subset=["second"])
        for world, second in tied["second"].items():
            is_best.at[world, second] = True
    return is_best.mean()


def regret(table: pd.DataFrame, better: str = "max") -> pd.DataFrame:
    """Regret of each policy in each world: its distance from that world's best (>= 0)."""
    t = _oriented(table, better)
    return (-t).add(t.max(axis=1), axis=0)


def regret_summary(table: pd.DataFrame, better: str = "max") -> pd.DataFrame:
    """Median, 90th percentile and maximum regret per policy, and the minimax choice."""
    r = regret(table, better)
    out = pd.DataFrame(
        {
            "regret_median": r.median(),
            f"regret_q{round(REGRET_Q * 100)}": r.quantile(REGRET_Q),
            "regret_max": r.max(),
        }
    )
    out["minimax_regret"] = out.index == out["regret_max"].idxmin()
    return out


def satisficing(tables: dict[str, pd.DataFrame], targets: dict[str, dict[str, float]]) -> pd.Series:
    """Share of worlds in which each policy meets every target.

    Args:
        tables: Outcome to its :func:`world_means` table (worlds x policies).
        targets: Outcome to ``{"min": x}``, ``{"max": y}`` or both (inclusive).

    Returns:
        Share per policy, over the worlds every targeted outcome has.

    """
    if not targets:
        raise ValueError("no targets to satisfice against")
    frames = [tables[o] for o in targets]
    worlds = frames[0].index
    for f in frames[1:]:
        worlds = worlds.intersection(f.index)
    met = None
    for outcome, t in targets.items():
        v = tables[outcome].loc[worlds]
        ok = pd.DataFrame(True, index=v.index, columns=v.columns)
        if t.get("min") is not None:
            ok &= v >= t["min"]
        if t.get("max") is not None:
            ok &= v <= t["max"]
        met = ok if met is None else met & ok
    assert met is not None
    return met.mean()


def paired_differences(
    table: pd.DataFrame, seed: int, n_boot: int = N_BOOT, conf: float = CONF
) -> pd.DataFrame:
    """Differences between each pair of policies, world by world (common random numbers).

    Args:
        table: Worlds x policies (a :func:`world_means` table).
        seed: Seed of the bootstrap over worlds.
        n_boot: Bootstrap resamples.
        conf: Level of the interval.

    Returns:
        One row per ordered pair (``a``, ``b``, ``a`` before ``b`` in column order): the
        mean and median of ``a - b`` over worlds, the bootstrap percentile interval of the
        mean, and the share of worlds in which ``a - b > 0``.

    """
    rng = np.random.default_rng(seed)
    n = len(table)
    idx = rng.integers(0, n, size=(n_boot, n)) if n else np.zeros((n_boot, 0), dtype=int)
    rows = []
    lo_q, hi_q = (1 - conf) / 2, 1 - (1 - conf) / 2
    for a, b in itertools.combinations(table.columns, 2):
        d = (table[a] - table[b]).to_numpy(dtype=float)
        boot = d[idx].mean(axis=1) if n else np.full(n_boot, np.nan)
        rows.append(
            {
                "a": a,
                "b": b,
                "n_worlds": n,
                "mean_diff": d.mean() if n else np.nan,
                "median_diff": np.median(d) if n else np.nan,
                "ci_low": np.quantile(boot, lo_q),
                "ci_high": np.quantile(boot, hi_q),
                "share_a_above_b": (d > 0).mean() if n else np.nan,
            }
        )
    return pd.DataFrame(rows)


#: Columns of ``failures.csv`` (:func:`failures`).
FAILURE_COLUMNS = [
    "policy",
    "n_worlds",
    "n_fails",
    "share_fails",
    "loss_median",
    "loss_max",
    "beaten_by",
    "uncertainty",
    "lower",
    "upper",
    "range_low",
    "range_high",
    "coverage",
    "density",
    "qp",
    "significant",
]


def failures(
    table: pd.DataFrame, better: str, x: pd.DataFrame, noise: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Where each policy fails: the worlds in which it is not the best, as a PRIM box.

    For each policy, the worlds where another policy does better on the measure
    (regret above :data:`TIE`; with ``noise``, a world whose lead over this policy is
    within seed noise is a tie, not a failure, as in :func:`best_share`) are the cases
    of interest of a scenario discovery (:func:`sim.analysis.discovery.prim_boxes`, one
    box): the ranges of a few uncertainties that hold most of those worlds.

    Args:
        table: Worlds x policies (a :func:`world_means` table).
        better: ``max`` or ``min``.
        x: The worlds' uncertainties, indexed by world.
        noise: :func:`sim.experiments.resolve.within_noise` of the same runs, or None.

    Returns:
        One row per policy and restricted uncertainty (a policy that fails in no world,
        or in all, has one row without a box), :data:`FAILURE_COLUMNS`: ``n_worlds``,
        ``n_fails``, ``share_fails`` (how often it fails in the sampled worlds),
        ``loss_median`` and ``loss_max`` (its regret in the worlds where it fails: by how
        much it loses), ``beaten_by`` (the policy best most often where it fails), the
        box's ``uncertainty``, ``lower``, ``upper``, ``range_low``, ``range_high``,
        ``coverage`` (share of its failures inside the box), ``density`` (share of the
        box's worlds that are failures), ``qp`` (the restriction's quasi-p-value, the
        smaller of its two ends') and ``significant``.
    """
    from sim.analysis.discovery import prim_boxes

    r = regret(table, better)
    t = _oriented(table, better)
    winner = t.idxmax(axis=1)
    tied = pd.DataFrame(False, index=r.index, columns=r.columns)
    if noise is not None and len(noise):
        within = noise[noise["within"]].reindex(r.index).dropna(subset=["second"])
        for world, second in within["second"].items():
            tied.at[world, second] = True
    worlds = x.loc[r.index].astype(float).reset_index(drop=True)
    rows = []
    for policy in r.columns:
        lost = (r[policy] > TIE) & ~tied[policy]
        fails = lost.to_numpy()
        loss = r.loc[lost, policy]
        head = {
            "policy": policy,
            "n_worlds": len(fails),
            "n_fails": int(fails.sum()),
            "share_fails": float(fails.mean()) if len(fails) else np.nan,
            "loss_median": float(loss.median()) if len(loss) else np.nan,
            "loss_max": float(loss.max()) if len(loss) else np.nan,
            "beaten_by": str(winner[lost].value_counts().index[0]) if len(loss) else "",
        }
        if not 0 < fails.sum() < len(fails):
            rows.append(head)
            continue
        boxes, _ = prim_boxes(worlds, fails, max_boxes=1)
        if boxes.empty:
            rows.append(head)
        for b in boxes.itertuples():
            rows.append({**head, **_box_row(b)})
    return pd.DataFrame(rows, columns=FAILURE_COLUMNS)


def _box_row(b: Any) -> dict[str, Any]:
    """One restriction of a PRIM box (a :func:`~sim.analysis.discovery.prim_boxes` row)."""
    qps = [float(q) for q in (b.qp_lower, b.qp_upper) if q is not None and np.isfinite(q)]
    return {
        "uncertainty": b.uncertainty,
        "lower": b.lower,
        "upper": b.upper,
        "range_low": b.range_low,
        "range_high": b.range_high,
        "coverage": b.coverage,
        "density": b.density,
        "qp": min(qps) if qps else np.nan,
        "significant": b.significant,
    }


#: Columns of ``cases.csv`` (:func:`pairwise_cases`).
CASE_COLUMNS = [
    "measure",
    "better",
    "case",
    "policy",
    "other",
    "n_worlds",
    "n_cases",
    "share_cases",
    "loss_median",
    "loss_max",
    "box",
    "uncertainty",
    "lower",
    "upper",
    "range_low",
    "range_high",
    "coverage",
    "density",
    "qp",
    "significant",
]


def pairwise_cases(
    tables: dict[str, pd.DataFrame], measures: dict[str, str], x: pd.DataFrame
) -> pd.DataFrame:
    """Scenario discovery for every ordered pair of policies on every measure.

    The case "``policy`` below ``other``" on a measure is the worlds in which ``policy``'s
    mean over replications is worse than ``other``'s (paired: the same seeds), for
    example "next practice below top-down" on final performance and per pound, and the
    reverse case beside it. For each, PRIM (:func:`sim.analysis.discovery.prim_boxes`, up
    to :data:`sim.analysis.discovery.MAX_BOXES` boxes) finds where those worlds lie; a
    case that holds in no world or in all has one row without a box: nothing to tell
    apart, which is itself the answer (the model never says the other way there).

    Args:
        tables: Measure to its :func:`world_means` table (worlds x policies).
        measures: Measure to ``max`` or ``min``.
        x: The worlds' uncertainties, indexed by world.

    Returns:
        :data:`CASE_COLUMNS`: per measure, ordered pair and restriction, the case's text,
        how often it holds (``n_cases``, ``share_cases``), by how much ``policy`` trails
        where it does (``loss_median``, ``loss_max``, in the measure's unit), and each
        box's limits, coverage, density and quasi-p-value.
    """
    from sim.analysis.discovery import prim_boxes

    rows = []
    for measure, better in measures.items():
        table = tables.get(measure)
        if table is None or len(table) < 2:
            continue
        t = _oriented(table, better)
        worlds = x.loc[table.index].astype(float).reset_index(drop=True)
        for policy, other in itertools.permutations(table.columns, 2):
            gap = (t[other] - t[policy]).to_numpy(dtype=float)
            y = gap > TIE
            head = {
                "measure": measure,
                "better": better,
                "case": f"{policy} below {other}",
                "policy": policy,
                "other": other,
                "n_worlds": len(y),
                "n_cases": int(y.sum()),
                "share_cases": float(y.mean()),
                "loss_median": float(np.median(gap[y])) if y.any() else np.nan,
                "loss_max": float(gap[y].max()) if y.any() else np.nan,
            }
            if not 0 < y.sum() < len(y):
                rows.append(head)
                continue
            boxes, _ = prim_boxes(worlds, y)
            if boxes.empty:
                rows.append(head)
            for b in boxes.itertuples():
                rows.append({**head, "box": int(b.box), **_box_row(b)})
    return pd.DataFrame(rows, columns=CASE_COLUMNS)


# --------------------------------------------------------------------------------------
# Tables and charts beside the results
# --------------------------------------------------------------------------------------


def write_robustness(
    runs: pd.DataFrame, manifest: dict[str, Any], seed: int, out: Path, notes: list[str]
) -> list[str]:
    """Write the robustness tables and charts of a policies x worlds sweep.

    Args:
        runs: Successful runs: ``world``, ``policy``, every measured outcome and (to
            tell leads within seed noise) ``replication``.
        manifest: The sweep's manifest (policies, measures, targets).
        seed: Seed of the bootstrap intervals.
        out: Directory to write into.
        notes: Collects what was left out, and why.

    Returns:
        File names written: ``robustness.csv`` (per measure and policy: worlds, mean,
        best-share (a lead within seed noise counted as a tie), the worlds within
        noise, regret median / 90th percentile / maximum, minimax choice),
        ``satisficing.csv`` (when targets are declared), ``paired_differences.csv``,
        ``world_means.csv`` (per world and policy), ``regret_<measure>.png`` and
        ``best_share.png``.

    """
    from sim.experiments.resolve import within_noise

    policies = list(manifest["policies"])
    measures: dict[str, str] = dict(manifest["measures"])
    targets: dict[str, dict[str, float]] = dict(manifest.get("targets") or {})
    tables = {o: world_means(runs, o, policies) for o in {*measures, *targets}}
    n_worlds = int(manifest["n_worlds"])
    looks = looks_or_default(policies, manifest.get("looks"))
    written = []
    rows, pairs = [], []
    for outcome, better in measures.items():
        table = tables[outcome]
        if len(table) < n_worlds:
            notes.append(
                f"{outcome}: {n_worlds - len(table)} of {n_worlds} worlds left out "
                "(not every policy has a successful run there yet)"
            )
        if table.empty:
            notes.append(f"{outcome}: no world has a value under every policy; left out")
            continue
        summary = regret_summary(table, better)
        noise = None
        if "replication" in runs and runs.groupby("world")["replication"].nunique().max() > 1:
            noise = within_noise(runs, outcome, better, policies)
        n_noise = (
            int(noise["within"].reindex(table.index, fill_value=False).sum())
            if noise is not None
            else 0
        )
        summary.insert(0, "worlds_within_noise", n_noise)
        summary.insert(0, "best_share", best_share(table, better, noise))
        if noise is None:
            notes.append(
                f"{outcome}: one replication a world: no seed noise to tell ties by; "
                "best-share counts the best mean only"
            )
        summary.insert(0, "mean", table.mean())
        summary.insert(0, "n_worlds", len(table))
        summary.insert(0, "better", better)
        summary.insert(0, "measure", outcome)
        rows.append(summary.rename_axis("policy").reset_index())
        diffs = paired_differences(table, seed)
        diffs.insert(0, "measure", outcome)
        pairs.append(diffs)
        written.append(_regret_chart(out, outcome, better, regret(table, better), looks))
    if rows:
        robust = pd.concat(rows, ignore_index=True)
        robust.to_csv(out / "robustness.csv", index=False)
        pd.concat(pairs, ignore_index=True).to_csv(out / "paired_differences.csv", index=False)
        written += [
            "robustness.csv",
            "paired_differences.csv",
            _best_share_chart(out, robust, looks),
        ]
    if targets:
        share = satisficing(tables, targets)
        text = " and ".join(_target_text(o, t) for o, t in targets.items())
        pd.DataFrame(
            {"policy": share.index, "targets": text, "share_satisficing": share.to_numpy()}
        ).to_csv(out / "satisficing.csv", index=False)
        written.append("satisficing.csv")
    wide = pd.concat({o: t for o, t in tables.items()}, axis=1)
    wide.columns = [f"{o}[{p}]" for o, p in wide.columns]
    wide.to_csv(out / "world_means.csv")
    written.append("world_means.csv")
    return written


def _target_text(outcome: str, t: dict[str, float]) -> str:
    parts = []
    if t.get("min") is not None:
        parts.append(f"{outcome} >= {t['min']:g}")
    if t.get("max") is not None:
        parts.append(f"{outcome} <= {t['max']:g}")
    return " and ".join(parts)


def _regret_chart(
    out: Path, outcome: str, better: str, r: pd.DataFrame, looks: dict[str, Look]
) -> str:
    name = f"regret_{outcome}.png"
    regret_figure(outcome, better, r, looks).savefig(out / name, dpi=120)
    return name


def regret_figure(outcome: str, better: str, r: pd.DataFrame, looks: dict[str, Look]):
    """Regret of each policy over the worlds: a box each, in its strategy's colour."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.add_subplot()
    parts = ax.boxplot(
        [r[c].to_numpy() for c in r.columns],
        tick_labels=[looks[c].label for c in r.columns],
        showfliers=True,
        patch_artist=True,
        medianprops={"color": NEUTRAL[0]},
    )
    for box, c in zip(parts["boxes"], r.columns, strict=True):
        box.set(facecolor=looks[c].colour, alpha=0.35, edgecolor=looks[c].colour)
    for i, c in enumerate(r.columns, start=1):
        ax.plot([i], [r[c].quantile(REGRET_Q)], marker="v", color=NEUTRAL[0], ls="")
    ax.set_ylabel(
        f"regret in {outcome}\n({'lower' if better == 'max' else 'higher'} than the "
        "best policy in that world)"
    )
    ax.set_title(
        f"Regret over {len(r)} worlds (box: quartiles; triangle: 90th percentile)", fontsize=9
    )
    return fig


def _best_share_chart(out: Path, robust: pd.DataFrame, looks: dict[str, Look]) -> str:
    best_share_figure(robust, looks).savefig(out / "best_share.png", dpi=120)
    return "best_share.png"


def best_share_figure(robust: pd.DataFrame, looks: dict[str, Look]):
    """Each policy's share of worlds where it is best, per measure, in its strategy's colour."""
    from matplotlib.figure import Figure

    policies = list(dict.fromkeys(robust["policy"]))
    table = robust.pivot(index="measure", columns="policy", values="best_share")
    table = table.reindex(index=list(dict.fromkeys(robust["measure"])), columns=policies)
    fig = Figure(
        figsize=(6.4, 0.6 + 0.5 * len(table) * len(table.columns) / 2), layout="constrained"
    )
    ax = fig.add_subplot()
    height = 0.8 / len(table.columns)
    y = np.arange(len(table))
    for j, policy in enumerate(table.columns):
        look = looks[policy]
        ax.barh(y + j * height, table[policy], height=height, label=look.label, color=look.colour)
    ax.set_yticks(y + height * (len(table.columns) - 1) / 2, table.index)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of worlds in which the policy is best")
    ax.legend(fontsize=8)
    return fig


# --------------------------------------------------------------------------------------
# The tables of docs/robustness.md, in Markdown, from the saved tables
# --------------------------------------------------------------------------------------

#: The generated Markdown beside the tables (copied into docs/robustness/ on a re-run).
TABLES_MD = "robustness_tables.md"


def _g(v: Any, digits: int = 3) -> str:
    """A number for a table: 3 significant figures, empty when missing."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or v == "":
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else ""
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, str):
        return v  # a lever's choice (a strategy's name)
    return f"{float(v):.{digits}g}"


def _limits(g: pd.DataFrame) -> str:
    """A box's restrictions in words: ``name lo to hi (of lo to hi)``, joined by ``;``."""
    parts = []
    for r in g.itertuples():
        if isinstance(r.uncertainty, str):
            parts.append(
                f"`{r.uncertainty}` {_g(r.lower)} to {_g(r.upper)} "
                f"(of {_g(r.range_low)} to {_g(r.range_high)})"
            )
    return "; ".join(parts)


def _md(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


def markdown_tables(
    manifest: dict[str, Any],
    robust: pd.DataFrame,
    fails: pd.DataFrame,
    cases: pd.DataFrame,
    pairs: pd.DataFrame | None = None,
    satisficing_table: pd.DataFrame | None = None,
) -> str:
    """The results tables of a robustness analysis as Markdown, for ``docs/robustness.md``.

    Everything is read from the tables ``analyze`` wrote (and the sweep's manifest), so
    a re-run regenerates the page's numbers and none is typed by hand: the policies
    and their levers, the worlds (how many uncertainties, and how many of their ranges
    cite a source, say a judgement, or neither), best-share and regret, paired
    differences, where each policy is not the best (failure conditions) and the PRIM
    boxes of every "policy below other" case.
    """
    lines = [
        f"<!-- generated by `nextpractice analyze` from {manifest.get('name', '?')}: "
        "do not edit by hand, re-run instead -->",
        "",
        f"**Design**: {len(manifest.get('policies', []))} policies in "
        f"{_g(manifest.get('n_worlds'))} worlds ({manifest.get('worlds_from', 'lhs')}), "
        f"{_g(manifest.get('replications'))} seeds a world to start with, "
        f"{len(manifest.get('world_factors', []))} world factors.",
    ]
    basis = manifest.get("world_factor_basis")
    if basis:
        counts = {k: len(v) for k, v in basis.items()}
        lines.append(
            "Their ranges' reasons: "
            + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("sourced", "judgement", "neither"))
            + " (`nextpractice params --basis` lists them)."
        )
    levers = manifest.get("policy_levers") or {}
    if levers:
        names = list(dict.fromkeys(n for v in levers.values() for n in v))
        varied = [n for n in names if len({repr(v.get(n)) for v in levers.values()}) > 1]
        lines += ["", "Policies (a strategy with its levers; levers that differ between them):", ""]
        head = ["policy", *[f"`{n}`" for n in varied]]
        lines += _md(head, [[p, *[_g(v.get(n)) for n in varied]] for p, v in levers.items()])
    lines += ["", "### Best-share and regret", ""]
    rows = []
    for r in robust.itertuples():
        rows.append(
            [
                f"{r.measure} ({r.better})",
                str(r.policy),
                _g(r.mean),
                _g(r.best_share),
                _g(getattr(r, "worlds_within_noise", "")),
                _g(r.regret_median),
                _g(r.regret_q90),
                _g(r.regret_max),
                "yes" if bool(r.minimax_regret) else "",
            ]
        )
    lines += _md(
        [
            "measure",
            "policy",
            "mean",
            "best-share",
            "worlds within noise",
            "regret median",
            "regret 90th",
            "regret max",
            "minimax",
        ],
        rows,
    )
    if pairs is not None and len(pairs):
        lines += ["", "### Paired differences (a - b: mean over worlds, 95% interval)", ""]
        lines += _md(
            ["measure", "a", "b", "mean", "interval", "share a > b"],
            [
                [
                    str(r.measure),
                    str(r.a),
                    str(r.b),
                    _g(r.mean_diff),
                    f"{_g(r.ci_low)} to {_g(r.ci_high)}",
                    _g(r.share_a_above_b),
                ]
                for r in pairs.itertuples()
            ],
        )
    if satisficing_table is not None and len(satisficing_table):
        lines += ["", f"Satisficing ({satisficing_table['targets'].iloc[0]}):", ""]
        lines += _md(
            ["policy", "share of worlds"],
            [[str(r.policy), _g(r.share_satisficing)] for r in satisficing_table.itertuples()],
        )
    lines += [
        "",
        "### Where each policy is not the best (failures.csv)",
        "",
        "A world within seed noise is a tie, not a failure. Loss: the policy's regret in "
        "the worlds where it fails. Conditions: the PRIM box of those worlds (coverage, "
        "density, the smallest quasi-p-value of its restrictions).",
        "",
    ]
    rows = []
    for (measure, policy), g in fails.groupby(["measure", "policy"], sort=False):
        r = g.iloc[0]
        rows.append(
            [
                str(measure),
                str(policy),
                f"{_g(r['n_fails'])} of {_g(r['n_worlds'])} ({_g(r['share_fails'])})",
                _g(r["loss_median"]),
                _g(r["loss_max"]),
                str(r["beaten_by"]) if isinstance(r["beaten_by"], str) else "",
                _limits(g) or ("never fails" if r["n_fails"] == 0 else "no box"),
                _g(r["coverage"]),
                _g(r["density"]),
                _g(g["qp"].min()),
            ]
        )
    lines += _md(
        [
            "measure",
            "policy",
            "not best in",
            "loss median",
            "loss max",
            "beaten by",
            "conditions",
            "coverage",
            "density",
            "quasi-p",
        ],
        rows,
    )
    lines += [
        "",
        "### Policy below another: PRIM boxes (cases.csv)",
        "",
        "Each case: the worlds in which the first policy's mean is worse than the second's "
        "(paired). A case that holds nowhere, or everywhere, has no box.",
        "",
    ]
    rows = []
    for (measure, case), g in cases.groupby(["measure", "case"], sort=False):
        r = g.iloc[0]
        boxes = [b for b in g.groupby("box", sort=True)] if g["box"].notna().any() else []
        if not boxes:
            boxes = [(None, g)]
        for box, gb in boxes:
            q = gb.iloc[0]
            rows.append(
                [
                    str(measure),
                    str(case),
                    f"{_g(r['n_cases'])} of {_g(r['n_worlds'])} ({_g(r['share_cases'])})",
                    _g(r["loss_median"]),
                    _g(r["loss_max"]),
                    "" if box is None else _g(int(box)),
                    _limits(gb) or ("holds nowhere" if r["n_cases"] == 0 else "no box"),
                    _g(q["coverage"]),
                    _g(q["density"]),
                    _g(gb["qp"].min()),
                    "yes" if box is not None and bool(gb["significant"].all()) else "",
                ]
            )
    lines += _md(
        [
            "measure",
            "case",
            "holds in",
            "loss median",
            "loss max",
            "box",
            "conditions",
            "coverage",
            "density",
            "quasi-p",
            "significant",
        ],
        rows,
    )
    return "\n".join(lines) + "\n"
