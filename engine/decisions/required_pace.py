"""``rmp-risk required-pace``: the smallest constant monthly pace that keeps the odds of an
event within the first W months at or below alpha, with a Monte Carlo interval.

Every pace is simulated on the same paths and seed (common random numbers), so the estimated
odds fall with the pace almost path by path (exactly, with the state-dependent feedbacks off)
and a bisection finds where they cross alpha. The interval inverts the pointwise 95% Wilson
test: below its lower end the odds are significantly above alpha, from its upper end on they are
significantly below. Each bisection stops when its bracket is narrower than the tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..config import Config
from ..cube import binomial_stderr, global_attrs, wilson_interval
from ..errors import InputError
from ..products import PACE_UNITS, PACE_WORDS, PRODUCT_ATTR, REQUIRED_PACE
from .odds import check_within, cumulative_counts, event_index, window
from .paces import with_paces
from .variants import Variants, variants

PERCENT = 100.0


class SearchError(InputError):
    """Search options that cannot be used."""


@dataclass(frozen=True)
class PaceOdds:
    """Paths (of ``n``) with at least one event day within the window at ``pace`` ($bn/month)."""

    pace: float
    count: int
    n: int

    @property
    def probability(self) -> float:
        return self.count / self.n

    @property
    def stderr(self) -> float:
        return float(binomial_stderr(np.array(self.count), np.array(self.n)))

    @property
    def wilson(self) -> tuple[float, float]:
        lower, upper = wilson_interval(np.array(self.count), np.array(self.n))
        return float(lower), float(upper)


@dataclass
class RequiredPace:
    """The search's answer. ``pace`` and the interval are NaN where no pace in the range is
    enough; ``at_pace`` is the cube of the required pace over the whole horizon (or None)."""

    event: str
    alpha: float
    within: int
    regime: str | None
    low: float
    high: float
    tolerance: float
    pace: float
    interval: tuple[float, float]
    searched: list[PaceOdds]
    at_pace: xr.Dataset | None
    config: Config
    run_attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return not math.isnan(self.pace)

    @property
    def at_bottom(self) -> bool:
        """The target is met at the range's bottom: the answer is that pace or any below it."""
        return self.found and self.pace <= self.low

    def table(self) -> str:
        """The answer, the searched paces and the month-by-month odds at the required pace."""
        what = f"P({self.event} within {self.within} months) <= {self.alpha * PERCENT:g}%"
        rules = f" with regime {self.regime}'s rules" if self.regime else ""
        lines = []
        if self.at_bottom:
            bottom = self.searched[0]
            lines.append(
                f"required pace{rules}: at or below {self.low:g} $bn/month, the bottom of the "
                f"range searched, for {what}: at {self.low:g}, P = "
                f"{bottom.probability * PERCENT:.2f}% ± {bottom.stderr * PERCENT:.2f}% "
                "(lower the range's bottom with --range to search below it)"
            )
        elif self.found:
            lo, hi = self.interval
            hi_text = f"{hi:.1f}" if not math.isnan(hi) else f"above {self.high:g}"
            lines.append(
                f"required pace{rules}: {self.pace:.1f} $bn/month for {what} "
                f"(95% interval {lo:.1f} to {hi_text}; resolution {self.tolerance:g})"
            )
        else:
            top = self.searched[-1]
            lines.append(
                f"no pace in {self.low:g} to {self.high:g} $bn/month{rules} is enough for {what}: "
                f"at {top.pace:g}, P = {top.probability * PERCENT:.2f}% ± "
                f"{top.stderr * PERCENT:.2f}%"
            )
        lines.append("pace ($bn/month)   P (%)   ± s.e.   Wilson 95% (%)")
        for point in self.searched:
            lower, upper = point.wilson
            p, se = point.probability * PERCENT, point.stderr * PERCENT
            lines.append(
                f"{point.pace:>16.2f} {p:7.2f} {se:8.2f}"
                f"   {lower * PERCENT:6.2f} – {upper * PERCENT:6.2f}"
            )
        if self.at_pace is not None:
            p = self.at_pace.event_probability.sel(event=self.event).isel(regime=0).values
            cum = self.at_pace.cumulative_event_probability.sel(event=self.event).isel(regime=0)
            lines.append(f"at {self.pace:.1f} $bn/month: month, P({self.event}) %, cumulative %")
            for i, month in enumerate(self.at_pace.time.values):
                label = np.datetime_as_string(month, unit="M")
                lines.append(f"  {label}  {p[i] * PERCENT:6.2f}  {cum.values[i] * PERCENT:6.2f}")
        return "\n".join(lines)

    def to_dataset(self) -> xr.Dataset:
        """The result as the ``required_pace`` dataset ``rmp-risk report`` draws."""
        paces = np.array([s.pace for s in self.searched])
        counts = np.array([s.count for s in self.searched], dtype=np.int64)
        n = self.searched[0].n
        lower, upper = wilson_interval(counts, np.full(counts.shape, n))
        prob = "1"
        data = {
            "search_pace": (
                "search",
                paces,
                {"units": PACE_UNITS, "long_name": f"pace searched, {PACE_WORDS}"},
            ),
            "search_count": ("search", counts, {"units": "1", "long_name": "paths with an event"}),
            "search_probability": (
                "search",
                counts / n,
                {
                    "units": prob,
                    "long_name": (
                        f"probability of at least one {self.event} day within {self.within} months"
                    ),
                },
            ),
            "search_stderr": (
                "search",
                binomial_stderr(counts, n),
                {"units": prob, "long_name": "Monte Carlo standard error"},
            ),
            "search_lower": ("search", lower, {"units": prob, "long_name": "Wilson 95% lower"}),
            "search_upper": ("search", upper, {"units": prob, "long_name": "Wilson 95% upper"}),
        }
        ds = xr.Dataset({k: (d, v, a) for k, (d, v, a) in data.items()})
        if self.at_pace is not None:
            cube = self.at_pace.isel(regime=0).sel(event=self.event)
            for name in (
                "event_probability",
                "event_probability_stderr",
                "cumulative_event_probability",
                "cumulative_event_probability_stderr",
            ):
                ds[name] = cube[name].drop_vars(["regime", "event", "weight"], errors="ignore")
        lo, hi = self.interval
        ds.attrs.update(global_attrs(self.config, dict(self.run_attrs)))
        ds.attrs.update(
            {
                PRODUCT_ATTR: REQUIRED_PACE,
                "event": self.event,
                "alpha": self.alpha,
                "within_months": self.within,
                "regime": self.regime or "",
                "found": int(self.found),
                "at_range_bottom": int(self.at_bottom),
                "required_pace_bn": self.pace,
                "interval_lower_bn": lo,
                "interval_upper_bn": hi,
                "pace_low_bn": self.low,
                "pace_high_bn": self.high,
                "tolerance_bn": self.tolerance,
            }
        )
        return ds


def check_search(
    config: Config, alpha: float, tolerance: float, low: float, regime: str | None
) -> None:
    """SearchError for an alpha outside (0, 1), a tolerance that is not a positive number of
    $bn/month, or an unknown ``regime``: checked before any path runs."""
    if not 0.0 < alpha < 1.0:
        raise SearchError(f"--alpha {alpha:g}: must be between 0 and 1")
    if not (math.isfinite(tolerance) and tolerance > 0):
        raise SearchError(f"--tolerance {tolerance:g}: must be positive ($bn/month)")
    with_paces(config, [low], regime)


def required_pace(
    config: Config,
    event: str = "crisis",
    alpha: float = 0.05,
    within: int | None = None,
    regime: str | None = None,
    *,
    low: float = 0.0,
    high: float = 200.0,
    tolerance: float = 0.5,
    paths: int | None = None,
    seed: int | None = None,
    progress: bool = False,
    command: str | None = None,
    **backend: Any,
) -> RequiredPace:
    """Search [``low``, ``high``] $bn/month for the smallest pace with P(at least one ``event``
    day in the first ``within`` months, default the horizon) ≤ ``alpha``.

    ``regime``: search that regime's pace with its rules kept (see ``paces.pace_regime``);
    default: a regime with no rules. ``backend``: as ``engine.pipeline.simulate``'s options.
    """
    e = event_index(event)
    within = check_within(within, config.simulation.horizon_months)
    check_search(config, alpha, tolerance, low, regime)
    steps = math.ceil(math.log2(max(2.0, (high - low) / tolerance)))
    with variants(config, paths, seed, expected=2 + 3 * steps, progress=progress, **backend) as run:
        odds = _Odds(run, window(config, within), regime, e, within)
        pace = _smallest(lambda c: odds(c).probability <= alpha, low, high, tolerance)
        found = pace is not None
        lower = _smallest(lambda c: odds(c).wilson[0] <= alpha, low, high, tolerance, last_no=True)
        upper = _smallest(lambda c: odds(c).wilson[1] <= alpha, low, high, tolerance)
        at_pace = None
        if found:
            at_pace = run.cube(with_paces(config, [pace], regime), command)
        attrs = {**run.backend.describe(), "command": command or "engine.required_pace"}
    nan = float("nan")
    return RequiredPace(
        event=event,
        alpha=alpha,
        within=within,
        regime=regime,
        low=low,
        high=high,
        tolerance=tolerance,
        pace=pace if found else nan,
        interval=(nan if lower is None else lower, nan if upper is None else upper),
        searched=sorted(odds.seen.values(), key=lambda s: s.pace),
        at_pace=at_pace,
        config=config.with_overrides(paths=run.paths, seed=run.seed),
        run_attrs=attrs,
    )


class _Odds:
    """The odds at a pace, each pace simulated once."""

    def __init__(self, run: Variants, config: Config, regime: str | None, event: int, within: int):
        self.run, self.config, self.regime = run, config, regime
        self.event, self.within = event, within
        self.seen: dict[float, PaceOdds] = {}

    def __call__(self, pace: float) -> PaceOdds:
        key = round(float(pace), 9)
        if key not in self.seen:
            variant = with_paces(self.config, [key], self.regime)
            acc = self.run.accumulators(variant)
            count = int(cumulative_counts(acc, self.event, self.within)[0])
            self.seen[key] = PaceOdds(key, count, acc.n_paths)
        return self.seen[key]


def _smallest(
    holds: Callable[[float], bool], low: float, high: float, tolerance: float, last_no=False
) -> float | None:
    """Bisection for the smallest pace in [low, high] where ``holds`` (monotone: false, then
    true); None when it does not hold at ``high``. Returns the bracket's upper end (a pace
    where it holds), or with ``last_no`` its lower end (the largest pace seen where it fails;
    ``low`` when it holds everywhere)."""
    if holds(low):
        return low
    if not holds(high):
        return None
    fails, holds_at = low, high
    while holds_at - fails > tolerance:
        middle = round((fails + holds_at) / 2.0, 9)
        if holds(middle):
            holds_at = middle
        else:
            fails = middle
    return fails if last_no else holds_at
