"""Readers for the real-data calibration inputs in ``engine/data`` (see its README).

Readers return series in the units of the source file (see `UNITS`); `initial_state` and
`engine.calibrate.market.load_market_data` convert to the model's units ($ billions, basis
points). Every value is checked against a plausible range for its series (`PLAUSIBLE`), so a file
in the wrong units fails with the file and the line instead of scaling the model by 1,000.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import InputError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

PERCENT = "%"
MILLIONS = "$ millions"
BILLIONS = "$ billions"

UNITS: dict[str, str] = {
    "SOFR": PERCENT,
    "EFFR": PERCENT,
    "IORB": PERCENT,
    "IOER": PERCENT,
    "DFEDTARU": PERCENT,
    "DFEDTARL": PERCENT,
    "RRPONTSYD": BILLIONS,
    "RPONTSYD": BILLIONS,  # FRED's daily repo operations, Treasury collateral (SRF from 2021-07-28)
    "RPONTTLD": BILLIONS,  # FRED's daily repo operations, all collateral (SRF from 2021-07-28)
    "SRF": BILLIONS,  # engine/data/srf_takeup.csv
    "WRESBAL": MILLIONS,
    "WALCL": MILLIONS,
    "WDTGAL": MILLIONS,  # TGA, Wednesday level (H.4.1)
    "WTREGEN": MILLIONS,  # TGA, week average (H.4.1)
    "TLAACBW027SBOG": BILLIONS,
    "DPSACBW027SBOG": BILLIONS,  # deposits, all commercial banks (H.8)
    "CURRCIR": BILLIONS,
    "WCURCIR": MILLIONS,  # FRED serves the weekly Wednesday level in $ millions
    "TGA": MILLIONS,  # read_dts_tga
}

# Plausible range of each series in its file's units (`UNITS`), wide enough for 2009-2030 and
# narrow enough that the same data in the other unit ($ millions vs $ billions, % vs bp) falls
# outside. Levels quoted are from the FRED / H.4.1 / DTS histories (shipped files in engine/data).
_RATE_PCT = (-5.0, 30.0)  # fed funds peaked near 20% in 1981; a rate in bp (e.g. 390) is out
_TGA_MN = (3_000.0, 5_000_000.0)  # $3bn (the pre-2008 target balance was ~$5bn) .. $5T; the TGA
# has never reached $3T, so a file in $ billions (<= ~1,800 at the 2020 peak) is out
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "SOFR": _RATE_PCT,
    "EFFR": _RATE_PCT,
    "IORB": _RATE_PCT,
    "IOER": _RATE_PCT,
    "DFEDTARU": _RATE_PCT,
    "DFEDTARL": _RATE_PCT,
    # ON RRP $bn: 0 .. 2,554 (2022-12-30 peak); $5T cap; one day in $ millions exceeds it.
    "RRPONTSYD": (0.0, 5_000.0),
    # Repo operations / SRF $bn: 2019-20 operations and the 2025-12-31 record (74.6) are far below.
    "RPONTSYD": (0.0, 5_000.0),
    "RPONTTLD": (0.0, 5_000.0),
    "SRF": (0.0, 5_000.0),
    # Reserves $mn: ~$0.6T-0.9T in early 2009 .. $4.28T (2021-12); $20bn .. $20T. A file in
    # $ billions (<= ~4,300) is out.
    "WRESBAL": (20_000.0, 20_000_000.0),
    # Fed total assets $mn: ~$1.9T (2009) .. $8.97T (2022-04); $0.5T .. $20T. $ billions is out.
    "WALCL": (500_000.0, 20_000_000.0),
    "WDTGAL": _TGA_MN,
    "WTREGEN": _TGA_MN,
    "TGA": _TGA_MN,
    # Bank assets $bn: ~$0.7T (1973, FRED start) .. ~$25T (2025); $100bn .. $100T.
    "TLAACBW027SBOG": (100.0, 100_000.0),
    # Deposits $bn: ~$7T (2009) .. ~$18T (2025); $100bn .. $100T.
    "DPSACBW027SBOG": (100.0, 100_000.0),
    # Currency $bn: $3.7bn (1917-08, CURRCIR start) .. $2.34T (2023); $1bn .. $10T.
    "CURRCIR": (1.0, 10_000.0),
    # Weekly currency $mn: $889,417mn (2009-01-07) .. $2,442,232mn (2025-12-31); $10bn .. $10T in
    # $ millions. A file in $ billions (<= ~2,450) is out.
    "WCURCIR": (10_000.0, 10_000_000.0),
}

DATE_HEADERS = ("DATE", "observation_date", "Date")
DATE_FORMAT = "%Y-%m-%d"
MISSING = ("", ".")
UTF8_BOM = b"\xef\xbb\xbf"

# Daily Treasury Statement, Table I, "Type of Account" rows.
_DTS_OPENING_ROWS = (
    "Federal Reserve Account",  # to 2021-09-30, opening balance
    "Treasury General Account (TGA)",  # 2021-10-01 to 2022-04-15, opening balance
    "Treasury General Account (TGA) Opening Balance",  # from 2022-04-18
)
_DTS_CLOSING_ROW = "Treasury General Account (TGA) Closing Balance"  # from 2022-04-18
_DTS_COLUMNS = ("Record Date", "Type of Account", "Opening Balance Today")

CURRENCY_GROWTH = 0.02  # per year, 2025 growth of currency in circulation


class DataFileError(InputError):
    """A data file (or data folder) is missing or cannot be read.

    ``str()`` is one line, ``path: message`` or ``path:line: message``.

    Parameters
    ----------
    path : str or Path
        The file or folder.
    message : str
        What is wrong.
    line : int, optional
        1-based line number in the file (the header is line 1).
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = " ".join(str(message).split())
        where = f"{self.path}:{line}" if line is not None else f"{self.path}"
        super().__init__(f"{where}: {self.reason}")


def _read_text_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV as stripped strings (UTF-8, BOM dropped, no NA conversion).

    Returns
    -------
    pandas.DataFrame
        One row per non-blank record, columns named by the header, indexed by the
        record's 1-based line number in the file (``"line"``; the header is line 1).
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "no such file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataFileError(path, f"cannot read ({exc.strerror})") from None
    body = raw.removeprefix(UTF8_BOM)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFileError(path, "not UTF-8 text", body.count(b"\n", 0, exc.start) + 1) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not any(f.strip() for f in fields):
                continue
            fields = [f.strip() for f in fields]
            if header is None:
                header = fields
            elif len(fields) != len(header):
                raise DataFileError(
                    path, f"{len(fields)} fields where the header has {len(header)}", line
                )
            else:
                rows.append(fields)
                lines.append(line)
    except csv.Error as exc:
        raise DataFileError(path, f"not a readable CSV ({exc})", start) from None
    if header is None:
        raise DataFileError(path, "empty file")
    return pd.DataFrame(rows, columns=header, index=pd.Index(lines, name="line"), dtype=object)


def _first(mask: pd.Series) -> int:
    """Line number (index label) of the first True in `mask`, by line."""
    return int(mask[mask].index.min())


def _to_float(
    path: Path, dates: pd.Series, values: pd.Series, what: str, series: str | None = None
) -> pd.Series:
    """Parse ISO dates and numbers (indexed by line number) into a checked float Series.

    Parameters
    ----------
    path : Path
        The file, for messages.
    dates, values : pandas.Series
        Strings, indexed by line number, shape (n,).
    what : str
        The values' name, for messages.
    series : str, optional
        Key of `PLAUSIBLE` / `UNITS` to check the values' units against.

    Returns
    -------
    pandas.Series
        Float values sorted by date, one per date (exact duplicate rows dropped), missing
        observations (``.`` or empty) dropped; DatetimeIndex named "date".

    Raises
    ------
    DataFileError
        Naming the line: a bad date, a non-numeric value, a value outside the series'
        plausible range, or one date given twice with different values.
    """
    parsed = pd.to_datetime(dates, format=DATE_FORMAT, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        line = _first(bad)
        raise DataFileError(path, f"bad date {dates[line]!r} in {what} (expected YYYY-MM-DD)", line)
    present = ~values.isin(MISSING)
    values, parsed = values[present], parsed[present]
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    bad = ~np.isfinite(numbers)
    if bad.any():
        line = _first(bad)
        raise DataFileError(path, f"non-numeric {what} {values[line]!r} on {dates[line]}", line)
    if series in PLAUSIBLE:
        low, high = PLAUSIBLE[series]
        bad = (numbers < low) | (numbers > high)
        if bad.any():
            line = _first(bad)
            units = UNITS[series]
            raise DataFileError(
                path,
                f"{what} {values[line]} on {dates[line]} is outside {low:,.10g} to {high:,.10g} "
                f"{units}: units contradict the series (expected {series} in {units})",
                line,
            )
    frame = pd.DataFrame({"date": parsed, "value": numbers}).sort_values("date", kind="stable")
    frame = frame.reset_index()  # columns line, date, value; same dates in line order
    if frame["date"].duplicated().any():
        by_date = frame.groupby("date")
        first_value = by_date["value"].transform("first")
        differs = frame["value"] != first_value
        if differs.any():
            row = frame[differs]["line"].idxmin()
            line, other = int(frame.at[row, "line"]), int(by_date["line"].transform("first")[row])
            raise DataFileError(
                path,
                f"date {dates[line]} given twice with different {what} values "
                f"({values[line]} here, {first_value[row]:g} on line {other})",
                line,
            )
        frame = frame.drop_duplicates("date")
    index = pd.DatetimeIndex(frame["date"], name="date")
    return pd.Series(frame["value"].to_numpy(dtype=float), index=index)


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
        Missing file, no recognised date column, more than one value column; and,
        naming the line, a bad date, a non-numeric value, a value outside the series'
        plausible range in its `UNITS` (series id from the header, else the file name),
        or a date given twice with different values. Unsorted dates are sorted and
        exact duplicate rows dropped.
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
    if not name:
        raise DataFileError(path, "the value column has no header (series id)", 1)
    series = name if name in PLAUSIBLE else path.stem if path.stem in PLAUSIBLE else None
    return _to_float(path, frame[date_col], frame[name], name, series).rename(name)


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

    Raises
    ------
    DataFileError
        Missing file or columns, no TGA rows; and, naming the line, a bad date, a
        non-numeric balance, a balance outside ``PLAUSIBLE["TGA"]`` ($ millions) or a
        date with two different balances of one kind.

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
    opening = _to_float(path, date[opening_rows], value[opening_rows], "TGA opening balance", "TGA")
    closing = _to_float(path, date[closing_rows], value[closing_rows], "TGA closing balance", "TGA")
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
