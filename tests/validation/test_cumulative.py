"""Check 6: on a real cube (the judgement config, its four regimes, every event), the
cumulative odds never fall, the first-event odds add up to them, and they agree with the
monthly odds, which the kernel counts separately."""

from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline import simulate

from ..conftest import small
from .conftest import Row, model_config

pytestmark = pytest.mark.slow  # compiles and runs the kernels

PATHS = 4_000
SEED = 6
MONTHS = 3


@pytest.fixture(scope="module")
def cube():
    return simulate(
        small(model_config(), months=MONTHS, paths=PATHS, block=512), seed=SEED, workers=1
    )


def test_cumulative_odds_never_decrease(cube, validation_table):
    """For every regime and event, month by month: cumulative P is non-decreasing, so is the
    mixture's; sum of first-event P through month m = cumulative P at m; monthly P <=
    cumulative P <= sum of monthly P through m (a union bound); the mixture's cumulative P is
    the weighted sum of the regimes'; event days >= paths with an event."""
    cumulative = cube["cumulative_event_probability"].transpose("regime", "event", "time").values
    first = cube["first_event_probability"].transpose("regime", "event", "time").values
    monthly = cube["event_probability"].transpose("regime", "event", "time").values
    mixture = cube["mixture_cumulative_event_probability"].transpose("event", "time").values
    days = cube["event_days_mean"].transpose("regime", "event", "time").values
    eps = 1e-12
    assert (np.diff(cumulative, axis=-1) >= 0).all()
    assert (np.diff(mixture, axis=-1) >= -eps).all()
    np.testing.assert_allclose(np.cumsum(first, axis=-1), cumulative, rtol=0, atol=eps)
    assert (monthly <= cumulative + eps).all()
    assert (cumulative <= np.cumsum(monthly, axis=-1) + eps).all()
    np.testing.assert_array_equal(monthly[..., 0], cumulative[..., 0])
    weights = cube["weight"].values
    used = ~np.isnan(weights)
    w = weights[used] / weights[used].sum()
    np.testing.assert_allclose(np.einsum("r,ret->et", w, cumulative[used]), mixture, atol=eps)
    assert (days >= monthly - eps).all()
    reached = cumulative[..., -1]
    events = [str(e) for e in cube["event"].values]
    seen = {e: float(reached[:, i].max()) for i, e in enumerate(events)}
    assert sum(value > 0 for value in seen.values()) >= 3  # the checks bite on several events
    validation_table.append(
        Row(
            "6. cumulative odds",
            "cumulative P non-decreasing (regimes and mixture); sum of first-event P ="
            " cumulative P; monthly P <= cumulative P <= sum of monthly P; mixture = sum w_r P_r",
            "exact (1e-12)",
            f"{cumulative.shape[0]} regimes x {cumulative.shape[1]} events x {MONTHS} months, "
            f"{PATHS:,} paths: all hold; largest 3-month P "
            + ", ".join(f"{e} {v:.3f}" for e, v in seen.items() if v > 0),
        )
    )
