"""The schedule's derived day columns the kernel relies on, and the kernel's compiled form."""

import numpy as np

from engine.kernels import layout as L
from engine.run import compile_kernels


def test_extra_draws_mark_spike_days_and_calendar_openings(default_schedule):
    day_int = default_schedule.day_int
    extras = day_int[:, L.DI_EXTRA_DRAWS]
    spike = day_int[:, L.DI_RRP_SPIKE] != L.SPIKE_NONE
    assert np.array_equal(extras & L.EXTRA_SPIKE != 0, spike)
    for k in range(L.N_CAL):
        opens = day_int[:, L.DI_CAL_NEW + k] == 1
        assert opens.any(), L.CAL_NAMES[k]
        assert np.array_equal(extras & (L.EXTRA_CAL << k) != 0, opens)
    assert extras.max() < L.EXTRA_CAL << L.N_CAL  # no other bits


def test_pace_change_days_are_month_starts_and_switch_days(default_schedule):
    day_int = default_schedule.day_int
    change = np.flatnonzero(day_int[:, L.DI_PACE_CHANGE])
    month = day_int[:, L.DI_MONTH]
    starts = np.flatnonzero(np.r_[True, month[1:] != month[:-1]])
    switches = default_schedule.regime_params[:, L.RP_SWITCH_DAY].astype(int)
    switches = switches[switches < len(month)]
    assert len(switches) > 0  # regime D switches mid-April
    assert set(change) == set(starts) | set(switches)


def test_run_kernel_makes_no_reference_count_changes(default_schedule):
    """Each reference count change is an atomic (a full barrier on x86): a run's kernel (no
    trace, no replay arguments) makes none."""
    from engine.kernels.paths import simulate_paths

    compile_kernels(default_schedule)
    run_signatures = [s for s in simulate_paths.signatures if "none" in str(s[-6:-4]).lower()]
    assert run_signatures
    for signature in run_signatures:
        ir = simulate_paths.inspect_llvm(signature)
        assert "@NRT_incref" not in ir and "@NRT_decref" not in ir
