"""``rmp-risk backtest``: the forecast sees no data after its start; the scores and files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from engine.backtest import backtest, realized_monthly, trend_pace
from engine.calibrate.market import load_market_data
from engine.calibrate.readers import DATA_DIR
from engine.cli import main
from tests.conftest import MODEL_CONFIG, assert_same_cube

pytestmark = pytest.mark.slow  # compiles and runs the kernels

START = pd.Timestamp("2025-06-02")
MONTHS = 3
PATHS = 512


def _run(data_dir: Path, **options):
    return backtest(MODEL_CONFIG, data_dir, START.date(), MONTHS, paths=PATHS, seed=5, **options)


@pytest.fixture(scope="module")
def result():
    return _run(DATA_DIR)


def _shift_after(path: Path, column: int, start: pd.Timestamp, factor: float) -> None:
    """Multiply column ``column`` of a FRED-shaped CSV by ``factor`` on rows dated ≥ start."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if cells[1] not in ("", ".") and pd.Timestamp(cells[0]) >= start:
            cells[column] = f"{float(cells[column]) * factor:.3f}"
        out.append(",".join(cells))
    path.write_text("\n".join(out) + "\n")


@pytest.mark.slow
def test_later_data_does_not_reach_the_forecast(tmp_path, result):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    for name in ("SOFR.csv", "WRESBAL.csv", "RRPONTSYD.csv", "WALCL.csv"):
        _shift_after(data / name, 1, START, 1.5)
    changed = _run(data)
    assert_same_cube(result.cube, changed.cube)  # the forecast: every number identical
    before = result.realized["spread_max"].dropna()
    after = changed.realized["spread_max"].dropna()
    assert not before.equals(after)  # ... while the realized months did change


def test_scores_and_files(tmp_path, result):
    result.write(tmp_path)
    payload = json.loads((tmp_path / "backtest.json").read_text())
    assert payload["points"] == 3 * MONTHS  # three variables, every month covered by data
    for band in ("coverage_50", "coverage_90"):
        assert 0.0 <= payload[band] <= 1.0
    assert payload["coverage_50"] <= payload["coverage_90"]
    assert set(payload["brier"]) == set(payload["brier_skill"]) >= {"crisis", "stress", "tight"}
    assert [m["month"] for m in payload["months"]] == ["2025-06", "2025-07", "2025-08"]
    month = payload["months"][0]
    assert set(month) >= {"month", "predicted", "realized", "quantiles", "realized_values"}
    assert set(month["quantiles"]) == {"reserves_eom", "tga_eom", "spread_max"}
    assert month["realized"]["crisis"] in (0, 1)
    for name in ("reserves_eom", "tga_eom", "spread_max"):
        png = tmp_path / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_realized_values_are_the_data():
    after = load_market_data(DATA_DIR, "2025-12-31")
    months = pd.DatetimeIndex(["2025-10-01", "2025-11-01", "2026-01-01"])
    values = realized_monthly(after, months)
    assert values["spread_max"].iloc[0] == pytest.approx(32.0)  # 2025-10-31: SOFR − IORB +32bp
    assert values["tga_eom"].iloc[0] == pytest.approx(after.tga_bn.loc["2025-10-31"])
    assert values["reserves_eom"].iloc[1] == pytest.approx(
        after.reserves_bn.loc["2025-11"].iloc[-1]
    )
    assert values["spread_max"].isna().iloc[2]  # a month the data do not cover: not scored


def test_trend_regime_is_the_fed_balance_sheet_trend():
    walcl = load_market_data(DATA_DIR, "2025-06-01").fed_assets_bn
    pace, rule = trend_pace(walcl)
    assert -100.0 < pace < 0.0  # QT: the balance sheet ran off in the first half of 2025
    assert "WALCL" in rule and "$bn/month" in rule


def _cli(*options: str) -> int:
    """``rmp-risk backtest`` on the judgement config and the shipped data, from 2025-06-02."""
    return main(
        ["backtest", str(MODEL_CONFIG), "--data", str(DATA_DIR), "--start", "2025-06-02", *options]
    )


def test_cli_refuses_an_output_file_before_simulating(tmp_path, capsys):
    blocker = tmp_path / "taken"
    blocker.write_text("x")
    assert _cli("--out", str(blocker)) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_cli_names_an_unknown_regime(tmp_path, capsys):
    assert _cli("--months", "1", "--regime", "Z", "--out", str(tmp_path / "o"), "--quiet") == 2
    assert "--regime Z" in capsys.readouterr().err
