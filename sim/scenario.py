"""Scenario files: YAML overrides over the defaults of :mod:`sim.params`, checked strictly.

A scenario file is a mapping of parameter names to values, plus three keys of
its own:

* ``extends: other.yaml`` inherits another scenario (path relative to this
  file); this file's values win. Chains are followed; cycles are refused.
* ``description: ...`` says what the scenario is for (kept in results).
* ``plugins: [module, ...]`` imports modules that register extra rules,
  strategies or networks (and their parameters) before the values are
  checked: module names or ``.py`` paths, found beside this file or a file it
  extends (:mod:`sim.plugins`).

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
from sim.params import Params, declared_fields, field_info
from sim.plugins import import_plugins as find_plugins

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

    Plug-ins are imported here, before the keys are checked (a plug-in may
    declare parameters), each looked for beside this file, then beside the
    files it extends (:func:`sim.plugins.import_plugins`); the values keep
    those found as absolute paths.
    """
    path = Path(path).resolve()
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
        values, chain = resolve(path.parent / parent, (*_seen, path))
    plugins = data.get("plugins", [])
    if not isinstance(plugins, list) or not all(isinstance(m, str) for m in plugins):
        raise UserError(f"{path}: key 'plugins' must be a list of module names or .py files")
    dirs = list(dict.fromkeys([path.parent, *(Path(c).parent for c in reversed(chain))]))
    try:
        plugins = find_plugins(plugins, dirs)
    except UserError as exc:
        raise UserError(f"{path}: key 'plugins': {exc}") from None
    check_keys(data, str(path))
    values.update({k: v for k, v in data.items() if k not in ("extends", "plugins")})
    if plugins:
        values["plugins"] = list(dict.fromkeys([*values.get("plugins", []), *plugins]))
    return values, [*chain, str(path)]


def check_keys(data: dict[str, Any], where: str) -> None:
    """Refuse keys that are not parameters, listing the valid ones.

    A key with a dot is a parameter a rule or strategy declares
    (``judged.w_agenda``); an unknown one lists the keys that rule declares.
    """
    valid = set(Params.model_fields) | set(META_KEYS)
    declared = list(declared_fields())
    for key in data:
        if isinstance(key, str) and "." in key:
            if key in declared:
                continue
            ns = key.split(".", 1)[0]
            mine = [k for k in declared if k.split(".", 1)[0] == ns]
            close = difflib.get_close_matches(key, declared, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            listed = (f"{ns!r} declares {', '.join(mine)}" if mine else
                      f"no registered rule or strategy {ns!r} declares parameters; declared "
                      f"keys: {', '.join(declared)}")
            raise UserError(f"{where}: unknown key {key!r}.{hint} {listed}. Run `nextpractice "
                            "params` for their meaning.")
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


def explain(exc: ValidationError, where: str) -> str:
    """A pydantic error, said the way a user can act on it."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(x) for x in err["loc"]) or "(scenario)"
        name = str(err["loc"][0]) if err["loc"] else ""
        msg = err["msg"]
        if name in Params.model_fields:
            info = field_info(name)
            rng = ""
            if info["lo"] is not None or info["hi"] is not None:
                rng = f" allowed range: {info['lo']} to {info['hi']} {info['unit']};"
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
        path: a YAML scenario file, or None for the defaults.
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
