#!/usr/bin/env bash
# Regenerates docs/predictive_check.md and docs/images/predictive_check.png: the shipped default's
# daily spread model (configs/default.toml: [demand_curve], [spread], [srf]) simulated along the
# realized daily reserve ratio of its calibration window, set against the realized SOFR − IORB per
# ratio bin and day kind (engine/evaluate/predictive.py). Does the model's spread, given the ratio,
# look like the spread that happened: its level, its daily changes and its 90% intervals?
# Run from the repository root after `pip install -e .`: bash docs/predictive_check.sh (< 1 min).
set -euo pipefail
python - configs/default.toml engine/data 2021-06-23 2025-12-31 1000 20260101 <<'PY'
import sys
from pathlib import Path

import numpy as np

from engine.evaluate.predictive import (
    INTERVAL,
    NOMINAL_COVERAGE,
    follows_business_day,
    predictive_check,
    predictive_figure,
)

config, data, since, until, paths, seed = sys.argv[1:]
paths, seed = int(paths), int(seed)
figure = Path("docs/images/predictive_check.png")
table, realized, simulated = predictive_check(data, config, since, until, paths, seed)
predictive_figure(table, figure)

# how far apart days are: lag-1 autocorrelation of the misses on consecutive business days
lo, hi = np.quantile(simulated, INTERVAL, axis=0)
miss = ((realized.to_numpy() < lo) | (realized.to_numpy() > hi)).astype(float)
pair = follows_business_day(realized.index)[1:]
r1 = np.corrcoef(miss[1:][pair], miss[:-1][pair])[0, 1]
inflation = np.sqrt((1 + r1) / (1 - r1))  # s.e. factor of an AR(1)-correlated mean


def triple(row, what):
    return " / ".join(f"{round(row[f'{what}_{q}'], 1) + 0.0:.1f}" for q in ("q05", "q50", "q95"))


rows = []
for _, row in table.iterrows():
    far = abs(row.coverage - NOMINAL_COVERAGE) > 2 * row.coverage_se
    cover = f"{row.coverage:.2f} ± {row.coverage_se:.2f}" + (" **" if far else "")
    rows.append(
        f"| {row.kind.replace('_', '-')} | {100 * row.x_low:.1f}–{100 * row.x_high:.1f} | "
        f"{row.n_days} | {cover} | {triple(row, 'level_realized')} | "
        f"{triple(row, 'level_simulated')} | {triple(row, 'change_realized')} | "
        f"{triple(row, 'change_simulated')} |"
    )
overall = [
    f"{kind.replace('_', '-')} {np.average(part.coverage, weights=part.n_days):.2f} "
    f"({part.n_days.sum()} days)"
    for kind, part in table.groupby("kind", sort=False)
]
text = f"""# Predictive check of the daily spread model

Compared: the realized SOFR − IORB on the {len(realized):,} business days {since} → {until} (the calibration window: an in-sample check) and {paths:,} paths of the spread model of `{config}` (curve, with its level's path smoothed on the window where the level moves; calendar effects, AR(1) Student-t noise, jumps, SRF ceiling, floor) simulated along the realized daily reserve ratio x the calibration uses (seed {seed}); per bin of x (the window's quintiles) and day kind (period-end: month-, quarter-, year-end or mid-month settlement; ordinary: the rest).
Read each row as: the 5 / 50 / 95% quantiles of the level and of the daily change Δs (days after a business day), realized against simulated (pooled over paths and the bin's days); realized spreads are quoted to 1bp, so their quantiles and Δs are whole numbers.
Coverage is the share of realized days inside that day's simulated 5–95% interval, ± its binomial s.e. at 0.90 (`**`: more than 2 s.e. from 0.90); misses cluster (lag-1 autocorrelation {r1:.2f} on consecutive days), so for runs of ordinary days the s.e. is about {inflation:.1f} × larger than shown.

The rule: **a well-specified model covers about 0.90 of realized days in each bin.** Overall: {", ".join(overall)}.

![realized vs simulated spread by reserve-ratio bin](images/{figure.name})

| day kind | x bin, % | days | coverage ± s.e. | level realized 5/50/95, bp | level simulated 5/50/95, bp | Δs realized 5/50/95, bp | Δs simulated 5/50/95, bp |
|---|---|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n\nRegenerate: `bash docs/predictive_check.sh` (engine/evaluate/predictive.py).\n"
Path("docs/predictive_check.md").write_text(text)
PY
echo "docs/predictive_check.md and docs/images/predictive_check.png updated"
