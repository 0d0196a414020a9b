"""Where each range comes from: a cited source, a judgement, or neither (issue 28, item 4).

Every parameter a world varies has a sweep range and a reason for it (``sweep_ref`` in
its declaration, :func:`sim.model.params.par` or :class:`sim.core.registry.Param`). The
house rule: the reason cites a source, or says plainly that it is a judgement and why.
:func:`range_basis` reads the reason as written, never a list of names, so a range whose
reason is rewritten (a source added, a judgement stated) is counted anew, by
``nextpractice params`` and in a robustness sweep's manifest alike:

- **judgement**: the reason says "a judgement" (or "judgment"), whatever else it cites
  (a value chosen within sourced figures is still chosen);
- **sourced**: otherwise, it cites something a reader can look up: a year of
  publication (``Watts (2002)``, ``J Marketing Res 27:70 (1990)``), a seed document
  (``seed 003``), a source id of the data catalogue (``H2009J``), ``docs/sources.md``
  or the literature note;
- **neither**: a reason that does neither (a description of the range only), or none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

#: The three kinds, in the order they are reported.
KINDS = ("sourced", "judgement", "neither")

_JUDGEMENT = re.compile(r"\b(judgement|judgment)\b", re.IGNORECASE)
_CITATION = re.compile(
    r"\b(1[89]\d\d|20\d\d)[a-z]?\b"  # a year of publication
    r"|\bseed 0\d\d\b"  # the seed documents (Fullan, Gibbons, Jackson...)
    r"|\b[A-Z]{1,8}\d{4}[A-Z]?\b"  # a catalogue source id, e.g. H2009J, NA2015
    r"|docs/sources\.md|literature note",
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


def basis_table(kinds: tuple[str, ...] = ("uncertainty",)) -> list[dict[str, Any]]:
    """Every declared parameter of these kinds with a sweep range: name, reason, basis."""
    from sim.model.params import parameter_table

    return [
        {
            "name": info["name"],
            "kind": info["kind"],
            "reason": info.get("sweep_ref") or "",
            "basis": range_basis(info.get("sweep_ref")),
        }
        for info in parameter_table()
        if info["kind"] in kinds and info.get("sweep")
    ]


def basis_of(names: Iterable[str]) -> dict[str, list[str]]:
    """The given parameters grouped by the basis of their range (:data:`KINDS`).

    A name that is not a declared parameter of this model (another registered model's
    factor) counts as ``neither``.
    """
    from sim.model.params import field_info

    out: dict[str, list[str]] = {k: [] for k in KINDS}
    for name in names:
        try:
            reason = field_info(name).get("sweep_ref")
        except KeyError:
            reason = None
        out[range_basis(reason)].append(name)
    return out
