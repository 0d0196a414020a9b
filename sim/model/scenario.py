"""Scenario files: YAML overrides over the defaults of :mod:`sim.model.params`, checked strictly.

A scenario file is a mapping of parameter names to values, plus three keys of
its own:

* ``extends: other.yaml`` inherits another scenario (path relative to this
  file, or a built-in name such as ``next_practice``); this file's values win.
  Chains are followed; cycles are refused.
* ``description: ...`` says what the scenario is for (kept in results).
* ``label: ...`` is the scenario's name in figures and tables (default: the start of
  its description, up to the first colon, full stop or bracket;
  :func:`scenario_label`). A file's own description replaces a label it inherits.
* ``plugins: [module, ...]`` imports modules that register extra rules,
  strategies or networks (and their parameters) before the values are
  checked: module names or ``.py`` paths, found beside this file or a file it
  extends (:mod:`sim.model.plugins`).

One parameter is a list: ``schedule: [{month: ..., set: {...}}, ...]`` changes live
parameters (strategy, tightness, levers) at dates during the run
(:mod:`sim.model.schedule`); each entry is checked as strictly as every other key. An
extending file's schedule replaces the one it inherits.

A budget may be given as a total a year for the whole system, ``budget_centre_total``
or ``budget_authority_total`` in GBP million (:data:`sim.model.params.BUDGET_TOTALS`),
instead of per school; a file that sets one replaces the other as it inherits it, and
a file (or ``--set``) giving both is refused.

Every problem is reported as a :class:`~sim.core.errors.UserError` that names the
file, the key, what is allowed and how to fix it: an unknown key lists the
valid ones, a value out of range gives the range.

Values are strict about their YAML type (:mod:`sim.inputs.strict`, pydantic's strict
mode): ``tightness: "0.5"`` is text and is refused, not read as 0.5; so are
``n_schools: "1000"``, ``n_schools: 1000.0`` (a decimal for a whole number: write
``1000``), ``strategy: 1`` and ``"true"`` for a true/false parameter. A whole
number is a number: ``tightness: 1`` is fine. Each file of an ``extends`` chain
is checked as it is read, so the message names the file the value is in; ``--set
KEY=VALUE`` reads VALUE as YAML (``--set tightness=0.5`` is a number,
``--set 'tightness="0.5"'`` text) and is checked the same way.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.core.errors import UserError
from sim.core.registry import key_hint
from sim.inputs.safe_io import check_input_file, excerpt, loads, read_yaml_file
from sim.inputs.strict import TYPE_ERRORS, readable_range
from sim.model.params import (
    BUDGET_TOTALS,
    Params,
    declared_fields,
    field_info,
    type_problem,
)
from sim.model.plugins import import_plugins as find_plugins

META_KEYS = ("extends", "description", "label")
#: Most characters of a label taken from a description.
LABEL_CHARS = 48


#: Longest ``extends:`` chain followed (the shipped scenarios use 2).
MAX_EXTENDS = 32


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, or raise a UserError saying what is wrong with the file.

    The file is read by :func:`sim.inputs.safe_io.read_yaml_file`: UTF-8 only, a size
    cap, no aliases, no duplicate keys, no YAML 1.1 number surprises.
    """
    data = read_yaml_file(path, "scenario")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(
            f"{path}: a scenario file must be a mapping of parameter: value "
            f"(got {type(data).__name__})"
        )
    return data


def resolve(path: str | Path, _seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[str]]:
    """Follow ``extends:`` and merge; returns the values and the chain of files.

    Plug-ins are imported here, before the keys are checked (a plug-in may
    declare parameters), each looked for beside this file, then beside the
    files it extends (:func:`sim.model.plugins.import_plugins`); the values keep
    those found as absolute paths. ``path`` may be a built-in scenario name
    (:func:`sim.inputs.shipped.locate`).
    """
    from sim.inputs.shipped import locate

    base = _seen[-1].parent if _seen else None
    path = locate(path, "scenarios", base, cwd=not _seen)
    check_input_file(path, "scenario")  # a loop, a long name or a folder: one line
    path = path.resolve()
    if path in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, path))
        raise UserError(f"{path}: 'extends' makes a cycle: {excerpt(chain, 400)}")
    if len(_seen) >= MAX_EXTENDS:
        raise UserError(
            f"{_seen[0]}: 'extends' chain is more than {MAX_EXTENDS} files deep; "
            "extend a scenario that has what you need directly"
        )
    data = read_yaml(path)
    values: dict[str, Any] = {}
    chain: list[str] = []
    parent = data.get("extends")
    if parent is not None:
        if not isinstance(parent, str) or not parent.strip():
            raise UserError(
                f"{path}: key 'extends' must be a file name, e.g. extends: base.yaml "
                f"(got {excerpt(parent)})"
            )
        values, chain = resolve(parent, (*_seen, path))
    for key in ("description", "label"):
        if not isinstance(data.get(key, ""), str):
            raise UserError(
                f"{path}: key '{key}' must be text (got {excerpt(data[key])}); quote it "
                "or write one line"
            )
    plugins = data.get("plugins", [])
    if not isinstance(plugins, list) or not all(isinstance(m, str) for m in plugins):
        raise UserError(f"{path}: key 'plugins' must be a list of module names or .py files")
    dirs = list(dict.fromkeys([path.parent, *(Path(c).parent for c in reversed(chain))]))
    try:
        plugins = find_plugins(plugins, dirs)
    except UserError as exc:
        raise UserError(f"{path}: key 'plugins': {exc}") from None
    check_keys(data, str(path))
    check_types(data, str(path))  # here, so a value is blamed on the file of the chain it is in
    _replace_budget_form(values, data, str(path))
    if "description" in data and "label" not in data:
        values.pop("label", None)  # a file that says what it is is not its parent's label
    values.update({k: v for k, v in data.items() if k not in ("extends", "plugins")})
    if plugins:
        values["plugins"] = list(dict.fromkeys([*values.get("plugins", []), *plugins]))
    return values, [*chain, str(path)]


def _replace_budget_form(values: dict[str, Any], given: dict[str, Any], where: str) -> None:
    """Let a budget ``given`` as a total replace an inherited per-school one, and back.

    Raises:
        UserError: ``given`` has both forms of one budget.
    """
    for total, spec in BUDGET_TOTALS.items():
        each = spec["sets"]
        if total in given and each in given:
            raise UserError(
                f"{where}: {total} and {each} are both given; keep one: {total} (the whole "
                f"system, {spec['unit']}) or {each} ({field_info(each)['unit']})"
            )
        if total in given:
            values.pop(each, None)
        elif each in given:
            values.pop(total, None)


def check_keys(data: dict[str, Any], where: str) -> None:
    """Refuse keys that are not parameters, listing the valid ones.

    A key with a dot is a parameter a rule or strategy declares
    (``judged.w_agenda``); an unknown one names the key to set when the
    parameter is read from another (``judged_numpy.w_agenda``: set
    ``judged.w_agenda``), else lists the keys that rule declares. A key without
    a dot that a rule declares (``rate_perf``, declared beside the rule that
    reads it) names that rule's key (``practice_effects.rate_perf``).
    """
    valid = set(Params.model_fields) | set(META_KEYS) | set(BUDGET_TOTALS)
    declared = list(declared_fields())
    unknown = [
        key for key in data if key not in valid and not (isinstance(key, str) and key in declared)
    ]
    if not unknown:
        return
    key = unknown[0]
    more = f" (and {len(unknown) - 1} more unknown keys)" if len(unknown) > 1 else ""
    if isinstance(key, str) and "." in key:
        hint = key_hint(key)  # a name that reads the parameter from another key
        if hint is not None:
            raise UserError(
                f"{where}: unknown key {excerpt(key)}{more}: {hint}. Run "
                "`nextpractice params` for their meaning."
            )
        ns = key.split(".", 1)[0]
        mine = [k for k in declared if k.split(".", 1)[0] == ns]
        close = difflib.get_close_matches(key[:100], declared, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        listed = (
            f"{excerpt(ns)} declares {', '.join(mine)}"
            if mine
            else f"no registered rule or strategy {excerpt(ns)} declares parameters; declared "
            f"keys: {', '.join(declared)}"
        )
        raise UserError(
            f"{where}: unknown key {excerpt(key)}{more}.{hint} {listed}. Run "
            "`nextpractice params` for their meaning."
        )
    moved = key_hint(key) if isinstance(key, str) else None  # declared beside its rule
    if moved is not None:
        raise UserError(f"{where}: unknown key {excerpt(key)}{more}: {moved}")
    close = difflib.get_close_matches(str(key)[:100], valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UserError(
        f"{where}: unknown key {excerpt(key)}{more}.{hint} Valid keys: "
        f"{', '.join(sorted(valid))}. Run `nextpractice params` for their meaning."
    )


def check_types(data: dict[str, Any], where: str, command_line: bool = False) -> None:
    """Refuse a value whose YAML type is not its parameter's (:func:`.params.type_problem`).

    ``tightness: "0.5"`` is text, not a number; ``n_schools: 1000.0`` is not a
    whole number; ``strategy: 1`` is not a name. The first such value is named,
    with the fix, and how many more there are.

    Raises:
        UserError: ``<where>: <key>: <given> is <what>, but <key> is <type>; <fix>``.
    """
    problems = [
        p
        for key, value in data.items()
        if (p := type_problem(key, value, command_line=command_line)) is not None
    ]
    if problems:
        more = (
            f" (and {len(problems) - 1} more values of the wrong type)" if len(problems) > 1 else ""
        )
        raise UserError(f"{where}: {problems[0]}{more}")


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse a ``KEY=VALUE`` command-line override; the value is read as YAML."""
    if "=" not in text:
        raise UserError(f"--set {text!r}: write KEY=VALUE, e.g. --set tightness=0.8")
    key, raw = text.split("=", 1)
    key = key.strip()
    if key == "extends":
        raise UserError(
            f"--set {excerpt(text)}: 'extends' names the file a scenario builds on; "
            "it cannot be set from the command line. Write it in the scenario file"
        )
    try:
        value = loads(raw, f"--set {key}")
    except UserError:
        value = raw  # text YAML cannot read (e.g. a: b) is taken as a string
    return key, value


def validate(values: dict[str, Any], where: str) -> Params:
    """Build Params from values, turning pydantic's errors into UserErrors.

    In pydantic's strict mode, as the values come from a file or the command line:
    text is not converted to a number (see :func:`check_types`).
    """
    clean = {k: v for k, v in values.items() if k not in META_KEYS}
    check_keys(clean, where)
    try:
        return Params.model_validate(clean, strict=True)
    except ValidationError as exc:
        raise UserError(explain(exc, where)) from None


def explain(exc: ValidationError, where: str) -> str:
    """A pydantic error, said the way a user can act on it (values quoted as excerpts)."""
    lines = []
    for err in exc.errors():
        key = excerpt(".".join(str(x) for x in err["loc"]), 120) if err["loc"] else "(scenario)"
        name = str(err["loc"][0]) if err["loc"] else ""
        msg = err["msg"].removeprefix("Value error, ")
        wrong = (
            type_problem(name, err.get("input"), at=key)
            if err["type"] in TYPE_ERRORS and len(err["loc"]) == 1
            else None
        )
        if wrong is not None:
            lines.append(f"{where}: {wrong}")
        elif name == "schedule" and msg.startswith("schedule["):  # names its entry and fix
            lines.append(f"{where}: {msg}")
        elif name in Params.model_fields:
            info = field_info(name)
            rng = readable_range(info["lo"], info["hi"], info["unit"])
            rng = f" allowed range: {rng};" if rng else ""
            lines.append(
                f"{where}: key {key}: {msg} (got {excerpt(err.get('input'))});{rng} "
                f"it means: {info['meaning']} Fix the value in the file or with "
                f"--set {name}=VALUE."
            )
        else:
            lines.append(f"{where}: {msg}")
    return "\n".join(lines)


def load_scenario(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> Params:
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
        if "extends" in overrides:
            raise UserError(
                f"{where}: 'extends' cannot be given as an override (--set or an "
                "experiment's overrides:); write it in the scenario file itself"
            )
        check_keys(overrides, f"{where} (command-line --set)")
        check_types(overrides, f"{where} (command-line --set)", command_line=True)
        _replace_budget_form(values, overrides, f"{where} (command-line --set)")
        values.update(overrides)
        where = f"{where} with --set {', '.join(overrides)}"
    return validate(values, where)


def scenario_description(path: str | Path) -> str:
    """The ``description:`` of a scenario file (inherited if it has none of its own)."""
    values, _ = resolve(path)
    return str(values.get("description", ""))


def scenario_label(path: str | Path) -> str:
    """A scenario's name for readers: its ``label:``, else the start of its description.

    The description's first clause (up to a colon, full stop, semicolon or bracket,
    at most :data:`LABEL_CHARS` characters) stands in for a label; a file with
    neither inherits its parent's; a chain with neither gives the file's name.
    """
    values, _ = resolve(path)
    return label_from(values.get("label"), values.get("description"), Path(str(path)).stem)


def label_from(label: Any, description: Any, fallback: str) -> str:
    """The label of :func:`scenario_label` from a ``label:`` and a ``description:``."""
    if isinstance(label, str) and label.strip():
        return " ".join(label.split())
    text = " ".join(str(description or "").split())
    for stop in (": ", ". ", "; ", " ("):
        text = text.split(stop, 1)[0]
    text = text.rstrip(".:;")
    if len(text) > LABEL_CHARS:
        text = text[: LABEL_CHARS - 3].rsplit(" ", 1)[0] + "..."
    return text or fallback
