"""The odds the decision tools compare: P(at least one event day within the first W months),
for one regime or the prior-weighted mixture, from integer counts."""

from __future__ import annotations

import numpy as np

from ..accumulators import Accumulators
from ..config import Config, from_plain
from ..errors import InputError
from ..kernels.layout import EVENT_NAMES
from ..schedule import Schedule

MIXTURE = "mixture"


class OddsError(InputError):
    """An event, horizon or regime the odds cannot be taken over."""


def event_index(event: str) -> int:
    if event not in EVENT_NAMES:
        raise OddsError(f"--event {event}: unknown event (one of {', '.join(EVENT_NAMES)})")
    return EVENT_NAMES.index(event)


def check_within(within: int | None, horizon_months: int) -> int:
    """``within`` months (default: the whole horizon), 1 ≤ within ≤ the horizon."""
    if within is None:
        return horizon_months
    if not 1 <= within <= horizon_months:
        raise OddsError(f"--within {within}: must be 1 to the horizon ({horizon_months} months)")
    return within


def cumulative_counts(acc: Accumulators, event: int, within: int) -> np.ndarray:
    """Paths with at least one ``event`` day in the first ``within`` months: int64 (R,)."""
    return acc.first_event_count[:, event, :within].sum(axis=-1)


def mixture_weights(schedule: Schedule) -> np.ndarray:
    """The prior weights of the schedule's regimes, normalised, 0 where unweighted: (R,)."""
    weights = np.nan_to_num(schedule.regime_weights, nan=0.0)
    if weights.sum() <= 0:
        raise OddsError("the config's regimes carry no prior weight: name a --regime")
    return weights / weights.sum()


def headline_weights(schedule: Schedule, regime: str | None) -> np.ndarray:
    """Weights (R,) that turn per-regime counts into the headline: one-hot on ``regime``, or
    the mixture's prior weights when ``regime`` is None."""
    if regime is None:
        return mixture_weights(schedule)
    names = list(schedule.regime_names)
    if regime not in names:
        raise OddsError(f"--regime {regime}: no such regime in the config ({', '.join(names)})")
    return np.eye(len(names))[names.index(regime)]


def batch_stderr_of_difference(a: np.ndarray, b: np.ndarray, sizes: np.ndarray) -> float:
    """Standard error of (Σa − Σb) / Σsizes from paired batches (batch means).

    ``a``, ``b``: float (B,), the weighted counts of two variants in each batch of the same
    paths; ``sizes``: (B,) paths per batch. Batches are independent, so the variance of the
    mean difference is estimated from the spread of the batches' differences (B − 1 degrees of
    freedom); the pairing keeps the common random numbers' correlation in it.
    """
    sizes = np.asarray(sizes, dtype=float)
    n, batches = sizes.sum(), len(sizes)
    if batches < 2:
        return float("nan")
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    mean = diff.sum() / n
    resid = diff - mean * sizes
    return float(np.sqrt(batches / (batches - 1) * np.sum(resid**2)) / n)


def window(config: Config, within: int, regimes: list[str] | None = None) -> Config:
    """``config`` cut to its first ``within`` months (a path's stream runs day by day, so the
    same draws on those days, fewer days to simulate), with one histogram bin (the odds need
    none; output only) and, if given, only ``regimes`` simulated."""
    plain = config.to_dict()
    plain["simulation"]["horizon_months"] = within
    plain["output"]["histogram_bins"] = 1
    if regimes is not None:
        plain["simulation"]["regimes"] = list(regimes)
    return from_plain(plain, source=config.source)
