"""The kernel's scalar parameters, declared once: name, unit and where each comes from.

``params[layout.P_<name>]`` is the value of ``SCALARS``' entry ``name``; the kernel's layout,
the schedule's mapping from a config, the NumPy reference and the list of parameters a path may
draw (``[uncertainty]``) all come from this list. A new scalar parameter is written in the
config schema (``engine/config.py``) and here.

``source`` is a dotted config key (``.low`` / ``.high`` for the ends of a ``[low, high]`` range)
or a function of the config and the business calendar for a derived value. ``drawn``: the
config key a path may draw under ``[uncertainty]``, and ``stored``: ``"log"`` when the kernel
keeps its logarithm.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .curves import CURVE_FAMILIES, curve

Config = Any  # engine.config.Config (not imported: the config imports this list)
BusinessCalendar = Any  # engine.calendar.BusinessCalendar


@dataclass(frozen=True)
class Scalar:
    name: str
    unit: str
    source: str | Callable[[Config, BusinessCalendar], float]
    drawn: str | None = None
    stored: str = "identity"

    def value(self, config: Config, calendar: BusinessCalendar) -> float:
        if callable(self.source):
            return float(self.source(config, calendar))
        return float(config_value(config, self.source))


def config_value(config: Config, dotted: str) -> Any:
    """A config value by its dotted key (``lambda`` is the field ``lambda_``)."""
    value: Any = config
    for part in dotted.split("."):
        value = getattr(value, "lambda_" if part == "lambda" else part)
    return value


def log_or_minus_inf(value: float) -> float:
    """log of a non-negative parameter; 0 (no spike, no jumps) maps to -inf."""
    return math.log(value) if value > 0 else -math.inf


def _other_liabilities0(c: Config, _) -> float:
    i = c.initial  # the identity at the as-of date closes on the other liabilities
    return i.soma_bn + i.other_assets_bn - i.currency_bn - i.tga_bn - i.on_rrp_bn - i.reserves_bn


def _rrp_start(c: Config, _) -> float:
    return c.on_rrp.start_bn if c.on_rrp.start_bn is not None else -math.inf


def _spread_floor(c: Config) -> float:
    """The spread's floor, bp; −inf where the config has none."""
    return c.spread.floor_bp if c.spread.floor_bp is not None else -math.inf


def _initial_spread(c: Config, _) -> float:
    dc, i = c.demand_curve, c.initial
    ratio = i.reserves_bn / i.bank_assets_bn
    at_start = float(curve(dc.family, ratio, dc.alpha_bp, dc.beta_bp, dc.lambda_, dc.x0))
    return max(at_start, _spread_floor(c))


def _first_day_on_or_after(calendar: BusinessCalendar, day) -> int:
    return int(np.searchsorted(calendar.days, np.datetime64(day, "D")))


def _t_scale(df: float) -> float:
    return math.sqrt((df - 2.0) / df)  # a Student-t of df degrees of freedom to unit variance


def _curve_family(c: Config, _) -> float:
    return CURVE_FAMILIES.index(c.demand_curve.family)


SCALARS = (
    Scalar("SOMA0", "$bn", "initial.soma_bn"),
    Scalar("OTHER_ASSETS", "$bn", "initial.other_assets_bn"),
    Scalar("CURRENCY0", "$bn", "initial.currency_bn"),
    Scalar("TGA0", "$bn", "initial.tga_bn"),
    Scalar("OTHER_LIAB0", "$bn", _other_liabilities0),
    Scalar(
        "BANK_EX_RESERVES0", "$bn", lambda c, _: c.initial.bank_assets_bn - c.initial.reserves_bn
    ),
    Scalar("DAYS_PER_YEAR", "day/yr", "simulation.business_days_per_year"),
    Scalar("CUR_GROWTH_LO", "1/yr", "currency.growth_per_year.low"),
    Scalar("CUR_GROWTH_HI", "1/yr", "currency.growth_per_year.high"),
    Scalar("CUR_LOG_SD", "1/day", lambda c, _: c.currency.daily_sd_bn / c.initial.currency_bn),
    Scalar("TGA_AR", "1", "tga.ar_coefficient"),
    Scalar("TGA_SD", "$bn/day", "tga.daily_sd_bn"),
    Scalar("TGA_DF", "1", "tga.t_df"),
    Scalar("TGA_WALK_SD", "$bn/day", "tga.anchor_walk_sd_bn"),
    Scalar("RRP_BASE_LO", "$bn", "on_rrp.base_bn.low"),
    Scalar("RRP_BASE_HI", "$bn", "on_rrp.base_bn.high"),
    Scalar("RRP_SD", "$bn/day", "on_rrp.daily_sd_bn"),
    Scalar("RRP_AR", "1", "on_rrp.ar_coefficient"),
    Scalar("RRP_START", "$bn", _rrp_start),  # −inf: the level starts at the path's base
    Scalar(
        "RRP_QE_LOG_MEDIAN",
        "log $bn",
        lambda c, _: log_or_minus_inf(c.on_rrp.quarter_end_median_bn),
    ),
    Scalar("RRP_QE_LOG_SD", "1", "on_rrp.quarter_end_log_sd"),
    Scalar(
        "RRP_YE_LOG_MEDIAN", "log $bn", lambda c, _: log_or_minus_inf(c.on_rrp.year_end_median_bn)
    ),
    Scalar("RRP_YE_LOG_SD", "1", "on_rrp.year_end_log_sd"),
    Scalar("RRP_REFILL", "$bn/bp", "on_rrp.refill_bn_per_bp"),
    Scalar("RRP_REFILL_BELOW", "bp", "on_rrp.refill_below_bp"),
    Scalar("OL_AR", "1", "other_liabilities.ar_coefficient"),
    Scalar("OL_SD", "$bn/day", "other_liabilities.daily_sd_bn"),
    Scalar("BANK_GROWTH_LO", "1/yr", "bank_assets.growth_per_year.low"),
    Scalar("BANK_GROWTH_HI", "1/yr", "bank_assets.growth_per_year.high"),
    Scalar("ALPHA", "bp", "demand_curve.alpha_bp", drawn="demand_curve.alpha_bp"),
    Scalar("BETA", "bp", "demand_curve.beta_bp", drawn="demand_curve.beta_bp"),
    Scalar("X0", "1", "demand_curve.x0", drawn="demand_curve.x0"),
    Scalar("ALPHA_START_SD", "bp", "demand_curve.alpha_start_sd_bp"),
    Scalar("ALPHA_WALK_SD", "bp/day^0.5", "demand_curve.alpha_walk_sd_bp"),
    Scalar("LAMBDA", "1", "demand_curve.lambda", drawn="demand_curve.lambda"),
    Scalar("NOISE_AR", "1", "spread.noise_ar", drawn="spread.noise_ar"),
    Scalar("NOISE_SD0", "bp", "spread.noise_sd0_bp", drawn="spread.noise_sd0_bp"),
    Scalar("NOISE_SD1", "bp", "spread.noise_sd1_bp", drawn="spread.noise_sd1_bp"),
    Scalar("NOISE_DF", "1", "spread.noise_t_df"),
    Scalar(
        "JUMP_LOG_P0",
        "log 1/day",
        lambda c, _: log_or_minus_inf(c.spread.jump_p0),
        drawn="spread.jump_p0",
        stored="log",
    ),
    Scalar("JUMP_LAMBDA", "1", "spread.jump_lambda", drawn="spread.jump_lambda"),
    Scalar("JUMP_MEAN", "bp", "spread.jump_mean_bp", drawn="spread.jump_mean_bp"),
    Scalar(
        "SRF_RATE",
        "bp",  # no SRF: no ceiling
        lambda c, _: c.srf.rate_above_iorb_bp if c.srf.enabled else math.inf,
    ),
    Scalar(
        "STIGMA_LOG_MEDIAN",
        "log bp",
        lambda c, _: math.log(c.srf.stigma_median_bp),
        drawn="srf.stigma_median_bp",
        stored="log",
    ),
    Scalar("STIGMA_LOG_SD", "1", "srf.stigma_log_sd", drawn="srf.stigma_log_sd"),
    Scalar("SRF_LEAK", "1", "srf.leak", drawn="srf.leak"),
    Scalar("SRF_TAKEUP", "$bn/bp", "srf.takeup_bn_per_bp", drawn="srf.takeup_bn_per_bp"),
    Scalar("EFFR_E0", "bp", "effr.e0_bp", drawn="effr.e0_bp"),
    Scalar("EFFR_PSI", "1", "effr.psi", drawn="effr.psi"),
    Scalar("EFFR_S0", "bp", "effr.s0_bp"),
    Scalar("EFFR_TOP", "bp", "effr.top_of_range_above_iorb_bp"),
    Scalar("EV_TIGHT", "bp", "events.tight_bp"),
    Scalar("EV_STRESS", "bp", "events.stress_bp"),
    Scalar("EV_STRESS_SRF", "$bn", "events.stress_srf_bn"),
    Scalar("EV_CRISIS", "bp", "events.crisis_bp"),
    Scalar("EV_CRISIS_SRF", "$bn", "events.crisis_srf_bn"),
    Scalar("EV_SYSTEMIC", "bp", "events.systemic_bp"),
    Scalar("EV_SYSTEMIC_DAYS", "day", "events.systemic_days"),
    Scalar("EV_SCARCE_RATIO", "1", "events.scarce_ratio"),
    Scalar("EV_SCARCE_RESERVES", "$bn", "events.scarce_reserves_bn"),
    Scalar("DC_PROBABILITY", "1", "tga.debt_ceiling.probability"),
    Scalar(
        "DC_START_DAY",
        "day index",
        lambda c, cal: _first_day_on_or_after(cal, c.tga.debt_ceiling.start),
    ),
    Scalar("DC_DECLINE_DAYS", "day", "tga.debt_ceiling.decline_days"),
    Scalar("DC_FLOOR_LO", "$bn", "tga.debt_ceiling.floor_bn.low"),
    Scalar("DC_FLOOR_HI", "$bn", "tga.debt_ceiling.floor_bn.high"),
    Scalar("DC_RESOLUTION_LO", "day", "tga.debt_ceiling.resolution_days.low"),
    Scalar("DC_RESOLUTION_HI", "day", "tga.debt_ceiling.resolution_days.high"),
    Scalar("DC_REBUILD_LO", "day", "tga.debt_ceiling.rebuild_days.low"),
    Scalar("DC_REBUILD_HI", "day", "tga.debt_ceiling.rebuild_days.high"),
    Scalar("SPREAD0", "bp", _initial_spread),
    Scalar(
        "EV_QUIET_BELOW",
        "bp",  # below every spread threshold: a quiet day
        lambda c, _: min(
            c.events.tight_bp, c.events.stress_bp, c.events.crisis_bp, c.events.systemic_bp
        ),
    ),
    Scalar(
        "EV_QUIET_SRF_BELOW",
        "$bn",
        lambda c, _: min(c.events.stress_srf_bn, c.events.crisis_srf_bn),
    ),
    Scalar("TGA_T_SCALE", "1", lambda c, _: _t_scale(c.tga.t_df)),
    Scalar("NOISE_T_SCALE", "1", lambda c, _: _t_scale(c.spread.noise_t_df)),
    Scalar("CURVE_FAMILY", "index", _curve_family),
    Scalar("RATIO0", "1", lambda c, _: c.initial.reserves_bn / c.initial.bank_assets_bn),
    Scalar("SPREAD_FLOOR", "bp", lambda c, _: _spread_floor(c)),
)
SCALAR_NAMES = tuple(s.name for s in SCALARS)
DRAWN = tuple(s for s in SCALARS if s.drawn is not None)
DRAWN_KEYS = tuple(s.drawn for s in DRAWN)  # the config keys a path may draw, in this order
