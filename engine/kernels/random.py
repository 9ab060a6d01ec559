"""Per-path random streams: xoshiro256+ seeded from SeedSequence words, and exact variates.

Each path owns a 4-word xoshiro256+ state (``state``, uint64 (4,)) seeded from
``engine.rng.block_seeds``; a path's stream never depends on the block, task or worker that
runs it. Uniforms take the top 53 bits (the weak low bits of xoshiro256+ are discarded).
"""

from __future__ import annotations

import math

import numpy as np

from ..accelerate import jit

_TWO_POW_53_INV = 1.0 / 9007199254740992.0  # 2**-53: 53-bit mantissa of a double
_SHIFT_MANTISSA = np.uint64(11)  # 64 − 53 bits dropped
_HALF = 0.5


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


@jit(inline="always")
def _unit_disc_point(state):
    """A point uniform in the unit disc minus its centre: (u, v, u² + v²)."""
    while True:
        u = 2.0 * uniform(state) - 1.0
        v = 2.0 * uniform(state) - 1.0
        w = u * u + v * v
        if 0.0 < w < 1.0:
            return u, v, w


@jit(inline="always")
def normal_pair(state):
    """Two independent standard normals (Marsaglia's polar method)."""
    u, v, w = _unit_disc_point(state)
    scale = math.sqrt(-2.0 * math.log(w) / w)
    return u * scale, v * scale


@jit(inline="always")
def student_t_unit(state, df):
    """Student-t with ``df`` > 2 degrees of freedom, scaled to unit variance (Bailey's polar
    method: exact)."""
    u, _, w = _unit_disc_point(state)
    t = u * math.sqrt(df * (w ** (-2.0 / df) - 1.0) / w)
    return t * math.sqrt((df - 2.0) / df)


@jit(inline="always")
def seed_state(seeds, path, state):
    """Load path ``path``'s four seed words into ``state``; an all-zero state (which xoshiro
    cannot leave) is replaced by a fixed non-zero one."""
    for i in range(4):
        state[i] = seeds[path, i]
    if state[0] == 0 and state[1] == 0 and state[2] == 0 and state[3] == 0:
        state[0] = np.uint64(0x9E3779B97F4A7C15)
