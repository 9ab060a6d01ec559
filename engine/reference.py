"""A plain-NumPy reference of the model, vectorized over paths and regimes.

It takes the random draws as inputs (per-path draws and shared daily shocks, as the tracing
kernel records them) and recomputes every daily value with whole-array operations, one business
day at a time; ``monthly_accumulators`` turns its daily output into the run's integer counts.
The tests hold the numba kernel to it; it is also a readable statement of the model.
"""

from __future__ import annotations

import numpy as np

from .accumulators import Accumulators
from .kernels import layout as L
from .schedule import Schedule


def debt_ceiling_weight(since, decline, resolution, rebuild):
    """Vectorized ``kernels.paths.debt_ceiling_weight`` (see there)."""
    since = np.asarray(since, dtype=float)
    falling = np.minimum(1.0, (since + 1.0) / decline)
    depth = np.minimum(1.0, resolution / decline)
    rebuilt = (since - resolution + 1.0) / rebuild
    after = np.where(rebuilt < 1.0, depth * (1.0 - rebuilt), 0.0)
    weight = np.where(since < resolution, falling, after)
    return np.where(since < 0.0, 0.0, weight)


def simulate_reference(schedule: Schedule, path_draws: np.ndarray, shocks: np.ndarray) -> dict:
    """Daily values of n paths under every regime.

    Parameters
    ----------
    path_draws : float64 (n, N_PATH_DRAWS); shocks : float64 (n, T, N_SHOCKS)

    Returns
    -------
    dict of float64 (n, T, R) arrays named as ``layout.TRACE_NAMES`` (without "events"), and
    "events": bool (n, T, R, E).
    """
    p = schedule.params
    rp = schedule.regime_params
    n, n_days = shocks.shape[:2]
    n_regimes = rp.shape[0]
    month = schedule.day_int[:, L.DI_MONTH]
    month_end = schedule.day_int[:, L.DI_MONTH_END] == 1
    spike_kind = schedule.day_int[:, L.DI_RRP_SPIKE]
    days_in_month = schedule.days_in_month
    decay = p[L.P_CAL_DECAY : L.P_CAL_DECAY + L.N_CAL]

    d = path_draws
    pace = rp[:, L.RP_PACE_LO] + d[:, [L.D_PACE_UNIFORM]] * (
        rp[:, L.RP_PACE_HI] - rp[:, L.RP_PACE_LO]
    )
    then = rp[:, L.RP_THEN_LO] + d[:, [L.D_THEN_UNIFORM]] * (
        rp[:, L.RP_THEN_HI] - rp[:, L.RP_THEN_LO]
    )
    soma = np.full((n, n_regimes), p[L.P_SOMA0])
    noise = np.zeros((n, n_regimes))
    spread_prev = np.full((n, n_regimes), p[L.P_SPREAD0])
    react_on = np.zeros((n, n_regimes), dtype=bool)
    crisis_day = np.full((n, n_regimes), -1)
    emergency_last = np.full((n, n_regimes), -1)
    run = np.zeros((n, n_regimes), dtype=np.int64)
    month_sum = np.zeros((n, n_regimes))
    log_currency = np.full(n, np.log(p[L.P_CURRENCY0]))
    bank = np.full(n, p[L.P_BANK_EX_RESERVES0])
    bank_factor = np.exp(d[:, L.D_BANK_GROWTH] / p[L.P_DAYS_PER_YEAR])
    tga_dev = np.zeros(n)
    other_dev = np.zeros(n)
    cal_level = np.zeros((n, L.N_CAL))

    names = [name for name in L.TRACE_NAMES if name != "events"]
    out = {name: np.zeros((n, n_days, n_regimes)) for name in names}
    out["events"] = np.zeros((n, n_days, n_regimes, L.N_EVENTS), dtype=bool)

    for t in range(n_days):
        s = shocks[:, t]
        m = month[t]
        log_currency = (
            log_currency
            + d[:, L.D_CURRENCY_GROWTH] / p[L.P_DAYS_PER_YEAR]
            + schedule.day_float[t, L.DF_CURRENCY_SEASONAL]
            + p[L.P_CUR_LOG_SD] * s[:, L.S_CURRENCY]
        )
        currency = np.exp(log_currency)
        tga_dev = p[L.P_TGA_AR] * tga_dev + p[L.P_TGA_SD] * s[:, L.S_TGA]
        amounts = s[:, L.S_CAL_AMOUNT : L.S_CAL_AMOUNT + L.N_CAL]
        cal_level = cal_level * decay + schedule.cal_share[t] * amounts
        anchor = np.full(n, schedule.day_float[t, L.DF_TGA_ANCHOR])
        w = debt_ceiling_weight(
            t - p[L.P_DC_START_DAY], p[L.P_DC_DECLINE_DAYS], d[:, L.D_DC_RESOLUTION],
            d[:, L.D_DC_REBUILD],
        )  # fmt: skip
        anchor = np.where(
            d[:, L.D_DC_ACTIVE] > 0, (1 - w) * anchor + w * d[:, L.D_DC_FLOOR], anchor
        )
        tga = anchor + cal_level.sum(axis=1) + tga_dev
        other_dev = p[L.P_OL_AR] * other_dev + p[L.P_OL_SD] * s[:, L.S_OTHER_LIAB]
        other = p[L.P_OTHER_LIAB0] + other_dev
        bank = bank * bank_factor
        spike = 0.0
        if spike_kind[t] == L.SPIKE_YEAR:
            spike = np.exp(p[L.P_RRP_YE_LOG_MEDIAN] + p[L.P_RRP_YE_LOG_SD] * s[:, L.S_RRP_SPIKE])
        elif spike_kind[t] == L.SPIKE_QUARTER:
            spike = np.exp(p[L.P_RRP_QE_LOG_MEDIAN] + p[L.P_RRP_QE_LOG_SD] * s[:, L.S_RRP_SPIKE])
        rrp = np.maximum(0.0, d[:, L.D_RRP_BASE] + p[L.P_RRP_SD] * s[:, L.S_ON_RRP]) + spike
        ceiling = p[L.P_SRF_RATE] + np.exp(
            p[L.P_STIGMA_LOG_MEDIAN] + p[L.P_STIGMA_LOG_SD] * s[:, L.S_STIGMA]
        )

        # Per regime: (n, R) arrays; shared factors broadcast with [:, None].
        monthly = np.where(t >= rp[:, L.RP_SWITCH_DAY], then, pace)
        monthly = monthly + np.where(react_on, rp[:, L.RP_REACT_ADD], 0.0)
        emergency = (crisis_day >= 0) & (t > crisis_day) & (m <= emergency_last)
        monthly = np.where(emergency, np.maximum(monthly, rp[:, L.RP_EMERGENCY_PACE]), monthly)
        purchases = monthly * (1.0 / days_in_month[m])
        soma = soma + purchases
        on_rrp = rrp[:, None] + p[L.P_RRP_REFILL] * np.maximum(
            0.0, p[L.P_RRP_REFILL_BELOW] - spread_prev
        )
        base = p[L.P_OTHER_ASSETS] - currency - tga - other
        reserves = soma + base[:, None] - on_rrp
        gap = reserves / (bank[:, None] + reserves) - p[L.P_X0]
        h = np.exp(-p[L.P_LAMBDA] * gap)
        eta = s[:, [L.S_SPREAD_NOISE]]
        noise = p[L.P_NOISE_AR] * noise + (p[L.P_NOISE_SD0] + p[L.P_NOISE_SD1] * h) * eta
        # a jump when u < min(1, p0 exp(-λJ (x - x0))); given one, u / p is uniform: size from it
        log_p = np.minimum(0.0, p[L.P_JUMP_LOG_P0] - p[L.P_JUMP_LAMBDA] * gap)
        log_u = np.log(s[:, [L.S_JUMP_UNIFORM]])
        jump = np.where(log_u < log_p, -p[L.P_JUMP_MEAN] * (log_u - log_p), 0.0)
        gamma = schedule.day_float[t, L.DF_GAMMA]
        latent = p[L.P_ALPHA] + (p[L.P_BETA] + gamma) * h + noise + jump
        cap = ceiling[:, None]
        above = latent > cap
        spread = np.where(above, cap + p[L.P_SRF_LEAK] * (latent - cap), latent)
        srf = np.where(above, p[L.P_SRF_TAKEUP] * (latent - cap), 0.0)
        effr = p[L.P_EFFR_E0] + p[L.P_EFFR_PSI] * np.maximum(0.0, spread - p[L.P_EFFR_S0])
        reported = reserves + srf
        bank_assets = bank[:, None] + reported

        run = np.where(spread >= p[L.P_EV_SYSTEMIC], run + 1, 0)
        ev = out["events"][:, t]
        tight = spread >= p[L.P_EV_TIGHT]
        stress = (spread >= p[L.P_EV_STRESS]) | (srf >= p[L.P_EV_STRESS_SRF])
        ev[..., L.E_TIGHT] = tight
        ev[..., L.E_STRESS] = stress
        ev[..., L.E_CRISIS] = (
            (effr > p[L.P_EFFR_TOP]) | (spread >= p[L.P_EV_CRISIS]) | (srf >= p[L.P_EV_CRISIS_SRF])
        )
        ev[..., L.E_SYSTEMIC] = run >= p[L.P_EV_SYSTEMIC_DAYS]
        ev[..., L.E_SCARCE] = (reported < p[L.P_EV_SCARCE_RATIO] * bank_assets) | (
            reported < p[L.P_EV_SCARCE_RESERVES]
        )
        ev[..., L.E_TIGHT_XPE] = tight & ~month_end[t]
        ev[..., L.E_STRESS_XPE] = stress & ~month_end[t]

        first_crisis = ev[..., L.E_CRISIS] & (crisis_day < 0) & (rp[:, L.RP_EMERGENCY_PACE] > 0)
        crisis_day = np.where(first_crisis, t, crisis_day)
        emergency_last = np.where(
            first_crisis, m + rp[:, L.RP_EMERGENCY_MONTHS].astype(np.int64), emergency_last
        )
        spread_prev = spread
        month_sum = month_sum + spread
        if month_end[t]:
            react_on = month_sum * (1.0 / days_in_month[m]) > rp[:, L.RP_REACT_ABOVE]
            month_sum = np.zeros_like(month_sum)

        row = {
            "soma": soma, "currency": currency[:, None], "tga": tga[:, None], "on_rrp": on_rrp,
            "other_liabilities": other[:, None], "srf": srf, "reserves": reported,
            "bank_assets": bank_assets, "ratio": reported / bank_assets,
            "spread_latent": latent, "spread": spread, "effr_minus_iorb": effr,
            "purchases": purchases,
        }  # fmt: skip
        for name, value in row.items():
            out[name][:, t] = value
    return out


def monthly_accumulators(schedule: Schedule, daily: dict) -> Accumulators:
    """Integer counts and histograms of the daily output of ``simulate_reference``."""
    events = daily["events"]  # (n, T, R, E)
    n, _, n_regimes, _ = events.shape
    n_months = schedule.calendar.horizon_months
    month = schedule.day_int[:, L.DI_MONTH]
    acc = Accumulators.zeros(n_regimes, n_months, schedule.n_bins)
    acc.n_paths = n
    # any / sum over the days of each month: (n, R, E, M)
    in_month = np.stack([events[:, month == m].any(axis=1) for m in range(n_months)], axis=-1)
    days = np.stack([events[:, month == m].sum(axis=1) for m in range(n_months)], axis=-1)
    ever = np.maximum.accumulate(in_month, axis=-1)
    first = ever & ~np.concatenate([np.zeros_like(ever[..., :1]), ever[..., :-1]], axis=-1)
    acc.event_count[:] = in_month.sum(axis=0)
    acc.event_days[:] = days.sum(axis=0)
    acc.first_event_count[:] = first.sum(axis=0)
    acc.joint_event_count[:] = np.einsum("nrem,nqem->rqem", in_month, in_month, dtype=np.int64)
    acc.joint_cumulative_count[:] = np.einsum("nrem,nqem->rqem", ever, ever, dtype=np.int64)

    month_end = np.flatnonzero(schedule.day_int[:, L.DI_MONTH_END] == 1)

    def per_month(name, reduce):
        return np.stack([reduce(daily[name][:, month == m], axis=1) for m in range(n_months)], 1)

    stats = {  # (n, M, R) each
        "reserves_eom": daily["reserves"][:, month_end],
        "reserves_min": per_month("reserves", np.min),
        "spread_max": per_month("spread", np.max),
        "srf_max": per_month("srf", np.max),
        "tga_eom": daily["tga"][:, month_end],
    }
    for v, name in enumerate(L.HIST_NAMES):
        low, width = schedule.hist_grid[v]
        position = (stats[name] - low) / width
        bins = np.where(
            position < 0, 0, np.where(position >= schedule.n_bins, schedule.n_bins + 1, 0)
        )
        inside = (position >= 0) & (position < schedule.n_bins)
        bins = np.where(inside, np.floor(np.where(inside, position, 0)).astype(np.int64) + 1, bins)
        for r in range(n_regimes):
            for m in range(n_months):
                acc.hist[v, r, m] += np.bincount(bins[:, m, r], minlength=schedule.n_bins + 2)
    return acc
