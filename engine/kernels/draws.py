"""The random draws of a path: its per-path values and each day's shared shocks.

Always drawn in the same order from the path's own stream (``random.py``), whatever the regimes
do with them: every regime of a path sees the same draws (common random numbers).
"""

from __future__ import annotations

from ..accelerate import jit
from . import layout as L
from .random import normal, uniform, ziggurat

N_DAILY_NORMALS = 4  # the currency, ON RRP, other-liability and stigma normals of a day


@jit(inline="always")
def _scale(u, low, high):
    """A uniform u on (0, 1) mapped to (low, high)."""
    return low + u * (high - low)


@jit(inline="always")
def path_values(p, u, out):
    """Per-path draws (``layout.PATH_DRAW_NAMES``) from N_PATH_DRAWS uniforms ``u``."""
    out[L.D_PACE_UNIFORM] = u[0]
    out[L.D_THEN_UNIFORM] = u[1]
    out[L.D_CURRENCY_GROWTH] = _scale(u[2], p[L.P_CUR_GROWTH_LO], p[L.P_CUR_GROWTH_HI])
    out[L.D_BANK_GROWTH] = _scale(u[3], p[L.P_BANK_GROWTH_LO], p[L.P_BANK_GROWTH_HI])
    out[L.D_RRP_BASE] = _scale(u[4], p[L.P_RRP_BASE_LO], p[L.P_RRP_BASE_HI])
    out[L.D_DC_ACTIVE] = 1.0 if u[5] < p[L.P_DC_PROBABILITY] else 0.0
    out[L.D_DC_FLOOR] = _scale(u[6], p[L.P_DC_FLOOR_LO], p[L.P_DC_FLOOR_HI])
    out[L.D_DC_RESOLUTION] = _scale(u[7], p[L.P_DC_RESOLUTION_LO], p[L.P_DC_RESOLUTION_HI])
    out[L.D_DC_REBUILD] = _scale(u[8], p[L.P_DC_REBUILD_LO], p[L.P_DC_REBUILD_HI])


@jit(refcounted=False)
def draw_parameters(state, uncertainty, theta):
    """A path's drawn parameters (``layout.U_*``), after its N_PATH_DRAWS uniforms: K standard
    normals z in turn, θ = mean + L z (L the lower Cholesky factor), clipped to [lower, upper],
    into ``theta`` (float64 (K,), the keys' units). Returns the state. Out of line: once a path,
    and only with ``[uncertainty] parameters = true``."""
    n = uncertainty.shape[0]
    for i in range(n):
        theta[i] = uncertainty[i, L.U_MEAN]
    for j in range(n):
        z, state = normal(state)
        for i in range(j, n):  # row i of L is zero right of i
            theta[i] += uncertainty[i, L.U_CHOL + j] * z
    for i in range(n):
        theta[i] = min(max(theta[i], uncertainty[i, L.U_LOWER]), uncertainty[i, L.U_UPPER])
    return state


@jit(refcounted=False)
def _extra_draws(state, mask, cal_uniform):
    """The draws of a day's ``layout.DI_EXTRA_DRAWS`` bitmask ``mask``, in this order: the
    RRP-spike normal, then a uniform for each calendar effect opening (into ``cal_uniform[k]``,
    float64 (N_CAL,)). Returns (the spike normal or 0, state). Out of line: few days have any."""
    z_spike = 0.0
    if mask & L.EXTRA_SPIKE:
        z_spike, state = normal(state)
    for k in range(L.N_CAL):
        if mask & (L.EXTRA_CAL << k):
            cal_uniform[k], state = uniform(state)
    return z_spike, state


@jit(inline="always")
def draw_day(state, p, extras, t_dfs, t_tables, cal_amount, normals):
    """The shared shocks of a day, always drawn in this order: the currency, ON RRP,
    other-liability and stigma normals, the TGA and spread-noise Student-t (degrees of freedom
    ``t_dfs``), the jump uniform, the curve level's normal where the level moves (its start or
    walk sd above 0; else 0 and not drawn), then the day's ``extras``
    (``layout.DI_EXTRA_DRAWS``): an
    RRP-spike normal on spike days (else 0) and the amount of each TGA calendar event opening
    that day (written into ``cal_amount``, float64 (N_CAL,)). ``normals``: scratch, float64
    (N_DAILY_NORMALS,). Returns the shocks and the state."""
    for i in range(N_DAILY_NORMALS):  # a loop: one inlined ziggurat to compile, not four
        normals[i], state = normal(state)
    eps_currency, eps_rrp, eps_other, z_stigma = normals[0], normals[1], normals[2], normals[3]
    nu_tga, state = ziggurat(state, t_tables, L.TT_TGA, t_dfs[0])
    eta, state = ziggurat(state, t_tables, L.TT_SPREAD_NOISE, t_dfs[1])
    u_jump, state = uniform(state)
    z_alpha = 0.0
    if p[L.P_ALPHA_WALK_SD] > 0.0 or p[L.P_ALPHA_START_SD] > 0.0:
        z_alpha, state = normal(state)
    z_spike = 0.0
    if extras != 0:
        z_spike, state = _extra_draws(state, extras, cal_amount)
        for k in range(L.N_CAL):
            if extras & (L.EXTRA_CAL << k):
                cal_amount[k] = _scale(cal_amount[k], p[L.P_CAL_LO + k], p[L.P_CAL_HI + k])
    shocks = (
        eps_currency,
        eps_rrp,
        eps_other,
        z_stigma,
        nu_tga * p[L.P_TGA_T_SCALE],
        eta * p[L.P_NOISE_T_SCALE],
        u_jump,
        z_spike,
        z_alpha,
    )
    return shocks, state
