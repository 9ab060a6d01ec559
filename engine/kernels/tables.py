"""Tables the kernels read: ziggurat tables for symmetric, unimodal densities (the standard
normal and Student-t), and the Student-t tail table of the conditional estimator.

A table has ``ZIGGURAT_LAYERS`` layers of equal area V under the unnormalized density f
(f(0) = 1): the base layer is the rectangle [0, x1] × [0, f(x1)] plus the tail beyond
R = x1, and the layer i ≥ 1 spans [0, x_i] × [f(x_i), f(x_{i+1})], with x_N = 0. Rows of the
returned float64 (3, N + 1) array: x (x_0 = V / f(R)), x_{i+1} / x_i (last entry 0) and f(x).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

ZIGGURAT_LAYERS = 256
ROW_X, ROW_RATIO, ROW_F = range(3)
_BISECTION_STEPS = 200  # at most; the bracket reaches adjacent floats in about 60


def ziggurat_table(
    f: Callable[[float], float],
    f_inverse: Callable[[float], float],
    tail_area: Callable[[float], float],
    r_bracket: tuple[float, float],
    layers: int = ZIGGURAT_LAYERS,
) -> tuple[np.ndarray, float]:
    """The table of density ``f`` and the height its top layer reaches (1 when it closes).

    R is found by bisection in ``r_bracket`` so that the N layers reach f(0) = 1 exactly.
    """

    def edges(r: float):
        v = r * f(r) + tail_area(r)
        x = [v / f(r), r]
        for _ in range(2, layers):
            height = v / x[-1] + f(x[-1])
            if height >= 1.0:
                return None, v, height  # layers too fat: R too small
            x.append(f_inverse(height))
        return x, v, v / x[-1] + f(x[-1])

    low, high = r_bracket
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (low + high)
        if mid in (low, high):
            break  # the bracket is two adjacent floats: R is found
        x, _, top = edges(mid)
        if x is None or top > 1.0:
            low = mid
        else:
            high = mid
    x, _, top = edges(high)
    x = np.array([*x, 0.0])
    table = np.empty((3, layers + 1))
    table[ROW_X] = x
    table[ROW_RATIO, :-1] = x[1:] / x[:-1]
    table[ROW_RATIO, -1] = 0.0
    table[ROW_F] = [f(value) for value in x]
    return table, top


def normal_table(layers: int = ZIGGURAT_LAYERS) -> tuple[np.ndarray, float]:
    """Table of exp(-x²/2); R ≈ 3.6541528853610088 for 256 layers."""
    return ziggurat_table(
        f=lambda x: math.exp(-0.5 * x * x),
        f_inverse=lambda y: math.sqrt(-2.0 * math.log(y)),
        tail_area=lambda r: math.sqrt(math.pi / 2.0) * math.erfc(r / math.sqrt(2.0)),
        r_bracket=(1.0, 10.0),
        layers=layers,
    )


def student_t_table(df: float, layers: int = ZIGGURAT_LAYERS) -> tuple[np.ndarray, float]:
    """Table of the Student-t density with ``df`` degrees of freedom, (1 + x²/df)^(-(df+1)/2)."""
    from scipy.special import stdtr

    power = -(df + 1.0) / 2.0
    peak = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    return ziggurat_table(
        f=lambda x: (1.0 + x * x / df) ** power,
        f_inverse=lambda y: math.sqrt(df * (y ** (1.0 / power) - 1.0)),
        tail_area=lambda r: stdtr(df, -r) / peak,
        r_bracket=(1.0, 1e6),
        layers=layers,
    )


TAIL_INTERVALS = 4096  # cubic Hermite pieces of ``tail_table`` on s ∈ [-1, 1] (error < 1e-12)


def tail_table(df: float, intervals: int = TAIL_INTERVALS) -> np.ndarray:
    """The survival function of Student's t with ``df`` degrees of freedom (df > 1; ∞: the
    standard normal) on a uniform grid of s = sign(x) (1 − 1/√(1 + |x|)) ∈ [-1, 1]: float64
    (intervals + 1, 2), the value and its derivative d/ds, for cubic Hermite interpolation
    (``conditional.tail_probability``). In s the tail is a power 2 df ≥ 4 of (1 − |s|), smooth
    enough for the cubic's error to stay below 1e-12 for every df > 2 (tested). ``intervals``
    is even, so that s = 0 (where d²x/ds² jumps) is a node."""
    from scipy import stats

    if intervals % 2:
        raise ValueError(f"intervals must be even, got {intervals}")
    if not df > 1.0:
        raise ValueError(f"df must be > 1, got {df}")
    s = np.linspace(-1.0, 1.0, intervals + 1)
    inside = np.abs(s) < 1.0
    root = 1.0 - np.abs(s[inside])  # 1/√(1 + |x|)
    x = np.sign(s[inside]) * (1.0 / root**2 - 1.0)
    dist = stats.norm() if math.isinf(df) else stats.t(df)
    table = np.zeros((intervals + 1, 2))
    table[0, 0] = 1.0  # s = -1: x = -∞
    table[inside, 0] = dist.sf(x)
    table[inside, 1] = -dist.pdf(x) * 2.0 / root**3  # dx/ds = 2 / (1 − |s|)³
    return table  # at s = ±1 the derivative is 0 for df > 1
