"""What a calibration step returns: fitted config values, values kept from the base config, and
the parameter covariance of a fitted block."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Fitted:
    """One config value estimated from data.

    Attributes
    ----------
    key : str
        Dotted config key, e.g. ``"tga.ar_coefficient"``.
    value : float or tuple[float, float]
        The value written to the config: a number, or ``(low, high)`` for a per-path range.
    stderr : float or None
        Standard error of the estimate (in the key's unit), when the method gives one.
    statistic : str
        The method and its fit quality, e.g. ``"AR(1) OLS, R² 0.81"``.
    period : tuple[date, date]
        First and last observation used.
    series : str
        The series (file stem) the value comes from, e.g. ``"DTS TGA"``.
    n_obs : int
        Observations used.
    """

    key: str
    value: float | tuple[float, float]
    stderr: float | None
    statistic: str
    period: tuple[dt.date, dt.date]
    series: str
    n_obs: int

    def comment(self) -> str:
        """The config comment: estimate, standard error or statistic, period, series."""
        se = f" ± {self.stderr:.4g} (s.e.)" if self.stderr is not None else ""
        start, end = self.period
        return (
            f"[F] {self.statistic}{se}; {self.series} {start.isoformat()} → "
            f"{end.isoformat()}, n = {self.n_obs}"
        )


@dataclass(frozen=True)
class Kept:
    """A config value taken from the base config, and why the data could not give it."""

    key: str
    reason: str


@dataclass(frozen=True)
class FittedBlock:
    """The joint sampling distribution of some fitted values (for estimation risk).

    Attributes
    ----------
    name : str
        Block name, e.g. ``"demand_curve"``.
    keys : tuple[str, ...]
        Dotted config keys of the block's parameters, K of them.
    mean : float64 (K,)
        The estimates, in the keys' units.
    covariance : float64 (K, K)
        Their estimated covariance (symmetric, positive semi-definite).
    """

    name: str
    keys: tuple[str, ...]
    mean: np.ndarray = field(compare=False)
    covariance: np.ndarray = field(compare=False)

    def __post_init__(self) -> None:
        k = len(self.keys)
        if np.shape(self.mean) != (k,) or np.shape(self.covariance) != (k, k):
            raise ValueError(f"{self.name}: mean must be ({k},) and covariance ({k}, {k})")


@dataclass
class StepResult:
    """Everything one calibration step produced."""

    fitted: list[Fitted] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    blocks: list[FittedBlock] = field(default_factory=list)

    def extend(self, other: StepResult) -> StepResult:
        self.fitted += other.fitted
        self.kept += other.kept
        self.blocks += other.blocks
        return self
