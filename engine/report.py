"""Readable text tables of a cube."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Estimates:
    """What a headline table shows of one event: per-regime probabilities (R, M) and their
    standard errors, the paths behind them (an estimate is marked below FEW_PATHS), the last
    month's cumulative values (R,), and the mixture's (M,) and cumulative (scalar), or None."""

    title: str
    p: np.ndarray
    se: np.ndarray
    paths_with: np.ndarray
    cum: np.ndarray
    cum_se: np.ndarray
    cum_paths_with: np.ndarray
    mixture: tuple[np.ndarray, np.ndarray, float, float] | None
    footnote: str


def plain_estimates(ds: xr.Dataset, event: str) -> Estimates:
    """The binomial estimates of ``event`` (counts of paths)."""
    count = ds.event_count.sel(event=event).values  # (R, M)
    cumulative = np.cumsum(ds.first_event_count.sel(event=event).values, axis=-1)
    mixture = None
    if "mixture_event_probability" in ds:
        last = ds.mixture_cumulative_event_probability.sel(event=event).isel(time=-1)
        last_se = ds.mixture_cumulative_event_probability_stderr.sel(event=event).isel(time=-1)
        mixture = (
            ds.mixture_event_probability.sel(event=event).values,
            ds.mixture_event_probability_stderr.sel(event=event).values,
            float(last),
            float(last_se),
        )
    return Estimates(
        title=f"P({event}) by month, % ± Monte Carlo standard error",
        p=ds.event_probability.sel(event=event).values,
        se=ds.event_probability_stderr.sel(event=event).values,
        paths_with=count,
        cum=ds.cumulative_event_probability.sel(event=event).isel(time=-1).values,
        cum_se=ds.cumulative_event_probability_stderr.sel(event=event).isel(time=-1).values,
        cum_paths_with=cumulative[:, -1],
        mixture=mixture,
        footnote=f"{MARK} fewer than {FEW_PATHS} paths had the event: the ± is rough; the cube's "
        "Wilson interval (event_probability_lower, _upper) holds",
    )


def conditional_estimates(ds: xr.Dataset) -> Estimates:
    """The conditional Monte Carlo estimates of the cube's conditioned tier; paths with the
    event counted as effective paths × p."""
    name = "conditional_event_probability"
    cum_name = "conditional_cumulative_event_probability"
    p = ds[name].values
    cum = ds[cum_name].isel(time=-1).values
    mixture = None
    if f"mixture_{name}" in ds:
        mixture = (
            ds[f"mixture_{name}"].values,
            ds[f"mixture_{name}_stderr"].values,
            float(ds[f"mixture_{cum_name}"].isel(time=-1)),
            float(ds[f"mixture_{cum_name}_stderr"].isel(time=-1)),
        )
    return Estimates(
        title=f"P({ds.attrs['conditional_tier']}) by month, % ± standard error, conditional "
        "Monte Carlo",
        p=p,
        se=ds[f"{name}_stderr"].values,
        paths_with=p * ds[f"{name}_effective_paths"].values,
        cum=cum,
        cum_se=ds[f"{cum_name}_stderr"].isel(time=-1).values,
        cum_paths_with=cum * ds[f"{cum_name}_effective_paths"].isel(time=-1).values,
        mixture=mixture,
        footnote=f"{MARK} fewer than {FEW_PATHS} effective paths had the event: the ± is rough; "
        "the cube's interval (conditional_event_probability_lower, _upper) holds",
    )


def headline_table(ds: xr.Dataset, event: str = HEADLINE_EVENT) -> str:
    """Monthly probability (%) ± standard error of ``event`` for each regime and the mixture,
    then the cumulative probability over the horizon: the conditional Monte Carlo estimates
    where the cube conditions ``event``, else the plain ones. Estimates from fewer than
    FEW_PATHS paths with the event (effective paths; for the mixture: under any of its
    regimes) are marked."""
    if event not in ds.event.values:
        raise KeyError(f"no event {event!r} in the cube (events: {list(ds.event.values)})")
    if ds.attrs.get("conditional_tier") == event:
        estimates = conditional_estimates(ds)
    else:
        estimates = plain_estimates(ds, event)
    return _table(ds, estimates)


def _table(ds: xr.Dataset, est: Estimates) -> str:
    regimes = [str(r) for r in ds.regime.values]
    columns = regimes + (["mixture"] if est.mixture is not None else [])
    width = 15
    in_mixture = ds.weight.values == ds.weight.values  # NaN: not in the mixture
    lines = [
        f"{est.title} ({int(ds.n_paths.values[0]):,} paths per regime, {_seeds(ds)})",
        "month    " + "".join(f"{c:>{width}}" for c in columns),
    ]
    for i, month in enumerate(ds.time.values):
        cells = [
            _cell(est.p[r, i], est.se[r, i], est.paths_with[r, i]) for r in range(len(regimes))
        ]
        if est.mixture is not None:
            mix, mix_se = est.mixture[0][i], est.mixture[1][i]
            cells.append(_cell(mix, mix_se, est.paths_with[in_mixture, i].min()))
        label = np.datetime_as_string(month, unit="M")
        lines.append(f"{label:<9}" + "".join(f"{c:>{width}}" for c in cells))
    last = est.cum_paths_with
    cells = [_cell(est.cum[r], est.cum_se[r], last[r]) for r in range(len(regimes))]
    if est.mixture is not None:
        cells.append(_cell(est.mixture[2], est.mixture[3], last[in_mixture].min()))
    months = ds.sizes["time"]
    lines.append(f"{months:>2} months" + "".join(f"{c:>{width}}" for c in cells))
    if est.mixture is not None:
        weights = ", ".join(
            f"{r} {w:.2f}" for r, w in zip(regimes, ds.weight.values, strict=True) if w == w
        )
        lines.append(f"mixture weights: {weights}")
    if any(cell.endswith(MARK) for line in lines[2:] for cell in line.split()):
        lines.append(est.footnote)
    lines += _diverged_lines(ds)
    return "\n".join(line.rstrip() for line in lines)


def _diverged_lines(ds: xr.Dataset) -> list[str]:
    """One warning naming each regime with paths whose model diverged by the horizon's end."""
    if "diverged_count" not in ds:
        return []
    last = ds.diverged_count.isel(time=-1).values
    n = int(ds.n_paths.values[0])
    shares = [
        f"{PERCENT * k / n:.2f}% of {r}'s"
        for r, k in zip(ds.regime.values, last, strict=True)
        if k > 0
    ]
    if not shares:
        return []
    month = np.datetime_as_string(ds.time.values[-1], unit="M")
    return [
        f"warning: the model diverged (non-finite spread or reserves) on {', '.join(shares)} "
        f"paths by {month}; their events count as they fell: docs/model.md, Divergence"
    ]
