"""Figures of a calibration, drawn from its saved tables (never by re-running the model).

Kept apart from the model like :mod:`sim.analysis.plots`; :mod:`sim.calibration` calls these
once its tables are written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.core.looks import NEUTRAL, strategy_look


def posterior_figure(
    post: pd.DataFrame, priors: Mapping[str, tuple[float, float]], path: Path, title: str = ""
) -> Path:
    """One panel per fitted parameter: weighted histogram over its prior range.

    The flat line is the uniform prior's density; the solid vertical line the weighted
    median, the dashed ones the 90% interval.
    """
    from sim.experiments.posterior import weighted_quantile

    k = len(priors)
    cols = min(k, 3)
    rows = math.ceil(k / cols)
    fig = Figure(figsize=(4.2 * cols, 3.4 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    w = post["weight"].to_numpy(float)
    for ax, (name, (lo, hi)) in zip(axes, priors.items(), strict=False):
        x = post[name].to_numpy(float)
        ax.hist(
            x,
            bins=np.linspace(lo, hi, 21),
            weights=w,
            density=True,
            alpha=0.6,
            color=NEUTRAL[2],  # not a strategy's colour: a parameter, not a strategy
            label="posterior",
        )
        ax.hlines(1.0 / (hi - lo), lo, hi, colors="grey", linestyles=":", label="prior")
        q05, q50, q95 = weighted_quantile(x, w, (0.05, 0.5, 0.95))
        ax.axvline(q50, color="k", lw=1.5, label=f"median {q50:.3g}")
        for q in (q05, q95):
            ax.axvline(q, color="k", lw=1, ls="--")
        ax.set_xlim(lo, hi)
        ax.set_xlabel(name)
        ax.set_title(f"90%: [{q05:.3g}, {q95:.3g}]", fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
        ax.grid(alpha=0.3)
    for ax in axes[k:]:
        ax.set_visible(False)
    axes[0].set_ylabel("density")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def predictive_figure(
    band: pd.DataFrame, setup: Any, forecast: pd.DataFrame | None, path: Path, title: str = ""
) -> Path:
    """Posterior predictive median with 50% and 90% bands against the observed points.

    One panel per observed series. Fitted years are filled dots, held-back years open
    dots; the naive forecasts of the held-back years are drawn beside the model's.
    """
    parts = list(getattr(setup, "parts", {}).values()) or [setup]
    look = strategy_look(str((setup.base or {}).get("strategy", "top_down")))
    fig = Figure(figsize=(8, 4.5 * len(parts)))
    axes = np.atleast_1d(fig.subplots(len(parts), 1)).ravel()
    for ax, part in zip(axes, parts, strict=True):
        name = getattr(part, "name", None)
        mine = band[band["series"] == name] if "series" in band and name is not None else band
        fc = None
        if forecast is not None:
            fc = forecast[forecast["series"] == name] if "series" in forecast else forecast
        _predictive_panel(ax, mine, part, fc, look)
        if len(parts) > 1:
            ax.set_title(f"{name}: {part.series.name}", fontsize=10)
    if title:
        fig.suptitle(title)
    elif len(parts) == 1:
        axes[0].set_title("Posterior predictive")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def _predictive_panel(
    ax: Any, band: pd.DataFrame, part: Any, forecast: pd.DataFrame | None, look: Any
) -> None:
    """One series' panel of :func:`predictive_figure`."""
    s = part.series
    x = band["year"]
    model = f"model ({look.label})"
    ax.fill_between(
        x, band["q05"], band["q95"], alpha=0.2, color=look.colour, label=f"{model}, 90% band"
    )
    ax.fill_between(x, band["q25"], band["q75"], alpha=0.35, color=look.colour, label="50% band")
    ax.plot(x, band["q50"], color=look.colour, lw=2, label=f"{model}, median")
    ax.plot(s.years[part.fit], s.values[part.fit], "ko", ms=5, label="observed, fitted")
    other = ~part.fit & ~part.held
    if other.any():
        ax.plot(
            s.years[other],
            s.values[other],
            "o",
            color=NEUTRAL[2],
            ms=4,
            label="observed, not fitted",
        )
    if part.held.any():
        ax.plot(
            s.years[part.held],
            s.values[part.held],
            "o",
            mfc="white",
            mec="k",
            ms=6,
            label="observed, held back",
        )
        cutoff = getattr(part, "cutoff", None)
        if cutoff is not None:
            ax.axvline(cutoff + 0.5, color=NEUTRAL[2], lw=1, ls=":")
    if forecast is not None:
        f = forecast[forecast["year"].astype(str).str.isdigit()]
        fy = f["year"].astype(int)
        naive = (
            ("last_value", "s--", "naive: last value carried forward"),
            ("linear_trend", "d-.", "naive: linear trend"),
            ("logistic", "^:", "naive: logistic fit"),
        )
        for column, style, label in naive:
            if column in f and np.isfinite(f[column].to_numpy(float)).any():
                ax.plot(fy, f[column], style, color=NEUTRAL[1], ms=4, lw=1, label=label)
    month = getattr(getattr(part, "spec", None), "measured_month", None)
    ax.set_xlabel(f"year (measured in month {month})" if month else "year")
    ax.set_ylabel(f"{s.name} ({s.unit})")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)


def model_probability_figure(probs: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Each story's posterior probability by generation, one thin line per repeat.

    Left: the probability over the generations (a story that died out drops to 0 and
    stays there). Right: the last generation's probability in each repeat (dots) and
    their mean (bar), so the spread between seeds is in plain sight.
    """
    models = list(dict.fromkeys(probs["model"]))
    fig = Figure(figsize=(11, 4.2))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    colours = [NEUTRAL[0], "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e"]
    for k, model in enumerate(models):
        colour = colours[k % len(colours)]
        mine = probs[probs["model"] == model]
        for j, (_, g) in enumerate(mine.groupby("repeat")):
            g = g.sort_values("generation")
            left.plot(
                g["generation"],
                g["probability"],
                "-o",
                color=colour,
                alpha=0.7,
                ms=3,
                lw=1,
                label=model if j == 0 else None,
            )
        final = mine.loc[mine.groupby("repeat")["generation"].idxmax(), "probability"]
        right.bar(k, final.mean(), color=colour, alpha=0.5)
        right.plot(np.full(len(final), k), final, "ko", ms=4)
    from matplotlib.ticker import MaxNLocator

    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlabel("generation")
    left.set_ylabel("posterior probability of the story")
    left.set_ylim(-0.02, 1.02)
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    right.set_xticks(range(len(models)), models, rotation=20, fontsize=8)
    right.set_ylim(0, 1)
    right.set_ylabel("last generation (dots: repeats; bar: mean)")
    right.grid(alpha=0.3, axis="y")
    if title:
        fig.suptitle(f"{title}: which story fits")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def predictive_check_figure(pred: pd.DataFrame, setup: Any, path: Path, title: str = "") -> Path:
    """Each story's posterior predictive band (rows) against each series (columns)."""
    models = list(dict.fromkeys(pred["model"]))
    parts = list(setup.parts.values())
    fig = Figure(figsize=(5.5 * len(parts), 3.4 * len(models)))
    axes = fig.subplots(len(models), len(parts), squeeze=False)
    for i, model in enumerate(models):
        for j, part in enumerate(parts):
            ax = axes[i, j]
            mine = pred[(pred["model"] == model) & (pred["series"] == part.name)]
            g = mine.groupby("year")["value"]
            band = pd.DataFrame(
                {q: g.quantile(v) for q, v in (("lo", 0.05), ("mid", 0.5), ("hi", 0.95))}
            )
            ax.fill_between(band.index, band["lo"], band["hi"], color=NEUTRAL[2], alpha=0.3)
            ax.plot(band.index, band["mid"], color=NEUTRAL[0], lw=1.5)
            s = part.series
            ax.plot(s.years[part.fit], s.values[part.fit], "ko", ms=4)
            if part.held.any():
                ax.plot(s.years[part.held], s.values[part.held], "o", mfc="white", mec="k", ms=5)
            ax.set_title(f"{model}: {part.name}", fontsize=9)
            ax.grid(alpha=0.3)
            if j == 0:
                ax.set_ylabel(f"{s.unit}")
    if title:
        fig.suptitle(f"{title}: posterior predictive of each story (90% band, median)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def rolling_figure(summary: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Mean CRPS by horizon, the model's against each naive forecast's, one panel a series.

    The model's coverage of its 50% and 90% bands is written under each panel.
    """
    rows = summary[(summary["series"] != "all") & (summary["horizon"].astype(str) != "all")]
    series = list(dict.fromkeys(rows["series"]))
    fig = Figure(figsize=(5.5 * max(1, len(series)), 4.2))
    axes = np.atleast_1d(fig.subplots(1, max(1, len(series)))).ravel()
    styles = {
        "model_crps": ("-o", "#d95f02", "model (posterior predictive)"),
        "last_value_crps": ("s--", NEUTRAL[1], "naive: last value"),
        "linear_trend_crps": ("d-.", NEUTRAL[1], "naive: linear trend"),
        "logistic_crps": ("^:", NEUTRAL[1], "naive: logistic"),
    }
    for ax, name in zip(axes, series, strict=False):
        g = rows[rows["series"] == name].copy()
        g["h"] = g["horizon"].astype(int)
        g = g.sort_values("h")
        for column, (style, colour, label) in styles.items():
            if column in g and np.isfinite(g[column].to_numpy(float)).any():
                ax.plot(g["h"], g[column], style, color=colour, ms=4, lw=1.2, label=label)
        every = summary[(summary["series"] == name) & (summary["horizon"].astype(str) == "all")]
        if len(every):
            r = every.iloc[0]
            ax.set_xlabel(
                f"years ahead (coverage of the model's 50% band {r['coverage_50']:.0%}, "
                f"90% band {r['coverage_90']:.0%})",
                fontsize=8,
            )
        ax.set_title(str(name), fontsize=10)
        ax.set_ylabel("mean CRPS (the series' unit)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(f"{title}: rolling-origin forecast scores (lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path
