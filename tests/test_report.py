"""The text table of a cube: estimates from few paths with the event are marked."""

from __future__ import annotations

import numpy as np
import xarray as xr

from engine.report import FEW_PATHS, MARK, headline_table

N_PATHS = 10_000


def tiny_cube(counts: np.ndarray) -> xr.Dataset:
    """A cube of one event ("crisis") with ``counts`` (R, M) paths with it in each month, each
    path's first event in the month (plain binomial estimates, no mixture)."""
    n_regimes, n_months = counts.shape
    p = counts / N_PATHS
    dims = ("regime", "event", "time")
    cumulative = np.cumsum(p, axis=-1)
    return xr.Dataset(
        {
            "n_paths": ("regime", np.full(n_regimes, N_PATHS)),
            "event_count": (dims, counts[:, None, :]),
            "first_event_count": (dims, counts[:, None, :]),
            "event_probability": (dims, p[:, None, :]),
            "event_probability_stderr": (dims, np.sqrt(p * (1 - p) / N_PATHS)[:, None, :]),
            "cumulative_event_probability": (dims, cumulative[:, None, :]),
            "cumulative_event_probability_stderr": (
                dims,
                np.sqrt(cumulative * (1 - cumulative) / N_PATHS)[:, None, :],
            ),
        },
        coords={
            "regime": [f"R{r}" for r in range(n_regimes)],
            "event": ["crisis"],
            "time": np.array(["2026-01", "2026-02"], dtype="datetime64[ns]")[:n_months],
            "weight": ("regime", np.full(n_regimes, np.nan)),
        },
        attrs={"seed": 1},
    )


def test_estimates_from_few_paths_are_marked_with_a_footnote():
    counts = np.array([[FEW_PATHS - 1, FEW_PATHS], [0, 500]])
    lines = headline_table(tiny_cube(counts)).splitlines()
    jan, feb, total = lines[2], lines[3], lines[4]
    assert jan.split()[3].endswith(MARK) and jan.split()[6].endswith(MARK)  # 29 and 0 paths
    assert not feb.split()[3].endswith(MARK) and not feb.split()[6].endswith(MARK)  # 30, 500
    assert not any(cell.endswith(MARK) for cell in total.split())  # 59 and 500 by the end
    assert lines[-1].startswith(f"{MARK} fewer than {FEW_PATHS} paths had the event")


def test_no_footnote_when_nothing_is_marked():
    text = headline_table(tiny_cube(np.array([[FEW_PATHS, 2 * FEW_PATHS]])))
    assert MARK not in text
