"""One origin's forecasts: each model forecaster (a recipe or a fixed config) sees the data
dated before the origin only, and is run under the declared purchase scenario.

A forecaster is either
- a recipe: ``rmp-risk calibrate`` on the data before the origin, from the base config
  ``configs/judgement.toml`` (the specification's judgement values, fitted to no data), then
  ``rmp-risk run``. ``calibrated`` is the method of the shipped default: the data of a trailing
  window as long as the default's (2021-06-23 → 2025-12-31, 1,652 days), the curve's level a
  local level filtered to the origin (``calibrate --curve-level local``, the default);
  ``calibrated-all`` fits every observation before the origin; ``calibrated-risk`` is
  ``calibrated`` with estimation risk (each path draws its parameters from the fits' sampling
  distributions); ``calibrated-fixed`` is ``calibrated`` with one α over the window (the
  method before the evaluation's third round); or
- a config file, whose parameters are kept at every origin (only the state and the start move).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..backtest import forecast_config
from ..calibrate.market import load_market_data
from ..config import Config, RareEvents, load_config, packaged_config_dir
from ..cube import histogram_quantiles
from ..errors import InputError
from ..kernels.layout import EVENT_NAMES
from ..scoring import histogram_grid
from .history import VARIABLES
from .origins import data_until, label

# the shipped default's calibration window: 2021-06-23 → 2025-12-31 (configs/default.toml)
DEFAULT_WINDOW = pd.Timestamp("2025-12-31") - pd.Timestamp("2021-06-23")


@dataclass(frozen=True)
class Recipe:
    """How a recipe makes its parameters: ``calibrate`` on the ``window`` of data before the
    origin (None: every observation) with the curve's level ``curve_level`` (``calibrate
    --curve-level``), with estimation risk (``[uncertainty] parameters``) on or off."""

    window: pd.Timedelta | None
    estimation_risk: bool = False
    curve_level: str = "local"


RECIPES = {
    "calibrated": Recipe(DEFAULT_WINDOW),
    "calibrated-all": Recipe(None),
    "calibrated-risk": Recipe(DEFAULT_WINDOW, estimation_risk=True),
    "calibrated-fixed": Recipe(DEFAULT_WINDOW, curve_level="fixed"),
}
CALIBRATION_BASE = "judgement.toml"  # the recipe's base: judgement values, fitted to no data
# What a fit raises when the data before an origin cannot identify a block (too few days, a
# singular design): that origin has no forecast, and the evaluation lists it with the reason.
FIT_FAILURES = (InputError, ValueError, np.linalg.LinAlgError)
MEMBERS = 100  # quantile levels (k + 0.5) / MEMBERS of the model's histogram stand for it


@dataclass(frozen=True)
class Forecaster:
    """A model forecaster: ``recipe`` is one of ``RECIPES`` (``config`` is the calibration
    base) or None (``config``'s parameters at every origin)."""

    name: str
    recipe: str | None
    config: Path

    def identity(self) -> dict[str, str | None]:
        """What the forecasts depend on: name, recipe, the resolved config's sha256 (its
        ``base`` included)."""
        digest = load_config(self.config).sha256
        return {"name": self.name, "recipe": self.recipe, "config_sha256": digest}


def parse_forecaster(text: str) -> Forecaster:
    """A recipe name (``RECIPES``) or a config file path → its Forecaster."""
    if text in RECIPES:
        return Forecaster(text, text, packaged_config_dir() / CALIBRATION_BASE)
    path = Path(text)
    if not path.is_file():
        known = ", ".join(RECIPES)
        raise InputError(f"{text}: neither a recipe ({known}) nor a config file")
    load_config(path)  # a bad config is refused before any origin runs
    return Forecaster(path.stem, None, path)


def calibration(
    window: pd.Timedelta | None,
    base: Path,
    data_dir: Path,
    until: pd.Timestamp,
    curve_level: str = "local",
) -> tuple[Config, list[str]]:
    """``calibrate`` on the ``window`` of data before ``until`` from ``base``, and the warnings
    the fits gave (e.g. a rank-deficient calendar design on a short history), in words."""
    from ..calibrate.pipeline import calibrate

    since = None if window is None else (until - window).date()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = calibrate(data_dir, until.date(), base=base, since=since, curve_level=curve_level)
        config = made.config
    return config, list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))


def model_config(
    forecaster: Forecaster,
    data_dir: Path,
    until: pd.Timestamp,
    calibrations: dict | None = None,
) -> tuple[Config, list[str]]:
    """The forecaster's parameters at an origin whose data end on ``until``, with the fits'
    warnings. ``calibrations`` (a dict) keeps the calibrations made, so that recipes that
    share a window and a base share one."""
    if forecaster.recipe is None:
        return dataclasses.replace(load_config(forecaster.config), rare_events=RareEvents()), []
    recipe = RECIPES[forecaster.recipe]
    key = (recipe.window, recipe.curve_level, forecaster.config, until)
    made = calibrations.get(key) if calibrations is not None else None
    if made is None:
        made = calibration(recipe.window, forecaster.config, data_dir, until, recipe.curve_level)
        if calibrations is not None:
            calibrations[key] = made
    config, notes = made
    risk = recipe.estimation_risk and bool(config.uncertainty.block)
    if recipe.estimation_risk and not risk:
        notes = [*notes, "estimation risk: no fitted block to draw from, point estimates used"]
    uncertainty = dataclasses.replace(config.uncertainty, parameters=risk)
    return dataclasses.replace(config, rare_events=RareEvents(), uncertainty=uncertainty), notes


def members_of(cube: xr.Dataset, regime: str, variable: str) -> np.ndarray:
    """The forecast of ``variable`` as ``MEMBERS`` quantiles of its histogram, float (H, K)."""
    low, width = histogram_grid(cube, variable)
    hist = cube[f"{variable}_histogram"].sel(regime=regime).transpose("time", "bin").values
    levels = (np.arange(MEMBERS) + 0.5) / MEMBERS
    return histogram_quantiles(hist, low, width, levels)


def forecast_block(
    forecaster: Forecaster,
    data_dir: Path,
    origins: list[pd.Timestamp],
    months: int,
    regimes: list[str | dict[str, Any]],
    paths: int,
    seed: int | None,
    calibrations: dict | None = None,
    fit_origin: pd.Timestamp | None = None,
) -> dict[str, dict[str, Any]]:
    """One forecaster's forecasts from consecutive ``origins`` (O,) that share one estimate of
    its parameters: made with the data before the first origin; each origin's state, start and
    purchase regime (``regimes``, (O,)) come from the data before that origin. ``fit_origin``
    (not after the first origin; default: the first origin) dates the estimate: the data
    before it. ``calibrations``: see ``model_config``.

    Returns ``{origin YYYY-MM: forecast}``, a forecast being ``{"members": {variable: float
    (H, K)}, "probability": {tier: float (H,)}, "n_paths": int, "notes": [str]}``, or ``{"error":
    str}`` where the data before the origin cannot support the forecaster (the reason).
    """
    fit_origin = origins[0] if fit_origin is None else fit_origin
    if fit_origin > origins[0]:
        raise ValueError(f"parameters of {label(fit_origin)}, after the origin {label(origins[0])}")
    try:
        config, fit_notes = model_config(forecaster, data_dir, data_until(fit_origin), calibrations)
    except FIT_FAILURES as err:
        return {label(o): {"error": f"parameters at {label(fit_origin)}: {err}"} for o in origins}
    out = {}
    for origin, regime in zip(origins, regimes, strict=True):
        forecast = forecast_origin(config, data_dir, origin, months, regime, paths, seed)
        if "notes" in forecast:
            forecast["notes"] = fit_notes + forecast["notes"]
        out[label(origin)] = forecast
    return out


def forecast_origin(
    config: Config,
    data_dir: Path,
    origin: pd.Timestamp,
    months: int,
    regime: str | dict[str, Any],
    paths: int,
    seed: int | None,
) -> dict[str, Any]:
    """``config``'s forecast from ``origin`` for ``months`` months (see ``forecast_block``)."""
    from ..pipeline import simulate

    try:
        before = load_market_data(data_dir, data_until(origin))
        run_config, notes = forecast_config(
            config, before, origin.date(), months, regime, paths, seed
        )
    except InputError as err:
        return {"error": f"state at {label(origin)}: {err}"}
    cube = simulate(run_config, workers=1)
    chosen = str(cube.regime.values[0])
    probability = cube.event_probability.sel(regime=chosen).transpose("event", "time")
    return {
        "members": {v: members_of(cube, chosen, v) for v in VARIABLES},
        "probability": {t: probability.sel(event=t).values.astype(float) for t in EVENT_NAMES},
        "n_paths": int(cube.n_paths.sel(regime=chosen)),
        "notes": notes,
    }
