"""Calibration of the demand curve, the daily spread block and the SRF ceiling.

Parameter recovery on simulated data with fixed seeds (an estimate passes when it lies within
`TOL_SE` of its own standard errors from the truth), and the whole chain on the shipped data.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from engine.calendar import business_days
from engine.calibrate import demand_curve as dc
from engine.calibrate.fit_spread import (
    GAMMA_KEYS,
    NOISE_KEYS,
    calendar_gamma_h,
    curve_result,
    daily_ratio,
    fit_effr,
    fit_noise,
    fit_spread,
)
from engine.calibrate.fit_srf import (
    PUBLISHED_TAKEUP_BN,
    SRF_KEYS,
    estimate_srf,
    fit_srf,
    srf_available,
)
from engine.calibrate.fitted import Fitted
from engine.calibrate.readers import DATA_DIR, read_fred
from engine.curves import CURVE_FAMILIES

TOL_SE = 3.0  # standard errors: the recovery tolerance of every estimate
BANK_ASSETS_BN = 24_400.0  # $bn, constant stand-in for bank assets in the real-data test [M]

TRUE_CURVES = {  # bp, bp, 1, 1
    "exponential": {"alpha_bp": -10.0, "beta_bp": 8.0, "x0": 0.12, "lambda": 40.0},
    "logistic": {"alpha_bp": -10.0, "beta_bp": 10.0, "x0": 0.12, "lambda": 60.0},
    "double_exponential": {"alpha_bp": -10.0, "beta_bp": 6.0, "x0": 0.12, "lambda": 50.0},
    "arctan": {"alpha_bp": -10.0, "beta_bp": 8.0, "x0": 0.12, "lambda": 60.0},
}


def true_curve(family: str, p: dict[str, float]) -> float:
    return lambda x: dc.curve(family, x, p["alpha_bp"], p["beta_bp"], p["lambda"], p["x0"])


def assert_within(estimate: float, truth: float, stderr: float, what: str) -> None:
    assert stderr > 0, f"{what}: no standard error"
    z = (estimate - truth) / stderr
    assert abs(z) <= TOL_SE, f"{what}: {estimate:.4g} vs {truth:.4g} ({z:+.2f} s.e.)"


# ---------------------------------------------------------------------------- curve families


def test_shapes_are_normalised_decreasing_and_finite():
    x = np.linspace(0.0, 1.0, 2001)
    for family in dc.FAMILIES:
        assert dc.shape(family, 0.12, 40.0, 0.12) == pytest.approx(1.0)
        h = dc.shape(family, x, 40.0, 0.12)
        assert np.all(np.diff(h) <= 0.0), family
        with np.errstate(over="raise", invalid="raise"):
            extreme = dc.shape(family, np.array([-50.0, 0.0, 50.0]), dc.LAMBDA_MAX, 0.12)
        assert np.all(np.isfinite(extreme)), family
    with pytest.raises(ValueError, match="unknown"):
        dc.shape("cubic", x, 1.0, 0.1)


def test_the_kernel_computes_the_fitted_shapes():
    """The numba kernel's h(x) (``engine.kernels.curve``) is the fitted curve's, every family."""
    from engine.kernels.curve import curve_shape

    x = np.linspace(0.05, 0.25, 101)
    for family in dc.FAMILIES:
        code = CURVE_FAMILIES.index(family)
        kernel = np.array([curve_shape(code, 55.0, xi - 0.12) for xi in x])
        np.testing.assert_allclose(kernel, dc.shape(family, x, 55.0, 0.12), rtol=1e-12)


@pytest.mark.parametrize("family", dc.FAMILIES)
def test_fit_family_recovers_parameters(family):
    p = TRUE_CURVES[family]
    rng = np.random.default_rng(11)
    x = rng.uniform(0.09, 0.17, 250)
    s = true_curve(family, p)(x) + rng.normal(0.0, 1.0, x.size)
    fit = dc.fit_family(family, x, s)
    assert fit.success and fit.n == x.size and not fit.at_bounds
    assert fit.covariance.shape == (4, 4)
    for name in dc.PARAMS:
        if name in fit.fixed:
            assert family == "exponential" and name == "x0"
            assert fit.params[name] == dc.X0_REFERENCE and fit.stderr[name] == 0.0
            continue
        assert_within(fit.params[name], p[name], fit.stderr[name], f"{family} {name}")
    assert 0.7 < fit.residual_sd < 1.3


@pytest.mark.slow  # a rolling-origin selection per family
@pytest.mark.parametrize("family", dc.FAMILIES)
def test_select_family_picks_the_true_family(family):
    """x falls from 0.17 to 0.06 over five years: the forecasts reach ratios where the families
    part (exponential growth, saturation at 2β or eβ, slow arctan tails)."""
    rng = np.random.default_rng(0)
    dates = pd.date_range("2021-01-06", periods=260, freq="W-WED")
    x = np.linspace(0.17, 0.06, dates.size) + rng.normal(0.0, 0.002, dates.size)
    s = dc.curve(family, x, -10.0, 10.0, 60.0, 0.12) + rng.normal(0.0, 0.2, dates.size)
    sel = dc.select_family(x, s, dates, n_origins=4)
    assert sel.family == family, sel.table
    assert sel.fit.family == family
    assert sel.table.index[0] == family
    assert (sel.table["n_origins"] == 4).all()
    assert (sel.table["n_forecasts"] == 52).all()  # 4 origins × 13 weeks
    assert len(sel.origins) == 4 and all(o.month in (3, 6, 9, 12) for o in sel.origins)


def test_weekly_curve_sample_aligns_weeks_and_drops_period_end_days():
    days = pd.DatetimeIndex(business_days(dt.date(2025, 1, 2), dt.date(2025, 2, 28)))
    spread = pd.Series(np.arange(days.size, dtype=float), index=days)
    wednesdays = pd.date_range("2025-01-08", "2025-02-26", freq="W-WED")
    ratio = pd.Series(np.linspace(0.13, 0.12, wednesdays.size), index=wednesdays)
    out = dc.weekly_curve_sample(spread, ratio)
    # week of Thu 2025-01-30 .. Wed 2025-02-05 without the month-end Fri 2025-01-31
    week = [pd.Timestamp(d) for d in ("2025-01-30", "2025-02-03", "2025-02-04", "2025-02-05")]
    row = out.loc[pd.Timestamp("2025-02-05")]
    assert row["n_days"] == 4
    assert row["spread_bp"] == pytest.approx(spread[week].mean())
    assert row["ratio"] == ratio[pd.Timestamp("2025-02-05")]
    # the settlement day (Wed 2025-01-15) is left out of its week
    assert out.loc[pd.Timestamp("2025-01-15"), "n_days"] == 4
    assert set(out.index) <= set(wednesdays)


def test_daily_ratio_interpolates_between_week_centres():
    wednesdays = pd.DatetimeIndex(["2025-01-08", "2025-01-15", "2025-01-22"])
    ratio = pd.Series([0.10, 0.12, 0.11], index=wednesdays)
    days = pd.DatetimeIndex(["2025-01-01", "2025-01-05", "2025-01-12", "2025-01-15", "2025-02-03"])
    out = daily_ratio(ratio, days)
    # centres: Sundays 01-05, 01-12, 01-19
    np.testing.assert_allclose(out.to_numpy(), [0.10, 0.10, 0.12, 0.12 - 0.01 * 3 / 7, 0.11])


# ---------------------------------------------------------------------------- daily spread


def simulate_noise(n: int, h: np.ndarray, rho, sd0, sd1, df, rng) -> np.ndarray:
    """u_t = ρ u_{t−1} + (σ0 + σ1 h_t) η_t, η unit-variance Student-t(df), u_0 = 0."""
    eta = rng.standard_t(df, n) * np.sqrt((df - 2.0) / df)
    u = np.zeros(n)
    for t in range(1, n):
        u[t] = rho * u[t - 1] + (sd0 + sd1 * h[t]) * eta[t]
    return u


@pytest.mark.parametrize("rounding_bp", [0.0, 1.0])
def test_noise_mle_recovers_ar_scale_and_df(rounding_bp):
    truth = np.array([0.5, 2.0, 2.0, 4.0])  # ρ, σ0 (bp), σ1 (bp), ν
    n = 1500
    h = dc.shape("logistic", np.linspace(0.16, 0.10, n + 1), 60.0, 0.12)
    u = simulate_noise(n + 1, h, *truth, np.random.default_rng(5))
    if rounding_bp:
        u = np.round(u / rounding_bp) * rounding_bp
    fit = fit_noise(u[1:], u[:-1], h[1:], rounding_bp=rounding_bp)
    assert fit.success and not fit.at_bounds and fit.n == n
    for name, est, tru, se in zip(NOISE_KEYS, fit.params, truth, fit.stderr, strict=True):
        assert_within(est, tru, se, name)


GAMMA = {"month_end": 4.0, "quarter_end": 8.0, "year_end": 15.0, "settlement": 3.0}  # bp
NOISE = (0.5, 1.0, 1.5, 5.0)  # ρ, σ0 (bp), σ1 (bp), ν
CURVE = dc.CurveFit(
    "logistic",
    {"alpha_bp": -8.0, "beta_bp": 6.0, "x0": 0.12, "lambda": 60.0},
    np.zeros((4, 4)),
    0.0,
    0.0,
    0,
    "linear",
    1.0,
)


def simulate_daily(seed: int, jump_lambda: float = 40.0, end: dt.date = dt.date(2024, 12, 31)):
    """Daily spread from the model from 2019 (true curve `CURVE`, `GAMMA`, `NOISE`), jumps with
    p0 = 0.01/day at x0, slope ``jump_lambda`` and sizes Exponential(30bp): (days, x, s, jumps)."""
    days = pd.DatetimeIndex(business_days(dt.date(2019, 1, 2), end))
    n = days.size
    rng = np.random.default_rng(seed)
    x = np.linspace(0.16, 0.105, n) + 0.003 * np.sin(np.arange(n) / 40.0)
    h = CURVE.shape(x)
    calendar = calendar_gamma_h(dc.calendar_flags(days), GAMMA) * h
    u = simulate_noise(n, h, *NOISE, rng)
    jump_p = np.minimum(1.0, 0.01 * np.exp(-jump_lambda * (x - 0.12)))
    jumps = (rng.uniform(size=n) < jump_p) * rng.exponential(30.0, n)
    return days, x, CURVE.predict(x) + calendar + u + jumps, jumps


def test_fit_spread_recovers_calendar_effects_noise_and_jumps():
    """Six years of daily data from the model with the true curve given. The t noise's own tail
    adds a few false jump days (small exceedances), which pull μ_J down in general (see
    fit_spread); with this seed the recovery holds within the tolerance."""
    days, x, s, jumps = simulate_daily(3)
    ratio = pd.Series(x, index=days)
    fit = fit_spread(pd.Series(s, index=days), ratio, CURVE, rounding_bp=0.0)
    values = {f.key: f for f in fit.result.fitted}
    for key, name in zip(GAMMA_KEYS, GAMMA, strict=True):
        assert_within(values[key].value, GAMMA[name], values[key].stderr, key)
    for key, truth in zip(NOISE_KEYS, NOISE, strict=True):
        assert_within(values[key].value, truth, values[key].stderr, key)
    jump_truth = {"spread.jump_p0": 0.01, "spread.jump_lambda": 40.0, "spread.jump_mean_bp": 30.0}
    for key, truth in jump_truth.items():
        assert_within(values[key].value, truth, values[key].stderr, key)
    big = days[jumps > 25.0]
    assert big.size >= 5 and big.isin(fit.jump_days).mean() >= 0.8
    assert fit.jump_days.isin(days[jumps > 0]).mean() >= 0.7
    names = {b.name for b in fit.result.blocks}
    assert names == {"spread_calendar", "spread_noise", "spread_jumps"}
    latent = fit.latent_mean(days, ratio)
    fitted_calendar = calendar_gamma_h(dc.calendar_flags(days), fit.gamma) * CURVE.shape(x)
    np.testing.assert_allclose(latent.to_numpy(), CURVE.predict(x) + fitted_calendar, atol=1e-9)


def test_jumps_more_frequent_at_high_reserves_give_lambda_zero():
    days, x, s, _ = simulate_daily(4, jump_lambda=-40.0)
    fit = fit_spread(pd.Series(s, index=days), pd.Series(x, index=days), CURVE, rounding_bp=0.0)
    lam = next(f for f in fit.result.fitted if f.key == "spread.jump_lambda")
    assert lam.value == 0.0 and "bound 0" in lam.statistic


def test_capped_days_excluded_from_the_noise_and_calendar_fits():
    days, x, s, _ = simulate_daily(5, end=dt.date(2021, 12, 31))
    s = np.where(s > 13.0, 13.0 + 0.3 * (s - 13.0), s)  # an SRF ceiling at 10 + 3bp
    spread = pd.Series(s, index=days)
    ratio = pd.Series(x, index=days)
    kept = fit_spread(spread, ratio, CURVE, rounding_bp=0.0, capped_days="include")
    dropped = fit_spread(spread, ratio, CURVE, rounding_bp=0.0, capped_days="exclude")
    capped = spread > 10.0
    assert capped.sum() > 0
    assert kept.frame["used"].all()
    assert (dropped.frame["used"] == ~capped).all()
    assert dropped.noise.n < kept.noise.n
    assert not (dropped.frame["jump"] & capped).any()


def test_fit_effr_recovers_intercept_and_slope():
    rng = np.random.default_rng(2)
    days = pd.bdate_range("2024-01-02", periods=500)
    s = pd.Series(rng.normal(0.0, 6.0, days.size), index=days)
    effr = -1.0 + 0.1 * np.maximum(0.0, s) + rng.normal(0.0, 0.3, days.size)
    out = fit_effr(effr, s, s0_bp=0.0)
    got = {f.key: f for f in out.fitted}
    assert_within(got["effr.e0_bp"].value, -1.0, got["effr.e0_bp"].stderr, "e0")
    assert_within(got["effr.psi"].value, 0.1, got["effr.psi"].stderr, "psi")
    assert [b.name for b in out.blocks] == ["effr"]


# ---------------------------------------------------------------------------- SRF


def test_fit_srf_is_exact_on_noiseless_points():
    leak, stigma, k, rate = 0.3, 3.0, 0.8, 10.0
    days = pd.DatetimeIndex(["2025-09-15", "2025-10-31", "2025-11-28", "2025-12-01", "2025-12-31"])
    latent = pd.Series([18.0, 25.0, 40.0, 70.0, 110.0], index=days)
    ceiling = rate + stigma
    spread = ceiling + leak * (latent - ceiling)
    takeup = k * (latent - ceiling)
    out = fit_srf(takeup, spread, latent, rate)
    got = {f.key: f.value for f in out.fitted}
    assert not out.kept
    assert got["srf.leak"] == pytest.approx(leak, abs=1e-6)
    assert got["srf.stigma_median_bp"] == pytest.approx(stigma, abs=1e-6)
    assert got["srf.takeup_bn_per_bp"] == pytest.approx(k, abs=1e-6)
    assert [b.name for b in out.blocks] == ["srf"] and out.blocks[0].keys == SRF_KEYS


def test_fit_srf_with_the_leak_held_needs_no_latent_spread():
    leak, stigma, k, rate = 0.3, 3.0, 0.8, 10.0
    days = pd.DatetimeIndex(["2025-09-15", "2025-10-31", "2025-12-01", "2025-12-31"])
    spread = pd.Series([14.0, 32.0, 22.0, 25.0], index=days)
    takeup = (k / leak) * (spread - rate - stigma)
    out = fit_srf(takeup, spread, None, rate, leak=leak)
    got = {f.key: f.value for f in out.fitted}
    assert [k.key for k in out.kept] == ["srf.leak"]
    assert got["srf.stigma_median_bp"] == pytest.approx(stigma, abs=1e-6)
    assert got["srf.takeup_bn_per_bp"] == pytest.approx(k, abs=1e-6)
    assert out.blocks[0].keys == SRF_KEYS[1:]


def test_fit_srf_keeps_everything_with_fewer_than_three_points():
    days = pd.DatetimeIndex(["2025-10-31", "2025-12-31"])
    out = fit_srf(
        pd.Series([50.0, 75.0], days), pd.Series([32.0, 22.0], days), pd.Series([40.0, 30.0], days)
    )
    assert not out.fitted and [k.key for k in out.kept] == list(SRF_KEYS)


def test_published_takeup_points_match_the_shipped_file():
    path = DATA_DIR / "srf_takeup.csv"
    if not path.is_file():
        pytest.skip("no engine/data/srf_takeup.csv")
    shipped = read_fred(path)
    np.testing.assert_array_equal(shipped.index, PUBLISHED_TAKEUP_BN.index)
    np.testing.assert_allclose(shipped.to_numpy(), PUBLISHED_TAKEUP_BN.to_numpy())


def test_srf_available_from_2021_07_28():
    assert not srf_available("2021-07-27")
    assert srf_available(dt.date(2021, 7, 28))
    assert srf_available(pd.Timestamp("2025-12-31"))


# ---------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real_chain():
    sofr = read_fred(DATA_DIR / "SOFR.csv")
    iorb = read_fred(DATA_DIR / "IORB.csv")
    spread = ((sofr - iorb.reindex(sofr.index)) * 100.0).dropna()
    ratio = read_fred(DATA_DIR / "WRESBAL.csv") / 1000.0 / BANK_ASSETS_BN
    weekly = dc.weekly_curve_sample(spread, ratio)
    selection = dc.select_family(weekly["ratio"], weekly["spread_bp"], weekly.index)
    ratio_daily = daily_ratio(ratio, spread.index)
    spread_fit = fit_spread(spread, ratio_daily, selection.fit, base_jump_lambda=60.0)
    latent = spread_fit.latent_mean(PUBLISHED_TAKEUP_BN.index, ratio_daily)
    return spread, selection, spread_fit, latent


@pytest.mark.slow
def test_real_data_chain(real_chain):
    spread, selection, spread_fit, latent = real_chain
    assert set(selection.table.index) == set(dc.FAMILIES)
    assert selection.table["n_origins"].min() == 8
    assert -10.0 < float(selection.fit.predict(0.12)) < 15.0

    curve = curve_result(selection)
    keys = {f.key for f in curve.fitted}
    assert keys == set(dc.CONFIG_KEYS) and curve.blocks[0].name == "demand_curve"
    fitted = {f.key: f for f in spread_fit.result.fitted}
    assert set(GAMMA_KEYS) | set(NOISE_KEYS) <= set(fitted)
    assert 0.0 <= fitted["spread.noise_ar"].value < 1.0
    assert fitted["spread.noise_t_df"].value > 2.0
    handled = set(fitted) | {k.key for k in spread_fit.result.kept}
    assert {"spread.jump_p0", "spread.jump_lambda", "spread.jump_mean_bp"} <= handled
    for block in [*curve.blocks, *spread_fit.result.blocks]:
        assert np.all(np.isfinite(block.covariance)), block.name
        assert np.allclose(block.covariance, block.covariance.T), block.name
    for f in [*curve.fitted, *spread_fit.result.fitted]:
        assert isinstance(f, Fitted) and f.period[1] <= dt.date(2025, 12, 31)

    est = estimate_srf(PUBLISHED_TAKEUP_BN, spread, latent)
    assert 0.0 <= est.params[0] <= 1.0
    assert est.params[1] >= 0.0 and est.params[2] >= 0.0
    out = fit_srf(PUBLISHED_TAKEUP_BN, spread, latent)
    assert len(out.fitted) in (0, 3) and len(out.fitted) + len(out.kept) == 3


def _far_from_the_knee(seed: int = 4) -> pd.DataFrame:
    """2,000 days at ratios 0.15–0.20 whose jumps grow fast as the ratio falls (slope 100):
    extrapolated to a knee at 0.05 the daily probability would be 0.3 e^10 ≫ 1."""
    rng = np.random.default_rng(seed)
    ratio = rng.uniform(0.15, 0.20, 2_000)
    jump = rng.uniform(size=ratio.size) < 0.3 * np.exp(-100.0 * (ratio - 0.15))
    return pd.DataFrame(
        {"ratio": ratio, "jump": jump, "innovation_bp": np.where(jump, 9.0, 0.0), "h": 0.0}
    )


class _Noise:
    params = np.array([0.5, 1.0, 0.0, 5.0])  # ρ, σ0 (bp), σ1 (bp), Student-t df

    def scale(self, h):
        return self.params[1] + self.params[2] * np.asarray(h, dtype=float)


def test_a_jump_probability_above_one_at_the_knee_is_not_written():
    from engine.calibrate.fit_spread import JUMP_KEYS, _jump_block
    from engine.calibrate.fitted import StepResult

    period = (dt.date(2010, 1, 1), dt.date(2017, 12, 31))
    held = StepResult()
    _jump_block(held, _far_from_the_knee(), _Noise(), 0.05, 4.0, 0.0, period, "test")
    fitted = {f.key: f.value for f in held.fitted}
    kept = {k.key: k.reason for k in held.kept}
    assert 0.0 < fitted["spread.jump_p0"] < 1.0  # p0 refitted with λ_J held at the base's 0
    assert "extrapolates to" in kept["spread.jump_lambda"]
    assert held.blocks == []  # no block of a slope that was not estimated

    steep = StepResult()  # the base's own slope also carries p0 above 1: the block is kept
    _jump_block(steep, _far_from_the_knee(), _Noise(), 0.05, 4.0, 100.0, period, "test")
    assert steep.fitted == []
    assert {k.key for k in steep.kept} == set(JUMP_KEYS)
