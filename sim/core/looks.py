"""How a strategy looks in every figure and table: one human label, one colour.

A registered strategy declares its look as class attributes, beside its code
(:class:`sim.rules.strategies.Strategy`): ``label`` (the words a reader sees, e.g.
"Top-down transfer") and ``colour`` (a hex colour). A plug-in that declares neither
still gets a look of its own: its name in words ("my_strategy": "My strategy") and a
colour from :data:`PLUGIN_COLOURS` picked by a hash of its name, so it is the same in
every figure, whatever else is drawn beside it.

Figures draw scenarios, not strategies: :func:`assign` gives each scenario of a figure
its strategy's colour and the scenario's own label (a ``label:`` key or its
description, :func:`sim.model.scenario.scenario_label`); a second scenario of the same
strategy keeps the colour and takes another line style, and two scenarios with the
same label are told apart by their names. Colours the strategies own are never given
to anything else in a figure (:data:`NEUTRAL` is for what is not a strategy).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sim.core.registry import STRATEGIES

#: Colours for plug-in strategies that declare none (ColorBrewer Dark2's other five,
#: then Set1's; none is a shipped strategy's colour).
PLUGIN_COLOURS = (
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#e41a1c",
    "#377eb8",
    "#984ea3",
    "#ff7f00",
)
#: For scenarios with no registered strategy, and anything a figure draws that is not a
#: strategy (data, naive forecasts, prior densities): greys and black.
NEUTRAL = ("#000000", "#555555", "#888888", "#aaaaaa")
#: Line styles a second, third... scenario of one strategy takes (matplotlib's names).
STYLES = ("-", "--", ":", "-.")


@dataclass(frozen=True)
class Look:
    """One thing drawn in a figure: its label, colour, line style and strategy.

    Attributes:
        label: The words in the legend.
        colour: A hex colour (``#rrggbb``).
        style: A matplotlib line style: ``-``, ``--``, ``:`` or ``-.``.
        strategy: The registered strategy it runs, or ``""``.
    """

    label: str
    colour: str
    style: str = "-"
    strategy: str = ""

    def to_dict(self) -> dict[str, str]:
        """As saved beside results (``compare.json``, a sweep's ``manifest.json``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Look:
        """Read back what :meth:`to_dict` saved."""
        return cls(
            label=str(data["label"]),
            colour=str(data["colour"]),
            style=str(data.get("style", "-")),
            strategy=str(data.get("strategy", "")),
        )


def words(name: str) -> str:
    """A registered name in words: ``my_strategy`` -> ``My strategy``."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def plugin_colour(name: str) -> str:
    """The colour of a strategy that declares none: fixed by its name."""
    return PLUGIN_COLOURS[zlib.crc32(str(name).encode()) % len(PLUGIN_COLOURS)]


def _declared(cls: type, attr: str) -> str | None:
    """``attr`` as ``cls`` declares it itself (a subclass is another strategy: its own look)."""
    own = vars(cls).get(attr)
    return str(own) if own else None


def strategy_look(name: str) -> Look:
    """The look of strategy ``name``: declared by its class, else the plug-in default.

    A name no registered strategy has (a plug-in not imported here) gets the default
    too, so saved results of a plug-in draw the same without it.
    """
    cls = STRATEGIES.get(name)
    label = _declared(cls, "label") if cls is not None else None
    colour = _declared(cls, "colour") if cls is not None else None
    return Look(label or words(name), colour or plugin_colour(name), "-", str(name))


def strategy_colours() -> dict[str, str]:
    """Every registered strategy's colour, by name."""
    return {name: strategy_look(name).colour for name in STRATEGIES}


def assign(entries: Mapping[str, tuple[str, str | None]]) -> dict[str, Look]:
    """Looks for the scenarios of one figure, in order.

    Args:
        entries: Scenario key (its name in tables) to ``(label, strategy)``; the
            strategy is None for a scenario that runs none (a reduced mode).

    Returns:
        Key to :class:`Look`: the strategy's colour; the first scenario of a strategy
        draws a solid line and the next ones other styles; a scenario without a
        strategy takes a neutral grey; a label two scenarios share gets the key in
        brackets.
    """
    counts: dict[str, int] = {}
    seen: dict[str, int] = {}
    for label, _ in entries.values():
        seen[label] = seen.get(label, 0) + 1
    out: dict[str, Look] = {}
    neutral = 1
    for key, (label, strategy) in entries.items():
        text = label if seen[label] == 1 else f"{label} ({key})"
        if strategy:
            look = strategy_look(strategy)
            n = counts.get(look.colour, 0)
            counts[look.colour] = n + 1
            out[key] = Look(text, look.colour, STYLES[n % len(STYLES)], strategy)
        else:
            out[key] = Look(text, NEUTRAL[neutral % len(NEUTRAL)], "-", "")
            neutral += 1
    return out


def looks_or_default(keys: list[str], saved: Mapping[str, Any] | None) -> dict[str, Look]:
    """Looks saved beside results, else the best guess from the keys alone.

    Folders written before looks were saved name their scenarios by file stem; a stem
    that is a registered strategy's name (``top_down``) draws as that strategy.
    """
    saved = saved or {}
    if all(k in saved for k in keys):
        return {k: Look.from_dict(saved[k]) for k in keys}
    return assign({k: (strategy_look(k).label, k) if k in STRATEGIES else (k, None) for k in keys})
