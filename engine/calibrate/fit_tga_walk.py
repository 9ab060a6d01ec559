"""The TGA anchor's random walk (``tga.anchor_walk_sd_bn``) from the TGA balance's variogram.

The kernel's TGA is anchor + calendar levels + D + W: D the fast AR(1) deviation
(``fit_tga``), W a random walk of the anchor, W_t = W_{t−1} + σ_W ν_t, driven by the same
innovation ν. The anchors a forecast is given (quarter-end targets, or the mean of the last
quarter-ends) are not what Treasury will hold: from 2020 on the balance's 6-month changes are
nearly √6 times its 1-month changes (a walk), before 2020 barely larger (a mean-reverting
balance). Var(y_{t+k} − y_t) = 2 Var(D) (1 − φ^k) + k σ_W² (plus the calendar's share): σ_W²
is the slope in k of the variogram less D's own part, so that a persistent D (weekly fits
before 2021 give φ ≈ 0.999) is not counted twice.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import statsmodels.api as sm

from .fit_tga import WEEK_DAYS, period_of
from .fitted import Fitted, Kept, StepResult

KEY = "tga.anchor_walk_sd_bn"
LAG_MONTHS = range(2, 10)  # months: lags of the variogram, past D's memory (daily φ ≈ 0.9:
#   φ^42 < 0.02) and short of the April-to-April season [J]
BUSINESS_DAYS_PER_MONTH = 21  # business days per month, the lags' unit [C: 252 a year / 12]
MIN_YEARS = 2.0  # years of data the variogram needs, or the walk is kept [J]


def variogram(level: pd.Series, daily: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lags in business days (K,), mean squared change at each lag $bn² (K,), pairs (K,)) of
    ``level`` ($bn, business-day closes when ``daily``, else weekly levels), by position."""
    values = level.to_numpy(float)
    step = 1 if daily else WEEK_DAYS
    lags = np.array([m * BUSINESS_DAYS_PER_MONTH for m in LAG_MONTHS])
    shifts = np.maximum(np.rint(lags / step).astype(int), 1)
    squares = [np.mean((values[s:] - values[:-s]) ** 2) for s in shifts]
    return shifts * step, np.array(squares), len(values) - shifts


def fit_tga_walk(
    tga_bn: pd.Series, daily: bool, ar_coefficient: float, daily_sd_bn: float, *, series: str
) -> StepResult:
    """Fit ``tga.anchor_walk_sd_bn`` ($bn per business day): the square root of the OLS slope on
    the lag of the variogram (`variogram`) less the fitted AR(1) deviation's part (daily
    ``ar_coefficient`` φ and innovation ``daily_sd_bn`` σ, $bn: 2 σ²/(1 − φ²) (1 − φ^k)), 0
    where the slope is not positive; its s.e. by the delta method from the slope's
    (heteroskedasticity-robust, HC1: the changes overlap, so it is indicative). Kept where the
    series spans less than MIN_YEARS."""
    level = tga_bn.dropna()
    years = (level.index[-1] - level.index[0]).days / 365.25 if len(level) else 0.0
    if years < MIN_YEARS:
        return StepResult(kept=[Kept(KEY, f"{series}: {years:.1f} years, fewer than {MIN_YEARS}")])
    lags, squares, pairs = variogram(level, daily)
    phi = ar_coefficient
    deviation_part = 2.0 * daily_sd_bn**2 / (1.0 - phi**2) * (1.0 - phi**lags)
    fit = sm.OLS(squares - deviation_part, sm.add_constant(lags.astype(float))).fit(cov_type="HC1")
    slope, slope_se = float(fit.params[1]), float(fit.bse[1])
    sd = math.sqrt(max(slope, 0.0))
    stderr = slope_se / (2.0 * sd) if sd > 0 else None
    months = f"{LAG_MONTHS.start}–{LAG_MONTHS.stop - 1}"
    statistic = (
        f"√ slope on k of the variogram E[(y(t+k) − y(t))²] less the AR(1)'s part (φ {phi:.4f}, "
        f"σ {daily_sd_bn:.2f} $bn), OLS, HC1, lags of {months} months "
        f"({int(pairs.min()):,}–{int(pairs.max()):,} pairs); slope {slope:,.1f} $bn²/day"
        + ("" if slope > 0 else ", not positive: no walk")
    )
    fitted = Fitted(KEY, sd, stderr, statistic, period_of(level.index), series, len(level))
    return StepResult(fitted=[fitted])
