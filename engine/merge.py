"""Cubes of one config run with different seeds → one cube: counts and histograms add exactly.

Independent seeds give independent paths, so the merged cube is exactly the cube of all their
paths: its counts are the sums, and everything derived from them is recomputed by the same code
that builds a fresh cube (``engine.cube.build_cube``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import xarray as xr

from .config import first_difference, from_json
from .cube import accumulators_from_cube, build_cube
from .errors import InputError
from .schedule import build_schedule

MAY_DIFFER = ("simulation.seed", "simulation.n_paths")


class MergeError(InputError):
    """Cubes that cannot be merged; the message names the cube and the key."""


def cube_seeds(ds: xr.Dataset) -> list[int]:
    """The root seeds of a cube's paths (several for a merged cube)."""
    seeds = ds.attrs.get("merged_seeds", ds.attrs["seed"])
    return [int(s) for s in np.atleast_1d(seeds)]


def _seed_paths(ds: xr.Dataset) -> list[int]:
    """Paths per seed of ``cube_seeds``."""
    paths = ds.attrs.get("merged_n_paths", ds["n_paths"].values[:1])
    return [int(n) for n in np.atleast_1d(paths)]


def merge_cubes(
    cubes: Sequence[xr.Dataset], names: Sequence[str] | None = None, command: str | None = None
) -> xr.Dataset:
    """One cube of all the paths of ``cubes``.

    Parameters
    ----------
    cubes : sequence of xarray.Dataset
        Cubes whose ``config_json`` are identical except ``simulation.seed`` and
        ``simulation.n_paths``, and whose seeds are all different.
    names : sequence of str, optional
        Names of the cubes in error messages and in the ``merged_from`` attribute.
    command : str, optional
        Recorded in the cube's ``history``.

    Returns
    -------
    xarray.Dataset
        Its ``n_paths``, ``*_count`` and ``*_histogram`` are the sums; ``merged_seeds`` and
        ``merged_n_paths`` (attrs) list the seeds and the paths of each.
    """
    if len(cubes) < 2:
        raise MergeError("merge needs at least two cubes")
    names = list(names) if names else [f"cube {i + 1}" for i in range(len(cubes))]
    reference = json.loads(cubes[0].attrs["config_json"])
    owner: dict[int, str] = {}
    for ds, name in zip(cubes, names, strict=True):
        diff = first_difference(reference, json.loads(ds.attrs["config_json"]), MAY_DIFFER)
        if diff:
            key, want, got = diff
            raise MergeError(
                f"{name}: cannot merge with {names[0]}: config key {key} differs "
                f"({names[0]}: {want}, {name}: {got})"
            )
        for seed in cube_seeds(ds):
            if seed in owner:
                raise MergeError(
                    f"{name}: seed {seed} is also the seed of {owner[seed]}: "
                    "its paths would be counted twice"
                )
            owner[seed] = name
    parts = [accumulators_from_cube(ds) for ds in cubes]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    config = from_json(cubes[0].attrs["config_json"]).with_overrides(paths=total.n_paths)
    cube = build_cube(
        total, config, build_schedule(config), {"command": command or "engine.merge_cubes"}
    )
    cube.attrs.update(
        merged_seeds=np.array(list(owner), dtype=np.int64),
        merged_n_paths=np.array([n for ds in cubes for n in _seed_paths(ds)], dtype=np.int64),
        merged_from=", ".join(names),
    )
    return cube
