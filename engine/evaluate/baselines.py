"""The reference forecasts every skill figure is measured against, made from the realized
months before the origin only (``History.before``).

- climatology: the empirical distribution of every realized month before the origin, and each
  tier's frequency over them;
- persistence: the last ``PERSISTENCE_MONTHS`` realized months' values as a small ensemble, and
  each tier's frequency over them.
Both forecast the same distribution at every horizon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .history import VARIABLES, History

PERSISTENCE_MONTHS = 3  # months: the persistence baseline's window (the definition)
BASELINES = ("climatology", "persistence")


def _window(history: History, name: str) -> History:
    if name == "climatology":
        return history
    if name == "persistence":
        keep = history.values.index[-PERSISTENCE_MONTHS:]
        return History(
            history.values.loc[keep],
            history.spread_source.loc[keep],
            history.tiers.loc[keep],
            history.fed_change_bn.loc[keep],
            history.end,
        )
    raise ValueError(f"no baseline {name!r} (known: {', '.join(BASELINES)})")


def baseline_forecast(history: History, name: str, horizons: int) -> dict:
    """One baseline's forecast at an origin, from ``history`` = the months before it.

    Returns ``{"members": {variable: float (H, K)}, "probability": {tier: float (H,)}}``, the
    same members and probabilities at every horizon (K: the window's realized months; NaN
    probability for a tier never known in the window).
    """
    window = _window(history, name)
    members = {}
    for variable in VARIABLES:
        values = window.values[variable].dropna().to_numpy(dtype=float)
        members[variable] = np.tile(values, (horizons, 1))
    share = window.tiers.astype("Float64").mean(skipna=True)
    probability = {
        tier: np.full(horizons, float(share[tier]) if not pd.isna(share[tier]) else np.nan)
        for tier in window.tiers.columns
    }
    return {"members": members, "probability": probability}
