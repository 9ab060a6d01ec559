"""Scores of a forecast cube against realized months: PIT values, band coverage, realized event
tiers and the Brier and log scores of the monthly event probabilities.

Months are matched by calendar month: any timestamp in a month stands for that month, and the
cube's ``time`` holds month starts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from .config import Events
from .kernels import layout as L


def histogram_cdf(counts: np.ndarray, low: float, width: float, value: float) -> float:
    """Predictive CDF ``P(X ≤ value)`` from one fixed-bin histogram.

    Parameters
    ----------
    counts : int (B,)
        Bin 0 counts values below ``low``, bins 1..B-2 cover ``[low + (b-1) width, low + b width)``
        and bin B-1 counts values at or above the top ``low + (B-2) width``.
    low, width : float
        The grid, in the histogram's units.
    value : float
        Where to evaluate the CDF, same units.

    Returns
    -------
    float
        In [0, 1]; NaN when the histogram is empty or ``value`` is NaN.

    Notes
    -----
    The inverse of ``engine.cube.histogram_quantiles``: mass is spread uniformly within each
    bin, the underflow mass sits at ``low`` and the overflow mass at the top, and ``value`` is
    clipped to the grid as the cube clips its quantiles. So a value at or below ``low`` gets the
    underflow share, a value inside the grid the linear interpolation, and a value at or above
    the top gets 1.
    """
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    if total <= 0 or np.isnan(value):
        return np.nan
    n_bins = counts.size - 2
    top = low + n_bins * width
    if value >= top:
        return 1.0
    position = max(0.0, (value - low) / width)  # bins of the grid below ``value``
    b = min(int(position), n_bins - 1)  # 0-based bin of the grid holding ``value``
    below = counts[0] + counts[1 : b + 1].sum()
    return float((below + (position - b) * counts[b + 1]) / total)


def histogram_grid(cube: xr.Dataset, variable: str) -> tuple[float, float]:
    """``(low, width)`` of ``<variable>_histogram``: its ``bin_low`` and ``bin_width`` attributes,
    or else the cube's resolved config (``config_json``, ``[output.histograms]``)."""
    attrs = cube[f"{variable}_histogram"].attrs
    if "bin_low" in attrs and "bin_width" in attrs:
        return float(attrs["bin_low"]), float(attrs["bin_width"])
    field = {"reserves": "reserves_bn", "spread": "spread_bp", "srf": "srf_bn", "tga": "tga_bn"}
    grids = json.loads(cube.attrs["config_json"])["output"]["histograms"]
    low, width = grids[field[variable.split("_")[0]]]
    return float(low), float(width)


def _month_key(index) -> pd.DatetimeIndex:
    """Month starts (datetime64[ns]) of any datetime-like index."""
    return pd.DatetimeIndex(index).to_period("M").to_timestamp()


def _cube_positions(cube: xr.Dataset, index) -> np.ndarray:
    """Position in ``cube.time`` of each month of ``index`` (int (N,); -1 where not in the cube)."""
    return _month_key(cube.indexes["time"]).get_indexer(_month_key(index))


def _floats(values) -> np.ndarray:
    """float64 (N,) of any 1-D values, with None, NaN and pd.NA as NaN."""
    return pd.Series(values).astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _check_variable(variable: str) -> None:
    if variable not in L.HIST_NAMES:
        raise ValueError(f"variable must be one of {', '.join(L.HIST_NAMES)}, not {variable!r}")


def pit_values(cube: xr.Dataset, regime: str, variable: str, realized: pd.Series) -> pd.Series:
    """Probability integral transform of realized monthly values under one regime's forecast.

    Parameters
    ----------
    cube : xr.Dataset
        A run's cube, with ``<variable>_histogram`` (regime, time, bin).
    regime : str
    variable : str
        One of ``reserves_eom``, ``reserves_min``, ``spread_max``, ``srf_max``, ``tga_eom``.
    realized : pd.Series
        The realized monthly statistic in the variable's units ($bn or bp), indexed by month
        (month starts, as the cube's ``time``).

    Returns
    -------
    pd.Series
        ``histogram_cdf`` at each realized value, float in [0, 1], on ``realized``'s index; NaN
        where the value is NaN or its month is not in the cube.
    """
    _check_variable(variable)
    low, width = histogram_grid(cube, variable)
    hist = cube[f"{variable}_histogram"].sel(regime=regime).transpose("time", "bin").values
    positions, values = _cube_positions(cube, realized.index), _floats(realized)
    out = np.full(len(realized), np.nan)
    for i in np.flatnonzero(positions >= 0):
        out[i] = histogram_cdf(hist[positions[i]], low, width, values[i])
    return pd.Series(out, index=realized.index, name=variable)


def band_coverage(
    cube: xr.Dataset,
    regime: str,
    variable: str,
    realized: pd.Series,
    lower_q: float,
    upper_q: float,
) -> tuple[int, int]:
    """How often realized monthly values fall inside a central forecast band.

    Parameters
    ----------
    cube, regime, variable, realized
        As in ``pit_values``.
    lower_q, upper_q : float
        Quantile levels of the band; both must be in the cube's ``quantile`` coordinate.

    Returns
    -------
    hits : int
        Months with ``q_lower ≤ realized ≤ q_upper`` (closed band).
    points : int
        Months scored: realized value known, month in the cube and band defined.
    """
    _check_variable(variable)
    levels = cube.indexes["quantile"]
    for q in (lower_q, upper_q):
        if not np.isclose(levels, q).any():
            raise ValueError(f"quantile {q} is not in the cube (it has {list(levels)})")
    band = cube[variable].sel(regime=regime).sel(quantile=[lower_q, upper_q], method="nearest")
    band = band.transpose("time", "quantile").values
    pos = _cube_positions(cube, realized.index)
    value = _floats(realized)
    known = (pos >= 0) & ~np.isnan(value)
    lo, hi = band[pos[known], 0], band[pos[known], 1]
    value = value[known]
    scored = ~(np.isnan(lo) | np.isnan(hi))
    hits = (lo[scored] <= value[scored]) & (value[scored] <= hi[scored])
    return int(hits.sum()), int(scored.sum())


def _daily(series: pd.Series | None) -> pd.Series:
    """A daily series sorted by date with NaNs dropped (empty float series for None)."""
    if series is None:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([]))
    out = series.astype(float).dropna()
    out.index = pd.DatetimeIndex(out.index)
    return out.sort_index()


def _any_in_month(days: pd.Series, keys: pd.DatetimeIndex) -> np.ndarray:
    """bool (M,): some day of ``days`` (bool, indexed by date) is True in each month of ``keys``."""
    if days.empty:
        return np.zeros(len(keys), dtype=bool)
    by_month = days.groupby(_month_key(days.index)).any()
    return by_month.reindex(keys, fill_value=False).to_numpy(dtype=bool)


def realized_events(
    spread_bp: pd.Series,
    effr_spread_bp: pd.Series | None,
    srf_bn: pd.Series | None,
    reserves_bn: pd.Series | None,
    ratio: pd.Series | None,
    thresholds: Events,
    top_of_range_above_iorb_bp: float,
    months: pd.DatetimeIndex | Sequence,
) -> pd.DataFrame:
    """Realized event tiers (MODEL.md §6) of each month, tested as the kernel tests a path.

    Parameters
    ----------
    spread_bp : pd.Series
        Daily SOFR − IORB, bp, indexed by date; its dates (NaN dropped) are the business days.
    effr_spread_bp : pd.Series or None
        Daily EFFR − IORB, bp; ``crisis`` also counts a day above the top of the range.
    srf_bn : pd.Series or None
        Standing Repo Facility take-up, $bn, daily or only the days with take-up. Where a day's
        take-up is known the SRF tests of ``stress`` and ``crisis`` apply; elsewhere (or when
        None) only the spread tests do.
    reserves_bn : pd.Series or None
        Reserve balances, $bn, weekly; None leaves ``scarce`` NA.
    ratio : pd.Series or None
        Reserves / bank assets, 1, weekly; None tests ``scarce`` on reserves alone.
    thresholds : engine.config.Events
    top_of_range_above_iorb_bp : float
        Top of the target range over IORB, bp (``[effr]`` in the config).
    months : DatetimeIndex
        Month starts to report, (M,).

    Returns
    -------
    pd.DataFrame
        Int64 (M, E), index ``months``, columns ``layout.EVENT_NAMES``: 1 when some day of the
        month passes the tier's test, 0 when none does, NA when the data cannot tell (no spread
        observation in the month; for ``scarce``, no reserves observation).

    Notes
    -----
    Tests are ``≥`` the spread and SRF thresholds and ``>`` the top of the range, as in the
    kernel. ``systemic`` needs ``systemic_days`` consecutive spread observations at or above
    ``systemic_bp``; a run may start in the month before and counts in the month it completes.
    The ``_ex_period_end`` tiers skip each month's period-end day: the last date of the month
    with a spread observation (later dates of the other series in that month count as
    period-end too), so a month whose data stops early has its last observed day skipped.
    ``scarce`` tests the weekly observations dated in the month: reserves below
    ``scarce_reserves_bn`` or the ratio below ``scarce_ratio``.
    """
    ev = thresholds
    keys = _month_key(months)
    spread = _daily(spread_bp)
    effr = _daily(effr_spread_bp)
    srf = _daily(srf_bn)
    days = spread.index.union(effr.index).union(srf.index)
    s, e, f = (x.reindex(days) for x in (spread, effr, srf))  # NaN fails every test

    month = _month_key(days)
    last_spread = pd.Series(spread.index, index=spread.index).groupby(_month_key(spread.index))
    period_end = pd.Series(days >= last_spread.max().reindex(month).to_numpy(), index=days)
    above = spread >= ev.systemic_bp
    run = above.astype(int).groupby((~above).cumsum()).cumsum()  # consecutive days above

    tight = s >= ev.tight_bp
    stress = (s >= ev.stress_bp) | (f >= ev.stress_srf_bn)
    tests = {
        "tight": tight,
        "stress": stress,
        "crisis": (e > top_of_range_above_iorb_bp) | (s >= ev.crisis_bp) | (f >= ev.crisis_srf_bn),
        "systemic": run >= ev.systemic_days,
        "tight_ex_period_end": tight & ~period_end,
        "stress_ex_period_end": stress & ~period_end,
    }
    has_spread = _any_in_month(pd.Series(True, index=spread.index), keys)
    out = pd.DataFrame(index=pd.DatetimeIndex(months), columns=list(L.EVENT_NAMES), dtype="Int64")
    for name, passed in tests.items():
        out[name] = _outcome_array(_any_in_month(passed, keys), has_spread)
    if reserves_bn is not None:
        reserves = _daily(reserves_bn)
        scarce = reserves < ev.scarce_reserves_bn
        if ratio is not None:
            low_ratio = _daily(ratio) < ev.scarce_ratio
            scarce = pd.concat([scarce, low_ratio])
        seen = _any_in_month(pd.Series(True, index=reserves.index), keys)
        out["scarce"] = _outcome_array(_any_in_month(scarce, keys), seen)
    return out


def _outcome_array(hit: np.ndarray, known: np.ndarray) -> pd.arrays.IntegerArray:
    """Int64 (M,): 1 where ``hit``, else 0 where ``known``, else NA."""
    return pd.arrays.IntegerArray(hit.astype(np.int64), mask=~(hit | known))


def _outcomes(p, o) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts and 0/1 outcomes as float arrays, pairs with an NA outcome dropped. Two Series
    are aligned on their index first (inner join)."""
    if isinstance(p, pd.Series) and isinstance(o, pd.Series):
        p, o = p.align(o, join="inner")
    p, o = _floats(p), _floats(o)
    if p.size != o.size:
        raise ValueError(f"{p.size} forecasts for {o.size} outcomes")
    known = ~np.isnan(o)
    o = o[known]
    if not np.isin(o, (0.0, 1.0)).all():
        raise ValueError("outcomes must be 0, 1 or NA")
    return p[known], o


def brier(p, o) -> float:
    """Brier score: mean of (p − o)² over the known outcomes.

    Parameters
    ----------
    p : array-like (N,)
        Forecast probabilities.
    o : array-like (N,)
        Outcomes 0/1, NA ignored (NaN, None or pd.NA). Two Series are aligned on their index.

    Returns
    -------
    float
        In [0, 1], lower is better; NaN with no known outcome.
    """
    p, o = _outcomes(p, o)
    return float(np.mean((p - o) ** 2)) if o.size else np.nan


def brier_skill(p, o, climatology) -> float:
    """Brier skill score ``1 − Brier(p) / Brier(climatology)`` against a constant forecast.

    Parameters
    ----------
    p, o : array-like (N,)
        As in ``brier``.
    climatology : float
        The reference probability (e.g. ``climatology(...)[event]``).

    Returns
    -------
    float
        1 is perfect, 0 no better than the reference, negative worse; NaN when the reference's
        Brier score is 0 or no outcome is known.
    """
    p, o = _outcomes(p, o)
    if not o.size:
        return np.nan
    reference = float(np.mean((float(climatology) - o) ** 2))
    if reference == 0.0 or np.isnan(reference):
        return np.nan
    return 1.0 - float(np.mean((p - o) ** 2)) / reference


def log_score(p, o, floor: float = 1e-4) -> float:
    """Mean negative log-likelihood (nats) of the known outcomes under forecasts ``p`` clipped
    to ``[floor, 1 − floor]``; lower is better, NaN with no known outcome."""
    p, o = _outcomes(p, o)
    if not o.size:
        return np.nan
    p = np.clip(p, floor, 1.0 - floor)
    return float(-np.mean(stats.bernoulli.logpmf(o, p)))


def climatology(realized: pd.DataFrame) -> pd.Series:
    """Per event (column), the share of months with the event among months with a known outcome.

    Parameters
    ----------
    realized : pd.DataFrame
        0/1/NA (months, events), as from ``realized_events`` over the calibration window.

    Returns
    -------
    pd.Series
        float (events,), NaN for an event never observed.
    """
    share = realized.astype("Float64").mean(skipna=True)
    return pd.Series(
        share.to_numpy(dtype=float, na_value=np.nan), index=realized.columns, name="climatology"
    )
