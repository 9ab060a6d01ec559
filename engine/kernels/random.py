"""Per-path random streams: xoshiro256+ seeded from SeedSequence words, and exact variates.

Each path owns a 4-word xoshiro256+ state (``state``, uint64 (4,)) seeded from
``engine.rng.block_seeds``; a path's stream never depends on the block, task or worker that
runs it. Uniforms take the top 53 bits (the weak low bits of xoshiro256+ are discarded).

Variates are exact (no approximation beyond floating point): normals by a 256-layer ziggurat
(Marsaglia & Tsang 2000, with Doornik's 2005 symmetric layout and Marsaglia's exact tail);
Student-t as a normal over the root of an independent chi-square, the chi-square built from
uniforms (and one squared normal for odd degrees) for integer degrees up to
``MAX_EXACT_CHI2_DF``, and by Bailey's (1994) polar method otherwise.
"""

from __future__ import annotations

import math

import numpy as np

from ..accelerate import jit

_TWO_POW_53_INV = 1.0 / 9007199254740992.0  # 2**-53: one unit of a 53-bit mantissa
_TWO_POW_52_INV = 2.0 * _TWO_POW_53_INV
_SHIFT_MANTISSA = np.uint64(11)  # 64 − 53 bits dropped
_SHIFT_LAYER = np.uint64(3)  # layer index from bits 3..10 (disjoint from the mantissa bits)
_HALF = 0.5
MAX_EXACT_CHI2_DF = 10  # integer degrees of freedom built from uniforms (≤ 5 per draw)

# ---- ziggurat tables (256 layers of equal area under exp(-x²/2)) ----------------------------
ZIGGURAT_LAYERS = 256
ZIGGURAT_R = 3.6541528853610088  # right edge of the base layer (Marsaglia & Tsang 2000)
_LAYER_MASK = np.uint64(ZIGGURAT_LAYERS - 1)


def _ziggurat_tables(layers: int = ZIGGURAT_LAYERS, r: float = ZIGGURAT_R):
    """Layer right edges x (float64 (layers+1,)) and ratios x[i+1]/x[i] (float64 (layers,)).

    Returns also the common layer area v and the height the top layer reaches (1 when the
    table closes exactly).
    """

    def f(x):
        return math.exp(-0.5 * x * x)

    v = r * f(r) + math.sqrt(math.pi / 2.0) * math.erfc(r / math.sqrt(2.0))
    x = np.empty(layers + 1)
    x[0] = v / f(r)
    x[1] = r
    for i in range(2, layers):
        x[i] = math.sqrt(-2.0 * math.log(v / x[i - 1] + f(x[i - 1])))
    top = v / x[layers - 1] + f(x[layers - 1])
    x[layers] = 0.0
    return x, x[1:] / x[:-1], v, top


ZIGGURAT_X, ZIGGURAT_RATIO, ZIGGURAT_V, ZIGGURAT_TOP = _ziggurat_tables()


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
def _normal_tail(state, negative):
    """A standard normal conditioned on |z| > R (Marsaglia 1964), with the given sign."""
    while True:
        a = -math.log(uniform(state)) / ZIGGURAT_R
        b = -math.log(uniform(state))
        if b + b > a * a:
            return -(ZIGGURAT_R + a) if negative else ZIGGURAT_R + a


@jit
def _normal_slow(state, layer, u):
    """The ziggurat's rare cases (about 1% of draws): the wedge of layer ``layer`` at ``u``,
    the tail beyond R, or a rejection (NaN: draw again)."""
    if layer == 0:
        return _normal_tail(state, u < 0.0)
    x = ZIGGURAT_X
    z = u * x[layer]
    f_outer = math.exp(-0.5 * (x[layer] * x[layer] - z * z))
    f_inner = math.exp(-0.5 * (x[layer + 1] * x[layer + 1] - z * z))
    if f_outer + uniform(state) * (f_inner - f_outer) < 1.0:
        return z
    return np.nan


@jit(inline="always")
def normal(state):
    """A standard normal (ziggurat: one 64-bit draw ~99% of the time)."""
    while True:
        bits = next_u64(state)
        layer = (bits >> _SHIFT_LAYER) & _LAYER_MASK
        u = ((bits >> _SHIFT_MANTISSA) + _HALF) * _TWO_POW_52_INV - 1.0  # (-1, 1)
        if abs(u) < ZIGGURAT_RATIO[layer]:
            return u * ZIGGURAT_X[layer]
        z = _normal_slow(state, layer, u)
        if z == z:
            return z


@jit
def _bailey_t(state, df):
    """Student-t with ``df`` degrees of freedom (Bailey's polar method)."""
    while True:
        u = 2.0 * uniform(state) - 1.0
        v = 2.0 * uniform(state) - 1.0
        w = u * u + v * v
        if 0.0 < w < 1.0:
            return u * math.sqrt(df * (w ** (-2.0 / df) - 1.0) / w)


@jit(inline="always")
def student_t_unit(state, df):
    """Student-t with ``df`` > 2 degrees of freedom, scaled to unit variance:
    z * sqrt((df - 2) / chi2) with z normal and chi2 a chi-square with ``df`` degrees."""
    whole = int(df)
    if whole == df and whole <= MAX_EXACT_CHI2_DF:
        z = 0.0
        chi2 = 0.0
        for i in range(1 + whole % 2):  # z, then a squared normal for odd degrees
            g = normal(state)
            if i == 0:
                z = g
            else:
                chi2 = g * g
        product = 1.0
        for _ in range(whole // 2):
            product *= uniform(state)
        chi2 -= 2.0 * math.log(product)
        return z * math.sqrt((df - 2.0) / chi2)
    return _bailey_t(state, df) * math.sqrt((df - 2.0) / df)


@jit
def seed_state(seeds, path, state):
    """Load path ``path``'s four seed words into ``state``; an all-zero state (which xoshiro
    cannot leave) is replaced by a fixed non-zero one."""
    for i in range(4):
        state[i] = seeds[path, i]
    if state[0] == 0 and state[1] == 0 and state[2] == 0 and state[3] == 0:
        state[0] = np.uint64(0x9E3779B97F4A7C15)
