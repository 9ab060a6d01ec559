"""Readers for the real-data calibration inputs in ``engine/data`` (see its README).

Readers return series in the units of the source file (see `UNITS`); `initial_state`
converts to the model's units ($ billions, basis points).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

UNITS: dict[str, str] = {
    "SOFR": "%",
    "IORB": "%",
    "DFEDTARU": "%",
    "DFEDTARL": "%",
    "RRPONTSYD": "$ billions",
    "WRESBAL": "$ millions",
    "WALCL": "$ millions",
    "TLAACBW027SBOG": "$ billions",
    "CURRCIR": "$ billions",
    "TGA": "$ millions",  # read_dts_tga
}

DATE_HEADERS = ("DATE", "observation_date", "Date")
MISSING = ("", ".")

# Daily Treasury Statement, Table I, "Type of Account" rows.
_DTS_OPENING_ROWS = (
    "Federal Reserve Account",  # to 2021-09-30, opening balance
    "Treasury General Account (TGA)",  # 2021-10-01 to 2022-04-15, opening balance
    "Treasury General Account (TGA) Opening Balance",  # from 2022-04-18
)
_DTS_CLOSING_ROW = "Treasury General Account (TGA) Closing Balance"  # from 2022-04-18
_DTS_COLUMNS = ("Record Date", "Type of Account", "Opening Balance Today")

CURRENCY_GROWTH = 0.02  # per year, 2025 growth of currency in circulation


class DataFileError(ValueError):
    """A data file is missing or cannot be read; ``str()`` names the file."""

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: {message}")


def _read_text_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV as stripped strings (BOM dropped, no NA conversion)."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "no such file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataFileError(path, f"not a readable CSV ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda col: col.str.strip())


def _to_float(path: Path, dates: pd.Series, values: pd.Series, what: str) -> pd.Series:
    """Parse ISO dates and numbers into a float Series indexed by "date"."""
    try:
        index = pd.DatetimeIndex(pd.to_datetime(dates, format="%Y-%m-%d"), name="date")
    except (ValueError, TypeError) as exc:
        raise DataFileError(path, f"bad date in {what} ({exc})") from exc
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna()
    if bad.any():
        row = bad.to_numpy().argmax()
        raise DataFileError(path, f"non-numeric {what} {values.iloc[row]!r} on {dates.iloc[row]}")
    series = pd.Series(numbers.to_numpy(dtype=float), index=index).sort_index()
    if series.index.has_duplicates:
        raise DataFileError(path, f"duplicate dates in {what}")
    return series


def read_fred(path: str | Path) -> pd.Series:
    """Read a FRED series CSV.

    Parameters
    ----------
    path : str or Path
        CSV with a date column headed ``DATE``, ``observation_date`` or ``Date``
        and one value column headed by the series id.

    Returns
    -------
    pandas.Series
        Float values in the file's units (see `UNITS`), indexed by a DatetimeIndex
        named "date" and named by the series id. Missing observations (``.`` or
        empty) are dropped.

    Raises
    ------
    DataFileError
        Missing file, no recognised date column, more than one value column, or a
        non-numeric value.
    """
    path = Path(path)
    frame = _read_text_csv(path)
    date_col = next((c for c in frame.columns if c in DATE_HEADERS), None)
    if date_col is None:
        raise DataFileError(path, f"no date column {DATE_HEADERS}, found {list(frame.columns)}")
    value_cols = [c for c in frame.columns if c != date_col]
    if len(value_cols) != 1:
        raise DataFileError(path, f"expected one value column, found {value_cols}")
    name = value_cols[0]
    frame = frame[~frame[name].isin(MISSING)]
    return _to_float(path, frame[date_col], frame[name], name).rename(name)


def read_dts_tga(path: str | Path) -> pd.Series:
    """Read the TGA closing balance from a Daily Treasury Statement Table I file.

    Parameters
    ----------
    path : str or Path
        Fiscal Data "Operating Cash Balance" CSV (a leading UTF-8 BOM is accepted).

    Returns
    -------
    pandas.Series
        Closing balance of the Treasury General Account, $ millions (float), one value
        per business day in the file, indexed by a DatetimeIndex named "date"; name "TGA".

    Notes
    -----
    The "Opening Balance Today" column means different things over time:

    - to 2022-04-15 (rows ``Federal Reserve Account`` to 2021-09-30, then
      ``Treasury General Account (TGA)``) it is the day's *opening* balance, so the
      close of day d is the opening balance of the next business day in the file;
    - from 2022-04-18 the row ``Treasury General Account (TGA) Closing Balance``
      holds the day's *closing* balance, next to a ``... Opening Balance`` row.

    The last opening-only day, 2022-04-15, takes its close from the 2022-04-18
    ``Treasury General Account (TGA) Opening Balance`` row (578,473), which the file
    also carries; from then on every opening row equals the previous closing row, so
    the series is seamless. An opening-only day with no later day in the file has no
    known close and is left out.
    """
    path = Path(path)
    frame = _read_text_csv(path)
    missing = [c for c in _DTS_COLUMNS if c not in frame.columns]
    if missing:
        raise DataFileError(path, f"missing columns {missing}")
    date, kind, value = (frame[c] for c in _DTS_COLUMNS)

    opening_rows = kind.isin(_DTS_OPENING_ROWS)
    closing_rows = kind == _DTS_CLOSING_ROW
    opening = _to_float(path, date[opening_rows], value[opening_rows], "TGA opening balance")
    closing = _to_float(path, date[closing_rows], value[closing_rows], "TGA closing balance")
    if opening.empty and closing.empty:
        raise DataFileError(path, "no TGA balance rows")

    next_opening = opening.shift(-1)
    opening_only = opening.index.difference(closing.index)
    close = pd.concat([next_opening.loc[opening_only].dropna(), closing]).sort_index()
    return close.rename("TGA")


def _last_on_or_before(series: pd.Series, as_of: pd.Timestamp) -> tuple[pd.Timestamp, float]:
    """Last (date, value) of `series` on or before `as_of`."""
    upto = series.loc[:as_of]
    if upto.empty:
        raise ValueError(f"{series.name}: no observation on or before {as_of.date()}")
    return upto.index[-1], float(upto.iloc[-1])


def initial_state(as_of: str = "2025-12-31", data_dir: str | Path = DATA_DIR) -> dict[str, float]:
    """Balance-sheet state and SOFR-IORB spread at a date, from the real data.

    Each value is the last observation on or before `as_of` (for the daily series,
    the value on `as_of` when it is a business day).

    Parameters
    ----------
    as_of : str
        ISO date.
    data_dir : str or Path
        Folder holding the data files (default: ``engine/data``).

    Returns
    -------
    dict[str, float]
        ``reserves_bn`` (WRESBAL, week average), ``fed_assets_bn`` (WALCL),
        ``tga_bn`` (DTS closing balance), ``on_rrp_bn`` (RRPONTSYD) and
        ``currency_bn``, all $ billions; ``spread_bp`` = (SOFR - IORB) * 100, bp.

    Notes
    -----
    The monthly CURRCIR series ends 2023-11, so ``currency_bn`` is its last
    observation on or before `as_of`, grown at 2% per year (the 2025 growth rate of
    currency) compounded over the calendar months elapsed since that observation:
    ``CURRCIR * 1.02 ** (months / 12)``; 2023-11 to 2025-12 is 25 months.
    """
    data_dir = Path(data_dir)
    ts = pd.Timestamp(as_of)

    def last(name: str) -> float:
        return _last_on_or_before(read_fred(data_dir / f"{name}.csv"), ts)[1]

    tga = _last_on_or_before(read_dts_tga(data_dir / "DTS_operating_cash_balance.csv"), ts)[1]
    cur_date, currency = _last_on_or_before(read_fred(data_dir / "CURRCIR.csv"), ts)
    months = (ts.year - cur_date.year) * 12 + (ts.month - cur_date.month)
    return {
        "reserves_bn": last("WRESBAL") / 1000.0,
        "fed_assets_bn": last("WALCL") / 1000.0,
        "tga_bn": tga / 1000.0,
        "on_rrp_bn": last("RRPONTSYD"),
        "currency_bn": currency * (1.0 + CURRENCY_GROWTH) ** (months / 12.0),
        "spread_bp": (last("SOFR") - last("IORB")) * 100.0,
    }
