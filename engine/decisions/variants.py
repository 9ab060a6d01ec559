"""Run variants of one config on the same paths and seed (common random numbers), on one
backend, under one progress bar.

A path's random stream depends only on the seed, its block and its index in the block, so two
variants that change parameters or regimes (not the seed, paths, block size or Student-t
degrees of freedom) draw the same shocks path by path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import xarray as xr

from ..accumulators import Accumulators
from ..cluster import Backend, open_backend
from ..config import Config, RareEvents
from ..cube import build_cube
from ..progress import Progress
from ..rng import block_seeds
from ..run import empty_accumulators, plan_tasks, run_plan
from ..schedule import Schedule, build_schedule
from .odds import cumulative_counts

BATCH_PATHS = 64  # paths per batch of the paired standard errors: many batches, cheap calls


class Variants:
    """Simulates configs that share ``paths``, ``seed`` and ``block_size`` on ``backend``.

    ``expected``: variants the progress bar counts on (it is re-sized if more or fewer run).
    """

    def __init__(self, backend: Backend, paths: int, seed: int, expected: int, progress: bool):
        self.backend, self.paths, self.seed = backend, paths, seed
        self.bar = Progress(paths * max(1, expected), status=backend.status) if progress else None
        self.on_wait = self.bar.draw if self.bar is not None else None  # e.g. jobs still queued

    def accumulators(self, config: Config) -> Accumulators:
        """The counts of ``config`` over the shared paths."""
        config = self._shared(config)
        schedule = build_schedule(config)
        plan = plan_tasks(self.paths, config.simulation.block_size, self.backend.workers)
        acc = run_plan(
            self.backend,
            schedule,
            self.seed,
            plan,
            on_done=self._on_done(plan),
            on_wait=self.on_wait,
        )
        if acc.n_paths != self.paths:
            raise RuntimeError(f"the tasks hold {acc.n_paths} paths, not {self.paths}")
        return acc

    def batches(self, config: Config, event: int, within: int) -> BatchCounts:
        """Paths with at least one ``event`` day in the first ``within`` months, per batch of
        ``BATCH_PATHS`` consecutive paths and per regime (see ``BatchCounts``)."""
        config = self._shared(config)
        schedule = build_schedule(config)
        plan = plan_tasks(self.paths, config.simulation.block_size, self.backend.workers)
        task = partial(batch_counts, event=event, within=within, batch_paths=BATCH_PATHS)
        counts = run_plan(
            self.backend,
            schedule,
            self.seed,
            plan,
            on_done=self._on_done(plan),
            task=task,
            on_wait=self.on_wait,
        )
        counts = counts.in_path_order()
        if int(counts.sizes.sum()) != self.paths:
            raise RuntimeError(f"the batches hold {counts.sizes.sum()} paths, not {self.paths}")
        return counts

    def _shared(self, config: Config) -> Config:
        """``config`` on the shared paths, with the plain estimator: decisions compare counts
        (``[rare_events]`` applies to ``rmp-risk run`` only)."""
        config = dataclasses.replace(config, rare_events=RareEvents())
        return config.with_overrides(paths=self.paths, seed=self.seed)

    def _on_done(self, plan):
        bar, step = self.bar, self.paths

        def on_done(task: int, result: Any) -> None:
            if bar is not None:
                if bar.done + plan.paths(task) > bar.n_paths:
                    bar.n_paths += step  # more variants than expected
                bar.advance(plan.paths(task))

        return on_done

    def cube(self, config: Config, command: str | None = None) -> xr.Dataset:
        """The cube of ``config`` over the shared paths."""
        config = self._shared(config)
        acc = self.accumulators(config)
        schedule = build_schedule(config)
        attrs = (
            {**self.backend.describe(), "command": command} if command else self.backend.describe()
        )
        return build_cube(acc, config, schedule, attrs)

    def finish(self) -> None:
        """Close the progress bar at 100% of what ran."""
        if self.bar is not None:
            self.bar.n_paths = self.bar.done


@contextmanager
def variants(
    config: Config,
    paths: int | None = None,
    seed: int | None = None,
    *,
    expected: int = 1,
    progress: bool = False,
    workers: int | None = None,
    processes: bool = False,
    scheduler: Any = None,
    cluster: Any = None,
    jobs: int | None = None,
) -> Iterator[Variants]:
    """A ``Variants`` runner for ``config``'s paths and seed (or ``paths``, ``seed``) on the
    backend the options ask for (see ``engine.pipeline.simulate``), closed on exit."""
    sim = config.with_overrides(paths=paths, seed=seed).simulation
    with open_backend(workers, processes, scheduler, cluster, jobs) as backend:
        runner = Variants(backend, sim.n_paths, sim.seed, expected, progress)
        with runner.bar or nullcontext():
            yield runner
            runner.finish()


@dataclass
class BatchCounts:
    """Per-batch counts of paths with an event in a window: ``counts`` int64 (B, R) for the R
    regimes, ``sizes`` int64 (B,) paths per batch, ``keys`` (B, 2) (block, first path in it).
    Batches of different tasks add by concatenation."""

    keys: np.ndarray
    counts: np.ndarray
    sizes: np.ndarray

    def __add__(self, other: BatchCounts) -> BatchCounts:
        return BatchCounts(
            np.concatenate([self.keys, other.keys]),
            np.concatenate([self.counts, other.counts]),
            np.concatenate([self.sizes, other.sizes]),
        )

    def __iadd__(self, other: BatchCounts) -> BatchCounts:
        return self + other

    def in_path_order(self) -> BatchCounts:
        order = np.lexsort((self.keys[:, 1], self.keys[:, 0]))
        return BatchCounts(self.keys[order], self.counts[order], self.sizes[order])


def batch_counts(
    schedule: Schedule,
    seed: int,
    block_size: int,
    blocks: Sequence[tuple[int, int]],
    *,
    event: int,
    within: int,
    batch_paths: int,
) -> BatchCounts:
    """A task: the kernel over ``blocks`` in batches of ``batch_paths`` paths, keeping each
    batch's count of paths with an ``event`` day in the first ``within`` months. The paths and
    their streams are those of ``run.simulate_blocks``; only the grouping of the output differs."""
    from ..kernels.paths import simulate_block

    acc = empty_accumulators(schedule)
    keys, rows, sizes = [], [], []
    for block, n_paths in blocks:
        seeds = block_seeds(seed, block, block_size, n_paths)
        for first in range(0, n_paths, batch_paths):
            part = np.ascontiguousarray(seeds[first : first + batch_paths])
            for array in acc.arrays:
                array.fill(0)
            simulate_block(part, *schedule.kernel_inputs, *acc.arrays)
            keys.append((block, first))
            rows.append(cumulative_counts(acc, event, within))
            sizes.append(len(part))
    n_regimes = len(schedule.regime_names)
    return BatchCounts(
        np.array(keys, dtype=np.int64).reshape(-1, 2),
        np.array(rows, dtype=np.int64).reshape(-1, n_regimes),
        np.array(sizes, dtype=np.int64),
    )
