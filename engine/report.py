"""Readable text tables of a cube."""

from __future__ import annotations

import numpy as np
import xarray as xr

HEADLINE_EVENT = "crisis"
PERCENT = 100.0
# Paths with the event below which an estimate is marked: its normal-approximation error bar
# is rough there (the relative error of the standard error itself is about 1/√(2 count)); the
# cube's Wilson interval still holds.
FEW_PATHS = 30
MARK = "*"


def _cell(p: float, se: float, count: float) -> str:
    mark = MARK if count < FEW_PATHS else " "
    return f"{p * PERCENT:6.2f} ±{se * PERCENT:5.2f}{mark}"


def _seeds(ds: xr.Dataset) -> str:
    if "merged_seeds" in ds.attrs:
        return "seeds " + ", ".join(str(int(s)) for s in np.atleast_1d(ds.attrs["merged_seeds"]))
    return f"seed {ds.attrs.get('seed')}"


def headline_table(ds: xr.Dataset, event: str = HEADLINE_EVENT) -> str:
    """Monthly probability (%) ± standard error of ``event`` for each regime and the mixture,
    then the cumulative probability over the horizon. Estimates from fewer than FEW_PATHS paths
    with the event (for the mixture: under any of its regimes) are marked."""
    if event not in ds.event.values:
        raise KeyError(f"no event {event!r} in the cube (events: {list(ds.event.values)})")
    regimes = [str(r) for r in ds.regime.values]
    has_mixture = "mixture_event_probability" in ds
    columns = regimes + (["mixture"] if has_mixture else [])
    width = 15
    p = ds.event_probability.sel(event=event)
    se = ds.event_probability_stderr.sel(event=event)
    count = ds.event_count.sel(event=event).values  # (R, M)
    cumulative = np.cumsum(ds.first_event_count.sel(event=event).values, axis=-1)
    in_mixture = ds.weight.values == ds.weight.values  # NaN: not in the mixture
    lines = [
        f"P({event}) by month, % ± Monte Carlo standard error "
        f"({int(ds.n_paths.values[0]):,} paths per regime, {_seeds(ds)})",
        "month    " + "".join(f"{c:>{width}}" for c in columns),
    ]
    for i, month in enumerate(ds.time.values):
        cells = [_cell(p.values[r, i], se.values[r, i], count[r, i]) for r in range(len(regimes))]
        if has_mixture:
            mix = ds.mixture_event_probability.sel(event=event).values[i]
            mix_se = ds.mixture_event_probability_stderr.sel(event=event).values[i]
            cells.append(_cell(mix, mix_se, count[in_mixture, i].min()))
        label = np.datetime_as_string(month, unit="M")
        lines.append(f"{label:<9}" + "".join(f"{c:>{width}}" for c in cells))
    cum = ds.cumulative_event_probability.sel(event=event).isel(time=-1)
    cum_se = ds.cumulative_event_probability_stderr.sel(event=event).isel(time=-1)
    last = cumulative[:, -1]
    cells = [_cell(cum.values[r], cum_se.values[r], last[r]) for r in range(len(regimes))]
    if has_mixture:
        m = ds.mixture_cumulative_event_probability.sel(event=event).isel(time=-1)
        m_se = ds.mixture_cumulative_event_probability_stderr.sel(event=event).isel(time=-1)
        cells.append(_cell(float(m), float(m_se), last[in_mixture].min()))
    months = ds.sizes["time"]
    lines.append(f"{months:>2} months" + "".join(f"{c:>{width}}" for c in cells))
    if has_mixture:
        weights = ", ".join(
            f"{r} {w:.2f}" for r, w in zip(regimes, ds.weight.values, strict=True) if w == w
        )
        lines.append(f"mixture weights: {weights}")
    if any(cell.endswith(MARK) for line in lines[2:] for cell in line.split()):
        lines.append(
            f"{MARK} fewer than {FEW_PATHS} paths had the event: the ± is rough; the cube's Wilson "
            "interval (event_probability_lower, _upper) holds"
        )
    return "\n".join(line.rstrip() for line in lines)
