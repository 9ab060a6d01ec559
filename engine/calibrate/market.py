"""The market data calibration uses, from a folder of FRED / Treasury CSV files, cut at a date.

`load_market_data` reads whatever subset of the known files (`KNOWN_FILES`) a folder holds,
keeps the observations dated on or before ``until`` and converts them to the model's units:
$ billions for balances, basis points for spreads, percent for the policy rate. A series the
folder cannot give is ``None`` in `MarketData`, with the reason in ``MarketData.missing``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from engine.errors import InputError

from .readers import DATA_DIR, DATE_FORMAT, DataFileError, read_dts_tga, read_fred

# IORB replaced IOER on 2021-07-29 (FRED: IOER ends 2021-07-28, IORB starts 2021-07-29).
IORB_START = pd.Timestamp("2021-07-29")
# The FOMC established the Standing Repo Facility on 2021-07-28; FRED's RPONTTLD / RPONTSYD before
# that date hold other temporary repo operations (2019-2020), not SRF take-up.
SRF_START = pd.Timestamp("2021-07-28")

BP_PER_PCT = 100.0  # basis points per percentage point
MN_PER_BN = 1_000.0  # $ millions per $ billion
# Rates are published to 2-3 decimals of a percent (at most 0.1bp); rounding a spread to 1e-6bp
# removes only the float noise of the subtraction (4.22 - 3.90 -> exactly 32bp).
BP_DECIMALS = 6

DTS_FILE = "DTS_operating_cash_balance.csv"
DTS_TREASURY_GLOB = "DTS_OpCashBal_*.csv"  # the name Fiscal Data gives a DTS Table I download
SRF_FILE = "srf_takeup.csv"
# FRED's daily repo operations, the first found wins: RPONTTLD (all collateral), RPONTSYD (Treasury)
SRF_SERIES = ("RPONTTLD", "RPONTSYD")
PACKAGED_SRF = DATA_DIR / SRF_FILE

# Files load_market_data reads (FRED ids + ".csv", the DTS file, the SRF points).
KNOWN_FILES: tuple[str, ...] = (
    "SOFR.csv",
    "EFFR.csv",
    "IORB.csv",
    "IOER.csv",
    "DFEDTARU.csv",
    "WRESBAL.csv",
    DTS_FILE,
    DTS_TREASURY_GLOB,
    "WDTGAL.csv",
    "WTREGEN.csv",
    "RRPONTSYD.csv",
    "WCURCIR.csv",
    "CURRCIR.csv",
    "TLAACBW027SBOG.csv",
    "WALCL.csv",
    "RPONTTLD.csv",
    "RPONTSYD.csv",
    "DPSACBW027SBOG.csv",
    SRF_FILE,
)


@dataclass(frozen=True)
class MarketData:
    """Every series calibration uses, in model units, observations on or before `until` only.

    Each Series is float64 (``spread_source``: str), indexed by a sorted, unique
    DatetimeIndex named "date" with every date on or before ``until``, has no NaN and is
    named after its field; ``None`` when the data folder cannot give it (see ``missing``).

    Attributes
    ----------
    until : pandas.Timestamp
        Last date used.
    spread_bp : pandas.Series or None
        Daily SOFR - policy rate, bp; before SOFR's first observation (2018-04-03 in FRED)
        EFFR - policy rate. Only days with both rates.
    spread_source : pandas.Series or None
        Same index as ``spread_bp``: "SOFR" or "EFFR" per day.
    effr_spread_bp : pandas.Series or None
        Daily EFFR - policy rate, bp.
    policy_rate_pct : pandas.Series or None
        Daily interest on reserves, %: IOER up to 2021-07-28, IORB from 2021-07-29.
    top_of_range_bp : pandas.Series or None
        Daily DFEDTARU - policy rate, bp.
    reserves_bn : pandas.Series or None
        Weekly WRESBAL (week average, weeks ending Wednesday), $bn.
    tga_bn : pandas.Series or None
        Treasury General Account, $bn: the daily DTS closing balance if a DTS file is
        there, else weekly WDTGAL (Wednesday level), else weekly WTREGEN (week average).
    tga_daily : bool
        True when ``tga_bn`` is the daily DTS series.
    on_rrp_bn : pandas.Series or None
        Daily ON RRP take-up (RRPONTSYD), $bn.
    currency_bn : pandas.Series or None
        Currency in circulation, $bn: weekly WCURCIR ($ millions in the file) if there, else
        monthly CURRCIR.
    bank_assets_bn : pandas.Series or None
        Weekly total assets of all commercial banks (TLAACBW027SBOG), $bn.
    fed_assets_bn : pandas.Series or None
        Weekly Fed total assets (WALCL, Wednesday level), $bn.
    srf_bn : pandas.Series or None
        Standing Repo Facility take-up, $bn, from 2021-07-28: FRED's daily RPONTTLD (or
        RPONTSYD) if in the folder, else the folder's ``srf_takeup.csv`` points, else the packaged
        ``engine/data/srf_takeup.csv`` points (published 2025 take-up).
    sources : dict[str, str]
        Field name -> provenance line (files, date span, number of observations).
    missing : dict[str, str]
        Field name -> why that field is None.
    """

    until: pd.Timestamp
    spread_bp: pd.Series | None
    spread_source: pd.Series | None
    effr_spread_bp: pd.Series | None
    policy_rate_pct: pd.Series | None
    top_of_range_bp: pd.Series | None
    reserves_bn: pd.Series | None
    tga_bn: pd.Series | None
    tga_daily: bool
    on_rrp_bn: pd.Series | None
    currency_bn: pd.Series | None
    bank_assets_bn: pd.Series | None
    fed_assets_bn: pd.Series | None
    srf_bn: pd.Series | None
    sources: dict[str, str]
    missing: dict[str, str]


SERIES_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(MarketData) if f.name not in ("until", "tga_daily", "sources", "missing")
)


def _day(ts: pd.Timestamp) -> str:
    return f"{ts:%Y-%m-%d}"


def _span(series: pd.Series) -> str:
    """``first → last, n obs`` of a non-empty series."""
    return f"{_day(series.index[0])} → {_day(series.index[-1])}, {len(series):,} obs"


def _as_until(until: str | dt.date | pd.Timestamp) -> pd.Timestamp:
    """`until` (``YYYY-MM-DD`` if a string) as a tz-naive midnight Timestamp; else InputError."""
    try:
        if isinstance(until, str):
            ts = pd.to_datetime(until.strip(), format=DATE_FORMAT)
        else:
            ts = pd.Timestamp(until)
    except (ValueError, TypeError):
        raise InputError(f"until: not a date (YYYY-MM-DD): {until!r}") from None
    if pd.isna(ts):
        raise InputError(f"until: not a date (YYYY-MM-DD): {until!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


class _Folder:
    """Reads the known files of one data folder (each once), cut to [`since`, `until`]."""

    def __init__(self, folder: Path, until: pd.Timestamp, since: pd.Timestamp | None = None):
        self.folder = folder
        self.until = until
        self.since = since
        self._read: dict[Path, pd.Series] = {}

    def read(self, path: Path) -> pd.Series:
        """`read_fred(path)`, read once."""
        if path not in self._read:
            self._read[path] = read_fred(path)
        return self._read[path]

    def check_all(self) -> None:
        """Read every known file present, so that a bad one fails even when not used."""
        for name in KNOWN_FILES:
            path = self.folder / name
            if name.endswith(".csv") and name != DTS_FILE and path.is_file():
                self.read(path)

    def cut(self, series: pd.Series, label: str) -> tuple[pd.Series | None, str]:
        cut = series.loc[self.since : self.until]
        if not cut.empty:
            return cut, label
        if series.empty:
            return None, f"{label} holds no observations"
        if self.since is not None and series.index[-1] >= self.since:
            return None, (
                f"{label} has no observation from {_day(self.since)} to {_day(self.until)}"
            )
        return None, (
            f"{label} has no observation on or before {_day(self.until)} "
            f"(it starts {_day(series.index[0])})"
        )

    def fred(self, name: str) -> tuple[pd.Series | None, str]:
        """(series cut at until, file name) or (None, reason)."""
        path = self.folder / f"{name}.csv"
        if not path.is_file():
            return None, f"no {path.name} in {self.folder}"
        return self.cut(self.read(path), path.name)

    def dts(self) -> tuple[pd.Series | None, str]:
        """(daily TGA close, $ millions, cut at until, file names) or (None, reason)."""
        paths = [self.folder / DTS_FILE]
        if not paths[0].is_file():
            paths = sorted(self.folder.glob(DTS_TREASURY_GLOB))
        if not paths:
            return None, f"no {DTS_FILE} or {DTS_TREASURY_GLOB} in {self.folder}"
        merged = read_dts_tga(paths[0])
        for path in paths[1:]:
            more = read_dts_tga(path)
            common = merged.index.intersection(more.index)
            differs = merged[common] != more[common]
            if differs.any():
                day = _day(common[differs.to_numpy()][0])
                raise DataFileError(path, f"TGA close on {day} differs from {paths[0].name}")
            merged = pd.concat([merged, more.drop(common)]).sort_index()
        return self.cut(merged, " + ".join(p.name for p in paths))


def _finish(series: pd.Series, field: str, dtype: str | type = "float64") -> pd.Series:
    """`series` sorted, unique, without NaN, index named "date", named `field`."""
    series = series[~series.index.duplicated()].sort_index().dropna().astype(dtype)
    series.index = pd.DatetimeIndex(series.index, name="date")
    return series.rename(field)


def _difference_bp(rate: pd.Series, policy: pd.Series) -> pd.Series:
    """(rate - policy) * 100 on the dates both have, bp, rounded to `BP_DECIMALS`."""
    common = rate.index.intersection(policy.index)
    return ((rate[common] - policy[common]) * BP_PER_PCT).round(BP_DECIMALS)


def _policy_rate(data: _Folder) -> tuple[pd.Series | None, str, str]:
    """(IOER/IORB splice, provenance, short name) or (None, reason, "")."""
    ioer, ioer_why = data.fred("IOER")
    iorb, iorb_why = data.fred("IORB")
    if ioer is None and iorb is None:
        return None, f"{ioer_why}; {iorb_why}", ""
    if ioer is None:
        return iorb, iorb_why, iorb_why
    if iorb is None:
        return ioer, ioer_why, ioer_why
    before, after = ioer[ioer.index < IORB_START], iorb[iorb.index >= IORB_START]
    if before.empty and after.empty:
        return (
            None,
            f"IOER.csv has no date before {_day(IORB_START)} and IORB.csv none from it",
            "",
        )
    if before.empty or after.empty:
        name = "IORB.csv" if before.empty else "IOER.csv"
        return (after if before.empty else before), name, name
    label = f"IOER.csv to {_day(before.index[-1])}, IORB.csv from {_day(after.index[0])}"
    return pd.concat([before, after]), label, "IOER.csv/IORB.csv"


def _srf(data: _Folder) -> tuple[pd.Series | None, str]:
    """(SRF take-up cut at until and from SRF_START, provenance) or (None, reason)."""
    if data.until < SRF_START:
        return None, f"no SRF before {_day(SRF_START)}"
    candidates = (*(data.folder / f"{name}.csv" for name in SRF_SERIES), data.folder / SRF_FILE)
    for path in (*candidates, PACKAGED_SRF):
        if path.is_file():
            break
    packaged = path.resolve() == PACKAGED_SRF.resolve()
    label = "engine/data/srf_takeup.csv (packaged 2025 points)" if packaged else path.name
    series = read_fred(path) if packaged else data.read(path)
    series = series[series.index >= SRF_START]
    cut, why = data.cut(series, label)
    if cut is None:
        return None, f"no SRF take-up on or before {_day(data.until)}: {why}"
    if path.stem in SRF_SERIES:
        label = f"{label} from {_day(SRF_START)}"
    return cut, label


class _Result:
    """The fields of a MarketData being filled: series, sources and missing reasons."""

    def __init__(self) -> None:
        self.series: dict[str, pd.Series | None] = dict.fromkeys(SERIES_FIELDS)
        self.sources: dict[str, str] = {}
        self.missing: dict[str, str] = {}

    def put(
        self, field: str, series: pd.Series | None, label: str, *, dtype: str | type = "float64"
    ) -> None:
        """Store `series` with provenance `label` (span appended), or record `label` as why not."""
        if series is None:
            self.missing[field] = label
        elif series.empty:
            self.missing[field] = f"{label}: no common date"
        else:
            self.series[field] = _finish(series, field, dtype)
            self.sources[field] = f"{label}, {_span(self.series[field])}"

    def put_mn(self, field: str, series: pd.Series | None, label: str) -> None:
        """`put` a $ millions series as $ billions."""
        if series is None:
            self.put(field, None, label)
        else:
            self.put(field, series / MN_PER_BN, f"{label} ($ millions / {MN_PER_BN:,.0f})")


def _spreads(data: _Folder, result: _Result, policy: pd.Series, policy_name: str) -> None:
    """Fill spread_bp, spread_source, effr_spread_bp and top_of_range_bp (bp)."""
    sofr, sofr_why = data.fred("SOFR")
    effr, effr_why = data.fred("EFFR")
    effr_bp = None if effr is None else _difference_bp(effr, policy)
    result.put("effr_spread_bp", effr_bp, effr_why if effr is None else f"EFFR.csv − {policy_name}")

    parts: list[tuple[pd.Series, str]] = []
    if effr_bp is not None:  # EFFR only before SOFR starts
        parts.append((effr_bp if sofr is None else effr_bp[effr_bp.index < sofr.index[0]], "EFFR"))
    if sofr is not None:
        parts.append((_difference_bp(sofr, policy), "SOFR"))
    parts = [(bp, name) for bp, name in parts if not bp.empty]
    if parts:
        spread = pd.concat([bp for bp, _ in parts])
        source = pd.concat([pd.Series(name, index=bp.index, dtype=object) for bp, name in parts])
        if len(parts) == 1:
            rate = parts[0][1]
            label, which = f"{rate}.csv − {policy_name}", f'"{rate}" every day'
        else:  # EFFR, then SOFR
            (early, _), (late, _) = parts
            cut = f"to {_day(early.index[-1])}", f"from {_day(late.index[0])}"
            label = f"EFFR.csv − {policy_name} {cut[0]}, SOFR.csv − {policy_name} {cut[1]}"
            which = f'"EFFR" {cut[0]}, "SOFR" {cut[1]}'
        result.put("spread_bp", spread, label)
        result.put("spread_source", source, f"rate of spread_bp: {which}", dtype=object)
    else:
        if sofr is None and effr is None:
            why = f"{sofr_why}; {effr_why}"
        else:
            why = f"SOFR.csv / EFFR.csv and {policy_name} share no date"
        result.put("spread_bp", None, why)
        result.put("spread_source", None, why)

    top, why = data.fred("DFEDTARU")
    top_bp = None if top is None else _difference_bp(top, policy)
    result.put("top_of_range_bp", top_bp, why if top is None else f"DFEDTARU.csv − {policy_name}")


def load_market_data(
    data_dir: str | Path,
    until: str | dt.date | pd.Timestamp,
    since: str | dt.date | pd.Timestamp | None = None,
) -> MarketData:
    """Read the market series in `data_dir`, keep dates on or before `until` (and on or after
    `since`, when given), convert units.

    Parameters
    ----------
    data_dir : str or Path
        Folder of CSV files named as FRED and the Treasury serve them (`KNOWN_FILES`);
        any subset may be there, other files are ignored.
    until : str, datetime.date or pandas.Timestamp
        Last date used (inclusive).
    since : str, datetime.date or pandas.Timestamp, optional
        First date used (inclusive): a calibration window. Default: every observation.

    Returns
    -------
    MarketData
        Series in model units ($bn, bp, %); a field is None, with the reason in
        ``missing``, when its files are absent or hold nothing on or before `until`.

    Raises
    ------
    DataFileError
        The folder does not exist or holds none of `KNOWN_FILES`; a file cannot be read
        (the message names the file and, for a bad row, its line).
    InputError
        `until` or `since` is not a date, or `since` is after `until`.
    """
    folder = Path(data_dir)
    ts = _as_until(until)
    first = None if since is None else _as_until(since)
    if first is not None and first > ts:
        raise InputError(f"since {_day(first)} is after until {_day(ts)}")
    if not folder.is_dir():
        raise DataFileError(folder, "not a folder" if folder.exists() else "no such folder")
    if not any(any(folder.glob(name)) for name in KNOWN_FILES):
        raise DataFileError(folder, f"none of the known data files ({', '.join(KNOWN_FILES)})")
    data = _Folder(folder, ts, first)
    data.check_all()
    result = _Result()

    policy, policy_label, policy_name = _policy_rate(data)
    result.put("policy_rate_pct", policy, policy_label)
    if policy is None:
        for field in ("spread_bp", "spread_source", "effr_spread_bp", "top_of_range_bp"):
            result.put(field, None, f"no policy rate: {policy_label}")
    else:
        _spreads(data, result, policy, policy_name)

    result.put_mn("reserves_bn", *data.fred("WRESBAL"))

    tga, why = data.dts()
    tga_daily = tga is not None
    reasons = [why]
    for name in ("WDTGAL", "WTREGEN"):
        if tga is None:
            tga, why = data.fred(name)
            reasons.append(why)
    result.put_mn("tga_bn", tga, why if tga is not None else "; ".join(reasons))

    result.put("on_rrp_bn", *data.fred("RRPONTSYD"))
    currency, why = data.fred("WCURCIR")
    if currency is not None:
        result.put_mn("currency_bn", currency, why)
    else:
        currency, monthly_why = data.fred("CURRCIR")
        result.put(
            "currency_bn",
            currency,
            monthly_why if currency is not None else f"{why}; {monthly_why}",
        )
    result.put("bank_assets_bn", *data.fred("TLAACBW027SBOG"))
    result.put_mn("fed_assets_bn", *data.fred("WALCL"))
    result.put("srf_bn", *_srf(data))

    return MarketData(
        until=ts,
        tga_daily=tga_daily,
        sources={k: result.sources[k] for k in SERIES_FIELDS if k in result.sources},
        missing={k: result.missing[k] for k in SERIES_FIELDS if k in result.missing},
        **result.series,
    )
