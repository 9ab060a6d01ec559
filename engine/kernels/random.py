"""Per-path random streams: xoshiro256+ seeded from SeedSequence words, and exact variates.

Each path owns a xoshiro256+ state, carried as a value: a tuple of four uint64 words that every
draw takes and returns (``x, state = normal(state)``), so the compiled kernel keeps the state in
registers rather than in memory. Seeds come from ``engine.rng.block_seeds``; a path's stream
never depends on the block, task or worker that runs it. Uniforms take the top 53 bits (the weak
low bits of xoshiro256+ are discarded).

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
_ZERO_STATE_REPLACEMENT = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio, any non-zero

# Tables are rows of a (K, 3, N + 1) array (rows ``tables.ROW_*``); the normal's is a constant.
NORMAL_TABLES = normal_table()[0][None]
NORMAL_DF = 0.0  # the ``df`` that selects the normal density in ``ziggurat``


@jit(inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@jit(inline="always")
def next_u64(state):
    """(next 64-bit output of xoshiro256+, the advanced state)."""
    s0, s1, s2, s3 = state
    result = s0 + s3
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, (s0, s1, s2, s3)


@jit(inline="always")
def uniform(state):
    """(uniform on the open interval (0, 1) at 53-bit resolution, the advanced state)."""
    bits, state = next_u64(state)
    return ((bits >> _SHIFT_MANTISSA) + _HALF) * _TWO_POW_53_INV, state


@jit
def _tail(state, r, df, negative):
    """(a draw beyond ``r`` of the normal (df = NORMAL_DF: Marsaglia 1964) or of Student-t
    (rejection from the Pareto envelope x^-(df+1)), with the given sign; the state)."""
    while True:
        u1, state = uniform(state)
        u2, state = uniform(state)
        if df == NORMAL_DF:
            a = -math.log(u1) / r
            if -2.0 * math.log(u2) > a * a:
                x = r + a
                break
        else:
            x = r * u1 ** (-1.0 / df)
            if u2 < (x * x / (df + x * x)) ** ((df + 1.0) / 2.0):
                break
    return (-x if negative else x), state


@jit(refcounted=False)
def _ziggurat_slow(state, tables, k, layer, u, df):
    """The ziggurat's rare cases (about 1% of draws): the tail (layer 0) or the wedge of a
    layer. Returns (the draw, or NaN when the point is rejected; the state)."""
    if layer == 0:
        return _tail(state, tables[k, ROW_X, 1], df, u < 0.0)
    z = u * tables[k, ROW_X, layer]
    if df == NORMAL_DF:
        density = math.exp(-0.5 * z * z)
    else:
        density = (1.0 + z * z / df) ** (-(df + 1.0) / 2.0)
    f_outer = tables[k, ROW_F, layer]
    v, state = uniform(state)
    if f_outer + v * (tables[k, ROW_F, layer + 1] - f_outer) < density:
        return z, state
    return np.nan, state


@jit(inline="always")
def ziggurat(state, tables, k, df):
    """(a draw from the density of table ``tables[k]``, the state): the standard normal when
    ``df`` is NORMAL_DF, else Student-t with ``df`` degrees of freedom (variance df/(df-2))."""
    while True:
        bits, state = next_u64(state)
        layer = (bits >> _SHIFT_LAYER) & _LAYER_MASK
        u = ((bits >> _SHIFT_MANTISSA) + _HALF) * _TWO_POW_52_INV - 1.0  # (-1, 1)
        if abs(u) < tables[k, ROW_RATIO, layer]:
            return u * tables[k, ROW_X, layer], state
        # np.int64(k): a literal k would compile a second copy of the slow path
        z, state = _ziggurat_slow(state, tables, np.int64(k), layer, u, df)
        if z == z:
            return z, state


@jit(inline="always")
def normal(state):
    """(a standard normal, the state)."""
    return ziggurat(state, NORMAL_TABLES, 0, NORMAL_DF)


@jit(refcounted=False)
def seed_state(seeds, path):
    """The state seeded from row ``path`` of ``seeds`` (uint64 (n, 4)); an all-zero row (a state
    xoshiro cannot leave) is replaced by a fixed non-zero one."""
    s0, s1, s2, s3 = seeds[path, 0], seeds[path, 1], seeds[path, 2], seeds[path, 3]
    if s0 == 0 and s1 == 0 and s2 == 0 and s3 == 0:
        s0 = _ZERO_STATE_REPLACEMENT
    return s0, s1, s2, s3
