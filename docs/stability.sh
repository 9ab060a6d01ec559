#!/usr/bin/env bash
# Regenerates docs/stability.md: the default's method (calibrate on the 1,652 days before the
# calibration end, base configs/judgement.toml) ended at four month-ends of 2025, each run for
# 24 months, with the crisis odds and the state each one starts from. Does moving the end by one
# month move the odds by more than their Monte Carlo band, and if so did the state move too?
# Run from the repository root after `pip install -e .`: bash docs/stability.sh (about 3 min).
set -euo pipefail
out=out/stability
paths=100000
mkdir -p "$out"
for until in 2025-09-30 2025-10-31 2025-11-30 2025-12-31; do
    since=$(python -c "import datetime as d; print(d.date.fromisoformat('$until') - d.timedelta(days=1652))")
    rmp-risk calibrate engine/data --since "$since" --until "$until" --base configs/judgement.toml \
        --out "$out/$until.toml" --overwrite > /dev/null
    rm -f "$out/$until.nc"
    rmp-risk run "$out/$until.toml" --paths "$paths" --out "$out/$until.nc" --quiet
done
python - "$out" <<'PY'
import sys
from pathlib import Path

import xarray as xr

from engine.config import load_config

out = Path(sys.argv[1])
rows = []
for config_path in sorted(out.glob("*.toml")):
    config = load_config(config_path)
    cube = xr.open_dataset(config_path.with_suffix(".nc"))
    last = {"event": "crisis", "time": cube.time[-1]}
    odds = cube.cumulative_event_probability.sel(last) * 100
    se = cube.cumulative_event_probability_stderr.sel(last) * 100
    cells = [f"{float(odds.sel(regime=r)):.1f} ± {1.96 * float(se.sel(regime=r)):.1f}"
             for r in cube.regime.values]
    i, dc = config.initial, config.demand_curve
    ratio = i.reserves_bn / i.bank_assets_bn
    rows.append(
        f"| {config.initial.as_of} | {i.reserves_bn:,.0f} | {ratio:.2%} | {dc.x0:.2%} | "
        f"{dc.family}, {dc.lambda_:.0f} | {i.tga_bn:,.0f} | " + " | ".join(cells) + " |"
    )
    regimes = list(cube.regime.values)
header = (
    "| calibration end | reserves, $bn | ratio | knee x0 | curve, λ | TGA, $bn | "
    + " | ".join(f"{r}: crisis within 24 months, % ± 95% MC" for r in regimes)
    + " |\n|" + "---|" * (6 + len(regimes))
)
text = Path("docs/stability.md").read_text()
start, end = "<!-- stability:start -->", "<!-- stability:end -->"
head, rest = text.split(start)
_, tail = rest.split(end)
Path("docs/stability.md").write_text(f"{head}{start}\n{header}\n" + "\n".join(rows) + f"\n{end}{tail}")
PY
echo "docs/stability.md updated from $out"
