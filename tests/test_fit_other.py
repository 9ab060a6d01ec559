"""Other liabilities from the identity residual: a known weekly AR(1) recovered, the real one
fitted, a missing series kept."""

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from engine.calibrate.fit_other import KEYS, fit_other_liabilities, identity_residual
from engine.calibrate.market import load_market_data
from engine.calibrate.readers import DATA_DIR

SEED = 20260108
TOLERANCE_SE = 3.0  # standard errors a recovered daily value may lie from the truth
WEEKS = 260  # five years of Wednesdays


def _market_with_residual(residual: np.ndarray):
    """The shipped data's market with reserves replaced so that the identity residual is
    ``residual`` ($bn, one a week)."""
    market = load_market_data(DATA_DIR, pd.Timestamp("2025-12-31"))
    dates = market.reserves_bn.index[-len(residual) :]
    series = [market.fed_assets_bn, market.currency_bn, market.tga_bn, market.on_rrp_bn]
    assets, currency, tga, on_rrp = (s.reindex(dates, method="ffill") for s in series)
    reserves = assets - currency - tga - on_rrp - residual
    return dataclasses.replace(market, reserves_bn=reserves)


def test_a_daily_ar1_seen_weekly_is_recovered():
    rng = np.random.default_rng(SEED)
    phi, sd = 0.95, 20.0  # daily, $bn/day
    days = WEEKS * 5
    daily = np.zeros(days)
    for t in range(1, days):
        daily[t] = phi * daily[t - 1] + sd * rng.standard_normal()
    residual = 500.0 + daily[4::5]
    fitted = {f.key: f for f in fit_other_liabilities(_market_with_residual(residual)).fitted}
    for key, truth in zip(KEYS, (phi, sd), strict=True):
        fit = fitted[key]
        assert abs(fit.value - truth) < TOLERANCE_SE * fit.stderr, (key, fit.value, fit.stderr)


def test_the_shipped_identity_residual_is_fitted():
    market = load_market_data(DATA_DIR, pd.Timestamp("2025-12-31"))
    residual = identity_residual(market)
    assert residual is not None and residual.index[-1].date() == dt.date(2025, 12, 31)
    fitted = {f.key: f for f in fit_other_liabilities(market).fitted}
    assert 0.0 < fitted[KEYS[0]].value < 1.0 and fitted[KEYS[1]].value > 0.0


def test_a_missing_series_keeps_the_block():
    market = dataclasses.replace(
        load_market_data(DATA_DIR, pd.Timestamp("2025-12-31")), fed_assets_bn=None
    )
    result = fit_other_liabilities(market)
    assert not result.fitted and [k.key for k in result.kept] == list(KEYS)
