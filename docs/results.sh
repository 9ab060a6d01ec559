#!/usr/bin/env bash
# Regenerates the README's "Results": the default run, a pace sweep, the required pace for a 5%
# crisis ceiling within 12 months, the report, and the committed pictures in docs/images/results.
# Run from the repository root after `pip install -e .`: bash docs/results.sh
set -euo pipefail
out=out/results
mkdir -p "$out" docs/images/results
rmp-risk run configs/default.toml --out "$out/cube.nc" --quiet
rmp-risk sweep configs/default.toml --pace 0:120:10 --within 12 --out "$out/sweep.nc" --quiet
rmp-risk required-pace configs/default.toml --event crisis --alpha 0.05 --within 12 \
    --out "$out/required_pace.nc" --quiet
rmp-risk report "$out/cube.nc" "$out/sweep.nc" "$out/required_pace.nc" --data engine/data \
    --out "$out/report"
for figure in crisis_heatmap fan_reserves_eom_D sweep required_pace; do
    cp "$out/report/$figure.png" docs/images/results/
done
echo "report: $out/report/index.html; pictures: docs/images/results/"
