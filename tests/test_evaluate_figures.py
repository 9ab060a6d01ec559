"""The evaluation's figures: each a valid PNG, written atomically into its folder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.evaluate.figures import (
    coverage_by_horizon,
    forecast_fans,
    pit_histograms,
    reliability_diagrams,
)
from engine.evaluate.scores import reliability_table

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
VARIABLES = ("spread_max", "reserves_eom", "tga_eom")
FORECASTERS = ("model", "climatology", "persistence")


def assert_only_png(path, expected):
    """``path`` is ``expected``, a PNG, and the only file in its folder (no temporary left)."""
    assert path == expected
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 10_000
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_pit_histograms_write_a_png(tmp_path):
    rng = np.random.default_rng(1)
    pits = {f: {v: rng.uniform(0.0, 1.0, 120) for v in VARIABLES} for f in FORECASTERS}
    pits["persistence"]["tga_eom"][:10] = np.nan  # unknown values are left out
    del pits["climatology"]["spread_max"]  # a forecaster without one variable
    expected = tmp_path / "figs" / "pit.png"
    assert_only_png(pit_histograms(pits, expected, bins=8), expected)


def test_reliability_diagrams_write_a_png(tmp_path):
    rng = np.random.default_rng(2)
    p = rng.beta(0.6, 2.0, 400)
    o = rng.binomial(1, p).astype(float)
    tables = {
        tier: {
            "model": reliability_table(p, o),
            "climatology": reliability_table(np.full(400, o.mean()), o),
            "persistence": reliability_table(np.array([]), np.array([])),  # no case: skipped
        }
        for tier in ("tight", "stress")
    }
    expected = tmp_path / "reliability.png"
    assert_only_png(reliability_diagrams(tables, expected), expected)


def test_coverage_by_horizon_writes_a_png_and_names_missing_columns(tmp_path):
    rows = [
        dict(forecaster=f, variable=v, horizon=h, level=level, share=level, ci_low=level - 0.1,
             ci_high=min(level + 0.08, 1.0))
        for f in FORECASTERS for v in VARIABLES for h in range(1, 7) for level in (0.5, 0.9)
    ]  # fmt: skip
    coverage = pd.DataFrame(rows)
    expected = tmp_path / "coverage.png"
    assert_only_png(coverage_by_horizon(coverage, expected), expected)
    with pytest.raises(ValueError, match="ci_high"):
        coverage_by_horizon(coverage.drop(columns="ci_high"), tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_forecast_fans_write_a_png(tmp_path):
    z = {0.05: -1.645, 0.25: -0.674, 0.5: 0.0, 0.75: 0.674, 0.95: 1.645}
    fans = []
    for origin in ("2023-06", "2024-01", "2024-09"):
        months = pd.date_range(origin, periods=6, freq="MS") + pd.offsets.MonthBegin(1)
        window = pd.date_range(months[0] - pd.offsets.MonthBegin(12), months[-1], freq="MS")
        centre, spread = np.linspace(3200, 3100, 6), np.linspace(40, 160, 6)
        realized = np.linspace(3300, 3050, len(window))
        realized[-2:] = np.nan  # not yet known
        fans.append(
            dict(origin=origin, months=months,
                 quantiles={q: centre + k * spread for q, k in z.items()},
                 realized=realized, realized_months=window, variable="reserves", unit="$bn")
        )  # fmt: skip
    expected = tmp_path / "fans.png"
    assert_only_png(forecast_fans(fans, expected), expected)


def test_figures_refuse_nothing_to_draw_and_a_fan_without_its_keys(tmp_path):
    with pytest.raises(ValueError, match="nothing to draw"):
        pit_histograms({}, tmp_path / "empty.png")
    with pytest.raises(ValueError, match="realized_months"):
        forecast_fans([{"origin": "2024-01"}], tmp_path / "fan.png")
    assert list(tmp_path.iterdir()) == []
