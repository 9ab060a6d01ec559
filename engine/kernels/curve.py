"""The reserve-demand curve's shape h(x), for every family (``engine.curves.CURVE_FAMILIES``).

f(x) = α + β h(x) is the spread (bp) at reserve ratio x; h also scales the calendar effects and
part of the spread noise. Every family is normalised to h(x0) = 1 and falls as x rises.
"""

from __future__ import annotations

import math

from ..accelerate import jit
from . import layout as L

TWO_OVER_PI = 2.0 / math.pi  # arctan family: maps arctan's (−π/2, π/2) onto h in (0, 2)


@jit(inline="always")
def curve_shape(family, lam, gap):
    """h at ``gap`` = x − x0 for the steepness ``lam`` (1) of curve ``family``
    (``layout.CURVE_*``): exponential exp(−λd), logistic 2 / (1 + exp(λd)), double exponential
    exp(1 − exp(λd)), arctan 1 − (2/π) arctan(λd)."""
    if family == L.CURVE_EXPONENTIAL:
        return math.exp(-lam * gap)
    if family == L.CURVE_LOGISTIC:
        return 2.0 / (1.0 + math.exp(lam * gap))
    if family == L.CURVE_DOUBLE_EXPONENTIAL:
        return math.exp(1.0 - math.exp(lam * gap))
    return 1.0 - TWO_OVER_PI * math.atan(lam * gap)
