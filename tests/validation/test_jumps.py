"""Check 3: at a fixed reserve ratio x, a jump day is a Bernoulli(p) event, p = p0 exp(-lambda_J
(x - x0)), independently across days and paths, and its size an exponential of mean
``jump_mean_bp``."""

from __future__ import annotations

import numpy as np
import pytest

from engine.diagnostics import trace_paths
from engine.schedule import build_schedule

from ..conftest import small
from .conftest import BLOCK, Z_TOLERANCE, Row, model_config, quiet, z_result

pytestmark = pytest.mark.slow  # compiles and runs the kernels

PATHS = 20_000
SEED = 271828
JUMP_P0 = 0.02  # 1/day at x = x0
JUMP_LAMBDA = 60.0
JUMP_MEAN_BP = 30.0


@pytest.fixture(scope="module")
def jumps():
    """(jump sizes of every path-day, 0 where none; p; the config): every flow, the spread
    noise and the calendar gammas off, so x, h(x) and the curve value are constant."""
    config = quiet(
        model_config(),
        **{
            "spread.jump_p0": JUMP_P0,
            "spread.jump_lambda": JUMP_LAMBDA,
            "spread.jump_mean_bp": JUMP_MEAN_BP,
        },
    )
    config = small(config, months=2, paths=PATHS, block=BLOCK)
    trace = trace_paths(build_schedule(config), PATHS, SEED, BLOCK)
    ratio = trace["ratio"][:, :, 0]
    x = float(ratio[0, 0])
    assert np.ptp(ratio) == 0.0  # constant reserves and bank assets
    dc = config.demand_curve
    curve = dc.alpha_bp + dc.beta_bp * np.exp(-dc.lambda_ * (x - dc.x0))
    size = trace["spread_latent"][:, :, 0] - curve
    assert np.abs(size[size <= 1e-9]).max() < 1e-12  # no jump: the latent spread is the curve's
    p = JUMP_P0 * np.exp(-JUMP_LAMBDA * (x - dc.x0))
    return size, float(p), x


def test_jump_frequency(jumps, validation_table):
    """The share of path-days with a jump (latent spread above the curve) is Binomial(N T, p) /
    (N T), p = p0 exp(-lambda_J (x - x0)): within 4 SE = 4 sqrt(p (1 - p) / (N T))."""
    size, p, x = jumps
    trials = size.size
    estimate = float(np.mean(size > 1e-9))
    se = float(np.sqrt(p * (1.0 - p) / trials))
    validation_table.append(
        Row(
            "3a. jump frequency",
            f"Binomial(N T, p), p = p0 exp(-lambda_J (x - x0)) = {p:.5f} (x = {x:.5f}, p0 = "
            f"{JUMP_P0}, lambda_J = {JUMP_LAMBDA:g})",
            "4 SE, SE = sqrt(p (1 - p) / (N T))",
            z_result(estimate, p, se) + f" (N T = {trials:,} path-days)",
        )
    )
    assert 0.01 <= p <= 0.05
    assert abs(estimate - p) <= Z_TOLERANCE * se, (estimate, p, se)


def test_jump_size(jumps, validation_table):
    """Jump sizes are exponential with mean ``jump_mean_bp``: the sample mean of the n jumps is
    within 4 SE = 4 mean / sqrt(n) of it (an exponential's sd is its mean)."""
    size, _, _ = jumps
    sizes = size[size > 1e-9]
    estimate = float(sizes.mean())
    se = JUMP_MEAN_BP / np.sqrt(sizes.size)
    validation_table.append(
        Row(
            "3b. jump size",
            f"Exponential, mean = sd = jump_mean_bp = {JUMP_MEAN_BP:g} bp",
            "4 SE, SE = mean / sqrt(jumps)",
            z_result(estimate, JUMP_MEAN_BP, se) + f" ({sizes.size:,} jumps)",
        )
    )
    assert abs(estimate - JUMP_MEAN_BP) <= Z_TOLERANCE * se, (estimate, JUMP_MEAN_BP, se)
