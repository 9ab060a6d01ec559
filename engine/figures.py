"""Backtest figures as PNG files, drawn on private matplotlib figures (no pyplot, no global
state) and written atomically: a failed write leaves no file and no temporary behind."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 120
# Okabe–Ito colours (distinguishable under the common colour-vision deficiencies).
FORECAST = "#0072B2"  # blue
REALIZED = "#D55E00"  # vermillion
BANDS = ((0.05, 0.95, 0.18), (0.25, 0.75, 0.38))  # (lower level, upper level, opacity)


def figure_canvas(width_in: float = 8.0, height_in: float = 4.5) -> tuple[Figure, FigureCanvasAgg]:
    """A new figure (size in inches) with its own Agg canvas, outside pyplot."""
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    return fig, FigureCanvasAgg(fig)


def save_png(fig: Figure, path: str | Path, dpi: int = DPI) -> Path:
    """Write ``fig`` to ``path`` as PNG through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as handle:  # the usual permissions (umask), unlike mkstemp
            fig.savefig(handle, format="png", dpi=dpi)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _level(quantiles: Mapping[float, np.ndarray], q: float) -> np.ndarray | None:
    """The values at quantile level ``q`` (matched to 1e-9), or None when absent."""
    for level, values in quantiles.items():
        if abs(float(level) - q) < 1e-9:
            return np.asarray(values, dtype=float)
    return None


def month_axis(ax, months: pd.DatetimeIndex) -> None:
    """Month labels ("Jan 2026") at every 1, 2, 3, 4, 6 or 12 months: at most about 12 labels."""
    step = next(k for k in (1, 2, 3, 4, 6, 12) if len(months) <= 12 * k) if len(months) else 1
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=range(1, 13, step)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    if len(months):
        pad = pd.Timedelta(days=10)
        ax.set_xlim(months[0] - pad, months[-1] + pad)


def fan_chart(
    months: pd.DatetimeIndex | Sequence,
    quantiles: Mapping[float, np.ndarray],
    realized: pd.Series | None,
    title: str,
    ylabel: str,
    path: str | Path,
    history_months: pd.DatetimeIndex | Sequence | None = None,
) -> Path:
    """Fan chart of a monthly forecast with the realized values on top, written as PNG.

    Parameters
    ----------
    months : DatetimeIndex (M,)
        Month starts of the forecast.
    quantiles : dict[float, array (M,)]
        Forecast values by quantile level. Drawn: the 5–95% and 25–75% bands and the median
        (levels 0.05, 0.95, 0.25, 0.75, 0.5), each only when its levels are present.
    realized : pd.Series or None
        Realized values indexed by month start, drawn as a line with markers; NaN skipped.
    title : str
    ylabel : str
        Y-axis label including units, e.g. ``"reserves ($bn)"``.
    path : Path
        The PNG to write (its folder is created); replaced atomically.
    history_months : DatetimeIndex or None
        Month starts outside the forecast (realized history) that the x axis also spans, with
        a dotted line at the forecast's first month; None (default): the forecast months only.

    Returns
    -------
    Path
        ``path``.
    """
    x = pd.DatetimeIndex(months)
    fig, _ = figure_canvas()
    ax = fig.add_subplot()
    for lower, upper, alpha in BANDS:
        lo, hi = _level(quantiles, lower), _level(quantiles, upper)
        if lo is not None and hi is not None:
            label = f"{lower:.0%}–{upper:.0%} band"
            ax.fill_between(x, lo, hi, color=FORECAST, alpha=alpha, linewidth=0, label=label)
    median = _level(quantiles, 0.5)
    if median is not None:
        ax.plot(x, median, color=FORECAST, linewidth=2.0, label="median")
    if realized is not None:
        known = realized.dropna()
        if not known.empty:
            style = dict(color=REALIZED, linewidth=1.5, marker="o", markersize=4, zorder=3)
            ax.plot(known.index, known.to_numpy(dtype=float), label="realized", **style)
    if history_months is not None and len(history_months) and len(x):
        ax.axvline(x[0], color="0.4", linestyle=":", linewidth=1.0, label="forecast start")
        x = x.union(pd.DatetimeIndex(history_months))
    month_axis(ax, x)
    ax.set_title(title)
    ax.set_xlabel("month")
    ax.set_ylabel(ylabel)
    ax.grid(True, color="0.85", linewidth=0.6)
    ax.legend(loc="best", frameon=False)
    return save_png(fig, path)
