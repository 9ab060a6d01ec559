"""Other liabilities and capital (``[other_liabilities]``) from the balance-sheet identity.

The kernel closes the identity on them: other = Fed total assets − currency − TGA − ON RRP −
reserves, an AR(1) deviation from the as-of date's residual. On the data the residual holds
what the four series leave out (foreign official and GSE deposits, the Fed's capital and
remittances) and the mismatch of their bases (WRESBAL a week average, WALCL and the TGA
Wednesday levels): both move month-end reserves the way a forecast is scored.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from statsmodels.tools.numdiff import approx_fprime
from statsmodels.tsa.statespace.sarimax import SARIMAX

from .fit_tga import WEEK_DAYS, daily_ar1, period_of
from .fitted import Fitted, Kept, StepResult
from .market import MarketData

KEYS = ("other_liabilities.ar_coefficient", "other_liabilities.daily_sd_bn")
MIN_WEEKS = 104  # weeks of residuals the fit needs (two years), or the block is kept [J]
AR_MAX = 0.999  # 1, the daily AR coefficient written at most (the config needs < 1) [J]
OPTIMIZER_MAXITER = 500  # iterations of the SARIMAX likelihood optimiser [J]


def identity_residual(market: MarketData) -> pd.Series | None:
    """Weekly other liabilities and capital, $bn, on the reserves' dates: WALCL − currency −
    TGA − ON RRP − WRESBAL, each series' last observation on or before the date; None where a
    series is missing."""
    series = [market.fed_assets_bn, market.currency_bn, market.tga_bn, market.on_rrp_bn]
    if market.reserves_bn is None or any(s is None for s in series):
        return None
    dates = market.reserves_bn.index
    assets, currency, tga, on_rrp = (s.reindex(dates, method="ffill") for s in series)
    residual = assets - currency - tga - on_rrp - market.reserves_bn
    return residual.dropna().rename("other liabilities (identity residual)")


def fit_other_liabilities(market: MarketData) -> StepResult:
    """Fit ``other_liabilities.ar_coefficient`` and ``daily_sd_bn`` ($bn/day): an AR(1) with a
    constant of the weekly identity residual (`identity_residual`) by maximum likelihood
    (statsmodels SARIMAX, robust s.e.), mapped to the daily AR(1) it samples, φ = φ_w^(1/5),
    σ² = σ_w² (1 − φ²)/(1 − φ_w²), φ at most AR_MAX; s.e. by the delta method. Kept with the
    reason where a series is missing or fewer than MIN_WEEKS weeks remain."""
    residual = identity_residual(market)
    if residual is None or len(residual) < MIN_WEEKS:
        why = "a series of the identity is missing" if residual is None else "too few weeks"
        return StepResult(kept=[Kept(key, f"identity residual: {why}") for key in KEYS])
    model = SARIMAX(residual.to_numpy(), order=(1, 0, 0), trend="c")
    fit = model.fit(disp=False, cov_type="robust", maxiter=OPTIMIZER_MAXITER)
    phi_w, sigma2_w = float(fit.params[1]), float(fit.params[2])
    if phi_w <= 0.0:
        return StepResult(
            kept=[Kept(key, f"weekly AR coefficient {phi_w:.3f} is not positive") for key in KEYS]
        )

    def daily(p: np.ndarray) -> np.ndarray:
        phi, sigma2 = daily_ar1(min(p[0], AR_MAX**WEEK_DAYS), p[1])
        return np.array([phi, math.sqrt(sigma2)])

    estimate = np.array([phi_w, sigma2_w])
    jacobian = approx_fprime(estimate, daily, centered=True)
    cov = jacobian @ fit.cov_params()[1:, 1:] @ jacobian.T
    (phi, sd), (phi_se, sd_se) = daily(estimate), np.sqrt(np.clip(np.diag(cov), 0.0, None))
    statistic = (
        f"SARIMAX AR(1) with a constant of the weekly identity residual WALCL − currency − TGA "
        f"− ON RRP − WRESBAL (MLE, robust s.e.), weekly φ {phi_w:.4f}; daily φ = φ_w^(1/5), "
        "σ² = σ_w² (1 − φ²)/(1 − φ_w²)"
    )
    period, n = period_of(residual.index), len(residual)
    name = "WALCL, currency, TGA, RRPONTSYD, WRESBAL"
    return StepResult(
        fitted=[
            Fitted(KEYS[0], float(phi), float(phi_se), statistic, period, name, n),
            Fitted(KEYS[1], float(sd), float(sd_se), statistic, period, name, n),
        ]
    )
