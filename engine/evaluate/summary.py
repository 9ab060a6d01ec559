"""Pooled scores of an evaluation: by horizon, by variable and tier, and by period (ample vs
scarce reserves, before and after the Standing Repo Facility), each model against each baseline
on the same cases; and the markdown skill table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import scores
from .baselines import BASELINES
from .history import VARIABLES
from .tables import Scored, period_labels

HEADLINE_TIERS = ("tight", "stress")  # always reported; other tiers where one occurred
PERIOD_NAMES = ("all", "ample", "scarce", "before SRF", "SRF")


def _period_mask(frame: pd.DataFrame, period: str) -> np.ndarray:
    labels = period_labels(frame["month"])
    return {
        "all": np.ones(len(frame), dtype=bool),
        "ample": ~labels["scarce"].to_numpy(),
        "scarce": labels["scarce"].to_numpy(),
        "before SRF": ~labels["srf"].to_numpy(),
        "SRF": labels["srf"].to_numpy(),
    }[period]


def _groups(frame: pd.DataFrame, horizons: bool):
    """(period, horizon label, rows) for every period, pooled over horizons and, if
    ``horizons``, for each horizon."""
    for period in PERIOD_NAMES:
        rows = frame[_period_mask(frame, period)]
        yield period, "all", rows
        if horizons and period == "all":
            for h, by_h in rows.groupby("horizon"):
                yield period, int(h), by_h


def value_table(scored: Scored) -> pd.DataFrame:
    """CRPS, coverage and PIT of every forecaster, and each model's CRPS skill against each
    baseline, by period × horizon × variable (one row per forecaster)."""
    rows = []
    for period, horizon, frame in _groups(scored.values, horizons=True):
        for variable, by_var in frame.groupby("variable"):
            by_name = {
                n: g.sort_values(["origin", "horizon"]) for n, g in by_var.groupby("forecaster")
            }
            for name in scored.forecasters:
                g = by_name.get(name)
                if g is None or g.empty:
                    continue
                share50, low50, high50, n = scores.coverage_interval(g["hit50"].to_numpy())
                share90, low90, high90, _ = scores.coverage_interval(g["hit90"].to_numpy())
                row = {
                    "period": period,
                    "horizon": horizon,
                    "variable": variable,
                    "forecaster": name,
                    "n": n,
                    "crps": float(g["crps"].mean()),
                    "coverage_50": share50,
                    "coverage_50_ci": [low50, high50],
                    "coverage_90": share90,
                    "coverage_90_ci": [low90, high90],
                    "pit_mean": float(g["pit"].mean()),
                }
                for base in BASELINES:
                    ref = by_name[base]["crps"].to_numpy()
                    row[f"skill_vs_{base}"] = scores.skill(g["crps"].to_numpy(), ref)
                rows.append(row)
    return pd.DataFrame(rows)


def tier_table(scored: Scored) -> pd.DataFrame:
    """Brier and log scores of every forecaster (the models' Brier with its Monte Carlo
    standard error) and each one's Brier skill against each baseline, by period × horizon ×
    tier; tiers ``HEADLINE_TIERS`` and any that occurred in the scored months."""
    tiers = scored.tiers
    occurred = set(tiers.loc[tiers["o"] == 1, "tier"])
    wanted = [t for t in tiers["tier"].unique() if t in HEADLINE_TIERS or t in occurred]
    rows = []
    for period, horizon, frame in _groups(tiers[tiers["tier"].isin(wanted)], horizons=True):
        for tier, by_tier in frame.groupby("tier"):
            by_name = {
                n: g.sort_values(["origin", "horizon"]) for n, g in by_tier.groupby("forecaster")
            }
            for name in scored.forecasters:
                g = by_name.get(name)
                if g is None or g.empty:
                    continue
                p, o = g["p"].to_numpy(), g["o"].to_numpy()
                paths = int(g["n_paths"].max())
                row = {
                    "period": period,
                    "horizon": horizon,
                    "tier": tier,
                    "forecaster": name,
                    "n": len(g),
                    "events": int(o.sum()),
                    "brier": float(g["brier"].mean()),
                    "brier_mc_se": scores.brier_mc_se(p, o, paths) if paths else 0.0,
                    "log": float(g["log"].mean()),
                    "mean_p": float(p.mean()),
                }
                for base in BASELINES:
                    ref = by_name[base]["brier"].to_numpy()
                    row[f"skill_vs_{base}"] = scores.skill(g["brier"].to_numpy(), ref)
                rows.append(row)
    return pd.DataFrame(rows)


def reliability(scored: Scored) -> dict[str, dict[str, pd.DataFrame]]:
    """Reliability tables pooled over horizons: tier → forecaster → table."""
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for tier in HEADLINE_TIERS:
        by_tier = scored.tiers[scored.tiers["tier"] == tier]
        out[tier] = {
            name: scores.reliability_table(g["p"].to_numpy(), g["o"].to_numpy())
            for name, g in by_tier.groupby("forecaster")
        }
    return out


def _fmt(x: float, digits: int = 2) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:+.{digits}f}"


def markdown(scored: Scored, values: pd.DataFrame, tiers: pd.DataFrame, info: dict) -> str:
    """The skill tables of each model: CRPS skill and band coverage by horizon and variable,
    Brier skill by horizon and tier, then every period pooled over horizons."""
    lines = [
        f"# Track record: {', '.join(scored.models)}",
        "",
        info["description"],
        "",
    ]
    if len(scored.models) > 1:
        lines += [
            "## The models compared (horizons pooled; skill against climatology / persistence)",
            "",
        ]
        for period in PERIOD_NAMES:
            lines += [
                f"### {period}",
                "",
                comparison_table(values, tiers, scored.models, period),
                "",
            ]
    for model in scored.models:
        lines += [
            f"## {model}: skill against climatology / persistence, and band coverage",
            "",
            compact_table(values, tiers, model),
            "",
            f"## {model}: monthly values (CRPS skill against climatology / persistence; "
            "coverage of the 50% and 90% bands)",
            "",
            "| variable | horizon | cases | CRPS | skill vs clim. | skill vs pers. | "
            "cover 50% | cover 90% |",
            "|---|---|---|---|---|---|---|---|",
        ]
        mine = values[(values["forecaster"] == model) & (values["period"] == "all")]
        for variable in VARIABLES:
            for _, r in mine[mine["variable"] == variable].iterrows():
                lines.append(
                    f"| {variable} | {r['horizon']} | {r['n']} | {r['crps']:.3g} | "
                    f"{_fmt(r['skill_vs_climatology'])} | {_fmt(r['skill_vs_persistence'])} | "
                    f"{r['coverage_50']:.2f} | {r['coverage_90']:.2f} |"
                )
        lines += [
            "",
            f"## {model}: event tiers (Brier skill against climatology / persistence)",
            "",
            "| tier | horizon | cases | events | Brier ± MC s.e. | skill vs clim. | "
            "skill vs pers. | log score |",
            "|---|---|---|---|---|---|---|---|",
        ]
        mine = tiers[(tiers["forecaster"] == model) & (tiers["period"] == "all")]
        shown = (mine["horizon"] == "all") | mine["tier"].isin(HEADLINE_TIERS)
        for _, r in mine[shown].iterrows():
            lines.append(
                f"| {r['tier']} | {r['horizon']} | {r['n']} | {r['events']} | "
                f"{r['brier']:.4f} ± {r['brier_mc_se']:.4f} | "
                f"{_fmt(r['skill_vs_climatology'])} | {_fmt(r['skill_vs_persistence'])} | "
                f"{r['log']:.3f} |"
            )
        lines += [
            "",
            f"## {model}: by period (horizons pooled)",
            "",
            "| period | spread CRPS skill clim. / pers. | reserves CRPS skill clim. / pers. | "
            "tight Brier skill clim. / pers. | stress Brier skill clim. / pers. | cases |",
            "|---|---|---|---|---|---|",
        ]
        for period in PERIOD_NAMES:
            cells, n = [], 0
            for variable in ("spread_max", "reserves_eom"):
                r = _row(values, model, period, variable=variable)
                cells.append(_pair(r))
                n = max(n, 0 if r is None else r["n"])
            for tier in HEADLINE_TIERS:
                cells.append(_pair(_row(tiers, model, period, tier=tier)))
            lines.append(f"| {period} | " + " | ".join(cells) + f" | {n} |")
        lines.append("")
    lines += _notes(scored, info)
    return "\n".join(lines) + "\n"


def compact_table(values: pd.DataFrame, tiers: pd.DataFrame, model: str) -> str:
    """One model's track record in one markdown table: by horizon and pooled, CRPS skill of the
    spread, reserves and TGA and Brier skill of ``tight`` and ``stress`` against climatology /
    persistence, and the coverage of the 50% and 90% bands (spread / reserves / TGA)."""
    head = (
        "| horizon | spread CRPS skill | reserves CRPS skill | TGA CRPS skill | "
        "tight Brier skill | stress Brier skill | 50% band: spread / reserves / TGA | "
        "90% band: spread / reserves / TGA |"
    )
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    horizons = [h for h in values["horizon"].unique() if h != "all"]
    for horizon in [*sorted(horizons), "all"]:
        cells = []
        for variable in VARIABLES:
            cells.append(_pair(_row(values, model, "all", horizon, variable=variable)))
        for tier in HEADLINE_TIERS:
            cells.append(_pair(_row(tiers, model, "all", horizon, tier=tier)))
        for level in (50, 90):
            shares = [_row(values, model, "all", horizon, variable=v) for v in VARIABLES]
            cells.append(
                " / ".join("–" if r is None else f"{r[f'coverage_{level}']:.2f}" for r in shares)
            )
        name = "pooled" if horizon == "all" else str(horizon)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def comparison_table(values: pd.DataFrame, tiers: pd.DataFrame, models, period="all") -> str:
    """The models side by side, horizons pooled: CRPS skill of the spread, reserves and TGA and
    Brier skill of ``tight``, ``stress`` and ``crisis`` against climatology / persistence, and
    the 90% band's coverage (spread / reserves / TGA)."""
    tier_names = [t for t in (*HEADLINE_TIERS, "crisis") if t in set(tiers["tier"])]
    head = (
        "| model | spread CRPS | reserves CRPS | TGA CRPS | "
        + " | ".join(f"{t} Brier" for t in tier_names)
        + " | 90% band: spread / reserves / TGA |"
    )
    lines = [head, "|---" * (5 + len(tier_names)) + "|"]
    for model in models:
        cells = [_pair(_row(values, model, period, variable=v)) for v in VARIABLES]
        cells += [_pair(_row(tiers, model, period, tier=t)) for t in tier_names]
        shares = [_row(values, model, period, variable=v) for v in VARIABLES]
        cells.append(" / ".join("–" if r is None else f"{r['coverage_90']:.2f}" for r in shares))
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _row(
    frame: pd.DataFrame, model: str, period: str, horizon: int | str = "all", **key
) -> pd.Series | None:
    ((name, value),) = key.items()
    hit = frame[
        (frame["forecaster"] == model)
        & (frame["period"] == period)
        & (frame["horizon"] == horizon)
        & (frame[name] == value)
    ]
    return None if hit.empty else hit.iloc[0]


def _pair(row: pd.Series | None) -> str:
    if row is None:
        return "–"
    return f"{_fmt(row['skill_vs_climatology'])} / {_fmt(row['skill_vs_persistence'])}"


def _notes(scored: Scored, info: dict) -> list[str]:
    lines = ["## Notes", ""]
    lines += [f"- {note}" for note in info["notes"]]
    if scored.failed:
        lines.append(
            f"- {len(scored.failed)} origins had no forecast (the data before them could not "
            "support a forecaster; not scored for any forecaster): "
            + "; ".join(f"{k}: {v}" for k, v in list(scored.failed.items())[:5])
            + (" …" if len(scored.failed) > 5 else "")
        )
    return lines


def to_json(
    scored: Scored, values: pd.DataFrame, tiers: pd.DataFrame, info: dict
) -> dict[str, Any]:
    """``evaluation.json``: settings, the pooled tables, reliability tables and every case."""

    def records(frame: pd.DataFrame) -> list[dict]:
        out = frame.copy()
        if "month" in out:
            out["month"] = out["month"].dt.strftime("%Y-%m")
        return out.to_dict(orient="records")

    return {
        **info,
        "failed_origins": scored.failed,
        "pooled": {"values": records(values), "tiers": records(tiers)},
        "reliability": {
            tier: {name: records(table) for name, table in by_name.items()}
            for tier, by_name in reliability(scored).items()
        },
        "cases": {"values": records(scored.values), "tiers": records(scored.tiers)},
    }
