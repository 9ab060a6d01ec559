"""The TGA anchor's random walk: recovered from simulated balances, absent where there is none."""

import numpy as np
import pandas as pd
import pytest

from engine.calibrate.fit_tga_walk import KEY, fit_tga_walk

SEED = 20260107
DAYS = 1_250  # business days: the 5 years of a calibration window
PHI, SIGMA = 0.92, 29.0  # daily AR(1) deviation: the DTS fit of 2021–2025 ($bn)
REPLICATES = 40
TOLERANCE_SE = 3.0  # the mean estimate lies within 3 Monte Carlo s.e. of the truth (measured:
#   −2.0 and −1.9 s.e., a 10% downward bias of √slope in a 5-year window)


def _balance(rng, walk_sd: float) -> pd.Series:
    """Business-day TGA balances ($bn): 800 + AR(1) D + random walk W, one innovation ν."""
    nu = rng.standard_normal(DAYS)
    deviation = np.zeros(DAYS)
    for t in range(1, DAYS):
        deviation[t] = PHI * deviation[t - 1] + SIGMA * nu[t]
    level = 800.0 + deviation + np.cumsum(walk_sd * nu)
    return pd.Series(level, index=pd.bdate_range("2021-01-04", periods=DAYS, name="date"))


def _estimates(walk_sd: float, rng) -> np.ndarray:
    out = []
    for _ in range(REPLICATES):
        result = fit_tga_walk(_balance(rng, walk_sd), True, PHI, SIGMA, series="simulated")
        (fitted,) = result.fitted
        assert fitted.key == KEY
        out.append(fitted.value)
    return np.array(out)


@pytest.mark.parametrize("walk_sd", [10.0, 22.0])
def test_the_walk_is_recovered(walk_sd):
    estimates = _estimates(walk_sd, np.random.default_rng(SEED))
    mc_se = estimates.std(ddof=1) / np.sqrt(REPLICATES)
    assert abs(estimates.mean() - walk_sd) < TOLERANCE_SE * mc_se, (
        estimates.mean(),
        mc_se,
    )


def test_no_walk_gives_a_small_one():
    """Without a walk the slope is noise around 0: most estimates are 0, none is large."""
    estimates = _estimates(0.0, np.random.default_rng(SEED + 1))
    assert np.mean(estimates == 0.0) > 0.3
    assert estimates.max() < 10.0  # $bn/day, against 22 in the 2021–2025 data


def test_a_short_series_keeps_the_config_value():
    short = _balance(np.random.default_rng(SEED), 10.0).iloc[:300]
    result = fit_tga_walk(short, True, PHI, SIGMA, series="simulated")
    assert [k.key for k in result.kept] == [KEY] and not result.fitted
