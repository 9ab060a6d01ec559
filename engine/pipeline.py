"""The public entry point: a config in, a cube out (optionally through a resumable Zarr store)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import xarray as xr

from .accumulators import Accumulators
from .cluster import Backend, open_backend
from .config import Config
from .cube import build_cube
from .progress import Progress
from .recorder import Recorder
from .run import TaskPlan, empty_accumulators, plan_tasks, run_plan
from .schedule import Schedule, build_schedule
from .store import RunStore, check_new_store, run_identity


def simulate(
    config: Config,
    paths: int | None = None,
    seed: int | None = None,
    *,
    workers: int | None = None,
    processes: bool = False,
    scheduler: Any = None,
    cluster: str | Path | None = None,
    jobs: int | None = None,
    task_blocks: int | None = None,
    store: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = False,
    command: str | None = None,
    on_start: Callable[[tuple[str, ...]], None] | None = None,
) -> xr.Dataset:
    """Simulate every active regime of ``config`` on common paths and return the cube.

    No option below changes a number: the cube depends only on the config (seed, paths and block
    size included).

    Parameters
    ----------
    config : Config
        From ``engine.load_config``.
    paths, seed : int, optional
        Override ``simulation.n_paths`` and ``simulation.seed``.
    workers : int, optional
        Local workers (default: all cores): threads, or processes if ``processes``.
    scheduler : str or distributed.Client, optional
        A running dask scheduler's address, or a client (see ``engine.cluster.open_backend``).
    cluster, jobs : optional
        A dask-jobqueue cluster file and the number of batch jobs to ask for.
    task_blocks : int, optional
        Blocks per task (default: sized to the workers).
    store : path, optional
        A ``.zarr`` directory that keeps every finished task, then the cube. An existing store is
        refused unless ``resume`` (continue it: only missing tasks run) or ``overwrite``.
    progress : bool
        Draw a progress bar on stderr.
    command : str, optional
        The command line, recorded in the cube's ``history``.
    on_start : callable, optional
        Called once the inputs, the store and the backend have been checked, before any path
        runs, with what the user should know (e.g. damaged store entries dropped), one line each.
    """
    config = config.with_overrides(paths=paths, seed=seed)
    sim = config.simulation
    schedule = build_schedule(config)
    empty = empty_accumulators(schedule)
    run_store = None
    if store is not None:
        store = Path(store)
        if store.exists() and resume:
            run_store = RunStore.open(store, _expected(config, task_blocks), empty)
        else:
            check_new_store(store, overwrite)  # before any worker starts
    run_attrs: dict[str, Any] = {}
    if run_store is not None:
        run_attrs["resumed_tasks"] = int(run_store.done.sum())
    notes = tuple(run_store.dropped) if run_store is not None else ()

    def announce() -> None:
        if on_start is not None:
            on_start(notes)

    if run_store is not None and run_store.done.all():
        announce()
        acc = run_store.total  # nothing left to simulate: no workers needed
    else:
        with open_backend(workers, processes, scheduler, cluster, jobs) as backend:
            announce()
            if run_store is not None:
                plan = run_store.plan  # fixed when the store was made
            else:
                plan = plan_tasks(sim.n_paths, sim.block_size, backend.workers, task_blocks)
            if store is not None and run_store is None:
                run_store = RunStore.create(store, run_identity(config, plan), empty, overwrite)
            acc = _run(backend, schedule, sim.seed, plan, run_store, progress)
            run_attrs.update(backend.describe(), tasks=plan.n_tasks, task_blocks=plan.task_blocks)
    if command:
        run_attrs["command"] = command
    cube = build_cube(acc, config, schedule, run_attrs)
    if run_store is not None:
        run_store.finish(cube)
    return cube


def _expected(config: Config, task_blocks: int | None) -> dict[str, Any]:
    sim = config.simulation
    expected = {
        "config_sha256": config.sha256,
        "config_json": config.to_json(),
        "seed": sim.seed,
        "n_paths": sim.n_paths,
        "block_size": sim.block_size,
    }
    if task_blocks is not None:
        expected["task_blocks"] = task_blocks
    return expected


def _run(
    backend: Backend,
    schedule: Schedule,
    seed: int,
    plan: TaskPlan,
    run_store: RunStore | None,
    progress: bool,
) -> Accumulators:
    """Run the plan's tasks not yet in ``run_store``; every finished task is recorded there as
    it arrives. Returns the accumulators of every task."""
    if run_store is None:
        todo: Sequence[int] = range(plan.n_tasks)
        before = empty_accumulators(schedule)
    else:
        todo = [int(i) for i in (~run_store.done).nonzero()[0]]
        before = copy.deepcopy(run_store.total)
    bar = Progress(plan.n_paths, done=before.n_paths, status=backend.status) if progress else None
    recorder = Recorder(run_store) if run_store is not None else None

    def on_done(task: int, result: Accumulators | None) -> None:
        if recorder is not None:
            recorder.put(task, result)
        if bar is not None:
            bar.advance(plan.paths(task))

    on_wait = bar.draw if bar is not None else None  # keeps the bar (and the jobs) up to date
    with bar or nullcontext(), recorder or nullcontext():
        total = run_plan(
            backend, schedule, seed, plan, todo, on_done, recorder is not None, on_wait=on_wait
        )
    if run_store is None:
        return total
    if not run_store.total.equals(before + total):
        raise RuntimeError(f"{run_store.path}: the recorded tasks do not add up to the run's sum")
    return run_store.total
