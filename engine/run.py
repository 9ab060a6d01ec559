"""Blocks of paths → dask tasks → one set of integer accumulators.

One task simulates a fixed group of blocks and returns only its integer accumulators; a tree of
additions reduces them. Counts add exactly, so the result does not depend on the number of
workers, the task size or the order in which tasks finish.
"""

from __future__ import annotations

import math
import os

import dask
from dask.delayed import Delayed

from .accumulators import Accumulators
from .rng import block_seeds, plan_blocks
from .schedule import Schedule

MAX_BLOCKS_PER_TASK = 8  # caps the work lost per task and keeps the progress bar moving
TASKS_PER_WORKER = 4  # enough tasks per worker to balance uneven task times
TASK_PREFIX = "simulate-blocks"


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def empty_accumulators(schedule: Schedule) -> Accumulators:
    return Accumulators.zeros(
        len(schedule.regime_names), schedule.calendar.horizon_months, schedule.n_bins
    )


def simulate_blocks(
    schedule: Schedule, seed: int, block_size: int, blocks: list[tuple[int, int]]
) -> Accumulators:
    """Run the kernel over ``blocks`` ((block index, paths used), ...) in this thread."""
    from .kernels.paths import simulate_block

    acc = empty_accumulators(schedule)
    for block, n_paths in blocks:
        seeds = block_seeds(seed, block, block_size, n_paths)
        simulate_block(seeds, *schedule.kernel_inputs, *acc.arrays)
        acc.n_paths += n_paths
    return acc


def compile_kernels(schedule: Schedule) -> None:
    """Compile the path kernel for this schedule's array types (a run of zero paths)."""
    simulate_blocks(schedule, seed=0, block_size=1, blocks=[(0, 0)])


def blocks_per_task(n_blocks: int, workers: int) -> int:
    return max(1, min(MAX_BLOCKS_PER_TASK, math.ceil(n_blocks / (TASKS_PER_WORKER * workers))))


def build_graph(
    schedule: Schedule,
    n_paths: int,
    seed: int,
    block_size: int,
    task_blocks: int,
) -> Delayed:
    """A dask graph whose result is the accumulators of paths 0..n_paths-1."""
    blocks = plan_blocks(n_paths, block_size)
    groups = [blocks[i : i + task_blocks] for i in range(0, len(blocks), task_blocks)]
    shared = dask.delayed(schedule, name="schedule", traverse=False)
    simulate = dask.delayed(simulate_blocks)
    parts = [
        simulate(shared, seed, block_size, group, dask_key_name=f"{TASK_PREFIX}-{i}")
        for i, group in enumerate(groups)
    ]
    return tree_sum(parts)


def tree_sum(parts: list[Delayed]) -> Delayed:
    """Pairwise sum of delayed accumulators (depth log2 of the number of parts)."""
    add = dask.delayed(_add)
    level = 0
    while len(parts) > 1:
        parts = [
            add(*parts[i : i + 2], dask_key_name=f"sum-{level}-{i}") if i + 1 < len(parts)
            else parts[i]
            for i in range(0, len(parts), 2)
        ]  # fmt: skip
        level += 1
    return parts[0]


def _add(a: Accumulators, b: Accumulators) -> Accumulators:
    return a + b


def run_accumulators(
    schedule: Schedule,
    n_paths: int,
    seed: int,
    block_size: int,
    workers: int | None = None,
    task_blocks: int | None = None,
    callbacks: tuple = (),
) -> Accumulators:
    """Simulate ``n_paths`` paths on ``workers`` local threads and return their accumulators."""
    workers = workers or default_workers()
    n_blocks = len(plan_blocks(n_paths, block_size))
    task_blocks = task_blocks or blocks_per_task(n_blocks, workers)
    compile_kernels(schedule)
    graph = build_graph(schedule, n_paths, seed, block_size, task_blocks)
    with dask.config.set(scheduler="threads", num_workers=workers), _callbacks(callbacks):
        (result,) = dask.compute(graph)
    return result


class _callbacks:
    """Register dask local-scheduler callbacks for the duration of a ``with`` block."""

    def __init__(self, callbacks):
        self.callbacks = callbacks

    def __enter__(self):
        for cb in self.callbacks:
            cb.register()

    def __exit__(self, *exc):
        for cb in self.callbacks:
            cb.unregister()
