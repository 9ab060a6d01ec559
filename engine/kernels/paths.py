"""The path kernel: one block of paths, every regime on the same shocks, monthly integer output.

``simulate_paths`` is the kernel; its draws are in ``draws.py``, its monthly counting in
``counts.py``. Daily values never leave it in a run (``simulate_block``);
``trace_block`` also writes every daily value, shock, per-path draw and drawn parameter, for
tests and diagnostics on a few paths; ``replay_block`` takes the draws as inputs instead of
generating them. Each of the three compiles to its own machine code (its unused branches pruned).
Array shapes: n paths, T business days, M months, R regimes, E events, V histograms,
B = bins + 2 (under- and overflow).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..accelerate import jit
from . import layout as L
from .counts import NEAR_HIST_PATHS, add_and_clear, count_month, histogram_bin
from .curve import curve_shape
from .draws import N_DAILY_NORMALS, draw_day, draw_parameters, path_values
from .random import seed_state, uniform

# Per-regime state of the kernel, a row per regime (its fields at fixed offsets from one base):
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
# Scratch vector (float64 (N_SCRATCH,)) offsets: calendar levels and amounts, the day's
# normals, per-path draws and uniforms, month statistics.
_SCRATCH_CAL_LEVEL = 0
_SCRATCH_CAL_AMOUNT = L.N_CAL
_SCRATCH_NORMALS = 2 * L.N_CAL
_SCRATCH_DRAWS = _SCRATCH_NORMALS + N_DAILY_NORMALS
_SCRATCH_UNIFORMS = _SCRATCH_DRAWS + L.N_PATH_DRAWS
_SCRATCH_STATS = _SCRATCH_UNIFORMS + L.N_PATH_DRAWS
N_SCRATCH = _SCRATCH_STATS + L.N_HISTS
JUMP_BOUND_MARGIN = 1e-9  # covers the rounding of 1 - 1/u (≈ 1e-15) in the jump pre-test
UNCERTAINTY_INPUT = 8  # position of ``uncertainty`` in ``Schedule.kernel_inputs``


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


@jit(refcounted=False)
def set_parameters(p, uncertainty, theta):
    """Write a path's drawn parameters ``theta`` (float64 (K,), the config keys' units) into its
    parameters ``p`` (float64 (N_PARAMS,)), as ``layout.U_TRANSFORM`` says, and the initial
    spread, which depends on the demand curve's. Out of line: once a path."""
    for i in range(uncertainty.shape[0]):
        value = theta[i]
        if uncertainty[i, L.U_TRANSFORM] == L.UT_LOG:
            value = math.log(value) if value > 0.0 else -math.inf  # p0 = 0: no jumps
        p[int(uncertainty[i, L.U_PARAM])] = value
    gap = p[L.P_RATIO0] - p[L.P_X0]
    h = curve_shape(int(p[L.P_CURVE_FAMILY]), p[L.P_LAMBDA], gap)
    p[L.P_SPREAD0] = p[L.P_ALPHA] + p[L.P_BETA] * h


class Inputs(NamedTuple):
    """The schedule's read-only arrays (``Schedule.kernel_inputs`` but ``uncertainty``)."""

    day_float: np.ndarray  # float64 (T, N_DAY_FLOAT)
    day_int: np.ndarray  # int64 (T, N_DAY_INT)
    cal_share: np.ndarray  # float64 (T, N_CAL)
    days_in_month: np.ndarray  # int64 (M,)
    params: np.ndarray  # float64 (N_PARAMS,)
    regime_params: np.ndarray  # float64 (R, N_REGIME_PARAMS)
    hist_grid: np.ndarray  # float64 (V, 2)
    t_tables: np.ndarray  # float64 (2, 3, N + 1)


class Counts(NamedTuple):
    """The integer counts the kernel adds to (``Accumulators`` order; the first-joint-month
    counts in place of the cumulative ones)."""

    event_count: np.ndarray  # int64 (R, E, M)
    event_days: np.ndarray  # int64 (R, E, M)
    first_event_count: np.ndarray  # int64 (R, E, M)
    joint_event_count: np.ndarray  # int64 (R, R, E, M)
    joint_first_count: np.ndarray  # int64 (R, R, E, M)
    hist: np.ndarray  # int64 (V, R, M, B)


class Work(NamedTuple):
    """Work arrays (``work_arrays``), zeros on entry."""

    rs: np.ndarray  # float64 (R, N_REGIME_STATE)
    rf: np.ndarray  # int64 (R, N_REGIME_FLAGS)
    event_bits: np.ndarray  # int64 (2, R)
    scratch: np.ndarray  # float64 (N_SCRATCH,)
    near_hist: np.ndarray  # uint16, hist's shape
    path_params: np.ndarray  # float64 (N_PARAMS,)
    theta: np.ndarray  # float64 (N_PARAMS,)


@jit(refcounted=False)
def simulate_paths(seeds, inputs, uncertainty, counts, work, recording, given):
    """Simulate ``seeds.shape[0]`` paths under every regime and add their monthly counts (see
    ``simulate_block``): ``inputs`` (``Inputs``) read, ``counts`` (``Counts``; in place of
    cumulative joint counts, ``joint_first_count`` counts the month by which a pair of regimes
    has both had an event) added to, ``work`` (``Work``) used.

    ``recording``: None, or the arrays (trace, shocks, path_draws, parameter_draws) to fill
    with every daily value, shock, per-path draw and drawn parameter (``trace_block``);
    ``given``: None, or the draws (shocks, path_draws, parameter_draws) to use instead of
    generating them (``replay_block``). A None argument compiles its branches away: a run's
    kernel holds neither.

    ``uncertainty`` (float64 (K, U_CHOL + K), ``layout.U_*``): the parameters each path draws,
    after its per-path uniforms and before its first day, shared by every regime; None (what
    the wrappers pass for K = 0): none, the same stream, and its branches compiled away.

    ``work`` (``work_arrays``): per-regime state ``rs`` (float64 (R, N_REGIME_STATE)) and
    ``rf`` (int64 (R, N_REGIME_FLAGS)), ``event_bits`` (int64 (2, R), zeros: the month's and
    the path's event bitmasks), ``scratch`` (float64 (N_SCRATCH,), zeros), ``near_hist``
    (uint16, ``hist``'s shape, zeros): the histogram counts go there first, a quarter of the
    memory, so the bins in use stay in cache; they are added to ``hist`` every NEAR_HIST_PATHS
    paths and at the end; ``path_params`` (float64 (N_PARAMS,)): the scalar parameters the
    kernel reads, copied from ``params`` and overwritten per path with the drawn ones;
    ``theta`` (float64 (N_PARAMS,), room for K): a path's drawn parameters.

    Compiled without reference counting: it allocates nothing, and so the arrays it hands to
    inlined helpers cost no atomic increment (a full memory barrier) on every day.
    """
    day_float, day_int, cal_share, days_in_month, params, regime_params, hist_grid, t_tables = (
        inputs
    )
    event_count, event_days, first_event_count, joint_event_count, joint_first_count, hist = counts
    rs, rf, event_bits, scratch, near_hist, path_params, theta = work
    n_paths = seeds.shape[0]
    n_days = day_float.shape[0]
    n_regimes = regime_params.shape[0]
    n_bins = hist.shape[3] - 2
    n_uncertain = 0 if uncertainty is None else uncertainty.shape[0]
    for i in range(params.shape[0]):
        path_params[i] = params[i]
    p = path_params  # the kernel reads its parameters here alone (a path's drawn ones set in it)
    # Thresholds read on every regime-day, held in locals: array loads cannot be hoisted past
    # the kernel's stores.
    ev_systemic = p[L.P_EV_SYSTEMIC]
    ev_quiet_below = p[L.P_EV_QUIET_BELOW]
    ev_quiet_srf_below = p[L.P_EV_QUIET_SRF_BELOW]
    effr_top = p[L.P_EFFR_TOP]
    ev_scarce_reserves = p[L.P_EV_SCARCE_RESERVES]
    ev_scarce_ratio = p[L.P_EV_SCARCE_RATIO]
    t_dfs = (p[L.P_TGA_DF], p[L.P_NOISE_DF])
    family = int(p[L.P_CURVE_FAMILY])

    state = (np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0))  # seeded for each path
    month_bits, ever_bits = event_bits[0], event_bits[1]
    cal_level = scratch[_SCRATCH_CAL_LEVEL : _SCRATCH_CAL_LEVEL + L.N_CAL]
    cal_amount = scratch[_SCRATCH_CAL_AMOUNT : _SCRATCH_CAL_AMOUNT + L.N_CAL]
    normals = scratch[_SCRATCH_NORMALS : _SCRATCH_NORMALS + N_DAILY_NORMALS]
    own_draws = scratch[_SCRATCH_DRAWS : _SCRATCH_DRAWS + L.N_PATH_DRAWS]
    path_uniforms = scratch[_SCRATCH_UNIFORMS : _SCRATCH_UNIFORMS + L.N_PATH_DRAWS]
    month_stats = scratch[_SCRATCH_STATS : _SCRATCH_STATS + L.N_HISTS]
    recheck_day = -1  # the day after a regime's first crisis: its pace may change

    for path in range(n_paths):
        if path % NEAR_HIST_PATHS == 0 and path > 0:
            add_and_clear(near_hist, hist)  # before a bin could wrap
        if given is not None:
            given_draws = given[1]
            draws = given_draws[path % given_draws.shape[0]]
            if uncertainty is not None:
                given_theta = given[2]
                given_row = given_theta[path % given_theta.shape[0]]
                for i in range(n_uncertain):
                    theta[i] = given_row[i]
        else:
            # Per-path draws, in a fixed order, shared by every regime (common random numbers).
            state = seed_state(seeds, path)
            for i in range(L.N_PATH_DRAWS):
                path_uniforms[i], state = uniform(state)
            if uncertainty is not None:
                state = draw_parameters(state, uncertainty, theta)
            draws = own_draws
            path_values(p, path_uniforms, draws)
            if recording is not None:
                recorded_draws = recording[2]
                for i in range(L.N_PATH_DRAWS):
                    recorded_draws[path, i] = draws[i]
        if uncertainty is not None:
            set_parameters(p, uncertainty, theta)
            if recording is not None:
                recorded_theta = recording[3]
                for i in range(n_uncertain):
                    recorded_theta[path, i] = theta[i]
        noise_sd0 = p[L.P_NOISE_SD0]  # read once a path: they may be drawn
        noise_sd1 = p[L.P_NOISE_SD1]
        u_pace = draws[L.D_PACE_UNIFORM]
        u_then = draws[L.D_THEN_UNIFORM]
        currency_growth = draws[L.D_CURRENCY_GROWTH]
        bank_growth = draws[L.D_BANK_GROWTH]
        rrp_base = draws[L.D_RRP_BASE]
        dc_active = draws[L.D_DC_ACTIVE] > 0.0
        dc_floor = draws[L.D_DC_FLOOR]
        dc_resolution = draws[L.D_DC_RESOLUTION]
        dc_rebuild = draws[L.D_DC_REBUILD]

        for r in range(n_regimes):
            rp = regime_params[r]
            rs[r, RS_PACE] = rp[L.RP_PACE_LO] + u_pace * (rp[L.RP_PACE_HI] - rp[L.RP_PACE_LO])
            rs[r, RS_THEN_PACE] = rp[L.RP_THEN_LO] + u_then * (rp[L.RP_THEN_HI] - rp[L.RP_THEN_LO])
            rf[r, RF_SWITCH_DAY] = int(rp[L.RP_SWITCH_DAY])
            rs[r, RS_SOMA] = p[L.P_SOMA0]
            rs[r, RS_NOISE] = 0.0
            rs[r, RS_SPREAD_PREV] = p[L.P_SPREAD0]
            rf[r, RF_REACT_ON] = False
            rf[r, RF_CRISIS_DAY] = -1
            rf[r, RF_EMERGENCY_LAST_MONTH] = -1
            rf[r, RF_SYSTEMIC_RUN] = 0
            month_bits[r] = 0
            ever_bits[r] = 0
            rs[r, RS_MONTH_SUM_SPREAD] = 0.0
            rs[r, RS_MONTH_MIN_RESERVES] = np.inf
            rs[r, RS_MONTH_MAX_SPREAD] = -np.inf
            rs[r, RS_MONTH_MAX_SRF] = 0.0
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
            if given is not None:
                given_shocks = given[0]
                day_shocks = given_shocks[path % given_shocks.shape[0], t]
                eps_currency = day_shocks[L.S_CURRENCY]
                eps_rrp = day_shocks[L.S_ON_RRP]
                eps_other = day_shocks[L.S_OTHER_LIAB]
                z_stigma = day_shocks[L.S_STIGMA]
                nu_tga = day_shocks[L.S_TGA]
                eta = day_shocks[L.S_SPREAD_NOISE]
                u_jump = day_shocks[L.S_JUMP_UNIFORM]
                z_spike = day_shocks[L.S_RRP_SPIKE]
                for k in range(L.N_CAL):
                    cal_amount[k] = day_shocks[L.S_CAL_AMOUNT + k]
            else:
                shocks_of_day, state = draw_day(
                    state, p, day_int[t, L.DI_EXTRA_DRAWS], t_dfs, t_tables, cal_amount, normals
                )
                eps_currency, eps_rrp, eps_other, z_stigma, nu_tga, eta, u_jump, z_spike = (
                    shocks_of_day
                )
            rrp_spike = 0.0
            if spike_kind == L.SPIKE_YEAR:
                rrp_spike = math.exp(p[L.P_RRP_YE_LOG_MEDIAN] + p[L.P_RRP_YE_LOG_SD] * z_spike)
            elif spike_kind == L.SPIKE_QUARTER:
                rrp_spike = math.exp(p[L.P_RRP_QE_LOG_MEDIAN] + p[L.P_RRP_QE_LOG_SD] * z_spike)

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
            ceiling = -np.inf  # SRF rate + stigma; computed on the first day a regime needs it
            gamma = day_float[t, L.DF_GAMMA]
            reserves_base = p[L.P_OTHER_ASSETS] - currency - tga - other_liab

            inv_days = 1.0 / days_in_month[month]

            # A regime's pace changes only on a month's first day, a switch day and the day
            # after its first crisis; it is recomputed (for every regime) on those days alone.
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
                if spread_prev < p[L.P_RRP_REFILL_BELOW]:  # rare: a branch keeps the CPU from
                    # waiting on yesterday's spread every day
                    rs[r, RS_ON_RRP] += p[L.P_RRP_REFILL] * (p[L.P_RRP_REFILL_BELOW] - spread_prev)
                reserves = rs[r, RS_SOMA] + reserves_base - rs[r, RS_ON_RRP]
                gap = reserves / (bank_ex_reserves + reserves) - p[L.P_X0]
                rs[r, RS_RESERVES] = reserves
                rs[r, RS_GAP] = gap
                jump_bound = max(jump_bound, p[L.P_JUMP_LOG_P0] - p[L.P_JUMP_LAMBDA] * gap)
            for r in range(n_regimes):
                rs[r, RS_H] = curve_shape(family, p[L.P_LAMBDA], rs[r, RS_GAP])
            # Jump test in logs: u < min(1, p0 exp(-λJ (x - x0))), one log shared by all regimes.
            # As log u ≥ 1 - 1/u, on most days 1 - 1/u shows that no regime jumps; log u is
            # then not needed, and 0 (above every log probability) stands in for it.
            log_u_jump = 0.0
            if 1.0 - 1.0 / u_jump < jump_bound + JUMP_BOUND_MARGIN:
                log_u_jump = math.log(u_jump)

            for r in range(n_regimes):
                h = rs[r, RS_H]
                noise = p[L.P_NOISE_AR] * rs[r, RS_NOISE] + (noise_sd0 + noise_sd1 * h) * eta
                rs[r, RS_NOISE] = noise
                latent = p[L.P_ALPHA] + (p[L.P_BETA] + gamma) * h + noise
                log_jump_p = min(0.0, p[L.P_JUMP_LOG_P0] - p[L.P_JUMP_LAMBDA] * rs[r, RS_GAP])
                if log_u_jump < log_jump_p:
                    # u / p is uniform on (0, 1) given a jump: its log sets the exponential size.
                    latent -= p[L.P_JUMP_MEAN] * (log_u_jump - log_jump_p)
                spread = latent
                srf = 0.0
                if latent > p[L.P_SRF_RATE]:  # the stigma is positive: below the rate, no SRF
                    if ceiling == -np.inf:
                        ceiling = p[L.P_SRF_RATE] + math.exp(
                            p[L.P_STIGMA_LOG_MEDIAN] + p[L.P_STIGMA_LOG_SD] * z_stigma
                        )
                    if latent > ceiling:
                        spread = ceiling + p[L.P_SRF_LEAK] * (latent - ceiling)
                        srf = p[L.P_SRF_TAKEUP] * (latent - ceiling)
                effr = p[L.P_EFFR_E0] + p[L.P_EFFR_PSI] * max(0.0, spread - p[L.P_EFFR_S0])
                reported = rs[r, RS_RESERVES] + srf  # SRF repo adds to reserves for the day
                bank_assets = bank_ex_reserves + reported

                if spread >= ev_systemic:
                    rf[r, RF_SYSTEMIC_RUN] += 1
                else:
                    rf[r, RF_SYSTEMIC_RUN] = 0
                bits = 0
                if (
                    spread >= ev_quiet_below
                    or srf >= ev_quiet_srf_below
                    or effr > effr_top
                    or reported < ev_scarce_reserves
                    or reported < ev_scarce_ratio * bank_assets
                ):
                    run = rf[r, RF_SYSTEMIC_RUN]
                    bits = day_events(p, spread, srf, effr, reported, bank_assets, run, month_end)
                if bits != 0:
                    month_bits[r] |= bits
                    for e in range(L.N_EVENTS):
                        if bits & (1 << e):
                            event_days[r, e, month] += 1
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

                if recording is not None:
                    row = recording[0][path, t, r]
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
                    month_stats[L.H_RESERVES_EOM] = reported
                    month_stats[L.H_RESERVES_MIN] = rs[r, RS_MONTH_MIN_RESERVES]
                    month_stats[L.H_SPREAD_MAX] = rs[r, RS_MONTH_MAX_SPREAD]
                    month_stats[L.H_SRF_MAX] = rs[r, RS_MONTH_MAX_SRF]
                    month_stats[L.H_TGA_EOM] = tga
                    for v in range(L.N_HISTS):
                        b = histogram_bin(month_stats[v], hist_grid[v, 0], hist_grid[v, 1], n_bins)
                        near_hist[v, r, month, b] += 1
                    rf[r, RF_REACT_ON] = (
                        rs[r, RS_MONTH_SUM_SPREAD] * inv_days > regime_params[r, L.RP_REACT_ABOVE]
                    )
                    rs[r, RS_MONTH_SUM_SPREAD] = 0.0
                    rs[r, RS_MONTH_MIN_RESERVES] = np.inf
                    rs[r, RS_MONTH_MAX_SPREAD] = -np.inf
                    rs[r, RS_MONTH_MAX_SRF] = 0.0

            if recording is not None:
                shock = recording[1][path, t]
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
                count_month(
                    month,
                    month_bits,
                    ever_bits,
                    event_count,
                    first_event_count,
                    joint_event_count,
                    joint_first_count,
                )
    add_and_clear(near_hist, hist)


def work_arrays(hist):
    """Fresh work arrays for ``simulate_paths`` (regime state and flags, event bits, scratch,
    near histogram, a path's parameters and its drawn ones) for counts ``hist`` of the shape
    (V, R, M, B)."""
    n_regimes = hist.shape[1]
    return (
        np.zeros((n_regimes, N_REGIME_STATE)),
        np.zeros((n_regimes, N_REGIME_FLAGS), dtype=np.int64),
        np.zeros((2, n_regimes), dtype=np.int64),
        np.zeros(N_SCRATCH),
        np.zeros(hist.shape, dtype=np.uint16),
        np.zeros(L.N_PARAMS),
        np.zeros(L.N_PARAMS),  # a parameter is drawn at most once: K ≤ N_PARAMS
    )


def simulate_block(seeds, *inputs_and_counts):
    """Simulate ``seeds.shape[0]`` paths and add their monthly counts into the count arrays.

    Arguments after ``seeds`` (uint64 (n, 4), xoshiro256+ seed words, a row per path): the
    schedule's inputs, in ``Schedule.kernel_inputs`` order (day_float float64 (T, N_DAY_FLOAT),
    day_int int64 (T, N_DAY_INT), cal_share float64 (T, N_CAL), days_in_month int64 (M,),
    params float64 (N_PARAMS,), regime_params float64 (R, N_REGIME_PARAMS), hist_grid float64
    (V, 2), t_tables float64 (2, 3, N + 1), uncertainty float64 (K, U_CHOL + K)), then the
    counts added to, in ``Accumulators``
    order (int64 (R, E, M) ×3, (R, R, E, M) ×2, (V, R, M, B)).
    """
    _run(seeds, inputs_and_counts, None, None)


def trace_block(seeds, *args):
    """``simulate_block`` whose last four arguments receive every daily value (``trace``,
    float64 (n, T, R, N_TRACE)), every shared shock (``shocks``, float64 (n, T, N_SHOCKS)),
    the per-path draws (``path_draws``, float64 (n, N_PATH_DRAWS)) and the drawn parameters
    (``parameter_draws``, float64 (n, K), the config keys' units, as clipped)."""
    *inputs_and_counts, trace, shocks, path_draws, parameter_draws = args
    _run(seeds, inputs_and_counts, (trace, shocks, path_draws, parameter_draws), None)


def replay_block(path_draws, shocks, *inputs_and_counts, parameter_draws=None):
    """``simulate_block`` with the random draws given instead of generated: path i uses
    ``path_draws[i % len(path_draws)]`` (float64 (., N_PATH_DRAWS)), ``shocks[i % len]``
    (float64 (., T, N_SHOCKS)) and, where the schedule draws K > 0 parameters,
    ``parameter_draws[i % len]`` (float64 (., K), required then). Runs
    ``path_draws.shape[0]`` paths."""
    n_uncertain = inputs_and_counts[UNCERTAINTY_INPUT].shape[0]
    if parameter_draws is None:
        if n_uncertain > 0:
            raise ValueError(f"the schedule draws {n_uncertain} parameters: give parameter_draws")
        parameter_draws = np.zeros((1, 0))
    elif (
        parameter_draws.ndim != 2
        or parameter_draws.shape[1] != n_uncertain
        or not len(parameter_draws)
    ):
        raise ValueError(f"parameter_draws must be (n, {n_uncertain}), got {parameter_draws.shape}")
    no_seeds = np.zeros((path_draws.shape[0], 4), dtype=np.uint64)
    _run(no_seeds, inputs_and_counts, None, (shocks, path_draws, parameter_draws))


def _run(seeds, inputs_and_counts, recording, given):
    """``simulate_paths`` with fresh work arrays; its first-joint-month counts are summed over
    months into the cumulative joint counts."""
    *inputs, joint_cumulative_count, hist = inputs_and_counts
    if inputs[UNCERTAINTY_INPUT].shape[0] == 0:
        inputs[UNCERTAINTY_INPUT] = None  # nothing drawn: the kernel compiles without it
    joint_first_count = np.zeros_like(joint_cumulative_count)
    uncertainty = inputs.pop(UNCERTAINTY_INPUT)
    counts = Counts(*inputs[len(Inputs._fields) :], joint_first_count, hist)
    simulate_paths(
        seeds,
        Inputs(*inputs[: len(Inputs._fields)]),
        uncertainty,
        counts,
        Work(*work_arrays(hist)),
        recording,
        given,
    )
    joint_cumulative_count += np.cumsum(joint_first_count, axis=-1)
