"""The reserve ratio x = reserves / bank assets on the days the spread is observed.

Reserves are published as week averages (WRESBAL, weeks ending Wednesday), but they move every
day by the TGA and the ON RRP one for one (the balance-sheet identity, MODEL.md §2). The daily
ratio adds each day's deviation of those two drains from their week's mean to the week's
average reserves, so that the daily spread is set against that day's reserves and the spread
noise is not charged with the TGA's daily swings (which the simulation draws separately).
"""

from __future__ import annotations

import pandas as pd

WEEK = "W-WED"  # H.4.1 weeks run Thursday to Wednesday (WRESBAL averages over them) [C]


def daily_reserves(
    reserves_weekly: pd.Series, tga_daily: pd.Series, on_rrp_daily: pd.Series, days
) -> pd.Series:
    """Reserves ($bn) on each of ``days``: the week's average reserves minus the day's TGA and
    ON RRP deviations from their week's means. Days of weeks without a reserves figure are
    left out. Returns a Series indexed by day (DatetimeIndex "date")."""
    days = pd.DatetimeIndex(days)
    drains = (
        tga_daily.reindex(days.union(tga_daily.index)).ffill()
        + on_rrp_daily.reindex(days.union(on_rrp_daily.index)).ffill()
    ).reindex(days)
    week = days.to_period(WEEK)
    deviation = drains - drains.groupby(week).transform("mean")
    weekly = reserves_weekly.copy()
    weekly.index = weekly.index.to_period(WEEK)
    level = pd.Series(weekly.reindex(week).to_numpy(), index=days)
    out = (level - deviation).dropna()
    out.index.name = "date"
    return out.rename("reserves_bn")


def daily_ratio_from_drains(
    reserves_weekly: pd.Series,
    tga_daily: pd.Series,
    on_rrp_daily: pd.Series,
    bank_assets_daily: pd.Series,
    days,
) -> pd.Series:
    """x (1) on ``days``: `daily_reserves` over bank assets (bank assets given on ``days``)."""
    reserves = daily_reserves(reserves_weekly, tga_daily, on_rrp_daily, days)
    return (reserves / bank_assets_daily.reindex(reserves.index)).dropna().rename("ratio")
