"""Output folders: the one way every command writes.

A command is told one folder to write into (``--out``, ``init DIR``, or its default).
:func:`writable_dir` turns that name into the folder, once, and every file is then
written as ``folder / name``:

* the name is resolved once: ``~`` expanded and the links in it followed (the user
  named them), to an absolute path; a link in the name that leads nowhere is refused
  (creating its target would write where no one looked). Before, ``--out ~/x`` made a
  folder ``./~/x`` while pandas, which expands ``~`` itself, wrote its tables to
  ``$HOME/x``;
* nothing already inside the folder may be a symbolic link that leads out of it,
  dangling or not: writing ``metrics.csv`` through a link named ``metrics.csv``
  would overwrite the link's target. Such a link is refused, naming it and where it
  leads (the folder itself may be a link: that is the folder asked for);
* a system folder (``/proc``, ``/sys``, ``/dev``), a part of the name longer than the
  file system allows, or a file in the way is refused before anything runs;
* the folder is created and proved writable by writing a temporary file in it
  (``os.access`` says yes to root on a read-only mount).

A folder's name never becomes part of a URL: the calibration's history database,
which pyabc opens by an SQL URL, gets one built by SQLAlchemy's ``URL.create``, in
which ``?``, ``#`` and ``%`` are quoted (:func:`sim.calibration.fit.sqlite_url`).
:func:`create_new` writes a file that must not exist yet without following a link.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from sim.core.errors import UserError
from sim.inputs.safe_io import excerpt

#: Folders of the operating system's own; nothing of ours is written there.
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")


def name_problem(text: str | os.PathLike) -> str | None:
    """Why ``text`` cannot name an output folder, or None (checked before anything runs).

    Refused: an empty name or a NUL byte, a symbolic link loop, a folder in /proc,
    /sys or /dev, a part of the name longer than the file system allows, a file in
    the way.
    """
    text = os.fspath(text)
    if not text or "\x00" in text:
        return "give a folder name"
    path = _expand(text)
    limit = _name_max(path.absolute())
    if any(len(os.fsencode(part)) > limit for part in path.parts):
        return f"a part of the name is longer than {limit} bytes; use shorter folder names"
    for part in (path, *path.parents):
        if os.path.islink(part) and not os.path.exists(part):
            return (
                f"{excerpt(str(part), 120)} is a symbolic link to "
                f"{excerpt(os.readlink(part), 120)}, which does not exist: nothing is "
                "created through it; give the folder itself"
            )
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return "cannot be followed (a symbolic link loop?)"
    for top in SYSTEM_FOLDERS:
        if resolved == Path(top) or resolved.is_relative_to(top):
            return f"is in {top}, a system folder; give a folder of your own"
    if any(len(os.fsencode(part)) > limit for part in resolved.parts):
        return f"a part of the name is longer than {limit} bytes; use shorter folder names"
    try:
        if resolved.exists() and not resolved.is_dir():
            return "is a file, not a folder; give a folder name"
    except OSError as exc:
        return f"cannot be used ({exc.strerror or exc})"
    return None


def _name_max(path: Path) -> int:
    for p in (path, *path.parents):
        try:
            return os.pathconf(p, "PC_NAME_MAX")
        except (OSError, ValueError):
            continue
    return 255


def resolve_out(path: str | os.PathLike, option: str = "--out") -> Path:
    """The folder ``path`` names, as an absolute path: ``~`` expanded, links followed once.

    Raises:
        UserError: see :func:`name_problem`; the message names the folder and ``option``.
    """
    why = name_problem(path)
    if why is not None:
        raise UserError(f"{excerpt(os.fspath(path), 120)}: {why} ({option})")
    return _expand(os.fspath(path)).resolve()


def _expand(text: str) -> Path:
    """``~`` and ``~user`` expanded as the shell and pandas do: an unknown user stays as typed."""
    return Path(os.path.expanduser(text))


def links_leading_out(folder: Path) -> tuple[Path, str] | None:
    """The first symbolic link inside ``folder`` that leads out of it (or nowhere), if any.

    Walks the folder without following links. A link whose target, followed to the
    end, is not inside ``folder`` is returned with that target; so is a dangling link
    whose target would be created outside.

    Returns:
        ``(link, where it leads)``, or None when every link stays inside.
    """
    if not folder.is_dir():
        return None
    root = os.path.realpath(folder)
    for top, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            entry = os.path.join(top, name)
            if not os.path.islink(entry):
                continue
            target = os.path.realpath(entry)
            if os.path.commonpath([root, target]) != root:
                return Path(entry), target
    return None


def refuse_links_out(folder: Path, option: str = "--out") -> None:
    """Refuse ``folder`` when a link inside it leads out of it (:func:`links_leading_out`).

    Raises:
        UserError: naming the link, where it leads and the fix.
    """
    found = links_leading_out(folder)
    if found is not None:
        link, target = found
        raise UserError(
            f"{excerpt(str(link), 160)}: a symbolic link leading out of the output folder "
            f"(to {excerpt(target, 120)}); nothing is written through it. Remove the link, "
            f"or give another folder ({option})"
        )


def writable_dir(path: str | os.PathLike, option: str = "--out", probe: bool = True) -> Path:
    """The output folder ``path`` names, resolved once, checked, created and proved writable.

    Args:
        path: the folder named by the user (or a command's default).
        option: the option that names it, for messages (``--out``, ``DIR``).
        probe: create the folder and write a temporary file in it; ``False`` only
            resolves and checks (a command that may find its work already done in a
            read-only folder).

    Returns:
        The folder, absolute: every file the command writes is ``folder / name``.

    Raises:
        UserError: naming the folder, the option and the fix.
    """
    folder = resolve_out(path, option)
    refuse_links_out(folder, option)
    if not probe:
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        why = {
            errno.EROFS: "the file system is read-only",
            errno.EACCES: "no permission to write there",
            errno.EPERM: "no permission to write there",
            errno.ENOSPC: "the disk is full",
            errno.EEXIST: "a file of that name is in the way",
            errno.ENOTDIR: "a part of the path is a file, not a folder",
            errno.ENAMETOOLONG: "the name is too long",
        }.get(exc.errno or 0, exc.strerror or str(exc))
        raise UserError(
            f"{excerpt(str(path), 120)}: cannot write results here ({why}); give "
            f"a folder you can write with {option}"
        ) from None
    return folder


def create_new(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, which must not exist yet (not even as a dangling link).

    ``O_CREAT | O_EXCL`` never follows a link in the last part of the name, so a
    link planted where the file goes is an error, not a way out of the folder.

    Raises:
        FileExistsError: something is already there.
        OSError: the file cannot be written.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o666)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def shown(path: str | os.PathLike) -> str:
    """How a path written is shown to the user: relative to the working folder when inside it.

    The folder is resolved to an absolute path once (:func:`writable_dir`); messages
    still read ``wrote runs/top_down/summary.json`` for a folder under the working one.
    """
    path = Path(path)
    try:
        here = Path.cwd().resolve()
    except OSError:  # the working folder was removed
        return str(path)
    return str(path.relative_to(here)) if path.is_relative_to(here) else str(path)
