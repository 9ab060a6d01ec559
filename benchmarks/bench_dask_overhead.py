"""The cost of running through dask: the same blocks through dask's local threads and through
the kernel called directly in plain threads (``concurrent.futures``), in this process, after
compiling once (``overhead_seconds``; ``benchmarks/test_targets.py`` reports the ratio against
the target of 1.10).
"""

from __future__ import annotations

import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor

TARGET = 1.10  # dask wall time / direct wall time


def machine() -> str:
    """Cores, memory and Python of this machine, in one line."""
    cores = len(os.sched_getaffinity(0))
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    return (
        f"{cores} cores, {memory:.0f} GiB, {platform.machine()}, Python {platform.python_version()}"
    )


def overhead_seconds(paths: int, workers: int) -> tuple[float, float, bool]:
    """(seconds in plain threads, seconds through dask, identical counts) for ``paths`` paths
    of the default config on ``workers`` threads, the kernels compiled first."""
    from engine.cluster import LocalBackend
    from engine.config import load_config
    from engine.run import (
        compile_kernels,
        empty_accumulators,
        plan_tasks,
        run_plan,
        simulate_blocks,
    )
    from engine.schedule import build_schedule

    config = load_config()
    sim = config.simulation
    schedule = build_schedule(config)
    compile_kernels(schedule)
    plan = plan_tasks(paths, sim.block_size, workers)

    def direct():
        total = empty_accumulators(schedule)
        with ThreadPoolExecutor(workers) as pool:
            for acc in pool.map(
                lambda blocks: simulate_blocks(schedule, sim.seed, sim.block_size, blocks),
                plan.tasks,
            ):
                total += acc
        return total

    started = time.perf_counter()
    plain = direct()
    plain_seconds = time.perf_counter() - started
    started = time.perf_counter()
    through = run_plan(LocalBackend(workers), schedule, sim.seed, plan)
    dask_seconds = time.perf_counter() - started
    return plain_seconds, dask_seconds, plain.equals(through)
