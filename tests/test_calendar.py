import datetime as dt

import numpy as np
import pytest

from engine.calendar import BusinessCalendar, business_days, fed_holidays

D = np.datetime64


@pytest.fixture(scope="module")
def cal():
    return BusinessCalendar(dt.date(2026, 1, 2), 24)


def test_2026_fed_holidays():
    expected = [
        "2026-01-01",
        "2026-01-19",
        "2026-02-16",
        "2026-05-25",
        "2026-06-19",
        "2026-09-07",
        "2026-10-12",
        "2026-11-11",
        "2026-11-26",
        "2026-12-25",
    ]
    assert [d.isoformat() for d in fed_holidays([2026])] == expected


def test_saturday_holiday_is_not_moved_sunday_is():
    days = business_days(dt.date(2026, 7, 1), dt.date(2026, 7, 7))
    assert D("2026-07-03") in days  # July 4 2026 is a Saturday: the Fed opens on Friday
    days = business_days(dt.date(2027, 7, 1), dt.date(2027, 7, 7))
    assert D("2027-07-05") not in days  # July 4 2027 is a Sunday: closed Monday
    assert D("2027-12-31") in business_days(dt.date(2027, 12, 30), dt.date(2027, 12, 31))


def test_grid_spans_the_horizon(cal):
    assert cal.days[0] == D("2026-01-02")
    assert cal.days[-1] == D("2027-12-31")
    assert cal.n_days == 503
    assert cal.days_in_month.sum() == cal.n_days
    assert cal.days_in_month[0] == 20  # Jan 2026: 22 weekdays, minus Jan 1 and MLK day
    assert cal.month_starts[0] == D("2026-01-01") and len(cal.month_starts) == 24
    assert not np.isin(cal.days, np.array(fed_holidays([2026, 2027]), dtype="datetime64[D]")).any()
    weekday = (cal.days.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 0 = Monday
    assert (weekday < 5).all()


def test_period_ends(cal):
    assert list(cal.days[cal.quarter_end].astype(str)) == [
        "2026-03-31",
        "2026-06-30",
        "2026-09-30",
        "2026-12-31",
        "2027-03-31",
        "2027-06-30",
        "2027-09-30",
        "2027-12-31",
    ]
    assert list(cal.days[cal.year_end].astype(str)) == ["2026-12-31", "2027-12-31"]
    assert cal.month_end.sum() == 24
    assert D("2026-05-29") in cal.days[cal.month_end]  # May 31 2026 is a Sunday


def test_settlement_and_tax_days(cal):
    mid = cal.days[cal.mid_month_settlement].astype(str)
    assert len(mid) == 24
    assert mid[1] == "2026-02-17"  # Feb 15 is a Sunday and Feb 16 Presidents Day
    assert mid[2] == "2026-03-16"  # Mar 15 is a Sunday
    corporate = cal.days[cal.corporate_tax].astype(str)
    assert list(corporate[:4]) == ["2026-03-16", "2026-06-15", "2026-09-15", "2026-12-15"]


def test_windows(cal):
    april = cal.april_tax_window(first_day=10, length=12)
    days = cal.days[april >= 0].astype(str)
    assert days[0] == "2026-04-10" and days[11] == "2026-04-27" and len(days) == 24
    first = cal.first_of_month_window(3)
    assert list(cal.days[first == 0][:3].astype(str)) == ["2026-01-02", "2026-02-02", "2026-03-02"]
    assert (np.bincount(first[first >= 0]) == 24).all()


def test_mid_month_start_does_not_flag_the_start_day():
    cal = BusinessCalendar(dt.date(2026, 1, 20), 2)
    assert cal.days[0] == D("2026-01-20")
    assert D("2026-01-20") not in cal.days[cal.mid_month_settlement]
    assert cal.first_of_month_window(3)[0] == -1
