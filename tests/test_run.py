"""Runs: identical counts however the work is split, prefix stability, plausible results."""

import math
import operator
import threading
import weakref

import dask
import numpy as np
import pytest

from engine.accumulators import Accumulators
from engine.diagnostics import trace_paths
from engine.kernels import layout as L
from engine.pipeline import simulate
from engine.run import tree_sum
from engine.schedule import build_schedule
from engine.testing.runners import run_accumulators

from .conftest import small

pytestmark = pytest.mark.slow  # compiles and runs the kernels

TOL_SE = 3.0


@pytest.fixture(scope="module")
def short_schedule(model_config):
    return build_schedule(small(model_config, months=4))


@pytest.mark.parametrize(("workers", "task_blocks"), [(2, 1), (2, 3), (1, 2), (2, 100)])
def test_counts_do_not_depend_on_workers_or_task_size(short_schedule, workers, task_blocks):
    reference = run_accumulators(short_schedule, 700, 9, 64, workers=1, task_blocks=1)
    other = run_accumulators(short_schedule, 700, 9, 64, workers=workers, task_blocks=task_blocks)
    assert other.equals(reference)


def test_first_paths_are_the_same_in_a_longer_run(short_schedule):
    n = 150  # not a multiple of the block size
    short = trace_paths(short_schedule, n, 4, 64)
    long = trace_paths(short_schedule, 2 * n, 4, 64)
    assert np.array_equal(short.values, long.values[:n])
    assert run_accumulators(short_schedule, n, 4, 64, workers=2).equals(short.accumulators)


def test_seed_and_block_size_change_the_paths(short_schedule):
    a = run_accumulators(short_schedule, 300, 4, 64)
    assert not a.equals(run_accumulators(short_schedule, 300, 5, 64))
    assert not a.equals(run_accumulators(short_schedule, 300, 4, 32))


def test_more_buying_means_fewer_crises(model_config):
    """Cumulative crisis odds over the horizon: C (3.5bn) > A (20–30bn) > B (45bn), each gap
    larger than TOL_SE paired standard errors (the regimes share paths)."""
    ds = simulate(model_config, paths=20_000, seed=2026, workers=2)
    joint = ds.joint_cumulative_count.sel(event="crisis").isel(time=-1)
    n = int(ds.n_paths[0])

    def gap(hi, lo):
        p_hi = joint.sel(regime=hi, other_regime=hi).item() / n
        p_lo = joint.sel(regime=lo, other_regime=lo).item() / n
        p_both = joint.sel(regime=hi, other_regime=lo).item() / n
        var = p_hi + p_lo - 2 * p_both - (p_hi - p_lo) ** 2
        return p_hi - p_lo, math.sqrt(var / n)

    for hi, lo in (("C", "A"), ("A", "B")):
        diff, se = gap(hi, lo)
        assert diff > TOL_SE * se, (hi, lo, diff, se)
    scarce = ds.cumulative_event_probability.sel(event="scarce").isel(time=-1)
    assert scarce.sel(regime="C") > scarce.sel(regime="A") > scarce.sel(regime="B")
    assert ds.event_count.sel(event="tight").sum() > ds.event_count.sel(event="crisis").sum()
    assert (ds.event_count.sel(event="crisis") <= ds.event_count.sel(event="stress")).all()
    assert L.EVENT_NAMES[L.E_CRISIS] == "crisis"


def test_kernel_and_numpy_generator_agree_in_distribution(model_config):
    """The kernel (its own xoshiro256+ and ziggurat variates) and the NumPy reference fed
    NumPy's generator are independent samples of one model: cumulative event probabilities and
    the share of paths below the kernel's median month-end reserves agree within TOL_SE
    standard errors of their difference."""
    from engine.cube import histogram_quantiles
    from engine.testing.reference import numpy_accumulators

    schedule = build_schedule(model_config)
    n = 10_000
    kernel = run_accumulators(schedule, n, 11, 2048, workers=2)
    numpy = numpy_accumulators(schedule, n, 12)

    def check(p1, p2):
        se = np.sqrt(p1 * (1 - p1) / n + p2 * (1 - p2) / n)
        assert (np.abs(p1 - p2) <= TOL_SE * se + 1e-12).all(), (p1, p2, se)

    for event in (L.E_TIGHT, L.E_STRESS, L.E_CRISIS, L.E_SCARCE):
        check(
            kernel.first_event_count[:, event].sum(-1) / n,
            numpy.first_event_count[:, event].sum(-1) / n,
        )
    v = L.HIST_NAMES.index("reserves_eom")
    low, width = schedule.hist_grid[v]
    for month in (5, 11, 23):
        median = histogram_quantiles(kernel.hist[v, :, month], low, width, [0.5])[:, 0]
        below = np.floor((median - low) / width).astype(int) + 1  # bins wholly below
        share = [h[:b].sum() / n for h, b in zip(numpy.hist[v, :, month], below, strict=True)]
        mine = [h[:b].sum() / n for h, b in zip(kernel.hist[v, :, month], below, strict=True)]
        check(np.array(mine), np.array(share))


@pytest.mark.parametrize("lanes", [1, 2, 3, 8])
def test_tree_sum_adds_every_part_once(lanes):
    for n in (1, 2, 5, 64, 101):
        assert tree_sum(list(range(n)), operator.add, lanes) == n * (n - 1) // 2


def _check_add_into(n, lanes):
    """tree_sum with add_into over n parts: the right total, and no part changed."""
    parts = [np.full(3, i, dtype=np.int64) for i in range(n)]
    made = []

    def add(a, b):
        made.append(a + b)
        return made[-1]

    def add_into(total, part):
        assert any(total is m for m in made), "added into a part"
        total += part
        return total

    total = tree_sum(parts, add, lanes, add_into)
    assert (total == n * (n - 1) // 2).all()
    assert all((part == i).all() for i, part in enumerate(parts))


@pytest.mark.parametrize("lanes", [1, 2, 3, 8])
def test_tree_sum_adds_into_its_own_sums_never_into_a_part(lanes):
    for n in (1, 2, 5, 64, 101):
        _check_add_into(n, lanes)


@pytest.mark.parametrize("lanes", [2, 4])
def test_the_reduction_holds_few_partial_sums_however_many_tasks(lanes):
    """Run through dask's threads, the partial sums alive at once do not grow with the tasks."""
    live = {"now": 0, "peak": 0}
    lock = threading.Lock()

    def tracked(acc):
        with lock:
            live["now"] += 1
            live["peak"] = max(live["peak"], live["now"])
        weakref.finalize(acc, lambda: live.__setitem__("now", live["now"] - 1))
        return acc

    peaks = []
    for n in (50, 2000):
        live.update(now=0, peak=0)
        parts = [dask.delayed(lambda: tracked(Accumulators.zeros(2, 2, 2)))() for _ in range(n)]
        add = dask.delayed(lambda a, b: tracked(a + b))
        with dask.config.set(scheduler="threads", num_workers=2):
            (total,) = dask.compute(tree_sum(parts, add, lanes))
        assert total.n_paths == 0
        peaks.append(live["peak"])
    assert peaks[1] <= lanes + 4 and peaks[1] <= peaks[0] + 1, peaks
