"""Shared pieces of the validation suite: configs with every random term off but the one under
test, the barrier-crossing run shared by two modules, the exact law of a discretely monitored
Gaussian random walk, and the table of measured numbers.

The table: every check adds a row to the session's ``validation_table``; with
``RMP_RISK_VALIDATION_TABLE=PATH`` set, the rows are written to PATH as Markdown at the end of
the session (``check | closed form | tolerance | result``), the README's validation table.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import fftconvolve
from scipy.stats import norm

from engine.config import Config, Regime, Uniform, load_config
from engine.pipeline import simulate
from engine.schedule import build_schedule

from ..conftest import MODEL_CONFIG, small, tweak, with_regimes

TABLE_ENV = "RMP_RISK_VALIDATION_TABLE"
Z_TOLERANCE = 4.0  # standard errors: every statistical check's tolerance
BLOCK = 2048  # paths per random-number block of every run here
RRP_BASE_BN = 20.0  # $bn, the fixed ON RRP take-up of the quiet configs
BGK_BETA = 0.5825971579390106  # -zeta(1/2) / sqrt(2 pi): Broadie-Glasserman-Kou's shift
CALENDAR_EFFECTS = ("april_tax", "corporate_tax", "coupon_settlement", "first_of_month")
SPREAD_GAMMAS = ("month_end_bp", "quarter_end_bp", "year_end_bp", "settlement_bp")


def model_config() -> Config:
    return load_config(MODEL_CONFIG)


def quiet(config: Config, pace_bn: float = 0.0, **changes) -> Config:
    """``config`` with every random term, flow and calendar effect off, one regime buying a
    constant ``pace_bn`` $bn a month with no rules, and then ``changes`` (``tweak``'s dotted
    keys): currency, bank assets, TGA, ON RRP and other liabilities stay where they start (ON RRP
    at ``RRP_BASE_BN`` from the first day), the spread sits on the demand curve, no SRF. The
    quarter- and year-end ON RRP spikes stay: the 1-2 month horizons here (January-February
    2026) have no quarter-end."""
    ini = config.initial
    zero = Uniform(0.0, 0.0)
    off = {
        "currency.growth_per_year": zero,
        "currency.seasonal_peak_bn": 0.0,
        "currency.daily_sd_bn": 0.0,
        "tga.daily_sd_bn": 0.0,
        "tga.anchor_bn": (ini.tga_bn,) * len(config.tga.anchor_bn),
        "tga.debt_ceiling.probability": 0.0,
        **{f"tga.calendar.{name}.amount_bn": zero for name in CALENDAR_EFFECTS},
        "on_rrp.base_bn": Uniform(RRP_BASE_BN, RRP_BASE_BN),
        "on_rrp.daily_sd_bn": 0.0,
        "on_rrp.refill_bn_per_bp": 0.0,
        "other_liabilities.daily_sd_bn": 0.0,
        "bank_assets.growth_per_year": zero,
        "spread.noise_sd0_bp": 0.0,
        "spread.noise_sd1_bp": 0.0,
        "spread.jump_p0": 0.0,
        **{f"spread.{name}": 0.0 for name in SPREAD_GAMMAS},
        "srf.enabled": False,
    }
    config = tweak(config, **{**off, **changes})
    return with_regimes(config, Regime("P", Uniform(pace_bn, pace_bn)))


# ------------------------------------------------------------------ a discretely watched walk


def bgk_crossing(b: float, steps: int) -> float:
    """P(max_{k<=steps} S_k >= b) for a driftless Gaussian walk of unit steps by the reflection
    principle with Broadie-Glasserman-Kou's continuity correction: 2 (1 - Phi((b + beta) /
    sqrt(steps)))."""
    return float(2.0 * norm.sf((b + BGK_BETA) / math.sqrt(steps)))


def exact_crossing(b: float, steps: int, h: float = 0.01) -> np.ndarray:
    """P(max_{k<=n} S_k >= b), n = 1..steps, for a driftless Gaussian walk of unit steps:
    float64 (steps,). The density of S_n on {max_{k<=n} S_k < b} is propagated by the
    convolution f_{n+1}(y) = int_{x<b} f_n(x) phi(y - x) dx, midpoint rule on cells of width
    ``h`` below b (O(h^2)), down to b - 10 sqrt(steps) - 10."""
    n = math.ceil((b + 10.0 * math.sqrt(steps) + 10.0) / h)
    x = b - h * (np.arange(n)[::-1] + 0.5)
    kernel = norm.pdf(h * np.arange(-(n - 1), n)) * h
    f = norm.pdf(x)
    alive = [f.sum() * h]
    for _ in range(steps - 1):
        f = np.clip(fftconvolve(f, kernel, mode="full")[n - 1 : 2 * n - 1], 0.0, None)
        alive.append(f.sum() * h)
    return 1.0 - np.array(alive)


# ------------------------------------------------------------------ the barrier-crossing run


@dataclass(frozen=True)
class Barrier:
    """A config whose ``scarce`` event is log currency, a driftless Gaussian random walk of
    step ``sigma``, crossing ``b_steps * sigma``; ``steps``: business days of each month."""

    config: Config
    sigma: float
    b_steps: float
    steps: tuple[int, ...]


BARRIER_STEPS = 6.0  # b / sigma: P(cross by month 1) = 0.144, by month 2 = 0.293
BARRIER_PATHS = 200_000
BARRIER_SEED = 20260202


def barrier_config(b_steps: float = BARRIER_STEPS, months: int = 2) -> Barrier:
    """Everything constant but currency, whose log is a random walk of steps sigma = daily_sd /
    C0 (no growth, no seasonal); reserves R_t = R_const - (C_t - C0) with R_const = R0 + ON
    RRP0 - ON RRP base (the only flows that move on day 0). ``scarce`` (reserves below
    S = R_const + C0 - C0 exp(b), the ratio test switched off) is then log(C_t / C0) > b."""
    base = model_config()
    ini = base.initial
    sigma = base.currency.daily_sd_bn / ini.currency_bn
    r_const = ini.reserves_bn + ini.on_rrp_bn - RRP_BASE_BN
    threshold = r_const + ini.currency_bn - ini.currency_bn * math.exp(b_steps * sigma)
    config = quiet(
        base,
        **{
            "currency.daily_sd_bn": base.currency.daily_sd_bn,
            "events.scarce_reserves_bn": threshold,
            "events.scarce_ratio": 1e-6,  # reserves are never below 1e-6 of bank assets
        },
    )
    config = small(config, months=months, paths=BARRIER_PATHS, block=BLOCK)
    steps = tuple(int(n) for n in build_schedule(config).calendar.days_in_month)
    return Barrier(config, sigma, b_steps, steps)


@pytest.fixture(scope="session")
def barrier() -> Barrier:
    return barrier_config()


@pytest.fixture(scope="session")
def barrier_cube(barrier):
    """The cube of ``barrier``: BARRIER_PATHS paths, seed BARRIER_SEED."""
    return simulate(barrier.config, paths=BARRIER_PATHS, seed=BARRIER_SEED, workers=1)


# ------------------------------------------------------------------ the table


@dataclass(frozen=True)
class Row:
    check: str
    closed_form: str
    tolerance: str
    result: str


def z_result(estimate: float, expected: float, se: float, digits: int = 4) -> str:
    """'estimate E, expected X, SE s, (E - X)/s = z' for the table."""
    z = (estimate - expected) / se
    return (
        f"estimate {estimate:.{digits}g}, expected {expected:.{digits}g}, SE {se:.2g}: {z:+.2f} SE"
    )


@pytest.fixture(scope="session")
def validation_table():
    """The rows of the validation table (a list of ``Row``), written at the end of the session
    to the path in ``RMP_RISK_VALIDATION_TABLE``, when it is set."""
    rows: list[Row] = []
    yield rows
    path = os.environ.get(TABLE_ENV)
    if path and rows:
        lines = ["| check | closed form | tolerance | result |", "|---|---|---|---|"]
        lines += [
            f"| {r.check} | {r.closed_form} | {r.tolerance} | {r.result} |"
            for r in sorted(rows, key=lambda r: r.check.split(".")[0])
        ]
        Path(path).write_text("\n".join(lines) + "\n")
