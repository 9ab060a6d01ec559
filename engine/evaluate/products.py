"""What ``rmp-risk evaluate`` writes: ``evaluation.json``, ``summary.md`` and the figures (PIT
histograms, reliability diagrams, coverage by horizon, forecast fans of chosen origins).

Every product is drawn into a hidden staging folder first, then moved into place, so an
interrupted or failed evaluation leaves the previous products (or none), never a mix.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from ..outputs import write_json
from . import figures
from .history import VARIABLES, History
from .origins import target_months
from .summary import markdown, reliability, tier_table, to_json, value_table
from .tables import Scored

PRODUCTS = (
    "evaluation.json",
    "summary.md",
    "pit.png",
    "reliability.png",
    "coverage.png",
    "fans.png",
)
FAN_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
FAN_CONTEXT_MONTHS = 12  # realized months drawn before each fan's origin


def coverage_frame(values: pd.DataFrame) -> pd.DataFrame:
    """Band coverage by forecaster × variable × horizon × level, from ``value_table``."""
    rows = []
    by_h = values[(values["period"] == "all") & (values["horizon"] != "all")]
    for _, r in by_h.iterrows():
        for level in (50, 90):
            low, high = r[f"coverage_{level}_ci"]
            rows.append(
                {
                    "forecaster": r["forecaster"],
                    "variable": r["variable"],
                    "horizon": int(r["horizon"]),
                    "level": level / 100,
                    "share": r[f"coverage_{level}"],
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return pd.DataFrame(rows)


def fan(
    issued: dict, history: History, model: str, origin: str, variable: str, months: int
) -> dict:
    """One chosen origin's fan of ``variable`` over the realized months around it."""
    start = pd.Timestamp(f"{origin}-01")
    forecast_months = target_months(start, months)
    members = np.asarray(issued[origin][model]["members"][variable], dtype=float)
    context = pd.date_range(
        start - pd.DateOffset(months=FAN_CONTEXT_MONTHS), forecast_months[-1], freq="MS"
    )
    name, unit = VARIABLES[variable]
    return {
        "origin": origin,
        "months": forecast_months,
        "quantiles": {q: np.nanquantile(members, q, axis=1) for q in FAN_LEVELS},
        "realized": history.values[variable].reindex(context).to_numpy(dtype=float),
        "realized_months": context,
        "variable": f"{name}, {model}",
        "unit": unit,
    }


def write_products(
    out: Path,
    scored: Scored,
    issued: dict,
    history: History,
    info: dict,
    fan_origins: list[str],
    months: int,
) -> list[Path]:
    """Score tables, JSON, markdown and figures into ``out``; returns the paths written."""
    values, tiers = value_table(scored), tier_table(scored)
    staging = out / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        write_json(staging / "evaluation.json", to_json(scored, values, tiers, info))
        (staging / "summary.md").write_text(markdown(scored, values, tiers, info))
        pits = {
            name: {v: g.loc[g["variable"] == v, "pit"].to_numpy() for v in VARIABLES}
            for name, g in scored.values.groupby("forecaster")
        }
        figures.pit_histograms(pits, staging / "pit.png")
        figures.reliability_diagrams(reliability(scored), staging / "reliability.png")
        figures.coverage_by_horizon(coverage_frame(values), staging / "coverage.png")
        chosen = [
            o for o in fan_origins if o in issued and "error" not in issued[o][scored.models[0]]
        ]
        if chosen:
            fans = [
                fan(issued, history, scored.models[0], o, v, months)
                for o in chosen
                for v in ("spread_max", "reserves_eom")
            ]
            figures.forecast_fans(fans, staging / "fans.png")
        written = []
        for name in PRODUCTS:
            if (staging / name).exists():
                os.replace(staging / name, out / name)
                written.append(out / name)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


__all__ = ["PRODUCTS", "write_products"]
