"""The single place that sets numba's options for the engine's kernels.

Kernels release the GIL (dask threads run them side by side) and keep IEEE semantics
(fastmath off). numba's on-disk cache is opt-in with ``RMP_RISK_NUMBA_CACHE=1``: it is known to
crash when several processes compile at once on shared file systems.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

import numba

CACHE_ENV = "RMP_RISK_NUMBA_CACHE"


def cache_enabled() -> bool:
    return os.environ.get(CACHE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def jit(func=None, refcounted=True, **options):
    """``numba.njit`` with the engine's defaults (nogil, no fastmath, opt-in cache).

    ``refcounted=False`` compiles without numba's reference counting (its ``_nrt`` switch):
    for kernels that allocate nothing. Each reference count change is an atomic instruction,
    a full memory barrier on x86; a kernel that passes its arrays to inlined helpers would
    otherwise make several on every simulated day.
    """
    settings = {"nogil": True, "fastmath": False, "error_model": "numpy", "cache": cache_enabled(),
                **options}  # fmt: skip
    if not refcounted:
        settings["_nrt"] = False
    if func is None:
        return lambda f: numba.njit(**settings)(f)
    return numba.njit(**settings)(func)


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
