"""Balance-sheet parameters of the config (currency, ON RRP, bank assets) from data in $bn, and
the level of a series that stops before the calibration date. The TGA is in ``fit_tga``.

Every input is a pandas Series in $ billions with a sorted DatetimeIndex named "date".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from .fit_tga import (
    DEBT_LIMIT_EPISODES,
    Z_95,
    ci_range,
    fit_tga,
    history_calendar,
    period_of,
)
from .fitted import Fitted, FittedBlock, Kept, StepResult

__all__ = [
    "DEBT_LIMIT_EPISODES",
    "fit_bank_assets",
    "fit_currency",
    "fit_on_rrp",
    "fit_tga",
]

DAYS_PER_YEAR = 365.25  # calendar days per year: the time unit of trends and growth
BUSINESS_DAYS_PER_YEAR = 252  # business days per year (the config's simulation value) [C]
TREND_YEARS = 5  # years: trends are fitted over the last 5 years of a series [J]
WEEKLY_MAX_SPACING_DAYS = 10  # days: a median spacing up to this is a weekly series
MIN_TREND_YEARS = 3  # years of data a trend needs, or the base value is kept [J]
MAD_SE_FACTOR = 1.1664  # 1, s.e. of a MAD-based sd is this × sd / √n at the normal
#   (asymptotic variance of the normal-scaled MAD: 1.3605 σ²/n)
RRP_BASE_MONTHS = 12  # months before the series' end: the ON RRP's current regime [J]
RRP_DYNAMICS_MONTHS = 6  # months before the series' end whose daily moves give the AR(1): the
#   take-up trends and switches regime within a year (2021: from 0 to $800bn in 3 months) [J]
RRP_START_DAYS = 5  # ordinary business days before the series' end whose median starts it [J]
RRP_AR_MAX = 0.999  # 1, the daily AR coefficient of a random walk (the config needs < 1) [J]
Z_UNIT_ROOT = 1.6448536269514722  # 1, one-sided 95% normal quantile: φ̂ + Z s.e. ≥ 1 keeps a unit
#   root (a random walk: the 12-month base is not a level the take-up returns to) [J]
RRP_SPIKE_YEARS = 3  # years before the series' end over which period-end spikes are taken [J]
RRP_SPIKE_BASE_DAYS = 5  # business days before a period-end whose median is the base level [J]
RRP_LOW_BASE_BN = 500.0  # $bn: spikes count only where the base was below this (the $2T
#   regime of 2021–2023 had spikes of another kind) [J]
MIN_SPIKES_FOR_SD = 3  # period-ends needed for a log sd [J]
RRP_DYNAMICS_KEYS = (
    "on_rrp.base_bn",
    "on_rrp.ar_coefficient",
    "on_rrp.daily_sd_bn",
    "on_rrp.start_bn",
)
MIN_RRP_DAYS = 60  # business days in the base window, or the ON RRP base is kept [J]
PERIOD_END_SLACK_DAYS = 3  # days: an observation this close before a period-end stands for it
BRIDGE_REACH_DAYS = 31  # days: a series ending this close to ``until`` is taken as current


def _label(series: pd.Series, default: str) -> str:
    return str(series.name) if series.name else default


def _hac_lags(n: int) -> int:
    """Newey–West lag rule floor(4 (n/100)^(2/9))."""
    return math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0))


def _is_weekly(series: pd.Series) -> bool:
    spacing = np.median(np.diff(series.index.to_numpy("datetime64[D]")).astype(float))
    return spacing <= WEEKLY_MAX_SPACING_DAYS


def _last_years(series: pd.Series, years: int) -> pd.Series:
    return series[series.index > series.index[-1] - pd.DateOffset(years=years)]


def _periods_per_year(weekly: bool) -> float:
    return DAYS_PER_YEAR / 7.0 if weekly else 12.0


def _changes_fit(sample: pd.Series, extra: pd.DataFrame | None = None):
    """OLS of the log changes on a constant and the changes of ``extra`` columns, HAC s.e.;
    the constant per period × periods per year is the growth of a random walk with drift."""
    x = pd.DataFrame({"const": 1.0}, index=sample.index)
    if extra is not None:
        x = x.join(extra.diff())
    lags = _hac_lags(len(sample) - 1)
    return sm.OLS(np.log(sample).diff().iloc[1:], x.iloc[1:]).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags}
    )


def _trend_sample(
    series: pd.Series, name: str, keys: list[str], years: int
) -> pd.Series | StepResult:
    """The last ``years`` of positive values, or every key Kept when too short."""
    clean = series.dropna()
    clean = clean[clean > 0.0]
    if clean.empty or clean.index[-1] - clean.index[0] < pd.Timedelta(
        days=MIN_TREND_YEARS * DAYS_PER_YEAR
    ):
        reason = f"{name}: less than {MIN_TREND_YEARS} years of data"
        return StepResult(kept=[Kept(key, reason) for key in keys])
    return _last_years(clean, years)


def _december_shape(index: pd.DatetimeIndex, weekly: bool) -> pd.Series:
    """The kernel's seasonal currency shape (0 → 1 through December, 1 → 0 through January, in
    calendar-day fractions; ``schedule.currency_seasonal_step``) averaged over the days each
    observation averages: its calendar month, or the 7 days ending on a weekly date."""
    first = index[0] - pd.Timedelta(days=6) if weekly else index[0]
    last = index[-1] if weekly else index[-1] + pd.offsets.MonthEnd(0)
    days = pd.date_range(first, last, freq="D")
    fraction = days.day / days.days_in_month
    shape = np.where(days.month == 12, fraction, np.where(days.month == 1, 1.0 - fraction, 0.0))
    daily = pd.Series(shape, index=days)
    if weekly:
        return daily.rolling(7).mean().reindex(index).rename("december")
    return (
        daily.groupby(days.to_period("M"))
        .mean()
        .reindex(index.to_period("M"))
        .set_axis(index)
        .rename("december")
    )


def fit_currency(
    currency_bn: pd.Series, *, series: str | None = None, years: int = TREND_YEARS
) -> StepResult:
    """Fit ``currency.growth_per_year`` (range), ``currency.seasonal_peak_bn`` and
    ``currency.daily_sd_bn`` over the last ``years`` years.

    Parameters
    ----------
    currency_bn : pandas.Series
        Currency in circulation, $bn: monthly (CURRCIR) or weekly (WCURCIR) averages of daily
        values.
    series : str, optional
        Series name for the records (default: the Series' name).
    years : int
        Years of data used, counted back from the last observation.

    Returns
    -------
    StepResult
        Growth: mean log change (HAC s.e.), range = estimate ± Z_95 s.e. Peak and daily
        sd: OLS of the log changes on a constant and the change of the kernel's December shape
        (its random-walk form; HAC s.e.): peak = shape coefficient × last level; daily sd from
        the MAD of the residual changes.
    """
    keys = ["currency.growth_per_year", "currency.seasonal_peak_bn", "currency.daily_sd_bn"]
    name = series or _label(currency_bn, "currency")
    sample = _trend_sample(currency_bn, name, keys, years)
    if isinstance(sample, StepResult):
        return sample
    weekly = _is_weekly(sample)
    unit = "week" if weekly else "month"
    period, n = period_of(sample.index), len(sample)
    seasonal = _changes_fit(sample, _december_shape(sample.index, weekly).to_frame())
    # Growth of a random walk with drift (the kernel's currency): the mean log change per period
    # × periods per year, HAC s.e. (a log-level trend's s.e. is several times too small here).
    per_year = _periods_per_year(weekly)
    growth = per_year * float(seasonal.params["const"])
    growth_se = per_year * float(seasonal.bse["const"])
    last_level = float(sample.iloc[-1])
    peak = float(seasonal.params["december"]) * last_level
    peak_se = float(seasonal.bse["december"]) * last_level
    # Period-on-period changes of period averages of a daily random walk with sd σ over m
    # business days have variance σ² (2m² + 1)/(3m); σ from their MAD, in $bn at the last level.
    m = BUSINESS_DAYS_PER_YEAR / (52 if weekly else 12)
    changes = seasonal.resid.to_numpy() * last_level
    sd = float(stats.median_abs_deviation(changes, scale="normal")) / math.sqrt(
        (2 * m * m + 1) / (3 * m)
    )
    fitted = [
        Fitted(
            keys[0],
            ci_range(growth, growth_se),
            growth_se,
            f"mean {unit}ly log change × {per_year:.4g} (random walk with drift), "
            f"HAC({_hac_lags(n - 1)}) s.e., {n - 1} changes; {growth:.4f} ± {Z_95:.2f} s.e.",
            period,
            name,
            n - 1,
        ),
        Fitted(
            keys[1],
            peak,
            peak_se,
            f"OLS of {unit}ly log changes on the change of the December shape, "
            f"HAC({_hac_lags(n - 1)}) s.e., {n - 1} changes; coefficient × last level "
            f"{last_level:,.0f}",
            period,
            name,
            n - 1,
        ),
        Fitted(
            keys[2],
            sd,
            MAD_SE_FACTOR * sd / math.sqrt(len(changes)),
            f"MAD sd of the residual {unit}-on-{unit} changes ÷ √((2m²+1)/(3m)), m = "
            f"{m:.1f} business days (averages of a daily random walk)",
            period,
            name,
            len(changes),
        ),
    ]
    return StepResult(fitted=fitted)


def fit_bank_assets(
    bank_assets_bn: pd.Series, *, series: str | None = None, years: int = TREND_YEARS
) -> StepResult:
    """Fit ``bank_assets.growth_per_year`` (range): the mean log change (a random walk with
    drift) over the last ``years`` years, HAC s.e., range = estimate ± Z_95 s.e.

    Parameters
    ----------
    bank_assets_bn : pandas.Series
        Bank assets other than reserves, $bn, weekly (the kernel grows these; total assets,
        TLAACBW027SBOG, where no reserves series covers the same weeks).
    series : str, optional
        Series name for the records (default: the Series' name).
    years : int
        Years of data used, counted back from the last observation.
    """
    key = "bank_assets.growth_per_year"
    name = series or _label(bank_assets_bn, "bank assets")
    sample = _trend_sample(bank_assets_bn, name, [key], years)
    if isinstance(sample, StepResult):
        return sample
    weekly = _is_weekly(sample)
    changes = _changes_fit(sample)
    per_year = _periods_per_year(weekly)
    growth, se = per_year * float(changes.params["const"]), per_year * float(changes.bse["const"])
    period, n = period_of(sample.index), len(sample)
    what = (
        f"mean log change × {per_year:.4g} (random walk with drift) over the last {years} years "
        f"({period[0]} → {period[1]}), HAC({_hac_lags(n - 1)}) s.e., {n - 1} changes; "
        f"{growth:.4f} ± {Z_95:.2f} s.e."
    )
    return StepResult(fitted=[Fitted(key, ci_range(growth, se), se, what, period, name, n)])


def _observed_days(level: pd.Series, days: np.ndarray) -> pd.DatetimeIndex:
    """For each business day in ``days``, the last observation on or before it in the same
    month and at most PERIOD_END_SLACK_DAYS earlier (the market may close when the Fed is
    open, e.g. Good Friday 2024-03-29)."""
    wanted = pd.DatetimeIndex(days)
    at = level.index.searchsorted(wanted, "right") - 1
    found = level.index[np.clip(at, 0, None)]
    keep = (at >= 0) & (wanted - found <= pd.Timedelta(days=PERIOD_END_SLACK_DAYS))
    keep &= found.to_period("M") == wanted.to_period("M")
    return found[keep]


def _spikes(level: pd.Series, ends: pd.DatetimeIndex, since: pd.Timestamp):
    """Period-end spikes: level on each of ``ends`` after ``since`` minus the median of the
    RRP_SPIKE_BASE_DAYS observations before it, where that base is below RRP_LOW_BASE_BN.
    Returns (dates, spikes in $bn, number of period-ends looked at)."""
    dates, spikes, seen = [], [], 0
    for day in ends[ends > since]:
        before = level[:day].iloc[-RRP_SPIKE_BASE_DAYS - 1 : -1]
        if len(before) < RRP_SPIKE_BASE_DAYS:
            continue
        seen += 1
        base = float(before.median())
        if base < RRP_LOW_BASE_BN:
            dates.append(day)
            spikes.append(float(level[day]) - base)
    return pd.DatetimeIndex(dates), np.array(spikes), seen


def _lognormal(result, kind, dates, spikes, seen, name) -> None:
    """Median and log sd of positive spikes by lognormal MLE (scipy.stats.lognorm, loc 0)."""
    median_key, sd_key = f"on_rrp.{kind}_median_bn", f"on_rrp.{kind}_log_sd"
    positive = spikes > 0.0
    listed = ", ".join(f"{d.date()} {v:.0f}" for d, v in zip(dates, spikes, strict=True))
    dates, spikes = dates[positive], spikes[positive]
    n = len(spikes)
    label = kind.replace("_", "-")
    if n == 0:
        for key in (median_key, sd_key):
            result.kept.append(Kept(key, f"{name}: no positive {label} spike with a low base"))
        return
    fit = stats.lognorm.fit(spikes, floc=0.0) if n > 1 else (0.0, 0.0, spikes[0])
    log_sd, median = float(fit[0]), float(fit[2])
    period = period_of(dates)
    what = (
        f"lognormal MLE (loc 0) of the {n} positive {label} spikes (level − median of the "
        f"{RRP_SPIKE_BASE_DAYS} days before) among {seen} {label}s in {RRP_SPIKE_YEARS} "
        f"years, those with a base < {RRP_LOW_BASE_BN:.0f}: {listed}"
    )
    median_se = median * log_sd / math.sqrt(n) if n > 1 else None  # delta method on log median
    result.fitted.append(Fitted(median_key, float(median), median_se, what, period, name, n))
    if n < MIN_SPIKES_FOR_SD:
        plural = kind.replace("_", "-") + "s"
        result.kept.append(Kept(sd_key, f"{name}: fewer than {MIN_SPIKES_FOR_SD} {plural}"))
        return
    sd_se = log_sd / math.sqrt(2.0 * n)
    result.fitted.append(Fitted(sd_key, float(log_sd), sd_se, what, period, name, n))
    cov = np.diag([median_se**2, sd_se**2])  # a normal sample's mean and sd are independent
    result.blocks.append(
        FittedBlock(f"on_rrp.{kind}", (median_key, sd_key), np.array([median, log_sd]), cov)
    )


def _fit_rrp_dynamics(
    result: StepResult, recent: pd.Series, ordinary: np.ndarray, name: str
) -> None:
    """Record ``on_rrp.base_bn``, ``ar_coefficient``, ``daily_sd_bn`` and ``start_bn`` from the
    window ``recent`` ($bn, business days) whose ``ordinary`` (bool) days are not period-ends.

    OLS of each ordinary day's level on the previous day's (both ordinary) over the last
    RRP_DYNAMICS_MONTHS months: φ (HC1 s.e.) in [0, 1); where φ̂ + Z_UNIT_ROOT s.e. ≥ 1 a unit
    root is kept: φ = RRP_AR_MAX, a random walk. Innovation sd = sd of its residuals (not a
    robust sd: the large moves are the risk); start = median of the last RRP_START_DAYS
    ordinary levels (the level without a period-end spike); base = the AR's own mean
    c / (1 − φ) ± Z_95 s.e. (delta method), cut at 0, or the start level for a random walk."""
    values = recent.to_numpy()
    inside = recent.index > recent.index[-1] - pd.DateOffset(months=RRP_DYNAMICS_MONTHS)
    pairs = ordinary[1:] & ordinary[:-1] & inside[1:]
    y, x = values[1:][pairs], values[:-1][pairs]
    fit = sm.OLS(y, sm.add_constant(x, has_constant="add")).fit(cov_type="HC1")
    phi_ols, phi_se = float(fit.params[1]), float(fit.bse[1])
    random_walk = phi_ols + Z_UNIT_ROOT * phi_se >= 1.0
    phi = RRP_AR_MAX if random_walk else max(phi_ols, 0.0)
    clipped = f"; {phi_ols:.4f}, a unit root not rejected: random walk" if random_walk else ""
    sd = float(np.sqrt(fit.mse_resid))
    period, n = period_of(recent.index[1:][pairs]), int(pairs.sum())
    statistic = (
        f"OLS AR(1) of the level on consecutive ordinary days, last {RRP_DYNAMICS_MONTHS} "
        "months before the series' end"
    )
    result.fitted.append(
        Fitted(
            "on_rrp.ar_coefficient",
            phi,
            phi_se,
            f"{statistic} (HC1 s.e.){clipped}",
            period,
            name,
            n,
        )
    )
    result.fitted.append(
        Fitted(
            "on_rrp.daily_sd_bn",
            sd,
            sd / math.sqrt(2.0 * n),
            f"sd of the residuals of the {statistic}",
            period,
            name,
            n,
        )
    )
    last = recent[ordinary].iloc[-RRP_START_DAYS:]
    start = float(last.median())
    result.fitted.append(
        Fitted(
            "on_rrp.start_bn",
            start,
            None,
            f"median of the last {len(last)} ordinary days (no period-end spike)",
            period_of(last.index),
            name,
            len(last),
        )
    )
    if random_walk:  # no level to return to: the walk starts, and is centred, where it is
        base, base_se, what = (start, start), None, "the start level (a random walk)"
    else:
        c, gradient = float(fit.params[0]), np.array([1.0, fit.params[0] / (1.0 - phi_ols)])
        mean = c / (1.0 - phi_ols)
        base_se = float(np.sqrt(gradient @ fit.cov_params() @ gradient)) / (1.0 - phi_ols)
        low, high = ci_range(mean, base_se)
        base, what = (max(low, 0.0), max(high, 0.0)), f"the AR's mean c/(1 − φ) {mean:.1f}"
    result.fitted.append(
        Fitted("on_rrp.base_bn", base, base_se, f"{what}, {statistic}", period, name, n)
    )


def fit_on_rrp(on_rrp_bn: pd.Series, *, series: str | None = None) -> StepResult:
    """Fit the ON RRP block: ``on_rrp.base_bn`` (range), its dynamics (``ar_coefficient``,
    ``daily_sd_bn``, ``start_bn``: `_fit_rrp_dynamics`) and the quarter- and year-end spikes
    (``*_median_bn``, ``*_log_sd``).

    Parameters
    ----------
    on_rrp_bn : pandas.Series
        ON RRP take-up, $bn, business days (RRPONTSYD).
    series : str, optional
        Series name for the records (default: the Series' name).

    Returns
    -------
    StepResult
        The take-up fell from $2T (2022) to near zero (2025): base and noise come from the last
        RRP_BASE_MONTHS months, quarter- and year-ends left out; base = 25th–75th percentile of
        the level, the level an AR(1) from today's level reverts to.
        Spikes: last business day of Mar/Jun/Sep (quarter) or Dec (year) in the last
        RRP_SPIKE_YEARS years, where the base was below RRP_LOW_BASE_BN.
    """
    name = series or _label(on_rrp_bn, "ON RRP")
    level = on_rrp_bn.dropna()
    result = StepResult()
    calendar = history_calendar(level.index[0], level.index[-1])
    quarter_ends = _observed_days(level, calendar.days[calendar.quarter_end & ~calendar.year_end])
    year_ends = _observed_days(level, calendar.days[calendar.year_end])
    period_end = quarter_ends.union(year_ends)
    recent = level[level.index > level.index[-1] - pd.DateOffset(months=RRP_BASE_MONTHS)]
    ordinary = ~recent.index.isin(period_end)
    if ordinary.sum() < MIN_RRP_DAYS:
        for key in RRP_DYNAMICS_KEYS:
            result.kept.append(
                Kept(
                    key,
                    f"{name}: fewer than {MIN_RRP_DAYS} days in the last {RRP_BASE_MONTHS} months",
                )
            )
    else:
        _fit_rrp_dynamics(result, recent, ordinary, name)
    since = level.index[-1] - pd.DateOffset(years=RRP_SPIKE_YEARS)
    _lognormal(result, "quarter_end", *_spikes(level, quarter_ends, since), name)
    _lognormal(result, "year_end", *_spikes(level, year_ends, since), name)
    return result
