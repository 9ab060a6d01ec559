"""Fit the Standing Repo Facility ceiling: leak ω, stigma δ and take-up slope k (MODEL.md §4).

With the ceiling c = rate + δ (bp over IORB) and a latent spread s* above it, the model has

    s   = c + ω (s* − c)        observed SOFR − IORB (bp)
    SRF = k (s* − c)            take-up ($bn)

and, eliminating s*, SRF = (k / ω)(s − c). On the days with a published take-up both s and SRF
are observed and s* is the model's predicted latent spread (the curve plus calendar effects,
`engine.calibrate.fit_spread.SpreadFit.latent_mean`). (ω, δ, k) are fitted jointly by least
squares on the residuals of both equations, with bounds 0 ≤ ω ≤ 1, δ ≥ `STIGMA_MIN_BP`, k ≥ 0.
Without a latent spread only k/ω and δ are identified (the eliminated equation); ``leak`` holds
ω and fits those two.

The two equations are in different units (bp and $bn) and far from equally noisy (take-up
ranged from $26bn to $75bn at the same +22bp); after an unweighted first pass each equation is
weighted by the inverse of its root-mean-square residual and the fit repeated (two-step
feasible weighted least squares), unless a residual vanishes (exact data). The covariance is
s² (J'J)⁻¹ from the weighted Jacobian. It treats s* as known: the curve's own uncertainty is
not carried into (ω, δ, k). With a single stigma δ for every point, δ estimates the median of
the config's lognormal stigma; its log-sd is not identified by five points and is not fitted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from .fitted import Fitted, FittedBlock, Kept, StepResult

SRF_START = dt.date(2021, 7, 28)  # the FOMC established the SRF on 2021-07-28 [C]
SRF_RATE_ABOVE_IORB_BP = 10.0  # bp, SRF minimum bid rate = top of range = IORB + 10bp [C]
MIN_POINTS = 3  # take-up days needed: three parameters [J]
STIGMA_MIN_BP = 0.1  # bp, lower bound of δ (the config needs δ > 0; spreads move in 1bp steps) [J]
SRF_KEYS = ("srf.leak", "srf.stigma_median_bp", "srf.takeup_bn_per_bp")
SRF_SERIES = "published SRF take-up; SOFR − IORB; model latent spread"
START = (0.3, 3.0, 0.8)  # ω (1), δ (bp), k ($bn/bp): the base config's values, as a start [J]

# Take-up reported publicly ($bn), see engine/data/README.md "Published Standing Repo Facility
# take-up points (2025)" [C; 2025-12-01 is "~26"].
PUBLISHED_TAKEUP_BN = pd.Series(
    [1.5, 50.35, 26.0, 25.95, 74.6],
    index=pd.DatetimeIndex(
        ["2025-09-15", "2025-10-31", "2025-12-01", "2025-12-29", "2025-12-31"], name="date"
    ),
    name="SRF",
)


def srf_available(until) -> bool:
    """Whether the SRF exists on the date ``until`` (from `SRF_START`, 2021-07-28)."""
    return pd.Timestamp(until).date() >= SRF_START


def _residuals(theta, s, latent, takeup, rate, weights):
    """Weighted residuals: spread equation (bp) then take-up equation ($bn), shape (2n,)."""
    leak, stigma, k = theta
    ceiling = rate + stigma
    excess = latent - ceiling
    r_spread = ceiling + leak * excess - s
    r_takeup = k * excess - takeup
    return np.concatenate([weights[0] * r_spread, weights[1] * r_takeup])


@dataclass(frozen=True)
class SrfEstimate:
    """Least-squares estimate of the SRF block on take-up days.

    Attributes
    ----------
    params : float64 (3,)
        ω (1), δ (bp), k ($bn/bp), in `SRF_KEYS` order.
    covariance : float64 (3, 3)
        s² (J'J)⁻¹ of the (weighted) fit.
    on_bound : tuple[str, ...]
        Keys whose estimate is on a bound.
    weighting : str
        How the two equations were weighted.
    slope_and_stigma : tuple[float, float]
        (k/ω in $bn/bp, δ in bp) fitted to the eliminated equation SRF = (k/ω)(s − c) alone, which
        needs no latent spread; NaN when it cannot be fitted.
    frame : pandas.DataFrame
        The points: ``takeup`` ($bn), ``s`` and ``latent`` (bp), indexed by date.
    """

    params: np.ndarray
    covariance: np.ndarray
    on_bound: tuple[str, ...]
    weighting: str
    slope_and_stigma: tuple[float, float]
    frame: pd.DataFrame


def _points_frame(points: pd.Series, spread_bp: pd.Series, latent_bp: pd.Series) -> pd.DataFrame:
    idx = pd.DatetimeIndex(points.index)

    def on_points(series: pd.Series) -> np.ndarray:
        return pd.Series(series.to_numpy(dtype=float), pd.DatetimeIndex(series.index)).reindex(idx)

    frame = pd.DataFrame(
        {
            "takeup": points.to_numpy(dtype=float),
            "s": on_points(spread_bp).to_numpy(),
            "latent": on_points(latent_bp).to_numpy(),
        },
        index=idx,
    ).dropna()
    return frame[[srf_available(d) for d in frame.index]]


def estimate_srf(
    points: pd.Series,
    spread_bp: pd.Series,
    latent_bp: pd.Series,
    rate_above_iorb_bp: float = SRF_RATE_ABOVE_IORB_BP,
) -> SrfEstimate:
    """Least-squares (ω, δ, k) on the take-up days (see the module notes); arguments as
    `fit_srf`. Raises ValueError with fewer than `MIN_POINTS` usable days."""
    frame = _points_frame(points, spread_bp, latent_bp)
    n = len(frame)
    if n < MIN_POINTS:
        raise ValueError(f"{n} SRF take-up days with a spread and a latent spread (< {MIN_POINTS})")
    s, latent, takeup = (frame[c].to_numpy() for c in ("s", "latent", "takeup"))
    args = (s, latent, takeup, rate_above_iorb_bp)
    lo, hi = [0.0, STIGMA_MIN_BP, 0.0], [1.0, np.inf, np.inf]

    def solve(weights, start):
        return least_squares(
            _residuals,
            start,
            args=(*args, weights),
            bounds=(lo, hi),
            x_scale="jac",
            xtol=1e-15,
            ftol=1e-15,
            gtol=1e-15,
        )

    weights = np.ones(2)
    fit = solve(weights, np.array(START))
    rms = np.sqrt(np.mean(fit.fun.reshape(2, n) ** 2, axis=1))
    weighting = "unweighted (an equation fits exactly)"
    if np.all(rms > 1e-8 * np.maximum(1.0, [np.abs(s).max(), np.abs(takeup).max()])):
        weights = 1.0 / rms
        fit = solve(weights, fit.x)
        weighting = f"weighted by 1/RMS residual ({rms[0]:.3g}bp, ${rms[1]:.3g}bn)"
    s2 = float(np.sum(fit.fun**2)) / max(2 * n - 3, 1)
    cov = s2 * np.linalg.pinv(fit.jac.T @ fit.jac)
    on_bound = tuple(
        key
        for key, v, a, b in zip(SRF_KEYS, fit.x, lo, hi, strict=True)
        if np.isclose(v, a, rtol=0.0, atol=1e-9) or np.isclose(v, b)
    )

    def eliminated(theta):  # SRF = m (s − rate − δ), no latent spread
        return theta[0] * (s - rate_above_iorb_bp - theta[1]) - takeup

    elim = least_squares(eliminated, [1.0, 1.0], bounds=([0.0, STIGMA_MIN_BP], [np.inf, np.inf]))
    return SrfEstimate(
        params=np.asarray(fit.x, dtype=float),
        covariance=0.5 * (cov + cov.T),
        on_bound=on_bound,
        weighting=weighting,
        slope_and_stigma=(float(elim.x[0]), float(elim.x[1])),
        frame=frame,
    )


def _fit_with_leak(
    points: pd.Series, spread_bp: pd.Series, leak: float, rate_above_iorb_bp: float
) -> StepResult:
    """(δ, k) from SRF = (k/ω)(s − c) with ω held: no latent spread needed."""
    frame = _points_frame(points, spread_bp, spread_bp)
    out = StepResult()
    n = len(frame)
    keys = SRF_KEYS[1:]
    if n < MIN_POINTS:
        reason = f"{n} SRF take-up days with a spread (< {MIN_POINTS})"
        out.kept += [Kept(key, reason) for key in SRF_KEYS]
        return out
    s, takeup = frame["s"].to_numpy(), frame["takeup"].to_numpy()

    def resid(theta):
        stigma, k = theta
        return (k / leak) * (s - rate_above_iorb_bp - stigma) - takeup

    fit = least_squares(
        resid, [START[1], START[2]], bounds=([STIGMA_MIN_BP, 0.0], [np.inf, np.inf])
    )
    s2 = float(np.sum(fit.fun**2)) / max(n - 2, 1)
    cov = s2 * np.linalg.pinv(fit.jac.T @ fit.jac)
    cov = 0.5 * (cov + cov.T)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    on_bound = [
        key
        for key, v, a in zip(keys, fit.x, (STIGMA_MIN_BP, 0.0), strict=True)
        if np.isclose(v, a, rtol=0.0, atol=1e-9)
    ]
    stat = (
        f"least squares of SRF = (k/ω)(s − {rate_above_iorb_bp:g} − δ) with ω held at {leak:g}, "
        f"{n} days, RMS residual ${np.sqrt(np.mean(fit.fun**2)):.3g}bn"
        + (f"; on bound: {', '.join(on_bound)}" if on_bound else "")
    )
    period = (frame.index.min().date(), frame.index.max().date())
    out.kept.append(Kept("srf.leak", f"held at {leak:g}: not identified without a latent spread"))
    for key, value, err in zip(keys, fit.x, se, strict=True):
        out.fitted.append(Fitted(key, float(value), float(err), stat, period, SRF_SERIES, n))
    out.blocks.append(FittedBlock("srf", keys, np.asarray(fit.x, dtype=float), cov))
    return out


def fit_srf(
    points: pd.Series,
    spread_bp: pd.Series,
    latent_bp: pd.Series | None,
    rate_above_iorb_bp: float = SRF_RATE_ABOVE_IORB_BP,
    *,
    leak: float | None = None,
) -> StepResult:
    """Fit (ω, δ, k) of the SRF ceiling on the days with a known take-up (`estimate_srf`).

    Parameters
    ----------
    points : pandas.Series
        SRF take-up ($bn) on dated days (e.g. `PUBLISHED_TAKEUP_BN`).
    spread_bp : pandas.Series
        Daily SOFR − IORB (bp); read on the points' days.
    latent_bp : pandas.Series
        The model's predicted latent spread s* (bp) on the points' days.
    rate_above_iorb_bp : float
        SRF rate over IORB, bp.
    leak : float, optional
        Hold ω at this value (0 < ω ≤ 1) and fit δ and k to SRF = (k/ω)(s − c) alone, which
        needs no latent spread (``latent_bp`` is then not read); ``srf.leak`` is kept.

    Returns
    -------
    StepResult
        ``srf.leak`` (1), ``srf.stigma_median_bp`` (bp), ``srf.takeup_bn_per_bp`` ($bn/bp) with
        s.e. and the block ``srf``. All three are kept, with the reason, when fewer than
        `MIN_POINTS` days have a take-up, a spread and a latent spread, or when k ends at 0: the
        latent spread is then below the ceiling on the take-up days, the take-up equation is
        not explained, and writing k = 0 would switch the take-up off (``leak`` then gives a
        usable k).
    """
    if leak is not None:
        if not 0.0 < leak <= 1.0:
            raise ValueError(f"leak {leak}: must be in (0, 1]")
        return _fit_with_leak(points, spread_bp, leak, rate_above_iorb_bp)
    out = StepResult()
    try:
        est = estimate_srf(points, spread_bp, latent_bp, rate_above_iorb_bp)
    except ValueError as exc:
        out.kept += [Kept(key, str(exc)) for key in SRF_KEYS]
        return out
    leak, stigma, _ = est.params
    slope, stigma_q = est.slope_and_stigma
    n = len(est.frame)
    if "srf.takeup_bn_per_bp" in est.on_bound:
        reason = (
            f"k ends at 0 (ω {leak:.3g}, δ {stigma:.3g}bp): the predicted latent spread is below "
            f"the ceiling on {int((est.frame['latent'] < rate_above_iorb_bp + stigma).sum())} "
            f"of {n} take-up days; the take-up alone gives k/ω = {slope:.3g} $bn/bp, "
            f"δ = {stigma_q:.2f}bp"
        )
        out.kept += [Kept(key, reason) for key in SRF_KEYS]
        return out
    stat = (
        f"joint least squares of s = c + ω(s* − c) and SRF = k(s* − c), c = "
        f"{rate_above_iorb_bp:g} + δ, {n} days, {est.weighting}; take-up alone: k/ω = "
        f"{slope:.3g} $bn/bp, δ = {stigma_q:.2f}bp"
        + (f"; on bound: {', '.join(est.on_bound)}" if est.on_bound else "")
    )
    se = np.sqrt(np.clip(np.diag(est.covariance), 0.0, None))
    period = (est.frame.index.min().date(), est.frame.index.max().date())
    for key, value, err in zip(SRF_KEYS, est.params, se, strict=True):
        out.fitted.append(Fitted(key, float(value), float(err), stat, period, SRF_SERIES, n))
    out.blocks.append(FittedBlock("srf", SRF_KEYS, est.params.copy(), est.covariance.copy()))
    return out
