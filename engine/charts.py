"""The report's figures, one PNG each, from the engine's result datasets (see engine.products):
a cube's crisis heatmap, fan charts and event tiers; a sweep's odds against pace; a required
pace search; a sensitivity tornado.

Figures are drawn on private matplotlib figures (``engine.figures.figure_canvas``: no pyplot,
no global state) and written atomically (``engine.figures.save_png``). Probabilities are drawn
in %, balances in $bn, spreads in bp; error bars are 95% (±1.96 Monte Carlo standard errors, or
the dataset's Wilson interval where it has one). Colours: the Okabe–Ito palette for lines and
bars, a perceptually uniform sequential colormap for the heatmap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib import colormaps
from matplotlib.colors import Normalize

from .figures import fan_chart, figure_canvas, month_axis, save_png
from .report import HEADLINE_EVENT

PERCENT = 100.0
Z95 = 1.96  # two-sided 95% normal quantile
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
HEATMAP_CMAP = "cividis"
ANNOTATE_MAX_MONTHS = 36  # heatmap cells carry their value up to this many months
HISTORY_MONTHS = 12  # realized months drawn before a cube's first month
MIXTURE = "mixture"
ERROR_STYLE = dict(ecolor="0.25", elinewidth=0.9, capsize=2.5)

# Cube variable -> (title, y-axis label with units, how the realized monthly value is formed
# from the MarketData field).
FAN_VARIABLES: dict[str, tuple[str, str, str, str]] = {
    "reserves_eom": ("Month-end reserves", "reserves ($bn)", "reserves_bn", "last"),
    "spread_max": ("Month-max SOFR − IORB", "SOFR − IORB, month max (bp)", "spread_bp", "max"),
    "srf_max": ("Month-max SRF take-up", "SRF take-up, month max ($bn)", "srf_bn", "max"),
    "tga_eom": ("Month-end TGA balance", "TGA ($bn)", "tga_bn", "last"),
}


def months_of(ds: xr.Dataset) -> pd.DatetimeIndex:
    """The dataset's ``time`` coordinate (month starts) as a DatetimeIndex."""
    return pd.DatetimeIndex(ds["time"].values)


def month_label(ts) -> str:
    """``"Jan 2026"``."""
    return pd.Timestamp(ts).strftime("%b %Y")


def number(x: float) -> str:
    """A config value or pace for labels: 4 significant digits, "n/a" for NaN."""
    x = float(x)
    return "n/a" if not np.isfinite(x) else f"{x:.4g}"


def percent_of(alpha: float) -> str:
    """A probability as a short percentage: 0.05 -> ``"5%"``, 0.025 -> ``"2.5%"``."""
    return f"{float(alpha) * PERCENT:.4g}%"


def _color(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


def _finish(ax, title: str, xlabel: str, ylabel: str, legend: bool | str = True) -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, color="0.88", linewidth=0.6)
    ax.set_axisbelow(True)
    if legend == "below":  # outside the axes, under them
        ax.figure.legend(loc="outside lower center", ncols=3, frameon=False, fontsize="small")
    elif legend:
        ax.legend(loc="best", frameon=False, fontsize="small")


def _sym_err(stderr) -> np.ndarray:
    """±1.96 s.e. in percentage points (NaN drawn as no bar)."""
    return np.nan_to_num(Z95 * PERCENT * np.asarray(stderr, dtype=float), nan=0.0)


# ---------------------------------------------------------------------------------------- cube


def crisis_heatmap(cube: xr.Dataset, path: str | Path, event: str = HEADLINE_EVENT) -> Path:
    """Heatmap of ``event_probability`` of ``event`` (P(at least one event day in the month),
    %) by regime (rows; the mixture as a last row when the cube has one) and month (columns);
    each cell carries its value when there are at most 36 months. Returns ``path``."""
    months = months_of(cube)
    rows = [str(r) for r in cube["regime"].values]
    blocks = [cube["event_probability"].sel(event=event).transpose("regime", "time").to_numpy()]
    if "mixture_event_probability" in cube:
        rows.append(MIXTURE)
        blocks.append(cube["mixture_event_probability"].sel(event=event).to_numpy()[None, :])
    grid = np.vstack(blocks).astype(float) * PERCENT
    finite = grid[np.isfinite(grid)]
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    norm, cmap = Normalize(0.0, top), colormaps[HEATMAP_CMAP]
    n_rows, n_months = grid.shape
    width = 8.0 if n_months <= 12 else min(18.0, 3.0 + 0.42 * n_months)
    fig, _ = figure_canvas(width, 1.9 + 0.42 * n_rows)
    ax = fig.add_subplot()
    image = ax.imshow(
        np.ma.masked_invalid(grid), cmap=cmap, norm=norm, aspect="auto", interpolation="nearest"
    )
    fig.colorbar(image, ax=ax).set_label(f"P({event} day in month), %")
    if n_months <= ANNOTATE_MAX_MONTHS:
        size = 8 if n_months <= 18 else 6.5
        for (i, j), value in np.ndenumerate(grid):
            if np.isfinite(value):
                r, g, b, _ = cmap(norm(value))
                dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5
                ax.text(
                    j,
                    i,
                    f"{value:.2f}" if round(value, 2) < 1 else f"{value:.1f}",
                    ha="center",
                    va="center",
                    fontsize=size,
                    color="white" if dark else "black",
                )
    step = next((k for k in (1, 2, 3, 4, 6, 12) if n_months <= 12 * k), 12)
    ticks = list(range(0, n_months, step))
    ax.set_xticks(ticks, [months[j].strftime("%b\n%Y") for j in ticks])
    ax.set_yticks(range(n_rows), rows)
    if "mixture_event_probability" in cube:
        ax.axhline(n_rows - 1.5, color="white", linewidth=2.0)
    ax.set_title(f"{event.capitalize()} odds by month: P(at least one {event} day in the month)")
    ax.set_xlabel("month")
    ax.set_ylabel("regime")
    return save_png(fig, path)


def history_months(months: pd.DatetimeIndex, n: int = HISTORY_MONTHS) -> pd.DatetimeIndex:
    """The ``n`` month starts before ``months[0]``."""
    return pd.date_range(end=months[0] - pd.offsets.MonthBegin(1), periods=n, freq="MS")


def realized_monthly(market, months: pd.DatetimeIndex, variable: str) -> pd.Series:
    """The realized monthly value of a fan variable (``FAN_VARIABLES``) in each of ``months``
    (month starts): reserves and TGA the last value in the month, spread and SRF take-up the
    month's largest; NaN where the series is None, has no point in the month, or the month does
    not end on or before ``market.until``. ``market``: a MarketData (or an object with
    ``until`` and the series attributes). Units as the MarketData field ($bn or bp)."""
    field, how = FAN_VARIABLES[variable][2:]
    empty = pd.Series(np.nan, index=months, dtype=float)
    series = getattr(market, field, None)
    if series is None:
        return empty
    until = pd.Timestamp(market.until)
    series = series.astype(float).dropna()
    series = series[series.index <= until]
    if series.empty:
        return empty
    by_month = getattr(series.groupby(series.index.to_period("M")), how)()
    by_month.index = by_month.index.to_timestamp()
    whole = months + pd.offsets.MonthEnd(0) <= until
    return by_month.reindex(months).where(whole).astype(float)


def cube_fan_chart(
    cube: xr.Dataset, variable: str, regime: str, path: str | Path, market=None
) -> Path:
    """Fan chart (5–95%, 25–75%, median) of ``variable`` (a key of ``FAN_VARIABLES``, over
    ``(regime, time, quantile)``) for one regime. With ``market``, the realized monthly values
    of the 12 months before the cube's first month and of the horizon's months the data cover
    are drawn on top and the x axis spans both. Returns ``path``."""
    title, ylabel = FAN_VARIABLES[variable][:2]
    months = months_of(cube)
    values = cube[variable].sel(regime=regime)
    quantiles = {float(q): values.sel(quantile=q).to_numpy() for q in cube["quantile"].values}
    realized = history = None
    if market is not None:
        history = history_months(months)
        realized = realized_monthly(market, history.append(months), variable)
        title = f"{title}, regime {regime}: forecast and realized"
    else:
        title = f"{title}, regime {regime}"
    return fan_chart(months, quantiles, realized, title, ylabel, path, history_months=history)


def event_tiers(cube: xr.Dataset, path: str | Path) -> Path:
    """Grouped bars: for each event tier, each regime's (and the mixture's) cumulative
    probability of at least one event day by the end of the horizon, %, with 95% error bars
    (±1.96 s.e.). Returns ``path``."""
    events = [str(e) for e in cube["event"].values]
    last = cube["time"].values[-1]
    groups = []
    for regime in cube["regime"].values:
        p = cube["cumulative_event_probability"].sel(regime=regime, time=last)
        se = cube["cumulative_event_probability_stderr"].sel(regime=regime, time=last)
        groups.append((f"regime {regime}", p, se))
    if "mixture_cumulative_event_probability" in cube:
        p = cube["mixture_cumulative_event_probability"].sel(time=last)
        se = cube["mixture_cumulative_event_probability_stderr"].sel(time=last)
        groups.append((MIXTURE, p, se))
    x = np.arange(len(events), dtype=float)
    width = 0.8 / max(len(groups), 1)
    fig, _ = figure_canvas(max(8.0, 1.1 * len(events) + 1.5), 4.8)
    ax = fig.add_subplot()
    for i, (label, p, se) in enumerate(groups):
        offset = (i - (len(groups) - 1) / 2) * width
        ax.bar(
            x + offset,
            p.sel(event=events).to_numpy() * PERCENT,
            width,
            color=_color(i),
            label=label,
            yerr=_sym_err(se.sel(event=events)),
            error_kw=ERROR_STYLE,
        )
    tilt = dict(rotation=25, ha="right") if len(events) > 5 else {}
    ax.set_xticks(x, events, **tilt)
    ax.set_ylim(bottom=0.0)
    months = cube.sizes["time"]
    title = f"Event odds over the {months}-month horizon (by end of {month_label(last)})"
    _finish(ax, title, "event tier", "P(at least one event day), %")
    return save_png(fig, path)


# --------------------------------------------------------------------------------------- sweep


def sweep_chart(sweep: xr.Dataset, path: str | Path, event: str = HEADLINE_EVENT) -> Path:
    """Cumulative P(at least one ``event`` day), %, against the monthly RMP pace ($bn/month):
    by the end of the horizon and, when the horizon is longer than 12 months, within 12 months;
    95% error bars. Returns ``path``."""
    order = np.argsort(sweep["pace"].to_numpy().astype(float))
    pace = sweep["pace"].to_numpy().astype(float)[order]
    p = sweep["cumulative_event_probability"].sel(event=event)
    se = sweep["cumulative_event_probability_stderr"].sel(event=event)
    n_months = sweep.sizes["time"]
    months = months_of(sweep)
    lines = [(n_months - 1, f"within {n_months} months (by end of {month_label(months[-1])})")]
    if n_months > 12:
        lines.append((11, f"within 12 months (by end of {month_label(months[11])})"))
    fig, _ = figure_canvas()
    ax = fig.add_subplot()
    for i, (t, label) in enumerate(lines):
        y = p.isel(time=t).transpose("pace").to_numpy()[order] * PERCENT
        err = _sym_err(se.isel(time=t).transpose("pace").to_numpy()[order])
        ax.errorbar(
            pace,
            y,
            yerr=err,
            color=_color(i),
            marker="o",
            markersize=4,
            linewidth=1.5,
            capsize=3,
            label=label,
        )
    ax.set_ylim(bottom=0.0)
    rules = str(sweep.attrs.get("sweep_regime", "") or "")
    how = f"regime {rules}'s rules at each pace" if rules else "constant pace"
    title = f"P(at least one {event} day) against RMP pace ({how})"
    _finish(ax, title, "RMP pace ($bn/month)", f"P({event}), %")
    return save_png(fig, path)


# ------------------------------------------------------------------------------- required pace


def required_pace_title(ds: xr.Dataset) -> str:
    """``"Required RMP pace: P(crisis within 12 months) ≤ 5%: 37.5 $bn/month"``,
    ``"…: at most 0 $bn/month (range bottom)"`` or ``"…: not found in 0–80
    $bn/month"``."""
    a = ds.attrs
    target = (
        f"Required RMP pace: P({a.get('event', HEADLINE_EVENT)} within "
        f"{int(a.get('within_months', 0))} months) ≤ {percent_of(a.get('alpha', np.nan))}"
    )
    if int(a.get("found", 0)) and np.isfinite(float(a.get("required_pace_bn", np.nan))):
        if int(a.get("at_range_bottom", 0)):
            at_most = number(a["required_pace_bn"])
            return f"{target}: at most {at_most} $bn/month (range bottom)"
        return f"{target}: {number(a['required_pace_bn'])} $bn/month"
    low, high = number(a.get("pace_low_bn", np.nan)), number(a.get("pace_high_bn", np.nan))
    return f"{target}: not found in {low}–{high} $bn/month"


def required_pace_chart(ds: xr.Dataset, path: str | Path) -> Path:
    """The searched paces' P(at least one event day within ``within_months``), %, with their
    Wilson 95% intervals against pace ($bn/month); a horizontal line at ``alpha``, and when a
    pace was found a vertical line at it and a band for its interval. Returns ``path``."""
    a = ds.attrs
    pace = ds["search_pace"].to_numpy().astype(float)
    p = ds["search_probability"].to_numpy().astype(float) * PERCENT
    lower = ds["search_lower"].to_numpy().astype(float) * PERCENT
    upper = ds["search_upper"].to_numpy().astype(float) * PERCENT
    err = np.nan_to_num(np.clip(np.vstack([p - lower, upper - p]), 0.0, None), nan=0.0)
    fig, _ = figure_canvas()
    ax = fig.add_subplot()
    ax.errorbar(
        pace,
        p,
        yerr=err,
        fmt="o",
        color=_color(0),
        markersize=4,
        capsize=3,
        label="evaluated pace (Wilson 95%)",
    )
    alpha = float(a.get("alpha", np.nan))
    if np.isfinite(alpha):
        ax.axhline(
            alpha * PERCENT,
            color=_color(1),
            linestyle="--",
            linewidth=1.2,
            label=f"target {percent_of(alpha)}",
        )
    required = float(a.get("required_pace_bn", np.nan))
    if int(a.get("found", 0)) and np.isfinite(required):
        lo, hi = (
            float(a.get("interval_lower_bn", np.nan)),
            float(a.get("interval_upper_bn", np.nan)),
        )
        at_bottom = bool(int(a.get("at_range_bottom", 0)))
        if np.isfinite(lo) and np.isfinite(hi) and not at_bottom:
            ax.axvspan(
                lo,
                hi,
                color=_color(2),
                alpha=0.18,
                linewidth=0,
                label=f"95% interval {number(lo)}–{number(hi)}",
            )
        what = f"at most {number(required)} (range bottom)" if at_bottom else number(required)
        ax.axvline(required, color=_color(2), linewidth=1.8, label=f"required pace {what}")
    ax.set_ylim(bottom=0.0)
    rules = str(a.get("regime", "") or "")
    how = f"regime {rules}'s rules" if rules else "constant pace"
    event, within = a.get("event", HEADLINE_EVENT), int(a.get("within_months", 0))
    _finish(
        ax,
        f"{required_pace_title(ds)}\n({how})",
        "RMP pace ($bn/month)",
        f"P({event} within {within} months), %",
    )
    return save_png(fig, path)


def required_pace_months_chart(ds: xr.Dataset, path: str | Path) -> Path:
    """At the required pace: P(at least one event day in each month) and by each month
    (cumulative), %, with 95% error bars. Needs the found pace's ``event_probability`` and
    ``cumulative_event_probability`` over ``time``. Returns ``path``."""
    months = months_of(ds)
    event = ds.attrs.get("event", HEADLINE_EVENT)
    fig, _ = figure_canvas()
    ax = fig.add_subplot()
    series = [
        ("event_probability", "in the month"),
        ("cumulative_event_probability", "by the month"),
    ]
    for i, (name, label) in enumerate(series):
        y = ds[name].to_numpy() * PERCENT
        err = _sym_err(ds[f"{name}_stderr"].to_numpy())
        shift = pd.Timedelta(days=3 * (2 * i - 1))  # the two sets of error bars side by side
        ax.errorbar(
            months + shift,
            y,
            yerr=err,
            color=_color(i),
            marker="o",
            markersize=4,
            linewidth=1.5,
            capsize=3,
            label=f"P(at least one {event} day {label})",
        )
    month_axis(ax, months)
    ax.set_ylim(bottom=0.0)
    pace = number(ds.attrs.get("required_pace_bn", np.nan))
    _finish(
        ax,
        f"{event.capitalize()} odds by month at the required pace, {pace} $bn/month",
        "month",
        f"P({event}), %",
    )
    return save_png(fig, path)


# --------------------------------------------------------------------------------- sensitivity


def tornado_chart(ds: xr.Dataset, path: str | Path) -> Path:
    """Tornado chart: for each config key (largest effect on top) bars from the base
    probability to the probability at the key's low and at its high value, %, each labelled
    with that value, with ±1.96 s.e. of the difference; a vertical line at the base.
    Returns ``path``."""
    a = ds.attrs
    keys = [str(k) for k in ds["parameter"].values]
    n = len(keys)
    base = float(a.get("probability_base", np.nan)) * PERCENT
    fig, _ = figure_canvas(9.0, max(3.2, 1.4 + 0.55 * n))
    ax = fig.add_subplot()
    y = np.arange(n, dtype=float)[::-1]  # the first key (largest effect) on top
    sides = (("low", _color(0), 0.2), ("high", _color(1), -0.2))
    for side, color, shift in sides:
        prob = ds[f"probability_{side}"].to_numpy().astype(float) * PERCENT
        err = _sym_err(ds[f"difference_{side}_stderr"].to_numpy())
        ax.barh(y + shift, prob - base, left=base, height=0.38, color=color, label=f"{side} value")
        ax.errorbar(prob, y + shift, xerr=err, fmt="none", **ERROR_STYLE)
        for yi, pi, ei, value in zip(y, prob, err, ds[f"{side}_value"].to_numpy(), strict=True):
            if np.isfinite(pi):
                right = pi >= base
                ax.annotate(
                    number(value),
                    (pi + ei if right else pi - ei, yi + shift),
                    xytext=(4 if right else -4, 0),
                    textcoords="offset points",
                    ha="left" if right else "right",
                    va="center",
                    fontsize=7,
                )
    if np.isfinite(base):
        ax.axvline(base, color="0.2", linewidth=1.2, label=f"base {base:.2f}%")
    ax.set_yticks(y, keys)
    ax.margins(x=0.15)
    event, within = a.get("event", HEADLINE_EVENT), int(a.get("within_months", 0))
    who = str(a.get("regime", "") or "")
    who = "prior-weighted mixture" if who == MIXTURE else f"regime {who}" if who else "—"
    _finish(
        ax,
        f"Sensitivity of P({event} within {within} months), {who}",
        f"P({event} within {within} months), %",
        "config key",
        legend="below",
    )
    return save_png(fig, path)
