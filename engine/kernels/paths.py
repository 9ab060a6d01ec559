"""The path kernel: one block of paths, every regime on the same shocks, monthly integer output.

Daily values never leave the kernel (``simulate_block``); ``trace_block`` is the same simulation
that also writes every daily value and shock, for tests and diagnostics on a few paths. Both
call ``_simulate``. Array shapes: n paths, T business days, M months, R regimes, E events,
V histograms, B = bins + 2 (under- and overflow).
"""

from __future__ import annotations

import math

import numpy as np

from ..accelerate import jit
from . import layout as L
from .random import normal_pair, seed_state, student_t_unit, uniform


@jit(inline="always")
def _between(state, low, high):
    return low + uniform(state) * (high - low)


@jit(inline="always")
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
def day_events(params, spread, srf, effr_minus_iorb, ratio, reserves, run, month_end, out):
    """Flags of the event tiers on one day into ``out`` (bool, (E,)).

    ``run`` counts the business days in a row, this one included, with the spread at or above
    the systemic threshold.
    """
    tight = spread >= params[L.P_EV_TIGHT]
    stress = spread >= params[L.P_EV_STRESS] or srf >= params[L.P_EV_STRESS_SRF]
    out[L.E_TIGHT] = tight
    out[L.E_STRESS] = stress
    out[L.E_CRISIS] = (
        effr_minus_iorb > params[L.P_EFFR_TOP]
        or spread >= params[L.P_EV_CRISIS]
        or srf >= params[L.P_EV_CRISIS_SRF]
    )
    out[L.E_SYSTEMIC] = run >= params[L.P_EV_SYSTEMIC_DAYS]
    out[L.E_SCARCE] = (
        ratio < params[L.P_EV_SCARCE_RATIO] or reserves < params[L.P_EV_SCARCE_RESERVES]
    )
    out[L.E_TIGHT_XPE] = tight and not month_end
    out[L.E_STRESS_XPE] = stress and not month_end


@jit(inline="always")
def _bin(value, low, width, n_bins):
    """Histogram bin of ``value``: 0 underflow, 1..n_bins inside, n_bins + 1 overflow."""
    position = (value - low) / width
    if position < 0.0:
        return 0
    if position >= n_bins:
        return n_bins + 1
    return int(position) + 1


@jit
def _simulate(
    seeds, day_float, day_int, cal_share, days_in_month, params, regime_params, hist_grid,
    event_count, event_days, first_event_count, joint_event_count, joint_cumulative_count, hist,
    record, trace, shocks, path_draws,
):  # fmt: skip
    n_paths = seeds.shape[0]
    n_days = day_float.shape[0]
    n_regimes = regime_params.shape[0]
    n_bins = hist.shape[3] - 2
    p = params

    state = np.empty(4, dtype=np.uint64)
    soma = np.empty(n_regimes)
    noise = np.empty(n_regimes)
    spread_prev = np.empty(n_regimes)
    pace = np.empty(n_regimes)
    then_pace = np.empty(n_regimes)
    react_on = np.zeros(n_regimes, dtype=np.bool_)
    crisis_day = np.empty(n_regimes, dtype=np.int64)
    emergency_last_month = np.empty(n_regimes, dtype=np.int64)
    systemic_run = np.empty(n_regimes, dtype=np.int64)
    month_sum_spread = np.empty(n_regimes)
    month_min_reserves = np.empty(n_regimes)
    month_max_spread = np.empty(n_regimes)
    month_max_srf = np.empty(n_regimes)
    month_flag = np.zeros((n_regimes, L.N_EVENTS), dtype=np.bool_)
    ever = np.zeros((n_regimes, L.N_EVENTS), dtype=np.bool_)
    today = np.zeros(L.N_EVENTS, dtype=np.bool_)
    cal_level = np.empty(L.N_CAL)
    cal_amount = np.zeros(L.N_CAL)

    for path in range(n_paths):
        seed_state(seeds, path, state)
        # Per-path draws, in a fixed order, shared by every regime (common random numbers).
        u_pace = uniform(state)
        u_then = uniform(state)
        currency_growth = _between(state, p[L.P_CUR_GROWTH_LO], p[L.P_CUR_GROWTH_HI])
        bank_growth = _between(state, p[L.P_BANK_GROWTH_LO], p[L.P_BANK_GROWTH_HI])
        rrp_base = _between(state, p[L.P_RRP_BASE_LO], p[L.P_RRP_BASE_HI])
        dc_active = uniform(state) < p[L.P_DC_PROBABILITY]
        dc_floor = _between(state, p[L.P_DC_FLOOR_LO], p[L.P_DC_FLOOR_HI])
        dc_resolution = _between(state, p[L.P_DC_RESOLUTION_LO], p[L.P_DC_RESOLUTION_HI])
        dc_rebuild = _between(state, p[L.P_DC_REBUILD_LO], p[L.P_DC_REBUILD_HI])
        if record:
            d = path_draws[path]
            d[L.D_PACE_UNIFORM] = u_pace
            d[L.D_THEN_UNIFORM] = u_then
            d[L.D_CURRENCY_GROWTH] = currency_growth
            d[L.D_BANK_GROWTH] = bank_growth
            d[L.D_RRP_BASE] = rrp_base
            d[L.D_DC_ACTIVE] = dc_active
            d[L.D_DC_FLOOR] = dc_floor
            d[L.D_DC_RESOLUTION] = dc_resolution
            d[L.D_DC_REBUILD] = dc_rebuild

        for r in range(n_regimes):
            rp = regime_params[r]
            pace[r] = rp[L.RP_PACE_LO] + u_pace * (rp[L.RP_PACE_HI] - rp[L.RP_PACE_LO])
            then_pace[r] = rp[L.RP_THEN_LO] + u_then * (rp[L.RP_THEN_HI] - rp[L.RP_THEN_LO])
            soma[r] = p[L.P_SOMA0]
            noise[r] = 0.0
            spread_prev[r] = p[L.P_SPREAD0]
            react_on[r] = False
            crisis_day[r] = -1
            emergency_last_month[r] = -1
            systemic_run[r] = 0
            month_sum_spread[r] = 0.0
            month_min_reserves[r] = np.inf
            month_max_spread[r] = -np.inf
            month_max_srf[r] = 0.0
            for e in range(L.N_EVENTS):
                month_flag[r, e] = False
                ever[r, e] = False
        for k in range(L.N_CAL):
            cal_level[k] = 0.0

        log_currency = math.log(p[L.P_CURRENCY0])
        currency_drift = currency_growth / p[L.P_DAYS_PER_YEAR]
        bank_factor = math.exp(bank_growth / p[L.P_DAYS_PER_YEAR])
        bank_ex_reserves = p[L.P_BANK_EX_RESERVES0]
        tga_dev = 0.0
        other_dev = 0.0

        for t in range(n_days):
            month = day_int[t, L.DI_MONTH]
            month_end = day_int[t, L.DI_MONTH_END] == 1
            spike_kind = day_int[t, L.DI_RRP_SPIKE]

            # Shared shocks of the day, always drawn in this order.
            eps_currency, eps_rrp = normal_pair(state)
            eps_other, z_stigma = normal_pair(state)
            nu_tga = student_t_unit(state, p[L.P_TGA_DF])
            eta = student_t_unit(state, p[L.P_NOISE_DF])
            u_jump = uniform(state)
            rrp_spike = 0.0
            z_spike = 0.0
            if spike_kind != L.SPIKE_NONE:
                z_spike, _ = normal_pair(state)
                if spike_kind == L.SPIKE_YEAR:
                    rrp_spike = math.exp(p[L.P_RRP_YE_LOG_MEDIAN] + p[L.P_RRP_YE_LOG_SD] * z_spike)
                else:
                    rrp_spike = math.exp(p[L.P_RRP_QE_LOG_MEDIAN] + p[L.P_RRP_QE_LOG_SD] * z_spike)
            for k in range(L.N_CAL):
                if day_int[t, L.DI_CAL_NEW + k] == 1:
                    cal_amount[k] = _between(state, p[L.P_CAL_LO + k], p[L.P_CAL_HI + k])

            # Factors shared by every regime.
            log_currency += currency_drift + day_float[t, L.DF_CURRENCY_SEASONAL]
            log_currency += p[L.P_CUR_LOG_SD] * eps_currency
            currency = math.exp(log_currency)
            tga_dev = p[L.P_TGA_AR] * tga_dev + p[L.P_TGA_SD] * nu_tga
            calendar = 0.0
            for k in range(L.N_CAL):
                cal_level[k] = cal_level[k] * p[L.P_CAL_DECAY + k] + cal_share[t, k] * cal_amount[k]
                calendar += cal_level[k]
            anchor = day_float[t, L.DF_TGA_ANCHOR]
            if dc_active:
                w = debt_ceiling_weight(
                    t - p[L.P_DC_START_DAY], p[L.P_DC_DECLINE_DAYS], dc_resolution, dc_rebuild
                )
                anchor = (1.0 - w) * anchor + w * dc_floor
            tga = anchor + calendar + tga_dev
            other_dev = p[L.P_OL_AR] * other_dev + p[L.P_OL_SD] * eps_other
            other_liab = p[L.P_OTHER_LIAB0] + other_dev
            bank_ex_reserves *= bank_factor
            rrp_shared = max(0.0, rrp_base + p[L.P_RRP_SD] * eps_rrp) + rrp_spike
            ceiling = p[L.P_SRF_RATE] + math.exp(
                p[L.P_STIGMA_LOG_MEDIAN] + p[L.P_STIGMA_LOG_SD] * z_stigma
            )
            gamma = day_float[t, L.DF_GAMMA]

            for r in range(n_regimes):
                rp = regime_params[r]
                monthly = then_pace[r] if t >= rp[L.RP_SWITCH_DAY] else pace[r]
                if react_on[r]:
                    monthly += rp[L.RP_REACT_ADD]
                if crisis_day[r] >= 0 and t > crisis_day[r] and month <= emergency_last_month[r]:
                    monthly = max(monthly, rp[L.RP_EMERGENCY_PACE])
                purchases = monthly / days_in_month[month]
                soma[r] += purchases

                on_rrp = rrp_shared + p[L.P_RRP_REFILL] * max(
                    0.0, p[L.P_RRP_REFILL_BELOW] - spread_prev[r]
                )
                reserves = soma[r] + p[L.P_OTHER_ASSETS] - currency - tga - on_rrp - other_liab
                ratio = reserves / (bank_ex_reserves + reserves)
                h = math.exp(-p[L.P_LAMBDA] * (ratio - p[L.P_X0]))
                noise[r] = (
                    p[L.P_NOISE_AR] * noise[r] + (p[L.P_NOISE_SD0] + p[L.P_NOISE_SD1] * h) * eta
                )
                jump = 0.0
                jump_probability = min(
                    1.0, p[L.P_JUMP_P0] * math.exp(-p[L.P_JUMP_LAMBDA] * (ratio - p[L.P_X0]))
                )
                if u_jump < jump_probability:
                    # u_jump / probability is uniform on (0, 1) given a jump: reuse it for the size.
                    jump = -p[L.P_JUMP_MEAN] * math.log(u_jump / jump_probability)
                latent = p[L.P_ALPHA] + (p[L.P_BETA] + gamma) * h + noise[r] + jump
                if latent <= ceiling:
                    spread = latent
                    srf = 0.0
                else:
                    spread = ceiling + p[L.P_SRF_LEAK] * (latent - ceiling)
                    srf = p[L.P_SRF_TAKEUP] * (latent - ceiling)
                effr = p[L.P_EFFR_E0] + p[L.P_EFFR_PSI] * max(0.0, spread - p[L.P_EFFR_S0])
                reported = reserves + srf  # SRF repo adds to reserves for the day
                reported_ratio = reported / (bank_ex_reserves + reported)

                if spread >= p[L.P_EV_SYSTEMIC]:
                    systemic_run[r] += 1
                else:
                    systemic_run[r] = 0
                day_events(
                    p, spread, srf, effr, reported_ratio, reported, systemic_run[r], month_end,
                    today,
                )  # fmt: skip
                for e in range(L.N_EVENTS):
                    if today[e]:
                        month_flag[r, e] = True
                        event_days[r, e, month] += 1
                if today[L.E_CRISIS] and crisis_day[r] < 0 and rp[L.RP_EMERGENCY_PACE] > 0.0:
                    crisis_day[r] = t
                    emergency_last_month[r] = month + int(rp[L.RP_EMERGENCY_MONTHS])

                spread_prev[r] = spread
                month_sum_spread[r] += spread
                month_min_reserves[r] = min(month_min_reserves[r], reported)
                month_max_spread[r] = max(month_max_spread[r], spread)
                month_max_srf[r] = max(month_max_srf[r], srf)

                if record:
                    row = trace[path, t, r]
                    row[L.T_SOMA] = soma[r]
                    row[L.T_CURRENCY] = currency
                    row[L.T_TGA] = tga
                    row[L.T_ON_RRP] = on_rrp
                    row[L.T_OTHER_LIAB] = other_liab
                    row[L.T_SRF] = srf
                    row[L.T_RESERVES] = reported
                    row[L.T_BANK_ASSETS] = bank_ex_reserves + reported
                    row[L.T_RATIO] = reported_ratio
                    row[L.T_SPREAD_LATENT] = latent
                    row[L.T_SPREAD] = spread
                    row[L.T_EFFR] = effr
                    row[L.T_PURCHASES] = purchases
                    bits = 0
                    for e in range(L.N_EVENTS):
                        if today[e]:
                            bits += 1 << e
                    row[L.T_EVENTS] = bits

                if month_end:
                    vals = (reported, month_min_reserves[r], month_max_spread[r],
                            month_max_srf[r], tga)  # fmt: skip
                    for v in range(L.N_HISTS):
                        b = _bin(vals[v], hist_grid[v, 0], hist_grid[v, 1], n_bins)
                        hist[v, r, month, b] += 1
                    react_on[r] = month_sum_spread[r] / days_in_month[month] > rp[L.RP_REACT_ABOVE]
                    month_sum_spread[r] = 0.0
                    month_min_reserves[r] = np.inf
                    month_max_spread[r] = -np.inf
                    month_max_srf[r] = 0.0

            if record:
                shock = shocks[path, t]
                shock[L.S_CURRENCY] = eps_currency
                shock[L.S_TGA] = nu_tga
                shock[L.S_ON_RRP] = eps_rrp
                shock[L.S_OTHER_LIAB] = eps_other
                shock[L.S_SPREAD_NOISE] = eta
                shock[L.S_JUMP_UNIFORM] = u_jump
                shock[L.S_STIGMA] = z_stigma
                shock[L.S_RRP_SPIKE] = z_spike
                for k in range(L.N_CAL):
                    shock[L.S_CAL_AMOUNT + k] = cal_amount[k]

            if month_end:
                _count_month(month, month_flag, ever, event_count, first_event_count,
                             joint_event_count, joint_cumulative_count)  # fmt: skip


@jit(inline="always")
def _count_month(month, month_flag, ever, event_count, first_event_count, joint_event_count,
                 joint_cumulative_count):  # fmt: skip
    """Add one path's month to the integer counts and reset its monthly flags."""
    n_regimes, n_events = month_flag.shape
    for r in range(n_regimes):
        for e in range(n_events):
            if month_flag[r, e]:
                event_count[r, e, month] += 1
                if not ever[r, e]:
                    first_event_count[r, e, month] += 1
                    ever[r, e] = True
    for r in range(n_regimes):
        for q in range(n_regimes):
            for e in range(n_events):
                if month_flag[r, e] and month_flag[q, e]:
                    joint_event_count[r, q, e, month] += 1
                if ever[r, e] and ever[q, e]:
                    joint_cumulative_count[r, q, e, month] += 1
    for r in range(n_regimes):
        for e in range(n_events):
            month_flag[r, e] = False


@jit
def simulate_block(
    seeds, day_float, day_int, cal_share, days_in_month, params, regime_params, hist_grid,
    event_count, event_days, first_event_count, joint_event_count, joint_cumulative_count, hist,
):  # fmt: skip
    """Simulate ``seeds.shape[0]`` paths and add their monthly counts into the ``out`` arrays.

    Parameters
    ----------
    seeds : uint64 (n, 4)
        xoshiro256+ seed words, one row per path.
    day_float : float64 (T, N_DAY_FLOAT); day_int : int64 (T, N_DAY_INT)
    cal_share : float64 (T, N_CAL)
        Share of each TGA calendar effect's amount booked on each day.
    days_in_month : int64 (M,); params : float64 (N_PARAMS,)
    regime_params : float64 (R, N_REGIME_PARAMS); hist_grid : float64 (V, 2), [low, width]
    event_count, event_days, first_event_count : int64 (R, E, M), added to
    joint_event_count, joint_cumulative_count : int64 (R, R, E, M), added to
    hist : int64 (V, R, M, B), added to
    """
    no_trace = np.zeros((0, 0, 0, 0))
    no_shocks = np.zeros((0, 0, 0))
    no_draws = np.zeros((0, 0))
    _simulate(
        seeds, day_float, day_int, cal_share, days_in_month, params, regime_params, hist_grid,
        event_count, event_days, first_event_count, joint_event_count, joint_cumulative_count,
        hist, False, no_trace, no_shocks, no_draws,
    )  # fmt: skip


@jit
def trace_block(
    seeds, day_float, day_int, cal_share, days_in_month, params, regime_params, hist_grid,
    event_count, event_days, first_event_count, joint_event_count, joint_cumulative_count, hist,
    trace, shocks, path_draws,
):  # fmt: skip
    """``simulate_block`` that also writes every daily value into ``trace`` (float64
    (n, T, R, N_TRACE)), every shared shock into ``shocks`` (float64 (n, T, N_SHOCKS)) and the
    per-path draws into ``path_draws`` (float64 (n, N_PATH_DRAWS))."""
    _simulate(
        seeds, day_float, day_int, cal_share, days_in_month, params, regime_params, hist_grid,
        event_count, event_days, first_event_count, joint_event_count, joint_cumulative_count,
        hist, True, trace, shocks, path_draws,
    )  # fmt: skip
