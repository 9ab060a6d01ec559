"""Blocks of paths → a plan of tasks → one set of integer accumulators.

One task simulates a fixed group of blocks and returns only its integer accumulators; a tree of
additions (``tree_sum``) reduces them. Counts add exactly, so the result does not depend on the
number of workers, the task size, the scheduler or the order in which tasks finish. Where the
tasks run is the business of a backend (``engine.cluster``).
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .accumulators import Accumulators
from .rng import block_seeds, plan_blocks
from .schedule import Schedule

if TYPE_CHECKING:
    from dask.delayed import Delayed

MAX_BLOCKS_PER_TASK = 8  # caps the work lost per task and keeps the progress bar moving
TASKS_PER_WORKER = 64  # enough tasks per worker that the last ones leave a core idle briefly
TASK_PREFIX = "simulate-blocks"

Blocks = tuple[tuple[int, int], ...]  # ((block index, paths used), ...)
OnDone = Callable[[int, Accumulators | None], None]


class Backend(Protocol):
    """Where the tasks of a plan run (implementations in ``engine.cluster``)."""

    workers: int  # parallel workers (threads) the task plan is sized for
    in_process: bool  # kernels run in this process's threads

    def describe(self) -> dict[str, Any]: ...

    def status(self) -> str | None:
        """What the workers are doing, when it is worth showing (e.g. batch jobs pending)."""
        ...

    def reduce(
        self,
        parts: Sequence[Delayed],
        index: Mapping[str, int],
        on_done: OnDone,
        with_results: bool,
        on_wait: Callable[[], None] | None = None,
    ) -> Accumulators: ...


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def empty_accumulators(schedule: Schedule) -> Accumulators:
    return Accumulators.zeros(
        len(schedule.regime_names),
        schedule.calendar.horizon_months,
        schedule.n_bins,
        conditional=schedule.conditional,
    )


def simulate_blocks(
    schedule: Schedule, seed: int, block_size: int, blocks: Sequence[tuple[int, int]]
) -> Accumulators:
    """Run the kernel over ``blocks`` ((block index, paths used), ...) in this thread, in one
    call: the blocks' seeds in a row (a path's stream depends on its block, not on its call)."""
    from .kernels.paths import simulate_block

    acc = empty_accumulators(schedule)
    seeds = [block_seeds(seed, block, block_size, n_paths) for block, n_paths in blocks]
    if seeds:
        simulate_block(np.concatenate(seeds), *schedule.kernel_inputs, *acc.arrays)
    acc.n_paths = sum(n_paths for _, n_paths in blocks)
    return acc


def compile_kernels(schedule: Schedule) -> None:
    """Compile the path kernel for this schedule's array types (a run of zero paths)."""
    from .accelerate import collector_paused

    with collector_paused():
        simulate_blocks(schedule, seed=0, block_size=1, blocks=[(0, 0)])


def blocks_per_task(n_blocks: int, workers: int) -> int:
    return max(1, min(MAX_BLOCKS_PER_TASK, math.ceil(n_blocks / (TASKS_PER_WORKER * workers))))


@dataclass(frozen=True)
class TaskPlan:
    """Paths 0..n_paths-1 cut into blocks of ``block_size`` paths and tasks of ``task_blocks``
    consecutive blocks. Task ``i`` always covers the same paths, whoever runs it."""

    n_paths: int
    block_size: int
    task_blocks: int

    @cached_property
    def tasks(self) -> tuple[Blocks, ...]:
        blocks = plan_blocks(self.n_paths, self.block_size)
        step = self.task_blocks
        return tuple(tuple(blocks[i : i + step]) for i in range(0, len(blocks), step))

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    def paths(self, task: int) -> int:
        """Paths simulated by ``task``."""
        return sum(n for _, n in self.tasks[task])


def plan_tasks(
    n_paths: int, block_size: int, workers: int, task_blocks: int | None = None
) -> TaskPlan:
    """A plan with ``task_blocks`` blocks per task (default: about TASKS_PER_WORKER tasks per
    worker, at most MAX_BLOCKS_PER_TASK blocks each). The plan never changes a number."""
    if task_blocks is None:
        task_blocks = blocks_per_task(len(plan_blocks(n_paths, block_size)), max(1, workers))
    if task_blocks < 1:
        raise ValueError(f"task_blocks must be >= 1, got {task_blocks}")
    return TaskPlan(n_paths, block_size, task_blocks)


def tree_sum(
    parts: Sequence[Any],
    add: Callable[[Any, Any], Any],
    lanes: int,
    add_into: Callable[[Any, Any], Any] | None = None,
) -> Any:
    """A tree of additions over ``parts`` whose memory does not grow with their number.

    Each of ``lanes`` running sums folds in every ``lanes``-th part (in plan order, so as parts
    finish), then a pairwise tree joins the lanes. Evaluated in order, about ``lanes`` partial
    sums are alive at any time, where a balanced binary tree would hold one per level
    (log2 of the number of parts). Integer counts add exactly, so the shape changes no number.
    ``add_into(total, part)``, where given, adds ``part`` into a running sum that an earlier
    ``add`` made (never into a part itself) and returns it: no new partial sum per part.
    """
    heads: list[Any] = []
    owned: list[bool] = []  # whether heads[i] is a sum made here (add_into may change it)
    for i, part in enumerate(parts):
        lane = i % lanes
        if i < lanes:
            heads.append(part)
            owned.append(False)
        elif add_into is not None and owned[lane]:
            heads[lane] = add_into(heads[lane], part)
        else:
            heads[lane] = add(heads[lane], part)
            owned[lane] = True
    while len(heads) > 1:
        heads = [
            add(heads[i], heads[i + 1]) if i + 1 < len(heads) else heads[i]
            for i in range(0, len(heads), 2)
        ]
    return heads[0]


def add_accumulators(a: Accumulators, b: Accumulators) -> Accumulators:
    return a + b


def add_into_accumulators(total: Accumulators, part: Accumulators) -> Accumulators:
    total += part
    return total


def run_plan(
    backend: Backend,
    schedule: Schedule,
    seed: int,
    plan: TaskPlan,
    tasks: Sequence[int] | None = None,
    on_done: OnDone | None = None,
    with_results: bool = False,
    task: Callable[..., Any] | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Accumulators:
    """Simulate ``tasks`` of ``plan`` (default: all) on ``backend``; return their sum.

    ``on_done(task, result)`` is called in this thread as each task finishes (``result`` is its
    accumulators when ``with_results``, else None); ``on_wait()`` now and then while none does
    (a distributed backend). ``task``: what a task computes, called as ``simulate_blocks`` is
    (the default); its results must add with ``+`` and ``+=``.
    """
    import dask

    tasks = range(plan.n_tasks) if tasks is None else tasks
    if not tasks:
        return empty_accumulators(schedule)
    if backend.in_process:
        compile_kernels(schedule)  # once, before the threads start
    token = uuid.uuid4().hex[:12]  # keys unique to this run, so runs sharing a cluster never mix
    shared = dask.delayed(schedule, name=f"schedule-{token}", traverse=False)
    simulate = dask.delayed(task or simulate_blocks, pure=True)
    parts = {
        f"{TASK_PREFIX}-{token}-{i}": simulate(
            shared, seed, plan.block_size, plan.tasks[i], dask_key_name=f"{TASK_PREFIX}-{token}-{i}"
        )
        for i in tasks
    }
    index = dict(zip(parts, tasks, strict=True))
    return backend.reduce(list(parts.values()), index, on_done or _ignore, with_results, on_wait)


def _ignore(task: int, result: Accumulators | None) -> None:
    pass
