"""Figures drawn from saved results (never by re-running the model).

Kept apart from the model: nothing in the model package imports this module.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure  # not pyplot: saving a file picks no backend for the user

from sim.core.looks import Look, looks_or_default, strategy_look
from sim.core.registry import STRATEGIES


class _Colours(Mapping[str, str]):
    """Each registered strategy's colour, by name, as its class declares it (:mod:`sim.core.looks`).

    Read when asked, so a plug-in registered later has its colour too.
    """

    def __getitem__(self, name: str) -> str:
        _builtins()
        if name not in STRATEGIES:
            raise KeyError(name)
        return strategy_look(name).colour

    def __iter__(self) -> Iterator[str]:
        _builtins()
        return iter(list(STRATEGIES))

    def __len__(self) -> int:
        _builtins()
        return len(STRATEGIES)


def _builtins() -> None:
    import sim.model.builtin  # noqa: F401  (registers the shipped strategies)


#: One colour per registered strategy, used wherever strategies are drawn.
COLOURS: Mapping[str, str] = _Colours()


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


def compare_figure(runs: pd.DataFrame, path: Path, looks: Mapping[str, Look] | None = None) -> Path:
    """Mean curve per scenario with its 90% band over replications, plus the spread panel.

    Args:
        runs: Every step of every run (``scenario``, ``year``, ``perf_mean``, ``perf_sd``).
        path: The PNG to write.
        looks: Scenario to its :class:`~sim.core.looks.Look` (its label, and its
            strategy's colour), as ``compare`` saves them; default: a scenario named
            after a strategy draws as that strategy.
    """
    return _save(compare_axes(runs, looks), path)


def compare_axes(runs: pd.DataFrame, looks: Mapping[str, Look] | None = None) -> Figure:
    """The figure of :func:`compare_figure`, not yet saved (tests read its legends)."""
    fig = Figure(figsize=(12, 4.5))
    axes = fig.subplots(1, 2)
    labels = [str(x) for x in dict.fromkeys(runs["scenario"])]
    looks = looks_or_default(labels, {k: v.to_dict() for k, v in (looks or {}).items()})
    for label, df in runs.groupby("scenario", sort=False):
        look = looks[str(label)]
        for ax, col in zip(axes, ("perf_mean", "perf_sd"), strict=True):
            g = df.groupby("year")[col]
            mean, lo, hi = g.mean(), g.quantile(0.05), g.quantile(0.95)
            ax.fill_between(mean.index, lo, hi, alpha=0.2, color=look.colour, lw=0)
            ax.plot(mean.index, mean, lw=2, color=look.colour, ls=look.style, label=look.label)
    _real_series(axes[0])
    axes[0].set_ylabel("mean share of pupils at expected standard")
    axes[0].set_title("Performance (mean of runs, 90% band over replications)")
    axes[1].set_ylabel("standard deviation between schools")
    axes[1].set_title("Spread between schools")
    for ax in axes:
        ax.set_xlabel("year")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    return fig


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path
