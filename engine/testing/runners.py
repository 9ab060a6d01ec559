"""Runs of the kernel on local threads without the pipeline (no store, no cube)."""

from __future__ import annotations

from ..accumulators import Accumulators
from ..cluster import LocalBackend
from ..run import default_workers, plan_tasks, run_plan
from ..schedule import Schedule


def run_accumulators(
    schedule: Schedule,
    n_paths: int,
    seed: int,
    block_size: int,
    workers: int | None = None,
    task_blocks: int | None = None,
) -> Accumulators:
    """Simulate ``n_paths`` paths on ``workers`` local threads and return their accumulators."""
    backend = LocalBackend(workers or default_workers())
    plan = plan_tasks(n_paths, block_size, backend.workers, task_blocks)
    return run_plan(backend, schedule, seed, plan)
