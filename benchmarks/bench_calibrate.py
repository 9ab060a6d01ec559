"""The time of ``calibrate`` on the shipped data (2021-06 → 2025-12), against its 60 s target
(``benchmarks/test_targets.py``)."""

from __future__ import annotations

import time

TARGET_SECONDS = 60.0  # the target on 2 cores


def calibrate_seconds(until: str = "2025-12-31") -> float:
    """Wall seconds of one ``calibrate`` of the shipped data up to ``until``."""
    from engine.calibrate.pipeline import calibrate
    from engine.calibrate.readers import DATA_DIR

    started = time.perf_counter()
    calibrate(DATA_DIR, until)
    return time.perf_counter() - started
