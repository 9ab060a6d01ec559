"""The predictive check of the daily spread model (engine/evaluate/predictive.py): the simulated
spread's noise, level walk and SRF leak against their formulas, the table's coverage on data
drawn from the model itself, and no data after ``until`` in the check.

Tolerances are stated in standard errors (s.e.) of the quantity compared; seeds are fixed.
"""

from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest

from engine.calendar import business_days
from engine.calibrate.demand_curve import calendar_flags
from engine.calibrate.fit_spread import calendar_gamma_h
from engine.curves import shape
from engine.evaluate.predictive import (
    DAY_KINDS,
    NOMINAL_COVERAGE,
    RATIO_BIN_LEVELS,
    config_gamma,
    predictive_check,
    predictive_table,
    simulate_spread,
)

from .conftest import ROOT, SHIPPED_DEFAULT, tweak

TOLERANCE_SE = 4.0  # s.e.: a correct model fails a check about once in 16,000 (normal)
SEED = 20260101
DATA = ROOT / "engine" / "data"


def _days(n: int, start: str = "2024-01-02") -> pd.DatetimeIndex:
    """The first ``n`` Fed business days from ``start``."""
    first = pd.Timestamp(start).date()
    grid = business_days(first, first + pd.Timedelta(days=2 * n).to_pytimedelta())
    return pd.DatetimeIndex(grid[:n].astype("datetime64[ns]"))


@pytest.fixture
def quiet(model_config):
    """The judgement config without jumps, SRF, floor nor level walk: a latent spread that is
    the curve plus the calendar effects plus the AR(1) noise."""
    return tweak(
        model_config,
        **{
            "spread.jump_p0": 0.0,
            "spread.floor_bp": None,
            "srf.enabled": False,
            "demand_curve.alpha_start_sd_bp": 0.0,
            "demand_curve.alpha_walk_sd_bp": 0.0,
        },
    )


def _mean(config, days, x) -> np.ndarray:
    """α + (β + γ_t) h(x_t) (bp, (n_days,)): the spread without noise, jumps or walk."""
    dc = config.demand_curve
    h = shape(dc.family, x, dc.lambda_, dc.x0)
    gamma_h = calendar_gamma_h(calendar_flags(days), config_gamma(config))
    return dc.alpha_bp + (dc.beta_bp + gamma_h) * h


def test_noise_is_the_ar1_of_the_config(quiet):
    # near-normal innovations (ν = 20) so that the variance's s.e. is finite and estimable
    config = tweak(quiet, **{"spread.noise_ar": 0.8, "spread.noise_t_df": 20.0})
    sp, n_paths = config.spread, 20_000
    days = _days(60)  # ρ^(2·60) ≈ 2e-12: the last days are stationary
    x = np.full(len(days), config.demand_curve.x0)  # h = 1
    noise = simulate_spread(config, days, x, n_paths, SEED) - _mean(config, days, x)
    last, before = noise[:, -1], noise[:, -2]

    rho = np.corrcoef(last, before)[0, 1]
    rho_se = (1.0 - rho**2) / math.sqrt(n_paths)
    assert abs(rho - sp.noise_ar) < TOLERANCE_SE * rho_se

    expected = (sp.noise_sd0_bp + sp.noise_sd1_bp) ** 2 / (1.0 - sp.noise_ar**2)
    squares = (last - last.mean()) ** 2
    var_se = squares.std(ddof=1) / math.sqrt(n_paths)
    assert abs(squares.mean() - expected) < TOLERANCE_SE * var_se


def test_level_walk_adds_its_variance(quiet):
    start_sd, walk_sd, n_paths = 1.5, 0.4, 4_000
    walking = tweak(
        quiet,
        **{"demand_curve.alpha_start_sd_bp": start_sd, "demand_curve.alpha_walk_sd_bp": walk_sd},
    )
    days = _days(50)
    x = np.full(len(days), quiet.demand_curve.x0 + 0.01)
    still = simulate_spread(quiet, days, x, n_paths, SEED)[:, -1]
    walked = simulate_spread(walking, days, x, n_paths, SEED)[:, -1]
    # the same seed: the same noise, so the paths differ by the walk alone
    growth = start_sd**2 + walk_sd**2 * len(days)  # bp², at day T = 50
    q = (walked - walked.mean()) ** 2 - (still - still.mean()) ** 2  # per path: var difference
    assert abs(q.mean() - growth) < TOLERANCE_SE * q.std(ddof=1) / math.sqrt(n_paths)
    walk = walked - still
    var_se = growth * math.sqrt(2.0 / (n_paths - 1))  # of a normal sample variance
    assert abs(walk.var(ddof=1) - growth) < TOLERANCE_SE * var_se


def test_srf_leak_above_the_ceiling(quiet):
    leak_config = tweak(
        quiet,
        **{
            "srf.enabled": True,
            "srf.stigma_log_sd": 0.0,
            "spread.noise_sd0_bp": 0.0,
            "spread.noise_sd1_bp": 0.0,
        },
    )
    srf = leak_config.srf
    days = _days(40)
    x = np.full(len(days), quiet.demand_curve.x0 - 0.1)  # far below the knee
    latent = _mean(leak_config, days, x)
    ceiling = srf.rate_above_iorb_bp + srf.stigma_median_bp
    assert latent.min() > ceiling + 100.0  # bp: far above it
    spread = simulate_spread(leak_config, days, x, 5, SEED)
    np.testing.assert_allclose(
        spread - ceiling, np.broadcast_to(srf.leak * (latent - ceiling), spread.shape)
    )

    # a random stigma: the ceiling the spread implies is the SRF rate plus a lognormal
    n_paths = 2_000
    drawn = tweak(leak_config, **{"srf.stigma_log_sd": 0.5})
    spread = simulate_spread(drawn, days, x, n_paths, SEED)[:, -1]
    implied = (spread - srf.leak * latent[-1]) / (1.0 - srf.leak)
    log_stigma = np.log(implied - srf.rate_above_iorb_bp)
    se = drawn.srf.stigma_log_sd / math.sqrt(n_paths)
    assert abs(log_stigma.mean() - math.log(srf.stigma_median_bp)) < TOLERANCE_SE * se
    sd_se = drawn.srf.stigma_log_sd / math.sqrt(2.0 * (n_paths - 1))
    assert abs(log_stigma.std(ddof=1) - drawn.srf.stigma_log_sd) < TOLERANCE_SE * sd_se


def test_coverage_of_a_path_from_the_model_is_nominal(model_config):
    # no AR (ρ = 0): days are independent, the binomial s.e. holds; jumps, SRF and floor on
    config = tweak(model_config, **{"spread.noise_ar": 0.0})
    days = _days(2_500)
    x = np.linspace(0.10, 0.16, len(days))  # scarce to ample
    realized = pd.Series(simulate_spread(config, days, x, 1, SEED + 1)[0], index=days)
    simulated = simulate_spread(config, days, x, 1_000, SEED)
    table = predictive_table(realized, simulated, days, x, np.quantile(x, RATIO_BIN_LEVELS))

    assert list(table["kind"].unique()) == list(DAY_KINDS)
    assert table["n_days"].sum() == len(days)
    assert (table["n_days"] >= 40).all()  # enough days in every bin
    far = (table["coverage"] - NOMINAL_COVERAGE).abs() / table["coverage_se"]
    assert (far < TOLERANCE_SE).all(), table[["kind", "x_mid", "n_days", "coverage"]]
    # the same model: the realized and simulated medians agree to the noise's scale (bp)
    for what in ("level", "change"):
        gap = (table[f"{what}_realized_q50"] - table[f"{what}_simulated_q50"]).abs()
        assert (gap < model_config.spread.noise_sd0_bp + model_config.spread.noise_sd1_bp).all()


def _shift(folder, after: pd.Timestamp | None = None, sofr_on: pd.Timestamp | None = None):
    """Change the CSV files of ``folder``: every value dated after ``after``, or the SOFR of the
    day ``sofr_on``; value columns scaled by 1.5 plus 7."""
    for path in folder.glob("*.csv"):
        lines = path.read_text().splitlines()
        values = slice(2, 5) if path.name.startswith("DTS_") else slice(1, 2)
        for i, line in enumerate(lines[1:], start=1):
            fields = line.split(",")
            date = pd.Timestamp(fields[0])
            later = after is not None and date > after
            if not (later or (date == sofr_on and path.name == "SOFR.csv")):
                continue
            for j in range(values.start, values.stop):
                if fields[j].strip() not in ("", "."):
                    fields[j] = f"{float(fields[j]) * 1.5 + 7.0:.4f}"
            lines[i] = ",".join(fields)
        path.write_text("\n".join(lines) + "\n")


def test_no_data_after_until_enters(tmp_path):
    since, until = "2024-01-02", pd.Timestamp("2024-06-28")
    later = tmp_path / "later"
    shutil.copytree(DATA, later)
    _shift(later, after=until)
    args = (SHIPPED_DEFAULT, since, until.date(), 200, SEED)
    table, realized, _ = predictive_check(DATA, *args)
    changed, realized_changed, _ = predictive_check(later, *args)
    pd.testing.assert_frame_equal(table, changed)
    pd.testing.assert_series_equal(realized, realized_changed)
    # the ratio ends with the last weekly reserves on or before until (Wednesday 2024-06-26)
    assert pd.Timestamp(since) <= realized.index[0] and realized.index[-1] <= until

    inside = tmp_path / "inside"  # the check does see a change inside the window
    shutil.copytree(DATA, inside)
    _shift(inside, sofr_on=realized.index[-1])
    changed, realized_inside, _ = predictive_check(inside, *args)
    assert realized_inside.iloc[-1] != realized.iloc[-1]
    assert not changed.equals(table)


def test_a_given_level_path_replaces_alpha_and_its_walk(quiet):
    """With the level's path given (an in-sample check of a moving level), the spread is the
    fixed-α spread moved day by day by (level − α), whatever the walk's sds: the same draws."""
    days = _days(60)
    x = np.full(len(days), 0.12)
    level = quiet.demand_curve.alpha_bp + np.linspace(-3.0, 4.0, len(days))  # bp
    walking = tweak(quiet, **{"demand_curve.alpha_walk_sd_bp": 0.7})
    fixed = simulate_spread(quiet, days, x, 50, SEED)
    given = simulate_spread(walking, days, x, 50, SEED, level)
    np.testing.assert_allclose(
        given - fixed, np.broadcast_to(level - quiet.demand_curve.alpha_bp, fixed.shape), atol=1e-9
    )
