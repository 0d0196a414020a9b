"""Figures drawn from saved results (never by re-running the model).

Kept apart from the model: nothing in the model package imports this module.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure  # not pyplot: saving a file picks no backend for the user

#: One colour per shipped strategy, used wherever strategies are compared.
COLOURS = {"top_down": "#d95f02", "bottom_up": "#7570b3", "next_practice": "#1b9e77"}
#: Colours for any other scenario, in order (ColorBrewer Dark2's remaining five, then Set1).
_OTHER_COLOURS = [
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#666666",
    "#e41a1c",
    "#377eb8",
    "#4daf4a",
    "#984ea3",
    "#ff7f00",
]


def _real_series(ax) -> None:
    """Draw the KS2 English series (England, level 4+) for comparison, if shipped."""
    from importlib.resources import files

    try:
        data = pd.read_csv(files("sim") / "data" / "ks2_english_level4_england.csv", comment="#")
    except (FileNotFoundError, OSError):
        return
    ax.plot(
        data["year"] + 0.4,
        data["percent_level4_or_above"] / 100,
        "ko",
        ms=4,
        label="England, KS2 English level 4+ (real)",
    )


def performance_figure(metrics: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Mean performance with the 5-95% band between schools, over calendar years."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    x = metrics["year"]
    ax.fill_between(
        x, metrics["perf_p05"], metrics["perf_p95"], alpha=0.2, label="5-95% of schools"
    )
    ax.plot(x, metrics["perf_mean"], lw=2, label="mean of schools")
    _real_series(ax)
    return _finish(
        fig, ax, path, "year", "share of pupils at expected standard", title or "School performance"
    )


def _finish(fig, ax, path: Path, xlabel: str, ylabel: str, title: str) -> Path:
    """Label, legend and grid one panel, save the figure and close it."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def adoption_figure(metrics: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Share of schools running the most widely run practice, by step (the reduced modes)."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    ax.plot(metrics["step"], metrics["top_adoption"], lw=2, label="share adopted")
    ax.set_ylim(0, 1.02)
    return _finish(fig, ax, path, "step", "share of schools", title or "Adoption")


def compare_figure(runs: pd.DataFrame, path: Path) -> Path:
    """Mean curve per scenario with its 90% band over replications, plus the spread panel."""
    fig = Figure(figsize=(12, 4.5))
    axes = fig.subplots(1, 2)
    cycle = iter(_OTHER_COLOURS * (1 + runs["scenario"].nunique() // len(_OTHER_COLOURS)))
    for label, df in runs.groupby("scenario", sort=False):
        # A shipped strategy keeps its colour; any other scenario takes the next free one,
        # and its band takes its line's colour.
        colour = COLOURS.get(str(label)) or next(cycle)
        for ax, col in zip(axes, ("perf_mean", "perf_sd"), strict=True):
            g = df.groupby("year")[col]
            mean, lo, hi = g.mean(), g.quantile(0.05), g.quantile(0.95)
            ax.fill_between(mean.index, lo, hi, alpha=0.2, color=colour, lw=0)
            ax.plot(mean.index, mean, lw=2, color=colour, label=str(label))
    _real_series(axes[0])
    axes[0].set_ylabel("mean share of pupils at expected standard")
    axes[0].set_title("Performance (mean of runs, 90% band over replications)")
    axes[1].set_ylabel("standard deviation between schools")
    axes[1].set_title("Spread between schools")
    for ax in axes:
        ax.set_xlabel("year")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path
