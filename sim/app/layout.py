"""Where each school is drawn: a cheap, deterministic layout from the structure.

A force-directed layout of thousands of schools takes minutes and moves every
time it is recomputed. The workshop view needs none of that: schools are
grouped by authority, and within an authority by town. So the layout is
computed once, in closed form, from two integer arrays:

* authorities stand in a row (up to three), on a circle (up to twelve) or on
  a grid (more), each in a cell big enough for the largest of them;
* inside an authority, towns sit on a small circle;
* inside a town, schools fill a sunflower (Vogel spiral), so a town of any
  size is an evenly filled disc whose area grows with its number of schools.

The same structure always gives the same picture; no random numbers are drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The golden angle, in radians: successive sunflower seeds turn by it.
GOLDEN_ANGLE = np.pi * (3.0 - np.sqrt(5.0))

#: Up to this many authorities stand in a row (the picture is wider than tall).
MAX_IN_ROW = 3
#: Up to this many authorities are placed on a circle; more go on a grid.
MAX_ON_CIRCLE = 12


@dataclass(frozen=True)
class Layout:
    """Positions of schools and the discs of their authorities.

    Attributes:
        xy: position of each school, shape ``(n_schools, 2)``.
        centre: centre of each authority's disc, shape ``(n_authorities, 2)``.
        radius: radius of each authority's disc (it holds all its schools).

    """

    xy: np.ndarray
    centre: np.ndarray
    radius: np.ndarray


def sunflower(k: int, spacing: float = 1.0) -> np.ndarray:
    """``k`` points filling a disc evenly, nearest to the centre first.

    Args:
        k: number of points.
        spacing: typical distance between neighbouring points.

    Returns:
        Array of shape ``(k, 2)``; the disc's radius is about
        ``spacing * sqrt(k) / 2``.

    """
    i = np.arange(k, dtype=float)
    r = spacing * np.sqrt(i + 0.5) / 2.0
    a = i * GOLDEN_ANGLE
    return np.column_stack([r * np.cos(a), r * np.sin(a)])


def _disc_radius(k: int, spacing: float) -> float:
    """Radius of the sunflower disc of ``k`` points (see :func:`sunflower`)."""
    return spacing * np.sqrt(max(k, 1)) / 2.0


def school_layout(authority: np.ndarray, town: np.ndarray, spacing: float = 1.0) -> Layout:
    """Lay schools out grouped by authority, then town.

    Args:
        authority: authority index of each school (0 to ``n_authorities - 1``).
        town: town index of each school (any integers; schools sharing one
            are drawn together inside their authority).
        spacing: typical distance between neighbouring schools in a town.

    Returns:
        The :class:`Layout`: school positions and authority discs.

    """
    authority = np.asarray(authority, np.int64)
    town = np.asarray(town, np.int64)
    n = len(authority)
    n_la = int(authority.max()) + 1 if n else 0
    xy = np.zeros((n, 2))
    local = np.zeros((n, 2))
    radius = np.zeros(n_la)
    for la in range(n_la):
        mine = np.flatnonzero(authority == la)
        if len(mine) == 0:
            radius[la] = spacing
            continue
        towns, inv, counts = np.unique(town[mine], return_inverse=True, return_counts=True)
        town_r = np.array([_disc_radius(c, spacing) for c in counts])
        # Towns on a circle just wide enough that neighbouring discs do not touch.
        k = len(towns)
        if k == 1:
            ring, town_xy = 0.0, np.zeros((1, 2))
        else:
            ring = max(town_r.max() * 1.25 / np.sin(np.pi / k), town_r.sum() * 1.3 / np.pi)
            ang = np.pi / 2 + 2 * np.pi * np.arange(k) / k
            town_xy = ring * np.column_stack([np.cos(ang), np.sin(ang)])
        for j in range(k):
            members = mine[inv == j]
            local[members] = town_xy[j] + sunflower(len(members), spacing)
        radius[la] = ring + town_r.max() + spacing
    centre = _authority_centres(radius)
    for la in range(n_la):
        mine = authority == la
        xy[mine] = centre[la] + local[mine]
    return Layout(xy=xy, centre=centre, radius=radius)


def _authority_centres(radius: np.ndarray) -> np.ndarray:
    """Centres for authority discs of the given radii, none overlapping."""
    n_la = len(radius)
    if n_la == 0:
        return np.zeros((0, 2))
    if n_la == 1:
        return np.zeros((1, 2))
    cell = 2.3 * radius.max()
    if n_la <= MAX_IN_ROW:
        return np.column_stack([np.arange(n_la) * cell, np.zeros(n_la)])
    if n_la <= MAX_ON_CIRCLE:
        ring = cell / (2.0 * np.sin(np.pi / n_la))
        ang = np.pi / 2 - 2 * np.pi * np.arange(n_la) / n_la
        return ring * np.column_stack([np.cos(ang), np.sin(ang)])
    cols = int(np.ceil(np.sqrt(n_la)))
    i = np.arange(n_la)
    return np.column_stack([(i % cols) * cell, -(i // cols) * cell])
