"""The cost of running through dask: the same blocks through dask's local threads and through
the kernel called directly in plain threads (``concurrent.futures``), in this process, after
compiling once. Prints both wall times and their ratio against the target of 1.10; asserts
nothing.

    python benchmarks/bench_dask_overhead.py [--paths 1000000] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TARGET = 1.10  # dask wall time / direct wall time


def machine() -> str:
    """Cores, memory and Python of this machine, in one line."""
    cores = len(os.sched_getaffinity(0))
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    return (
        f"{cores} cores, {memory:.0f} GiB, {platform.machine()}, Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> None:
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

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--config", type=Path, help="TOML config (default: the default)")
    args = parser.parse_args(argv)

    config = load_config(args.config)
    sim = config.simulation
    schedule = build_schedule(config)
    compile_kernels(schedule)
    plan = plan_tasks(args.paths, sim.block_size, args.workers)
    print(f"machine: {machine()}")
    print(
        f"{args.paths:,} paths, {plan.n_tasks} tasks of {plan.task_blocks} blocks of "
        f"{sim.block_size} paths, {args.workers} workers"
    )

    def direct():
        total = empty_accumulators(schedule)
        with ThreadPoolExecutor(args.workers) as pool:
            run = lambda blocks: simulate_blocks(schedule, sim.seed, sim.block_size, blocks)  # noqa: E731
            for acc in pool.map(run, plan.tasks):
                total += acc
        return total

    def through_dask():
        return run_plan(LocalBackend(args.workers), schedule, sim.seed, plan)

    times, results = {}, {}
    for name, run in (("direct threads", direct), ("dask threads", through_dask)):
        started = time.perf_counter()
        results[name] = run()
        times[name] = time.perf_counter() - started
        rate = args.paths / times[name]
        print(f"{name:>15}: {times[name]:7.1f} s  ({rate:,.0f} paths/s)", flush=True)
    same = results["direct threads"].equals(results["dask threads"])
    ratio = times["dask threads"] / times["direct threads"]
    verdict = "pass" if ratio <= TARGET else "short"
    print(f"identical counts: {same}; ratio {ratio:.3f} (target <= {TARGET}): {verdict}")


if __name__ == "__main__":
    main()
