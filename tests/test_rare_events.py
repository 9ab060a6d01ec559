"""The conditional estimator (``[rare_events]``): its pieces exact, its estimates unbiased
(against plain Monte Carlo on the same paths, and against an exact first-passage probability),
its cube identical however the work is split, merged or resumed, and its errors one line."""

from __future__ import annotations

import dataclasses
import math
import signal

import numpy as np
import pytest
from scipy import signal as scipy_signal
from scipy import stats

from engine.accelerate import jit
from engine.cli import main
from engine.config import RareEvents, load_config
from engine.cube import VARIABLES, accumulators_from_cube, build_cube
from engine.cube_conditional import VARIABLE_NAMES
from engine.diagnostics import trace_paths
from engine.io import open_cube
from engine.kernels import layout as L
from engine.kernels.conditional import (
    Hazard,
    add_day_hazard,
    can_fire_today,
    latent_needed,
    needed_spread_and_srf,
    tail_probability,
)
from engine.kernels.fixed import N_LIMBS, add_fixed, fixed_to_float
from engine.kernels.tables import tail_table
from engine.merge import merge_cubes
from engine.pipeline import simulate
from engine.report import headline_table
from engine.run import plan_tasks, simulate_blocks
from engine.schedule import build_schedule

from .conftest import PREVIOUS_DEFAULT, SHIPPED_DEFAULT, assert_same_cube, small, tasks_in_store
from .test_interrupt import resume_and_count, run_until_tasks_are_saved

TAIL_ERROR = 1e-12  # absolute error of the tail table's interpolation
Z_TOLERANCE = 3.0  # standard errors, as stated in each test
FAMILY_ALPHA = 2.0 * stats.norm.sf(Z_TOLERANCE)  # 0.27%: the 3-s.e. level, for a whole family


def family_z(cells: int) -> float:
    """Standard errors the largest of ``cells`` comparisons may reach with the family held at
    FAMILY_ALPHA (Bonferroni: 3.0 for one cell, 4.2 for 96)."""
    return float(stats.norm.isf(FAMILY_ALPHA / (2.0 * cells)))


SEED = 20251201
AT_THRESHOLD = 1e-9  # bp: latent spreads this close to a tier's level are not compared


def conditional(config, tier: str = "crisis"):
    return dataclasses.replace(config, rare_events=RareEvents("conditional", tier))


@jit
def _tails(table, xs, out):
    for i in range(xs.shape[0]):
        out[i] = tail_probability(table, xs[i])


@pytest.mark.parametrize("df", [2.5, 3.0, 3.8659, 30.0, math.inf])
def test_the_tail_table_is_the_distribution_s_survival_function(df):
    table = tail_table(df)
    grid = np.geomspace(1e-6, 1e12, 2000)
    xs = np.concatenate([np.linspace(-60, 60, 240_001), grid, -grid, [0.0, np.inf, -np.inf]])
    got = np.empty_like(xs)
    _tails(table, xs, got)
    exact = stats.norm.sf(xs) if math.isinf(df) else stats.t.sf(xs, df)
    np.testing.assert_allclose(got, exact, rtol=0, atol=TAIL_ERROR)


def test_fixed_point_sums_do_not_depend_on_the_order():
    values = np.random.default_rng(5).lognormal(-6.0, 4.0, 5000)  # 1e-10 .. 1e5
    sums = []
    for order in (np.arange(values.size), np.argsort(values), np.arange(values.size)[::-1]):
        limbs = np.zeros(N_LIMBS, np.int64)
        _add_all(limbs, values[order])
        sums.append(limbs)
    assert all(np.array_equal(sums[0], s) for s in sums[1:])
    total = fixed_to_float(sums[0])
    assert total == pytest.approx(math.fsum(values), rel=1e-15)


@jit
def _add_all(limbs, values):
    for v in values:
        add_fixed(limbs, v)


@jit
def _needed_latent(tier, p, ceilings, out):
    spread, srf = needed_spread_and_srf(tier, p)
    for i in range(ceilings.shape[0]):
        out[i] = latent_needed(spread, srf, ceilings[i], p)


@pytest.mark.slow  # traces the kernel
@pytest.mark.parametrize("tier", ["tight", "stress", "crisis", "systemic"])
def test_a_tier_fires_exactly_when_the_latent_spread_reaches_its_level(tier):
    """On every traced regime-day of the previous default (6 months, with its stress), the
    kernel's event bit equals latent ≥ latent_needed(...), the inverse the estimator uses;
    for ``systemic``, on the days that can complete its run (``can_fire_today``)."""
    config = small(load_config(PREVIOUS_DEFAULT), months=6, paths=1000, block=100)
    schedule = build_schedule(config)
    trace = trace_paths(schedule, 1000, SEED, 100)
    p = schedule.params
    ceilings = p[L.P_SRF_RATE] + np.exp(
        p[L.P_STIGMA_LOG_MEDIAN] + p[L.P_STIGMA_LOG_SD] * trace.shocks[..., L.S_STIGMA]
    )
    needed = np.empty(ceilings.size)
    e = L.EVENT_NAMES.index(tier)
    _needed_latent(e, p, ceilings.ravel(), needed)
    needed = needed.reshape(ceilings.shape)[..., None]  # (n, T, 1): the same for every regime
    latent = trace.values[..., L.T_SPREAD_LATENT]  # (n, T, R)
    fired = (trace.values[..., L.T_EVENTS].astype(np.int64) >> e) & 1 == 1
    clear = np.abs(latent - needed) > AT_THRESHOLD
    if tier == "systemic":  # the run's last day: the day before was at the spread too
        at = trace.values[..., L.T_SPREAD] >= p[L.P_EV_SYSTEMIC]  # (n, T, R)
        assert p[L.P_EV_SYSTEMIC_DAYS] == 2
        yesterday = np.zeros_like(at)
        yesterday[:, 1:] = at[:, :-1]
        assert yesterday.sum() > 100
        np.testing.assert_array_equal(yesterday, _can_fire(e, p, _runs(at)))
        clear &= yesterday
    assert fired[clear].sum() > 100 and (~fired[clear]).sum() > 100  # both sides are tried
    np.testing.assert_array_equal(fired[clear], (latent >= needed)[clear])


def _runs(at):
    """The run of days at the systemic spread up to yesterday, (n, T, R), from ``at``."""
    runs = np.zeros(at.shape, np.int64)
    for t in range(1, at.shape[1]):
        runs[:, t] = np.where(at[:, t - 1], runs[:, t - 1] + 1, 0)
    return runs


@jit
def _can_fire(tier, p, runs):
    out = np.empty(runs.shape, np.bool_)
    flat, result = runs.ravel(), out.ravel()
    for i in range(flat.shape[0]):
        result[i] = can_fire_today(tier, flat[i], p)
    return out


def _agree_with_the_count(config, tier, n=40_000):
    """Run ``n`` paths of ``config`` (seed SEED) with ``tier`` conditioned. Every regime and
    month, monthly and cumulative: the conditional estimate (from the exact sums: unbiased) and
    the reported combination with the count each within `family_z` combined standard errors
    (√(SE_plain² + SE²)) of the plain estimate (3 s.e. at the family's level: the largest of up
    to 96 cells), or both 0 where no path came near the tier (at
    most half the cells); the combination's standard error never above either estimator's.
    Returns (plain, plain SE, conditional SE), each (2, R, M): monthly, cumulative."""
    config = conditional(small(config, paths=n, block=1000), tier)
    schedule = build_schedule(config)
    acc = simulate_blocks(schedule, SEED, 1000, [(b, 1000) for b in range(n // 1000)])
    cube = build_cube(acc, config, schedule)
    counted = cube.sel(event=tier)
    means = fixed_to_float(acc.hazard_sums) / n  # (2, R, M)
    squares = np.einsum("errm->erm", fixed_to_float(acc.hazard_cross)) / n
    conditional_se = np.sqrt((squares - means**2) / n)
    plains, plain_ses = [], []
    for e, prefix in enumerate(("", "cumulative_")):
        plain = counted[f"{prefix}event_probability"].values
        plain_se = counted[f"{prefix}event_probability_stderr"].values
        reported = cube[f"conditional_{prefix}event_probability"].values
        reported_se = cube[f"conditional_{prefix}event_probability_stderr"].values
        for estimate, se in ((means[e], conditional_se[e]), (reported, reported_se)):
            combined = np.sqrt(plain_se**2 + se**2)
            seen = combined > 0  # elsewhere no path came near the tier: both estimates are 0
            np.testing.assert_array_equal(estimate[~seen], 0.0)
            np.testing.assert_array_equal(plain[~seen], 0.0)
            z = np.abs(estimate - plain)[seen] / combined[seen]
            limit = family_z(seen.sum())
            assert seen.sum() >= seen.size // 2 and z.max() <= limit, (prefix, z.max(), limit)
        assert (reported_se <= np.minimum(plain_se, conditional_se[e]) * (1 + 1e-9)).all()
        plains.append(plain)
        plain_ses.append(plain_se)
    return np.array(plains), np.array(plain_ses), conditional_se


@pytest.mark.slow  # 40,000 paths of 24 months
def test_conditional_and_plain_estimates_agree_on_the_shipped_default():
    """``_agree_with_the_count`` for P(crisis) on the shipped default; where the tier is rare
    (below 1%) the conditional standard error is the smaller."""
    plain, plain_se, conditional_se = _agree_with_the_count(load_config(SHIPPED_DEFAULT), "crisis")
    rare = plain < 0.01
    assert rare.any() and (conditional_se[rare] < plain_se[rare]).all()


@pytest.mark.slow  # 40,000 paths of 24 months
def test_systemic_odds_agree_with_the_count():
    """``_agree_with_the_count`` for P(systemic), on the previous default, where runs of 100bp
    days happen (1.7–11% by 24 months): the hazard of the run's last day."""
    plain, _, _ = _agree_with_the_count(load_config(PREVIOUS_DEFAULT), "systemic")
    assert (plain[1, :, -1] > 0.01).all()


@pytest.mark.slow  # 40,000 paths of 24 months
def test_jump_driven_crisis_odds_agree_with_the_count():
    """``_agree_with_the_count`` for P(crisis) on the judgement config, whose crises are single
    large spread jumps (p ≈ 0.04% a month). The jump's share of the hazard makes the conditional
    standard error the smaller in every cell (here 5.8–520× smaller)."""
    judgement = load_config(SHIPPED_DEFAULT.parent / "judgement.toml")
    plain, plain_se, conditional_se = _agree_with_the_count(judgement, "crisis")
    assert (plain < 0.05).all()  # rare in every cell (C: 2% by 24 months)
    assert (conditional_se < plain_se).all()


@jit
def _day_hazards(table, gaps, steps, by_jumps, fired, out):
    """``add_day_hazard`` of crisis for each row (one regime, first day), its monthly value."""
    for i in range(gaps.shape[0]):
        hazard = Hazard(
            L.E_CRISIS,
            table,
            np.zeros((1, 3)),
            np.zeros((2, 1, 1, N_LIMBS), np.int64),
            np.zeros((2, 1, 1, 1, N_LIMBS), np.int64),
            np.zeros((2, 1, 1, 1, N_LIMBS), np.int64),
        )
        add_day_hazard(hazard, 0, gaps[i], steps[i], by_jumps[i], fired[i], 0, 0)
        out[i] = hazard.y[0, 0]


def test_a_diverged_day_adds_its_outcome_and_a_finite_one_its_probability():
    """Where the day's gap or noise scale is not finite (a diverged path) there is no
    distribution to integrate: the day adds whether the tier fired, so that the estimate keeps
    the count's expectation; elsewhere the tail plus the jump's share."""
    table = tail_table(3.0)
    nan, inf = math.nan, math.inf
    gaps = np.array([nan, nan, inf, -inf, 5.0, 5.0, 5.0, -inf])
    steps = np.array([1.0, nan, 1.0, 2.0, inf, 2.0, -2.0, nan])
    by_jumps = np.array([nan, 0.5, nan, nan, nan, 0.25, 0.0, 0.0])
    fired = np.array([True, False, False, True, True, False, False, True])
    out = np.empty(gaps.size)
    _day_hazards(table, gaps, steps, by_jumps, fired, out)
    tail = stats.t.sf(2.5, 3.0)
    expected = [1.0, 0.0, 0.0, 1.0, 1.0, tail + 0.25, 1.0 - stats.t.sf(-2.5, 3.0), 1.0]
    np.testing.assert_allclose(out, expected, rtol=0, atol=TAIL_ERROR)


def crossing_probability(barrier: float, steps: int, dx: float = 2e-3) -> float:
    """P(max_{k ≤ steps} S_k ≥ barrier) for a standard Gaussian random walk S (discrete
    monitoring), exactly up to the quadrature's O(dx²): the density of the walk killed at the
    barrier, propagated by convolution on cell midpoints below it."""
    low = -12.0 * math.sqrt(steps)
    x = barrier - (np.arange(int((barrier - low) / dx))[::-1] + 0.5) * dx
    half = int(10.0 / dx)
    step = stats.norm.pdf(np.arange(-half, half + 1) * dx) * dx
    density = stats.norm.pdf(x)  # S_1, below the barrier
    for _ in range(steps - 1):
        density = scipy_signal.fftconvolve(density, step, mode="same")
    return 1.0 - density.sum() * dx


@jit
def _walks(z, barrier, table, sums, hits):
    """Plain and conditional estimates of a Gaussian walk's crossing (rows of ``z``): the
    estimator's first-passage hazard sum, as the kernel adds it."""
    for i in range(z.shape[0]):
        position, crossed, hazard = 0.0, False, 0.0
        for k in range(z.shape[1]):
            if not crossed:
                hazard += tail_probability(table, barrier - position)
            position += z[i, k]
            if position >= barrier:
                crossed = True
        add_fixed(sums[0], hazard)
        add_fixed(sums[1], hazard * hazard)
        if crossed:
            hits[0] += 1


def test_a_far_barrier_of_a_gaussian_walk_is_estimated_without_bias():
    """16 steps, barrier 12 (P ≈ 1e-3): the conditional and the plain estimates each within 3
    of their standard errors of the exact probability; seed 11, 200,000 walks. The conditional
    one's standard error is the smaller (here by 1.35×: a variance ratio of 1.8)."""
    n, steps, barrier = 200_000, 16, 12.0
    exact = crossing_probability(barrier, steps)
    continuous = 2.0 * stats.norm.sf(barrier / math.sqrt(steps))  # reflection, no correction
    assert exact < continuous  # discrete monitoring crosses less often
    # (Broadie–Glasserman–Kou's shifted barrier, b + 0.5826, gives 1.66e-3 against the exact
    # 1.81e-3: 9% off at 16 steps, an asymptotic correction; hence the quadrature.)
    z = np.random.default_rng(11).standard_normal((n, steps))
    sums, hits = np.zeros((2, N_LIMBS), np.int64), np.zeros(1, np.int64)
    _walks(z, barrier, tail_table(math.inf), sums, hits)
    total, squares = fixed_to_float(sums)
    estimate = total / n
    se = math.sqrt((squares / n - estimate**2) / n)
    plain = hits[0] / n
    plain_se = math.sqrt(plain * (1 - plain) / n)
    assert abs(estimate - exact) <= Z_TOLERANCE * se
    assert abs(plain - exact) <= Z_TOLERANCE * plain_se
    assert se < plain_se


# --------------------------------------------------------------------------- the cube


@pytest.fixture(scope="module")
def short(model_config):
    return conditional(small(model_config, months=3, paths=700, block=64))


@pytest.fixture(scope="module")
def reference(short):
    return simulate(short, workers=1, task_blocks=1)


@pytest.mark.slow
def test_the_cube_holds_the_conditional_variables(short, reference):
    assert reference.attrs["conditional_tier"] == "crisis"
    for name in VARIABLE_NAMES:
        assert reference[name].dims == VARIABLES[name].dims, name
        assert reference[name].attrs["units"] and reference[name].attrs["long_name"]
    assert reference.reserves_eom.attrs["weighted"].startswith("no")
    assert "conditional Monte Carlo" in headline_table(reference, "crisis")
    assert "conditional Monte Carlo" not in headline_table(reference, "stress")
    plain = simulate(dataclasses.replace(short, rare_events=RareEvents()), workers=1)
    assert not VARIABLE_NAMES & set(plain.data_vars)
    assert set(plain.data_vars) == set(reference.data_vars) - VARIABLE_NAMES
    for name in plain.data_vars:  # the plain estimates are those of a plain run, bit for bit
        np.testing.assert_array_equal(plain[name].values, reference[name].values, err_msg=name)


@pytest.mark.slow
@pytest.mark.parametrize(
    "how",
    [
        {"workers": 2, "task_blocks": 3},
        {"workers": 2, "processes": True, "task_blocks": 100},
        {"distributed": True, "task_blocks": 2},
    ],
    ids=["threads-2", "processes-2", "distributed"],
)
def test_the_conditional_cube_is_identical_however_it_is_computed(short, reference, how, request):
    how = dict(how)
    if how.pop("distributed", False):
        how["scheduler"] = request.getfixturevalue("dask_client")
    assert_same_cube(simulate(short, **how), reference)


@pytest.mark.slow
def test_merged_conditional_cubes_add_their_sums_exactly(short):
    a, b = simulate(short, paths=300, seed=1), simulate(short, paths=500, seed=2)
    merged = merge_cubes([a, b])
    for name in ("conditional_sum", "conditional_cross", "conditional_hits"):
        np.testing.assert_array_equal(merged[name], a[name] + b[name])
    total = accumulators_from_cube(a) + accumulators_from_cube(b)
    config = short.with_overrides(paths=800)
    fresh = build_cube(total, config, build_schedule(config))
    np.testing.assert_array_equal(
        merged.conditional_event_probability, fresh.conditional_event_probability
    )


@pytest.mark.slow  # a CLI run killed with SIGKILL, then resumed
def test_a_killed_conditional_run_resumes_to_the_identical_cube(tmp_path, monkeypatch):
    paths, block = 120_000, 256
    config_file = tmp_path / "rare.toml"
    config_file.write_text(
        f'base = "{SHIPPED_DEFAULT.parent / "judgement.toml"}"\n'
        f"[simulation]\nhorizon_months = 3  # months\nn_paths = {paths}  # paths\n"
        f"block_size = {block}  # paths\n"
        '[rare_events]\nestimator = "conditional"  # the conditional estimator\n'
        'tier = "crisis"  # of the crisis tier\n'
    )
    reference = simulate(load_config(config_file), workers=2)
    out = tmp_path / "run.zarr"
    code, _ = run_until_tasks_are_saved(config_file, out, signal.SIGKILL)
    assert code == -signal.SIGKILL
    saved = len(tasks_in_store(out))
    n_tasks = plan_tasks(paths, block, workers=1).n_tasks
    assert 3 <= saved < n_tasks
    assert len(resume_and_count(config_file, out, monkeypatch)) == n_tasks - saved
    assert_same_cube(open_cube(out), reference)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('estimator = "importance"', "rare_events.estimator"),
        ('tier = "scarce"', "rare_events.tier"),
        ("every = 1", "rare_events.every"),
    ],
)
def test_a_bad_rare_events_table_exits_2_naming_the_key(tmp_path, capsys, table, key):
    config = tmp_path / "bad.toml"
    config.write_text(f'base = "{SHIPPED_DEFAULT}"\n[rare_events]\n{table}\n')
    assert main(["run", str(config), "--out", str(tmp_path / "c.nc")]) == 2
    err = capsys.readouterr().err
    assert key in err and str(config) in err and "Traceback" not in err
    assert not (tmp_path / "c.nc").exists()


def test_an_unknown_tier_on_the_command_line_exits_2(tmp_path, capsys):
    assert main(["run", "--rare-events", "scarce", "--out", str(tmp_path / "c.nc")]) == 2
    err = capsys.readouterr().err
    assert "--rare-events" in err and "scarce" in err and "crisis" in err


def test_the_plain_estimator_leaves_the_config_s_identity_alone():
    config = load_config(SHIPPED_DEFAULT)
    explicit = dataclasses.replace(config, rare_events=RareEvents("plain", "crisis"))
    assert explicit.sha256 == config.sha256
    assert "rare_events" in conditional(config).to_dict()
