"""The targets that are wall times or memory of whole commands, in the same pytest-benchmark
suite: ``pytest benchmarks --benchmark-enable -s -k targets`` prints each figure and its ratio
to the target (``-k memory`` etc. for one). Nothing here asserts a time.

Sizes (environment): RMP_RISK_BENCH_MEMORY_SMALL / _LARGE (default 100,000 and 10,000,000
paths), RMP_RISK_BENCH_DASK_PATHS (1,000,000), RMP_RISK_BENCH_PACE_PATHS (100,000),
RMP_RISK_BENCH_RARE_PATHS (100,000).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from .bench_calibrate import TARGET_SECONDS as CALIBRATE_TARGET
from .bench_calibrate import calibrate_seconds
from .bench_dask_overhead import TARGET as DASK_TARGET
from .bench_dask_overhead import machine, overhead_seconds
from .bench_memory import TARGET as MEMORY_TARGET
from .bench_memory import peak_rss
from .bench_rare_events import SHIPPED_CONFIGS, efficiency
from .bench_rare_events import TARGET as RARE_TARGET
from .bench_required_pace import TARGET_SECONDS as PACE_TARGET
from .bench_required_pace import required_pace_seconds


def _size(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _report(capsys, benchmark, line: str, **figures) -> None:
    benchmark.extra_info.update(figures)
    with capsys.disabled():
        print(f"\n{line}  [{machine()}]")


def _verdict(ratio: float) -> str:
    return "pass" if ratio <= 1.0 else "short"


def test_targets_memory_is_set_by_the_output(benchmark, capsys):
    small = _size("RMP_RISK_BENCH_MEMORY_SMALL", 100_000)
    large = _size("RMP_RISK_BENCH_MEMORY_LARGE", 10_000_000)

    def both():
        with tempfile.TemporaryDirectory() as tmp:
            return [peak_rss(n, None, Path(tmp) / f"cube-{n}.nc") for n in (small, large)]

    (rss_small, _), (rss_large, _) = benchmark.pedantic(both, rounds=1)
    ratio = rss_large / rss_small
    _report(
        capsys,
        benchmark,
        f"peak memory {small:,} paths {rss_small:.1f} MB, {large:,} paths {rss_large:.1f} MB:"
        f" ratio {ratio:.2f} (target <= {MEMORY_TARGET}): {_verdict(ratio / MEMORY_TARGET)}",
        ratio=ratio,
        target=MEMORY_TARGET,
    )


def test_targets_dask_costs_nothing_measurable(benchmark, capsys):
    paths = _size("RMP_RISK_BENCH_DASK_PATHS", 1_000_000)
    plain, through, same = benchmark.pedantic(overhead_seconds, args=(paths, 2), rounds=1)
    ratio = through / plain
    assert same  # the same counts either way: a correctness check, not a time
    _report(
        capsys,
        benchmark,
        f"{paths:,} paths: plain threads {plain:.1f} s, dask threads {through:.1f} s: ratio"
        f" {ratio:.3f} (target <= {DASK_TARGET}): {_verdict(ratio / DASK_TARGET)}",
        ratio=ratio,
        target=DASK_TARGET,
    )


def test_targets_calibrate(benchmark, capsys):
    seconds = benchmark.pedantic(calibrate_seconds, rounds=1)
    ratio = seconds / CALIBRATE_TARGET
    _report(
        capsys,
        benchmark,
        f"calibrate engine/data --until 2025-12-31: {seconds:.1f} s (target <= "
        f"{CALIBRATE_TARGET:.0f} s, ratio {ratio:.2f}): {_verdict(ratio)}",
        ratio=ratio,
        target=CALIBRATE_TARGET,
    )


def test_targets_required_pace(benchmark, capsys):
    paths = _size("RMP_RISK_BENCH_PACE_PATHS", 100_000)
    seconds, evaluated, answer = benchmark.pedantic(required_pace_seconds, args=(paths,), rounds=1)
    ratio = seconds / PACE_TARGET
    grid = int(200 / 0.5) + 1
    _report(
        capsys,
        benchmark,
        f"required-pace, {paths:,} paths: {seconds:.1f} s (target <= {PACE_TARGET:.0f} s, "
        f"ratio {ratio:.2f}): {_verdict(ratio)}; {evaluated} paces simulated against {grid} "
        f"for a grid of the same resolution. {answer}",
        ratio=ratio,
        target=PACE_TARGET,
        paces=evaluated,
    )


@pytest.mark.parametrize("config", SHIPPED_CONFIGS, ids=["default", "judgement"])
def test_targets_rare_events(benchmark, capsys, config):
    paths = _size("RMP_RISK_BENCH_RARE_PATHS", 100_000)
    result = benchmark.pedantic(efficiency, args=(paths, "crisis", config), rounds=1)
    ratio = result.worst
    _report(
        capsys,
        benchmark,
        f"{result.table()}\nsmallest ratio {ratio:.2f} (target >= {RARE_TARGET:g}): "
        f"{_verdict(RARE_TARGET / ratio)}",
        ratio=ratio,
        target=RARE_TARGET,
    )
