"""Scenario files: YAML overrides over the defaults of :mod:`sim.params`, checked strictly.

A scenario file is a mapping of parameter names to values, plus three keys of
its own:

* ``extends: other.yaml`` inherits another scenario (path relative to this
  file, or a built-in name such as ``next_practice``); this file's values win.
  Chains are followed; cycles are refused.
* ``description: ...`` says what the scenario is for (kept in results).
* ``plugins: [module, ...]`` imports modules that register extra rules,
  strategies or networks before the values are checked.

Every problem is reported as a :class:`~sim.errors.UserError` that names the
file, the key, what is allowed and how to fix it: an unknown key lists the
valid ones, a value out of range gives the range.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import UserError
from sim.params import Params, field_info

META_KEYS = ("extends", "description")


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, or raise a UserError saying what is wrong with the file."""
    if not path.is_file():
        raise UserError(f"{path}: no such scenario file")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: a scenario file must be a mapping of parameter: value")
    return data


def resolve(path: str | Path, _seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[str]]:
    """Follow ``extends:`` and merge; returns the values and the chain of files.

    ``path`` may be a built-in scenario name (:func:`sim.builtin.locate`).
    """
    from sim.builtin import locate

    base = _seen[-1].parent if _seen else None
    path = locate(path, "scenarios", base, cwd=not _seen).resolve()
    if path in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, path))
        raise UserError(f"{path}: 'extends' makes a cycle: {chain}")
    data = read_yaml(path)
    values: dict[str, Any] = {}
    chain: list[str] = []
    parent = data.get("extends")
    if parent is not None:
        if not isinstance(parent, str):
            raise UserError(f"{path}: key 'extends' must be a file name, e.g. extends: base.yaml")
        values, chain = resolve(parent, (*_seen, path))
    plugins = data.get("plugins", [])  # imported when the parameters are validated
    if not isinstance(plugins, list) or not all(isinstance(m, str) for m in plugins):
        raise UserError(f"{path}: key 'plugins' must be a list of module names")
    check_keys(data, str(path))
    values.update({k: v for k, v in data.items() if k not in ("extends", "plugins")})
    if plugins:
        values["plugins"] = list(dict.fromkeys([*values.get("plugins", []), *plugins]))
    return values, [*chain, str(path)]


def check_keys(data: dict[str, Any], where: str) -> None:
    """Refuse keys that are not parameters, listing the valid ones."""
    valid = set(Params.model_fields) | set(META_KEYS)
    for key in data:
        if key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UserError(
                f"{where}: unknown key {key!r}.{hint} Valid keys: "
                f"{', '.join(sorted(valid))}. Run `nextpractice params` for their meaning.")


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse a ``KEY=VALUE`` command-line override; the value is read as YAML."""
    if "=" not in text:
        raise UserError(f"--set {text!r}: write KEY=VALUE, e.g. --set tightness=0.8")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def validate(values: dict[str, Any], where: str) -> Params:
    """Build Params from values, turning pydantic's errors into UserErrors."""
    clean = {k: v for k, v in values.items() if k not in META_KEYS}
    check_keys(clean, where)
    try:
        return Params(**clean)
    except ValidationError as exc:
        raise UserError(explain(exc, where)) from None


def readable_range(lo: Any, hi: Any, unit: str = "1") -> str:
    """An allowed range in words: ``0 to 1``, ``at least 1 schools``; "" if unbounded.

    A dimensionless unit (``1``) is not printed: "0 to 1", not "0 to 1 1".
    """
    if lo is None and hi is None:
        return ""
    text = (f"{lo:g} to {hi:g}" if lo is not None and hi is not None
            else f"at least {lo:g}" if lo is not None else f"at most {hi:g}")
    return text if unit in ("", "1", None) else f"{text} {unit}"


def explain(exc: ValidationError, where: str) -> str:
    """A pydantic error, said the way a user can act on it."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(x) for x in err["loc"]) or "(scenario)"
        name = str(err["loc"][0]) if err["loc"] else ""
        msg = err["msg"]
        if name in Params.model_fields:
            info = field_info(name)
            rng = readable_range(info["lo"], info["hi"], info["unit"])
            rng = f" allowed range: {rng};" if rng else ""
            lines.append(f"{where}: key {key!r}: {msg} (got {err.get('input')!r});{rng} "
                         f"it means: {info['meaning']} Fix the value in the file or with "
                         f"--set {name}=VALUE.")
        else:
            lines.append(f"{where}: {msg}")
    return "\n".join(lines)


def load_scenario(path: str | Path | None = None,
                  overrides: dict[str, Any] | None = None) -> Params:
    """Load a scenario file (or the defaults) and apply overrides.

    Args:
        path: a YAML scenario file or a built-in scenario's name (``top_down``), or
            None for the defaults.
        overrides: further values (e.g. from ``--set``), checked like the file's.

    Returns:
        The validated parameters.

    Raises:
        UserError: with the file, the key, what is allowed and how to fix it.
    """
    values: dict[str, Any] = {}
    where = "defaults"
    if path is not None:
        values, _ = resolve(path)
        where = str(path)
    if overrides:
        check_keys(overrides, f"{where} (command-line --set)")
        values.update(overrides)
        where = f"{where} with --set {', '.join(overrides)}"
    return validate(values, where)


def scenario_description(path: str | Path) -> str:
    """The ``description:`` of a scenario file (inherited if it has none of its own)."""
    values, _ = resolve(path)
    return str(values.get("description", ""))
