"""A diverging path is counted, never silently binned: its month ends count in
``diverged_count`` (exact, mergeable), the table warns, and a NaN never bins out of range."""

import math

import numpy as np
import pytest

from engine.config import load_config
from engine.cube import accumulators_from_cube
from engine.diagnostics import trace_paths
from engine.kernels import layout as L
from engine.kernels.counts import histogram_bin
from engine.pipeline import simulate
from engine.report import headline_table
from engine.schedule import build_schedule

from .conftest import PREVIOUS_DEFAULT, SHIPPED_DEFAULT, small, tweak

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
    """Spread noise of 1e308 bp a day and no spread floor (MODEL.md as written): infinite
    spreads, an infinite ON RRP refill, non-finite reserves; every path diverges within the
    first month under every regime."""
    config = tweak(
        small(model_config, months=2, paths=64, block=32),
        **{"spread.noise_sd0_bp": 1e308, "spread.floor_bp": None},
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


@pytest.mark.slow  # 20,000 paths of 24 months
def test_the_spread_floor_keeps_a_calibrated_config_finite():
    """Without its floor the default calibrated on the shorter files of 2021–2025 (the shipped
    default until the long history: tests/data/previous_default.toml) diverges on 0.5–2.2% of
    its paths by 2027-12 (docs/model.md, Divergence): 20,000 paths (seed 20251201) with and
    without it."""
    config = small(load_config(PREVIOUS_DEFAULT), paths=20_000, block=1000)
    assert config.spread.floor_bp is not None
    floored = simulate(config, workers=2)
    assert floored.diverged_count.sum() == 0
    unfloored = simulate(tweak(config, **{"spread.floor_bp": None}), workers=2)
    assert (unfloored.diverged_count.isel(time=-1) > 20).all()  # ≥ 0.1% of each regime's paths


@pytest.mark.slow  # traces the kernel
def test_no_day_s_spread_is_below_the_floor():
    config = small(load_config(SHIPPED_DEFAULT), months=6, paths=200, block=100)
    trace = trace_paths(build_schedule(config), 200, 20251201, 100)
    spread = trace.values[..., L.T_SPREAD]
    floor = config.spread.floor_bp
    assert spread.min() == floor  # reached, and never passed
    latent = trace.values[..., L.T_SPREAD_LATENT]
    np.testing.assert_array_equal(spread[latent < floor], floor)
