"""A kernel that draws every random variate of a run and nothing else: the benchmarks' measure
of the random numbers' share of the path kernel's time."""

from __future__ import annotations

import numpy as np

from ..accelerate import jit
from ..kernels import layout as L
from ..kernels.draws import N_DAILY_NORMALS, draw_day
from ..kernels.random import seed_state, uniform


@jit
def draw_only_block(seeds, day_int, params, t_tables, out):
    """Draw every random variate ``simulate_block`` draws for these paths, and nothing else;
    ``out`` (float64 (1,)) receives a checksum so the draws are not optimized away."""
    cal_amount = np.zeros(L.N_CAL)
    normals = np.empty(N_DAILY_NORMALS)
    t_dfs = (params[L.P_TGA_DF], params[L.P_NOISE_DF])
    total = 0.0
    for path in range(seeds.shape[0]):
        state = seed_state(seeds, path)
        for _ in range(L.N_PATH_DRAWS):
            u, state = uniform(state)
            total += u
        for t in range(day_int.shape[0]):
            extras = day_int[t, L.DI_EXTRA_DRAWS]
            shocks, state = draw_day(state, params, extras, t_dfs, t_tables, cal_amount, normals)
            a, b, c, d, e, f, g, h, i = shocks
            total += a + b + c + d + e + f + g + h + i
    out[0] = total
