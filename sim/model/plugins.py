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
is refused: there is no package to be relative to. A rule, strategy or network of
a plug-in that raises while a model is built or run is reported the same way
(:func:`plugin_error`), not as a bug in nextpractice.

A plug-in is code, so before this process imports it, it is imported once in a
child process under a time limit (:data:`IMPORT_SECONDS`; the environment variable
``NEXTPRACTICE_PLUGIN_SECONDS`` changes it), which must come back and say so. Thus
an endless loop at import (even inside C code, which no signal interrupts), a call of
``os._exit`` or ``os.abort``, or a thread the import leaves running (which would keep
the command alive for ever after its files are written) is reported naming the
plug-in, and never taken for success. A file's check is remembered by its SHA-256
for the worker processes this process starts (``NEXTPRACTICE_PLUGINS_CHECKED``), so
they do not repeat it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from sim.core.errors import UserError
from sim.core.registry import REPLACED

#: Plug-ins imported by path in this process: absolute path -> module.
_BY_PATH: dict[str, ModuleType] = {}
#: Source files of the plug-ins imported in this process (a frame there is the plug-in's).
_FILES: dict[str, str] = {}
#: Longest a plug-in's trial import may take (seconds). A judgement: a plug-in defines
#: rules and returns in well under a second; one that compiles kernels as it is imported
#: may take several seconds on the first run. ``NEXTPRACTICE_PLUGIN_SECONDS`` overrides it.
IMPORT_SECONDS = 60.0
#: Where a process's checked plug-ins are passed to the worker processes it starts.
CHECKED_ENV = "NEXTPRACTICE_PLUGINS_CHECKED"


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


# The child's program: import the plug-in, then write what happened to a file and end
# at once (os._exit: a thread the plug-in left running must not keep the child alive).
_TRIAL = """
import importlib, importlib.util, json, os, sys, threading
task = json.loads(sys.argv[1])
sys.path[:] = task["sys_path"]
before = set(threading.enumerate())
try:
    if task["file"]:
        spec = importlib.util.spec_from_file_location(task["name"], task["file"])
        module = importlib.util.module_from_spec(spec)
        sys.modules[task["name"]] = module
        spec.loader.exec_module(module)
    else:
        importlib.import_module(task["name"])
    said = {"raised": None}
except BaseException as exc:
    said = {"raised": type(exc).__name__}
said["threads"] = sorted(
    t.name for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon
)
with open(task["report"], "w") as fh:
    json.dump(said, fh)
os._exit(0)
"""


def import_seconds() -> float:
    """The time limit of a plug-in's trial import: ``NEXTPRACTICE_PLUGIN_SECONDS``, or 60 s."""
    text = os.environ.get("NEXTPRACTICE_PLUGIN_SECONDS")
    if text is None:
        return IMPORT_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 86_400:
        raise UserError(
            f"NEXTPRACTICE_PLUGIN_SECONDS={text[:40]!r}: give the seconds a plug-in may take "
            "to import, a number above 0 (at most 86400)"
        )
    return value


def _digest(file: str | None) -> str | None:
    if not file:
        return None
    try:
        return hashlib.sha256(Path(file).read_bytes()).hexdigest()
    except OSError:
        return None


def _checked() -> dict[str, str]:
    try:
        data = json.loads(os.environ.get(CHECKED_ENV, "{}"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def trial_import(spec: str, module_name: str, file: str | None) -> None:
    """Import a plug-in once in a child process, under a time limit, before this process does.

    Args:
        spec: the plug-in as the scenario names it (for messages).
        module_name: the module name it is imported under.
        file: its ``.py`` file when imported by path, else None (an installed module).

    Raises:
        UserError: the import did not end within :func:`import_seconds`, ended the
            process (``os._exit``, ``os.abort``, a signal), or left a thread running.
            An exception the import raises is not reported here: this process's own
            import says it with the plug-in's traceback lines.
    """
    origin = file
    if origin is None and "." not in module_name:  # find_spec("a.b") would import a here
        try:
            found = importlib.util.find_spec(module_name)
        except (ImportError, ValueError):
            found = None
        origin = found.origin if found is not None else None
    digest = _digest(origin)
    key = origin or module_name
    if digest is not None and _checked().get(key) == digest:
        return
    limit = import_seconds()
    with tempfile.TemporaryDirectory(prefix="nextpractice-plugin-") as tmp:
        report = Path(tmp) / "report.json"
        task = {"file": file, "name": module_name, "sys_path": sys.path, "report": str(report)}
        # -P: nothing of the working folder is put on the child's module path.
        cmd = [sys.executable, "-P", "-c", _TRIAL, json.dumps(task)]
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # so a time-out ends what the plug-in started too
            )
        except OSError as exc:
            raise UserError(f"plugin {spec!r}: cannot start a process to try it ({exc})") from None
        try:
            code = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise UserError(
                f"plugin {spec!r} did not finish importing within {limit:g} s (an endless "
                "loop, or work at import that belongs in a rule); a plug-in module should "
                "define its rules and return. For a slow one, set "
                "NEXTPRACTICE_PLUGIN_SECONDS"
            ) from None
        finally:
            _kill_group(proc)  # anything the plug-in started in the background
        try:
            said = json.loads(report.read_text())
        except (OSError, ValueError):
            said = None
    if said is None:
        how = f"exit code {code}" if code >= 0 else f"signal {_signal_name(-code)}"
        raise UserError(
            f"plugin {spec!r} ended the process while being imported ({how}: os._exit, "
            "os.abort, a signal or a crash); a plug-in must not end the program. Nothing "
            "was run"
        )
    if said.get("raised") is None and said.get("threads"):
        names = ", ".join(said["threads"][:3])
        raise UserError(
            f"plugin {spec!r} left {len(said['threads'])} thread(s) running after its import "
            f"({names}); a thread that is not a daemon keeps the command from ending. Start "
            "no threads at import, or make them daemon threads"
        )
    if said.get("raised") is None and digest is not None:
        os.environ[CHECKED_ENV] = json.dumps({**_checked(), key: digest})


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not refused
        pass


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _new_threads(before: set[threading.Thread]) -> list[str]:
    return sorted(
        t.name for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon
    )


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
    trial_import(path, name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    before = set(threading.enumerate())
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
    try:
        _refuse_threads(path, before)
    except UserError:
        del sys.modules[name]
        raise
    _BY_PATH[path] = module
    _FILES[str(Path(path).resolve())] = path
    return module


def _refuse_threads(spec: str, before: set[threading.Thread]) -> None:
    stray = _new_threads(before)
    if stray:
        raise UserError(
            f"plugin {spec!r} left {len(stray)} thread(s) running after its import "
            f"({', '.join(stray[:3])}); a thread that is not a daemon keeps the command "
            "from ending. Start no threads at import, or make them daemon threads"
        )


def _load_name(name: str) -> ModuleType:
    """Import an installed plug-in module by name (tried in a child process first)."""
    if name not in sys.modules:
        try:
            trial_import(name, name, None)
        except ModuleNotFoundError:  # pragma: no cover - find_spec of a missing parent
            pass
    before = set(threading.enumerate())
    try:
        module = importlib.import_module(name)
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
    _refuse_threads(name, before)
    for file in _files_of_failed(name, None) if not name.startswith("sim.") else ():
        _FILES[file] = name
    return module


def _files_of_failed(name: str, exc: BaseException | None) -> set[str]:
    """Files of the plug-in package or module ``name`` (found by its spec, imported or not)."""
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


def plugin_error(exc: BaseException, when: str) -> UserError | None:
    """``exc`` as the plug-in's error, when a frame of its traceback is in a plug-in's file.

    A rule, strategy or network a plug-in registered runs inside the engine; when it
    raises, the traceback passes through the plug-in's own file. That error is the
    plug-in's to fix, so it is said as one :class:`UserError` naming the plug-in, the
    exception and the plug-in's own lines, not as a bug in nextpractice.

    Args:
        exc: the exception raised while building or running a model.
        when: when it happened, for the message (``"at step 3"``).

    Returns:
        The UserError, or None when no frame is a plug-in's (the engine's own error).
    """
    if not _FILES or isinstance(exc, UserError):
        return None
    own = {
        f.filename
        for f in traceback.extract_tb(exc.__traceback__)
        if str(Path(f.filename).resolve()) in _FILES
    }
    if not own:
        return None
    spec = _FILES[str(Path(sorted(own)[0]).resolve())]
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    lines = _own_frames(exc, {str(Path(f).resolve()) for f in own})
    body = f"plugin {spec!r} raised {when}: {detail}"
    return UserError(body + (f"\nIn the plug-in:\n{lines}" if lines else ""))
