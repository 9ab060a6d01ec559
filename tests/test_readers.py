"""Readers against known facts of the real data in engine/data."""

import holidays
import pandas as pd
import pytest

from engine.calibrate.readers import (
    DATA_DIR,
    UNITS,
    DataFileError,
    initial_state,
    read_dts_tga,
    read_fred,
)

DTS = DATA_DIR / "DTS_operating_cash_balance.csv"


@pytest.fixture(scope="module")
def tga() -> pd.Series:
    return read_dts_tga(DTS)


@pytest.fixture(scope="module")
def dts_rows() -> pd.DataFrame:
    """The raw DTS rows, indexed by (date, type of account)."""
    raw = pd.read_csv(DTS, encoding="utf-8-sig", parse_dates=["Record Date"])
    return raw.set_index(["Record Date", "Type of Account"])["Opening Balance Today"]


def fred(name: str) -> pd.Series:
    return read_fred(DATA_DIR / f"{name}.csv")


def test_tga_known_closes(tga):
    assert tga.name == "TGA"
    assert tga.index.name == "date"
    assert tga.dtype == float
    assert tga[pd.Timestamp("2025-10-30")] == 1_000_632
    assert tga[pd.Timestamp("2025-12-31")] == 872_853


def test_tga_business_days_positive(tga):
    assert tga.index.is_monotonic_increasing and tga.index.is_unique
    assert (tga > 0).all()
    assert tga.index[0] == pd.Timestamp("2021-06-24")
    assert tga.index[-1] == pd.Timestamp("2025-12-31")
    assert tga.index.to_series().diff().dt.days.max() <= 4
    # Every weekday is in the file except Federal Reserve holidays.
    fed = holidays.financial_holidays("XFED", years=range(2021, 2026))
    weekdays = pd.bdate_range(tga.index[0], tga.index[-1])
    assert set(weekdays.difference(tga.index).date) == set(fed) & set(weekdays.date)


def test_tga_transition_is_continuous(tga, dts_rows):
    day = pd.Timestamp
    # Opening-only days: close = next business day's opening.
    assert dts_rows[day("2022-04-15"), "Treasury General Account (TGA)"] == 602_292
    assert tga[day("2022-04-14")] == 602_292
    # The first new-format day carries an opening row: the close of 2022-04-15.
    opening_0418 = dts_rows[day("2022-04-18"), "Treasury General Account (TGA) Opening Balance"]
    assert opening_0418 == 578_473
    assert tga[day("2022-04-15")] == opening_0418
    assert tga[day("2022-04-18")] == 841_253
    # Opening + deposits - withdrawals = closing (to $1mn rounding) on 2022-04-18.
    deposits = dts_rows[day("2022-04-18"), "Total TGA Deposits (Table II)"]
    withdrawals = dts_rows[day("2022-04-18"), "Total TGA Withdrawals (Table II) (-)"]
    assert abs(opening_0418 + deposits - withdrawals - tga[day("2022-04-18")]) <= 1
    # Account renamed at the fiscal-year change; close of 2021-09-30 = FY2022 opening.
    assert tga[day("2021-09-30")] == dts_rows[day("2021-10-01"), "Treasury General Account (TGA)"]


def test_tga_new_format_openings_match_previous_closes(tga, dts_rows):
    opening = dts_rows.xs("Treasury General Account (TGA) Opening Balance", level=1)
    opening.index.name = "date"
    previous_close = tga.shift(1).reindex(opening.index)
    assert (opening == previous_close).all()


def test_fred_known_values():
    sofr, iorb = fred("SOFR"), fred("IORB")
    assert sofr[pd.Timestamp("2025-10-31")] == 4.22
    assert iorb[pd.Timestamp("2025-10-31")] == 3.90
    assert iorb[pd.Timestamp("2025-12-10")] == 3.90
    assert iorb[pd.Timestamp("2025-12-11")] == 3.65
    assert fred("WRESBAL")[pd.Timestamp("2025-10-29")] == 2_848_021
    assert fred("RRPONTSYD")[pd.Timestamp("2025-12-31")] == 105.993


def test_fred_holidays_dropped():
    sofr = fred("SOFR")
    assert sofr.notna().all()
    assert pd.Timestamp("2021-07-05") not in sofr.index


def test_fred_three_date_headers():
    for name, header in (("SOFR", "observation_date"), ("DFEDTARU", "DATE"), ("CURRCIR", "Date")):
        series = fred(name)
        assert series.name == name and series.index.name == "date", header
        assert name in UNITS


@pytest.mark.parametrize("header", ["DATE", "observation_date"])
def test_fred_header_variants(tmp_path, header):
    path = tmp_path / "X.csv"
    path.write_text(f"{header},XYZ\n2024-01-02,1.5\n2024-01-03,.\n2024-01-04,\n2024-01-05,2\n")
    series = read_fred(path)
    assert series.name == "XYZ"
    assert series.index.name == "date"
    assert isinstance(series.index, pd.DatetimeIndex)
    assert series.to_dict() == {pd.Timestamp("2024-01-02"): 1.5, pd.Timestamp("2024-01-05"): 2.0}


def test_fred_with_bom(tmp_path):
    path = tmp_path / "X.csv"
    path.write_bytes(b"\xef\xbb\xbfDATE,XYZ\n2024-01-02,1.5\n")
    assert read_fred(path).iloc[0] == 1.5


def test_missing_file_names_it(tmp_path):
    path = tmp_path / "NOPE.csv"
    with pytest.raises(DataFileError, match=r"NOPE\.csv"):
        read_fred(path)
    with pytest.raises(DataFileError, match=r"NOPE\.csv"):
        read_dts_tga(path)


def test_bad_value_names_file(tmp_path):
    path = tmp_path / "BAD.csv"
    path.write_text("DATE,XYZ\n2024-01-02,1.5\n2024-01-03,n/a\n")
    with pytest.raises(DataFileError, match=r"BAD\.csv.*n/a"):
        read_fred(path)


def test_no_date_column(tmp_path):
    path = tmp_path / "NODATE.csv"
    path.write_text("when,XYZ\n2024-01-02,1.5\n")
    with pytest.raises(DataFileError, match=r"NODATE\.csv"):
        read_fred(path)
    assert issubclass(DataFileError, ValueError)


def test_initial_state():
    state = initial_state()
    assert state["reserves_bn"] == pytest.approx(2957.41, rel=1e-12)
    assert state["fed_assets_bn"] == pytest.approx(6640.618, rel=1e-12)
    assert state["tga_bn"] == pytest.approx(872.853, rel=1e-12)
    assert state["on_rrp_bn"] == pytest.approx(105.993, rel=1e-12)
    assert abs(state["currency_bn"] - 2327.155 * 1.02 ** (25 / 12)) < 1e-9
    assert state["spread_bp"] == pytest.approx(22.0)


def test_initial_state_earlier_date():
    state = initial_state("2025-10-31")
    assert state["reserves_bn"] == pytest.approx(2848.021, rel=1e-12)  # Wed 2025-10-29
    assert state["spread_bp"] == pytest.approx(32.0)


def test_dts_with_bom(tmp_path, tga):
    path = tmp_path / "dts.csv"
    path.write_bytes(b"\xef\xbb\xbf" + DTS.read_bytes())
    pd.testing.assert_series_equal(read_dts_tga(path), tga)
