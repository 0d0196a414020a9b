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

    Fitted years are filled dots, held-back years open dots; the naive forecasts of the
    held-back years are drawn beside the model's.
    """
    s = setup.series
    look = strategy_look(str((setup.base or {}).get("strategy", "top_down")))
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    x = band["year"]
    model = f"model ({look.label})"
    ax.fill_between(
        x, band["q05"], band["q95"], alpha=0.2, color=look.colour, label=f"{model}, 90% band"
    )
    ax.fill_between(x, band["q25"], band["q75"], alpha=0.35, color=look.colour, label="50% band")
    ax.plot(x, band["q50"], color=look.colour, lw=2, label=f"{model}, median")
    ax.plot(s.years[setup.fit], s.values[setup.fit], "ko", ms=5, label="observed, fitted")
    other = ~setup.fit & ~setup.held
    if other.any():
        ax.plot(
            s.years[other],
            s.values[other],
            "o",
            color=NEUTRAL[2],
            ms=4,
            label="observed, before the model starts",
        )
    if setup.held.any():
        ax.plot(
            s.years[setup.held],
            s.values[setup.held],
            "o",
            mfc="white",
            mec="k",
            ms=6,
            label="observed, held back",
        )
        cutoff = setup.cal.observed.fit_until
        ax.axvline(cutoff + 0.5, color=NEUTRAL[2], lw=1, ls=":")
    if forecast is not None:
        f = forecast[forecast["year"] != "rmse"]
        fy = f["year"].astype(int)
        ax.plot(
            fy,
            f["last_value"],
            "s--",
            color=NEUTRAL[1],
            ms=4,
            lw=1,
            label="naive: last value carried forward",
        )
        if np.isfinite(f["logistic"].to_numpy(float)).any():
            ax.plot(
                fy, f["logistic"], "^:", color=NEUTRAL[1], ms=4, lw=1, label="naive: logistic fit"
            )
    ax.set_xlabel(f"year (measured in month {setup.cal.observed.measured_month})")
    ax.set_ylabel(f"{s.name} ({s.unit})")
    ax.set_title(title or "Posterior predictive")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path
