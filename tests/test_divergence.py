"""A diverging path is counted, never silently binned: its month ends count in
``diverged_count`` (exact, mergeable), the table warns, and a NaN never bins out of range."""

import math

import numpy as np
import pytest

from engine.cube import accumulators_from_cube
from engine.kernels.counts import histogram_bin
from engine.pipeline import simulate
from engine.report import headline_table

from .conftest import small, tweak

N_BINS = 10


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (math.nan, 0),
        (-math.inf, 0),
        (math.inf, N_BINS + 1),
        (-1.0, 0),
        (0.5, 1),
        (10.0, N_BINS + 1),
    ],
)
def test_every_value_bins_inside_the_array(value, expected):
    assert histogram_bin.py_func(value, 0.0, 1.0, N_BINS) == expected
    assert histogram_bin(value, 0.0, 1.0, N_BINS) == expected


@pytest.mark.slow  # compiles and runs the kernel
def test_diverged_paths_are_counted_and_warned_of(model_config):
    """Spread noise of 1e308 bp a day: infinite spreads, an infinite ON RRP refill, non-finite
    reserves; every path diverges within the first month under every regime."""
    config = tweak(
        small(model_config, months=2, paths=64, block=32), **{"spread.noise_sd0_bp": 1e308}
    )
    cube = simulate(config, workers=1)
    diverged = cube.diverged_count.values
    assert (diverged[:, -1] == 64).all() and (np.diff(diverged, axis=1) >= 0).all()
    assert accumulators_from_cube(cube).diverged_count.sum() == diverged.sum()
    assert (cube.reserves_eom_histogram.sum("bin") == 64).all()  # every path binned once
    warning = headline_table(cube).splitlines()[-1]
    assert warning.startswith("warning: the model diverged") and "100.00% of A's" in warning


@pytest.mark.slow
def test_a_sound_model_counts_no_diverged_path(model_config):
    cube = simulate(small(model_config, months=3, paths=256, block=64), workers=1)
    assert cube.diverged_count.sum() == 0
    assert "diverged" not in headline_table(cube)
