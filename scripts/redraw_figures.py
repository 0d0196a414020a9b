"""Redraw the figures shipped in docs/ from the tables saved beside them (no model runs).

The robustness figures (``docs/robustness/best_share.png`` and ``regret_<measure>.png``)
come from ``robustness.csv`` and ``world_means.csv``; the tight-loose figures
(``docs/figures/tight_loose/grid_<outcome>.png``) from ``grid_summary.csv``. Run it after
a change to how figures look (colours, labels); the numbers cannot move, as nothing is
re-run. Usage: ``python scripts/redraw_figures.py``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import sim.model.builtin  # noqa: F401  (the shipped strategies' looks)
from sim.analysis.analyze import grid_figure
from sim.analysis.robustness import best_share_figure, regret, regret_figure
from sim.core.looks import strategy_look

ROOT = Path(__file__).resolve().parent.parent
STRATEGIES = ("top_down", "bottom_up", "next_practice")


def robustness(folder: Path) -> list[Path]:
    """best_share.png and regret_<measure>.png from robustness.csv and world_means.csv."""
    robust = pd.read_csv(folder / "robustness.csv")
    means = pd.read_csv(folder / "world_means.csv", index_col=0)
    policies = list(dict.fromkeys(robust["policy"]))
    looks = {p: strategy_look(p) for p in policies}
    written = [folder / "best_share.png"]
    best_share_figure(robust, looks).savefig(written[0], dpi=120)
    for measure, better in robust.drop_duplicates("measure")[["measure", "better"]].values:
        path = folder / f"regret_{measure}.png"
        if not path.is_file():
            continue
        table = means[[f"{measure}[{p}]" for p in policies]].dropna()
        table.columns = policies
        regret_figure(measure, better, regret(table, better), looks).savefig(path, dpi=120)
        written.append(path)
    return written


def grid(folder: Path, x: str, replications: int) -> list[Path]:
    """grid_<outcome>.png from grid_summary.csv (one line per scenario)."""
    table = pd.read_csv(folder / "grid_summary.csv")
    manifest = {
        "factors": {"scenario": {"unit": "file"}, x: {"unit": "1"}},
        "replications": replications,
        "looks": {n: strategy_look(n).to_dict() for n in STRATEGIES},
    }
    written = []
    for outcome in dict.fromkeys(table["outcome"]):
        path = folder / f"grid_{outcome}.png"
        grid_figure(manifest, table, outcome, x).savefig(path, dpi=120)
        written.append(path)
    return written


def main() -> None:
    """Redraw every figure this script knows, and list them."""
    written = robustness(ROOT / "docs" / "robustness")
    written += grid(ROOT / "docs" / "figures" / "tight_loose", "tightness", 10)
    for path in written:
        print(f"redrew {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
