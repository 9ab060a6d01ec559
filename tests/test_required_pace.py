"""The required pace: a bisection on common random numbers that agrees with a brute-force grid,
an interval from the inverted Wilson test, and a clear answer when no pace is enough."""

import math

import numpy as np
import pytest

from engine.charts import required_pace_title
from engine.decisions.odds import window
from engine.decisions.paces import with_paces
from engine.decisions.required_pace import _smallest, required_pace
from engine.decisions.sweep import sweep
from engine.pipeline import simulate
from engine.products import REQUIRED_PACE, product_of

from .conftest import small, tweak

pytestmark = pytest.mark.slow  # compiles and runs the kernels

ALPHA = 0.10
WITHIN = 4


@pytest.fixture(scope="module")
def search_config(model_config):
    """A small config whose odds of scarce reserves cross 10% near 50 $bn/month; feedbacks
    off, so the odds fall with the pace path by path."""
    quiet = tweak(
        model_config,
        **{
            "spread.noise_sd1_bp": 0.0,
            "on_rrp.refill_bn_per_bp": 0.0,
            "initial.reserves_bn": 2900.0,
        },
    )
    return small(quiet, months=6, paths=1024, block=128)


@pytest.mark.parametrize("root", [0.0, 3.3, 49.99, 50.0, 99.5, 100.0])
def test_bisection_brackets_the_root_within_the_tolerance(root):
    calls = []

    def holds(x):
        calls.append(x)
        return x >= root

    found = _smallest(holds, 0.0, 100.0, 0.5)
    assert holds(found) and (found == 0.0 or found - 0.5 < root <= found)
    assert len(calls) <= 2 + math.ceil(math.log2(100 / 0.5)) + 1
    assert _smallest(lambda x: x >= 101.0, 0.0, 100.0, 0.5) is None
    below = _smallest(holds, 0.0, 100.0, 0.5, last_no=True)
    assert below == 0.0 or (not holds(below) and root - 0.5 <= below < root)


def test_a_window_keeps_the_draws_of_its_months(search_config):
    paces = with_paces(search_config, [20.0, 60.0])
    full = simulate(paces, seed=4)
    cut = simulate(window(paces, WITHIN), seed=4)
    assert np.array_equal(full.first_event_count.values[..., :WITHIN], cut.first_event_count.values)


def test_required_pace_agrees_with_a_brute_force_grid(search_config):
    result = required_pace(
        search_config, "scarce", ALPHA, WITHIN, low=0.0, high=120.0, tolerance=1.0, seed=2
    )
    assert result.found
    grid = sweep(search_config, np.arange(0.0, 121.0, 5.0), seed=2)
    odds = grid.cumulative_event_probability.sel(event="scarce").isel(time=WITHIN - 1)
    for pace, p in zip(grid.pace.values, odds.values, strict=True):
        if pace >= result.pace:
            assert p <= ALPHA, (pace, p)
        elif pace <= result.pace - result.tolerance:
            assert p > ALPHA, (pace, p)
    # the grid's crossing lies inside the interval
    first_ok = float(grid.pace.values[np.argmax(odds.values <= ALPHA)])
    lower, upper = result.interval
    assert lower <= result.pace <= upper
    assert lower <= first_ok and first_ok - 5.0 <= upper
    # the searched odds are the grid's on the same paths
    for point in result.searched:
        if point.pace in grid.pace.values:
            assert point.probability == float(odds.sel(pace=point.pace))
    ds = result.to_dataset()
    assert product_of(ds) == REQUIRED_PACE and ds.attrs["found"] == 1
    assert ds.sizes["time"] == 6 and ds.attrs["required_pace_bn"] == result.pace
    assert f"{result.pace:.1f} $bn/month" in result.table()


def test_no_pace_in_the_range_is_said_plainly(search_config):
    result = required_pace(search_config, "scarce", 1e-6, WITHIN, low=0.0, high=10.0, seed=2)
    assert not result.found and math.isnan(result.pace)
    assert result.table().startswith("no pace in 0 to 10 $bn/month is enough")
    ds = result.to_dataset()
    assert ds.attrs["found"] == 0 and "event_probability" not in ds


def test_a_target_met_at_the_range_bottom_is_said_to_lie_at_or_below_it(search_config):
    """With the target met at the bottom pace, the answer names the bottom as an upper bound
    (any pace below might do), not as an interval of zero width; the dataset says so."""
    result = required_pace(search_config, "scarce", ALPHA, WITHIN, low=100.0, high=200.0, seed=2)
    assert result.found and result.at_bottom and result.pace == 100.0
    first = result.table().splitlines()[0]
    assert first.startswith("required pace: at or below 100 $bn/month, the bottom of the range")
    assert "95% interval" not in first
    ds = result.to_dataset()
    assert ds.attrs["at_range_bottom"] == 1
    assert "at most 100 $bn/month (range bottom)" in required_pace_title(ds)
