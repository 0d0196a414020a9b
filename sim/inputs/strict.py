"""A value's YAML type against its field's type: pydantic's strict mode, said in one line.

Scenario, experiment and calibration files are strict: ``tightness: "0.5"`` is
text, not a number, and is refused rather than converted (pydantic's lax mode
would read it as 0.5). The types are decided by pydantic's strict mode
(:data:`STRICT`), so they are pydantic's:

* a whole number is a number: ``tightness: 1`` is accepted for a float field;
* a decimal is not a whole number: ``n_schools: 1000.5`` and ``n_schools: 1000.0``
  (or ``1e3``) are refused for an int field, with the fix ``n_schools: 1000``;
  YAML says what was written, and a decimal point says "not a count";
* ``true``/``false`` is neither a number nor text, and a number is not text
  (``strategy: 1``), nor true/false;
* quoted text is text: ``"0.5"``, ``"true"``, ``"1000"`` are refused where a
  number or true/false is meant, with the fix "write it without quotes".

This module only judges a single value's type and words the message; the ranges,
choices and combinations are checked where they always were (:class:`sim.model.params.Params`).
It imports nothing of the model, so every layer that reads user files can use it.
"""

from __future__ import annotations

import json
import math
import types
import typing
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, Literal

from pydantic import ConfigDict, TypeAdapter, ValidationError

from sim.core.errors import UserError
from sim.inputs.safe_io import EXCERPT, excerpt, loads

#: pydantic's strict mode, used for every check here.
STRICT = ConfigDict(strict=True)

#: pydantic error types that mean "the value is of the wrong type" (strict mode).
TYPE_ERRORS = {
    "float_type": float,
    "int_type": int,
    "bool_type": bool,
    "string_type": str,
    "int_from_float": int,
}


def base_type(annotation: Any) -> type | None:
    """The scalar type a field holds: float, int, bool or str; None for anything else.

    ``Optional[X]`` is ``X``; a ``Literal`` of strings (a choice) is ``str``.
    Containers (tuples, mappings) are left to the model's own validation.
    """
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return base_type(args[0]) if len(args) == 1 else None
    if origin is Literal:
        args = typing.get_args(annotation)
        return str if args and all(isinstance(a, str) for a in args) else None
    return annotation if annotation in (float, int, bool, str) else None


@cache
def _adapter(kind: type) -> TypeAdapter:
    return TypeAdapter(kind, config=STRICT)


def fits(kind: type, value: Any) -> bool:
    """Whether pydantic's strict mode takes ``value`` as a ``kind`` (int counts as float)."""
    try:
        _adapter(kind).validate_python(value)
    except ValidationError:
        return False
    return True


def readable_range(lo: float | None, hi: float | None, unit: str = "1") -> str:
    """Bounds in words: ``0 to 1``, ``2 to 100000 schools``, ``at least 0.1 practices``.

    A dimensionless unit (``1``) is left out, so a range never reads "0 to 1 1".
    """

    def num(x: float) -> str:
        return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"

    if lo is None and hi is None:
        return ""
    if hi is None:
        text = f"at least {num(lo)}"
    elif lo is None:
        text = f"at most {num(hi)}"
    else:
        text = f"{num(lo)} to {num(hi)}"
    return text if unit in ("1", "", None) else f"{text} {unit}"


def as_yaml(value: Any) -> str:
    """How a value reads in a YAML file: ``"0.5"`` (text), ``true``, ``null``, ``1000.0``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, int):
        text = str(value)
        return text if len(text) <= EXCERPT else text[: EXCERPT - 3] + "..."
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= EXCERPT else text[: EXCERPT - 4] + '..."'
    return excerpt(value)


def what(value: Any) -> str:
    """What a value is, in words: ``text``, ``true/false``, ``a whole number``..."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return "a decimal number (with a point or an exponent)"
        return "a number with a fraction" if math.isfinite(value) else "not a finite number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def expected(
    kind: type,
    lo: float | None = None,
    hi: float | None = None,
    unit: str = "1",
    choices: Iterable[Any] | None = None,
) -> str:
    """What a field holds, in words: ``a number (0 to 1)``, ``one of full, adoption``."""
    if kind is bool:
        return "true or false"
    if kind is str:
        names = [str(c) for c in choices or ()]
        return f"one of {excerpt(', '.join(names), 400)[1:-1]}" if names else "text"
    rng = readable_range(lo, hi, unit)
    words = "a whole number" if kind is int else "a number"
    return f"{words} ({rng})" if rng else words


def wrong_type(
    name: str,
    value: Any,
    annotation: Any,
    *,
    lo: float | None = None,
    hi: float | None = None,
    unit: str = "1",
    choices: Iterable[Any] | None = None,
    example: Any = None,
    at: str | None = None,
    write: Callable[[str], str] | None = None,
) -> str | None:
    """One line saying why ``value`` is not of the field's type, or None when it is.

    Args:
        name: The field (parameter) name.
        value: The value as the YAML reader gave it.
        annotation: The field's type annotation (see :func:`base_type`; other
            annotations are not judged here: None).
        lo: The field's lowest value (None: open), for the words.
        hi: Its highest value (None: open).
        unit: Its unit (``1``: dimensionless, left out).
        choices: The names a text field allows (a ``Literal``'s are found), if any.
        example: A valid value for the fix when the given one cannot be mended
            (the default); None: no example.
        at: Where the value is written (default ``name``), e.g.
            ``design.factors.tightness.values[2]``.
        write: How to write a value at that place, given its YAML text
            (default ``"<at>: <value>"``; a list item: the value alone;
            the command line: ``--set <name>=<value>``).

    Returns:
        ``<at>: <given> is <what>, but <name> is <expected>; <fix>``, or None.
    """
    kind = base_type(annotation)
    if kind is None or fits(kind, value):
        return None
    at = name if at is None else at
    write = write or (lambda v: f"{at}: {v}")
    if choices is None and typing.get_origin(annotation) is Literal:
        choices = typing.get_args(annotation)
    choices = list(choices) if choices is not None else None
    head = (
        f"{at}: {as_yaml(value)} is {what(value)}, but {name} is "
        f"{expected(kind, lo, hi, unit, choices)}"
    )
    fix = None
    if isinstance(value, str) and kind is not str:
        try:
            unquoted = loads(value, name) if len(value) < 200 else None
        except UserError:
            unquoted = None
        if unquoted is not None and not isinstance(unquoted, dict | list) and fits(kind, unquoted):
            fix = f"write {write(as_yaml(unquoted))} without quotes"
    elif (
        kind is int
        and isinstance(value, float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) < 1e15
    ):
        if value.is_integer():
            fix = f"write {write(str(int(value)))}, a whole number without a point"
        else:
            lower, upper = math.floor(value), math.ceil(value)
            fix = f"write a whole number, e.g. {write(str(lower))} or {write(str(upper))}"
    if fix is None:
        if kind is bool:
            fix = f"write {write('true')} or {write('false')}"
        elif example is not None and fits(kind, example):
            words = ("a name" if choices else "text") if kind is str else expected(kind)
            shown = str(example) if kind is str else as_yaml(example)
            fix = f"write {words}, e.g. {write(shown)}"
        elif choices:
            fix = f"write e.g. {write(str(choices[0]))}"
        else:
            fix = f"write {expected(kind)}"
    return f"{head}; {fix}"
