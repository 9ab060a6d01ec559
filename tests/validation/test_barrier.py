"""Check 4: with log currency a driftless Gaussian random walk and everything else constant,
P(scarce by the end of month m) is the probability that the walk, watched once a business day,
has crossed a fixed barrier.

The closed form is the reflection principle with Broadie, Glasserman and Kou's continuity
correction, P = 2 (1 - Phi((b + 0.5826 sigma) / (sigma sqrt(T)))). At the T of one or two
months (20 and 39 business days) its error is not negligible against the standard error of
200,000 paths: 0.0026 and 0.0015 below the exact law, 3.2 and 1.5 standard errors. So the
formula is checked on as many paths as keep its error below half a standard error (4,000 and
20,000), and the 200,000-path cube against the exact law of the discretely watched walk
(``exact_crossing``: the first-passage recursion by convolution, grid error below 1e-5).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline import simulate

from .conftest import (
    BARRIER_PATHS,
    BARRIER_SEED,
    Z_TOLERANCE,
    Row,
    bgk_crossing,
    exact_crossing,
    z_result,
)

pytestmark = pytest.mark.slow  # compiles and runs the kernels

BGK_PATHS = {1: 4_000, 2: 20_000}  # paths at which the formula's error is below 0.5 SE
BGK_SEED = 8_675_309


def _scarce(cube, month: int) -> float:
    value = cube["cumulative_event_probability"].sel(regime="P", event="scarce")
    return float(value.isel(time=month - 1))


@pytest.fixture(scope="module")
def exact(barrier):
    """The exact crossing law at every day of the horizon, and its grid error bound (the change
    from halving the grid, an O(h^2) rule)."""
    steps = sum(barrier.steps)
    fine = exact_crossing(barrier.b_steps, steps, h=0.01)
    coarse = exact_crossing(barrier.b_steps, steps, h=0.02)
    return fine, float(np.abs(fine - coarse).max())


@pytest.mark.parametrize("month", [1, 2])
def test_barrier_crossing_bgk(barrier, exact, month, validation_table):
    """P(scarce by the end of month m) = 2 (1 - Phi((b + 0.5826 sigma) / (sigma sqrt(T)))), T
    the business days to the end of month m, b = 6 sigma, within 4 binomial SE, on as many paths
    as keep the formula's error (against the exact law) below 0.5 SE."""
    paths = BGK_PATHS[month]
    steps = sum(barrier.steps[:month])
    expected = bgk_crossing(barrier.b_steps, steps)
    se = float(np.sqrt(expected * (1.0 - expected) / paths))
    formula_error = abs(expected - exact[0][steps - 1])
    assert formula_error < 0.5 * se, (formula_error, se)
    cube = simulate(barrier.config, paths=paths, seed=BGK_SEED, workers=1)
    estimate = _scarce(cube, month)
    validation_table.append(
        Row(
            f"4a. barrier crossing, month {month} (reflection + BGK)",
            f"2 (1 - Phi((b + 0.5826 sigma) / (sigma sqrt(T)))), b = {barrier.b_steps:g} sigma, "
            f"T = {steps}",
            f"4 SE; N = {paths:,} so that the formula's error ({formula_error:.5f}) is "
            f"{formula_error / se:.2f} SE",
            z_result(estimate, expected, se),
        )
    )
    assert abs(estimate - expected) <= Z_TOLERANCE * se, (estimate, expected, se)


@pytest.mark.parametrize("month", [1, 2])
def test_barrier_crossing_exact(barrier, barrier_cube, exact, month, validation_table):
    """P(scarce by the end of month m) on 200,000 paths = P(max_{k<=T} S_k >= b / sigma) for
    a Gaussian walk of unit steps (exact discrete monitoring, by convolution), within 4 binomial
    SE; the BGK formula's distance from it is reported in SE."""
    steps = sum(barrier.steps[:month])
    law, grid_error = exact
    expected = float(law[steps - 1])
    se = float(np.sqrt(expected * (1.0 - expected) / BARRIER_PATHS))
    assert grid_error < 0.01 * se
    estimate = _scarce(barrier_cube, month)
    bgk = bgk_crossing(barrier.b_steps, steps)
    validation_table.append(
        Row(
            f"4b. barrier crossing, month {month} (exact discrete law)",
            f"P(max_(k<=T) S_k >= b) of a Gaussian walk by convolution, b = {barrier.b_steps:g} "
            f"sigma, T = {steps}; BGK gives {bgk:.4f} ({(bgk - expected) / se:+.1f} SE)",
            f"4 SE (N = {BARRIER_PATHS:,}, seed {BARRIER_SEED}); grid error {grid_error:.0e}",
            z_result(estimate, expected, se),
        )
    )
    assert abs(estimate - expected) <= Z_TOLERANCE * se, (estimate, expected, se)
