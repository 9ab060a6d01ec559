"""The numba kernel against the plain-NumPy reference and the model's rules, on small inputs."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numba import njit

from engine.config import Regime, Uniform
from engine.diagnostics import trace_paths
from engine.kernels import layout as L
from engine.kernels.day import day_events
from engine.schedule import build_schedule
from engine.testing.reference import simulate_reference

from .conftest import MODEL_CONFIG, tweak, with_regimes

pytestmark = pytest.mark.slow  # compiles and runs the kernels

# numba's exp/log and NumPy's may differ in the last bit, and the kernel adds the currency
# terms in another order: daily values agree to ~1e-13 relative; we allow 1e-9.
RTOL = 1e-9
ATOL = 1e-9


def _trace(config, n=200, seed=7, block=64):
    schedule = build_schedule(config)
    return schedule, trace_paths(schedule, n, seed, block)


def _assert_matches_reference(schedule, trace):
    ref, counts = simulate_reference(schedule, trace.path_draws, trace.shocks)
    for name in L.TRACE_NAMES[:-1]:
        np.testing.assert_allclose(trace[name], ref[name], rtol=RTOL, atol=ATOL, err_msg=name)
    assert np.array_equal(trace.events, ref["events"])
    assert counts.equals(trace.accumulators)


def test_kernel_matches_reference_default(model_config):
    _assert_matches_reference(*_trace(model_config))


def test_kernel_matches_reference_stressed(model_config):
    """Scarce reserves, a debt-ceiling episode and loose thresholds exercise every branch."""
    config = tweak(
        model_config,
        **{
            "initial.reserves_bn": 2650.0,
            "tga.debt_ceiling.probability": 0.5,
            "tga.debt_ceiling.start": model_config.simulation.start.replace(month=3),
            "events.crisis_bp": 15.0,
            "events.systemic_bp": 14.0,
            "on_rrp.refill_below_bp": 30.0,
        },
    )
    schedule, trace = _trace(config)
    events = trace.events.sum(axis=(0, 1, 2))
    assert (events > 0).all(), events  # every tier occurs
    assert (trace["srf"] > 0).any() and (trace.path_draws[:, L.D_DC_ACTIVE] == 1).any()
    _assert_matches_reference(schedule, trace)


def test_kernel_matches_reference_with_persistent_balances(model_config):
    """ON RRP as an AR(1) from a stated start level (day 0 sits near the start, not the base)
    and a TGA anchor that walks."""
    config = tweak(
        model_config,
        **{
            "on_rrp.ar_coefficient": 0.98,
            "on_rrp.start_bn": 400.0,
            "tga.anchor_walk_sd_bn": 20.0,
        },
    )
    schedule, trace = _trace(config)
    _assert_matches_reference(schedule, trace)
    assert trace["tga"].min() >= 0.0  # a balance: the walk stops at 0
    day0 = trace["on_rrp"][:, 0, 0]  # (paths,) under the first regime
    sd = config.on_rrp.daily_sd_bn
    assert np.all(np.abs(day0 - 0.98 * 400.0 - 0.02 * trace.path_draws[:, L.D_RRP_BASE]) < 6 * sd)


def test_kernel_matches_reference_with_a_moving_curve_level(model_config):
    """The curve's level starts away from α (a per-path start) and walks: the kernel agrees
    with the reference (which adds the walk to α), its daily normals are drawn on every day,
    standard (mean and sd within 4 s.e.), and not drawn at all when the level holds."""
    config = tweak(
        model_config,
        **{"demand_curve.alpha_start_sd_bp": 3.0, "demand_curve.alpha_walk_sd_bp": 0.5},
    )
    schedule, trace = _trace(config)
    _assert_matches_reference(schedule, trace)
    z = trace.shocks[:, :, L.S_ALPHA_WALK].ravel()
    assert np.all(z != 0.0)
    se = 1.0 / np.sqrt(z.size)
    assert abs(z.mean()) < 4 * se and abs(z.std() - 1.0) < 4 * se * np.sqrt(0.5)
    _, fixed = _trace(model_config)
    assert np.all(fixed.shocks[:, :, L.S_ALPHA_WALK] == 0.0)
    # the level moves the spread: same stream, different latent spreads from day 0
    assert not np.array_equal(trace["spread_latent"][:, 0], fixed["spread_latent"][:, 0])


def test_balance_sheet_identity_holds_exactly(model_schedule):
    trace = trace_paths(model_schedule, 50, 1, 64)
    p = model_schedule.params
    # grouped as the kernel adds them: SOMA + (OA - C - TGA - OL) - ON RRP, then the SRF repo
    shared = p[L.P_OTHER_ASSETS] - trace["currency"] - trace["tga"] - trace["other_liabilities"]
    rebuilt = (trace["soma"] + shared - trace["on_rrp"]) + trace["srf"]
    assert np.array_equal(trace["reserves"], rebuilt)
    np.testing.assert_allclose(trace["ratio"], trace["reserves"] / trace["bank_assets"], rtol=1e-15)


def test_purchases_follow_the_regime(model_config, model_schedule):
    trace = trace_paths(model_schedule, 20, 1, 64)
    month = model_schedule.day_int[:, L.DI_MONTH]
    per_month = np.stack([trace["purchases"][:, month == m].sum(axis=1) for m in range(24)], 1)
    names = model_schedule.regime_names
    u = trace.path_draws[:, L.D_PACE_UNIFORM]
    a, b, c = names.index("A"), names.index("B"), names.index("C")
    np.testing.assert_allclose(
        per_month[:, 0, a], 20 + 10 * u, rtol=1e-12
    )  # month 1, no reaction yet
    np.testing.assert_allclose(per_month[:, :12, b], 45.0, rtol=1e-12)
    np.testing.assert_allclose(per_month[:, 12:, b], 20.0, rtol=1e-12)
    crisis_free = ~trace.events[:, :, c, L.E_CRISIS].any(axis=1)
    np.testing.assert_allclose(per_month[crisis_free][:, :, c], 3.5, rtol=1e-12)


def test_switch_mid_april_for_the_announced_path(model_schedule):
    trace = trace_paths(model_schedule, 5, 1, 64)
    d = model_schedule.regime_names.index("D")
    days = model_schedule.calendar.days
    daily = trace["purchases"][0, :, d]
    april = (days >= np.datetime64("2026-04-01")) & (days < np.datetime64("2026-05-01"))
    april_days = days[april]
    rate = daily[april]
    switch = np.flatnonzero(rate != rate[0])[0]
    assert str(april_days[switch]) == "2026-04-16"
    assert rate[0] == pytest.approx(40.0 / april.sum())


def test_reaction_adds_the_next_month(model_config):
    regime = Regime("R", Uniform(25.0, 25.0), react_above_bp=-100.0, react_add_bn=10.0)
    config = with_regimes(model_config, regime)
    schedule, trace = _trace(config, n=10)
    month = schedule.day_int[:, L.DI_MONTH]
    per_month = np.stack([trace["purchases"][:, month == m, 0].sum(axis=1) for m in range(24)], 1)
    np.testing.assert_allclose(per_month[:, 0], 25.0, rtol=1e-12)
    np.testing.assert_allclose(per_month[:, 1:], 35.0, rtol=1e-12)  # always above -100bp


def test_emergency_after_the_first_crisis(model_config):
    regime = Regime("C", Uniform(3.5, 3.5), emergency_pace_bn=60.0, emergency_months=2)
    config = with_regimes(tweak(model_config, **{"events.crisis_bp": 12.0}), regime)
    schedule, trace = _trace(config, n=50)
    month = schedule.day_int[:, L.DI_MONTH]
    dim = schedule.days_in_month
    crisis = trace.events[:, :, 0, L.E_CRISIS]
    checked = 0
    for path in np.flatnonzero(crisis.any(axis=1)):
        first = np.flatnonzero(crisis[path])[0]
        rate = trace["purchases"][path, :, 0] * dim[month]
        assert rate[: first + 1] == pytest.approx(3.5), path
        after = np.arange(first + 1, len(month))
        active = month[after] <= month[first] + 2
        np.testing.assert_allclose(rate[after[active]], 60.0)
        np.testing.assert_allclose(rate[after[~active]], 3.5)
        checked += 1
    assert checked >= 5


def test_systemic_needs_consecutive_days(model_config):
    config = tweak(model_config, **{"events.systemic_bp": 8.0, "events.systemic_days": 2})
    _, trace = _trace(config, n=100)
    above = trace["spread"] >= 8.0
    expected = above.copy()
    expected[:, 1:] &= above[:, :-1]
    expected[:, 0] = False
    assert expected.any()
    assert np.array_equal(trace.events[..., L.E_SYSTEMIC], expected)


@njit
def _events(params, spread, srf, effr, ratio, reserves, run, month_end):
    bank_assets = reserves / ratio
    return day_events(params, spread, srf, effr, reserves, bank_assets, run, month_end)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # spread bp, SRF $bn, EFFR-IORB bp, ratio, reserves $bn, run, month end
        ((0.0, 0.0, -1.0, 0.12, 3000.0, 0, False), set()),
        ((10.0, 0.0, 0.0, 0.12, 3000.0, 0, False), {"tight", "tight_ex_period_end"}),
        ((10.0, 0.0, 0.0, 0.12, 3000.0, 0, True), {"tight"}),
        ((9.99, 25.0, 0.0, 0.12, 3000.0, 0, True), {"stress"}),
        (
            (25.0, 0.0, 1.5, 0.12, 3000.0, 0, False),
            {"tight", "stress", "tight_ex_period_end", "stress_ex_period_end"},
        ),
        ((5.0, 100.0, 0.0, 0.12, 3000.0, 0, True), {"stress", "crisis"}),
        ((5.0, 0.0, 10.01, 0.12, 3000.0, 0, True), {"crisis"}),
        ((5.0, 0.0, 10.0, 0.12, 3000.0, 0, True), set()),  # EFFR at, not above, the top
        ((50.0, 0.0, 3.9, 0.12, 3000.0, 1, True), {"tight", "stress", "crisis"}),
        ((100.0, 0.0, 8.9, 0.12, 3000.0, 2, True), {"tight", "stress", "crisis", "systemic"}),
        ((0.0, 0.0, 0.0, 0.1099, 3000.0, 0, False), {"scarce"}),
        ((0.0, 0.0, 0.0, 0.1101, 3000.0, 0, False), set()),
        ((0.0, 0.0, 0.0, 0.12, 2799.0, 0, False), {"scarce"}),
    ],
)
def test_event_tiers_on_hand_made_days(model_schedule, day, expected):
    bits = _events(model_schedule.params, *day)
    assert {name for e, name in enumerate(L.EVENT_NAMES) if bits >> e & 1} == expected


def test_common_random_numbers_order_regimes_path_by_path(model_config):
    """With the state-dependent feedbacks off (σ1 = 0, no RRP refill, no rules), a regime that
    buys more never has a higher spread or more event days, path by path, day by day."""
    regimes = [Regime(f"P{pace}", Uniform(pace, pace)) for pace in (0.0, 15.0, 30.0, 45.0)]
    config = with_regimes(
        tweak(model_config, **{"spread.noise_sd1_bp": 0.0, "on_rrp.refill_bn_per_bp": 0.0}),
        *regimes,
    )
    _, trace = _trace(config, n=300)
    spread = trace["spread"]
    assert (np.diff(spread, axis=2) <= 0).all()
    events = trace.events
    for e in (L.E_TIGHT, L.E_STRESS, L.E_CRISIS, L.E_SCARCE):
        assert (events[:, :, 1:, e] <= events[:, :, :-1, e]).all()
    counts = trace.accumulators.event_count
    assert (np.diff(counts, axis=0) <= 0).all()
    assert counts[0, L.E_TIGHT].sum() > counts[-1, L.E_TIGHT].sum()


def test_interpreted_kernel_equals_compiled(model_schedule, tmp_path):
    """The kernel run as plain Python (NUMBA_DISABLE_JIT=1) gives the same daily values."""
    script = textwrap.dedent(
        """
        import numpy as np, sys, warnings
        warnings.simplefilter("ignore")
        from engine.config import load_config
        from engine.schedule import build_schedule
        from engine.diagnostics import trace_paths
        c = load_config(sys.argv[1])
        t = trace_paths(build_schedule(c), 2, 5, 64)
        np.save(sys.argv[2], t.values)
        """
    )
    out = tmp_path / "interpreted.npy"
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    subprocess.run(
        [sys.executable, "-c", script, str(MODEL_CONFIG), str(out)],
        check=True,
        env=env,
        timeout=300,
    )
    interpreted = np.load(out)
    compiled = trace_paths(model_schedule, 2, 5, 64).values
    np.testing.assert_array_equal(interpreted, compiled)


def test_replaying_recorded_draws_reproduces_the_counts(model_schedule):
    """The kernel's arithmetic fed the draws it recorded gives the same counts: the random
    stream and the model are separable (the benchmarks' ceiling relies on it)."""
    from engine.kernels.paths import replay_block
    from engine.run import empty_accumulators

    trace = trace_paths(model_schedule, 100, 3, 64)
    acc = empty_accumulators(model_schedule)
    replay_block(trace.path_draws, trace.shocks, *model_schedule.kernel_inputs, *acc.arrays)
    acc.n_paths = 100
    assert acc.equals(trace.accumulators)
