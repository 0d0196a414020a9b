"""How kernels are compiled: numba, cached on disk, never stale.

Every compiled loop in the package is decorated with :func:`jit`. numba keeps
compiled code in ``__pycache__`` beside each module and recompiles a kernel
when *its own* file changes, but not when something it calls or reads from
another file does (a helper such as :func:`sim.core.numerics.sum_in_numpy_order`,
a constant of :mod:`sim.core.state`): after such an edit it would load the old
code and give the old answers. So on import this module fingerprints every
file of the package that defines a kernel, with :mod:`sim.core.state` and
:mod:`sim.core.numerics`, and when the fingerprint has changed it deletes the
package's compiled code; the next run compiles afresh (5 to 10 s). Rule for
kernels: call only other kernels, and read only your own module's globals
and :mod:`sim.core.state`'s constants. A kernel that draws is handed its slot's
stream as :class:`KernelRng` (a rule's ``self.kernel_rng``), a numpy generator in
a form numba takes cheaply. A kernel with many inputs takes them as one
``NamedTuple`` and reads its fields by name (``x.school``): numba types the
bundle from its class on each call, in about the time it took to turn it into a
plain tuple first (measured: 6.9 us against 8.5 us a call for ``JudgeInputs``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
from numba.core import cgutils, types
from numba.core.extending import box, register_model, unbox
from numba.core.pythonapi import NativeValue
from numba.np.random.generator_core import NumPyRandomGeneratorTypeModel, _bit_gen_type

PACKAGE = Path(__file__).resolve().parent.parent  # the sim package
_ALWAYS = ("jit.py", "numerics.py", "state.py")


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


class KernelRng:
    """A numpy ``Generator`` as compiled code takes it, handed over in a fraction of the time.

    Kernels draw from the model's generator (the same stream numpy would
    draw), and numba can take a ``Generator`` itself; but on every call it
    then looks up the bit generator's C function pointers again through
    ``ctypes.cast`` and builds a fresh numba type for it, about 7 us a call,
    which at a dozen kernel calls a step is a tenth of a 1,000-school step.
    This handle keeps the address of the bit generator's C interface (numpy's
    ``bitgen_t``: the state, then its ``next_uint64``, ``next_uint32`` and
    ``next_double`` functions), from which compiled code reads all four; a
    kernel given it draws exactly what it would draw given the generator,
    from the same state (``tests/test_kernels.py`` checks), and a call costs
    about 0.5 us more than one without it (numba types the handle through
    ``_numba_type_``; unboxing it is one attribute read). Use ``model.kernel_rng`` rather
    than making one: it follows the model's generator. A copy or pickle is a
    handle on the copied generator.
    """

    __slots__ = ("generator", "bitgen_address")

    def __init__(self, generator: np.random.Generator):
        # The ctypes view, and the bitgen_t it points at, live as long as the bit generator.
        self.generator = generator
        self.bitgen_address = int(generator.bit_generator.ctypes.bit_generator.value)

    def __reduce__(self):
        return KernelRng, (self.generator,)

    def __getattr__(self, name: str):
        """The generator's methods, for kernels run as Python (``NUMBA_DISABLE_JIT=1``)."""
        if name in KernelRng.__slots__:  # not set yet: no generator to ask
            raise AttributeError(name)
        if name in _EARLIER_FIELDS:
            raise AttributeError(
                f"KernelRng has no {name!r}: a kernel compiled against an earlier version of "
                "it is cached on disk; delete the __pycache__ beside that kernel's module"
            )
        return getattr(self.generator, name)


#: What the handle kept before it kept ``bitgen_address`` (read by kernels cached then).
_EARLIER_FIELDS = (
    "state_address",
    "state",
    "fnptr_next_double",
    "fnptr_next_uint64",
    "fnptr_next_uint32",
)


class KernelRngType(types.NumPyRandomGeneratorType):
    """numba's type for :class:`KernelRng`: a ``Generator`` in compiled code (all its methods)."""

    def __init__(self):
        super().__init__("KernelRng")
        self.name = "KernelRng"


kernel_rng_type = KernelRngType()
register_model(KernelRngType)(NumPyRandomGeneratorTypeModel)
# numba's dispatcher reads ``_numba_type_`` in C and caches the type it names, so a
# handle's type is found without a Python call (1.2 us a kernel call, not 2.9).
KernelRng._numba_type_ = kernel_rng_type


@unbox(KernelRngType)
def _unbox_kernel_rng(typ, obj, c):
    """The ``Generator`` numba's own unboxing builds, read from the handle's ``bitgen_t``.

    One attribute read; the state pointer and the three function pointers are
    loaded from the struct, in ``bitgen_t``'s order. The meminfo is left null:
    the caller's handle keeps the generator alive through the call, and no
    kernel keeps or returns it.
    """
    builder = c.builder
    uintp = c.context.get_value_type(types.uintp)
    gen = cgutils.create_struct_proxy(typ)(c.context, builder)
    bits = cgutils.create_struct_proxy(_bit_gen_type)(c.context, builder)
    bits.parent = obj
    for field in (
        "state_address",
        "state",
        "fnptr_next_uint64",
        "fnptr_next_uint32",
        "fnptr_next_double",
        "bit_generator",
    ):
        setattr(bits, field, uintp(0))
    failed = cgutils.alloca_once_value(builder, cgutils.true_bit)
    value = c.pyapi.object_getattr_string(obj, "bitgen_address")
    with cgutils.if_likely(builder, cgutils.is_not_null(builder, value)):
        address = c.unbox(types.uintp, value)
        c.pyapi.decref(value)
        with cgutils.if_likely(builder, builder.not_(address.is_error)):
            fields = builder.inttoptr(address.value, uintp.as_pointer())
            state = builder.load(cgutils.gep(builder, fields, 0))
            bits.state_address = state  # numpy's ctypes view gives the state's address twice
            bits.state = state
            bits.fnptr_next_uint64 = builder.load(cgutils.gep(builder, fields, 1))
            bits.fnptr_next_uint32 = builder.load(cgutils.gep(builder, fields, 2))
            bits.fnptr_next_double = builder.load(cgutils.gep(builder, fields, 3))
            builder.store(cgutils.false_bit, failed)
    gen.bit_generator = bits._getvalue()
    gen.meminfo = cgutils.get_null_value(
        c.context.get_value_type(types.MemInfoPointer(types.voidptr))
    )
    gen.parent = obj
    return NativeValue(gen._getvalue(), is_error=builder.load(failed))


@box(KernelRngType)
def _box_kernel_rng(typ, val, c):
    gen = c.context.make_helper(c.builder, typ, val)
    c.pyapi.incref(gen.parent)
    c.context.nrt.decref(c.builder, typ, val)
    return gen.parent


drop_stale_kernels()
