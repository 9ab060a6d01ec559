"""A SYNTHETIC older-window data folder (2009-01 → 2019-06) in the layout FRED serves.

Nothing here is real data: every value is generated from a fixed seed with magnitudes like those
of the period (IOER 0.25% then rising, reserves $0.8T → $2.8T → $1.5T, ...), so that
`load_market_data` can be tested on the pre-IORB, pre-SOFR layout: IOER instead of IORB, EFFR
before SOFR starts, weekly WDTGAL instead of the daily DTS, WCURCIR, and both FRED date headers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from engine.calendar import business_days

SEED = 20090102  # fixed seed: the synthetic files are the same on every run
START = dt.date(2009, 1, 1)
END = dt.date(2019, 6, 28)
SOFR_START = dt.date(2018, 4, 2)  # synthetic first SOFR date (the real SOFR.csv starts 2018-04-03)

# Synthetic IOER path, %: 0.25 to 2015-12-16, then steps up (dates and sizes synthetic).
IOER_STEPS = (
    (dt.date(2009, 1, 1), 0.25),
    (dt.date(2015, 12, 17), 0.50),
    (dt.date(2016, 12, 15), 0.75),
    (dt.date(2017, 6, 15), 1.25),
    (dt.date(2017, 12, 14), 1.50),
    (dt.date(2018, 6, 14), 1.95),
    (dt.date(2018, 12, 20), 2.40),
    (dt.date(2019, 5, 2), 2.35),
)


def _ioer(days: pd.DatetimeIndex) -> pd.Series:
    """The step path on `days`, %."""
    steps = pd.Series(
        [r for _, r in IOER_STEPS], index=pd.DatetimeIndex([d for d, _ in IOER_STEPS])
    )
    return steps.reindex(days, method="ffill")


def _path(days: pd.DatetimeIndex, knots: dict[str, float]) -> np.ndarray:
    """Piecewise-linear interpolation through (ISO date, level) knots, shape (len(days),)."""
    x = pd.DatetimeIndex(list(knots)).as_unit("ns").asi8
    return np.interp(pd.DatetimeIndex(days).as_unit("ns").asi8, x, list(knots.values()))


def _write(folder: Path, name: str, header: str, days, values, decimals: int) -> None:
    """A FRED-shaped CSV: `header`,`name` then one row per day; NaN written as ``.``."""
    lines = [f"{header},{name}"]
    for day, value in zip(pd.DatetimeIndex(days), values, strict=True):
        text = "." if np.isnan(value) else f"{value:.{decimals}f}"
        lines.append(f"{day:%Y-%m-%d},{text}")
    (folder / f"{name}.csv").write_text("\n".join(lines) + "\n")


def write_older_window(folder: Path) -> None:
    """Write synthetic FRED-shaped files for 2009-01 → 2019-06 into `folder`.

    Files (units as FRED serves them): ``IOER.csv`` (%, calendar days, header ``DATE``),
    ``EFFR.csv`` (%, weekdays with ``.`` on holidays), ``SOFR.csv`` (%, business days from
    2018-04-02), ``WDTGAL.csv``, ``WRESBAL.csv``, ``WALCL.csv`` ($ millions, Wednesdays),
    ``WCURCIR.csv`` ($ millions, Wednesdays), ``RRPONTSYD.csv`` ($ billions, business days),
    ``TLAACBW027SBOG.csv`` ($ billions, Wednesdays).
    """
    rng = np.random.default_rng(SEED)
    folder.mkdir(parents=True, exist_ok=True)
    calendar = pd.date_range(START, END, freq="D")
    business = pd.DatetimeIndex(business_days(START, END))
    weekdays = pd.bdate_range(START, END)
    wednesdays = pd.date_range(START, END, freq="W-WED")

    _write(folder, "IOER", "DATE", calendar, _ioer(calendar).to_numpy(), 2)

    # EFFR: 5-15bp under IOER, never below 0.04%; "." on the weekdays that are holidays.
    effr = _ioer(weekdays).to_numpy() - rng.uniform(0.05, 0.15, len(weekdays))
    effr = np.maximum(effr, 0.04)
    effr[~weekdays.isin(business)] = np.nan
    _write(folder, "EFFR", "observation_date", weekdays, effr, 2)

    # SOFR: around IOER (-8bp .. +12bp), from 2018-04-02.
    sofr_days = business[business >= pd.Timestamp(SOFR_START)]
    sofr = _ioer(sofr_days).to_numpy() + rng.uniform(-0.08, 0.12, len(sofr_days))
    _write(folder, "SOFR", "observation_date", sofr_days, sofr, 2)

    n = len(wednesdays)
    tga = _path(wednesdays, {"2009-01-01": 150e3, "2019-06-28": 350e3})
    tga = np.clip(tga + rng.normal(0, 60e3, n), 40e3, 450e3)
    _write(folder, "WDTGAL", "DATE", wednesdays, tga, 0)

    reserves = {"2009-01-01": 800e3, "2014-10-01": 2_800e3, "2019-06-28": 1_500e3}
    _write(
        folder,
        "WRESBAL",
        "observation_date",
        wednesdays,
        _path(wednesdays, reserves) + rng.normal(0, 40e3, n),
        0,
    )

    fed = {"2009-01-01": 1_950e3, "2014-10-01": 4_450e3, "2019-06-28": 3_850e3}
    _write(
        folder,
        "WALCL",
        "observation_date",
        wednesdays,
        _path(wednesdays, fed) + rng.normal(0, 10e3, n),
        0,
    )

    # ON RRP: zero to 2013-09-20, then 0-300 $bn.
    rrp = np.where(business >= pd.Timestamp("2013-09-23"), rng.uniform(0, 300, len(business)), 0)
    _write(folder, "RRPONTSYD", "DATE", business, rrp, 3)

    # WCURCIR: $ millions, as FRED serves it (~$0.88T in 2009 to ~$1.75T in 2019).
    currency = _path(wednesdays, {"2009-01-01": 880e3, "2019-06-28": 1_750e3})
    _write(folder, "WCURCIR", "observation_date", wednesdays, currency + rng.normal(0, 3e3, n), 0)

    banks = _path(wednesdays, {"2009-01-01": 11_500.0, "2019-06-28": 17_500.0})
    _write(folder, "TLAACBW027SBOG", "DATE", wednesdays, banks + rng.normal(0, 50, n), 4)
