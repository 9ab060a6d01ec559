"""Daily traces of a few paths, for tests and for looking inside the model.

The trace is written by the same kernel that produces a run's counts, so it shows exactly what a
run simulates; its memory grows with paths × days, so keep ``n_paths`` small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .accumulators import Accumulators
from .kernels import layout as L
from .rng import block_seeds, plan_blocks
from .run import empty_accumulators
from .schedule import Schedule


@dataclass
class Trace:
    """Daily values of ``n`` paths.

    Attributes
    ----------
    values : float64 (n, T, R, N_TRACE), columns ``layout.TRACE_NAMES``
    shocks : float64 (n, T, N_SHOCKS), columns ``layout.SHOCK_NAMES``
    path_draws : float64 (n, N_PATH_DRAWS), columns ``layout.PATH_DRAW_NAMES``
    accumulators : Accumulators of the same paths
    parameter_draws : float64 (n, K), each path's drawn parameters in the config keys' units,
        as the path used them (clipped to their bounds), columns ``parameter_keys``; K = 0
        unless ``[uncertainty] parameters = true``
    parameter_keys : tuple[str, ...], the dotted config keys of ``parameter_draws``' columns
    """

    values: np.ndarray
    shocks: np.ndarray
    path_draws: np.ndarray
    accumulators: Accumulators
    parameter_draws: np.ndarray
    parameter_keys: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> np.ndarray:
        """One daily variable by its ``layout.TRACE_NAMES`` name: (n, T, R)."""
        return self.values[..., L.TRACE_NAMES.index(name)]

    @property
    def events(self) -> np.ndarray:
        """Daily event flags, bool (n, T, R, E)."""
        bits = self["events"].astype(np.int64)
        return (bits[..., None] >> np.arange(L.N_EVENTS)) & 1 == 1


def trace_paths(schedule: Schedule, n_paths: int, seed: int, block_size: int) -> Trace:
    """Simulate paths 0..n_paths-1 of the run (seed, block_size), keeping every daily value."""
    from .kernels.paths import trace_block

    n_days, n_regimes = schedule.calendar.n_days, len(schedule.regime_names)
    n_uncertain = schedule.uncertainty.shape[0]
    acc = empty_accumulators(schedule)
    parts = []
    for block, n in plan_blocks(n_paths, block_size):
        values = np.zeros((n, n_days, n_regimes, L.N_TRACE))
        shocks = np.zeros((n, n_days, L.N_SHOCKS))
        draws = np.zeros((n, L.N_PATH_DRAWS))
        parameters = np.zeros((n, n_uncertain))
        seeds = block_seeds(seed, block, block_size, n)
        trace_block(seeds, *schedule.kernel_inputs, *acc.arrays, values, shocks, draws, parameters)
        acc.n_paths += n
        parts.append((values, shocks, draws, parameters))
    values, shocks, draws, parameters = (np.concatenate(p) for p in zip(*parts, strict=True))
    return Trace(values, shocks, draws, acc, parameters, schedule.uncertain_keys)
