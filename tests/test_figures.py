"""Backtest figures: a fan chart written as a valid PNG, atomically."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

from engine.figures import fan_chart

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def quantiles(months: int) -> dict[float, np.ndarray]:
    centre = np.linspace(3000.0, 2900.0, months)
    spread = np.linspace(20.0, 120.0, months)
    return {
        q: centre + z * spread
        for q, z in [(0.05, -1.645), (0.25, -0.674), (0.5, 0.0), (0.75, 0.674), (0.95, 1.645)]
    }


def test_fan_chart_writes_a_png(tmp_path):
    months = pd.date_range("2025-01-01", periods=12, freq="MS")
    realized = pd.Series([3010.0, 2990.0, np.nan, 2950.0], index=months[:4])
    path = fan_chart(
        months,
        quantiles(12),
        realized,
        "Month-end reserves, regime A",
        "reserves ($bn)",
        tmp_path / "figs" / "reserves_eom.png",
    )
    assert path == tmp_path / "figs" / "reserves_eom.png"
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 10_000
    assert [p.name for p in path.parent.iterdir()] == ["reserves_eom.png"]  # no .tmp left


def test_fan_chart_without_realized_values_or_some_bands_replaces_the_file(tmp_path):
    months = pd.date_range("2025-06-01", periods=3, freq="MS")
    path = tmp_path / "spread.png"
    path.write_bytes(b"old")
    q = {k: v for k, v in quantiles(3).items() if k in (0.25, 0.5, 0.75)}
    fan_chart(months, q, None, "Month-max SOFR − IORB", "spread (bp)", path)
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spread.png"]


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def broken(self, handle, **kwargs):
        handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    months = pd.date_range("2025-01-01", periods=3, freq="MS")
    with pytest.raises(OSError, match="disk full"):
        fan_chart(months, quantiles(3), None, "t", "y (1)", tmp_path / "bad.png")
    assert list(tmp_path.iterdir()) == []
