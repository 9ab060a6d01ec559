"""Parameter recovery through the whole ``calibrate`` chain.

One path is simulated by the engine (``trace_paths``) with KNOWN parameters ("the truth"), its
daily values are written as the CSV files FRED and the Treasury serve (`write_market_files`),
and ``calibrate`` reads them back. Each checked estimate must lie within `TOL_SE` standard
errors of the truth: its own (``Fitted.stderr``), or where stated the delta-method s.e. of a
curve value, or the s.e. the model implies (currency growth).

The truth is dated 2015-01-02 → 2018-12-31 (48 months, before the SRF existed, so the spread has
no ceiling and ``calibrate`` switches the SRF off) and sets every tested value explicitly, so
that it does not move when the shipped default is recalibrated. One regime runs the balance
sheet off slowly (`PACE_BN`): with currency and bank assets growing, the reserve ratio x sweeps
from about 0.15 to about 0.10 across the knee of the demand curve, which identifies the curve.

Not checked, because one 48-month path cannot give them to a useful precision or at all:
- the jump block: the truth has no jumps (``jump_p0 = 0``), but days in the Student-t(3)
  noise's tail beyond the 4 sd threshold are flagged as jumps, so the fitted p0 is positive
  by construction (0.009 ± 0.003 on this path) and the jump size is the tail's exceedance;
- ``spread.noise_sd0_bp`` and ``noise_sd1_bp`` one by one: h(x) only moves between ≈0.25 and
  ≈2.2 over the sweep, so the split of the scale into σ0 + σ1 h is weakly identified (the
  estimates' correlation is −0.5 on this path; with another seed σ0 landed 4.4 of its
  marginal s.e. below the truth);
- the ON RRP year-end spike (4 year-ends) and the TGA calendar amounts (each event's amount is
  drawn uniformly; 4 April and 16 corporate-tax events, the latter on the same days as a
  coupon settlement).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.calibrate.demand_curve import curve
from engine.calibrate.pipeline import Calibration, calibrate
from engine.calibrate.state import mid
from engine.config import load_config
from engine.diagnostics import trace_paths
from engine.schedule import build_schedule
from tests.conftest import MODEL_CONFIG

pytestmark = pytest.mark.slow  # compiles and runs the kernels

SEED = 20150102  # root seed of the simulated path (fixed: the test is deterministic)
START, AS_OF = dt.date(2015, 1, 2), dt.date(2014, 12, 31)
MONTHS = 48  # months simulated: 2015-01 → 2018-12
PACE_BN = -5.0  # $bn/month: a slow run-off; with currency (3.5%/yr) and bank assets (4.5%/yr)
#   growing it takes x from ≈0.15 to ≈0.10 in 48 months (-60 would drain reserves below zero)
IORB_PCT = 2.00  # %, constant interest on reserves
TOL_SE = 4.0  # standard errors: about 15 estimates are checked, so each gets a tolerance
#   whose two-sided normal tail (6e-5) keeps the chance that any one fails by chance near 1e-3

TRUTH: dict[str, float] = {  # config key → the value simulated
    "tga.ar_coefficient": 0.9,
    "tga.daily_sd_bn": 30.0,
    "demand_curve.alpha_bp": -12.0,
    "demand_curve.beta_bp": 14.0,
    "demand_curve.x0": 0.12,
    "demand_curve.lambda": 40.0,
    "spread.noise_ar": 0.5,
    "currency.growth_per_year": 0.035,
    "bank_assets.growth_per_year": 0.045,
}


def truth_toml(path: Path) -> Path:
    """The truth config: the judgement config (`MODEL_CONFIG`) with every value the test checks
    set here."""
    quarter_ends = pd.date_range(START, dt.date(2018, 12, 31), freq="QE")
    dates = ", ".join(f"{d:%Y-%m-%d}" for d in quarter_ends)
    levels = ", ".join("850.0" if i % 2 == 0 else "900.0" for i in range(len(quarter_ends)))
    t = TRUTH
    path.write_text(f'''base = "{MODEL_CONFIG}"
[simulation]
start = {START}
horizon_months = {MONTHS}
n_paths = 1
block_size = 1
seed = {SEED}
regimes = ["runoff"]
[initial]
as_of = {AS_OF}
reserves_bn = 3660.0
soma_bn = 7500.0
other_assets_bn = 0.0
currency_bn = 2400.0
tga_bn = 850.0
on_rrp_bn = 20.0
bank_assets_bn = 24400.0
[currency]
growth_per_year = {t["currency.growth_per_year"]}
seasonal_peak_bn = 20.0
daily_sd_bn = 1.5
[tga]
anchor_dates = [{dates}]
anchor_bn = [{levels}]
ar_coefficient = {t["tga.ar_coefficient"]}
daily_sd_bn = {t["tga.daily_sd_bn"]}
t_df = 4.0
[tga.calendar.april_tax]
amount_bn = [225.0, 300.0]
[tga.calendar.corporate_tax]
amount_bn = [80.0, 120.0]
[tga.calendar.coupon_settlement]
amount_bn = [30.0, 80.0]
[tga.calendar.first_of_month]
amount_bn = [-100.0, -50.0]
[tga.debt_ceiling]
probability = 0.0
[on_rrp]
base_bn = [5.0, 30.0]
daily_sd_bn = 5.0
[bank_assets]
growth_per_year = {t["bank_assets.growth_per_year"]}
[demand_curve]
alpha_bp = {t["demand_curve.alpha_bp"]}
beta_bp = {t["demand_curve.beta_bp"]}
x0 = {t["demand_curve.x0"]}
lambda = {t["demand_curve.lambda"]}
family = "exponential"
[spread]
month_end_bp = 4.0
quarter_end_bp = 8.0
year_end_bp = 15.0
settlement_bp = 5.0
noise_ar = {t["spread.noise_ar"]}
noise_sd0_bp = 2.0
noise_sd1_bp = 2.0
noise_t_df = 3.0
jump_p0 = 0.0
[srf]
enabled = false
[uncertainty]
parameters = false
block = []
[regimes.runoff]
pace_bn = {PACE_BN}
''')
    return path


def _fred(folder: Path, name: str, series: pd.Series, decimals: int) -> None:
    """A FRED-shaped CSV: header ``observation_date,NAME``, one row per date."""
    rows = [f"{day:%Y-%m-%d},{value:.{decimals}f}" for day, value in series.items()]
    (folder / f"{name}.csv").write_text("\n".join([f"observation_date,{name}", *rows]) + "\n")


def write_market_files(folder: Path, daily: pd.DataFrame) -> None:
    """The simulated path as the files ``calibrate`` reads, in the units the sources use.

    ``daily``: one row per business day, columns ``spread`` (bp), ``reserves``, ``tga``,
    ``on_rrp``, ``currency``, ``bank_assets``, ``soma`` ($bn). Weeks end on Wednesday (H.4.1)
    and their averages are over the week's business days; weeks that end after the last day
    are left out.

    - ``IORB.csv`` (%, constant) and ``SOFR.csv`` (%): IORB + spread / 100 rounded to 0.01%
      as FRED publishes it, so the spread the calibration sees is in whole basis points;
    - ``WRESBAL.csv``: week-average reserves, $ millions;
    - ``DTS_operating_cash_balance.csv``: the daily TGA close in the Daily Treasury
      Statement's row layout from 2022-04 on ("... Closing Balance"), $ millions;
    - ``RRPONTSYD.csv``: daily ON RRP, $ billions;
    - ``CURRCIR.csv``: monthly averages of currency, $ billions, dated the 1st;
    - ``TLAACBW027SBOG.csv``: week-average bank assets (reserves included, as in the H.8
      total assets), $ billions;
    - ``WALCL.csv``: Fed assets (SOMA) on Wednesday (the week's last business day), $ millions.
    """
    last = daily.index[-1]
    week = daily.index.to_period("W-WED").end_time.normalize()
    weekly = daily.groupby(week)

    def full(frame: pd.Series) -> pd.Series:  # weeks that end by the last day
        return frame[frame.index <= last]

    _fred(folder, "IORB", pd.Series(IORB_PCT, index=daily.index), 2)
    _fred(folder, "SOFR", (IORB_PCT + daily["spread"] / 100.0).round(2), 2)
    _fred(folder, "WRESBAL", full(weekly["reserves"].mean()) * 1000.0, 0)
    _fred(folder, "RRPONTSYD", daily["on_rrp"], 3)
    monthly = daily["currency"].groupby(daily.index.to_period("M")).mean()
    monthly.index = monthly.index.to_timestamp()
    _fred(folder, "CURRCIR", monthly, 1)
    _fred(folder, "TLAACBW027SBOG", full(weekly["bank_assets"].mean()), 4)
    _fred(folder, "WALCL", full(weekly["soma"].last()) * 1000.0, 0)
    rows = [
        f"{day:%Y-%m-%d},Treasury General Account (TGA) Closing Balance,{1000.0 * value:.0f}"
        for day, value in daily["tga"].items()
    ]
    header = "Record Date,Type of Account,Opening Balance Today"
    (folder / "DTS_operating_cash_balance.csv").write_text("\n".join([header, *rows]) + "\n")


@pytest.fixture(scope="module")
def recovered(tmp_path_factory) -> tuple[Calibration, pd.DataFrame]:
    """(the calibration of the simulated files, the simulated daily path)."""
    folder = tmp_path_factory.mktemp("recovery")
    config = load_config(truth_toml(folder / "truth.toml"))
    schedule = build_schedule(config)
    trace = trace_paths(schedule, n_paths=1, seed=config.simulation.seed, block_size=1)
    names = ("spread", "reserves", "tga", "on_rrp", "currency", "bank_assets", "soma", "ratio")
    days = pd.DatetimeIndex(schedule.calendar.days.astype("datetime64[ns]"), name="date")
    daily = pd.DataFrame({name: trace[name][0, :, 0] for name in names}, index=days)
    data = folder / "data"
    data.mkdir()
    write_market_files(data, daily)
    # the truth's α is fixed: its estimator is the fixed level's (the local level's recovery
    # is tests/test_curve_level.py; on this path it follows the pooled curve's misfit as x
    # sweeps the knee, and its end level is not α)
    return calibrate(data, until=daily.index[-1].date(), curve_level="fixed"), daily


def fitted(cal: Calibration, key: str):
    """The `Fitted` record of ``key``."""
    return next(f for f in cal.result.fitted if f.key == key)


def assert_recovered(cal: Calibration, key: str, truth: float, stderr: float | None = None):
    """The estimate of ``key`` (a range's mid-point) within `TOL_SE` standard errors of the
    truth; ``stderr`` defaults to the fit's own."""
    fit = fitted(cal, key)
    se = fit.stderr if stderr is None else stderr
    assert se is not None and se > 0.0, key
    z = (mid(fit.value) - truth) / se
    assert abs(z) < TOL_SE, f"{key}: {mid(fit.value):.6g} ± {se:.3g}, truth {truth}, z {z:+.2f}"


@pytest.mark.slow
def test_the_path_sweeps_the_knee(recovered):
    """The design's premise: x runs from ≈0.15 down to ≈0.10, so the curve is identified."""
    _, daily = recovered
    assert daily["ratio"].max() > 0.145 and daily["ratio"].min() < 0.11
    assert np.isfinite(daily.to_numpy()).all()
    cal, _ = recovered
    assert cal.config.srf.enabled is False
    assert cal.market.tga_daily  # the DTS-shaped file was read as the daily TGA


@pytest.mark.slow
def test_tga_ar1_recovered(recovered):
    cal, _ = recovered
    for key in ("tga.ar_coefficient", "tga.daily_sd_bn"):
        assert_recovered(cal, key, TRUTH[key])


RATIOS = (0.11, 0.13, 0.15)  # 1, inside the simulated sweep (below, at and above the knee)


@pytest.mark.slow
def test_demand_curve_recovered(recovered):
    """α, β, λ when the exponential family (the truth's) is chosen; in any case the fitted curve
    at `RATIOS` within `TOL_SE` s.e. of the truth (s.e. of f(x) by the delta method from the
    ``demand_curve`` block's covariance)."""
    cal, _ = recovered
    t = {k.split(".")[1]: v for k, v in TRUTH.items() if k.startswith("demand_curve.")}
    true_curve = curve(
        "exponential", np.array(RATIOS), t["alpha_bp"], t["beta_bp"], t["lambda"], t["x0"]
    )
    family = cal.config.demand_curve.family
    block = next(b for b in cal.result.blocks if b.name == "demand_curve")
    theta = np.asarray(block.mean, dtype=float)  # alpha_bp, beta_bp, x0, lambda

    def f(p: np.ndarray) -> np.ndarray:
        return curve(family, np.array(RATIOS), p[0], p[1], p[3], p[2])

    steps = 1e-6 * np.maximum(np.abs(theta), 1.0)
    jac = np.column_stack(
        [
            (f(theta + np.eye(4)[j] * steps[j]) - f(theta - np.eye(4)[j] * steps[j]))
            / (2 * steps[j])
            for j in range(4)
        ]
    )
    se = np.sqrt(np.diag(jac @ np.asarray(block.covariance) @ jac.T))
    z = (f(theta) - true_curve) / se
    assert np.all(np.abs(z) < TOL_SE), f"{family} at {RATIOS}: {f(theta)} ± {se}, z {z}"
    if family == "exponential":
        for name in ("alpha_bp", "beta_bp", "lambda"):
            assert_recovered(cal, f"demand_curve.{name}", t[name])
        assert cal.config.demand_curve.x0 == t["x0"]  # held at the reference: not identified


@pytest.mark.slow
def test_spread_noise_ar_recovered(recovered):
    cal, _ = recovered
    assert_recovered(cal, "spread.noise_ar", TRUTH["spread.noise_ar"])


@pytest.mark.slow
def test_spread_calendar_effects_recovered(recovered):
    """The γ's scale the chosen family's h: comparable with the truth's in the exponential."""
    cal, _ = recovered
    if cal.config.demand_curve.family != "exponential":
        pytest.skip("the γ's multiply another family's h than the truth's")
    for key, truth in (
        ("spread.month_end_bp", 4.0),
        ("spread.quarter_end_bp", 8.0),
        ("spread.year_end_bp", 15.0),
        ("spread.settlement_bp", 5.0),
    ):
        assert_recovered(cal, key, truth)


@pytest.mark.slow
def test_currency_growth_recovered_within_its_stated_se(recovered):
    cal, _ = recovered
    key = "currency.growth_per_year"
    assert_recovered(cal, key, TRUTH[key])


@pytest.mark.slow
def test_bank_assets_growth_recovered(recovered):
    cal, _ = recovered
    key = "bank_assets.growth_per_year"
    assert_recovered(cal, key, TRUTH[key])
