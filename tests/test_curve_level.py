"""The curve's local level (engine.calibrate.curve_level): parameter and latent-path recovery on
simulated weekly data, and the pooled curve when the level does not move."""

import numpy as np
import pandas as pd
import pytest

from engine.calibrate.curve_level import fit_curve_level
from engine.calibrate.demand_curve import fit_family
from engine.calibrate.fit_tga import WEEK_DAYS

WEEKS = 400  # about 8 years of H.4.1 weeks
BETA, X0, LAMBDA = 15.0, 0.12, 150.0  # bp, 1, 1: an arctan curve as the default's
LEVEL_SD, IRREGULAR_SD = 0.6, 2.0  # bp per week, bp
SEEDS = range(6)


def _sample(rng, level_sd=LEVEL_SD):
    """Weekly (ratio, spread) pairs: the ratio wanders over 8–16%, α walks from −8bp."""
    days = pd.date_range("2012-01-04", periods=WEEKS, freq="W-WED")
    ratio = 0.12 + 0.04 * np.sin(np.linspace(0, 3 * np.pi, WEEKS)) + rng.normal(0, 0.002, WEEKS)
    alpha = -8.0 + np.cumsum(rng.normal(0, level_sd, WEEKS))
    h = 1 - (2 / np.pi) * np.arctan(LAMBDA * (ratio - X0))
    spread = alpha + BETA * h + rng.normal(0, IRREGULAR_SD, WEEKS)
    frame = pd.DataFrame({"ratio": ratio, "spread_bp": spread, "n_days": 3}, index=days)
    return frame, pd.Series(alpha, index=days)


def _pooled():
    """The arctan curve with the true knee and steepness (the shape the level is fitted with)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0.08, 0.16, 200)
    s = -8.0 + BETA * (1 - (2 / np.pi) * np.arctan(LAMBDA * (x - X0)))
    return fit_family("arctan", x, s + rng.normal(0, 0.1, 200))


@pytest.mark.parametrize("seed", SEEDS)
def test_the_latent_level_is_recovered_within_its_bands(seed):
    """The true α path lies inside the smoothed level's 95% band on about 95% of the weeks:
    at least 85% on each seed (a binomial 95% with autocorrelated misses; 400 weeks)."""
    sample, alpha = _sample(np.random.default_rng(100 + seed))
    level = fit_curve_level(sample, _pooled())
    z = (alpha - level.smoothed_bp) / level.smoothed_sd_bp
    assert (np.abs(z) < 1.96).mean() > 0.85
    last = (alpha.iloc[-1] - level.curve.params["alpha_bp"]) / level.start_sd_bp
    assert abs(last) < 4.0  # where a forecast starts: the filtered level within 4 of its sds


def test_the_parameters_are_recovered_within_their_standard_errors():
    """Over seeds, σ_level (per day) and σ_irregular: the mean estimate is within 3 standard
    errors of the truth (the standard error of the mean over seeds); the pooled curve's β, x0
    and λ are kept."""
    walk, irregular = [], []
    pooled = _pooled()
    for seed in SEEDS:
        sample, _ = _sample(np.random.default_rng(200 + seed))
        level = fit_curve_level(sample, pooled)
        walk.append(level.walk_sd_bp)
        irregular.append(level.irregular_sd_bp)
        for key in ("beta_bp", "x0", "lambda"):
            assert level.curve.params[key] == pooled.params[key]
    for values, truth in ((walk, LEVEL_SD / np.sqrt(WEEK_DAYS)), (irregular, IRREGULAR_SD)):
        values = np.asarray(values)
        se = values.std(ddof=1) / np.sqrt(len(values))
        assert abs(values.mean() - truth) < 3 * se + 1e-9, (values, truth)


def test_a_level_that_holds_gives_the_pooled_curve():
    """With σ_level = 0 the fitted walk is small (below a fifth of the walk recovered above)
    and the level is the pooled fit's α: the smoothed level within 3 of its sds of it."""
    sample, alpha = _sample(np.random.default_rng(7), level_sd=0.0)
    level = fit_curve_level(sample, _pooled())
    assert level.walk_sd_bp < 0.2 * LEVEL_SD / np.sqrt(WEEK_DAYS)
    z = (level.smoothed_bp - alpha) / level.smoothed_sd_bp
    assert np.all(np.abs(z) < 3.0)


def test_weeks_without_an_observation_are_missing_values_not_a_break():
    """Dropping a tenth of the weeks leaves the level defined on every week of the grid."""
    sample, _ = _sample(np.random.default_rng(3))
    thinned = sample.iloc[np.arange(WEEKS) % 10 != 5]
    level = fit_curve_level(thinned, _pooled())
    assert len(level.smoothed_bp) == WEEKS and level.smoothed_bp.notna().all()
