"""Business-day grid of a run and the calendar flags the model reads.

Business days are weekdays that are not US federal holidays as the Federal Reserve observes them:
a holiday on Sunday is observed on Monday; a holiday on Saturday is not moved (the Reserve Banks
open on the Friday before).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import holidays
import numpy as np


def fed_holidays(years: range | list[int]) -> list[dt.date]:
    """Weekdays the Federal Reserve is closed in ``years`` (the ``XFED`` calendar), sorted."""
    closed = holidays.financial_holidays("XFED", years=list(years))
    return sorted(day for day in closed if day.weekday() < 5)


def business_days(start: dt.date, end: dt.date) -> np.ndarray:
    """Business days in [start, end] as ``datetime64[D]``, shape (T,)."""
    closed = np.array(fed_holidays(range(start.year, end.year + 1)), dtype="datetime64[D]")
    span = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    return span[np.is_busday(span, holidays=closed)]


def _month_offset(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


@dataclass(frozen=True)
class BusinessCalendar:
    """The run's daily grid: ``horizon_months`` calendar months from the month of ``start``.

    Attributes
    ----------
    days : datetime64[D], shape (T,)
        Business days from ``start`` to the end of the last month.
    month_starts : datetime64[D], shape (M,)
        First calendar day of each reported month.
    """

    start: dt.date
    horizon_months: int

    @cached_property
    def days(self) -> np.ndarray:
        last = _month_offset(self.start, self.horizon_months) - dt.timedelta(days=1)
        return business_days(self.start, last)

    @cached_property
    def month_starts(self) -> np.ndarray:
        first = _month_offset(self.start, 0)
        return np.array(
            [_month_offset(first, m) for m in range(self.horizon_months)], dtype="datetime64[D]"
        )

    @property
    def n_days(self) -> int:
        return len(self.days)

    @cached_property
    def month(self) -> np.ndarray:
        """Month index 0..M-1 of each day, int64 (T,)."""
        months = self.days.astype("datetime64[M]")
        return (months - self.month_starts[0].astype("datetime64[M]")).astype(np.int64)

    @cached_property
    def days_in_month(self) -> np.ndarray:
        """Business days of each month, int64 (M,)."""
        return np.bincount(self.month, minlength=self.horizon_months).astype(np.int64)

    @cached_property
    def day_of_month(self) -> np.ndarray:
        """Calendar day of the month of each business day, int64 (T,)."""
        return (self.days - self.days.astype("datetime64[M]")).astype(np.int64) + 1

    @cached_property
    def calendar_month(self) -> np.ndarray:
        """Calendar month 1..12 of each day, int64 (T,)."""
        return self.days.astype("datetime64[M]").astype(np.int64) % 12 + 1

    @cached_property
    def closed(self) -> np.ndarray:
        """Weekday holidays in the years of the grid, datetime64[D]."""
        years = range(self.start.year, self.start.year + self.horizon_months // 12 + 2)
        return np.array(fed_holidays(years), dtype="datetime64[D]")

    @cached_property
    def business_day_of_month(self) -> np.ndarray:
        """0 on the first business day of a calendar month, 1 on the second, ..., int64 (T,)."""
        month_first = self.days.astype("datetime64[M]").astype("datetime64[D]")
        return np.busday_count(month_first, self.days, holidays=self.closed).astype(np.int64)

    @cached_property
    def month_end(self) -> np.ndarray:
        """Last business day of each calendar month, bool (T,)."""
        flag = np.zeros(self.n_days, dtype=bool)
        flag[:-1] = self.month[1:] != self.month[:-1]
        flag[-1] = True  # the grid always ends on the last business day of a month
        return flag

    @cached_property
    def quarter_end(self) -> np.ndarray:
        return self.month_end & np.isin(self.calendar_month, (3, 6, 9, 12))

    @cached_property
    def year_end(self) -> np.ndarray:
        return self.month_end & (self.calendar_month == 12)

    def first_on_or_after(self, day_of_month: int, months=None) -> np.ndarray:
        """The first business day on/after calendar day ``day_of_month`` of each month, when it
        falls in that month, bool (T,). Restricted to calendar months ``months`` (1..12)."""
        month_first = self.month_starts.astype("datetime64[D]")
        target = np.busday_offset(
            month_first + (day_of_month - 1), 0, roll="forward", holidays=self.closed
        )
        same_month = target.astype("datetime64[M]") == month_first.astype("datetime64[M]")
        flag = np.isin(self.days, target[same_month])
        if months is not None:
            flag &= np.isin(self.calendar_month, months)
        return flag

    @cached_property
    def mid_month_settlement(self) -> np.ndarray:
        """The 15th of each month, or the next business day, bool (T,)."""
        return self.first_on_or_after(15)

    @cached_property
    def corporate_tax(self) -> np.ndarray:
        """Corporate-tax days: the 15th (or next business day) of Mar, Jun, Sep, Dec, bool (T,)."""
        return self.first_on_or_after(15, months=(3, 6, 9, 12))

    def window_after(self, starts: np.ndarray, length: int) -> np.ndarray:
        """Index 0..length-1 of each day inside a ``length``-business-day window opening on a
        day flagged in ``starts``; -1 outside every window, int64 (T,)."""
        position = np.full(self.n_days, -1, dtype=np.int64)
        for first in np.flatnonzero(starts):
            stop = min(first + length, self.n_days)
            position[first:stop] = np.arange(stop - first)
        return position

    def april_tax_window(self, first_day: int, length: int) -> np.ndarray:
        """Position in the April tax-receipt window (from the first business day on/after April
        ``first_day``), -1 outside, int64 (T,)."""
        return self.window_after(self.first_on_or_after(first_day, months=(4,)), length)

    def first_of_month_window(self, length: int) -> np.ndarray:
        """Position in the first ``length`` business days of each month, -1 outside, int64 (T,)."""
        return np.where(self.business_day_of_month < length, self.business_day_of_month, -1)
