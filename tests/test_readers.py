"""Readers against known facts of the real data in engine/data."""

import csv
import re

import holidays
import pandas as pd
import pytest

from engine.calibrate.readers import (
    DATA_DIR,
    PLAUSIBLE,
    UNITS,
    DataFileError,
    initial_state,
    read_dts_tga,
    read_fred,
)
from engine.errors import InputError

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


def test_fred_known_values_of_the_long_history():
    day = pd.Timestamp
    assert fred("WCURCIR")[day("2009-01-07")] == 889_417  # $ millions
    assert UNITS["WCURCIR"] == "$ millions"
    ioer, iorb = fred("IOER"), fred("IORB")
    assert ioer.index[-1] == day("2021-07-28") and iorb.index[0] == day("2021-07-29")
    assert ioer[day("2009-01-01")] == 0.25
    # 2019-09-17: SOFR 5.25% against IOER 2.10%; EFFR 2.30%.
    assert fred("SOFR")[day("2019-09-17")] == 5.25
    assert ioer[day("2019-09-17")] == 2.10
    assert fred("EFFR")[day("2019-09-17")] == 2.30
    assert fred("SOFR").index[0] == day("2018-04-03")
    rponttld = fred("RPONTTLD")
    assert rponttld[day("2025-12-31")] == 74.6
    assert rponttld[day("2019-09-17")] == 53.15  # the Fed's first repo operation of 2019-09
    assert fred("WRESBAL")[day("2009-01-07")] == 877_820
    assert fred("WDTGAL")[day("2025-12-31")] == 872_853
    assert fred("TLAACBW027SBOG")[day("2025-12-31")] == 24_683.0622
    assert fred("DPSACBW027SBOG")[day("2009-01-07")] == 7_242.6122


def test_dts_closes_equal_the_h41_wednesday_levels(tga):
    wdtgal = fred("WDTGAL")
    common = tga.index.intersection(wdtgal.index)
    assert len(common) == 233  # every Wednesday of 2021-06-24 → 2025-12-31 the DTS has
    assert (tga[common] == wdtgal[common]).all()


def readme_table() -> dict[str, dict[str, str]]:
    """engine/data/README.md's provenance table: file name -> {column: cell}."""
    lines = [
        line for line in (DATA_DIR / "README.md").read_text().splitlines() if line.startswith("|")
    ]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[0] == "file" and "units" in header
    table = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if not cells[0].endswith(".csv"):
            break  # the next table
        row = dict(zip(header, cells, strict=True))
        for name in cells[0].split(", "):
            table[name] = row
    return table


def test_every_shipped_file_loads_as_the_readme_says():
    """Every file in engine/data has a README row, its first and last rows and its units are
    the README's, and its reader reads it: sorted, unique dates, no NaN, within PLAUSIBLE."""
    table = readme_table()
    files = sorted(p.name for p in DATA_DIR.iterdir() if p.name != "README.md")
    assert files == sorted(table)
    for name in files:
        path = DATA_DIR / name
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = [row for row in csv.reader(handle) if row]
        header, dates = rows[0], sorted(row[0] for row in rows[1:])
        first, last = re.match(r"(\S+) → (\S+)", table[name]["range (first → last row)"]).groups()
        assert dates[0].startswith(first) and dates[-1].startswith(last), name
        series = read_dts_tga(path) if name == DTS.name else read_fred(path)
        key = series.name
        assert key == ("TGA" if name == DTS.name else header[1]), name
        assert table[name]["units"] == UNITS[key], name
        assert len(series) > 0 and series.notna().all(), name
        assert series.index.is_monotonic_increasing and series.index.is_unique, name
        low, high = PLAUSIBLE[key]
        assert low <= series.min() and series.max() <= high, name


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


# Errors name the file and the line (header = line 1); units are checked per series.


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def raised(path) -> DataFileError:
    with pytest.raises(DataFileError) as err:
        read_fred(path)
    assert "\n" not in str(err.value)
    return err.value


def test_data_file_error_is_input_error(tmp_path):
    assert issubclass(DataFileError, InputError)
    err = DataFileError(tmp_path / "X.csv", "bad thing", 7)
    assert err.line == 7 and err.path == tmp_path / "X.csv"
    assert str(err) == f"{tmp_path / 'X.csv'}:7: bad thing"
    assert str(DataFileError(tmp_path, "no such folder")) == f"{tmp_path}: no such folder"


def test_bad_date_names_line(tmp_path):
    path = write(
        tmp_path,
        "WRESBAL.csv",
        "observation_date,WRESBAL\n2024-01-03,3400000\n2024-01-10,3410000\n2024-13-17,3420000\n",
    )
    err = raised(path)
    assert err.line == 4
    assert str(err).startswith(f"{path}:4: bad date '2024-13-17'")


def test_bad_date_on_a_missing_value_row(tmp_path):
    err = raised(write(tmp_path, "X.csv", "DATE,X\n2024-01-02,1\n01/03/2024,.\n"))
    assert err.line == 3


def test_non_numeric_names_line(tmp_path):
    path = write(tmp_path, "SOFR.csv", "DATE,SOFR\n2024-01-02,5.31\n2024-01-03,5.3l\n")
    err = raised(path)
    assert err.line == 3
    assert str(err) == f"{path}:3: non-numeric SOFR '5.3l' on 2024-01-03"


def test_blank_lines_keep_line_numbers(tmp_path):
    err = raised(write(tmp_path, "X.csv", "DATE,X\n\n2024-01-02,1\n\n2024-01-03,n/a\n"))
    assert err.line == 5


def test_duplicate_date_with_different_values_names_line(tmp_path):
    path = write(
        tmp_path,
        "RRPONTSYD.csv",
        "DATE,RRPONTSYD\n2024-01-02,700.5\n2024-01-03,690\n2024-01-02,701.5\n",
    )
    err = raised(path)
    assert err.line == 4
    assert "2024-01-02 given twice" in str(err) and "line 2" in str(err)


def test_exact_duplicates_dropped_and_dates_sorted(tmp_path):
    path = write(
        tmp_path,
        "RRPONTSYD.csv",
        "DATE,RRPONTSYD\n2024-01-04,3\n2024-01-02,1\n2024-01-04,3.0\n2024-01-03,2\n2024-01-02,1\n",
    )
    series = read_fred(path)
    assert series.index.is_monotonic_increasing and series.index.is_unique
    assert series.tolist() == [1.0, 2.0, 3.0]


def test_reserves_in_billions_is_a_units_error(tmp_path):
    # WRESBAL is served in $ millions; 3,400 would be reserves of $3.4bn (a file in $ billions).
    path = write(
        tmp_path, "WRESBAL.csv", "observation_date,WRESBAL\n2024-01-03,3400.123\n2024-01-10,3410\n"
    )
    err = raised(path)
    assert err.line == 2
    assert "units contradict the series" in str(err)
    assert "$ millions" in str(err)
    assert str(err).startswith(f"{path}:2: ")


@pytest.mark.parametrize(
    ("name", "value", "units"),
    [
        ("SOFR", "531", "%"),  # basis points
        ("RRPONTSYD", "700500", "$ billions"),  # $ millions
        ("WALCL", "7700", "$ millions"),  # $ billions
        ("WDTGAL", "750", "$ millions"),  # $ billions
        ("TLAACBW027SBOG", "23500000", "$ billions"),  # $ millions
        ("CURRCIR", "2327155", "$ billions"),  # $ millions
        ("WCURCIR", "2442.232", "$ millions"),  # $ billions
        ("RPONTTLD", "74600", "$ billions"),  # $ millions
        ("DPSACBW027SBOG", "18587737.5", "$ billions"),  # $ millions
    ],
)
def test_units_contradict_series(tmp_path, name, value, units):
    path = write(tmp_path, f"{name}.csv", f"DATE,{name}\n2024-01-03,{value}\n")
    err = raised(path)
    assert err.line == 2
    assert "units contradict the series" in str(err) and units in str(err)


def test_units_checked_by_file_name_when_header_unknown(tmp_path):
    path = write(tmp_path, "WRESBAL.csv", "DATE,VALUE\n2024-01-03,3400\n")
    assert "units contradict" in str(raised(path))


def test_every_plausible_range_has_units_and_shipped_files_pass():
    assert set(PLAUSIBLE) <= set(UNITS)
    for name in PLAUSIBLE:
        path = DATA_DIR / f"{name}.csv"
        if path.is_file():
            low, high = PLAUSIBLE[name]
            series = read_fred(path)
            assert low <= series.min() and series.max() <= high, name
    tga = read_dts_tga(DTS)
    assert PLAUSIBLE["TGA"][0] <= tga.min() and tga.max() <= PLAUSIBLE["TGA"][1]


@pytest.mark.parametrize("header", ["DATE", "observation_date", "Date"])
def test_bom_with_each_date_header(tmp_path, header):
    path = tmp_path / "SOFR.csv"
    path.write_bytes(f"\ufeff{header},SOFR\r\n2024-01-02,5.31\r\n2024-01-03,.\r\n".encode())
    series = read_fred(path)
    assert series.to_dict() == {pd.Timestamp("2024-01-02"): 5.31}
    assert series.name == "SOFR" and series.index.name == "date"


def test_not_utf8_names_line(tmp_path):
    path = tmp_path / "X.csv"
    path.write_bytes(b"DATE,X\n2024-01-02,1\n2024-01-03,\xff\n")
    assert raised(path).line == 3


def test_field_count_names_line(tmp_path):
    err = raised(write(tmp_path, "X.csv", "DATE,X\n2024-01-02,1\n2024-01-03,1,2\n"))
    assert err.line == 3


def test_empty_file(tmp_path):
    assert "empty" in str(raised(write(tmp_path, "X.csv", "")))


def test_dts_bad_balance_names_line(tmp_path):
    header = "Record Date,Type of Account,Opening Balance Today\n"
    rows = (
        "2025-12-30,Treasury General Account (TGA) Opening Balance,800000\n"
        "2025-12-30,Treasury General Account (TGA) Closing Balance,850000\n"
        "2025-12-31,Treasury General Account (TGA) Opening Balance,850000\n"
        "2025-12-31,Treasury General Account (TGA) Closing Balance,872,853\n"
    )
    path = write(tmp_path, "dts.csv", header + rows)
    with pytest.raises(DataFileError) as err:
        read_dts_tga(path)
    assert err.value.line == 5  # an unquoted thousands separator adds a field
    assert "4 fields where the header has 3" in str(err.value)
    path = write(tmp_path, "dts.csv", header + rows.replace("872,853", "872.853"))
    with pytest.raises(DataFileError, match=r"dts\.csv:5: .*units contradict"):
        read_dts_tga(path)  # a balance in $ billions
    path = write(tmp_path, "dts.csv", header + rows.replace("872,853", '"872,853"'))
    with pytest.raises(DataFileError, match=r"dts\.csv:5: non-numeric"):
        read_dts_tga(path)
    path = write(tmp_path, "dts.csv", header + rows.replace("872,853", "872853"))
    assert read_dts_tga(path).to_dict() == {
        pd.Timestamp("2025-12-30"): 850_000.0,
        pd.Timestamp("2025-12-31"): 872_853.0,
    }
