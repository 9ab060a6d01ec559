"""``rmp-risk cache``: where compiled kernels are kept, whether this environment keeps them, and
``--clear`` to remove them (``engine.kernel_cache``)."""

from __future__ import annotations

import argparse

MB = 1e6


def add_parser(sub) -> None:
    """Register ``cache`` on the ``rmp-risk`` sub-parsers ``sub``."""
    cache = sub.add_parser(
        "cache", help="show the cache of compiled kernels (or clear it with --clear)"
    )
    cache.add_argument(
        "--clear", action="store_true", help="remove every compiled kernel kept in the folder"
    )
    cache.set_defaults(handler=_cache)


def _cache(args: argparse.Namespace) -> int:
    from .kernel_cache import DIR_ENV, ENV, clear, folder_size, key_folders, policy

    rule = policy()
    if args.clear:
        removed = clear(rule.root)
        plural = "s" * (removed != 1)
        print(f"removed {removed} folder{plural} of compiled kernels from {rule.root}")
        return 0
    folders = key_folders(rule.root)
    files = size = 0
    for folder in folders:
        n, b = folder_size(folder)
        files, size = files + n, size + b
    print(f"numba cache {rule.reason}")
    print(f"folder: {rule.root} ({len(folders)} keys, {files} files, {size / MB:.1f} MB)")
    print(f"{ENV}=0|1|auto switches it, {DIR_ENV} moves it; rmp-risk cache --clear empties it")
    return 0
