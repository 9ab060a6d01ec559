"""Ziggurat tables for symmetric, unimodal densities: the standard normal and Student-t.

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
