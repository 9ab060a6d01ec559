"""Estimation risk (``[uncertainty] parameters = true``): each path draws its fitted blocks'
parameters from their estimated distribution; statistical checks in standard errors."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import engine
from engine.config import (
    UNCERTAIN_KEYS,
    ConfigError,
    Regime,
    Uniform,
    from_json,
    load_config,
    uncertain_key_bounds,
    uncertain_key_field,
    uncertain_key_value,
)
from engine.diagnostics import trace_paths
from engine.kernels import layout as L
from engine.schedule import UNCERTAIN_PARAMS, build_schedule
from engine.testing.reference import simulate_reference

from .conftest import MODEL_CONFIG, assert_same_cube, small, tweak, with_regimes

pytestmark = pytest.mark.slow  # compiles and runs the kernels

CURVE_KEYS = (
    "demand_curve.alpha_bp",
    "demand_curve.beta_bp",
    "demand_curve.x0",
    "demand_curve.lambda",
)
CURVE_MEAN = (-10.0, 12.0, 0.121, 35.0)
CURVE_SD = np.array([2.0, 1.5, 0.004, 4.0])
CURVE_CORRELATION = np.array(
    [
        [1.0, -0.6, 0.2, 0.0],
        [-0.6, 1.0, -0.3, 0.4],
        [0.2, -0.3, 1.0, -0.5],
        [0.0, 0.4, -0.5, 1.0],
    ]
)
CURVE_COVARIANCE = CURVE_CORRELATION * np.outer(CURVE_SD, CURVE_SD)


def block(name, keys, mean, covariance):
    return {
        "name": name,
        "keys": list(keys),
        "mean": [float(m) for m in mean],
        "covariance": np.asarray(covariance, dtype=float).tolist(),
    }


def curve_block(covariance=CURVE_COVARIANCE, mean=CURVE_MEAN):
    return block("demand_curve", CURVE_KEYS, mean, covariance)


def with_uncertainty(config, *blocks, parameters=True):
    """``config`` with an ``[uncertainty]`` table, validated as a file's would be."""
    raw = config.to_dict()
    raw["uncertainty"] = {"parameters": parameters, "block": list(blocks)}
    return from_json(json.dumps(raw), source=config.source)


def toml_block(keys, mean, covariance):
    return (
        f"[[uncertainty.block]]\nname = 'b'\nkeys = {json.dumps(keys)}\n"
        f"mean = {json.dumps(mean)}\ncovariance = {json.dumps(covariance)}\n"
    )


ON = "[uncertainty]\nparameters = true\n"


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        (
            ON + toml_block(["spread.noise_t_df"], [3.0], [[1.0]]),
            "uncertainty.block[0].keys[0]",
            "cannot be drawn per path",
        ),
        (
            ON + toml_block(["spread.month_end_bp"], [4.0], [[1.0]]),
            "uncertainty.block[0].keys[0]",
            "cannot be drawn per path",
        ),
        (
            ON
            + toml_block(
                ["demand_curve.alpha_bp", "demand_curve.gamma"],
                [1.0, 1.0],
                [[1.0, 0.0], [0.0, 1.0]],
            ),
            "uncertainty.block[0].keys[1]",
            "cannot be drawn per path",
        ),
        (
            ON
            + toml_block(["srf.leak"], [0.3], [[0.01]])
            + toml_block(["srf.leak"], [0.3], [[0.01]]),
            "uncertainty.block[1].keys[0]",
            "already in uncertainty.block[0]",
        ),
        (
            ON + toml_block(["srf.leak", "srf.leak"], [0.3, 0.3], [[1.0, 0.0], [0.0, 1.0]]),
            "uncertainty.block[0].keys[1]",
            "already in uncertainty.block[0]",
        ),
        (
            ON + toml_block(["srf.leak"], [0.3, 0.4], [[0.01]]),
            "uncertainty.block[0].mean",
            "one value per key",
        ),
        (
            ON + toml_block(["srf.leak"], [0.3], [[0.01, 0.0]]),
            "uncertainty.block[0].covariance",
            "must be 1x1",
        ),
        (
            ON + toml_block(["srf.leak", "effr.psi"], [0.3, 0.1], [[0.01, 0.0]]),
            "uncertainty.block[0].covariance",
            "must be 2x2",
        ),
        (
            ON + toml_block(["srf.leak"], [0.3], [0.01]),
            "uncertainty.block[0].covariance[0]",
            "expected a list",
        ),
        (
            ON + toml_block(["srf.leak", "effr.psi"], [0.3, 0.1], [[1.0, 0.5], [0.4, 1.0]]),
            "uncertainty.block[0].covariance",
            "must be symmetric",
        ),
        (
            ON + toml_block(["srf.leak", "effr.psi"], [0.3, 0.1], [[1.0, 2.0], [2.0, 1.0]]),
            "uncertainty.block[0].covariance",
            "must be positive semi-definite",
        ),
        (
            ON + toml_block(["srf.leak"], [0.3], [[-0.01]]),
            "uncertainty.block[0].covariance",
            "must be positive semi-definite",
        ),
        (
            ON + toml_block(["demand_curve.x0"], [1.5], [[0.01]]),
            "uncertainty.block[0].mean[0]",
            "must be < 1",
        ),
        (
            ON + toml_block(["srf.leak"], ["a"], [[0.01]]),
            "uncertainty.block[0].mean[0]",
            "expected a finite number",
        ),
        (ON + toml_block([], [], []), "uncertainty.block[0].keys", "at least one"),
        (ON, "uncertainty.parameters", "at least one [[uncertainty.block]]"),
        ("[uncertainty]\nparameters = 1\n", "uncertainty.parameters", "expected true or false"),
        ("[uncertainty]\ndraw = true\n", "uncertainty.draw", "unknown key"),
    ],
)
def test_bad_uncertainty_names_the_key(tmp_path, text, key, message):
    path = tmp_path / "c.toml"
    path.write_text(f'base = "{MODEL_CONFIG}"\n' + text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{key}:" in str(info.value)
    assert message in str(info.value)


def test_every_drawable_key_maps_to_a_kernel_parameter(model_config):
    assert set(UNCERTAIN_PARAMS) == set(UNCERTAIN_KEYS)
    assert len({index for index, _ in UNCERTAIN_PARAMS.values()}) == len(UNCERTAIN_KEYS)
    assert uncertain_key_bounds("demand_curve.x0") == (5e-324, np.nextafter(1.0, 0.0))
    assert uncertain_key_bounds("srf.leak") == (0.0, 1.0)
    assert uncertain_key_bounds("effr.e0_bp") == (-np.inf, np.inf)
    assert uncertain_key_value(model_config, "demand_curve.lambda") == 40.0


def test_a_file_block_loads_and_round_trips_through_json(tmp_path, model_config):
    """The TOML layout of the calibration's output; a zero (singular) covariance is valid."""
    path = tmp_path / "c.toml"
    path.write_text(
        f'base = "{MODEL_CONFIG}"\n[uncertainty]\nparameters = true\n'
        + toml_block(list(CURVE_KEYS), list(CURVE_MEAN), CURVE_COVARIANCE.tolist())
        + toml_block(["srf.leak", "spread.jump_p0"], [0.3, 0.002], [[0.0, 0.0], [0.0, 0.0]])
    )
    config = load_config(path)
    assert [b.keys for b in config.uncertainty.block] == [
        CURVE_KEYS,
        ("srf.leak", "spread.jump_p0"),
    ]
    assert from_json(config.to_json()) == config
    assert "uncertainty" not in json.loads(model_config.to_json())  # off: the same hash
    table = build_schedule(config).uncertainty
    assert table.shape == (6, L.U_CHOL + 6)
    factor = table[:, L.U_CHOL :]
    assert np.array_equal(factor, np.tril(factor))
    np.testing.assert_allclose(factor[:4, :4] @ factor[:4, :4].T, CURVE_COVARIANCE, atol=1e-15)
    assert (factor[4:] == 0.0).all() and (factor[:4, 4:] == 0.0).all()
    assert table[5, L.U_PARAM] == L.P_JUMP_LOG_P0 and table[5, L.U_TRANSFORM] == L.UT_LOG


def test_off_is_bit_identical_to_no_block(model_config):
    """A block with ``parameters = false`` draws nothing: the same stream, the same cube."""
    config = small(model_config, months=3, paths=600, block=128)
    off = with_uncertainty(config, curve_block(), parameters=False)
    assert build_schedule(off).uncertainty.shape == (0, L.U_CHOL)
    a = engine.simulate(config, workers=1)
    b = engine.simulate(off, workers=1)
    for name in a.data_vars:
        assert np.array_equal(a[name].values, b[name].values, equal_nan=True), name


@pytest.fixture(scope="module")
def curve_run(model_config):
    config = with_uncertainty(small(model_config, months=1), curve_block())
    schedule = build_schedule(config)
    return schedule, trace_paths(schedule, 4000, 11, 128)


def test_drawn_curves_have_the_block_mean_and_covariance(curve_run):
    """Sample mean within 4 standard errors (sqrt(Σii / n)) of ``mean``; each sample covariance
    within 5 standard errors (sqrt((Σii Σjj + Σij²) / n), a normal sample's) of Σij."""
    draws = curve_run[1].parameter_draws
    n = draws.shape[0]
    assert curve_run[1].parameter_keys == CURVE_KEYS and draws.shape == (n, 4)
    mean_se = np.sqrt(np.diag(CURVE_COVARIANCE) / n)
    assert (np.abs(draws.mean(axis=0) - CURVE_MEAN) <= 4 * mean_se).all()
    sample = np.cov(draws, rowvar=False)
    variance = np.diag(CURVE_COVARIANCE)
    cov_se = np.sqrt((np.outer(variance, variance) + CURVE_COVARIANCE**2) / n)
    assert (np.abs(sample - CURVE_COVARIANCE) <= 5 * cov_se).all()


def test_each_path_spread_sits_on_its_own_curve(curve_run, model_config):
    """The first day's latent spread is α + (β + γ) h(x) + (σ0 + σ1 h(x)) η with the path's
    own drawn α, β, x0, λ (to 1e-9 bp) on every path without a jump or SRF that day."""
    from engine.curves import shape

    schedule, trace = curve_run
    alpha, beta, x0, lam = trace.parameter_draws.T
    assert np.unique(alpha).size == alpha.size  # a draw per path
    p, gamma = schedule.params, schedule.day_float[0, L.DF_GAMMA]
    h = shape(model_config.demand_curve.family, trace["ratio"][:, 0, 0] - x0, lam, 0.0)
    eta = trace.shocks[:, 0, L.S_SPREAD_NOISE]
    expected = alpha + (beta + gamma) * h + (p[L.P_NOISE_SD0] + p[L.P_NOISE_SD1] * h) * eta
    plain = trace["srf"][:, 0, 0] == 0.0
    close = np.abs(trace["spread_latent"][:, 0, 0] - expected) <= 1e-9
    assert plain.mean() > 0.99 and close[plain].mean() > 0.99  # jumps: p0 = 0.2% a day


def test_every_regime_of_a_path_uses_the_same_draw(model_config):
    """Two regimes with equal purchases have identical daily spreads on every path although
    the paths' curves differ; a regime that buys nothing differs."""
    regimes = (
        Regime("P20", Uniform(20.0, 20.0)),
        Regime("Q20", Uniform(20.0, 20.0)),
        Regime("P0", Uniform(0.0, 0.0)),
    )
    config = with_regimes(small(model_config, months=3), *regimes)
    config = with_uncertainty(config, curve_block())
    trace = trace_paths(build_schedule(config), 200, 5, 64)
    spread = trace["spread"]
    assert np.array_equal(spread[:, :, 0], spread[:, :, 1])
    assert not np.array_equal(spread[:, :, 0], spread[:, :, 2])
    assert trace.parameter_draws[:, 0].std() > 1.0


def test_draws_do_not_depend_on_the_split(model_config):
    """The draws are keyed to the path: 1 worker or 2 with one block a task give the same cube,
    and the first 100 paths of a 300-path trace are the 100-path trace."""
    config = with_uncertainty(small(model_config, months=3, paths=700, block=128), curve_block())
    one = engine.simulate(config, workers=1)
    two = engine.simulate(config, workers=2, task_blocks=1)
    assert_same_cube(one, two)
    schedule = build_schedule(config)
    long, short = trace_paths(schedule, 300, 9, 64), trace_paths(schedule, 100, 9, 64)
    assert np.array_equal(long.parameter_draws[:100], short.parameter_draws)
    assert np.array_equal(long.values[:100], short.values)


def every_key_block(config):
    """A block over every drawable key, centred on the config's values, 10% sd (2 bp where the
    value is 0 or negative), uncorrelated: draws near the bounds are clipped."""
    means = np.array([uncertain_key_value(config, key) for key in UNCERTAIN_KEYS])
    sds = np.where(means > 0, 0.1 * means, 2.0)
    return block("all", UNCERTAIN_KEYS, means, np.diag(sds**2))


def test_kernel_with_drawn_parameters_matches_the_reference(model_config):
    """Each path, fed to the NumPy reference with a config holding that path's drawn
    parameters, gives the kernel's daily values (every key, the log-stored ones included)."""
    stressed = tweak(
        small(model_config, months=2),
        **{
            "initial.reserves_bn": 2650.0,
            "events.crisis_bp": 15.0,
            "spread.jump_p0": 0.05,
            "on_rrp.refill_below_bp": 30.0,
        },  # the refill reads the initial spread
    )
    config = with_uncertainty(stressed, every_key_block(stressed))
    trace = trace_paths(build_schedule(config), 24, 3, 64)
    assert trace.parameter_keys == UNCERTAIN_KEYS
    assert (trace["srf"] > 0).any()
    for i in range(trace.parameter_draws.shape[0]):
        fields = {}
        for key, value in zip(UNCERTAIN_KEYS, trace.parameter_draws[i], strict=True):
            fields[f"{key.split('.')[0]}.{uncertain_key_field(key).name}"] = float(value)
        schedule = build_schedule(tweak(stressed, **fields))
        ref, _ = simulate_reference(schedule, trace.path_draws[i : i + 1], trace.shocks[i : i + 1])
        for name in L.TRACE_NAMES[:-1]:
            np.testing.assert_allclose(
                trace[name][i : i + 1], ref[name], rtol=1e-9, atol=1e-9, err_msg=f"path {i}: {name}"
            )


def test_replaying_drawn_parameters_reproduces_the_counts(model_config):
    from engine.kernels.paths import replay_block
    from engine.run import empty_accumulators

    config = with_uncertainty(small(model_config, months=3), curve_block())
    schedule = build_schedule(config)
    trace = trace_paths(schedule, 100, 3, 64)
    acc = empty_accumulators(schedule)
    with pytest.raises(ValueError, match="parameter_draws"):
        replay_block(trace.path_draws, trace.shocks, *schedule.kernel_inputs, *acc.arrays)
    replay_block(
        trace.path_draws,
        trace.shocks,
        *schedule.kernel_inputs,
        *acc.arrays,
        parameter_draws=trace.parameter_draws,
    )
    acc.n_paths = 100
    assert acc.equals(trace.accumulators)


def test_interpreted_kernel_equals_compiled_with_drawn_parameters(model_config, tmp_path):
    """The kernel run as plain Python (NUMBA_DISABLE_JIT=1) draws and uses the same
    parameters."""
    config_path = tmp_path / "c.toml"
    blocks = every_key_block(model_config)
    config_path.write_text(
        f'base = "{MODEL_CONFIG}"\n[simulation]\nhorizon_months = 1  # months\n'
        + ON
        + toml_block(blocks["keys"], blocks["mean"], blocks["covariance"])
    )
    script = textwrap.dedent(
        """
        import numpy as np, sys, warnings
        warnings.simplefilter("ignore")
        from engine.config import load_config
        from engine.schedule import build_schedule
        from engine.diagnostics import trace_paths
        t = trace_paths(build_schedule(load_config(sys.argv[1])), 3, 5, 64)
        np.save(sys.argv[2], t.values)
        np.save(sys.argv[3], t.parameter_draws)
        """
    )
    values, draws = tmp_path / "values.npy", tmp_path / "draws.npy"
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    subprocess.run(
        [sys.executable, "-c", script, str(config_path), str(values), str(draws)],
        check=True,
        env=env,
        timeout=300,
    )
    compiled = trace_paths(build_schedule(load_config(config_path)), 3, 5, 64)
    np.testing.assert_array_equal(np.load(draws), compiled.parameter_draws)
    np.testing.assert_array_equal(np.load(values), compiled.values)


def test_zero_covariance_matches_the_off_run_in_distribution(model_config):
    """θ = mean = the config's values on every path; the K extra normals shift the rest of each
    path's stream, so the two runs are independent samples of the same model: every event
    probability within 4 standard errors, |p_on - p_off| <= 4 sqrt(2 p (1 - p) / n) with p
    their average."""
    config = small(model_config, months=3, paths=4000, block=256)
    means = [uncertain_key_value(config, key) for key in CURVE_KEYS]
    zero = with_uncertainty(config, curve_block(np.zeros((4, 4)), means))
    trace = trace_paths(build_schedule(zero), 50, 1, 64)
    assert (trace.parameter_draws == np.array(means)).all()
    on = engine.simulate(zero)["event_probability"].values
    off = engine.simulate(config)["event_probability"].values
    assert not np.array_equal(on, off)  # a different sample
    p = 0.5 * (on + off)
    se = np.sqrt(2 * p * (1 - p) / 4000)
    assert (np.abs(on - off) <= 4 * se).all()
    assert p.max() > 0.05  # some events are common enough to test


def test_uncertainty_in_the_curve_widens_the_odds(model_config):
    """A 10 bp sd on α moves whole paths up and down: in every regime and month the 95%
    quantile of the month-maximum spread rises (by 3-4.5 bp here: the SRF ceiling caps the upper
    tail; asserted > 2 bp, 4 histogram bins), the 5% quantile falls (by ~12 bp; asserted
    > 5 bp)."""
    config = small(model_config, months=3, paths=4000, block=256)
    alpha = uncertain_key_value(config, "demand_curve.alpha_bp")
    wide = with_uncertainty(config, block("alpha", ["demand_curve.alpha_bp"], [alpha], [[100.0]]))
    on = engine.simulate(wide)["spread_max"]
    off = engine.simulate(config)["spread_max"]
    assert (on.sel(quantile=0.95) > off.sel(quantile=0.95) + 2.0).all()
    assert (on.sel(quantile=0.05) < off.sel(quantile=0.05) - 5.0).all()
