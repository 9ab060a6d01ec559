"""``rmp-risk sweep``: one cube over a grid of constant monthly paces, on common random numbers.

The paces are regimes of one run (one pass of the kernel: every pace sees every path's
shocks), so the cube has every variable of a run's cube with the dimension ``pace`` ($bn/month)
in place of ``regime``, and its joint counts pair any two paces path by path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..config import Config
from ..products import PACE_UNITS, PACE_WORDS, PRODUCT_ATTR, SWEEP
from .odds import check_within, event_index
from .paces import with_paces
from .variants import variants


def sweep(
    config: Config,
    paces,
    regime: str | None = None,
    *,
    paths: int | None = None,
    seed: int | None = None,
    progress: bool = False,
    command: str | None = None,
    **backend: Any,
) -> xr.Dataset:
    """The sweep cube of ``config`` at ``paces`` ($bn/month, float (P,)): each pace a regime
    that buys it every month (``regime``: with that regime's rules, see ``pace_regime``).
    ``backend``: the options of ``engine.pipeline.simulate`` (workers, scheduler, ...)."""
    paces = np.asarray(paces, dtype=float)
    swept = with_paces(config, paces, regime)
    with variants(swept, paths, seed, progress=progress, **backend) as runner:
        cube = runner.cube(swept, command)
    return as_sweep(cube, paces, regime)


def as_sweep(cube: xr.Dataset, paces: np.ndarray, regime: str | None) -> xr.Dataset:
    """A run's cube whose regimes are ``paces`` → the sweep cube (dimension ``pace``)."""
    ds = cube.drop_vars("weight").rename(regime="pace", other_regime="other_pace")
    ds = ds.assign_coords(pace=("pace", paces), other_pace=("other_pace", paces))
    for name in ("pace", "other_pace"):
        ds[name].attrs.update(units=PACE_UNITS, long_name=f"constant RMP pace, {PACE_WORDS}")
    ds["other_pace"].attrs["long_name"] = f"constant RMP pace (second of a pair), {PACE_WORDS}"
    ds.attrs.update({PRODUCT_ATTR: SWEEP, "sweep_regime": regime or ""})
    return ds


def paired_difference(
    ds: xr.Dataset, pace_a: float, pace_b: float, event: str, within: int | None = None
) -> tuple[float, float]:
    """P_a − P_b of at least one ``event`` day within ``within`` months (default: the horizon)
    between two paces of a sweep cube, and its standard error from the paired counts: with
    n10 paths that have the event only at ``pace_a`` and n01 only at ``pace_b``,
    Var = ((n10 + n01)/n − (P_a − P_b)²) / n."""
    month = check_within(within, ds.sizes["time"]) - 1
    event_index(event)
    n = int(ds.n_paths.values[0])
    joint = ds.joint_cumulative_count.sel(event=event).isel(time=month)
    both = int(joint.sel(pace=pace_a, other_pace=pace_b))
    count_a = int(joint.sel(pace=pace_a, other_pace=pace_a))
    count_b = int(joint.sel(pace=pace_b, other_pace=pace_b))
    only_a, only_b = count_a - both, count_b - both
    diff = (count_a - count_b) / n
    variance = max(0.0, (only_a + only_b) / n - diff * diff) / n
    return diff, float(np.sqrt(variance))
