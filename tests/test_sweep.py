"""Pace sweeps: one pass over common paths, odds that fall with the pace path by path, and the
paired standard error of a difference."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.decisions.paces import PaceError, parse_paces, with_paces
from engine.decisions.sweep import paired_difference, sweep
from engine.diagnostics import trace_paths
from engine.kernels import layout as L
from engine.pipeline import simulate
from engine.products import SWEEP, product_of
from engine.schedule import build_schedule

from .conftest import small, tweak

pytestmark = pytest.mark.slow  # compiles and runs the kernels

FEEDBACKS_OFF = {"spread.noise_sd1_bp": 0.0, "on_rrp.refill_bn_per_bp": 0.0}
ORDERED_EVENTS = ("tight", "stress", "crisis", "scarce")  # tiers a larger balance sheet lowers


@pytest.fixture(scope="module")
def quiet_config(model_config):
    """Six months, few paths, the state-dependent feedbacks off (σ1 = 0, no RRP refill)."""
    return small(tweak(model_config, **FEEDBACKS_OFF), months=6, paths=768, block=128)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0:80:20", [0, 20, 40, 60, 80]),
        ("0:10:4", [0, 4, 8]),
        ("45,10,20", [10, 20, 45]),
        ("-20:0:10", [-20, -10, 0]),
    ],
)
def test_parse_paces(text, expected):
    assert parse_paces(text).tolist() == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0:80", "LOW:HIGH:STEP"),
        ("a:b:c", "LOW:HIGH:STEP"),
        ("0:80:0", "STEP > 0"),
        ("80:0:5", "HIGH >= LOW"),
        ("0:1000:1", "at most"),
        ("10,10", "distinct"),
        ("0:inf:5", "finite"),
        ("nan", "finite"),
    ],
)
def test_parse_paces_refuses(text, message):
    with pytest.raises(PaceError, match=message):
        parse_paces(text)


def test_a_named_regime_keeps_its_rules_with_its_paces_replaced(model_config):
    config = with_paces(model_config, [10.0, 50.0], "D")
    assert [r.name for r in config.regimes] == ["10", "50"]
    regime = config.regimes[1]
    assert (regime.pace_bn.low, regime.pace_bn.high) == (50.0, 50.0)
    assert (regime.then_pace_bn.low, regime.then_pace_bn.high) == (50.0, 50.0)
    assert regime.react_add_bn == model_config.regimes[3].react_add_bn and regime.weight is None
    with pytest.raises(PaceError, match="--regime Z: no such regime"):
        with_paces(model_config, [10.0], "Z")


def test_the_sweep_is_the_run_of_its_pace_regimes(quiet_config):
    paces = np.array([0.0, 30.0, 60.0])
    ds = sweep(quiet_config, paces, seed=3)
    run = simulate(with_paces(quiet_config, paces), seed=3)
    assert product_of(ds) == SWEEP and ds.pace.values.tolist() == paces.tolist()
    assert np.array_equal(ds.joint_cumulative_count.values, run.joint_cumulative_count.values)
    assert np.array_equal(ds.reserves_eom_histogram.values, run.reserves_eom_histogram.values)
    assert "weight" not in ds.coords and not any(v.startswith("mixture") for v in ds.data_vars)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(-40, 160), min_size=2, max_size=5, unique=True))
def test_odds_never_rise_with_the_pace_path_by_path(quiet_config, paces):
    """With the feedbacks off, every path with an event by month m at a higher pace has one at
    every lower pace: the paired count of (lower, higher) equals the higher pace's count."""
    ds = sweep(quiet_config, sorted(float(p) for p in paces), seed=11)
    joint = ds.joint_cumulative_count
    for event in ORDERED_EVENTS:
        j = joint.sel(event=event).values  # (P, P, M)
        for a in range(len(paces)):
            for b in range(a + 1, len(paces)):
                assert np.array_equal(j[a, b], j[b, b]), (event, paces)


def test_paired_standard_error_is_the_per_path_standard_error(quiet_config):
    """The paired formula equals the standard error of the per-path differences, computed from
    the paths' own daily event flags."""
    paces = [20.0, 60.0]
    config = with_paces(quiet_config, paces)
    schedule = build_schedule(config)
    n = 640
    trace = trace_paths(schedule, n, 5, config.simulation.block_size)
    ds = sweep(quiet_config, paces, paths=n, seed=5)
    for within in (2, 6):
        in_window = trace.events[:, :, :, L.E_TIGHT].astype(bool)  # (paths, days, regimes)
        days = schedule.calendar.month < within
        hit = in_window[:, days, :].any(axis=1).astype(float)  # (paths, regimes)
        d = hit[:, 0] - hit[:, 1]
        diff, se = paired_difference(ds, 20.0, 60.0, "tight", within)
        assert diff == pytest.approx(d.mean(), abs=1e-15)
        assert se == pytest.approx(d.std() / np.sqrt(n), rel=1e-12)
        independent = np.hypot(
            *ds.cumulative_event_probability_stderr.sel(event="tight").isel(time=within - 1).values
        )
        assert se < independent  # common random numbers pay
