"""Performance figures of this machine, each against its target, measured in one process.

Throughput is counted in regime-path-steps per second (paths × regimes × business days / wall
time). Every figure is a measurement; nothing here asserts a time. ``rmp-risk bench`` prints them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

from .config import Config, default_config_path, load_config
from .kernel_cache import DIR_ENV as CACHE_DIR_ENV
from .kernel_cache import ENV as CACHE_ENV
from .kernels import layout as L
from .rng import block_seeds, plan_blocks
from .run import compile_kernels, default_workers, empty_accumulators
from .schedule import Schedule, build_schedule
from .testing.runners import run_accumulators

REFERENCE_CHUNK = 50_000  # paths per NumPy task: bounds the reference's memory
REPLAY_PATHS = 64  # distinct recorded paths the arithmetic-only kernel cycles through
SCALING_BLOCKS = 8  # the smaller measurements use at least this many blocks (4 per core)


@dataclass
class Figure:
    """One measurement and, where the issue sets one, its target."""

    name: str
    value: float
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        ok = self.value >= self.target if self.higher_is_better else self.value <= self.target
        return "pass" if ok else "short"


def _steps(schedule: Schedule, n_paths: int) -> float:
    return float(n_paths) * len(schedule.regime_names) * schedule.calendar.n_days


def _best_of(repeats: int, func) -> float:
    best = np.inf
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - started)
    return best


def kernel_seconds(
    schedule: Schedule, config: Config, n_paths: int, workers: int, repeats: int = 1
) -> float:
    """Wall time of the engine's run (dask threads, integer reduction) of ``n_paths`` paths, the
    best of ``repeats``."""
    sim = config.simulation
    compile_kernels(schedule)
    return _best_of(
        repeats,
        lambda: run_accumulators(schedule, n_paths, sim.seed, sim.block_size, workers=workers),
    )


def numpy_seconds(schedule: Schedule, n_paths: int, threads: int) -> float:
    """Wall time of the plain-NumPy reference over ``n_paths`` paths in ``threads`` threads
    (chunks of REFERENCE_CHUNK paths; NumPy releases the GIL inside its array operations)."""
    from .testing.reference import numpy_accumulators

    size = min(REFERENCE_CHUNK, -(-n_paths // threads))  # at least one chunk per thread
    chunks = [min(size, n_paths - i) for i in range(0, n_paths, size)]
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda ic: numpy_accumulators(schedule, ic[1], ic[0]), enumerate(chunks)))
    return time.perf_counter() - started


def ceiling_seconds_per_path_step(schedule: Schedule, config: Config, n_paths: int):
    """(draws, arithmetic) seconds per path-step on one core: drawing every variate a path-step
    needs, and the step's arithmetic for all regimes with the draws given (no generator)."""
    from .diagnostics import trace_paths
    from .kernels.paths import replay_block
    from .testing.draw_only import draw_only_block

    sim = config.simulation
    seeds = block_seeds(sim.seed, 0, n_paths)
    checksum = np.zeros(1)
    inputs = (schedule.day_int, schedule.params, schedule.t_tables, checksum)
    draw_only_block(seeds[:1], *inputs)
    t_draws = _best_of(2, lambda: draw_only_block(seeds, *inputs))
    recorded = trace_paths(schedule, REPLAY_PATHS, sim.seed, sim.block_size)
    draws = np.resize(recorded.path_draws, (n_paths, L.N_PATH_DRAWS))
    acc = empty_accumulators(schedule)

    def replay():
        replay_block(draws, recorded.shocks, *schedule.kernel_inputs, *acc.arrays)

    t_arith = _best_of(2, replay)
    path_steps = float(n_paths) * schedule.calendar.n_days
    return t_draws / path_steps, t_arith / path_steps


def single_thread_seconds(schedule: Schedule, config: Config, n_paths: int) -> float:
    """The kernel over ``n_paths`` paths' blocks in this thread alone (no dask)."""
    from .run import simulate_blocks

    sim = config.simulation
    blocks = plan_blocks(n_paths, sim.block_size)
    return _best_of(2, lambda: simulate_blocks(schedule, sim.seed, sim.block_size, blocks))


def _python(code: str, env: dict | None = None) -> float:
    """Run ``code`` in a fresh interpreter; it prints one number, returned."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return float(result.stdout.strip().splitlines()[-1])


_START_RUN = """
import time
t0 = time.perf_counter()
from engine.config import load_config
from engine.schedule import build_schedule
from engine.run import compile_kernels
schedule = build_schedule(load_config({config!r}))
t1 = time.perf_counter()
compile_kernels(schedule)
print({expr})
"""


def import_seconds(module: str = "engine") -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return min(_python(code) for _ in range(3))


# The compiling figures are of a first run: the user's cache of compiled kernels is not used.
NO_CACHE = {CACHE_ENV: "0"}


def compile_seconds(config_path: str) -> float:
    code = _START_RUN.format(config=config_path, expr="time.perf_counter() - t1")
    return _python(code, NO_CACHE)


def cached_start_seconds(config_path: str) -> float:
    """Seconds from the first import to compiled kernels in a second process, the disk cache
    on in a temporary folder (the first process fills it)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {CACHE_ENV: "1", CACHE_DIR_ENV: cache}
        code = _START_RUN.format(config=config_path, expr="time.perf_counter() - t0")
        _python(code, env)
        return _python(code, env)


def end_to_end_seconds(config_path: str, n_paths: int, workers: int) -> float:
    """Wall time of a first ``rmp-risk run`` (start, compile, simulate, reduce, write the
    cube): the disk cache of compiled kernels off."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "engine.cli",
                "run",
                config_path,
                "--paths",
                str(n_paths),
                "--workers",
                str(workers),
                "--out",
                os.path.join(tmp, "cube.nc"),
                "--quiet",
            ],
            check=True,
            capture_output=True,
            env={**os.environ, **NO_CACHE},
        )
        return time.perf_counter() - started


def run_benchmarks(
    config_path: str | None = None,
    n_paths: int = 1_000_000,
    workers: int | None = None,
    reference_paths: int | None = None,
    progress=None,
) -> list[Figure]:
    """Measure every figure; ``progress(name)`` is called before each step."""
    say = progress or (lambda name: None)
    config_path = str(config_path or default_config_path())
    config = load_config(config_path)
    schedule = build_schedule(config)
    workers = workers or default_workers()
    reference_paths = reference_paths or n_paths
    n_regimes = len(schedule.regime_names)
    small = max(SCALING_BLOCKS * config.simulation.block_size, n_paths // 10)
    figures = []

    say("kernel")
    kernel = _steps(schedule, n_paths) / kernel_seconds(schedule, config, n_paths, workers)
    figures.append(
        Figure(
            "kernel throughput",
            kernel / 1e6,
            "M regime-path-steps/s",
            note=f"{n_paths:,} paths, {workers} workers",
        )
    )
    say("numpy reference")
    numpy_rate = _steps(schedule, reference_paths) / numpy_seconds(
        schedule, reference_paths, workers
    )
    figures.append(
        Figure(
            "NumPy reference throughput",
            numpy_rate / 1e6,
            "M regime-path-steps/s",
            note=f"{reference_paths:,} paths, {workers} threads",
        )
    )
    figures.append(Figure("speed-up over NumPy", kernel / numpy_rate, "x", target=5.0))

    say("ceiling")
    t_draws, t_arith = ceiling_seconds_per_path_step(schedule, config, small)
    one_core = _steps(schedule, small) / single_thread_seconds(schedule, config, small)
    ceiling = n_regimes / (t_draws + t_arith)
    figures.append(Figure("draws per path-step", t_draws * 1e9, "ns", note="one core"))
    figures.append(
        Figure(
            "arithmetic per path-step", t_arith * 1e9, "ns", note=f"{n_regimes} regimes, one core"
        )
    )
    note = f"one core: {one_core / 1e6:.1f} of {ceiling / 1e6:.1f} M/s"
    figures.append(Figure("share of the ceiling", one_core / ceiling, "1", target=0.70, note=note))

    say("scaling")
    # Best of 2: a run of under a second on one side of a ratio is at the mercy of one hiccup.
    one = kernel_seconds(schedule, config, small, 1, repeats=2)
    two = kernel_seconds(schedule, config, small, 2, repeats=2)
    figures.append(Figure("2-core scaling", one / two, "x", target=1.85, note=f"{small:,} paths"))

    say("end to end")
    e2e = end_to_end_seconds(config_path, n_paths, workers)
    target = 30.0 if n_paths == 1_000_000 else None
    figures.append(
        Figure(
            "rmp-risk run end to end",
            e2e,
            "s",
            target=target,
            higher_is_better=False,
            note=f"{n_paths:,} paths",
        )
    )
    say("start-up")
    figures.append(
        Figure("import engine", import_seconds(), "s", target=0.5, higher_is_better=False)
    )
    figures.append(
        Figure(
            "import engine.pipeline",
            import_seconds("engine.pipeline"),
            "s",
            note="numba, dask, xarray: what engine.simulate loads",
        )
    )
    figures.append(
        Figure(
            "first-call compilation",
            compile_seconds(config_path),
            "s",
            target=5.0,
            higher_is_better=False,
        )
    )
    figures.append(
        Figure(
            "start with numba cache",
            cached_start_seconds(config_path),
            "s",
            target=1.0,
            higher_is_better=False,
            note="second process: import to compiled kernels",
        )
    )
    return figures


def format_figures(figures: list[Figure]) -> str:
    lines = [f"{'figure':32} {'value':>12}  {'unit':22} {'target':>8}  verdict  note"]
    for f in figures:
        target = (
            "" if f.target is None else ("≥ " if f.higher_is_better else "≤ ") + f"{f.target:g}"
        )
        lines.append(
            f"{f.name:32} {f.value:12.3f}  {f.unit:22} {target:>8}  {f.verdict:7}  {f.note}"
        )
    return "\n".join(lines)


def figures_json(figures: list[Figure]) -> str:
    return json.dumps([{**asdict(f), "verdict": f.verdict} for f in figures], indent=2)
