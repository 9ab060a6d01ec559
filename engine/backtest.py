"""``rmp-risk backtest``: forecast from a past date, then score the forecast on what happened.

The forecast sees only the data dated before the start (the state, the TGA anchors and the
balance-sheet trend come from ``load_market_data(..., until=start - 1 day)``); the realized
months are read separately and reach only the scores.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .calibrate.market import MarketData, load_market_data
from .calibrate.state import bank_assets_on_reserve_dates, initial_state, set_start
from .config import Config, RareEvents, from_plain, load_config
from .errors import InputError
from .kernels.layout import EVENT_NAMES
from .outputs import check_writable_folder, write_json
from .scoring import (
    band_coverage,
    brier,
    brier_skill,
    climatology,
    log_score,
    pit_values,
    realized_events,
)

DEFAULT_PATHS = 20_000  # paths: a 12-month tier probability of 1% to ±0.07% (1 s.e.)
TREND_MONTHS = 6  # months of Fed total assets before the start that set the "trend" regime
TREND_REGIME = "trend"
REALIZED_REGIME = "realized"  # a regime table given by the caller (the Fed's realized purchases)
SCORED = {  # cube variable → (label, unit) of the scored monthly values
    "reserves_eom": ("month-end reserves", "$bn"),
    "tga_eom": ("month-end TGA", "$bn"),
    "spread_max": ("month-max SOFR − IORB", "bp"),
}
BAND_50, BAND_90 = (0.25, 0.75), (0.05, 0.95)


class BacktestError(InputError):
    """A backtest that the data or the options cannot support; the message says why."""


def check_out_dir(path: Path) -> None:
    """Refuse an output folder that cannot be written, before anything is simulated."""
    if path.exists() and not path.is_dir():
        raise BacktestError(f"--out {path}: exists and is not a folder")
    check_writable_folder(path, "--out")


def trend_pace(fed_assets_bn: pd.Series, months: int = TREND_MONTHS) -> tuple[float, str]:
    """Monthly change of Fed total assets ($bn/month) over the last ``months`` months of the
    series, and the rule in words (negative: balance-sheet runoff)."""
    last_date, last = fed_assets_bn.index[-1], float(fed_assets_bn.iloc[-1])
    earlier = fed_assets_bn.loc[: last_date - pd.DateOffset(months=months)]
    if earlier.empty:
        raise BacktestError(f"WALCL: fewer than {months} months before the start for the trend")
    first_date, first = earlier.index[-1], float(earlier.iloc[-1])
    elapsed = (last_date - first_date).days / (365.25 / 12)
    pace = (last - first) / elapsed
    rule = (
        f"WALCL {first_date.date()} → {last_date.date()}: {first:,.0f} → {last:,.0f} $bn, "
        f"{pace:+.1f} $bn/month"
    )
    return pace, rule


def forecast_config(
    config: Config,
    before: MarketData,
    start: dt.date,
    months: int,
    regime: str | dict[str, Any] | None,
    paths: int,
    seed: int | None,
) -> tuple[Config, list[str]]:
    """The config of the forecast: ``config``'s parameters, the state of ``before`` (data up to
    the day before ``start``), ``months`` months from ``start`` under ``regime``: a regime of the
    config by name, a regime table of its own (run as ``realized``: e.g. the Fed's realized
    purchases), or None for the balance-sheet trend. Returns the config and the rules used, in
    words."""
    values = config.to_dict()
    notes: list[str] = []
    bank, rule = bank_assets_on_reserve_dates(
        before, config, config.bank_assets.growth_per_year.mid
    )
    if rule is not None:
        notes.append(f"bank assets: {rule}")
    state = initial_state(before, config.currency.growth_per_year.mid, bank)
    for fit in state.fitted:
        section, key = fit.key.split(".")
        values[section][key] = fit.value
    notes += [f"{f.key}: {f.statistic}" for f in state.fitted]
    notes += [f"{k.key}: kept from the config ({k.reason})" for k in state.kept]
    notes += set_start(values, before, config)
    values["simulation"].update(horizon_months=months, n_paths=paths)
    if seed is not None:
        values["simulation"]["seed"] = seed
    if isinstance(regime, dict):
        values["regimes"] = {REALIZED_REGIME: regime}
        values["simulation"]["regimes"] = [REALIZED_REGIME]
    elif regime is None:
        if before.fed_assets_bn is None:
            raise BacktestError("no WALCL.csv before the start for the trend regime: give --regime")
        pace, rule = trend_pace(before.fed_assets_bn)
        values["regimes"] = {TREND_REGIME: {"pace_bn": round(pace, 2)}}
        values["simulation"]["regimes"] = [TREND_REGIME]
        notes.append(f"regime {TREND_REGIME}: {rule}")
    else:
        if regime not in values["regimes"]:
            known = ", ".join(values["regimes"])
            raise BacktestError(f"--regime {regime}: no such regime in the config ({known})")
        values["simulation"]["regimes"] = [regime]
    return from_plain(values, source=f"{config.source} (backtest from {start})"), notes


def realized_monthly(after: MarketData, months: pd.DatetimeIndex) -> dict[str, pd.Series]:
    """The realized value of each scored variable in each month (NaN where the data do not
    cover the month): last weekly reserves (week average) and last TGA close in the month,
    and the month's largest daily SOFR − IORB."""

    def monthly(series: pd.Series | None, how: str) -> pd.Series:
        if series is None:
            return pd.Series(np.nan, index=months)
        by_month = getattr(series.groupby(series.index.to_period("M")), how)()
        by_month.index = by_month.index.to_timestamp()
        covered = months + pd.offsets.MonthEnd(0) <= after.until  # the whole month is in
        return by_month.reindex(months).where(covered)

    return {
        "reserves_eom": monthly(after.reserves_bn, "last"),
        "tga_eom": monthly(after.tga_bn, "last"),
        "spread_max": monthly(after.spread_bp, "max"),
    }


@dataclass
class BacktestResult:
    """A scored forecast: the cube, the per-month records and the summary scores."""

    cube: xr.Dataset
    regime: str
    months: list[dict[str, Any]]
    summary: dict[str, Any]
    notes: list[str]
    quantiles: dict[str, dict[float, np.ndarray]] = field(repr=False)
    realized: dict[str, pd.Series] = field(repr=False)
    figures: list[Path] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {**self.summary, "months": self.months, "notes": self.notes}

    def write(self, out_dir: Path) -> None:
        """``out_dir/backtest.json`` and one fan chart PNG per scored variable."""
        from .figures import fan_chart

        out_dir.mkdir(parents=True, exist_ok=True)
        times = pd.DatetimeIndex(self.cube.time.values)
        for name, (label, unit) in SCORED.items():
            path = out_dir / f"{name}.png"
            title = f"{label}: forecast from {self.summary['start']} ({self.regime}) vs realized"
            ylabel = f"{label} ({unit})"
            fan_chart(times, self.quantiles[name], self.realized[name], title, ylabel, path)
            self.figures.append(path)
        write_json(out_dir / "backtest.json", self.to_json())

    def table(self) -> str:
        """The scores as text: coverage, then each tier's Brier, skill and log score."""
        s = self.summary
        lines = [
            f"backtest from {s['start']}, {len(self.months)} months, regime {self.regime}, "
            f"{s['n_paths']:,} paths",
            f"coverage of the 50% band {_fmt(s['coverage_50'])}, of the 90% band "
            f"{_fmt(s['coverage_90'])} ({s['points']} points: " + ", ".join(SCORED) + ")",
            f"{'tier':<22}{'months':>7}{'realized':>9}{'Brier':>9}{'skill':>9}{'log':>9}",
        ]
        for tier in EVENT_NAMES:
            n = s["tier_months"][tier]
            lines.append(
                f"{tier:<22}{n:>7}{s['tier_realized'][tier]:>9}{_fmt(s['brier'][tier]):>9}"
                f"{_fmt(s['brier_skill'][tier]):>9}{_fmt(s['log_score'][tier]):>9}"
            )
        lines.append("skill: 1 − Brier / Brier of the calibration window's monthly frequency")
        return "\n".join(lines)


def _fmt(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def backtest(
    config_path: Path,
    data_dir: Path,
    start: dt.date,
    months: int,
    *,
    regime: str | None = None,
    paths: int | None = None,
    seed: int | None = None,
    progress: bool = False,
    say=lambda message: None,
    **simulate_options,
) -> BacktestResult:
    """Forecast ``months`` months from ``start`` with ``config_path``'s parameters and the
    state of the data before ``start``; score it against the data from ``start`` on.

    Returns a `BacktestResult` (``write`` puts ``backtest.json`` and the fan charts in a
    folder). ``simulate_options`` go to ``engine.simulate`` (workers, scheduler, ...).
    """
    from .pipeline import simulate

    config = dataclasses.replace(load_config(config_path), rare_events=RareEvents())  # counts
    day_before = pd.Timestamp(start) - pd.Timedelta(days=1)
    before = load_market_data(data_dir, day_before)
    run_config, notes = forecast_config(
        config, before, start, months, regime, paths or DEFAULT_PATHS, seed
    )
    for note in notes:
        say(f"  {note}")
    cube = simulate(run_config, progress=progress, **simulate_options)
    times = pd.DatetimeIndex(cube.time.values)
    last_day = times[-1] + pd.offsets.MonthEnd(0)
    after = load_market_data(data_dir, last_day)
    chosen = str(cube.regime.values[0])
    return score(cube, chosen, run_config, before, after, notes)


def _window(series: pd.Series | None, first: pd.Timestamp) -> pd.Series | None:
    return None if series is None else series.loc[first:]


def realized_tiers(
    data: MarketData, config: Config, first: pd.Timestamp, months: pd.DatetimeIndex
) -> pd.DataFrame:
    """The event tiers realized in each month of ``months`` (0/1/NA, (M, E)), tested with
    ``config``'s thresholds on ``data`` from ``first`` on (see ``scoring.realized_events``)."""
    if data.spread_bp is None:
        raise BacktestError("no spread series (SOFR/EFFR and IORB/IOER) to score against")
    ratio = None
    bank, _ = bank_assets_on_reserve_dates(data, config, config.bank_assets.growth_per_year.mid)
    if bank is not None and data.reserves_bn is not None:
        ratio = (data.reserves_bn / bank.reindex(data.reserves_bn.index)).dropna()
    return realized_events(
        _window(data.spread_bp, first),
        _window(data.effr_spread_bp, first),
        _window(data.srf_bn, first),
        _window(data.reserves_bn, first),
        _window(ratio, first),
        config.events,
        config.effr.top_of_range_above_iorb_bp,
        months,
    )


def score(
    cube: xr.Dataset,
    regime: str,
    config: Config,
    before: MarketData,
    after: MarketData,
    notes: list[str],
) -> BacktestResult:
    """Score ``cube``'s forecast for ``regime`` against ``after`` (data through the last month);
    the climatology of each tier comes from ``before`` (the calibration window)."""
    times = pd.DatetimeIndex(cube.time.values)
    first = times[0]
    realized = realized_monthly(after, times)
    quantiles = {
        name: {
            float(q): cube[name].sel(regime=regime, quantile=q).values
            for q in cube["quantile"].values
        }
        for name in SCORED
    }
    hits = {band: 0 for band in ("50", "90")}
    points = 0
    for name in SCORED:
        h50, n = band_coverage(cube, regime, name, realized[name], *BAND_50)
        h90, _ = band_coverage(cube, regime, name, realized[name], *BAND_90)
        hits["50"] += h50
        hits["90"] += h90
        points += n
    pit = {name: pit_values(cube, regime, name, realized[name]) for name in SCORED}

    outcome = realized_tiers(after, config, first, times)
    history_months = _complete_months_before(before, first)
    reference = climatology(realized_tiers(before, config, history_months[0], history_months))
    predicted = cube.event_probability.sel(regime=regime).to_pandas().T  # (time, event)
    predicted.index = times
    summary: dict[str, Any] = {
        "start": str(np.datetime_as_string(cube.time.values[0], unit="M")),
        "regime": regime,
        "n_paths": int(cube.n_paths.sel(regime=regime)),
        "coverage_50": hits["50"] / points if points else None,
        "coverage_90": hits["90"] / points if points else None,
        "points": points,
        "climatology_window": [str(history_months[0].date()), str(history_months[-1].date())],
        "climatology": {t: float(reference[t]) for t in EVENT_NAMES},
        "brier": {},
        "brier_skill": {},
        "log_score": {},
        "tier_months": {},
        "tier_realized": {},
    }
    for tier in EVENT_NAMES:
        p, o = predicted[tier], outcome[tier]
        summary["brier"][tier] = brier(p, o)
        summary["brier_skill"][tier] = brier_skill(p, o, float(reference[tier]))
        summary["log_score"][tier] = log_score(p, o)
        summary["tier_months"][tier] = int(o.notna().sum())
        summary["tier_realized"][tier] = int(o.fillna(0).sum())
    month_records = []
    for i, month in enumerate(times):
        month_records.append(
            {
                "month": month.strftime("%Y-%m"),
                "predicted": {t: float(predicted[t].iloc[i]) for t in EVENT_NAMES},
                "realized": {
                    t: None if pd.isna(outcome[t].iloc[i]) else int(outcome[t].iloc[i])
                    for t in EVENT_NAMES
                },
                "quantiles": {
                    n: {str(q): float(v[i]) for q, v in quantiles[n].items()} for n in SCORED
                },
                "realized_values": {n: float(realized[n].iloc[i]) for n in SCORED},
                "pit": {n: float(pit[n].iloc[i]) for n in SCORED},
            }
        )
    return BacktestResult(cube, regime, month_records, summary, notes, quantiles, realized)


def _complete_months_before(data: MarketData, first: pd.Timestamp) -> pd.DatetimeIndex:
    """Month starts of the complete months of spread data before ``first``."""
    spread = data.spread_bp
    if spread is None or spread.empty:
        raise BacktestError("no spread data before the start to compute the climatology")
    begin = spread.index[0] + pd.offsets.MonthBegin(0 if spread.index[0].day == 1 else 1)
    months = pd.date_range(begin.normalize(), first - pd.offsets.MonthBegin(1), freq="MS")
    if months.empty:
        raise BacktestError("no complete month of spread data before the start (climatology)")
    return months
