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


def is_drawn(png: bytes) -> bool:
    """Whether a screenshot shows a drawing rather than a blank or flat area.

    A drawn plot has strong contrast (lines, text, markers on white) and many
    distinct colours (anti-aliasing, fills); an empty box has neither.
    """
    rgb = picture(png)
    grey = rgb.mean(axis=2)
    colours = len(np.unique(rgb.reshape(-1, 3), axis=0))
    return grey.std() > 15 and colours > 100 and (grey < 100).mean() > 0.002


def red_pixels(png: bytes) -> int:
    """Pixels of the red that marks a budget cut (#c00000) in a screenshot."""
    rgb = picture(png).astype(int)
    return int(((rgb[..., 0] > 170) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)).sum())
