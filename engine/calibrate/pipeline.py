"""``rmp-risk calibrate``: a folder of FRED / Treasury CSV files → a complete, commented config.

Each block is fitted from the series the folder holds (``market.py`` reads them, cut at
``--until``); what the data cannot give is kept from the base config, with the reason. The
written config is valid on its own (and as another config's ``base``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import Config, default_config_path, from_plain, load_config
from ..errors import InputError
from ..outputs import check_writable_folder
from . import CURVE_LEVELS
from .curve_level import CurveLevel, fit_curve_level
from .demand_curve import select_family, weekly_curve_sample
from .fit_balance import fit_bank_assets, fit_currency, fit_on_rrp, fit_tga
from .fit_other import fit_other_liabilities
from .fit_spread import curve_result, daily_ratio, fit_effr, fit_spread
from .fit_srf import fit_srf, srf_available
from .fit_tga_walk import fit_tga_walk
from .fitted import FittedBlock, Kept, StepResult
from .market import MarketData, load_market_data
from .ratio import daily_ratio_from_drains
from .state import bank_assets_on_reserve_dates, bridged, initial_state, mid, set_start
from .writer import base_comments, render_config, round_significant

CURRENCY_YEARS = 3  # years of currency the growth trend is fitted on [J: the 5 years to 2023
#   hold the 2020 surge of cash, not today's growth]
BANK_ASSETS_YEARS = 50  # years of bank assets the growth trend is fitted on: the whole series
#   [J: the shipped one ends 2021-12; its last 3–5 years are the 2020 deposit surge]
TABLE_ORDER = (
    "simulation",
    "initial",
    "currency",
    "tga",
    "on_rrp",
    "other_liabilities",
    "bank_assets",
    "demand_curve",
    "spread",
    "srf",
    "effr",
    "events",
    "regimes",
    "output",
    "uncertainty",
)
CONFIG_FILE_MODE = 0o644  # a written config is readable by all, as an editor would leave it
UNIT_MAX_CHARS = 24  # a base comment's head this short is its unit ("$bn per bp of excess")
MIN_EX_RESERVES_YEARS = 3  # years of weeks with both bank assets and reserves for the growth of
#   bank assets other than reserves; fewer: total assets stand in [J]
MIN_CURVE_WEEKS = 26  # weeks of (ratio, spread) pairs below which the curve is kept [J]


class CalibrationError(InputError):
    """Calibration that the data cannot support; the message says which series is missing."""


def check_output(path: Path, overwrite: bool) -> None:
    """Refuse an output config path that exists (without ``overwrite``), is a folder, or whose
    folder cannot be written: checked before any fitting."""
    if path.is_dir():
        raise CalibrationError(f"--out {path}: is a folder, not a config file")
    if path.exists() and not overwrite:
        raise CalibrationError(f"--out {path}: exists (pass --overwrite to replace it)")
    check_writable_folder(path.parent if str(path.parent) else Path("."), "--out", path)


@dataclass
class Calibration:
    """What ``calibrate`` fitted and kept, and the config it makes.

    Attributes
    ----------
    config : Config
        The calibrated config (validated).
    values : dict
        The same as nested plain values (TOML layout).
    result : StepResult
        Every fitted value, every kept key and the fitted blocks' covariances.
    curves : pandas.DataFrame
        The demand-curve families compared (``demand_curve.Selection.table``).
    rules : list[str]
        Stated rules applied (bridging of series that stop early, TGA anchors, SRF switch).
    """

    data_dir: Path
    base_path: Path
    until: dt.date
    market: MarketData
    config: Config
    values: dict[str, Any]
    result: StepResult
    curves: pd.DataFrame | None
    rules: list[str] = field(default_factory=list)
    since: dt.date | None = None  # first observation date used (None: every observation)

    def render(self, command: str = "rmp-risk calibrate") -> str:
        """The config as TOML text, every value commented with unit and source."""
        comments = dict(base_comments(self.base_path))
        for fit in self.result.fitted:
            comments[fit.key] = f"{_unit(comments.get(fit.key))}{fit.comment()}"
        comments.update(_special_comments(self))
        header = _header(self, command)
        return render_config(self.values, comments, header, TABLE_ORDER)

    def write(self, path: Path, command: str = "rmp-risk calibrate") -> None:
        """Write the config atomically (a temporary file in the same folder, then renamed)."""
        text = self.render(command)
        fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.chmod(tmp, CONFIG_FILE_MODE)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def table(self) -> str:
        """What was fitted (value, s.e., method), what was kept and why, and the curves."""
        lines = [
            f"calibrated to {self.until} from {len(self.market.sources)} series in {self.data_dir}",
            f"{'key':<42}{'value':>22}{'s.e.':>11}  method",
        ]
        for fit in self.result.fitted:
            value = _short(fit.value)
            se = "" if fit.stderr is None else f"{fit.stderr:.3g}"
            lines.append(f"{fit.key:<42}{value:>22}{se:>11}  {fit.statistic[:90]}")
        if self.result.kept:
            lines.append("kept from the base config:")
            lines += [f"  {k.key:<40} {k.reason}" for k in self.result.kept]
        if self.curves is not None:
            lines.append("demand-curve families (rolling-origin out-of-sample RMSE, bp):")
            lines.append(f"  {'family':<20}{'rmse_oos':>9}{'mae_oos':>9}{'rmse_in':>9}")
            for family, row in self.curves.iterrows():
                chosen = "  ← chosen" if family == self.values["demand_curve"]["family"] else ""
                lines.append(
                    f"  {family:<20}{row['rmse_oos']:>9.2f}{row['mae_oos']:>9.2f}"
                    f"{row['rmse_in']:>9.2f}{chosen}"
                )
        if self.rules:
            lines.append("rules applied:")
            lines += [f"  {rule}" for rule in self.rules]
        return "\n".join(lines)


def _unit(base_comment: str | None) -> str:
    """The unit at the head of a base config comment ("$bn, ..." or "bp [J]" → "$bn, " or
    "bp, "), or "" when the comment does not start with one."""
    if not base_comment:
        return ""
    match = re.match(r"\s*([^,\[(]+?)\s*(?:,|\[|\(|$)", base_comment)
    head = match.group(1) if match else ""
    return f"{head}, " if head and len(head) <= UNIT_MAX_CHARS else ""


def _short(value) -> str:
    if isinstance(value, tuple):
        return f"[{value[0]:.4g}, {value[1]:.4g}]"
    if isinstance(value, float):
        return f"{value:.5g}"
    return str(value)


def calibrate(
    data_dir: str | Path,
    until: dt.date | str,
    base: str | Path | None = None,
    progress: Callable[[str], None] = lambda message: None,
    since: dt.date | str | None = None,
    curve_level: str = "local",
) -> Calibration:
    """Fit every block the data in ``data_dir`` (dated on or before ``until``, and on or after
    ``since`` when given) can identify.

    Parameters
    ----------
    data_dir : path
        Folder of CSV files named as FRED and the Treasury serve them (``market.KNOWN_FILES``).
    until : date
        Last observation date used.
    base : path, optional
        Config whose values are kept where the data cannot give them (default: the packaged
        default); its regimes, thresholds and output grid are kept as they are.
    progress : callable
        Receives one line per step.
    since : date, optional
        First observation date used: the calibration window (default: every observation).
    curve_level : {"local", "fixed"}
        The curve's level α: a local level filtered to the window's end and walking after it
        (`curve_level.fit_curve_level`; the default, as the evaluation chose), or one value
        over the window.
    """
    if curve_level not in CURVE_LEVELS:
        raise InputError(f"curve level {curve_level!r}: one of {', '.join(CURVE_LEVELS)}")
    base_path = Path(base) if base is not None else default_config_path()
    base_config = load_config(base_path)
    market = load_market_data(data_dir, until, since)
    window = "" if since is None else f" from {pd.Timestamp(since).date()}"
    progress(f"read {len(market.sources)} series{window} to {market.until.date()}")
    result = StepResult()
    rules: list[str] = []

    progress("fitting the balance sheet: TGA, currency, ON RRP, bank assets")
    result.extend(_balance_sheet(market, base_config))
    growth = {
        "currency": _fitted_mid(
            result, "currency.growth_per_year", base_config.currency.growth_per_year
        ),
        "bank_assets": _fitted_mid(
            result, "bank_assets.growth_per_year", base_config.bank_assets.growth_per_year
        ),
    }
    bank, rule = bank_assets_on_reserve_dates(market, base_config, growth["bank_assets"])
    if rule is not None:
        rules.append(f"bank assets: {rule}")
    result.extend(initial_state(market, growth["currency"], bank))

    progress("fitting the demand curve (4 families, rolling-origin comparison)")
    curves, spread_fit, ratio_weekly = None, None, _ratio(market, bank)
    if market.spread_bp is None or ratio_weekly is None:
        reason = "no spread (SOFR/EFFR, IORB/IOER) or no reserve ratio (WRESBAL, bank assets)"
        result.kept += [
            Kept(f"demand_curve.{k}", reason) for k in ("alpha_bp", "beta_bp", "x0", "lambda")
        ]
    else:
        sample = weekly_curve_sample(market.spread_bp, ratio_weekly)
        if len(sample) < MIN_CURVE_WEEKS:
            raise CalibrationError(
                f"{data_dir}: {len(sample)} weeks with both a spread and a reserve ratio to "
                f"{market.until.date()} (the curve needs {MIN_CURVE_WEEKS})"
            )
        selection = select_family(sample["ratio"], sample["spread_bp"], sample.index)
        curves = selection.table
        chosen, level = selection.fit, None
        if curve_level == "local":
            progress("fitting the curve's local level (Kalman filter)")
            level = fit_curve_level(sample, selection.fit)
            chosen = level.curve
            result.extend(_with_level(curve_result(selection), level))
        else:
            result.extend(curve_result(selection))
        progress("fitting the spread: calendar effects, noise, jumps; EFFR; SRF")
        daily, how = _daily_ratio(market, base_config, growth["bank_assets"], ratio_weekly)
        rules.append(f"daily reserve ratio: {how}")
        spread_fit = fit_spread(
            market.spread_bp,
            daily,
            chosen,
            base_jump_lambda=base_config.spread.jump_lambda,
            level_bp=None if level is None else level.daily(market.spread_bp.index),
        )
        result.extend(spread_fit.result)
        if market.effr_spread_bp is not None:
            result.extend(
                fit_effr(market.effr_spread_bp, market.spread_bp, s0_bp=base_config.effr.s0_bp)
            )
        else:
            result.kept += [Kept(k, "no EFFR.csv") for k in ("effr.e0_bp", "effr.psi")]
    srf_on = srf_available(market.until)
    if not srf_on:
        rules.append(
            f"srf.enabled = false: no Standing Repo Facility before 2021-07-28 "
            f"(calibrated to {market.until.date()})"
        )
    elif spread_fit is not None and market.srf_bn is not None and not market.srf_bn.empty:
        points = market.srf_bn
        latent = spread_fit.latent_mean(points.index, daily_ratio(ratio_weekly, points.index))
        result.extend(_srf_block(points, market.spread_bp, latent, base_config))
    else:
        why = market.missing.get("srf_bn", "no SRF take-up points")
        result.kept += [
            Kept(k, why) for k in ("srf.leak", "srf.stigma_median_bp", "srf.takeup_bn_per_bp")
        ]

    values = _assemble(base_config, market, result, spread_fit, srf_on, rules)
    config = from_plain(values, source=f"calibrated from {data_dir}")
    return Calibration(
        Path(data_dir),
        base_path,
        market.until.date(),
        market,
        config,
        values,
        result,
        curves,
        rules,
        None if since is None else pd.Timestamp(since).date(),
    )


def _with_level(pooled: StepResult, level: CurveLevel) -> StepResult:
    """The pooled curve's records with α (and the ``demand_curve`` block) replaced by the local
    level's, and the level's two sds added."""
    replaced = {f.key for f in level.result.fitted}
    fitted = [f for f in pooled.fitted if f.key not in replaced] + level.result.fitted
    blocks = [
        FittedBlock(b.name, b.keys, level.curve.mean, level.curve.covariance.copy())
        if b.name == "demand_curve"
        else b
        for b in pooled.blocks
    ]
    return StepResult(fitted=fitted, kept=list(pooled.kept), blocks=blocks)


def _srf_block(points, spread_bp, latent, base: Config) -> StepResult:
    """The SRF block: (ω, δ, k) jointly; when the joint fit cannot explain the take-up (its k
    ends at 0: the predicted latent spread is below the ceiling on the take-up days), δ and k
    from the take-up equation alone, SRF = (k/ω)(s − 10 − δ), with ω held at the base config's
    value (a δ on its bound says so in its statistic)."""
    rate = base.srf.rate_above_iorb_bp
    joint = fit_srf(points, spread_bp, latent, rate)
    if joint.fitted:
        return joint
    held = fit_srf(points, spread_bp, latent, rate, leak=base.srf.leak)
    leak_kept = [k for k in joint.kept if k.key == "srf.leak"]
    return StepResult(fitted=held.fitted, kept=leak_kept, blocks=held.blocks)


def _balance_sheet(market: MarketData, base: Config) -> StepResult:
    out = StepResult()
    if market.tga_bn is not None:
        label = "DTS TGA" if market.tga_daily else str(market.tga_bn.name or "weekly TGA")
        tga = fit_tga(market.tga_bn, market.tga_daily, base, series=label)
        out.extend(tga)
        values = {f.key: f.value for f in tga.fitted}
        phi = values.get("tga.ar_coefficient", base.tga.ar_coefficient)
        sd = values.get("tga.daily_sd_bn", base.tga.daily_sd_bn)
        out.extend(fit_tga_walk(market.tga_bn, market.tga_daily, phi, sd, series=label))
    else:
        out.kept += [Kept("tga.ar_coefficient", market.missing.get("tga_bn", "no TGA series"))]
    out.extend(fit_other_liabilities(market))
    if market.currency_bn is not None:
        out.extend(fit_currency(market.currency_bn, years=CURRENCY_YEARS))
    else:
        out.kept.append(Kept("currency.growth_per_year", market.missing["currency_bn"]))
    if market.on_rrp_bn is not None:
        out.extend(fit_on_rrp(market.on_rrp_bn, series="RRPONTSYD"))
    else:
        out.kept.append(Kept("on_rrp.base_bn", market.missing["on_rrp_bn"]))
    if market.bank_assets_bn is not None:
        series, label = _bank_assets_ex_reserves(market)
        out.extend(fit_bank_assets(series, years=BANK_ASSETS_YEARS, series=label))
    else:
        out.kept.append(Kept("bank_assets.growth_per_year", market.missing["bank_assets_bn"]))
    return out


def _bank_assets_ex_reserves(market: MarketData) -> tuple[pd.Series, str]:
    """Bank assets other than reserves ($bn, weekly: what the kernel grows) where WRESBAL covers
    at least ``MIN_EX_RESERVES_YEARS`` of the same weeks; else total assets, and a label that
    says which."""
    total = market.bank_assets_bn
    if market.reserves_bn is not None:
        reserves = market.reserves_bn.reindex(total.index)
        ex = (total - reserves).dropna()
        if len(ex) and (ex.index[-1] - ex.index[0]).days >= MIN_EX_RESERVES_YEARS * 365.25:
            return ex.rename("bank assets − reserves"), "TLAACBW027SBOG − WRESBAL"
    return total, "TLAACBW027SBOG (total assets: WRESBAL does not cover the same years)"


def _fitted_mid(result: StepResult, key: str, fallback) -> float:
    for fit in result.fitted:
        if fit.key == key:
            return mid(fit.value)
    return fallback.mid


def _daily_ratio(
    market: MarketData, base: Config, growth: float, ratio_weekly: pd.Series
) -> tuple[pd.Series, str]:
    """x on the spread's days: weekly reserves moved by the day's TGA and ON RRP deviations
    from their week's means on the days both are daily, the weekly ratio interpolated on the
    days before (or on every day, when either is not daily)."""
    days = market.spread_bp.index
    if not market.tga_daily or market.on_rrp_bn is None:
        return daily_ratio(ratio_weekly, days), "weekly ratio interpolated (no daily TGA or ON RRP)"
    daily_from = market.tga_bn.index[0]
    later = days[days >= daily_from]
    dated = (base.initial.as_of, base.initial.bank_assets_bn)
    bank, _ = bridged(market.bank_assets_bn, later, dated, growth, market.until)
    ratio = daily_ratio_from_drains(
        market.reserves_bn, market.tga_bn, market.on_rrp_bn, bank, later
    )
    how = "week-average reserves moved by the daily TGA and ON RRP deviations"
    if len(later) == len(days):
        return ratio, how
    earlier = daily_ratio(ratio_weekly, days[days < daily_from])
    return pd.concat([earlier, ratio]), (
        f"weekly ratio interpolated to {daily_from.date() - pd.Timedelta(days=1)}, then {how}"
    )


def _ratio(market: MarketData, bank: pd.Series | None) -> pd.Series | None:
    """Weekly reserve ratio (1): WRESBAL / bank assets on the reserves' dates."""
    if market.reserves_bn is None or bank is None:
        return None
    ratio = market.reserves_bn / bank.reindex(market.reserves_bn.index)
    return ratio.dropna().rename("ratio")


def _assemble(
    base: Config,
    market: MarketData,
    result: StepResult,
    spread_fit,
    srf_on: bool,
    rules: list[str],
) -> dict[str, Any]:
    """The base config's values with every fitted value, the state and the switches set."""
    values = base.to_dict()
    for fit in result.fitted:  # initial balances are written as read (they are data)
        value = fit.value if fit.key.startswith("initial.") else _rounded(fit.value)
        _set(values, fit.key, value)
    if spread_fit is not None:
        values["demand_curve"]["family"] = spread_fit.curve.family
    values["srf"]["enabled"] = srf_on
    rules += set_start(values, market, base)
    blocks = _uncertainty_blocks(result.blocks, values, rules)
    values["uncertainty"] = {"parameters": False, "block": blocks}
    return values


def _set(values: dict[str, Any], key: str, value) -> None:
    *tables, name = key.split(".")
    table = values
    for part in tables:
        table = table[part]
    if name not in table:
        raise KeyError(f"fitted key {key} is not in the config")
    table[name] = list(value) if isinstance(value, tuple) else value


def _rounded(value):
    if isinstance(value, tuple):
        return tuple(round_significant(v) for v in value)
    return round_significant(value) if isinstance(value, float) else value


def _uncertainty_blocks(
    blocks: list[FittedBlock], values: dict[str, Any], rules: list[str]
) -> list[dict]:
    """The fitted blocks whose parameters may vary per path (``schedule.UNCERTAIN_PARAMS``),
    restricted to those keys, as ``[[uncertainty.block]]`` tables centred on the written
    values. A covariance estimate that is not positive semi-definite (an inverse Hessian at a
    bound, say) is replaced by its nearest one, its negative eigenvalues set to 0, and
    ``rules`` says so."""
    from ..schedule import UNCERTAIN_PARAMS

    out = []
    for block in blocks:
        variance = np.diag(block.covariance)
        keep = [
            i for i, key in enumerate(block.keys) if key in UNCERTAIN_PARAMS and variance[i] > 0.0
        ]
        if not keep:
            continue
        cov = np.asarray(block.covariance)[np.ix_(keep, keep)]
        keys = [block.keys[i] for i in keep]
        cov, smallest = _nearest_psd(cov)
        if smallest is not None:
            rules.append(
                f"uncertainty block {block.name}: its covariance estimate was not positive "
                f"semi-definite (smallest eigenvalue {smallest:.3g}); its negative eigenvalues "
                "were set to 0"
            )
        mean = [_get(values, key) for key in keys]
        out.append(
            {
                "name": block.name,
                "keys": keys,
                "mean": mean,
                "covariance": _written(cov),
            }
        )
    return out


def _written(cov: np.ndarray) -> list[list[float]]:
    """The covariance as written: 6 significant digits, or every digit where that rounding
    would make an ill-conditioned matrix indefinite (its entries move by 1e-6 of the
    largest)."""
    rounded = np.array([[float(f"{c:.6g}") for c in row] for row in cov])
    exact = _nearest_psd(rounded)[1] is not None
    return (cov if exact else rounded).tolist()


def _nearest_psd(cov: np.ndarray) -> tuple[np.ndarray, float | None]:
    """``(cov, None)`` when ``cov`` is positive semi-definite to the config's tolerance, else
    (its nearest such matrix in the Frobenius norm, its smallest eigenvalue)."""
    from ..config import PSD_RTOL

    cov = 0.5 * (cov + cov.T)
    eigenvalues, vectors = np.linalg.eigh(cov)
    scale = float(np.max(np.abs(eigenvalues))) if eigenvalues.size else 0.0
    if eigenvalues.min(initial=0.0) >= -PSD_RTOL * scale:
        return cov, None
    clipped = (vectors * np.clip(eigenvalues, 0.0, None)) @ vectors.T
    return 0.5 * (clipped + clipped.T), float(eigenvalues.min())


def _get(values: dict[str, Any], key: str) -> float:
    table = values
    for part in key.split("."):
        table = table[part]
    return float(table)


def _special_comments(cal: Calibration) -> dict[str, str]:
    """Comments of the values calibration sets without a fit of their own."""
    until = cal.until.isoformat()
    comments = {
        "initial.as_of": f"date of the initial state: the calibration date (--until) [D {until}]",
        "simulation.start": "first simulated business day: the business day after initial.as_of",
        "demand_curve.family": (
            "shape h(x): exponential, logistic, double_exponential, arctan [F: lowest "
            "rolling-origin out-of-sample RMSE of the families compared]"
        ),
        "srf.enabled": (
            "the SRF exists [C: since 2021-07-28]"
            if cal.values["srf"]["enabled"]
            else "false: no SRF before 2021-07-28, no ceiling on the spread [C]"
        ),
        "tga.debt_ceiling.start": "date the drawdown starts (not before the start) [J]",
        "uncertainty": "estimation risk: the fitted blocks' sampling distributions",
        "uncertainty.parameters": (
            "true: each path draws its curve, noise, jump, SRF and EFFR "
            "parameters from the blocks below (estimation risk) [J]"
        ),
    }
    for rule in cal.rules:
        if rule.startswith("tga anchors:"):
            comments["tga.anchor_dates"] = "quarter-ends of the horizon [D]"
            comments["tga.anchor_bn"] = f"$bn, {rule[len('tga anchors: ') :]} [F]"
    for i in range(len(cal.values["uncertainty"]["block"])):
        prefix = f"uncertainty.block[{i}]"
        comments[f"{prefix}.name"] = "the fitted block"
        comments[f"{prefix}.keys"] = "config keys drawn per path"
        comments[f"{prefix}.mean"] = "the estimates, in the keys' units [F]"
        comments[f"{prefix}.covariance"] = "their estimated covariance, units of key × key [F]"
    return comments


def _header(cal: Calibration, command: str) -> str:
    lines = [
        "rmp-risk config calibrated from data.",
        f"Made by: {command}",
        "Data: observations dated "
        + ("" if cal.since is None else f"from {cal.since} ")
        + f"on or before {cal.until}.",
        "Source tags: [F] fitted here (estimate ± standard error, method, period, series);",
        "[C] confirmed in a public source, [M] plausible but unchecked, [J] judgement,",
        "[D] read from the data: kept from the base config where the data cannot identify them.",
        "",
        "Series read:",
        *(f"  {name}: {line}" for name, line in sorted(cal.market.sources.items())),
    ]
    if cal.rules:
        lines += ["", "Rules applied:", *(f"  {rule}" for rule in cal.rules)]
    if cal.result.kept:
        lines += [
            "",
            "Kept from the base config:",
            *(f"  {k.key}: {k.reason}" for k in cal.result.kept),
        ]
    return "\n".join(lines)


__all__ = ["Calibration", "CalibrationError", "calibrate", "check_output"]
