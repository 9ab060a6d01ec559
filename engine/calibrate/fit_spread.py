"""Fit the daily repo-spread block on top of a fitted demand curve (MODEL.md §4).

With the curve f and its shape h (`engine.calibrate.demand_curve`), the daily residual
r_t = s_t − f(x_t) (bp) is split into

1. calendar effects γ·h(x_t) on exclusive period-end regressors (year-end, else quarter-end,
   else month-end, each × h) plus mid-month settlement × h and a constant (so the γ's are
   measured against ordinary days): a first OLS with HAC standard errors, then feasible GLS,
   OLS on the data whitened by the fitted AR(1) and innovation scale (HC3 s.e.). With five or six
   year-ends in a sample, HAC standard errors of the year-end γ are too small (by ~1.7× in
   simulations of this model); the whitened regression's are not;
2. noise u_t = ρ u_{t−1} + (σ0 + σ1 h(x_t)) η_t, η Student-t(ν) with unit variance, by maximum
   likelihood conditional on the first observation, fitted on the OLS residuals and then on
   the GLS residuals;
3. jumps: days whose standardized innovation exceeds `JUMP_THRESHOLD_SD` (positive only); their
   daily probability p0 exp(−λ_J (x − x0)) by a Poisson GLM with a log link, their size
   Exponential(μ_J) from the exceedances over the threshold (peaks over threshold: the
   exponential is memoryless, so the exceedance has the jump's own mean). The t noise's own
   tail also crosses the threshold (the expected count is reported); those days have small
   exceedances and pull μ_J down: by about a quarter on average in simulations with ~14 jumps
   of mean 30bp in 1,500 days.

The curve is taken as known: its estimation error is not carried into these standard errors.

The SRF ceiling. Above the SRF rate (IORB + 10bp) the observed spread is s = c + ω(s* − c) once
the latent s* passes c = rate + δ, so s ≤ s* there: a day with s above the rate carries a lower
bound of its latent spread. Such days are kept by default (``capped_days="include"``) with s in
place of s*: the γ's, the noise and the jump sizes are then biased DOWN by at most
(1 − ω)(s* − c) on those days (19 days of 1,104 in 2021-07 → 2025-12, most in Oct–Dec 2025).
``capped_days="exclude"`` drops them instead, which also biases the γ's down (it drops the
largest period-end draws) and breaks the AR(1) chain around them; those days are the SRF fit's
(`engine.calibrate.fit_srf`). Neither is a censored-data likelihood, which the 19 days do not
warrant.

The jump days are left out of the GLS and of the noise fit, with the day after each (the
kernel's jump does not enter the AR(1) state, so the next innovation would carry −ρJ). Jumps
found with a noise fitted on them would be too few (they fatten its tails), so the three steps
(flag, GLS, noise) repeat until the flagged days no longer change (`MAX_JUMP_ROUNDS`).

SOFR and IORB are published to 0.01%, so the spread moves in whole basis points, and long
stretches of 2021–2022 sit at exactly −10bp (the ON RRP floor). A density likelihood treats
that rounding as information (most innovations are then "exactly" 0) and drives the scale and
ν to their bounds; the noise likelihood therefore uses the probability of each innovation's
±0.5bp interval (``rounding_bp``). It ignores the rounding of the previous day's value (its
effect is ρ times smaller in the innovation), and the ON RRP floor is not modelled at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from scipy.optimize import minimize
from statsmodels.tools.numdiff import approx_hess3

from engine.calendar import business_days

from ..config import T_DF_MAX
from .demand_curve import CONFIG_KEYS, PARAMS, CurveFit, Selection, calendar_flags
from .fit_tga import period_of
from .fitted import Fitted, FittedBlock, Kept, StepResult

SRF_RATE_ABOVE_IORB_BP = 10.0  # bp, SRF minimum bid rate = top of range = IORB + 10bp [C]
JUMP_THRESHOLD_SD = 4.0  # sd units (η has unit variance), innovation that flags a jump [J]
MIN_JUMP_DAYS = 3  # jump days needed to estimate the jump probability's slope λ_J [J]
HAC_MAXLAGS = 5  # business days (one week), Newey–West lags of the γ regression [J]
WEEK_AVERAGE_CENTRE = pd.Timedelta(days=3)  # a Thursday–Wednesday average sits on the Sunday
RHO_BOUNDS = (0.0, 0.999)  # 1, AR(1) coefficient searched in (the config's [0, 1))
SD0_MIN_BP = 1e-3  # bp, σ0 lower bound (keeps the innovation scale positive)
DF_BOUNDS = (3.0, T_DF_MAX)  # 1, Student-t degrees of freedom searched in [J: from the model's
#   t(3): whole-bp quotes and the 2021–23 ON RRP floor drive a free ν to the variance's edge, 2]
DF_STARTS = (3.0, 8.0, 18.0)  # 1, starting ν of the likelihood maximisation [J]
MAX_JUMP_ROUNDS = 6  # rounds of (GLS, noise fit, jump flags) until the jump days repeat [J]
SPREAD_QUOTE_STEP_BP = 1.0  # bp, SOFR and IORB are published to 0.01% [C: FRED SOFR, IORB]

GAMMA_KEYS = (
    "spread.month_end_bp",
    "spread.quarter_end_bp",
    "spread.year_end_bp",
    "spread.settlement_bp",
)
NOISE_KEYS = ("spread.noise_ar", "spread.noise_sd0_bp", "spread.noise_sd1_bp", "spread.noise_t_df")
JUMP_KEYS = ("spread.jump_p0", "spread.jump_lambda", "spread.jump_mean_bp")
EFFR_KEYS = ("effr.e0_bp", "effr.psi")
SPREAD_SERIES = "SOFR − IORB; WRESBAL / bank assets"


def daily_ratio(ratio_weekly: pd.Series, days) -> pd.Series:
    """The weekly reserve ratio interpolated linearly onto days.

    Each week average (indexed by its Wednesday) is placed at the centre of its Thursday–
    Wednesday week (the Sunday) and interpolated linearly in time; days before the first or after
    the last centre take the nearest week's value.

    Parameters
    ----------
    ratio_weekly : pandas.Series
        Reserve ratio (1), week averages indexed by Wednesday.
    days : array_like of dates (T,)

    Returns
    -------
    pandas.Series
        float64 (T,), indexed by ``days`` (DatetimeIndex), named ``ratio``.
    """
    r = ratio_weekly.dropna().sort_index()
    centre = pd.DatetimeIndex(r.index) - WEEK_AVERAGE_CENTRE
    idx = pd.DatetimeIndex(days)
    t_src = centre.to_numpy().astype("datetime64[ns]").astype(np.int64).astype(float)
    t_dst = idx.to_numpy().astype("datetime64[ns]").astype(np.int64).astype(float)
    values = np.interp(t_dst, t_src, r.to_numpy(dtype=float))
    return pd.Series(values, index=idx, name="ratio")


def _regressors(flags: pd.DataFrame, h: np.ndarray) -> pd.DataFrame:
    """Exclusive calendar regressors × h: the day's largest period-end effect, plus settlement."""
    year = flags["year_end"].to_numpy()
    quarter = flags["quarter_end"].to_numpy() & ~year
    month = flags["month_end"].to_numpy() & ~flags["quarter_end"].to_numpy()
    settlement = flags["settlement"].to_numpy()
    return pd.DataFrame(
        {
            "const": 1.0,
            "month_end": month * h,
            "quarter_end": quarter * h,
            "year_end": year * h,
            "settlement": settlement * h,
        },
        index=flags.index,
    )


def calendar_gamma_h(flags: pd.DataFrame, gamma: dict[str, float]) -> np.ndarray:
    """Σ γ_k 1{k} per day (bp, before × h): the largest period-end γ plus settlement."""
    year = flags["year_end"].to_numpy()
    quarter = flags["quarter_end"].to_numpy()
    month = flags["month_end"].to_numpy()
    period_end = np.where(
        year,
        gamma["year_end"],
        np.where(quarter, gamma["quarter_end"], np.where(month, gamma["month_end"], 0.0)),
    )
    return period_end + flags["settlement"].to_numpy() * gamma["settlement"]


def _neg_loglik(
    theta: np.ndarray, u: np.ndarray, u_prev: np.ndarray, h: np.ndarray, rounding: float = 0.0
) -> float:
    """−log L of u_t = ρ u_{t−1} + (σ0 + σ1 h_t) η_t, η unit-variance Student-t(ν).

    With ``rounding`` > 0 (bp) each innovation is known only to within ±rounding/2 (the spread is
    quoted to that step): its likelihood is the t probability of that interval, not the density.
    """
    rho, sd0, sd1, df = theta
    scale = (sd0 + sd1 * h) * np.sqrt((df - 2.0) / df)
    e = u - rho * u_prev
    if rounding > 0.0:
        a = np.abs(e)  # the t is symmetric: P(a − r/2 < ε < a + r/2), upper tail for accuracy
        log_lo = stats.t.logsf((a - 0.5 * rounding) / scale, df)
        log_hi = stats.t.logsf((a + 0.5 * rounding) / scale, df)
        with np.errstate(divide="ignore", invalid="ignore"):  # −inf − −inf: a 0-probability day
            value = -np.sum(log_lo + np.log1p(-np.exp(log_hi - log_lo)))
    else:
        value = -np.sum(stats.t.logpdf(e, df, scale=scale))
    return float(value) if np.isfinite(value) else 1e300


@dataclass(frozen=True)
class NoiseFit:
    """Maximum-likelihood AR(1) Student-t noise.

    Attributes
    ----------
    params : float64 (4,)
        ρ (1), σ0 (bp), σ1 (bp), ν (1), in `NOISE_KEYS` order.
    covariance : float64 (4, 4)
        Inverse of the numerical Hessian of −log L at the estimate.
    loglik : float
    n : int
        Innovations used.
    at_bounds : tuple[str, ...]
        Config keys whose estimate is on a search bound (their s.e. are not meaningful).
    success : bool
    """

    params: np.ndarray
    covariance: np.ndarray = field(repr=False)
    loglik: float
    n: int
    at_bounds: tuple[str, ...]
    success: bool

    @property
    def stderr(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))

    def scale(self, h) -> np.ndarray:
        """Innovation sd σ0 + σ1 h (bp) at shape values ``h``."""
        return self.params[1] + self.params[2] * np.asarray(h, dtype=float)


def fit_noise(u, u_prev, h, *, rounding_bp: float = 0.0) -> NoiseFit:
    """Fit ρ, σ0, σ1, ν of u_t = ρ u_{t−1} + (σ0 + σ1 h_t) η_t by maximum likelihood.

    ``scipy.optimize.minimize`` (L-BFGS-B, bounds `RHO_BOUNDS`, σ0 ≥ `SD0_MIN_BP`, σ1 ≥ 0,
    ν in `DF_BOUNDS`) from an OLS AR(1) start and each ν in `DF_STARTS`; covariance from the
    inverse of ``statsmodels``' numerical Hessian.

    Parameters
    ----------
    u, u_prev, h : array_like, float (n,)
        Noise (bp), its previous business day's value (bp), and h(x_t) (1).
    rounding_bp : float
        Quoting step of the spread (bp): > 0 uses the interval likelihood of rounded data
        (`_neg_loglik`), 0 the density.

    Returns
    -------
    NoiseFit
    """
    u = np.asarray(u, dtype=float)
    u_prev = np.asarray(u_prev, dtype=float)
    h = np.asarray(h, dtype=float)
    ar = sm.OLS(u, u_prev).fit()
    rho0 = float(np.clip(ar.params[0], *RHO_BOUNDS))
    sd = max(float(np.std(ar.resid)), 10 * SD0_MIN_BP)
    bounds = [RHO_BOUNDS, (SD0_MIN_BP, None), (0.0, None), DF_BOUNDS]
    args = (u, u_prev, h, rounding_bp)
    best = None
    for df in DF_STARTS:
        start = np.array([rho0, 0.5 * sd, 0.5 * sd / max(float(np.mean(h)), 1e-6), df])
        res = minimize(_neg_loglik, start, args=args, method="L-BFGS-B", bounds=bounds)
        if best is None or res.fun < best.fun:
            best = res
    theta = best.x
    hess = approx_hess3(theta, _neg_loglik, args=args)
    cov = np.linalg.pinv(hess)
    cov = 0.5 * (cov + cov.T)
    lo = np.array([RHO_BOUNDS[0], SD0_MIN_BP, 0.0, DF_BOUNDS[0]])
    hi = np.array([RHO_BOUNDS[1], np.inf, np.inf, DF_BOUNDS[1]])
    at = np.isclose(theta, lo, rtol=1e-4, atol=1e-6) | np.isclose(theta, hi, rtol=1e-4)
    return NoiseFit(
        params=theta,
        covariance=cov,
        loglik=-float(best.fun),
        n=int(u.size),
        at_bounds=tuple(k for k, a in zip(NOISE_KEYS, at, strict=True) if a),
        success=bool(best.success),
    )


@dataclass
class SpreadFit:
    """The daily spread block fitted on top of a curve.

    Attributes
    ----------
    result : StepResult
        Fitted and kept values and the blocks ``spread_calendar``, ``spread_noise`` and
        ``spread_jumps``.
    curve : CurveFit
    gamma : dict[str, float]
        ``month_end``, ``quarter_end``, ``year_end``, ``settlement`` (bp) and ``const`` (bp, the
        ordinary-day mean residual; not a config value).
    noise : NoiseFit
    frame : pandas.DataFrame
        Per day of the sample: ``spread_bp``, ``ratio``, ``h``, ``curve_bp``, ``residual_bp``,
        ``noise_bp``, ``innovation_bp``, ``z`` (standardized innovation; NaN where the previous
        business day is missing), ``jump`` (bool), ``capped`` (bool, s above the SRF rate) and
        ``used`` (bool, in the γ and noise fits).
    jump_days : pandas.DatetimeIndex
    """

    result: StepResult
    curve: CurveFit
    gamma: dict[str, float]
    noise: NoiseFit
    frame: pd.DataFrame
    jump_days: pd.DatetimeIndex
    level_bp: pd.Series | None = None

    def latent_mean(self, days, ratio: pd.Series) -> pd.Series:
        """Predicted latent spread f(x) + Σγ·h (bp) on ``days``, ratio (1) given per day, with
        the moving level in place of α where the fit had one."""
        idx = pd.DatetimeIndex(days)
        x = ratio.reindex(idx).to_numpy(dtype=float)
        g = calendar_gamma_h(calendar_flags(idx), self.gamma)
        values = self.curve.predict(x) + g * self.curve.shape(x)
        if self.level_bp is not None:
            values = values + _level_offset(self.level_bp, idx, self.curve)
        return pd.Series(values, index=idx, name="latent_bp")


def curve_result(selection: Selection, series: str = SPREAD_SERIES) -> StepResult:
    """The chosen curve's config values (`Fitted`) and its ``demand_curve`` block.

    The family itself is a string (``selection.family``) for ``demand_curve.family``; it is
    named in each value's statistic. In the exponential family x0 is held (no s.e.).
    """
    fit = selection.fit
    row = selection.table.loc[selection.family]
    what = (
        f"robust NLS ({fit.loss}, scale {fit.f_scale:.3g}bp) of weekly spread on reserve ratio, "
        f"family {selection.family} by rolling-origin out-of-sample RMSE "
        f"{row['rmse_oos']:.3g}bp over {int(row['n_origins'])} origins"
    )
    out = StepResult()
    se = fit.stderr
    for key, p in zip(CONFIG_KEYS, PARAMS, strict=True):
        note = ""
        if p in fit.fixed:
            note = "; held (not identified in the exponential family)"
        elif p in fit.at_bounds:
            note = "; on its bound"
        out.fitted.append(
            Fitted(
                key=key,
                value=float(fit.params[p]),
                stderr=None if p in fit.fixed else float(se[p]),
                statistic=what + note,
                period=selection.period,
                series=series + " (weekly)",
                n_obs=fit.n,
            )
        )
    out.blocks.append(FittedBlock("demand_curve", CONFIG_KEYS, fit.mean, fit.covariance.copy()))
    return out


def _jump_glm(frame: pd.DataFrame, x0: float, fixed_lambda: float | None = None):
    """Poisson GLM (log link, HC0 s.e.) of the jump indicator on x − x0: log p = b0 + b1 (x − x0),
    or, with ``fixed_lambda``, on a constant with the offset −λ_J (x − x0)."""
    y = frame["jump"].to_numpy(dtype=float)
    gap = frame["ratio"].to_numpy() - x0
    poisson = sm.families.Poisson()
    if fixed_lambda is None:
        exog = sm.add_constant(gap, has_constant="add")
        return sm.GLM(y, exog, family=poisson).fit(cov_type="HC0")
    exog = np.ones((y.size, 1))
    return sm.GLM(y, exog, family=poisson, offset=-fixed_lambda * gap).fit(cov_type="HC0")


def fit_spread(
    spread_bp: pd.Series,
    ratio_daily: pd.Series,
    curve_fit: CurveFit,
    *,
    srf_rate_bp: float = SRF_RATE_ABOVE_IORB_BP,
    capped_days: Literal["include", "exclude"] = "include",
    jump_threshold: float = JUMP_THRESHOLD_SD,
    base_jump_lambda: float | None = None,
    rounding_bp: float = SPREAD_QUOTE_STEP_BP,
    series: str = SPREAD_SERIES,
    level_bp: pd.Series | None = None,
) -> SpreadFit:
    """Fit the calendar effects, the AR(1) t noise and the jumps of the daily spread.

    Parameters
    ----------
    spread_bp : pandas.Series
        Daily SOFR − IORB (bp), indexed by business day.
    ratio_daily : pandas.Series
        Reserve ratio (1) on the same days (`daily_ratio`).
    curve_fit : CurveFit
        The chosen demand curve (`engine.calibrate.demand_curve.select_family`).
    srf_rate_bp : float
        SRF rate over IORB, bp; days above it are capped days (see the module notes).
    capped_days : {"include", "exclude"}
        Keep capped days (s as a lower bound of s*) or drop them from the γ and noise fits.
    jump_threshold : float
        Standardized innovation (sd units) above which a day is a jump day.
    base_jump_lambda : float, optional
        The base config's ``spread.jump_lambda``: with fewer than `MIN_JUMP_DAYS` jump days it
        is kept and p0 is estimated given it (0 when not given).
    rounding_bp : float
        Quoting step of the spread (bp) for the noise likelihood; 0 for unrounded data.
    series : str
        Series description for the `Fitted` records.
    level_bp : pandas.Series, optional
        The curve's level α on each day (bp; `curve_level.CurveLevel.daily`), in place of the
        curve's one α: the block is then fitted around the moving level.

    Returns
    -------
    SpreadFit
    """
    s = spread_bp.dropna().sort_index()
    s.index = pd.DatetimeIndex(s.index)
    ratio = ratio_daily.reindex(s.index)
    s = s[ratio.notna().to_numpy()]
    x = ratio.dropna().to_numpy(dtype=float)
    if s.size < 30:
        raise ValueError(f"fit_spread: {s.size} days with a spread and a ratio, need 30")
    h = curve_fit.shape(x)
    f = curve_fit.predict(x)
    if level_bp is not None:
        f = f + _level_offset(level_bp, s.index, curve_fit)
    frame = pd.DataFrame(
        {"spread_bp": s.to_numpy(), "ratio": x, "h": h, "curve_bp": f}, index=s.index
    )
    frame["residual_bp"] = frame["spread_bp"] - frame["curve_bp"]
    frame["capped"] = frame["spread_bp"] > srf_rate_bp
    frame["used"] = ~frame["capped"] if capped_days == "exclude" else True
    flags = calendar_flags(frame.index)
    period = period_of(frame.index)
    used = frame["used"].to_numpy()

    # 1. calendar effects, first step: OLS (HAC s.e.)
    X = _regressors(flags, h)
    Xv = X.to_numpy()
    r = frame["residual_bp"].to_numpy()
    ols = sm.OLS(r[used], Xv[used]).fit(cov_type="HAC", cov_kwds={"maxlags": HAC_MAXLAGS})
    beta = np.asarray(ols.params)

    # 2. noise on pairs of consecutive Fed business days both in the sample (a day after a
    # market-only closure, e.g. Good Friday, starts afresh); jumps; then feasible GLS of the γ's
    # on the AR(1)- and scale-whitened data, the noise refitted and the jumps flagged again.
    grid = business_days(period[0], period[1]).astype("datetime64[ns]")
    pos = np.searchsorted(grid, frame.index.to_numpy().astype("datetime64[ns]"))
    prev_ok = np.r_[False, used[1:] & used[:-1] & (np.diff(pos) == 1)]

    def noise_and_z(coef: np.ndarray, mask: np.ndarray):
        u = r - Xv @ coef
        u_prev = np.r_[np.nan, u[:-1]]
        nf = fit_noise(u[mask], u_prev[mask], h[mask], rounding_bp=rounding_bp)
        innov = np.where(prev_ok, u - nf.params[0] * u_prev, np.nan)
        return nf, u, innov, innov / nf.scale(h)

    noise, u, innov, z = noise_and_z(beta, prev_ok)
    jump = np.nan_to_num(z) > jump_threshold
    n_rounds = 0
    while True:
        n_rounds += 1
        clean = prev_ok & ~jump & ~np.r_[False, jump[:-1]]  # nor the day after a jump
        rho = noise.params[0]
        scale = noise.scale(h)[1:]
        y_w = (r[1:] - rho * r[:-1]) / scale
        X_w = (Xv[1:] - rho * Xv[:-1]) / scale[:, None]
        gls = sm.OLS(y_w[clean[1:]], X_w[clean[1:]]).fit(cov_type="HC3")
        beta = np.asarray(gls.params)
        noise, u, innov, z = noise_and_z(beta, clean)
        flagged = np.nan_to_num(z) > jump_threshold
        if np.array_equal(flagged, jump) or n_rounds == MAX_JUMP_ROUNDS:
            break
        jump = flagged
    left_out = int((prev_ok & ~clean).sum())
    names = list(X.columns)
    gamma = {k: float(v) for k, v in zip(names, beta, strict=True)}
    frame["noise_bp"] = u
    frame["innovation_bp"] = innov
    frame["z"] = z
    frame["jump"] = jump
    jump_days = frame.index[jump]

    out = StepResult()
    labels = ("month_end", "quarter_end", "year_end", "settlement")
    exclusive = _regressors(flags, np.ones(len(frame)))
    n_days = {lab: int((exclusive[lab].to_numpy() != 0)[used].sum()) for lab in labels}
    gls_se = dict(zip(names, np.asarray(gls.bse, dtype=float), strict=True))
    ols_est = dict(zip(names, np.asarray(ols.params, dtype=float), strict=True))
    ols_se = dict(zip(names, np.asarray(ols.bse, dtype=float), strict=True))
    for key, lab in zip(GAMMA_KEYS, labels, strict=True):
        out.fitted.append(
            Fitted(
                key=key,
                value=gamma[lab],
                stderr=gls_se[lab],
                statistic=(
                    f"feasible GLS (AR(1) and σ0 + σ1 h whitened, HC3 s.e.) of the curve residual "
                    f"on exclusive calendar dummies × h; first-step OLS {ols_est[lab]:.3g} ± "
                    f"{ols_se[lab]:.2g} (HAC({HAC_MAXLAGS})); {n_days[lab]} {lab} days, "
                    f"ordinary-day mean {gamma['const']:.2g}bp, days above the SRF rate "
                    f"{capped_days}d"
                ),
                period=period,
                series=series,
                n_obs=int(gls.nobs),
            )
        )
    idx = [names.index(lab) for lab in labels]
    cal_cov = np.asarray(gls.cov_params())[np.ix_(idx, idx)]
    cal_mean = np.array([gamma[lab] for lab in labels])
    out.blocks.append(FittedBlock("spread_calendar", GAMMA_KEYS, cal_mean, cal_cov))

    noise_stat = (
        "AR(1) Student-t ML (σ0 + σ1 h scale"
        + (f", data rounded to {rounding_bp:g}bp" if rounding_bp > 0 else "")
        + f"), log L {noise.loglik:.1f}, inverse-Hessian s.e."
        + (f", on bound: {', '.join(noise.at_bounds)}" if noise.at_bounds else "")
        + f", {left_out} jump days and days after them left out (rounds: {n_rounds})"
    )
    for key, value, se in zip(NOISE_KEYS, noise.params, noise.stderr, strict=True):
        out.fitted.append(Fitted(key, float(value), float(se), noise_stat, period, series, noise.n))
    out.blocks.append(
        FittedBlock("spread_noise", NOISE_KEYS, noise.params.copy(), noise.covariance)
    )

    # 3. jumps
    _jump_block(
        out,
        frame[prev_ok],
        noise,
        curve_fit.params["x0"],
        jump_threshold,
        base_jump_lambda,
        period,
        series,
    )
    return SpreadFit(
        result=out,
        curve=curve_fit,
        gamma=gamma,
        noise=noise,
        frame=frame,
        jump_days=jump_days,
        level_bp=level_bp,
    )


def _level_offset(level_bp: pd.Series, days: pd.DatetimeIndex, curve_fit: CurveFit) -> np.ndarray:
    """The moving level less the curve's α on ``days`` (bp; 0 where the level has no value)."""
    level = level_bp.reindex(days).to_numpy(dtype=float)
    return np.nan_to_num(level - curve_fit.params["alpha_bp"])


def _jump_block(
    out: StepResult,
    sample: pd.DataFrame,
    noise,
    x0: float,
    jump_threshold: float,
    base_jump_lambda: float | None,
    period,
    series: str,
) -> None:
    """Fit the jump block (p0, λ_J, mean size) on ``sample`` (the days with a previous day),
    appending to ``out``: fitted values and their block, or the keys kept with the reason."""
    df = noise.params[3]
    p_false = float(stats.t.sf(jump_threshold / np.sqrt((df - 2.0) / df), df))
    n_jump = int(sample["jump"].sum())
    expected_false = p_false * len(sample)
    base = (
        f"{n_jump} jump days (standardized innovation > {jump_threshold:g} sd) of {len(sample)}; "
        f"{expected_false:.1f} expected from the t noise alone"
    )
    if n_jump == 0:
        for key in JUMP_KEYS:
            out.kept.append(Kept(key, f"no jump day: {base}"))
    else:
        with_slope = n_jump >= MIN_JUMP_DAYS
        slope_note = ""
        if with_slope:
            slope_glm = _jump_glm(sample, x0)
            lam_j, lam_se = -float(slope_glm.params[1]), float(slope_glm.bse[1])
            glm = slope_glm
            if lam_j < 0.0:  # the constrained MLE is on the config's bound λ_J ≥ 0
                slope_note = (
                    f"; estimate {lam_j:.3g} ± {lam_se:.2g} < 0 (jump days more frequent at high "
                    "reserves) written at the bound 0, p0 refitted there"
                )
                lam_j = 0.0
                glm = _jump_glm(sample, x0, 0.0)
        else:
            glm = _jump_glm(sample, x0, base_jump_lambda or 0.0)
        if with_slope and np.exp(float(glm.params[0])) >= 1.0:
            # the slope carries p0 from the data's reserve ratios to the knee: a daily
            # probability above 1 there says the slope is not identified where it matters
            extrapolated = float(np.exp(float(glm.params[0])))
            with_slope = False
            glm = _jump_glm(sample, x0, base_jump_lambda or 0.0)
            slope_note = f"; with its slope, p0 at x0 extrapolates to {extrapolated:.3g} > 1"
        b0 = float(glm.params[0])
        p0 = float(np.exp(b0))
        if p0 >= 1.0:
            for key in JUMP_KEYS:
                out.kept.append(
                    Kept(key, f"p0 at x0 = {x0:.4g} extrapolates to {p0:.3g} > 1: {base}")
                )
            return
        v = np.asarray(glm.cov_params())
        glm_stat = f"Poisson GLM (log link) of jump days on x − x0 (x0 = {x0:.4g}); {base}"
        sizes = (sample["innovation_bp"] - jump_threshold * noise.scale(sample["h"]))[
            sample["jump"].to_numpy()
        ]
        mu = float(sizes.mean())
        mu_se = mu / np.sqrt(n_jump)
        out.fitted.append(
            Fitted(
                "spread.jump_p0",
                p0,
                p0 * float(np.sqrt(v[0, 0])),
                glm_stat,
                period,
                series,
                len(sample),
            )
        )
        if with_slope:
            out.fitted.append(
                Fitted(
                    "spread.jump_lambda",
                    lam_j,
                    lam_se,
                    glm_stat + slope_note,
                    period,
                    series,
                    len(sample),
                )
            )
        else:
            why = slope_note[2:] if slope_note else f"{n_jump} jump days (< {MIN_JUMP_DAYS})"
            out.kept.append(
                Kept(
                    "spread.jump_lambda",
                    f"{why}: the slope is not identified; p0 estimated given λ_J = "
                    f"{base_jump_lambda or 0.0:g}",
                )
            )
        out.fitted.append(
            Fitted(
                "spread.jump_mean_bp",
                mu,
                mu_se,
                f"exponential ML of exceedances over the threshold (s.e. mean/√n); {base}",
                period,
                series,
                n_jump,
            )
        )
        if with_slope:
            cov = np.zeros((3, 3))
            cov[0, 0] = p0**2 * v[0, 0]
            if not slope_note:
                cov[0, 1] = cov[1, 0] = -p0 * v[0, 1]
            cov[1, 1] = lam_se**2
            cov[2, 2] = mu_se**2
            out.blocks.append(
                FittedBlock("spread_jumps", JUMP_KEYS, np.array([p0, lam_j, mu]), cov)
            )


def fit_effr(effr_spread_bp: pd.Series, spread_bp: pd.Series, *, s0_bp: float = 0.0) -> StepResult:
    """Fit EFFR − IORB = e0 + ψ max(0, s − s0) by robust linear regression.

    ``statsmodels`` RLM (Huber's T norm) of the daily EFFR − IORB on a constant and
    max(0, s − s0), on the days both series have. ψ is bounded below by 0 in the config; a
    negative estimate is written as 0 (and said so).

    Parameters
    ----------
    effr_spread_bp : pandas.Series
        Daily EFFR − IORB, bp.
    spread_bp : pandas.Series
        Daily SOFR − IORB, bp.
    s0_bp : float
        The config's ``effr.s0_bp``, bp.

    Returns
    -------
    StepResult
        ``effr.e0_bp`` and ``effr.psi`` with s.e. and the block ``effr``; ψ kept when no day
        has s > s0.
    """
    both = pd.concat({"y": effr_spread_bp, "s": spread_bp}, axis=1).dropna()
    both.index = pd.DatetimeIndex(both.index)
    out = StepResult()
    if len(both) < 10:
        for key in EFFR_KEYS:
            out.kept.append(Kept(key, f"{len(both)} days with both EFFR and SOFR (< 10)"))
        return out
    excess = np.maximum(0.0, both["s"].to_numpy() - s0_bp)
    period = period_of(both.index)
    series = "EFFR − IORB; SOFR − IORB"
    if np.count_nonzero(excess) < 3:
        rlm = sm.RLM(both["y"].to_numpy(), np.ones((len(both), 1)), M=sm.robust.norms.HuberT())
        fit = rlm.fit()
        out.fitted.append(
            Fitted(
                "effr.e0_bp",
                float(fit.params[0]),
                float(fit.bse[0]),
                "robust location (Huber)",
                period,
                series,
                len(both),
            )
        )
        out.kept.append(Kept("effr.psi", f"fewer than 3 days with s > s0 = {s0_bp:g}bp"))
        return out
    exog = np.column_stack([np.ones(len(both)), excess])
    fit = sm.RLM(both["y"].to_numpy(), exog, M=sm.robust.norms.HuberT()).fit()
    e0, psi = (float(v) for v in fit.params)
    se = np.asarray(fit.bse, dtype=float)
    n_excess = np.count_nonzero(excess)
    stat = f"robust regression (Huber) on max(0, s − {s0_bp:g}), {n_excess} days s > s0"
    note = "; negative estimate written as 0" if psi < 0 else ""
    out.fitted.append(Fitted("effr.e0_bp", e0, float(se[0]), stat, period, series, len(both)))
    out.fitted.append(
        Fitted("effr.psi", max(psi, 0.0), float(se[1]), stat + note, period, series, len(both))
    )
    out.blocks.append(
        FittedBlock("effr", EFFR_KEYS, np.array([e0, max(psi, 0.0)]), np.asarray(fit.cov_params()))
    )
    return out
