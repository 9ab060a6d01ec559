"""pytest-benchmark suite: ``pytest benchmarks --benchmark-enable`` (paths per run from
RMP_RISK_BENCH_PATHS, default 100,000). Each benchmark runs once and records its time and
throughput; ``rmp-risk bench`` prints the same figures against their targets. Nothing here
asserts a time."""

from __future__ import annotations

import numpy as np

from engine import bench
from engine.rng import block_seeds
from engine.testing.draw_only import draw_only_block
from engine.testing.reference import numpy_accumulators
from engine.testing.runners import run_accumulators

from .conftest import PATHS


def _record(benchmark, schedule, n_paths):
    steps = n_paths * len(schedule.regime_names) * schedule.calendar.n_days
    benchmark.extra_info["regime_path_steps"] = steps


def test_kernel_two_workers(benchmark, schedule, config):
    sim = config.simulation
    _record(benchmark, schedule, PATHS)
    benchmark.pedantic(
        run_accumulators,
        args=(schedule, PATHS, sim.seed, sim.block_size),
        kwargs={"workers": 2},
        rounds=1,
    )


def test_kernel_one_worker(benchmark, schedule, config):
    sim = config.simulation
    _record(benchmark, schedule, PATHS)
    benchmark.pedantic(
        run_accumulators,
        args=(schedule, PATHS, sim.seed, sim.block_size),
        kwargs={"workers": 1},
        rounds=1,
    )


def test_numpy_reference(benchmark, schedule):
    n = max(1, PATHS // 10)
    _record(benchmark, schedule, n)
    benchmark.pedantic(numpy_accumulators, args=(schedule, n, 1), rounds=1)


def test_draws_only(benchmark, schedule, config):
    seeds = block_seeds(config.simulation.seed, 0, PATHS // 10)
    args = (seeds, schedule.day_int, schedule.params, schedule.t_tables, np.zeros(1))
    benchmark.pedantic(draw_only_block, args=args, rounds=1)


def test_ceiling_parts(benchmark, schedule, config):
    parts = benchmark.pedantic(
        bench.ceiling_seconds_per_path_step, args=(schedule, config, PATHS // 10), rounds=1
    )
    benchmark.extra_info["draws_ns"], benchmark.extra_info["arithmetic_ns"] = (
        1e9 * parts[0],
        1e9 * parts[1],
    )


def test_end_to_end(benchmark):
    path = str(bench.default_config_path())
    benchmark.pedantic(bench.end_to_end_seconds, args=(path, PATHS, 2), rounds=1)


def test_import(benchmark):
    benchmark.pedantic(bench.import_seconds, rounds=1)


def test_compile(benchmark):
    benchmark.pedantic(bench.compile_seconds, args=(str(bench.default_config_path()),), rounds=1)
