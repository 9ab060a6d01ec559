"""The simulation's starting point from data: initial balances, start day, TGA anchors.

Used by ``rmp-risk calibrate`` (state as of ``--until``) and ``rmp-risk backtest`` (state as of
the day before the start), so both read the data the same way.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..calendar import business_days
from ..config import Config
from .fitted import Fitted, Kept, StepResult
from .market import MarketData

RECENT_DAYS = 31  # days: a series whose last observation is older than this is "stopped early"
ANCHOR_QUARTERS = 4  # realized quarter-end TGA levels averaged for the future anchors
QUARTER_END_MONTHS = (3, 6, 9, 12)
QUARTER_END_SLACK = 7  # days: a quarter's last observation this close to its end is its close


def _last(series: pd.Series) -> tuple[pd.Timestamp, float]:
    return series.index[-1], float(series.iloc[-1])


def _ns(index) -> np.ndarray:
    """Nanoseconds since the epoch of a DatetimeIndex of any unit, float64."""
    return pd.DatetimeIndex(index).as_unit("ns").asi8.astype(float)


def bridged(
    series: pd.Series,
    dates: pd.DatetimeIndex,
    dated_value: tuple[dt.date, float] | None,
    growth_per_year: float,
    until: pd.Timestamp,
) -> tuple[pd.Series, str]:
    """``series`` on ``dates`` (linear in time inside its span), carried past its last
    observation by a stated rule; returns the values and the rule in words.

    Past the last observation: linear interpolation in time to ``dated_value`` (a config's dated
    level) when its date is after the last observation and not after ``until`` (a later value
    would be look-ahead), flat after it; otherwise growth at ``growth_per_year``.
    """
    inside = np.interp(_ns(dates), _ns(series.index), series.to_numpy())
    last_date, last_value = _last(series)
    after = dates > last_date
    years = (dates - last_date).days.to_numpy() / 365.25
    usable = dated_value is not None and last_date < pd.Timestamp(dated_value[0]) <= until
    if usable:
        target_date, target = pd.Timestamp(dated_value[0]), dated_value[1]
        share = np.clip((dates - last_date) / (target_date - last_date), 0.0, 1.0)
        carried = last_value + share * (target - last_value)
        rule = (
            f"{series.name} ends {last_date.date()}: interpolated linearly to the base "
            f"config's {target:,.0f} on {target_date.date()}, flat after"
        )
    else:
        carried = last_value * np.exp(growth_per_year * years)
        rule = (
            f"{series.name} ends {last_date.date()}: grown at {growth_per_year:.2%}/yr "
            "(its fitted trend) from the last observation"
        )
    values = np.where(after, carried, inside)
    if not after.any():
        rule = f"{series.name}: observed"
    return pd.Series(values, index=dates, name=series.name), rule


def mid(value) -> float:
    """The mid-point of a fitted (low, high) range, or the number itself."""
    return 0.5 * (value[0] + value[1]) if isinstance(value, tuple) else float(value)


def initial_state(
    market: MarketData, currency_growth: float, bank_assets_bn: pd.Series | None
) -> StepResult:
    """The ``[initial]`` values at ``market.until``: each the last observation on or before it;
    currency, when its series stops early, carried by `bridged` at ``currency_growth`` (1/yr);
    ``bank_assets_bn``: the bridged bank-assets series (its ``attrs["rule"]``), or None.
    """
    until = market.until
    out = StepResult()
    period_end = until.date()

    def level(key: str, series: pd.Series | None, label: str, why: str) -> None:
        if series is None or series.empty:
            out.kept.append(Kept(key, why))
            return
        date, value = _last(series)
        rule = f"last observation {date.date()}"
        if (until - date).days > RECENT_DAYS:
            if key == "initial.currency_bn":
                carried, rule = bridged(
                    series, pd.DatetimeIndex([until]), None, currency_growth, until
                )
                value = float(carried.iloc[0])
            else:
                rule += f" ({(until - date).days} days before the as-of date)"
        out.fitted.append(
            Fitted(key, round(value, 3), None, rule, (date.date(), period_end), label, 1)
        )

    level("initial.reserves_bn", market.reserves_bn, "WRESBAL", "no reserves series (WRESBAL)")
    level("initial.soma_bn", market.fed_assets_bn, "WALCL", "no Fed total assets (WALCL)")
    level("initial.tga_bn", market.tga_bn, "TGA", "no TGA series (DTS, WDTGAL or WTREGEN)")
    level("initial.on_rrp_bn", market.on_rrp_bn, "RRPONTSYD", "no ON RRP series (RRPONTSYD)")
    level("initial.currency_bn", market.currency_bn, "currency", "no currency series")
    if bank_assets_bn is not None:
        value = float(bank_assets_bn.iloc[-1])
        rule = bank_assets_bn.attrs.get("rule", "bridged")
        start = market.bank_assets_bn.index[0].date()
        out.fitted.append(
            Fitted(
                "initial.bank_assets_bn",
                round(value, 1),
                None,
                rule,
                (start, period_end),
                "TLAACBW027SBOG",
                1,
            )
        )
    else:
        out.kept.append(Kept("initial.bank_assets_bn", "no bank-assets series (TLAACBW027SBOG)"))
    return out


def first_business_day_after(day: pd.Timestamp) -> dt.date:
    """The first business day after ``day``."""
    start = day.date() + dt.timedelta(days=1)
    return business_days(start, start + dt.timedelta(days=10))[0].astype(dt.date)


def quarter_ends_after(day: dt.date, horizon_months: int) -> list[dt.date]:
    """Calendar quarter-ends after ``day`` up to the end of the horizon that follows it."""
    out = []
    month = day.year * 12 + day.month - 1
    for m in range(month, month + horizon_months + 1):
        year, mon = divmod(m, 12)
        mon += 1
        if mon in QUARTER_END_MONTHS:
            last = dt.date(year + (mon == 12), mon % 12 + 1, 1) - dt.timedelta(days=1)
            if last > day:
                out.append(last)
    return out


def tga_anchors(
    market: MarketData, base: Config, as_of: dt.date
) -> tuple[list[dt.date], list[float], str] | None:
    """Quarter-end TGA anchors for a run starting after ``as_of``: None when the base config's
    anchors (announced Treasury targets) all follow ``as_of``; otherwise every quarter-end of the
    horizon at the mean of the last ``ANCHOR_QUARTERS`` realized quarter-end levels."""
    if base.tga.anchor_dates and base.tga.anchor_dates[0] > as_of:
        return None
    if market.tga_bn is None:
        raise ValueError("no TGA series to set the TGA anchors from")
    tga = market.tga_bn
    last_of_quarter = tga.groupby(tga.index.to_period("Q")).tail(1)
    quarter_end = last_of_quarter.index.to_period("Q").end_time.normalize()
    quarter_ends = last_of_quarter[(quarter_end - last_of_quarter.index).days <= QUARTER_END_SLACK]
    level = float(quarter_ends.iloc[-ANCHOR_QUARTERS:].mean())
    dates = quarter_ends_after(as_of, base.simulation.horizon_months)
    rule = (
        f"mean of the last {min(ANCHOR_QUARTERS, len(quarter_ends))} realized quarter-end "
        f"TGA levels to {quarter_ends.index[-1].date()}: {level:,.1f} $bn"
    )
    return dates, [round(level, 1)] * len(dates), rule


def bank_assets_on_reserve_dates(
    market: MarketData, config: Config, growth: float
) -> tuple[pd.Series | None, str | None]:
    """Bank assets ($bn) on the reserves' dates and at ``market.until``, bridged past the
    series' end (`bridged`, to ``config``'s dated ``initial.bank_assets_bn``); the values (their
    ``attrs["rule"]`` holds the rule) and the rule, or (None, None) without the series."""
    series = market.bank_assets_bn
    if series is None:
        return None, None
    dates = pd.DatetimeIndex([market.until])
    if market.reserves_bn is not None:
        dates = market.reserves_bn.index.union(dates)
    dated = (config.initial.as_of, config.initial.bank_assets_bn)
    values, rule = bridged(series, dates, dated, growth, market.until)
    values.attrs["rule"] = rule
    return values, rule


def set_start(values: dict, market: MarketData, config: Config) -> list[str]:
    """Date a config's values (``Config.to_dict`` layout) to start after ``market.until``: the
    as-of date, the first simulated day, the TGA anchors (`tga_anchors`) and a debt-limit
    episode not before the start. Returns the rules applied, in words."""
    rules = []
    as_of = market.until.date()
    values["initial"]["as_of"] = as_of.isoformat()
    values["simulation"]["start"] = first_business_day_after(market.until).isoformat()
    anchors = tga_anchors(market, config, as_of)
    if anchors is not None:
        dates, levels, rule = anchors
        values["tga"]["anchor_dates"] = [d.isoformat() for d in dates]
        values["tga"]["anchor_bn"] = levels
        rules.append(f"tga anchors: {rule}")
    dc = values["tga"]["debt_ceiling"]
    dc["start"] = max(dt.date.fromisoformat(dc["start"]), as_of + dt.timedelta(days=1)).isoformat()
    return rules
