"""rmp-risk: Monte Carlo odds of repo-market stress under Reserve Management Purchase regimes.

Public API: ``load_config``, ``simulate``, ``merge_cubes``, ``open_cube``, ``write_cube``,
``__version__``.
Heavy modules (numba, dask, xarray) load on first use, so ``import engine`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module

from ._version import __version__

_LAZY = {
    "load_config": "engine.config",
    "ConfigError": "engine.config",
    "simulate": "engine.pipeline",
    "merge_cubes": "engine.merge",
    "open_cube": "engine.io",
    "write_cube": "engine.io",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
