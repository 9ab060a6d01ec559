"""Constant-pace regimes: the swept or searched monthly pace in place of a regime's own."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..config import Config, from_plain
from ..errors import InputError

MAX_PACES = 64  # paces of one sweep: its joint counts grow as the square of this
PACE_SUFFIX = "bn/month"


class PaceError(InputError):
    """A pace list or range that cannot be used."""


def parse_paces(text: str, option: str = "--pace") -> np.ndarray:
    """Paces in $bn/month from ``"LOW:HIGH:STEP"`` (HIGH included when the steps reach it) or a
    comma list ``"10,20,45"``: float64 (P,), ascending and distinct."""
    grid = ":" in text
    try:
        numbers = [float(x) for x in text.split(":" if grid else ",")]
    except ValueError:
        numbers = []
    if not numbers or (grid and len(numbers) != 3):
        raise PaceError(f"{option} {text}: expected LOW:HIGH:STEP or a comma list of $bn/month")
    _finite(option, text, *numbers)
    if grid:
        low, high, step = numbers
        if step <= 0 or high < low:
            raise PaceError(f"{option} {text}: needs STEP > 0 and HIGH >= LOW")
        count = math.floor((high - low) / step + 1e-9) + 1
        if count > MAX_PACES:
            raise PaceError(f"{option} {text}: {count} paces, at most {MAX_PACES}")
        numbers = low + step * np.arange(count)
    paces = np.round(np.asarray(numbers, dtype=float), 9)
    if len(np.unique(paces)) != len(paces):
        raise PaceError(f"{option} {text}: paces must be distinct")
    if len(paces) > MAX_PACES:
        raise PaceError(f"{option} {text}: {len(paces)} paces, at most {MAX_PACES}")
    return np.sort(paces)


def parse_range(text: str, option: str) -> tuple[float, float]:
    """``"LOW:HIGH"`` in $bn/month, LOW < HIGH."""
    try:
        low, high = (float(x) for x in text.split(":"))
    except ValueError:
        low = high = None
    if low is None:
        raise PaceError(f"{option} {text}: expected LOW:HIGH in $bn/month")
    _finite(option, text, low, high)
    if not low < high:
        raise PaceError(f"{option} {text}: needs LOW < HIGH")
    return low, high


def _finite(option: str, text: str, *values: float) -> None:
    if not all(math.isfinite(v) for v in values):
        raise PaceError(f"{option} {text}: paces must be finite numbers")


def pace_label(pace: float) -> str:
    """A regime name for ``pace``: ``"45"``, ``"12.5"``."""
    return f"{pace:g}"


def pace_regime(pace: float, base: dict[str, Any] | None) -> dict[str, Any]:
    """The config table of a regime buying ``pace`` $bn every month.

    ``base`` None: no other rule (no reaction, no switch, no emergency purchases). Otherwise
    ``base``'s table with every scheduled pace (``pace_bn`` and ``then_pace_bn``) replaced by
    ``pace``: its state-dependent rules (reactions, emergency purchases) stay. Never weighted.
    """
    table = {"pace_bn": float(pace)}
    if base is not None:
        table = {k: v for k, v in base.items() if k != "weight"} | table
        if "then_pace_bn" in base:
            table["then_pace_bn"] = float(pace)
    return table


def with_paces(config: Config, paces, regime: str | None = None) -> Config:
    """``config`` with one regime per pace (named by ``pace_label``), all of them simulated;
    ``regime``: the regime whose rules the paces keep (see ``pace_regime``)."""
    plain = config.to_dict()
    base = None
    if regime is not None:
        if regime not in plain["regimes"]:
            known = ", ".join(plain["regimes"])
            raise PaceError(f"--regime {regime}: no such regime in the config ({known})")
        base = plain["regimes"][regime]
    plain["regimes"] = {pace_label(p): pace_regime(p, base) for p in paces}
    plain["simulation"].pop("regimes", None)  # all of them
    return from_plain(plain, source=config.source)
