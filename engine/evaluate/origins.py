"""Forecast origins: the months an evaluation issues a forecast from, and the months it scores.

An origin ``YYYY-MM`` forecasts from that month's first business day with the data dated before
it (to the last day of the month before); horizon h = 1 is the origin's own month.
"""

from __future__ import annotations

import re

import pandas as pd

from ..errors import InputError

_MONTH = re.compile(r"^\d{4}-\d{2}$")


class OriginError(InputError):
    """A bad ``--origins`` or ``--months``; the message names the option."""


def _month(text: str, option: str) -> pd.Timestamp:
    text = text.strip()
    if not _MONTH.match(text):
        raise OriginError(f"{option}: {text!r} is not a month (YYYY-MM)")
    try:
        return pd.Timestamp(f"{text}-01")
    except ValueError:
        raise OriginError(f"{option}: {text!r} is not a month (YYYY-MM)") from None


def parse_origins(spec: str, option: str = "--origins") -> pd.DatetimeIndex:
    """``FIRST:LAST[:STEP]`` (months, STEP in months, default 1) or one ``YYYY-MM`` → the origins'
    month starts, (O,) in order."""
    parts = spec.split(":")
    if len(parts) not in (1, 2, 3):
        raise OriginError(f"{option}: {spec!r} is not FIRST:LAST[:STEP] (YYYY-MM:YYYY-MM:1)")
    first = _month(parts[0], option)
    last = _month(parts[1], option) if len(parts) > 1 else first
    step = 1
    if len(parts) == 3:
        try:
            step = int(parts[2])
        except ValueError:
            raise OriginError(f"{option}: STEP {parts[2]!r} is not a whole number") from None
        if step < 1:
            raise OriginError(f"{option}: STEP must be at least 1 month, got {step}")
    if last < first:
        raise OriginError(f"{option}: LAST {parts[1]} is before FIRST {parts[0]}")
    return pd.date_range(first, last, freq=f"{step}MS")


def target_months(origin: pd.Timestamp, months: int) -> pd.DatetimeIndex:
    """The month starts an origin forecasts, (H,): the origin's month and the ``months − 1``
    after it."""
    return pd.date_range(origin, periods=months, freq="MS")


def data_until(origin: pd.Timestamp) -> pd.Timestamp:
    """The last date an origin's forecast may use: the day before its month starts."""
    return origin - pd.Timedelta(days=1)


def label(origin: pd.Timestamp) -> str:
    """``YYYY-MM`` of a month start."""
    return f"{origin:%Y-%m}"
