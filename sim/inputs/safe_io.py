"""Reading user files safely: one YAML reader for scenarios and experiments.

A scenario or experiment file is written by hand, copied between machines and
sometimes is not what its name says. Every way a file can be wrong is turned
into a :class:`~sim.core.errors.UserError` of one line that names the file, what is
wrong and the fix, before anything is computed:

* not a regular file (a directory, a device, a FIFO that would block), a
  symlink loop, a name too long for the file system, no permission;
* larger than :data:`MAX_BYTES` (a file of scenario values is a few kB; the cap
  keeps a runaway file from taking minutes and printing megabytes);
* not UTF-8 text (UTF-16, Latin-1 bytes, binary): "save it as UTF-8";
* YAML that means something else than it looks (YAML 1.1 surprises): the reader
  resolves plain scalars by the YAML 1.2 core schema, so ``yes``/``on``/``no``
  are strings, not booleans, and it refuses ``050`` (octal in YAML 1.1, decimal
  in 1.2) and ``1:20`` (base 60 in YAML 1.1, i.e. 80) as ambiguous;
* duplicate keys (YAML says the last silently wins), naming the key and line;
* aliases (``*name``): refused, so a few hundred bytes cannot expand into
  gigabytes (the "billion laughs"); anchors alone are harmless and kept;
* nesting deeper than :data:`MAX_DEPTH`.

Error messages quote a value only as a short :func:`excerpt`, never whole.
The source of the YAML 1.1 and 1.2 differences is the YAML 1.2.2 specification,
section 10.3 (core schema) and its list of changes from 1.1.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode

from sim.core.errors import UserError

#: Largest scenario or experiment file read (bytes). The shipped ones are under 3 kB.
MAX_BYTES = 1_000_000
#: Deepest nesting of mappings and lists (a scenario needs 2, an experiment 5).
MAX_DEPTH = 20
#: Most digits of an integer read (Python refuses to convert more than 4300).
MAX_DIGITS = 100
#: Longest excerpt of a value quoted in an error message (characters).
EXCERPT = 80


def excerpt(value: Any, limit: int = EXCERPT) -> str:
    """A value's ``repr``, cut to ``limit`` characters, for error messages.

    A bad value can be megabytes long (or an expanded alias); a message quotes
    only its start, so it stays one readable line.
    """
    try:
        text = repr(value)
    except Exception:  # a value whose repr fails is still reported
        text = f"<{type(value).__name__}>"
    text = text.replace("\n", "\\n")
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


# ------------------------------------------------------------------------- the loader

_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_OCT_OR_HEX = re.compile(r"^(0o[0-7]+|0x[0-9a-fA-F]+)$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")
_FLOAT = re.compile(
    r"^([-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$"
)
_BOOL = re.compile(r"^(true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(~|null|Null|NULL|)$")

_AMBIGUOUS = "tag:nextpractice:ambiguous"


class StrictLoader(yaml.SafeLoader):
    """A SafeLoader with the YAML 1.2 core schema, no aliases, no duplicate keys.

    It builds only plain data (mappings, lists, strings, numbers, booleans,
    null). The implicit resolvers are replaced, so a bare word is a boolean only
    when it is ``true`` or ``false``; numbers that YAML 1.1 and 1.2 read
    differently are refused with the line and how to write them.
    """

    yaml_implicit_resolvers: dict = {}  # filled below, replacing SafeLoader's YAML 1.1 table

    def __init__(self, stream: str) -> None:
        """Start reading ``stream``; the nesting depth starts at 0."""
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose one node: refuse aliases and nesting deeper than MAX_DEPTH."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(
                event.start_mark,
                f"alias *{event.anchor} is not allowed (aliases "
                "can expand without bound); write the value out in full",
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    self.peek_event().start_mark,
                    f"nested more than {MAX_DEPTH} levels deep; a scenario or "
                    "experiment needs only a few levels",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        """Build a mapping; refuse a key given twice (YAML would keep the last silently)."""
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise _Refused(
                    key_node.start_mark, "a key must be a name or number, not a list or mapping"
                ) from None
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _Refused(
                    key_node.start_mark,
                    f"key {excerpt(key)} is given twice (lines {seen[key]} and {line}); keep one",
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_ambiguous(self, node: Any) -> Any:
        """Refuse a plain number YAML 1.1 and YAML 1.2 read differently."""
        text = str(node.value)
        if _SEXAGESIMAL.match(text):
            why = (
                f"{text} is a base-60 number in YAML 1.1 (read as {_sexagesimal(text)}); "
                "write the number you mean, or quote it if it is text"
            )
        else:
            why = (
                f"{text} has a leading zero (an octal number in YAML 1.1, decimal in "
                f"YAML 1.2); write {text.lstrip('0') or '0'} for decimal, or quote it"
            )
        raise _Refused(node.start_mark, why)

    def construct_yaml_int(self, node: Any) -> int:
        """An integer: decimal, ``0o`` octal or ``0x`` hexadecimal (YAML 1.2 core)."""
        text = str(self.construct_scalar(node)).replace("_", "")
        if len(text) > MAX_DIGITS:
            raise _Refused(
                node.start_mark,
                f"a number of {len(text)} digits; no value of ours needs more than {MAX_DIGITS}",
            )
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)


class _Refused(yaml.MarkedYAMLError):
    """A YAML construct this reader refuses, at a place in the file."""

    def __init__(self, mark: Any, problem: str) -> None:
        super().__init__(problem=problem, problem_mark=mark)


def _sexagesimal(text: str) -> str:
    sign = -1 if text.startswith("-") else 1
    value = 0.0
    for part in text.lstrip("+-").split(":"):
        value = value * 60 + float(part.replace("_", "") or 0)
    value *= sign
    return str(int(value)) if value.is_integer() else str(value)


def _resolver(tag: str, pattern: re.Pattern, first: str) -> None:
    StrictLoader.add_implicit_resolver(tag, pattern, list(first) if first else [None])


StrictLoader.yaml_implicit_resolvers = {}
_resolver("tag:yaml.org,2002:bool", _BOOL, "tTfF")
_resolver("tag:yaml.org,2002:null", _NULL, "~nN")
StrictLoader.add_implicit_resolver("tag:yaml.org,2002:null", _NULL, [""])
_resolver(_AMBIGUOUS, _SEXAGESIMAL, "-+0123456789")
_resolver(_AMBIGUOUS, _LEADING_ZERO, "-+0")
_resolver("tag:yaml.org,2002:int", _OCT_OR_HEX, "0")
_resolver("tag:yaml.org,2002:int", _INT, "-+0123456789")
_resolver("tag:yaml.org,2002:float", _FLOAT, "-+.0123456789")
# Explicit tags that build anything but plain data (timestamps, sets, binary, pairs)
# are not needed by any file of ours: refuse them rather than guess.
StrictLoader.yaml_constructors = dict(StrictLoader.yaml_constructors)  # our own copy
for _tag in ("timestamp", "set", "binary", "omap", "pairs", "merge", "value"):
    StrictLoader.yaml_constructors.pop(f"tag:yaml.org,2002:{_tag}", None)
StrictLoader.add_constructor(_AMBIGUOUS, StrictLoader.construct_ambiguous)
StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)


def loads(text: str, where: str) -> Any:
    """Parse YAML text with :class:`StrictLoader`; a problem is a one-line UserError.

    Args:
        text: The YAML text.
        where: Where it came from (a file name, or ``--set key``), for the message.

    Raises:
        UserError: ``where:line:column: what is wrong``.
    """
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader builds plain data only
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = " ".join(str(exc.problem or exc.context or "bad YAML").split())
        if not isinstance(exc, _Refused) and not problem.startswith("could not determine"):
            problem = f"not valid YAML ({excerpt(problem, 200)})"
        raise UserError(f"{where}:{at} {_yaml_problem(problem)}") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{where}: not valid YAML ({excerpt(str(exc), 200)})") from None
    except RecursionError:
        raise UserError(f"{where}: nested too deeply; a scenario needs only a few levels") from None


def _yaml_problem(problem: str) -> str:
    if problem.startswith("could not determine a constructor for the tag"):
        tag = problem.rsplit(" ", 1)[-1].strip("'\"")
        return f"the tag {excerpt(tag, 60)} is not allowed; write plain values"
    return problem


# ------------------------------------------------------------------------- the file


def check_input_file(path: Path, what: str, ext: str = ".yaml") -> os.stat_result:
    """Refuse a path that is not a readable regular file, before opening it.

    Checking first means a FIFO or a device never blocks the reader, and a
    directory, a symlink loop or a name too long each get their own message.

    Args:
        path: The file named by the user.
        what: ``"scenario"``, ``"experiment"``, ``"calibration"`` or ``"series"``, for
            the message.
        ext: the file's usual extension, for the message.

    Returns:
        The file's ``stat``.

    Raises:
        UserError: with the file, what is wrong and the fix.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UserError(f"{path}: no such {what} file; check the name and folder") from None
    except OSError as exc:
        raise UserError(f"{_short_path(path)}: {_os_problem(exc)}") from None
    except ValueError:  # e.g. a NUL byte in the name
        raise UserError(f"{excerpt(str(path))}: not a usable file name") from None
    if stat.S_ISDIR(st.st_mode):
        raise UserError(f"{path}: is a directory; give a {what} file ({ext}) in it")
    if not stat.S_ISREG(st.st_mode):
        raise UserError(
            f"{path}: is not a regular file (a device, FIFO or socket); give a {what} file ({ext})"
        )
    if st.st_size > MAX_BYTES:
        raise UserError(
            f"{path}: {st.st_size:,} bytes; a {what} file may be at most "
            f"{MAX_BYTES:,} bytes (they are a few kB): is this the right file?"
        )
    return st


def _short_path(path: Any) -> str:
    text = str(path)
    return text if len(text) <= 200 else text[:120] + "..." + text[-60:]


def _os_problem(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop; point the link at a real file"
    if exc.errno == errno.ENAMETOOLONG:
        return "the name is too long for the file system; use a shorter name"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "no permission to read it"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    return f"cannot read it ({exc.strerror or exc})"


def read_text(path: Path, what: str, ext: str = ".yaml") -> str:
    """Read a user's file as UTF-8 text, after :func:`check_input_file`.

    The file is opened without blocking (a FIFO put in place after the check does not
    hang the reader) and at most :data:`MAX_BYTES` + 1 bytes are read.

    Raises:
        UserError: not a file, too large, unreadable, or not UTF-8 (with the fix).
    """
    check_input_file(path, what, ext)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise UserError(f"{path}: is not a regular file; give a {what} file ({ext})")
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UserError(f"{_short_path(path)}: {_os_problem(exc)}") from None
    if len(data) > MAX_BYTES:
        raise UserError(
            f"{path}: more than {MAX_BYTES:,} bytes; a {what} file is a few kB: "
            "is this the right file?"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (b"\x00" in data[:4096]):
        raise UserError(f"{path}: looks like UTF-16 or binary, not text; save it as UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{path}: line {line}: byte 0x{data[exc.start]:02x} is not UTF-8 "
            "(Latin-1 or another encoding?); save it as UTF-8"
        ) from None
    return text


def read_yaml_file(path: str | Path, what: str) -> Any:
    """Read a user's YAML file safely: every check of this module, one line per problem."""
    path = Path(path)
    return loads(read_text(path, what), str(path))


def read_parquet(path: str | Path, what: str, fix: str, columns: list[str] | None = None):
    """A Parquet table the project wrote (a pandas DataFrame), or one line naming the file.

    Args:
        path: the file.
        what: what it should be, for the message ("the design table a sweep writes").
        fix: how to mend it, for the message ("run the same command again").
        columns: read only these.

    Raises:
        UserError: ``path`` is missing, not a regular file (a FIFO, a device, a folder),
            or damaged (not Parquet, cut short, other columns).
    """
    import pandas as pd  # here: reading YAML, the rest of this module, needs no pandas

    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UserError(f"{path}: missing; {fix}") from None
    except (OSError, ValueError) as exc:
        why = _os_problem(exc) if isinstance(exc, OSError) else "not a usable file name"
        raise UserError(f"{_short_path(path)}: {why}") from None
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block the reader, a device never ends
        raise UserError(f"{path}: not a regular file, so not {what}; {fix}")
    try:
        return pd.read_parquet(path, columns=columns)
    except FileNotFoundError:
        raise UserError(f"{path}: missing; {fix}") from None
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise UserError(f"{path}: damaged, not {what} ({type(exc).__name__}); {fix}") from None
