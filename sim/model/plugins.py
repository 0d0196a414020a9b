"""Plug-ins: modules a scenario names to add rules, strategies, networks and their parameters.

A scenario's ``plugins:`` lists modules by name (``my_rules``) or by path
(``my_rules.py``, ``lib/my_rules.py``). Both are looked for beside the
scenario file first, then beside each file it ``extends:``; no ``PYTHONPATH``
is needed. A name found nowhere there is imported as an installed module. A
plug-in found beside a scenario is kept in the parameters as its absolute
path, so a worker process imports the same file, and every run's summary
records the SHA-256 of each plug-in's source (:func:`plugin_records`): an
edited plug-in is visible in the results.

Errors are the user's, said once: a plug-in that is missing, has a syntax
error or raises on import gives one :class:`~sim.core.errors.UserError` naming the
plug-in, with the traceback lines of its own files only (the engine's frames
say nothing about the plug-in's mistake). A relative module name (``.foo``)
is refused: there is no package to be relative to.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from sim.core.errors import UserError
from sim.core.registry import REPLACED

#: Plug-ins imported by path in this process: absolute path -> module.
_BY_PATH: dict[str, ModuleType] = {}


def _is_path(spec: str) -> bool:
    return spec.endswith(".py") or "/" in spec or "\\" in spec


def locate(spec: str, dirs: Sequence[Path]) -> str:
    """Where a plug-in named in a scenario is: an absolute ``.py`` path, or the module name.

    Args:
        spec: a module name or a ``.py`` path, as the scenario gives it.
        dirs: folders to look in, in order (the scenario's, then those it extends).

    Raises:
        UserError: a relative module name, a path that is not a ``.py`` file, or a
            path found in none of ``dirs``.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise UserError(f"plugin {spec!r}: give a module name or a .py file")
    spec = spec.strip()
    if spec.startswith("."):
        raise UserError(
            f"plugin {spec!r}: relative module names are not allowed (there is no "
            "package to be relative to); give the module's name or its .py file, "
            "e.g. plugins: [my_rules] or plugins: [my_rules.py]"
        )
    if _is_path(spec):
        if not spec.endswith(".py"):
            raise UserError(f"plugin {spec!r}: a plug-in given as a path must be a .py file")
        p = Path(spec)
        tried = [p] if p.is_absolute() else [d / p for d in dirs]
        for cand in tried:
            if cand.is_file():
                return str(cand.resolve())
        where = ", ".join(str(c) for c in tried) or spec
        raise UserError(
            f"plugin {spec!r}: no such file (looked for {where}); paths are "
            "relative to the scenario file"
        )
    rel = Path(*spec.split("."))
    for d in dirs:
        for cand in (d / rel.with_suffix(".py"), d / rel / "__init__.py"):
            if cand.is_file() and "." not in spec:
                return str(cand.resolve())
    return spec


def _own_frames(exc: BaseException, files: set[str]) -> str:
    """The traceback lines of ``exc`` in the plug-in's own files, formatted."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if str(Path(f.filename).resolve()) in files
    ]
    lines = traceback.format_list(frames)
    if isinstance(exc, SyntaxError) and exc.filename:
        text = (exc.text or "").strip()
        lines.append(f'  File "{exc.filename}", line {exc.lineno}\n    {text}\n')
    return "".join(lines).rstrip()


def _failure(spec: str, exc: BaseException, files: set[str]) -> UserError:
    own = _own_frames(exc, files)
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if isinstance(exc, SyntaxError):
        detail = f"SyntaxError: {exc.msg}"
    body = f"plugin {spec!r} failed to import: {detail}"
    return UserError(body + (f"\nIn the plug-in:\n{own}" if own else ""))


def _load_path(path: str) -> ModuleType:
    """Import a plug-in file once per process, under its file name's stem.

    If another module already has that name (two scenarios' ``rules.py``), the
    stem gets the first 8 hex digits of the path's SHA-256 added.
    """
    if path in _BY_PATH:
        return _BY_PATH[path]
    file = Path(path)
    name = file.parent.name if file.name == "__init__.py" else file.stem
    old = sys.modules.get(name)
    old_file = getattr(old, "__file__", None)
    if old is not None and old_file and str(Path(old_file).resolve()) == path:
        _BY_PATH[path] = old
        return old
    if old is not None:  # another file of that name: keep both, under a name of its own
        name = f"{name}_{hashlib.sha256(path.encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UserError(f"plugin {path!r}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except UserError as exc:
        del sys.modules[name]
        raise UserError(f"plugin {path!r}: {exc}") from None
    except BaseException as exc:  # noqa: BLE001  (anything the plug-in raises is its error)
        del sys.modules[name]
        folder = file.parent
        own = {str(f.resolve()) for f in folder.rglob("*.py")} | {path}
        raise _failure(path, exc, own) from None
    _BY_PATH[path] = module
    return module


def _load_name(name: str) -> ModuleType:
    """Import an installed plug-in module by name."""
    try:
        return importlib.import_module(name)
    except UserError as exc:
        raise UserError(f"plugin {name!r}: {exc}") from None
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == name or name.startswith(exc.name + ".")):
            raise UserError(
                f"plugin {name!r}: no such module beside the scenario file or "
                f"installed; put {name}.py beside the scenario, or give its path"
            ) from None
        raise _failure(name, exc, _files_of_failed(name, exc)) from None
    except BaseException as exc:  # noqa: BLE001  (anything the plug-in raises is its error)
        raise _failure(name, exc, _files_of_failed(name, exc)) from None


def _files_of_failed(name: str, exc: BaseException) -> set[str]:
    """Files of the plug-in package or module ``name`` (found by its spec; it failed to import)."""
    top = name.split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        return set()
    origin = Path(spec.origin).resolve()
    if spec.submodule_search_locations:
        return {str(f.resolve()) for f in origin.parent.rglob("*.py")}
    return {str(origin)}


def import_plugins(specs: Iterable[str], dirs: Sequence[Path] = ()) -> list[str]:
    """Import plug-ins; returns each as the parameters keep it (absolute path, or module name).

    Args:
        specs: module names or ``.py`` paths.
        dirs: folders to look in (the scenario file's, then those of files it extends).

    Raises:
        UserError: naming the plug-in (see the module docstring).
    """
    out = []
    for spec in specs:
        where = locate(spec, [Path(d) for d in dirs])
        if where.endswith(".py") and Path(where).is_absolute():
            _load_path(where)
        else:
            _load_name(where)
        out.append(where)
    return out


def _source_file(spec: str) -> str | None:
    if spec.endswith(".py"):
        return spec
    module = sys.modules.get(spec)
    return getattr(module, "__file__", None) if module is not None else None


def plugin_records(specs: Iterable[str]) -> dict[str, Any]:
    """What a run's summary records of its plug-ins: each one's file and SHA-256, and replacements.

    ``{"files": {spec: {"path": ..., "sha256": ...}}, "replaced": [...]}``, where
    ``replaced`` lists built-in names a plug-in replaced (``replace=True``).
    """
    files = {}
    for spec in specs:
        path = _source_file(spec)
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else None
        files[spec] = {"path": path, "sha256": digest}
    return {"files": files, "replaced": [dict(r) for r in REPLACED]}
