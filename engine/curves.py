"""The reserve-demand curve families in NumPy: f(x) = α + β h(x), x = reserves / bank assets.

Every family's shape h is normalised to h(x0) = 1 and falls as x rises (d = x − x0, λ ≥ 0):

- ``exponential``: h = exp(−λd) (MODEL.md §4's form)
- ``logistic``: h = 2 / (1 + exp(λd))
- ``double_exponential``: h = exp(1 − exp(λd))
- ``arctan``: h = 1 − (2/π) arctan(λd)

The kernels compute the same formulas (``engine.kernels.curve``); calibration fits them.
"""

from __future__ import annotations

import numpy as np

# The families, in the order of their codes (``params[P_CURVE_FAMILY]``, ``layout.CURVE_*``).
CURVE_FAMILIES = ("exponential", "logistic", "double_exponential", "arctan")

EXP_ARGUMENT_MAX = 700.0  # 1, largest exponent kept: exp(709.8) overflows float64


def shape(family: str, x, lam: float, x0: float) -> np.ndarray:
    """h(x) of ``family`` (1), elementwise over ``x`` (any shape); exponents are clipped to
    ±`EXP_ARGUMENT_MAX`."""
    d = lam * (np.asarray(x, dtype=float) - x0)
    clipped = np.clip(d, -EXP_ARGUMENT_MAX, EXP_ARGUMENT_MAX)
    if family == "exponential":
        return np.exp(-clipped)
    if family == "logistic":
        return 2.0 / (1.0 + np.exp(clipped))
    if family == "double_exponential":
        return np.exp(1.0 - np.exp(clipped))
    if family == "arctan":
        return 1.0 - (2.0 / np.pi) * np.arctan(d)
    raise ValueError(f"unknown demand-curve family {family!r} (one of {CURVE_FAMILIES})")


def curve(family: str, x, alpha: float, beta: float, lam: float, x0: float) -> np.ndarray:
    """f(x) = α + β h(x) in bp, elementwise over ``x``."""
    return alpha + beta * shape(family, x, lam, x0)
