"""A predictive check of the daily spread model: the spread simulated along the realized reserve
ratio, set against the realized spread, bin by bin of the ratio.

The model's daily spread (SOFR − IORB, bp) at reserve ratio x (reserves / bank assets) is, on
day t (``engine.kernels.day.simulate_day``; ``engine.testing.reference.ReferencePaths.step``):

- latent_t = α_t + (β + γ_t) h(x_t) + n_t + J_t, h the curve shape (``engine.curves.shape``),
  γ_t the day's calendar effect (``engine.calibrate.fit_spread.calendar_gamma_h``);
- n_t = ρ n_{t−1} + (σ0 + σ1 h(x_t)) η_t, η a Student-t(ν) scaled to unit variance;
- α_t = α + a walk (``demand_curve.alpha_start_sd_bp`` on the first day,
  ``demand_curve.alpha_walk_sd_bp`` per √business day);
- J_t: a jump with probability min(1, p0 exp(−λJ (x_t − x0))), exponential of mean
  ``spread.jump_mean_bp``;
- the SRF ceiling c_t = rate + exp(log median + sd z_t): above it the spread is
  c_t + ω (latent_t − c_t); below ``spread.floor_bp`` the spread is floored.

`simulate_spread` draws that spread along a given ratio path, `predictive_table` sets it against
the realized spread per ratio bin and day kind (quantiles of the level and of the daily change,
and the share of realized days inside each day's simulated 90% interval), `predictive_figure`
draws the table and `predictive_check` does all of it for a data folder and a config.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter
from scipy.signal import lfilter

from ..calendar import business_days
from ..calibrate.curve_level import fit_curve_level
from ..calibrate.demand_curve import CurveFit, calendar_flags, weekly_curve_sample
from ..calibrate.fit_spread import calendar_gamma_h
from ..calibrate.market import load_market_data
from ..calibrate.pipeline import _daily_ratio, _ratio
from ..calibrate.state import bank_assets_on_reserve_dates
from ..config import Config, load_config
from ..curves import shape
from ..figures import FORECAST, REALIZED, figure_canvas, save_png
from ..parameters import log_or_minus_inf

QUANTILES = (0.05, 0.5, 0.95)  # 1, levels of the quantiles compared [J: a 90% band and its median]
INTERVAL = (0.05, 0.95)  # 1, ends of each day's simulated interval: 90% [J]
NOMINAL_COVERAGE = INTERVAL[1] - INTERVAL[0]  # 1, share of days a well-specified model covers
RATIO_BIN_LEVELS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # 1, quantiles of x at the bin edges [J]
DAY_KINDS = ("ordinary", "period_end")  # period_end: month-, quarter-, year-end or settlement
PERIOD_END_FLAGS = ("month_end", "quarter_end", "year_end", "settlement")  # `calendar_flags`
GAMMA_FIELDS = {  # `calendar_gamma_h` key → `[spread]` field (bp) [C: engine/config.py]
    "month_end": "month_end_bp",
    "quarter_end": "quarter_end_bp",
    "year_end": "year_end_bp",
    "settlement": "settlement_bp",
}
PANEL_WIDTH_IN = 5.0  # inches
PANEL_HEIGHT_IN = 3.4  # inches
PERCENT_PER_UNIT = 100.0  # %, of a ratio of 1
BAND_OPACITY = 0.2  # 1, of the simulated 5–95% band
COVERAGE_TEXT_AT = (0.98, 0.97)  # 1, axes fractions: top right corner of the coverage text
COVERAGE_BOX = dict(facecolor="white", edgecolor="0.7", alpha=0.85)  # the coverage text's box


def _q(level: float) -> str:
    """Column suffix of a quantile level: 0.05 → ``q05``."""
    return f"q{round(level * 100):02d}"


def config_gamma(config: Config) -> dict[str, float]:
    """The config's calendar effects (bp) keyed as `calendar_gamma_h` reads them."""
    return {key: float(getattr(config.spread, field)) for key, field in GAMMA_FIELDS.items()}


def simulate_spread(
    config: Config, days, ratio, n_paths: int, seed: int | None, level_bp=None
) -> np.ndarray:
    """The daily spread simulated by the config's spread block along a given ratio path.

    Each day of ``days`` is one step of the noise's AR(1) and of the level's walk, both 0 before
    the first day (as in the kernel: the first day's walk step also carries
    ``alpha_start_sd_bp``). The draws are made in a fixed order whatever the parameters, so two
    configs run with one seed share their random numbers.

    Parameters
    ----------
    config : Config
        Its ``demand_curve``, ``spread`` and ``srf`` blocks are used.
    days : DatetimeIndex (n_days,)
        Business days, ascending; they set the calendar effects.
    ratio : float array (n_days,)
        Reserve ratio x (1) on each day.
    n_paths : int
    seed : int or None
        Seed of ``numpy.random.default_rng``.
    level_bp : float array (n_days,), optional
        The curve's level α_t on each day (bp), in place of α and its walk (an in-sample check
        of a moving level: its smoothed path, `curve_level.CurveLevel.daily`).

    Returns
    -------
    float64 (n_paths, n_days)
        The spread, SOFR − IORB (bp).
    """
    days = pd.DatetimeIndex(days)
    x = np.asarray(ratio, dtype=float)
    if x.shape != (len(days),):
        raise ValueError(f"ratio of shape {x.shape}: one value per day ({len(days)}) expected")
    dc, sp, srf = config.demand_curve, config.spread, config.srf
    size = (n_paths, len(days))
    rng = np.random.default_rng(seed)
    eta = rng.standard_t(sp.noise_t_df, size) * math.sqrt((sp.noise_t_df - 2.0) / sp.noise_t_df)
    u_jump = 1.0 - rng.random(size)  # in (0, 1]: its log is finite
    z_stigma = rng.standard_normal(size)
    z_walk = rng.standard_normal(size)

    h = shape(dc.family, x, dc.lambda_, dc.x0)
    gamma_h = calendar_gamma_h(calendar_flags(days), config_gamma(config))
    noise = lfilter([1.0], [1.0, -sp.noise_ar], (sp.noise_sd0_bp + sp.noise_sd1_bp * h) * eta)
    step_sd = np.full(len(days), dc.alpha_walk_sd_bp)
    step_sd[:1] = math.hypot(dc.alpha_start_sd_bp, dc.alpha_walk_sd_bp)
    alpha = dc.alpha_bp + np.cumsum(step_sd * z_walk, axis=1)
    if level_bp is not None:
        alpha = np.broadcast_to(np.asarray(level_bp, dtype=float), size)
    latent = alpha + (dc.beta_bp + gamma_h) * h + noise

    # a jump when u < p; given one, u / p is uniform on (0, 1): its log sets the exponential size
    log_p = np.minimum(0.0, log_or_minus_inf(sp.jump_p0) - sp.jump_lambda * (x - dc.x0))
    log_ratio = np.log(u_jump) - log_p
    jumped = log_ratio < 0.0
    latent[jumped] -= sp.jump_mean_bp * log_ratio[jumped]

    spread = latent
    if srf.enabled:
        ceiling = srf.rate_above_iorb_bp + np.exp(
            math.log(srf.stigma_median_bp) + srf.stigma_log_sd * z_stigma
        )
        spread = np.where(latent > ceiling, ceiling + srf.leak * (latent - ceiling), latent)
    if sp.floor_bp is not None:
        spread = np.maximum(spread, sp.floor_bp)
    return spread


def day_kind(days) -> np.ndarray:
    """``DAY_KINDS`` label of each day (str (n_days,)): ``period_end`` on month-, quarter- and
    year-end days and mid-month settlement days (`calendar_flags`), else ``ordinary``."""
    flags = calendar_flags(pd.DatetimeIndex(days))
    period_end = flags[list(PERIOD_END_FLAGS)].to_numpy().any(axis=1)
    return np.where(period_end, DAY_KINDS[1], DAY_KINDS[0])


def follows_business_day(days) -> np.ndarray:
    """bool (n_days,): the day's previous Fed business day is the previous entry of ``days``
    (the daily change is taken on these days only)."""
    idx = pd.DatetimeIndex(days)
    if idx.empty:
        return np.zeros(0, dtype=bool)
    grid = business_days(idx[0].date(), idx[-1].date())
    pos = np.searchsorted(grid, idx.to_numpy().astype("datetime64[D]"))
    return np.r_[False, np.diff(pos) == 1]


def coverage_se(n_days: int) -> float:
    """Binomial standard error (1) of a share of ``n_days`` independent days that cover with
    probability `NOMINAL_COVERAGE`: the yardstick of a coverage's distance from it (unlike
    √(p̂(1 − p̂)/n), not 0 when every day is covered); NaN for no day."""
    if n_days == 0:
        return math.nan
    return math.sqrt(NOMINAL_COVERAGE * (1.0 - NOMINAL_COVERAGE) / n_days)


def predictive_table(realized: pd.Series, simulated: np.ndarray, days, ratio, bins) -> pd.DataFrame:
    """Realized against simulated spread per ratio bin and day kind.

    Parameters
    ----------
    realized : pandas.Series (n_days,)
        Realized spread (bp) on ``days``, in their order.
    simulated : float array (n_paths, n_days)
        Simulated spread (bp), e.g. `simulate_spread` along ``ratio``.
    days : DatetimeIndex (n_days,)
        Business days, ascending.
    ratio : float array (n_days,)
        Reserve ratio x (1) of each day; it places the day in a bin.
    bins : float array (n_bins + 1,)
        Ascending edges of x (1); the first and last are inclusive.

    Returns
    -------
    pandas.DataFrame
        One row per (``kind``, bin): ``kind``, ``x_low``, ``x_high``, ``x_mid`` (1),
        ``n_days``; ``level_realized_qNN`` and ``level_simulated_qNN`` (bp), the `QUANTILES`
        of the spread (the simulated ones pooled over paths and the bin's days); ``n_changes``
        and ``change_realized_qNN``, ``change_simulated_qNN`` (bp), the same for the daily
        change Δs on days after a business day in the sample; ``coverage`` (1), the share of
        realized days inside the day's pointwise simulated `INTERVAL` across paths, and
        ``coverage_se`` (1), its binomial standard error (`coverage_se`).
    """
    s = np.asarray(realized, dtype=float)
    sim = np.asarray(simulated, dtype=float)
    x = np.asarray(ratio, dtype=float)
    edges = np.asarray(bins, dtype=float)
    if sim.ndim != 2 or sim.shape[1] != len(s) or x.shape != s.shape or len(days) != len(s):
        raise ValueError(
            f"realized {s.shape}, simulated {sim.shape}, ratio {x.shape}, days {len(days)}: "
            "one value per day expected, simulated as (n_paths, n_days)"
        )
    kinds = day_kind(days)
    in_bin = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    outside = (x < edges[0]) | (x > edges[-1])
    lo, hi = np.quantile(sim, INTERVAL, axis=0)
    inside = (s >= lo) & (s <= hi)
    change_ok = follows_business_day(days)
    change = np.r_[np.nan, np.diff(s)]
    sim_change = np.c_[np.full(len(sim), np.nan), np.diff(sim, axis=1)]

    def quantiles(values: np.ndarray, prefix: str) -> dict[str, float]:
        if values.size == 0:
            return {f"{prefix}_{_q(q)}": np.nan for q in QUANTILES}
        values = np.quantile(values, QUANTILES)
        return {f"{prefix}_{_q(q)}": float(v) for q, v in zip(QUANTILES, values, strict=True)}

    rows = []
    for kind in DAY_KINDS:
        for b in range(len(edges) - 1):
            sel = (kinds == kind) & (in_bin == b) & ~outside
            moved = sel & change_ok
            n = int(sel.sum())
            share = inside[sel].mean() if n else np.nan
            rows.append(
                {
                    "kind": kind,
                    "x_low": edges[b],
                    "x_high": edges[b + 1],
                    "x_mid": 0.5 * (edges[b] + edges[b + 1]),
                    "n_days": n,
                    **quantiles(s[sel], "level_realized"),
                    **quantiles(sim[:, sel], "level_simulated"),
                    "n_changes": int(moved.sum()),
                    **quantiles(change[moved], "change_realized"),
                    **quantiles(sim_change[:, moved], "change_simulated"),
                    "coverage": share,
                    "coverage_se": coverage_se(n),
                }
            )
    return pd.DataFrame(rows)


def predictive_figure(table: pd.DataFrame, path: str | Path) -> Path:
    """Realized against simulated quantiles of the spread's level and daily change, per ratio
    bin midpoint: 2 × 2 panels (rows: day kinds; columns: level, change), written as PNG.

    Parameters
    ----------
    table : pandas.DataFrame
        `predictive_table`'s output.
    path : str or Path
        The PNG to write (its folder is created); replaced atomically.
    """
    fig, _ = figure_canvas(2 * PANEL_WIDTH_IN, len(DAY_KINDS) * PANEL_HEIGHT_IN)
    axes = fig.subplots(len(DAY_KINDS), 2, squeeze=False)
    low, mid, high = (_q(q) for q in QUANTILES)
    for row, kind in enumerate(DAY_KINDS):
        part = table[table["kind"] == kind].sort_values("x_mid")
        x = part["x_mid"].to_numpy() * PERCENT_PER_UNIT
        for col, (what, label) in enumerate((("level", "spread"), ("change", "daily change Δs"))):
            ax = axes[row, col]
            sim = {q: part[f"{what}_simulated_{q}"].to_numpy() for q in (low, mid, high)}
            real = {q: part[f"{what}_realized_{q}"].to_numpy() for q in (low, mid, high)}
            ax.fill_between(
                x, sim[low], sim[high], color=FORECAST, alpha=BAND_OPACITY, label="simulated 5–95%"
            )
            ax.plot(x, sim[mid], color=FORECAST, marker="o", label="simulated median")
            ax.plot(x, real[mid], color=REALIZED, marker="o", label="realized median")
            for q in (low, high):
                marker = "v" if q == low else "^"
                ax.plot(
                    x,
                    real[q],
                    color=REALIZED,
                    marker=marker,
                    linestyle="--",
                    label="realized 5% / 95%",
                )
            if what == "level":
                lines = [
                    f"x {lo * PERCENT_PER_UNIT:.1f}–{hi * PERCENT_PER_UNIT:.1f}%: "
                    f"{share:.2f} ± {se:.2f} (n = {n})"
                    for lo, hi, share, se, n in part[
                        ["x_low", "x_high", "coverage", "coverage_se", "n_days"]
                    ].itertuples(index=False)
                ]
                ax.text(
                    *COVERAGE_TEXT_AT,
                    "in the simulated 90% interval:\n" + "\n".join(lines),
                    transform=ax.transAxes,
                    ha="right",
                    va="top",
                    fontsize="x-small",
                    bbox=COVERAGE_BOX,
                )
            ax.set_title(f"{kind.replace('_', '-')} days: {label}", fontsize="medium")
            ax.set_xlabel("reserve ratio x, bin midpoint")
            ax.set_ylabel("SOFR − IORB, bp" if what == "level" else "Δs, bp")
            ax.xaxis.set_major_formatter(PercentFormatter(decimals=1))
            ax.grid(True, color="0.88", linewidth=0.6)
            ax.set_axisbelow(True)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    fig.legend(
        list(unique.values()),
        list(unique),
        loc="outside lower center",
        ncols=len(unique),
        frameon=False,
        fontsize="small",
    )
    fig.suptitle(
        "SOFR − IORB: realized vs simulated along the realized reserve ratio, by ratio bin",
        fontsize="medium",
    )
    return save_png(fig, path)


def _weekly_ratio(market, config: Config, where) -> pd.Series:
    """The calibration's weekly reserve ratio (1): bank assets on the reserves' dates bridged at
    the config's bank-asset growth mid-point (``engine.calibrate.pipeline``)."""
    growth = config.bank_assets.growth_per_year.mid
    bank, _ = bank_assets_on_reserve_dates(market, config, growth)
    ratio_weekly = _ratio(market, bank)
    if ratio_weekly is None:
        raise ValueError(f"{where}: no reserve ratio (WRESBAL, bank assets)")
    return ratio_weekly


def realized_spread_and_ratio(market, config: Config, where) -> tuple[pd.Series, pd.Series]:
    """The realized spread (bp) and the daily reserve ratio (1) the calibration uses, on the
    days of ``market`` (`load_market_data`, cut to the window) that have both (series indexed
    by those days). The ratio is the weekly one moved by the daily TGA and ON RRP where both
    are daily; ``where`` names the data in errors."""
    if market.spread_bp is None or market.reserves_bn is None:
        raise ValueError(f"{where}: no spread or no reserves in the window")
    ratio_weekly = _weekly_ratio(market, config, where)
    growth = config.bank_assets.growth_per_year.mid
    daily, _ = _daily_ratio(market, config, growth, ratio_weekly)
    both = pd.concat([market.spread_bp.rename("spread"), daily.rename("ratio")], axis=1).dropna()
    return both["spread"], both["ratio"]


def smoothed_level(market, config: Config, days, where) -> np.ndarray | None:
    """Where the config's curve level moves (a start or walk sd above 0): its smoothed path on
    ``days`` (bp, float64 (n_days,)), the local level refitted on ``market``'s window with the
    config's curve shape (`curve_level.fit_curve_level`); else None (the config's one α)."""
    dc = config.demand_curve
    if dc.alpha_walk_sd_bp == 0.0 and dc.alpha_start_sd_bp == 0.0:
        return None
    sample = weekly_curve_sample(market.spread_bp, _weekly_ratio(market, config, where))
    params = {"alpha_bp": dc.alpha_bp, "beta_bp": dc.beta_bp, "x0": dc.x0, "lambda": dc.lambda_}
    zero = np.zeros((len(params), len(params)))
    shape_of = CurveFit(dc.family, params, zero, 0.0, 0.0, 0, loss="", f_scale=0.0)
    return fit_curve_level(sample, shape_of).daily(days).to_numpy()


def predictive_check(
    data_dir: str | Path,
    config_path: str | Path,
    since,
    until,
    n_paths: int,
    seed: int | None,
) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """Simulate the config's spread along the realized ratio of [since, until] and tabulate it
    against the realized spread, in bins at the window's ratio quantiles `RATIO_BIN_LEVELS`.

    Returns
    -------
    table : pandas.DataFrame
        `predictive_table`'s output.
    realized : pandas.Series (n_days,)
        Realized spread (bp) on the days with a spread and a ratio.
    simulated : float64 (n_paths, n_days)
        Simulated spread (bp) on those days.
    """
    config = load_config(config_path)
    market = load_market_data(data_dir, until, since)  # nothing dated after ``until``
    realized, ratio = realized_spread_and_ratio(market, config, data_dir)
    days, x = realized.index, ratio.to_numpy()
    level = smoothed_level(market, config, days, data_dir)
    simulated = simulate_spread(config, days, x, n_paths, seed, level)
    bins = np.quantile(x, RATIO_BIN_LEVELS)
    table = predictive_table(realized, simulated, days, x, bins)
    return table, realized, simulated
