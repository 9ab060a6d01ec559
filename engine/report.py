"""Readable text tables of a cube."""

from __future__ import annotations

import numpy as np
import xarray as xr

HEADLINE_EVENT = "crisis"
PERCENT = 100.0


def _cell(p: float, se: float) -> str:
    return f"{p * PERCENT:6.2f} ±{se * PERCENT:5.2f}"


def _seeds(ds: xr.Dataset) -> str:
    if "merged_seeds" in ds.attrs:
        return "seeds " + ", ".join(str(int(s)) for s in np.atleast_1d(ds.attrs["merged_seeds"]))
    return f"seed {ds.attrs.get('seed')}"


def headline_table(ds: xr.Dataset, event: str = HEADLINE_EVENT) -> str:
    """Monthly probability (%) ± standard error of ``event`` for each regime and the mixture,
    then the cumulative probability over the horizon."""
    if event not in ds.event.values:
        raise KeyError(f"no event {event!r} in the cube (events: {list(ds.event.values)})")
    regimes = [str(r) for r in ds.regime.values]
    has_mixture = "mixture_event_probability" in ds
    columns = regimes + (["mixture"] if has_mixture else [])
    width = 14
    p = ds.event_probability.sel(event=event)
    se = ds.event_probability_stderr.sel(event=event)
    lines = [
        f"P({event}) by month, % ± Monte Carlo standard error "
        f"({int(ds.n_paths.values[0]):,} paths per regime, {_seeds(ds)})",
        "month    " + "".join(f"{c:>{width}}" for c in columns),
    ]
    for i, month in enumerate(ds.time.values):
        cells = [_cell(p.values[r, i], se.values[r, i]) for r in range(len(regimes))]
        if has_mixture:
            mix = ds.mixture_event_probability.sel(event=event).values[i]
            mix_se = ds.mixture_event_probability_stderr.sel(event=event).values[i]
            cells.append(_cell(mix, mix_se))
        label = np.datetime_as_string(month, unit="M")
        lines.append(f"{label:<9}" + "".join(f"{c:>{width}}" for c in cells))
    cum = ds.cumulative_event_probability.sel(event=event).isel(time=-1)
    cum_se = ds.cumulative_event_probability_stderr.sel(event=event).isel(time=-1)
    cells = [_cell(cum.values[r], cum_se.values[r]) for r in range(len(regimes))]
    if has_mixture:
        m = ds.mixture_cumulative_event_probability.sel(event=event).isel(time=-1)
        m_se = ds.mixture_cumulative_event_probability_stderr.sel(event=event).isel(time=-1)
        cells.append(_cell(float(m), float(m_se)))
    months = ds.sizes["time"]
    lines.append(f"{months:>2} months" + "".join(f"{c:>{width}}" for c in cells))
    if has_mixture:
        weights = ", ".join(
            f"{r} {w:.2f}" for r, w in zip(regimes, ds.weight.values, strict=True) if w == w
        )
        lines.append(f"mixture weights: {weights}")
    return "\n".join(lines)
