"""Config + calendar → the plain arrays the kernels read (layout in ``engine.kernels.layout``)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import signal

from .calendar import BusinessCalendar
from .config import Config, uncertain_key_bounds
from .kernels import layout as L
from .kernels.tables import student_t_table, tail_table
from .parameters import DRAWN, SCALARS

_LN2 = math.log(2.0)
CAL_BURN_IN_MONTHS = 3  # months of calendar before a date whose TGA calendar effects may still be
#   in force on it (longest half-life 15 business days) [J]
NO_TIER = -1  # ``Schedule.hazard_tier`` when the conditional estimator is off


@dataclass(frozen=True)
class Schedule:
    """Every input of the path kernel for one config.

    Attributes
    ----------
    calendar : BusinessCalendar
    day_float : float64 (T, N_DAY_FLOAT); day_int : int64 (T, N_DAY_INT)
    cal_share : float64 (T, N_CAL), share of each TGA calendar effect booked per day
    days_in_month : int64 (M,)
    params : float64 (N_PARAMS,); regime_params : float64 (R, N_REGIME_PARAMS)
    hist_grid : float64 (V, 2), [low, width] of each histogram
    t_tables : float64 (2, 3, N + 1), ziggurat tables of the two Student-t (``layout.TT_*``)
    uncertainty : float64 (K, U_CHOL + K), the parameters each path draws (``layout.U_*``);
        K = 0 unless ``[uncertainty] parameters = true``
    n_bins : int, histogram bins inside [low, low + n_bins * width)
    regime_names : tuple[str, ...]; regime_weights : float64 (R,), NaN where unweighted
    uncertain_keys : tuple[str, ...], the dotted config keys of ``uncertainty``'s rows
    hazard_tier : int64 (1,), the ``layout.E_*`` tier the conditional estimator conditions, or
        -1 (``[rare_events]`` off)
    hazard_tail : float64 (N + 1, 2), the spread noise's tail table (``conditional.tail_table``);
        (0, 2) when off
    """

    calendar: BusinessCalendar
    day_float: np.ndarray
    day_int: np.ndarray
    cal_share: np.ndarray
    days_in_month: np.ndarray
    params: np.ndarray
    regime_params: np.ndarray
    hist_grid: np.ndarray
    t_tables: np.ndarray
    uncertainty: np.ndarray
    n_bins: int
    regime_names: tuple[str, ...]
    regime_weights: np.ndarray
    uncertain_keys: tuple[str, ...] = ()
    hazard_tier: np.ndarray = field(default_factory=lambda: np.array([NO_TIER]))
    hazard_tail: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))

    @property
    def conditional(self) -> bool:
        """The conditional estimator is on."""
        return int(self.hazard_tier[0]) != NO_TIER

    @cached_property
    def kernel_inputs(self) -> tuple[np.ndarray, ...]:
        """The read-only arguments of ``simulate_block`` after the seeds, in order."""
        return (
            self.day_float,
            self.day_int,
            self.cal_share,
            self.days_in_month,
            self.params,
            self.regime_params,
            self.hist_grid,
            self.t_tables,
            self.uncertainty,
            self.hazard_tier,
            self.hazard_tail,
        )


def build_schedule(config: Config) -> Schedule:
    """Turn a validated config into kernel arrays."""
    sim = config.simulation
    calendar = BusinessCalendar(sim.start, sim.horizon_months)
    day_float = np.zeros((calendar.n_days, L.N_DAY_FLOAT))
    day_float[:, L.DF_TGA_ANCHOR] = tga_anchor(config, calendar)
    day_float[:, L.DF_CURRENCY_SEASONAL] = currency_seasonal_step(config, calendar)
    day_float[:, L.DF_GAMMA] = calendar_gamma(config, calendar)

    day_int = np.zeros((calendar.n_days, L.N_DAY_INT), dtype=np.int64)
    day_int[:, L.DI_MONTH] = calendar.month
    day_int[:, L.DI_MONTH_END] = calendar.month_end
    day_int[:, L.DI_RRP_SPIKE] = np.where(
        calendar.year_end, L.SPIKE_YEAR, np.where(calendar.quarter_end, L.SPIKE_QUARTER, 0)
    )
    cal_share, cal_new = tga_calendar_effects(config, calendar)
    day_int[:, L.DI_CAL_NEW : L.DI_CAL_NEW + L.N_CAL] = cal_new
    day_int[:, L.DI_EXTRA_DRAWS] = extra_draws(day_int)

    regimes = config.active_regimes
    regime_params = np.array([_regime_row(r, calendar) for r in regimes])
    day_int[:, L.DI_PACE_CHANGE] = pace_change_days(calendar, regime_params[:, L.RP_SWITCH_DAY])
    t_dfs = (config.tga.t_df, config.spread.noise_t_df)  # layout.TT_TGA, TT_SPREAD_NOISE
    hist = config.output.histograms
    grids = {
        "reserves": hist.reserves_bn,
        "spread": hist.spread_bp,
        "srf": hist.srf_bn,
        "tga": hist.tga_bn,
    }
    hist_grid = np.array([grids[name.split("_")[0]] for name in L.HIST_NAMES], dtype=float)
    schedule = Schedule(
        calendar=calendar,
        day_float=day_float,
        day_int=day_int,
        cal_share=cal_share,
        days_in_month=calendar.days_in_month,
        params=scalar_params(config, calendar),
        regime_params=regime_params,
        hist_grid=hist_grid,
        t_tables=np.stack([student_t_table(df)[0] for df in t_dfs]),
        uncertainty=uncertainty_table(config),
        n_bins=config.output.histogram_bins,
        regime_names=tuple(r.name for r in regimes),
        regime_weights=np.array([np.nan if r.weight is None else r.weight for r in regimes]),
        uncertain_keys=uncertain_keys(config),
        **hazard_inputs(config),
    )
    for value in vars(schedule).values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)  # kernels only read their inputs
    return schedule


def hazard_inputs(config: Config) -> dict[str, np.ndarray]:
    """The conditioned tier and the spread noise's tail table, where ``[rare_events]`` asks
    for the conditional estimator; {} (the defaults: off) otherwise."""
    rare = config.rare_events
    if not rare.on:
        return {}
    return {
        "hazard_tier": np.array([L.EVENT_NAMES.index(rare.tier)]),
        "hazard_tail": tail_table(config.spread.noise_t_df),
    }


def extra_draws(day_int: np.ndarray) -> np.ndarray:
    """Each day's draws beyond the daily ones: the ``layout.DI_EXTRA_DRAWS`` bitmask, int64 (T,)."""
    mask = np.where(day_int[:, L.DI_RRP_SPIKE] != L.SPIKE_NONE, L.EXTRA_SPIKE, 0)
    for k in range(L.N_CAL):
        mask |= np.where(day_int[:, L.DI_CAL_NEW + k] == 1, L.EXTRA_CAL << k, 0)
    return mask


def pace_change_days(calendar: BusinessCalendar, switch_days: np.ndarray) -> np.ndarray:
    """1 on the days a regime's scheduled pace may change (a month's first day, any regime's
    switch day), else 0; int64 (T,). A pace also changes the day after a crisis (kernel)."""
    change = np.zeros(calendar.n_days, dtype=np.int64)
    change[0] = 1
    change[1:] = calendar.month[1:] != calendar.month[:-1]
    inside = switch_days[switch_days < calendar.n_days].astype(np.int64)
    change[inside] = 1
    return change


def calendar_levels(config: Config, calendar: BusinessCalendar) -> np.ndarray:
    """Level of each TGA calendar effect per $1bn of amount, as the kernel books it.

    Returns
    -------
    float64 (T, N_CAL)
        ``x_k(t) = 2**(-1/half_life_k) · x_k(t-1) + share_k(t)``, columns in
        ``layout.CAL_NAMES`` order; the kernel's level is ``amount_k · x_k``.
    """
    share, _ = tga_calendar_effects(config, calendar)
    levels = np.empty_like(share)
    for k, name in enumerate(L.CAL_NAMES):
        decay = 2.0 ** (-1.0 / getattr(config.tga.calendar, name).half_life_days)
        levels[:, k] = signal.lfilter([1.0], [1.0, -decay], share[:, k])
    return levels


def calendar_in_force(config: Config, dates: np.ndarray) -> np.ndarray:
    """The TGA calendar effects in force at the close of each date (its business day on or
    before it) at the mid-point amounts, $bn, float64 (len(dates), N_CAL): what a TGA balance
    observed or targeted on that date holds beyond its anchor."""
    dates = np.asarray(dates, dtype="datetime64[D]")
    first = (dates.min().astype("datetime64[M]") - CAL_BURN_IN_MONTHS).astype(dt.date)
    months = int((dates.max().astype("datetime64[M]") - np.datetime64(first, "M")).astype(int)) + 1
    calendar = BusinessCalendar(first, months)
    mid = np.array([getattr(config.tga.calendar, n).amount_bn.mid for n in L.CAL_NAMES])
    on_or_before = np.searchsorted(calendar.days, dates, "right") - 1
    return calendar_levels(config, calendar)[on_or_before] * mid


def tga_anchor(config: Config, calendar: BusinessCalendar) -> np.ndarray:
    """TGA anchor ($bn, (T,)): linear in business days from the initial balance through the
    quarter-end targets, flat after the last; each knot net of the calendar effects in force on
    its date (`calendar_in_force`: the kernel adds those, from ``P_CAL_START`` on)."""
    tga = config.tga
    knots = np.array([config.initial.as_of, *tga.anchor_dates], dtype="datetime64[D]")
    values = np.array([config.initial.tga_bn, *tga.anchor_bn])
    values = values - calendar_in_force(config, knots).sum(axis=1)
    position = np.busday_count(knots[0], calendar.days, holidays=calendar.closed)
    knot_position = np.busday_count(knots[0], knots, holidays=calendar.closed)
    return np.interp(position, knot_position, values)


def currency_seasonal_step(config: Config, calendar: BusinessCalendar) -> np.ndarray:
    """Day-on-day change of the log seasonal currency factor (1, (T,)).

    The seasonal level rises linearly through December to ``seasonal_peak_bn`` on Dec 31 and
    unwinds linearly through January (calendar-day fractions), relative to initial currency.
    The first day's change is taken from the calendar day before the start.
    """
    days = np.concatenate([calendar.days[:1] - 1, calendar.days])
    month_first = days.astype("datetime64[M]")
    month_length = (month_first + 1).astype("datetime64[D]") - month_first.astype("datetime64[D]")
    fraction = ((days - month_first.astype("datetime64[D]")) + 1) / month_length
    calendar_month = month_first.astype(np.int64) % 12 + 1
    shape = np.where(calendar_month == 12, fraction, np.where(calendar_month == 1, 1 - fraction, 0))
    level = config.currency.seasonal_peak_bn * shape / config.initial.currency_bn
    return np.diff(level)


def calendar_gamma(config: Config, calendar: BusinessCalendar) -> np.ndarray:
    """γ (bp, (T,)): the largest period-end effect of the day plus the settlement effect."""
    spread = config.spread
    period_end = np.where(
        calendar.year_end,
        spread.year_end_bp,
        np.where(
            calendar.quarter_end,
            spread.quarter_end_bp,
            np.where(calendar.month_end, spread.month_end_bp, 0.0),
        ),
    )
    return period_end + spread.settlement_bp * calendar.mid_month_settlement


def tga_calendar_effects(config: Config, calendar: BusinessCalendar):
    """Shares of each TGA calendar effect's amount booked per day and the days a new event of
    it opens: (float64 (T, N_CAL), int64 (T, N_CAL)), columns in ``layout.CAL_NAMES`` order."""
    effects = config.tga.calendar
    share = np.zeros((calendar.n_days, L.N_CAL))
    new = np.zeros((calendar.n_days, L.N_CAL), dtype=np.int64)

    def window(column, position, length):
        inside = position >= 0
        share[inside, column] = 1.0 / length
        new[position == 0, column] = 1

    def single(column, flags):
        share[flags, column] = 1.0
        new[flags, column] = 1

    april = effects.april_tax
    window(0, calendar.april_tax_window(april.first_day, april.window_days), april.window_days)
    single(1, calendar.corporate_tax)
    single(2, calendar.mid_month_settlement | calendar.month_end)
    first = effects.first_of_month
    window(3, calendar.first_of_month_window(first.window_days), first.window_days)
    return share, new


def scalar_params(config: Config, calendar: BusinessCalendar) -> np.ndarray:
    """The kernel's scalar parameters (float64 (N_PARAMS,)), as ``engine.parameters`` declares
    them, then the TGA calendar effects' amounts, decays and levels in force at the start."""
    c = config
    params = np.full(L.N_PARAMS, np.nan)
    for index, scalar in enumerate(SCALARS):
        params[index] = scalar.value(c, calendar)
    effects = c.tga.calendar
    for k, name in enumerate(L.CAL_NAMES):
        effect = getattr(effects, name)
        params[L.P_CAL_LO + k] = effect.amount_bn.low
        params[L.P_CAL_HI + k] = effect.amount_bn.high
        params[L.P_CAL_DECAY + k] = math.exp(-_LN2 / effect.half_life_days)
    as_of = np.array([c.initial.as_of], dtype="datetime64[D]")
    params[L.P_CAL_START : L.P_CAL_START + L.N_CAL] = calendar_in_force(c, as_of)[0]
    missing = [L.PARAM_NAMES[i] for i in np.flatnonzero(np.isnan(params))]
    if missing:
        raise AssertionError(f"kernel parameters not set: {missing}")
    return params


# The kernel parameter of each ``config.UNCERTAIN_KEYS`` entry, and what the kernel stores.
UNCERTAIN_PARAMS = {
    s.drawn: (SCALARS.index(s), L.UT_LOG if s.stored == "log" else L.UT_IDENTITY) for s in DRAWN
}


def uncertain_keys(config: Config) -> tuple[str, ...]:
    """The dotted keys each path draws, in the kernel's order (the blocks' keys in turn); empty
    unless ``[uncertainty] parameters = true``."""
    uncertainty = config.uncertainty
    if not uncertainty.parameters:
        return ()
    return tuple(key for block in uncertainty.block for key in block.keys)


def uncertainty_table(config: Config) -> np.ndarray:
    """The parameters each path draws: float64 (K, U_CHOL + K), columns ``layout.U_*``, a row
    per key of ``uncertain_keys``; the Cholesky factor is block-diagonal (blocks independent)."""
    keys = uncertain_keys(config)
    table = np.zeros((len(keys), L.U_CHOL + len(keys)))
    row = 0
    for block in config.uncertainty.block if keys else ():
        factor = covariance_factor(np.array(block.covariance, dtype=float))
        first = L.U_CHOL + row
        for i, (key, mean) in enumerate(zip(block.keys, block.mean, strict=True)):
            index, transform = UNCERTAIN_PARAMS[key]
            lower, upper = uncertain_key_bounds(key)
            table[row, [L.U_PARAM, L.U_TRANSFORM, L.U_MEAN, L.U_LOWER, L.U_UPPER]] = (
                index,
                transform,
                mean,
                lower,
                upper,
            )
            table[row, first : first + len(block.keys)] = factor[i]
            row += 1
    return table


def covariance_factor(covariance: np.ndarray) -> np.ndarray:
    """A lower-triangular L with L Lᵀ = ``covariance`` (K×K, symmetric positive semi-definite,
    as the config checks): the Cholesky factor, or for a singular matrix the transposed R of
    the QR decomposition of Λ^½ Vᵀ (covariance = V Λ Vᵀ, eigenvalues below 0 set to 0), with
    a non-negative diagonal."""
    symmetric = 0.5 * (covariance + covariance.T)
    try:
        return np.linalg.cholesky(symmetric)
    except np.linalg.LinAlgError:
        pass
    eigenvalues, vectors = np.linalg.eigh(symmetric)
    root = np.sqrt(np.clip(eigenvalues, 0.0, None))[:, None] * vectors.T
    upper = np.linalg.qr(root, mode="r")
    signs = np.where(np.diag(upper) < 0.0, -1.0, 1.0)
    return (signs[:, None] * upper).T


def _regime_row(regime, calendar: BusinessCalendar) -> np.ndarray:
    row = np.zeros(L.N_REGIME_PARAMS)
    row[L.RP_PACE_LO] = regime.pace_bn.low
    row[L.RP_PACE_HI] = regime.pace_bn.high
    then = regime.then_pace_bn or regime.pace_bn
    row[L.RP_THEN_LO] = then.low
    row[L.RP_THEN_HI] = then.high
    row[L.RP_SWITCH_DAY] = switch_day(regime.switch_after_months, calendar)
    row[L.RP_REACT_ABOVE] = math.inf if regime.react_above_bp is None else regime.react_above_bp
    row[L.RP_REACT_ADD] = regime.react_add_bn or 0.0
    row[L.RP_EMERGENCY_PACE] = regime.emergency_pace_bn or 0.0
    row[L.RP_EMERGENCY_MONTHS] = regime.emergency_months or 0
    return row


def switch_day(months: float | None, calendar: BusinessCalendar) -> int:
    """First day index at the new pace, ``months`` (fractional) months after the start: month
    ``floor(months)``, at the business day that fraction of the way through it (T: never)."""
    if months is None:
        return calendar.n_days
    whole = math.floor(months)
    if whole >= calendar.horizon_months:
        return calendar.n_days
    first = int(np.searchsorted(calendar.month, whole))
    return first + math.floor((months - whole) * calendar.days_in_month[whole] + 0.5)
