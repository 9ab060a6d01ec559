"""Backtest scores: histogram CDF and PIT, band coverage, realized events, Brier and log scores."""

import math

import numpy as np
import pandas as pd
import pytest

from engine.accumulators import Accumulators
from engine.config import Events
from engine.cube import build_cube, histogram_quantiles
from engine.kernels import layout as L
from engine.schedule import build_schedule
from engine.scoring import (
    band_coverage,
    brier,
    brier_skill,
    climatology,
    histogram_cdf,
    histogram_grid,
    log_score,
    pit_values,
    realized_events,
)

from .conftest import small

EVENTS = Events(
    tight_bp=10.0,
    stress_bp=25.0,
    stress_srf_bn=25.0,
    crisis_bp=50.0,
    crisis_srf_bn=100.0,
    systemic_bp=100.0,
    systemic_days=2,
    scarce_ratio=0.11,
    scarce_reserves_bn=2800.0,
)
TOP = 10.0
MONTHS = pd.date_range("2025-01-01", periods=3, freq="MS")  # realized-event tests
CUBE_MONTHS = pd.date_range("2026-01-01", periods=3, freq="MS")  # the default config's start
RESERVES_MEAN, RESERVES_SD = 3000.0, 100.0


# --- histogram CDF ---------------------------------------------------------------------------


def test_histogram_cdf_of_a_uniform_histogram_is_linear():
    counts = np.array([0, 10, 10, 10, 10, 0])  # grid [0, 4) with width 1
    for value, expected in [(0.0, 0.0), (0.5, 0.125), (1.0, 0.25), (2.5, 0.625), (4.0, 1.0)]:
        assert histogram_cdf(counts, 0.0, 1.0, value) == pytest.approx(expected)


def test_histogram_cdf_under_and_overflow():
    counts = np.array([4, 2, 2, 2, 0, 0, 10])  # 20 values: 4 below 10, 10 at or above 15
    assert histogram_cdf(counts, 10.0, 1.0, 5.0) == pytest.approx(0.2)  # below: underflow share
    assert histogram_cdf(counts, 10.0, 1.0, 10.0) == pytest.approx(0.2)
    assert histogram_cdf(counts, 10.0, 1.0, 11.5) == pytest.approx(0.35)
    assert histogram_cdf(counts, 10.0, 1.0, 14.9) == pytest.approx(0.5)
    assert histogram_cdf(counts, 10.0, 1.0, 15.0) == 1.0
    assert histogram_cdf(counts, 10.0, 1.0, 1e9) == 1.0
    assert math.isnan(histogram_cdf(np.zeros(7), 10.0, 1.0, 12.0))
    assert math.isnan(histogram_cdf(counts, 10.0, 1.0, float("nan")))


def test_histogram_cdf_inverts_the_cube_quantiles():
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 50, 42)
    counts[0] = counts[-1] = 30
    qs = np.linspace(0.1, 0.85, 16)
    values = histogram_quantiles(counts, -5.0, 0.5, qs)
    got = [histogram_cdf(counts, -5.0, 0.5, v) for v in values]
    np.testing.assert_allclose(got, qs, atol=1e-12)


# --- a small cube with known histograms ------------------------------------------------------


@pytest.fixture(scope="module")
def cube(model_config):
    """A cube built from synthetic histograms: month-end reserves ~ N(3000, 100) $bn in every
    regime and month; every path at 0 in the other statistics (so every histogram counts
    every path, as build_cube checks)."""
    config = small(model_config, months=len(CUBE_MONTHS), paths=20_000)
    schedule = build_schedule(config)
    acc = Accumulators.zeros(len(schedule.regime_names), len(CUBE_MONTHS), schedule.n_bins)
    low, width = schedule.hist_grid[L.H_RESERVES_EOM]
    values = np.random.default_rng(0).normal(RESERVES_MEAN, RESERVES_SD, 20_000)
    bins = np.clip(np.floor((values - low) / width).astype(int) + 1, 0, schedule.n_bins + 1)
    for v in range(L.N_HISTS):
        at_zero = 1 + int((0.0 - schedule.hist_grid[v][0]) // schedule.hist_grid[v][1])
        acc.hist[v, ..., at_zero] = values.size
    acc.hist[L.H_RESERVES_EOM] = np.bincount(bins, minlength=schedule.n_bins + 2)
    acc.n_paths = values.size
    ds = build_cube(acc, config, schedule)
    assert (ds.indexes["time"] == CUBE_MONTHS).all()
    return ds


def test_histogram_grid_from_attributes_or_config(cube):
    assert histogram_grid(cube, "reserves_eom") == (0.0, 2.0)
    bare = cube.copy(deep=True)
    bare["spread_max_histogram"].attrs = {}
    assert histogram_grid(bare, "spread_max") == (-50.0, 0.5)


def test_pit_of_the_median_is_one_half(cube):
    regime = str(cube.regime.values[0])
    median = cube["reserves_eom"].sel(regime=regime, quantile=0.5).values
    realized = pd.Series(median, index=CUBE_MONTHS)
    pit = pit_values(cube, regime, "reserves_eom", realized)
    np.testing.assert_allclose(pit.to_numpy(), 0.5, atol=1e-9)
    tail = pd.Series([RESERVES_MEAN + 1.6449 * RESERVES_SD, np.nan, 2000.0], index=CUBE_MONTHS)
    pit = pit_values(cube, regime, "reserves_eom", tail)
    assert pit.iloc[0] == pytest.approx(0.95, abs=0.01)
    assert math.isnan(pit.iloc[1]) and pit.iloc[2] == pytest.approx(0.0, abs=1e-6)


def test_pit_matches_months_and_skips_months_outside_the_cube(cube):
    regime = str(cube.regime.values[-1])
    realized = pd.Series(
        [RESERVES_MEAN, RESERVES_MEAN], index=pd.to_datetime(["2026-02-28", "2027-01-01"])
    )
    pit = pit_values(cube, regime, "reserves_eom", realized)
    assert pit.iloc[0] == pytest.approx(0.5, abs=0.02) and math.isnan(pit.iloc[1])
    with pytest.raises(ValueError, match="variable"):
        pit_values(cube, regime, "reserves", realized)


def test_band_coverage(cube):
    regime = str(cube.regime.values[0])
    realized = pd.Series(
        [RESERVES_MEAN, RESERVES_MEAN + 3 * RESERVES_SD, np.nan], index=CUBE_MONTHS
    )
    assert band_coverage(cube, regime, "reserves_eom", realized, 0.05, 0.95) == (1, 2)
    assert band_coverage(cube, regime, "reserves_eom", realized, 0.25, 0.75) == (1, 2)
    edge = cube["reserves_eom"].sel(regime=regime, quantile=0.25).values[:1]
    assert band_coverage(
        cube, regime, "reserves_eom", pd.Series(edge, index=CUBE_MONTHS[:1]), 0.25, 0.75
    ) == (1, 1)
    with pytest.raises(ValueError, match="quantile"):
        band_coverage(cube, regime, "reserves_eom", realized, 0.1, 0.9)


# --- realized events -------------------------------------------------------------------------


def business_days(start: str, end: str) -> pd.DatetimeIndex:
    return pd.bdate_range(start, end)


def test_realized_events_spread_tiers():
    days = business_days("2025-01-01", "2025-03-31")
    spread = pd.Series(0.0, index=days)
    spread[pd.Timestamp("2025-01-15")] = 110.0  # January: 2 days in a row ≥ 100bp → systemic
    spread[pd.Timestamp("2025-01-16")] = 105.0
    spread[pd.Timestamp("2025-02-28")] = 30.0  # February: a period-end-only spike
    spread[pd.Timestamp("2025-03-10")] = 120.0  # March: one day ≥ 100bp, not systemic
    spread[pd.Timestamp("2025-03-12")] = 120.0
    out = realized_events(spread, None, None, None, None, EVENTS, TOP, MONTHS)
    assert list(out.columns) == list(L.EVENT_NAMES) and (out.index == MONTHS).all()
    jan, feb, mar = (out.loc[m] for m in MONTHS)
    assert jan["systemic"] == 1 and jan["crisis"] == 1 and jan["tight_ex_period_end"] == 1
    assert feb["tight"] == 1 and feb["stress"] == 1 and feb["crisis"] == 0
    assert feb["tight_ex_period_end"] == 0 and feb["stress_ex_period_end"] == 0
    assert feb["systemic"] == 0
    assert mar["systemic"] == 0 and mar["crisis"] == 1
    assert out["scarce"].isna().all()  # no reserves data


def test_realized_events_period_end_is_the_last_day_in_the_data():
    days = business_days("2025-01-02", "2025-01-30")  # January 31 missing from the data
    spread = pd.Series(0.0, index=days)
    spread[pd.Timestamp("2025-01-30")] = 15.0
    out = realized_events(spread, None, None, None, None, EVENTS, TOP, MONTHS[:1])
    assert out.loc[MONTHS[0], "tight"] == 1 and out.loc[MONTHS[0], "tight_ex_period_end"] == 0


def test_realized_events_systemic_run_across_a_month_end_counts_when_it_completes():
    spread = pd.Series(0.0, index=business_days("2025-01-01", "2025-02-28"))
    spread[pd.Timestamp("2025-01-31")] = 150.0
    spread[pd.Timestamp("2025-02-03")] = 150.0
    out = realized_events(spread, None, None, None, None, EVENTS, TOP, MONTHS[:2])
    assert out["systemic"].tolist() == [0, 1]


def test_realized_events_srf_effr_reserves_and_missing_data():
    spread = pd.Series(0.0, index=business_days("2025-01-01", "2025-02-28"))  # no March data
    srf = pd.Series([30.0, 150.0], index=pd.to_datetime(["2025-01-10", "2025-03-14"]))
    effr = pd.Series(0.0, index=spread.index)
    effr[pd.Timestamp("2025-02-12")] = 12.0  # above the top of the range
    weeks = pd.date_range("2025-01-01", "2025-02-26", freq="W-WED")
    reserves = pd.Series(3000.0, index=weeks)
    ratio = pd.Series(0.12, index=weeks)
    ratio[pd.Timestamp("2025-02-12")] = 0.10
    out = realized_events(spread, effr, srf, reserves, ratio, EVENTS, TOP, MONTHS)
    jan, feb, mar = (out.loc[m] for m in MONTHS)
    assert jan["stress"] == 1 and jan["stress_ex_period_end"] == 1 and jan["tight"] == 0
    assert jan["crisis"] == 0 and feb["crisis"] == 1 and feb["stress"] == 0
    assert jan["scarce"] == 0 and feb["scarce"] == 1 and pd.isna(mar["scarce"])
    assert mar["crisis"] == 1 and mar["stress"] == 1  # SRF take-up decides without spreads
    assert pd.isna(mar["tight"]) and pd.isna(mar["systemic"])
    low = pd.Series(2700.0, index=weeks)
    out = realized_events(spread, None, None, low, None, EVENTS, TOP, MONTHS)
    assert out["scarce"].tolist()[:2] == [1, 1] and pd.isna(out["scarce"].iloc[2])


# --- probability scores ----------------------------------------------------------------------


def test_brier_and_skill_on_known_vectors():
    p = np.array([0.9, 0.1, 0.8, 0.3])
    o = np.array([1, 0, 0, 1])
    assert brier(p, o) == pytest.approx((0.01 + 0.01 + 0.64 + 0.49) / 4)
    reference = 0.25  # climatology 0.5: (0.5)² every month
    assert brier_skill(p, o, 0.5) == pytest.approx(1 - 0.2875 / reference)
    assert brier_skill(o, o, 0.5) == 1.0
    assert math.isnan(brier_skill(p, [0, 0, 0, 0], 0.0))  # a perfect reference
    assert brier([0.2, 0.7, 0.4], [1, None, 0]) == pytest.approx((0.64 + 0.16) / 2)
    assert math.isnan(brier([0.5], [None]))


def test_log_score_on_known_vectors():
    assert log_score([0.8, 0.25], [1, 0]) == pytest.approx(-(math.log(0.8) + math.log(0.75)) / 2)
    assert log_score([0.0], [1], floor=1e-4) == pytest.approx(-math.log(1e-4))
    assert log_score([1.0, 0.5], [1, pd.NA]) == pytest.approx(-math.log(1 - 1e-4))


def test_scores_align_series_and_ignore_na_outcomes():
    p = pd.Series([0.2, 0.9, 0.5], index=MONTHS)
    o = pd.Series([1, pd.NA, 0], index=MONTHS[[2, 1, 0]], dtype="Int64")  # reversed order
    assert brier(p, o) == pytest.approx((0.04 + 0.25) / 2)  # January 0.2 vs 0, March 0.5 vs 1
    with pytest.raises(ValueError, match="outcomes"):
        brier([0.5], [2])


def test_climatology_shares_ignore_na():
    realized = pd.DataFrame({"tight": [1, 0, 1, pd.NA], "scarce": [pd.NA] * 4}, dtype="Int64")
    clim = climatology(realized)
    assert clim["tight"] == pytest.approx(2 / 3) and math.isnan(clim["scarce"])
