"""Balance-sheet fits (engine.calibrate.fit_balance, fit_tga): the real data in engine/data, and
recovery of known parameters from series simulated the way the kernel simulates them."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from engine.calendar import BusinessCalendar
from engine.calibrate.fit_balance import (
    RRP_AR_MAX,
    fit_bank_assets,
    fit_currency,
    fit_on_rrp,
    fit_tga,
)
from engine.calibrate.fitted import StepResult
from engine.calibrate.readers import DATA_DIR, MILLIONS, UNITS, read_dts_tga, read_fred
from engine.calibrate.state import bridged
from engine.config import load_config
from engine.kernels import layout as L
from engine.schedule import tga_calendar_effects

TOLERANCE_SE = 3.0  # standard errors a recovered parameter may lie from the truth
SEED = 20251201  # root seed of the simulated series
# Truth of the simulated TGA ($bn, per event; the config's ranges' mid-points, about).
TGA_AMOUNTS = {
    "april_tax": 260.0,
    "corporate_tax": 100.0,
    "coupon_settlement": 55.0,
    "first_of_month": -75.0,
}
TGA_AR, TGA_SD, TGA_DF = 0.9, 30.0, 4.0  # 1, $bn/day, 1


def to_bn(series: pd.Series, name: str) -> pd.Series:
    return series / 1000.0 if UNITS[name] == MILLIONS else series


def by_key(result: StepResult) -> dict:
    return {f.key: f for f in result.fitted}


def kept_keys(result: StepResult) -> set[str]:
    return {k.key for k in result.kept}


def mid(value) -> float:
    return sum(value) / 2.0 if isinstance(value, tuple) else value


def assert_recovered(fitted, truth: float) -> None:
    estimate = mid(fitted.value)
    assert fitted.stderr is not None and fitted.stderr > 0
    assert abs(estimate - truth) < TOLERANCE_SE * fitted.stderr, (fitted.key, estimate, truth)


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def tga_daily() -> pd.Series:
    return to_bn(read_dts_tga(DATA_DIR / "DTS_operating_cash_balance.csv"), "TGA")


@pytest.fixture(scope="module")
def tga_real(tga_daily, config) -> StepResult:
    return fit_tga(tga_daily, daily=True, config=config)


# --- the real data ---------------------------------------------------------------------------


def test_tga_daily_real(tga_real):
    fitted = by_key(tga_real)
    assert 0.5 < fitted["tga.ar_coefficient"].value < 1.0
    assert 5.0 < fitted["tga.daily_sd_bn"].value < 80.0
    assert fitted["tga.t_df"].value > 2.0
    april = fitted["tga.calendar.april_tax.amount_bn"].value
    assert mid(april) > 0 and april[0] >= 0.0
    low, high = fitted["tga.calendar.first_of_month.amount_bn"].value
    assert low < high <= 0.0  # the config's range is negative
    assert fitted["tga.ar_coefficient"].series == "DTS TGA"
    (block,) = tga_real.blocks
    assert block.keys == ("tga.ar_coefficient", "tga.daily_sd_bn")
    assert np.all(np.linalg.eigvalsh(block.covariance) > 0)
    print({k: (f.value, f.stderr) for k, f in fitted.items()})


def test_tga_weekly_real(tga_daily, config):
    wednesdays = tga_daily[tga_daily.index.day_of_week == 2].rename("WDTGAL")
    result = fit_tga(wednesdays, daily=False, config=config)
    fitted = by_key(result)
    assert 0.5 < fitted["tga.ar_coefficient"].value < 1.0
    assert 5.0 < fitted["tga.daily_sd_bn"].value < 80.0
    assert fitted["tga.t_df"].value > 2.0
    assert fitted["tga.daily_sd_bn"].series == "WDTGAL"
    # the weekly fit estimates the calendar amounts too (DTS 2022-2025: every effect has events)
    calendar_keys = {f"tga.calendar.{name}.amount_bn" for name in L.CAL_NAMES}
    assert calendar_keys <= fitted.keys()
    april = fitted["tga.calendar.april_tax.amount_bn"]
    assert april.value[0] >= 0.0 and april.stderr > 0
    print({k: (f.value, f.stderr) for k, f in fitted.items()})


def test_tga_weekly_real_wdtgal_2013_2018(config):
    """H.4.1 WDTGAL over 2013-2018 (before the DTS series): the April tax amount is of the
    2010s TGA's scale (~$100-400bn balance), not the 2025 config's 225-300."""
    wdtgal = to_bn(read_fred(DATA_DIR / "WDTGAL.csv"), "WDTGAL")
    result = fit_tga(wdtgal["2013-01-01":"2018-12-31"], daily=False, config=config)
    fitted = by_key(result)
    print({k: (f.value, f.stderr) for k, f in fitted.items()}, result.kept)
    april = fitted["tga.calendar.april_tax.amount_bn"]
    assert 0.0 < mid(april.value) < 200.0
    assert april.series == "WDTGAL" and april.period[0].year == 2013
    assert fitted["tga.daily_sd_bn"].series == "WDTGAL"


def test_currency_real():
    result = fit_currency(to_bn(read_fred(DATA_DIR / "CURRCIR.csv"), "CURRCIR"))
    fitted = by_key(result)
    low, high = fitted["currency.growth_per_year"].value
    assert 0.0 < low < high < 0.12
    assert fitted["currency.daily_sd_bn"].value > 0
    assert fitted["currency.growth_per_year"].period[1] == dt.date(2023, 11, 1)
    print({k: (f.value, f.stderr) for k, f in fitted.items()})


def test_on_rrp_real():
    result = fit_on_rrp(to_bn(read_fred(DATA_DIR / "RRPONTSYD.csv"), "RRPONTSYD"))
    fitted = by_key(result)
    low, high = fitted["on_rrp.base_bn"].value
    assert 0.0 <= low < high < 500.0
    assert fitted["on_rrp.daily_sd_bn"].value > 0
    assert fitted["on_rrp.quarter_end_median_bn"].value > 0
    assert fitted["on_rrp.year_end_median_bn"].n_obs < 3  # two low-base year-ends: 2024, 2025
    assert "on_rrp.year_end_log_sd" in kept_keys(result)
    print({k: (f.value, f.stderr) for k, f in fitted.items()})


def test_bank_assets_real():
    result = fit_bank_assets(to_bn(read_fred(DATA_DIR / "TLAACBW027SBOG.csv"), "TLAACBW027SBOG"))
    (fitted,) = result.fitted
    low, high = fitted.value
    assert -0.05 < low < high < 0.15
    # The last TREND_YEARS (5) years of the file: from its first Wednesday after 2020-12-31.
    assert fitted.period == (dt.date(2021, 1, 6), dt.date(2025, 12, 31))
    assert fitted.n_obs == 261
    print(fitted.value, fitted.stderr)


# --- recovery of known parameters ------------------------------------------------------------


def simulate_tga(
    config, rng: np.random.Generator, start: dt.date, months: int, amounts=TGA_AMOUNTS
) -> pd.Series:
    """Anchor (850/900 at alternate quarter-ends) + the four calendar effects, booked as the
    kernel books them (fixed ``amounts``) + AR(1) deviation with unit-variance t innovations."""
    calendar = BusinessCalendar(start=start, horizon_months=months)
    share, _ = tga_calendar_effects(config, calendar)
    decay = [2.0 ** (-1.0 / getattr(config.tga.calendar, n).half_life_days) for n in L.CAL_NAMES]
    amount = [amounts[n] for n in L.CAL_NAMES]
    nu = rng.standard_t(TGA_DF, calendar.n_days) * math.sqrt((TGA_DF - 2.0) / TGA_DF)
    ends = np.flatnonzero(calendar.quarter_end)
    anchor = np.interp(
        np.arange(calendar.n_days), ends, np.where(np.arange(len(ends)) % 2, 900.0, 850.0)
    )
    level, deviation, values = np.zeros(L.N_CAL), 0.0, np.empty(calendar.n_days)
    for t in range(calendar.n_days):
        deviation = TGA_AR * deviation + TGA_SD * nu[t]
        for k in range(L.N_CAL):
            level[k] = level[k] * decay[k] + share[t, k] * amount[k]
        values[t] = anchor[t] + level.sum() + deviation
    return pd.Series(values, index=pd.DatetimeIndex(calendar.days, name="date"), name="TGA")


def test_tga_daily_recovers_known_parameters(config):
    tga = simulate_tga(config, np.random.default_rng(SEED), dt.date(2016, 1, 1), 48)
    result = fit_tga(tga, daily=True, config=config, exclude=())
    fitted = by_key(result)
    assert not result.kept
    assert_recovered(fitted["tga.ar_coefficient"], TGA_AR)
    assert_recovered(fitted["tga.daily_sd_bn"], TGA_SD)
    assert_recovered(fitted["tga.t_df"], TGA_DF)
    for name, amount in TGA_AMOUNTS.items():
        assert_recovered(fitted[f"tga.calendar.{name}.amount_bn"], amount)


def test_tga_weekly_recovers_the_daily_ar(config):
    """Wednesday levels of a daily AR(1) around the anchor, no calendar effects (the amounts,
    0, are estimated alongside): the daily AR(1) is recovered."""
    no_effects = dict.fromkeys(TGA_AMOUNTS, 0.0)
    tga = simulate_tga(config, np.random.default_rng(SEED + 1), dt.date(2012, 1, 1), 96, no_effects)
    wednesdays = tga[tga.index.day_of_week == 2]
    fitted = by_key(fit_tga(wednesdays, daily=False, config=config, exclude=()))
    assert_recovered(fitted["tga.ar_coefficient"], TGA_AR)
    assert_recovered(fitted["tga.daily_sd_bn"], TGA_SD)


def test_tga_weekly_recovers_the_calendar_amounts(config):
    """Wednesday levels of the daily model (anchor + amounts · calendar levels + daily AR(1)
    deviation), 8 years: each amount within TOLERANCE_SE (3) of its GLS s.e. of the truth, and
    the daily AR(1) still recovered."""
    tga = simulate_tga(config, np.random.default_rng(SEED + 2), dt.date(2012, 1, 1), 96)
    wednesdays = tga[tga.index.day_of_week == 2]
    result = fit_tga(wednesdays, daily=False, config=config, exclude=())
    fitted = by_key(result)
    assert not result.kept
    print({k: (mid(f.value), f.stderr) for k, f in fitted.items()})
    for name, amount in TGA_AMOUNTS.items():
        assert_recovered(fitted[f"tga.calendar.{name}.amount_bn"], amount)
    assert_recovered(fitted["tga.ar_coefficient"], TGA_AR)
    assert_recovered(fitted["tga.daily_sd_bn"], TGA_SD)


def test_tga_excluded_periods_and_short_series(tga_daily, config):
    full = by_key(fit_tga(tga_daily, daily=True, config=config, exclude=()))
    assert full["tga.ar_coefficient"].n_obs == len(tga_daily)
    short = fit_tga(tga_daily.iloc[-100:], daily=True, config=config)
    assert not short.fitted and len(short.kept) == 3 + L.N_CAL


def december_shape(days: pd.DatetimeIndex) -> np.ndarray:
    """The kernel's seasonal shape: 0 → 1 through December, 1 → 0 through January."""
    fraction = days.day / days.days_in_month
    return np.where(days.month == 12, fraction, np.where(days.month == 1, 1.0 - fraction, 0.0))


def test_currency_recovers_growth():
    """Log-linear trend with noise, monthly: the growth within 3 s.e."""
    rng = np.random.default_rng(SEED)
    months = pd.date_range("2015-01-01", "2024-12-01", freq="MS", name="date")
    years = (months - months[0]).days / 365.25
    growth = 0.04
    log_level = math.log(2000.0) + growth * years + rng.normal(0.0, 0.003, len(months))
    result = fit_currency(pd.Series(np.exp(log_level), index=months, name="CURRCIR"))
    assert_recovered(by_key(result)["currency.growth_per_year"], growth)


def test_currency_recovers_seasonal_peak_and_daily_sd():
    """The kernel's form, daily: log drift + log December shape (peak / level) + random walk in
    logs, averaged monthly. Both are $bn at the last level, as the fit reports them."""
    rng = np.random.default_rng(SEED + 2)
    days = pd.date_range("2018-01-01", "2024-12-31", freq="B", name="date")
    peak, daily_sd, level0 = 20.0, 1.5, 2000.0  # $bn, $bn/day, $bn
    walk = np.cumsum(rng.normal(0.0, daily_sd / level0, len(days)))
    drift = 0.03 * np.arange(len(days)) / 252
    log_level = math.log(level0) + drift + walk + peak / level0 * december_shape(days)
    monthly = pd.Series(np.exp(log_level), index=days).resample("MS").mean().rename("CURRCIR")
    fitted = by_key(fit_currency(monthly))
    scale = monthly.iloc[-1] / level0
    assert_recovered(fitted["currency.seasonal_peak_bn"], peak * scale)
    assert_recovered(fitted["currency.daily_sd_bn"], daily_sd * scale)


def test_on_rrp_recovers_base_noise_and_spikes():
    rng = np.random.default_rng(SEED + 3)
    calendar = BusinessCalendar(start=dt.date(2021, 1, 1), horizon_months=60)
    base, sd, median, log_sd = 20.0, 5.0, 60.0, 0.4  # $bn, $bn/day, $bn, 1
    level = np.maximum(0.0, base + sd * rng.standard_normal(calendar.n_days))
    quarter = calendar.quarter_end & ~calendar.year_end
    level[quarter] += np.exp(math.log(median) + log_sd * rng.standard_normal(quarter.sum()))
    level[calendar.year_end] += 125.0
    series = pd.Series(level, index=pd.DatetimeIndex(calendar.days, name="date"), name="RRP")
    result = fit_on_rrp(series)
    fitted = by_key(result)
    low, high = fitted["on_rrp.base_bn"].value
    assert low < base < high
    assert_recovered(fitted["on_rrp.daily_sd_bn"], sd)
    assert_recovered(fitted["on_rrp.quarter_end_median_bn"], median)
    assert_recovered(fitted["on_rrp.quarter_end_log_sd"], log_sd)
    assert fitted["on_rrp.quarter_end_median_bn"].n_obs == 9  # 3 years: 3 quarter-ends each
    assert fitted["on_rrp.year_end_median_bn"].n_obs == 3
    assert "on_rrp.year_end_log_sd" in fitted


def _ar_level(rng, calendar, phi: float, base: float, start: float, sd: float) -> np.ndarray:
    level = np.empty(calendar.n_days)
    previous = start
    for t in range(calendar.n_days):
        previous = base + phi * (previous - base) + sd * rng.standard_normal()
        level[t] = previous
    return level


def test_on_rrp_recovers_a_persistent_take_up():
    """An AR(1) take-up (φ 0.9 around $150bn, σ $10bn/day): φ, σ and the AR's mean are
    recovered within their s.e.; the start is the last ordinary days' level."""
    rng = np.random.default_rng(SEED + 4)
    calendar = BusinessCalendar(start=dt.date(2024, 1, 1), horizon_months=24)
    phi, base, sd = 0.9, 150.0, 10.0  # 1, $bn, $bn/day
    level = _ar_level(rng, calendar, phi, base, base, sd)
    series = pd.Series(level, index=pd.DatetimeIndex(calendar.days, name="date"), name="RRP")
    fitted = by_key(fit_on_rrp(series))
    assert_recovered(fitted["on_rrp.ar_coefficient"], phi)
    assert_recovered(fitted["on_rrp.daily_sd_bn"], sd)
    assert_recovered(fitted["on_rrp.base_bn"], base)
    ordinary = ~(calendar.quarter_end | calendar.year_end)
    assert fitted["on_rrp.start_bn"].value == np.median(level[ordinary][-5:])


def test_on_rrp_keeps_a_random_walk_where_it_starts():
    """A take-up falling by $8bn a day from $2T (2023): no level to return to, so the base is
    the start and φ that of a walk."""
    rng = np.random.default_rng(SEED + 5)
    calendar = BusinessCalendar(start=dt.date(2023, 1, 1), horizon_months=12)
    level = (
        2000.0
        - 5.0 * np.arange(calendar.n_days)
        + np.cumsum(30.0 * rng.standard_normal(calendar.n_days))
    )
    series = pd.Series(level, index=pd.DatetimeIndex(calendar.days, name="date"), name="RRP")
    fitted = by_key(fit_on_rrp(series))
    start = fitted["on_rrp.start_bn"].value
    assert fitted["on_rrp.ar_coefficient"].value == RRP_AR_MAX
    assert fitted["on_rrp.base_bn"].value == (start, start)
    assert "random walk" in fitted["on_rrp.ar_coefficient"].statistic


def test_bank_assets_short_series_is_kept():
    weeks = pd.date_range("2020-01-01", periods=100, freq="W-WED", name="date")
    result = fit_bank_assets(pd.Series(20_000.0, index=weeks, name="TLAACBW027SBOG"))
    assert not result.fitted and kept_keys(result) == {"bank_assets.growth_per_year"}


# --- bridging a series that stops early (engine.calibrate.state.bridged) ----------------------


@pytest.fixture()
def monthly() -> pd.Series:
    index = pd.DatetimeIndex(["2023-09-01", "2023-10-01", "2023-11-01"], name="date")
    return pd.Series([2300.0, 2310.0, 2320.0], index=index, name="CURRCIR")


def _at(series, day, dated, until=None):
    day = pd.Timestamp(day)
    values, rule = bridged(series, pd.DatetimeIndex([day]), dated, 0.02, until or day)
    return float(values.iloc[0]), rule


def test_bridge_inside_the_series_gives_its_values(monthly):
    value, rule = _at(monthly, "2023-11-01", None)
    assert value == 2320.0 and "observed" in rule


def test_bridge_interpolates_to_a_later_dated_value(monthly):
    dated = (dt.date(2025, 11, 1), 2420.0)
    last, target = pd.Timestamp("2023-11-01"), pd.Timestamp("2025-11-01")
    halfway = last + (target - last) / 2
    value, rule = _at(monthly, halfway, dated, until=pd.Timestamp("2025-12-31"))
    assert value == pytest.approx(2370.0) and "interpolated" in rule
    value, rule = _at(monthly, "2025-12-31", dated)
    assert value == 2420.0 and "base config" in rule


def test_bridge_grows_the_last_value_otherwise(monthly):
    until = pd.Timestamp("2025-11-01")
    years = (until - pd.Timestamp("2023-11-01")).days / 365.25
    earlier = (dt.date(2023, 6, 1), 9999.0)  # dated before the last observation: not used
    later = (dt.date(2025, 12, 31), 2420.0)  # dated after `until`: look-ahead, not used
    for dated in (None, earlier, later):
        value, rule = _at(monthly, until, dated)
        assert value == pytest.approx(2320.0 * math.exp(0.02 * years)) and "grown" in rule
