"""Scores of the evaluation against closed forms, known distributions and simulations."""

from __future__ import annotations

import numpy as np
import pytest
import scoringrules as sr
from scipy import stats

from engine.evaluate.scores import (
    DEFAULT_EDGES,
    LOG_SCORE_FLOOR,
    band_hits,
    brier,
    brier_mc_se,
    coverage_interval,
    crps,
    log_score,
    pit,
    reliability_table,
    skill,
)

K = 1_000  # quantile members of a "large" ensemble


def quantile_members(mu: np.ndarray, sigma: np.ndarray, k: int = K) -> np.ndarray:
    """Members (N, k): the normal quantiles at the mid levels (j + 0.5)/k of each row."""
    z = stats.norm.ppf((np.arange(k) + 0.5) / k)
    return mu[:, None] + sigma[:, None] * z[None, :]


# --- CRPS -----------------------------------------------------------------------------------


def test_crps_of_quantile_members_matches_the_normal_closed_form():
    rng = np.random.default_rng(20240101)
    mu = rng.normal(0.0, 50.0, 200)
    sigma = rng.uniform(0.5, 80.0, 200)
    obs = mu + sigma * rng.uniform(-5.0, 5.0, 200)  # from the centre to far in the tails
    got = crps(obs, quantile_members(mu, sigma))
    exact = sr.crps_normal(obs, mu, sigma)
    # The default estimator is the CRPS of the members' empirical distribution, i.e. the
    # midpoint rule for CRPS = 2 ∫₀¹ pinball_τ(obs − Q(τ)) dτ over K cells of width 1/K. Interior
    # cells err by O(σ/K²); the two tail cells, where the normal quantile function is unbounded,
    # put their mass 1/K at Q(0.5/K) instead of spreading it over the tail, whose mean lies
    # |E[Z | Z < z_{1/K}] − z_{0.5/K}| ≈ 0.08σ further out: about 0.16σ/K in all (0.18σ/K at
    # most over obs within ±6σ). The tolerance 0.3σ/K leaves that margin, is at most 0.13% of
    # the CRPS (≥ 0.23σ) and still rejects the "fair" estimator, lower by E|X − X'|/(2K) ≈
    # 0.56σ/K.
    tolerance = 0.3 * sigma / K
    np.testing.assert_array_less(np.abs(got - exact), tolerance)
    fair = sr.crps_ensemble(obs, quantile_members(mu, sigma), estimator="fair")
    assert np.all(np.abs(fair - exact) > tolerance)
    # ... and the tolerance is tight enough to catch a slightly wrong distribution.
    wider = crps(obs, quantile_members(mu, 1.01 * sigma))
    assert np.max(np.abs(wider - exact) / tolerance) > 1.0


def test_crps_of_a_single_member_is_the_absolute_error():
    obs = np.array([1.0, -2.5, 7.0, 0.0])
    member = np.array([[3.0], [-2.5], [-1.0], [0.25]])
    np.testing.assert_allclose(crps(obs, member), np.abs(obs - member[:, 0]), rtol=1e-12)


def test_crps_of_ragged_rows_equals_that_of_their_finite_members():
    rng = np.random.default_rng(7)
    members = rng.normal(10.0, 3.0, (30, 12))
    finite = rng.integers(1, 13, 30)
    for row, n in enumerate(finite):
        members[row, n:] = np.nan  # a climatology with fewer past months
    obs = rng.normal(10.0, 3.0, 30)
    expected = [float(sr.crps_ensemble(obs[i], members[i, : finite[i]])) for i in range(len(obs))]
    np.testing.assert_allclose(crps(obs, members), expected, rtol=1e-12)


def test_scoringrules_weighted_crps_with_zero_weights_equals_the_crps_of_the_finite_members():
    # The alternative way to score ragged rows: a finite stand-in with weight 0 for NaN members.
    rng = np.random.default_rng(11)
    members = rng.normal(0.0, 1.0, (20, 8))
    members[:, 5:] = np.nan
    obs = rng.normal(0.0, 1.0, 20)
    weights = np.where(np.isnan(members), 0.0, 1.0)
    weighted = sr.crps_ensemble(obs, np.nan_to_num(members, nan=0.0), ens_w=weights)
    np.testing.assert_allclose(weighted, crps(obs, members), rtol=1e-12)


def test_crps_is_nan_where_the_observation_or_every_member_is_unknown():
    members = np.array([[1.0, 2.0], [np.nan, np.nan], [1.0, 2.0]])
    got = crps(np.array([np.nan, 1.0, 1.5]), members)
    assert np.isnan(got[:2]).all() and got[2] == pytest.approx(0.25)


def test_ensemble_scores_refuse_shapes_that_do_not_match():
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        crps(np.zeros(3), np.zeros((4, 2)))


# --- PIT and central bands -------------------------------------------------------------------

N_CASES = 4_000


def normal_cases(seed: int, member_sigma_factor: float = 1.0):
    """Observations drawn from N(μ_i, σ_i) and K quantile members of N(μ_i, factor·σ_i)."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0.0, 20.0, N_CASES)
    sigma = rng.uniform(0.5, 30.0, N_CASES)
    obs = rng.normal(mu, sigma)
    return obs, quantile_members(mu, member_sigma_factor * sigma)


def test_pit_of_observations_from_the_forecast_distribution_is_uniform():
    obs, members = normal_cases(seed=3)
    values = pit(obs, members)
    # KS at the 1% level: the members' granularity (1/K = 0.001) is far below the test's
    # critical distance (≈ 1.63/√N ≈ 0.026).
    assert stats.kstest(values, "uniform").pvalue > 0.01
    # The mean of N uniforms has standard error √(1/12/N).
    assert abs(values.mean() - 0.5) < 3 * np.sqrt(1 / 12 / N_CASES)
    for level in (0.5, 0.9):
        share = np.mean(band_hits(obs, members, level))
        assert abs(share - level) < 3 * np.sqrt(level * (1 - level) / N_CASES)


def test_pit_of_overconfident_ensembles_is_not_uniform():
    obs, members = normal_cases(seed=3, member_sigma_factor=0.5)
    assert stats.kstest(pit(obs, members), "uniform").pvalue < 1e-6
    share = np.mean(band_hits(obs, members, 0.9))  # the band holds 59% of the obs, not 90%
    assert share < 0.9 - 10 * np.sqrt(0.9 * 0.1 / N_CASES)


def test_pit_counts_ties_half_and_drops_nan_members():
    members = np.array([[1.0, 2.0, 2.0, 3.0], [1.0, 2.0, np.nan, np.nan], [1.0, 2.0, 3.0, 4.0]])
    got = pit(np.array([2.0, 3.0, 0.0]), members)
    np.testing.assert_array_equal(got, [0.5, 1.0, 0.0])
    assert np.isnan(pit(np.array([np.nan]), members[:1])).all()


def test_band_hits_use_a_closed_band_of_linearly_interpolated_quantiles():
    members = np.tile([0.0, 1.0, 2.0, 3.0, 4.0, np.nan], (5, 1))  # 25%–75% band: [1, 3]
    obs = np.array([1.0, 3.0, 0.999, 3.001, np.nan])
    got = band_hits(obs, members, 0.5)
    np.testing.assert_array_equal(got[:4], [1.0, 1.0, 0.0, 0.0])
    assert np.isnan(got[4])
    with pytest.raises(ValueError, match="level"):
        band_hits(obs, members, 1.0)


# --- Binary events --------------------------------------------------------------------------


@pytest.mark.parametrize(("c", "f"), [(0.0, 0.1), (0.3, 0.1), (0.9, 0.25), (1.0, 0.5)])
def test_brier_of_a_constant_forecast(c, f):
    n = 1_000
    o = (np.arange(n) < round(f * n)).astype(float)  # frequency exactly f
    got = brier(np.full(n, c), o).mean()
    assert got == pytest.approx((c - f) ** 2 + f * (1 - f), abs=1e-12)


def test_log_score_of_a_certain_forecast_that_fails_is_capped_by_the_floor():
    got = log_score(np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(got, [-np.log(LOG_SCORE_FLOOR)] * 2 + [np.log(2.0)], rtol=1e-12)


def test_binary_scores_are_nan_where_the_outcome_is_unknown():
    p, o = np.array([0.2, 0.7, 0.4]), np.array([0.0, np.nan, 1.0])
    for score in (brier, log_score):
        got = score(p, o)
        assert np.isnan(got[1]) and np.isfinite(got[[0, 2]]).all()
    assert brier(p, o)[2] == pytest.approx(0.36)


def test_skill_is_zero_against_itself_one_when_perfect_and_nan_without_a_reference():
    rng = np.random.default_rng(5)
    o = rng.binomial(1, 0.3, 500).astype(float)
    p = np.clip(rng.uniform(0.0, 1.0, 500), 0.0, 1.0)
    reference = brier(np.full(500, 0.3), o)
    assert skill(reference, reference) == 0.0
    assert skill(brier(o, o), reference) == 1.0
    assert skill(brier(p, o), reference) < 0.0  # random guesses are worse than climatology
    assert np.isnan(skill(reference, np.zeros(500)))
    assert np.isnan(skill(np.full(3, np.nan), np.ones(3)))


def test_brier_mc_se_matches_the_spread_of_simulated_frequencies():
    rng = np.random.default_rng(2025)
    cases, n_paths, replications = 40, 1_000, 4_000
    p = rng.uniform(0.02, 0.98, cases)
    o = rng.binomial(1, p).astype(float)
    o[:3] = np.nan  # unknown outcomes are left out of the mean
    known = ~np.isnan(o)
    frequencies = rng.binomial(n_paths, p, (replications, cases)) / n_paths
    mean_brier = [np.nanmean(brier(row, o)) for row in frequencies]
    # The sample standard deviation of R replications has a relative standard error of
    # 1/√(2(R − 1)) ≈ 1.1% for R = 4000, and the delta method's neglected second-order term is
    # O(1/n_paths); 10% is about 9 standard errors, yet any wrong factor (√2, 1/n vs 1/n²,
    # n_paths vs √n_paths) is far outside it.
    assert np.std(mean_brier, ddof=1) == pytest.approx(brier_mc_se(p, o, n_paths), rel=0.10)
    assert brier_mc_se(p[known], o[known], n_paths) == brier_mc_se(p, o, n_paths)
    assert np.isnan(brier_mc_se(p, np.full(cases, np.nan), n_paths))


# --- Reliability and coverage ----------------------------------------------------------------


def calibrated_cases(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Forecast probabilities weighted to the low bins, with outcomes o ~ Bernoulli(p)."""
    p = rng.beta(0.6, 2.0, n)
    return p, rng.binomial(1, p).astype(float)


def test_reliability_table_of_calibrated_forecasts_is_within_its_intervals():
    p, o = calibrated_cases(np.random.default_rng(42), 20_000)
    table = reliability_table(p, o)
    assert list(table.columns) == [
        "low",
        "high",
        "n",
        "mean_predicted",
        "observed",
        "ci_low",
        "ci_high",
        "within",
    ]
    assert len(table) == len(DEFAULT_EDGES) - 1 and table["n"].sum() == 20_000
    # One fixed draw: each of the 8 bins is within with probability ≳ 0.95, all of them with
    # about 0.95⁸ ≈ 0.66 for an arbitrary seed; the rate itself is tested in the next test.
    assert table["within"].all()
    assert ((table["ci_low"] <= table["observed"]) & (table["observed"] <= table["ci_high"])).all()


def test_reliability_intervals_hold_the_mean_forecast_about_95_percent_of_the_time():
    rng = np.random.default_rng(43)
    within = np.concatenate(
        [reliability_table(*calibrated_cases(rng, 3_000))["within"] for _ in range(150)]
    )
    # Wilson 95% intervals of calibrated bins (mixing probabilities within a bin only narrows
    # the spread of the count): the share within is at least 95% up to 3 standard errors.
    assert within.mean() > 0.95 - 3 * np.sqrt(0.95 * 0.05 / len(within))


def test_reliability_table_flags_a_forecaster_that_says_90_percent_for_rare_events():
    rng = np.random.default_rng(8)
    table = reliability_table(np.full(500, 0.9), rng.binomial(1, 0.1, 500).astype(float))
    assert len(table) == 1 and (table["low"].item(), table["high"].item()) == (0.7, 1.0)
    assert not table["within"].item() and table["ci_high"].item() < 0.2


def test_reliability_bins_are_half_open_but_the_last_is_closed_and_unknowns_are_left_out():
    p = np.array([0.0, 0.02, 0.7, 1.0, 0.3])
    o = np.array([0.0, 1.0, 1.0, 1.0, np.nan])
    table = reliability_table(p, o)
    assert table[["low", "n"]].to_numpy().tolist() == [[0.0, 1], [0.02, 1], [0.7, 2]]
    ci = stats.binomtest(2, 2).proportion_ci(confidence_level=0.95, method="wilson")
    last = table.iloc[-1]
    assert (last["observed"], last["ci_low"], last["ci_high"]) == (1.0, ci.low, ci.high)
    assert last["mean_predicted"] == pytest.approx(0.85)


def test_coverage_interval_is_the_wilson_interval_of_the_finite_hits():
    hits = np.array([1.0, 0.0, 1.0, 1.0, np.nan, 0.0, 1.0])
    share, low, high, n = coverage_interval(hits)
    ci = stats.binomtest(4, 6).proportion_ci(confidence_level=0.95, method="wilson")
    assert (share, low, high, n) == (4 / 6, ci.low, ci.high, 6)
    empty = coverage_interval(np.array([np.nan]))
    assert np.isnan(empty[:3]).all() and empty[3] == 0
