"""Checks of command-line values, before anything is computed.

Two groups, each called from one line elsewhere so the files that hold the
model and the command line stay easy to read (the checks of a parameter set are
in :mod:`sim.inputs.consistency`):

* argparse ``type=`` functions (:func:`positive_int`, :func:`seed`,
  :func:`port`, :func:`out_dir`, :func:`scheduler_address`): a bad command-line
  value is a one-line error with exit code 2 before anything is computed;
* :func:`writable_dir` (from :mod:`sim.inputs.folders`, the one way commands write):
  a run that cannot write its outputs fails before it runs.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

from sim.inputs.folders import name_problem, writable_dir
from sim.inputs.safe_io import excerpt

__all__ = ["harden_parser", "out_dir", "positive_int", "port", "seed", "writable_dir"]

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


def steps_upto(upper: Callable[[], int]):
    """An argparse type: steps of a run, 1 to ``upper()`` (the upper bound of ``n_steps``)."""

    def steps(text: str) -> int:
        most = upper()
        value = _int(text)
        if not 1 <= value <= most:
            raise argparse.ArgumentTypeError(
                f"must be from 1 to {most}, the range of n_steps (got {excerpt(value)})"
            )
        return value

    return steps


def _at_most(most: int, what: str):
    def check(text: str) -> int:
        value = positive_int(text)
        if value > most:
            raise argparse.ArgumentTypeError(
                f"must be at most {most:,} {what} (got {excerpt(value)})"
            )
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
            "tcp://127.0.0.1:8786"
        )
    return text.strip()


def out_dir(text: str) -> str:
    """An argparse type: an output folder that can exist (not a file, not in /proc or /sys).

    The checks are :func:`sim.inputs.folders.name_problem`'s; whether the folder can be
    written, and whether a link inside it leads out, is checked by
    :func:`sim.inputs.folders.writable_dir` when a command is about to write, so a
    command that only reads never needs write access.
    """
    why = name_problem(text)
    if why is not None:
        raise argparse.ArgumentTypeError(
            why if why == "give a folder name" else f"{excerpt(text)}: {why}"
        )
    return text


#: The argparse type of each option, by destination name, in every subcommand.
OPTION_TYPES = {
    "replications": _at_most(1_000_000, "replications (the experiment files' bound)"),
    "workers": _at_most(1024, "worker processes"),
    "seed": seed,
    "port": port,
    "out": out_dir,
    "scheduler": scheduler_address,
}


def harden_parser(
    parser: argparse.ArgumentParser, most_steps: Callable[[], int]
) -> argparse.ArgumentParser:
    """Give every subcommand's options their checked types, and one-line usage errors.

    ``most_steps()`` gives the upper bound of ``--steps`` (that of the parameter
    ``n_steps``, which the caller reads when a value is checked: this module sits below
    the parameters).

    Called once by :func:`sim.cli.build_parser`, so the options keep their
    declarations there and the checks live here. A usage error prints one line
    (``nextpractice run: error: argument --steps: must be at least 1 (got 0); see
    nextpractice run --help``) and exits with code 2, before anything is computed.
    """
    parsers = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            parsers += list(action.choices.values())
    types = {**OPTION_TYPES, "steps": steps_upto(most_steps)}
    for p in parsers:
        for action in p._actions:
            if action.dest in types and action.option_strings:
                action.type = types[action.dest]
        p.error = _one_line_error(p)  # type: ignore[method-assign]
    return parser


def _one_line_error(parser: argparse.ArgumentParser):
    def error(message: str):
        parser.exit(2, f"{parser.prog}: error: {message}; see {parser.prog} --help\n")

    return error
