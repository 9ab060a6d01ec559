"""``rmp-risk sensitivity``: how the headline odds move between a low and a high value of each
parameter, on common random numbers, sorted by effect (a tornado).

The headline is P(at least one event day within the first W months) for one regime or the
prior-weighted mixture. Every variant runs on the same paths and seed; the standard error of a
difference comes from paired batches of 64 paths (batch means: the batches are independent).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..config import Config, ConfigError, from_plain
from ..cube import global_attrs
from ..errors import InputError
from ..products import PRODUCT_ATTR, SENSITIVITY
from ..schedule import build_schedule
from .odds import (
    MIXTURE,
    batch_stderr_of_difference,
    check_within,
    event_index,
    headline_weights,
    window,
)
from .variants import Variants, variants

PERCENT = 100.0
NOT_MODEL_TABLES = ("simulation", "output", "uncertainty")  # not model parameters
# The default list: (key, how far to move it). "se": ± this many standard errors of the fit
# (the config's [[uncertainty.block]] covariances; ±20% of the value where a key has none),
# never more than half the value; "abs": ± an absolute step in the key's unit; "rel": ± a share
# of the value; "range": the two ends of a key the config draws per path from a range.
DEFAULT_VARIES = (
    ("demand_curve.x0", "abs", 0.01),  # the curve's knee: held, not identified by the fit [J]
    ("demand_curve.lambda", "se", 2.0),
    ("demand_curve.beta_bp", "se", 2.0),
    ("spread.noise_sd1_bp", "se", 2.0),
    ("spread.jump_p0", "se", 2.0),
    ("srf.takeup_bn_per_bp", "se", 2.0),
    ("srf.leak", "abs", 0.1),  # ω: one published reading [J]
    ("tga.daily_sd_bn", "rel", 0.2),  # [J]
    ("initial.reserves_bn", "abs", 100.0),  # $bn: a weekly average's distance to a day [J]
    ("on_rrp.base_bn", "range", None),
    ("bank_assets.growth_per_year", "range", None),
    ("currency.growth_per_year", "range", None),
)
FALLBACK_SHARE = 0.2  # "se" without a fitted covariance: ± this share of the value [J]
MAX_SHARE = 0.5  # no default step moves a value by more than this share of it [J]


class SensitivityError(InputError):
    """A ``--vary`` the sensitivity cannot run."""


@dataclass(frozen=True)
class Vary:
    """A config key (dotted) run at ``low`` and ``high``; ``base`` is its value in the config
    (the middle of its range for a key drawn per path)."""

    key: str
    low: float
    high: float
    base: float


def parse_vary(text: str, config: Config) -> Vary:
    """``"section.key=LOW:HIGH"`` → a Vary, checked against ``config``."""
    key, sep, values = text.partition("=")
    try:
        low, high = (float(v) for v in values.split(":"))
    except ValueError:
        sep = ""
    if not sep:
        raise SensitivityError(
            f"--vary {text}: expected KEY=LOW:HIGH, e.g. demand_curve.x0=0.11:0.13"
        )
    if not (math.isfinite(low) and math.isfinite(high)):
        raise SensitivityError(f"--vary {text}: LOW and HIGH must be finite numbers")
    base = _base_value(config, key.strip())
    return Vary(key.strip(), low, high, base)


def default_varies(config: Config) -> list[Vary]:
    """The default list (``DEFAULT_VARIES``) for ``config``."""
    errors = _fitted_stderrs(config)
    out = []
    for key, how, size in DEFAULT_VARIES:
        value = _lookup(config.to_dict(), key)
        if how == "range":
            if not isinstance(value, list) or value[0] == value[1]:
                continue  # a fixed value: nothing to vary between
            out.append(Vary(key, float(value[0]), float(value[1]), (value[0] + value[1]) / 2))
            continue
        base = _base_value(config, key)
        if how == "abs":
            step = size
        elif how == "rel":
            step = size * abs(base)
        else:
            step = size * errors[key] if key in errors else FALLBACK_SHARE * abs(base)
        step = min(step, MAX_SHARE * abs(base)) if base else step
        out.append(Vary(key, base - step, base + step, base))
    return out


def with_value(config: Config, key: str, value: float) -> Config:
    """``config`` with ``key`` set to ``value`` (a range becomes that fixed value); an
    ``[[uncertainty.block]]`` that draws the key is re-centred on it. Validated like a file."""
    plain = config.to_dict()
    _check_key(plain, key)
    *path, last = key.split(".")
    table = plain
    for part in path:
        table = table[part]
    table[last] = float(value) if not isinstance(table[last], int) else _integer(key, value)
    for block in plain.get("uncertainty", {}).get("block", []):
        if key in block["keys"]:
            block["mean"][block["keys"].index(key)] = float(value)
    try:
        return from_plain(plain, source=config.source)
    except ConfigError as err:
        raise SensitivityError(f"--vary {key}={value:g}: {err}") from None


def _integer(key: str, value: float) -> int:
    if value != int(value):
        raise SensitivityError(f"--vary {key}: takes whole numbers, got {value:g}")
    return int(value)


def _lookup(plain: dict[str, Any], key: str) -> Any:
    table: Any = plain
    for part in key.split("."):
        if not isinstance(table, dict) or part not in table:
            raise SensitivityError(f"--vary {key}: no such config key")
        table = table[part]
    return table


def _check_key(plain: dict[str, Any], key: str) -> Any:
    if key.split(".")[0] in NOT_MODEL_TABLES:
        raise SensitivityError(f"--vary {key}: not a model parameter (vary the model's keys)")
    value = _lookup(plain, key)
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    pair = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    )
    if not (numeric or pair):
        raise SensitivityError(f"--vary {key}: not a number (or a [low, high] range)")
    return value


def _base_value(config: Config, key: str) -> float:
    value = _check_key(config.to_dict(), key)
    return float(sum(value) / 2 if isinstance(value, list) else value)


def _fitted_stderrs(config: Config) -> dict[str, float]:
    """Standard errors of the fitted keys, from the config's uncertainty blocks."""
    out = {}
    for block in config.uncertainty.block:
        for i, key in enumerate(block.keys):
            out[key] = math.sqrt(max(0.0, block.covariance[i][i]))
    return out


@dataclass
class Sensitivity:
    """The base odds and, per varied key (sorted by effect, largest first), the odds at its
    low and high value and their differences from the base with paired standard errors."""

    event: str
    within: int
    regime: str | None
    base: float
    base_stderr: float
    varies: list[Vary]
    low: np.ndarray  # probabilities (K,)
    high: np.ndarray
    low_stderr: np.ndarray  # standard errors of low − base (K,)
    high_stderr: np.ndarray
    config: Config
    run_attrs: dict[str, Any]

    def table(self) -> str:
        who = self.regime or "the prior-weighted mixture"
        lines = [
            f"P({self.event} within {self.within} months) under {who}: "
            f"{self.base * PERCENT:.2f}% ± {self.base_stderr * PERCENT:.2f}% "
            "at the config's values",
            f"{'parameter':<32}{'low':>12}{'high':>12}{'P low %':>16}{'P high %':>16}",
        ]
        for i, v in enumerate(self.varies):
            d_lo, d_hi = (self.low[i] - self.base) * PERCENT, (self.high[i] - self.base) * PERCENT
            lines.append(
                f"{v.key:<32}{v.low:>12.4g}{v.high:>12.4g}"
                f"{self.low[i] * PERCENT:>8.2f} ({d_lo:+.2f} ±{self.low_stderr[i] * PERCENT:.2f})"
                f"{self.high[i] * PERCENT:>8.2f} ({d_hi:+.2f} ±{self.high_stderr[i] * PERCENT:.2f})"
            )
        lines.append("(differences from the base, ± their paired standard errors, in points)")
        return "\n".join(lines)

    def to_dataset(self) -> xr.Dataset:
        """The result as the ``sensitivity`` dataset ``rmp-risk report`` draws."""

        def var(values, long_name, units="1"):
            return (
                "parameter",
                np.asarray(values, dtype=float),
                {"units": units, "long_name": long_name},
            )

        ds = xr.Dataset(
            {
                "low_value": var([v.low for v in self.varies], "low value of the key"),
                "high_value": var([v.high for v in self.varies], "high value of the key"),
                "base_value": var([v.base for v in self.varies], "the config's value"),
                "probability_low": var(self.low, "headline probability at the low value"),
                "probability_high": var(self.high, "headline probability at the high value"),
                "difference_low": var(self.low - self.base, "low minus base probability"),
                "difference_high": var(self.high - self.base, "high minus base probability"),
                "difference_low_stderr": var(self.low_stderr, "paired Monte Carlo standard error"),
                "difference_high_stderr": var(
                    self.high_stderr, "paired Monte Carlo standard error"
                ),
            },
            coords={
                "parameter": ("parameter", np.array([v.key for v in self.varies], dtype=object))
            },
        )
        for name in ("low_value", "high_value", "base_value"):
            ds[name].attrs["units"] = "1"
            ds[name].attrs["comment"] = "in the unit of each parameter's config key"
        ds.attrs.update(global_attrs(self.config, dict(self.run_attrs)))
        ds.attrs.update(
            {
                PRODUCT_ATTR: SENSITIVITY,
                "event": self.event,
                "within_months": self.within,
                "regime": self.regime or MIXTURE,
                "probability_base": self.base,
                "probability_base_stderr": self.base_stderr,
            }
        )
        return ds


def sensitivity(
    config: Config,
    varies: list[Vary] | None = None,
    event: str = "crisis",
    within: int | None = None,
    regime: str | None = None,
    *,
    paths: int | None = None,
    seed: int | None = None,
    progress: bool = False,
    command: str | None = None,
    **backend: Any,
) -> Sensitivity:
    """Run the base and each key's low and high value (default list: ``default_varies``) on
    the same paths; ``regime`` None: the prior-weighted mixture. ``backend``: as
    ``engine.pipeline.simulate``'s options."""
    e = event_index(event)
    within = check_within(within, config.simulation.horizon_months)
    varies = default_varies(config) if varies is None else list(varies)
    if not varies:
        raise SensitivityError("--vary: nothing to vary")
    base_config = _headline_config(config, within, regime)
    # every value is validated here, before any path runs
    variants_of = [
        (with_value(base_config, v.key, v.low), with_value(base_config, v.key, v.high))
        for v in varies
    ]
    expected = 1 + 2 * len(varies)
    with variants(config, paths, seed, expected=expected, progress=progress, **backend) as run:
        headline = _Headline(run, e, within, regime)
        base = headline(base_config)
        lows, highs, low_se, high_se = [], [], [], []
        for low_config, high_config in variants_of:
            low = headline(low_config)
            high = headline(high_config)
            lows.append(low.total / run.paths)
            highs.append(high.total / run.paths)
            low_se.append(batch_stderr_of_difference(low.counts, base.counts, base.sizes))
            high_se.append(batch_stderr_of_difference(high.counts, base.counts, base.sizes))
        attrs = {**run.backend.describe(), "command": command or "engine.sensitivity"}
    p_base = base.total / run.paths
    stderr = batch_stderr_of_difference(base.counts, np.zeros_like(base.counts), base.sizes)
    order = np.argsort(-np.abs(np.array(highs) - np.array(lows)), kind="stable")
    return Sensitivity(
        event=event,
        within=within,
        regime=regime,
        base=p_base,
        base_stderr=stderr,
        varies=[varies[i] for i in order],
        low=np.array(lows)[order],
        high=np.array(highs)[order],
        low_stderr=np.array(low_se)[order],
        high_stderr=np.array(high_se)[order],
        config=config.with_overrides(paths=run.paths, seed=run.seed),
        run_attrs=attrs,
    )


def _headline_config(config: Config, within: int, regime: str | None) -> Config:
    """``config`` cut to ``within`` months, simulating only the regimes the headline needs."""
    names = [r.name for r in config.regimes]
    if regime is not None:
        if regime not in names:
            known = ", ".join(names)
            raise SensitivityError(f"--regime {regime}: no such regime in the config ({known})")
        return window(config, within, [regime])
    weighted = [r.name for r in config.regimes if r.weight]
    if not weighted:
        raise SensitivityError("the config's regimes carry no prior weight: name a --regime")
    return window(config, within, weighted)


@dataclass
class _Batches:
    counts: np.ndarray  # prior-weighted paths with the event, per batch of paths (B,)
    sizes: np.ndarray  # paths per batch (B,)

    @property
    def total(self) -> float:
        return float(self.counts.sum())


class _Headline:
    """Runs a variant and keeps its headline count batch by batch."""

    def __init__(self, run: Variants, event: int, within: int, regime: str | None):
        self.run, self.event, self.within, self.regime = run, event, within, regime

    def __call__(self, config: Config) -> _Batches:
        weights = headline_weights(build_schedule(config), self.regime)
        batches = self.run.batches(config, self.event, self.within)
        return _Batches(batches.counts @ weights, batches.sizes)
