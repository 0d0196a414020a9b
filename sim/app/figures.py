"""The two pictures of the workshop page, drawn with matplotlib for a room.

Type is large, colours are few and each means one thing:

* on the curve, a strategy keeps the colour it has in every figure of the
  project (:data:`sim.analysis.plots.COLOURS`); the top-down shadow is dashed;
* on the network, the practices run by most schools get the colours of the
  Okabe-Ito palette (safe for colour-blind viewers) and keep them while they
  stay among the most run; other practices are grey, schools running none
  are white; or, coloured by performance, one sequential scale.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state), so
concurrent browser sessions never share a figure.
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Patch
from matplotlib.ticker import MaxNLocator

from sim.analysis.plots import COLOURS
from sim.app.workshop import (
    SHADOW_STRATEGY,
    STRATEGY_LABELS,
    WorkshopRun,
    authority_name,
    domain_name,
)
from sim.core.state import EMPTY

#: Okabe-Ito colours for the most run practices (black and yellow left out:
#: black is for text, yellow vanishes on a projector).
PRACTICE_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
OTHER_PRACTICE = "#9a9a9a"
NO_PRACTICE = "#ffffff"
CUT_COLOUR = "#c00000"
TIE_COLOUR = "#b8b8b8"
#: Sequential colour scale for performance (readable in grey and by colour-blind viewers).
PERF_CMAP = "cividis"

#: Pixels per inch of every figure of the page: its pixel size is the size it is shown at.
DPI = 100
#: Smallest text on a figure, in pixels of the figure (18 px and more, shown at its size,
#: reads from the back of a room: issue 32); in points at :data:`DPI`.
FONT_PX = 19
FONT = FONT_PX * 72 / DPI
#: Ties drawn at most; beyond it every k-th tie is drawn (a big system stays readable).
MAX_TIES_DRAWN = 4000


def _style(fig: Figure) -> None:
    for ax in fig.axes:
        ax.tick_params(labelsize=FONT)


def _legend(ax, *args, **kw) -> None:
    """A legend under the plot: the figure's (laid out with it) when the plot is alone."""
    if len(ax.figure.axes) == 1:
        ax.figure.legend(*args, loc="outside lower center", **kw)
    else:
        ax.legend(*args, loc="upper center", bbox_to_anchor=(0.5, -0.08), **kw)


def min_font_px(fig: Figure) -> float:
    """The smallest text drawn on a figure, in pixels of the figure's image."""
    from matplotlib.text import Text

    sizes = [
        t.get_fontsize() * fig.dpi / 72
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip()
    ]
    return float(min(sizes)) if sizes else float("inf")


class PracticePalette:
    """Stable colours for the practices run by most schools.

    A practice gets a free colour when it enters the top few and keeps it
    while it stays there, so the picture does not flicker as ranks swap.
    """

    def __init__(self, colours: tuple[str, ...] = PRACTICE_COLOURS) -> None:
        """Start with every colour free."""
        self.colours = colours
        self.owner: dict[int, str] = {}

    def assign(self, users: np.ndarray) -> dict[int, str]:
        """Colour the most run practices, given the number of schools running each.

        Args:
            users: schools running each practice, indexed by practice id.

        Returns:
            Practice id -> colour, for the practices shown in colour.

        """
        users = np.asarray(users)
        k = len(self.colours)
        ranked = [int(p) for p in np.argsort(-users, kind="stable")[:k] if users[p] > 0]
        top = set(ranked)
        self.owner = {p: c for p, c in self.owner.items() if p in top}
        free = [c for c in self.colours if c not in self.owner.values()]
        for p in ranked:
            if p not in self.owner:
                self.owner[p] = free.pop(0)
        return dict(self.owner)


def practice_label(run: WorkshopRun, practice: int, n_schools: int) -> str:
    """Name a practice for a legend: its number, what it is for, how many schools run it."""
    what = domain_name(run.system, run.system.practices.domain[practice])
    return f"{practice} {what} ({n_schools})"


#: Size of a figure on the page, in inches at :data:`DPI`: the size of its box at
#: 1280x720, alone beside the curve, and as one of three side by side; so its text
#: is shown at the size it is drawn (a larger screen shows it larger).
FIGSIZE = (4.7, 4.1)
FIGSIZE_NARROW = (3.1, 4.1)


def network_figure(
    run: WorkshopRun,
    colour_by: str,
    palette: PracticePalette,
    which: str = "system",
    title: str | None = None,
    figsize: tuple[float, float] = FIGSIZE,
    marked: dict[int, int] | None = None,
) -> Figure:
    """Draw the schools, grouped by authority and town, with their ties.

    Args:
        run: the workshop run.
        colour_by: ``"practice"`` (the practice each school runs most deeply)
            or ``"performance"``.
        palette: keeps practice colours stable from one frame to the next.
        which: ``"system"`` (the trainer's run) or ``"shadow"`` (the comparison).
        title: a title above the network (the side-by-side view names each run).
        figsize: width and height in inches.
        marked: schools to mark with a number (the room's participants: school -> number).

    Returns:
        A figure with the network and its legend.

    """
    with run.lock:
        fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
        _draw_network(
            fig.add_subplot(),
            run,
            colour_by,
            palette,
            which,
            title,
            compact=figsize[0] < FIGSIZE[0],
            marked=marked,
        )
        _style(fig)
        return fig


def both_users(run: WorkshopRun) -> np.ndarray:
    """Schools running each practice, in the trainer's run and the comparison together.

    Side by side, the two networks take their colours from this sum, so a
    practice has the same colour in both.
    """
    a, b = run.system.users(), run.shadow.users()
    out = np.zeros(max(len(a), len(b)), np.int64)
    out[: len(a)] += a
    out[: len(b)] += b
    return out


def _draw_network(
    ax,
    run: WorkshopRun,
    colour_by: str,
    palette: PracticePalette,
    which: str,
    title: str | None,
    compact: bool = False,
    marked: dict[int, int] | None = None,
) -> None:
    lay = run.layout
    xy = lay.xy
    fig = ax.figure
    model = getattr(run, which)
    if title:
        ax.set_title(title, fontsize=FONT, fontweight="bold")
    ax.set_aspect("equal")
    ax.axis("off")

    # Authorities: a disc each, a budget cut outlined in red.
    cut = set(run.cut_authorities)
    for la in range(run.n_authorities):
        is_cut = la in cut
        ax.add_patch(
            Circle(
                lay.centre[la],
                lay.radius[la],
                facecolor="#f3f3f3",
                edgecolor=CUT_COLOUR if is_cut else "#c8c8c8",
                linewidth=3 if is_cut else 1.5,
                linestyle="--" if is_cut else "-",
                zorder=0,
            )
        )
        label = authority_name(la) + ("\nbudget cut" if is_cut else "")
        ax.text(
            lay.centre[la][0],
            lay.centre[la][1] + lay.radius[la] * 1.04,
            label,
            ha="center",
            va="bottom",
            fontsize=FONT,
            fontweight="bold",
            color=CUT_COLOUR if is_cut else "#333333",
        )

    # Ties in force.
    a, b = run.live_ties(which)
    if len(a) > MAX_TIES_DRAWN:
        every = int(np.ceil(len(a) / MAX_TIES_DRAWN))
        a, b = a[::every], b[::every]
    segs = np.stack([xy[a], xy[b]], axis=1)
    ax.add_collection(LineCollection(segs, colors=TIE_COLOUR, linewidths=1.0, zorder=1))

    n = len(xy)
    size = float(np.clip(9000 / max(n, 1), 6, 260))
    if colour_by == "performance":
        perf = run.performance(which)
        norm = Normalize(0.4, 1.0)
        pts = ax.scatter(
            xy[:, 0],
            xy[:, 1],
            c=perf,
            cmap=PERF_CMAP,
            norm=norm,
            s=size,
            edgecolors="#333333",
            linewidths=0.6,
            zorder=2,
        )
        cb = fig.colorbar(
            pts,
            ax=ax,
            orientation="horizontal",
            fraction=0.05,
            pad=0.02,
            format=lambda v, _: f"{v:.0%}",
        )
        cb.set_label("Pupils reaching the expected standard", fontsize=FONT)
        cb.ax.tick_params(labelsize=FONT)
    else:
        main = run.main_practice(which)
        users = model.users()
        colours = palette.assign(both_users(run) if compact else users)
        face = np.array(
            [colours.get(int(p), OTHER_PRACTICE) if p != EMPTY else NO_PRACTICE for p in main]
        )
        ax.scatter(
            xy[:, 0], xy[:, 1], c=face, s=size, edgecolors="#333333", linewidths=0.8, zorder=2
        )
        users = np.pad(users, (0, max(0, max(colours, default=0) + 1 - len(users))))
        shown = sorted((p for p in colours if users[p] > 0), key=lambda p: -users[p])
        handles = [
            Patch(
                facecolor=colours[p],
                edgecolor="#333333",
                label=practice_label(run, p, int(users[p])),
            )
            for p in shown
        ]
        handles.append(
            Patch(facecolor=OTHER_PRACTICE, edgecolor="#333333", label="Another practice")
        )
        handles.append(Patch(facecolor=NO_PRACTICE, edgecolor="#333333", label="No practice yet"))
        # The most run first; at most four practices, so the legend stays short.
        handles = handles[:4] + handles[-2:] if len(handles) > 6 else handles
        if compact:  # a third of the width: the few most run, one column
            handles = handles[:3]
        _legend(
            ax,
            handles=handles,
            ncols=1 if compact else 2,
            fontsize=FONT,
            frameon=False,
            handlelength=1.0,
            columnspacing=0.8,
            borderpad=0.1,
        )
    if marked:  # the room's participants: a ring and their number
        who = np.array(sorted(marked), np.int64)
        ax.scatter(
            xy[who, 0],
            xy[who, 1],
            s=size * 2.6,
            facecolors="none",
            edgecolors="#000000",
            linewidths=2.2,
            zorder=3,
        )
        for i in who.tolist():
            ax.annotate(
                str(marked[i]),
                xy[i],
                xytext=(5, 5),
                textcoords="offset points",
                fontsize=FONT,
                fontweight="bold",
                color="#000000",
                zorder=4,
                bbox={"boxstyle": "round,pad=0.1", "fc": "#ffffff", "ec": "none", "alpha": 0.8},
            )
    pad = 1.0
    ax.set_xlim(
        (lay.centre[:, 0] - lay.radius).min() - pad, (lay.centre[:, 0] + lay.radius).max() + pad
    )
    ax.set_ylim(
        (lay.centre[:, 1] - lay.radius).min() - pad,
        (lay.centre[:, 1] + lay.radius).max() + 0.35 * lay.radius.max() + pad,
    )


def strategy_spells(strategies: list[str]) -> list[tuple[int, int, str]]:
    """Split the strategy of each step into spells: (first step, last step, strategy)."""
    spells: list[tuple[int, int, str]] = []
    for i, name in enumerate(strategies):
        if spells and spells[-1][2] == name:
            spells[-1] = (spells[-1][0], i, name)
        else:
            spells.append((i, i, name))
    return spells


def curve_figure(run: WorkshopRun, figsize: tuple[float, float] = FIGSIZE) -> Figure:
    """Mean performance with its band, beside the same schools under the comparison.

    The band holds the middle 90% of the trainer's system's schools (5th to
    95th percentile); the comparison is drawn as its mean alone, dashed,
    so the room compares two lines.
    Every change of strategy, dial or lever and every budget cut is marked
    where it acts.
    """
    with run.lock:
        fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
        _draw_curve(fig.add_subplot(), run, compact=figsize[0] < FIGSIZE[0])
        _style(fig)
        return fig


def snapshot_figure(
    run: WorkshopRun, colour_by: str, palette: PracticePalette, side_by_side: bool = False
) -> Figure:
    """The current view as one picture for a slide: network(s), then the curve.

    Args:
        run: the workshop run.
        colour_by: how schools are coloured (see :func:`network_figure`).
        palette: the practice colours the page shows.
        side_by_side: also draw the comparison's network, as the page does.

    Returns:
        A wide figure, titled with the month and the two runs compared.

    """
    with run.lock:
        n = 3 if side_by_side else 2
        fig = Figure(figsize=(6.4 * n, 6.6), dpi=110, layout="constrained")
        axes = fig.subplots(1, n)
        label = STRATEGY_LABELS.get(run.in_force(), run.in_force())
        _draw_network(
            axes[0],
            run,
            colour_by,
            palette,
            "system",
            f"{label}, dial {run.control('tightness'):.1f}" if side_by_side else None,
            compact=side_by_side,
        )
        if side_by_side:
            _draw_network(
                axes[1],
                run,
                colour_by,
                palette,
                "shadow",
                run.compare_label().capitalize(),
                compact=True,
            )
        _draw_curve(axes[-1], run)
        fig.suptitle(
            f"Next practice workshop, month {run.months:.0f}: {label.lower()} "
            f"against {run.compare_label()}",
            fontsize=FONT + 2,
        )
        _style(fig)
        return fig


def _draw_curve(ax, run: WorkshopRun, compact: bool = False) -> None:
    """The curve on ``ax``; ``compact`` (a third of the width): the legend's shortest words."""
    df, shadow = run.frames()
    strategy = run.in_force()
    colour = COLOURS.get(strategy, "#1b9e77")
    shadow_colour = COLOURS.get(run.compare["strategy"], COLOURS[SHADOW_STRATEGY])
    x, xs, y = df["year"].to_numpy(), shadow["year"].to_numpy(), df["perf_mean"].to_numpy()
    ax.plot(
        xs,
        shadow["perf_mean"],
        color=shadow_colour,
        linestyle="--",
        linewidth=3,
        label="Comparison" if compact else f"Same schools, {run.compare_label(short=True)}",
    )
    ax.fill_between(
        x,
        df["perf_p05"],
        df["perf_p95"],
        color=colour,
        alpha=0.22,
        linewidth=0,
        label="Middle 90%" if compact else "Middle 90% of schools",
    )
    # The line takes the colour of the strategy in force during each step.
    labelled: set[str] = set()
    for first, last, name in strategy_spells(run.strategies or [strategy]):
        seg = slice(first, last + 2)  # a step joins the state before it to the one after
        label = STRATEGY_LABELS.get(name, name)
        label = label.removesuffix(" transfer") if compact else f"This run: {label.lower()}"
        ax.plot(
            x[seg],
            y[seg],
            color=COLOURS.get(name, "#1b9e77"),
            linewidth=3.5,
            label=None if name in labelled else label,
        )
        labelled.add(name)
    # Where each run is now: visible from the first step on.
    ax.plot(xs[-1:], shadow["perf_mean"].iloc[-1:], "o", color=shadow_colour, ms=9)
    ax.plot(x[-1:], y[-1:], "o", color=colour, ms=11)
    p = run.system.p
    step_years = p.dur_step / 12.0
    by_step: dict[int, list[str]] = {}
    for ev in run.events:
        by_step.setdefault(ev.step, []).append(ev.text)
    for at, texts in by_step.items():
        year = p.start_year + at * step_years
        ax.axvline(year, color="#555555", linestyle=":", linewidth=1.5)
        ax.annotate(
            "; ".join(texts),
            (year, 0.02),
            xycoords=("data", "axes fraction"),
            xytext=(4, 0),
            textcoords="offset points",
            rotation=90,
            ha="left",
            va="bottom",
            fontsize=FONT,
            color="#333333",
        )
    horizon = p.start_year + p.n_steps * step_years
    ax.set_xlim(p.start_year, max(horizon, float(x[-1])))
    lo = min(df["perf_p05"].min(), shadow["perf_mean"].min())
    hi = max(df["perf_p95"].max(), shadow["perf_mean"].max())
    ax.set_ylim(max(0.0, np.floor(lo * 10) / 10 - 0.05), min(1.0, np.ceil(hi * 10) / 10 + 0.02))
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylabel("Pupils at the standard", fontsize=FONT)
    ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(4))
    ax.grid(alpha=0.3)
    _legend(
        ax,
        *ax.get_legend_handles_labels(),
        fontsize=FONT,
        ncols=1,
        frameon=False,
        handlelength=1.2,
        borderpad=0.1,
    )


#: The room's own curve in the debrief: black, thick, on top.
ROOM_COLOUR = "#000000"
#: The trainer's moves with every head simulated: grey, dashed.
CENTRE_ONLY_COLOUR = "#666666"


def debrief_figure(
    d: dict, figsize: tuple[float, float] = (9.4, 4.1), title: str | None = None
) -> Figure:
    """The room's curve among each strategy's, from the round the room started.

    Args:
        d: :meth:`sim.app.room.Room.debrief`'s result (with ``t0`` set).
        figsize: width and height in inches at :data:`DPI`.
        title: a title above (the saved page has one).

    Returns:
        A figure: mean performance by year from the room's first round, one
        line per strategy (same schools, same random numbers, heads simulated),
        the trainer's moves with heads simulated (dashed) and the room (black).
    """
    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    draw_debrief(ax, d, FONT)
    if title:
        ax.set_title(title, fontsize=FONT, fontweight="bold")
    ax.legend(fontsize=FONT, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    _style(fig)
    return fig


def draw_debrief(ax, d: dict, fontsize: float) -> None:
    """Draw :func:`debrief_figure`'s curves on ``ax`` (no legend, no title)."""
    t0 = int(d["t0"])
    years = d["start_year"] + np.arange(len(d["room"])) * d["dur_step"] / 12.0
    for name, curve in d["curves"].items():
        if name == "centre_only":
            continue
        ax.plot(
            years[t0 : len(curve)],
            curve[t0:],
            color=COLOURS.get(name, "#1b9e77"),
            linewidth=2.5,
            label=f"{STRATEGY_LABELS.get(name, name)}, heads simulated",
        )
    only = d["curves"]["centre_only"]
    ax.plot(
        years[t0 : len(only)],
        only[t0:],
        color=CENTRE_ONLY_COLOUR,
        linestyle="--",
        linewidth=2.5,
        label="Your centre's moves, heads simulated",
    )
    ax.plot(years[: t0 + 1], d["room"][: t0 + 1], color="#999999", linewidth=2.5)
    ax.plot(years[t0:], d["room"][t0:], color=ROOM_COLOUR, linewidth=4.5, label="The room")
    ax.axvline(years[t0], color="#555555", linestyle=":", linewidth=1.5)
    ax.annotate(
        "the room starts",
        (years[t0], 0.02),
        xycoords=("data", "axes fraction"),
        xytext=(4, 0),
        textcoords="offset points",
        fontsize=fontsize,
        color="#333333",
    )
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.yaxis.set_major_locator(MaxNLocator(4))
    ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
    ax.set_ylabel("Pupils at the standard", fontsize=fontsize)
    ax.grid(alpha=0.3)
