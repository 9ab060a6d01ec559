"""Check 5: the engine's Monte Carlo errors. Per-batch counts of the barrier run's ``scarce``
event within two months (p = 0.293) are Binomial(n, p): their proportions' spread shrinks as
1/sqrt(n), matches ``binomial_stderr``, and ``wilson_interval`` covers p as often as the Wilson
interval's exact coverage at (n, p) says."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom, binomtest

from engine.cube import binomial_stderr, wilson_interval
from engine.decisions.variants import batch_counts
from engine.kernels import layout as L
from engine.rng import plan_blocks
from engine.schedule import build_schedule

from .conftest import BARRIER_PATHS, BARRIER_SEED, BLOCK, Z_TOLERANCE, Row, z_result

pytestmark = pytest.mark.slow  # compiles and runs the kernels

WITHIN = 2  # months
SMALL = 32  # paths a batch; the large batches hold 4 x SMALL
HALF = BARRIER_PATHS // BLOCK // 2  # blocks of each half: small batches, then large ones


@pytest.fixture(scope="module")
def batches(barrier, barrier_cube):
    """(proportions of the small batches, of the large ones, pooled p): the first HALF blocks of
    the barrier run in batches of SMALL paths, the next HALF in batches of 4 SMALL (disjoint
    paths, so independent estimates); the rest of the run's paths in batches of SMALL, so that
    every path is counted once and the total is the cube's."""
    schedule = build_schedule(barrier.config)
    blocks = plan_blocks(BARRIER_PATHS, BLOCK)
    event = L.EVENT_NAMES.index("scarce")

    def counts(part, size):
        found = batch_counts(
            schedule, BARRIER_SEED, BLOCK, part, event=event, within=WITHIN, batch_paths=size
        )
        assert (found.sizes == size).all()
        return found.counts[:, 0]

    small = counts(blocks[:HALF], SMALL)
    large = counts(blocks[HALF : 2 * HALF], 4 * SMALL)
    rest = counts(blocks[2 * HALF :], SMALL)
    total = int(small.sum() + large.sum() + rest.sum())
    cube_count = barrier_cube["first_event_count"].sel(regime="P", event="scarce")
    assert total == int(cube_count[:WITHIN].sum())  # the batches are the cube's paths
    return small / SMALL, large / (4 * SMALL), total / BARRIER_PATHS


def _binomial_kurtosis(n: int, p: float) -> float:
    return 3.0 + (1.0 - 6.0 * p * (1.0 - p)) / (n * p * (1.0 - p))


def test_stderr_shrinks_as_one_over_root_n(batches, validation_table):
    """sd(batch proportion at n) / sd(at 4n) = 2, within 4 SE by the delta method:
    Var(log s) = (kappa - 1) / (4 m) for a sample sd s of m batches (kappa the binomial
    kurtosis 3 + (1 - 6pq) / (npq)), the two halves independent, so SE(ratio) = 2 sqrt(sum)."""
    small, large, p = batches
    ratio = float(small.std(ddof=1) / large.std(ddof=1))
    var_log = sum(
        (_binomial_kurtosis(n, p) - 1.0) / (4.0 * m)
        for n, m in ((SMALL, small.size), (4 * SMALL, large.size))
    )
    se = 2.0 * float(np.sqrt(var_log))
    validation_table.append(
        Row(
            "5a. SE shrinks as 1/sqrt(n)",
            f"sd(p_hat, n = {SMALL}) / sd(p_hat, n = {4 * SMALL}) = 2",
            "4 SE, delta method: Var(log s) = (kappa - 1)/(4m), independent halves",
            z_result(ratio, 2.0, se) + f" ({small.size} and {large.size} batches)",
        )
    )
    assert abs(ratio - 2.0) <= Z_TOLERANCE * se, (ratio, se)


def test_binomial_stderr_matches_spread(batches, validation_table):
    """``binomial_stderr`` at (n p, n), sqrt(p (1 - p) / n), equals the sample sd of the
    n-path batch proportions within 4 SE, SE(s) = sd sqrt((kappa - 1) / (4 m))."""
    small, _, p = batches
    reported = float(binomial_stderr(np.array(p * SMALL), np.array(SMALL)))
    estimate = float(small.std(ddof=1))
    se = reported * float(np.sqrt((_binomial_kurtosis(SMALL, p) - 1.0) / (4.0 * small.size)))
    validation_table.append(
        Row(
            "5b. binomial_stderr",
            f"binomial_stderr(np, n) = sqrt(p(1-p)/n) = sample sd of {small.size} batch proportions"
            f" (n = {SMALL}, p = {p:.4f})",
            "4 SE, SE(s) = sd sqrt((kappa - 1)/(4m))",
            z_result(estimate, reported, se),
        )
    )
    assert abs(estimate - reported) <= Z_TOLERANCE * se, (estimate, reported, se)


def _wilson_exact_coverage(n: int, p: float) -> float:
    """sum over k of Binomial(k; n, p) for the k whose Wilson 95% interval (scipy's, not the
    engine's) holds p."""
    ks = np.arange(n + 1)
    bounds = [binomtest(int(k), n).proportion_ci(0.95, method="wilson") for k in ks]
    holds = np.array([b.low <= p <= b.high for b in bounds])
    return float(binom.pmf(ks, n, p)[holds].sum())


def test_wilson_interval_coverage(batches, validation_table):
    """The share of n-path batches whose ``wilson_interval`` (95%) holds the pooled p equals
    the Wilson interval's exact coverage at (n, p), sum_k Binomial(k; n, p) [p in W(k)], within
    4 SE = 4 sqrt(C (1 - C) / m); and C is within 0.93-0.97."""
    small, _, p = batches
    lower, upper = wilson_interval(np.rint(small * SMALL), np.full(small.size, SMALL))
    estimate = float(np.mean((lower <= p) & (p <= upper)))
    expected = _wilson_exact_coverage(SMALL, p)
    se = float(np.sqrt(expected * (1.0 - expected) / small.size))
    validation_table.append(
        Row(
            "5c. Wilson coverage",
            f"exact coverage of the 95% Wilson interval at (n = {SMALL}, p = {p:.4f}): "
            "sum_k Binom(k; n, p) [p in W(k)]",
            "4 SE, SE = sqrt(C(1-C)/m); C in 0.93-0.97",
            z_result(estimate, expected, se) + f" ({small.size} batches)",
        )
    )
    assert 0.93 <= expected <= 0.97
    assert abs(estimate - expected) <= Z_TOLERANCE * se, (estimate, expected, se)
