"""The single place that sets numba's options for the engine's kernels.

Kernels release the GIL (dask threads run them side by side) and keep IEEE semantics
(fastmath off). numba's on-disk cache is opt-in with ``RMP_RISK_NUMBA_CACHE=1``: it is known to
crash when several processes compile at once on shared file systems.
"""

from __future__ import annotations

import os

import numba

CACHE_ENV = "RMP_RISK_NUMBA_CACHE"


def cache_enabled() -> bool:
    return os.environ.get(CACHE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def jit(func=None, **options):
    """``numba.njit`` with the engine's defaults (nogil, no fastmath, opt-in cache)."""
    settings = {"nogil": True, "fastmath": False, "error_model": "numpy", "cache": cache_enabled(),
                **options}  # fmt: skip
    if func is None:
        return lambda f: numba.njit(**settings)(f)
    return numba.njit(**settings)(func)
