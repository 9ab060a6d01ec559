"""A plain-NumPy reference of the model, vectorized over paths and regimes.

``ReferencePaths`` advances n paths under every regime one business day at a time with
whole-array operations, from the day's shared shocks. It serves twice: fed the draws the tracing
kernel records (``simulate_reference``), it holds the numba kernel to the model in the tests;
fed NumPy's own generator (``numpy_accumulators``), it is the NumPy baseline the benchmarks
compare the kernel with. ``MonthlyCounts`` turns daily output into the run's integer counts.
"""

from __future__ import annotations

import numpy as np

from ..accumulators import Accumulators
from ..curves import CURVE_FAMILIES
from ..curves import shape as curve_shape
from ..kernels import layout as L
from ..schedule import Schedule


def debt_ceiling_weight(since, decline, resolution, rebuild):
    """Vectorized ``kernels.day.debt_ceiling_weight`` (see there)."""
    since = np.asarray(since, dtype=float)
    falling = np.minimum(1.0, (since + 1.0) / decline)
    depth = np.minimum(1.0, resolution / decline)
    rebuilt = (since - resolution + 1.0) / rebuild
    after = np.where(rebuilt < 1.0, depth * (1.0 - rebuilt), 0.0)
    weight = np.where(since < resolution, falling, after)
    return np.where(since < 0.0, 0.0, weight)


class ReferencePaths:
    """The state of n paths under R regimes; ``step`` advances one business day.

    Parameters
    ----------
    schedule : Schedule
    path_draws : float64 (n, N_PATH_DRAWS), columns ``layout.PATH_DRAW_NAMES``
    """

    def __init__(self, schedule: Schedule, path_draws: np.ndarray):
        p, rp = schedule.params, schedule.regime_params
        n, n_regimes = path_draws.shape[0], rp.shape[0]
        self.schedule, self.p, self.rp, self.d = schedule, p, rp, path_draws
        u_pace = path_draws[:, [L.D_PACE_UNIFORM]]
        u_then = path_draws[:, [L.D_THEN_UNIFORM]]
        self.pace = rp[:, L.RP_PACE_LO] + u_pace * (rp[:, L.RP_PACE_HI] - rp[:, L.RP_PACE_LO])
        self.then = rp[:, L.RP_THEN_LO] + u_then * (rp[:, L.RP_THEN_HI] - rp[:, L.RP_THEN_LO])
        self.soma = np.full((n, n_regimes), p[L.P_SOMA0])
        self.noise = np.zeros((n, n_regimes))
        self.spread_prev = np.full((n, n_regimes), p[L.P_SPREAD0])
        self.react_on = np.zeros((n, n_regimes), dtype=bool)
        self.crisis_day = np.full((n, n_regimes), -1)
        self.emergency_last = np.full((n, n_regimes), -1)
        self.run = np.zeros((n, n_regimes), dtype=np.int64)
        self.month_sum = np.zeros((n, n_regimes))
        self.log_currency = np.full(n, np.log(p[L.P_CURRENCY0]))
        self.bank = np.full(n, p[L.P_BANK_EX_RESERVES0])
        self.bank_factor = np.exp(path_draws[:, L.D_BANK_GROWTH] / p[L.P_DAYS_PER_YEAR])
        self.tga_dev = np.zeros(n)
        self.tga_walk = np.zeros(n)
        self.alpha_walk = np.zeros(n)
        self.other_dev = np.zeros(n)
        start = p[L.P_RRP_START]
        self.rrp_level = np.full(n, start) if start >= 0.0 else path_draws[:, L.D_RRP_BASE].copy()
        self.cal_level = np.tile(p[L.P_CAL_START : L.P_CAL_START + L.N_CAL], (n, 1))

    def step(self, t: int, s: np.ndarray) -> dict:
        """Advance to day ``t`` with the day's shocks ``s`` (float64 (n, N_SHOCKS)).

        Returns the day's values, float64 (n, R) each, named as ``layout.TRACE_NAMES``, with
        "events" bool (n, R, E).
        """
        sch, p, rp, d = self.schedule, self.p, self.rp, self.d
        m = sch.day_int[t, L.DI_MONTH]
        month_end = sch.day_int[t, L.DI_MONTH_END] == 1
        spike_kind = sch.day_int[t, L.DI_RRP_SPIKE]
        inv_days = 1.0 / sch.days_in_month[m]

        self.log_currency = (
            self.log_currency
            + d[:, L.D_CURRENCY_GROWTH] / p[L.P_DAYS_PER_YEAR]
            + sch.day_float[t, L.DF_CURRENCY_SEASONAL]
            + p[L.P_CUR_LOG_SD] * s[:, L.S_CURRENCY]
        )
        currency = np.exp(self.log_currency)
        self.tga_dev = p[L.P_TGA_AR] * self.tga_dev + p[L.P_TGA_SD] * s[:, L.S_TGA]
        self.tga_walk = self.tga_walk + p[L.P_TGA_WALK_SD] * s[:, L.S_TGA]
        step_var = p[L.P_ALPHA_WALK_SD] ** 2 + (p[L.P_ALPHA_START_SD] ** 2 if t == 0 else 0.0)
        self.alpha_walk = self.alpha_walk + np.sqrt(step_var) * s[:, L.S_ALPHA_WALK]
        amounts = s[:, L.S_CAL_AMOUNT : L.S_CAL_AMOUNT + L.N_CAL]
        decay = p[L.P_CAL_DECAY : L.P_CAL_DECAY + L.N_CAL]
        self.cal_level = self.cal_level * decay + sch.cal_share[t] * amounts
        anchor = np.full(len(currency), sch.day_float[t, L.DF_TGA_ANCHOR])
        w = debt_ceiling_weight(
            t - p[L.P_DC_START_DAY],
            p[L.P_DC_DECLINE_DAYS],
            d[:, L.D_DC_RESOLUTION],
            d[:, L.D_DC_REBUILD],
        )
        active = d[:, L.D_DC_ACTIVE] > 0
        anchor = np.where(active, (1 - w) * anchor + w * d[:, L.D_DC_FLOOR], anchor)
        tga = np.maximum(0.0, anchor + self.cal_level.sum(axis=1) + self.tga_dev + self.tga_walk)
        self.other_dev = p[L.P_OL_AR] * self.other_dev + p[L.P_OL_SD] * s[:, L.S_OTHER_LIAB]
        other = p[L.P_OTHER_LIAB0] + self.other_dev
        self.bank = self.bank * self.bank_factor
        spike = 0.0
        if spike_kind == L.SPIKE_YEAR:
            spike = np.exp(p[L.P_RRP_YE_LOG_MEDIAN] + p[L.P_RRP_YE_LOG_SD] * s[:, L.S_RRP_SPIKE])
        elif spike_kind == L.SPIKE_QUARTER:
            spike = np.exp(p[L.P_RRP_QE_LOG_MEDIAN] + p[L.P_RRP_QE_LOG_SD] * s[:, L.S_RRP_SPIKE])
        rrp_base = d[:, L.D_RRP_BASE]
        self.rrp_level = rrp_base + p[L.P_RRP_AR] * (self.rrp_level - rrp_base)
        self.rrp_level = self.rrp_level + p[L.P_RRP_SD] * s[:, L.S_ON_RRP]
        rrp = np.maximum(0.0, self.rrp_level) + spike
        ceiling = p[L.P_SRF_RATE] + np.exp(
            p[L.P_STIGMA_LOG_MEDIAN] + p[L.P_STIGMA_LOG_SD] * s[:, L.S_STIGMA]
        )

        # Per regime: (n, R) arrays; shared factors broadcast with [:, None].
        monthly = np.where(t >= rp[:, L.RP_SWITCH_DAY], self.then, self.pace)
        monthly = monthly + np.where(self.react_on, rp[:, L.RP_REACT_ADD], 0.0)
        emergency = (self.crisis_day >= 0) & (t > self.crisis_day) & (m <= self.emergency_last)
        monthly = np.where(emergency, np.maximum(monthly, rp[:, L.RP_EMERGENCY_PACE]), monthly)
        purchases = monthly * inv_days
        self.soma = self.soma + purchases
        on_rrp = rrp[:, None] + p[L.P_RRP_REFILL] * np.maximum(
            0.0, p[L.P_RRP_REFILL_BELOW] - self.spread_prev
        )
        base = p[L.P_OTHER_ASSETS] - currency - tga - other
        reserves = self.soma + base[:, None] - on_rrp
        gap = reserves / (self.bank[:, None] + reserves) - p[L.P_X0]
        h = curve_shape(CURVE_FAMILIES[int(p[L.P_CURVE_FAMILY])], gap, p[L.P_LAMBDA], 0.0)
        eta = s[:, [L.S_SPREAD_NOISE]]
        self.noise = p[L.P_NOISE_AR] * self.noise + (p[L.P_NOISE_SD0] + p[L.P_NOISE_SD1] * h) * eta
        alpha = p[L.P_ALPHA] + self.alpha_walk[:, None]
        latent = alpha + (p[L.P_BETA] + sch.day_float[t, L.DF_GAMMA]) * h + self.noise
        # a jump when u < min(1, p0 exp(-λJ (x - x0))); given one, u / p is uniform: size from it
        log_p = np.minimum(0.0, p[L.P_JUMP_LOG_P0] - p[L.P_JUMP_LAMBDA] * gap)
        log_u = np.log(s[:, [L.S_JUMP_UNIFORM]])
        latent = latent + np.where(log_u < log_p, -p[L.P_JUMP_MEAN] * (log_u - log_p), 0.0)
        cap = ceiling[:, None]
        above = latent > cap
        spread = np.where(above, cap + p[L.P_SRF_LEAK] * (latent - cap), latent)
        spread = np.where(spread < p[L.P_SPREAD_FLOOR], p[L.P_SPREAD_FLOOR], spread)
        srf = np.where(above, p[L.P_SRF_TAKEUP] * (latent - cap), 0.0)
        effr = p[L.P_EFFR_E0] + p[L.P_EFFR_PSI] * np.maximum(0.0, spread - p[L.P_EFFR_S0])
        reported = reserves + srf
        bank_assets = self.bank[:, None] + reported

        self.run = np.where(spread >= p[L.P_EV_SYSTEMIC], self.run + 1, 0)
        events = np.zeros((*spread.shape, L.N_EVENTS), dtype=bool)
        tight = spread >= p[L.P_EV_TIGHT]
        stress = (spread >= p[L.P_EV_STRESS]) | (srf >= p[L.P_EV_STRESS_SRF])
        events[..., L.E_TIGHT] = tight
        events[..., L.E_STRESS] = stress
        events[..., L.E_CRISIS] = (
            (effr > p[L.P_EFFR_TOP]) | (spread >= p[L.P_EV_CRISIS]) | (srf >= p[L.P_EV_CRISIS_SRF])
        )
        events[..., L.E_SYSTEMIC] = self.run >= p[L.P_EV_SYSTEMIC_DAYS]
        events[..., L.E_SCARCE] = (reported < p[L.P_EV_SCARCE_RATIO] * bank_assets) | (
            reported < p[L.P_EV_SCARCE_RESERVES]
        )
        events[..., L.E_TIGHT_XPE] = tight & ~month_end
        events[..., L.E_STRESS_XPE] = stress & ~month_end

        first = events[..., L.E_CRISIS] & (self.crisis_day < 0) & (rp[:, L.RP_EMERGENCY_PACE] > 0)
        self.crisis_day = np.where(first, t, self.crisis_day)
        last = m + rp[:, L.RP_EMERGENCY_MONTHS].astype(np.int64)
        self.emergency_last = np.where(first, last, self.emergency_last)
        self.spread_prev = spread
        self.month_sum = self.month_sum + spread
        if month_end:
            self.react_on = self.month_sum * inv_days > rp[:, L.RP_REACT_ABOVE]
            self.month_sum = np.zeros_like(self.month_sum)

        shape = spread.shape
        return {
            "soma": self.soma,
            "currency": np.broadcast_to(currency[:, None], shape),
            "tga": np.broadcast_to(tga[:, None], shape),
            "on_rrp": on_rrp,
            "other_liabilities": np.broadcast_to(other[:, None], shape),
            "srf": srf,
            "reserves": reported,
            "bank_assets": bank_assets,
            "ratio": reported / bank_assets,
            "spread_latent": latent,
            "spread": spread,
            "effr_minus_iorb": effr,
            "purchases": purchases,
            "events": events,
        }


class MonthlyCounts:
    """Integer counts and histograms built day by day from ``ReferencePaths.step`` output."""

    def __init__(self, schedule: Schedule, n_paths: int):
        n_regimes = len(schedule.regime_names)
        self.schedule = schedule
        self.acc = Accumulators.zeros(n_regimes, schedule.calendar.horizon_months, schedule.n_bins)
        self.acc.n_paths = n_paths
        self.in_month = np.zeros((n_paths, n_regimes, L.N_EVENTS), dtype=bool)
        self.ever = np.zeros_like(self.in_month)
        self.reserves_min = np.full((n_paths, n_regimes), np.inf)
        self.spread_max = np.full((n_paths, n_regimes), -np.inf)
        self.srf_max = np.zeros((n_paths, n_regimes))

    def add_day(self, t: int, day: dict) -> None:
        sch, acc = self.schedule, self.acc
        m = sch.day_int[t, L.DI_MONTH]
        events = day["events"]
        self.in_month |= events
        acc.event_days[..., m] += events.sum(axis=0)
        self.reserves_min = np.minimum(self.reserves_min, day["reserves"])
        self.spread_max = np.maximum(self.spread_max, day["spread"])
        self.srf_max = np.maximum(self.srf_max, day["srf"])
        if sch.day_int[t, L.DI_MONTH_END] != 1:
            return
        new = self.in_month & ~self.ever
        self.ever |= self.in_month
        acc.event_count[..., m] += self.in_month.sum(axis=0)
        acc.first_event_count[..., m] += new.sum(axis=0)
        flags = self.in_month.astype(np.int64)
        ever = self.ever.astype(np.int64)
        acc.joint_event_count[..., m] += np.einsum("nre,nqe->rqe", flags, flags)
        acc.joint_cumulative_count[..., m] += np.einsum("nre,nqe->rqe", ever, ever)
        stats = (day["reserves"], self.reserves_min, self.spread_max, self.srf_max, day["tga"])
        for v, values in enumerate(stats):
            low, width = sch.hist_grid[v]
            position = (values - low) / width
            inside = (position >= 0) & (position < sch.n_bins)
            bins = np.where(position < 0, 0, sch.n_bins + 1)
            bins = np.where(
                inside, np.floor(np.where(inside, position, 0)).astype(np.int64) + 1, bins
            )
            for r in range(bins.shape[1]):
                acc.hist[v, r, m] += np.bincount(bins[:, r], minlength=sch.n_bins + 2)
        self.in_month[:] = False
        self.reserves_min[:] = np.inf
        self.spread_max[:] = -np.inf
        self.srf_max[:] = 0.0


def simulate_reference(schedule: Schedule, path_draws: np.ndarray, shocks: np.ndarray):
    """Daily values and counts of n paths from recorded draws.

    Parameters
    ----------
    path_draws : float64 (n, N_PATH_DRAWS); shocks : float64 (n, T, N_SHOCKS)

    Returns
    -------
    (dict of (n, T, R) arrays named as ``layout.TRACE_NAMES``, "events" bool (n, T, R, E);
    Accumulators)
    """
    paths = ReferencePaths(schedule, path_draws)
    counts = MonthlyCounts(schedule, shocks.shape[0])
    days = []
    for t in range(shocks.shape[1]):
        day = paths.step(t, shocks[:, t])
        counts.add_day(t, day)
        days.append({name: np.array(value) for name, value in day.items()})
    daily = {name: np.stack([day[name] for day in days], axis=1) for name in days[0]}
    return daily, counts.acc


def numpy_path_draws(rng: np.random.Generator, schedule: Schedule, n: int) -> np.ndarray:
    """Per-path draws (float64 (n, N_PATH_DRAWS)) from NumPy's generator."""
    p = schedule.params
    u = 1.0 - rng.random((n, L.N_PATH_DRAWS))  # (0, 1]
    draws = np.empty_like(u)

    def scale(column, lo, hi):
        draws[:, column] = p[lo] + u[:, column] * (p[hi] - p[lo])

    draws[:, L.D_PACE_UNIFORM] = u[:, L.D_PACE_UNIFORM]
    draws[:, L.D_THEN_UNIFORM] = u[:, L.D_THEN_UNIFORM]
    scale(L.D_CURRENCY_GROWTH, L.P_CUR_GROWTH_LO, L.P_CUR_GROWTH_HI)
    scale(L.D_BANK_GROWTH, L.P_BANK_GROWTH_LO, L.P_BANK_GROWTH_HI)
    scale(L.D_RRP_BASE, L.P_RRP_BASE_LO, L.P_RRP_BASE_HI)
    draws[:, L.D_DC_ACTIVE] = u[:, L.D_DC_ACTIVE] < p[L.P_DC_PROBABILITY]
    scale(L.D_DC_FLOOR, L.P_DC_FLOOR_LO, L.P_DC_FLOOR_HI)
    scale(L.D_DC_RESOLUTION, L.P_DC_RESOLUTION_LO, L.P_DC_RESOLUTION_HI)
    scale(L.D_DC_REBUILD, L.P_DC_REBUILD_LO, L.P_DC_REBUILD_HI)
    return draws


def numpy_day_shocks(rng, schedule: Schedule, t: int, previous: np.ndarray) -> np.ndarray:
    """One day's shared shocks (float64 (n, N_SHOCKS)) from NumPy's generator; ``previous``
    holds the last day's, whose calendar-event amounts carry over."""
    p, n = schedule.params, previous.shape[0]
    s = np.empty_like(previous)
    s[:, [L.S_CURRENCY, L.S_ON_RRP, L.S_OTHER_LIAB, L.S_STIGMA]] = rng.standard_normal((n, 4))
    for column, df in ((L.S_TGA, p[L.P_TGA_DF]), (L.S_SPREAD_NOISE, p[L.P_NOISE_DF])):
        s[:, column] = rng.standard_t(df, n) * np.sqrt((df - 2.0) / df)
    s[:, L.S_JUMP_UNIFORM] = 1.0 - rng.random(n)
    moves = p[L.P_ALPHA_WALK_SD] > 0.0 or p[L.P_ALPHA_START_SD] > 0.0
    s[:, L.S_ALPHA_WALK] = rng.standard_normal(n) if moves else 0.0
    spike = schedule.day_int[t, L.DI_RRP_SPIKE] != L.SPIKE_NONE
    s[:, L.S_RRP_SPIKE] = rng.standard_normal(n) if spike else 0.0
    amounts = slice(L.S_CAL_AMOUNT, L.S_CAL_AMOUNT + L.N_CAL)
    s[:, amounts] = previous[:, amounts]
    for k in np.flatnonzero(schedule.day_int[t, L.DI_CAL_NEW : L.DI_CAL_NEW + L.N_CAL]):
        low, high = p[L.P_CAL_LO + k], p[L.P_CAL_HI + k]
        s[:, L.S_CAL_AMOUNT + k] = low + rng.random(n) * (high - low)
    return s


def numpy_accumulators(schedule: Schedule, n_paths: int, seed: int) -> Accumulators:
    """Simulate ``n_paths`` paths with NumPy alone (its own generator), keeping only the
    monthly integer counts: the NumPy baseline of the benchmarks."""
    rng = np.random.default_rng(seed)
    paths = ReferencePaths(schedule, numpy_path_draws(rng, schedule, n_paths))
    counts = MonthlyCounts(schedule, n_paths)
    shocks = np.zeros((n_paths, L.N_SHOCKS))
    for t in range(schedule.calendar.n_days):
        shocks = numpy_day_shocks(rng, schedule, t, shocks)
        counts.add_day(t, paths.step(t, shocks))
    return counts.acc
