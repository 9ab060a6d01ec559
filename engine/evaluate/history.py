"""What happened: the realized monthly values, event tiers and Fed balance-sheet changes that
score the forecasts and feed the baselines, from the whole data folder.

A month's values come from the observations dated in that month only, so the months before an
origin are known at the origin; a month is realized once the data reach its last day.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..backtest import realized_monthly, realized_tiers
from ..calibrate.market import MarketData, load_market_data
from ..config import Config
from ..errors import InputError

VARIABLES = {  # scored monthly value → (label, unit); the cube variable of the same name
    "spread_max": ("month-max spread", "bp"),
    "reserves_eom": ("month-end reserves", "$bn"),
    "tga_eom": ("month-end TGA", "$bn"),
}
LAST_DATE = pd.Timestamp("2200-12-31")  # read every observation of the folder


@dataclass(frozen=True)
class History:
    """Realized monthly outcomes, indexed by month start (M,) from the data's first month.

    Attributes
    ----------
    values : pandas.DataFrame
        float (M, 3), columns ``VARIABLES``: month-max SOFR − IORB (EFFR − IOER before SOFR
        starts; SOFR − IOER to 2021-07-28), bp; last weekly reserves (WRESBAL, week average),
        $bn; last TGA close, $bn. NaN where the month is not realized.
    spread_source : pandas.Series
        str (M,): the rate of the month's spread ("SOFR", "EFFR", "SOFR+EFFR").
    tiers : pandas.DataFrame
        Int64 0/1/NA (M, E): event tiers of the month (``scoring.realized_events``).
    fed_change_bn : pandas.Series
        float (M,): change of the Fed's total assets (WALCL) from the last Wednesday of the month
        before to the last of this month, $bn; NaN where unknown.
    end : pandas.Timestamp
        The data's last spread observation.
    """

    values: pd.DataFrame
    spread_source: pd.Series
    tiers: pd.DataFrame
    fed_change_bn: pd.Series
    end: pd.Timestamp

    def before(self, origin: pd.Timestamp) -> History:
        """The months before ``origin`` only (what an origin may know)."""
        keep = self.values.index < origin
        return History(
            self.values[keep],
            self.spread_source[keep],
            self.tiers[keep],
            self.fed_change_bn[keep],
            min(self.end, origin - pd.Timedelta(days=1)),
        )


def _month_starts(data: MarketData) -> pd.DatetimeIndex:
    first = data.spread_bp.index[0].to_period("M").to_timestamp()
    return pd.date_range(first, data.until.to_period("M").to_timestamp(), freq="MS")


def _monthly_change(level_bn: pd.Series | None, months: pd.DatetimeIndex) -> pd.Series:
    if level_bn is None:
        return pd.Series(np.nan, index=months)
    last = level_bn.groupby(level_bn.index.to_period("M")).last()
    last.index = last.index.to_timestamp()
    return last.reindex(months).diff()


def _tga(data_dir, data: MarketData) -> pd.Series | None:
    """The daily TGA (DTS) where it is, the weekly one (WDTGAL) before it starts."""
    if not data.tga_daily or data.tga_bn is None:
        return data.tga_bn
    first = data.tga_bn.index[0]
    weekly = load_market_data(data_dir, first - pd.Timedelta(days=1)).tga_bn
    return data.tga_bn if weekly is None else pd.concat([weekly, data.tga_bn])


def load_history(data_dir, config: Config) -> History:
    """Every realized month of ``data_dir``, tiers tested with ``config``'s thresholds."""
    data = load_market_data(data_dir, LAST_DATE)
    if data.spread_bp is None:
        raise InputError(f"{data_dir}: no spread to score against: {data.missing['spread_bp']}")
    end = data.spread_bp.index[-1]
    data = dataclasses.replace(data, until=end, tga_bn=_tga(data_dir, data))
    months = _month_starts(data)
    realized = realized_monthly(data, months)
    values = pd.DataFrame({name: realized[name] for name in VARIABLES}, index=months)
    complete = months + pd.offsets.MonthEnd(0) <= end
    source = data.spread_source.groupby(data.spread_source.index.to_period("M")).agg(
        lambda s: "+".join(dict.fromkeys(s))
    )
    source.index = source.index.to_timestamp()
    tiers = realized_tiers(data, config, months[0], months)
    tiers.loc[~complete] = pd.NA
    fed = _monthly_change(data.fed_assets_bn, months).where(complete)
    return History(values, source.reindex(months), tiers, fed, end)


def realized_purchases(history: History, months: pd.DatetimeIndex) -> dict[str, float]:
    """The regime table of the Fed's realized balance-sheet change over ``months`` (H,): the
    first month's change as ``pace_bn``, then the mean of the later months' as
    ``then_pace_bn`` from the second month (the kernel holds two paces a regime); $bn/month.

    Raises InputError when WALCL gives no change for the first month."""
    change = history.fed_change_bn.reindex(months)
    if np.isnan(change.iloc[0]):
        raise InputError(f"WALCL: no monthly change for {months[0]:%Y-%m} (realized purchases)")
    regime = {"pace_bn": round(float(change.iloc[0]), 2)}
    later = change.iloc[1:].dropna()
    if len(later):
        regime.update(then_pace_bn=round(float(later.mean()), 2), switch_after_months=1)
    return regime
