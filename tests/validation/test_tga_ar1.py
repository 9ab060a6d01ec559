"""Check 2: the TGA deviation from its anchor is the AR(1) D_t = phi D_{t-1} + sigma nu_t, D_{-1}
= 0, with unit-variance Student-t innovations nu: its cross-path variance and its
autoregression slopes against their closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import Regime, Uniform
from engine.diagnostics import trace_paths
from engine.kernels import layout as L
from engine.schedule import build_schedule

from ..conftest import small, tweak, with_regimes
from .conftest import BLOCK, CALENDAR_EFFECTS, Z_TOLERANCE, Row, model_config, z_result

pytestmark = pytest.mark.slow  # compiles and runs the kernels

PATHS = 20_000
SEED = 314159
T_DF = 20.0  # the largest the config allows: a finite fourth moment, excess kurtosis 6/16
DAYS = (0, 9, 38)  # first day (variance sigma^2), day 10 (transient), the last day
BASE_DAY = 10
LAGS = (1, 5, 20)


@pytest.fixture(scope="module")
def tga():
    """(D (n, T) = TGA_t - anchor_t of every path, phi, sigma): the judgement config with the
    TGA calendar effects off and t_df = 20; everything else as it is."""
    base = model_config()
    config = tweak(
        base,
        **{"tga.t_df": T_DF},
        **{f"tga.calendar.{n}.amount_bn": Uniform(0.0, 0.0) for n in CALENDAR_EFFECTS},
    )
    config = with_regimes(config, Regime("P", Uniform(30.0, 30.0)))
    config = small(config, months=2, paths=PATHS, block=BLOCK)
    schedule = build_schedule(config)
    trace = trace_paths(schedule, PATHS, SEED, BLOCK)
    deviation = trace["tga"][:, :, 0] - schedule.day_float[None, :, L.DF_TGA_ANCHOR]
    return deviation, config.tga.ar_coefficient, config.tga.daily_sd_bn


def _weights(phi: float, t: int) -> np.ndarray:
    """D_t / sigma = sum_j phi^j nu_{t-j}, j = 0..t."""
    return phi ** np.arange(t + 1)


@pytest.mark.parametrize("day", DAYS)
def test_tga_deviation_variance(tga, day, validation_table):
    """Var(D_t) = sigma^2 (1 - phi^(2(t+1))) / (1 - phi^2) (t from 0), within 4 standard errors
    of the sample variance, SE = Var sqrt((kappa - 1) / N), kappa = 3 + (6 / (df - 4))
    sum_j phi^(4j) / (sum_j phi^(2j))^2 the kurtosis of D_t (a weighted sum of independent
    unit-variance t's). sigma = tga.daily_sd_bn: the innovations have unit variance."""
    deviation, phi, sigma = tga
    d = deviation[:, day]
    n = d.size
    expected = sigma**2 * (1.0 - phi ** (2 * (day + 1))) / (1.0 - phi**2)
    w = _weights(phi, day)
    kurtosis = 3.0 + 6.0 / (T_DF - 4.0) * np.sum(w**4) / np.sum(w**2) ** 2
    se = expected * np.sqrt((kurtosis - 1.0) / n)
    estimate = float(np.var(d, ddof=1))
    validation_table.append(
        Row(
            f"2a. TGA AR(1) variance, day {day}",
            "Var D_t = sigma^2 (1 - phi^(2(t+1))) / (1 - phi^2), sigma = 30, phi = 0.9, t_20",
            "4 SE, SE = Var sqrt((kappa - 1)/N), kappa from the t's kurtosis",
            z_result(estimate, expected, se) + f" (N = {n}, kappa = {kurtosis:.3f})",
        )
    )
    assert abs(estimate - expected) <= Z_TOLERANCE * se, (estimate, expected, se)


@pytest.mark.parametrize("lag", LAGS)
def test_tga_deviation_autoregression(tga, lag, validation_table):
    """The OLS slope of D_{t+k} on D_t across paths (t = 10) is phi^k, within 4 OLS standard
    errors (the residual, the innovations after t, is independent of D_t)."""
    deviation, phi, _ = tga
    x, y = deviation[:, BASE_DAY], deviation[:, BASE_DAY + lag]
    xc = x - x.mean()
    slope = float(xc @ (y - y.mean()) / (xc @ xc))
    residual = (y - y.mean()) - slope * xc
    se = float(np.sqrt(residual @ residual / (x.size - 2) / (xc @ xc)))
    expected = phi**lag
    validation_table.append(
        Row(
            f"2b. TGA AR(1) slope, lag {lag}",
            f"slope of D_(t+{lag}) on D_t = phi^{lag}",
            "4 OLS SE",
            z_result(slope, expected, se),
        )
    )
    assert abs(slope - expected) <= Z_TOLERANCE * se, (slope, expected, se)
