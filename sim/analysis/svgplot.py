"""A run's figure as SVG, written directly: no plotting library to import.

``nextpractice run`` draws its one figure here because importing matplotlib costs
about half a second, a fifth of a whole England run from command to exit (issue 21);
``run --png`` still draws the matplotlib figures of :mod:`sim.analysis.plots`. The chart is
the same: mean performance with the band of 5-95% of schools, over calendar years,
beside England's real KS2 series. Like :mod:`sim.analysis.plots`, it draws saved metrics and
is never imported by the model.
"""

from __future__ import annotations

import csv
import math
from html import escape
from importlib.resources import files
from pathlib import Path

import numpy as np

#: Size of the figure and of its plotting area's margins, in SVG pixels.
WIDTH, HEIGHT = 800, 450
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 50
_BLUE = "#1f77b4"


def nice_ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    """About ``n`` round tick values (1, 2 or 5 times a power of ten apart) covering lo..hi."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, n - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step + 1e-9) + 1)]


def _real_series() -> tuple[list[float], list[float]]:
    """England's KS2 English level 4+ share by year (as :func:`sim.analysis.plots._real_series`)."""
    try:
        text = (files("sim") / "data" / "ks2_english_level4_england.csv").read_text()
    except (FileNotFoundError, OSError):
        return [], []
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    pts = [(float(r["year"]) + 0.4, float(r["percent_level4_or_above"]) / 100) for r in rows]
    return [p[0] for p in pts], [p[1] for p in pts]


class _Chart:
    """One panel: maps data to pixels and collects SVG elements."""

    def __init__(self, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
        self.x0, self.x1 = xlim
        self.y0, self.y1 = ylim
        self.parts: list[str] = []

    def px(self, x: np.ndarray | float) -> np.ndarray:
        span = (self.x1 - self.x0) or 1.0
        return LEFT + (np.asarray(x, float) - self.x0) / span * (WIDTH - LEFT - RIGHT)

    def py(self, y: np.ndarray | float) -> np.ndarray:
        span = (self.y1 - self.y0) or 1.0
        return HEIGHT - BOTTOM - (np.asarray(y, float) - self.y0) / span * (HEIGHT - TOP - BOTTOM)

    def line(self, x, y, colour: str, width: float = 2) -> None:
        pts = " ".join(
            f"{a:.1f},{b:.1f}"
            for a, b in zip(self.px(x), self.py(y), strict=True)
            if math.isfinite(a) and math.isfinite(b)
        )
        self.parts.append(
            f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="{width}"/>'
        )

    def band(self, x, lo, hi, colour: str) -> None:
        xs, los, his = self.px(x), self.py(lo), self.py(hi)
        pts = [*zip(xs, his, strict=True), *reversed(list(zip(xs, los, strict=True)))]
        text = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
        self.parts.append(f'<polygon points="{text}" fill="{colour}" fill-opacity="0.2"/>')

    def dots(self, x, y, colour: str = "black") -> None:
        for a, b in zip(self.px(x), self.py(y), strict=True):
            self.parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>')

    def axes(self, xlabel: str, ylabel: str, title: str) -> None:
        bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
        grid = []
        for t in nice_ticks(self.x0, self.x1):
            x = float(self.px(t))
            grid.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{bottom}" stroke="#ddd"/>')
            grid.append(f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle">{t:g}</text>')
        for t in nice_ticks(self.y0, self.y1):
            y = float(self.py(t))
            grid.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#ddd"/>')
            grid.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{t:g}</text>')
        grid.append(
            f'<rect x="{LEFT}" y="{TOP}" width="{right - LEFT}" '
            f'height="{bottom - TOP}" fill="none" stroke="black"/>'
        )
        grid.append(
            f'<text x="{(LEFT + right) / 2}" y="{HEIGHT - 12}" '
            f'text-anchor="middle">{escape(xlabel)}</text>'
        )
        grid.append(
            f'<text transform="translate(16,{(TOP + bottom) / 2}) rotate(-90)" '
            f'text-anchor="middle">{escape(ylabel)}</text>'
        )
        grid.append(
            f'<text x="{WIDTH / 2}" y="{TOP - 14}" text-anchor="middle" '
            f'font-size="15">{escape(title)}</text>'
        )
        self.parts[:0] = grid  # under the data

    def legend(self, entries: list[tuple[str, str, str]]) -> None:
        """Entries of (label, colour, kind: line, band or dot), bottom right."""
        x = WIDTH - RIGHT - 250
        y = HEIGHT - BOTTOM - 18 * len(entries) - 6
        for i, (label, colour, kind) in enumerate(entries):
            cy = y + 18 * i + 9
            if kind == "line":
                mark = (
                    f'<line x1="{x + 6}" y1="{cy}" x2="{x + 26}" y2="{cy}" '
                    f'stroke="{colour}" stroke-width="2"/>'
                )
            elif kind == "band":
                mark = (
                    f'<rect x="{x + 6}" y="{cy - 5}" width="20" height="10" '
                    f'fill="{colour}" fill-opacity="0.2"/>'
                )
            else:
                mark = f'<circle cx="{x + 16}" cy="{cy}" r="3" fill="{colour}"/>'
            self.parts += [mark, f'<text x="{x + 32}" y="{cy + 4}">{escape(label)}</text>']

    def save(self, path: Path) -> Path:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">'
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>'
        )
        path.write_text("\n".join([head, *self.parts, "</svg>"]) + "\n", encoding="utf-8")
        return path


def _limits(*arrays: np.ndarray) -> tuple[float, float]:
    values = np.concatenate([np.asarray(a, float).ravel() for a in arrays])
    values = values[np.isfinite(values)]
    if not len(values):
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * (hi - lo) if hi > lo else 0.05
    return lo - pad, hi + pad


def performance_svg(metrics, path: Path, title: str = "") -> Path:
    """Mean performance with the 5-95% band between schools over calendar years, and KS2."""
    x = metrics["year"].to_numpy(float)
    mean, lo, hi = (metrics[c].to_numpy(float) for c in ("perf_mean", "perf_p05", "perf_p95"))
    rx, ry = _real_series()
    real_x = np.asarray([a for a in rx if x.min() - 1 <= a <= x.max() + 1])
    real_y = np.asarray([b for a, b in zip(rx, ry, strict=True) if x.min() - 1 <= a <= x.max() + 1])
    chart = _Chart((float(x.min()), float(x.max())), _limits(lo, hi, real_y))
    chart.band(x, lo, hi, _BLUE)
    chart.line(x, mean, _BLUE)
    entries = [("5-95% of schools", _BLUE, "band"), ("mean of schools", _BLUE, "line")]
    if len(real_x):
        chart.dots(real_x, real_y)
        entries.append(("England, KS2 English level 4+ (real)", "black", "dot"))
    chart.axes("year", "share of pupils at expected standard", title or "School performance")
    chart.legend(entries)
    return chart.save(path)


def adoption_svg(metrics, path: Path, title: str = "") -> Path:
    """Share of schools running the most widely run practice, by step (the reduced modes)."""
    x = metrics["step"].to_numpy(float)
    chart = _Chart((float(x.min()), float(max(x.max(), x.min() + 1))), (0.0, 1.02))
    chart.line(x, metrics["top_adoption"].to_numpy(float), _BLUE)
    chart.axes("step", "share of schools", title or "Adoption")
    chart.legend([("share adopted", _BLUE, "line")])
    return chart.save(path)
