"""Per-path random streams: xoshiro256+ seeded from SeedSequence words, and exact variates.

Each path owns a 4-word xoshiro256+ state (``state``, uint64 (4,)) seeded from
``engine.rng.block_seeds``; a path's stream never depends on the block, task or worker that
runs it. Uniforms take the top 53 bits (the weak low bits of xoshiro256+ are discarded).

Variates are exact (no approximation beyond floating point): normals and Student-t by a
256-layer ziggurat (Marsaglia & Tsang 2000, in Doornik's 2005 symmetric layout; tables in
``tables.py``), one 64-bit draw about 99% of the time. The normal tail beyond R is sampled by
Marsaglia's (1964) method, the Student-t tail by rejection from its Pareto envelope.
"""

from __future__ import annotations

import math

import numpy as np

from ..accelerate import jit
from .tables import ROW_F, ROW_RATIO, ROW_X, ZIGGURAT_LAYERS, normal_table

_TWO_POW_53_INV = 1.0 / 9007199254740992.0  # 2**-53: one unit of a 53-bit mantissa
_TWO_POW_52_INV = 2.0 * _TWO_POW_53_INV
_SHIFT_MANTISSA = np.uint64(11)  # 64 − 53 bits dropped
_SHIFT_LAYER = np.uint64(3)  # layer index from bits 3..10 (disjoint from the mantissa bits)
_LAYER_MASK = np.uint64(ZIGGURAT_LAYERS - 1)
_HALF = 0.5

# Tables are rows of a (K, 3, N + 1) array (rows ``tables.ROW_*``); the normal's is a constant.
NORMAL_TABLES = normal_table()[0][None]
NORMAL_DF = 0.0  # the ``df`` that selects the normal density in ``ziggurat``


@jit(inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@jit(inline="always")
def next_u64(state):
    """Next 64-bit output of xoshiro256+; advances ``state`` in place."""
    result = state[0] + state[3]
    t = state[1] << np.uint64(17)
    state[2] ^= state[0]
    state[3] ^= state[1]
    state[1] ^= state[2]
    state[0] ^= state[3]
    state[2] ^= t
    state[3] = _rotl(state[3], 45)
    return result


@jit(inline="always")
def uniform(state):
    """Uniform on the open interval (0, 1), 53-bit resolution."""
    return ((next_u64(state) >> _SHIFT_MANTISSA) + _HALF) * _TWO_POW_53_INV


@jit
def _tail(state, r, df, negative):
    """A draw beyond ``r`` of the normal (df = NORMAL_DF: Marsaglia 1964) or of Student-t
    (rejection from the Pareto envelope x^-(df+1)), with the given sign."""
    while True:
        if df == NORMAL_DF:
            a = -math.log(uniform(state)) / r
            if -2.0 * math.log(uniform(state)) > a * a:
                x = r + a
                break
        else:
            x = r * uniform(state) ** (-1.0 / df)
            if uniform(state) < (x * x / (df + x * x)) ** ((df + 1.0) / 2.0):
                break
    return -x if negative else x


@jit
def _ziggurat_slow(state, tables, k, layer, u, df):
    """The ziggurat's rare cases (about 1% of draws): the tail (layer 0) or the wedge of a
    layer; NaN when the point is rejected."""
    if layer == 0:
        return _tail(state, tables[k, ROW_X, 1], df, u < 0.0)
    z = u * tables[k, ROW_X, layer]
    if df == NORMAL_DF:
        density = math.exp(-0.5 * z * z)
    else:
        density = (1.0 + z * z / df) ** (-(df + 1.0) / 2.0)
    f_outer = tables[k, ROW_F, layer]
    if f_outer + uniform(state) * (tables[k, ROW_F, layer + 1] - f_outer) < density:
        return z
    return np.nan


@jit(inline="always")
def ziggurat(state, tables, k, df):
    """A draw from the density of table ``tables[k]``: the standard normal when ``df`` is
    NORMAL_DF, else Student-t with ``df`` degrees of freedom (unscaled: variance df/(df-2))."""
    while True:
        bits = next_u64(state)
        layer = (bits >> _SHIFT_LAYER) & _LAYER_MASK
        u = ((bits >> _SHIFT_MANTISSA) + _HALF) * _TWO_POW_52_INV - 1.0  # (-1, 1)
        if abs(u) < tables[k, ROW_RATIO, layer]:
            return u * tables[k, ROW_X, layer]
        # np.int64(k): a literal k would compile a second copy of the slow path
        z = _ziggurat_slow(state, tables, np.int64(k), layer, u, df)
        if z == z:
            return z


@jit(inline="always")
def normal(state):
    """A standard normal."""
    return ziggurat(state, NORMAL_TABLES, 0, NORMAL_DF)


@jit
def seed_state(seeds, path, state):
    """Load path ``path``'s four seed words into ``state``; an all-zero state (which xoshiro
    cannot leave) is replaced by a fixed non-zero one."""
    for i in range(4):
        state[i] = seeds[path, i]
    if state[0] == 0 and state[1] == 0 and state[2] == 0 and state[3] == 0:
        state[0] = np.uint64(0x9E3779B97F4A7C15)
