"""Integer accumulators → the output cube (xarray Dataset), with one registry of its variables.

Counts and histograms are the exact, mergeable quantities; probabilities, standard errors,
intervals, quantiles and the prior-weighted mixture are derived from them here, last.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import xarray as xr

from . import cube_conditional
from ._version import __version__
from .accumulators import Accumulators
from .config import Config
from .kernels import layout as L
from .products import CUBE, PRODUCT_ATTR
from .schedule import Schedule

WILSON_Z = 1.959963984540054  # two-sided 95% normal quantile

PROB = "1"
COUNT = "1"
# UDUNITS has no currency and no basis point: amounts are dimensionless multiples of 1e9 (US
# dollars, said in long_name) and spreads multiples of 1e-4 (basis points), both valid CF units.
BN = "1e9"
BP = "1e-4"
UNIT_WORDS = {BN: "billions of US dollars", BP: "basis points"}
REM = ("regime", "event", "time")
JOINT = ("regime", "other_regime", "event", "time")
RTQ = ("regime", "time", "quantile")
RTB = ("regime", "time", "bin")


@dataclass(frozen=True)
class Variable:
    dims: tuple[str, ...]
    units: str
    long_name: str


VARIABLES: dict[str, Variable] = {
    "n_paths": Variable(("regime",), COUNT, "number of simulated paths"),
    "event_count": Variable(REM, COUNT, "paths with at least one event day in the month"),
    "event_day_count": Variable(REM, COUNT, "event days summed over paths"),
    "first_event_count": Variable(REM, COUNT, "paths whose first event day falls in the month"),
    "joint_event_count": Variable(
        JOINT, COUNT, "paths with an event day in the month under both regimes"
    ),
    "joint_cumulative_count": Variable(
        JOINT, COUNT, "paths with an event day by the end of the month under both regimes"
    ),
    "event_probability": Variable(REM, PROB, "probability of at least one event day in the month"),
    "event_probability_stderr": Variable(REM, PROB, "Monte Carlo standard error (binomial)"),
    "event_probability_lower": Variable(REM, PROB, "Wilson 95% interval, lower bound"),
    "event_probability_upper": Variable(REM, PROB, "Wilson 95% interval, upper bound"),
    "first_event_probability": Variable(
        REM, PROB, "probability that the first event is in the month"
    ),
    "first_event_probability_stderr": Variable(REM, PROB, "Monte Carlo standard error (binomial)"),
    "cumulative_event_probability": Variable(
        REM, PROB, "probability of at least one event day by the end of the month"
    ),
    "cumulative_event_probability_stderr": Variable(
        REM, PROB, "Monte Carlo standard error (binomial)"
    ),
    "event_days_mean": Variable(REM, "day", "mean number of event days in the month"),
    "diverged_count": Variable(
        ("regime", "time"),
        COUNT,
        "paths whose reserves or spread are not finite by the end of the month (the model "
        "diverged; their events count as they fell)",
    ),
    "reserves_eom": Variable(RTQ, BN, "month-end reserve balances, quantiles over paths"),
    "reserves_min": Variable(RTQ, BN, "month-minimum reserve balances, quantiles over paths"),
    "spread_max": Variable(RTQ, BP, "month-maximum SOFR minus IORB, quantiles over paths"),
    "srf_max": Variable(RTQ, BN, "month-maximum Standing Repo Facility take-up, quantiles"),
    "tga_eom": Variable(RTQ, BN, "month-end Treasury General Account, quantiles over paths"),
    "mixture_event_probability": Variable(
        ("event", "time"), PROB, "prior-weighted mixture over regimes of event_probability"
    ),
    "mixture_event_probability_stderr": Variable(
        ("event", "time"), PROB, "Monte Carlo standard error of the mixture (common random numbers)"
    ),
    "mixture_cumulative_event_probability": Variable(
        ("event", "time"), PROB, "prior-weighted mixture of cumulative_event_probability"
    ),
    "mixture_cumulative_event_probability_stderr": Variable(
        ("event", "time"), PROB, "Monte Carlo standard error of the cumulative mixture"
    ),
    **{
        f"{name}_histogram": Variable(RTB, COUNT, f"fixed-bin histogram of {name} over paths")
        for name in L.HIST_NAMES
    },
    **{
        name: Variable(*spec) for name, spec in cube_conditional.variable_specs(PROB, COUNT).items()
    },
}


def binomial_stderr(count: np.ndarray, n: np.ndarray) -> np.ndarray:
    p = count / n
    return np.sqrt(p * (1.0 - p) / n)


def wilson_interval(count: np.ndarray, n: np.ndarray, z: float = WILSON_Z):
    """Wilson score interval of a binomial proportion: (lower, upper)."""
    p = count / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * np.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def histogram_quantiles(hist: np.ndarray, low: float, width: float, quantiles) -> np.ndarray:
    """Quantiles from fixed-bin counts (..., B) with under/overflow bins at both ends.

    Linear within the bin; values in the under/overflow bins are clipped to the grid's edges.
    Returns float64 (..., Q); NaN where a row is empty.
    """
    n_bins = hist.shape[-1] - 2
    rows = hist.reshape(-1, hist.shape[-1])
    out = np.full((rows.shape[0], len(quantiles)), np.nan)
    edges_low = low + width * (np.arange(hist.shape[-1]) - 1).clip(0, n_bins)
    for i, row in enumerate(rows):
        total = row.sum()
        if total == 0:
            continue
        cdf = np.cumsum(row)
        for j, q in enumerate(quantiles):
            target = q * total
            b = int(np.searchsorted(cdf, target, side="left"))
            if b == 0 or b == n_bins + 1:
                out[i, j] = edges_low[b]
                continue
            below = cdf[b - 1]
            out[i, j] = edges_low[b] + width * (target - below) / row[b]
    return out.reshape(*hist.shape[:-1], len(quantiles))


def mixture(joint: np.ndarray, n_paths: int, weights: np.ndarray):
    """Prior-weighted mixture of per-regime probabilities and its standard error.

    ``joint`` (R, R, E, M) counts paths with the event under both regimes; its diagonal is the
    per-regime count. Regimes share paths, so Var = (Σ_rq w_r w_q P_rq − p²) / n.
    """
    w = weights / weights.sum()
    p_pair = joint / n_paths
    p_regime = np.einsum("rrem->rem", p_pair)
    p_mix = np.einsum("r,rem->em", w, p_regime)
    second = np.einsum("r,q,rqem->em", w, w, p_pair)
    stderr = np.sqrt(np.clip(second - p_mix**2, 0.0, None) / n_paths)
    return p_mix, stderr


ACCUMULATOR_VARIABLES = {  # Accumulators field → cube variable (``hist``: one per histogram)
    "event_count": "event_count",
    "event_days": "event_day_count",
    "first_event_count": "first_event_count",
    "joint_event_count": "joint_event_count",
    "joint_cumulative_count": "joint_cumulative_count",
}


def accumulators_from_cube(ds: xr.Dataset) -> Accumulators:
    """The exact integer content of a cube: its counts and histograms as ``Accumulators``.

    ``build_cube(accumulators_from_cube(ds), config, schedule)`` rebuilds ``ds`` (attrs aside).
    """
    n = np.unique(ds["n_paths"].values)
    if n.size != 1:
        raise ValueError(f"n_paths differs between regimes: {n.tolist()}")
    arrays = {f: ds[name].values.astype(np.int64) for f, name in ACCUMULATOR_VARIABLES.items()}
    hist = np.stack([ds[f"{name}_histogram"].values for name in L.HIST_NAMES]).astype(np.int64)
    _, n_regimes, n_months, n_cells = hist.shape
    empty = Accumulators.zeros(n_regimes, n_months, n_cells - 2)  # what a cube may lack
    diverged = (  # cubes written before the count was kept had none counted
        ds["diverged_count"].values.astype(np.int64)
        if "diverged_count" in ds
        else empty.diverged_count
    )
    conditional = cube_conditional.sums_from_cube(ds) or {
        name: getattr(empty, name) for name in ("hazard_sums", "hazard_cross", "hazard_hits")
    }
    return Accumulators(
        n_paths=int(n[0]), hist=hist, diverged_count=diverged, **arrays, **conditional
    )


def build_cube(
    acc: Accumulators, config: Config, schedule: Schedule, run_attrs: dict | None = None
) -> xr.Dataset:
    """The cube of a run from its accumulators (see README, "The cube"): counts as they are,
    everything else derived from them."""
    acc.check()  # no cube whose counts do not add up to its paths
    n_regimes = len(schedule.regime_names)
    n = np.full(n_regimes, acc.n_paths, dtype=np.int64)
    n_rem = n[:, None, None]
    quantiles = np.array(config.output.quantiles)
    cumulative = np.cumsum(acc.first_event_count, axis=-1)
    lower, upper = wilson_interval(acc.event_count, n_rem)

    data = {
        "n_paths": n,
        **{name: getattr(acc, field) for field, name in ACCUMULATOR_VARIABLES.items()},
        "event_probability": acc.event_count / n_rem,
        "event_probability_stderr": binomial_stderr(acc.event_count, n_rem),
        "event_probability_lower": lower,
        "event_probability_upper": upper,
        "first_event_probability": acc.first_event_count / n_rem,
        "first_event_probability_stderr": binomial_stderr(acc.first_event_count, n_rem),
        "cumulative_event_probability": cumulative / n_rem,
        "cumulative_event_probability_stderr": binomial_stderr(cumulative, n_rem),
        "event_days_mean": acc.event_days / n_rem,
        "diverged_count": acc.diverged_count,
    }
    for v, name in enumerate(L.HIST_NAMES):
        low, width = schedule.hist_grid[v]
        data[name] = histogram_quantiles(acc.hist[v], low, width, quantiles)
        data[f"{name}_histogram"] = acc.hist[v]
    weighted = ~np.isnan(schedule.regime_weights)
    if weighted.any():
        idx = np.flatnonzero(weighted)
        weights = schedule.regime_weights[idx]
        for prefix, joint in (
            ("", acc.joint_event_count),
            ("cumulative_", acc.joint_cumulative_count),
        ):
            p_mix, se = mixture(joint[np.ix_(idx, idx)], acc.n_paths, weights)
            data[f"mixture_{prefix}event_probability"] = p_mix
            data[f"mixture_{prefix}event_probability_stderr"] = se
    if acc.conditional:
        data.update(
            cube_conditional.conditional_data(
                acc, int(schedule.hazard_tier[0]), schedule.regime_weights, wilson_interval
            )
        )

    calendar = schedule.calendar
    coords = {
        "regime": ("regime", np.array(schedule.regime_names, dtype=object)),
        "other_regime": ("other_regime", np.array(schedule.regime_names, dtype=object)),
        "event": ("event", np.array(L.EVENT_NAMES, dtype=object)),
        "time": ("time", calendar.month_starts.astype("datetime64[ns]")),
        "horizon": ("time", np.arange(1, calendar.horizon_months + 1, dtype=np.int64)),
        "quantile": ("quantile", quantiles),
        "weight": ("regime", schedule.regime_weights),
    }
    if acc.conditional:
        coords["estimate"] = ("estimate", np.array(cube_conditional.ESTIMATES, dtype=object))
        coords["limb"] = ("limb", np.arange(L.N_LIMBS, dtype=np.int64))
    ds = xr.Dataset(
        {name: (VARIABLES[name].dims, value) for name, value in data.items()}, coords=coords
    )
    for name in ds.data_vars:
        spec = VARIABLES[name]
        words = UNIT_WORDS.get(spec.units)
        long_name = f"{spec.long_name}, {words}" if words else spec.long_name
        ds[name].attrs.update(units=spec.units, long_name=long_name)
    for v, name in enumerate(L.HIST_NAMES):
        low, width = schedule.hist_grid[v]
        ds[f"{name}_histogram"].attrs.update(
            bin_low=low,
            bin_width=width,
            comment="bin 0 counts values below bin_low, the last bin values at or above the top",
        )
        words = UNIT_WORDS[ds[name].units]
        ds[name].attrs["comment"] = f"from {name}_histogram; resolution {width} {words}"
    ds["time"].attrs.update(
        long_name="month start", standard_name="time", units_metadata="leap_seconds: none"
    )
    ds["horizon"].attrs.update(long_name="months ahead", units="1")
    ds["quantile"].attrs.update(long_name="quantile level", units="1")
    ds["weight"].attrs.update(long_name="prior weight (NaN: not in the mixture)", units="1")
    ds["event"].attrs["long_name"] = "event tier"
    ds["regime"].attrs["long_name"] = "RMP regime"
    if acc.conditional:
        _describe_conditional(ds, schedule)
    ds["other_regime"].attrs["long_name"] = "RMP regime (second of a pair)"
    ds.attrs.update(global_attrs(config, run_attrs or {}))
    return ds


def _describe_conditional(ds: xr.Dataset, schedule: Schedule) -> None:
    """Attributes of a cube with the conditional estimator's variables."""
    tier = L.EVENT_NAMES[int(schedule.hazard_tier[0])]
    ds.attrs["conditional_tier"] = tier
    ds["estimate"].attrs["long_name"] = "conditional estimate (in the month, by its end)"
    ds["limb"].attrs.update(
        long_name="fixed-point limb", units="1", comment=cube_conditional.LIMB_COMMENT
    )
    for name in L.HIST_NAMES:  # the estimator reweights no path
        ds[name].attrs["weighted"] = "no: every path counts once"


def global_attrs(config: Config, run_attrs: dict) -> dict:
    import dask
    import numba
    import numpy
    import xarray

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sim = config.simulation
    return {
        "Conventions": "CF-1.11",
        PRODUCT_ATTR: CUBE,
        "title": "rmp-risk: repo-market stress and crisis odds under RMP regimes",
        "source": f"rmp-risk {__version__}",
        "history": f"{now}: {run_attrs.pop('command', 'engine.simulate')}",
        "config_json": config.to_json(),
        "config_sha256": config.sha256,
        "config_source": config.source or "",
        "seed": sim.seed,
        "n_paths": sim.n_paths,
        "block_size": sim.block_size,
        "start": sim.start.isoformat(),
        "horizon_months": sim.horizon_months,
        "versions": (
            f"numpy {numpy.__version__}; numba {numba.__version__}; "
            f"xarray {xarray.__version__}; dask {dask.__version__}"
        ),
        **{f"computed_{key}": value for key, value in run_attrs.items()},
    }
