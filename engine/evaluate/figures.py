"""The evaluation's figures, one PNG each: PIT histograms, reliability diagrams, band coverage by
horizon and fans of past forecasts against what followed.

Drawn like the report's figures (``engine.figures``: private matplotlib figures on an Agg
canvas, no pyplot, written atomically). Probabilities and shares are drawn in %; PIT values on
their own 0–1 scale. Each forecaster keeps one Okabe–Ito colour across the panels of a figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..charts import OKABE_ITO, PERCENT, _finish
from ..figures import BANDS, FORECAST, REALIZED, _level, figure_canvas, month_axis, save_png

PANEL_WIDTH_IN = 4.2  # inches
PANEL_HEIGHT_IN = 3.4  # inches
FAN_PANEL_WIDTH_IN = 6.0  # inches: room for a month label every 1–2 months over ~2 years
ERROR_STYLE = dict(capsize=2.5, elinewidth=0.9, markersize=4)
NOMINAL_STYLE = dict(color="0.4", linestyle="--", linewidth=1.0)
DIAGONAL_STYLE = dict(color="0.4", linestyle=":", linewidth=1.0)
LEVEL_STYLES = {0.5: ("o", "-"), 0.9: ("s", "-.")}  # band level -> (marker, line style)
COVERAGE_COLUMNS = ("forecaster", "variable", "horizon", "level", "share", "ci_low", "ci_high")
FAN_KEYS = ("origin", "months", "quantiles", "realized", "realized_months", "variable", "unit")


def _panels(n: int, max_columns: int, width_in: float = PANEL_WIDTH_IN) -> tuple[Figure, list]:
    """A figure with ``n`` panels (each ``width_in`` inches wide) in rows of at most
    ``max_columns``; spare axes hidden."""
    if n == 0:
        raise ValueError("nothing to draw: no panels")
    columns = min(n, max_columns)
    rows = -(-n // columns)
    fig, _ = figure_canvas(width_in * columns, PANEL_HEIGHT_IN * rows)
    axes = list(fig.subplots(rows, columns, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _colours(names: Iterable[str]) -> dict[str, str]:
    """One Okabe–Ito colour per name, in order of first appearance."""
    unique = list(dict.fromkeys(names))
    return {name: OKABE_ITO[i % len(OKABE_ITO)] for i, name in enumerate(unique)}


def _shared_legend(fig: Figure, axes: list) -> None:
    """One legend under all panels, each label once (for panels that share their styles)."""
    entries: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    fig.legend(
        list(entries.values()),
        list(entries),
        loc="outside lower center",
        ncols=min(len(entries), 4),
        frameon=False,
        fontsize="small",
    )


def pit_histograms(
    pit_by_forecaster: Mapping[str, Mapping[str, np.ndarray]], path: str | Path, bins: int = 10
) -> Path:
    """PIT histograms: one panel per variable, one step line per forecaster.

    Parameters
    ----------
    pit_by_forecaster : dict[str, dict[str, float array (N,)]]
        PIT values in [0, 1] by forecaster, then by variable (e.g. ``{"model": {"spread_max":
        ..., "reserves_eom": ...}, "climatology": {...}}``); NaN values are left out.
    path : Path
        The PNG to write (its folder is created); replaced atomically.
    bins : int
        Equal-width bins over [0, 1].

    Returns
    -------
    Path
        ``path``.
    """
    variables = list(dict.fromkeys(v for inner in pit_by_forecaster.values() for v in inner))
    colours = _colours(pit_by_forecaster)
    edges = np.linspace(0.0, 1.0, bins + 1)
    fig, axes = _panels(len(variables), max_columns=3)
    for ax, variable in zip(axes, variables, strict=True):
        for forecaster, by_variable in pit_by_forecaster.items():
            values = np.asarray(by_variable.get(variable, []), dtype=float)
            values = values[np.isfinite(values)]
            if len(values) == 0:
                continue
            density, _ = np.histogram(values, bins=edges, density=True)
            label = f"{forecaster} (n={len(values)})"
            ax.stairs(density, edges, color=colours[forecaster], linewidth=1.6, label=label)
        ax.axhline(1.0, **NOMINAL_STYLE, label="uniform (calibrated)")
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(bottom=0.0)
        _finish(ax, f"PIT of {variable}", "PIT (unitless, 0–1)", "density (per unit PIT)")
    return save_png(fig, path)


def reliability_diagrams(
    tables: Mapping[str, Mapping[str, pd.DataFrame]], path: str | Path
) -> Path:
    """Reliability diagrams: one panel per tier, one set of points per forecaster.

    Parameters
    ----------
    tables : dict[str, dict[str, pandas.DataFrame]]
        ``engine.evaluate.scores.reliability_table`` results by tier (e.g. ``"tight"``,
        ``"stress"``), then by forecaster. Each bin is drawn at (mean forecast, observed
        frequency) with its Wilson 95% interval and its number of cases beside it.
    path : Path
        The PNG to write (its folder is created); replaced atomically.

    Returns
    -------
    Path
        ``path``.
    """
    colours = _colours(name for inner in tables.values() for name in inner)
    fig, axes = _panels(len(tables), max_columns=3)
    for ax, (tier, by_forecaster) in zip(axes, tables.items(), strict=True):
        ax.plot([0.0, PERCENT], [0.0, PERCENT], **DIAGONAL_STYLE, label="perfect reliability")
        for forecaster, table in by_forecaster.items():
            if table.empty:
                continue
            x = table["mean_predicted"].to_numpy(float) * PERCENT
            y = table["observed"].to_numpy(float) * PERCENT
            low = table["ci_low"].to_numpy(float) * PERCENT
            high = table["ci_high"].to_numpy(float) * PERCENT
            colour = colours[forecaster]
            label = f"{forecaster} ({int(table['n'].sum())} cases)"
            yerr = np.clip([y - low, high - y], 0.0, None)
            ax.errorbar(x, y, yerr=yerr, fmt="o", color=colour, label=label, **ERROR_STYLE)
            for xi, yi, n in zip(x, y, table["n"], strict=True):
                ax.annotate(
                    f"{int(n)}",
                    (xi, yi),
                    xytext=(4, -9),
                    textcoords="offset points",
                    fontsize=6.5,
                    color=colour,
                )
        ax.set_xlim(0.0, PERCENT)
        ax.set_ylim(0.0, PERCENT)
        ax.set_aspect("equal")
        _finish(
            ax,
            f"Reliability, {tier} tier (numbers: cases)",
            "forecast probability (%)",
            "observed frequency (%)",
        )
    return save_png(fig, path)


def coverage_by_horizon(coverage: pd.DataFrame, path: str | Path) -> Path:
    """Share of realized values inside the central bands by horizon: one panel per variable.

    Parameters
    ----------
    coverage : pandas.DataFrame
        Columns ``forecaster``, ``variable``, ``horizon`` (months after the origin, 1..H),
        ``level`` (nominal band coverage, e.g. 0.5 or 0.9), ``share``, ``ci_low``, ``ci_high``
        (the realized share and its Wilson 95% interval, unitless). One line per forecaster
        and level, with dashed lines at the nominal levels.
    path : Path
        The PNG to write (its folder is created); replaced atomically.

    Returns
    -------
    Path
        ``path``.
    """
    missing = [c for c in COVERAGE_COLUMNS if c not in coverage.columns]
    if missing:
        raise ValueError(f"coverage lacks the columns {missing}")
    forecasters = list(dict.fromkeys(coverage["forecaster"]))
    colours = _colours(forecasters)
    levels = sorted(set(coverage["level"].astype(float)))
    dodge = 0.08  # months between the forecasters' points at one horizon
    fig, axes = _panels(coverage["variable"].nunique(), max_columns=3)
    for ax, (variable, rows) in zip(axes, coverage.groupby("variable", sort=False), strict=True):
        for level in levels:
            ax.axhline(level * PERCENT, **NOMINAL_STYLE, label=f"nominal {level:.0%}")
        for (forecaster, level), line in rows.groupby(["forecaster", "level"], sort=False):
            line = line.sort_values("horizon")
            offset = (forecasters.index(forecaster) - (len(forecasters) - 1) / 2) * dodge
            share = line["share"].to_numpy(float) * PERCENT
            yerr = np.clip(
                [
                    share - line["ci_low"].to_numpy(float) * PERCENT,
                    line["ci_high"].to_numpy(float) * PERCENT - share,
                ],
                0.0,
                None,
            )
            marker, linestyle = LEVEL_STYLES.get(float(level), ("^", ":"))
            ax.errorbar(
                line["horizon"].to_numpy(float) + offset,
                share,
                yerr=yerr,
                color=colours[forecaster],
                marker=marker,
                linestyle=linestyle,
                label=f"{forecaster}, {float(level):.0%} band",
                **ERROR_STYLE,
            )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0.0, PERCENT)
        title, xlabel = f"Band coverage of {variable}", "horizon (months after the origin)"
        _finish(ax, title, xlabel, "realized inside the band (%)", legend=False)
    _shared_legend(fig, axes)
    return save_png(fig, path)


def forecast_fans(fans: Sequence[Mapping], path: str | Path) -> Path:
    """Past forecasts against what followed: one fan panel per forecast.

    Parameters
    ----------
    fans : list of dict
        Each with ``origin`` (str ``"YYYY-MM"``), ``months`` (DatetimeIndex (M,) of month
        starts), ``quantiles`` (dict level -> float array (M,), levels 0.05, 0.25, 0.5, 0.75,
        0.95; the 5–95% and 25–75% bands and the median are drawn when present), ``realized``
        (float array (R,), NaN skipped) over ``realized_months`` (DatetimeIndex (R,), a wider
        window), ``variable`` (label) and ``unit`` (e.g. ``"$bn"``).
    path : Path
        The PNG to write (its folder is created); replaced atomically.

    Returns
    -------
    Path
        ``path``.
    """
    for fan in fans:
        missing = [key for key in FAN_KEYS if key not in fan]
        if missing:
            raise ValueError(f"a fan lacks the keys {missing}")
    fig, axes = _panels(len(fans), max_columns=2, width_in=FAN_PANEL_WIDTH_IN)
    for i, (ax, fan) in enumerate(zip(axes, fans, strict=True)):
        months = pd.DatetimeIndex(fan["months"])
        for lower, upper, alpha in BANDS:
            lo, hi = _level(fan["quantiles"], lower), _level(fan["quantiles"], upper)
            if lo is not None and hi is not None:
                ax.fill_between(
                    months,
                    lo,
                    hi,
                    color=FORECAST,
                    alpha=alpha,
                    linewidth=0,
                    label=f"{lower:.0%}–{upper:.0%} band",
                )
        median = _level(fan["quantiles"], 0.5)
        if median is not None:
            ax.plot(months, median, color=FORECAST, linewidth=2.0, label="median")
        realized = pd.Series(
            np.asarray(fan["realized"], dtype=float), index=pd.DatetimeIndex(fan["realized_months"])
        ).dropna()
        ax.plot(
            realized.index,
            realized.to_numpy(),
            color=REALIZED,
            linewidth=1.5,
            marker="o",
            markersize=3,
            zorder=3,
            label="realized",
        )
        if len(months):
            ax.axvline(months[0], color="0.4", linestyle=":", linewidth=1.0, label="forecast start")
        month_axis(ax, months.union(pd.DatetimeIndex(fan["realized_months"])))
        ax.set_title(f"{fan['variable']}, forecast from {fan['origin']}")
        ax.set_xlabel("month")
        ax.set_ylabel(f"{fan['variable']} ({fan['unit']})")
        ax.grid(True, color="0.88", linewidth=0.6)
        if i == 0:  # the same styles in every panel
            ax.legend(loc="best", frameon=False, fontsize="small")
    return save_png(fig, path)
