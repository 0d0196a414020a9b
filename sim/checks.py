"""Checks of user input that are not about one file: parameter combinations, CLI values.

Three groups, each called from one line elsewhere so the files that hold the
model, the parameters and the command line stay easy to read:

* :func:`no_bool_for_number` and :func:`impossible_combinations`, called by the
  validators of :class:`sim.params.Params`: a boolean is not a number, and a set
  of values the model could only honour by silently capping one of them is
  refused with the reason;
* argparse ``type=`` functions (:func:`positive_int`, :func:`seed`,
  :func:`port`, :func:`out_dir`, :func:`scheduler_address`): a bad command-line
  value is a one-line error with exit code 2 before anything is computed;
* :func:`writable_dir`: a run that cannot write its outputs fails before it runs.
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from sim.safe_io import excerpt

# ------------------------------------------------------------------------- parameters

#: Networks that read ``z_degree`` (mean degree) and ``k_lattice`` (neighbours each side).
DEGREE_NETWORKS = ("erdos_renyi",)
LATTICE_NETWORKS = ("ring_lattice", "rewired_lattice")


def no_bool_for_number(annotation: Any, value: Any) -> Any:
    """Refuse ``true``/``false`` where a number is expected (pydantic would read it as 1/0).

    YAML 1.1 readers turned ``yes`` and ``on`` into ``True``, and ``True`` passed as
    the integer 1; a scenario saying ``n_schools: yes`` must not run 1 school.
    """
    if isinstance(value, bool) and annotation in (int, float):
        kind = "a whole number" if annotation is int else "a number"
        raise ValueError(f"expects {kind}, not true/false (yes, on and true are not numbers)")
    return value


def impossible_combinations(p: Any) -> None:
    """Refuse values that contradict each other; the model would otherwise cap them silently.

    Each check mirrors a ``min()`` in the code that builds or runs the model:
    ``sim.model`` (running practices), ``sim.structure`` (collaboratives),
    ``sim.rules.system`` (authorities cut), ``sim.networks`` (degree, lattice
    width) and ``sim.rules.classic`` (seed adopters).

    Raises:
        ValueError: naming both keys, their values and the fix.
    """
    if p.n_running_init > p.n_slots:
        raise ValueError(f"n_running_init ({p.n_running_init}) is more than n_slots "
                         f"({p.n_slots}): a school cannot run more practices than it has "
                         "slots; lower n_running_init or raise n_slots")
    if p.n_running_init > p.n_practices_init:
        raise ValueError(f"n_running_init ({p.n_running_init}) is more than n_practices_init "
                         f"({p.n_practices_init}): a school cannot run more known practices "
                         "than are known; lower n_running_init or raise n_practices_init")
    if p.n_collab_size > p.n_schools:
        raise ValueError(f"n_collab_size ({p.n_collab_size}) is more than n_schools "
                         f"({p.n_schools}): a collaborative cannot be larger than the system")
    if p.n_authorities_cut > p.n_authorities:
        raise ValueError(f"n_authorities_cut ({p.n_authorities_cut}) is more than "
                         f"n_authorities ({p.n_authorities}); to cut every authority set "
                         f"n_authorities_cut: {p.n_authorities}")
    if p.init_adopters > p.n_schools:
        raise ValueError(f"init_adopters ({p.init_adopters}) is more than n_schools "
                         f"({p.n_schools}); at most every school can adopt at the start")
    if p.network in DEGREE_NETWORKS and p.z_degree > p.n_schools - 1:
        raise ValueError(f"z_degree ({p.z_degree:g}) is more than n_schools - 1 "
                         f"({p.n_schools - 1}): a school cannot have more ties than there are "
                         f"other schools in network {p.network}")
    most = (p.n_schools - 1) // 2
    if p.network in LATTICE_NETWORKS and p.k_lattice > most:
        raise ValueError(f"k_lattice ({p.k_lattice}) is more than (n_schools - 1) // 2 "
                         f"({most}): a ring of {p.n_schools} schools has at most {most} "
                         "neighbours on each side; lower k_lattice or raise n_schools")


# ------------------------------------------------------------------------- command line


def _int(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{excerpt(text)} is not a whole number") from None


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (steps, replications, workers)."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def steps(text: str) -> int:
    """An argparse type: steps of a run, 1 to the upper bound of ``n_steps`` (6000)."""
    from sim.params import field_info

    most = int(field_info("n_steps")["hi"])
    value = _int(text)
    if not 1 <= value <= most:
        raise argparse.ArgumentTypeError(f"must be from 1 to {most}, the range of n_steps "
                                         f"(got {excerpt(value)})")
    return value


def _at_most(most: int, what: str):
    def check(text: str) -> int:
        value = positive_int(text)
        if value > most:
            raise argparse.ArgumentTypeError(f"must be at most {most:,} {what} (got "
                                             f"{excerpt(value)})")
        return value

    check.__name__ = f"at_most_{most}"
    return check


def seed(text: str) -> int:
    """An argparse type: a seed, a whole number from 0 to 2**63 - 1."""
    value = _int(text)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be from 0 to 2**63 - 1 (got {excerpt(value)})")
    return value


def port(text: str) -> int:
    """An argparse type: a TCP port to listen on, 1 to 65535."""
    value = _int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port from 1 to 65535 (got {excerpt(value)})")
    return value


_SCHEME = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://")
_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(:(\d{1,5}))?$")


def scheduler_address(text: str) -> str:
    """An argparse type: a Dask scheduler address, ``tcp://host:8786`` or ``host:8786``.

    Checked before connecting, so a typo is a clear message, not a long timeout.
    """
    rest = _SCHEME.sub("", text.strip(), count=1)
    m = _HOST_PORT.match(rest)
    if not m or (m.group(3) is not None and not 1 <= int(m.group(3)) <= 65535):
        raise argparse.ArgumentTypeError(
            f"{excerpt(text)} is not a scheduler address; write tcp://HOST:PORT, e.g. "
            "tcp://127.0.0.1:8786")
    return text.strip()


def out_dir(text: str) -> str:
    """An argparse type: an output folder that can exist (not a file, not in /proc or /sys).

    Whether it can be written is checked by :func:`writable_dir` when a command
    is about to write, so a command that only reads never needs write access.
    """
    if not text or "\x00" in text:
        raise argparse.ArgumentTypeError("give a folder name")
    path = Path(text).expanduser()
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        raise argparse.ArgumentTypeError(f"{excerpt(text)}: cannot be followed (a symbolic "
                                         "link loop?)") from None
    for top in ("/proc", "/sys", "/dev"):
        if resolved == Path(top) or resolved.is_relative_to(top):
            raise argparse.ArgumentTypeError(f"{excerpt(text)} is in {top}, a system folder; "
                                             "give a folder of your own")
    limit = _name_max(resolved)
    if any(len(os.fsencode(part)) > limit for part in resolved.parts):
        raise argparse.ArgumentTypeError(f"{excerpt(text)}: a part of the name is longer than "
                                         f"{limit} bytes; use shorter folder names")
    if resolved.exists() and not resolved.is_dir():
        raise argparse.ArgumentTypeError(f"{excerpt(text)} is a file, not a folder; give a "
                                         "folder name")
    return text


def _name_max(path: Path) -> int:
    for p in (path, *path.parents):
        try:
            return os.pathconf(p, "PC_NAME_MAX")
        except (OSError, ValueError):
            continue
    return 255


def writable_dir(path: Path, option: str = "--out") -> Path:
    """Create ``path`` if needed and prove it can be written, by writing a temporary file.

    Attempting the write is the only test that tells the truth: ``os.access``
    answers yes for root on a read-only mount.

    Raises:
        UserError: naming the folder, the option and the fix.
    """
    from sim.errors import UserError

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        why = {errno.EROFS: "the file system is read-only",
               errno.EACCES: "no permission to write there",
               errno.EPERM: "no permission to write there",
               errno.ENOSPC: "the disk is full",
               errno.EEXIST: "a file of that name is in the way",
               errno.ENOTDIR: "a part of the path is a file, not a folder",
               errno.ENAMETOOLONG: "the name is too long"}.get(exc.errno or 0,
                                                              exc.strerror or str(exc))
        raise UserError(f"{excerpt(str(path), 120)}: cannot write results here ({why}); give "
                        f"a folder you can write with {option}") from None
    return path


#: The argparse type of each option, by destination name, in every subcommand.
OPTION_TYPES = {
    "steps": steps,
    "replications": _at_most(1_000_000, "replications (the experiment files' bound)"),
    "workers": _at_most(1024, "worker processes"),
    "seed": seed,
    "port": port,
    "out": out_dir,
    "scheduler": scheduler_address,
}


def harden_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give every subcommand's options their checked types, and one-line usage errors.

    Called once by :func:`sim.cli.build_parser`, so the options keep their
    declarations there and the checks live here. A usage error prints one line
    (``nextpractice run: error: argument --steps: must be at least 1 (got 0); see
    nextpractice run --help``) and exits with code 2, before anything is computed.
    """
    parsers = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            parsers += list(action.choices.values())
    for p in parsers:
        for action in p._actions:
            if action.dest in OPTION_TYPES and action.option_strings:
                action.type = OPTION_TYPES[action.dest]
        p.error = _one_line_error(p)  # type: ignore[method-assign]
    return parser


def _one_line_error(parser: argparse.ArgumentParser):
    def error(message: str):
        parser.exit(2, f"{parser.prog}: error: {message}; see {parser.prog} --help\n")

    return error
