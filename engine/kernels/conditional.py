"""Conditional Monte Carlo of a spread tier: each regime-day adds the probability, over the
day's spread noise and spread jump, that the tier fires, instead of whether it did.

Given everything a day draws but its spread-noise shock η and its jump J (Exponential, mean μ,
with probability π), the latent spread is ``base + scale · η + J`` and the tier fires exactly
when it reaches a level ``latent_needed`` (the spread, SRF take-up and EFFR tests are all
non-decreasing in the latent spread; ``systemic`` fires on the day its run of days at its
spread is completed, and only that day's test is integrated). The day's hazard is
``q = P(η ≥ (needed − base) / scale) + π E[exp(−d / μ); d > 0]``, d = needed − base − scale · η:
one Student-t tail for the noise alone, and the jump's share, whose expectation over η is
estimated from the day's drawn η (unbiased; a closed form in J). Summed over the days of a month
on which the tier has not yet fired (in the month, or ever), it is an unbiased estimate of the
month's probability (of the first event falling in the month): E[1{not yet} · 1{fires}] =
E[1{not yet} · q], as "not yet" is known before η and J are drawn. Each path's monthly and
cumulative estimates, their squares, their products across regimes and their sums over the
paths on which a regime had the tier (for the control variate, ``engine.cube_conditional``)
are added as fixed-point integers (``fixed.py``): sums independent of the order of the paths.
Shapes: R regimes, M months, N_LIMBS limbs, N tail-table intervals.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..accelerate import jit
from . import layout as L
from .fixed import add_fixed

MONTHLY, CUMULATIVE = 0, 1  # first axis of the sums: P(tier in the month), P(tier by its end)
N_ESTIMATES = 2
# ``Hazard.y`` columns: a path's estimate for the month so far, the part of it while the tier
# has never fired (the month's share of the cumulative estimate), the cumulative estimate.
Y_MONTH, Y_FIRST, Y_CUMULATIVE = range(3)
N_Y = 3


class Hazard(NamedTuple):
    """The conditional estimator's inputs, work and sums (``simulate_paths``'s ``hazard``)."""

    tier: int  # ``layout.E_*`` of the conditioned tier (tight, stress or crisis)
    tail: np.ndarray  # float64 (N + 1, 2): P(T ≥ x) and d/ds (``tables.tail_table``)
    y: np.ndarray  # float64 (R, N_Y), a path's estimates so far (work, zeros on entry)
    sums: np.ndarray  # int64 (N_ESTIMATES, R, M, N_LIMBS): Σ over paths of the estimates
    cross: np.ndarray  # int64 (N_ESTIMATES, R, R, M, N_LIMBS): Σ y_r y_q, q ≥ r (else 0)
    hits: np.ndarray  # int64 (N_ESTIMATES, R, R, M, N_LIMBS): Σ y_r over paths where q had it


@jit(inline="always")
def tail_probability(tail, x):
    """P(T ≥ x) for the table's Student t (``tables.tail_table``), by cubic Hermite
    interpolation in s = sign(x) (1 − 1/√(1 + |x|))."""
    if x != x:
        return 0.0
    n = tail.shape[0] - 1
    s = math.copysign(1.0 - 1.0 / math.sqrt(1.0 + abs(x)), x)
    position = (s + 1.0) * 0.5 * n
    i = min(int(position), n - 1)
    u = position - i
    h = 2.0 / n  # interval width in s
    f0, d0 = tail[i, 0], tail[i, 1] * h
    f1, d1 = tail[i + 1, 0], tail[i + 1, 1] * h
    u2 = u * u
    u3 = u2 * u
    value = (
        (2.0 * u3 - 3.0 * u2 + 1.0) * f0
        + (u3 - 2.0 * u2 + u) * d0
        + (-2.0 * u3 + 3.0 * u2) * f1
        + (u3 - u2) * d1
    )
    return min(1.0, max(0.0, value))


@jit(inline="always")
def needed_spread_and_srf(tier, p):
    """(the spread, bp, and the SRF take-up, $bn, at or above which ``tier`` fires) under
    parameters ``p``; the crisis tier's EFFR test is turned into a spread."""
    if tier == L.E_TIGHT:
        return p[L.P_EV_TIGHT], math.inf
    if tier == L.E_STRESS:
        return p[L.P_EV_STRESS], p[L.P_EV_STRESS_SRF]
    if tier == L.E_SYSTEMIC:  # the spread test of the run's last day; no SRF test
        return p[L.P_EV_SYSTEMIC], math.inf
    spread = p[L.P_EV_CRISIS]
    # EFFR = e0 + ψ max(0, spread − s0) > top
    if p[L.P_EFFR_E0] > p[L.P_EFFR_TOP]:
        spread = -math.inf
    elif p[L.P_EFFR_PSI] > 0.0:
        spread = min(spread, p[L.P_EFFR_S0] + (p[L.P_EFFR_TOP] - p[L.P_EFFR_E0]) / p[L.P_EFFR_PSI])
    return spread, p[L.P_EV_CRISIS_SRF]


@jit(inline="always")
def latent_needed(spread, srf, ceiling, p):
    """The latent spread (bp) at or above which the day's spread reaches ``spread`` or its SRF
    take-up reaches ``srf``, under the leaky ceiling ``ceiling`` (bp): its inverse."""
    if srf <= 0.0:
        return -math.inf  # no take-up (0) already reaches it
    if spread <= ceiling:
        by_spread = spread
    elif p[L.P_SRF_LEAK] > 0.0:
        by_spread = ceiling + (spread - ceiling) / p[L.P_SRF_LEAK]
    else:
        by_spread = math.inf
    by_srf = ceiling + srf / p[L.P_SRF_TAKEUP] if p[L.P_SRF_TAKEUP] > 0.0 else math.inf
    return min(by_spread, by_srf)


@jit(inline="always")
def tier_latent(tier, ceiling, p):
    """The latent spread (bp) at or above which ``tier`` fires on a day whose SRF ceiling is
    ``ceiling`` (bp): the same for every regime."""
    spread, srf = needed_spread_and_srf(tier, p)
    return latent_needed(spread, srf, ceiling, p)


@jit(inline="always")
def can_fire_today(tier, run_before, p):
    """Whether ``tier`` can fire today: always, but for ``systemic``, which fires on the day
    its run of days at or above its spread reaches ``P_EV_SYSTEMIC_DAYS``; ``run_before`` is
    the run up to yesterday (days)."""
    return tier != L.E_SYSTEMIC or run_before + 1 >= p[L.P_EV_SYSTEMIC_DAYS]


@jit(inline="always")
def jump_hazard(short, log_jump_p, jump_mean):
    """The jump's share of the day's hazard, given the day's noise: P(a jump reaches the level)
    = π P(J ≥ short) = π exp(−short / μ) when the latent spread with its noise but no jump is
    ``short`` (bp) below the tier's level, else 0 (the noise alone reaches it: the tail's
    share). ``log_jump_p`` log π, ``jump_mean`` μ (bp) of the exponential jump J."""
    if short <= 0.0 or jump_mean <= 0.0:
        return 0.0
    return math.exp(log_jump_p - short / jump_mean)


@jit(inline="always")
def add_day_hazard(hazard, r, gap, step, by_jump, fired, month_bits, ever_bits):
    """Add regime ``r``'s hazard of the day, P(step · T ≥ gap) + ``by_jump`` (T the standard
    Student t; ``gap``, bp, from the latent spread without its noise and jump to the tier's
    level; ``step``, bp, the noise's scale; ``by_jump``, ``jump_hazard``'s share, an unbiased
    estimate over the noise of P(step · T < gap ≤ step · T + jump)), to its estimates;
    ``month_bits`` and ``ever_bits`` the tiers it has had this month and before it. On a
    diverged path (``gap`` or ``step`` not finite) there is no distribution to integrate: the
    day adds whether the tier ``fired`` (latent ≥ level, as the day's tests decide it)."""
    bit = 1 << hazard.tier
    in_month = (month_bits & bit) == 0
    never = ((month_bits | ever_bits) & bit) == 0
    if not (in_month or never):
        return
    if not (math.isfinite(gap) and math.isfinite(step)):
        q = 1.0 if fired else 0.0
    else:
        if step > 0.0:
            by_noise = tail_probability(hazard.tail, gap / step)
        elif step < 0.0:
            by_noise = 1.0 - tail_probability(hazard.tail, gap / step)
        else:
            by_noise = 1.0 if gap <= 0.0 else 0.0
        q = by_noise + by_jump
    if in_month:
        hazard.y[r, Y_MONTH] += q
    if never:
        hazard.y[r, Y_FIRST] += q


@jit(refcounted=False)
def close_month(hazard, month, month_bits, ever_bits):
    """Add every regime's estimates of ``month`` (and the cumulative ones by its end), their
    squares, their products with later regimes and, where a regime had the tier (in the month;
    by its end: ``month_bits``, ``ever_bits`` int64 (R,), before the month is folded in), each
    regime's estimate to the hits, to the sums; reset the month's."""
    y, sums, cross, hits = hazard.y, hazard.sums, hazard.cross, hazard.hits
    n_regimes = y.shape[0]
    bit = 1 << hazard.tier
    for r in range(n_regimes):
        y[r, Y_CUMULATIVE] += y[r, Y_FIRST]
    for estimate, column in ((MONTHLY, Y_MONTH), (CUMULATIVE, Y_CUMULATIVE)):
        for r in range(n_regimes):
            value = y[r, column]
            if value == 0.0:
                continue
            add_fixed(sums[estimate, r, month], value)
            for q in range(r, n_regimes):
                add_fixed(cross[estimate, r, q, month], value * y[q, column])
            for q in range(n_regimes):
                had = month_bits[q] if estimate == MONTHLY else month_bits[q] | ever_bits[q]
                if had & bit:
                    add_fixed(hits[estimate, r, q, month], value)
    for r in range(n_regimes):
        y[r, Y_MONTH] = 0.0
        y[r, Y_FIRST] = 0.0


@jit(inline="always")
def start_path_hazard(hazard):
    """Reset a path's estimates."""
    for r in range(hazard.y.shape[0]):
        for k in range(N_Y):
            hazard.y[r, k] = 0.0
