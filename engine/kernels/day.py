"""One simulated business day of one path, under every regime: the model in code.

``simulate_day`` takes the day's shared shocks and, in order, moves the balance sheet
(currency, TGA, other liabilities, ON RRP, the Fed's purchases), maps each regime's reserves
through the demand curve to the spread, applies the spread jump and the leaky Standing Repo
Facility ceiling, and counts the day's events; on a month's last day it also bins the month's
statistics and counts the month's events. The run, trace and replay kernels (``paths.py``) call
it; it is inlined into each. Shapes: R regimes, E events, M months, V histograms,
B = bins + 2.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..accelerate import jit
from . import layout as L
from .conditional import (
    add_day_hazard,
    can_fire_today,
    close_month,
    jump_hazard,
    tier_latent,
)
from .counts import count_month, histogram_bin
from .curve import curve_shape

# Per-regime state, a row per regime (its fields at fixed offsets from one base):
# ``rs[r, RS_*]`` (float64 (R, N_REGIME_STATE)) and ``rf[r, RF_*]`` (int64 (R, N_REGIME_FLAGS)).
(
    RS_SOMA,
    RS_NOISE,
    RS_SPREAD_PREV,
    RS_PACE,
    RS_THEN_PACE,
    RS_PURCHASES,
    RS_ON_RRP,
    RS_RESERVES,
    RS_GAP,
    RS_H,
    RS_MONTH_SUM_SPREAD,
    RS_MONTH_MIN_RESERVES,
    RS_MONTH_MAX_SPREAD,
    RS_MONTH_MAX_SRF,
) = range(14)
N_REGIME_STATE = 14
RF_REACT_ON, RF_CRISIS_DAY, RF_EMERGENCY_LAST_MONTH, RF_SYSTEMIC_RUN, RF_SWITCH_DAY = range(5)
N_REGIME_FLAGS = 5
JUMP_BOUND_MARGIN = 1e-9  # covers the rounding of 1 - 1/u (≈ 1e-15) in the jump pre-test
NO_DAY = -1  # a day index that is never reached


class PathConstants(NamedTuple):
    """A path's values that hold on every one of its days (from its per-path draws)."""

    currency_drift: float  # 1 per business day, drift of log currency
    bank_factor: float  # 1, daily growth factor of bank assets other than reserves
    rrp_base: float  # $bn, ON RRP level its deviations revert to
    dc_active: bool  # a debt-ceiling episode happens on this path
    dc_floor: float  # $bn, the TGA's floor during the episode
    dc_resolution: float  # business days from the episode's start to its resolution
    dc_rebuild: float  # business days to rebuild the TGA after it
    noise_sd0: float  # bp, spread noise scale at h = 0 (it may be drawn per path)
    noise_sd1: float  # bp, spread noise scale per unit of h


class PathState(NamedTuple):
    """What a path carries from one day to the next besides the per-regime state."""

    log_currency: float  # log $bn
    tga_dev: float  # $bn, AR(1) deviation of the TGA from its anchor
    tga_walk: float  # $bn, random walk of the anchor
    alpha_walk: float  # bp, the curve level's departure from α (its start and its walk)
    other_dev: float  # $bn, AR(1) deviation of other liabilities
    rrp_level: float  # $bn, ON RRP level before its floor at 0 and its period-end spike
    bank_ex_reserves: float  # $bn, bank assets other than reserves
    recheck_day: int  # the day after a regime's first crisis (its pace may change), or NO_DAY


class Limits(NamedTuple):
    """Parameters read on every regime-day, held in registers: array loads cannot be hoisted
    past the kernel's stores."""

    ev_systemic: float  # bp
    ev_quiet_below: float  # bp: below it (and the SRF threshold) no spread tier fires
    ev_quiet_srf_below: float  # $bn
    effr_top: float  # bp, EFFR − IORB above which the day is a crisis
    ev_scarce_reserves: float  # $bn
    ev_scarce_ratio: float  # 1, reserves / bank assets
    curve_family: int  # ``layout.CURVE_*``
    spread_floor: float  # bp, −inf: none


class DayWork(NamedTuple):
    """The arrays a day reads and writes besides the inputs and the counts."""

    rs: np.ndarray  # float64 (R, N_REGIME_STATE)
    rf: np.ndarray  # int64 (R, N_REGIME_FLAGS)
    month_bits: np.ndarray  # int64 (R,), event bitmask of the month so far
    ever_bits: np.ndarray  # int64 (R,), event bitmask of the path so far
    cal_level: np.ndarray  # float64 (N_CAL,), $bn, TGA calendar effects still in force
    cal_amount: np.ndarray  # float64 (N_CAL,), $bn, the day's new calendar amounts (shocks)
    month_stats: np.ndarray  # float64 (N_HISTS,), scratch
    near_hist: np.ndarray  # uint16 (V, R, M, B), histogram counts staged before ``hist``


@jit
def debt_ceiling_weight(since, decline_days, resolution_days, rebuild_days):
    """Share (0..1) of the way from the TGA anchor to the debt-ceiling floor, ``since`` business
    days after the episode starts: down over ``decline_days``, held until resolution, rebuilt
    linearly over ``rebuild_days``."""
    if since < 0.0:
        return 0.0
    if since < resolution_days:
        return min(1.0, (since + 1.0) / decline_days)
    depth = min(1.0, resolution_days / decline_days)
    rebuilt = (since - resolution_days + 1.0) / rebuild_days
    return depth * (1.0 - rebuilt) if rebuilt < 1.0 else 0.0


@jit(inline="always")
def day_events(params, spread, srf, effr_minus_iorb, reserves, bank_assets, run, month_end):
    """Event tiers of one day as a bitmask (bit ``e`` for ``layout.EVENT_NAMES[e]``).

    ``reserves`` and ``bank_assets`` in $bn; ``run`` counts the business days in a row, this one
    included, with the spread at or above the systemic threshold.
    """
    bits = 0
    if (
        reserves < params[L.P_EV_SCARCE_RATIO] * bank_assets
        or reserves < params[L.P_EV_SCARCE_RESERVES]
    ):
        bits |= 1 << L.E_SCARCE
    if (
        spread < params[L.P_EV_QUIET_BELOW]
        and srf < params[L.P_EV_QUIET_SRF_BELOW]
        and effr_minus_iorb <= params[L.P_EFFR_TOP]
    ):
        return bits  # a quiet day (the common case): below every spread and SRF threshold
    tight = spread >= params[L.P_EV_TIGHT]
    stress = spread >= params[L.P_EV_STRESS] or srf >= params[L.P_EV_STRESS_SRF]
    if tight:
        bits |= 1 << L.E_TIGHT
        if not month_end:
            bits |= 1 << L.E_TIGHT_XPE
    if stress:
        bits |= 1 << L.E_STRESS
        if not month_end:
            bits |= 1 << L.E_STRESS_XPE
    if (
        effr_minus_iorb > params[L.P_EFFR_TOP]
        or spread >= params[L.P_EV_CRISIS]
        or srf >= params[L.P_EV_CRISIS_SRF]
    ):
        bits |= 1 << L.E_CRISIS
    if run >= params[L.P_EV_SYSTEMIC_DAYS]:
        bits |= 1 << L.E_SYSTEMIC
    return bits


@jit(inline="always")
def srf_ceiling(p, z_stigma):
    """The day's SRF ceiling (bp): the SRF rate plus the stigma, lognormal in ``z_stigma``."""
    return p[L.P_SRF_RATE] + math.exp(p[L.P_STIGMA_LOG_MEDIAN] + p[L.P_STIGMA_LOG_SD] * z_stigma)


@jit(inline="always")
def limits_of(p):
    """The ``Limits`` of parameters ``p`` (float64 (N_PARAMS,))."""
    return Limits(
        p[L.P_EV_SYSTEMIC],
        p[L.P_EV_QUIET_BELOW],
        p[L.P_EV_QUIET_SRF_BELOW],
        p[L.P_EFFR_TOP],
        p[L.P_EV_SCARCE_RESERVES],
        p[L.P_EV_SCARCE_RATIO],
        int(p[L.P_CURVE_FAMILY]),
        p[L.P_SPREAD_FLOOR],
    )


@jit(inline="always")
def alpha_step_sd(t, p):
    """sd (bp) of day ``t``'s step of the curve level: on the first day the start's spread and
    the day's walk together (a normal start and a normal step add), then the walk's."""
    if t == 0:
        return math.sqrt(p[L.P_ALPHA_START_SD] ** 2 + p[L.P_ALPHA_WALK_SD] ** 2)
    return p[L.P_ALPHA_WALK_SD]


@jit(inline="always")
def start_path(p, draws, regime_params, work):
    """Reset every regime's state for a new path; returns its ``PathConstants`` and first
    ``PathState``. ``draws``: its per-path draws (float64 (N_PATH_DRAWS,)); ``p``: its
    parameters, drawn ones set."""
    rs, rf = work.rs, work.rf
    u_pace = draws[L.D_PACE_UNIFORM]
    u_then = draws[L.D_THEN_UNIFORM]
    for r in range(regime_params.shape[0]):
        rp = regime_params[r]
        rs[r, RS_PACE] = rp[L.RP_PACE_LO] + u_pace * (rp[L.RP_PACE_HI] - rp[L.RP_PACE_LO])
        rs[r, RS_THEN_PACE] = rp[L.RP_THEN_LO] + u_then * (rp[L.RP_THEN_HI] - rp[L.RP_THEN_LO])
        rf[r, RF_SWITCH_DAY] = int(rp[L.RP_SWITCH_DAY])
        rs[r, RS_SOMA] = p[L.P_SOMA0]
        rs[r, RS_NOISE] = 0.0
        rs[r, RS_SPREAD_PREV] = p[L.P_SPREAD0]
        rf[r, RF_REACT_ON] = False
        rf[r, RF_CRISIS_DAY] = NO_DAY
        rf[r, RF_EMERGENCY_LAST_MONTH] = NO_DAY
        rf[r, RF_SYSTEMIC_RUN] = 0
        work.month_bits[r] = 0
        work.ever_bits[r] = 0
        rs[r, RS_MONTH_SUM_SPREAD] = 0.0
        rs[r, RS_MONTH_MIN_RESERVES] = np.inf
        rs[r, RS_MONTH_MAX_SPREAD] = -np.inf
        rs[r, RS_MONTH_MAX_SRF] = 0.0
    for k in range(L.N_CAL):
        work.cal_level[k] = p[L.P_CAL_START + k]
    constants = PathConstants(
        draws[L.D_CURRENCY_GROWTH] / p[L.P_DAYS_PER_YEAR],
        math.exp(draws[L.D_BANK_GROWTH] / p[L.P_DAYS_PER_YEAR]),
        draws[L.D_RRP_BASE],
        draws[L.D_DC_ACTIVE] > 0.0,
        draws[L.D_DC_FLOOR],
        draws[L.D_DC_RESOLUTION],
        draws[L.D_DC_REBUILD],
        p[L.P_NOISE_SD0],
        p[L.P_NOISE_SD1],
    )
    rrp_level = p[L.P_RRP_START] if p[L.P_RRP_START] >= 0.0 else constants.rrp_base
    state = PathState(
        math.log(p[L.P_CURRENCY0]), 0.0, 0.0, 0.0, 0.0, rrp_level, p[L.P_BANK_EX_RESERVES0], NO_DAY
    )
    return constants, state


@jit(inline="always")
def simulate_day(t, shocks, state, path, limits, p, inputs, counts, work, record, hazard):
    """Day ``t`` of a path under every regime; returns the path's next ``PathState``.

    ``shocks``: the day's shared shocks (eps_currency, eps_rrp, eps_other, z_stigma, nu_tga,
    eta, u_jump, z_spike, z_alpha; ``draws.draw_day``), with the new calendar amounts in
    ``work.cal_amount``; ``state`` (``PathState``) and ``path`` (``PathConstants``) the path's;
    ``limits`` (``Limits``) and ``p`` (float64 (N_PARAMS,)) its parameters; ``inputs``
    (``paths.Inputs``) the schedule's; ``counts`` (``paths.Counts``) added to; ``work``
    (``DayWork``) read and written. ``record``: None, or the day's trace rows (float64
    (R, N_TRACE)) to fill with its values; None compiles the recording away. ``hazard``: None,
    or the conditional estimator's ``conditional.Hazard``, to which each regime-day adds its
    hazard of the tier; None compiles it away.
    """
    eps_currency, eps_rrp, eps_other, z_stigma, nu_tga, eta, u_jump, z_spike, z_alpha = shocks
    day_float, day_int, cal_share, days_in_month = (
        inputs.day_float,
        inputs.day_int,
        inputs.cal_share,
        inputs.days_in_month,
    )
    regime_params = inputs.regime_params
    rs, rf, month_bits, cal_level, cal_amount = (
        work.rs,
        work.rf,
        work.month_bits,
        work.cal_level,
        work.cal_amount,
    )
    n_regimes = regime_params.shape[0]
    month = day_int[t, L.DI_MONTH]
    month_end = day_int[t, L.DI_MONTH_END] == 1
    spike_kind = day_int[t, L.DI_RRP_SPIKE]
    recheck_day = state.recheck_day

    rrp_spike = 0.0
    if spike_kind == L.SPIKE_YEAR:
        rrp_spike = math.exp(p[L.P_RRP_YE_LOG_MEDIAN] + p[L.P_RRP_YE_LOG_SD] * z_spike)
    elif spike_kind == L.SPIKE_QUARTER:
        rrp_spike = math.exp(p[L.P_RRP_QE_LOG_MEDIAN] + p[L.P_RRP_QE_LOG_SD] * z_spike)

    # The balance-sheet factors shared by every regime.
    log_currency = state.log_currency + (path.currency_drift + day_float[t, L.DF_CURRENCY_SEASONAL])
    log_currency += p[L.P_CUR_LOG_SD] * eps_currency
    currency = math.exp(log_currency)
    tga_dev = p[L.P_TGA_AR] * state.tga_dev + p[L.P_TGA_SD] * nu_tga
    tga_walk = state.tga_walk + p[L.P_TGA_WALK_SD] * nu_tga
    alpha_walk = state.alpha_walk + alpha_step_sd(t, p) * z_alpha
    alpha = p[L.P_ALPHA] + alpha_walk
    calendar = 0.0
    for k in range(L.N_CAL):
        cal_level[k] = cal_level[k] * p[L.P_CAL_DECAY + k] + cal_share[t, k] * cal_amount[k]
        calendar += cal_level[k]
    anchor = day_float[t, L.DF_TGA_ANCHOR]
    if path.dc_active:
        w = debt_ceiling_weight(
            t - p[L.P_DC_START_DAY], p[L.P_DC_DECLINE_DAYS], path.dc_resolution, path.dc_rebuild
        )
        anchor = (1.0 - w) * anchor + w * path.dc_floor
    tga = max(0.0, anchor + calendar + tga_dev + tga_walk)  # a balance: its walk may not pass 0
    other_dev = p[L.P_OL_AR] * state.other_dev + p[L.P_OL_SD] * eps_other
    other_liab = p[L.P_OTHER_LIAB0] + other_dev
    bank_ex_reserves = state.bank_ex_reserves * path.bank_factor
    rrp_level = path.rrp_base + p[L.P_RRP_AR] * (state.rrp_level - path.rrp_base)
    rrp_level += p[L.P_RRP_SD] * eps_rrp
    rrp_shared = max(0.0, rrp_level) + rrp_spike
    ceiling = -np.inf  # SRF rate + stigma; computed on the first day a regime needs it
    gamma = day_float[t, L.DF_GAMMA]
    reserves_base = p[L.P_OTHER_ASSETS] - currency - tga - other_liab

    inv_days = 1.0 / days_in_month[month]

    # A regime's pace changes only on a month's first day, a switch day and the day after its
    # first crisis; it is recomputed (for every regime) on those days alone.
    if day_int[t, L.DI_PACE_CHANGE] == 1 or t == recheck_day:
        for r in range(n_regimes):
            monthly = rs[r, RS_THEN_PACE] if t >= rf[r, RF_SWITCH_DAY] else rs[r, RS_PACE]
            if rf[r, RF_REACT_ON]:
                monthly += regime_params[r, L.RP_REACT_ADD]
            if (
                rf[r, RF_CRISIS_DAY] >= 0
                and t > rf[r, RF_CRISIS_DAY]
                and month <= rf[r, RF_EMERGENCY_LAST_MONTH]
            ):
                monthly = max(monthly, regime_params[r, L.RP_EMERGENCY_PACE])
            rs[r, RS_PURCHASES] = monthly * inv_days

    # Regimes in phases, so that their independent divisions and exps overlap.
    jump_bound = -np.inf  # the largest log jump probability of today's regimes
    for r in range(n_regimes):
        rs[r, RS_SOMA] += rs[r, RS_PURCHASES]
        rs[r, RS_ON_RRP] = rrp_shared
        spread_prev = rs[r, RS_SPREAD_PREV]
        if spread_prev < p[L.P_RRP_REFILL_BELOW]:  # rare: a branch keeps the CPU from waiting
            # on yesterday's spread every day
            rs[r, RS_ON_RRP] += p[L.P_RRP_REFILL] * (p[L.P_RRP_REFILL_BELOW] - spread_prev)
        reserves = rs[r, RS_SOMA] + reserves_base - rs[r, RS_ON_RRP]
        gap = reserves / (bank_ex_reserves + reserves) - p[L.P_X0]
        rs[r, RS_RESERVES] = reserves
        rs[r, RS_GAP] = gap
        jump_bound = max(jump_bound, p[L.P_JUMP_LOG_P0] - p[L.P_JUMP_LAMBDA] * gap)
    for r in range(n_regimes):
        rs[r, RS_H] = curve_shape(limits.curve_family, p[L.P_LAMBDA], rs[r, RS_GAP])
    # Jump test in logs: u < min(1, p0 exp(-λJ (x - x0))), one log shared by all regimes. As
    # log u ≥ 1 - 1/u, on most days 1 - 1/u shows that no regime jumps; log u is then not
    # needed, and 0 (above every log probability) stands in for it.
    log_u_jump = 0.0
    if 1.0 - 1.0 / u_jump < jump_bound + JUMP_BOUND_MARGIN:
        log_u_jump = math.log(u_jump)

    needed = 0.0  # bp, the latent spread at which the conditioned tier fires (hazard only)
    if hazard is not None:
        ceiling = srf_ceiling(p, z_stigma)
        needed = tier_latent(hazard.tier, ceiling, p)
    for r in range(n_regimes):
        h = rs[r, RS_H]
        carried = p[L.P_NOISE_AR] * rs[r, RS_NOISE]
        noise_scale = path.noise_sd0 + path.noise_sd1 * h
        noise = carried + noise_scale * eta
        rs[r, RS_NOISE] = noise
        latent = alpha + (p[L.P_BETA] + gamma) * h + noise
        log_jump_p = min(0.0, p[L.P_JUMP_LOG_P0] - p[L.P_JUMP_LAMBDA] * rs[r, RS_GAP])
        jump = 0.0  # bp, the day's spread jump
        if log_u_jump < log_jump_p:
            # u / p is uniform on (0, 1) given a jump: its log sets the exponential size.
            jump = -p[L.P_JUMP_MEAN] * (log_u_jump - log_jump_p)
            latent += jump
        if hazard is not None and can_fire_today(hazard.tier, rf[r, RF_SYSTEMIC_RUN], p):
            # bp, from the latent spread without its noise and jump to the tier's level
            to_level = needed - (alpha + (p[L.P_BETA] + gamma) * h + carried)
            step = noise_scale * p[L.P_NOISE_T_SCALE]
            by_jump = jump_hazard(to_level - noise_scale * eta, log_jump_p, p[L.P_JUMP_MEAN])
            fired = latent >= needed
            ever = work.ever_bits[r]
            add_day_hazard(hazard, r, to_level, step, by_jump, fired, month_bits[r], ever)
        spread = latent
        srf = 0.0
        if latent > p[L.P_SRF_RATE]:  # the stigma is positive: below the rate, no SRF
            if ceiling == -np.inf:
                ceiling = srf_ceiling(p, z_stigma)
            if latent > ceiling:
                spread = ceiling + p[L.P_SRF_LEAK] * (latent - ceiling)
                srf = p[L.P_SRF_TAKEUP] * (latent - ceiling)
        elif spread < limits.spread_floor:  # repo does not trade below the ON RRP rate
            spread = limits.spread_floor
        effr = p[L.P_EFFR_E0] + p[L.P_EFFR_PSI] * max(0.0, spread - p[L.P_EFFR_S0])
        reported = rs[r, RS_RESERVES] + srf  # SRF repo adds to reserves for the day
        bank_assets = bank_ex_reserves + reported

        if spread >= limits.ev_systemic:
            rf[r, RF_SYSTEMIC_RUN] += 1
        else:
            rf[r, RF_SYSTEMIC_RUN] = 0
        bits = 0
        if (
            spread >= limits.ev_quiet_below
            or srf >= limits.ev_quiet_srf_below
            or effr > limits.effr_top
            or reported < limits.ev_scarce_reserves
            or reported < limits.ev_scarce_ratio * bank_assets
        ):
            run = rf[r, RF_SYSTEMIC_RUN]
            bits = day_events(p, spread, srf, effr, reported, bank_assets, run, month_end)
        if bits != 0:
            month_bits[r] |= bits
            for e in range(L.N_EVENTS):
                if bits & (1 << e):
                    counts.event_days[r, e, month] += 1
            if (
                bits & (1 << L.E_CRISIS)
                and rf[r, RF_CRISIS_DAY] < 0
                and regime_params[r, L.RP_EMERGENCY_PACE] > 0.0
            ):
                rf[r, RF_CRISIS_DAY] = t
                recheck_day = t + 1
                rf[r, RF_EMERGENCY_LAST_MONTH] = month + int(
                    regime_params[r, L.RP_EMERGENCY_MONTHS]
                )

        rs[r, RS_SPREAD_PREV] = spread
        rs[r, RS_MONTH_SUM_SPREAD] += spread
        rs[r, RS_MONTH_MIN_RESERVES] = min(rs[r, RS_MONTH_MIN_RESERVES], reported)
        rs[r, RS_MONTH_MAX_SPREAD] = max(rs[r, RS_MONTH_MAX_SPREAD], spread)
        rs[r, RS_MONTH_MAX_SRF] = max(rs[r, RS_MONTH_MAX_SRF], srf)

        if record is not None:
            row = record[r]
            row[L.T_SOMA] = rs[r, RS_SOMA]
            row[L.T_CURRENCY] = currency
            row[L.T_TGA] = tga
            row[L.T_ON_RRP] = rs[r, RS_ON_RRP]
            row[L.T_OTHER_LIAB] = other_liab
            row[L.T_SRF] = srf
            row[L.T_RESERVES] = reported
            row[L.T_BANK_ASSETS] = bank_assets
            row[L.T_RATIO] = reported / bank_assets
            row[L.T_SPREAD_LATENT] = latent
            row[L.T_SPREAD] = spread
            row[L.T_EFFR] = effr
            row[L.T_PURCHASES] = rs[r, RS_PURCHASES]
            row[L.T_EVENTS] = bits

        if month_end:
            _bin_month(r, month, reported, tga, inputs.hist_grid, work, counts.diverged)
            rf[r, RF_REACT_ON] = (
                rs[r, RS_MONTH_SUM_SPREAD] * inv_days > regime_params[r, L.RP_REACT_ABOVE]
            )
            rs[r, RS_MONTH_SUM_SPREAD] = 0.0
            rs[r, RS_MONTH_MIN_RESERVES] = np.inf
            rs[r, RS_MONTH_MAX_SPREAD] = -np.inf
            rs[r, RS_MONTH_MAX_SRF] = 0.0

    if month_end:
        if hazard is not None:
            close_month(hazard, month, month_bits, work.ever_bits)
        count_month(
            month,
            month_bits,
            work.ever_bits,
            counts.event_count,
            counts.first_event_count,
            counts.joint_event_count,
            counts.joint_first_count,
        )
    return PathState(
        log_currency,
        tga_dev,
        tga_walk,
        alpha_walk,
        other_dev,
        rrp_level,
        bank_ex_reserves,
        recheck_day,
    )


@jit(inline="always")
def _bin_month(r, month, reserves_eom, tga_eom, hist_grid, work, diverged):
    """Bin regime ``r``'s statistics of ``month`` (its last day's reserves and TGA, $bn, and
    the month's extremes in ``work.rs``) into ``work.near_hist``; count the path in
    ``diverged`` (int64 (R, M)) if its reserves or spread are not finite."""
    stats, rs = work.month_stats, work.rs
    if not (math.isfinite(reserves_eom) and math.isfinite(rs[r, RS_SPREAD_PREV])):
        diverged[r, month] += 1  # a diverged path stays non-finite: counted at each month end
    stats[L.H_RESERVES_EOM] = reserves_eom
    stats[L.H_RESERVES_MIN] = rs[r, RS_MONTH_MIN_RESERVES]
    stats[L.H_SPREAD_MAX] = rs[r, RS_MONTH_MAX_SPREAD]
    stats[L.H_SRF_MAX] = rs[r, RS_MONTH_MAX_SRF]
    stats[L.H_TGA_EOM] = tga_eom
    n_bins = work.near_hist.shape[3] - 2
    for v in range(L.N_HISTS):
        b = histogram_bin(stats[v], hist_grid[v, 0], hist_grid[v, 1], n_bins)
        work.near_hist[v, r, month, b] += 1
