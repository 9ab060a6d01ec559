"""Exact sums of non-negative float64 weights: fixed-point integers in 30-bit limbs.

A weight w ≥ 0 is the integer F = round-down(w · 2^FRACTION_BITS), held as N_LIMBS int64 limbs of
LIMB_BITS bits each (limb k holds bits [k LIMB_BITS, (k + 1) LIMB_BITS) of F). Sums add limb by
limb, so they are exact and do not depend on the order of the terms: the same total however the
paths are split between blocks, tasks and workers. A limb takes at most 2^LIMB_BITS − 1 per term,
so it cannot overflow before 2^(63 − LIMB_BITS) ≈ 8.6e9 terms (the engine's 1e9 paths are well
inside). Weights from 2^-FRACTION_BITS (≈ 8e-28) to 2^(N_LIMBS LIMB_BITS − FRACTION_BITS)
(≈ 1.2e18) are held; bits below the resolution are dropped (deterministically).
"""

from __future__ import annotations

import math

import numpy as np

from ..accelerate import jit
from .layout import FRACTION_BITS, LIMB_BITS, N_LIMBS

MANTISSA_BITS = 53  # of a float64, the hidden bit included
LIMB_MASK = np.uint64((1 << LIMB_BITS) - 1)
WORD_BITS = 64
MAX_WEIGHT = 2.0 ** (N_LIMBS * LIMB_BITS - FRACTION_BITS)


@jit(inline="always")
def add_fixed(limbs, w):
    """Add weight ``w`` (float64, 0 ≤ w < MAX_WEIGHT) to ``limbs`` (int64 (N_LIMBS,)) exactly."""
    if w <= 0.0:
        return
    mantissa, exponent = math.frexp(w)  # w = mantissa · 2^exponent, 0.5 ≤ mantissa < 1
    m = np.uint64(math.ldexp(mantissa, MANTISSA_BITS))  # an integer below 2^53
    shift = exponent - MANTISSA_BITS + FRACTION_BITS  # F = m · 2^shift
    for k in range(N_LIMBS):
        right = k * LIMB_BITS - shift  # limb k holds bits right .. right + LIMB_BITS of m
        if right >= WORD_BITS or right <= -LIMB_BITS:
            continue
        if right >= 0:
            part = m >> np.uint64(right)
        else:
            part = m << np.uint64(-right)
        limbs[k] += np.int64(part & LIMB_MASK)


def fixed_to_int(limbs: np.ndarray) -> np.ndarray:
    """The exact integers F of limb arrays (int64 (..., N_LIMBS)), as Python ints (object)."""
    flat = limbs.reshape(-1, N_LIMBS)
    out = np.empty(flat.shape[0], dtype=object)
    for i, row in enumerate(flat):
        out[i] = sum(int(limb) << (k * LIMB_BITS) for k, limb in enumerate(row))
    return out.reshape(limbs.shape[:-1])


def fixed_to_float(limbs: np.ndarray) -> np.ndarray:
    """The sums held in limb arrays (int64 (..., N_LIMBS)) as float64 (...,), correctly rounded
    from the exact integer."""
    exact = fixed_to_int(limbs)
    out = np.array([math.ldexp(float(x), -FRACTION_BITS) for x in exact.ravel()], dtype=float)
    return out.reshape(limbs.shape[:-1])
