"""TGA parameters (``[tga]`` of the config) from the Treasury General Account balance.

Daily closes (Daily Treasury Statement) and weekly levels (H.4.1 WDTGAL, before the DTS series
starts) both identify the daily AR(1) deviation and the amounts of the four calendar effects.
The model fitted is the kernel's (``engine.kernels.day``): TGA = anchor + calendar levels +
D, D_t = φ D_{t-1} + σ ν_t with ν unit-variance Student-t. The calendar levels per $1bn of
amount are computed on the business-day calendar as the kernel books them; a weekly fit samples
them (and the anchor) at each Wednesday's business day, and maps the weekly AR(1) of D to its
daily equivalent.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.tools.numdiff import approx_fprime, approx_hess3
from statsmodels.tsa.statespace.sarimax import SARIMAX

from ..calendar import BusinessCalendar
from ..config import T_DF_MAX, Config
from ..kernels import layout as L
from ..schedule import calendar_levels, tga_calendar_effects
from .fitted import Fitted, FittedBlock, Kept, StepResult

Z_95 = 1.959963984540054  # 1, two-sided 95% normal quantile: ranges are estimate ± Z_95 s.e.
T_DF_FLOOR = 2.05  # 1, smallest t_df written: the kernel scales ν by √((df − 2)/df)
BURN_IN_MONTHS = 3  # months of calendar before the first observation, so that the decaying
#   levels of the effects already open start right (longest half-life 15 business days) [J]
WEEK_DAYS = 5  # business days between two weekly observations (holiday weeks ignored) [J]
MIN_DAILY_OBS = 250  # business days (one year): fewer and the daily fit is not attempted [J]
MIN_WEEKLY_OBS = 104  # weeks (two years): fewer and the weekly fit is not attempted [J]
MIN_KNOTS = 2  # quarter-ends with data needed for an anchor that is not flat [J]
OPTIMIZER_MAXITER = 500  # iterations of the SARIMAX likelihood optimiser (default 50 may stop)
# Debt-limit episodes, from the drawdown's start to the first quarter-end after the rebuild,
# excluded by default: the config models them apart (``tga.debt_ceiling``), and inside the
# sample they make D look like a random walk (daily φ ≈ 0.995 with them, 0.93 without).
# [C: limit hit 2011-05-16, raised 2011-08-02; hit 2013-05-19, suspended 2013-10-17; hit
# 2015-03-16, suspended 2015-11-02; hit 2017-03-16, suspended 2017-09-08; reinstated 2019-03-02,
# suspended 2019-08-02; reinstated 2021-08-01 (Treasury drew the TGA down to ≈ $450bn by
# end-July), raised 2021-12-16; hit 2023-01-19, suspended 2023-06-03; reinstated 2025-01-02,
# raised 2025-07-04; J: start of the 2021 drawdown, end of each rebuild]
DEBT_LIMIT_EPISODES = (
    (dt.date(2011, 5, 16), dt.date(2011, 9, 30)),
    (dt.date(2013, 5, 19), dt.date(2013, 12, 31)),
    (dt.date(2015, 3, 16), dt.date(2015, 12, 31)),
    (dt.date(2017, 3, 16), dt.date(2017, 12, 31)),
    (dt.date(2019, 3, 2), dt.date(2019, 9, 30)),
    (dt.date(2021, 6, 1), dt.date(2022, 1, 31)),
    (dt.date(2023, 1, 19), dt.date(2023, 9, 30)),
    (dt.date(2025, 1, 2), dt.date(2025, 9, 30)),
)
TGA_KEYS = ("tga.ar_coefficient", "tga.daily_sd_bn")


def daily_ar1(weekly_phi: float, weekly_sigma2: float) -> tuple[float, float]:
    """(φ, σ²) of the daily AR(1) whose every WEEK_DAYS-th value has AR(1) coefficient
    ``weekly_phi`` (> 0) and innovation variance ``weekly_sigma2``.

    D_{t+5} = φ^5 D_t + Σ_{j<5} φ^j ε_{t+5−j}, so φ_w = φ^5 and σ_w² = σ² (1 − φ_w²)/(1 − φ²).
    Exact for point levels (WDTGAL, WALCL); week averages (WRESBAL) are smoother, so σ comes
    out low.
    """
    phi = weekly_phi ** (1.0 / WEEK_DAYS)
    return phi, weekly_sigma2 * (1.0 - phi**2) / (1.0 - weekly_phi**2)


def period_of(index: pd.DatetimeIndex) -> tuple[dt.date, dt.date]:
    """First and last date of a non-empty index."""
    return index[0].date(), index[-1].date()


def ci_range(estimate: float, stderr: float) -> tuple[float, float]:
    """The per-path range estimate ± Z_95 · stderr, in the estimate's unit."""
    return (estimate - Z_95 * stderr, estimate + Z_95 * stderr)


def history_calendar(
    first: pd.Timestamp, last: pd.Timestamp, burn_in_months: int = 0
) -> BusinessCalendar:
    """Business-day calendar from the first of the month ``burn_in_months`` before ``first``
    to the end of the month of ``last``."""
    start = (first - pd.DateOffset(months=burn_in_months)).date().replace(day=1)
    months = (last.year - start.year) * 12 + last.month - start.month + 1
    return BusinessCalendar(start=start, horizon_months=months)


def fit_t_df(z: np.ndarray) -> tuple[float, float | None, str]:
    """Student-t degrees of freedom of standardized innovations by MLE.

    Parameters
    ----------
    z : float64 (n,)
        Innovations divided by their sd (finite).

    Returns
    -------
    (df, stderr, statistic)
        ``df`` clipped to [T_DF_FLOOR, T_DF_MAX]; ``stderr`` from the inverse numerical Hessian
        of the log-likelihood in (df, scale), None when it is not positive definite or df is
        clipped.
    """
    df, _, scale = stats.t.fit(z, floc=0.0)

    def negative_loglik(p: np.ndarray) -> float:
        return -float(stats.t.logpdf(z, p[0], 0.0, p[1]).sum())

    stderr = None
    hessian = approx_hess3(np.array([df, scale]), negative_loglik)
    if np.all(np.isfinite(hessian)) and np.all(np.linalg.eigvalsh(hessian) > 0):
        stderr = math.sqrt(np.linalg.inv(hessian)[0, 0])
    statistic = f"Student-t MLE (scipy.stats.t.fit, loc 0) of {len(z):,} standardized innovations"
    if df <= T_DF_FLOOR:
        statistic += f", df {df:.3g} clipped to {T_DF_FLOOR}"
        df, stderr = T_DF_FLOOR, None
    elif df > T_DF_MAX:
        statistic += f", df {df:.3g} capped at {T_DF_MAX:g} (the config's largest)"
        df, stderr = T_DF_MAX, None
    return float(df), stderr, statistic


def _all_kept(keys: Sequence[str], reason: str) -> StepResult:
    return StepResult(kept=[Kept(key, reason) for key in keys])


def _calendar_keys() -> list[str]:
    return [f"tga.calendar.{name}.amount_bn" for name in L.CAL_NAMES]


def fit_tga(
    tga_bn: pd.Series,
    daily: bool,
    config: Config,
    *,
    series: str | None = None,
    exclude: Sequence[tuple[dt.date, dt.date]] = DEBT_LIMIT_EPISODES,
) -> StepResult:
    """Fit ``tga.ar_coefficient``, ``tga.daily_sd_bn``, ``tga.t_df`` and the calendar amounts
    ``tga.calendar.<effect>.amount_bn``, from daily closes or weekly levels.

    Parameters
    ----------
    tga_bn : pandas.Series
        TGA balance, $bn, DatetimeIndex "date", sorted: business-day closes (``daily``) or
        Wednesday levels.
    daily : bool
        True for daily closes, False for weekly levels.
    config : Config
        The base config: calendar windows, half-lives and the sign of each amount range.
    series : str, optional
        Series name for the records (default "DTS TGA" daily, else the Series' name).
    exclude : sequence of (date, date)
        Inclusive periods treated as missing (default ``DEBT_LIMIT_EPISODES``; ``()`` for
        the whole series).

    Returns
    -------
    StepResult
        Fitted values, or Kept ones with the reason, and the block (ar_coefficient,
        daily_sd_bn) with its covariance.

    Notes
    -----
    The anchor is linear in business days through one level per quarter-end (the in-sample
    targets), estimated with the calendar amounts as coefficients of a regression with AR(1)
    errors (statsmodels SARIMAX): φ and σ² by maximum likelihood with robust (sandwich) s.e.,
    the coefficients by GLS. Amount ranges are estimate ± Z_95 s.e., cut at 0 on the side of
    the config's sign; an amount is kept when its effect has no event in the data or its
    estimate has the sign unlike the config's. Weekly: the same regression on the Wednesday
    levels, its regressors (the daily calendar levels per $1bn and the anchor hats) sampled at
    each observation's business day, so the amounts are those of the daily model (with wider
    s.e. for the short-lived effects, which a Wednesday sees decayed); the weekly φ and σ are
    mapped to daily.
    """
    clean = tga_bn.dropna().astype(float)
    masked = clean.copy()
    for start, end in exclude:
        masked[pd.Timestamp(start) : pd.Timestamp(end)] = np.nan
    n_out = int(masked.isna().sum())
    note = f", {n_out:,} obs in {len(exclude)} excluded periods" if n_out else ""
    if daily:
        return _fit_daily(masked, config, series or "DTS TGA", note)
    return _fit_weekly(masked, config, series or str(tga_bn.name or "WDTGAL"), note)


def _anchor_hats(calendar: BusinessCalendar, position: np.ndarray, observed: np.ndarray):
    """Hat functions of the in-sample anchor: linear in business days between quarter-ends.

    Parameters
    ----------
    calendar : BusinessCalendar
    position : int64 (n,)
        Business-day index (in ``calendar``) of each row.
    observed : bool (n,)
        Rows with a value.

    Returns
    -------
    (knots, hats)
        Business-day indices of the quarter-ends kept, int64 (K,): those from the first to the
        last observation whose hat (previous to next quarter-end) covers an observed row; and
        the hats at each row, float64 (n, K), flat before the first and after the last knot.
    """
    seen = position[observed]
    ends = np.flatnonzero(calendar.quarter_end)
    ends = ends[(ends >= seen[0]) & (ends <= seen[-1])]
    low = np.concatenate([[seen[0] - 1], ends[:-1]])
    high = np.concatenate([ends[1:], [seen[-1] + 1]])
    covered = np.searchsorted(seen, high, "left") - np.searchsorted(seen, low, "right") > 0
    knots = ends[covered]
    return knots, np.column_stack([np.interp(position, knots, e) for e in np.eye(len(knots))])


def _ar1_gls(y: np.ndarray, exog: pd.DataFrame):
    """AR(1) errors around a linear regression: φ and σ² by maximum likelihood (robust s.e.),
    the coefficients as diffuse states of the Kalman filter, so that every likelihood
    evaluation holds their exact GLS fit (no incidental-parameter bias in φ from the many
    anchor levels). Returns (fit, coefficients (K,), their GLS covariance (K, K))."""
    model = SARIMAX(y, exog=exog, order=(1, 0, 0), trend="n", mle_regression=False)
    fit = model.fit(disp=False, cov_type="robust", maxiter=OPTIMIZER_MAXITER)
    at = [model.state_names.index(f"beta.{name}") for name in exog.columns]
    return fit, fit.smoothed_state[at, -1], fit.smoothed_state_cov[np.ix_(at, at)][:, :, -1]


def _fit_daily(tga: pd.Series, config: Config, series: str, note: str) -> StepResult:
    """Daily fit; ``tga`` is NaN on excluded days, ``note`` says how many."""
    keys = [*TGA_KEYS, "tga.t_df", *_calendar_keys()]
    if tga.count() < MIN_DAILY_OBS:
        return _all_kept(
            keys, f"{series}: {tga.count()} daily observations, fewer than {MIN_DAILY_OBS}"
        )
    calendar = history_calendar(tga.index[0], tga.index[-1], BURN_IN_MONTHS)
    days = pd.DatetimeIndex(calendar.days)
    level = tga.reindex(days).to_numpy()  # NaN on days without a close (gaps, exclusions)
    observed = np.isfinite(level)
    first, last = np.flatnonzero(observed)[[0, -1]]
    inside = slice(int(first), int(last) + 1)
    # Anchor: linear in business days through quarter-end levels, as in the kernel. They are
    # estimated with the calendar amounts: pinning them at the realized closes would carry D
    # at the knots into the anchor and bias φ upwards (by 1.2 s.e. on average, simulated).
    knots, hats = _anchor_hats(calendar, np.arange(calendar.n_days), observed)
    if len(knots) < MIN_KNOTS:
        return _all_kept(keys, f"{series}: fewer than {MIN_KNOTS} quarter-ends with data")
    result = StepResult()
    levels, events, columns = _calendar_columns(config, calendar, observed, series, result)
    names = [L.CAL_NAMES[k] for k in columns] + [f"anchor_{d}" for d in days[knots].date]
    exog = pd.DataFrame(np.column_stack([levels[:, columns], hats])[inside], columns=names)
    fit, beta, beta_cov = _ar1_gls(level[inside], exog)
    n_obs = int(observed.sum())
    period = period_of(days[observed])
    converged = "" if fit.mle_retvals.get("converged", True) else ", NOT CONVERGED"
    statistic = (
        f"SARIMAX AR(1) MLE (robust s.e.), GLS on {len(columns)} calendar levels + "
        f"{len(knots)} quarter-end anchor levels, {n_obs:,} obs{note}, "
        f"AIC {fit.aic:,.0f}{converged}"
    )

    def record(key, value, stderr, what=statistic, n=n_obs):
        result.fitted.append(Fitted(key, value, stderr, what, period, series, n))

    _record_amounts(result, record, config, series, columns, events, beta, beta_cov, statistic)
    _record_ar(result, record, fit, lambda p: p, statistic)
    _record_t_df(record, level[inside] - exog.to_numpy() @ beta, fit, "")
    return result


def _calendar_columns(
    config: Config, calendar: BusinessCalendar, counted: np.ndarray, series: str, result
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The calendar regressors and the effects the data can identify.

    Parameters
    ----------
    counted : bool (T,)
        Business days of ``calendar`` whose events the data see: an event opening on another
        day does not count.

    Returns
    -------
    (levels, events, columns)
        ``calendar_levels`` float64 (T, N_CAL); events opening on counted days, int64 (N_CAL,);
        the effects with at least one, their amounts to estimate. The others are appended to
        ``result.kept`` with the reason.
    """
    _, opens = tga_calendar_effects(config, calendar)
    events = opens[counted].sum(axis=0)
    columns = [k for k in range(L.N_CAL) if events[k] > 0]
    for k in range(L.N_CAL):
        if events[k] == 0:
            result.kept.append(Kept(_calendar_keys()[k], f"{series}: no {L.CAL_NAMES[k]} event"))
    return calendar_levels(config, calendar), events, columns


def _record_amounts(
    result, record, config, series, columns, events, beta, beta_cov, statistic
) -> None:
    """Record the calendar amounts: ``beta[j]`` (GLS covariance ``beta_cov``) is the amount of
    effect ``columns[j]``. The range is estimate ± Z_95 s.e. cut at 0 on the side of the base
    config's sign; an estimate of the other sign is kept, with the reason."""
    for j, k in enumerate(columns):
        name = L.CAL_NAMES[k]
        estimate, stderr = float(beta[j]), math.sqrt(beta_cov[j, j])
        key = _calendar_keys()[k]
        negative = getattr(config.tga.calendar, name).amount_bn.high <= 0.0
        if (estimate < 0.0) != negative:
            reason = f"{series}: estimate {estimate:.1f} ± {stderr:.1f} $bn, sign unlike config"
            result.kept.append(Kept(key, reason))
            continue
        low, high = ci_range(estimate, stderr)
        value = (low, min(high, 0.0)) if negative else (max(low, 0.0), high)  # keep the sign
        record(
            key,
            value,
            stderr,
            f"{statistic}; {estimate:.1f} ± {Z_95:.2f} s.e. (GLS), {int(events[k])} events",
        )


def _record_ar(result, record, fit, to_daily, statistic) -> None:
    """Record ar_coefficient and daily_sd_bn from the fitted (φ, σ²) of the sampled AR(1), their
    delta-method covariance and the block; ``to_daily`` maps (φ, σ²) to the daily (φ, σ²)."""
    names = ["ar.L1", "sigma2"]
    estimate = np.array([float(fit.params[name]) for name in names])
    if estimate[0] <= 0.0:
        for key in TGA_KEYS:
            result.kept.append(Kept(key, f"AR coefficient {estimate[0]:.3f} is not positive"))
        return

    def daily(p: np.ndarray) -> np.ndarray:
        phi, sigma2 = to_daily(p)
        return np.array([phi, math.sqrt(sigma2)])

    jacobian = approx_fprime(estimate, daily, centered=True)
    mean = daily(estimate)
    cov = jacobian @ fit.cov_params().loc[names, names].to_numpy() @ jacobian.T
    stderr = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    record(TGA_KEYS[0], float(mean[0]), float(stderr[0]))
    record(TGA_KEYS[1], float(mean[1]), float(stderr[1]), f"{statistic}; innovation sd √σ²")
    result.blocks.append(FittedBlock("tga", TGA_KEYS, mean, (cov + cov.T) / 2.0))


def _record_t_df(record, deviation: np.ndarray, fit, what: str) -> None:
    """Record t_df from the innovations (D_t − φ D_{t−1}) / σ of consecutive observed rows of
    the fitted deviation D (float64 (n,), NaN where unobserved)."""
    phi, sigma2 = float(fit.params["ar.L1"]), float(fit.params["sigma2"])
    innovation = (deviation[1:] - phi * deviation[:-1]) / math.sqrt(sigma2)
    innovation = innovation[np.isfinite(innovation)]
    df, stderr, statistic = fit_t_df(innovation)
    record("tga.t_df", df, stderr, statistic + what, len(innovation))


def _fit_weekly(tga: pd.Series, config: Config, series: str, note: str) -> StepResult:
    """Weekly fit; ``tga`` is NaN on excluded weeks, ``note`` says how many.

    The calendar amounts are estimated as in the daily fit: the regressors are the daily
    calendar levels per $1bn (``calendar_levels`` on a business-day calendar from
    BURN_IN_MONTHS before the first observation) and the anchor hats, both taken at each
    observation's business day; an effect counts the events opening in the weeks observed
    (up to each observed Wednesday since the previous row), and one with none is kept.
    """
    keys = [*TGA_KEYS, "tga.t_df", *_calendar_keys()]
    if tga.count() < MIN_WEEKLY_OBS:
        reason = f"{series}: {tga.count()} weekly observations, fewer than {MIN_WEEKLY_OBS}"
        return _all_kept(keys, reason)
    calendar = history_calendar(tga.index[0], tga.index[-1], BURN_IN_MONTHS)
    # Business-day index of each observation (a holiday Wednesday: the day before).
    position = np.searchsorted(calendar.days, tga.index.to_numpy("datetime64[D]"), "right") - 1
    level = tga.to_numpy()
    observed = np.isfinite(level)
    knots, hats = _anchor_hats(calendar, position, observed)
    if len(knots) < MIN_KNOTS:
        return _all_kept(keys, f"{series}: fewer than {MIN_KNOTS} quarter-ends")
    # The days a row sees: those after the previous row's day, up to its own; the first row
    # sees its own day only (the burn-in before it is not data).
    row = np.searchsorted(position, np.arange(calendar.n_days), "left")
    counted = np.zeros(calendar.n_days, dtype=bool)
    inside = slice(int(position[observed][0]), int(position[observed][-1]) + 1)
    counted[inside] = observed[row[inside]]
    result = StepResult()
    levels, events, columns = _calendar_columns(config, calendar, counted, series, result)
    names = [L.CAL_NAMES[k] for k in columns] + [f"anchor_{d}" for d in calendar.days[knots]]
    exog = pd.DataFrame(np.column_stack([levels[position][:, columns], hats]), columns=names)
    fit, beta, beta_cov = _ar1_gls(level, exog)
    n_obs = int(observed.sum())
    period = period_of(tga.index[observed])
    converged = "" if fit.mle_retvals.get("converged", True) else ", NOT CONVERGED"
    statistic = (
        f"SARIMAX AR(1) MLE (robust s.e.) of weekly levels, GLS on {len(columns)} calendar "
        f"levels (daily, at each observation's business day) + {len(knots)} quarter-end anchor "
        f"levels, {n_obs:,} obs{note}, AIC {fit.aic:,.0f}{converged}, weekly φ "
        f"{float(fit.params['ar.L1']):.3f}; daily φ = φ_w^(1/{WEEK_DAYS}), "
        "σ² = σ_w² (1 − φ²)/(1 − φ_w²)"
    )

    def record(key, value, stderr, what=statistic, n=n_obs):
        result.fitted.append(Fitted(key, value, stderr, what, period, series, n))

    def to_daily(p: np.ndarray) -> tuple[float, float]:
        return daily_ar1(p[0], p[1])

    _record_amounts(result, record, config, series, columns, events, beta, beta_cov, statistic)
    _record_ar(result, record, fit, to_daily, statistic)
    weekly = " (weekly: sums of 5 daily ones, lighter-tailed than the daily)"
    _record_t_df(record, level - exog.to_numpy() @ beta, fit, weekly)
    return result
