"""Built-in scenarios, experiments and the starter notebook, found wherever nextpractice runs.

One source only: the repository's top-level ``scenarios/``, ``experiments/`` and
``notebooks/`` folders. A checkout (or an editable install) reads them where they
are; building a wheel copies them into the package as ``sim/data/<kind>/`` (see
``setup.py``), so an installed nextpractice carries them. :func:`folder` looks in the
package first, then in the checkout.

A built-in is named by its path inside its folder without ``.yaml``: ``top_down``,
``classics/bass``. :func:`locate` accepts a name anywhere a path is accepted; a file
that exists at the given path always wins over a built-in of the same name.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from sim.core.errors import UserError
from sim.inputs.folders import create_new, refuse_links_out, resolve_out
from sim.inputs.safe_io import excerpt

_PACKAGE = Path(__file__).resolve().parent.parent  # the sim package
#: Kinds of built-in files: the folder name in the checkout and in the package.
KINDS = ("scenarios", "experiments", "notebooks", "benchmarks")
#: The notebook ``nextpractice init`` copies as a starting point.
STARTER_NOTEBOOK = "plateau_walkthrough.ipynb"


def folder(kind: str) -> Path | None:
    """The folder holding the built-in files of ``kind`` (installed package first, then checkout).

    Returns None when neither exists (a build that left them out).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {KINDS}")
    for candidate in (_PACKAGE / "data" / kind, _PACKAGE.parent / kind):
        if candidate.is_dir():
            return candidate
    return None


def names(kind: str) -> list[str]:
    """Every built-in name of ``kind`` (``scenarios`` or ``experiments``), sorted."""
    root = folder(kind)
    if root is None:
        return []
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.yaml"))


def builtin(kind: str, name: str) -> Path | None:
    """The file of built-in ``name`` (with or without ``.yaml``), or None if there is none."""
    root = folder(kind)
    if root is None or not name or Path(name).is_absolute() or ".." in Path(name).parts:
        return None
    path = root / (name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
    try:
        return path if path.is_file() else None
    except (OSError, ValueError):  # a name too long for the file system is no built-in
        return None


def locate(name: str | Path, kind: str, base: Path | None = None, cwd: bool = True) -> Path:
    """Resolve a path or a built-in name to a file; a file at the path wins.

    Args:
        name: A path (absolute, relative to ``base`` or to the working folder) or a
            built-in name such as ``top_down`` or ``classics/bass``.
        kind: ``scenarios`` or ``experiments``.
        base: Folder that relative paths are read from first (the folder of the file
            that names this one, for ``extends:`` and an experiment's ``scenario:``).
        cwd: Also read a relative path from the working folder (after ``base``).

    Returns:
        The file.

    Raises:
        UserError: Neither a file nor a built-in name; lists the built-in names.
    """
    text = str(name)
    path = Path(text)
    tried = [base / path] if base is not None and not path.is_absolute() else []
    if cwd or base is None or path.is_absolute():
        tried.append(path)
    for candidate in tried:
        if os.path.lexists(candidate):  # a file, or a folder or loop the reader names
            return candidate
    found = builtin(kind, text)
    if found is not None:
        return found
    for candidate in tried:  # not there, or a name the OS refuses: let the reader say which
        try:
            os.stat(candidate)
        except FileNotFoundError:
            continue
        except (OSError, ValueError):
            return candidate
    known = names(kind)
    close = difflib.get_close_matches(Path(text).stem, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    noun = kind.rstrip("s")
    said = text if len(text) <= 200 else text[:120] + "..."
    raise UserError(
        f"{said}: not found: no such {noun} file (tried "
        f"{excerpt(', '.join(map(str, tried)), 300)}), "
        f"nor a built-in {noun} name.{hint} Built-in "
        f"{kind}: {', '.join(known) or 'none in this build'}; "
        f"`nextpractice init DIR` copies them into a folder for editing"
    )


def init(target: Path) -> list[Path]:
    """Copy the built-in scenarios, experiments and starter notebook into ``target``.

    Refuses to overwrite: a file that already exists in ``target`` (or a link where a
    file goes, even a dangling one) is an error naming it, and nothing is copied. A
    link inside ``target`` that leads out of it is refused too
    (:func:`sim.inputs.folders.refuse_links_out`); each file is created new, never
    written through a link.

    Returns:
        The files written, in order.
    """
    target = resolve_out(target, "DIR")
    plan: list[tuple[Path, Path]] = []
    for kind in ("scenarios", "experiments"):
        root = folder(kind)
        if root is None:
            raise UserError(f"this build of nextpractice has no built-in {kind}; reinstall it")
        plan += [(p, target / kind / p.relative_to(root)) for p in sorted(root.rglob("*.yaml"))]
    notebooks = folder("notebooks")
    if notebooks is not None and (notebooks / STARTER_NOTEBOOK).is_file():
        plan.append((notebooks / STARTER_NOTEBOOK, target / "notebooks" / STARTER_NOTEBOOK))
    refuse_links_out(target, "DIR")
    clash = [dst for _, dst in plan if os.path.lexists(dst)]
    if clash:
        raise UserError(
            f"{clash[0]}: already exists ({len(clash)} file(s) would be "
            "overwritten); choose an empty or new folder for `nextpractice init`"
        )
    for src, dst in plan:
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            create_new(dst, src.read_bytes())
        except OSError as exc:
            msg = f"{dst}: cannot write ({exc.strerror}); choose a writable folder"
            raise UserError(msg) from None
    return [dst for _, dst in plan]
