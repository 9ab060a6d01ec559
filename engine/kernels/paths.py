"""The path kernels: blocks of paths, every regime on the same shocks, monthly integer output.

Three kernels loop over paths and days and call the one simulated day (``day.py``), each its
own machine code: ``simulate_paths`` (a run: draws from each path's own stream, counts only),
``trace_paths`` (the same draws, and every daily value, shock, per-path draw and drawn
parameter written out, for tests and diagnostics on a few paths) and ``replay_paths`` (the
draws given as inputs instead). The draws are in ``draws.py``, the monthly counting in
``counts.py``. ``simulate_block``, ``trace_block`` and ``replay_block`` wrap them with fresh
work arrays. Array shapes: n paths, T business days, M months, R regimes, E events,
V histograms, B = bins + 2 (under- and overflow), K drawn parameters.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..accelerate import jit
from . import layout as L
from .conditional import N_Y, Hazard, start_path_hazard
from .counts import NEAR_HIST_PATHS, add_and_clear
from .curve import curve_shape
from .day import (
    N_REGIME_FLAGS,
    N_REGIME_STATE,
    DayWork,
    limits_of,
    simulate_day,
    start_path,
)
from .draws import N_DAILY_NORMALS, draw_day, draw_parameters, path_values
from .random import seed_state, uniform

# Scratch vector (float64 (N_SCRATCH,)) offsets: calendar levels and amounts, the day's
# normals, per-path draws and uniforms, month statistics.
_SCRATCH_CAL_LEVEL = 0
_SCRATCH_CAL_AMOUNT = L.N_CAL
_SCRATCH_NORMALS = 2 * L.N_CAL
_SCRATCH_DRAWS = _SCRATCH_NORMALS + N_DAILY_NORMALS
_SCRATCH_UNIFORMS = _SCRATCH_DRAWS + L.N_PATH_DRAWS
_SCRATCH_STATS = _SCRATCH_UNIFORMS + L.N_PATH_DRAWS
N_SCRATCH = _SCRATCH_STATS + L.N_HISTS
UNCERTAINTY_INPUT = 8  # position of ``uncertainty`` in ``Schedule.kernel_inputs``
HAZARD_INPUTS = 2  # after ``uncertainty``: the conditioned tier and its tail table


@jit(refcounted=False)
def set_parameters(p, uncertainty, theta):
    """Write a path's drawn parameters ``theta`` (float64 (K,), the config keys' units) into its
    parameters ``p`` (float64 (N_PARAMS,)), as ``layout.U_TRANSFORM`` says, and the initial
    spread, which depends on the demand curve's. Out of line: once a path."""
    for i in range(uncertainty.shape[0]):
        value = theta[i]
        if uncertainty[i, L.U_TRANSFORM] == L.UT_LOG:
            value = math.log(value) if value > 0.0 else -math.inf  # p0 = 0: no jumps
        p[int(uncertainty[i, L.U_PARAM])] = value
    gap = p[L.P_RATIO0] - p[L.P_X0]
    h = curve_shape(int(p[L.P_CURVE_FAMILY]), p[L.P_LAMBDA], gap)
    p[L.P_SPREAD0] = p[L.P_ALPHA] + p[L.P_BETA] * h


class Inputs(NamedTuple):
    """The schedule's read-only arrays (``Schedule.kernel_inputs`` but ``uncertainty``)."""

    day_float: np.ndarray  # float64 (T, N_DAY_FLOAT)
    day_int: np.ndarray  # int64 (T, N_DAY_INT)
    cal_share: np.ndarray  # float64 (T, N_CAL)
    days_in_month: np.ndarray  # int64 (M,)
    params: np.ndarray  # float64 (N_PARAMS,)
    regime_params: np.ndarray  # float64 (R, N_REGIME_PARAMS)
    hist_grid: np.ndarray  # float64 (V, 2)
    t_tables: np.ndarray  # float64 (2, 3, N + 1)


class Counts(NamedTuple):
    """The integer counts the kernel adds to (``Accumulators`` order; the first-joint-month
    counts in place of the cumulative ones)."""

    event_count: np.ndarray  # int64 (R, E, M)
    event_days: np.ndarray  # int64 (R, E, M)
    first_event_count: np.ndarray  # int64 (R, E, M)
    joint_event_count: np.ndarray  # int64 (R, R, E, M)
    joint_first_count: np.ndarray  # int64 (R, R, E, M)
    hist: np.ndarray  # int64 (V, R, M, B)
    diverged: np.ndarray  # int64 (R, M), paths with non-finite reserves or spread at month end


class Work(NamedTuple):
    """Work arrays (``work_arrays``), zeros on entry."""

    rs: np.ndarray  # float64 (R, N_REGIME_STATE)
    rf: np.ndarray  # int64 (R, N_REGIME_FLAGS)
    event_bits: np.ndarray  # int64 (2, R)
    scratch: np.ndarray  # float64 (N_SCRATCH,)
    near_hist: np.ndarray  # uint16, hist's shape
    path_params: np.ndarray  # float64 (N_PARAMS,)
    theta: np.ndarray  # float64 (N_PARAMS,)


class PathWork(NamedTuple):
    """Views of the scratch vector a path's draws use, and its drawn parameters."""

    uniforms: np.ndarray  # float64 (N_PATH_DRAWS,), the per-path uniforms
    draws: np.ndarray  # float64 (N_PATH_DRAWS,), the per-path draws made of them
    normals: np.ndarray  # float64 (N_DAILY_NORMALS,), a day's normals
    theta: np.ndarray  # float64 (≥ K,), the drawn parameters, the config keys' units


@jit(inline="always")
def _prepare(inputs, work):
    """(the kernel's parameters: ``inputs.params`` copied into ``work.path_params``, where a
    path's drawn ones are set; the day's ``DayWork``; the path's ``PathWork``)."""
    p = work.path_params
    for i in range(inputs.params.shape[0]):
        p[i] = inputs.params[i]
    scratch = work.scratch
    day_work = DayWork(
        work.rs,
        work.rf,
        work.event_bits[0],
        work.event_bits[1],
        scratch[_SCRATCH_CAL_LEVEL : _SCRATCH_CAL_LEVEL + L.N_CAL],
        scratch[_SCRATCH_CAL_AMOUNT : _SCRATCH_CAL_AMOUNT + L.N_CAL],
        scratch[_SCRATCH_STATS : _SCRATCH_STATS + L.N_HISTS],
        work.near_hist,
    )
    path_work = PathWork(
        scratch[_SCRATCH_UNIFORMS : _SCRATCH_UNIFORMS + L.N_PATH_DRAWS],
        scratch[_SCRATCH_DRAWS : _SCRATCH_DRAWS + L.N_PATH_DRAWS],
        scratch[_SCRATCH_NORMALS : _SCRATCH_NORMALS + N_DAILY_NORMALS],
        work.theta,
    )
    return p, day_work, path_work


@jit(inline="always")
def _stage_histograms(path, near_hist, hist):
    """Move the staged uint16 histogram counts into ``hist`` every NEAR_HIST_PATHS paths,
    before a bin could wrap."""
    if path % NEAR_HIST_PATHS == 0 and path > 0:
        add_and_clear(near_hist, hist)


@jit(inline="always")
def _draw_path(seeds, path, p, uncertainty, path_work):
    """Path ``path``'s own draws, in a fixed order shared by every regime (common random
    numbers): its N_PATH_DRAWS uniforms, then its K drawn parameters (set in ``p``). Returns
    (its stream's state, its per-path draws ``path_work.draws``)."""
    state = seed_state(seeds, path)
    for i in range(L.N_PATH_DRAWS):
        path_work.uniforms[i], state = uniform(state)
    if uncertainty is not None:
        state = draw_parameters(state, uncertainty, path_work.theta)
        set_parameters(p, uncertainty, path_work.theta)
    path_values(p, path_work.uniforms, path_work.draws)
    return state, path_work.draws


@jit(inline="always")
def _shocks_of_day(state, t, p, t_dfs, inputs, day_work, path_work):
    """(day ``t``'s shared shocks from the path's stream, ``draws.draw_day``'s tuple, with the
    calendar amounts in ``day_work.cal_amount``; the state)."""
    extras = inputs.day_int[t, L.DI_EXTRA_DRAWS]
    return draw_day(
        state, p, extras, t_dfs, inputs.t_tables, day_work.cal_amount, path_work.normals
    )


@jit(refcounted=False)
def simulate_paths(seeds, inputs, uncertainty, counts, work, hazard):
    """The run kernel: simulate ``seeds.shape[0]`` paths (``seeds`` uint64 (n, 4)) under every
    regime and add their monthly counts.

    ``inputs`` (``Inputs``) read; ``counts`` (``Counts``) added to (in place of cumulative
    joint counts, ``joint_first_count`` counts the month by which a pair of regimes has both
    had an event); ``work`` (``Work``, zeros) used. ``uncertainty`` (float64 (K, U_CHOL + K),
    ``layout.U_*``): the parameters each path draws after its per-path uniforms, shared by
    every regime; None (what the wrappers pass for K = 0): none, and its branches compiled
    away. ``hazard``: None, or the conditional estimator's ``conditional.Hazard``, whose sums
    are added to as well (None compiles it away: a plain run's machine code).

    Compiled without reference counting: it allocates nothing, and so the arrays it hands to
    inlined helpers cost no atomic increment (a full memory barrier) on every day.
    """
    p, day_work, path_work = _prepare(inputs, work)
    limits = limits_of(p)
    t_dfs = (p[L.P_TGA_DF], p[L.P_NOISE_DF])
    for path in range(seeds.shape[0]):
        _stage_histograms(path, work.near_hist, counts.hist)
        state, draws = _draw_path(seeds, path, p, uncertainty, path_work)
        constants, carry = start_path(p, draws, inputs.regime_params, day_work)
        if hazard is not None:
            start_path_hazard(hazard)
        for t in range(inputs.day_float.shape[0]):
            shocks, state = _shocks_of_day(state, t, p, t_dfs, inputs, day_work, path_work)
            carry = simulate_day(
                t, shocks, carry, constants, limits, p, inputs, counts, day_work, None, hazard
            )
    add_and_clear(work.near_hist, counts.hist)


@jit(refcounted=False)
def trace_paths(seeds, inputs, uncertainty, counts, work, recording):
    """``simulate_paths`` that also fills ``recording`` = (trace float64 (n, T, R, N_TRACE),
    shocks float64 (n, T, N_SHOCKS), path_draws float64 (n, N_PATH_DRAWS), parameter_draws
    float64 (n, K)) with every daily value, shared shock, per-path draw and drawn parameter."""
    trace, shocks_out, draws_out, theta_out = recording
    p, day_work, path_work = _prepare(inputs, work)
    limits = limits_of(p)
    t_dfs = (p[L.P_TGA_DF], p[L.P_NOISE_DF])
    for path in range(seeds.shape[0]):
        _stage_histograms(path, work.near_hist, counts.hist)
        state, draws = _draw_path(seeds, path, p, uncertainty, path_work)
        for i in range(L.N_PATH_DRAWS):
            draws_out[path, i] = draws[i]
        if uncertainty is not None:
            for i in range(uncertainty.shape[0]):
                theta_out[path, i] = path_work.theta[i]
        constants, carry = start_path(p, draws, inputs.regime_params, day_work)
        for t in range(inputs.day_float.shape[0]):
            shocks, state = _shocks_of_day(state, t, p, t_dfs, inputs, day_work, path_work)
            carry = simulate_day(
                t,
                shocks,
                carry,
                constants,
                limits,
                p,
                inputs,
                counts,
                day_work,
                trace[path, t],
                None,
            )
            _record_shocks(shocks, day_work.cal_amount, shocks_out[path, t])
    add_and_clear(work.near_hist, counts.hist)


@jit(inline="always")
def _record_shocks(shocks, cal_amount, out):
    """Write a day's shocks (``draws.draw_day``'s tuple and the calendar amounts) into ``out``
    (float64 (N_SHOCKS,), ``layout.S_*``)."""
    eps_currency, eps_rrp, eps_other, z_stigma, nu_tga, eta, u_jump, z_spike, z_alpha = shocks
    out[L.S_CURRENCY] = eps_currency
    out[L.S_TGA] = nu_tga
    out[L.S_ON_RRP] = eps_rrp
    out[L.S_OTHER_LIAB] = eps_other
    out[L.S_SPREAD_NOISE] = eta
    out[L.S_JUMP_UNIFORM] = u_jump
    out[L.S_STIGMA] = z_stigma
    out[L.S_RRP_SPIKE] = z_spike
    out[L.S_ALPHA_WALK] = z_alpha
    for k in range(L.N_CAL):
        out[L.S_CAL_AMOUNT + k] = cal_amount[k]


@jit(inline="always")
def _given_shocks(row, cal_amount):
    """A day's shocks read from ``row`` (float64 (N_SHOCKS,), ``layout.S_*``), in
    ``draws.draw_day``'s order; the calendar amounts into ``cal_amount``."""
    for k in range(L.N_CAL):
        cal_amount[k] = row[L.S_CAL_AMOUNT + k]
    return (
        row[L.S_CURRENCY],
        row[L.S_ON_RRP],
        row[L.S_OTHER_LIAB],
        row[L.S_STIGMA],
        row[L.S_TGA],
        row[L.S_SPREAD_NOISE],
        row[L.S_JUMP_UNIFORM],
        row[L.S_RRP_SPIKE],
        row[L.S_ALPHA_WALK],
    )


@jit(refcounted=False)
def replay_paths(given, inputs, uncertainty, counts, work):
    """``simulate_paths`` on draws given instead of generated: ``given`` = (shocks float64
    (., T, N_SHOCKS), path_draws float64 (n, N_PATH_DRAWS), parameter_draws float64 (., K));
    path i uses row ``i % len`` of each. Runs n paths."""
    shocks_in, draws_in, theta_in = given
    p, day_work, path_work = _prepare(inputs, work)
    limits = limits_of(p)
    for path in range(draws_in.shape[0]):
        _stage_histograms(path, work.near_hist, counts.hist)
        draws = draws_in[path % draws_in.shape[0]]
        if uncertainty is not None:
            row = theta_in[path % theta_in.shape[0]]
            for i in range(uncertainty.shape[0]):
                path_work.theta[i] = row[i]
            set_parameters(p, uncertainty, path_work.theta)
        constants, carry = start_path(p, draws, inputs.regime_params, day_work)
        path_shocks = shocks_in[path % shocks_in.shape[0]]
        for t in range(inputs.day_float.shape[0]):
            shocks = _given_shocks(path_shocks[t], day_work.cal_amount)
            carry = simulate_day(
                t, shocks, carry, constants, limits, p, inputs, counts, day_work, None, None
            )
    add_and_clear(work.near_hist, counts.hist)


def work_arrays(hist):
    """Fresh work arrays for ``simulate_paths`` (regime state and flags, event bits, scratch,
    near histogram, a path's parameters and its drawn ones) for counts ``hist`` of the shape
    (V, R, M, B)."""
    n_regimes = hist.shape[1]
    return (
        np.zeros((n_regimes, N_REGIME_STATE)),
        np.zeros((n_regimes, N_REGIME_FLAGS), dtype=np.int64),
        np.zeros((2, n_regimes), dtype=np.int64),
        np.zeros(N_SCRATCH),
        np.zeros(hist.shape, dtype=np.uint16),
        np.zeros(L.N_PARAMS),
        np.zeros(L.N_PARAMS),  # a parameter is drawn at most once: K ≤ N_PARAMS
    )


def simulate_block(seeds, *inputs_and_counts):
    """Simulate ``seeds.shape[0]`` paths and add their monthly counts into the count arrays.

    Arguments after ``seeds`` (uint64 (n, 4), xoshiro256+ seed words, a row per path): the
    schedule's inputs, in ``Schedule.kernel_inputs`` order (day_float float64 (T, N_DAY_FLOAT),
    day_int int64 (T, N_DAY_INT), cal_share float64 (T, N_CAL), days_in_month int64 (M,),
    params float64 (N_PARAMS,), regime_params float64 (R, N_REGIME_PARAMS), hist_grid float64
    (V, 2), t_tables float64 (2, 3, N + 1), uncertainty float64 (K, U_CHOL + K), hazard_tier
    int64 (1,), hazard_tail float64 (N + 1, 2)), then the counts added to, in ``Accumulators``
    order (int64 (R, E, M) ×3, (R, R, E, M) ×2, (V, R, M, B), (R, M) paths diverged, the
    conditional estimator's sums
    (2, R, M, N_LIMBS), products and hits (2, R, R, M, N_LIMBS) ×2, with R = 0 when it is
    off).
    """
    _run(seeds, inputs_and_counts, None, None)


def trace_block(seeds, *args):
    """``simulate_block`` whose last four arguments receive every daily value (``trace``,
    float64 (n, T, R, N_TRACE)), every shared shock (``shocks``, float64 (n, T, N_SHOCKS)),
    the per-path draws (``path_draws``, float64 (n, N_PATH_DRAWS)) and the drawn parameters
    (``parameter_draws``, float64 (n, K), the config keys' units, as clipped)."""
    *inputs_and_counts, trace, shocks, path_draws, parameter_draws = args
    _run(seeds, inputs_and_counts, (trace, shocks, path_draws, parameter_draws), None)


def replay_block(path_draws, shocks, *inputs_and_counts, parameter_draws=None):
    """``simulate_block`` with the random draws given instead of generated: path i uses
    ``path_draws[i % len(path_draws)]`` (float64 (., N_PATH_DRAWS)), ``shocks[i % len]``
    (float64 (., T, N_SHOCKS)) and, where the schedule draws K > 0 parameters,
    ``parameter_draws[i % len]`` (float64 (., K), required then). Runs
    ``path_draws.shape[0]`` paths."""
    n_uncertain = inputs_and_counts[UNCERTAINTY_INPUT].shape[0]
    if parameter_draws is None:
        if n_uncertain > 0:
            raise ValueError(f"the schedule draws {n_uncertain} parameters: give parameter_draws")
        parameter_draws = np.zeros((1, 0))
    elif (
        parameter_draws.ndim != 2
        or parameter_draws.shape[1] != n_uncertain
        or not len(parameter_draws)
    ):
        raise ValueError(f"parameter_draws must be (n, {n_uncertain}), got {parameter_draws.shape}")
    no_seeds = np.zeros((path_draws.shape[0], 4), dtype=np.uint64)
    _run(no_seeds, inputs_and_counts, None, (shocks, path_draws, parameter_draws))


def _run(seeds, inputs_and_counts, recording, given):
    """The kernel for the mode (``trace_paths`` with ``recording``, ``replay_paths`` with
    ``given``, else ``simulate_paths``) with fresh work arrays; its first-joint-month counts
    are summed over months into the cumulative joint counts. The conditional estimator runs
    when the hazard sums have regimes (a run's only: tracing and replay leave them)."""
    *inputs, joint_cumulative_count, hist, diverged, hazard_sums, hazard_cross, hazard_hits = (
        inputs_and_counts
    )
    uncertainty = inputs.pop(UNCERTAINTY_INPUT)
    tier, tail = (inputs.pop(UNCERTAINTY_INPUT) for _ in range(HAZARD_INPUTS))
    if uncertainty.shape[0] == 0:
        uncertainty = None  # nothing drawn: the kernel compiles without it
    joint_first_count = np.zeros_like(joint_cumulative_count)
    counts = Counts(*inputs[len(Inputs._fields) :], joint_first_count, hist, diverged)
    inputs = Inputs(*inputs[: len(Inputs._fields)])
    work = Work(*work_arrays(hist))
    hazard = None
    if hazard_sums.shape[1] > 0 and recording is None and given is None:
        if int(tier[0]) < 0:
            raise ValueError("hazard sums given but the schedule conditions no tier")
        n_regimes = hist.shape[1]
        y = np.zeros((n_regimes, N_Y))
        hazard = Hazard(int(tier[0]), tail, y, hazard_sums, hazard_cross, hazard_hits)
    if recording is not None:
        trace_paths(seeds, inputs, uncertainty, counts, work, recording)
    elif given is not None:
        replay_paths(given, inputs, uncertainty, counts, work)
    else:
        simulate_paths(seeds, inputs, uncertainty, counts, work, hazard)
    joint_cumulative_count += np.cumsum(joint_first_count, axis=-1)
