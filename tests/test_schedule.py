"""The schedule's derived day columns the kernel relies on; the kernel's compiled form and its
staged histogram counts."""

import numpy as np
import pytest

from engine.kernels import layout as L
from engine.run import compile_kernels


def test_extra_draws_mark_spike_days_and_calendar_openings(model_schedule):
    day_int = model_schedule.day_int
    extras = day_int[:, L.DI_EXTRA_DRAWS]
    spike = day_int[:, L.DI_RRP_SPIKE] != L.SPIKE_NONE
    assert np.array_equal(extras & L.EXTRA_SPIKE != 0, spike)
    for k in range(L.N_CAL):
        opens = day_int[:, L.DI_CAL_NEW + k] == 1
        assert opens.any(), L.CAL_NAMES[k]
        assert np.array_equal(extras & (L.EXTRA_CAL << k) != 0, opens)
    assert extras.max() < L.EXTRA_CAL << L.N_CAL  # no other bits


def test_pace_change_days_are_month_starts_and_switch_days(model_schedule):
    day_int = model_schedule.day_int
    change = np.flatnonzero(day_int[:, L.DI_PACE_CHANGE])
    month = day_int[:, L.DI_MONTH]
    starts = np.flatnonzero(np.r_[True, month[1:] != month[:-1]])
    switches = model_schedule.regime_params[:, L.RP_SWITCH_DAY].astype(int)
    switches = switches[switches < len(month)]
    assert len(switches) > 0  # regime D switches mid-April
    assert set(change) == set(starts) | set(switches)


@pytest.mark.slow  # compiles the kernel
def test_run_kernel_makes_no_reference_count_changes(model_schedule):
    """Each reference count change is an atomic (a full barrier on x86): a run's kernel makes
    none, whether or not its paths draw parameters."""
    from engine.kernels.paths import simulate_paths

    compile_kernels(model_schedule)
    assert simulate_paths.signatures
    for signature in simulate_paths.signatures:
        ir = simulate_paths.inspect_llvm(signature)
        assert "@NRT_incref" not in ir and "@NRT_decref" not in ir


@pytest.mark.slow  # compiles the kernel
def test_histograms_count_past_the_uint16_staging_limit(model_config):
    """The kernel stages histogram counts in uint16 and adds them in every NEAR_HIST_PATHS
    paths: one call with more paths than a uint16 holds still counts every path-month."""
    from engine.kernels.counts import NEAR_HIST_PATHS
    from engine.kernels.paths import simulate_block
    from engine.rng import block_seeds
    from engine.run import empty_accumulators
    from engine.schedule import build_schedule

    from .conftest import small, tweak

    one_bin = (-1e12, 1e13)  # [low, width]: every value lands in the first bin
    config = tweak(
        small(model_config, months=1),
        **{
            f"output.histograms.{name}": one_bin
            for name in ("reserves_bn", "spread_bp", "srf_bn", "tga_bn")
        },
    )
    schedule = build_schedule(config)
    n = NEAR_HIST_PATHS + 1000
    acc = empty_accumulators(schedule)
    simulate_block(block_seeds(3, 0, n), *schedule.kernel_inputs, *acc.arrays)
    assert (acc.hist[..., 1] == n).all()
