"""How kernels are compiled: numba, cached on disk, never stale.

Every compiled loop in the package is decorated with :func:`jit`. numba keeps
compiled code in ``__pycache__`` beside each module and recompiles a kernel
when *its own* file changes, but not when something it calls or reads from
another file does (a helper such as :func:`sim.numerics.sum_in_numpy_order`,
a constant of :mod:`sim.state`): after such an edit it would load the old
code and give the old answers. So on import this module fingerprints every
file of the package that defines a kernel, with :mod:`sim.state` and
:mod:`sim.numerics`, and when the fingerprint has changed it deletes the
package's compiled code; the next run compiles afresh (5 to 10 s). Rule for
kernels: call only other kernels, and read only your own module's globals
and :mod:`sim.state`'s constants.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numba

PACKAGE = Path(__file__).resolve().parent
_ALWAYS = ("_jit.py", "numerics.py", "state.py")


def kernel_sources_digest(root: Path = PACKAGE) -> str:
    """Fingerprint of the files whose change must invalidate compiled kernels."""
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        text = f.read_bytes()
        if f.name in _ALWAYS or b"@jit" in text:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + text + b"\0")
    return h.hexdigest()


def drop_stale_kernels(root: Path = PACKAGE) -> bool:
    """Delete the compiled code under ``root`` if the kernel sources changed since.

    Returns whether anything was deleted. On a read-only install nothing is
    written and nothing is deleted (numba then caches per user, and such an
    install is not edited).
    """
    stamp = root / "__pycache__" / "kernels.sha256"
    digest = kernel_sources_digest(root)
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    stale = [f for pattern in ("*.nbi", "*.nbc") for f in root.rglob(f"__pycache__/{pattern}")]
    try:
        for f in stale:
            f.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        return False
    return bool(stale)


def jit(fn: Callable | None = None, **options) -> Callable:
    """``numba.njit`` with the package's settings: cached on disk, releasing the GIL.

    Use as ``@jit`` or with numba options, ``@jit(inline="always")``.
    """
    decorate = numba.njit(cache=True, nogil=True, **options)
    return decorate if fn is None else decorate(fn)


drop_stale_kernels()
