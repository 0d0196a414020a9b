"""What the browser tests look for in a screenshot: a drawn plot, a red outline."""

from __future__ import annotations

import io

import numpy as np

PAGE_WAIT = 60_000  # ms, for the first mount on a busy machine
STEP_WAIT = 30_000  # ms, for one step to be drawn


def picture(png: bytes) -> np.ndarray:
    """A screenshot as an RGB array (height, width, 3)."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def drawing_measures(png: bytes) -> dict[str, float]:
    """The three measures :func:`is_drawn` reads: contrast, colours, dark share."""
    rgb = picture(png)
    grey = rgb.mean(axis=2)
    return {
        "grey_sd": float(grey.std()),
        "colours": float(len(np.unique(rgb.reshape(-1, 3), axis=0))),
        "dark_share": float((grey < 100).mean()),
    }


def is_drawn(png: bytes) -> bool:
    """Whether a screenshot shows a drawing rather than a blank or flat area.

    A drawn plot has strong contrast (lines, text, markers on white) and many
    distinct colours (anti-aliasing, fills); an empty box has neither.
    """
    m = drawing_measures(png)
    return m["grey_sd"] > 15 and m["colours"] > 100 and m["dark_share"] > 0.002


def red_pixels(png: bytes) -> int:
    """Pixels of the red that marks a budget cut (#c00000) in a screenshot."""
    rgb = picture(png).astype(int)
    return int(((rgb[..., 0] > 170) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)).sum())
