"""``rmp-risk calibrate``: the shipped data end to end, bad input refused before anything is
written, and an older data window (before IORB, SOFR and the SRF).

The shipped data is calibrated once for the module (about 40 s); its tests only read the result.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest

from engine.calibrate.demand_curve import FAMILIES, LAMBDA_MAX, curve
from engine.calibrate.fitted import FittedBlock
from engine.calibrate.pipeline import Calibration, _uncertainty_blocks, _written, calibrate
from engine.calibrate.readers import DATA_DIR, read_fred
from engine.cli import main
from engine.config import load_config
from engine.kernels.layout import CAL_NAMES

from .conftest import MODEL_CONFIG, SHIPPED_DEFAULT
from .market_fixtures import write_older_window

pytestmark = pytest.mark.slow  # compiles and runs the kernels

SHIPPED_UNTIL = dt.date(2025, 12, 31)
SHIPPED_SINCE = dt.date(2021, 6, 23)  # the shipped default's window: its data then began there
OLDER_UNTIL = dt.date(2019, 6, 28)
ERROR_PREFIX = "rmp-risk: error: "

_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=\s*(.*)$")
_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def _split_comment(rest: str) -> tuple[str, str | None]:
    """(value, comment) of the text after ``key =``: the comment starts at the first ``#``
    outside a double-quoted string; None when there is none."""
    in_string = False
    for i, char in enumerate(rest):
        if char == '"':
            in_string = not in_string
        elif char == "#" and not in_string:
            return rest[:i].strip(), rest[i + 1 :].strip()
    return rest.strip(), None


def assignments(text: str) -> list[tuple[str, str, str | None]]:
    """(dotted key, value text, comment or None) of every ``key = value`` line of TOML text."""
    out, table = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        if match:
            key = f"{table}.{match.group(1)}" if table else match.group(1)
            out.append((key, *_split_comment(match.group(2))))
            continue
        header = _TABLE.match(line)
        if header:
            table = header.group(1)
    return out


def one_error_line(err: str) -> str:
    """The single ``rmp-risk: error: ...`` line of ``err``."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(ERROR_PREFIX), lines[0]
    return lines[0]


# --- the shipped data, calibrated once ------------------------------------------------------


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> tuple[Calibration, Path]:
    """(the calibration of engine/data over the shipped default's window, 2021-06-23 →
    2025-12-31, on the judgement base, the config file it wrote)."""
    out = tmp_path_factory.mktemp("calibrated") / "calibrated.toml"
    cal = calibrate(DATA_DIR, SHIPPED_UNTIL, since=SHIPPED_SINCE, base=MODEL_CONFIG)
    cal.write(out)
    return cal, out


@pytest.mark.slow
def test_the_shipped_default_is_this_calibration(shipped):
    """configs/default.toml is `rmp-risk calibrate engine/data --since 2021-06-23 --until
    2025-12-31 --base configs/judgement.toml`, value for value."""
    cal, _ = shipped
    assert cal.config.sha256 == load_config(SHIPPED_DEFAULT).sha256


@pytest.mark.slow
def test_written_config_loads_as_the_calibrated_config(shipped):
    cal, out = shipped
    assert load_config(out) == cal.config


@pytest.mark.slow
def test_every_value_line_has_a_comment(shipped):
    _, out = shipped
    lines = assignments(out.read_text(encoding="utf-8"))
    assert len(lines) > 100  # the whole config is written, not a few keys
    bare = [key for key, _, comment in lines if not comment]
    assert bare == []


@pytest.mark.slow
def test_fitted_values_say_fitted_period_and_series(shipped):
    cal, out = shipped
    comments = {key: comment for key, _, comment in assignments(out.read_text(encoding="utf-8"))}
    assert len(cal.result.fitted) > 20
    for fit in cal.result.fitted:
        comment = comments[fit.key]
        start, end = fit.period
        assert "[F]" in comment, fit.key
        assert f"{start.isoformat()} → {end.isoformat()}" in comment, fit.key
        assert fit.series in comment, fit.key


@pytest.mark.slow
def test_known_facts_of_the_shipped_data(shipped):
    cal, out = shipped
    for config in (cal.config, load_config(out)):
        assert config.initial.as_of == SHIPPED_UNTIL
        assert config.simulation.start == dt.date(2026, 1, 2)  # 2026-01-01 is a holiday
        assert config.initial.tga_bn == 872.853  # $bn, DTS TGA close 2025-12-31
        assert config.initial.on_rrp_bn == 105.993  # $bn, RRPONTSYD 2025-12-31
        assert config.initial.currency_bn == 2442.232  # $bn, WCURCIR 2025-12-31 ($2,442,232mn)
        assert config.srf.enabled is True  # the SRF exists since 2021-07-28


@pytest.mark.slow
def test_the_curve_family_is_chosen_among_all_four(shipped):
    cal, _ = shipped
    family = cal.config.demand_curve.family
    assert family in FAMILIES
    assert set(cal.curves.index) == set(FAMILIES)
    table = cal.table()
    rows = {
        name: line for line in table.splitlines() for name in FAMILIES if line.split()[:1] == [name]
    }
    assert set(rows) == set(FAMILIES)
    assert "← chosen" in rows[family]
    assert sum("← chosen" in line for line in rows.values()) == 1


# Plausible ranges of fitted values (units of the key): wide enough for any sensible fit of
# 2021-2025, narrow enough to catch a unit or sign error, a fit that ran off to a bound, or a
# value that would make the model meaningless.
PLAUSIBLE = {
    # daily TGA deviations from the anchor persist for days to weeks: φ in (0.5, 1)
    "tga.ar_coefficient": (0.5, 1.0),
    # $bn/day: the DTS close moves by tens of $bn a day (not $mn, not $T)
    "tga.daily_sd_bn": (5.0, 100.0),
    # Student-t degrees of freedom of TGA innovations: heavy-tailed, variance finite
    "tga.t_df": (2.0, 30.0),
    # bp: SOFR − IORB at ample reserves sits at or a few bp below IORB (−10bp in 2021-2022)
    "demand_curve.alpha_bp": (-25.0, 5.0),
    # bp: the curve's rise at the knee over its floor
    "demand_curve.beta_bp": (0.0, 100.0),
    # 1: the knee at 5-25% of bank assets (Afonso et al.: 12-13%)
    "demand_curve.x0": (0.05, 0.25),
    # 1: a curve that rises as reserves fall, not on the fit's upper bound
    "demand_curve.lambda": (0.0, LAMBDA_MAX),
    # 1: the spread noise is persistent but stationary
    "spread.noise_ar": (0.0, 1.0),
    # 1/yr, mid-point: currency grows, by less than 10%/yr
    "currency.growth_per_year": (0.0, 0.10),
    # $bn/day: currency moves by a few $bn a day
    "currency.daily_sd_bn": (0.1, 10.0),
}


@pytest.mark.slow
def test_fitted_values_are_plausible(shipped):
    cal, _ = shipped
    by_key = {fit.key: fit for fit in cal.result.fitted}
    for key, (low, high) in PLAUSIBLE.items():
        value = by_key[key].value
        mid = 0.5 * (value[0] + value[1]) if isinstance(value, tuple) else value
        assert low < mid < high, f"{key} = {value}, expected in ({low}, {high})"
    # the curve through the anchors of MODEL.md §4 (x = 0.14 in H2-2024: ≈ −6bp; x = 0.12,
    # late 2025: ≈ +2bp), within a band of ±10bp
    dc = cal.config.demand_curve
    at = lambda x: float(curve(dc.family, x, dc.alpha_bp, dc.beta_bp, dc.lambda_, dc.x0))  # noqa: E731
    assert -16.0 < at(0.14) < 4.0
    assert -8.0 < at(0.12) < 12.0
    assert at(0.10) > at(0.12) > at(0.14)


# --- bad input: exit 2, one line, nothing written -------------------------------------------


def run_calibrate(data_dir, out, *extra: str, until: str = "2025-12-31") -> int:
    return main(["calibrate", str(data_dir), "--until", until, "--out", str(out), *extra])


def test_missing_data_dir_exits_2(tmp_path, capsys):
    out = tmp_path / "out.toml"
    assert run_calibrate(tmp_path / "no-such-folder", out) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert "no-such-folder" in line and "no such folder" in line
    assert captured.out == ""
    assert list(tmp_path.iterdir()) == []


def test_malformed_sofr_names_file_and_line(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    rows = [
        "2025-01-02,4.49",
        "2025-01-03,4.45",
        "2025-01-06,4.41",
        "2025-01-07,x4.3",
        "2025-01-08,4.33",
    ]
    (data / "SOFR.csv").write_text("\n".join(["observation_date,SOFR", *rows]) + "\n")
    (data / "IORB.csv").write_text("observation_date,IORB\n2025-01-02,4.40\n")
    out = tmp_path / "out.toml"
    assert run_calibrate(data, out) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "SOFR.csv:5" in line and "'x4.3'" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_existing_out_without_overwrite_exits_2(tmp_path, capsys):
    out = tmp_path / "out.toml"
    out.write_text("# keep me\n")
    assert run_calibrate(DATA_DIR, out) == 2
    line = one_error_line(capsys.readouterr().err)
    assert str(out) in line and "--overwrite" in line
    assert out.read_text() == "# keep me\n"
    assert list(tmp_path.iterdir()) == [out]


def test_unwritable_out_exits_2(capsys):
    # Sessions may run as root, for whom permission bits do not stop a write; /proc does.
    out = Path("/proc/rmp-risk-calibrated.toml")
    assert run_calibrate(DATA_DIR, out) == 2
    line = one_error_line(capsys.readouterr().err)
    assert str(out) in line and "cannot write" in line
    assert not out.exists()


def test_until_not_a_date_is_a_usage_error(tmp_path, capsys):
    out = tmp_path / "out.toml"
    with pytest.raises(SystemExit) as exit_info:
        run_calibrate(DATA_DIR, out, until="2025-13-45")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--until" in err and "2025-13-45" in err
    assert list(tmp_path.iterdir()) == []


# --- an older window: IOER, EFFR before SOFR, weekly TGA, no SRF --------------------------


@pytest.mark.slow
def test_older_window_calibrates_without_srf(tmp_path):
    data = tmp_path / "data"
    write_older_window(data)
    cal = calibrate(data, OLDER_UNTIL)
    config = cal.config
    assert config.initial.as_of == OLDER_UNTIL
    assert config.srf.enabled is False
    assert [rule for rule in cal.rules if rule.startswith("srf.enabled = false")]
    # weekly TGA (WDTGAL): the calendar amounts are fitted from the Wednesday levels too
    fitted = {f.key: f for f in cal.result.fitted}
    for name in CAL_NAMES:
        key = f"tga.calendar.{name}.amount_bn"
        assert key in fitted and "weekly" in fitted[key].statistic, key
        amount = getattr(config.tga.calendar, name).amount_bn
        assert (amount.low, amount.high) == pytest.approx(fitted[key].value, rel=1e-4)
    out = tmp_path / "older.toml"
    cal.write(out)
    assert load_config(out) == config
    srf_line = [v for k, v, _ in assignments(out.read_text(encoding="utf-8")) if k == "srf.enabled"]
    assert srf_line == ["false"]


@pytest.mark.slow
def test_cli_calibrates_the_shipped_data_to_an_older_date(tmp_path, capsys):
    """`rmp-risk calibrate engine/data --until 2019-06-28` (WCURCIR in $ millions, IOER, EFFR
    before SOFR, weekly TGA, no SRF) exits 0 and writes a config in model units."""
    out = tmp_path / "c.toml"
    assert run_calibrate(DATA_DIR, out, until="2019-06-28") == 0
    assert ERROR_PREFIX not in capsys.readouterr().err
    config = load_config(out)
    assert config.initial.as_of == OLDER_UNTIL
    assert config.srf.enabled is False
    # last Wednesday on or before 2019-06-28: WCURCIR 1,738,215 and WRESBAL 1,504,737 ($ millions)
    assert config.initial.currency_bn == 1738.215
    assert read_fred(DATA_DIR / "WCURCIR.csv")[dt.datetime(2019, 6, 26)] == 1_738_215
    assert config.initial.reserves_bn == 1504.737
    lines = assignments(out.read_text(encoding="utf-8"))
    assert [key for key, _, comment in lines if not comment] == []


# Windows of the shipped data (the shipped default's length, 1,652 days) whose calibration once
# failed: a covariance made indefinite by its 6-digit rounding (2017-03-31), a daily TGA that
# starts a week before the cut (2021-06-30: 5 days of daily ratio), a jump probability of 29.9
# at the knee from that partial daily ratio (2021-12-31).
@pytest.mark.slow
@pytest.mark.parametrize("until", ["2017-03-31", "2021-06-30", "2021-12-31"])
def test_calibration_windows_that_once_failed(until):
    until = dt.date.fromisoformat(until)
    since = until - (SHIPPED_UNTIL - SHIPPED_SINCE)
    cal = calibrate(DATA_DIR, until, base=MODEL_CONFIG, since=since)
    assert cal.config.spread.jump_p0 <= 1.0
    for block in cal.config.uncertainty.block:
        assert (
            np.linalg.eigvalsh(np.asarray(block.covariance)).min()
            >= -1e-9 * np.abs(np.asarray(block.covariance)).max()
        )
    if until >= dt.date(2021, 6, 24):  # the daily TGA starts inside the window
        assert any("weekly ratio interpolated to 2021-06-23, then" in r for r in cal.rules)


def test_an_indefinite_covariance_is_replaced_by_its_nearest_and_said():
    rules: list[str] = []
    block = FittedBlock(
        "spread_noise",
        ("spread.noise_ar", "spread.noise_sd0_bp"),
        np.array([0.5, 2.0]),
        np.array([[1.0, 2.0], [2.0, 1.0]]),  # eigenvalues 3 and −1
    )
    values = {"spread": {"noise_ar": 0.5, "noise_sd0_bp": 2.0}}
    (written,) = _uncertainty_blocks([block], values, rules)
    cov = np.asarray(written["covariance"])
    np.testing.assert_allclose(cov, [[1.5, 1.5], [1.5, 1.5]])  # −1 set to 0
    assert rules and "smallest eigenvalue -1" in rules[0]


def test_an_ill_conditioned_covariance_is_written_with_every_digit():
    angle = 0.3  # radians: entries with every digit significant
    rotation = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    cov = rotation @ np.diag([7.4e4, 8.4e-5]) @ rotation.T  # positive definite, cond 1e9
    rounded = [[float(f"{c:.6g}") for c in row] for row in cov]
    assert np.linalg.eigvalsh(np.asarray(rounded)).min() < 0.0  # 6 digits: indefinite
    rows = _written(cov)
    assert np.linalg.eigvalsh(np.asarray(rows)).min() > 0.0
    assert rows == cov.tolist()
