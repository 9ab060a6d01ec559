"""Monthly integer output of the path kernel: histogram bins and event counts."""

from __future__ import annotations

import numpy as np

from ..accelerate import jit
from . import layout as L

NEAR_HIST_PATHS = int(np.iinfo(np.uint16).max)  # paths a uint16 histogram bin can count


@jit
def histogram_bin(value, low, width, n_bins):
    """Histogram bin of ``value``: 0 underflow (and NaN), 1..n_bins inside, n_bins + 1
    overflow."""
    position = (value - low) / width
    if not position >= 0.0:  # NaN too: a bin inside the array, whatever the value
        return 0
    if position >= n_bins:
        return n_bins + 1
    return int(position) + 1


@jit(refcounted=False)
def add_and_clear(near_hist, hist):
    """Add the counts ``near_hist`` (uint16) into ``hist`` (int64, same shape); zero them."""
    near = near_hist.reshape(-1)
    far = hist.reshape(-1)
    for i in range(near.shape[0]):
        far[i] += near[i]
        near[i] = 0


@jit(refcounted=False)
def count_month(
    month,
    month_bits,
    ever_bits,
    event_count,
    first_event_count,
    joint_event_count,
    joint_first_count,
):
    """Add one path's month (event bitmasks per regime) to the integer counts; reset the month.

    Pairs of regimes count the months with an event in both (``joint_event_count``) and the
    month by which both have had it (``joint_first_count``, summed over months by the caller
    into cumulative counts). Regimes without events this month are skipped: most months of a
    path add nothing.
    """
    n_regimes = month_bits.shape[0]
    gained = 0  # event bits some regime has for the first time
    for r in range(n_regimes):
        bits = month_bits[r]
        if bits == 0:
            continue
        new = bits & ~ever_bits[r]
        gained |= new
        for e in range(L.N_EVENTS):
            if bits & (1 << e):
                event_count[r, e, month] += 1
            if new & (1 << e):
                first_event_count[r, e, month] += 1
        for q in range(n_regimes):
            both = bits & month_bits[q]
            for e in range(L.N_EVENTS):
                if both & (1 << e):
                    joint_event_count[r, q, e, month] += 1
    if gained != 0:
        for r in range(n_regimes):
            ever_r = ever_bits[r] | month_bits[r]
            for q in range(n_regimes):
                now = ever_r & (ever_bits[q] | month_bits[q])
                first = now & ~(ever_bits[r] & ever_bits[q])
                for e in range(L.N_EVENTS):
                    if first & (1 << e):
                        joint_first_count[r, q, e, month] += 1
        for r in range(n_regimes):
            ever_bits[r] |= month_bits[r]
    for r in range(n_regimes):
        month_bits[r] = 0
