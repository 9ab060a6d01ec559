"""The single place that sets numba's options for the engine's kernels.

Kernels release the GIL (dask threads run them side by side) and keep IEEE semantics
(fastmath off). Compiled kernels are kept between runs in a per-user disk cache
(``engine.kernel_cache``, attached to each dispatcher): by default only on a local disk and
outside batch jobs, since numba's cache is known to crash when several processes compile at once
on a shared file system; ``RMP_RISK_NUMBA_CACHE=0`` turns it off, ``=1`` on everywhere. With
``RMP_RISK_BARE_MATH=1`` (opt-in, with a warning: it changes every function numba compiles later
in the process, not only the engine's), compiled code calls glibc's exp, log and pow without
their errno wrappers (``bind_bare_math``): the same bits, about 6% faster kernels.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import llvmlite.binding
import numba
from numba.core.registry import cpu_target

from . import kernel_cache

CACHE_ENV = kernel_cache.ENV
BARE_MATH_ENV = "RMP_RISK_BARE_MATH"
# The C math functions the kernels call (math.exp, math.log, float ** float).
KERNEL_MATH_FUNCTIONS = ("exp", "log", "pow")
# glibc's entry of each without the errno wrapper, and its symbol version.
_GLIBC_BARE_NAME = "__{}_finite"
_GLIBC_BARE_VERSION = b"GLIBC_2.15"


@functools.cache
def bind_bare_math() -> dict[str, int]:
    """Bind exp, log and pow in code compiled from now on (in this process) to glibc's entries
    without the errno wrapper. Returns {name: address} of those bound; {} off glibc.

    numba binds each C math function to the address its helper library was linked to: on
    Linux, glibc's oldest entry, a wrapper that inspects every result to set errno. glibc also
    exports the computation alone, ``__exp_finite`` etc. (version GLIBC_2.15, kept for binary
    compatibility): the same code and the same bits, errno untouched (compiled code never reads
    it). The wrappers took 6% of the path kernel's time.
    """
    libc_path, libm_path = ctypes.util.find_library("c"), ctypes.util.find_library("m")
    if libc_path is None or libm_path is None:
        return {}
    dlvsym = getattr(ctypes.CDLL(libc_path), "dlvsym", None)
    if dlvsym is None:  # not glibc
        return {}
    dlvsym.restype = ctypes.c_void_p
    dlvsym.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p)
    libm = ctypes.CDLL(libm_path)
    bare = {}
    for name in KERNEL_MATH_FUNCTIONS:
        address = dlvsym(libm._handle, _GLIBC_BARE_NAME.format(name).encode(), _GLIBC_BARE_VERSION)
        if address:
            bare[name] = address
    # numba binds its own math symbols once, when it first sets up its CPU target: before ours.
    _ = cpu_target.target_context
    for name, address in bare.items():
        llvmlite.binding.add_symbol(name, address)
    return bare


def _switched_on(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def cache_enabled() -> bool:
    """Whether kernels decorated now keep their compiled code on disk (``kernel_cache``)."""
    return kernel_cache.policy().enabled


def bare_math_enabled() -> bool:
    return _switched_on(BARE_MATH_ENV)


@functools.cache
def _bind_bare_math_if_asked() -> None:
    """``bind_bare_math`` once, when ``RMP_RISK_BARE_MATH`` asks for it, with a warning."""
    if not bare_math_enabled():
        return
    bound = bind_bare_math()
    warnings.warn(
        f"{BARE_MATH_ENV}=1: {', '.join(bound) or 'nothing'} rebound to glibc's entries without "
        "errno wrappers for every function numba compiles from now on in this process",
        RuntimeWarning,
        stacklevel=3,
    )


def jit(func=None, refcounted=True, **options):
    """``numba.njit`` with the engine's defaults (nogil, no fastmath, the disk cache where
    ``kernel_cache.policy`` allows it), after ``bind_bare_math`` where ``RMP_RISK_BARE_MATH``
    asks for it.

    ``refcounted=False`` compiles without numba's reference counting (its ``_nrt`` switch):
    for kernels that allocate nothing. Each reference count change is an atomic instruction,
    a full memory barrier on x86; a kernel that passes its arrays to inlined helpers would
    otherwise make several on every simulated day.
    """
    _bind_bare_math_if_asked()
    settings = {
        "nogil": True,
        "fastmath": False,
        "error_model": "numpy",
        **options,
    }
    if not refcounted:
        settings["_nrt"] = False
    rule = kernel_cache.policy()

    def decorate(f):
        dispatcher = numba.njit(**settings)(f)
        kernel_cache.attach(dispatcher, bare_math_enabled(), rule)
        return dispatcher

    return decorate if func is None else decorate(func)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (as it was before, on exit).

    For a first call that compiles the kernels: the compiler makes hundreds of thousands of
    objects, and the collector's passes over them add about 0.6 s to a 4-5 s compilation.
    Reference counting still frees what is not in a cycle.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
