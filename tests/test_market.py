"""load_market_data: known facts of the shipped data, cuts at a date, subsets, the older layout."""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest

from engine.calibrate.market import (
    DTS_FILE,
    IORB_START,
    SERIES_FIELDS,
    SRF_START,
    MarketData,
    load_market_data,
)
from engine.calibrate.readers import DATA_DIR, DataFileError, read_fred
from engine.errors import InputError
from tests.market_fixtures import SOFR_START, write_older_window

day = pd.Timestamp


@pytest.fixture(scope="module")
def shipped() -> MarketData:
    return load_market_data(DATA_DIR, "2025-12-31")


@pytest.fixture(scope="module")
def older(tmp_path_factory) -> tuple:
    folder = tmp_path_factory.mktemp("older")
    write_older_window(folder)
    return folder, load_market_data(folder, "2019-06-28")


def check_series(data: MarketData) -> None:
    """Every series: its field's name, float64 (source: str), sorted unique dates <= until."""
    for field in SERIES_FIELDS:
        series = getattr(data, field)
        assert (series is None) == (field in data.missing), field
        assert (series is None) != (field in data.sources), field
        if series is None:
            continue
        assert series.name == field
        assert isinstance(series.index, pd.DatetimeIndex) and series.index.name == "date"
        assert series.index.is_monotonic_increasing and series.index.is_unique, field
        assert series.notna().all(), field
        assert series.index[-1] <= data.until, field
        assert len(series) > 0, field
        if field == "spread_source":
            assert set(series) <= {"SOFR", "EFFR"}
        else:
            assert series.dtype == "float64", field


def test_shipped_known_facts(shipped):
    check_series(shipped)
    assert shipped.until == day("2025-12-31")
    assert shipped.tga_daily is True
    assert shipped.tga_bn[day("2025-10-30")] == 1000.632
    assert shipped.tga_bn[day("2025-12-31")] == 872.853
    assert abs(shipped.spread_bp[day("2025-10-31")] - 32.0) < 1e-9
    assert shipped.spread_source[day("2025-10-31")] == "SOFR"
    assert shipped.on_rrp_bn[day("2025-12-31")] == 105.993
    assert shipped.reserves_bn[day("2025-10-29")] == 2848.021
    assert shipped.fed_assets_bn[day("2025-12-31")] == 6640.618
    # WCURCIR is in $ millions: 889,417 on 2009-01-07 is $889.417bn.
    assert shipped.currency_bn[day("2009-01-07")] == 889.417
    assert shipped.currency_bn[day("2025-12-31")] == 2442.232
    assert shipped.sources["currency_bn"].startswith("WCURCIR.csv ($ millions / 1,000), 2009-01-07")
    assert shipped.bank_assets_bn[day("2025-12-31")] == 24683.0622
    assert shipped.missing == {}


def test_shipped_policy_rate_switch(shipped):
    rate = shipped.policy_rate_pct
    assert rate[day("2025-12-10")] == 3.90
    assert rate[day("2025-12-11")] == 3.65
    # IOER (2009-01-01 → 2021-07-28), then IORB from 2021-07-29.
    ioer, iorb = read_fred(DATA_DIR / "IOER.csv"), read_fred(DATA_DIR / "IORB.csv")
    assert ioer.index[-1] == day("2021-07-28") and iorb.index[0] == IORB_START
    assert rate.index[0] == day("2009-01-01") and rate.iloc[0] == 0.25
    expected = pd.concat([ioer, iorb]).rename("policy_rate_pct")
    pd.testing.assert_series_equal(rate, expected, check_index_type=False, check_freq=False)
    assert shipped.sources["policy_rate_pct"].startswith(
        "IOER.csv to 2021-07-28, IORB.csv from 2021-07-29, 2009-01-01 → 2025-12-31"
    )


def test_shipped_spread_is_effr_then_sofr_minus_the_policy_rate(shipped):
    effr, sofr = read_fred(DATA_DIR / "EFFR.csv"), read_fred(DATA_DIR / "SOFR.csv")
    policy = shipped.policy_rate_pct
    first_sofr = sofr.index[0]
    assert first_sofr == day("2018-04-03")
    effr_days = effr.index[effr.index < first_sofr].intersection(policy.index)
    sofr_days = sofr.index.intersection(policy.index)
    expected = pd.concat(
        [(effr[effr_days] - policy[effr_days]) * 100, (sofr[sofr_days] - policy[sofr_days]) * 100]
    )
    pd.testing.assert_series_equal(
        shipped.spread_bp,
        expected.rename("spread_bp"),
        check_exact=False,
        atol=1e-9,
        rtol=0,
        check_index_type=False,
    )
    source = shipped.spread_source
    assert (source[source.index < first_sofr] == "EFFR").all()
    assert (source[source.index >= first_sofr] == "SOFR").all()
    n = len(effr_days) + len(sofr_days)
    assert shipped.sources["spread_bp"] == (
        "EFFR.csv − IOER.csv/IORB.csv to 2018-04-02, SOFR.csv − IOER.csv/IORB.csv from "
        f"2018-04-03, 2009-01-02 → 2025-12-31, {n:,} obs"
    )
    # 2019-09-17: SOFR 5.25% against IOER 2.10% (+315bp); EFFR 2.30% (+20bp).
    assert abs(shipped.spread_bp[day("2019-09-17")] - 315.0) < 1e-9
    assert abs(shipped.effr_spread_bp[day("2019-09-17")] - 20.0) < 1e-9
    # Abundant reserves: EFFR sat under IOER (2012-06-29: 0.09% against 0.25%).
    assert abs(shipped.spread_bp[day("2012-06-29")] - (-16.0)) < 1e-9
    assert shipped.spread_source[day("2012-06-29")] == "EFFR"
    # The target range's top (DFEDTARU to 2024-01) sits 10bp above IORB in 2023.
    assert abs(shipped.top_of_range_bp[day("2023-09-01")] - 10.0) < 1e-9


PUBLISHED_SRF = {
    day("2025-09-15"): 1.5,
    day("2025-10-31"): 50.35,
    day("2025-12-01"): 26.0,
    day("2025-12-29"): 25.95,
    day("2025-12-31"): 74.6,
}


def test_shipped_srf_is_rponttld_from_2021_07_28(shipped):
    srf = shipped.srf_bn
    rponttld = read_fred(DATA_DIR / "RPONTTLD.csv")
    expected = rponttld[rponttld.index >= SRF_START].rename("srf_bn")
    pd.testing.assert_series_equal(srf, expected, check_index_type=False, check_freq=False)
    assert srf.index[0] == SRF_START and srf[SRF_START] == 0.0
    assert srf.index[-1] == day("2025-12-31") and srf.iloc[-1] == 74.6  # the file's last value
    # The 2019-20 repo operations (2019-09-17: $53.15bn) are in the file but not SRF take-up.
    assert rponttld[day("2019-09-17")] == 53.15 and srf.index.min() > day("2020-12-31")
    # The published 2025 take-up points are the file's values on those days.
    assert {when: srf[when] for when in PUBLISHED_SRF} == PUBLISHED_SRF
    assert shipped.sources["srf_bn"] == (
        f"RPONTTLD.csv from 2021-07-28, 2021-07-28 → 2025-12-31, {len(expected):,} obs"
    )


def test_packaged_srf_points(tmp_path):
    # A folder without RPONTTLD / RPONTSYD / srf_takeup.csv falls back on the packaged points.
    shutil.copy(DATA_DIR / "IORB.csv", tmp_path / "IORB.csv")
    data = load_market_data(tmp_path, "2025-12-31")
    assert data.srf_bn.to_dict() == PUBLISHED_SRF
    assert "packaged" in data.sources["srf_bn"]
    data = load_market_data(tmp_path, "2024-06-28")
    assert data.srf_bn is None and "2024-06-28" in data.missing["srf_bn"]
    assert data.missing["srf_bn"].endswith("(it starts 2025-09-15)")


def test_until_cuts_every_series():
    until = day("2024-06-28")
    data = load_market_data(DATA_DIR, "2024-06-28")
    check_series(data)
    assert data.until == until
    for field in SERIES_FIELDS:
        series = getattr(data, field)
        if series is not None:
            assert series.index.max() <= until, field
    assert data.tga_bn.index[-1] == until  # a Friday business day
    assert data.srf_bn.index[-1] == until and data.srf_bn.index[0] == SRF_START
    assert data.sources["srf_bn"].startswith(
        "RPONTTLD.csv from 2021-07-28, 2021-07-28 → 2024-06-28"
    )
    # until as a date or Timestamp gives the same data
    same = load_market_data(DATA_DIR, dt.date(2024, 6, 28))
    pd.testing.assert_series_equal(same.spread_bp, data.spread_bp)


# Model units ($bn, bp, %) every value of a window must lie in: wide enough for 2009-2025,
# narrow enough that a series left in $ millions (or a spread in % or in bp x 100) falls outside.
MODEL_UNITS = {
    "reserves_bn": (500.0, 5_000.0),
    "currency_bn": (800.0, 3_000.0),
    "spread_bp": (-400.0, 400.0),
    "effr_spread_bp": (-400.0, 400.0),
    "bank_assets_bn": (8_000.0, 30_000.0),
    "fed_assets_bn": (1_000.0, 10_000.0),
    "tga_bn": (1.0, 2_000.0),
    "on_rrp_bn": (0.0, 3_000.0),
    "srf_bn": (0.0, 500.0),
    "policy_rate_pct": (0.0, 10.0),
    "top_of_range_bp": (0.0, 50.0),
}


@pytest.mark.parametrize(
    "until", ["2009-03-31", "2012-06-29", "2018-04-30", "2019-09-30", "2021-07-30", "2025-12-31"]
)
def test_any_window_of_the_shipped_data(until):
    data = load_market_data(DATA_DIR, until)
    check_series(data)
    ts = day(until)
    assert set(MODEL_UNITS) | {"spread_source"} == set(SERIES_FIELDS)
    for field, (low, high) in MODEL_UNITS.items():
        series = getattr(data, field)
        if series is not None:
            assert low <= series.min() and series.max() <= high, (field, until)
    # Always there: the weekly balance sheet (to the last Wednesday), spread and policy rate.
    for field in ("reserves_bn", "currency_bn", "bank_assets_bn", "fed_assets_bn", "tga_bn"):
        assert ts - getattr(data, field).index[-1] < pd.Timedelta(days=7), (field, until)
    assert data.spread_bp.index[-1] == ts and data.policy_rate_pct.index[-1] == ts
    assert data.sources["currency_bn"].startswith("WCURCIR.csv ($ millions / 1,000)")
    # The layout at the date: EFFR before SOFR, IOER before IORB, WDTGAL before the DTS.
    source = data.spread_source
    assert (source[source.index < day("2018-04-03")] == "EFFR").all()
    assert (source[source.index >= day("2018-04-03")] == "SOFR").all()
    assert data.sources["policy_rate_pct"].startswith("IOER.csv")
    assert data.tga_daily == (ts >= day("2021-06-24"))
    assert data.sources["tga_bn"].startswith(
        DTS_FILE if data.tga_daily else "WDTGAL.csv ($ millions / 1,000)"
    )
    assert (data.srf_bn is not None) == (ts >= SRF_START)
    assert (data.on_rrp_bn is not None) == (ts >= day("2009-12-04"))  # RRPONTSYD's first
    assert (data.top_of_range_bp is not None) == (ts >= day("2021-06-01"))  # DFEDTARU's first


@pytest.mark.parametrize("until", ["June", "2025-13-01", "31/12/2025", None])
def test_bad_until(until):
    with pytest.raises(InputError, match="until: not a date"):
        load_market_data(DATA_DIR, until)


def test_subset_folder(tmp_path):
    for name in ("SOFR.csv", "IORB.csv", "WRESBAL.csv"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    (tmp_path / "notes.txt").write_text("ignored\n")
    (tmp_path / "OTHER.csv").write_text("not,a,known,file\n")
    data = load_market_data(tmp_path, "2025-12-31")
    check_series(data)
    assert abs(data.spread_bp[day("2025-10-31")] - 32.0) < 1e-9
    assert data.reserves_bn[day("2025-10-29")] == 2848.021
    for field in ("tga_bn", "on_rrp_bn", "currency_bn", "bank_assets_bn", "fed_assets_bn"):
        assert getattr(data, field) is None
        assert str(tmp_path) in data.missing[field]
    assert "no DTS_operating_cash_balance.csv" in data.missing["tga_bn"]
    assert "no WDTGAL.csv" in data.missing["tga_bn"]
    assert "no WTREGEN.csv" in data.missing["tga_bn"]
    assert data.tga_daily is False
    assert "no EFFR.csv" in data.missing["effr_spread_bp"]
    assert "no DFEDTARU.csv" in data.missing["top_of_range_bp"]
    assert data.srf_bn is not None and "packaged" in data.sources["srf_bn"]


def test_series_without_data_before_until(tmp_path):
    for name in ("IOER.csv", "WALCL.csv"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    data = load_market_data(tmp_path, "2009-01-06")
    assert data.fed_assets_bn is None
    assert data.missing["fed_assets_bn"] == (
        "WALCL.csv has no observation on or before 2009-01-06 (it starts 2009-01-07)"
    )
    assert data.policy_rate_pct.index[-1] == day("2009-01-06")
    assert data.missing["srf_bn"] == "no SRF before 2021-07-28"


def test_empty_or_absent_folder(tmp_path):
    with pytest.raises(DataFileError, match=rf"^{tmp_path}: none of the known data files"):
        load_market_data(tmp_path, "2025-12-31")
    (tmp_path / "readme.txt").write_text("x\n")
    with pytest.raises(DataFileError, match="none of the known"):
        load_market_data(tmp_path, "2025-12-31")
    with pytest.raises(DataFileError, match=r"nowhere: no such folder"):
        load_market_data(tmp_path / "nowhere", "2025-12-31")


def test_bad_file_in_folder_names_file_and_line(tmp_path):
    (tmp_path / "SOFR.csv").write_text("observation_date,SOFR\n2024-01-02,5.31\n2024-01-03,x\n")
    with pytest.raises(DataFileError) as err:
        load_market_data(tmp_path, "2025-12-31")
    assert str(err.value).startswith(f"{tmp_path / 'SOFR.csv'}:3: ")
    assert "\n" not in str(err.value)


def test_srf_from_folder(tmp_path):
    shutil.copy(DATA_DIR / "IORB.csv", tmp_path / "IORB.csv")
    (tmp_path / "srf_takeup.csv").write_text("observation_date,SRF\n2025-10-31,50.35\n")
    data = load_market_data(tmp_path, "2025-12-31")
    assert data.srf_bn.to_dict() == {day("2025-10-31"): 50.35}
    assert data.sources["srf_bn"].startswith("srf_takeup.csv,")
    # FRED's RPONTSYD wins; its days before the SRF (2019-20 repo operations) are left out.
    (tmp_path / "RPONTSYD.csv").write_text(
        "observation_date,RPONTSYD\n2019-09-17,53.15\n2021-07-28,0\n2025-12-31,74.6\n"
    )
    data = load_market_data(tmp_path, "2025-12-31")
    assert data.srf_bn.to_dict() == {day("2021-07-28"): 0.0, day("2025-12-31"): 74.6}
    assert data.sources["srf_bn"].startswith(f"RPONTSYD.csv from {SRF_START:%Y-%m-%d}")
    data = load_market_data(tmp_path, "2021-07-27")
    assert data.srf_bn is None and data.missing["srf_bn"] == "no SRF before 2021-07-28"


def test_treasury_named_dts_file(tmp_path):
    shutil.copy(DATA_DIR / "DTS_operating_cash_balance.csv", tmp_path / "DTS_OpCashBal_x.csv")
    data = load_market_data(tmp_path, "2025-12-31")
    assert data.tga_daily is True
    assert data.tga_bn[day("2025-12-31")] == 872.853


def test_older_window_spread_sources(older):
    folder, data = older
    check_series(data)
    effr, sofr, ioer = (read_fred(folder / f"{n}.csv") for n in ("EFFR", "SOFR", "IOER"))
    source, spread = data.spread_source, data.spread_bp
    first_sofr = day(SOFR_START)
    assert (source[source.index < first_sofr] == "EFFR").all()
    assert (source[source.index >= first_sofr] == "SOFR").all()
    assert source.index[0] == day("2009-01-02") and source.index[-1] == day("2019-06-28")
    for when, rate in ((day("2012-05-15"), effr), (day("2019-03-05"), sofr)):
        assert abs(spread[when] - (rate[when] - ioer[when]) * 100) < 1e-9
    effr_days = effr.index.intersection(ioer.index)
    assert len(data.effr_spread_bp) == len(effr_days)
    assert data.sources["spread_bp"].startswith(
        "EFFR.csv − IOER.csv to 2018-03-30, SOFR.csv − IOER.csv from 2018-04-02"
    )


def test_older_window_weekly_tga_and_ioer(older):
    folder, data = older
    assert data.tga_daily is False
    wdtgal = read_fred(folder / "WDTGAL.csv")
    pd.testing.assert_series_equal(data.tga_bn, (wdtgal / 1000).rename("tga_bn"))
    assert (data.tga_bn.index.day_of_week == 2).all()  # Wednesdays
    assert data.sources["tga_bn"].startswith("WDTGAL.csv")
    ioer = read_fred(folder / "IOER.csv")
    pd.testing.assert_series_equal(data.policy_rate_pct, ioer.rename("policy_rate_pct"))
    assert data.policy_rate_pct.iloc[0] == 0.25
    assert data.policy_rate_pct.iloc[-1] > 2.0
    assert data.sources["policy_rate_pct"].startswith("IOER.csv")
    assert data.sources["currency_bn"].startswith("WCURCIR.csv")
    assert data.srf_bn is None
    assert data.missing["srf_bn"] == "no SRF before 2021-07-28"


def test_older_window_before_sofr(older):
    folder, _ = older
    data = load_market_data(folder, "2017-12-29")
    check_series(data)
    assert (data.spread_source == "EFFR").all()
    pd.testing.assert_series_equal(
        data.spread_bp, data.effr_spread_bp.rename("spread_bp"), check_exact=True
    )


def test_ioer_iorb_splice(older, tmp_path):
    folder, _ = older
    shutil.copy(folder / "IOER.csv", tmp_path / "IOER.csv")
    shutil.copy(DATA_DIR / "IORB.csv", tmp_path / "IORB.csv")
    # A (synthetic) IOER day after the splice must not override IORB.
    text = (tmp_path / "IOER.csv").read_text() + "2021-07-28,0.10\n2021-07-29,9.99\n"
    (tmp_path / "IOER.csv").write_text(text)
    rate = load_market_data(tmp_path, "2025-12-31").policy_rate_pct
    assert rate[day("2021-07-28")] == 0.10
    assert rate[day("2021-07-29")] == 0.15  # IORB
    assert rate[day("2019-06-28")] == read_fred(folder / "IOER.csv").iloc[-1]


def test_since_cuts_every_series_to_the_window():
    data = load_market_data(DATA_DIR, "2019-06-28", since="2018-01-01")
    for field in SERIES_FIELDS:
        series = getattr(data, field)
        if series is not None:
            assert series.index[0] >= pd.Timestamp("2018-01-01"), field
            assert series.index[-1] <= pd.Timestamp("2019-06-28"), field
    assert data.spread_bp is not None and data.reserves_bn is not None
    assert data.fed_assets_bn.index[0] == pd.Timestamp("2018-01-03")  # the first Wednesday
    with pytest.raises(InputError, match="since 2020-01-01 is after until 2019-06-28"):
        load_market_data(DATA_DIR, "2019-06-28", since="2020-01-01")
