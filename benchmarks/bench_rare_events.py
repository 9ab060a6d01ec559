"""Information per CPU second of the conditional estimator against plain Monte Carlo, on the
shipped default config and on the judgement config (``configs/judgement.toml``, where crises
are rare): the same paths run twice in this process, plain and conditional, each timed on one
thread after compiling; for each regime the work-normalised variance ratio
``(plain SE² × plain seconds) / (conditional SE² × conditional seconds)`` of the 12- and
24-month cumulative P(tier) and of the monthly P(tier) in months where it is below 1%.

The plain SE² is the binomial p (1 − p) / n at the conditional estimate of p (the better
estimate of the same number); the conditional SE² comes from the per-path sums of squares.

``python -m benchmarks.bench_rare_events [--paths N] [--tier T] [--config FILE]...`` prints the
tables (of the two shipped configs unless ``--config`` names others);
``pytest benchmarks --benchmark-enable -s -k rare`` reports it against the target.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from engine.config import default_config_path

JUDGEMENT_CONFIG = default_config_path().parent / "judgement.toml"
TARGET = 10.0  # work-normalised variance ratio, every regime and cell
RARE_MONTH = 0.01  # monthly cells below this probability are the "rare" ones
HORIZONS = (12, 24)  # months of the cumulative cells
# the shipped default (calibrated: crises are common) and the judgement config (rare jumps)
SHIPPED_CONFIGS = (None, JUDGEMENT_CONFIG)


@dataclass(frozen=True)
class Efficiency:
    """Ratios per regime: ``cumulative[h]`` (R,) for each horizon h of HORIZONS within the
    run; ``first_month`` that of the first month's P(tier); ``rare_months`` the (min, median,
    max) over the months below RARE_MONTH (NaN if none) and how many; the seconds of each
    run."""

    regimes: tuple[str, ...]
    cumulative: dict[int, np.ndarray]
    first_month: np.ndarray  # (R,), the monthly P(tier) of the horizon's first month
    rare_months: np.ndarray  # (R, 3)
    rare_month_count: np.ndarray  # (R,)
    plain_seconds: float
    conditional_seconds: float
    paths: int
    tier: str
    config: str

    def table(self) -> str:
        cost = self.conditional_seconds / self.plain_seconds
        lines = [
            f"conditional MC of P({self.tier}), {self.paths:,} paths of {self.config}: "
            f"plain {self.plain_seconds:.2f} s, conditional {self.conditional_seconds:.2f} s "
            f"(×{cost:.2f} per path)",
            "work-normalised variance ratio (plain SE² · s) / (conditional SE² · s); "
            f"target ≥ {TARGET:g}",
            "regime  month 1"
            + "".join(f"{f'{h} months':>11}" for h in self.cumulative)
            + "   months < 1%: min / median / max (n)",
        ]
        for r, name in enumerate(self.regimes):
            cells = "".join(f"{self.cumulative[h][r]:>11.2f}" for h in self.cumulative)
            low, mid, high = self.rare_months[r]
            n = int(self.rare_month_count[r])
            rare = f"{low:.2f} / {mid:.2f} / {high:.2f} ({n})" if n else "none"
            lines.append(f"{name:<7}{self.first_month[r]:>8.2f}{cells}   {rare}")
        return "\n".join(lines)

    @property
    def worst(self) -> float:
        """The smallest ratio of any reported cell."""
        values = [v for v in self.cumulative.values()] + [self.rare_months[:, 0]]
        flat = np.concatenate([np.ravel(v) for v in values])
        return float(np.nanmin(flat))


def efficiency(paths: int = 50_000, tier: str = "crisis", config_path=None) -> Efficiency:
    """Run ``paths`` paths of the config ``config_path`` (None: the shipped default) plain and
    conditional (same seeds, one thread each, compiled first) and compare the estimators'
    information per second."""
    from engine.config import load_config
    from engine.cube import build_cube
    from engine.run import compile_kernels, simulate_blocks
    from engine.schedule import build_schedule

    plain_config = load_config(config_path).with_overrides(paths=paths)
    config = plain_config.with_overrides(rare_events=tier)
    sim = config.simulation
    blocks = [
        (b, min(sim.block_size, paths - b * sim.block_size))
        for b in range(-(-paths // sim.block_size))
    ]
    seconds, accs = {}, {}
    for name, cfg in (("plain", plain_config), ("conditional", config)):
        schedule = build_schedule(cfg)
        compile_kernels(schedule)
        started = time.perf_counter()
        accs[name] = simulate_blocks(schedule, sim.seed, sim.block_size, blocks)
        seconds[name] = time.perf_counter() - started
    schedule = build_schedule(config)
    cube = build_cube(accs["conditional"], config, schedule)
    plain_acc = accs["plain"]
    if not all(
        np.array_equal(a, b)
        for a, b in zip(plain_acc.arrays[:6], accs["conditional"].arrays[:6], strict=True)
    ):
        raise AssertionError("the conditional run's counts differ from the plain run's")

    def ratio(p: np.ndarray, se: np.ndarray) -> np.ndarray:
        plain_variance = np.clip(p, 0.0, 1.0) * (1.0 - np.clip(p, 0.0, 1.0)) / paths
        with np.errstate(divide="ignore", invalid="ignore"):
            return (plain_variance * seconds["plain"]) / (se**2 * seconds["conditional"])

    cum = cube.conditional_cumulative_event_probability.values
    cum_se = cube.conditional_cumulative_event_probability_stderr.values
    months = cum.shape[1]
    cumulative = {h: ratio(cum[:, h - 1], cum_se[:, h - 1]) for h in HORIZONS if h <= months}
    p = cube.conditional_event_probability.values
    monthly = ratio(p, cube.conditional_event_probability_stderr.values)
    rare = p < RARE_MONTH
    stats = np.full((p.shape[0], 3), np.nan)
    for r in range(p.shape[0]):
        values = monthly[r, rare[r] & np.isfinite(monthly[r])]  # no path near it: 0 / 0
        if values.size:
            stats[r] = (values.min(), np.median(values), values.max())
    return Efficiency(
        regimes=tuple(schedule.regime_names),
        cumulative=cumulative,
        first_month=monthly[:, 0],
        rare_months=stats,
        rare_month_count=(rare & np.isfinite(monthly)).sum(axis=1),
        plain_seconds=seconds["plain"],
        conditional_seconds=seconds["conditional"],
        paths=paths,
        tier=tier,
        config=str(config_path) if config_path is not None else "the shipped default",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=50_000)
    parser.add_argument("--tier", default="crisis")
    parser.add_argument("--config", action="append", help="a config (repeatable)")
    args = parser.parse_args(argv)
    for config_path in args.config or SHIPPED_CONFIGS:
        result = efficiency(args.paths, args.tier, config_path)
        print(result.table())
        verdict = "pass" if result.worst >= TARGET else "short"
        print(f"smallest ratio {result.worst:.2f} against the target {TARGET:g}: {verdict}\n")


if __name__ == "__main__":
    main()
