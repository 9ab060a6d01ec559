"""The kinds of result file the commands write, told apart by one global attribute.

``rmp-risk run`` writes a cube (dimension ``regime``); ``sweep`` a cube whose regimes are
monthly paces (dimension ``pace``); ``required-pace`` and ``sensitivity`` small datasets of
their own (see their modules). ``report`` draws whatever it is given.
"""

from __future__ import annotations

import xarray as xr

from .errors import InputError

PRODUCT_ATTR = "rmp_risk_product"
CUBE = "cube"
SWEEP = "sweep"
REQUIRED_PACE = "required_pace"
SENSITIVITY = "sensitivity"
PRODUCTS = (CUBE, SWEEP, REQUIRED_PACE, SENSITIVITY)
PACE_UNITS = "1e9"  # per month, in US dollars (said in long_name): UDUNITS has no currency
PACE_WORDS = "billions of US dollars per month"


class NotAProductError(InputError):
    """A dataset that is none of the engine's results."""


def product_of(ds: xr.Dataset, source: str = "dataset") -> str:
    """The kind of result ``ds`` is (one of ``PRODUCTS``); a cube written before the attribute
    existed is recognised by its ``regime`` dimension. NotAProductError names ``source``."""
    kind = ds.attrs.get(PRODUCT_ATTR)
    if kind is None and "regime" in ds.dims and "event_count" in ds:
        return CUBE
    if kind not in PRODUCTS:
        raise NotAProductError(f"{source}: not an rmp-risk result (no {PRODUCT_ATTR} attribute)")
    return str(kind)
