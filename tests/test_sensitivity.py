"""Sensitivities: keys checked before any path runs, signs the model implies, and paired
standard errors from batches of paths."""

import numpy as np
import pytest

from engine.decisions.odds import batch_stderr_of_difference
from engine.decisions.sensitivity import (
    SensitivityError,
    default_varies,
    parse_vary,
    sensitivity,
    with_value,
)
from engine.pipeline import simulate
from engine.products import SENSITIVITY, product_of

from .conftest import small

pytestmark = pytest.mark.slow  # compiles and runs the kernels

Z_SIGN = 3.0  # a sign is asserted only where the difference is this many standard errors away


@pytest.fixture(scope="module")
def short_config(model_config):
    return small(model_config, months=4, paths=1024, block=256)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("demand_curve.x0", "KEY=LOW:HIGH"),
        ("demand_curve.x0=1:2:3", "KEY=LOW:HIGH"),
        ("demand_curve.x0=a:b", "KEY=LOW:HIGH"),
        ("demand_curve.x0=0.1:inf", "finite"),
        ("demand_curve.knee=0.1:0.2", "no such config key"),
        ("simulation.n_paths=1:2", "not a model parameter"),
        ("srf.enabled=0:1", "not a number"),
        ("demand_curve.family=0:1", "not a number"),
    ],
)
def test_bad_vary_is_refused_naming_the_key(short_config, text, message):
    with pytest.raises(SensitivityError, match=message):
        parse_vary(text, short_config)


def test_values_are_validated_like_a_config_file(short_config):
    with pytest.raises(SensitivityError, match=r"demand_curve\.x0"):
        with_value(short_config, "demand_curve.x0", 1.5)
    ranged = with_value(short_config, "on_rrp.base_bn", 50.0)
    assert (ranged.on_rrp.base_bn.low, ranged.on_rrp.base_bn.high) == (50.0, 50.0)


def test_a_drawn_key_moves_its_uncertainty_block_too(model_config):
    from engine.config import load_config

    from .conftest import SHIPPED_DEFAULT

    config = load_config(SHIPPED_DEFAULT)
    moved = with_value(config, "demand_curve.beta_bp", 20.0)
    block = next(b for b in moved.uncertainty.block if "demand_curve.beta_bp" in b.keys)
    assert block.mean[block.keys.index("demand_curve.beta_bp")] == 20.0
    keys = [v.key for v in default_varies(config)]
    assert "demand_curve.x0" in keys and len(keys) == len(set(keys))
    for v in default_varies(config):
        assert v.low < v.base < v.high


def test_batch_standard_error_of_single_paths_is_the_sample_standard_error():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 500).astype(float)
    b = np.where(rng.random(500) < 0.8, a, 1 - a)
    se = batch_stderr_of_difference(a, b, np.ones(500))
    assert se == pytest.approx((a - b).std(ddof=1) / np.sqrt(500), rel=1e-12)


def test_a_higher_knee_raises_the_odds(short_config):
    """x0 is the reserve ratio below which the curve steepens: a higher knee means scarcer
    reserves at the same level, so higher odds; the base equals a run's mixture."""
    result = sensitivity(
        short_config, [parse_vary("demand_curve.x0=0.09:0.14", short_config)], "tight", seed=3
    )
    base = simulate(short_config, seed=3)
    mix = base.mixture_cumulative_event_probability.sel(event="tight").isel(time=-1)
    mix_se = base.mixture_cumulative_event_probability_stderr.sel(event="tight").isel(time=-1)
    assert result.base == float(mix)
    assert result.base_stderr == pytest.approx(float(mix_se), rel=0.25)  # batch means, 16 batches
    assert result.high[0] - result.base > Z_SIGN * result.high_stderr[0]
    assert result.base - result.low[0] > Z_SIGN * result.low_stderr[0]
    ds = result.to_dataset()
    assert product_of(ds) == SENSITIVITY and ds.parameter.values.tolist() == ["demand_curve.x0"]


def test_keys_come_sorted_by_effect(short_config):
    varies = [
        parse_vary("tga.daily_sd_bn=25:35", short_config),
        parse_vary("demand_curve.x0=0.09:0.14", short_config),
    ]
    result = sensitivity(short_config, varies, "tight", regime="A", seed=3)
    assert [v.key for v in result.varies] == ["demand_curve.x0", "tga.daily_sd_bn"]
    effects = np.abs(result.high - result.low)
    assert effects[0] >= effects[1]
