"""load_market_data: known facts of the shipped data, cuts at a date, subsets, the older layout."""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest

from engine.calibrate.market import (
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


def test_shipped_policy_rate_switch(shipped):
    rate = shipped.policy_rate_pct
    assert rate[day("2025-12-10")] == 3.90
    assert rate[day("2025-12-11")] == 3.65
    assert rate.index[0] == IORB_START  # IORB only: the shipped data has no IOER.csv
    assert shipped.sources["policy_rate_pct"].startswith("IORB.csv")


def test_shipped_spread_is_sofr_minus_iorb(shipped):
    sofr, iorb = read_fred(DATA_DIR / "SOFR.csv"), read_fred(DATA_DIR / "IORB.csv")
    common = sofr.index.intersection(iorb.index)
    expected = (sofr[common] - iorb[common]) * 100
    pd.testing.assert_series_equal(
        shipped.spread_bp, expected.rename("spread_bp"), check_exact=False, atol=1e-9, rtol=0
    )
    assert (shipped.spread_source == "SOFR").all()
    assert shipped.sources["spread_bp"] == (
        f"SOFR.csv − IORB.csv, 2021-07-29 → 2025-12-31, {len(common):,} obs"
    )
    # The target range's top (DFEDTARU to 2024-01) sits 10bp above IORB in 2023.
    assert abs(shipped.top_of_range_bp[day("2023-09-01")] - 10.0) < 1e-9
    assert "effr_spread_bp" in shipped.missing  # no EFFR.csv shipped


def test_shipped_srf_packaged_points(shipped):
    srf = shipped.srf_bn
    assert srf.to_dict() == {
        day("2025-09-15"): 1.5,
        day("2025-10-31"): 50.35,
        day("2025-12-01"): 26.0,
        day("2025-12-29"): 25.95,
        day("2025-12-31"): 74.6,
    }
    assert "packaged" in shipped.sources["srf_bn"]


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
    assert data.srf_bn is None and "2024-06-28" in data.missing["srf_bn"]
    # until as a date or Timestamp gives the same data
    same = load_market_data(DATA_DIR, dt.date(2024, 6, 28))
    pd.testing.assert_series_equal(same.spread_bp, data.spread_bp)


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
    for name in ("IORB.csv", "WALCL.csv"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    data = load_market_data(tmp_path, "2022-01-31")
    assert data.fed_assets_bn is None
    assert data.missing["fed_assets_bn"] == (
        "WALCL.csv has no observation on or before 2022-01-31 (it starts 2022-06-01)"
    )
    assert data.policy_rate_pct.index[-1] == day("2022-01-31")


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
