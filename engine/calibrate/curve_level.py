"""The demand curve's level as a local level: a state-space model of the weekly spread.

The weekly ordinary-day spread of `weekly_curve_sample` is

    s_w = α_w + β h(x_w) + ε_w,      ε_w ~ N(0, σ²_ε)
    α_w = α_{w−1} + η_w,            η_w ~ N(0, σ²_η)

with the family, x0, λ and β of the pooled fit (`demand_curve.select_family`): σ²_ε and σ²_η
by maximum likelihood, α_w by the Kalman filter and smoother (statsmodels'
``UnobservedComponents``, a local level of s_w − β h(x_w); weeks without an observation are
missing values of the filter). A forecast starts from the level filtered at the last week, with
its filtered sd, and each path walks from it with the level's daily sd (σ_η / √5: the walk of a
week spread over its business days). σ²_η = 0 is the pooled curve (a fixed α).

β is the pooled fit's, held: estimated with the level (a constant state), part of the rise of
the spread as reserves fell went to the level instead, and the evaluation scored it worse on
the tight tier in 2019 (docs/model_comparison.md, round 3).

In the config: ``demand_curve.alpha_bp`` = the filtered level, ``demand_curve.alpha_start_sd_bp``
= its filtered sd, ``demand_curve.alpha_walk_sd_bp`` = the daily sd of the walk. The daily spread
block (`fit_spread`) is then fitted around the smoothed level.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from .demand_curve import PARAMS, WEEK_END, CurveFit
from .fit_tga import WEEK_DAYS
from .fitted import Fitted, StepResult

SERIES = "SOFR/EFFR − IORB/IOER (weekly, ordinary days)"
MAX_ITER = 200  # most iterations of the likelihood's optimiser [J]


@dataclass(frozen=True)
class CurveLevel:
    """The local-level fit of the curve.

    Attributes
    ----------
    curve : CurveFit
        The pooled curve with α the level filtered at the last week.
    smoothed_bp : pandas.Series
        Smoothed level α_w (bp), indexed by every H.4.1 Wednesday of the sample.
    smoothed_sd_bp : pandas.Series
        Its sd (bp), given the estimated parameters.
    start_sd_bp : float
        sd of the level filtered at the last week (bp).
    walk_sd_bp : float
        sd of the level's daily walk (bp per √business day): σ_η / √WEEK_DAYS.
    irregular_sd_bp : float
        σ_ε (bp).
    result : StepResult
        The config values (α, β, the two sds) with their statistics.
    """

    curve: CurveFit
    smoothed_bp: pd.Series = field(repr=False)
    smoothed_sd_bp: pd.Series = field(repr=False)
    start_sd_bp: float
    walk_sd_bp: float
    irregular_sd_bp: float
    result: StepResult = field(repr=False)

    def daily(self, days) -> pd.Series:
        """The smoothed level (bp) on business ``days``: each day takes its H.4.1 week's (the
        week ending on the Wednesday on/after it); days outside the sample take the nearest
        week's."""
        idx = pd.DatetimeIndex(days)
        week = idx.to_period(WEEK_END).end_time.normalize()
        level = self.smoothed_bp.reindex(week).to_numpy()
        out = pd.Series(level, index=idx, name="level_bp")
        return out.ffill().bfill()


def fit_curve_level(sample: pd.DataFrame, pooled: CurveFit) -> CurveLevel:
    """Fit the local level of the curve on ``sample`` (`weekly_curve_sample`: ``ratio`` (1),
    ``spread_bp`` (bp), indexed by Wednesday) given the shape of ``pooled``."""
    sample = sample.sort_index()
    grid = pd.date_range(sample.index[0], sample.index[-1], freq=WEEK_END)
    weekly = sample.reindex(grid)
    h = pooled.shape(weekly["ratio"].to_numpy(dtype=float))
    observed = weekly["spread_bp"].notna().to_numpy()
    h = np.where(observed, h, 0.0)  # the regressor of a missing week is never used
    beta = pooled.params["beta_bp"]
    model = sm.tsa.UnobservedComponents(
        weekly["spread_bp"].to_numpy(dtype=float) - beta * h, level="local level"
    )
    fit = model.fit(disp=False, maxiter=MAX_ITER)
    names = list(model.param_names)
    params = dict(zip(names, np.asarray(fit.params, dtype=float), strict=True))
    stderr = dict(zip(names, np.asarray(fit.bse, dtype=float), strict=True))
    level_var = max(params["sigma2.level"], 0.0)
    irregular_var = max(params["sigma2.irregular"], 0.0)
    level_end = float(fit.filtered_state[0, -1])
    start_sd = float(np.sqrt(max(fit.filtered_state_cov[0, 0, -1], 0.0)))
    walk_sd = float(np.sqrt(level_var / WEEK_DAYS))
    smoothed = pd.Series(np.asarray(fit.smoothed_state[0], dtype=float), index=grid)
    smoothed_sd = pd.Series(np.sqrt(np.clip(fit.smoothed_state_cov[0, 0], 0.0, None)), index=grid)

    curve = CurveFit(
        family=pooled.family,
        params={**pooled.params, "alpha_bp": level_end},
        covariance=_covariance(pooled, start_sd),
        residual_sd=float(np.sqrt(irregular_var)),
        rmse=pooled.rmse,
        n=int(observed.sum()),
        loss="gaussian likelihood",
        f_scale=float(np.sqrt(irregular_var)),
        fixed=pooled.fixed,
        at_bounds=pooled.at_bounds,
        success=bool(fit.mle_retvals.get("converged", True)),
    )
    period = (sample.index[0].date(), sample.index[-1].date())
    what = (
        f"local level of the spread less β h(x) of the pooled {pooled.family} curve (β "
        f"{beta:.4g}bp, x0 {pooled.params['x0']:.4g}, λ {pooled.params['lambda']:.4g}), "
        f"Gaussian ML with the Kalman filter, "
        f"log L {fit.llf:.1f}, σ_level {np.sqrt(level_var):.3g}bp/week, σ_irregular "
        f"{np.sqrt(irregular_var):.3g}bp"
    )
    records = [  # each statistic ends with what its s.e. (appended to the comment) is of
        (
            "demand_curve.alpha_bp",
            level_end,
            start_sd,
            what + "; the level filtered at the last week",
        ),
        ("demand_curve.alpha_start_sd_bp", start_sd, None, what + "; sd of the filtered level"),
        (
            "demand_curve.alpha_walk_sd_bp",
            walk_sd,
            _sd_se(level_var, stderr["sigma2.level"]) / np.sqrt(WEEK_DAYS),
            what + f"; σ_level / √{WEEK_DAYS}",
        ),
    ]
    result = StepResult(
        fitted=[
            Fitted(key, float(value), _finite(se), stat, period, SERIES, int(observed.sum()))
            for key, value, se, stat in records
        ]
    )
    return CurveLevel(
        curve, smoothed, smoothed_sd, start_sd, walk_sd, float(np.sqrt(irregular_var)), result
    )


def _finite(value: float | None) -> float | None:
    """A standard error, or None where there is none (a variance on its bound at 0)."""
    return None if value is None or not np.isfinite(value) else float(value)


def _sd_se(variance: float, variance_se: float) -> float:
    """Delta-method s.e. of σ from that of σ² (bp); nan at σ² = 0."""
    return float(variance_se / (2.0 * np.sqrt(variance))) if variance > 0 else float("nan")


def _covariance(pooled: CurveFit, alpha_sd: float) -> np.ndarray:
    """The pooled covariance with α's variance that of the filtered level (its covariance with
    β, x0 and λ, held in the state-space model, is left out)."""
    cov = np.asarray(pooled.covariance, dtype=float).copy()
    a = PARAMS.index("alpha_bp")
    cov[a, :] = 0.0
    cov[:, a] = 0.0
    cov[a, a] = alpha_sd**2
    return cov
