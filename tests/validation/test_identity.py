"""Check 1: with every shock off, the kernel's daily path is the balance-sheet identity computed
by hand, day by day, from the config's numbers and a hand-made 2026 business-day calendar."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engine.config import Uniform
from engine.diagnostics import trace_paths
from engine.kernels import layout as L
from engine.schedule import build_schedule

from ..conftest import small
from .conftest import BLOCK, RRP_BASE_BN, Row, model_config, quiet

pytestmark = pytest.mark.slow  # compiles and runs the kernels

RTOL = 1e-9  # relative, every day of every path
PACE_BN = 30.0  # $bn a month
CURRENCY_GROWTH = 0.03  # 1/yr
BANK_GROWTH = 0.045  # 1/yr
COUPON_BN = 50.0  # $bn a coupon-settlement day
FIRST_OF_MONTH_BN = -75.0  # $bn over the first three business days of a month
PATHS = 64
SEED = 11
# Federal Reserve holidays on weekdays, 2025-12-31 .. 2026-03-31: New Year's Day, Martin Luther
# King Jr. Day (third Monday of January), Washington's Birthday (third Monday of February).
HOLIDAYS = {  # Federal Reserve holidays of 2025-09 → 2026-03 (weekdays)
    dt.date(2025, 9, 1),
    dt.date(2025, 10, 13),
    dt.date(2025, 11, 11),
    dt.date(2025, 11, 27),
    dt.date(2025, 12, 25),
    dt.date(2026, 1, 1),
    dt.date(2026, 1, 19),
    dt.date(2026, 2, 16),
}
BURN_IN_START = dt.date(2025, 9, 1)  # the calendar effects in force on 12-31 start 3 months before


def _business_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5 and day not in HOLIDAYS:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _config():
    base = model_config()
    ini = base.initial
    config = quiet(
        base,
        pace_bn=PACE_BN,
        **{
            "currency.growth_per_year": Uniform(CURRENCY_GROWTH, CURRENCY_GROWTH),
            "bank_assets.growth_per_year": Uniform(BANK_GROWTH, BANK_GROWTH),
            "tga.anchor_bn": base.tga.anchor_bn,  # sloped: 872.853 on 12-31 to 850 on 03-31
            "tga.calendar.coupon_settlement.amount_bn": Uniform(COUPON_BN, COUPON_BN),
            "tga.calendar.first_of_month.amount_bn": Uniform(FIRST_OF_MONTH_BN, FIRST_OF_MONTH_BN),
            # April and corporate taxes keep their ranges: none falls in January-February
            "tga.calendar.april_tax.amount_bn": base.tga.calendar.april_tax.amount_bn,
            "tga.calendar.corporate_tax.amount_bn": base.tga.calendar.corporate_tax.amount_bn,
            # the judgement's calendar spread effects (month-end 4bp, settlement 5bp) stay on
            **{f"spread.{n}": getattr(base.spread, n) for n in ("month_end_bp", "settlement_bp")},
            "on_rrp.refill_bn_per_bp": base.on_rrp.refill_bn_per_bp,  # on; never triggered
            "srf.enabled": True,  # on; the spread stays below the SRF rate
        },
    )
    assert ini.as_of == dt.date(2025, 12, 31) and config.simulation.start == dt.date(2026, 1, 2)
    return small(config, months=2, paths=PATHS, block=BLOCK)


def _by_hand(config) -> dict[str, np.ndarray]:
    """Every daily value of the identity, from the config and the hand-made calendar."""
    ini, c = config.initial, config
    days = _business_days(dt.date(2026, 1, 2), dt.date(2026, 2, 28))
    n_days = len(days)
    t = np.arange(n_days)
    months = np.array([d.month - 1 for d in days])
    per_month = np.bincount(months)  # business days of January and February
    days_per_year = c.simulation.business_days_per_year
    assert days_per_year == 252.0

    purchases = PACE_BN / per_month[months]
    soma = ini.soma_bn + np.cumsum(purchases)
    currency = ini.currency_bn * np.exp(CURRENCY_GROWTH * (t + 1) / days_per_year)

    # TGA calendar, by hand from BURN_IN_START to the first anchor: coupon settlement on the 15th
    # (or the next business day) and on month-ends, first-of-month outlays over a month's first
    # three business days, corporate taxes on the 15th (or next) of Mar/Jun/Sep/Dec (mid amount:
    # only December's is in force); each level decays by 2^(-1/half-life) a business day.
    hand = _business_days(BURN_IN_START, c.tga.anchor_dates[0])
    last_of_month = [i == len(hand) - 1 or hand[i + 1].month != d.month for i, d in enumerate(hand)]
    fifteenth = [
        d.day >= 15 and (i == 0 or hand[i - 1].day < 15 or hand[i - 1].month != d.month)
        for i, d in enumerate(hand)
    ]
    first_three = [sum(e.month == d.month for e in hand[: i + 1]) <= 3 for i, d in enumerate(hand)]
    cal = c.tga.calendar
    effects = (  # (amount on the day, half-life)
        (COUPON_BN * (np.array(fifteenth) | np.array(last_of_month)), cal.coupon_settlement),
        (FIRST_OF_MONTH_BN / 3.0 * np.array(first_three), cal.first_of_month),
        (
            cal.corporate_tax.amount_bn.mid
            * np.array(
                [f and d.month in (3, 6, 9, 12) for f, d in zip(fifteenth, hand, strict=True)]
            ),
            cal.corporate_tax,
        ),
    )
    level = np.zeros(len(hand))
    for booked, effect in effects:
        decay, running = 2.0 ** (-1.0 / effect.half_life_days), 0.0
        for i in range(len(hand)):
            running = running * decay + booked[i]
            level[i] += running
    # TGA anchor: linear in business days from initial.tga_bn at as_of (position 0) to the
    # first anchor at 2026-03-31, each knot net of the calendar in force on its date.
    grid = _business_days(ini.as_of, c.tga.anchor_dates[0])
    assert grid[-1] == c.tga.anchor_dates[0] == dt.date(2026, 3, 31)
    start = ini.tga_bn - level[hand.index(ini.as_of)]
    end = c.tga.anchor_bn[0] - level[hand.index(grid[-1])]
    position = np.array([grid.index(d) for d in days])
    anchor = start + (end - start) * position / grid.index(grid[-1])
    calendar = level[[hand.index(d) for d in days]]
    month_end = np.array(
        [i == n_days - 1 or days[i + 1].month != d.month for i, d in enumerate(days)]
    )
    settlement = np.array([fifteenth[hand.index(d)] for d in days])
    tga = anchor + calendar

    on_rrp = np.full(n_days, RRP_BASE_BN)
    other_liabilities0 = (
        ini.soma_bn
        + ini.other_assets_bn
        - ini.currency_bn
        - ini.tga_bn
        - ini.on_rrp_bn
        - ini.reserves_bn
    )
    other = np.full(n_days, other_liabilities0)
    reserves = (
        ini.reserves_bn
        + (soma - ini.soma_bn)
        - (currency - ini.currency_bn)
        - (tga - ini.tga_bn)
        - (on_rrp - ini.on_rrp_bn)
    )
    bank_ex = (ini.bank_assets_bn - ini.reserves_bn) * np.exp(BANK_GROWTH * (t + 1) / days_per_year)
    ratio = reserves / (bank_ex + reserves)
    dc, sp = c.demand_curve, c.spread
    assert dc.family == "exponential"
    h = np.exp(-dc.lambda_ * (ratio - dc.x0))
    gamma = np.where(month_end, sp.month_end_bp, 0.0) + np.where(settlement, sp.settlement_bp, 0.0)
    spread = dc.alpha_bp + (dc.beta_bp + gamma) * h
    effr = c.effr.e0_bp + c.effr.psi * np.maximum(0.0, spread - c.effr.s0_bp)
    # preconditions of a path without SRF, refill or events
    assert spread.max() < c.srf.rate_above_iorb_bp and spread.min() > c.on_rrp.refill_below_bp
    assert reserves.min() > c.events.scarce_reserves_bn and ratio.min() > c.events.scarce_ratio
    return {
        "soma": soma,
        "currency": currency,
        "tga": tga,
        "on_rrp": on_rrp,
        "other_liabilities": other,
        "srf": np.zeros(n_days),
        "reserves": reserves,
        "bank_assets": bank_ex + reserves,
        "ratio": ratio,
        "spread_latent": spread,
        "spread": spread,
        "effr_minus_iorb": effr,
        "purchases": purchases,
        "events": np.zeros(n_days),
    }


def test_deterministic_path_is_the_identity(validation_table):
    """All shocks off, a pace of 30 $bn/month, currency growing 3%/yr and bank assets 4.5%/yr,
    a sloped TGA anchor and fixed coupon and first-of-month TGA effects: every trace column
    (SOMA_t = SOMA0 + sum of pace / business days of the month; C_t = C0 exp(g (t+1) / 252);
    TGA_t = anchor_t + decaying calendar levels; R_t = R0 + dSOMA - dC - dTGA - dON RRP - dOL;
    x_t = R_t / (Aex0 exp(g_A (t+1) / 252) + R_t); s_t = alpha + (beta + gamma_t) h(x_t), h =
    exp(-lambda (x - x0)), gamma 4bp on month-ends and 5bp on settlement days) equals the hand
    computation to 1e-9 relative on each of the 39 days, and every path is the same, bit for
    bit."""
    config = _config()
    schedule = build_schedule(config)
    expected = _by_hand(config)
    trace = trace_paths(schedule, PATHS, SEED, BLOCK)
    assert schedule.calendar.n_days == len(expected["soma"]) == 39
    worst = 0.0
    for name in L.TRACE_NAMES:
        got = trace[name][:, :, 0]
        assert (got == got[:1]).all(), f"{name}: the paths differ"
        want = expected[name]
        if not want.any():
            assert (got == 0).all(), name
            continue
        np.testing.assert_allclose(got[0], want, rtol=RTOL, atol=0, err_msg=name)
        worst = max(worst, float(np.max(np.abs(got[0] / want - 1.0))))
    moved = expected["reserves"][-1] - config.initial.reserves_bn
    validation_table.append(
        Row(
            "1. deterministic path",
            "balance-sheet identity by hand, day by day (SOMA, C0 exp(g(t+1)/252), TGA anchor + "
            "calendar, ON RRP, bank assets, ratio, s = alpha + (beta + gamma) h(x), EFFR)",
            "1e-9 relative, every day; paths identical",
            f"14 columns x 39 days x {PATHS} paths: max relative difference {worst:.1e}; "
            f"reserves move {moved:+.1f} $bn, ratio {expected['ratio'][0]:.5f} to "
            f"{expected['ratio'][-1]:.5f}",
        )
    )
