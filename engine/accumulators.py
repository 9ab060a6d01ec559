"""Integer accumulators of a set of paths: counts and fixed-bin histograms that add exactly."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .kernels import layout as L


@dataclass
class Accumulators:
    """Monthly integer output of any number of paths (R regimes, E events, M months, V
    histograms, B bins including under- and overflow).

    Attributes
    ----------
    n_paths : int
    event_count, event_days, first_event_count : int64 (R, E, M)
        Paths with an event day in the month; event days; paths whose first event day is in it.
    joint_event_count, joint_cumulative_count : int64 (R, R, E, M)
        Paths with the event in the month (by the end of the month) under both regimes.
    hist : int64 (V, R, M, B)
        Fixed-bin histograms of the monthly statistics in ``layout.HIST_NAMES``.
    diverged_count : int64 (R, M)
        Paths whose reserves or spread are not finite at the month's end: the model diverged
        (``docs/model.md``, "Divergence").
    hazard_sums : int64 (2, R', M, N_LIMBS)
        The conditional estimator's per-path estimates of its tier (in the month, by its end)
        summed over paths, as fixed-point limbs (``kernels.fixed``); R' = R when it is on, else 0.
    hazard_cross : int64 (2, R', R', M, N_LIMBS)
        Their products between regimes r ≤ q summed over paths (zero below the diagonal).
    hazard_hits : int64 (2, R', R', M, N_LIMBS)
        Regime r's estimates summed over the paths on which regime q had the tier.
    """

    n_paths: int
    event_count: np.ndarray
    event_days: np.ndarray
    first_event_count: np.ndarray
    joint_event_count: np.ndarray
    joint_cumulative_count: np.ndarray
    hist: np.ndarray
    diverged_count: np.ndarray
    hazard_sums: np.ndarray
    hazard_cross: np.ndarray
    hazard_hits: np.ndarray

    @classmethod
    def zeros(
        cls, n_regimes: int, n_months: int, n_bins: int, conditional: bool = False
    ) -> Accumulators:
        rem = (n_regimes, L.N_EVENTS, n_months)
        joint = (n_regimes, n_regimes, L.N_EVENTS, n_months)
        hazard_regimes = n_regimes if conditional else 0
        pairs = (2, hazard_regimes, hazard_regimes, n_months, L.N_LIMBS)
        return cls(
            n_paths=0,
            event_count=np.zeros(rem, np.int64),
            event_days=np.zeros(rem, np.int64),
            first_event_count=np.zeros(rem, np.int64),
            joint_event_count=np.zeros(joint, np.int64),
            joint_cumulative_count=np.zeros(joint, np.int64),
            hist=np.zeros((L.N_HISTS, n_regimes, n_months, n_bins + 2), np.int64),
            diverged_count=np.zeros((n_regimes, n_months), np.int64),
            hazard_sums=np.zeros((2, hazard_regimes, n_months, L.N_LIMBS), np.int64),
            hazard_cross=np.zeros(pairs, np.int64),
            hazard_hits=np.zeros(pairs, np.int64),
        )

    @property
    def conditional(self) -> bool:
        """The conditional estimator's sums are held."""
        return self.hazard_sums.shape[1] > 0

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """The count arrays in the order ``simulate_block`` takes them."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name != "n_paths")

    def __iadd__(self, other: Accumulators) -> Accumulators:
        self.n_paths += other.n_paths
        for mine, theirs in zip(self.arrays, other.arrays, strict=True):
            mine += theirs
        return self

    def __add__(self, other: Accumulators) -> Accumulators:
        total = Accumulators(self.n_paths, *(a.copy() for a in self.arrays))
        total += other
        return total

    def check(self) -> None:
        """RuntimeError unless the counts add up to ``n_paths``: every histogram of every regime
        and month counts each path once, and no event count exceeds the paths."""
        n = self.n_paths
        sums = self.hist.sum(axis=-1)
        if not (sums == n).all():
            v, r, m = np.argwhere(sums != n)[0]
            raise RuntimeError(
                f"counts do not add up: histogram {L.HIST_NAMES[v]} of regime {r}, month {m} "
                f"holds {sums[v, r, m]} paths, not {n}"
            )
        first = self.first_event_count.sum(axis=-1)
        if (self.event_count > n).any() or (first > n).any() or (self.event_count < 0).any():
            raise RuntimeError(f"counts do not add up: more paths with an event than {n}")
        if (self.diverged_count > n).any() or (self.diverged_count < 0).any():
            raise RuntimeError(f"counts do not add up: more diverged paths than {n}")
        if any((a < 0).any() for a in (self.hazard_sums, self.hazard_cross, self.hazard_hits)):
            raise RuntimeError("conditional estimator's sums are negative: a limb overflowed")

    def equals(self, other: Accumulators) -> bool:
        """True when every count is identical."""
        return self.n_paths == other.n_paths and all(
            np.array_equal(a, b) for a, b in zip(self.arrays, other.arrays, strict=True)
        )
