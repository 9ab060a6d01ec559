#!/usr/bin/env bash
# Regenerates the README's "Track record": `rmp-risk evaluate` of the shipped method (the recipe
# `calibrated`) from every month 2010-01 → 2025-06, 6 months ahead, the figures in
# docs/images/track_record, the full tables in docs/track_record.md, and the README's table.
# Run from the repository root after `pip install -e .`: bash docs/track_record.sh
# (about 11 minutes on 2 cores; a rerun with the same code and data resumes from
# out/track_record/origins, other code or data start again).
set -euo pipefail
out=out/track_record
rmp-risk evaluate calibrated --data engine/data --origins 2010-01:2025-06 --months 6 \
    --refit-every 3 --out "$out" --overwrite --quiet > /dev/null
mkdir -p docs/images/track_record
for figure in pit reliability coverage fans; do
    cp "$out/$figure.png" docs/images/track_record/
done
cp "$out/summary.md" docs/track_record.md
python - "$out/evaluation.json" <<'PY'
import json, re, sys
from pathlib import Path

import pandas as pd

from engine.evaluate.summary import compact_table

report = json.loads(Path(sys.argv[1]).read_text())
values = pd.DataFrame(report["pooled"]["values"])
tiers = pd.DataFrame(report["pooled"]["tiers"])
table = compact_table(values, tiers, "calibrated")
readme = Path("README.md")
text = readme.read_text()
block = f"<!-- track-record:start -->\n{report['description']}\n\n{table}\n<!-- track-record:end -->"
text, n = re.subn(r"<!-- track-record:start -->.*?<!-- track-record:end -->", block, text, flags=re.S)
if n != 1:
    sys.exit("README.md: no track-record markers")
readme.write_text(text)
PY
echo "track record: $out/summary.md; README and docs/track_record.md updated"
