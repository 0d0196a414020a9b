"""Where each range comes from: a cited source, a judgement, or neither (issue 28, item 4).

The house rule: every parameter has a range and a reason for it, a cited source or the
words "a judgement" and why. This module is the one place that reads those reasons;
``nextpractice params`` (its counts and ``--basis``), a robustness sweep's manifest
(``world_factor_basis``) and the tables made from it all ask it.

**The reason** a declaration gives for a parameter's range (:func:`reason_of`) is the
reason for its sweep range (``sweep_ref`` in :func:`sim.model.params.par` or
:class:`sim.core.registry.Param`) when it has one: that is the range a world varies it
over. A parameter with no sweep range is never varied, and the reason for its value
(``ref``) is all there is. A sweep range without a reason has none, whatever the
value's source: a source for the value says nothing about how far it may move.

**The reason** is read as written, never from a list of names (:func:`range_basis`), so a
reason rewritten (a source added, a judgement stated) is counted anew:

- **judgement**: the reason says "a judgement" (or "judgment"), whatever else it cites
  (a value chosen within sourced figures is still chosen);
- **sourced**: otherwise, it cites something a reader can look up: a year of
  publication (``Watts (2002)``, ``J Marketing Res 27:70 (1990)``), a seed document
  (``seed 003``), a source id of the data catalogue (``H2009J``), ``docs/sources.md``,
  the literature note or a data file under ``sim/data/``;
- **neither**: a reason that does neither (a description of the range only), or none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

#: The three kinds, in the order they are reported.
KINDS = ("sourced", "judgement", "neither")

_JUDGEMENT = re.compile(r"\b(judgement|judgment)\b", re.IGNORECASE)
_CITATION = re.compile(
    r"\b(1[89]\d\d|20\d\d)[a-z]?\b"  # a year of publication
    r"|\bseed 0\d\d\b"  # the seed documents (Fullan, Gibbons, Jackson...)
    r"|\b[A-Z]{1,8}\d{4}[A-Z]?\b"  # a catalogue source id, e.g. H2009J, NA2015
    r"|docs/sources\.md|literature note|sim/data/",
    re.IGNORECASE,
)


def range_basis(reason: str | None) -> str:
    """``sourced``, ``judgement`` or ``neither``: what a range's stated reason rests on."""
    text = (reason or "").strip()
    if not text:
        return "neither"
    if _JUDGEMENT.search(text):
        return "judgement"
    return "sourced" if _CITATION.search(text) else "neither"


def reason_of(info: Mapping[str, Any]) -> str:
    """The reason a parameter's declaration gives for its range (see the module's text).

    Args:
        info: The parameter's metadata (:func:`sim.model.params.field_info`).

    Returns:
        Its ``sweep_ref`` if it has a sweep range, else its ``ref``; ``""`` if none.
    """
    key = "sweep_ref" if info.get("sweep") else "ref"
    return str(info.get(key) or "").strip()


def param_basis(info: Mapping[str, Any]) -> str:
    """What a parameter's range rests on: :func:`range_basis` of :func:`reason_of`."""
    return range_basis(reason_of(info))


def basis_table(kinds: tuple[str, ...] = ("uncertainty",)) -> list[dict[str, Any]]:
    """Every declared parameter of these kinds: name, kind, reason and basis."""
    from sim.model.params import parameter_table

    return [
        {
            "name": info["name"],
            "kind": info["kind"],
            "reason": reason_of(info),
            "basis": param_basis(info),
        }
        for info in parameter_table()
        if info["kind"] in kinds
    ]


def basis_counts(
    kinds: tuple[str, ...] = ("uncertainty", "lever", "structure"),
) -> dict[str, dict[str, int]]:
    """How many parameters of each kind rest on each basis (:data:`KINDS`)."""
    out = {kind: dict.fromkeys(KINDS, 0) for kind in kinds}
    for row in basis_table(kinds):
        out[row["kind"]][row["basis"]] += 1
    return out


def basis_of(names: Iterable[str]) -> dict[str, list[str]]:
    """The given parameters grouped by the basis of their range (:data:`KINDS`).

    A name that is not a declared parameter of this model (another registered model's
    factor) counts as ``neither``.
    """
    from sim.model.params import field_info

    out: dict[str, list[str]] = {k: [] for k in KINDS}
    for name in names:
        try:
            kind = param_basis(field_info(name))
        except KeyError:
            kind = "neither"
        out[kind].append(name)
    return out
