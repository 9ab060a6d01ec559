"""Random streams: the generator's algorithm, its variates' distributions, and seeding.

Statistical checks use fixed seeds; tolerances are stated in standard errors (SE) or as the
KS statistic's critical value at level 1e-3 (1.95 / sqrt(n)).
"""

import math

import numpy as np
import pytest
from numba import njit
from scipy import stats

from engine.kernels.random import next_u64, normal, uniform, ziggurat
from engine.kernels.tables import student_t_table
from engine.rng import PATH_STREAM, WORDS_PER_PATH, block_seeds, plan_blocks

N = 200_000
TOL_SE = 4.0
KS_CRITICAL = 1.95 / math.sqrt(N)
MASK = (1 << 64) - 1


def xoshiro256plus_reference(state, n):
    """The published xoshiro256+ algorithm on Python integers."""
    s = [int(x) for x in state]
    out = []
    for _ in range(n):
        out.append((s[0] + s[3]) & MASK)
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = ((s[3] << 45) | (s[3] >> 19)) & MASK
    return out


@njit
def _raw(seed, n):
    state = (seed[0], seed[1], seed[2], seed[3])
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        out[i], state = next_u64(state)
    return out


@njit
def _uniforms(seed, n):
    state = (seed[0], seed[1], seed[2], seed[3])
    out = np.empty(n)
    for i in range(n):
        out[i], state = uniform(state)
    return out


@njit
def _normals(seed, n):
    state = (seed[0], seed[1], seed[2], seed[3])
    out = np.empty(n)
    for i in range(n):
        out[i], state = normal(state)
    return out


@njit
def _student(seed, n, tables, df):
    state = (seed[0], seed[1], seed[2], seed[3])
    out = np.empty(n)
    for i in range(n):
        out[i], state = ziggurat(state, tables, 0, df)
    return out


def _state(seed=1):
    return block_seeds(seed, 0, 1)[0].copy()


def test_generator_is_xoshiro256plus():
    state = _state()
    expected = xoshiro256plus_reference(state, 50)
    assert [int(x) for x in _raw(state, 50)] == expected


def test_uniform_moments_and_ks():
    u = _uniforms(_state(2), N)
    assert ((u > 0) & (u < 1)).all()
    assert abs(u.mean() - 0.5) < TOL_SE * math.sqrt(1 / 12 / N)
    var_se = math.sqrt((1 / 80 - 1 / 144) / N)  # Var of (u - 1/2)^2 is 1/80 - 1/144
    assert abs(u.var() - 1 / 12) < TOL_SE * var_se
    assert stats.kstest(u, "uniform").statistic < KS_CRITICAL


@pytest.mark.parametrize("df", [None, 3.0, 4.0, 2.5, 12.0])
def test_ziggurat_tables_close(df):
    """Every layer has the base layer's area and the top layer reaches the density's peak."""
    from engine.kernels.tables import normal_table

    table, top = normal_table() if df is None else student_t_table(df)
    assert abs(top - 1.0) < 1e-12
    x, f = table[0], table[2]
    base = x[0] * f[1]  # the base layer's rectangle-plus-tail, as a rectangle of width x0
    areas = x[1:-1] * (f[2:] - f[1:-1])
    np.testing.assert_allclose(areas[:-1], base, rtol=1e-11)
    if df is None:
        assert x[1] == pytest.approx(3.6541528853610088, rel=1e-14)  # Marsaglia & Tsang's R


def test_normals_are_independent_standard_normals():
    z = _normals(_state(3), 2 * N)
    assert abs(z.mean()) < TOL_SE / math.sqrt(2 * N)
    assert abs(z.var() - 1) < TOL_SE * math.sqrt(2 / (2 * N))
    assert stats.kstest(z, "norm").statistic < 1.95 / math.sqrt(2 * N)
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < TOL_SE / math.sqrt(2 * N)


@pytest.mark.parametrize("threshold", [1.0, 2.5, 3.6541528853610088, 4.5])
def test_normal_tails_including_the_ziggurat_tail(threshold):
    """P(|Z| > c) as a binomial proportion, on both sides of the base layer's edge R."""
    n = 4_000_000
    z = _normals(_state(5), n)
    p = 2 * stats.norm.sf(threshold)
    observed = (np.abs(z) > threshold).mean()
    assert abs(observed - p) < TOL_SE * math.sqrt(p * (1 - p) / n)
    assert abs((z > threshold).mean() - p / 2) < TOL_SE * math.sqrt(p / 2 * (1 - p / 2) / n)


@pytest.mark.parametrize("df", [3.0, 4.0, 5.0, 2.5, 12.0])
def test_student_t_has_unit_variance_shape(df):
    scale = math.sqrt((df - 2) / df)
    x = _student(_state(4), N, student_t_table(df)[0][None], df) * scale
    assert stats.kstest(x, stats.t(df, scale=scale).cdf).statistic < KS_CRITICAL
    # the tail: P(|X| > 3) of the scaled t, as a binomial proportion
    p_tail = 2 * stats.t(df, scale=scale).sf(3.0)
    observed = (np.abs(x) > 3.0).mean()
    assert abs(observed - p_tail) < TOL_SE * math.sqrt(p_tail * (1 - p_tail) / N)


def test_block_seeds_are_reproducible_and_distinct():
    a = block_seeds(11, 5, 64)
    assert a.shape == (64, 4) and a.dtype == np.uint64
    assert np.array_equal(a, block_seeds(11, 5, 64))
    assert not np.array_equal(a, block_seeds(11, 6, 64))
    assert not np.array_equal(a, block_seeds(12, 5, 64))
    assert len({tuple(row) for row in a}) == 64


@pytest.mark.parametrize(
    "seed, block, block_size", [(11, 5, 64), (0, 0, 1), (2**64 - 1, 123_456, 3), (7, 9, 2048)]
)
def test_block_seeds_are_numpys_seed_sequence_words(seed, block, block_size):
    sequence = np.random.SeedSequence(seed, spawn_key=(PATH_STREAM, block))
    expected = sequence.generate_state(block_size * WORDS_PER_PATH, dtype=np.uint64)
    assert np.array_equal(block_seeds(seed, block, block_size), expected.reshape(block_size, -1))


def test_partial_block_is_a_prefix_of_the_full_block():
    assert np.array_equal(block_seeds(3, 2, 64, 10), block_seeds(3, 2, 64)[:10])
    with pytest.raises(ValueError):
        block_seeds(3, 2, 64, 65)


def test_plan_blocks():
    assert plan_blocks(10, 4) == [(0, 4), (1, 4), (2, 2)]
    assert plan_blocks(8, 4) == [(0, 4), (1, 4)]
    assert plan_blocks(3, 4) == [(0, 3)]


@pytest.mark.parametrize("df", [3.0, 4.0])
def test_student_t_tail_beyond_the_base_layer(df):
    """P(X > R) and P(X > 2R) for the table's R: the Pareto-envelope tail sampler."""
    n = 2_000_000
    table = student_t_table(df)[0]
    r = table[0, 1]
    x = _student(_state(6), n, table[None], df)
    for c in (r, 2 * r):
        p = stats.t(df).sf(c)
        assert abs((x > c).mean() - p) < TOL_SE * math.sqrt(p * (1 - p) / n)
        assert abs((x < -c).mean() - p) < TOL_SE * math.sqrt(p * (1 - p) / n)
