"""The reserve-demand curve: its families, a robust fit of each and an out-of-sample choice.

x = reserves / bank assets (1), d = x − x0, λ ≥ 0. Every family has a shape h normalised to
h(x0) = 1 and decreasing in x; the curve is f(x) = α + β h(x), in bp (MODEL.md §4):

- ``exponential``: h = exp(−λd)
- ``logistic``: h = 2 / (1 + exp(λd))
- ``double_exponential``: h = exp(1 − exp(λd))
- ``arctan``: h = 1 − (2/π) arctan(λd)

The formulas are ``engine.curves`` (the kernel's: ``engine.kernels.curve``). The curve is fitted
to weekly pairs (`weekly_curve_sample`): the week-average reserve ratio and the mean spread of
the week's ordinary days, by robust nonlinear least squares (`fit_family`); the family is chosen
by rolling-origin out-of-sample error (`select_family`).

In the exponential family x0 is not identified: β exp(−λ(x − x0)) = β e^{λx0} e^{−λx}, so x0
only rescales β. It is held at a reference value there (`X0_REFERENCE`), and β is the curve's
excess over α at that ratio; its variance is then zero in the covariance.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.optimize import least_squares

from engine.calendar import BusinessCalendar
from engine.curves import CURVE_FAMILIES, EXP_ARGUMENT_MAX, curve, shape

FAMILIES: tuple[str, ...] = CURVE_FAMILIES
PARAMS: tuple[str, ...] = ("alpha_bp", "beta_bp", "x0", "lambda")
CONFIG_KEYS: tuple[str, ...] = tuple(f"demand_curve.{p}" for p in PARAMS)

X0_REFERENCE = 0.12  # 1, x0 of the exponential family [Afonso et al., NY Fed SR 1019: 12–13%]
LAMBDA_MAX = 500.0  # 1, upper bound of λ: h falls by e^-5 over 1 point of the ratio [J]
X0_MARGIN = 1e-4  # 1, x0 is bounded to (X0_MARGIN, 1 − X0_MARGIN)
LAMBDA_GRID = tuple(np.geomspace(2.0, LAMBDA_MAX, 12).tolist())  # 1, λ nodes of the start grid [J]
X0_GRID_QUANTILES = (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95)  # x0 nodes: quantiles of x [J]
N_STARTS = 3  # best grid nodes the nonlinear fits start from [J]
F_SCALE_FLOOR_BP = 0.25  # bp, smallest robust-loss scale (spreads are quoted in whole bp) [J]
MAD_TO_SD = 1.482602218505602  # 1, MAD of a normal sample × this = its sd
MAX_NFEV = 1000  # most residual evaluations of one least_squares run [J]
MIN_TRAIN_WEEKS = 26  # weeks, fewest observations a rolling-origin fit is made on [J]
WEEK_END = "W-WED"  # H.4.1 weeks run Thursday to Wednesday (WRESBAL is their average) [C]


def _shape_slope(family: str, u: np.ndarray, h: np.ndarray) -> np.ndarray:
    """dh/du of ``family`` at u = λ(x − x0), given h there (for the fit's Jacobian)."""
    if family == "exponential":
        return -h
    if family == "logistic":
        return -h * (1.0 - 0.5 * h)
    if family == "double_exponential":
        return -np.exp(np.clip(u, -EXP_ARGUMENT_MAX, np.log(EXP_ARGUMENT_MAX))) * h
    return -(2.0 / np.pi) / (1.0 + u**2)


@dataclass(frozen=True)
class CurveFit:
    """A robust fit of one curve family.

    Attributes
    ----------
    family : str
    params : dict[str, float]
        ``alpha_bp`` (bp), ``beta_bp`` (bp), ``x0`` (1), ``lambda`` (1).
    covariance : float64 (4, 4)
        Covariance of the parameters in `PARAMS` order (M-estimator sandwich, see `fit_family`);
        the row and column of a parameter held fixed are zero.
    residual_sd : float
        Robust residual sd, bp: 1.4826 × median absolute residual.
    rmse : float
        In-sample root mean squared residual, bp.
    n : int
        Observations.
    loss, f_scale : str, float
        Robust loss of ``least_squares`` and its scale (bp).
    fixed : tuple[str, ...]
        Parameters held fixed (``("x0",)`` for the exponential family).
    at_bounds : tuple[str, ...]
        Free parameters that ended on a bound (their standard errors are not meaningful).
    success : bool
        The optimiser's convergence flag.
    """

    family: str
    params: dict[str, float]
    covariance: np.ndarray = field(repr=False)
    residual_sd: float
    rmse: float
    n: int
    loss: str
    f_scale: float
    fixed: tuple[str, ...] = ()
    at_bounds: tuple[str, ...] = ()
    success: bool = True

    @property
    def stderr(self) -> dict[str, float]:
        """Standard error of each parameter (0 for a fixed one), in its unit."""
        sd = np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))
        return dict(zip(PARAMS, sd.tolist(), strict=True))

    @property
    def mean(self) -> np.ndarray:
        """The parameters in `PARAMS` order, float64 (4,)."""
        return np.array([self.params[p] for p in PARAMS])

    def shape(self, x) -> np.ndarray:
        """h(x) of the fitted curve (1)."""
        return shape(self.family, x, self.params["lambda"], self.params["x0"])

    def predict(self, x) -> np.ndarray:
        """f(x) of the fitted curve (bp)."""
        p = self.params
        return curve(self.family, x, p["alpha_bp"], p["beta_bp"], p["lambda"], p["x0"])


def _loss_derivatives(loss: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ρ'(z) and ρ''(z) of scipy's robust losses at z = (r / f_scale)²."""
    if loss == "linear":
        return np.ones_like(z), np.zeros_like(z)
    if loss == "soft_l1":
        return (1.0 + z) ** -0.5, -0.5 * (1.0 + z) ** -1.5
    if loss == "huber":
        inside = z <= 1.0
        zc = np.where(inside, 1.0, z)
        return np.where(inside, 1.0, zc**-0.5), np.where(inside, 0.0, -0.5 * zc**-1.5)
    raise ValueError(f"loss {loss!r}: one of 'linear', 'soft_l1', 'huber'")


def _m_covariance(jac: np.ndarray, resid: np.ndarray, loss: str, f_scale: float) -> np.ndarray:
    """Huber's M-estimator covariance from scipy's loss-scaled Jacobian.

    With ψ(r) = r ρ'(z) and ψ'(r) = ρ'(z) + 2 z ρ''(z), scipy returns rows J_i √ψ'_i, so
    J̃'J̃ ≈ mean(ψ') J'J and cov = Σψ² / (n − p) / mean(ψ')² (J'J)⁻¹
    = Σψ² / (n − p) / mean(ψ') (J̃'J̃)⁻¹ (Huber 1981, §7.6); least squares when the loss is linear.
    """
    n, p = jac.shape
    z = (resid / f_scale) ** 2
    rho1, rho2 = _loss_derivatives(loss, z)
    psi = resid * rho1
    dpsi = max(float(np.mean(rho1 + 2.0 * z * rho2)), 1e-12)
    scale2 = float(np.sum(psi**2)) / max(n - p, 1) / dpsi
    return scale2 * np.linalg.pinv(jac.T @ jac)


def _start_values(family: str, x: np.ndarray, s: np.ndarray, w: np.ndarray, lam, x0):
    """(α, β, weighted SSR) of the weighted OLS of s on h at a given (λ, x0), with β ≥ 0."""
    h = shape(family, x, lam, x0)
    if np.ptp(h) > 1e-12 and np.all(np.isfinite(h)) and np.max(np.abs(h)) < 1e12:
        ols = sm.WLS(s, sm.add_constant(h, has_constant="add"), weights=w).fit()
        alpha, beta = (float(v) for v in ols.params)
        if beta >= 0.0:
            return alpha, beta, float(ols.ssr)
    mean = float(np.average(s, weights=w))
    return mean, 0.0, float(np.sum(w * (s - mean) ** 2))


def fit_family(
    family: str,
    x,
    spread,
    weights=None,
    *,
    loss: str = "soft_l1",
    f_scale: float | None = None,
    x0: float | None = None,
) -> CurveFit:
    """Fit f(x) = α + β h(x) of one family by robust nonlinear least squares.

    ``scipy.optimize.least_squares`` (analytic Jacobian) from the `N_STARTS` best nodes of a
    profile grid (λ in `LAMBDA_GRID` × x0 at `X0_GRID_QUANTILES` of the sample, α and β by
    OLS), with bounds β ≥ 0, `X0_MARGIN` < x0 < 1 − `X0_MARGIN`, 0 ≤ λ ≤ `LAMBDA_MAX`. A first
    pass with the squared loss sets the robust scale (1.4826 × median absolute residual, at
    least `F_SCALE_FLOOR_BP`) unless ``f_scale`` is given; the robust pass starts from each
    squared-loss solution and keeps the lowest robust cost. The covariance is Huber's
    M-estimator sandwich (`_m_covariance`).

    Parameters
    ----------
    family : str
        One of `FAMILIES`.
    x, spread : array_like, float (n,)
        Reserve ratio (1) and spread (bp).
    weights : array_like, float (n,), optional
        Observation weights (residuals are multiplied by their square root).
    loss : {"soft_l1", "huber", "linear"}
        ``least_squares`` loss.
    f_scale : float, optional
        Loss scale, bp.
    x0 : float, optional
        Hold x0 at this value. The exponential family holds it at `X0_REFERENCE` by default
        (x0 is not identified there); the other families estimate it.

    Returns
    -------
    CurveFit
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown demand-curve family {family!r} (one of {FAMILIES})")
    x = np.asarray(x, dtype=float)
    s = np.asarray(spread, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = np.isfinite(x) & np.isfinite(s) & np.isfinite(w) & (w > 0)
    x, s, w = x[keep], s[keep], w[keep]
    if x.size < len(PARAMS) + 1:
        raise ValueError(f"{family}: {x.size} observations, need at least {len(PARAMS) + 1}")
    if x0 is None and family == "exponential":
        x0 = X0_REFERENCE
    fixed_x0 = x0
    sqrt_w = np.sqrt(w)
    free = [0, 1, 3] if fixed_x0 is not None else [0, 1, 2, 3]

    def full(theta: np.ndarray) -> np.ndarray:
        if fixed_x0 is None:
            return theta
        return np.array([theta[0], theta[1], fixed_x0, theta[2]])

    def resid(theta: np.ndarray) -> np.ndarray:
        a, b, k, lam = full(theta)
        return sqrt_w * (curve(family, x, a, b, lam, k) - s)

    def jac(theta: np.ndarray) -> np.ndarray:
        _, b, k, lam = full(theta)
        h = shape(family, x, lam, k)
        dh_du = _shape_slope(family, lam * (x - k), h)
        cols = np.column_stack([np.ones_like(x), h, -b * lam * dh_du, b * (x - k) * dh_du])
        return sqrt_w[:, None] * cols[:, free]

    lower_all = np.array([-np.inf, 0.0, X0_MARGIN, 0.0])
    upper_all = np.array([np.inf, np.inf, 1.0 - X0_MARGIN, LAMBDA_MAX])
    bounds = (lower_all[free], upper_all[free])
    # Profile grid over (λ, x0): (α, β) by weighted OLS at each node; the best nodes start the
    # nonlinear fits.
    x0_grid = (
        [fixed_x0]
        if fixed_x0 is not None
        else np.clip(np.quantile(x, X0_GRID_QUANTILES), X0_MARGIN * 2, 1 - X0_MARGIN * 2)
    )
    nodes = []
    for lam, k in itertools.product(LAMBDA_GRID, x0_grid):
        a, b, ssr = _start_values(family, x, s, w, lam, k)
        nodes.append((ssr, np.array([a, max(b, 1e-6), k, lam])[free]))
    nodes.sort(key=lambda node: node[0])
    starts = [theta for _, theta in nodes[:N_STARTS]]

    def solve(start: np.ndarray, loss_: str, scale: float):
        return least_squares(
            resid,
            start,
            jac=jac,
            bounds=bounds,
            loss=loss_,
            f_scale=scale,
            x_scale="jac",
            max_nfev=MAX_NFEV,
        )

    by_cost = sorted((solve(st, "linear", 1.0) for st in starts), key=lambda r: r.cost)
    if f_scale is None:
        r0 = by_cost[0].fun
        f_scale = max(MAD_TO_SD * float(np.median(np.abs(r0 - np.median(r0)))), F_SCALE_FLOOR_BP)
    if loss == "linear":
        best = by_cost[0]
    else:
        trials = [solve(r.x, loss, f_scale) for r in by_cost]
        best = min(trials, key=lambda r: r.cost)
    theta = full(best.x)
    r = resid(best.x)
    cov_free = _m_covariance(best.jac, r, loss, f_scale)
    cov = np.zeros((len(PARAMS), len(PARAMS)))
    cov[np.ix_(free, free)] = cov_free
    raw = curve(family, x, theta[0], theta[1], theta[3], theta[2]) - s
    return CurveFit(
        family=family,
        params=dict(zip(PARAMS, (float(v) for v in theta), strict=True)),
        covariance=cov,
        residual_sd=MAD_TO_SD * float(np.median(np.abs(raw - np.median(raw)))),
        rmse=float(np.sqrt(np.mean(raw**2))),
        n=int(x.size),
        loss=loss,
        f_scale=float(f_scale),
        fixed=("x0",) if fixed_x0 is not None else (),
        at_bounds=tuple(
            PARAMS[j]
            for j, v, lo, hi in zip(free, best.x, *bounds, strict=True)
            if np.isclose(v, lo, rtol=1e-6, atol=1e-9) or np.isclose(v, hi, rtol=1e-6, atol=1e-9)
        ),
        success=bool(best.success),
    )


@dataclass(frozen=True)
class Selection:
    """The rolling-origin comparison of the curve families.

    Attributes
    ----------
    family : str
        The family with the lowest mean out-of-sample RMSE.
    table : pandas.DataFrame
        Indexed by family: full-sample ``alpha_bp``, ``beta_bp``, ``x0``, ``lambda``,
        ``rmse_in`` and ``robust_sd_in`` (bp); out-of-sample ``rmse_oos`` (mean over origins of
        each origin's RMSE, bp) and ``rmse_oos_se`` (its standard error over the origins, a
        guide only: the origins share one curve), ``mae_oos`` (mean over origins, bp),
        ``n_forecasts`` and ``n_origins``; sorted by ``rmse_oos``.
    fit : CurveFit
        The chosen family's full-sample fit.
    fits : dict[str, CurveFit]
        Every family's full-sample fit.
    origins : tuple[date, ...]
        The forecast origins used.
    period : tuple[date, date]
        First and last observation.
    """

    family: str
    table: pd.DataFrame
    fit: CurveFit
    fits: dict[str, CurveFit]
    origins: tuple[dt.date, ...]
    period: tuple[dt.date, dt.date]


def select_family(
    x,
    spread,
    dates,
    *,
    families: tuple[str, ...] = FAMILIES,
    n_origins: int = 8,
    horizon_weeks: int = 13,
    weights=None,
    loss: str = "soft_l1",
) -> Selection:
    """Choose the curve family by rolling-origin out-of-sample error.

    The sample is ordered by date. The origins are the last ``n_origins`` quarter-ends with at
    least one observation after them and `MIN_TRAIN_WEEKS` observations up to them. At each
    origin every family is fitted (`fit_family`) on the observations dated on/before it and
    predicts those of the next ``horizon_weeks`` weeks; its RMSE and MAE over them are recorded.
    The family with the lowest mean RMSE over the origins wins.

    Parameters
    ----------
    x, spread : array_like, float (n,)
        Reserve ratio (1) and spread (bp), e.g. from `weekly_curve_sample`.
    dates : array_like of dates (n,)
    families : tuple[str, ...]
        Families compared.
    n_origins, horizon_weeks : int
        Number of origins and forecast horizon (weeks).
    weights : array_like, float (n,), optional
        Observation weights of the fits.
    loss : str
        ``least_squares`` loss of the fits.

    Returns
    -------
    Selection
    """
    order = np.argsort(pd.DatetimeIndex(dates).to_numpy(), kind="stable")
    t = pd.DatetimeIndex(dates)[order]
    x = np.asarray(x, dtype=float)[order]
    s = np.asarray(spread, dtype=float)[order]
    w = None if weights is None else np.asarray(weights, dtype=float)[order]
    quarter_ends = pd.date_range(t[0], t[-1], freq="QE")
    usable = [
        q for q in quarter_ends if (t > q).any() and (t <= q).sum() >= MIN_TRAIN_WEEKS and q < t[-1]
    ]
    origins = usable[-n_origins:]
    horizon = pd.Timedelta(weeks=horizon_weeks)
    scores: dict[str, list[tuple[float, float, int]]] = {f: [] for f in families}
    for q in origins:
        train = t <= q
        test = (t > q) & (t <= q + horizon)
        for fam in families:
            fit = fit_family(fam, x[train], s[train], None if w is None else w[train], loss=loss)
            err = fit.predict(x[test]) - s[test]
            scores[fam].append(
                (float(np.sqrt(np.mean(err**2))), float(np.mean(np.abs(err))), int(test.sum()))
            )
    fits = {fam: fit_family(fam, x, s, w, loss=loss) for fam in families}
    rows = []
    for fam in families:
        sc = np.array(scores[fam]) if scores[fam] else np.full((0, 3), np.nan)
        rows.append(
            {
                "family": fam,
                **fits[fam].params,
                "rmse_in": fits[fam].rmse,
                "robust_sd_in": fits[fam].residual_sd,
                "rmse_oos": float(np.mean(sc[:, 0])) if len(sc) else np.nan,
                "rmse_oos_se": float(np.std(sc[:, 0], ddof=1) / np.sqrt(len(sc)))
                if len(sc) > 1
                else np.nan,
                "mae_oos": float(np.mean(sc[:, 1])) if len(sc) else np.nan,
                "n_forecasts": int(np.sum(sc[:, 2])) if len(sc) else 0,
                "n_origins": len(sc),
            }
        )
    table = pd.DataFrame(rows).set_index("family")
    if table["rmse_oos"].notna().any():
        table = table.sort_values("rmse_oos")
        best = str(table.index[0])
    else:  # too short a sample for any origin: in-sample robust fit decides
        best = str(table["robust_sd_in"].idxmin())
    return Selection(
        family=best,
        table=table,
        fit=fits[best],
        fits=fits,
        origins=tuple(q.date() for q in origins),
        period=(t[0].date(), t[-1].date()),
    )


def calendar_flags(days) -> pd.DataFrame:
    """Calendar flags of business days (`engine.calendar.BusinessCalendar`).

    Parameters
    ----------
    days : array_like of dates
        Business days (e.g. the dates of a daily SOFR series), any order.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``days`` (DatetimeIndex, input order), bool columns ``month_end``,
        ``quarter_end``, ``year_end``, ``settlement`` (15th or next business day).
    """
    idx = pd.DatetimeIndex(days)
    if idx.empty:
        cols = ("month_end", "quarter_end", "year_end", "settlement")
        return pd.DataFrame({c: np.zeros(0, dtype=bool) for c in cols}, index=idx)
    first, last = idx.min(), idx.max()
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    cal = BusinessCalendar(start=dt.date(first.year, first.month, 1), horizon_months=months)
    grid = pd.DatetimeIndex(cal.days.astype("datetime64[ns]"))
    flags = pd.DataFrame(
        {
            "month_end": cal.month_end,
            "quarter_end": cal.quarter_end,
            "year_end": cal.year_end,
            "settlement": cal.mid_month_settlement,
        },
        index=grid,
    )
    return flags.reindex(idx, fill_value=False).astype(bool)


def weekly_curve_sample(spread_bp: pd.Series, ratio: pd.Series) -> pd.DataFrame:
    """Weekly (ratio, spread) pairs for the curve fit.

    Each daily spread is assigned to the H.4.1 week ending on the Wednesday on/after its date
    (Thursday–Wednesday, the weeks WRESBAL averages over). Month-end days and mid-month
    settlement days are left out of the week's mean, so that the curve describes ordinary days
    and the calendar effects are fitted on top of it (`engine.calibrate.fit_spread`).

    Parameters
    ----------
    spread_bp : pandas.Series
        Daily SOFR − IORB, bp, indexed by business day.
    ratio : pandas.Series
        Weekly reserve ratio (1), week average, indexed by the week's Wednesday.

    Returns
    -------
    pandas.DataFrame
        Indexed by Wednesday (``date``): ``ratio`` (1), ``spread_bp`` (bp, mean of the week's
        ordinary days) and ``n_days``. Weeks without an ordinary day or a ratio are dropped.
    """
    s = spread_bp.dropna()
    s.index = pd.DatetimeIndex(s.index)
    flags = calendar_flags(s.index)
    ordinary = s[~(flags["month_end"] | flags["settlement"]).to_numpy()]
    week = ordinary.index.to_period(WEEK_END).end_time.normalize()
    grouped = ordinary.groupby(week)
    weekly = pd.DataFrame({"spread_bp": grouped.mean(), "n_days": grouped.size()})
    r = ratio.dropna()
    r.index = pd.DatetimeIndex(r.index).normalize()
    out = weekly.join(r.rename("ratio"), how="inner")[["ratio", "spread_bp", "n_days"]]
    out.index.name = "date"
    return out
