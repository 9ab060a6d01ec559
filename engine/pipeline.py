"""The public entry point: a config in, a cube out."""

from __future__ import annotations

import xarray as xr

from .config import Config
from .cube import build_cube
from .progress import ProgressBar
from .run import TASK_PREFIX, default_workers, run_accumulators
from .schedule import build_schedule


def simulate(
    config: Config,
    paths: int | None = None,
    seed: int | None = None,
    *,
    workers: int | None = None,
    progress: bool = False,
    command: str | None = None,
) -> xr.Dataset:
    """Simulate every active regime of ``config`` on common paths and return the cube.

    Parameters
    ----------
    config : Config
        From ``engine.load_config``.
    paths, seed : int, optional
        Override ``simulation.n_paths`` and ``simulation.seed``.
    workers : int, optional
        Local threads running kernels side by side (default: all cores). Never changes a number.
    progress : bool
        Draw a progress bar on stderr.
    command : str, optional
        The command line, recorded in the cube's ``history``.
    """
    config = config.with_overrides(paths=paths, seed=seed)
    sim = config.simulation
    schedule = build_schedule(config)
    workers = workers or default_workers()
    callbacks = (ProgressBar(TASK_PREFIX, sim.n_paths),) if progress else ()
    acc = run_accumulators(
        schedule, sim.n_paths, sim.seed, sim.block_size, workers=workers, callbacks=callbacks
    )
    run_attrs = {"workers": workers, "scheduler": "threads"}
    if command:
        run_attrs["command"] = command
    return build_cube(acc, config, schedule, run_attrs)
