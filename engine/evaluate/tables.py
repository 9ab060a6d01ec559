"""Every forecast case scored: one row per (forecaster, origin, horizon, variable) for the
monthly values and per (forecaster, origin, horizon, tier) for the event tiers.

Only the cases every forecaster forecast are kept, so that every comparison is on the same
months (a case with no realized value is not scored).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import scores
from .baselines import BASELINES, baseline_forecast
from .history import VARIABLES, History
from .origins import target_months

PERIODS = {  # month → period labels; scarce episodes as the model issue states them
    "scarce": (("2018-10", "2020-02"), ("2025-06", "2025-12")),
}
SRF_FIRST_MONTH = pd.Timestamp("2021-08-01")  # the SRF opened 2021-07-28 (first whole month)


@dataclass(frozen=True)
class Scored:
    """The scored cases: ``values`` (forecaster, origin, month, horizon, variable, obs, crps,
    pit, hit50, hit90) and ``tiers`` (forecaster, origin, month, horizon, tier, p, o, brier,
    log, n_paths); ``failed``: origin → why some forecaster could not forecast there."""

    values: pd.DataFrame
    tiers: pd.DataFrame
    failed: dict[str, str]
    models: tuple[str, ...]

    @property
    def forecasters(self) -> tuple[str, ...]:
        return (*self.models, *BASELINES)


def _pad(rows: list[np.ndarray]) -> np.ndarray:
    """Ragged member rows (K_i,) → float (N, max K), NaN-padded at the end."""
    width = max((len(r) for r in rows), default=0)
    out = np.full((len(rows), max(width, 1)), np.nan)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def period_labels(months: pd.Series) -> pd.DataFrame:
    """bool columns ``scarce`` and ``srf`` (the SRF existed all month) of each month (N,)."""
    months = pd.DatetimeIndex(months)
    scarce = np.zeros(len(months), dtype=bool)
    for first, last in PERIODS["scarce"]:
        scarce |= (months >= pd.Timestamp(first)) & (months <= pd.Timestamp(last))
    return pd.DataFrame({"scarce": scarce, "srf": months >= SRF_FIRST_MONTH})


def score_cases(
    issued: dict[str, dict[str, dict]], history: History, models: tuple[str, ...], months: int
) -> Scored:
    """Score every issued forecast (``issued``: origin → model → forecast) and the baselines'
    forecasts at the same origins against ``history``."""
    value_rows: dict[str, list] = {k: [] for k in ("meta", "obs", "members")}
    tier_rows: list[dict] = []
    failed = {}
    for origin_label, by_model in sorted(issued.items()):
        errors = [f["error"] for f in by_model.values() if "error" in f]
        if errors:
            failed[origin_label] = "; ".join(errors)
            continue
        origin = pd.Timestamp(f"{origin_label}-01")
        horizon_months = target_months(origin, months)
        known = history.before(origin)
        forecasts = {m: by_model[m] for m in models}
        forecasts.update({b: baseline_forecast(known, b, months) for b in BASELINES})
        realized = history.values.reindex(horizon_months)
        outcome = history.tiers.reindex(horizon_months)
        for name, forecast in forecasts.items():
            n_paths = forecast.get("n_paths", 0)
            for variable in VARIABLES:
                members = np.asarray(forecast["members"][variable], dtype=float)
                for h in range(months):
                    value_rows["meta"].append(
                        (name, origin_label, horizon_months[h], h + 1, variable)
                    )
                    value_rows["obs"].append(realized[variable].iloc[h])
                    value_rows["members"].append(members[h][np.isfinite(members[h])])
            for tier, p in forecast["probability"].items():
                for h in range(months):
                    o = outcome[tier].iloc[h]
                    tier_rows.append(
                        {
                            "forecaster": name,
                            "origin": origin_label,
                            "month": horizon_months[h],
                            "horizon": h + 1,
                            "tier": tier,
                            "p": np.nan if p[h] is None else float(p[h]),
                            "o": np.nan if pd.isna(o) else float(o),
                            "n_paths": n_paths,
                        }
                    )
    columns = ["forecaster", "origin", "month", "horizon", "variable"]
    values = pd.DataFrame(value_rows["meta"], columns=columns)
    obs = np.asarray(value_rows["obs"], dtype=float)
    members = _pad(value_rows["members"])
    values["obs"] = obs
    values["crps"] = scores.crps(obs, members)
    values["pit"] = scores.pit(obs, members)
    values["hit50"] = scores.band_hits(obs, members, 0.5)
    values["hit90"] = scores.band_hits(obs, members, 0.9)
    tiers = pd.DataFrame(tier_rows)
    if not tiers.empty:
        tiers["brier"] = scores.brier(tiers["p"].to_numpy(), tiers["o"].to_numpy())
        tiers["log"] = scores.log_score(tiers["p"].to_numpy(), tiers["o"].to_numpy())
    all_names = (*models, *BASELINES)
    values = _common(values, ["origin", "horizon", "variable"], "crps", all_names)
    tiers = _common(tiers, ["origin", "horizon", "tier"], "brier", all_names)
    return Scored(values, tiers, failed, models)


def _common(frame: pd.DataFrame, case: list[str], score: str, names) -> pd.DataFrame:
    """The rows of the cases where every forecaster in ``names`` has a finite ``score``."""
    if frame.empty:
        return frame
    finite = frame.assign(ok=np.isfinite(frame[score]))
    complete = finite.groupby(case)["ok"].agg(["sum", "size"])
    keep = complete[(complete["sum"] == len(names)) & (complete["size"] == len(names))].index
    rows = frame.set_index(case).index.isin(keep)
    return frame[rows].reset_index(drop=True)
